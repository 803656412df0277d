//! Test setup shared by the migration rules: run one rule over a migration's SQL.

use std::path::Path;

use confiture_core::config::linting::LintingConfig;

use crate::finding::Finding;
use crate::inputs::{parse_migration, parse_one, MigrationInput, Stats, TableSize};
use crate::rule::{Check, Context, Rule};

pub const FILE: &str = "db/migrations/001_x.up.sql";

/// The findings of `rule` on `sql`, a transactional migration, without a database.
pub fn run(rule: &Rule, sql: &str) -> Vec<Finding> {
    run_with(rule, sql, true, None)
}

/// The findings of `rule` on `sql`, run in a transaction or not, with table sizes or not.
pub fn run_with(
    rule: &Rule,
    sql: &str,
    transactional: bool,
    stats: Option<&Stats>,
) -> Vec<Finding> {
    let terminated;
    let sql = if sql.trim_end().ends_with(';') {
        sql
    } else {
        terminated = format!("{sql};");
        &terminated
    };
    let stmts = parse_migration(sql).expect("the test SQL splits");
    assert!(
        stmts.iter().all(|s| parse_one(&s.sql).is_some()),
        "the test SQL parses: {sql}"
    );
    let m = MigrationInput {
        file: Path::new(FILE),
        statements: &stmts,
        transactional,
    };
    let config = LintingConfig::default();
    let ctx = Context {
        config: &config,
        environment: "local",
        stats,
        anonymized: None,
    };
    let Check::Migration(check) = rule.check else {
        panic!("{} is not a migration rule", rule.id)
    };
    let mut out = Vec::new();
    check(&m, &ctx, &mut out);
    for f in &out {
        assert_eq!(f.rule, rule.id);
        assert_eq!(f.file.as_deref(), Some(Path::new(FILE)));
        assert!(f.fix.is_some(), "{}: a finding without a fix", rule.id);
    }
    out
}

/// Sizes: `table` (`schema.table`) has `rows` rows.
pub fn stats(table: &str, rows: i64) -> Stats {
    let mut s = Stats::default();
    s.tables.insert(
        table.to_string(),
        TableSize {
            rows,
            bytes: rows * 100,
        },
    );
    s
}
