//! `confiture doctor`.

use confiture_core::error::Result;
use confiture_ops::doctor::{self, Status};

use crate::args::GlobalArgs;
use crate::commands::{project, target_args};
use crate::output::{Output, Style};

pub async fn run(g: &GlobalArgs, out: Output) -> Result<i32> {
    let report = doctor::run(&project(g), &target_args(g)).await;
    out.report(report.ok, &report, || {
        let mut t = String::new();
        for c in &report.checks {
            let mark = match c.status {
                Status::Ok => out.paint(Style::Ok, "ok  "),
                Status::Info => out.paint(Style::Dim, "info"),
                Status::Skip => out.paint(Style::Dim, "skip"),
                Status::Warn => out.paint(Style::Warn, "warn"),
                Status::Fail => out.paint(Style::Fail, "FAIL"),
            };
            let code = c.code.map(|c| format!("[{c}] ")).unwrap_or_default();
            t.push_str(&format!("{mark}  {:<15} {code}{}\n", c.name, c.detail));
            if let (Some(h), true) = (&c.hint, c.status >= Status::Warn) {
                t.push_str(&format!("      {:<15} hint: {h}\n", ""));
            }
        }
        t
    });
    Ok(report.exit_class().code())
}
