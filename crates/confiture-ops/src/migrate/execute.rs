//! Running one migration script (`.up.sql` or `.down.sql`) with its tracking-table change.
//!
//! **Transactional** (the default): `BEGIN`, `SET LOCAL lock_timeout`, the statements and the
//! tracking row, `COMMIT` — pipelined, so one round trip; both commit together or not at all.
//! When a statement cannot get its lock within `lock_timeout`, the whole transaction is rolled
//! back (releasing every lock it took, so traffic is not blocked while waiting) and retried after
//! a pause that doubles each time.
//!
//! **Autocommit** (`transactional: false`, or a lone statement PostgreSQL refuses in a
//! transaction): statement by statement, each retried on lock timeout; the tracking row is
//! written after the last one. Before a `CREATE INDEX CONCURRENTLY` (and before each retry), an
//! INVALID index left by an earlier failed attempt is dropped, and reported.

use std::path::Path;
use std::time::{Duration, Instant};

use confiture_core::build::discover::{relative_path, SourceFile};
use confiture_core::build::scan::is_copy_from_stdin;
use confiture_core::build::source::{load_one, LoadedFile};
use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_pg::ConnTarget;
use confiture_sql::autocommit::{classify, TxNeed};
use futures_util::{stream, StreamExt};
use serde::Serialize;
use tokio_postgres::Client;

use super::ledger::{sql_error, STARTED};
use crate::hooks::context::{Context, HookResult};
use crate::hooks::runner::savepoint_name;
use crate::hooks::runner::Runner;
use crate::hooks::{Hook, Preview};
use crate::statement_error::{located, statement_error, Failed};
use confiture_core::migrate::hook_decl::Phase;

/// A migration script, read, split and classified.
pub struct Script {
    pub file: LoadedFile,
    pub needs: Vec<TxNeed>,
}

impl Script {
    pub fn load(path: &Path, project_root: &Path) -> Result<Script> {
        let file = load_one(SourceFile {
            path: path.to_path_buf(),
            relative: relative_path(project_root, path),
            seed: false,
        })?;
        let needs = (0..file.statements.len())
            .map(|i| classify(file.statement_text(i)))
            .collect();
        Ok(Script { file, needs })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Transaction,
    Autocommit,
}

/// Decide how `script` runs. `transactional` is the sidecar's setting (default true).
/// Returns the mode and a warning when autocommit was chosen.
pub fn choose_mode(script: &Script, transactional: Option<bool>) -> Result<(Mode, Option<String>)> {
    if let Some(m) = script.file.meta_commands.first() {
        return Err(ConfitureError::new(
            codes::MIGRATE_META_COMMAND,
            format!("psql meta-command `{}` in a migration: confiture runs the SQL itself, without psql", m.text),
        )
        .at(confiture_core::error::Location::at(&script.file.source.path, m.line, 1))
        .with_hint("put the SQL of an included file in the migration itself; a migration runs against the environment's database only"));
    }
    for i in 0..script.file.statements.len() {
        if is_copy_from_stdin(script.file.statement_text(i)) {
            return Err(located(
                &script.file,
                i,
                None,
                codes::BUILD_COPY_FROM_STDIN,
                "COPY … FROM stdin: its data lines are for psql, which confiture does not use"
                    .into(),
            )
            .with_hint("load the rows with INSERT … VALUES, or COPY from a server-side file"));
        }
    }
    for (i, need) in script.needs.iter().enumerate() {
        if *need == TxNeed::TransactionControl {
            return Err(located(
                &script.file,
                i,
                None,
                codes::MIGRATE_TRANSACTION_CONTROL,
                "transaction control in a migration: each migration already runs in its own transaction, committed with its tracking row".into(),
            )
            .with_hint("remove BEGIN/COMMIT from the file; for statements that cannot run in a transaction, set `transactional: false` in the migration's .yaml"));
        }
    }
    let autocommit: Vec<(usize, &'static str)> = script
        .needs
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n {
            TxNeed::Autocommit { what, .. } => Some((i, *what)),
            _ => None,
        })
        .collect();
    let name = &script.file.source.relative;
    match (transactional, autocommit.first()) {
        (Some(false), _) => Ok((
            Mode::Autocommit,
            Some(format!(
                "{name} runs in autocommit (transactional: false): if a statement fails, the statements before it stay applied"
            )),
        )),
        (_, None) => Ok((Mode::Transaction, None)),
        (None, Some((_, what))) if script.file.statements.len() == 1 => Ok((
            Mode::Autocommit,
            Some(format!(
                "{name} runs in autocommit: PostgreSQL refuses {what} inside a transaction (its tracking row is written after it)"
            )),
        )),
        (_, Some((i, what))) => Err(located(
            &script.file,
            *i,
            None,
            codes::MIGRATE_NEEDS_AUTOCOMMIT,
            format!("{what} cannot run inside a transaction, and this migration runs in one"),
        )
        .with_hint("put the statement in a migration of its own, or set `transactional: false` in the migration's .yaml (then a failure leaves the statements before it applied)")),
    }
}

/// Lock-safety settings of one run.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub lock_timeout_ms: u64,
    pub statement_timeout_ms: Option<u64>,
    pub retries: u32,
    pub backoff_ms: u64,
}

/// What running a script took.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub mode: Mode,
    pub attempts: u32,
    pub duration_ms: f64,
    /// INVALID indexes left by earlier failed `CREATE INDEX CONCURRENTLY`, dropped before retrying.
    pub dropped_invalid_indexes: Vec<String>,
    /// What each hook did, in the order they ran.
    pub hooks: Vec<HookResult>,
}

/// A migration's hooks and what they share while it runs.
pub struct Hooks<'a> {
    pub list: &'a [Hook],
    pub context: Context,
    pub project_root: &'a Path,
    /// `<version>_<name>`.
    pub label: String,
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// Run `script` and the tracking-table statement `ledger_sql` in `mode`, with its hooks.
pub async fn run(
    client: &Client,
    target: &ConnTarget,
    script: &Script,
    mode: Mode,
    ledger_sql: &str,
    timeouts: Timeouts,
    hooks: Option<Hooks<'_>>,
) -> Result<Outcome> {
    let started = Instant::now();
    let hooks = hooks.filter(|h| !h.list.is_empty());
    let result = match (mode, hooks) {
        (Mode::Transaction, None) => {
            run_in_transaction(client, target, script, ledger_sql, timeouts).await
        }
        (Mode::Transaction, Some(h)) => {
            run_hooked_transaction(client, target, script, ledger_sql, timeouts, h).await
        }
        (Mode::Autocommit, h) => {
            let mut runner = h.map(|h| {
                (
                    h.list,
                    Runner::new(
                        client,
                        target,
                        h.project_root,
                        h.label,
                        timeouts.statement_timeout_ms,
                        true,
                        h.context,
                        h.progress,
                    ),
                )
            });
            run_in_autocommit(
                client,
                target,
                script,
                ledger_sql,
                timeouts,
                runner.as_mut(),
            )
            .await
        }
    };
    // A `SET` in one migration must not change the next one: back to the session's defaults.
    let _ = client
        .batch_execute("RESET ALL; SET client_connection_check_interval = '1s'")
        .await;
    let mut outcome = result?;
    outcome.duration_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    Ok(outcome)
}

pub(super) fn is_lock_timeout(e: &tokio_postgres::Error) -> bool {
    e.code().map(|c| c.code()) == Some("55P03")
}

fn backoff(timeouts: &Timeouts, attempt: u32) -> Duration {
    Duration::from_millis(timeouts.backoff_ms.saturating_mul(1u64 << attempt.min(16)))
}

async fn run_in_transaction(
    client: &Client,
    target: &ConnTarget,
    script: &Script,
    ledger_sql: &str,
    timeouts: Timeouts,
) -> Result<Outcome> {
    let mut preamble = vec![
        "BEGIN".to_string(),
        format!("SELECT set_config('{STARTED}', clock_timestamp()::text, true)"),
        format!("SET LOCAL lock_timeout = '{}ms'", timeouts.lock_timeout_ms),
    ];
    if let Some(ms) = timeouts.statement_timeout_ms {
        preamble.push(format!("SET LOCAL statement_timeout = '{ms}ms'"));
    }
    let n = script.file.statements.len();
    let texts: Vec<&str> = preamble
        .iter()
        .map(String::as_str)
        .chain((0..n).map(|i| script.file.statement_text(i)))
        .chain([ledger_sql, "COMMIT"])
        .collect();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Err((index, e)) = pipeline(client, &texts).await else {
            return Ok(Outcome {
                mode: Mode::Transaction,
                attempts: attempt,
                duration_ms: 0.0,
                dropped_invalid_indexes: Vec::new(),
                hooks: Vec::new(),
            });
        };
        let _ = client.batch_execute("ROLLBACK").await;
        let statement = index.checked_sub(preamble.len()).filter(|i| *i < n);
        if is_lock_timeout(&e) {
            if attempt <= timeouts.retries {
                tokio::time::sleep(backoff(&timeouts, attempt - 1)).await;
                continue;
            }
            return Err(lock_timeout_error(
                script,
                statement,
                &e,
                target,
                attempt,
                timeouts,
                Mode::Transaction,
            ));
        }
        return Err(match statement {
            Some(i) => failed_statement(script, i, &e, target),
            None if index + 1 == texts.len() => outside_statement(
                script,
                "at COMMIT: a deferred constraint or trigger failed",
                &e,
                target,
            ),
            None if index + 2 == texts.len() => outside_statement(
                script,
                "recording the migration in the tracking table failed",
                &e,
                target,
            ),
            None => sql_error(target, &format!("run {}", script.file.source.relative), &e),
        });
    }
}

async fn run_in_autocommit(
    client: &Client,
    target: &ConnTarget,
    script: &Script,
    ledger_sql: &str,
    timeouts: Timeouts,
    mut hooks: Option<&mut (&[Hook], Runner<'_>)>,
) -> Result<Outcome> {
    let mut settings = format!(
        "SELECT set_config('{STARTED}', clock_timestamp()::text, false); SET lock_timeout = '{}ms'",
        timeouts.lock_timeout_ms
    );
    if let Some(ms) = timeouts.statement_timeout_ms {
        settings.push_str(&format!("; SET statement_timeout = '{ms}ms'"));
    }
    client
        .batch_execute(&settings)
        .await
        .map_err(|e| sql_error(target, "set lock_timeout", &e))?;
    let mut outcome = Outcome {
        mode: Mode::Autocommit,
        attempts: 1,
        duration_ms: 0.0,
        dropped_invalid_indexes: Vec::new(),
        hooks: Vec::new(),
    };
    let result = async {
        if let Some((list, runner)) = hooks.as_deref_mut() {
            runner.phase(list, Phase::BeforeValidation).await?;
            runner.phase(list, Phase::BeforeDdl).await?;
        }
        for (i, need) in script.needs.iter().enumerate() {
            let sql = script.file.statement_text(i);
            let mut attempt = 0;
            loop {
                attempt += 1;
                if let TxNeed::Autocommit {
                    concurrent_index: Some((schema, name)),
                    ..
                } = need
                {
                    if let Some(dropped) =
                        drop_invalid_index(client, target, schema.as_deref(), name).await?
                    {
                        outcome.dropped_invalid_indexes.push(dropped);
                    }
                }
                match client.batch_execute(sql).await {
                    Ok(()) => break,
                    Err(e) if is_lock_timeout(&e) && attempt <= timeouts.retries => {
                        outcome.attempts = outcome.attempts.max(attempt + 1);
                        tokio::time::sleep(backoff(&timeouts, attempt - 1)).await;
                    }
                    Err(e) if is_lock_timeout(&e) => {
                        return Err(lock_timeout_error(
                            script,
                            Some(i),
                            &e,
                            target,
                            attempt,
                            timeouts,
                            Mode::Autocommit,
                        ));
                    }
                    Err(e) => {
                        let err = failed_statement(script, i, &e, target);
                        if let Some((list, runner)) = hooks.as_deref_mut() {
                            runner.on_error(list, None, None, &err.message).await;
                        }
                        if i == 0 {
                            return Err(err);
                        }
                        let hint = format!(
                            "{}the statements before it in this migration stay applied (it runs in autocommit); the migration is not recorded",
                            err.hint.as_ref().map(|h| format!("{h}\n")).unwrap_or_default()
                        );
                        return Err(err.with_hint(hint));
                    }
                }
            }
        }
        if let Some((list, runner)) = hooks.as_deref_mut() {
            runner.phase(list, Phase::AfterDdl).await?;
            runner.phase(list, Phase::AfterValidation).await?;
            runner.phase(list, Phase::Cleanup).await?;
        }
        client
            .batch_execute(ledger_sql)
            .await
            .map_err(|e| sql_error(target, "record the migration in the tracking table", &e))
    }
    .await;
    let _ = client
        .batch_execute("RESET lock_timeout; RESET statement_timeout")
        .await;
    if let Some((_, runner)) = hooks {
        outcome.hooks = std::mem::take(&mut runner.results);
    }
    result.map(|()| outcome)
}

/// A failure inside a hooked transaction: a statement of the script (mapped later, so lock
/// timeouts can be retried) or anything else, already explained.
enum Failure {
    Statement(usize, tokio_postgres::Error),
    Other(ConfitureError),
}

impl From<ConfitureError> for Failure {
    fn from(e: ConfitureError) -> Self {
        Failure::Other(e)
    }
}

/// A transactional migration with hooks: phases around the statements, each hook in its own
/// savepoint; the statements in a savepoint of their own when `on_error` hooks must be able to
/// run after they fail.
///
/// Hooks whose SQL is fixed in advance (`sql`, `analyze`, `rebuild_index`) are pipelined with
/// the statements — savepoint, SQL and release included — so they add no round trip; other
/// hooks run in between, each on its own.
async fn run_hooked_transaction(
    client: &Client,
    target: &ConnTarget,
    script: &Script,
    ledger_sql: &str,
    timeouts: Timeouts,
    hooks: Hooks<'_>,
) -> Result<Outcome> {
    let list = hooks.list;
    let plan = timeline(script, ledger_sql, timeouts, list);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut runner = Runner::new(
            client,
            target,
            hooks.project_root,
            hooks.label.clone(),
            timeouts.statement_timeout_ms,
            false,
            hooks.context.clone(),
            hooks.progress,
        );
        let body = run_timeline(client, target, script, &plan, list, &mut runner, || {
            attempt <= timeouts.retries
        })
        .await;
        let results = std::mem::take(&mut runner.results);
        let failure = match body {
            Ok(()) => {
                return Ok(Outcome {
                    mode: Mode::Transaction,
                    attempts: attempt,
                    duration_ms: 0.0,
                    dropped_invalid_indexes: Vec::new(),
                    hooks: results,
                })
            }
            Err(f) => f,
        };
        let _ = client.batch_execute("ROLLBACK").await;
        match failure {
            Failure::Statement(i, e) if is_lock_timeout(&e) => {
                if attempt <= timeouts.retries {
                    tokio::time::sleep(backoff(&timeouts, attempt - 1)).await;
                    continue;
                }
                return Err(lock_timeout_error(
                    script,
                    Some(i),
                    &e,
                    target,
                    attempt,
                    timeouts,
                    Mode::Transaction,
                ));
            }
            Failure::Statement(i, e) => return Err(failed_statement(script, i, &e, target)),
            Failure::Other(e) => return Err(e),
        }
    }
}

/// Who an SQL text of the timeline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Preamble,
    /// A pipelined hook (index in the hook list).
    Hook(usize),
    Statement(usize),
    Savepoint,
    Ledger,
    Commit,
}

enum Segment {
    /// SQL sent in one pipeline.
    Sql(Vec<(String, Owner)>),
    /// A hook run on its own (index in the hook list).
    Native(usize),
}

/// The migration as segments, in execution order.
fn timeline(script: &Script, ledger_sql: &str, timeouts: Timeouts, list: &[Hook]) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut sql: Vec<(String, Owner)> = vec![
        ("BEGIN".into(), Owner::Preamble),
        (
            format!("SELECT set_config('{STARTED}', clock_timestamp()::text, true)"),
            Owner::Preamble,
        ),
        (
            format!("SET LOCAL lock_timeout = '{}ms'", timeouts.lock_timeout_ms),
            Owner::Preamble,
        ),
    ];
    if let Some(ms) = timeouts.statement_timeout_ms {
        sql.push((
            format!("SET LOCAL statement_timeout = '{ms}ms'"),
            Owner::Preamble,
        ));
    }
    let base_timeout = match timeouts.statement_timeout_ms {
        Some(ms) => format!("'{ms}ms'"),
        None => "DEFAULT".into(),
    };
    let phase = |phase: Phase, sql: &mut Vec<(String, Owner)>, segments: &mut Vec<Segment>| {
        for (i, h) in list
            .iter()
            .enumerate()
            .filter(|(_, h)| h.decl.phase == phase)
        {
            match h.preview() {
                Preview::Sql(statements) => {
                    let name = savepoint_name(list, h);
                    sql.push((format!("SAVEPOINT {name}"), Owner::Hook(i)));
                    if let Some(ms) = h.decl.timeout_ms {
                        sql.push((
                            format!("SET LOCAL statement_timeout = '{ms}ms'"),
                            Owner::Hook(i),
                        ));
                    }
                    for s in statements {
                        sql.push((s, Owner::Hook(i)));
                    }
                    sql.push((format!("RELEASE SAVEPOINT {name}"), Owner::Hook(i)));
                    if h.decl.timeout_ms.is_some() {
                        sql.push((
                            format!("SET LOCAL statement_timeout = {base_timeout}"),
                            Owner::Hook(i),
                        ));
                    }
                }
                Preview::Note(_) => {
                    segments.push(Segment::Sql(std::mem::take(sql)));
                    segments.push(Segment::Native(i));
                }
            }
        }
    };
    phase(Phase::BeforeValidation, &mut sql, &mut segments);
    phase(Phase::BeforeDdl, &mut sql, &mut segments);
    let has_on_error = list.iter().any(|h| h.decl.phase == Phase::OnError);
    if has_on_error {
        sql.push(("SAVEPOINT confiture_ddl".into(), Owner::Savepoint));
    }
    for i in 0..script.file.statements.len() {
        sql.push((
            script.file.statement_text(i).to_string(),
            Owner::Statement(i),
        ));
    }
    if has_on_error {
        sql.push(("RELEASE SAVEPOINT confiture_ddl".into(), Owner::Savepoint));
    }
    phase(Phase::AfterDdl, &mut sql, &mut segments);
    phase(Phase::AfterValidation, &mut sql, &mut segments);
    phase(Phase::Cleanup, &mut sql, &mut segments);
    sql.push((ledger_sql.to_string(), Owner::Ledger));
    if has_on_error {
        // A pipelined COMMIT after a failure would end the transaction (as a rollback) before
        // the `on_error` hooks could run in it: it waits for the answers.
        segments.push(Segment::Sql(std::mem::take(&mut sql)));
    }
    sql.push(("COMMIT".into(), Owner::Commit));
    segments.push(Segment::Sql(sql));
    segments.retain(|s| !matches!(s, Segment::Sql(v) if v.is_empty()));
    segments
}

async fn run_timeline(
    client: &Client,
    target: &ConnTarget,
    script: &Script,
    plan: &[Segment],
    list: &[Hook],
    runner: &mut Runner<'_>,
    will_retry: impl Fn() -> bool,
) -> std::result::Result<(), Failure> {
    let has_on_error = list.iter().any(|h| h.decl.phase == Phase::OnError);
    for segment in plan {
        let items = match segment {
            Segment::Native(i) => {
                runner.hook(list, &list[*i]).await?;
                continue;
            }
            Segment::Sql(items) => items,
        };
        let texts: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
        let started = Instant::now();
        let (done, error) = pipeline_timed(client, &texts).await;
        // Results of the pipelined hooks that completed: rows, and time between the answer
        // before their first text and the answer to their last.
        let mut previous = started;
        let mut current: Option<(usize, Instant, u64)> = None;
        for (k, (at, rows)) in done.iter().enumerate() {
            match items[k].1 {
                Owner::Hook(h) => {
                    let entry = current.get_or_insert((h, previous, 0));
                    entry.2 += rows;
                    let last = items.get(k + 1).is_none_or(|(_, o)| *o != Owner::Hook(h));
                    if last {
                        let (h, from, rows) = current.take().expect("set above");
                        runner.record_ok(&list[h], (*at - from).as_secs_f64() * 1000.0, rows);
                    }
                }
                _ => current = None,
            }
            previous = *at;
        }
        let Some((index, e)) = error else {
            continue;
        };
        return Err(match items[index].1 {
            Owner::Statement(i) => {
                if has_on_error
                    && !(is_lock_timeout(&e) && will_retry())
                    && client
                        .batch_execute("ROLLBACK TO SAVEPOINT confiture_ddl")
                        .await
                        .is_ok()
                {
                    let message = target.redact(
                        &e.as_db_error()
                            .map(|d| d.message().to_string())
                            .unwrap_or_else(|| e.to_string()),
                    );
                    runner.on_error(list, None, None, &message).await;
                }
                Failure::Statement(i, e)
            }
            Owner::Hook(h) => {
                let hook = &list[h];
                let name = crate::hooks::runner::savepoint_name(list, hook);
                let mut inner = crate::hooks::sql_error(target, &e);
                inner.message = format!(
                    "{}: {}",
                    crate::hooks::db::first_line(&items[index].0),
                    inner.message
                );
                if has_on_error {
                    let _ = client
                        .batch_execute(&format!("ROLLBACK TO SAVEPOINT {name}"))
                        .await;
                }
                Failure::Other(runner.failed(list, hook, inner).await)
            }
            Owner::Ledger => Failure::Other(outside_statement(
                script,
                "recording the migration in the tracking table failed",
                &e,
                target,
            )),
            Owner::Commit => Failure::Other(outside_statement(
                script,
                "at COMMIT: a deferred constraint or trigger failed",
                &e,
                target,
            )),
            Owner::Preamble | Owner::Savepoint => {
                Failure::Other(sql_error(target, "run the migration", &e))
            }
        });
    }
    Ok(())
}

/// [`pipeline`], with when each answer arrived and the rows each text changed.
async fn pipeline_timed(
    client: &Client,
    texts: &[&str],
) -> (Vec<(Instant, u64)>, Option<(usize, tokio_postgres::Error)>) {
    let mut results = stream::iter(texts.iter())
        .map(|sql| client.simple_query(sql))
        .buffered(256);
    let mut done = Vec::with_capacity(texts.len());
    while let Some(result) = results.next().await {
        match result {
            Ok(messages) => {
                let rows = messages
                    .iter()
                    .map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::CommandComplete(n) => *n,
                        _ => 0,
                    })
                    .sum();
                done.push((Instant::now(), rows));
            }
            Err(e) => {
                let index = done.len();
                return (done, Some((index, e)));
            }
        }
    }
    (done, None)
}

/// Drop the index `name` if an earlier failed `CREATE INDEX CONCURRENTLY` left it INVALID.
async fn drop_invalid_index(
    client: &Client,
    target: &ConnTarget,
    schema: Option<&str>,
    name: &str,
) -> Result<Option<String>> {
    let row = client
        .query_opt(
            "SELECT c.oid::regclass::text
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE NOT i.indisvalid AND c.relname = $1
               AND (CASE WHEN $2::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = $2 END)",
            &[&name, &schema],
        )
        .await
        .map_err(|e| sql_error(target, "look for an invalid index", &e))?;
    let Some(row) = row else { return Ok(None) };
    let index: String = row.get(0);
    client
        .batch_execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"))
        .await
        .map_err(|e| sql_error(target, &format!("drop the invalid index {index}"), &e))?;
    Ok(Some(index))
}

/// Send every statement without waiting for answers; the first error and its index.
async fn pipeline(
    client: &Client,
    texts: &[&str],
) -> std::result::Result<(), (usize, tokio_postgres::Error)> {
    let mut results = stream::iter(texts.iter())
        .map(|sql| client.batch_execute(sql))
        .buffered(256);
    let mut index = 0;
    while let Some(result) = results.next().await {
        if let Err(e) = result {
            return Err((index, e));
        }
        index += 1;
    }
    Ok(())
}

/// A failure outside the file's statements (COMMIT, the tracking row), at the migration file.
pub(super) fn outside_statement(
    script: &Script,
    what: &str,
    e: &tokio_postgres::Error,
    target: &ConnTarget,
) -> ConfitureError {
    let Some(db) = e.as_db_error() else {
        return target.classify(e);
    };
    let err = ConfitureError::new(
        codes::MIGRATE_STATEMENT_FAILED,
        format!("{} (SQLSTATE {}) {what}", target.redact(db.message()), db.code().code()),
    )
    .at(confiture_core::error::Location::file(&script.file.source.path))
    .with_details(serde_json::json!({ "sqlstate": db.code().code(), "detail": db.detail(), "server_hint": db.hint() }));
    match db.detail() {
        Some(detail) => err.with_hint(format!(
            "detail: {}; the migration was rolled back",
            target.redact(detail)
        )),
        None => err.with_hint("the migration was rolled back"),
    }
}

fn failed_statement(
    script: &Script,
    i: usize,
    e: &tokio_postgres::Error,
    target: &ConnTarget,
) -> ConfitureError {
    let failed = Failed {
        file: &script.file,
        index: i,
        sql: script.file.statement_text(i),
        generated: false,
    };
    statement_error(&failed, e, target, codes::MIGRATE_STATEMENT_FAILED, "")
}

pub(super) fn lock_timeout_error(
    script: &Script,
    statement: Option<usize>,
    e: &tokio_postgres::Error,
    target: &ConnTarget,
    attempts: u32,
    timeouts: Timeouts,
    mode: Mode,
) -> ConfitureError {
    let what = format!(
        "could not get a lock within lock_timeout = {} ms, {attempts} attempt(s)",
        timeouts.lock_timeout_ms
    );
    let err = match statement {
        Some(i) => {
            let failed = Failed {
                file: &script.file,
                index: i,
                sql: script.file.statement_text(i),
                generated: false,
            };
            statement_error(
                &failed,
                e,
                target,
                codes::MIGRATE_LOCK_TIMEOUT,
                &format!(": {what}"),
            )
        }
        None => ConfitureError::new(
            codes::MIGRATE_LOCK_TIMEOUT,
            format!("{}: {what}", script.file.source.relative),
        ),
    };
    let kept = match mode {
        Mode::Transaction => "nothing of this migration was kept",
        Mode::Autocommit => "the statements before this one stay applied",
    };
    err.with_hint(format!(
        "another session holds a conflicting lock (look for long transactions in pg_stat_activity); {kept}. Run again later, or raise migration.lock_retries / migration.lock_timeout_ms"
    ))
}
