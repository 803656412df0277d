//! `test_queries`: the application's queries must still run against the new schema and return
//! the columns (and types) it expects.
//!
//! ```yaml
//! - type: test_queries
//!   config:
//!     queries:
//!       - name: order totals
//!         sql: "SELECT id, total FROM orders WHERE customer_id = 1"
//!         columns: [id, total]                 # names, in order; or
//!         columns: {id: bigint, total: numeric} # names and types (any spelling PostgreSQL accepts)
//!         min_rows: 0
//!     file: tests/queries/analytics.sql        # each statement must run (alias: query_file)
//! ```

use confiture_core::error::Result;
use confiture_core::yaml::Value;

use crate::hooks::{db, Config, HookOutput, HookRun, LoadContext};

#[derive(Debug, Clone)]
pub struct TestQuery {
    pub name: String,
    pub sql: String,
    /// Expected column names, with their expected type when given.
    pub columns: Option<Vec<(String, Option<String>)>>,
    pub min_rows: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct TestQueries {
    pub queries: Vec<TestQuery>,
}

impl TestQueries {
    pub fn load(c: &Config<'_>, cx: &LoadContext<'_>) -> Result<TestQueries> {
        let mut queries = Vec::new();
        if let Some(list) = c.get("queries") {
            for (i, item) in c.dec.seq(list, &c.key("queries"))?.iter().enumerate() {
                let path = format!("{}[{i}]", c.key("queries"));
                let mut m = c.dec.map(item, &path)?;
                let sql = match m.get("sql") {
                    Some(n) => c.dec.string(n, &format!("{path}.sql"))?,
                    None => return Err(c.error(Some(item), format!("'{path}' has no 'sql'"))),
                };
                let name = match m.get("name") {
                    Some(n) => c.dec.string(n, &format!("{path}.name"))?,
                    None => db::first_line(&sql),
                };
                let columns =
                    match m.get("columns") {
                        None => None,
                        Some(n) => Some(match &n.value {
                            Value::Seq(_) => c
                                .dec
                                .string_list(n, &format!("{path}.columns"))?
                                .into_iter()
                                .map(|name| (name, None))
                                .collect(),
                            Value::Map(entries) => entries
                                .iter()
                                .map(|(k, v)| {
                                    Ok((
                                        k.key_text(),
                                        Some(c.dec.string(
                                            v,
                                            &format!("{path}.columns.{}", k.key_text()),
                                        )?),
                                    ))
                                })
                                .collect::<Result<Vec<_>>>()?,
                            _ => {
                                return Err(c.error(
                                    Some(n),
                                    format!(
                                "'{path}.columns' must be a list of names or a mapping name: type"
                            ),
                                ))
                            }
                        }),
                    };
                let min_rows = match m.get("min_rows") {
                    Some(n) => Some(c.dec.u64(n, &format!("{path}.min_rows"))?),
                    None => None,
                };
                m.finish(&c.dec)?;
                queries.push(TestQuery {
                    name,
                    sql,
                    columns,
                    min_rows,
                });
            }
        }
        let file = match c.get("file") {
            Some(n) => Some((n, "file")),
            None => c.get("query_file").map(|n| (n, "query_file")),
        };
        if let Some((n, key)) = file {
            let path = cx.project_root.join(c.dec.string(n, &c.key(key))?);
            if !path.is_file() {
                return Err(c.error(
                    Some(n),
                    format!("'{}': no file {}", c.key(key), path.display()),
                ));
            }
            for (i, sql) in super::sql::load_file(&path, cx.project_root)?
                .into_iter()
                .enumerate()
            {
                queries.push(TestQuery {
                    name: format!("{} statement {}", path.display(), i + 1),
                    sql,
                    columns: None,
                    min_rows: None,
                });
            }
        }
        if queries.is_empty() {
            return Err(c.missing("'queries' or 'file'"));
        }
        Ok(TestQueries { queries })
    }

    pub fn describe(&self) -> String {
        format!(
            "test_queries: run {} quer{} and check their columns",
            self.queries.len(),
            if self.queries.len() == 1 { "y" } else { "ies" }
        )
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let mut checked = Vec::new();
        for q in &self.queries {
            let failure = |msg: String| {
                confiture_core::error::ConfitureError::new(
                    confiture_core::codes::MIGRATE_HOOK_FAILED,
                    format!("query '{}': {msg}", q.name),
                )
            };
            let statement = run
                .client
                .prepare(&q.sql)
                .await
                .map_err(|e| db::error(run, &format!("query '{}'", q.name), &e))?;
            if let Some(expected) = &q.columns {
                let got: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
                let want: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
                if got != want {
                    return Err(failure(format!(
                        "returns columns ({}), expected ({})",
                        got.join(", "),
                        want.join(", ")
                    )));
                }
                for ((name, ty), col) in expected.iter().zip(statement.columns()) {
                    let Some(ty) = ty else { continue };
                    // Let the server say what the expected type is, so `int`, `integer` and `int4` agree.
                    let oid = run
                        .client
                        .query_one("SELECT $1::text::regtype::oid", &[ty])
                        .await
                        .map_err(|e| {
                            db::error(
                                run,
                                &format!(
                                    "query '{}': expected type '{ty}' of column {name}",
                                    q.name
                                ),
                                &e,
                            )
                        })?;
                    let oid: u32 = oid.get(0);
                    if oid != col.type_().oid() {
                        return Err(failure(format!(
                            "column {name} is {}, expected {ty}",
                            col.type_().name()
                        )));
                    }
                }
            }
            let out = db::execute(run, &q.sql).await?;
            let rows = out.rows.len() as u64;
            if let Some(min) = q.min_rows {
                if rows < min {
                    return Err(failure(format!(
                        "returned {rows} row(s), expected at least {min}"
                    )));
                }
            }
            checked.push(serde_json::json!({ "name": q.name, "rows": rows }));
        }
        Ok(HookOutput {
            rows: None,
            values: serde_json::json!({ "queries": checked }),
            notes: Vec::new(),
        })
    }
}
