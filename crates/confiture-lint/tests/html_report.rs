//! The HTML report in a real browser: headless Chromium loads the file, runs its script, and
//! the DOM it dumps must show every finding (the severity filter hides none by default) and
//! the counts. Fails, never skips, without a browser: `scripts/setup.sh` installs one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use confiture_lint::report::{render, Counts, LintReport, ReportFormat};
use confiture_lint::{Finding, Severity};

const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

fn browser() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in BROWSERS {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return candidate;
            }
        }
    }
    panic!(
        "no browser on PATH (looked for {}): run scripts/setup.sh, which installs chromium",
        BROWSERS.join(", ")
    );
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn finding(
    rule: &str,
    severity: Severity,
    message: &str,
    object: &str,
    at: Option<(&str, usize, usize)>,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        message: message.into(),
        object: Some(object.into()),
        file: at.map(|(f, _, _)| PathBuf::from(f)),
        line: at.map(|(_, l, _)| l),
        column: at.map(|(_, _, c)| c),
        fix: Some(format!("fix for {rule}")),
        fix_sql: None,
    }
}

/// The DOM after load, as headless Chromium dumps it.
fn dump_dom(browser: &Path, html: &Path, scratch: &Path) -> String {
    let out_path = scratch.join("dom.html");
    let err_path = scratch.join("chromium.log");
    let url = format!("file://{}", html.display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-dev-shm-usage",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} did not finish in 120 s:\n{}",
                browser.display(),
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        status.success() && dom.contains("</html>"),
        "{} failed ({status}):\nstdout:\n{dom}\nstderr:\n{}",
        browser.display(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    dom
}

#[test]
fn headless_chromium_shows_every_finding_and_the_counts() {
    let browser = browser();
    let findings = vec![
        finding(
            "require-primary-key",
            Severity::Error,
            "table public.audit has no primary key",
            "public.audit",
            Some(("db/schema/10_tables/audit.sql", 12, 5)),
        ),
        finding(
            "require-concurrent-index",
            Severity::Warning,
            "CREATE INDEX on public.orders locks writes",
            "public.orders",
            Some(("db/migrations/003_orders.up.sql", 3, 1)),
        ),
        finding(
            "my-custom-rule",
            Severity::Info,
            "function public.f() <script>document.title='pwned'</script> has no comment",
            "public.f()",
            None,
        ),
    ];
    let report = LintReport {
        inputs: vec!["db/schema (1,256 files)".into(), "3 migrations".into()],
        rules_run: 12,
        fail_on_severity: Severity::Error,
        failed: true,
        counts: Counts::of(&findings),
        findings,
        duration_ms: 42,
    };
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    std::fs::write(&html, render(ReportFormat::Html, &report, false)).unwrap();

    let dom = dump_dom(&browser, &html, dir.path());

    // Every finding's row, shown.
    for (rule, sev) in [
        ("require-primary-key", "error"),
        ("require-concurrent-index", "warning"),
        ("my-custom-rule", "info"),
    ] {
        let row = format!(
            "<tr class=\"finding sev-{sev}\" data-rule=\"{rule}\" data-severity=\"{sev}\">"
        );
        assert_eq!(dom.matches(&row).count(), 1, "row of {rule} in:\n{dom}");
    }
    assert_eq!(dom.matches("<tr class=\"finding ").count(), 3, "{dom}");
    // (The exact opening tags above also prove it: `hidden` would be an extra attribute.)
    assert!(!dom.contains(" hidden=\"\""), "a row is hidden:\n{dom}");
    // The filter script ran and counted three rows shown.
    assert!(
        dom.contains("data-shown=\"3\""),
        "the script did not run:\n{dom}"
    );
    assert!(dom.contains("<span id=\"shown\">3</span>"), "{dom}");
    assert!(dom.contains("db/schema/10_tables/audit.sql:12:5"), "{dom}");
    assert!(dom.contains("fix for require-primary-key"), "{dom}");

    // The counts and the inputs.
    for sev in ["error", "warning", "info"] {
        assert!(
            dom.contains(&format!("<span id=\"count-{sev}\">1</span>")),
            "{sev}:\n{dom}"
        );
    }
    assert!(dom.contains("<li>db/schema (1,256 files)</li>"), "{dom}");

    // The message's markup stayed text: escaped, not run.
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<title>pwned</title>"), "{dom}");
    assert_eq!(dom.matches("<script").count(), 1, "{dom}");
}
