//! `confiture doctor`: is this project ready to run? Configuration, server binaries,
//! connection, server version, privileges, tracking table. The exit code follows the worst
//! failing check.

use serde::Serialize;

use confiture_core::codes::{self, ErrorCode};
use confiture_core::config::{Project, TargetArgs};
use confiture_core::exit::ExitClass;
use confiture_pg::cluster::PgBinaries;
use confiture_pg::ident::{quote_literal, quote_qualified};

use crate::target::connect_target;

/// Oldest supported PostgreSQL major version.
pub const MIN_SERVER_MAJOR: u32 = 13;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Info,
    Skip,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip)]
    exit: Option<ExitClass>,
}

impl Check {
    fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name,
            status,
            detail: detail.into(),
            hint: None,
            code: None,
            exit: None,
        }
    }

    fn failed(name: &'static str, code: ErrorCode, detail: impl Into<String>) -> Check {
        Check {
            code: Some(code.id),
            exit: Some(code.exit),
            ..Check::new(name, Status::Fail, detail)
        }
    }

    fn hint(mut self, hint: Option<String>) -> Check {
        self.hint = hint;
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    pub ok: bool,
    pub target: Option<String>,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// The exit class of the first failing check. Checks run in dependency order (config,
    /// then connection, then what needs a connection), so the first failure is the cause.
    pub fn exit_class(&self) -> ExitClass {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .filter_map(|c| c.exit)
            .next()
            .unwrap_or(ExitClass::Ok)
    }
}

pub async fn run(project: &Project, args: &TargetArgs) -> DoctorReport {
    let mut checks = Vec::new();
    let var = |k: &str| std::env::var(k).ok();

    // Server binaries (needed for the embedded cluster and the test harness only).
    checks.push(match PgBinaries::locate(&var) {
        Ok(b) => Check::new(
            "binaries",
            Status::Ok,
            format!(
                "PostgreSQL {} in {} (via {})",
                b.version,
                b.bin_dir.display(),
                b.found_via
            ),
        ),
        Err(e) => Check::new("binaries", Status::Warn, e.message.clone()).hint(
            e.hint
                .clone()
                .or(Some("only needed for the embedded cluster".into())),
        ),
    });

    // Configuration and target.
    let connection = match connect_target(project, args, false).await {
        Ok(c) => c,
        Err(e) => {
            let detail = match &e.location {
                Some(loc) if e.code.id != codes::CONFIG_NOT_FOUND.id => {
                    format!("{loc}: {}", e.message)
                }
                _ => e.message.clone(),
            };
            let name = if e.code.id.starts_with("CONFIG") {
                "config"
            } else if e.code.exit == ExitClass::DatabaseUnreachable {
                "connection"
            } else {
                "target"
            };
            checks.push(Check::failed(name, e.code, detail).hint(e.hint.clone()));
            return finish(None, checks);
        }
    };
    checks.push(match &connection.environment {
        Some(env) => Check::new(
            "config",
            Status::Ok,
            format!("environment '{}' from {}", env.name, env.source.display()),
        ),
        None => Check::new(
            "config",
            Status::Info,
            "no environment file; using connection settings only",
        ),
    });
    let target_desc = format!(
        "{} (from {}{})",
        connection.conn.display(),
        connection.origin.describe(),
        if connection.embedded {
            ", embedded cluster"
        } else {
            ""
        }
    );
    checks.push(Check::new("target", Status::Info, target_desc.clone()));

    // Connection.
    let client = match connection.conn.connect().await {
        Ok(c) => {
            checks.push(Check::new(
                "connection",
                Status::Ok,
                format!("connected (sslmode={})", connection.conn.sslmode.as_str()),
            ));
            c
        }
        Err(e) => {
            let hint = if connection.embedded {
                Some("the embedded cluster is not running: `confiture db start`".to_string())
            } else {
                e.hint.clone()
            };
            checks.push(Check::failed("connection", e.code, e.message.clone()).hint(hint));
            return finish(Some(connection.conn.display()), checks);
        }
    };

    // Server version.
    match client
        .query_one(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version')",
            &[],
        )
        .await
    {
        Ok(row) => {
            let num: i32 = row.get(0);
            let text: String = row.get(1);
            let major = (num / 10000) as u32;
            checks.push(if major >= MIN_SERVER_MAJOR {
                Check::new("server_version", Status::Ok, format!("PostgreSQL {text}"))
            } else {
                Check::failed(
                    "server_version",
                    codes::CONN_SERVER_TOO_OLD,
                    format!("PostgreSQL {text} is older than {MIN_SERVER_MAJOR}"),
                )
                .hint(Some(format!(
                    "upgrade the server to PostgreSQL {MIN_SERVER_MAJOR} or newer"
                )))
            });
        }
        Err(e) => checks.push(Check::failed(
            "server_version",
            codes::SQL_FAILED,
            connection.conn.message(&e),
        )),
    }

    // Privileges: really try to create a table, then roll back.
    let superuser: bool = client
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map(|r| r.get(0))
        .unwrap_or(false);
    let probe = client
        .batch_execute("BEGIN; CREATE TABLE confiture_doctor_probe (id int); ROLLBACK;")
        .await;
    let _ = client.batch_execute("ROLLBACK").await;
    checks.push(match probe {
        Ok(()) => Check::new(
            "privileges",
            Status::Ok,
            format!(
                "can create tables in the current schema; {}",
                if superuser {
                    "superuser"
                } else {
                    "not a superuser"
                }
            ),
        ),
        Err(e) => Check::new(
            "privileges",
            Status::Warn,
            format!("cannot create tables: {}", connection.conn.message(&e)),
        )
        .hint(Some(
            "grant CREATE on the target schema to this role to build and migrate".into(),
        )),
    });

    // Tracking table.
    let table = connection
        .environment
        .as_ref()
        .map(|e| e.migration.tracking_table.clone())
        .unwrap_or_else(|| "tb_confiture".into());
    // The name is quoted exactly as the migrator will use it, so mixed case agrees.
    let sql = format!(
        "SELECT to_regclass({}) IS NOT NULL",
        quote_literal(&quote_qualified(&table))
    );
    checks.push(match client.query_one(&sql, &[]).await {
        Ok(row) if row.get::<_, bool>(0) => {
            let count = client
                .query_one(
                    &format!(
                        "SELECT count(*) FROM {}",
                        confiture_pg::ident::quote_qualified(&table)
                    ),
                    &[],
                )
                .await
                .map(|r| r.get::<_, i64>(0))
                .unwrap_or(0);
            Check::new(
                "tracking_table",
                Status::Ok,
                format!("{table} present ({count} migrations recorded)"),
            )
        }
        Ok(_) => Check::new(
            "tracking_table",
            Status::Info,
            format!("{table} absent (created by the first `migrate up`)"),
        ),
        Err(e) => Check::new("tracking_table", Status::Warn, connection.conn.message(&e)),
    });

    finish(Some(connection.conn.display()), checks)
}

fn finish(target: Option<String>, checks: Vec<Check>) -> DoctorReport {
    DoctorReport {
        ok: checks.iter().all(|c| c.status != Status::Fail),
        target,
        checks,
    }
}
