//! `confiture exit-codes`: the exit-code contract, and the error codes behind each class.

use serde::Serialize;

use confiture_core::codes;
use confiture_core::exit::ExitClass;

use crate::output::Output;

#[derive(Serialize)]
struct ExitCodeEntry {
    code: i32,
    name: &'static str,
    meaning: &'static str,
    error_codes: Vec<&'static str>,
}

#[derive(Serialize)]
struct ExitCodesReport {
    exit_codes: Vec<ExitCodeEntry>,
}

pub fn run(out: Output) -> i32 {
    let report = ExitCodesReport {
        exit_codes: ExitClass::ALL
            .iter()
            .map(|c| ExitCodeEntry {
                code: c.code(),
                name: c.name(),
                meaning: c.meaning(),
                error_codes: codes::ALL
                    .iter()
                    .filter(|e| e.exit == *c)
                    .map(|e| e.id)
                    .collect(),
            })
            .collect(),
    };
    out.report(true, &report, || {
        let mut text = String::new();
        for e in &report.exit_codes {
            text.push_str(&format!("{:>2}  {:<22} {}\n", e.code, e.name, e.meaning));
        }
        text
    });
    0
}
