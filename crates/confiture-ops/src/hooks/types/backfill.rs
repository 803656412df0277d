//! `backfill`: fill data in key-range batches (`UPDATE …` or `INSERT … SELECT …`).
//!
//! ```yaml
//! - type: backfill
//!   config:
//!     table: orders            # the table whose keys are walked (alias: source_table)
//!     key: id                  # default: its one-column primary key
//!     batch_size: 10000        # rows of `table` per batch (default 10000)
//!     pause: 50ms              # between batches (default none)
//!     sql: "UPDATE orders SET total_cents = round(total * 100) WHERE {batch}"
//!     batch_key: o.id          # what `{batch}` compares, when the SQL aliases the table
//! ```
//! `{batch}` becomes `(id >= 'lo' AND id < 'hi')`; bounds are read from the table one batch at a
//! time (`… ORDER BY id OFFSET batch_size LIMIT 1`), so gaps in the keys do not make empty
//! batches. Inside the migration's transaction the batches keep their locks until COMMIT:
//! batching bounds each statement's memory and shows progress; it does not shorten locks.

use std::time::Duration;

use confiture_core::error::Result;
use confiture_pg::ident::quote_literal;

use crate::hooks::{db, Config, HookOutput, HookRun};

#[derive(Debug, Clone)]
pub struct Backfill {
    pub table: String,
    pub key: Option<String>,
    pub batch_key: Option<String>,
    pub batch_size: u64,
    pub pause: Option<Duration>,
    pub sql: String,
}

impl Backfill {
    pub fn load(c: &Config<'_>) -> Result<Backfill> {
        let table = match c.string("table")? {
            Some(t) => t,
            None => c
                .string("source_table")?
                .ok_or_else(|| c.missing("'table': the table whose key ranges make the batches"))?,
        };
        let sql_node = c.get("sql").ok_or_else(|| {
            c.missing(
                "'sql': the statement to run per batch, with {batch} where the key range goes",
            )
        })?;
        let sql = c.dec.string(sql_node, &c.key("sql"))?;
        if !sql.contains("{batch}") {
            return Err(c.error(
                Some(sql_node),
                format!(
                    "'{}' must contain {{batch}}, where the key-range condition goes",
                    c.key("sql")
                ),
            ));
        }
        let batch_size = c.u64("batch_size")?.unwrap_or(10_000);
        if batch_size == 0 {
            return Err(c.error(
                c.get("batch_size"),
                format!("'{}' must be at least 1", c.key("batch_size")),
            ));
        }
        let pause = match c.get("pause") {
            Some(n) => Some(Duration::from_millis(match &n.value {
                confiture_core::yaml::Value::Int(_) => c.dec.u64(n, &c.key("pause"))?,
                _ => {
                    let text = c.dec.string(n, &c.key("pause"))?;
                    confiture_core::migrate::sidecar::parse_duration_ms(&text).ok_or_else(|| {
                        c.error(
                            Some(n),
                            format!("'{}' must be a duration such as 50ms or 1s", c.key("pause")),
                        )
                    })?
                }
            })),
            None => c.u64("pause_ms")?.map(Duration::from_millis),
        };
        Ok(Backfill {
            table,
            key: c.string("key")?,
            batch_key: c.string("batch_key")?,
            batch_size,
            pause,
            sql,
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "backfill: {} in batches of {} rows of {} by {}",
            self.sql.trim(),
            self.batch_size,
            self.table,
            self.key.as_deref().unwrap_or("its primary key")
        )
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let table = super::qualified(&self.table);
        let key = match &self.key {
            Some(k) => super::qualified(k),
            None => primary_key(run, &table).await?,
        };
        let batch_key = self.batch_key.clone().unwrap_or_else(|| key.clone());
        let mut lo = db::scalar(run, &format!("SELECT min({key})::text FROM {table}")).await?;
        let (mut batches, mut rows) = (0u64, 0u64);
        while let Some(low) = lo {
            let hi = db::scalar(
                run,
                &format!(
                    "SELECT {key}::text FROM {table} WHERE {key} >= {} ORDER BY {key} OFFSET {} LIMIT 1",
                    quote_literal(&low),
                    self.batch_size
                ),
            )
            .await?;
            let condition = match &hi {
                Some(high) => format!(
                    "({batch_key} >= {} AND {batch_key} < {})",
                    quote_literal(&low),
                    quote_literal(high)
                ),
                None => format!("({batch_key} >= {})", quote_literal(&low)),
            };
            let done = db::execute(run, &self.sql.replace("{batch}", &condition)).await?;
            batches += 1;
            rows += done.affected;
            (run.progress)(&format!(
                "backfill {}: batch {batches}, {rows} rows",
                self.table
            ));
            lo = hi;
            if let (Some(p), Some(_)) = (self.pause, &lo) {
                tokio::time::sleep(p).await;
            }
        }
        Ok(HookOutput {
            rows: Some(rows),
            values: serde_json::json!({ "batches": batches, "rows": rows, "key": key }),
            notes: Vec::new(),
        })
    }
}

/// The one column of `table`'s primary key.
async fn primary_key(run: &HookRun<'_>, table: &str) -> Result<String> {
    let out = db::execute(
        run,
        &format!(
            "SELECT quote_ident(a.attname) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = {}::regclass AND i.indisprimary",
            quote_literal(table)
        ),
    )
    .await?;
    match out.rows.as_slice() {
        [one] => Ok(one.get(0).unwrap_or_default().to_string()),
        [] => Err(confiture_core::error::ConfitureError::new(
            confiture_core::codes::MIGRATE_HOOK_FAILED,
            format!("{table} has no primary key to make batches by"),
        )
        .with_hint("name the column to walk with config.key")),
        _ => Err(confiture_core::error::ConfitureError::new(
            confiture_core::codes::MIGRATE_HOOK_FAILED,
            format!("{table} has a primary key of several columns"),
        )
        .with_hint("name one orderable column to walk with config.key")),
    }
}
