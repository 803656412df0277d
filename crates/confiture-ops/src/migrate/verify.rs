//! `confiture migrate verify`: run each applied migration's `.verify.sql` in a read-only
//! transaction (rolled back); its last result's first value must be true.

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::files::{compare_versions, MigrationFile};
use serde::Serialize;
use tokio_postgres::SimpleQueryMessage;

use super::execute::Script;
use super::Session;
use crate::statement_error::{statement_error, Failed};

#[derive(Debug, Clone, Serialize)]
pub struct VerifyResult {
    pub version: String,
    pub name: String,
    pub passed: bool,
    /// What the query returned (its first value), or the error.
    pub result: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub database: String,
    pub results: Vec<VerifyResult>,
    /// Applied migrations without a `.verify.sql`.
    pub without_verify: usize,
}

pub async fn verify(session: &Session, files: &[MigrationFile]) -> Result<VerifyReport> {
    session.require_table().await?;
    let rows = session.table.rows(&session.client, &session.target).await?;
    let mut report = VerifyReport {
        database: session.target.dbname.clone(),
        results: Vec::new(),
        without_verify: 0,
    };
    for row in &rows {
        let Some(file) = files
            .iter()
            .find(|f| compare_versions(&f.version, &row.version).is_eq())
        else {
            continue;
        };
        let Some(path) = &file.verify else {
            report.without_verify += 1;
            continue;
        };
        let script = Script::load(path, &session.project_root)?;
        let result = run_check(session, &script).await?;
        report.results.push(VerifyResult {
            version: file.version.clone(),
            name: file.name.clone(),
            passed: result.as_deref() == Some("t"),
            result: result.unwrap_or_else(|| "no rows".into()),
        });
    }
    let failed: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("{}_{} returned {}", r.version, r.name, r.result))
        .collect();
    if !failed.is_empty() {
        return Err(ConfitureError::new(
            codes::MIGRATE_VERIFY_FAILED,
            format!("verification failed: {}", failed.join("; ")),
        )
        .with_details(serde_json::to_value(&report).unwrap_or_default())
        .with_hint("a .verify.sql must return true once its migration is applied: the database differs from what the migration made"));
    }
    Ok(report)
}

/// The first value of the last row-returning statement, in a read-only transaction.
async fn run_check(session: &Session, script: &Script) -> Result<Option<String>> {
    let client = &session.client;
    let _ = client.batch_execute("BEGIN READ ONLY").await;
    let mut value = None;
    for i in 0..script.file.statements.len() {
        let sql = script.file.statement_text(i);
        match client.simple_query(sql).await {
            Ok(messages) => {
                if let Some(SimpleQueryMessage::Row(row)) = messages
                    .iter()
                    .find(|m| matches!(m, SimpleQueryMessage::Row(_)))
                {
                    value = Some(row.get(0).unwrap_or("NULL").to_string());
                }
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                let failed = Failed {
                    file: &script.file,
                    index: i,
                    sql,
                    generated: false,
                };
                return Err(statement_error(
                    &failed,
                    &e,
                    &session.target,
                    codes::MIGRATE_VERIFY_FAILED,
                    "",
                ));
            }
        }
    }
    let _ = client.batch_execute("ROLLBACK").await;
    Ok(value)
}
