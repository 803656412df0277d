//! `rebuild_index`: `REINDEX` indexes (or every index of tables) after bulk changes.
//!
//! ```yaml
//! - type: rebuild_index
//!   config:
//!     indexes: [idx_orders_customer]
//!     tables: [orders]          # REINDEX TABLE
//! ```
//! Runs inside the migration's transaction, so `REINDEX` (not `CONCURRENTLY`): it blocks writes
//! to the table while it runs.

use confiture_core::error::Result;

use crate::hooks::Config;

#[derive(Debug, Clone)]
pub struct RebuildIndex {
    pub indexes: Vec<String>,
    pub tables: Vec<String>,
}

impl RebuildIndex {
    pub fn load(c: &Config<'_>) -> Result<RebuildIndex> {
        let indexes = c.strings("indexes")?;
        let tables = c.strings("tables")?;
        if indexes.is_empty() && tables.is_empty() {
            return Err(c.missing("'indexes' or 'tables' to rebuild"));
        }
        Ok(RebuildIndex { indexes, tables })
    }

    pub fn statements(&self) -> Vec<String> {
        self.indexes
            .iter()
            .map(|i| format!("REINDEX INDEX {}", super::qualified(i)))
            .chain(
                self.tables
                    .iter()
                    .map(|t| format!("REINDEX TABLE {}", super::qualified(t))),
            )
            .collect()
    }
}
