//! `confiture introspect`: a database read into the schema model.

use confiture_core::config::{Project, TargetArgs};
use confiture_core::error::Result;
use confiture_core::schema::Schema;
use confiture_pg::ConnTarget;
use tokio_postgres::Client;

use super::Loaded;
use crate::target::connect_target;

/// Read the target of `args`, without Confiture's own tracking table.
pub async fn read(project: &Project, args: &TargetArgs) -> Result<Loaded> {
    let conn = connect_target(project, args, true).await?;
    let client = conn.conn.connect().await?;
    let tracking = conn
        .environment
        .as_ref()
        .map(|e| e.migration.tracking_table.clone())
        .unwrap_or_else(|| "tb_confiture".into());
    let mut schema = read_client(&client, &conn.conn).await?;
    without_tracking_table(&mut schema, &tracking);
    Ok(Loaded {
        schema,
        source: conn.conn.display(),
        notices: conn.notices,
    })
}

/// Introspect, then fingerprint function bodies (so layout never counts as a difference).
pub async fn read_client(client: &Client, target: &ConnTarget) -> Result<Schema> {
    let mut schema = confiture_pg::introspect::introspect(client, target).await?;
    fingerprint(&mut schema);
    Ok(schema)
}

pub fn fingerprint(schema: &mut Schema) {
    for f in schema.functions.values_mut() {
        if let Some(fp) = confiture_sql::normalize::function_fingerprint(&f.definition, &f.language)
        {
            f.body_fingerprint = fp;
        }
    }
}

/// Confiture's tracking table (`tb_confiture` or `schema.table`) is bookkeeping, not schema.
pub fn without_tracking_table(schema: &mut Schema, tracking: &str) {
    let (want_schema, name) = match tracking.split_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, tracking),
    };
    let keys: Vec<String> = schema
        .tables
        .iter()
        .filter(|(_, t)| t.name == name && want_schema.is_none_or(|s| s == t.schema))
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        schema.tables.remove(&k);
        schema.sequences.retain(|_, s| {
            s.owned_by
                .as_ref()
                .is_none_or(|o| !o.starts_with(&format!("{k}.")))
        });
    }
}
