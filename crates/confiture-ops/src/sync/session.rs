//! The sessions of a sync: source sessions are read-only snapshot transactions (the first one
//! exports its snapshot, the others import it), target sessions plain; all with the same
//! settings so that values travel as text in stable, parseable forms.

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_pg::ConnTarget;
use tokio_postgres::Client;

/// Session settings of every connection: text values in stable, parseable forms.
const SESSION: &str = "SET DateStyle = ISO; SET TimeZone = 'UTC'; SET extra_float_digits = 3; \
     SET IntervalStyle = postgres; SET bytea_output = hex; SET statement_timeout = 0; \
     SET idle_in_transaction_session_timeout = 0";

pub fn sql_error(conn: &ConnTarget, what: &str, e: &tokio_postgres::Error) -> ConfitureError {
    ConfitureError::new(
        codes::SQL_FAILED,
        format!("{what} on {}: {}", conn.display(), conn.message(e)),
    )
}

pub async fn open_source(conn: &ConnTarget, snapshot: Option<&str>) -> Result<Client> {
    let client = conn.connect().await?;
    let import = match snapshot {
        Some(id) => format!(
            "; SET TRANSACTION SNAPSHOT {}",
            confiture_core::ident::quote_literal(id)
        ),
        None => String::new(),
    };
    client
        .batch_execute(&format!(
            "{SESSION}; SET default_transaction_read_only = on; \
             BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY{import}"
        ))
        .await
        .map_err(|e| sql_error(conn, "opening the source snapshot", &e))?;
    Ok(client)
}

pub async fn open_target(conn: &ConnTarget) -> Result<Client> {
    let client = conn.connect().await?;
    client
        .batch_execute(SESSION)
        .await
        .map_err(|e| sql_error(conn, "setting up the target session", &e))?;
    Ok(client)
}
