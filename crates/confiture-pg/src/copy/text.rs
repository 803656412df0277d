//! The text COPY format with its defaults: tab between fields, newline after each row, `\N` for
//! NULL, and backslash escapes (`\\ \t \n \r \b \f \v`, octal `\NNN`, hex `\xHH`; any other
//! escaped character stands for itself).
//!
//! A backslash always escapes the byte after it, also when splitting rows and fields, as
//! PostgreSQL's reader does. PostgreSQL writes rows ending in `\n` over the protocol and never
//! writes the `\.` end marker there; a `\.` row is nevertheless taken as the end of the data.

use super::{call_transform, recycle, CopyError, Plan, KEEP};

/// Appends `s` escaped as a text COPY field (as PostgreSQL's `COPY TO` writes it).
pub fn escape_into(s: &str, out: &mut Vec<u8>) {
    let b = s.as_bytes();
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        let e = match c {
            b'\\' => b'\\',
            b'\t' => b't',
            b'\n' => b'n',
            b'\r' => b'r',
            0x08 => b'b',
            0x0c => b'f',
            0x0b => b'v',
            _ => continue,
        };
        out.extend_from_slice(&b[run..i]);
        out.push(b'\\');
        out.push(e);
        run = i + 1;
    }
    out.extend_from_slice(&b[run..]);
}

#[inline]
fn octal(c: u8) -> Option<u8> {
    matches!(c, b'0'..=b'7').then(|| c - b'0')
}

#[inline]
fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Appends the bytes a raw (escaped, non-NULL) text COPY field stands for, as PostgreSQL's
/// `COPY FROM` reads it.
pub fn unescape_into(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&c) = raw.get(i) else {
            break; // a trailing lone backslash stands for nothing
        };
        i += 1;
        let v = match c {
            b'0'..=b'7' => {
                let mut v = c - b'0';
                for _ in 0..2 {
                    match raw.get(i).copied().and_then(octal) {
                        Some(d) => {
                            v = (v << 3).wrapping_add(d);
                            i += 1;
                        }
                        None => break,
                    }
                }
                v
            }
            b'x' => match raw.get(i).copied().and_then(hex) {
                Some(d) => {
                    i += 1;
                    match raw.get(i).copied().and_then(hex) {
                        Some(e) => {
                            i += 1;
                            (d << 4) | e
                        }
                        None => d,
                    }
                }
                None => b'x',
            },
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            other => other,
        };
        out.push(v);
    }
}

/// The offset of the first unescaped newline in `buf`, from `from`. `escaped` says whether the
/// byte at `from` is escaped by a backslash before it, and is left saying whether the byte after
/// the end of `buf` is.
#[inline]
fn find_eol(buf: &[u8], from: usize, escaped: &mut bool) -> Option<usize> {
    let mut i = from;
    if *escaped {
        if i >= buf.len() {
            return None;
        }
        i += 1;
        *escaped = false;
    }
    while i < buf.len() {
        match buf[i] {
            b'\n' => return Some(i),
            b'\\' => {
                if i + 1 < buf.len() {
                    i += 2;
                } else {
                    *escaped = true;
                    return None;
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Fills `bounds` with the (start, end) of each field of `line` (without its newline).
#[inline]
fn split_fields(line: &[u8], bounds: &mut Vec<(usize, usize)>) {
    bounds.clear();
    let mut start = 0;
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b'\t' => {
                bounds.push((start, i));
                start = i + 1;
                i += 1;
            }
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    bounds.push((start, line.len()));
}

/// Where a transform argument's text is.
#[derive(Debug, Clone, Copy)]
enum Src {
    Null,
    /// Raw bytes of the line (no escapes in them).
    Line(usize, usize),
    /// Unescaped bytes in the scratch buffer.
    Buf(usize, usize),
}

pub(crate) struct TextRewriter {
    plan: Plan,
    /// The start of a row a chunk boundary split.
    pending: Vec<u8>,
    /// Whether the byte after `pending` is escaped.
    escaped: bool,
    ended: bool,
    tuples: u64,
    bounds: Vec<(usize, usize)>,
    srcs: Vec<Src>,
    unescaped: Vec<u8>,
    args: Vec<Option<&'static str>>,
    values: Vec<Option<String>>,
}

impl TextRewriter {
    pub fn new(plan: Plan) -> TextRewriter {
        TextRewriter {
            bounds: Vec::with_capacity(plan.input_fields() + 1),
            srcs: Vec::with_capacity(plan.replaced() + plan.context_fields),
            args: Vec::with_capacity(plan.replaced() + plan.context_fields),
            values: Vec::with_capacity(plan.replaced()),
            plan,
            pending: Vec::new(),
            escaped: false,
            ended: false,
            tuples: 0,
            unescaped: Vec::new(),
        }
    }

    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    pub fn feed<F>(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<u8>,
        transform: &mut F,
    ) -> Result<u64, CopyError>
    where
        F: FnMut(&[Option<&str>], &[Option<&str>], &mut Vec<Option<String>>) -> Result<(), String>
            + ?Sized,
    {
        let start = self.tuples;
        let mut rest = chunk;
        if !rest.is_empty() && self.ended {
            return Err(CopyError::new(
                "data after the end-of-data marker",
                self.tuples + 1,
            ));
        }
        if !self.pending.is_empty() || self.escaped {
            match find_eol(rest, 0, &mut self.escaped) {
                None => {
                    self.pending.extend_from_slice(rest);
                    return Ok(0);
                }
                Some(e) => {
                    self.pending.extend_from_slice(&rest[..e]);
                    rest = &rest[e + 1..];
                    let line = std::mem::take(&mut self.pending);
                    let r = self.line(&line, out, transform);
                    self.pending = line;
                    self.pending.clear();
                    r?;
                }
            }
        }
        while !rest.is_empty() {
            if self.ended {
                return Err(CopyError::new(
                    "data after the end-of-data marker",
                    self.tuples + 1,
                ));
            }
            match find_eol(rest, 0, &mut self.escaped) {
                None => {
                    self.pending.extend_from_slice(rest);
                    break;
                }
                Some(e) => {
                    self.line(&rest[..e], out, transform)?;
                    rest = &rest[e + 1..];
                }
            }
        }
        Ok(self.tuples - start)
    }

    /// Handles one row (without its newline).
    fn line<F>(
        &mut self,
        line: &[u8],
        out: &mut Vec<u8>,
        transform: &mut F,
    ) -> Result<(), CopyError>
    where
        F: FnMut(&[Option<&str>], &[Option<&str>], &mut Vec<Option<String>>) -> Result<(), String>
            + ?Sized,
    {
        if line == b"\\." {
            self.ended = true;
            return Ok(());
        }
        let tuple = self.tuples + 1;
        let plan = &self.plan;
        let total = plan.input_fields();
        if total == 0 {
            if !line.is_empty() {
                return Err(CopyError::new("expected 0 fields, found 1", tuple));
            }
        } else {
            split_fields(line, &mut self.bounds);
            if self.bounds.len() != total {
                return Err(CopyError::new(
                    format!("expected {total} fields, found {}", self.bounds.len()),
                    tuple,
                ));
            }
        }
        if plan.is_passthrough() {
            out.extend_from_slice(line);
            out.push(b'\n');
            self.tuples = tuple;
            return Ok(());
        }
        let replaced = plan.replaced();

        // Locate (and unescape where needed) the transform's arguments.
        self.srcs.clear();
        self.srcs.resize(replaced + plan.context_fields, Src::Null);
        self.unescaped.clear();
        for (i, &(s, e)) in self.bounds.iter().enumerate() {
            let k = plan.arg_of(i);
            if k == KEEP {
                continue;
            }
            let raw = &line[s..e];
            self.srcs[k as usize] = if raw == b"\\N" {
                Src::Null
            } else if raw.contains(&b'\\') {
                let at = self.unescaped.len();
                unescape_into(raw, &mut self.unescaped);
                Src::Buf(at, self.unescaped.len())
            } else {
                Src::Line(s, e)
            };
        }
        let mut args = recycle(std::mem::take(&mut self.args));
        let mut bad = None;
        for (k, src) in self.srcs.iter().enumerate() {
            let bytes = match *src {
                Src::Null => {
                    args.push(None);
                    continue;
                }
                Src::Line(s, e) => &line[s..e],
                Src::Buf(s, e) => &self.unescaped[s..e],
            };
            match std::str::from_utf8(bytes) {
                Ok(t) => args.push(Some(t)),
                Err(_) => {
                    bad = Some(k);
                    break;
                }
            }
        }
        let r = match bad {
            Some(k) => {
                let field = if k < replaced {
                    plan.positions[k] + 1
                } else {
                    plan.output_fields + (k - replaced) + 1
                };
                Err(CopyError::new(
                    format!("field {field} is not UTF-8 text (use client_encoding UTF8)"),
                    tuple,
                ))
            }
            None => call_transform(transform, &args, replaced, &mut self.values, tuple),
        };
        self.args = recycle(args);
        r?;

        // The output: runs of untouched fields (and the tabs between them) as they are, new
        // values escaped in between.
        let mut run = 0;
        let end = if plan.output_fields == 0 {
            0
        } else {
            self.bounds[plan.output_fields - 1].1
        };
        for i in 0..plan.output_fields {
            let k = plan.slot[i];
            if k == KEEP {
                continue;
            }
            let (s, e) = self.bounds[i];
            out.extend_from_slice(&line[run..s]);
            run = e;
            match &self.values[k as usize] {
                None => out.extend_from_slice(b"\\N"),
                Some(v) => {
                    if v.as_bytes().contains(&0) {
                        return Err(CopyError::new(
                            format!(
                                "column {}: text cannot contain a NUL character",
                                plan.positions[k as usize] + 1
                            ),
                            tuple,
                        ));
                    }
                    escape_into(v, out);
                }
            }
        }
        out.extend_from_slice(&line[run..end]);
        out.push(b'\n');
        self.tuples = tuple;
        Ok(())
    }

    pub fn finish(&mut self) -> Result<(), CopyError> {
        if !self.pending.is_empty() || self.escaped {
            return Err(CopyError::new(
                "the stream ended in the middle of a row (no final newline)",
                self.tuples + 1,
            ));
        }
        Ok(())
    }
}

/// Counts and checks text rows without copying them.
pub(crate) struct TextCounter {
    fields: usize,
    /// Whether the next byte is escaped.
    escaped: bool,
    /// Bytes and tabs seen in the current row.
    line_len: usize,
    tabs: usize,
    /// The first two bytes of the current row (to recognize `\.`).
    head: [u8; 2],
    ended: bool,
    tuples: u64,
}

impl TextCounter {
    pub fn new(fields: usize) -> TextCounter {
        TextCounter {
            fields,
            escaped: false,
            line_len: 0,
            tabs: 0,
            head: [0; 2],
            ended: false,
            tuples: 0,
        }
    }

    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<u64, CopyError> {
        let start = self.tuples;
        let mut i = 0;
        while i < chunk.len() {
            if self.ended {
                return Err(CopyError::new(
                    "data after the end-of-data marker",
                    self.tuples + 1,
                ));
            }
            let c = chunk[i];
            i += 1;
            if self.line_len < 2 {
                self.head[self.line_len] = c;
            }
            if self.escaped {
                self.escaped = false;
                self.line_len += 1;
                continue;
            }
            match c {
                b'\n' => {
                    self.end_of_line()?;
                    continue;
                }
                b'\\' => self.escaped = true,
                b'\t' => self.tabs += 1,
                _ => {}
            }
            self.line_len += 1;
        }
        Ok(self.tuples - start)
    }

    fn end_of_line(&mut self) -> Result<(), CopyError> {
        let n = if self.line_len == 0 && self.fields == 0 {
            0
        } else {
            self.tabs + 1
        };
        let marker = self.line_len == 2 && &self.head == b"\\.";
        self.line_len = 0;
        self.tabs = 0;
        if marker {
            self.ended = true;
            return Ok(());
        }
        if n != self.fields {
            return Err(CopyError::new(
                format!("expected {} fields, found {n}", self.fields),
                self.tuples + 1,
            ));
        }
        self.tuples += 1;
        Ok(())
    }

    pub fn finish(&mut self) -> Result<(), CopyError> {
        if self.line_len > 0 || self.escaped {
            return Err(CopyError::new(
                "the stream ended in the middle of a row (no final newline)",
                self.tuples + 1,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy::testutil::{self, random_chunks, upper_if, Rng};
    use crate::copy::{BinaryType, Counter, Format, Layout};

    fn unescape(raw: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        unescape_into(raw, &mut v);
        v
    }

    fn escape(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        escape_into(s, &mut v);
        v
    }

    #[test]
    fn every_escape_is_read() {
        for (raw, want) in [
            (&br"a\\b"[..], &b"a\\b"[..]),
            (br"\t", b"\t"),
            (br"\n", b"\n"),
            (br"\r", b"\r"),
            (br"\b", b"\x08"),
            (br"\f", b"\x0c"),
            (br"\v", b"\x0b"),
            (br"\101", b"A"),
            (br"\1", b"\x01"),
            (br"\12", b"\n"),
            (br"\1234", b"S4"),
            (br"\08", b"\x008"),
            (br"\377", b"\xff"),
            (br"\x41", b"A"),
            (br"\x4", b"\x04"),
            (br"\x4g", b"\x04g"),
            (br"\x414", b"A4"),
            (br"\xg", b"xg"),
            (br"\q\.\N", b"q.N"),
            (b"\\\t", b"\t"),
            (b"a\\", b"a"),
            ("é\\é".as_bytes(), "éé".as_bytes()),
            (b"plain", b"plain"),
        ] {
            assert_eq!(unescape(raw), want, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn escaping_round_trips() {
        let mut all: String = (1u8..0x80).map(char::from).collect();
        all.push_str("é日本\u{1F600}\\\\N");
        for s in [
            "",
            "plain",
            "\\N",
            "\\",
            "a\tb\nc\rd",
            "\x08\x0c\x0b",
            "\\.",
            &all,
        ] {
            let e = escape(s);
            assert!(!e.contains(&b'\t') && !e.contains(&b'\n') && !e.contains(&b'\r'));
            assert_eq!(unescape(&e), s.as_bytes(), "{s:?}");
            assert_ne!(e, b"\\N");
        }
        assert_eq!(
            escape("a\\b\tc\nd\re\x08f\x0cg\x0bh\x01"),
            b"a\\\\b\\tc\\nd\\re\\bf\\fg\\vh\x01"
        );
    }

    /// The shared helper, in this format.
    fn run(
        layout: &Layout,
        chunks: &[&[u8]],
        t: &mut testutil::Transform,
    ) -> Result<(Vec<u8>, u64), CopyError> {
        testutil::run(Format::Text, layout, chunks, t)
    }

    fn layout() -> Layout {
        Layout {
            output_fields: 4,
            replaced: vec![(1, BinaryType::Int4), (3, BinaryType::Text)],
            context_fields: 1,
        }
    }

    const INPUT: &[u8] = b"k\\\\1\th\\xc3\\xa9llo\\tw\\\\\tx\\ny\tabc\tt\n\
\\N\t\\N\t\\N\t\\N\tt\n\
\\\\N\t\\\\N\t\\\\N\t\\\\N\tt\n\
a\\\nb\tb\\\tc\tc\td\\\\\tf\n\
\t\t\t\t\\N\n";

    const OUTPUT: &[u8] = b"k\\\\1\tH\xc3\x89LLO\\tW\\\\\tx\\ny\tABC\n\
\\N\t\\N\t\\N\t\\N\n\
\\\\N\t\\\\N\t\\\\N\t\\\\N\n\
a\\\nb\tb\\tc\tc\td\\\\\n\
\t\t\t\n";

    #[test]
    fn replaces_fields_and_drops_context() {
        let (out, n) = run(&layout(), &[INPUT], &mut upper_if).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(OUTPUT)
        );
        assert_eq!(n, 5);
    }

    #[test]
    fn the_transform_sees_unescaped_text() {
        let mut seen = Vec::new();
        let mut t = |rep: &[Option<&str>], ctx: &[Option<&str>], new: &mut Vec<Option<String>>| {
            seen.push((
                rep.iter()
                    .map(|v| v.map(str::to_string))
                    .collect::<Vec<_>>(),
                ctx[0].map(str::to_string),
            ));
            new.extend(rep.iter().map(|v| v.map(str::to_string)));
            Ok(())
        };
        let (out, _) = run(&layout(), &[INPUT], &mut t).unwrap();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            seen,
            [
                (vec![s("héllo\tw\\"), s("abc")], s("t")),
                (vec![None, None], s("t")),
                (vec![s("\\N"), s("\\N")], s("t")),
                (vec![s("b\tc"), s("d\\")], s("f")),
                (vec![s(""), s("")], None),
            ]
        );
        // The identity re-escapes to PostgreSQL's canonical escaping.
        assert!(out.starts_with(b"k\\\\1\th\xc3\xa9llo\\tw\\\\\tx\\ny\tabc\n"));
    }

    #[test]
    fn any_chunking_gives_the_same_output() {
        let bytes: Vec<&[u8]> = INPUT.chunks(1).collect();
        assert_eq!(run(&layout(), &bytes, &mut upper_if).unwrap().0, OUTPUT);
        for at in 0..=INPUT.len() {
            let (a, b) = INPUT.split_at(at);
            let (out, n) = run(&layout(), &[a, b], &mut upper_if).unwrap();
            assert_eq!(out, OUTPUT, "split at {at}");
            assert_eq!(n, 5);
        }
        let mut rng = Rng(7);
        for _ in 0..300 {
            let max = 1 + rng.below(20);
            let chunks = random_chunks(INPUT, &mut rng, max);
            assert_eq!(run(&layout(), &chunks, &mut upper_if).unwrap().0, OUTPUT);
        }
    }

    #[test]
    fn a_passthrough_layout_copies_rows() {
        let input = b"a\\tb\t\\N\n\tx\\\\\n";
        let mut t =
            |_: &[Option<&str>],
             _: &[Option<&str>],
             _: &mut Vec<Option<String>>|
             -> Result<(), String> { panic!("no transform for a passthrough layout") };
        let (out, n) = run(&Layout::passthrough(2), &[input], &mut t).unwrap();
        assert_eq!((out.as_slice(), n), (&input[..], 2));
    }

    #[test]
    fn the_end_marker_ends_the_data() {
        let (out, n) = run(&Layout::passthrough(1), &[b"a\n\\.\n"], &mut upper_if).unwrap();
        assert_eq!((out.as_slice(), n), (&b"a\n"[..], 1));
        let e = run(&Layout::passthrough(1), &[b"a\n\\.\nb\n"], &mut upper_if).unwrap_err();
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (2, "data after the end-of-data marker")
        );
        let e = run(&Layout::passthrough(1), &[b"a\n\\.\n", b"b"], &mut upper_if).unwrap_err();
        assert_eq!(e.message, "data after the end-of-data marker");
        // An escaped backslash before a period is data.
        let (out, _) = run(&Layout::passthrough(1), &[b"\\\\.\n"], &mut upper_if).unwrap();
        assert_eq!(out, b"\\\\.\n");
    }

    #[test]
    fn malformed_streams_are_errors() {
        let l = layout();
        let e = run(&l, &[b"a\tb\tc\td\te\na\tb\n"], &mut upper_if).unwrap_err();
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (2, "expected 5 fields, found 2")
        );
        let e = run(&l, &[b"a\tb\tc\td\te\tf\n"], &mut upper_if).unwrap_err();
        assert_eq!(e.message, "expected 5 fields, found 6");
        for cut in 1..INPUT.len() {
            if INPUT[cut - 1] == b'\n' && INPUT[cut - 2] != b'\\' {
                continue;
            }
            let e = run(&l, &[&INPUT[..cut]], &mut upper_if).unwrap_err();
            assert!(
                e.message.contains("ended in the middle of a row"),
                "cut {cut}: {e}"
            );
        }
        let e = run(&l, &[b"a\tb\tc\td\te\na\tb"], &mut upper_if).unwrap_err();
        assert_eq!(e.tuple, 2);
        assert!(run(&l, &[], &mut upper_if).is_ok());
        // Invalid UTF-8 in a replaced or context field (untouched fields are not decoded).
        assert!(run(&l, &[b"\xff\tb\t\\xff\td\te\n"], &mut upper_if).is_ok());
        let e = run(&l, &[b"a\t\\xff\tc\td\te\n"], &mut upper_if).unwrap_err();
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (1, "field 2 is not UTF-8 text (use client_encoding UTF8)")
        );
        let e = run(&l, &[b"a\tb\tc\td\t\xc3\n"], &mut upper_if).unwrap_err();
        assert!(e.message.starts_with("field 5 is not UTF-8"));
        // A new value with a NUL.
        let mut t = |_: &[Option<&str>], _: &[Option<&str>], new: &mut Vec<Option<String>>| {
            new.push(None);
            new.push(Some("a\0b".into()));
            Ok(())
        };
        let e = run(&l, &[b"a\tb\tc\td\te\n"], &mut t).unwrap_err();
        assert_eq!(e.message, "column 4: text cannot contain a NUL character");
        let mut t = |_: &[Option<&str>], _: &[Option<&str>], _: &mut Vec<Option<String>>| {
            Err("nope".to_string())
        };
        let e = run(&l, &[b"a\tb\tc\td\te\n"], &mut t).unwrap_err();
        assert_eq!((e.tuple, e.message.as_str()), (1, "nope"));
    }

    fn count(chunks: &[&[u8]], fields: usize) -> Result<u64, CopyError> {
        let mut c = Counter::new(Format::Text, fields);
        let mut n = 0;
        for ch in chunks {
            n += c.feed(ch)?;
        }
        c.finish()?;
        assert_eq!(c.tuples(), n);
        Ok(n)
    }

    #[test]
    fn the_counter_counts_in_any_chunking() {
        for at in 0..=INPUT.len() {
            let (a, b) = INPUT.split_at(at);
            assert_eq!(count(&[a, b], 5).unwrap(), 5, "split at {at}");
        }
        let bytes: Vec<&[u8]> = INPUT.chunks(1).collect();
        assert_eq!(count(&bytes, 5).unwrap(), 5);
        assert_eq!(count(&[b"a\n\\.\n"], 1).unwrap(), 1);
        assert_eq!(count(&[b"\n\n"], 1).unwrap(), 2);
        assert_eq!(count(&[b"\n\n"], 0).unwrap(), 2);
        assert_eq!(count(&[], 3).unwrap(), 0);
    }

    #[test]
    fn the_counter_checks_the_stream() {
        let e = count(&[INPUT], 4).unwrap_err();
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (1, "expected 4 fields, found 5")
        );
        let e = count(&[&INPUT[..INPUT.len() - 1]], 5).unwrap_err();
        assert_eq!(e.tuple, 5);
        assert!(e.message.contains("middle of a row"));
        assert!(count(&[b"a\\"], 1).is_err());
        assert!(count(&[b"a\n\\.\nb\n"], 1)
            .unwrap_err()
            .message
            .contains("after the end"));
        assert!(count(&[b"x\n"], 0).is_err());
    }
}
