//! One file per command; each turns arguments into a capability call and renders the report.

mod anonymize;
mod build;
mod config;
mod db;
mod doctor;
mod exit_codes;
mod init;
mod lint;
mod migrate;
mod migrate_trial;
mod schema;
mod sync;

use std::path::PathBuf;

use clap::CommandFactory;

use confiture_core::config::{Project, TargetArgs};
use confiture_core::error::Result;

use crate::args::{self, Cli, Command, GlobalArgs};
use crate::output::Output;

/// Run the parsed command; returns the exit code on success paths that still fail a gate.
pub async fn run(cli: Cli, out: Output) -> Result<i32> {
    match &cli.command {
        Command::Init(a) => init::run(&cli.global, a, out),
        Command::Db(c) => db::run(&cli.global, c, out).await,
        Command::Config(args::ConfigCommand::Show) => config::show(&cli.global, out),
        Command::Build(a) => build::run(&cli.global, a, out).await,
        Command::Migrate(c) => migrate::run(&cli.global, c, out).await,
        Command::Doctor => doctor::run(&cli.global, out).await,
        Command::Introspect => schema::introspect(&cli.global, out).await,
        Command::Diff(a) => schema::diff(&cli.global, a, out).await,
        Command::Drift(a) => schema::drift_command(&cli.global, a, out).await,
        Command::Lint(a) => lint::run(&cli.global, a, out).await,
        Command::Sync(a) => sync::run(&cli.global, a, out).await,
        Command::Anonymize(c) => anonymize::run(&cli.global, c, out).await,
        Command::ExitCodes => Ok(exit_codes::run(out)),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "confiture", &mut std::io::stdout());
            Ok(0)
        }
    }
}

/// The project the command works on.
pub fn project(g: &GlobalArgs) -> Project {
    match &g.project_dir {
        Some(dir) => Project::at(dir.clone()),
        None => Project::discover(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    }
}

/// The environment a command works on: `--config FILE`, else `--env NAME`, else `local`.
pub fn environment(
    g: &GlobalArgs,
    project: &Project,
) -> Result<confiture_core::config::Environment> {
    let var = |k: &str| std::env::var(k).ok();
    match (&g.config, &g.env) {
        (Some(file), _) => project.load_environment_file(file, &var),
        (None, Some(name)) => project.load_environment(name, &var),
        (None, None) => project.load_environment(confiture_core::config::DEFAULT_ENV, &var),
    }
}

pub fn target_args(g: &GlobalArgs) -> TargetArgs {
    TargetArgs {
        database_url: g.database_url.clone(),
        env: g.env.clone(),
        config: g.config.clone(),
    }
}
