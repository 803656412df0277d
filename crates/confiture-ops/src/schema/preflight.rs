//! `confiture migrate preflight [--against DSN]`: will the pending migrations work, and do they
//! produce the schema the repository describes?
//!
//! 1. Static checks of every migration file: a missing `.down.sql`, statements PostgreSQL
//!    refuses in a transaction, transaction control, psql meta-commands, bad sidecars and hooks;
//!    with `--against`, applied files whose checksum changed.
//! 2. Replay: with `--against`, the migrations not applied there run in one transaction that is
//!    rolled back; without it, every migration runs from an empty scratch database on the
//!    embedded cluster (the report says which).
//! 3. The resulting schema is read from the catalog (inside that transaction) and diffed
//!    against `db/schema/` built into another scratch database. Each change has a risk tier.

use confiture_core::config::{Environment, Project, TargetArgs};
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::files::MigrationFile;
use confiture_core::migrate::status::{status, State};
use confiture_core::schema::diff::{diff_with, Change, DiffOptions};
use confiture_core::schema::Schema;
use confiture_pg::ConnTarget;
use confiture_sql::autocommit::TxNeed;
use serde::Serialize;
use tokio_postgres::Client;

use super::diff::{report_files, DiffReport};
use super::{introspect, scratch, Loaded};
use crate::migrate::execute::{choose_mode, Script};
use crate::migrate::ledger::TrackingTable;
use crate::migrate::{checksums, load_sidecar, migration_files};
use crate::statement_error::{statement_error, Failed};
use crate::target::connect_target;

#[derive(Debug, Serialize)]
pub struct Finding {
    /// `error` (the migration cannot run as written) or `warning`.
    pub severity: &'static str,
    pub migration: String,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Replay {
    /// Where the migrations were replayed, in words.
    pub on: String,
    pub migrations: Vec<String>,
    /// Statements not run: PostgreSQL refuses them in a transaction.
    pub not_executed: Vec<String>,
    /// The error the replay stopped at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<serde_json::Value>,
    /// What the replayed migrations change, with risk tiers.
    pub changes: Vec<Change>,
}

#[derive(Debug, Serialize)]
pub struct PreflightReport {
    pub findings: Vec<Finding>,
    pub replay: Replay,
    /// The replayed schema (`from`) against the schema files (`to`): empty when they agree.
    pub against_schema_files: Option<DiffReport>,
    /// Everything agrees and nothing is an error.
    pub passed: bool,
}

pub async fn preflight(
    project: &Project,
    env: &Environment,
    against: Option<&str>,
) -> Result<PreflightReport> {
    let files = migration_files(&project.root)?;
    let mut findings = static_checks(project, &files);
    let (before, replayed, replay) = match against {
        Some(dsn) => replay_against(project, env, dsn, &files, &mut findings).await?,
        None => replay_from_empty(project, &files).await?,
    };
    let (schema, notices) = scratch::build_and_read(project, env).await?;
    let against_files = match &replay.failure {
        Some(_) => None,
        None => Some(report_files(
            Loaded {
                schema: replayed.clone(),
                source: replay.on.clone(),
                notices: Vec::new(),
            },
            Loaded {
                schema,
                source: format!("schema files of {}", env.name),
                notices,
            },
        )),
    };
    let mut replay = replay;
    if replay.failure.is_none() {
        replay.changes = diff_with(&before, &replayed, DiffOptions { owners: false }).changes;
    }
    let passed = replay.failure.is_none()
        && !findings.iter().any(|f| f.severity == "error")
        && against_files.as_ref().is_some_and(|d| d.identical);
    Ok(PreflightReport {
        findings,
        replay,
        against_schema_files: against_files,
        passed,
    })
}

fn static_checks(project: &Project, files: &[MigrationFile]) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in files {
        let label = format!("{}_{}", f.version, f.name);
        if f.down.is_none() {
            out.push(Finding {
                severity: "warning",
                migration: label.clone(),
                code: confiture_core::codes::MIGRATE_NO_DOWN.id,
                message: "no .down.sql: it cannot be rolled back".into(),
            });
        }
        let checked = load_sidecar(f).and_then(|sidecar| {
            let script = Script::load(&f.up, &project.root)?;
            choose_mode(&script, sidecar.transactional)?;
            Ok(())
        });
        if let Err(e) = checked {
            out.push(Finding {
                severity: "error",
                migration: label,
                code: e.code.id,
                message: located(&e),
            });
        }
    }
    out
}

fn located(e: &ConfitureError) -> String {
    match &e.location {
        Some(l) => format!(
            "{}{}: {}",
            l.file.display(),
            l.line.map(|n| format!(":{n}")).unwrap_or_default(),
            e.message
        ),
        None => e.message.clone(),
    }
}

/// Every migration, in order, on an empty scratch database.
async fn replay_from_empty(
    project: &Project,
    files: &[MigrationFile],
) -> Result<(Schema, Schema, Replay)> {
    let (target, _notices) = scratch::scratch_database(project).await?;
    let admin = target.with_dbname("postgres").connect().await?;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {}",
            confiture_core::ident::quote_ident(&target.dbname)
        ))
        .await
        .map_err(|e| target.classify(&e))?;
    let result = async {
        let client = target.connect().await?;
        let before = introspect::read_client(&client, &target).await?;
        let selected: Vec<&MigrationFile> = files.iter().collect();
        let mut replay = Replay {
            on: "an empty scratch database on the embedded cluster, every migration replayed from the first".into(),
            migrations: Vec::new(),
            not_executed: Vec::new(),
            failure: None,
            changes: Vec::new(),
        };
        let after = replay_in_transaction(project, &client, &target, &selected, &mut replay).await?;
        Ok((before, after, replay))
    }
    .await;
    scratch::drop_scratch(&target).await;
    result
}

/// The migrations not applied on `dsn`, in a transaction rolled back afterwards.
async fn replay_against(
    project: &Project,
    env: &Environment,
    dsn: &str,
    files: &[MigrationFile],
    findings: &mut Vec<Finding>,
) -> Result<(Schema, Schema, Replay)> {
    let args = TargetArgs {
        database_url: Some(dsn.to_string()),
        env: None,
        config: None,
    };
    let conn = connect_target(project, &args, false).await?;
    let client = conn.conn.connect().await?;
    let table = TrackingTable::parse(&env.migration.tracking_table);
    let rows = if table.exists(&client, &conn.conn).await? {
        table.rows(&client, &conn.conn).await?
    } else {
        Vec::new()
    };
    let sums = checksums(files)?;
    for e in status(files, &sums, &rows) {
        let label = format!("{}_{}", e.version, e.name);
        match e.state {
            State::ChecksumMismatch => findings.push(Finding {
                severity: "error",
                migration: label,
                code: confiture_core::codes::MIGRATE_CHECKSUM_MISMATCH.id,
                message: "applied, but its .up.sql changed since".into(),
            }),
            State::OutOfOrder => findings.push(Finding {
                severity: "warning",
                migration: label,
                code: confiture_core::codes::MIGRATE_OUT_OF_ORDER.id,
                message: "pending, but older than the newest applied migration".into(),
            }),
            State::MissingFile => findings.push(Finding {
                severity: "warning",
                migration: label,
                code: confiture_core::codes::MIGRATE_MISSING_FILE.id,
                message: "applied, but its file is gone".into(),
            }),
            _ => {}
        }
    }
    let applied: std::collections::HashSet<&str> =
        rows.iter().map(|r| r.version.as_str()).collect();
    let pending: Vec<&MigrationFile> = files
        .iter()
        .filter(|f| !applied.contains(f.version.as_str()))
        .collect();
    let mut tracking = env.migration.tracking_table.clone();
    if tracking.is_empty() {
        tracking = "tb_confiture".into();
    }
    let mut before = introspect::read_client(&client, &conn.conn).await?;
    introspect::without_tracking_table(&mut before, &tracking);
    let mut replay = Replay {
        on: format!(
            "{} (the {} pending migration(s) in a transaction, rolled back)",
            conn.conn.display(),
            pending.len()
        ),
        migrations: Vec::new(),
        not_executed: Vec::new(),
        failure: None,
        changes: Vec::new(),
    };
    let mut after =
        replay_in_transaction(project, &client, &conn.conn, &pending, &mut replay).await?;
    introspect::without_tracking_table(&mut after, &tracking);
    Ok((before, after, replay))
}

/// Run `selected` in one transaction, read the schema inside it, roll back.
async fn replay_in_transaction(
    project: &Project,
    client: &Client,
    target: &ConnTarget,
    selected: &[&MigrationFile],
    replay: &mut Replay,
) -> Result<Schema> {
    client
        .batch_execute("BEGIN; SET LOCAL lock_timeout = '5s'")
        .await
        .map_err(|e| target.classify(&e))?;
    let outcome = async {
        for f in selected {
            let label = format!("{}_{}", f.version, f.name);
            let script = match Script::load(&f.up, &project.root) {
                Ok(s) => s,
                Err(e) => {
                    replay.failure = Some(failure(&label, &e));
                    return Ok(());
                }
            };
            for (i, need) in script.needs.iter().enumerate() {
                let sql = script.file.statement_text(i);
                if *need == TxNeed::TransactionControl {
                    // Never run: a COMMIT would keep the replay (the static checks report it).
                    replay.not_executed.push(format!(
                        "{label} statement {} (line {}): transaction control, never run by a replay: {}",
                        i + 1,
                        script.file.statements[i].line,
                        crate::hooks::db::first_line(sql)
                    ));
                    continue;
                }
                if matches!(need, TxNeed::Autocommit { .. }) {
                    replay.not_executed.push(format!(
                        "{label} statement {} (line {}): {}",
                        i + 1,
                        script.file.statements[i].line,
                        crate::hooks::db::first_line(sql)
                    ));
                    continue;
                }
                if let Err(e) = client.batch_execute(sql).await {
                    let failed = Failed {
                        file: &script.file,
                        index: i,
                        sql,
                        generated: false,
                    };
                    let err = statement_error(
                        &failed,
                        &e,
                        target,
                        confiture_core::codes::MIGRATE_STATEMENT_FAILED,
                        "",
                    );
                    replay.failure = Some(failure(&label, &err));
                    return Ok(());
                }
            }
            let _ = client.batch_execute("RESET search_path").await;
            replay.migrations.push(label);
        }
        Ok::<(), ConfitureError>(())
    }
    .await;
    let schema = match (&outcome, &replay.failure) {
        (Ok(()), None) => introspect::read_client(client, target).await,
        _ => Ok(Schema::default()),
    };
    let _ = client.batch_execute("ROLLBACK").await;
    outcome?;
    schema
}

fn failure(label: &str, e: &ConfitureError) -> serde_json::Value {
    let mut env = e.to_envelope();
    env["migration"] = serde_json::json!(label);
    env
}
