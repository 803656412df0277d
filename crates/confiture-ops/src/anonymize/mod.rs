//! `confiture anonymize validate|verify`: check a profile against the source database before a
//! sync trusts it.

pub mod compat;

use std::collections::{HashMap, HashSet};

use confiture_core::anonymize::profile::Profile;
use confiture_core::anonymize::Strategy;
use confiture_core::error::Result;
use confiture_core::ident::quote_ident;
use confiture_pg::tables::{read_tables, TableInfo};
use confiture_pg::ConnTarget;
use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::sync::pii_check::{self, Uncovered};

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub table: String,
    pub column: Option<String>,
    /// The rule's line in the profile.
    pub line: usize,
    pub problem: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    pub profile: String,
    pub file: String,
    pub strict: bool,
    pub rules: usize,
    pub findings: Vec<Finding>,
    pub uncovered_pii: Vec<Uncovered>,
}

fn sql_error(
    conn: &ConnTarget,
    e: &tokio_postgres::Error,
) -> confiture_core::error::ConfitureError {
    confiture_core::error::ConfitureError::new(
        confiture_core::codes::SQL_FAILED,
        format!("reading {}: {}", conn.display(), conn.message(e)),
    )
}

/// Check every rule against the source's tables, columns and types, and list the columns that
/// look like personal data without a rule.
pub async fn validate(profile: &Profile, source: &ConnTarget) -> Result<ValidateReport> {
    let client = source.connect().await?;
    let tables = read_tables(&client)
        .await
        .map_err(|e| sql_error(source, &e))?;
    let by_name: HashMap<String, &TableInfo> = tables.iter().map(|t| (t.qualified(), t)).collect();
    let mut findings = Vec::new();
    for rule in &profile.tables {
        let name = format!("{}.{}", rule.schema, rule.table);
        let Some(t) = by_name.get(&name) else {
            findings.push(Finding {
                table: name,
                column: None,
                line: rule.line,
                problem: "no such table in the source".into(),
            });
            continue;
        };
        for c in &rule.columns {
            let problem = match t.column(&c.column) {
                None => Some("no such column in the source".to_string()),
                Some(col) if col.generated => {
                    Some("a generated column: the target computes it".to_string())
                }
                Some(col) => compat::fits(&c.strategy, &col.wire_type)
                    .err()
                    .map(|why| format!("strategy {} {why}", c.strategy_name))
                    .or_else(|| {
                        c.context_columns()
                            .into_iter()
                            .find(|x| t.column(x).is_none())
                            .map(|x| format!("the rule reads row.{x}, which the table lacks"))
                    }),
            };
            if let Some(problem) = problem {
                findings.push(Finding {
                    table: name.clone(),
                    column: Some(c.column.clone()),
                    line: c.line,
                    problem,
                });
            }
        }
    }
    let copied: Vec<&TableInfo> = tables
        .iter()
        .filter(|t| !profile.table(&t.schema, &t.name).is_some_and(|r| r.skip))
        .collect();
    let uncovered = pii_check::uncovered(&client, &copied, Some(profile))
        .await
        .map_err(|e| sql_error(source, &e))?;
    Ok(ValidateReport {
        profile: profile.name.clone(),
        file: profile.file.display().to_string(),
        strict: profile.strict,
        rules: profile.tables.iter().map(|t| t.columns.len().max(1)).sum(),
        findings,
        uncovered_pii: uncovered,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnCheck {
    pub table: String,
    pub column: String,
    pub strategy: String,
    pub sampled: usize,
    /// Non-NULL values whose anonymized value differs from the original.
    pub changed: usize,
    pub deterministic: bool,
    /// Applying the strategy again gave the same values (checked for deterministic ones).
    pub stable: bool,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub profile: String,
    pub columns: Vec<ColumnCheck>,
    pub ok: bool,
}

/// Whether the strategy is meant to change every non-NULL value.
pub fn must_change(s: &Strategy) -> bool {
    match s {
        Strategy::Preserve | Strategy::SqlExpression(_) => false,
        Strategy::Conditional(c) => must_change(&c.then) && must_change(&c.otherwise),
        Strategy::Keyed(k) => must_change(&k.strategy),
        _ => true,
    }
}

/// Apply the profile to `sample` rows of each ruled table and check the results: anonymized
/// values differ from the originals, deterministic strategies are stable, immutable columns
/// (the profile's `immutable` list) are unchanged, and primary keys stay unique.
pub async fn verify(profile: &Profile, source: &ConnTarget, sample: usize) -> Result<VerifyReport> {
    let client = source.connect().await?;
    client
        .batch_execute(
            "SET DateStyle = ISO; SET TimeZone = 'UTC'; SET extra_float_digits = 3; \
             SET default_transaction_read_only = on",
        )
        .await
        .map_err(|e| sql_error(source, &e))?;
    let tables = read_tables(&client)
        .await
        .map_err(|e| sql_error(source, &e))?;
    let mut columns = Vec::new();
    for rule in profile.tables.iter().filter(|r| !r.skip) {
        let Some(t) = tables
            .iter()
            .find(|t| t.schema == rule.schema && t.name == rule.table)
        else {
            continue;
        };
        let rows = sample_rows(&client, t, sample)
            .await
            .map_err(|e| sql_error(source, &e))?;
        let names: Vec<&str> = t.copied_columns().map(|c| c.name.as_str()).collect();
        for c in &rule.columns {
            let Some(pos) = names.iter().position(|n| *n == c.column) else {
                continue;
            };
            let wire = &t
                .copied_columns()
                .nth(pos)
                .expect("position is valid")
                .wire_type;
            let mut check = ColumnCheck {
                table: t.qualified(),
                column: c.column.clone(),
                strategy: c.strategy_name.clone(),
                sampled: rows.len(),
                changed: 0,
                deterministic: c.deterministic(),
                stable: true,
                problems: Vec::new(),
            };
            let mut outputs = HashSet::new();
            let mut unchanged = 0;
            for r in &rows {
                let cols: Vec<(&str, Option<&str>)> = names
                    .iter()
                    .copied()
                    .zip(r.iter().map(|v| v.as_deref()))
                    .collect();
                let original = r[pos].as_deref();
                let row = c.row(wire, &cols);
                let first = c.strategy.apply(original, &row);
                if c.deterministic() && c.strategy.apply(original, &row) != first {
                    check.stable = false;
                }
                if original.is_some() && first.as_deref() != original {
                    check.changed += 1;
                } else if original.is_some() {
                    unchanged += 1;
                }
                outputs.insert(first);
            }
            if must_change(&c.strategy) && unchanged > 0 {
                check.problems.push(format!(
                    "{unchanged} of {} sampled value(s) kept their original value",
                    rows.len()
                ));
            }
            if !check.stable {
                check.problems.push(
                    "a deterministic strategy gave different values for the same input".into(),
                );
            }
            if profile.immutable.contains(&c.column) && check.changed > 0 {
                check.problems.push(format!(
                    "{} is immutable but the rule changed {} value(s)",
                    c.column, check.changed
                ));
            }
            if t.primary_key == [c.column.clone()] && outputs.len() < rows.len() {
                check
                    .problems
                    .push("the primary key is no longer unique after anonymization".to_string());
            }
            columns.push(check);
        }
    }
    let ok = columns.iter().all(|c| c.problems.is_empty());
    Ok(VerifyReport {
        profile: profile.name.clone(),
        columns,
        ok,
    })
}

async fn sample_rows(
    client: &Client,
    t: &TableInfo,
    n: usize,
) -> Result<Vec<Vec<Option<String>>>, tokio_postgres::Error> {
    let select = t
        .copied_columns()
        .map(|c| format!("{}::text", quote_ident(&c.name)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {select} FROM {}{}.{} LIMIT {n}",
        if t.partitioned { "" } else { "ONLY " },
        quote_ident(&t.schema),
        quote_ident(&t.name)
    );
    Ok(client
        .simple_query(&sql)
        .await?
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect())
}
