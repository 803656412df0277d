//! Where each migration stands: its file against its row in the tracking table.

use std::collections::HashMap;

use serde::Serialize;

use crate::migrate::files::{compare_versions, MigrationFile};

/// A row of the tracking table (the columns Confiture reads).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerRow {
    pub version: String,
    pub name: String,
    /// ISO 8601.
    pub applied_at: String,
    pub execution_time_ms: Option<i32>,
    pub checksum: Option<String>,
    pub applied_by: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Applied,
    Pending,
    /// Applied, but its file is gone.
    MissingFile,
    /// Applied, but its `.up.sql` changed since.
    ChecksumMismatch,
    /// Pending, older than the newest applied migration.
    OutOfOrder,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub version: String,
    pub name: String,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// Every migration, file or row, in version order. `checksums` maps a version to the SHA-256 of
/// its `.up.sql` as it is now.
pub fn status(
    files: &[MigrationFile],
    checksums: &HashMap<String, String>,
    rows: &[LedgerRow],
) -> Vec<Entry> {
    let by_version: HashMap<&str, &LedgerRow> =
        rows.iter().map(|r| (r.version.as_str(), r)).collect();
    let newest_applied = rows
        .iter()
        .map(|r| r.version.as_str())
        .max_by(|a, b| compare_versions(a, b));
    let mut entries: Vec<Entry> = files
        .iter()
        .map(|f| {
            let row = by_version.get(f.version.as_str());
            let state = match row {
                Some(row) => match (&row.checksum, checksums.get(&f.version)) {
                    (Some(recorded), Some(now)) if !recorded.eq_ignore_ascii_case(now) => {
                        State::ChecksumMismatch
                    }
                    _ => State::Applied,
                },
                None => match newest_applied {
                    Some(newest) if compare_versions(&f.version, newest).is_lt() => {
                        State::OutOfOrder
                    }
                    _ => State::Pending,
                },
            };
            Entry {
                version: f.version.clone(),
                name: f.name.clone(),
                state,
                applied_at: row.map(|r| r.applied_at.clone()),
                file: f.up.file_name().map(|n| n.to_string_lossy().into_owned()),
            }
        })
        .collect();
    let known: std::collections::HashSet<&str> = files.iter().map(|f| f.version.as_str()).collect();
    for row in rows.iter().filter(|r| !known.contains(r.version.as_str())) {
        entries.push(Entry {
            version: row.version.clone(),
            name: row.name.clone(),
            state: State::MissingFile,
            applied_at: Some(row.applied_at.clone()),
            file: None,
        });
    }
    entries.sort_by(|a, b| compare_versions(&a.version, &b.version));
    entries
}
