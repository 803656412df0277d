//! `capture_statistics`: record row counts and sizes of tables into the context, so a later
//! `verify_consistency` can compare against them.
//!
//! ```yaml
//! - type: capture_statistics
//!   id: before                 # results.before.values.tables.<table>.rows / .bytes
//!   config:
//!     tables: [users, orders]
//!     row_counts: true         # exact count(*) (default true)
//!     sizes: true              # pg_total_relation_size (default true)
//! ```

use confiture_core::error::Result;
use serde_json::{json, Map};

use crate::hooks::{db, Config, HookOutput, HookRun};

#[derive(Debug, Clone)]
pub struct CaptureStatistics {
    pub tables: Vec<String>,
    pub row_counts: bool,
    pub sizes: bool,
}

impl CaptureStatistics {
    pub fn load(c: &Config<'_>) -> Result<CaptureStatistics> {
        let tables = c.strings("tables")?;
        if tables.is_empty() {
            return Err(c.missing("'tables': the tables to measure"));
        }
        // The vision documents' spelling.
        let row_counts = c
            .bool("row_counts")?
            .or(c.bool("capture_row_counts")?)
            .unwrap_or(true);
        let sizes = c
            .bool("sizes")?
            .or(c.bool("capture_table_sizes")?)
            .unwrap_or(true);
        Ok(CaptureStatistics {
            tables,
            row_counts,
            sizes,
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "capture_statistics: count(*) and pg_total_relation_size of {}",
            self.tables.join(", ")
        )
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let mut tables = Map::new();
        for t in &self.tables {
            let name = super::qualified(t);
            let mut entry = Map::new();
            if self.row_counts {
                let n = db::scalar(run, &format!("SELECT count(*) FROM {name}")).await?;
                entry.insert("rows".into(), json!(n.and_then(|v| v.parse::<i64>().ok())));
            }
            if self.sizes {
                let n = db::scalar(
                    run,
                    &format!(
                        "SELECT pg_total_relation_size({})",
                        confiture_pg::ident::quote_literal(&name)
                    ),
                )
                .await?;
                entry.insert("bytes".into(), json!(n.and_then(|v| v.parse::<i64>().ok())));
            }
            tables.insert(t.clone(), entry.into());
        }
        Ok(HookOutput {
            rows: None,
            values: json!({ "tables": tables }),
            notes: Vec::new(),
        })
    }
}
