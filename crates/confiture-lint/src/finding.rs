//! One finding: which rule, how serious, about what, where, and how to fix it.

use std::path::PathBuf;

use serde::Serialize;

use crate::rule::Rule;
use crate::Severity;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule id (a custom rule's `name`).
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    /// The object: `schema.table`, `schema.table.column`, `schema.function(args)`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Relative to the project root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The suggested fix, in words (or SQL to adapt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// A safe fix `--fix` may write into a migration (never executed by the linter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_sql: Option<String>,
}

impl Finding {
    /// A finding of `rule` at its default severity.
    pub fn new(rule: &Rule, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.id.to_string(),
            severity: rule.severity,
            message: message.into(),
            object: None,
            file: None,
            line: None,
            column: None,
            fix: None,
            fix_sql: None,
        }
    }

    pub fn object(mut self, object: impl Into<String>) -> Finding {
        self.object = Some(object.into());
        self
    }

    /// Place the finding at `loc` when there is one.
    pub fn at(mut self, loc: Option<&crate::inputs::Loc>) -> Finding {
        if let Some(l) = loc {
            self.file = Some(l.file.clone());
            self.line = Some(l.line);
            self.column = Some(l.column);
        }
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }

    pub fn fix_sql(mut self, sql: impl Into<String>) -> Finding {
        self.fix_sql = Some(sql.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }
}
