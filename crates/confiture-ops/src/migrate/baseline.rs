//! `confiture migrate baseline --through V`: record migrations up to V as applied without running
//! them, for a database whose schema already has their changes.

use std::time::Duration;

use confiture_core::error::Result;
use confiture_core::migrate::files::{compare_versions, MigrationFile};
use serde::Serialize;

use super::up::unknown_version;
use super::{checksums, Session};

#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    pub database: String,
    pub recorded: Vec<String>,
    pub already_applied: usize,
}

pub async fn baseline(
    session: &Session,
    files: &[MigrationFile],
    through: &str,
    lock_wait: Option<Duration>,
) -> Result<BaselineReport> {
    if !files
        .iter()
        .any(|f| compare_versions(&f.version, through).is_eq())
    {
        return Err(unknown_version(through, files));
    }
    session.lock(lock_wait).await?;
    session
        .table
        .ensure(&session.client, &session.target)
        .await?;
    let rows = session.table.rows(&session.client, &session.target).await?;
    let sums = checksums(files)?;
    let applied: std::collections::HashSet<&str> =
        rows.iter().map(|r| r.version.as_str()).collect();
    let selected: Vec<&MigrationFile> = files
        .iter()
        .filter(|f| compare_versions(&f.version, through).is_le())
        .collect();
    let to_record: Vec<&&MigrationFile> = selected
        .iter()
        .filter(|f| !applied.contains(f.version.as_str()))
        .collect();
    let inserts: Vec<String> = to_record
        .iter()
        .map(|f| {
            session
                .table
                .insert_sql(&f.version, &f.name, &sums[&f.version], Some("baseline"))
        })
        .collect();
    session
        .table
        .write_all(
            &session.client,
            &session.target,
            &inserts,
            "record the baseline",
        )
        .await?;
    Ok(BaselineReport {
        database: session.target.dbname.clone(),
        recorded: to_record
            .iter()
            .map(|f| format!("{}_{}", f.version, f.name))
            .collect(),
        already_applied: selected.len() - to_record.len(),
    })
}
