//! `migrate up|down|down-to --preview`: the SQL the command would run, in order — the
//! migrations' statements, the SQL of hooks (other hooks as comments saying what they do), the
//! tracking-table changes and the transaction control around them — without running anything
//! (it only reads the tracking table).

use confiture_core::error::Result;
use confiture_core::migrate::files::MigrationFile;
use confiture_core::migrate::hook_decl::Phase;
use serde::Serialize;

use super::down::plan_down;
use super::dry_run::Direction;
use super::execute::Mode;
use super::ledger::{TrackingTable, STARTED};
use super::up::plan_up;
use super::{Planned, Session};
use crate::hooks::runner::savepoint_name;
use crate::hooks::{Hook, Preview};

#[derive(Debug, Serialize)]
pub struct PreviewReport {
    pub database: String,
    pub direction: &'static str,
    pub tracking_table: String,
    pub creates_tracking_table: bool,
    pub migrations: Vec<String>,
    pub remaining: usize,
    pub warnings: Vec<String>,
    /// The SQL, as it would be sent.
    pub sql: String,
}

pub async fn preview(
    session: &Session,
    files: &[MigrationFile],
    direction: &Direction,
) -> Result<PreviewReport> {
    let exists = session
        .table
        .exists(&session.client, &session.target)
        .await?;
    let rows = if exists {
        session.table.rows(&session.client, &session.target).await?
    } else {
        Vec::new()
    };
    let table = session
        .table
        .qualified(&session.client, &session.target)
        .await?;
    let mut warnings = Vec::new();
    let (plan, remaining, name) = match direction {
        Direction::Up(up) => {
            let (plan, remaining) = plan_up(session, files, up, &rows, &mut warnings)?;
            (plan, remaining, "up")
        }
        Direction::Down(selection) => {
            if !exists {
                session.require_table().await?;
            }
            (
                plan_down(session, files, selection, &rows, &mut warnings)?,
                0,
                "down",
            )
        }
    };
    let mut sql = String::new();
    if !exists && name == "up" && !plan.is_empty() {
        sql.push_str("-- the tracking table does not exist yet: it is created first\n");
        sql.push_str(&table.create_sql());
        sql.push_str("\n\n");
    }
    for p in &plan {
        sql.push_str(&migration_sql(session, &table, p, name));
        sql.push('\n');
    }
    if plan.is_empty() {
        sql.push_str("-- nothing to run\n");
    }
    Ok(PreviewReport {
        database: session.target.dbname.clone(),
        direction: name,
        tracking_table: session.table.display(),
        creates_tracking_table: !exists && name == "up" && !plan.is_empty(),
        migrations: plan
            .iter()
            .map(|p| format!("{}_{}", p.file.version, p.file.name))
            .collect(),
        remaining,
        warnings,
        sql,
    })
}

/// One migration's SQL, mirroring `execute::run`.
fn migration_sql(
    session: &Session,
    table: &TrackingTable,
    p: &Planned<'_>,
    direction: &str,
) -> String {
    let timeouts = session.timeouts(&p.sidecar);
    let ledger = match direction {
        "up" => table.insert_sql(
            &p.file.version,
            &p.file.name,
            p.checksum.as_deref().unwrap_or_default(),
            None,
        ),
        _ => table.delete_sql(&p.file.version),
    };
    let statements: Vec<&str> = (0..p.script.file.statements.len())
        .map(|i| p.script.file.statement_text(i))
        .collect();
    let mut out = format!(
        "-- {}_{} ({}, {})\n",
        p.file.version,
        p.file.name,
        p.script.file.source.relative,
        match p.mode {
            Mode::Transaction => "one transaction",
            Mode::Autocommit => "autocommit: statement by statement",
        }
    );
    let base_timeout = match timeouts.statement_timeout_ms {
        Some(ms) => format!("'{ms}ms'"),
        None => "DEFAULT".into(),
    };
    let standalone = p.mode == Mode::Autocommit;
    let hooks_of = |phase: Phase, out: &mut String| {
        for h in p.hooks.iter().filter(|h| h.decl.phase == phase) {
            out.push_str(&hook_sql(
                h,
                &savepoint_name(&p.hooks, h),
                standalone,
                &base_timeout,
            ));
        }
    };
    let on_error: Vec<&Hook> = p
        .hooks
        .iter()
        .filter(|h| h.decl.phase == Phase::OnError)
        .collect();
    match p.mode {
        Mode::Transaction => {
            out.push_str("BEGIN;\n");
            out.push_str(&format!(
                "SELECT set_config('{STARTED}', clock_timestamp()::text, true);\n"
            ));
            out.push_str(&format!(
                "SET LOCAL lock_timeout = '{}ms';\n",
                timeouts.lock_timeout_ms
            ));
            if let Some(ms) = timeouts.statement_timeout_ms {
                out.push_str(&format!("SET LOCAL statement_timeout = '{ms}ms';\n"));
            }
            hooks_of(Phase::BeforeValidation, &mut out);
            hooks_of(Phase::BeforeDdl, &mut out);
            if !on_error.is_empty() {
                out.push_str("SAVEPOINT confiture_ddl;\n");
            }
            for s in &statements {
                out.push_str(&terminated(s));
            }
            if !on_error.is_empty() {
                out.push_str("RELEASE SAVEPOINT confiture_ddl;\n");
            }
            hooks_of(Phase::AfterDdl, &mut out);
            hooks_of(Phase::AfterValidation, &mut out);
            hooks_of(Phase::Cleanup, &mut out);
            out.push_str(&terminated(&ledger));
            out.push_str("COMMIT;\n");
        }
        Mode::Autocommit => {
            out.push_str(&format!(
                "SELECT set_config('{STARTED}', clock_timestamp()::text, false);\nSET lock_timeout = '{}ms';\n",
                timeouts.lock_timeout_ms
            ));
            if let Some(ms) = timeouts.statement_timeout_ms {
                out.push_str(&format!("SET statement_timeout = '{ms}ms';\n"));
            }
            hooks_of(Phase::BeforeValidation, &mut out);
            hooks_of(Phase::BeforeDdl, &mut out);
            for s in &statements {
                out.push_str(&terminated(s));
            }
            hooks_of(Phase::AfterDdl, &mut out);
            hooks_of(Phase::AfterValidation, &mut out);
            hooks_of(Phase::Cleanup, &mut out);
            out.push_str(&terminated(&ledger));
            out.push_str("RESET lock_timeout;\nRESET statement_timeout;\n");
        }
    }
    if !on_error.is_empty() {
        out.push_str(
            "-- only after a failure (rolled back to its savepoint first), the on_error hooks:\n",
        );
        for h in on_error {
            for line in hook_sql(h, &savepoint_name(&p.hooks, h), standalone, &base_timeout).lines()
            {
                out.push_str(&format!("--   {line}\n"));
            }
        }
    }
    out.push_str("RESET ALL;\n");
    out
}

fn hook_sql(h: &Hook, savepoint: &str, standalone: bool, base_timeout: &str) -> String {
    let mut out = format!(
        "-- hook {} '{}' ({}){}\n",
        h.decl.phase.name(),
        h.decl.id,
        h.kind,
        h.decl
            .description
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default()
    );
    let (open, close) = if standalone {
        ("BEGIN;".to_string(), "COMMIT;".to_string())
    } else {
        (
            format!("SAVEPOINT {savepoint};"),
            format!("RELEASE SAVEPOINT {savepoint};"),
        )
    };
    out.push_str(&open);
    out.push('\n');
    if let Some(ms) = h.decl.timeout_ms {
        out.push_str(&format!("SET LOCAL statement_timeout = '{ms}ms';\n"));
    }
    match h.preview() {
        Preview::Sql(statements) => {
            for s in statements {
                out.push_str(&terminated(&s));
            }
        }
        Preview::Note(text) => out.push_str(&format!("-- {text}\n")),
    }
    out.push_str(&close);
    out.push('\n');
    if h.decl.timeout_ms.is_some() && !standalone {
        out.push_str(&format!("SET LOCAL statement_timeout = {base_timeout};\n"));
    }
    out
}

fn terminated(sql: &str) -> String {
    let t = sql.trim_end();
    if t.ends_with(';') {
        format!("{t}\n")
    } else {
        format!("{t};\n")
    }
}
