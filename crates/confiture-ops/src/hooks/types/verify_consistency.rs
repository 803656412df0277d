//! `verify_consistency`: queries whose single value must equal, stay within bounds, or keep a
//! ratio to another value (another query, or statistics captured earlier) within a tolerance.
//!
//! ```yaml
//! - type: verify_consistency
//!   config:
//!     checks:
//!       - name: no order without customer
//!         sql: "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL"
//!         expect: 0
//!       - name: some rows
//!         sql: "SELECT count(*) FROM orders"
//!         min: 1                 # and/or max
//!       - name: no row lost
//!         sql: "SELECT count(*) FROM users"
//!         ratio_to: {captured: before, table: users, metric: rows}   # or ratio_to: "SELECT …"
//!         expected_ratio: 1.0
//!         tolerance: 0.0         # |ratio - expected_ratio| <= tolerance
//!     source_target_joins:       # the vision documents' shape: distinct keys of target / source
//!       - {source: events, target: r_user_analytics, join_key: user_id, expected_ratio: 1.0}
//! ```

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::yaml::{Node, Value};

use crate::hooks::context::captured;
use crate::hooks::{db, Config, HookOutput, HookRun};

#[derive(Debug, Clone)]
pub enum Expectation {
    Equals(String),
    Range {
        min: Option<f64>,
        max: Option<f64>,
    },
    Ratio {
        to: RatioBase,
        expected: f64,
        tolerance: f64,
    },
}

#[derive(Debug, Clone)]
pub enum RatioBase {
    Query(String),
    Captured {
        id: String,
        table: String,
        metric: String,
    },
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub sql: String,
    pub expect: Expectation,
}

#[derive(Debug, Clone)]
pub struct VerifyConsistency {
    pub checks: Vec<Check>,
}

fn number(c: &Config<'_>, n: &Node, key: &str) -> Result<f64> {
    match &n.value {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        _ => Err(c.error(
            Some(n),
            format!("'{key}' must be a number, found {}", n.type_name()),
        )),
    }
}

impl VerifyConsistency {
    pub fn load(c: &Config<'_>) -> Result<VerifyConsistency> {
        let mut checks = Vec::new();
        if let Some(list) = c.get("checks") {
            for (i, item) in c.dec.seq(list, &c.key("checks"))?.iter().enumerate() {
                checks.push(load_check(c, item, &format!("{}[{i}]", c.key("checks")))?);
            }
        }
        if let Some(list) = c.get("source_target_joins") {
            for (i, item) in c
                .dec
                .seq(list, &c.key("source_target_joins"))?
                .iter()
                .enumerate()
            {
                let path = format!("{}[{i}]", c.key("source_target_joins"));
                let mut m = c.dec.map(item, &path)?;
                let mut req = |key: &'static str| -> Result<String> {
                    match m.get(key) {
                        Some(n) => c.dec.string(n, &format!("{path}.{key}")),
                        None => Err(c.error(Some(item), format!("'{path}' has no '{key}'"))),
                    }
                };
                let source = req("source")?;
                let target = req("target")?;
                let key = req("join_key")?;
                let expected = match m.get("expected_ratio") {
                    Some(n) => number(c, n, &format!("{path}.expected_ratio"))?,
                    None => 1.0,
                };
                let tolerance = match m.get("tolerance") {
                    Some(n) => number(c, n, &format!("{path}.tolerance"))?,
                    None => 0.0,
                };
                m.finish(&c.dec)?;
                let k = super::qualified(&key);
                checks.push(Check {
                    name: format!("{target}.{key} covers {source}.{key}"),
                    sql: format!(
                        "SELECT count(DISTINCT {k}) FROM {}",
                        super::qualified(&target)
                    ),
                    expect: Expectation::Ratio {
                        to: RatioBase::Query(format!(
                            "SELECT count(DISTINCT {k}) FROM {}",
                            super::qualified(&source)
                        )),
                        expected,
                        tolerance,
                    },
                });
            }
        }
        if checks.is_empty() {
            return Err(c.missing("'checks' (or 'source_target_joins')"));
        }
        Ok(VerifyConsistency { checks })
    }

    pub fn describe(&self) -> String {
        let names: Vec<&str> = self.checks.iter().map(|c| c.name.as_str()).collect();
        format!("verify_consistency: {}", names.join("; "))
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let mut results = Vec::new();
        for check in &self.checks {
            let value = db::scalar(run, &check.sql).await?;
            let fail = |msg: String| {
                ConfitureError::new(
                    codes::MIGRATE_HOOK_FAILED,
                    format!("check '{}': {msg}", check.name),
                )
            };
            let shown = value.clone().unwrap_or_else(|| "NULL".into());
            match &check.expect {
                Expectation::Equals(want) => {
                    let equal = match (shown.parse::<f64>(), want.parse::<f64>()) {
                        (Ok(a), Ok(b)) => a == b,
                        _ => &shown == want,
                    };
                    if !equal {
                        return Err(fail(format!("returned {shown}, expected {want}")));
                    }
                }
                Expectation::Range { min, max } => {
                    let v = shown
                        .parse::<f64>()
                        .map_err(|_| fail(format!("returned {shown}, not a number")))?;
                    if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                        return Err(fail(format!(
                            "returned {shown}, expected {}",
                            match (min, max) {
                                (Some(a), Some(b)) => format!("between {a} and {b}"),
                                (Some(a), None) => format!("at least {a}"),
                                (None, Some(b)) => format!("at most {b}"),
                                (None, None) => unreachable!(),
                            }
                        )));
                    }
                }
                Expectation::Ratio {
                    to,
                    expected,
                    tolerance,
                } => {
                    let v = shown
                        .parse::<f64>()
                        .map_err(|_| fail(format!("returned {shown}, not a number")))?;
                    let base = match to {
                        RatioBase::Query(sql) => db::scalar(run, sql)
                            .await?
                            .and_then(|s| s.parse::<f64>().ok()),
                        RatioBase::Captured { id, table, metric } => {
                            captured(run.context, id, &["tables", table, metric])
                                .and_then(|v| v.as_f64())
                        }
                    };
                    let Some(base) = base else {
                        return Err(fail(match to {
                            RatioBase::Captured { id, table, metric } => format!("no captured value results.{id}.values.tables.{table}.{metric}: run a capture_statistics hook with id '{id}' before this one"),
                            RatioBase::Query(_) => "the base query returned no number".into(),
                        }));
                    };
                    let ratio = if base == 0.0 {
                        if v == 0.0 {
                            1.0
                        } else {
                            f64::INFINITY
                        }
                    } else {
                        v / base
                    };
                    if (ratio - expected).abs() > *tolerance + 1e-12 {
                        return Err(fail(format!(
                            "ratio {v}/{base} = {ratio:.4}, expected {expected} ± {tolerance}"
                        )));
                    }
                }
            }
            results.push(serde_json::json!({ "name": check.name, "value": value }));
        }
        Ok(HookOutput {
            rows: None,
            values: serde_json::json!({ "checks": results }),
            notes: Vec::new(),
        })
    }
}

fn load_check(c: &Config<'_>, item: &Node, path: &str) -> Result<Check> {
    let mut m = c.dec.map(item, path)?;
    let sql = match m.get("sql") {
        Some(n) => c.dec.string(n, &format!("{path}.sql"))?,
        None => return Err(c.error(Some(item), format!("'{path}' has no 'sql'"))),
    };
    let name = match m.get("name") {
        Some(n) => c.dec.string(n, &format!("{path}.name"))?,
        None => db::first_line(&sql),
    };
    let expect = if let Some(n) = m.get("expect") {
        Expectation::Equals(match &n.value {
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => {
                if *b {
                    "t".into()
                } else {
                    "f".into()
                }
            }
            Value::Str(_) => c.dec.string(n, &format!("{path}.expect"))?,
            _ => {
                return Err(c.error(
                    Some(n),
                    format!("'{path}.expect' must be a number, string or boolean"),
                ))
            }
        })
    } else if let Some(n) = m.get("ratio_to") {
        let to = match &n.value {
            Value::Str(_) => RatioBase::Query(c.dec.string(n, &format!("{path}.ratio_to"))?),
            _ => {
                let p = format!("{path}.ratio_to");
                let mut r = c.dec.map(n, &p)?;
                let id = match r.get("captured") {
                    Some(v) => c.dec.string(v, &format!("{p}.captured"))?,
                    None => return Err(c.error(Some(n), format!("'{p}' needs 'captured' (the id of a capture_statistics hook) and 'table'"))),
                };
                let table = match r.get("table") {
                    Some(v) => c.dec.string(v, &format!("{p}.table"))?,
                    None => return Err(c.error(Some(n), format!("'{p}' needs 'table'"))),
                };
                let metric = match r.get("metric") {
                    Some(v) => c.dec.string(v, &format!("{p}.metric"))?,
                    None => "rows".into(),
                };
                r.finish(&c.dec)?;
                RatioBase::Captured { id, table, metric }
            }
        };
        let expected = match m.get("expected_ratio") {
            Some(v) => number(c, v, &format!("{path}.expected_ratio"))?,
            None => 1.0,
        };
        let tolerance = match m.get("tolerance") {
            Some(v) => number(c, v, &format!("{path}.tolerance"))?,
            None => 0.0,
        };
        Expectation::Ratio {
            to,
            expected,
            tolerance,
        }
    } else {
        let min = m
            .get("min")
            .map(|v| number(c, v, &format!("{path}.min")))
            .transpose()?;
        let max = m
            .get("max")
            .map(|v| number(c, v, &format!("{path}.max")))
            .transpose()?;
        if min.is_none() && max.is_none() {
            return Err(c.error(
                Some(item),
                format!("'{path}' needs 'expect', 'min'/'max', or 'ratio_to'"),
            ));
        }
        Expectation::Range { min, max }
    };
    m.finish(&c.dec)?;
    Ok(Check { name, sql, expect })
}
