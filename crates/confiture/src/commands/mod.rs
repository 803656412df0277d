//! One file per command; each turns arguments into a capability call and renders the report.

mod build;
mod config;
mod db;
mod doctor;
mod exit_codes;
mod init;

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
        Command::Doctor => doctor::run(&cli.global, out).await,
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

pub fn target_args(g: &GlobalArgs) -> TargetArgs {
    TargetArgs {
        database_url: g.database_url.clone(),
        env: g.env.clone(),
        config: g.config.clone(),
    }
}
