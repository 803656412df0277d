//! Rendering: reports as text or JSON, errors as text on stderr or a JSON envelope on stdout.
//! Colors only on a terminal, never with --no-color or NO_COLOR.

use std::io::IsTerminal;

use serde::Serialize;

use confiture_core::error::ConfitureError;

use crate::args::{Format, GlobalArgs};

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub format: Format,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
}

pub enum Style {
    Ok,
    Warn,
    Fail,
    Dim,
}

impl Output {
    pub fn new(g: &GlobalArgs) -> Output {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            format: g.format,
            color: !g.no_color && !no_color_env && std::io::stdout().is_terminal(),
            quiet: g.quiet,
            verbose: g.verbose,
        }
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match style {
            Style::Ok => "32",
            Style::Warn => "33",
            Style::Fail => "31",
            Style::Dim => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// Print a report: JSON (with `"ok"`) or the given text.
    pub fn report<T: Serialize>(&self, ok: bool, report: &T, text: impl FnOnce() -> String) {
        if self.json() {
            let mut value = serde_json::to_value(report).expect("reports serialize");
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("ok".into(), serde_json::Value::Bool(ok));
            }
            print_stdout(&serde_json::to_string_pretty(&value).expect("json"));
        } else if !self.quiet || !ok {
            let t = text();
            if !t.is_empty() {
                print_stdout(t.trim_end());
            }
        }
    }

    pub fn error(&self, e: &ConfitureError) {
        if self.json() {
            println!(
                "{}",
                serde_json::to_string_pretty(&e.to_envelope()).expect("json")
            );
            return;
        }
        let color = self.color && std::io::stderr().is_terminal();
        let head = if color {
            format!("\x1b[31merror[{}]\x1b[0m", e.code.id)
        } else {
            format!("error[{}]", e.code.id)
        };
        match &e.location {
            Some(loc) => eprintln!("{head}: {loc}: {}", e.message),
            None => eprintln!("{head}: {}", e.message),
        }
        if let Some(h) = &e.hint {
            eprintln!("  hint: {}", h.replace('\n', "\n        "));
        }
        if self.verbose > 0 && !e.details.is_null() {
            eprintln!("  details: {}", e.details);
        }
    }
}

/// Print a report on stdout. When the reader went away (`confiture … | head`), stop quietly as
/// other command-line tools do, instead of panicking on the broken pipe. (SIGPIPE stays ignored:
/// a hook program that does not read its input must not kill Confiture.)
pub fn print_stdout(text: &str) {
    write_parts(&[text.as_bytes(), b"\n"]);
}

/// Write a document to stdout byte for byte (a CSV keeps its CRLF record ends); a closed
/// pipe ends the program quietly.
pub fn write_stdout(text: &str) {
    write_parts(&[text.as_bytes()]);
}

fn write_parts(parts: &[&[u8]]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let written = parts.iter().try_for_each(|p| out.write_all(p));
    if let Err(e) = written.and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// A gate report with its error added as `"error"` (the JSON envelope's content), so that JSON
/// readers find the code in the report as in any error.
pub fn with_error<T: Serialize>(report: &T, error: Option<&ConfitureError>) -> serde_json::Value {
    let mut value = serde_json::to_value(report).expect("reports serialize");
    if let (Some(e), serde_json::Value::Object(map)) = (error, &mut value) {
        map.insert("error".into(), e.to_envelope()["error"].clone());
    }
    value
}
