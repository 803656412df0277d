//! `confiture migrate down [--steps N]` and `migrate down-to V`: run `.down.sql` files, newest
//! first, each with the removal of its tracking row. Every migration to roll back must have a
//! `.down.sql`, checked before anything runs (exit 8 otherwise).

use std::time::Duration;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Location, Result};
use confiture_core::migrate::files::{compare_versions, MigrationFile};
use serde::Serialize;

use super::execute::{choose_mode, run, Hooks, Mode, Script};
use super::up::unknown_version;
use super::{hook_context, load_sidecar, migration_hooks, Planned, Session};
use crate::hooks::context::HookResult;
use confiture_core::migrate::status::LedgerRow;

#[derive(Debug, Clone)]
pub enum Selection {
    /// The newest N applied migrations.
    Steps(usize),
    /// Every applied migration newer than this version.
    To(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct RolledBack {
    pub version: String,
    pub name: String,
    pub mode: Mode,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownReport {
    pub database: String,
    pub rolled_back: Vec<RolledBack>,
    pub warnings: Vec<String>,
}

pub async fn down(
    session: &Session,
    files: &[MigrationFile],
    selection: &Selection,
    lock_wait: Option<Duration>,
    progress: fn(&str),
) -> Result<DownReport> {
    session.require_table().await?;
    session.lock(lock_wait).await?;
    let rows = session.table.rows(&session.client, &session.target).await?;
    let mut warnings = Vec::new();
    let plan = plan_down(session, files, selection, &rows, &mut warnings)?;

    let mut report = DownReport {
        database: session.target.dbname.clone(),
        rolled_back: Vec::new(),
        warnings,
    };
    let table = session
        .table
        .qualified(&session.client, &session.target)
        .await?;
    for Planned {
        file,
        script,
        mode,
        sidecar,
        hooks,
        ..
    } in &plan
    {
        let delete = table.delete_sql(&file.version);
        let outcome = run(
            &session.client,
            &session.target,
            script,
            *mode,
            &delete,
            session.timeouts(sidecar),
            Some(Hooks {
                list: hooks,
                context: hook_context(session, file, script, "down", false),
                project_root: &session.project_root,
                label: format!("{}_{}", file.version, file.name),
                progress: &progress,
            }),
        )
        .await
        .map_err(|e| {
            let done: Vec<String> = report
                .rolled_back
                .iter()
                .map(|r| format!("{}_{}", r.version, r.name))
                .collect();
            let note = if done.is_empty() {
                "no migration of this run was rolled back".to_string()
            } else {
                format!("rolled back and committed before it: {}", done.join(", "))
            };
            let hint = match &e.hint {
                Some(h) => format!("{h}\n{note}"),
                None => note,
            };
            e.with_hint(hint)
        })?;
        report.rolled_back.push(RolledBack {
            version: file.version.clone(),
            name: file.name.clone(),
            mode: outcome.mode,
            duration_ms: outcome.duration_ms,
            hooks: outcome.hooks,
        });
    }
    Ok(report)
}

/// The applied migrations `selection` rolls back, newest first, each checked (a `.down.sql`,
/// its sidecar and hooks) before anything runs.
pub(super) fn plan_down<'f>(
    session: &Session,
    files: &'f [MigrationFile],
    selection: &Selection,
    rows: &[LedgerRow],
    warnings: &mut Vec<String>,
) -> Result<Vec<Planned<'f>>> {
    let mut applied: Vec<&str> = rows.iter().map(|r| r.version.as_str()).collect();
    applied.sort_by(|a, b| compare_versions(b, a));
    let selected: Vec<&str> = match selection {
        Selection::Steps(n) => applied.iter().take(*n).copied().collect(),
        Selection::To(version) => {
            let known = applied.iter().any(|v| compare_versions(v, version).is_eq())
                || files
                    .iter()
                    .any(|f| compare_versions(&f.version, version).is_eq());
            if !known {
                return Err(unknown_version(version, files));
            }
            if !applied.iter().any(|v| compare_versions(v, version).is_eq()) {
                return Err(ConfitureError::new(
                    codes::MIGRATE_UNKNOWN_VERSION,
                    format!("migration {version} is not applied: there is nothing to roll back to"),
                )
                .with_hint("`confiture migrate status` shows what is applied; down-to V keeps V and rolls back what is newer"));
            }
            applied
                .iter()
                .filter(|v| compare_versions(v, version).is_gt())
                .copied()
                .collect()
        }
    };

    // Every migration must be reversible before one is touched.
    let mut plan = Vec::new();
    for version in &selected {
        let Some(file) = files
            .iter()
            .find(|f| compare_versions(&f.version, version).is_eq())
        else {
            return Err(ConfitureError::new(
                codes::MIGRATE_NO_DOWN,
                format!("migration {version} is applied but its files are gone: it cannot be rolled back"),
            )
            .with_hint("restore its .up.sql and .down.sql; nothing was rolled back"));
        };
        let Some(down_path) = &file.down else {
            return Err(ConfitureError::new(
                codes::MIGRATE_NO_DOWN,
                format!(
                    "migration {}_{} has no .down.sql: it cannot be rolled back",
                    file.version, file.name
                ),
            )
            .at(Location::file(&file.up))
            .with_hint(format!(
                "write {}_{}.down.sql; nothing was rolled back",
                file.version, file.name
            )));
        };
        let sidecar = load_sidecar(file)?;
        let script = Script::load(down_path, &session.project_root)?;
        let (mode, warning) = choose_mode(&script, sidecar.transactional)?;
        warnings.extend(warning);
        let hooks = migration_hooks(session, file, &sidecar, &script, "down")?;
        plan.push(Planned {
            file,
            script,
            mode,
            sidecar,
            hooks,
            checksum: None,
        });
    }
    Ok(plan)
}
