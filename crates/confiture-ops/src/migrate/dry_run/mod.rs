//! `migrate up|down|down-to --dry-run`: run the selected migrations and their hooks in one
//! transaction, measure what each statement and hook does (see [`probe`]), and roll back.
//! No change is kept: not the schema, not the data, not the tracking table (never written).
//! Like any rolled-back transaction it leaves dead row versions (until VACUUM) and has written
//! WAL (which replicas receive), and sequences stay advanced.
//! Statements PostgreSQL refuses in a transaction (`CREATE INDEX CONCURRENTLY`, …) are not
//! run, and are listed.

pub mod estimate;
pub mod probe;
pub mod samples;

use std::time::{Duration, Instant};

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::files::MigrationFile;
use confiture_core::migrate::hook_decl::Phase;
use confiture_sql::autocommit::TxNeed;
use serde::Serialize;

use super::down::{plan_down, Selection};
use super::execute::{is_lock_timeout, lock_timeout_error, outside_statement, Mode};
use super::up::{plan_up, UpOptions};
use super::{hook_context, Planned, Session};
use crate::hooks::context::HookResult;
use crate::hooks::runner::Runner;
use crate::statement_error::{statement_error, Failed};
use estimate::Estimate;
use probe::{Catalog, Effects, Snapshot, Tracker};
use samples::Sample;

pub enum Direction {
    Up(UpOptions),
    Down(Selection),
}

pub struct DryRunOptions {
    pub direction: Direction,
    /// `--show-sample-rows N`: before/after rows of updated tables.
    pub sample_rows: usize,
    pub lock_wait: Option<Duration>,
    pub progress: fn(&str),
}

#[derive(Debug, Serialize)]
pub struct StatementRun {
    pub index: usize,
    pub line: usize,
    pub sql: String,
    pub duration_ms: f64,
    #[serde(flatten)]
    pub effects: Effects,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
}

#[derive(Debug, Serialize)]
pub struct HookMetrics {
    #[serde(flatten)]
    pub result: HookResult,
    #[serde(flatten)]
    pub effects: Effects,
}

#[derive(Debug, Serialize)]
pub struct NotExecuted {
    pub index: usize,
    pub line: usize,
    pub sql: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct MigrationRun {
    pub version: String,
    pub name: String,
    pub mode: Mode,
    pub duration_ms: f64,
    pub statements: Vec<StatementRun>,
    pub hooks: Vec<HookMetrics>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_executed: Vec<NotExecuted>,
    /// Every lock on an existing relation the migration holds at its end: in a real run they
    /// are all held until COMMIT, whichever statement took them.
    pub locks_held: Vec<probe::Lock>,
    /// Relations this migration names that earlier migrations of the same dry-run had already
    /// locked: its own locks on them cannot be seen (a transaction holds its locks to the end).
    /// Dry-run it alone (`--target`) to see them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_locks_on: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Violation {
    pub migration: String,
    pub constraint: Option<String>,
    pub table: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct DryRunReport {
    pub database: String,
    pub direction: &'static str,
    /// Always true: the transaction was rolled back and the tracking table never written.
    pub rolled_back: bool,
    pub migrations: Vec<MigrationRun>,
    pub rows_inserted: u64,
    pub rows_updated: u64,
    pub rows_deleted: u64,
    pub wal_bytes: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraint_violations: Vec<Violation>,
    pub estimate: Estimate,
    /// The error the real run would stop at, if the dry-run met one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<serde_json::Value>,
    #[serde(skip)]
    pub failure_error: Option<ConfitureError>,
    pub remaining: usize,
    pub warnings: Vec<String>,
}

pub async fn dry_run(
    session: &Session,
    files: &[MigrationFile],
    options: &DryRunOptions,
) -> Result<DryRunReport> {
    session.lock(options.lock_wait).await?;
    let exists = session
        .table
        .exists(&session.client, &session.target)
        .await?;
    let rows = if exists {
        session.table.rows(&session.client, &session.target).await?
    } else {
        Vec::new()
    };
    let mut warnings = Vec::new();
    let (plan, remaining, direction) = match &options.direction {
        Direction::Up(up) => {
            let (plan, remaining) = plan_up(session, files, up, &rows, &mut warnings)?;
            (plan, remaining, "up")
        }
        Direction::Down(selection) => {
            if !exists {
                session.require_table().await?;
            }
            let plan = plan_down(session, files, selection, &rows, &mut warnings)?;
            (plan, 0, "down")
        }
    };
    let mut report = DryRunReport {
        database: session.target.dbname.clone(),
        direction,
        rolled_back: true,
        migrations: Vec::new(),
        rows_inserted: 0,
        rows_updated: 0,
        rows_deleted: 0,
        wal_bytes: 0,
        constraint_violations: Vec::new(),
        estimate: Estimate::default(),
        failure: None,
        failure_error: None,
        remaining,
        warnings,
    };
    let client = &session.client;
    client
        .batch_execute("BEGIN")
        .await
        .map_err(|e| super::ledger::sql_error(&session.target, "begin the dry-run", &e))?;
    let result = run_all(session, &plan, direction, options, &mut report).await;
    let _ = client
        .batch_execute("ROLLBACK; RESET ALL; SET client_connection_check_interval = '1s'")
        .await;
    result?;
    for m in &report.migrations {
        let all = m
            .statements
            .iter()
            .map(|s| &s.effects)
            .chain(m.hooks.iter().map(|h| &h.effects));
        for e in all {
            report.rows_inserted += e.rows_inserted;
            report.rows_updated += e.rows_updated;
            report.rows_deleted += e.rows_deleted;
            report.wal_bytes += e.wal_bytes.unwrap_or(0);
        }
    }
    report.estimate = estimate::estimate(&report);
    Ok(report)
}

async fn run_all(
    session: &Session,
    plan: &[Planned<'_>],
    direction: &str,
    options: &DryRunOptions,
    report: &mut DryRunReport,
) -> Result<()> {
    let client = &session.client;
    let target = &session.target;
    let mut tracker = Tracker::start(client, target).await?;
    let mut sampler = samples::Sampler::new(session, options.sample_rows);
    for p in plan {
        let started = Instant::now();
        let label = format!("{}_{}", p.file.version, p.file.name);
        let timeouts = session.timeouts(&p.sidecar);
        let mut settings = format!("SET LOCAL lock_timeout = '{}ms'", timeouts.lock_timeout_ms);
        settings.push_str(&match timeouts.statement_timeout_ms {
            Some(ms) => format!("; SET LOCAL statement_timeout = '{ms}ms'"),
            None => "; SET LOCAL statement_timeout = DEFAULT".into(),
        });
        client
            .batch_execute(&settings)
            .await
            .map_err(|e| super::ledger::sql_error(target, "set the migration's timeouts", &e))?;
        let mut runner = Runner::new(
            client,
            target,
            &session.project_root,
            label.clone(),
            timeouts.statement_timeout_ms,
            false,
            hook_context(session, p.file, &p.script, direction, true),
            &options.progress,
        );
        let mut run = MigrationRun {
            version: p.file.version.clone(),
            name: p.file.name.clone(),
            mode: p.mode,
            duration_ms: 0.0,
            statements: Vec::new(),
            hooks: Vec::new(),
            not_executed: Vec::new(),
            locks_held: Vec::new(),
            earlier_locks_on: earlier_locks_on(p, &tracker.snap, &tracker.original),
        };
        let locks_at_start = tracker.snap.locks.clone();
        let outcome = async {
            for phase in [Phase::BeforeValidation, Phase::BeforeDdl] {
                run_hooks(&mut runner, p, phase, &mut tracker, &mut run).await?;
            }
            let has_on_error = p.hooks.iter().any(|h| h.decl.phase == Phase::OnError);
            if has_on_error {
                client
                    .batch_execute("SAVEPOINT confiture_ddl")
                    .await
                    .map_err(|e| super::ledger::sql_error(target, "set a savepoint", &e))?;
            }
            for (i, need) in p.script.needs.iter().enumerate() {
                let sql = p.script.file.statement_text(i);
                let line = p.script.file.statements[i].line;
                if let TxNeed::Autocommit { what, .. } = need {
                    run.not_executed.push(NotExecuted {
                        index: i + 1,
                        line,
                        sql: first_line(sql),
                        reason: format!("{what} cannot run inside the dry-run's transaction"),
                    });
                    continue;
                }
                let t0 = Instant::now();
                let result = client.simple_query(sql).await;
                let duration_ms = ms(t0);
                if let Err(e) = result {
                    record_violation(report, &label, &e, target);
                    let err = if is_lock_timeout(&e) {
                        lock_timeout_error(&p.script, Some(i), &e, target, 1, timeouts, p.mode)
                    } else {
                        let failed = Failed {
                            file: &p.script.file,
                            index: i,
                            sql,
                            generated: false,
                        };
                        statement_error(&failed, &e, target, codes::MIGRATE_STATEMENT_FAILED, "")
                    };
                    if has_on_error
                        && client
                            .batch_execute("ROLLBACK TO SAVEPOINT confiture_ddl")
                            .await
                            .is_ok()
                    {
                        runner.on_error(&p.hooks, None, None, &err.message).await;
                        run.hooks
                            .extend(runner.results.drain(..).map(|result| HookMetrics {
                                result,
                                effects: Effects::default(),
                            }));
                    }
                    return Err(err);
                }
                let effects = tracker.step(client, target).await?;
                let samples = sampler.sample(&effects).await;
                run.statements.push(StatementRun {
                    index: i + 1,
                    line,
                    sql: first_line(sql),
                    duration_ms,
                    effects,
                    samples,
                });
            }
            if has_on_error {
                client
                    .batch_execute("RELEASE SAVEPOINT confiture_ddl")
                    .await
                    .map_err(|e| super::ledger::sql_error(target, "release a savepoint", &e))?;
            }
            for phase in [Phase::AfterDdl, Phase::AfterValidation, Phase::Cleanup] {
                run_hooks(&mut runner, p, phase, &mut tracker, &mut run).await?;
            }
            // What COMMIT would check: deferred constraints and constraint triggers. In a
            // savepoint rolled back afterwards, so the next migration starts with them deferred
            // again, as in a transaction of its own.
            if let Err(e) = client
                .batch_execute("SAVEPOINT confiture_commit; SET CONSTRAINTS ALL IMMEDIATE")
                .await
            {
                let _ = client
                    .batch_execute("ROLLBACK TO SAVEPOINT confiture_commit")
                    .await;
                record_violation(report, &label, &e, target);
                return Err(outside_statement(
                    &p.script,
                    "at COMMIT: a deferred constraint or trigger failed",
                    &e,
                    target,
                ));
            }
            let _ = client
                .batch_execute(
                    "ROLLBACK TO SAVEPOINT confiture_commit; RELEASE SAVEPOINT confiture_commit",
                )
                .await;
            Ok::<(), ConfitureError>(())
        }
        .await;
        // A `SET` in one migration does not reach the next one (as after each real migration).
        let _ = client
            .batch_execute("RESET ALL; SET client_connection_check_interval = '1s'")
            .await;
        run.duration_ms = ms(started);
        let original = &tracker.original;
        run.locks_held = tracker
            .snap
            .locks
            .iter()
            .filter(|(key, _)| {
                original.relations.contains_key(&key.0) && !locks_at_start.contains_key(key)
            })
            .map(|((oid, mode), relation)| probe::Lock {
                // A relation dropped since is named from the catalog read at the start.
                relation: match original.relations.get(oid) {
                    Some(r) if relation.parse::<i64>().is_ok() => r.2.clone(),
                    _ => relation.clone(),
                },
                mode: mode.clone(),
                new_relation: false,
            })
            .collect();
        report.migrations.push(run);
        if let Err(err) = outcome {
            if matches!(
                err.code.exit,
                confiture_core::exit::ExitClass::DatabaseUnreachable
            ) {
                return Err(err);
            }
            // A hook that hit a constraint (its cause carries the SQLSTATE).
            if err.code == codes::MIGRATE_HOOK_FAILED
                && err.details["cause"]["sqlstate"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("23"))
            {
                report.constraint_violations.push(Violation {
                    migration: label.clone(),
                    constraint: None,
                    table: None,
                    message: err.message.clone(),
                });
            }
            let mut env = err.to_envelope();
            env["migration"] = serde_json::json!(label);
            report.failure = Some(env);
            report.failure_error = Some(err);
            break;
        }
    }
    Ok(())
}

fn record_violation(
    report: &mut DryRunReport,
    label: &str,
    e: &tokio_postgres::Error,
    target: &confiture_pg::ConnTarget,
) {
    if let Some(db) = e.as_db_error() {
        if db.code().code().starts_with("23") {
            report.constraint_violations.push(Violation {
                migration: label.to_string(),
                constraint: db.constraint().map(str::to_string),
                table: db.table().map(str::to_string),
                message: target.redact(db.message()),
            });
        }
    }
}

/// Relations `p` names that the dry-run already holds locks on when it starts.
fn earlier_locks_on(p: &Planned<'_>, snap: &Snapshot, original: &Catalog) -> Vec<String> {
    use confiture_sql::names::{Kind, ObjectName};
    use confiture_sql::relations::{relations_named, same_relation};
    let locked: Vec<(ObjectName, &str)> = snap
        .locks
        .iter()
        .filter(|((oid, _), _)| original.relations.contains_key(oid))
        .map(|(_, name)| {
            let object = match name.split_once('.') {
                Some((s, n)) => ObjectName::new(Kind::Relation, Some(s), n),
                None => ObjectName::new(Kind::Relation, None, name),
            };
            (object, name.as_str())
        })
        .collect();
    if locked.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for i in 0..p.script.file.statements.len() {
        for named in relations_named(p.script.file.statement_text(i)) {
            for (object, name) in &locked {
                if same_relation(&named, object) && !out.iter().any(|o| o == name) {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// Run the hooks of `phase` one by one, measuring each.
async fn run_hooks(
    runner: &mut Runner<'_>,
    p: &Planned<'_>,
    phase: Phase,
    tracker: &mut Tracker,
    run: &mut MigrationRun,
) -> Result<()> {
    for hook in p.hooks.iter().filter(|h| h.decl.phase == phase) {
        let outcome = runner.hook(&p.hooks, hook).await;
        let effects = tracker.step(runner.client, runner.target).await?;
        let mut results: Vec<HookResult> = runner.results.drain(..).collect();
        // The hook's own result first, then any on_error hooks it set off.
        let own = if results.is_empty() {
            None
        } else {
            Some(results.remove(0))
        };
        if let Some(result) = own {
            run.hooks.push(HookMetrics { result, effects });
        }
        run.hooks
            .extend(results.into_iter().map(|result| HookMetrics {
                result,
                effects: Effects::default(),
            }));
        outcome?;
    }
    Ok(())
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 100_000.0).round() / 100.0
}

fn first_line(sql: &str) -> String {
    crate::hooks::db::first_line(sql)
}
