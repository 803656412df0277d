//! The tracking table, in exactly the layout of the Python tool's `tb_confiture`, so a database
//! migrated by either tool is read and continued by the other.

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::status::LedgerRow;
use confiture_pg::ident::{quote_ident, quote_literal};
use confiture_pg::ConnTarget;
use tokio_postgres::Client;

/// The configured tracking table (`migration.tracking_table`), optionally schema-qualified.
#[derive(Debug, Clone)]
pub struct TrackingTable {
    pub schema: Option<String>,
    pub name: String,
}

/// Rows archived into a baseline by the Python tool's `migrate squash` are history, not state.
/// Read through `to_jsonb` so a table created before that column existed filters the same.
/// The session setting holding when the running migration started (see `execute`).
pub const STARTED: &str = "confiture.migration_started";

const LIVE_ROWS: &str = "(to_jsonb(ledger) ->> 'archived_into') IS NULL";

impl TrackingTable {
    pub fn parse(configured: &str) -> TrackingTable {
        match configured.split_once('.') {
            Some((schema, name)) => TrackingTable {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            },
            None => TrackingTable {
                schema: None,
                name: configured.to_string(),
            },
        }
    }

    /// The quoted name. Unqualified names resolve through `search_path`, as in the Python tool.
    pub fn sql(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&self.name)),
            None => quote_ident(&self.name),
        }
    }

    pub fn display(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The same table, schema-qualified as the server resolves it now, so that a migration that
    /// changes `search_path` cannot redirect the tracking rows. Unchanged when it does not exist.
    pub async fn qualified(&self, client: &Client, target: &ConnTarget) -> Result<TrackingTable> {
        if self.schema.is_some() {
            return Ok(self.clone());
        }
        let row = client
            .query_opt(
                "SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
                &[&self.sql()],
            )
            .await
            .map_err(|e| sql_error(target, "look up the tracking table", &e))?;
        Ok(match row {
            Some(row) => TrackingTable {
                schema: Some(row.get(0)),
                name: self.name.clone(),
            },
            None => self.clone(),
        })
    }

    pub async fn exists(&self, client: &Client, target: &ConnTarget) -> Result<bool> {
        let row = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&self.sql()])
            .await
            .map_err(|e| sql_error(target, "look up the tracking table", &e))?;
        Ok(row.get(0))
    }

    /// Create the table and its indexes (the Python tool's DDL) if missing; add the columns a
    /// table written by an older Python release lacks.
    /// Returns whether the table was created.
    pub async fn ensure(&self, client: &Client, target: &ConnTarget) -> Result<bool> {
        let table = self.sql();
        let existed = self.exists(client, target).await?;
        let ddl = if existed {
            // Only when a column is missing: ALTER TABLE takes an exclusive lock even when
            // IF NOT EXISTS makes it a no-op.
            let present: i64 = client
                .query_one(
                    "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1)
                       AND attname IN ('applied_by', 'archived_into') AND NOT attisdropped",
                    &[&table],
                )
                .await
                .map_err(|e| sql_error(target, "read the tracking table's columns", &e))?
                .get(0);
            if present == 2 {
                return Ok(false);
            }
            format!(
                "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS applied_by TEXT;
                 ALTER TABLE {table} ADD COLUMN IF NOT EXISTS archived_into VARCHAR(255);"
            )
        } else {
            self.create_sql()
        };
        client
            .batch_execute(&ddl)
            .await
            .map_err(|e| {
                sql_error(target, &format!("create the tracking table {}", self.display()), &e)
                    .with_hint("the user needs CREATE on the table's schema (or create the table once with a privileged role)")
            })?;
        Ok(!existed)
    }

    /// The DDL that creates the table and its indexes (the Python tool's).
    pub fn create_sql(&self) -> String {
        let table = self.sql();
        let index = |suffix: &str| quote_ident(&format!("idx_{}_{suffix}", self.name));
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    pk_confiture BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    version VARCHAR(255) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    execution_time_ms INTEGER,
    checksum VARCHAR(64),
    applied_by TEXT,
    archived_into VARCHAR(255)
);
CREATE INDEX IF NOT EXISTS {} ON {table}(pk_confiture);
CREATE INDEX IF NOT EXISTS {} ON {table}(slug);
CREATE INDEX IF NOT EXISTS {} ON {table}(version);
CREATE INDEX IF NOT EXISTS {} ON {table}(applied_at DESC);",
            index("pk_confiture"),
            index("slug"),
            index("version"),
            index("applied_at"),
        )
    }

    /// Run tracking-table `statements` (from `insert_sql`, `update_checksum_sql`, …) in one
    /// transaction: all of them or none.
    pub async fn write_all(
        &self,
        client: &Client,
        target: &ConnTarget,
        statements: &[String],
        what: &str,
    ) -> Result<()> {
        if statements.is_empty() {
            return Ok(());
        }
        let sql = format!("BEGIN;\n{};\nCOMMIT;", statements.join(";\n"));
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| sql_error(target, what, &e))
    }

    /// The live rows, oldest first.
    pub async fn rows(&self, client: &Client, target: &ConnTarget) -> Result<Vec<LedgerRow>> {
        let sql = format!(
            "SELECT version, name, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    execution_time_ms, checksum, to_jsonb(ledger) ->> 'applied_by'
             FROM {} AS ledger WHERE {LIVE_ROWS}
             ORDER BY applied_at, pk_confiture",
            self.sql()
        );
        let rows = client
            .query(&sql, &[])
            .await
            .map_err(|e| sql_error(target, "read the tracking table", &e))?;
        Ok(rows
            .iter()
            .map(|r| LedgerRow {
                version: r.get(0),
                name: r.get(1),
                applied_at: r.get(2),
                execution_time_ms: r.get(3),
                checksum: r.get(4),
                applied_by: r.get(5),
            })
            .collect())
    }

    /// The INSERT recording `version` as applied, as one simple-protocol statement (so it can be
    /// pipelined in the migration's transaction). `execution_time_ms` is measured by the server,
    /// from the time `execute` stored in `confiture.migration_started` (else the transaction's
    /// start) to this statement. The slug has the Python tool's shape,
    /// `<name>_<version>_<YYYYMMDD_HHMMSS>[_<reason>]`.
    pub fn insert_sql(
        &self,
        version: &str,
        name: &str,
        checksum: &str,
        reason: Option<&str>,
    ) -> String {
        let reason = reason.map(|r| format!("_{r}")).unwrap_or_default();
        format!(
            "INSERT INTO {table} (id, slug, version, name, applied_at, execution_time_ms, checksum, applied_by)
             VALUES (gen_random_uuid(), {slug_prefix} || to_char(now(), 'YYYYMMDD_HH24MISS') || {reason}, {version}, {name}, now(),
                     (extract(epoch FROM clock_timestamp() - coalesce(nullif(current_setting('{STARTED}', true), '')::timestamptz, now())) * 1000)::int,
                     {checksum}, current_user)",
            table = self.sql(),
            slug_prefix = quote_literal(&format!("{name}_{version}_")),
            reason = quote_literal(&reason),
            version = quote_literal(version),
            name = quote_literal(name),
            checksum = quote_literal(checksum),
        )
    }

    pub fn delete_sql(&self, version: &str) -> String {
        format!(
            "DELETE FROM {} WHERE version = {}",
            self.sql(),
            quote_literal(version)
        )
    }

    pub fn update_checksum_sql(&self, version: &str, checksum: &str) -> String {
        format!(
            "UPDATE {} SET checksum = {} WHERE version = {}",
            self.sql(),
            quote_literal(checksum),
            quote_literal(version)
        )
    }
}

pub fn sql_error(target: &ConnTarget, what: &str, e: &tokio_postgres::Error) -> ConfitureError {
    if e.as_db_error().is_none() {
        return target.classify(e);
    }
    ConfitureError::new(
        codes::SQL_FAILED,
        format!("cannot {what}: {}", target.message(e)),
    )
}
