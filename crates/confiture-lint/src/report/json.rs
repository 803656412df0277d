//! The JSON report: [`LintReport`] as it serializes, pretty-printed. The schema (a stable
//! contract; fields may be added, never renamed or removed):
//!
//! ```text
//! {
//!   "inputs": [string],           what was linted, for people: "db/schema (1,256 files)",
//!                                 "database app@db:5432/prod", "3 migrations"
//!   "rules_run": integer,         how many rules ran
//!   "fail_on_severity": "error" | "warning" | "info",
//!   "failed": boolean,            some finding is at or above fail_on_severity (exit 7)
//!   "counts": {"error": integer, "warning": integer, "info": integer},
//!   "findings": [                 sorted by file, line and rule
//!     {
//!       "rule": string,           the rule id ("require-primary-key") or a custom rule's name
//!       "severity": "error" | "warning" | "info",
//!       "message": string,
//!       "object": string,         optional: "schema.table", "schema.table.column",
//!                                 "schema.function(args)", …
//!       "file": string,           optional: relative to the project root
//!       "line": integer,          optional, 1-based
//!       "column": integer,        optional, 1-based, in characters
//!       "fix": string,            optional: the suggested fix, in words or SQL to adapt
//!       "fix_sql": string         optional: a safe fix `--fix` may write into a migration
//!     }
//!   ],
//!   "duration_ms": integer
//! }
//! ```
//!
//! Optional fields are left out when absent (never `null`).

use super::LintReport;

pub fn render(report: &LintReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a lint report serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::sample;
    use super::*;

    #[test]
    fn schema_fields() {
        let out = render(&sample::report());
        assert!(out.ends_with("}\n"));
        let v: Value = serde_json::from_str(&out).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "inputs",
                "rules_run",
                "fail_on_severity",
                "failed",
                "counts",
                "findings",
                "duration_ms"
            ]
        );
        assert_eq!(v["fail_on_severity"], "error");
        assert_eq!(v["failed"], true);
        assert_eq!(
            v["counts"],
            serde_json::json!({"error": 1, "warning": 1, "info": 1})
        );
        let f = &v["findings"][0];
        assert_eq!(f["rule"], "require-primary-key");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["object"], "public.audit");
        assert_eq!(f["file"], "db/schema/10_tables/audit.sql");
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(12), Some(5))
        );
        assert!(
            f.get("fix_sql").is_none(),
            "absent fields are left out, not null"
        );
        let g = &v["findings"][2];
        assert_eq!(g["severity"], "info");
        assert!(g.get("file").is_none() && g.get("line").is_none() && g.get("fix").is_none());
    }
}
