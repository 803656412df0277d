//! `confiture migrate up [--target V | --steps N]`.

use std::time::Duration;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Location, Result};
use confiture_core::migrate::files::{compare_versions, MigrationFile};
use confiture_core::migrate::status::{status, State};
use serde::Serialize;

use super::execute::{choose_mode, run, Hooks, Mode, Script};
use super::{checksums, hook_context, load_sidecar, migration_hooks, Planned, Session};
use crate::hooks::context::HookResult;
use confiture_core::migrate::status::LedgerRow;

/// What to do when an applied migration's file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumPolicy {
    Fail,
    Warn,
    Ignore,
}

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub target: Option<String>,
    pub steps: Option<usize>,
    pub on_checksum_mismatch: ChecksumPolicy,
    pub allow_out_of_order: bool,
    /// How long to wait for the migration lock (default: `migration.locking.timeout_ms`).
    pub lock_wait: Option<Duration>,
    /// Where hooks' progress lines go (backfill batches).
    pub progress: fn(&str),
}

#[derive(Debug, Clone, Serialize)]
pub struct AppliedMigration {
    pub version: String,
    pub name: String,
    pub mode: Mode,
    pub attempts: u32,
    pub duration_ms: f64,
    pub dropped_invalid_indexes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub database: String,
    pub tracking_table: String,
    pub created_tracking_table: bool,
    pub applied: Vec<AppliedMigration>,
    /// Pending migrations left for a later run (`--target`, `--steps`).
    pub remaining: usize,
    pub warnings: Vec<String>,
}

pub async fn up(
    session: &Session,
    files: &[MigrationFile],
    options: &UpOptions,
) -> Result<UpReport> {
    let mut warnings = Vec::new();
    session.lock(options.lock_wait).await?;
    let created = session
        .table
        .ensure(&session.client, &session.target)
        .await?;
    let table = session
        .table
        .qualified(&session.client, &session.target)
        .await?;
    let rows = session.table.rows(&session.client, &session.target).await?;
    let (ready, remaining) = plan_up(session, files, options, &rows, &mut warnings)?;

    let mut report = UpReport {
        database: session.target.dbname.clone(),
        tracking_table: session.table.display(),
        created_tracking_table: created,
        applied: Vec::new(),
        remaining,
        warnings,
    };
    for r in &ready {
        let checksum = r.checksum.as_deref().unwrap_or_default();
        let insert = table.insert_sql(&r.file.version, &r.file.name, checksum, None);
        let outcome = run(
            &session.client,
            &session.target,
            &r.script,
            r.mode,
            &insert,
            session.timeouts(&r.sidecar),
            Some(Hooks {
                list: &r.hooks,
                context: hook_context(session, r.file, &r.script, "up", false),
                project_root: &session.project_root,
                label: format!("{}_{}", r.file.version, r.file.name),
                progress: &options.progress,
            }),
        )
        .await
        .map_err(|e| after(e, &report.applied))?;
        report.applied.push(AppliedMigration {
            version: r.file.version.clone(),
            name: r.file.name.clone(),
            mode: outcome.mode,
            attempts: outcome.attempts,
            duration_ms: outcome.duration_ms,
            dropped_invalid_indexes: outcome.dropped_invalid_indexes,
            hooks: outcome.hooks,
        });
    }
    Ok(report)
}

/// The pending migrations `options` selects, in order, each checked (its file, sidecar and
/// hooks) before any runs; and how many pending ones are left for later.
pub(super) fn plan_up<'f>(
    session: &Session,
    files: &'f [MigrationFile],
    options: &UpOptions,
    rows: &[LedgerRow],
    warnings: &mut Vec<String>,
) -> Result<(Vec<Planned<'f>>, usize)> {
    let sums = checksums(files)?;
    let entries = status(files, &sums, rows);

    let mismatched: Vec<String> = entries
        .iter()
        .filter(|e| e.state == State::ChecksumMismatch)
        .map(|e| format!("{}_{}", e.version, e.name))
        .collect();
    if !mismatched.is_empty() {
        match options.on_checksum_mismatch {
            ChecksumPolicy::Fail => {
                return Err(ConfitureError::new(
                    codes::MIGRATE_CHECKSUM_MISMATCH,
                    format!("applied migrations changed since they were applied: {}", mismatched.join(", ")),
                )
                .with_details(serde_json::json!({ "migrations": mismatched }))
                .with_hint("restore the files as applied (git), or accept the new contents with `confiture migrate verify-checksums --fix`; --on-checksum-mismatch warn|ignore to go on"));
            }
            ChecksumPolicy::Warn => warnings.push(format!(
                "applied migrations changed since they were applied: {}",
                mismatched.join(", ")
            )),
            ChecksumPolicy::Ignore => {}
        }
    }
    for e in entries.iter().filter(|e| e.state == State::MissingFile) {
        warnings.push(format!(
            "migration {}_{} is applied but its file is gone",
            e.version, e.name
        ));
    }
    let out_of_order: Vec<String> = entries
        .iter()
        .filter(|e| e.state == State::OutOfOrder)
        .map(|e| format!("{}_{}", e.version, e.name))
        .collect();
    if !out_of_order.is_empty() && !options.allow_out_of_order {
        return Err(ConfitureError::new(
            codes::MIGRATE_OUT_OF_ORDER,
            format!(
                "pending migrations are older than the newest applied one: {}",
                out_of_order.join(", ")
            ),
        )
        .with_details(serde_json::json!({ "migrations": out_of_order }))
        .with_hint("they were probably merged from another branch: check they do not depend on newer ones, then run with --allow-out-of-order"));
    }

    let applied: std::collections::HashSet<&str> =
        rows.iter().map(|r| r.version.as_str()).collect();
    let mut pending: Vec<&MigrationFile> = files
        .iter()
        .filter(|f| !applied.contains(f.version.as_str()))
        .collect();
    if let Some(target) = &options.target {
        if !files
            .iter()
            .any(|f| compare_versions(&f.version, target).is_eq())
        {
            return Err(unknown_version(target, files));
        }
        pending.retain(|f| compare_versions(&f.version, target).is_le());
    }
    let total_pending = pending.len();
    if let Some(steps) = options.steps {
        pending.truncate(steps);
    }

    // Check every selected migration before running any.
    let mut ready = Vec::new();
    for file in pending {
        let sidecar = load_sidecar(file)?;
        if sidecar.has_preconditions {
            warnings.push(format!(
                "{}: up_preconditions/down_preconditions are not checked by this release of Confiture",
                super::shown(&session.project_root, file.sidecar.as_deref().unwrap_or(&file.up))
            ));
        }
        let script = Script::load(&file.up, &session.project_root)?;
        let (mode, warning) = choose_mode(&script, sidecar.transactional)?;
        warnings.extend(warning);
        let hooks = migration_hooks(session, file, &sidecar, &script, "up")?;
        if mode == Mode::Autocommit && !hooks.is_empty() {
            warnings.push(format!(
                "{}_{}: runs in autocommit, so each of its hooks runs in a transaction of its own",
                file.version, file.name
            ));
        }
        ready.push(Planned {
            file,
            script,
            mode,
            checksum: Some(sums[&file.version].clone()),
            sidecar,
            hooks,
        });
    }
    let remaining = total_pending - ready.len();
    Ok((ready, remaining))
}

/// Say in the error which migrations of this run were applied before the failure.
fn after(err: ConfitureError, applied: &[AppliedMigration]) -> ConfitureError {
    let done = if applied.is_empty() {
        "no migration of this run was applied".to_string()
    } else {
        let names: Vec<String> = applied
            .iter()
            .map(|a| format!("{}_{}", a.version, a.name))
            .collect();
        format!("applied and committed before it: {}", names.join(", "))
    };
    let hint = match &err.hint {
        Some(h) => format!("{h}\n{done}"),
        None => done,
    };
    err.with_hint(hint)
}

pub fn unknown_version(version: &str, files: &[MigrationFile]) -> ConfitureError {
    let known: Vec<&str> = files.iter().map(|f| f.version.as_str()).collect();
    let listed = match known.len() {
        0 => "(none)".to_string(),
        n if n <= 10 => known.join(", "),
        n => format!(
            "{}, … ({} more) …, {}",
            known[..3].join(", "),
            n - 6,
            known[n - 3..].join(", ")
        ),
    };
    let err = ConfitureError::new(
        codes::MIGRATE_UNKNOWN_VERSION,
        format!("no migration has version {version}"),
    )
    .with_hint(format!(
        "versions: {listed} (`confiture migrate status` lists them all)"
    ));
    match files.first() {
        Some(f) => err.at(Location::file(f.up.parent().unwrap_or(&f.up))),
        None => err,
    }
}
