//! `confiture lint`: run the linter, render its report (text, JSON, SARIF, HTML, CSV), write the
//! safe fixes into a migration with `--fix`, list and explain the rules.

use std::path::Path;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Location, Result};
use confiture_core::migrate::generate::{generate_with, timestamp_version};
use confiture_lint::engine::Selection;
use confiture_lint::report::{render, LintReport, ReportFormat};
use confiture_lint::{registry, Rule};
use confiture_ops::lint::{fixes, lint, undo, LintRequest};
use confiture_ops::migrate::migrations_dir;
use serde::Serialize;

use crate::args::{GlobalArgs, LintArgs, LintReportFormat};
use crate::commands::anonymize::load_profile;
use crate::commands::{environment, project, target_args};
use crate::output::{print_stdout, write_stdout, Output, Style};

#[derive(Serialize)]
struct RuleInfo {
    id: &'static str,
    category: &'static str,
    severity: &'static str,
    input: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<&'static str>,
    summary: &'static str,
}

fn info(r: &Rule) -> RuleInfo {
    RuleInfo {
        id: r.id,
        category: r.category.as_str(),
        severity: r.severity.as_str(),
        input: r.input(),
        bundle: r.bundle,
        summary: r.summary,
    }
}

pub async fn run(g: &GlobalArgs, a: &LintArgs, out: Output) -> Result<i32> {
    if a.list_rules {
        let rules: Vec<RuleInfo> = registry::all().iter().map(|r| info(r)).collect();
        out.report(true, &serde_json::json!({ "rules": rules }), || {
            rules
                .iter()
                .map(|r| {
                    format!(
                        "{:<38} {:<13} {:<8} {}{}",
                        r.id,
                        r.category,
                        r.severity,
                        r.summary,
                        r.bundle.map(|b| format!(" [{b}]")).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
        return Ok(0);
    }
    if let Some(id) = &a.explain {
        let Some(r) = registry::find(id) else {
            let err = ConfitureError::new(
                codes::INPUT_INVALID_ARGUMENT,
                format!("--explain: unknown rule '{id}'"),
            );
            return Err(match registry::suggest(id) {
                Some(s) => err.with_hint(format!("did you mean '{s}'?")),
                None => err.with_hint("`confiture lint --list-rules` lists the rules"),
            });
        };
        out.report(
            true,
            &serde_json::json!({ "rule": info(r), "explanation": r.explanation }),
            || {
                format!(
                    "{} ({}, default {}{})\n{}\n\n{}",
                    r.id,
                    r.category.as_str(),
                    r.severity.as_str(),
                    r.bundle
                        .map(|b| format!(", bundle {b}"))
                        .unwrap_or_default(),
                    r.summary,
                    r.explanation
                )
            },
        );
        return Ok(0);
    }

    let project = project(g);
    let env = environment(g, &project)?;
    if !env.linting.enabled {
        let why = format!(
            "linting is disabled for {} (linting.enabled: false)",
            env.name
        );
        if out.json() {
            // Tools reading the report still get one: nothing ran, nothing failed.
            let report = LintReport {
                inputs: vec![why],
                rules_run: 0,
                fail_on_severity: env.linting.fail_on_severity,
                failed: false,
                counts: Default::default(),
                findings: Vec::new(),
                duration_ms: 0,
            };
            print_stdout(&document(ReportFormat::Json, &report, None, false));
        } else if !out.quiet {
            eprintln!("{why}");
        }
        return Ok(0);
    }
    let profile = a
        .profile
        .as_deref()
        .map(|p| load_profile(&project, p))
        .transpose()?;
    let linted = lint(LintRequest {
        project: &project,
        environment: &env,
        files: a.files.clone(),
        migrations: a.migrations,
        live: a.live.then(|| target_args(g)),
        selection: Selection {
            select: a.select.clone(),
            ignore: a.ignore.clone(),
        },
        profile: profile.as_ref(),
    })
    .await?;
    if !out.quiet && !out.json() {
        for n in &linted.notices {
            eprintln!("{}", out.paint(Style::Warn, n));
        }
    }
    let report = linted.report;
    if a.fix {
        write_fixes(&project.root, &report, &out)?;
    }
    let failed = report.failed.then(|| {
        ConfitureError::new(
            codes::LINT_FAILED,
            format!(
                "{} finding(s) at or above '{}' (linting.fail_on_severity)",
                report
                    .findings
                    .iter()
                    .filter(|f| f.severity >= report.fail_on_severity)
                    .count(),
                report.fail_on_severity.as_str()
            ),
        )
    });
    let format = match (a.report, out.json()) {
        (Some(LintReportFormat::Text), _) => ReportFormat::Text,
        (Some(LintReportFormat::Json), _) | (None, true) => ReportFormat::Json,
        (Some(LintReportFormat::Sarif), _) => ReportFormat::Sarif,
        (Some(LintReportFormat::Html), _) => ReportFormat::Html,
        (Some(LintReportFormat::Csv), _) => ReportFormat::Csv,
        (None, false) => ReportFormat::Text,
    };
    match &a.output {
        Some(path) => {
            let doc = document(format, &report, failed.as_ref(), false);
            std::fs::write(path, doc).map_err(|e| {
                ConfitureError::new(
                    codes::IO_FAILED,
                    format!("cannot write {}: {e}", path.display()),
                )
                .at(Location::file(path))
            })?;
            if !out.quiet && !out.json() {
                let summary = render(ReportFormat::Text, &report, out.color);
                print_stdout(summary.trim_end());
                eprintln!("report written to {}", path.display());
            }
        }
        None => {
            let doc = document(format, &report, failed.as_ref(), out.color);
            if format == ReportFormat::Text {
                // --quiet keeps a passing run silent.
                if report.failed || !out.quiet {
                    print_stdout(doc.trim_end());
                }
            } else if doc.ends_with('\n') {
                // Machine formats as written to a file (CSV records end in CRLF).
                write_stdout(&doc);
            } else {
                print_stdout(&doc);
            }
        }
    }
    match failed {
        None => Ok(0),
        Some(e) => {
            if !out.json() && format == ReportFormat::Text {
                out.error(&e);
            }
            Ok(e.exit_class().code())
        }
    }
}

/// The report document; JSON carries the failure's code like every gate report.
fn document(
    format: ReportFormat,
    report: &LintReport,
    failed: Option<&ConfitureError>,
    color: bool,
) -> String {
    if format == ReportFormat::Json {
        // Serialized straight from the report (a `serde_json::Value` of thousands of findings
        // costs more than the rest of the rendering); the same keys as `with_error`.
        let envelope = JsonReport {
            report,
            error: failed.map(|e| e.to_envelope()["error"].clone()),
            ok: failed.is_none(),
        };
        return serde_json::to_string_pretty(&envelope).expect("json");
    }
    render(format, report, color)
}

/// The JSON document: the report's fields, then `error` when it failed, then `ok`.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a LintReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
    ok: bool,
}

/// `--fix`: the findings' safe fixes in a new migration (and the statements PostgreSQL refuses
/// in a transaction in a second one, `transactional: false`). Nothing is executed.
fn write_fixes(root: &Path, report: &LintReport, out: &Output) -> Result<()> {
    let (tx, autocommit) = fixes(&report.findings);
    if tx.is_empty() && autocommit.is_empty() {
        if !out.quiet && !out.json() {
            eprintln!("--fix: no finding has a safe automatic fix");
        }
        return Ok(());
    }
    let dir = migrations_dir(root);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let mut written = Vec::new();
    let mut version = now;
    for (statements, name, transactional) in [
        (tx, "lint_fixes", true),
        (autocommit, "lint_fixes_concurrently", false),
    ] {
        if statements.is_empty() {
            continue;
        }
        let v = timestamp_version(version);
        version += 1;
        let header = format!(
            "-- Migration {v}_{name}: safe fixes written by `confiture lint --fix`.\n-- Review before applying with `confiture migrate up`.\n\n"
        );
        let up = format!("{header}{}\n", statements.join("\n\n"));
        let down_lines: Vec<String> = statements
            .iter()
            .rev()
            .map(|s| undo(s.lines().last().unwrap_or_default()))
            .collect();
        let down = format!(
            "-- Migration {v}_{name}: down\n\n{}\n",
            down_lines.join("\n")
        );
        let generated = generate_with(&dir, name, &v, &up, &down)?;
        if !transactional {
            let sidecar = dir.join(format!("{v}_{name}.yaml"));
            std::fs::write(
                &sidecar,
                "description: safe fixes that PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY)\ntransactional: false\n",
            )
            .map_err(|e| {
                ConfitureError::new(
                    codes::IO_FAILED,
                    format!("cannot write {}: {e}", sidecar.display()),
                )
            })?;
        }
        written.push(generated.up.display().to_string());
    }
    if !out.quiet && !out.json() {
        for w in &written {
            eprintln!("--fix: wrote {w}");
        }
    }
    Ok(())
}
