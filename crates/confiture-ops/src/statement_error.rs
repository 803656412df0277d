//! A statement the server rejected, reported where the user wrote it: the source file, and the
//! line and column of the failing token (the server's error position mapped back into the file),
//! with the SQLSTATE, message, detail and hint. Shared by `build --apply` and `migrate`.

use confiture_core::build::scan::{column_of, line_of};
use confiture_core::build::source::LoadedFile;
use confiture_core::codes::ErrorCode;
use confiture_core::error::{ConfitureError, Location};
use confiture_pg::ConnTarget;
use tokio_postgres::error::ErrorPosition;

/// The statement that failed: statement `index` of `file`, run as `sql` (its own text, or a
/// text Confiture generated from it, whose positions do not map back).
pub struct Failed<'a> {
    pub file: &'a LoadedFile,
    pub index: usize,
    pub sql: &'a str,
    pub generated: bool,
}

pub fn statement_error(
    failed: &Failed<'_>,
    e: &tokio_postgres::Error,
    target: &ConnTarget,
    code: ErrorCode,
    suffix: &str,
) -> ConfitureError {
    let Some(db) = e.as_db_error() else {
        if e.is_closed() {
            return target.classify(e);
        }
        // The driver refused it (e.g. COPY … FROM stdin data, a NUL byte): still this statement.
        return located(
            failed.file,
            failed.index,
            None,
            code,
            format!(
                "the statement could not be run: {}{suffix}",
                target.redact(&e.to_string())
            ),
        );
    };
    // The server's cursor position is a 1-based character index into the statement.
    let offset = match (db.position(), failed.generated) {
        (Some(ErrorPosition::Original(p)), false) => failed
            .sql
            .char_indices()
            .nth((*p as usize).saturating_sub(1))
            .map(|(i, _)| i),
        _ => None,
    };
    let message = format!(
        "{} (SQLSTATE {}){suffix}",
        target.redact(db.message()),
        db.code().code()
    );
    let first_line: String = failed
        .sql
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let err =
        located(failed.file, failed.index, offset, code, message).with_details(serde_json::json!({
            "sqlstate": db.code().code(),
            "detail": db.detail(),
            "server_hint": db.hint(),
            "where": db.where_(),
            "statement": first_line,
        }));
    let mut hint = Vec::new();
    if let Some(detail) = db.detail() {
        hint.push(format!("detail: {}", target.redact(detail)));
    }
    if let Some(h) = db.hint() {
        hint.push(format!("server hint: {}", target.redact(h)));
    }
    if hint.is_empty() {
        err
    } else {
        err.with_hint(hint.join("\n"))
    }
}

/// An error at statement `index` of `file`, or at byte `offset` inside its text when known.
pub fn located(
    file: &LoadedFile,
    index: usize,
    offset: Option<usize>,
    code: ErrorCode,
    message: String,
) -> ConfitureError {
    let statement = &file.statements[index];
    let absolute = statement.start + offset.unwrap_or(0);
    // Lines within the statement, counting \r\n, \n and a lone \r as the scanner does.
    let line =
        statement.line + line_of(&file.text[statement.start..], absolute - statement.start) - 1;
    let column = column_of(&file.text, absolute);
    ConfitureError::new(code, message).at(Location::at(&file.source.path, line, column))
}

/// `relative/path.sql:line` of a statement.
pub fn where_is(file: &LoadedFile, index: usize) -> String {
    format!("{}:{}", file.source.relative, file.statements[index].line)
}
