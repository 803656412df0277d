//! The `confiture` binary: parse arguments, run one command, render its report, exit with
//! the documented code.

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

use confiture_core::codes;
use confiture_core::error::ConfitureError;

use args::{Cli, Format};
use output::Output;

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cli = match Cli::try_parse_from(&raw) {
        Ok(cli) => cli,
        Err(e) => return argument_error(e, &raw),
    };
    let out = Output::new(&cli.global);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match runtime.block_on(commands::run(cli, out)) {
        Ok(code) => code,
        Err(e) => {
            out.error(&e);
            e.exit_class().code()
        }
    };
    ExitCode::from(code as u8)
}

/// clap's own errors exit 2 by default, which our contract reserves for "tracking table
/// absent": bad arguments are invalid input, exit 5.
fn argument_error(e: clap::Error, raw: &[String]) -> ExitCode {
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let json = raw.windows(2).any(|w| w[0] == "--format" && w[1] == "json")
        || raw.iter().any(|a| a == "--format=json");
    if json {
        let message = e.to_string();
        let first = message
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        let err = ConfitureError::new(codes::INPUT_INVALID_ARGUMENT, first.to_string())
            .with_hint("see `confiture --help`");
        let out = Output {
            format: Format::Json,
            color: false,
            quiet: false,
            verbose: 0,
        };
        out.error(&err);
    } else {
        let _ = e.print();
    }
    ExitCode::from(codes::INPUT_INVALID_ARGUMENT.exit.code() as u8)
}
