//! `confiture migrate status` and `migrate current`.

use confiture_core::error::Result;
use confiture_core::migrate::files::MigrationFile;
use confiture_core::migrate::status::{status, Entry, LedgerRow, State};
use serde::Serialize;

use super::{checksums, Session};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub database: String,
    pub tracking_table: String,
    pub tracking_table_exists: bool,
    pub applied: usize,
    pub pending: usize,
    pub migrations: Vec<Entry>,
}

pub async fn migration_status(session: &Session, files: &[MigrationFile]) -> Result<StatusReport> {
    let exists = session
        .table
        .exists(&session.client, &session.target)
        .await?;
    let rows = if exists {
        session.table.rows(&session.client, &session.target).await?
    } else {
        Vec::new()
    };
    let entries = status(files, &checksums(files)?, &rows);
    let count = |states: &[State]| entries.iter().filter(|e| states.contains(&e.state)).count();
    Ok(StatusReport {
        database: session.target.dbname.clone(),
        tracking_table: session.table.display(),
        tracking_table_exists: exists,
        applied: count(&[State::Applied, State::ChecksumMismatch, State::MissingFile]),
        pending: count(&[State::Pending, State::OutOfOrder]),
        migrations: entries,
    })
}

/// The most recently applied migration (`None` when none is).
pub async fn current(session: &Session) -> Result<Option<LedgerRow>> {
    session.require_table().await?;
    let rows = session.table.rows(&session.client, &session.target).await?;
    Ok(rows.into_iter().last())
}
