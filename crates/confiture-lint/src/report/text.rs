//! The text report, for terminals: findings grouped by file (those without a file under
//! `database`, ordered by object), one line each with position, severity, rule and message, the
//! suggested fix indented below, then one summary line:
//!
//! ```text
//! db/schema/10_tables/audit.sql
//!   12:5  error    require-primary-key  table public.audit has no primary key
//!                  fix: ALTER TABLE public.audit ADD PRIMARY KEY (…)
//!
//! database
//!   info     comment-required     function public.f() has no comment
//!            object: public.f()
//!
//! 1 error, 0 warnings, 1 info (12 rules; db/schema (1,256 files))
//! ```
//!
//! With no findings the summary is all there is: `no findings (12 rules; …)`. ANSI colors
//! (red errors, yellow warnings, dim infos) only when asked for; control characters coming from
//! the linted sources (object names, …) are always printed escaped, never sent to the terminal.

use std::fmt::Write;

use super::{counts_phrase, plural, slash_path, LintReport};
use crate::finding::Finding;
use crate::Severity;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// The heading of findings that have no file (a live database, the schema model).
pub const NO_FILE_HEADING: &str = "database";

/// Width of the severity column: `warning`.
const SEVERITY_WIDTH: usize = 7;

pub fn render(report: &LintReport, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("{code}{s}{RESET}")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let rule_width = report
        .findings
        .iter()
        .map(|f| f.rule.chars().count())
        .max()
        .unwrap_or(0);

    for (heading, group) in groups(&report.findings) {
        let with_location = heading != NO_FILE_HEADING;
        let positions: Vec<String> = group.iter().map(|f| position(f)).collect();
        let pos_width = positions.iter().map(|p| p.len()).max().unwrap_or(0);
        // The details (object, fix) line up under the rule id.
        let indent = 2 + if with_location { pos_width + 2 } else { 0 } + SEVERITY_WIDTH + 2;
        let pad = " ".repeat(indent);
        let message_pad = " ".repeat(indent + rule_width + 2);

        let _ = writeln!(out, "{}", paint(BOLD, &clean(&heading)));
        for (f, pos) in group.iter().zip(&positions) {
            out.push_str("  ");
            if with_location {
                let _ = write!(out, "{pos:<pos_width$}  ");
            }
            let sev = f.severity.as_str();
            let _ = write!(
                out,
                "{}{}  {:<rule_width$}  ",
                paint(severity_color(f.severity), sev),
                " ".repeat(SEVERITY_WIDTH - sev.len()),
                clean(&f.rule),
            );
            let _ = writeln!(out, "{}", indented(&clean(&f.message), &message_pad, 0));
            if !with_location {
                if let Some(object) = &f.object {
                    let _ = writeln!(out, "{pad}object: {}", indented(&clean(object), &pad, 8));
                }
            }
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "{pad}fix: {}", indented(&clean(fix), &pad, 5));
            }
        }
        out.push('\n');
    }

    let counts = &report.counts;
    let phrase = if report.findings.is_empty() && counts.error + counts.warning + counts.info == 0 {
        "no findings".to_string()
    } else if color {
        let part = |n: usize, word: &str, code: &str| {
            let s = plural(n, word);
            if n > 0 {
                paint(code, &s)
            } else {
                s
            }
        };
        format!(
            "{}, {}, {}",
            part(counts.error, "error", RED),
            part(counts.warning, "warning", YELLOW),
            part(counts.info, "info", DIM)
        )
    } else {
        counts_phrase(counts)
    };
    let mut context = vec![plural(report.rules_run, "rule")];
    context.extend(report.inputs.iter().map(|i| clean(i)));
    let _ = writeln!(out, "{phrase} ({})", context.join("; "));
    out
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
        Severity::Info => DIM,
    }
}

/// Findings by file in the order they come (the engine sorts them by file, line and rule),
/// then those without a file, ordered by object (stable: findings of one object keep their
/// order; findings with no object last).
fn groups(findings: &[Finding]) -> Vec<(String, Vec<&Finding>)> {
    let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
    let mut no_file: Vec<&Finding> = Vec::new();
    for f in findings {
        match &f.file {
            Some(file) => {
                let name = slash_path(file);
                match groups.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, g)) => g.push(f),
                    None => groups.push((name, vec![f])),
                }
            }
            None => no_file.push(f),
        }
    }
    if !no_file.is_empty() {
        no_file.sort_by(|a, b| match (&a.object, &b.object) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        groups.push((NO_FILE_HEADING.to_string(), no_file));
    }
    groups
}

/// `12:5`, `12`, or nothing.
fn position(f: &Finding) -> String {
    match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{l}:{c}"),
        (Some(l), None) => l.to_string(),
        _ => String::new(),
    }
}

/// Continuation lines of a multi-line text lined up with its first line, which starts `label`
/// characters after `pad`.
fn indented(s: &str, pad: &str, label: usize) -> String {
    let pad = format!("\n{pad}{}", " ".repeat(label));
    s.trim_end_matches('\n').replace('\n', &pad)
}

/// Control characters (escape sequences in an object name, a stray `\r`) printed as escapes;
/// line feeds are kept for [`indented`].
fn clean(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\n') {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn grouped_by_file_then_database_with_fix_and_summary() {
        let out = render(&sample::report(), false);
        let expected = "\
db/schema/10_tables/audit.sql
  12:5  error    require-primary-key       table public.audit has no primary key
                 fix: add a primary key: ALTER TABLE public.audit ADD PRIMARY KEY (id)

db/migrations/003_orders.up.sql
  3:1  warning  require-concurrent-index  CREATE INDEX on public.orders locks writes, \"orders\" has 2,000,000 rows
                fix: use CREATE INDEX CONCURRENTLY, outside a transaction

database
  info     my-custom-rule            function public.f() <script>alert(1)</script> has no comment
           object: public.f()

1 error, 1 warning, 1 info (12 rules; db/schema (1,256 files); 3 migrations)
";
        assert_eq!(out, expected, "\n{out}");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn no_findings_is_only_the_summary() {
        let r = sample::report_of(vec![]);
        assert_eq!(
            render(&r, false),
            "no findings (12 rules; db/schema (1,256 files); 3 migrations)\n"
        );
        let mut one_rule = r.clone();
        one_rule.rules_run = 1;
        one_rule.inputs.clear();
        assert_eq!(render(&one_rule, true), "no findings (1 rule)\n");
    }

    #[test]
    fn colors_only_when_asked() {
        let out = render(&sample::report(), true);
        assert!(
            out.contains("\x1b[31merror\x1b[0m    require-primary-key"),
            "{out}"
        );
        assert!(
            out.contains("\x1b[33mwarning\x1b[0m  require-concurrent-index"),
            "{out}"
        );
        assert!(
            out.contains("\x1b[2minfo\x1b[0m     my-custom-rule"),
            "{out}"
        );
        assert!(
            out.contains("\x1b[31m1 error\x1b[0m, \x1b[33m1 warning\x1b[0m"),
            "{out}"
        );
    }

    #[test]
    fn database_findings_sorted_by_object_and_multiline_indented() {
        let f = |obj: Option<&str>, msg: &str| {
            let f = sample::finding("r", Severity::Warning, msg);
            match obj {
                Some(o) => f.object(o),
                None => f,
            }
        };
        let r = sample::report_of(vec![
            f(None, "none"),
            f(Some("public.b"), "b"),
            f(Some("public.a"), "a1\na2").fix("x\ny"),
        ]);
        let out = render(&r, false);
        let expected = "\
database
  warning  r  a1
              a2
           object: public.a
           fix: x
                y
  warning  r  b
           object: public.b
  warning  r  none

0 errors, 3 warnings, 0 infos (12 rules; db/schema (1,256 files); 3 migrations)
";
        assert_eq!(out, expected, "\n{out}");
    }

    #[test]
    fn control_characters_are_escaped() {
        let r = sample::report_of(vec![sample::finding(
            "r",
            Severity::Error,
            "table \x1b[2Jevil\r has no key",
        )]);
        let out = render(&r, true);
        assert!(out.contains("table \\u{1b}[2Jevil\\r has no key"), "{out}");
    }
}
