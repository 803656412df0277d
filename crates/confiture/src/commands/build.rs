//! `confiture build`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use confiture_core::build::plan::OrderMode;
use confiture_core::codes;
use confiture_core::config::Environment;
use confiture_core::error::{ConfitureError, Result};
use confiture_ops::build::apply::{apply, ApplyOptions};
use confiture_ops::build::{
    build, default_output, write_output, BuildOptions, BuildReport, OutputTarget,
};
use confiture_ops::target::connect_target;

use crate::args::{BuildArgs, GlobalArgs, OrderArg};
use crate::commands::{environment, project, target_args};
use crate::output::{Output, Style};

pub async fn run(g: &GlobalArgs, a: &BuildArgs, out: Output) -> Result<i32> {
    let project = project(g);
    let env = environment(g, &project)?;
    let to_stdout = a.output.as_deref() == Some(Path::new("-"));
    if to_stdout && out.json() {
        return Err(ConfitureError::new(
            codes::INPUT_INVALID_ARGUMENT,
            "`-o -` writes the SQL to stdout, where --format json writes the report",
        )
        .with_hint("write the SQL to a file with -o FILE, or drop --format json"));
    }
    let options = BuildOptions {
        schema_only: a.schema_only,
        order: a.order.map(|o| match o {
            OrderArg::Files => OrderMode::Files,
            OrderArg::Dependencies => OrderMode::Dependencies,
        }),
        output: match &a.output {
            None => OutputTarget::Default,
            Some(_) if to_stdout => OutputTarget::Stdout,
            Some(path) => OutputTarget::File(path.clone()),
        },
        timestamp: a.timestamp,
    };
    let mut built = build(&env, &options)?;

    if a.show_hash {
        let hash = built.report.hash.clone();
        out.report(
            true,
            &serde_json::json!({ "hash": hash, "files": built.report.file_count }),
            || hash.clone(),
        );
        return Ok(0);
    }

    match &options.output {
        OutputTarget::Stdout => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(built.sql.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| {
                    ConfitureError::new(codes::IO_FAILED, format!("cannot write to stdout: {e}"))
                })?;
            built.report.output = Some("-".into());
        }
        OutputTarget::File(path) => write_output(&env, &mut built, path)?,
        OutputTarget::Default => write_output(&env, &mut built, &default_output(&env))?,
    }

    if a.apply {
        let conn = connect_target(&project, &target_args(g), true).await?;
        if !out.quiet && !out.json() {
            for notice in &conn.notices {
                eprintln!("{notice}");
            }
        }
        let started = Instant::now();
        let show_progress = !out.quiet && !out.json() && std::io::stderr().is_terminal();
        let mut progress = move |done: usize, total: usize| {
            if show_progress {
                eprint!("\rapplying {done}/{total} statements");
                if done == total {
                    eprint!("\r\x1b[K");
                }
            }
        };
        let options = ApplyOptions {
            recreate: a.recreate,
            force: a.force,
        };
        let report = apply(&conn, &env.name, &built, options, &mut progress).await?;
        let elapsed = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
        built.report.timings_ms.apply = Some(elapsed);
        built.report.timings_ms.total += elapsed;
        built.report.apply = Some(report);
    }

    if to_stdout {
        return Ok(0);
    }
    out.report(true, &built.report, || text(&built.report, &env, &out));
    Ok(0)
}

fn text(r: &BuildReport, env: &Environment, out: &Output) -> String {
    let mut t = String::new();
    for w in &r.warnings {
        t.push_str(&format!("{}: {w}\n", out.paint(Style::Warn, "warning")));
    }
    for n in &r.notes {
        t.push_str(&format!("note: {n}\n"));
    }
    let order = match r.order {
        OrderMode::Files => "file order",
        OrderMode::Dependencies => "dependency order",
    };
    t.push_str(&format!(
        "{} built environment '{}': {} files, {} statements, {} ({order}{}) in {:.0} ms\n",
        out.paint(Style::Ok, "ok"),
        env.name,
        r.file_count,
        r.statements,
        human_bytes(r.bytes),
        if r.schema_only { ", schema only" } else { "" },
        r.timings_ms.total - r.timings_ms.apply.unwrap_or(0.0),
    ));
    if let Some(path) = &r.output {
        t.push_str(&format!("   wrote {path}\n"));
    }
    t.push_str(&format!("   source hash {}\n", r.hash));
    if let Some(a) = &r.apply {
        let how = if a.recreated {
            "recreated"
        } else if a.created {
            "created"
        } else {
            "existing"
        };
        t.push_str(&format!(
            "   applied {} statements in one transaction to {} ({how}{}) in {:.0} ms\n",
            a.statements_in_transaction,
            a.database,
            if a.embedded { ", embedded cluster" } else { "" },
            r.timings_ms.apply.unwrap_or(0.0)
        ));
        if !a.statements_after_transaction.is_empty() {
            t.push_str(&format!(
                "   ran {} statement(s) after the transaction (PostgreSQL refuses them inside one): {}\n",
                a.statements_after_transaction.len(),
                a.statements_after_transaction.join(", ")
            ));
        }
    }
    if out.verbose > 0 {
        for f in &r.files {
            t.push_str(&format!(
                "   {}{} ({} statements, {} bytes)\n",
                f.path,
                if f.seed { " [seed]" } else { "" },
                f.statements,
                f.bytes
            ));
        }
    }
    t
}

fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}
