//! Lint reports as text (grouped, with the suggested fix), JSON, SARIF 2.1, self-contained
//! HTML and CSV. Pure: each format is a function returning the document.

use serde::Serialize;

use crate::finding::Finding;
use crate::Severity;

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
