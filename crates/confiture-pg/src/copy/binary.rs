//! The binary COPY format (PostgreSQL docs, `COPY`, "Binary Format").
//!
//! Header: the 11-byte signature `PGCOPY\n\377\r\n\0`, an int32 flags field, an int32 header
//! extension length and that many bytes. Each tuple: an int16 field count, then per field an
//! int32 length (-1 = NULL) and that many bytes. Trailer: an int16 -1. All big-endian.

use super::{call_transform, recycle, CopyError, Plan, KEEP};

/// The binary COPY signature.
pub const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// The header this module writes: the signature, flags 0, no extension.
pub const HEADER: &[u8; 19] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// The end-of-data trailer.
pub const TRAILER: &[u8; 2] = b"\xff\xff";

/// Length of the fixed part of the header (signature, flags, extension length).
const HEADER_FIXED: usize = 19;

/// Flag bit 16: OIDs included in the data (not supported; PostgreSQL 12+ never sets it).
const FLAG_OIDS: u32 = 1 << 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Tuples,
    Ended,
    Finished,
}

/// Where a resumable scan of one tuple stands.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    /// Offset of the next field length (once the field count is read).
    pos: usize,
    /// Fields left to scan; -1 while the field count is not read.
    fields_left: i32,
}

const FRESH: Cursor = Cursor {
    pos: 0,
    fields_left: -1,
};

enum Scan {
    /// A complete header of this length.
    Header(usize),
    /// A complete tuple of this length.
    Tuple(usize),
    /// The trailer (2 bytes).
    Trailer,
    /// The unit needs at least this many bytes in all.
    Need(usize),
}

#[inline]
fn be16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Scans the header at the start of `buf`.
fn scan_header(buf: &[u8]) -> Result<Scan, String> {
    let n = buf.len().min(SIGNATURE.len());
    if buf[..n] != SIGNATURE[..n] {
        return Err("not a binary COPY stream (bad signature)".into());
    }
    if buf.len() < HEADER_FIXED {
        return Ok(Scan::Need(HEADER_FIXED));
    }
    let flags = be32(buf, 11) as u32;
    if flags & FLAG_OIDS != 0 {
        return Err("binary COPY data with OIDs is not supported".into());
    }
    if flags & 0xffff_0000 != 0 {
        return Err(format!(
            "unrecognized critical flags in the binary COPY header ({flags:#010x})"
        ));
    }
    let ext = be32(buf, 15);
    if ext < 0 {
        return Err("invalid binary COPY header (negative extension length)".into());
    }
    let len = HEADER_FIXED + ext as usize;
    if buf.len() < len {
        Ok(Scan::Need(len))
    } else {
        Ok(Scan::Header(len))
    }
}

/// Scans (or resumes scanning) the tuple or trailer at the start of `buf`.
#[inline]
fn scan_tuple(buf: &[u8], cur: &mut Cursor, expected: usize) -> Result<Scan, String> {
    if cur.fields_left < 0 {
        if buf.len() < 2 {
            return Ok(Scan::Need(2));
        }
        let n = be16(buf, 0);
        if n == -1 {
            return Ok(Scan::Trailer);
        }
        if n < 0 || n as usize != expected {
            return Err(format!("expected {expected} fields, found {n}"));
        }
        cur.fields_left = i32::from(n);
        cur.pos = 2;
    }
    while cur.fields_left > 0 {
        let p = cur.pos;
        if buf.len() < p + 4 {
            return Ok(Scan::Need(p + 4));
        }
        let len = be32(buf, p);
        let end = if len >= 0 {
            p + 4 + len as usize
        } else if len == -1 {
            p + 4
        } else {
            return Err(format!("invalid field length {len}"));
        };
        if buf.len() < end {
            return Ok(Scan::Need(end));
        }
        cur.pos = end;
        cur.fields_left -= 1;
    }
    Ok(Scan::Tuple(cur.pos))
}

/// The field at `pos` of a complete tuple: its bytes (`None` = NULL) and where the next starts.
#[inline]
fn field(t: &[u8], pos: usize) -> (Option<&[u8]>, usize) {
    let len = be32(t, pos);
    if len < 0 {
        (None, pos + 4)
    } else {
        let end = pos + 4 + len as usize;
        (Some(&t[pos + 4..end]), end)
    }
}

pub(crate) struct BinaryRewriter {
    plan: Plan,
    phase: Phase,
    /// The start of a header or tuple that a chunk boundary split, up to the bytes scanned.
    pending: Vec<u8>,
    /// How far the scan of `pending` got.
    cursor: Cursor,
    tuples: u64,
    /// The transform's arguments (allocation recycled per tuple).
    args: Vec<Option<&'static str>>,
    values: Vec<Option<String>>,
}

impl BinaryRewriter {
    pub fn new(plan: Plan) -> BinaryRewriter {
        BinaryRewriter {
            args: Vec::with_capacity(plan.replaced() + plan.context_fields),
            values: Vec::with_capacity(plan.replaced()),
            plan,
            phase: Phase::Header,
            pending: Vec::new(),
            cursor: FRESH,
            tuples: 0,
        }
    }

    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    fn scan(phase: Phase, plan: &Plan, buf: &[u8], cur: &mut Cursor) -> Result<Scan, String> {
        match phase {
            Phase::Header => scan_header(buf),
            Phase::Tuples => scan_tuple(buf, cur, plan.input_fields()),
            Phase::Ended | Phase::Finished => Err("data after the end-of-data trailer".to_string()),
        }
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

        // First complete the unit a previous chunk left unfinished, taking from this chunk only
        // the bytes it needs.
        if !self.pending.is_empty() {
            loop {
                let scan = Self::scan(self.phase, &self.plan, &self.pending, &mut self.cursor)
                    .map_err(|m| self.error(m))?;
                match scan {
                    Scan::Need(n) => {
                        let take = (n - self.pending.len()).min(rest.len());
                        self.pending.extend_from_slice(&rest[..take]);
                        rest = &rest[take..];
                        if self.pending.len() < n {
                            return Ok(self.tuples - start);
                        }
                    }
                    unit => {
                        let pending = std::mem::take(&mut self.pending);
                        let r = self.unit(unit, &pending, out, transform);
                        self.pending = pending;
                        self.pending.clear();
                        self.cursor = FRESH;
                        r?;
                        break;
                    }
                }
            }
        }

        // Then the units wholly inside the chunk, straight from it; keep the tail.
        while !rest.is_empty() {
            let mut cur = FRESH;
            let scan =
                Self::scan(self.phase, &self.plan, rest, &mut cur).map_err(|m| self.error(m))?;
            let len = match scan {
                Scan::Need(_) => {
                    self.pending.extend_from_slice(rest);
                    self.cursor = cur;
                    break;
                }
                Scan::Header(n) | Scan::Tuple(n) => n,
                Scan::Trailer => 2,
            };
            self.unit(scan, &rest[..len], out, transform)?;
            rest = &rest[len..];
        }
        Ok(self.tuples - start)
    }

    fn error(&self, message: String) -> CopyError {
        let tuple = match self.phase {
            Phase::Header => 0,
            _ => self.tuples + 1,
        };
        CopyError::new(message, tuple)
    }

    /// Handles one complete unit.
    fn unit<F>(
        &mut self,
        scan: Scan,
        bytes: &[u8],
        out: &mut Vec<u8>,
        transform: &mut F,
    ) -> Result<(), CopyError>
    where
        F: FnMut(&[Option<&str>], &[Option<&str>], &mut Vec<Option<String>>) -> Result<(), String>
            + ?Sized,
    {
        match scan {
            Scan::Header(_) => {
                out.extend_from_slice(HEADER);
                self.phase = Phase::Tuples;
            }
            Scan::Trailer => self.phase = Phase::Ended,
            Scan::Tuple(_) => {
                let n = self.tuples + 1;
                rewrite_tuple(
                    &self.plan,
                    bytes,
                    out,
                    &mut self.args,
                    &mut self.values,
                    transform,
                    n,
                )?;
                self.tuples = n;
            }
            Scan::Need(_) => unreachable!("incomplete units are not handled"),
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CopyError> {
        match self.phase {
            Phase::Header => Err(CopyError::new(
                "the stream ended before the end of the binary header",
                0,
            )),
            Phase::Tuples if !self.pending.is_empty() => Err(CopyError::new(
                "the stream ended in the middle of a row",
                self.tuples + 1,
            )),
            Phase::Tuples => Err(CopyError::new(
                "the stream ended without the end-of-data trailer",
                self.tuples + 1,
            )),
            Phase::Ended => {
                out.extend_from_slice(TRAILER);
                self.phase = Phase::Finished;
                Ok(())
            }
            Phase::Finished => Ok(()),
        }
    }
}

/// Writes the output tuple for one complete input tuple `t`.
fn rewrite_tuple<F>(
    plan: &Plan,
    t: &[u8],
    out: &mut Vec<u8>,
    args_store: &mut Vec<Option<&'static str>>,
    values: &mut Vec<Option<String>>,
    transform: &mut F,
    tuple: u64,
) -> Result<(), CopyError>
where
    F: FnMut(&[Option<&str>], &[Option<&str>], &mut Vec<Option<String>>) -> Result<(), String>
        + ?Sized,
{
    if plan.is_passthrough() {
        out.extend_from_slice(t);
        return Ok(());
    }
    let replaced = plan.replaced();

    // The transform's arguments: replaced fields, then context fields.
    let mut args = recycle(std::mem::take(args_store));
    args.resize(replaced + plan.context_fields, None);
    let mut pos = 2;
    for i in 0..plan.input_fields() {
        let (data, next) = field(t, pos);
        pos = next;
        let k = plan.arg_of(i);
        if k == KEEP {
            continue;
        }
        if let Some(b) = data {
            match std::str::from_utf8(b) {
                Ok(s) => args[k as usize] = Some(s),
                Err(_) => {
                    *args_store = recycle(args);
                    return Err(CopyError::new(
                        format!(
                            "field {} is not UTF-8 text (select it as ::text with client_encoding UTF8)",
                            i + 1
                        ),
                        tuple,
                    ));
                }
            }
        }
    }
    let r = call_transform(transform, &args, replaced, values, tuple);
    *args_store = recycle(args);
    r?;

    // The output: runs of untouched fields copied as they are, new values encoded in between.
    out.extend_from_slice(&(plan.output_fields as i16).to_be_bytes());
    let mut pos = 2;
    let mut run = 2;
    for i in 0..plan.output_fields {
        let start = pos;
        pos = field(t, pos).1;
        let k = plan.slot[i];
        if k == KEEP {
            continue;
        }
        out.extend_from_slice(&t[run..start]);
        run = pos;
        match &values[k as usize] {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(v) => encode_field(plan, k as usize, v, out, tuple)?,
        }
    }
    out.extend_from_slice(&t[run..pos]);
    Ok(())
}

/// Appends one length-prefixed field: `v` encoded as replaced field `k`.
#[inline]
fn encode_field(
    plan: &Plan,
    k: usize,
    v: &str,
    out: &mut Vec<u8>,
    tuple: u64,
) -> Result<(), CopyError> {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    if let Err(e) = plan.types[k].encode(v, out) {
        out.truncate(at);
        return Err(CopyError::new(
            format!("column {}: {e}", plan.positions[k] + 1),
            tuple,
        ));
    }
    let len = out.len() - at - 4;
    let Ok(len) = i32::try_from(len) else {
        out.truncate(at);
        return Err(CopyError::new(
            format!("column {}: value too long", plan.positions[k] + 1),
            tuple,
        ));
    };
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CountState {
    /// Collecting the 19 fixed header bytes.
    Header,
    /// Skipping bytes: field data (then the next field) or the header extension (then the first
    /// tuple).
    Skip {
        left: u64,
        field: bool,
    },
    /// Reading a tuple's field count.
    Count,
    /// Reading a field length.
    FieldLen,
    Ended,
}

/// Counts and checks binary tuples without copying them.
pub(crate) struct BinaryCounter {
    fields: usize,
    state: CountState,
    /// Bytes of a header or integer split by a chunk boundary.
    partial: [u8; HEADER_FIXED],
    partial_len: usize,
    fields_left: usize,
    tuples: u64,
}

impl BinaryCounter {
    pub fn new(fields: usize) -> BinaryCounter {
        BinaryCounter {
            fields,
            state: CountState::Header,
            partial: [0; HEADER_FIXED],
            partial_len: 0,
            fields_left: 0,
            tuples: 0,
        }
    }

    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    fn error(&self, message: impl Into<String>) -> CopyError {
        let tuple = match self.state {
            CountState::Header | CountState::Skip { field: false, .. } => 0,
            _ => self.tuples + 1,
        };
        CopyError::new(message, tuple)
    }

    /// Takes `n` bytes from `chunk` at `*pos`, through `partial` when they straddle chunks.
    /// `None` when the chunk ran out first (the bytes are kept).
    #[inline]
    fn take<'a>(&'a mut self, chunk: &'a [u8], pos: &mut usize, n: usize) -> Option<&'a [u8]> {
        if self.partial_len == 0 && chunk.len() - *pos >= n {
            let b = &chunk[*pos..*pos + n];
            *pos += n;
            return Some(b);
        }
        let want = n - self.partial_len;
        let got = want.min(chunk.len() - *pos);
        self.partial[self.partial_len..self.partial_len + got]
            .copy_from_slice(&chunk[*pos..*pos + got]);
        self.partial_len += got;
        *pos += got;
        if self.partial_len < n {
            return None;
        }
        self.partial_len = 0;
        Some(&self.partial[..n])
    }

    /// One field done: the next field, or the next tuple.
    #[inline]
    fn field_done(&mut self) {
        self.fields_left -= 1;
        if self.fields_left == 0 {
            self.tuples += 1;
            self.state = CountState::Count;
        } else {
            self.state = CountState::FieldLen;
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<u64, CopyError> {
        let start = self.tuples;
        let mut pos = 0;
        while pos < chunk.len() {
            match self.state {
                CountState::Header => {
                    let Some(h) = self.take(chunk, &mut pos, HEADER_FIXED) else {
                        let n = self.partial_len.min(SIGNATURE.len());
                        if self.partial[..n] != SIGNATURE[..n] {
                            return Err(self.error("not a binary COPY stream (bad signature)"));
                        }
                        break;
                    };
                    let ext = match scan_header(h) {
                        Ok(Scan::Need(n)) => (n - HEADER_FIXED) as u64,
                        Ok(_) => 0,
                        Err(m) => return Err(self.error(m)),
                    };
                    self.state = CountState::Skip {
                        left: ext,
                        field: false,
                    };
                }
                CountState::Skip { left, field } => {
                    let n = left.min((chunk.len() - pos) as u64);
                    pos += n as usize;
                    let left = left - n;
                    if left > 0 {
                        self.state = CountState::Skip { left, field };
                    } else if field {
                        self.field_done();
                    } else {
                        self.state = CountState::Count;
                    }
                }
                CountState::Count => {
                    let Some(b) = self.take(chunk, &mut pos, 2) else {
                        break;
                    };
                    let n = be16(b, 0);
                    if n == -1 {
                        self.state = CountState::Ended;
                        continue;
                    }
                    if n < 0 || n as usize != self.fields {
                        let m = format!("expected {} fields, found {n}", self.fields);
                        return Err(self.error(m));
                    }
                    if n == 0 {
                        self.tuples += 1;
                    } else {
                        self.fields_left = n as usize;
                        self.state = CountState::FieldLen;
                    }
                }
                CountState::FieldLen => {
                    let Some(b) = self.take(chunk, &mut pos, 4) else {
                        break;
                    };
                    let len = be32(b, 0);
                    if len == -1 || len == 0 {
                        self.field_done();
                    } else if len > 0 {
                        self.state = CountState::Skip {
                            left: len as u64,
                            field: true,
                        };
                    } else {
                        return Err(self.error(format!("invalid field length {len}")));
                    }
                }
                CountState::Ended => {
                    return Err(self.error("data after the end-of-data trailer"));
                }
            }
        }
        Ok(self.tuples - start)
    }

    pub fn finish(&mut self) -> Result<(), CopyError> {
        match self.state {
            CountState::Ended => Ok(()),
            CountState::Header | CountState::Skip { field: false, .. } => Err(CopyError::new(
                "the stream ended before the end of the binary header",
                0,
            )),
            CountState::Count if self.partial_len == 0 => Err(CopyError::new(
                "the stream ended without the end-of-data trailer",
                self.tuples + 1,
            )),
            _ => Err(CopyError::new(
                "the stream ended in the middle of a row",
                self.tuples + 1,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy::testutil::{self, random_chunks, upper_if, Rng};
    use crate::copy::{BinaryType, Counter, Format, Layout, Rewriter};

    type Row<'a> = Vec<Option<&'a [u8]>>;

    /// A binary COPY stream: header (with `ext` extension bytes), tuples, trailer.
    fn stream(rows: &[Row], ext: usize) -> Vec<u8> {
        let mut s = SIGNATURE.to_vec();
        s.extend_from_slice(&0i32.to_be_bytes());
        s.extend_from_slice(&(ext as i32).to_be_bytes());
        s.extend(std::iter::repeat_n(0xEE, ext));
        for r in rows {
            s.extend_from_slice(&(r.len() as i16).to_be_bytes());
            for f in r {
                match f {
                    None => s.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(b) => {
                        s.extend_from_slice(&(b.len() as i32).to_be_bytes());
                        s.extend_from_slice(b);
                    }
                }
            }
        }
        s.extend_from_slice(TRAILER);
        s
    }

    /// The shared helper, in this format.
    fn run(
        layout: &Layout,
        chunks: &[&[u8]],
        t: &mut testutil::Transform,
    ) -> Result<(Vec<u8>, u64), CopyError> {
        testutil::run(Format::Binary, layout, chunks, t)
    }

    fn layout() -> Layout {
        Layout {
            output_fields: 4,
            replaced: vec![(1, BinaryType::Text), (3, BinaryType::Text)],
            context_fields: 1,
        }
    }

    fn sample() -> (Vec<u8>, Vec<u8>) {
        let big = vec![7u8; 300];
        let input = stream(
            &[
                vec![
                    Some(b"\x00\x01"),
                    Some("héllo".as_bytes()),
                    None,
                    Some(b"x"),
                    Some(b"t"),
                ],
                vec![None, Some(b"keep"), Some(&big), None, Some(b"f")],
                vec![Some(b""), None, Some(b""), Some(b"y\tz"), Some(b"t")],
                vec![Some(b"a"), Some(b"b"), Some(b"c"), Some(b"d"), None],
            ],
            5,
        );
        let expected = stream(
            &[
                vec![
                    Some(b"\x00\x01"),
                    Some("HÉLLO".as_bytes()),
                    None,
                    Some(b"X"),
                ],
                vec![None, Some(b"keep"), Some(&big), None],
                vec![Some(b""), None, Some(b""), Some(b"Y\tZ")],
                vec![Some(b"a"), Some(b"b"), Some(b"c"), Some(b"d")],
            ],
            0,
        );
        (input, expected)
    }

    #[test]
    fn replaces_fields_and_drops_context() {
        let (input, expected) = sample();
        let (out, n) = run(&layout(), &[&input], &mut upper_if).unwrap();
        assert_eq!(n, 4);
        assert_eq!(out, expected);
    }

    #[test]
    fn any_chunking_gives_the_same_output() {
        let (input, expected) = sample();
        // One byte at a time.
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(run(&layout(), &bytes, &mut upper_if).unwrap().0, expected);
        // Two chunks, split at every offset.
        for at in 0..=input.len() {
            let (a, b) = input.split_at(at);
            let (out, n) = run(&layout(), &[a, b], &mut upper_if).unwrap();
            assert_eq!(out, expected, "split at {at}");
            assert_eq!(n, 4);
        }
        // Random splits, empty chunks included.
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..300 {
            let max = 1 + rng.below(40);
            let chunks = random_chunks(&input, &mut rng, max);
            assert_eq!(run(&layout(), &chunks, &mut upper_if).unwrap().0, expected);
        }
    }

    #[test]
    fn tuples_are_reported_as_they_complete() {
        let (input, _) = sample();
        let mut r = Rewriter::new(Format::Binary, layout());
        let mut out = Vec::new();
        let counts: Vec<u64> = input
            .chunks(input.len() / 3 + 1)
            .map(|c| r.feed(c, &mut out, &mut upper_if).unwrap())
            .collect();
        assert_eq!(counts.iter().sum::<u64>(), 4);
        assert_eq!(r.tuples(), 4);
        // The output header is written as soon as the input header is read.
        let mut r = Rewriter::new(Format::Binary, layout());
        let mut out = Vec::new();
        assert_eq!(r.feed(&input[..24], &mut out, &mut upper_if).unwrap(), 0);
        assert_eq!(out, HEADER);
    }

    #[test]
    fn new_values_are_encoded_in_the_target_type() {
        let layout = Layout {
            output_fields: 3,
            replaced: vec![(2, BinaryType::Int4), (0, BinaryType::Jsonb)],
            context_fields: 0,
        };
        let input = stream(
            &[vec![Some(b"1"), Some(b"\x00\x00\x00\x05"), Some(b"7")]],
            0,
        );
        let mut t = |rep: &[Option<&str>], ctx: &[Option<&str>], new: &mut Vec<Option<String>>| {
            assert_eq!(rep, [Some("7"), Some("1")]);
            assert!(ctx.is_empty());
            new.push(Some("42".into()));
            new.push(None);
            Ok(())
        };
        let (out, _) = run(&layout, &[&input], &mut t).unwrap();
        let expected = stream(
            &[vec![
                None,
                Some(b"\x00\x00\x00\x05"),
                Some(b"\x00\x00\x00\x2a"),
            ]],
            0,
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn a_passthrough_layout_copies_tuples() {
        let rows: Vec<Row> = vec![vec![Some(b"ab"), None], vec![None, Some(b"")]];
        let input = stream(&rows, 3);
        let mut t =
            |_: &[Option<&str>],
             _: &[Option<&str>],
             _: &mut Vec<Option<String>>|
             -> Result<(), String> { panic!("no transform for a passthrough layout") };
        let (out, n) = run(&Layout::passthrough(2), &[&input], &mut t).unwrap();
        assert_eq!(n, 2);
        assert_eq!(out, stream(&rows, 0));
    }

    fn err(layout: &Layout, chunks: &[&[u8]]) -> CopyError {
        run(layout, chunks, &mut upper_if).unwrap_err()
    }

    #[test]
    fn malformed_streams_are_errors() {
        let l = layout();
        let good = vec![
            Some(&b"a"[..]),
            Some(b"b"),
            Some(b"c"),
            Some(b"d"),
            Some(b"t"),
        ];
        // Wrong field count, at the right tuple.
        let s = stream(&[good.clone(), vec![Some(b"a"), Some(b"b")]], 0);
        let e = err(&l, &[&s]);
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (2, "expected 5 fields, found 2")
        );
        // Truncated anywhere: an error at finish (or before).
        let s = stream(&[good.clone(), good.clone()], 0);
        for cut in 0..s.len() {
            let e = err(&l, &[&s[..cut]]);
            assert!(e.message.contains("ended"), "cut {cut}: {e}");
        }
        assert_eq!(err(&l, &[&s[..18]]).tuple, 0);
        assert_eq!(err(&l, &[&s[..20]]).tuple, 1);
        let e = err(&l, &[&s[..s.len() - 4]]);
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (2, "the stream ended in the middle of a row")
        );
        let e = err(&l, &[&s[..s.len() - 2]]);
        assert_eq!(e.tuple, 3);
        assert!(e.message.contains("without the end-of-data trailer"));
        assert!(err(&l, &[])
            .message
            .contains("before the end of the binary header"));
        // A bad signature is seen early.
        let mut r = Rewriter::new(Format::Binary, l.clone());
        let e = r
            .feed(b"PGCOPX", &mut Vec::new(), &mut upper_if)
            .unwrap_err();
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (0, "not a binary COPY stream (bad signature)")
        );
        let e = err(&l, &[b"a\tb\n"]);
        assert!(e.message.contains("bad signature"));
        // OIDs, critical flags, negative extension.
        let mut s = stream(&[], 0);
        s[12] = 1;
        assert!(err(&l, &[&s]).message.contains("OIDs"));
        s[12] = 2;
        assert!(err(&l, &[&s]).message.contains("critical flags"));
        s[12] = 0;
        s[14] = 0x80; // bits 0-15 are not critical
        assert!(run(&l, &[&s], &mut upper_if).is_ok());
        let mut s = stream(&[], 0);
        s[15] = 0x80;
        assert!(err(&l, &[&s]).message.contains("negative extension"));
        // Data after the trailer, in the same or a later chunk.
        let s = stream(std::slice::from_ref(&good), 0);
        assert!(err(&l, &[&s, b"x"])
            .message
            .contains("after the end-of-data trailer"));
        let mut s2 = s.clone();
        s2.push(0);
        assert!(err(&l, &[&s2])
            .message
            .contains("after the end-of-data trailer"));
        // A bad field length.
        let mut s = stream(std::slice::from_ref(&good), 0);
        s[21..25].copy_from_slice(&(-2i32).to_be_bytes());
        let e = err(&l, &[&s]);
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (1, "invalid field length -2")
        );
    }

    #[test]
    fn replaced_and_context_fields_must_be_utf8() {
        let l = layout();
        let s = stream(
            &[vec![
                Some(b"\xff"),
                Some(b"ok"),
                Some(b"\xff"),
                Some(b"ok"),
                Some(b"t"),
            ]],
            0,
        );
        assert!(
            run(&l, &[&s], &mut upper_if).is_ok(),
            "untouched fields are not decoded"
        );
        let s = stream(&[vec![None, Some(b"\xff"), None, None, None]], 0);
        let e = err(&l, &[&s]);
        assert_eq!(e.tuple, 1);
        assert!(e.message.starts_with("field 2 is not UTF-8"), "{e}");
        let s = stream(&[vec![None, None, None, None, Some(b"\xc3")]], 0);
        assert!(err(&l, &[&s]).message.starts_with("field 5 is not UTF-8"));
    }

    #[test]
    fn transform_and_encoder_failures_name_the_row() {
        let good = vec![
            Some(&b"a"[..]),
            Some(b"b"),
            Some(b"c"),
            Some(b"d"),
            Some(b"t"),
        ];
        let s = stream(&[good.clone(), good.clone(), good.clone()], 0);
        let mut calls = 0;
        let mut t = |rep: &[Option<&str>], _: &[Option<&str>], new: &mut Vec<Option<String>>| {
            calls += 1;
            if calls == 3 {
                return Err("strategy failed".to_string());
            }
            new.extend(rep.iter().map(|v| v.map(str::to_string)));
            Ok(())
        };
        let e = run(&layout(), &[&s], &mut t).unwrap_err();
        assert_eq!((e.tuple, e.message.as_str()), (3, "strategy failed"));

        let mut short = |_: &[Option<&str>], _: &[Option<&str>], new: &mut Vec<Option<String>>| {
            new.push(None);
            Ok(())
        };
        let e = run(&layout(), &[&s], &mut short).unwrap_err();
        assert_eq!(
            e.message,
            "the transform returned 1 values for 2 replaced columns"
        );

        let l = Layout {
            output_fields: 4,
            replaced: vec![(2, BinaryType::Int2)],
            context_fields: 1,
        };
        let mut t = |_: &[Option<&str>], _: &[Option<&str>], new: &mut Vec<Option<String>>| {
            new.push(Some("99999".into()));
            Ok(())
        };
        let e = run(&l, &[&s], &mut t).unwrap_err();
        assert_eq!(e.tuple, 1);
        assert_eq!(
            e.message,
            "column 3: value \"99999\" is out of range for type smallint"
        );
    }

    fn count(chunks: &[&[u8]], fields: usize) -> Result<u64, CopyError> {
        let mut c = Counter::new(Format::Binary, fields);
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
        let (input, _) = sample();
        assert_eq!(count(&[&input], 5).unwrap(), 4);
        for at in 0..=input.len() {
            let (a, b) = input.split_at(at);
            assert_eq!(count(&[a, b], 5).unwrap(), 4, "split at {at}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(count(&bytes, 5).unwrap(), 4);
        let mut rng = Rng(42);
        for _ in 0..200 {
            let max = 1 + rng.below(30);
            let chunks = random_chunks(&input, &mut rng, max);
            assert_eq!(count(&chunks, 5).unwrap(), 4);
        }
        assert_eq!(count(&[&stream(&[], 0)], 5).unwrap(), 0);
        assert_eq!(count(&[&stream(&[vec![], vec![]], 0)], 0).unwrap(), 2);
    }

    #[test]
    fn the_counter_checks_the_stream() {
        let (input, _) = sample();
        let e = count(&[&input], 4).unwrap_err();
        assert_eq!(
            (e.tuple, e.message.as_str()),
            (1, "expected 4 fields, found 5")
        );
        for cut in 0..input.len() {
            let e = count(&[&input[..cut]], 5).unwrap_err();
            assert!(e.message.contains("ended"), "cut {cut}: {e}");
        }
        let e = count(&[&input[..10]], 5).unwrap_err();
        assert_eq!(e.tuple, 0);
        let e = count(&[&input[..input.len() - 2]], 5).unwrap_err();
        assert_eq!(e.tuple, 5);
        assert!(e.message.contains("trailer"));
        assert!(count(&[&input, b"\0"], 5)
            .unwrap_err()
            .message
            .contains("after the end"));
        assert!(count(&[b"PGCOPY\n\xff\r\n\x01"], 5)
            .unwrap_err()
            .message
            .contains("signature"));
        assert!(count(&[b"xx"], 5)
            .unwrap_err()
            .message
            .contains("signature"));
        let mut s = stream(&[], 0);
        s[12] = 1;
        assert!(count(&[&s], 5).unwrap_err().message.contains("OIDs"));
        let mut s = stream(&[vec![Some(b"a")]], 0);
        s[21..25].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(count(&[&s], 1)
            .unwrap_err()
            .message
            .contains("invalid field length"));
    }
}
