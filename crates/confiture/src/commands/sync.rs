//! `confiture sync`: resolve both databases and the profile, run the sync with progress bars on
//! a terminal, render the report.

use std::io::IsTerminal;
use std::sync::Arc;

use confiture_core::codes;
use std::path::PathBuf;

use confiture_core::config::{Project, TargetArgs};
use confiture_core::error::{ConfitureError, Result};
use confiture_ops::build::apply::{apply, ApplyOptions};
use confiture_ops::build::{build, BuildOptions, OutputTarget};
use confiture_ops::sync::plan::Selection;
use confiture_ops::sync::progress::{Progress, Silent};
use confiture_ops::sync::{pii_gate, sync, SyncOptions, SyncReport};
use confiture_ops::target::{connect_target, Connection};

use crate::args::{GlobalArgs, SyncArgs};
use crate::commands::anonymize::load_profile;
use crate::commands::project;
use crate::output::{with_error, Output, Style};

mod bars;

/// An environment name or a DSN, as `--from`/`--to` take them.
pub fn target_of(text: &str) -> TargetArgs {
    let dsn = text.contains("://") || text.contains('=');
    TargetArgs {
        database_url: dsn.then(|| text.to_string()),
        env: (!dsn).then(|| text.to_string()),
        config: None,
    }
}

pub async fn run(g: &GlobalArgs, a: &SyncArgs, out: Output) -> Result<i32> {
    let project = project(g);
    let (from, to) = (target_of(&a.from), target_of(&a.to));
    let (source, target): (Connection, Connection) = tokio::try_join!(
        connect_target(&project, &from, true),
        connect_target(&project, &to, true),
    )?;
    for n in source.notices.iter().chain(&target.notices) {
        if !out.quiet && !out.json() {
            eprintln!("{n}");
        }
    }
    let profile = match (&a.profile, a.anonymize) {
        (Some(p), _) => Some(load_profile(&project, p)?),
        (None, true) => {
            let file = a
                .anonymization_config
                .clone()
                .unwrap_or_else(|| PathBuf::from("db/sync/anonymization.yaml"));
            Some(load_profile(&project, &file.to_string_lossy())?)
        }
        (None, false) => None,
    };

    let strict = !a.no_strict && profile.as_ref().is_none_or(|p| p.strict);
    let tracking_table = target
        .environment
        .as_ref()
        .map(|e| e.migration.tracking_table.clone())
        .unwrap_or_else(|| "tb_confiture".to_string());
    let opts = SyncOptions {
        source: source.conn.clone(),
        target: target.conn.clone(),
        profile,
        selection: Selection::new(&a.tables, &a.exclude)?,
        jobs: a.jobs,
        resume: a.resume,
        checkpoint: a
            .checkpoint
            .clone()
            .unwrap_or_else(|| project.root.join(".confiture/sync-checkpoint.json")),
        strict,
        tracking_table,
        split_min_bytes: a
            .split_above
            .map_or(i64::MAX, |mib| (mib as i64).saturating_mul(1024 * 1024)),
    };
    if a.build {
        // Rebuilding empties the target: check the PII gate first so that a refused sync
        // leaves the target as it was.
        pii_gate(&opts).await?;
        build_target(&project, &target, a.force, &out).await?;
    }
    let show_bars = !out.quiet && !out.json() && std::io::stderr().is_terminal();
    let progress: Arc<dyn Progress> = if show_bars {
        Arc::new(bars::Bars::new())
    } else {
        Arc::new(Silent)
    };
    let report = sync(opts, progress).await?;
    let failed = (!report.ok).then(|| {
        ConfitureError::new(
            codes::SYNC_VERIFY_FAILED,
            format!(
                "row counts differ after the sync: {}",
                report
                    .verification
                    .iter()
                    .map(|m| format!(
                        "{} has {} rows, {} were copied",
                        m.table, m.found, m.expected
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
        .with_hint("another session wrote to the target during the sync; run it again")
    });
    out.report(report.ok, &with_error(&report, failed.as_ref()), || {
        render(&out, &report)
    });
    match failed {
        None => Ok(0),
        Some(e) => {
            if !out.json() {
                out.error(&e);
            }
            Ok(e.exit_class().code())
        }
    }
}

/// `--build`: the target database recreated from the schema files (schema only, no seeds).
async fn build_target(
    project: &Project,
    target: &Connection,
    force: bool,
    out: &Output,
) -> Result<()> {
    let var = |k: &str| std::env::var(k).ok();
    let env = match &target.environment {
        Some(e) => e.clone(),
        None => project.load_environment(confiture_core::config::DEFAULT_ENV, &var)?,
    };
    let options = BuildOptions {
        schema_only: true,
        order: None,
        output: OutputTarget::Default,
        timestamp: false,
    };
    let built = build(&env, &options)?;
    let name = match &target.environment {
        Some(e) => e.name.clone(),
        None => "(--to DSN)".to_string(),
    };
    let report = apply(
        target,
        &name,
        &built,
        ApplyOptions {
            recreate: true,
            force,
        },
        &mut |_, _| {},
    )
    .await?;
    if !out.quiet && !out.json() {
        eprintln!(
            "built {} from {} file(s) ({} statements)",
            report.database,
            built.files.len(),
            report.statements_in_transaction + report.statements_after_transaction.len()
        );
    }
    Ok(())
}

fn render(out: &Output, r: &SyncReport) -> String {
    let mut s = String::new();
    for u in &r.uncovered_pii {
        s.push_str(&out.paint(
            Style::Warn,
            &format!("warning: {} copied unchanged (--no-strict)\n", u.describe()),
        ));
    }
    for t in &r.tables {
        let mark = match t.status {
            "copied" => out.paint(Style::Ok, "✓"),
            _ => out.paint(Style::Dim, "·"),
        };
        let detail = match t.status {
            "copied" => format!(
                "{} rows in {:.2} s ({} rows/s)",
                t.rows,
                t.duration_ms as f64 / 1000.0,
                t.rows_per_second
            ),
            "skipped" => "skipped by the profile (emptied)".to_string(),
            _ => format!("{} rows, complete before --resume", t.rows),
        };
        s.push_str(&format!("{mark} {}  {detail}", t.table));
        if !t.anonymized.is_empty() {
            let cols = t
                .anonymized
                .iter()
                .map(|c| format!("{}: {}", c.column, c.strategy))
                .collect::<Vec<_>>()
                .join(", ");
            s.push_str(&out.paint(Style::Dim, &format!("  [{cols}]")));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "synced {} table(s), {} rows, {} sequence(s) from {} to {} in {:.2} s{}\n",
        r.tables.len(),
        r.rows,
        r.sequences,
        r.source,
        r.target,
        r.duration_ms as f64 / 1000.0,
        match &r.profile {
            Some(p) => format!(" with profile '{p}'"),
            None => String::new(),
        }
    ));
    if r.ok {
        s.push_str(&out.paint(Style::Ok, "row counts verified\n"));
    }
    s
}
