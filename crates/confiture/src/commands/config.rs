//! `confiture config show`: the environment as Confiture understands it (password masked).
//! Also the quickest way to validate an environment file.

use serde::Serialize;

use confiture_core::config::{self, Environment, TargetKind};
use confiture_core::error::Result;
use confiture_core::redact::redact_dsn;

use crate::args::GlobalArgs;
use crate::commands::{project, target_args};
use crate::output::Output;

#[derive(Serialize)]
struct ConfigReport {
    origin: &'static str,
    database_url: String,
    environment: Option<Environment>,
}

pub fn show(g: &GlobalArgs, out: Output) -> Result<i32> {
    let var = |k: &str| std::env::var(k).ok();
    let target = config::target::resolve(&project(g), &target_args(g), &var)?;
    let report = ConfigReport {
        origin: target.origin.describe(),
        database_url: match &target.kind {
            TargetKind::Dsn(d) if d.is_empty() => "(libpq defaults)".into(),
            TargetKind::Dsn(d) => redact_dsn(d),
            TargetKind::Embedded => "(embedded cluster: `confiture db url`)".into(),
        },
        environment: target.environment,
    };
    out.report(true, &report, || {
        let mut t = format!(
            "database_url: {} (from {})\n",
            report.database_url, report.origin
        );
        if let Some(env) = &report.environment {
            t.push_str(&format!(
                "environment:  {} ({})\n",
                env.name,
                env.source.display()
            ));
            for d in &env.include_dirs {
                t.push_str(&format!(
                    "include_dir:  {}{}\n",
                    d.path.display(),
                    if d.recursive { "" } else { " (not recursive)" }
                ));
            }
            for d in &env.exclude_dirs {
                t.push_str(&format!("exclude_dir:  {}\n", d.display()));
            }
            t.push_str(&format!("tracking:     {}\n", env.migration.tracking_table));
        }
        t
    });
    Ok(0)
}
