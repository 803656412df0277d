//! Inline suppressions in SQL files:
//!
//! ```sql
//! -- confiture:lint-ignore require-primary-key staging table, loaded then dropped
//! CREATE TABLE import_rows (line text);
//! ALTER TABLE t ADD COLUMN c int; -- confiture:lint-ignore migration-missing-lock-timeout reason
//! -- confiture:lint-ignore-file snake-case-names legacy names kept for the ETL
//! ```
//!
//! A comment alone on its line covers the findings of the next line (and its own); a comment
//! after code covers only the findings of its own line, so it never silences the statement
//! below it. `lint-ignore-file`
//! covers the whole file. Several rules may be given, comma-separated; `all` covers every rule.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::finding::Finding;

const MARK: &str = "confiture:lint-ignore";

#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub line: usize,
    pub rules: Vec<String>,
    pub reason: String,
    pub whole_file: bool,
    /// Written after code on the same line: covers that line only.
    pub trailing: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    by_file: HashMap<PathBuf, Vec<Suppression>>,
}

impl Suppressions {
    /// Record the suppressions of `file` (relative to the project, as findings name it).
    pub fn scan(&mut self, file: &Path, text: &str) {
        let mut found = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let Some(at) = line.find(MARK) else {
                continue;
            };
            // Only in a `--` comment.
            let Some(dashes) = line[..at].find("--") else {
                continue;
            };
            let trailing = !line[..dashes].trim().is_empty();
            let rest = &line[at + MARK.len()..];
            let (whole_file, rest) = match rest.strip_prefix("-file") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let mut words = rest.split_whitespace();
            let Some(rules) = words.next() else {
                continue;
            };
            found.push(Suppression {
                line: i + 1,
                rules: rules.split(',').map(|r| r.trim().to_string()).collect(),
                reason: words.collect::<Vec<_>>().join(" "),
                whole_file,
                trailing,
            });
        }
        if !found.is_empty() {
            self.by_file.insert(file.to_path_buf(), found);
        }
    }

    /// Add the suppressions recorded by `other` (files scanned on another thread).
    pub fn extend(&mut self, other: Suppressions) {
        self.by_file.extend(other.by_file);
    }

    /// Every suppression, for checking the rule ids they name.
    pub fn all(&self) -> impl Iterator<Item = (&PathBuf, &Suppression)> {
        self.by_file
            .iter()
            .flat_map(|(f, list)| list.iter().map(move |s| (f, s)))
    }

    pub fn covers(&self, f: &Finding) -> bool {
        let (Some(file), line) = (&f.file, f.line) else {
            return false;
        };
        let Some(list) = self.by_file.get(file) else {
            return false;
        };
        list.iter().any(|s| {
            let names = s.rules.iter().any(|r| r == &f.rule || r == "all");
            let placed = s.whole_file
                || line.is_some_and(|l| l == s.line || (!s.trailing && l == s.line + 1));
            names && placed
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn finding(rule: &str, line: usize) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::Error,
            message: String::new(),
            object: None,
            file: Some(PathBuf::from("db/a.sql")),
            line: Some(line),
            column: Some(1),
            fix: None,
            fix_sql: None,
        }
    }

    #[test]
    fn comments_cover_their_line_and_the_next() {
        let mut s = Suppressions::default();
        s.scan(
            Path::new("db/a.sql"),
            "-- confiture:lint-ignore require-primary-key loaded then dropped\nCREATE TABLE t (a int);\nSELECT 1; -- confiture:lint-ignore x,y why\n\nCREATE TABLE u (a int);\nCREATE TABLE v (a int); -- confiture:lint-ignore z append-only\nCREATE TABLE w (a int);\n",
        );
        // A trailing comment covers its own line, never the next statement.
        assert!(s.covers(&finding("z", 6)));
        assert!(!s.covers(&finding("z", 7)));
        assert!(s.covers(&finding("require-primary-key", 2)));
        assert!(!s.covers(&finding("require-primary-key", 5)));
        assert!(!s.covers(&finding("other", 2)));
        assert!(s.covers(&finding("y", 3)));
        let all: Vec<_> = s.all().map(|(_, x)| x.clone()).collect();
        assert_eq!(all[0].reason, "loaded then dropped");
        assert_eq!(all[1].rules, vec!["x", "y"]);
    }

    #[test]
    fn whole_file_and_all() {
        let mut s = Suppressions::default();
        s.scan(
            Path::new("db/a.sql"),
            "-- confiture:lint-ignore-file all legacy\n",
        );
        assert!(s.covers(&finding("anything", 40)));
        let mut other = finding("anything", 40);
        other.file = Some(PathBuf::from("db/b.sql"));
        assert!(!s.covers(&other));
    }
}
