//! Lint reports as text (grouped, with the suggested fix), JSON, SARIF 2.1, self-contained
//! HTML and CSV. Pure: each format is a function returning the document; [`render`] picks one.

use serde::Serialize;

use crate::finding::Finding;
use crate::Severity;

pub mod csv;
pub mod html;
pub mod json;
pub mod sarif;
pub mod text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
    Html,
    Csv,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Counts {
    pub fn of(findings: &[Finding]) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }
}

/// What `confiture lint` found.
#[derive(Debug, Clone, Serialize)]
pub struct LintReport {
    /// What was linted, for people: `db/schema (1,256 files)`, `database app@db:5432/prod`,
    /// `3 migrations`.
    pub inputs: Vec<String>,
    pub rules_run: usize,
    pub fail_on_severity: Severity,
    /// Some finding is at or above `fail_on_severity` (exit 7).
    pub failed: bool,
    pub counts: Counts,
    pub findings: Vec<Finding>,
    pub duration_ms: u64,
}

/// The report as one document in `format`. `color` (ANSI escapes) applies to text only; the
/// other formats are files for tools and never carry escapes.
pub fn render(format: ReportFormat, report: &LintReport, color: bool) -> String {
    match format {
        ReportFormat::Text => text::render(report, color),
        ReportFormat::Json => json::render(report),
        ReportFormat::Sarif => sarif::render(report),
        ReportFormat::Html => html::render(report),
        ReportFormat::Csv => csv::render(report),
    }
}

/// A path as reports print it: relative as given, with forward slashes on every platform.
pub(crate) fn slash_path(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.into_owned()
    }
}

/// `3 errors, 1 warning, 0 infos`.
pub(crate) fn counts_phrase(c: &Counts) -> String {
    format!(
        "{}, {}, {}",
        plural(c.error, "error"),
        plural(c.warning, "warning"),
        plural(c.info, "info")
    )
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A hand-built report shared by the formats' tests: three findings, one per severity, one
/// without a file.
#[cfg(test)]
pub(crate) mod sample {
    use std::path::PathBuf;

    use super::*;

    pub fn finding(rule: &str, severity: Severity, message: &str) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity,
            message: message.to_string(),
            object: None,
            file: None,
            line: None,
            column: None,
            fix: None,
            fix_sql: None,
        }
    }

    pub fn report_of(findings: Vec<Finding>) -> LintReport {
        LintReport {
            inputs: vec!["db/schema (1,256 files)".into(), "3 migrations".into()],
            rules_run: 12,
            fail_on_severity: Severity::Error,
            failed: findings.iter().any(|f| f.severity >= Severity::Error),
            counts: Counts::of(&findings),
            findings,
            duration_ms: 42,
        }
    }

    pub fn report() -> LintReport {
        let mut a = finding(
            "require-primary-key",
            Severity::Error,
            "table public.audit has no primary key",
        )
        .object("public.audit")
        .fix("add a primary key: ALTER TABLE public.audit ADD PRIMARY KEY (id)");
        a.file = Some(PathBuf::from("db/schema/10_tables/audit.sql"));
        a.line = Some(12);
        a.column = Some(5);
        let mut b = finding(
            "require-concurrent-index",
            Severity::Warning,
            "CREATE INDEX on public.orders locks writes, \"orders\" has 2,000,000 rows",
        )
        .object("public.orders")
        .fix("use CREATE INDEX CONCURRENTLY, outside a transaction");
        b.file = Some(PathBuf::from("db/migrations/003_orders.up.sql"));
        b.line = Some(3);
        b.column = Some(1);
        let c = finding(
            "my-custom-rule",
            Severity::Info,
            "function public.f() <script>alert(1)</script> has no comment",
        )
        .object("public.f()");
        report_of(vec![a, b, c])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_dispatches_to_every_format() {
        let r = sample::report();
        assert!(render(ReportFormat::Text, &r, false).contains("1 error, 1 warning, 1 info"));
        assert!(render(ReportFormat::Json, &r, false).starts_with('{'));
        assert!(render(ReportFormat::Sarif, &r, false).contains("\"2.1.0\""));
        assert!(render(ReportFormat::Html, &r, false).starts_with("<!DOCTYPE html>"));
        assert!(render(ReportFormat::Csv, &r, false).starts_with("severity,rule,"));
        for f in [
            ReportFormat::Json,
            ReportFormat::Sarif,
            ReportFormat::Html,
            ReportFormat::Csv,
        ] {
            assert!(!render(f, &r, true).contains('\x1b'), "{f:?}");
        }
    }

    #[test]
    fn plurals() {
        assert_eq!(
            counts_phrase(&Counts {
                error: 0,
                warning: 1,
                info: 2
            }),
            "0 errors, 1 warning, 2 infos"
        );
    }
}
