//! `confiture introspect`, `diff`, `drift`, `migrate preflight` and `migrate generate
//! --from-diff`: rendering the schema capabilities' reports.

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::generate::{generate_with, timestamp_version};
use confiture_core::schema::diff::{diff as diff_models, Action, Change, Diff, Risk, Step};
use confiture_ops::migrate::migrations_dir;
use confiture_ops::schema::diff::{report, DiffReport};
use confiture_ops::schema::drift::drift;
use confiture_ops::schema::introspect::read;
use confiture_ops::schema::preflight::preflight;
use confiture_ops::schema::{load, Source};

use crate::args::{DiffArgs, DiffOutputArgs, GlobalArgs};
use crate::commands::{environment, project, target_args};
use crate::output::{with_error, Output, Style};

pub async fn introspect(g: &GlobalArgs, out: Output) -> Result<i32> {
    let project = project(g);
    let loaded = read(&project, &target_args(g)).await?;
    notices(&out, &loaded.notices);
    out.report(true, &loaded.schema, || {
        serde_json::to_string_pretty(&loaded.schema).expect("the model serializes")
    });
    Ok(0)
}

pub async fn diff(g: &GlobalArgs, a: &DiffArgs, out: Output) -> Result<i32> {
    let project = project(g);
    let env = environment(g, &project)?;
    let (from, to) = load_pair(
        &project,
        Source::parse(&a.from, &project.root),
        Source::parse(&a.to, &project.root),
        &env,
    )
    .await?;
    notices(&out, &from.notices);
    notices(&out, &to.notices);
    let r = report(from, to);
    out.report(true, &r, || render(&out, &r, &a.output));
    Ok(0)
}

pub async fn drift_command(g: &GlobalArgs, a: &DiffOutputArgs, out: Output) -> Result<i32> {
    let project = project(g);
    let env = environment(g, &project)?;
    let r = drift(&project, &target_args(g), &env).await?;
    notices(&out, &r.from.notices);
    notices(&out, &r.to.notices);
    let e = ConfitureError::new(
        codes::SCHEMA_DRIFT,
        format!(
            "{} differs from its schema files: {} change(s)",
            r.to.source,
            r.changes.len()
        ),
    )
    .with_hint("put the changes in db/schema/ (and a migration), or undo them in the database; `confiture drift --sql` prints the SQL that reproduces them");
    let failed = (!r.identical).then_some(&e);
    out.report(r.identical, &with_error(&r, failed), || render(&out, &r, a));
    if r.identical {
        return Ok(0);
    }
    if !out.json() {
        out.error(&e);
    }
    Ok(e.exit_class().code())
}

pub async fn preflight_command(g: &GlobalArgs, against: Option<&str>, out: Output) -> Result<i32> {
    let project = project(g);
    let env = environment(g, &project)?;
    let r = preflight(&project, &env, against).await?;
    let e = ConfitureError::new(
        codes::SCHEMA_PREFLIGHT_FAILED,
        "preflight failed: see the findings, the replay and the differences above",
    );
    let failed = (!r.passed).then_some(&e);
    out.report(r.passed, &with_error(&r, failed), || {
        let mut t = String::new();
        for f in &r.findings {
            let label = if f.severity == "error" {
                out.paint(Style::Fail, "error")
            } else {
                out.paint(Style::Warn, "warning")
            };
            t.push_str(&format!("{label} {} [{}]: {}\n", f.migration, f.code, f.message));
        }
        t.push_str(&format!("replayed on {}\n", r.replay.on));
        for m in &r.replay.migrations {
            t.push_str(&format!("  {} {m}\n", out.paint(Style::Ok, "ran")));
        }
        for n in &r.replay.not_executed {
            t.push_str(&format!("  not executed (cannot run in a transaction): {n}\n"));
        }
        if let Some(f) = &r.replay.failure {
            t.push_str(&format!(
                "  {} {}: {}\n",
                out.paint(Style::Fail, "failed"),
                f["migration"].as_str().unwrap_or_default(),
                f["error"]["message"].as_str().unwrap_or_default()
            ));
        }
        if !r.replay.changes.is_empty() {
            t.push_str("what the replayed migrations change:\n");
            for c in &r.replay.changes {
                t.push_str(&format!("  {}\n", change_line(c)));
            }
        }
        match &r.against_schema_files {
            Some(d) if d.identical => t.push_str("the result matches the schema files\n"),
            Some(d) => {
                t.push_str(&format!(
                    "the result differs from the schema files ({} change(s) would be needed to reach them):\n",
                    d.changes.len()
                ));
                for c in &d.changes {
                    t.push_str(&format!("  {}\n", change_line(c)));
                }
            }
            None => {}
        }
        t.push_str(if r.passed { "preflight passed\n" } else { "preflight failed\n" });
        t
    });
    if r.passed {
        return Ok(0);
    }
    if !out.json() {
        out.error(&e);
    }
    Ok(e.exit_class().code())
}

/// `migrate generate NAME --from-diff FROM:TO`.
pub async fn generate_from_diff(
    g: &GlobalArgs,
    name: &str,
    spec: &str,
    out: Output,
) -> Result<i32> {
    let project = project(g);
    let env = environment(g, &project)?;
    let (a, b) = split_spec(spec)?;
    let (from, to) = load_pair(
        &project,
        Source::parse(a, &project.root),
        Source::parse(b, &project.root),
        &env,
    )
    .await?;
    let up = diff_models(&from.schema, &to.schema);
    let down = diff_models(&to.schema, &from.schema);
    if up.is_empty() {
        return Err(ConfitureError::new(
            codes::SCHEMA_BAD_SOURCE,
            format!(
                "{} and {} have the same schema: there is nothing to migrate",
                from.source, to.source
            ),
        ));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let dir = migrations_dir(&project.root);
    let header = |version: &str, name: &str, direction: &str| {
        format!(
            "-- Migration {version}_{name}: {direction}, generated from the difference of {} and {}\n",
            from.source, to.source
        )
    };
    // A new enum label cannot be used in the transaction that adds it: the labels go in a
    // migration of their own, committed before the one that may use them.
    let is_label = |c: &Change, what: &str| {
        c.step == Step::AlterType && c.detail.as_deref().is_some_and(|d| d.starts_with(what))
    };
    let (labels, rest): (Vec<Change>, Vec<Change>) = up
        .changes
        .iter()
        .cloned()
        .partition(|c| is_label(c, "enum labels added"));
    let mut first = None;
    let mut offset = 0;
    if !labels.is_empty() && !rest.is_empty() {
        let version = timestamp_version(now);
        let label_name = format!("{name}_enum_labels");
        let (label_down, _): (Vec<Change>, Vec<Change>) = down
            .changes
            .iter()
            .cloned()
            .partition(|c| is_label(c, "enum labels removed"));
        first = Some(generate_with(
            &dir,
            &label_name,
            &version,
            &format!(
                "{}{}",
                header(&version, &label_name, "up"),
                Diff { changes: labels }.script()
            ),
            &format!(
                "{}{}",
                header(&version, &label_name, "down"),
                Diff {
                    changes: label_down
                }
                .script()
            ),
        )?);
        offset = 1;
    }
    let version = timestamp_version(now + offset);
    let (up_body, down_body) = if first.is_some() {
        let down_rest: Vec<Change> = down
            .changes
            .iter()
            .filter(|c| !is_label(c, "enum labels removed"))
            .cloned()
            .collect();
        (
            Diff { changes: rest }.script(),
            Diff { changes: down_rest }.script(),
        )
    } else {
        (up.script(), down.script())
    };
    let generated = generate_with(
        &dir,
        name,
        &version,
        &format!("{}{}", header(&version, name, "up"), up_body),
        &format!("{}{}", header(&version, name, "down"), down_body),
    )?;
    let all: Vec<&confiture_core::migrate::generate::Generated> =
        first.iter().chain(std::iter::once(&generated)).collect();
    // The last migration's fields, as a single one is reported, and every migration written.
    let mut report = serde_json::to_value(&generated).expect("reports serialize");
    report["migrations"] = serde_json::to_value(&all).expect("reports serialize");
    out.report(true, &report, || {
        let mut t = String::new();
        if let Some(f) = &first {
            t.push_str(&format!(
                "created {} and its .down.sql: the new enum labels, in a migration of their own (a label cannot be used in the transaction that adds it)\n",
                f.up.display()
            ));
        }
        t.push_str(&format!(
            "created {} ({} change(s))\ncreated {} ({} change(s))\n",
            generated.up.display(),
            up.changes.len(),
            generated.down.display(),
            down.changes.len()
        ));
        if up.max_risk() >= Some(Risk::Destructive) {
            t.push_str(&format!(
                "{}: the migration has destructive statements (marked DESTRUCTIVE): review it\n",
                out.paint(Style::Warn, "warning")
            ));
        }
        t
    });
    Ok(0)
}

/// `FROM:TO`, where a DSN may itself hold colons: split at the `:` that leaves two sources.
fn split_spec(spec: &str) -> Result<(&str, &str)> {
    let candidates: Vec<usize> = spec.match_indices(':').map(|(i, _)| i).collect();
    for i in candidates {
        let (a, b) = (&spec[..i], &spec[i + 1..]);
        let url_scheme = |s: &str| s.ends_with("postgresql") || s.ends_with("postgres");
        if a.is_empty() || b.is_empty() || url_scheme(a) || b.starts_with("//") {
            continue;
        }
        // Inside a URL (user:password@, host:port): a `:` followed by digits or text up to '@'.
        let in_url = a.contains("://") && !a[a.find("://").unwrap() + 3..].contains('/');
        if in_url {
            continue;
        }
        return Ok((a, b));
    }
    Err(ConfitureError::new(
        codes::SCHEMA_BAD_SOURCE,
        format!("--from-diff '{spec}' is not FROM:TO"),
    )
    .with_hint("e.g. --from-diff production:db/schema, or --from-diff db/schema_v1:db/schema"))
}

/// Both sources: two databases are read at the same time; with a directory, one after the
/// other (building it may start the embedded cluster, which the other source may use too).
async fn load_pair(
    project: &confiture_core::config::Project,
    a: Source,
    b: Source,
    env: &confiture_core::config::Environment,
) -> Result<(confiture_ops::schema::Loaded, confiture_ops::schema::Loaded)> {
    let directory = |s: &Source| matches!(s, Source::Directory(_));
    if directory(&a) || directory(&b) {
        let from = load(project, &a, env).await?;
        let to = load(project, &b, env).await?;
        return Ok((from, to));
    }
    tokio::try_join!(load(project, &a, env), load(project, &b, env))
}

/// A gate's report with the error's envelope (`code`, `message`, `hint`) when it failed, so
/// JSON readers get the code too.
fn notices(out: &Output, list: &[String]) {
    if !out.quiet && !out.json() {
        for n in list {
            eprintln!("{n}");
        }
    }
}

fn change_line(c: &confiture_core::schema::diff::Change) -> String {
    format!(
        "{} {} {}{} [{}]",
        match c.action {
            Action::Add => "+",
            Action::Drop => "-",
            Action::Alter => "~",
        },
        c.object,
        c.name,
        c.detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default(),
        serde_json::to_value(c.risk)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    )
}

fn render(out: &Output, r: &DiffReport, o: &DiffOutputArgs) -> String {
    if o.sql {
        return r.sql.clone();
    }
    let mut t = format!("from {}\nto   {}\n", r.from.source, r.to.source);
    if r.identical {
        t.push_str(&format!("{}\n", out.paint(Style::Ok, "no differences")));
        return t;
    }
    for c in &r.changes {
        let line = change_line(c);
        let line = match c.risk {
            Risk::Destructive | Risk::Irreversible => out.paint(Style::Fail, &line),
            Risk::LockRisky => out.paint(Style::Warn, &line),
            _ => line,
        };
        t.push_str(&format!("  {line}\n"));
    }
    let s = &r.summary;
    t.push_str(&format!(
        "{} change(s): {} additive, {} reversible, {} lock_risky, {} destructive, {} irreversible (--sql prints the migration)\n",
        r.changes.len(),
        s.additive,
        s.reversible,
        s.lock_risky,
        s.destructive,
        s.irreversible
    ));
    t
}
