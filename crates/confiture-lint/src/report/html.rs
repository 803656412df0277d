//! The HTML report: one self-contained document (inline CSS and a few lines of inline
//! JavaScript, no external resource — its Content-Security-Policy forbids loading any) to
//! attach to a CI run or open from disk.
//!
//! It shows the outcome, the counts, the inputs and a table of findings. Every text is
//! HTML-escaped. Stable hooks for tools and browser tests:
//!
//! - each finding is `<tr class="finding sev-<severity>" data-rule="<rule>"
//!   data-severity="<severity>">`;
//! - the counts are `<span id="count-error">`, `count-warning`, `count-info`;
//! - the severity checkboxes (`#filters`, all checked on load) hide and show rows; the script
//!   writes the number of rows shown into `#shown` and `data-shown` on `#findings` when it has
//!   run.

use std::fmt::Write;

use super::{counts_phrase, plural, slash_path, LintReport};
use crate::finding::Finding;

const STYLE: &str = r#"
:root { --error: #c62828; --warning: #a15c00; --info: #546e7a; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1f2328; background: #fff; }
header, main { padding: 16px 24px; }
header { border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 15px; margin: 16px 0 6px; }
.status { font-weight: 600; }
.status.failed { color: var(--error); }
.status.passed { color: #1a7f37; }
.counts { display: flex; gap: 16px; list-style: none; padding: 0; margin: 8px 0; }
.counts li { font-size: 16px; }
.meta, .inputs { color: var(--muted); }
.inputs { margin: 0; padding-left: 20px; }
#filters { display: flex; gap: 16px; align-items: center; margin-bottom: 12px; }
#filters .shown { color: var(--muted); margin-left: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; position: sticky; top: 0; }
td.message, td.fix { white-space: pre-wrap; overflow-wrap: break-word; }
td.fix { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
td.location, td.object { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: break-word; }
td.rule { white-space: nowrap; }
.badge { display: inline-block; min-width: 64px; text-align: center; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
.badge.sev-error { background: var(--error); }
.badge.sev-warning { background: var(--warning); }
.badge.sev-info { background: var(--info); }
.count.sev-error span { color: var(--error); font-weight: 600; }
.count.sev-warning span { color: var(--warning); font-weight: 600; }
.count.sev-info span { color: var(--info); font-weight: 600; }
.none { color: var(--muted); font-style: italic; }
"#;

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('findings');
  if (!table) return;
  var boxes = document.querySelectorAll('#filters input[type=checkbox]');
  var rows = table.querySelectorAll('tr.finding');
  function apply() {
    var on = {};
    for (var i = 0; i < boxes.length; i++) on[boxes[i].value] = boxes[i].checked;
    var shown = 0;
    for (var j = 0; j < rows.length; j++) {
      var visible = on[rows[j].getAttribute('data-severity')] !== false;
      rows[j].hidden = !visible;
      if (visible) shown++;
    }
    document.getElementById('shown').textContent = String(shown);
    table.setAttribute('data-shown', String(shown));
  }
  for (var k = 0; k < boxes.length; k++) {
    boxes[k].checked = true;
    boxes[k].addEventListener('change', apply);
  }
  apply();
})();
"#;

/// `&`, `<`, `>`, `"` and `'` as entities: safe in text and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &LintReport) -> String {
    let c = &report.counts;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n",
    );
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        h,
        "<meta name=\"generator\" content=\"confiture {}\">",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        h,
        "<title>Confiture lint report: {}</title>",
        escape(&counts_phrase(c))
    );
    let _ = writeln!(h, "<style>{STYLE}</style>\n</head>\n<body>");

    // Outcome, counts, inputs.
    h.push_str("<header>\n<h1>Confiture lint report</h1>\n");
    let fail_on = report.fail_on_severity.as_str();
    if report.failed {
        let _ = writeln!(
            h,
            "<p class=\"status failed\" id=\"status\">Failed: findings at or above {fail_on}</p>"
        );
    } else {
        let _ = writeln!(
            h,
            "<p class=\"status passed\" id=\"status\">Passed: no finding at or above {fail_on}</p>"
        );
    }
    h.push_str("<ul class=\"counts\">\n");
    for (sev, n) in [("error", c.error), ("warning", c.warning), ("info", c.info)] {
        let word = if n == 1 {
            sev.to_string()
        } else {
            format!("{sev}s")
        };
        let _ = writeln!(
            h,
            "<li class=\"count sev-{sev}\"><span id=\"count-{sev}\">{n}</span> {word}</li>"
        );
    }
    h.push_str("</ul>\n");
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} run in {} ms</p>",
        plural(report.rules_run, "rule"),
        report.duration_ms
    );
    h.push_str("<h2>Inputs</h2>\n<ul class=\"inputs\" id=\"inputs\">\n");
    for input in &report.inputs {
        let _ = writeln!(h, "<li>{}</li>", escape(input));
    }
    h.push_str("</ul>\n</header>\n<main>\n");

    // Findings.
    if report.findings.is_empty() {
        h.push_str("<p class=\"none\" id=\"no-findings\">No findings.</p>\n");
    } else {
        h.push_str("<form id=\"filters\" onsubmit=\"return false\">\n");
        for sev in ["error", "warning", "info"] {
            let _ = writeln!(
                h,
                "<label><input type=\"checkbox\" value=\"{sev}\" checked> \
                 <span class=\"badge sev-{sev}\">{sev}</span></label>"
            );
        }
        let total = report.findings.len();
        let _ = writeln!(
            h,
            "<span class=\"shown\">showing <span id=\"shown\">{total}</span> of {total}</span>\n</form>"
        );
        h.push_str(
            "<table id=\"findings\">\n<thead><tr><th>Severity</th><th>Rule</th><th>Object</th>\
             <th>Location</th><th>Message</th><th>Fix</th></tr></thead>\n<tbody>\n",
        );
        for f in &report.findings {
            row(&mut h, f);
        }
        h.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(h, "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>");
    h
}

fn row(h: &mut String, f: &Finding) {
    let sev = f.severity.as_str();
    let rule = escape(&f.rule);
    let _ = writeln!(
        h,
        "<tr class=\"finding sev-{sev}\" data-rule=\"{rule}\" data-severity=\"{sev}\">\
         <td><span class=\"badge sev-{sev}\">{sev}</span></td>\
         <td class=\"rule\"><code>{rule}</code></td>\
         <td class=\"object\">{}</td><td class=\"location\">{}</td>\
         <td class=\"message\">{}</td><td class=\"fix\">{}</td></tr>",
        escape(f.object.as_deref().unwrap_or("")),
        escape(&location(f)),
        escape(&f.message),
        escape(f.fix.as_deref().unwrap_or("")),
    );
}

/// `file:line:column`, `file:line`, `file`, or nothing.
fn location(f: &Finding) -> String {
    let Some(file) = &f.file else {
        return String::new();
    };
    let mut s = slash_path(file);
    if let Some(line) = f.line {
        let _ = write!(s, ":{line}");
        if let Some(column) = f.column {
            let _ = write!(s, ":{column}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;
    use crate::Severity;

    #[test]
    fn one_self_contained_document() {
        let out = render(&sample::report());
        assert!(out.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(out.trim_end().ends_with("</html>"));
        assert_eq!(out.matches("<html").count(), 1);
        assert!(out.contains("<title>Confiture lint report: 1 error, 1 warning, 1 info</title>"));
        // Nothing loaded from elsewhere.
        for external in ["src=", "href=", "@import", "url(", "http://", "https://"] {
            assert!(!out.contains(external), "{external}");
        }
        assert!(out.contains("<li>db/schema (1,256 files)</li>"));
        assert!(out.contains("<span id=\"count-error\">1</span> error</li>"));
        assert!(out.contains("<span id=\"count-warning\">1</span> warning</li>"));
        assert!(out.contains("<p class=\"status failed\" id=\"status\">"));
    }

    #[test]
    fn one_row_per_finding_with_stable_hooks() {
        let out = render(&sample::report());
        assert_eq!(out.matches("<tr class=\"finding ").count(), 3);
        assert!(out.contains(
            "<tr class=\"finding sev-error\" data-rule=\"require-primary-key\" data-severity=\"error\">"
        ));
        assert!(
            out.contains("class=\"finding sev-warning\" data-rule=\"require-concurrent-index\"")
        );
        assert!(out.contains("class=\"finding sev-info\" data-rule=\"my-custom-rule\""));
        assert!(out.contains("<td class=\"location\">db/schema/10_tables/audit.sql:12:5</td>"));
        assert!(out.contains("<td class=\"object\">public.audit</td>"));
        assert!(out.contains(
            "<td class=\"fix\">add a primary key: ALTER TABLE public.audit ADD PRIMARY KEY (id)</td>"
        ));
        // Shown by default: nothing hidden in the markup.
        assert!(!out.contains(" hidden"));
    }

    #[test]
    fn every_text_is_escaped() {
        let out = render(&sample::report());
        assert!(out
            .contains("function public.f() &lt;script&gt;alert(1)&lt;/script&gt; has no comment"));
        assert_eq!(
            out.matches("<script").count(),
            1,
            "only the report's own script"
        );
        assert!(out.contains("&quot;orders&quot; has 2,000,000 rows"));

        let mut f = sample::finding("x\"><b>", Severity::Warning, "a & b");
        f.object = Some("o'<i>".into());
        f.fix = Some("</td>".into());
        let mut r = sample::report_of(vec![f]);
        r.inputs = vec!["<img src=x>".into()];
        let out = render(&r);
        assert!(out.contains("data-rule=\"x&quot;&gt;&lt;b&gt;\""));
        assert!(out.contains("<td class=\"object\">o&#39;&lt;i&gt;</td>"));
        assert!(out.contains("<td class=\"fix\">&lt;/td&gt;</td>"));
        assert!(out.contains("<td class=\"message\">a &amp; b</td>"));
        assert!(out.contains("<li>&lt;img src=x&gt;</li>"));
        assert!(!out.contains("<img") && !out.contains("<b>") && !out.contains("<i>"));
    }

    #[test]
    fn no_findings() {
        let out = render(&sample::report_of(vec![]));
        assert!(out.contains("<p class=\"none\" id=\"no-findings\">No findings.</p>"));
        assert!(!out.contains("<table"));
        assert!(out.contains("<p class=\"status passed\" id=\"status\">"));
    }
}
