//! Running SQL for hooks: row counts from the simple query protocol, errors that carry their
//! SQLSTATE (so the runner can tell a timeout from a failure), never a password.

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use tokio_postgres::SimpleQueryMessage;

use super::{HookOutput, HookRun};

/// A server error as a hook failure: message, SQLSTATE (in `details.sqlstate`), detail.
pub fn error(run: &HookRun<'_>, what: &str, e: &tokio_postgres::Error) -> ConfitureError {
    let Some(db) = e.as_db_error() else {
        return run.target.classify(e);
    };
    let mut err = ConfitureError::new(
        codes::MIGRATE_HOOK_FAILED,
        format!(
            "{what}: {} (SQLSTATE {})",
            run.target.redact(db.message()),
            db.code().code()
        ),
    )
    .with_details(serde_json::json!({ "sqlstate": db.code().code(), "detail": db.detail() }));
    if let Some(detail) = db.detail() {
        err = err.with_hint(format!("detail: {}", run.target.redact(detail)));
    }
    err
}

/// A failure of Confiture's own statements around a hook (savepoints).
pub fn sql_error_plain(
    target: &confiture_pg::ConnTarget,
    e: &tokio_postgres::Error,
) -> ConfitureError {
    match e.as_db_error() {
        Some(db) => ConfitureError::new(
            codes::MIGRATE_HOOK_FAILED,
            format!(
                "{} (SQLSTATE {})",
                target.redact(db.message()),
                db.code().code()
            ),
        )
        .with_details(serde_json::json!({ "sqlstate": db.code().code() })),
        None => target.classify(e),
    }
}

/// Rows returned and rows changed by `text` (one or more statements).
pub struct Executed {
    pub rows: Vec<tokio_postgres::SimpleQueryRow>,
    pub affected: u64,
}

pub async fn execute(run: &HookRun<'_>, text: &str) -> Result<Executed> {
    let messages = run
        .client
        .simple_query(text)
        .await
        .map_err(|e| error(run, &first_line(text), &e))?;
    let mut out = Executed {
        rows: Vec::new(),
        affected: 0,
    };
    for m in messages {
        match m {
            SimpleQueryMessage::Row(r) => out.rows.push(r),
            SimpleQueryMessage::CommandComplete(n) => out.affected += n,
            _ => {}
        }
    }
    Ok(out)
}

/// The first column of the first row, as text (`None` for no row or NULL).
pub async fn scalar(run: &HookRun<'_>, text: &str) -> Result<Option<String>> {
    let out = execute(run, text).await?;
    Ok(out.rows.first().and_then(|r| r.get(0)).map(str::to_string))
}

/// Run each statement; the output counts the rows they changed.
pub async fn run_all(run: &HookRun<'_>, statements: &[String]) -> Result<HookOutput> {
    let mut rows = 0;
    for s in statements {
        rows += execute(run, s).await?.affected;
    }
    Ok(HookOutput {
        rows: Some(rows),
        ..HookOutput::default()
    })
}

/// The statement's first line, shortened, to say which one failed.
pub fn first_line(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or_default();
    let mut short: String = line.chars().take(80).collect();
    if short.len() < line.len() || text.trim().lines().nth(1).is_some() {
        short.push_str(" …");
    }
    short
}
