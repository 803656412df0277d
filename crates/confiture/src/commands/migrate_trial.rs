//! `migrate up|down|down-to --dry-run` and `--preview`: rendering their reports.

use confiture_core::error::Result;
use confiture_core::migrate::files::MigrationFile;
use confiture_core::migrate::hook_decl::Phase;
use confiture_ops::migrate::dry_run::probe::Effects;
use confiture_ops::migrate::dry_run::{dry_run, Direction, DryRunOptions, DryRunReport};
use confiture_ops::migrate::preview::preview;
use confiture_ops::migrate::Session;

use crate::args::TrialArgs;
use crate::output::{Output, Style};

/// Run the dry-run or preview `trial` asks for; `None` when it asks for neither.
pub async fn run_trial(
    session: &Session,
    files: &[MigrationFile],
    trial: &TrialArgs,
    direction: Direction,
    lock_wait: Option<std::time::Duration>,
    progress: fn(&str),
    out: &Output,
) -> Result<Option<i32>> {
    if trial.preview {
        let report = preview(session, files, &direction).await?;
        out.report(true, &report, || {
            let mut t = super::migrate::warnings(out, &report.warnings)
                .lines()
                .map(|l| format!("-- {l}\n"))
                .collect::<String>();
            t.push_str(&format!(
                "-- confiture migrate {} --preview on {}: the SQL it would run, in order; nothing was run\n\n",
                report.direction, report.database
            ));
            t.push_str(&report.sql);
            if report.remaining > 0 {
                t.push_str(&format!("-- {} more pending migration(s) not selected\n", report.remaining));
            }
            t
        });
        return Ok(Some(0));
    }
    if !trial.dry_run {
        return Ok(None);
    }
    let options = DryRunOptions {
        direction,
        sample_rows: trial.show_sample_rows.unwrap_or(0),
        lock_wait,
        progress,
    };
    let report = dry_run(session, files, &options).await?;
    let ok = report.failure_error.is_none();
    out.report(ok, &report, || render(out, &report));
    match &report.failure_error {
        Some(e) => {
            if !out.json() {
                out.error(e);
            }
            Ok(Some(e.exit_class().code()))
        }
        None => Ok(Some(0)),
    }
}

fn render(out: &Output, r: &DryRunReport) -> String {
    let mut t = super::migrate::warnings(out, &r.warnings);
    t.push_str(&format!(
        "{} of {} migration(s) {} on {}: rolled back, nothing was kept, the tracking table was not written\n",
        out.paint(Style::Ok, "dry-run"),
        r.migrations.len(),
        r.direction,
        r.database
    ));
    for m in &r.migrations {
        t.push_str(&format!(
            "\n{}_{} ({}, {:.0} ms)\n",
            m.version,
            m.name,
            match m.mode {
                confiture_ops::migrate::execute::Mode::Transaction => "one transaction",
                confiture_ops::migrate::execute::Mode::Autocommit => "autocommit",
            },
            m.duration_ms
        ));
        // In the order they ran: the hooks before the DDL, the statements, the hooks after.
        let hooks = |phases: &[Phase], t: &mut String| {
            for h in m.hooks.iter().filter(|h| phases.contains(&h.result.phase)) {
                let mut what = vec![h.result.status.to_string()];
                if let Some(rows) = h.result.rows {
                    what.push(format!("{rows} row(s)"));
                }
                t.push_str(&format!(
                    "  hook {} {} ({}): {}, {:.1} ms\n",
                    h.result.phase.name(),
                    h.result.id,
                    h.result.kind,
                    what.join(", "),
                    h.result.duration_ms
                ));
                t.push_str(&effects_lines(&h.effects, "      "));
                for note in &h.result.notes {
                    t.push_str(&format!("      {note}\n"));
                }
            }
        };
        hooks(&[Phase::BeforeValidation, Phase::BeforeDdl], &mut t);
        for s in &m.statements {
            t.push_str(&format!(
                "  statement {} (line {}): {:.1} ms  {}\n",
                s.index, s.line, s.duration_ms, s.sql
            ));
            t.push_str(&effects_lines(&s.effects, "      "));
            for sample in &s.samples {
                t.push_str(&format!(
                    "      sample {}: {} -> {}\n",
                    sample.table, sample.before, sample.after
                ));
            }
        }
        hooks(
            &[
                Phase::AfterDdl,
                Phase::AfterValidation,
                Phase::Cleanup,
                Phase::OnError,
            ],
            &mut t,
        );
        let held = strongest(&m.locks_held);
        if !held.is_empty() {
            t.push_str(&format!("  locks held until COMMIT: {}\n", held.join(", ")));
        }
        if !m.earlier_locks_on.is_empty() {
            t.push_str(&format!(
                "  {} {} already locked by an earlier migration of this dry-run: this one's own locks on it are not seen (dry-run it alone with --target to see them)\n",
                out.paint(Style::Warn, "note:"),
                m.earlier_locks_on.join(", ")
            ));
        }
        for n in &m.not_executed {
            t.push_str(&format!(
                "  {} statement {} (line {}): {}  {}\n",
                out.paint(Style::Warn, "not executed:"),
                n.index,
                n.line,
                n.reason,
                n.sql
            ));
        }
    }
    for v in &r.constraint_violations {
        t.push_str(&format!(
            "{} in {}: {}\n",
            out.paint(Style::Warn, "constraint violation"),
            v.migration,
            v.message
        ));
    }
    t.push_str(&format!(
        "\ntotal: {} inserted, {} updated, {} deleted, WAL {}\n",
        r.rows_inserted,
        r.rows_updated,
        r.rows_deleted,
        bytes(r.wal_bytes)
    ));
    let e = &r.estimate;
    let high = if e.high_ms >= f64::MAX / 2.0 {
        "unknown".to_string()
    } else {
        duration(e.high_ms)
    };
    t.push_str(&format!(
        "estimate of the real run: {} (between {} and {}), confidence {}\n",
        duration(e.ms),
        duration(e.low_ms),
        high,
        e.confidence
    ));
    for b in &e.basis {
        t.push_str(&format!("  {b}\n"));
    }
    if r.remaining > 0 {
        t.push_str(&format!(
            "{} more pending migration(s) not selected\n",
            r.remaining
        ));
    }
    t
}

fn effects_lines(e: &Effects, indent: &str) -> String {
    let mut parts = Vec::new();
    for rows in &e.rows_by_table {
        let mut w = Vec::new();
        if rows.inserted > 0 {
            w.push(format!("{} inserted", rows.inserted));
        }
        if rows.updated > 0 {
            w.push(format!("{} updated", rows.updated));
        }
        if rows.deleted > 0 {
            w.push(format!("{} deleted", rows.deleted));
        }
        parts.push(format!("rows of {}: {}", rows.table, w.join(", ")));
    }
    let locks: Vec<String> = e
        .locks
        .iter()
        .filter(|l| !l.new_relation)
        .map(|l| format!("{} on {}", l.mode, l.relation))
        .collect();
    if !locks.is_empty() {
        parts.push(format!("locks: {}", locks.join(", ")));
    }
    if !e.rewritten.is_empty() {
        parts.push(format!("rewrites: {}", e.rewritten.join(", ")));
    }
    for (label, o) in [("created", &e.created), ("dropped", &e.dropped)] {
        let all: Vec<String> = o
            .tables
            .iter()
            .map(|x| format!("table {x}"))
            .chain(o.indexes.iter().map(|x| format!("index {x}")))
            .chain(o.constraints.iter().cloned())
            .chain(o.columns.iter().map(|x| format!("column {x}")))
            .chain(o.other.iter().cloned())
            .collect();
        if !all.is_empty() {
            parts.push(format!("{label}: {}", all.join(", ")));
        }
    }
    if let Some(w) = e.wal_bytes.filter(|w| *w > 0) {
        parts.push(format!("WAL {}", bytes(w)));
    }
    parts
        .into_iter()
        .map(|p| format!("{indent}{p}\n"))
        .collect()
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn duration(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// The strongest lock held on each relation (the one that decides who waits).
fn strongest(locks: &[confiture_ops::migrate::dry_run::probe::Lock]) -> Vec<String> {
    const ORDER: [&str; 8] = [
        "AccessShareLock",
        "RowShareLock",
        "RowExclusiveLock",
        "ShareUpdateExclusiveLock",
        "ShareLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    ];
    let rank = |m: &str| ORDER.iter().position(|o| *o == m).unwrap_or(0);
    let mut best: Vec<(&str, &str)> = Vec::new();
    for l in locks {
        match best.iter_mut().find(|(r, _)| *r == l.relation) {
            Some(entry) if rank(&l.mode) > rank(entry.1) => entry.1 = &l.mode,
            Some(_) => {}
            None => best.push((&l.relation, &l.mode)),
        }
    }
    best.into_iter()
        .map(|(r, m)| format!("{m} on {r}"))
        .collect()
}
