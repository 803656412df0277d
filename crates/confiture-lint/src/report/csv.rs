//! The CSV report (RFC 4180): a header, then one record per finding, CRLF line ends. A field
//! containing a comma, a double quote, a carriage return or a line feed is quoted, its quotes
//! doubled; absent values are empty fields.
//!
//! ```text
//! severity,rule,object,file,line,column,message,fix
//! error,require-primary-key,public.audit,db/schema/audit.sql,12,5,table public.audit has no primary key,"ALTER TABLE …"
//! ```

use super::{slash_path, LintReport};

pub const HEADER: [&str; 8] = [
    "severity", "rule", "object", "file", "line", "column", "message", "fix",
];

pub fn render(report: &LintReport) -> String {
    let mut out = String::new();
    record(&mut out, HEADER.iter().map(|h| h.to_string()));
    for f in &report.findings {
        record(
            &mut out,
            [
                f.severity.as_str().to_string(),
                f.rule.clone(),
                f.object.clone().unwrap_or_default(),
                f.file.as_deref().map(slash_path).unwrap_or_default(),
                f.line.map(|l| l.to_string()).unwrap_or_default(),
                f.column.map(|c| c.to_string()).unwrap_or_default(),
                f.message.clone(),
                f.fix.clone().unwrap_or_default(),
            ],
        );
    }
    out
}

fn record(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field_text(&field));
    }
    out.push_str("\r\n");
}

/// One field, quoted when RFC 4180 requires it.
pub fn field_text(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;
    use crate::Severity;

    /// A strict RFC 4180 reader, to read the report back.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            if quoted {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    c => field.push(c),
                }
                continue;
            }
            match c {
                '"' => {
                    assert!(field.is_empty(), "quote inside an unquoted field");
                    quoted = true;
                }
                ',' => record.push(std::mem::take(&mut field)),
                '\r' => {
                    assert_eq!(chars.next(), Some('\n'), "CR without LF");
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                '\n' => panic!("bare LF outside quotes"),
                c => field.push(c),
            }
        }
        assert!(
            !quoted && field.is_empty() && record.is_empty(),
            "ends with CRLF"
        );
        records
    }

    #[test]
    fn header_and_records() {
        let out = render(&sample::report());
        assert!(out.starts_with("severity,rule,object,file,line,column,message,fix\r\n"));
        assert!(out.contains(
            "error,require-primary-key,public.audit,db/schema/10_tables/audit.sql,12,5,\
             table public.audit has no primary key,\
             add a primary key: ALTER TABLE public.audit ADD PRIMARY KEY (id)\r\n"
        ));
        // Comma and quotes: quoted, quotes doubled.
        assert!(out.contains(
            ",\"CREATE INDEX on public.orders locks writes, \"\"orders\"\" has 2,000,000 rows\","
        ));
        // No file, no fix: empty fields.
        assert!(out.contains(
            "info,my-custom-rule,public.f(),,,,function public.f() <script>alert(1)</script> has no comment,\r\n"
        ));
        let records = parse(&out);
        assert_eq!(records.len(), 4);
        assert!(records.iter().all(|r| r.len() == 8));
        assert_eq!(
            records[2][6],
            "CREATE INDEX on public.orders locks writes, \"orders\" has 2,000,000 rows"
        );
    }

    #[test]
    fn newlines_and_quotes_round_trip() {
        let f = sample::finding("r", Severity::Warning, "line one\nline \"two\"\r\nthree")
            .fix("a,b")
            .object("plain");
        let out = render(&sample::report_of(vec![f]));
        assert!(
            out.contains(",\"line one\nline \"\"two\"\"\r\nthree\",\"a,b\"\r\n"),
            "{out:?}"
        );
        let records = parse(&out);
        assert_eq!(records[1][6], "line one\nline \"two\"\r\nthree");
        assert_eq!(records[1][7], "a,b");
        assert_eq!(records[1][2], "plain");
    }

    #[test]
    fn no_findings_is_the_header() {
        assert_eq!(
            render(&sample::report_of(vec![])),
            "severity,rule,object,file,line,column,message,fix\r\n"
        );
    }

    #[test]
    fn field_quoting() {
        assert_eq!(field_text("plain"), "plain");
        assert_eq!(field_text(""), "");
        assert_eq!(field_text("a,b"), "\"a,b\"");
        assert_eq!(field_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field_text("cr\r"), "\"cr\r\"");
    }
}
