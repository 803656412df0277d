//! `confiture migrate verify-checksums [--fix]`: compare each applied migration's recorded
//! checksum with its `.up.sql` now; `--fix` records the current checksums.

use std::time::Duration;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::files::MigrationFile;
use confiture_core::migrate::status::{status, State};
use serde::Serialize;

use super::{checksums, Session};

#[derive(Debug, Clone, Serialize)]
pub struct ChecksumReport {
    pub database: String,
    pub checked: usize,
    pub mismatched: Vec<String>,
    pub fixed: bool,
}

pub async fn verify_checksums(
    session: &Session,
    files: &[MigrationFile],
    fix: bool,
    lock_wait: Option<Duration>,
) -> Result<ChecksumReport> {
    session.require_table().await?;
    if fix {
        session.lock(lock_wait).await?;
    }
    let rows = session.table.rows(&session.client, &session.target).await?;
    let sums = checksums(files)?;
    let entries = status(files, &sums, &rows);
    let mismatched: Vec<&str> = entries
        .iter()
        .filter(|e| e.state == State::ChecksumMismatch)
        .map(|e| e.version.as_str())
        .collect();
    let names: Vec<String> = entries
        .iter()
        .filter(|e| e.state == State::ChecksumMismatch)
        .map(|e| format!("{}_{}", e.version, e.name))
        .collect();
    let checked = entries
        .iter()
        .filter(|e| matches!(e.state, State::Applied | State::ChecksumMismatch))
        .count();
    if !mismatched.is_empty() && !fix {
        return Err(ConfitureError::new(
            codes::MIGRATE_CHECKSUM_MISMATCH,
            format!(
                "applied migrations changed since they were applied: {}",
                names.join(", ")
            ),
        )
        .with_details(serde_json::json!({ "migrations": names }))
        .with_hint("restore the files as applied, or record their current contents with --fix"));
    }
    if fix {
        let updates: Vec<String> = mismatched
            .iter()
            .map(|version| session.table.update_checksum_sql(version, &sums[*version]))
            .collect();
        session
            .table
            .write_all(
                &session.client,
                &session.target,
                &updates,
                "update the checksums",
            )
            .await?;
    }
    Ok(ChecksumReport {
        database: session.target.dbname.clone(),
        checked,
        mismatched: names,
        fixed: fix && !mismatched.is_empty(),
    })
}
