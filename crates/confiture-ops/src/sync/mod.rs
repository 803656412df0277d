//! `confiture sync`: copy a source database's data into a target, anonymized in flight.
//!
//! 1. The source is read in one REPEATABLE READ, READ ONLY snapshot, exported and imported by
//!    every worker: all tables see the same instant, and nothing is ever written there.
//! 2. The plan ([`plan`]) checks the target's tables and columns, and groups the tables into
//!    units in foreign-key order (a cycle of foreign keys is one unit).
//! 3. Strict mode ([`pii_check`]) stops before anything is written when a column that looks like
//!    personal data has no rule.
//! 4. The tables to replace are emptied together in one transaction; then each unit is loaded
//!    in a transaction of its own once the units it references are complete, by `jobs`
//!    workers in parallel, and recorded in the [`checkpoint`]. A failure leaves every table
//!    complete or empty, and `--resume` copies only what is missing.
//! 5. Sequences are set to the source's values, and row counts are verified.

pub mod checkpoint;
pub mod copy_table;
pub mod pii_check;
pub mod plan;
pub mod progress;
pub mod sequences;
pub mod session;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use confiture_core::anonymize::profile::Profile;
use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_pg::copy::Format;
use confiture_pg::tables::{read_sequences, read_tables};
use confiture_pg::ConnTarget;
use serde::Serialize;
use tokio::sync::Notify;
use tokio_postgres::Client;

use checkpoint::Checkpoint;
use pii_check::Uncovered;
use plan::{Plan, Selection, TablePlan};
use progress::Progress;
use session::{open_source, open_target, sql_error};

pub struct SyncOptions {
    pub source: ConnTarget,
    pub target: ConnTarget,
    pub profile: Option<Profile>,
    pub selection: Selection,
    pub jobs: usize,
    pub resume: bool,
    pub checkpoint: PathBuf,
    /// Stop on uncovered PII (the profile's `strict`, unless `--no-strict`).
    pub strict: bool,
    /// The target's migration tracking table, which keeps its own history.
    pub tracking_table: String,
    /// Tables at least this large are read by `jobs` readers in primary-key ranges.
    pub split_min_bytes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub ok: bool,
    pub source: String,
    pub target: String,
    pub profile: Option<String>,
    pub jobs: usize,
    pub resumed: bool,
    pub tables: Vec<TableReport>,
    /// Uncovered PII-looking columns (a failure in strict mode, a warning otherwise).
    pub uncovered_pii: Vec<Uncovered>,
    pub sequences: usize,
    pub rows: u64,
    pub bytes: u64,
    pub duration_ms: u64,
    pub verification: Vec<Mismatch>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub table: String,
    /// `copied`, `skipped` (profile `skip_table`: emptied), `already_done` (resumed).
    pub status: &'static str,
    pub rows: u64,
    pub bytes: u64,
    pub format: &'static str,
    /// Readers that shared the table (primary-key ranges of a large table).
    pub readers: usize,
    pub anonymized: Vec<AnonymizedColumn>,
    pub duration_ms: u64,
    pub rows_per_second: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnonymizedColumn {
    pub column: String,
    pub strategy: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    pub table: String,
    pub expected: u64,
    pub found: u64,
}

/// The strict-mode gate alone, for callers that write to the target before the sync proper
/// (`--build`): fails with `ANON_002` when a PII-looking column has no rule.
pub async fn pii_gate(opts: &SyncOptions) -> Result<()> {
    if !opts.strict {
        return Ok(());
    }
    let source = open_source(&opts.source, None).await?;
    let tables = read_tables(&source)
        .await
        .map_err(|e| sql_error(&opts.source, "reading the tables", &e))?;
    let chosen: Vec<_> = tables
        .iter()
        .filter(|t| opts.selection.wants(t))
        .filter(|t| {
            !opts
                .profile
                .as_ref()
                .and_then(|p| p.table(&t.schema, &t.name))
                .is_some_and(|r| r.skip)
        })
        .collect();
    let uncovered = pii_check::uncovered(&source, &chosen, opts.profile.as_ref())
        .await
        .map_err(|e| sql_error(&opts.source, "sampling columns for personal data", &e))?;
    if uncovered.is_empty() {
        Ok(())
    } else {
        Err(uncovered_error(&uncovered, opts.profile.as_ref()))
    }
}

/// Run a sync. Errors before the first write leave the target untouched.
pub async fn sync(opts: SyncOptions, progress: Arc<dyn Progress>) -> Result<SyncReport> {
    let started = Instant::now();
    if same_database(&opts.source, &opts.target) {
        return Err(ConfitureError::new(
            codes::SYNC_UNSAFE_PLAN,
            format!(
                "source and target are the same database ({})",
                opts.source.display()
            ),
        )
        .with_hint("--to must name another database"));
    }
    let source = open_source(&opts.source, None).await?;
    let snapshot: String = source
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| sql_error(&opts.source, "exporting the snapshot", &e))?
        .get(0);
    let target = open_target(&opts.target).await?;
    let (src_tables, dst_tables, src_seqs, dst_seqs) = tokio::try_join!(
        async {
            read_tables(&source)
                .await
                .map_err(|e| sql_error(&opts.source, "reading the tables", &e))
        },
        async {
            read_tables(&target)
                .await
                .map_err(|e| sql_error(&opts.target, "reading the tables", &e))
        },
        async {
            read_sequences(&source)
                .await
                .map_err(|e| sql_error(&opts.source, "reading the sequences", &e))
        },
        async {
            read_sequences(&target)
                .await
                .map_err(|e| sql_error(&opts.target, "reading the sequences", &e))
        },
    )?;
    let tracking = qualified_tracking(&opts.tracking_table);
    let plan = plan::plan(
        &src_tables,
        &dst_tables,
        &opts.selection,
        opts.profile.as_ref(),
        &tracking,
    )?;
    if let Some(unknown) = opts.selection.unmatched(&src_tables) {
        return Err(ConfitureError::new(
            codes::SYNC_UNSAFE_PLAN,
            format!("--tables names no table of the source: {unknown}"),
        ));
    }

    let copied_tables: Vec<_> = plan
        .tables
        .iter()
        .filter(|t| !t.skip)
        .map(|t| &t.info)
        .collect();
    let uncovered = pii_check::uncovered(&source, &copied_tables, opts.profile.as_ref())
        .await
        .map_err(|e| sql_error(&opts.source, "sampling columns for personal data", &e))?;
    if opts.strict && !uncovered.is_empty() {
        return Err(uncovered_error(&uncovered, opts.profile.as_ref()));
    }

    let fresh = Checkpoint::new(
        opts.source.url_without_password(),
        opts.target.url_without_password(),
        opts.profile.as_ref().map(|p| p.name.clone()),
        plan.tables.iter().map(|t| t.qualified()).collect(),
    );
    let checkpoint = if opts.resume {
        Checkpoint::resume(&opts.checkpoint, &fresh)?
    } else {
        fresh
    };
    checkpoint.save(&opts.checkpoint)?;

    // Empty every table still to load, together (a table referenced by another cannot be
    // truncated alone); from here on each table is complete or empty.
    let todo: Vec<&Arc<TablePlan>> = plan
        .tables
        .iter()
        .filter(|t| !checkpoint.done.contains_key(&t.qualified()))
        .collect();
    if !todo.is_empty() {
        let list = todo
            .iter()
            .map(|t| copy_table::table_sql(t))
            .collect::<Vec<_>>()
            .join(", ");
        target
            .batch_execute(&format!(
                "BEGIN; SET LOCAL lock_timeout = '30s'; TRUNCATE {list}; COMMIT"
            ))
            .await
            .map_err(|e| {
                sql_error(&opts.target, "emptying the target tables", &e).with_hint(
                    "another session may hold locks on them, or a table outside the sync references them",
                )
            })?;
    }

    let shared = Arc::new(Shared {
        plan,
        progress,
        checkpoint: Mutex::new(checkpoint),
        checkpoint_path: opts.checkpoint.clone(),
        sched: Mutex::new(Schedule::default()),
        notify: Notify::new(),
        reports: Mutex::new(Vec::new()),
        snapshot: copy_table::Snapshot {
            conn: opts.source.clone(),
            id: snapshot.clone(),
            split_min_bytes: opts.split_min_bytes,
        },
        jobs: opts.jobs.max(1),
    });
    {
        let mut s = shared.sched.lock().expect("not poisoned");
        let done = &shared.checkpoint.lock().expect("not poisoned").done;
        s.state = shared
            .plan
            .units
            .iter()
            .map(|u| {
                if u.tables
                    .iter()
                    .all(|&t| done.contains_key(&shared.plan.tables[t].qualified()))
                {
                    UnitState::Done
                } else {
                    UnitState::Pending
                }
            })
            .collect();
    }
    let jobs = opts.jobs.max(1).min(shared.plan.units.len().max(1));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..jobs {
        let src = Arc::new(open_source(&opts.source, Some(&snapshot)).await?);
        let dst = open_target(&opts.target).await?;
        let shared = shared.clone();
        let target_conn = opts.target.clone();
        workers.spawn(async move { worker(shared, src, dst, target_conn).await });
    }
    let mut failure: Option<ConfitureError> = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                failure.get_or_insert(e);
            }
            Err(e) => {
                failure.get_or_insert(ConfitureError::new(
                    codes::INTERNAL,
                    format!("a sync worker stopped: {e}"),
                ));
            }
        }
    }
    if let Some(e) = failure {
        return Err(e.with_hint(format!(
            "tables already copied are complete and recorded in {}; fix the cause and run again with --resume",
            opts.checkpoint.display()
        )));
    }

    let names: BTreeSet<String> = shared.plan.tables.iter().map(|t| t.qualified()).collect();
    let sequences = sequences::reset(&source, &target, &src_seqs, &dst_seqs, &names)
        .await
        .map_err(|e| sql_error(&opts.target, "setting the sequences", &e))?;
    let _ = source.batch_execute("COMMIT").await;

    // Verification: every table holds exactly the rows that were read.
    let done = shared.checkpoint.lock().expect("not poisoned").done.clone();
    let counts = shared
        .plan
        .tables
        .iter()
        .map(|t| {
            format!(
                "SELECT {}, count(*) FROM {}",
                confiture_core::ident::quote_literal(&t.qualified()),
                copy_table::table_sql(t)
            )
        })
        .collect::<Vec<_>>();
    let mut verification = Vec::new();
    if !counts.is_empty() {
        let rows = target
            .query(&counts.join(" UNION ALL "), &[])
            .await
            .map_err(|e| sql_error(&opts.target, "counting rows", &e))?;
        for r in rows {
            let table: String = r.get(0);
            let found = r.get::<_, i64>(1) as u64;
            let expected = done.get(&table).copied().unwrap_or(0);
            if found != expected {
                verification.push(Mismatch {
                    table,
                    expected,
                    found,
                });
            }
        }
    }

    let mut tables = shared.reports.lock().expect("not poisoned").clone();
    for t in &shared.plan.tables {
        if !tables.iter().any(|r| r.table == t.qualified()) {
            tables.push(TableReport {
                table: t.qualified(),
                status: "already_done",
                rows: done.get(&t.qualified()).copied().unwrap_or(0),
                bytes: 0,
                format: "binary",
                readers: 0,
                anonymized: anonymized(t),
                duration_ms: 0,
                rows_per_second: 0,
            });
        }
    }
    tables.sort_by(|a, b| a.table.cmp(&b.table));
    let ok = verification.is_empty();
    let report = SyncReport {
        ok,
        source: opts.source.display(),
        target: opts.target.display(),
        profile: opts.profile.as_ref().map(|p| p.name.clone()),
        jobs,
        resumed: opts.resume,
        rows: tables.iter().map(|t| t.rows).sum(),
        bytes: tables.iter().map(|t| t.bytes).sum(),
        tables,
        uncovered_pii: uncovered,
        sequences,
        duration_ms: started.elapsed().as_millis() as u64,
        verification,
    };
    if ok {
        Checkpoint::remove(&opts.checkpoint);
    }
    Ok(report)
}

fn anonymized(t: &TablePlan) -> Vec<AnonymizedColumn> {
    t.rules
        .iter()
        .map(|(_, r)| AnonymizedColumn {
            column: r.column.clone(),
            strategy: r.strategy_name.clone(),
        })
        .collect()
}

pub fn uncovered_error(uncovered: &[Uncovered], profile: Option<&Profile>) -> ConfitureError {
    ConfitureError::new(
        codes::ANON_UNCOVERED_PII,
        format!(
            "{} column(s) look like personal data and no rule of {} covers them: {}",
            uncovered.len(),
            match profile {
                Some(p) => format!("the profile '{}'", p.name),
                None => "a profile (none was given)".to_string(),
            },
            uncovered
                .iter()
                .map(Uncovered::describe)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .with_hint("add a rule for each column to the profile (strategy: none to keep it as is), or pass --no-strict to copy them unchanged")
}

fn same_database(a: &ConnTarget, b: &ConnTarget) -> bool {
    a.hosts == b.hosts && a.port == b.port && a.dbname == b.dbname
}

fn qualified_tracking(name: &str) -> String {
    if name.contains('.') {
        name.to_string()
    } else {
        format!("public.{name}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum UnitState {
    Pending,
    Running,
    Done,
}

#[derive(Default)]
struct Schedule {
    state: Vec<UnitState>,
    failed: bool,
}

struct Shared {
    plan: Plan,
    progress: Arc<dyn Progress>,
    checkpoint: Mutex<Checkpoint>,
    checkpoint_path: PathBuf,
    sched: Mutex<Schedule>,
    notify: Notify,
    reports: Mutex<Vec<TableReport>>,
    snapshot: copy_table::Snapshot,
    /// Readers per large table (`--jobs`).
    jobs: usize,
}

enum Pick {
    Unit(usize),
    Wait,
    Finished,
}

impl Shared {
    /// The largest ready unit, if any.
    fn pick(&self) -> Pick {
        let mut s = self.sched.lock().expect("not poisoned");
        if s.failed {
            return Pick::Finished;
        }
        let size = |u: usize| -> i64 {
            self.plan.units[u]
                .tables
                .iter()
                .map(|&t| self.plan.tables[t].info.bytes)
                .sum()
        };
        let ready = (0..s.state.len())
            .filter(|&u| s.state[u] == UnitState::Pending)
            .filter(|&u| {
                self.plan.units[u]
                    .after
                    .iter()
                    .all(|&v| s.state[v] == UnitState::Done)
            })
            .max_by_key(|&u| size(u));
        match ready {
            Some(u) => {
                s.state[u] = UnitState::Running;
                Pick::Unit(u)
            }
            None if s.state.iter().any(|&x| x != UnitState::Done) => Pick::Wait,
            None => Pick::Finished,
        }
    }

    fn finish(&self, unit: usize, ok: bool) {
        let mut s = self.sched.lock().expect("not poisoned");
        if ok {
            s.state[unit] = UnitState::Done;
        } else {
            s.failed = true;
        }
        drop(s);
        self.notify.notify_waiters();
    }
}

async fn worker(
    shared: Arc<Shared>,
    source: Arc<Client>,
    target: Client,
    target_conn: ConnTarget,
) -> Result<()> {
    loop {
        let notified = shared.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let unit = match shared.pick() {
            Pick::Unit(u) => u,
            Pick::Wait => {
                notified.await;
                continue;
            }
            Pick::Finished => return Ok(()),
        };
        let result = load_unit(&shared, unit, &source, &target, &target_conn).await;
        shared.finish(unit, result.is_ok());
        result?;
    }
}

/// Load one unit in one target transaction, then record it in the checkpoint.
async fn load_unit(
    shared: &Shared,
    unit: usize,
    source: &Arc<Client>,
    target: &Client,
    target_conn: &ConnTarget,
) -> Result<()> {
    let tables = &shared.plan.units[unit].tables;
    let cycle = tables.len() > 1;
    target
        .batch_execute(if cycle {
            "BEGIN; SET CONSTRAINTS ALL DEFERRED"
        } else {
            "BEGIN"
        })
        .await
        .map_err(|e| sql_error(target_conn, "starting a transaction", &e))?;
    let mut reports = Vec::new();
    for (k, &ti) in tables.iter().enumerate() {
        let t = &shared.plan.tables[ti];
        let name = t.qualified();
        let started = Instant::now();
        if t.skip {
            reports.push((name, TableReport::skipped(t)));
            continue;
        }
        shared
            .progress
            .table_started(&name, t.info.estimated_rows, t.info.bytes);
        let copied = copy_table::copy_table(
            source.clone(),
            &shared.snapshot,
            target,
            t.clone(),
            k,
            shared.jobs,
            shared.progress.clone(),
        )
        .await;
        match copied {
            Ok(c) => {
                shared.progress.table_finished(&name, c.rows);
                let ms = started.elapsed().as_millis() as u64;
                reports.push((
                    name.clone(),
                    TableReport {
                        table: name,
                        status: "copied",
                        rows: c.rows,
                        bytes: c.bytes,
                        format: match (t.rules.is_empty(), t.format) {
                            (false, Format::Text) => "text",
                            _ => "binary",
                        },
                        readers: c.parts,
                        anonymized: anonymized(t),
                        duration_ms: ms,
                        rows_per_second: (c.rows as f64 / (ms.max(1) as f64 / 1000.0)) as u64,
                    },
                ));
            }
            Err(f) => {
                let _ = target.batch_execute("ROLLBACK").await;
                return Err(ConfitureError::new(
                    codes::SYNC_COPY_FAILED,
                    format!("copying {name} failed: {}", target_conn.redact(&f.message)),
                ));
            }
        }
    }
    if let Err(e) = target.batch_execute("COMMIT").await {
        let _ = target.batch_execute("ROLLBACK").await;
        return Err(ConfitureError::new(
            codes::SYNC_COPY_FAILED,
            format!(
                "committing {} failed: {}",
                reports
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                target_conn.message(&e)
            ),
        ));
    }
    let mut cp = shared.checkpoint.lock().expect("not poisoned");
    for (name, r) in &reports {
        cp.done.insert(name.clone(), r.rows);
    }
    cp.save(&shared.checkpoint_path)?;
    drop(cp);
    shared
        .reports
        .lock()
        .expect("not poisoned")
        .extend(reports.into_iter().map(|(_, r)| r));
    Ok(())
}

impl TableReport {
    fn skipped(t: &TablePlan) -> TableReport {
        TableReport {
            table: t.qualified(),
            status: "skipped",
            rows: 0,
            bytes: 0,
            format: "binary",
            readers: 0,
            anonymized: Vec::new(),
            duration_ms: 0,
            rows_per_second: 0,
        }
    }
}
