//! `confiture build --apply`: run a build into its database in one transaction.
//!
//! The database is created when missing. `--recreate` builds into a fresh temporary database and
//! swaps it in only when everything succeeded, so a failing build leaves the old database as it
//! was. Statements PostgreSQL refuses inside a transaction block run after the commit, still
//! before the swap. Statements are pipelined (sent without waiting for each answer); the first
//! error is the failing statement, reported at its source file and line.

use confiture_core::build::plan::{StatementId, Step};
use confiture_core::build::scan::is_copy_from_stdin;
use confiture_core::build::source::LoadedFile;
use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_pg::ident::quote_ident;
use confiture_pg::ConnTarget;
use confiture_sql::autocommit::{classify, without_concurrently, TxNeed};
use futures_util::{stream, StreamExt};
use serde::Serialize;
use std::borrow::Cow;
use tokio_postgres::Client;

use super::Built;
use crate::statement_error::Failed;
use crate::target::Connection;

/// Environments where `--recreate` may drop a database without `--force`.
pub const DISPOSABLE_ENVIRONMENTS: [&str; 3] = ["local", "test", "ci"];

/// How many statements are in flight at once.
const PIPELINE_DEPTH: usize = 256;

#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    pub recreate: bool,
    pub force: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub database: String,
    /// The server, without password.
    pub target: String,
    pub embedded: bool,
    pub created: bool,
    pub recreated: bool,
    pub statements_in_transaction: usize,
    /// Statements run after the transaction because PostgreSQL refuses them inside one.
    pub statements_after_transaction: Vec<String>,
}

/// One statement to send, and where it came from.
struct Exec<'a> {
    sql: Cow<'a, str>,
    id: StatementId,
    /// The text is not the user's (rewritten or added by dependency ordering).
    generated: bool,
}

/// What to undo when the build fails.
enum Undo {
    /// Roll back the transaction; nothing else was created.
    Nothing,
    /// Drop the database created for the build.
    Drop(String),
}

pub async fn apply(
    conn: &Connection,
    environment: &str,
    built: &Built,
    options: ApplyOptions,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ApplyReport> {
    let (inside, outside) = statements(built)?;
    let target = conn.conn.dbname.clone();
    if options.recreate {
        check_recreate_allowed(environment, &target, options.force)?;
    }
    let admin = connect_admin(&conn.conn).await?;
    let exists = database_exists(&admin, &conn.conn, &target).await?;

    let (work, undo) = match (exists, options.recreate) {
        (false, _) => {
            create_database(&admin, &conn.conn, &target).await?;
            (target.clone(), Undo::Drop(target.clone()))
        }
        (true, false) => (target.clone(), Undo::Nothing),
        (true, true) => {
            // Fail now rather than after the whole build, at the swap.
            refuse_if_in_use(&admin, &conn.conn, &target).await?;
            let temp = temporary_name(&target);
            drop_database(&admin, &conn.conn, &temp, true).await?;
            let owner = database_owner(&admin, &conn.conn, &target).await?;
            let with_owner = admin
                .batch_execute(&format!(
                    "CREATE DATABASE {} OWNER {}",
                    quote_ident(&temp),
                    quote_ident(&owner)
                ))
                .await;
            if with_owner.is_err() {
                // Not allowed to give it away: the new database belongs to the connecting role.
                create_database(&admin, &conn.conn, &temp).await?;
            }
            (temp.clone(), Undo::Drop(temp))
        }
    };

    let outcome = run(&conn.conn, &work, &built.files, &inside, &outside, progress).await;
    if let Err(err) = outcome {
        let undone = match &undo {
            Undo::Nothing => "the transaction was rolled back".to_string(),
            Undo::Drop(db) => match drop_database(&admin, &conn.conn, db, true).await {
                Ok(()) => format!("the database {db} created for the build was dropped"),
                Err(e) => format!(
                    "the database {db} created for the build could not be dropped: {}",
                    e.message
                ),
            },
        };
        let after_commit = err.details.get("after_commit").is_some();
        let note = if after_commit && matches!(undo, Undo::Nothing) {
            "the transaction had committed before this statement ran: the database holds the build without it".to_string()
        } else if exists {
            format!("{undone}; {target} is as it was before the build")
        } else {
            format!("{undone}; nothing was changed")
        };
        let hint = match &err.hint {
            Some(h) => format!("{h}\n{note}"),
            None => note,
        };
        return Err(err.with_hint(hint));
    }

    if let (true, true) = (exists, options.recreate) {
        swap_in(&admin, &conn.conn, &work, &target).await?;
    }
    Ok(ApplyReport {
        database: target,
        target: conn.conn.display(),
        embedded: conn.embedded,
        created: !exists,
        recreated: exists && options.recreate,
        statements_in_transaction: inside.len(),
        statements_after_transaction: outside
            .iter()
            .map(|e| where_is(&built.files, e.id))
            .collect(),
    })
}

/// The statements of the plan, split into those run inside the transaction and after it.
fn statements(built: &Built) -> Result<(Vec<Exec<'_>>, Vec<Exec<'_>>)> {
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for step in &built.plan.steps {
        let exec = match step {
            Step::Original(id) => Exec {
                sql: Cow::Borrowed(built.files[id.file].statement_text(id.index)),
                id: *id,
                generated: false,
            },
            Step::Rewritten { id, sql, .. }
            | Step::Added { id, sql, .. }
            | Step::Inserted { id, sql, .. } => Exec {
                sql: Cow::Borrowed(sql),
                id: *id,
                generated: true,
            },
        };
        if !exec.generated && is_copy_from_stdin(&exec.sql) {
            return Err(located(
                &built.files,
                exec.id,
                None,
                codes::BUILD_COPY_FROM_STDIN,
                "COPY … FROM stdin: its data lines are for psql, which --apply does not use".into(),
            )
            .with_hint(
                "load the rows with INSERT, or apply the generated file with `psql -1 -f`",
            ));
        }
        match classify(&exec.sql) {
            TxNeed::Transaction => inside.push(exec),
            TxNeed::Autocommit { .. } => match without_concurrently(&exec.sql) {
                // A database being built has no traffic to protect: CONCURRENTLY buys nothing,
                // and without it the index is part of the one transaction (so statements that
                // use it can follow it).
                Some(sql) => inside.push(Exec {
                    sql: Cow::Owned(sql),
                    generated: true,
                    ..exec
                }),
                None => outside.push(exec),
            },
            TxNeed::TransactionControl => {
                return Err(located(
                    &built.files,
                    exec.id,
                    None,
                    codes::BUILD_TRANSACTION_CONTROL,
                    "transaction control (BEGIN, COMMIT, ROLLBACK, …) in a build: `--apply` runs the whole build in one transaction".into(),
                )
                .with_hint("remove it from the file; the build is atomic without it"));
            }
        }
    }
    Ok((inside, outside))
}

async fn run(
    target: &ConnTarget,
    database: &str,
    files: &[LoadedFile],
    inside: &[Exec<'_>],
    outside: &[Exec<'_>],
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<()> {
    let client = target.with_dbname(database).connect().await?;
    let total = inside.len() + outside.len();
    client
        .batch_execute("BEGIN")
        .await
        .map_err(|e| target.classify(&e))?;
    let mut results = stream::iter(inside)
        .map(|exec| client.batch_execute(&exec.sql))
        .buffered(PIPELINE_DEPTH);
    let mut done = 0;
    while let Some(result) = results.next().await {
        if let Err(e) = result {
            drop(results);
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(statement_error(files, &inside[done], &e, target));
        }
        done += 1;
        if done % 100 == 0 {
            progress(done, total);
        }
    }
    drop(results);
    client
        .batch_execute("COMMIT")
        .await
        .map_err(|e| commit_error(&e, target))?;
    for exec in outside {
        client.batch_execute(&exec.sql).await.map_err(|e| {
            let err = statement_error(files, exec, &e, target);
            let details =
                serde_json::json!({ "after_commit": true, "server": err.details.clone() });
            err.with_details(details)
        })?;
        done += 1;
        progress(done, total);
    }
    progress(total, total);
    Ok(())
}

/// COMMIT fails when a deferred constraint or trigger fails: no statement to point at.
fn commit_error(e: &tokio_postgres::Error, target: &ConnTarget) -> ConfitureError {
    let Some(db) = e.as_db_error() else {
        return target.classify(e);
    };
    let mut err = ConfitureError::new(
        codes::BUILD_APPLY_FAILED,
        format!(
            "{} (SQLSTATE {}) at COMMIT: a deferred constraint or trigger failed",
            target.redact(db.message()),
            db.code().code()
        ),
    )
    .with_details(serde_json::json!({
        "sqlstate": db.code().code(),
        "detail": db.detail(),
        "server_hint": db.hint(),
        "where": db.where_(),
    }));
    if let Some(detail) = db.detail() {
        err = err.with_hint(format!("detail: {}", target.redact(detail)));
    }
    err
}

fn check_recreate_allowed(environment: &str, database: &str, force: bool) -> Result<()> {
    if matches!(database, "postgres" | "template0" | "template1") {
        return Err(ConfitureError::new(
            codes::BUILD_RECREATE_REFUSED,
            format!("refusing to recreate the system database {database}"),
        )
        .with_hint("point the environment at an application database"));
    }
    if !force && !DISPOSABLE_ENVIRONMENTS.contains(&environment) {
        return Err(ConfitureError::new(
            codes::BUILD_RECREATE_REFUSED,
            format!(
                "refusing to drop and recreate {database}: environment '{environment}' is not one of {}",
                DISPOSABLE_ENVIRONMENTS.join(", ")
            ),
        )
        .with_hint("add --force if this database really is disposable"));
    }
    Ok(())
}

/// A connection to the server's maintenance database, to create and drop databases.
async fn connect_admin(target: &ConnTarget) -> Result<Client> {
    match target.with_dbname("postgres").connect().await {
        Ok(client) => Ok(client),
        Err(e) if e.code.id == codes::CONN_DATABASE_MISSING.id => {
            target.with_dbname("template1").connect().await
        }
        Err(e) => Err(e),
    }
}

async fn database_exists(admin: &Client, target: &ConnTarget, name: &str) -> Result<bool> {
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .map(|row| row.is_some())
        .map_err(|e| admin_error(target, "look up", name, &e))
}

async fn refuse_if_in_use(admin: &Client, target: &ConnTarget, name: &str) -> Result<()> {
    let others: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .await
        .map_err(|e| admin_error(target, "inspect the sessions of", name, &e))?
        .get(0);
    if others == 0 {
        return Ok(());
    }
    Err(ConfitureError::new(
        codes::SQL_FAILED,
        format!("cannot recreate database {name}: {others} other session(s) are connected to it"),
    )
    .with_hint("close them (see pg_stat_activity), then run again; nothing was changed"))
}

async fn database_owner(admin: &Client, target: &ConnTarget, name: &str) -> Result<String> {
    admin
        .query_one(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .map(|row| row.get(0))
        .map_err(|e| admin_error(target, "look up the owner of", name, &e))
}

async fn create_database(admin: &Client, target: &ConnTarget, name: &str) -> Result<()> {
    admin
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(name)))
        .await
        .map_err(|e| admin_error(target, "create", name, &e))
}

async fn drop_database(admin: &Client, target: &ConnTarget, name: &str, force: bool) -> Result<()> {
    // FORCE (PostgreSQL 13+) only for databases this build created: it ends their sessions.
    let with_force = if force { " WITH (FORCE)" } else { "" };
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {}{with_force}",
            quote_ident(name)
        ))
        .await
        .map_err(|e| admin_error(target, "drop", name, &e))
}

/// Replace `target` with the freshly built `built`.
async fn swap_in(admin: &Client, conn: &ConnTarget, built: &str, target: &str) -> Result<()> {
    if let Err(err) = drop_database(admin, conn, target, false).await {
        let _ = drop_database(admin, conn, built, true).await;
        return Err(err);
    }
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(built),
            quote_ident(target)
        ))
        .await
        .map_err(|e| {
            admin_error(conn, "rename the new build to", target, &e).with_hint(format!(
                "the complete build is in database {built}; rename it by hand"
            ))
        })
}

fn admin_error(
    target: &ConnTarget,
    what: &str,
    name: &str,
    e: &tokio_postgres::Error,
) -> ConfitureError {
    let Some(db) = e.as_db_error() else {
        return target.classify(e);
    };
    let hint = match db.code().code() {
        "42501" => "the user needs the CREATEDB privilege (ALTER ROLE … CREATEDB), or create the database beforehand",
        "55006" => "other sessions are connected to it: close them (see pg_stat_activity) and run again",
        _ => "see the server message",
    };
    ConfitureError::new(
        codes::SQL_FAILED,
        format!("cannot {what} database {name}: {}", target.message(e)),
    )
    .with_hint(hint)
}

/// `<name>__confiture_build`, cut to PostgreSQL's 63-byte identifier limit.
fn temporary_name(name: &str) -> String {
    const SUFFIX: &str = "__confiture_build";
    let mut keep = 63 - SUFFIX.len();
    while !name.is_char_boundary(keep.min(name.len())) {
        keep -= 1;
    }
    format!("{}{SUFFIX}", &name[..keep.min(name.len())])
}

/// A failed statement, at its source file and line.
fn statement_error(
    files: &[LoadedFile],
    exec: &Exec<'_>,
    e: &tokio_postgres::Error,
    target: &ConnTarget,
) -> ConfitureError {
    let failed = Failed {
        file: &files[exec.id.file],
        index: exec.id.index,
        sql: &exec.sql,
        generated: exec.generated,
    };
    let suffix = if exec.generated {
        " in a statement rewritten by --order dependencies"
    } else {
        ""
    };
    crate::statement_error::statement_error(&failed, e, target, codes::BUILD_APPLY_FAILED, suffix)
}

fn located(
    files: &[LoadedFile],
    id: StatementId,
    offset: Option<usize>,
    code: codes::ErrorCode,
    message: String,
) -> ConfitureError {
    crate::statement_error::located(&files[id.file], id.index, offset, code, message)
}

fn where_is(files: &[LoadedFile], id: StatementId) -> String {
    crate::statement_error::where_is(&files[id.file], id.index)
}
