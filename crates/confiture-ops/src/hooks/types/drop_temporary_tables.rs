//! `drop_temporary_tables`: drop the temporary tables this migration's session created (and
//! any tables listed), so helpers of a backfill do not outlive it.
//!
//! ```yaml
//! - type: drop_temporary_tables
//!   config:
//!     tables: [tmp_order_totals]   # also dropped (IF EXISTS), temporary or not
//! ```

use confiture_core::error::Result;

use crate::hooks::{db, Config, HookOutput, HookRun};

#[derive(Debug, Clone)]
pub struct DropTemporaryTables {
    pub tables: Vec<String>,
}

impl DropTemporaryTables {
    pub fn load(c: &Config<'_>) -> Result<DropTemporaryTables> {
        Ok(DropTemporaryTables {
            tables: c.strings("tables")?,
        })
    }

    pub fn describe(&self) -> String {
        let mut s = "drop_temporary_tables: DROP TABLE the session's temporary tables".to_string();
        if !self.tables.is_empty() {
            s.push_str(&format!(" and {}", self.tables.join(", ")));
        }
        s
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let temp = db::execute(
            run,
            "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() AND c.relkind IN ('r', 'p') ORDER BY 1",
        )
        .await?;
        let mut dropped: Vec<String> = temp
            .rows
            .iter()
            .filter_map(|r| r.get(0).map(str::to_string))
            .collect();
        dropped.extend(self.tables.iter().map(|t| super::qualified(t)));
        if !dropped.is_empty() {
            db::execute(run, &format!("DROP TABLE IF EXISTS {}", dropped.join(", "))).await?;
        }
        Ok(HookOutput {
            rows: None,
            values: serde_json::json!({ "dropped": dropped }),
            notes: Vec::new(),
        })
    }
}
