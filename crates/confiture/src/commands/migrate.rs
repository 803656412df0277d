//! `confiture migrate …`.

use std::time::Duration;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::generate::{generate, timestamp_version};
use confiture_core::migrate::sidecar::parse_duration_ms;
use confiture_core::migrate::status::State;
use confiture_ops::migrate::baseline::baseline;
use confiture_ops::migrate::checksums::verify_checksums;
use confiture_ops::migrate::down::{down, Selection};
use confiture_ops::migrate::status::{current, migration_status};
use confiture_ops::migrate::up::{up, ChecksumPolicy, UpOptions};
use confiture_ops::migrate::verify::verify;
use confiture_ops::migrate::{migration_files, migrations_dir, Session};

use crate::args::{ChecksumArg, GlobalArgs, LockArgs, MigrateCommand, TrialArgs};
use crate::commands::migrate_trial::run_trial;
use crate::commands::{environment, project, target_args};
use crate::output::{Output, Style};
use confiture_ops::migrate::dry_run::Direction;

pub async fn run(g: &GlobalArgs, command: &MigrateCommand, out: Output) -> Result<i32> {
    let project = project(g);
    if let MigrateCommand::Generate {
        name,
        from_diff: Some(spec),
    } = command
    {
        return crate::commands::schema::generate_from_diff(g, name, spec, out).await;
    }
    if let MigrateCommand::Preflight { against } = command {
        return crate::commands::schema::preflight_command(g, against.as_deref(), out).await;
    }
    if let MigrateCommand::Generate { name, .. } = command {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let generated = generate(
            &migrations_dir(&project.root),
            name,
            &timestamp_version(now),
        )?;
        out.report(true, &generated, || {
            format!(
                "created {}\ncreated {}",
                generated.up.display(),
                generated.down.display()
            )
        });
        return Ok(0);
    }
    let env = environment(g, &project)?;
    // Files are checked before anything connects.
    let files = migration_files(&project.root)?;
    let label = match command {
        MigrateCommand::Up(_) => "migrate up",
        MigrateCommand::Down { .. } => "migrate down",
        MigrateCommand::DownTo { .. } => "migrate down-to",
        MigrateCommand::Status => "migrate status",
        MigrateCommand::Current => "migrate current",
        MigrateCommand::Baseline { .. } => "migrate baseline",
        MigrateCommand::VerifyChecksums { .. } => "migrate verify-checksums",
        MigrateCommand::Verify => "migrate verify",
        MigrateCommand::Generate { .. } | MigrateCommand::Preflight { .. } => {
            unreachable!("handled above")
        }
    };
    let session = Session::open(&project, &target_args(g), &env, label).await?;
    if !out.quiet && !out.json() {
        for notice in &session.notices {
            eprintln!("{notice}");
        }
    }
    match command {
        MigrateCommand::Up(a) => {
            let options = UpOptions {
                target: a.target.clone(),
                steps: a.steps,
                on_checksum_mismatch: match a.on_checksum_mismatch {
                    ChecksumArg::Fail => ChecksumPolicy::Fail,
                    ChecksumArg::Warn => ChecksumPolicy::Warn,
                    ChecksumArg::Ignore => ChecksumPolicy::Ignore,
                },
                allow_out_of_order: a.allow_out_of_order,
                lock_wait: lock_wait(&a.lock)?,
                progress,
            };
            let wait = options.lock_wait;
            if let Some(code) = run_trial(
                &session,
                &files,
                &a.trial,
                Direction::Up(options.clone()),
                wait,
                progress,
                &out,
            )
            .await?
            {
                return Ok(code);
            }
            let report = up(&session, &files, &options).await?;
            out.report(true, &report, || {
                let mut t = warnings(&out, &report.warnings);
                if report.created_tracking_table {
                    t.push_str(&format!("created the tracking table {}\n", report.tracking_table));
                }
                for m in &report.applied {
                    t.push_str(&format!(
                        "{} {}_{} ({:.0} ms{}{})\n",
                        out.paint(Style::Ok, "applied"),
                        m.version,
                        m.name,
                        m.duration_ms,
                        if m.attempts > 1 { format!(", {} attempts", m.attempts) } else { String::new() },
                        if m.mode == confiture_ops::migrate::execute::Mode::Autocommit { ", autocommit" } else { "" },
                    ));
                    for index in &m.dropped_invalid_indexes {
                        t.push_str(&format!("  dropped the INVALID index {index} left by an earlier failed attempt\n"));
                    }
                    t.push_str(&hook_lines(&m.hooks));
                }
                if report.applied.is_empty() {
                    t.push_str(&format!("{} is up to date\n", report.database));
                } else {
                    t.push_str(&format!("{} migration(s) applied to {}", report.applied.len(), report.database));
                    if report.remaining > 0 {
                        t.push_str(&format!(", {} still pending", report.remaining));
                    }
                    t.push('\n');
                }
                t
            });
            Ok(0)
        }
        MigrateCommand::Down { steps, lock, trial } => {
            rollback(&session, &files, Selection::Steps(*steps), lock, trial, out).await
        }
        MigrateCommand::DownTo {
            version,
            lock,
            trial,
        } => {
            rollback(
                &session,
                &files,
                Selection::To(version.clone()),
                lock,
                trial,
                out,
            )
            .await
        }
        MigrateCommand::Status => {
            let report = migration_status(&session, &files).await?;
            out.report(report.tracking_table_exists, &report, || {
                let mut t = format!(
                    "{} (tracking table {})\n",
                    report.database, report.tracking_table
                );
                if !report.tracking_table_exists {
                    t.push_str(
                        "the tracking table does not exist yet: every migration is pending\n",
                    );
                }
                if !report.migrations.is_empty() {
                    t.push_str(&format!(
                        "  {:<16} {:<36} {:<18} {}\n",
                        "VERSION", "NAME", "STATE", "APPLIED AT"
                    ));
                }
                for e in &report.migrations {
                    let state = match e.state {
                        State::Applied => out.paint(Style::Ok, "applied"),
                        State::Pending => out.paint(Style::Dim, "pending"),
                        State::MissingFile => out.paint(Style::Warn, "missing file"),
                        State::ChecksumMismatch => out.paint(Style::Fail, "checksum mismatch"),
                        State::OutOfOrder => out.paint(Style::Warn, "out of order"),
                    };
                    let pad = 18usize.saturating_sub(visible_len(&state));
                    t.push_str(&format!(
                        "  {:<16} {:<36} {state}{} {}\n",
                        e.version,
                        e.name,
                        " ".repeat(pad),
                        e.applied_at.as_deref().unwrap_or("")
                    ));
                }
                t.push_str(&format!(
                    "{} applied, {} pending\n",
                    report.applied, report.pending
                ));
                t
            });
            Ok(if report.tracking_table_exists {
                0
            } else {
                codes::MIGRATE_NO_TRACKING_TABLE.exit.code()
            })
        }
        MigrateCommand::Current => {
            let row = current(&session).await?;
            let report = serde_json::json!({ "database": session.target.dbname, "current": row });
            out.report(true, &report, || match &row {
                Some(r) => format!("{}_{} (applied {})", r.version, r.name, r.applied_at),
                None => "no migration applied".into(),
            });
            Ok(0)
        }
        MigrateCommand::Baseline { through, lock } => {
            let report = baseline(&session, &files, through, lock_wait(lock)?).await?;
            out.report(true, &report, || {
                let mut t = String::new();
                for r in &report.recorded {
                    t.push_str(&format!("recorded {r} as applied (not run)\n"));
                }
                t.push_str(&format!(
                    "{} recorded, {} already applied\n",
                    report.recorded.len(),
                    report.already_applied
                ));
                t
            });
            Ok(0)
        }
        MigrateCommand::VerifyChecksums { fix, lock } => {
            let report = verify_checksums(&session, &files, *fix, lock_wait(lock)?).await?;
            out.report(true, &report, || {
                if report.fixed {
                    format!(
                        "recorded the current checksums of: {}",
                        report.mismatched.join(", ")
                    )
                } else {
                    format!("{} applied migration(s): checksums match", report.checked)
                }
            });
            Ok(0)
        }
        MigrateCommand::Verify => {
            let report = verify(&session, &files).await?;
            out.report(true, &report, || {
                let mut t = String::new();
                for r in &report.results {
                    t.push_str(&format!(
                        "{} {}_{}\n",
                        out.paint(Style::Ok, "verified"),
                        r.version,
                        r.name
                    ));
                }
                t.push_str(&format!(
                    "{} verified, {} without .verify.sql\n",
                    report.results.len(),
                    report.without_verify
                ));
                t
            });
            Ok(0)
        }
        MigrateCommand::Generate { .. } | MigrateCommand::Preflight { .. } => {
            unreachable!("handled above")
        }
    }
}

async fn rollback(
    session: &Session,
    files: &[confiture_core::migrate::files::MigrationFile],
    selection: Selection,
    lock: &LockArgs,
    trial: &TrialArgs,
    out: Output,
) -> Result<i32> {
    if let Some(code) = run_trial(
        session,
        files,
        trial,
        Direction::Down(selection.clone()),
        lock_wait(lock)?,
        progress,
        &out,
    )
    .await?
    {
        return Ok(code);
    }
    let report = down(session, files, &selection, lock_wait(lock)?, progress).await?;
    out.report(true, &report, || {
        let mut t = warnings(&out, &report.warnings);
        for m in &report.rolled_back {
            t.push_str(&format!(
                "{} {}_{} ({:.0} ms)\n",
                out.paint(Style::Ok, "rolled back"),
                m.version,
                m.name,
                m.duration_ms
            ));
            t.push_str(&hook_lines(&m.hooks));
        }
        if report.rolled_back.is_empty() {
            t.push_str("nothing to roll back\n");
        }
        t
    });
    Ok(0)
}

/// Hooks' progress lines (backfill batches), on a terminal only.
fn progress(line: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("  {line}");
    }
}

/// One line per hook that ran: phase, id, type, what it did.
pub fn hook_lines(hooks: &[confiture_ops::hooks::context::HookResult]) -> String {
    let mut t = String::new();
    for h in hooks {
        let mut what = vec![h.status.to_string()];
        if let Some(rows) = h.rows {
            what.push(format!("{rows} row(s)"));
        }
        what.push(format!("{:.0} ms", h.duration_ms));
        t.push_str(&format!(
            "  hook {} {} ({}): {}\n",
            h.phase.name(),
            h.id,
            h.kind,
            what.join(", ")
        ));
        for note in &h.notes {
            t.push_str(&format!("    {note}\n"));
        }
    }
    t
}

fn lock_wait(lock: &LockArgs) -> Result<Option<Duration>> {
    match &lock.lock_timeout {
        None => Ok(None),
        Some(text) => parse_duration_ms(text)
            .map(|ms| Some(Duration::from_millis(ms)))
            .ok_or_else(|| {
                ConfitureError::new(
                    codes::INPUT_INVALID_ARGUMENT,
                    format!("--lock-timeout: '{text}' is not a duration"),
                )
                .with_hint("e.g. --lock-timeout 30s, 500ms, 2min (a bare number is milliseconds)")
            }),
    }
}

pub fn warnings(out: &Output, list: &[String]) -> String {
    list.iter()
        .map(|w| format!("{}: {w}\n", out.paint(Style::Warn, "warning")))
        .collect()
}

/// Length without ANSI colour codes.
fn visible_len(s: &str) -> usize {
    let mut len = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (false, _) => len += 1,
            _ => {}
        }
    }
    len
}
