//! `analyze`: refresh planner statistics after the data changed.
//!
//! ```yaml
//! - type: analyze
//!   config:
//!     tables: [orders, app.customers]   # default: every table the migration names
//! ```

use confiture_core::error::Result;
use confiture_sql::relations::relations_named;

use crate::hooks::{Config, LoadContext};

#[derive(Debug, Clone)]
pub struct Analyze {
    pub tables: Vec<String>,
}

impl Analyze {
    pub fn load(c: &Config<'_>, cx: &LoadContext<'_>) -> Result<Analyze> {
        let mut tables: Vec<String> = c
            .strings("tables")?
            .iter()
            .map(|t| super::qualified(t))
            .collect();
        if tables.is_empty() {
            for sql in cx.migration_sql {
                for n in relations_named(sql) {
                    let name = match &n.schema {
                        Some(s) => format!("{}.{}", super::qualified(s), super::qualified(&n.name)),
                        None => super::qualified(&n.name),
                    };
                    if !tables.contains(&name) {
                        tables.push(name);
                    }
                }
            }
        }
        Ok(Analyze { tables })
    }

    /// `ANALYZE t1, t2`; with nothing to name (a migration that names no table), nothing.
    /// Tables that no longer exist (dropped by the migration) are skipped at run time.
    pub fn statements(&self) -> Vec<String> {
        if self.tables.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "DO $confiture$ DECLARE t text; BEGIN FOREACH t IN ARRAY ARRAY[{}] LOOP IF to_regclass(t) IS NOT NULL THEN EXECUTE 'ANALYZE ' || t; END IF; END LOOP; END $confiture$",
            self.tables
                .iter()
                .map(|t| confiture_pg::ident::quote_literal(t))
                .collect::<Vec<_>>()
                .join(", ")
        )]
    }
}
