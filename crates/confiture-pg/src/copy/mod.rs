//! Streaming rewriting of `COPY … TO STDOUT` data into `COPY … FROM STDIN` data.
//!
//! `confiture sync` reads a table from a source database with
//! `COPY (SELECT <cols>) TO STDOUT (FORMAT binary)` and writes it into a target with
//! `COPY <table> FROM STDIN (FORMAT binary)`. Some columns are replaced (anonymized) on the way:
//! the source selects them as `col::text`, so their binary field bytes are plain UTF-8 text, and
//! the rewriter hands that text to a transform and writes the new value in the *target* column's
//! binary format ([`encode::BinaryType`]). Extra context columns, appended after the output
//! columns (also `::text`), are read by the transform and dropped. Every other field is passed
//! through byte for byte, never decoded.
//!
//! [`Format::Text`] is the same contract over PostgreSQL's text COPY format (a fallback for
//! replaced columns whose type has no binary encoder): untouched fields are passed through raw
//! (still escaped), replaced and context fields are unescaped for the transform and the new
//! values escaped again.
//!
//! Input arrives in chunks that split tuples anywhere; a [`Rewriter`] carries the partial tuple
//! between chunks (only the part of a tuple that straddles a chunk boundary is ever copied).
//! Tables with nothing to replace or drop do not need a rewriter at all: forward the source's
//! chunks unchanged and let a [`Counter`] count the tuples without copying anything.
//!
//! The source session must use `client_encoding = UTF8` (text values are handed over as `&str`)
//! and, for the binary encoders, `DateStyle = ISO`, `TimeZone = UTC`, `IntervalStyle = postgres`
//! (see [`encode`]).

pub mod binary;
pub mod encode;
pub mod text;

use std::fmt;

pub use encode::BinaryType;

/// The COPY format of both the input and the output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `FORMAT binary`.
    Binary,
    /// `FORMAT text` with the default delimiter (tab) and NULL marker (`\N`).
    Text,
}

/// What a [`Rewriter`] does with each input field.
///
/// Input tuples have `output_fields + context_fields` fields; output tuples have
/// `output_fields`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Number of fields written per output tuple (the target's columns).
    pub output_fields: usize,
    /// Output positions (0-based) that are replaced, each with how to encode the new text value
    /// (binary only; ignored for [`Format::Text`]). The order of this list is the order of the
    /// `replaced` values handed to, and returned by, the transform.
    pub replaced: Vec<(usize, BinaryType)>,
    /// Trailing input fields (after the output fields) read by the transform and dropped.
    pub context_fields: usize,
}

impl Layout {
    /// A layout that passes `output_fields` fields through unchanged.
    pub fn passthrough(output_fields: usize) -> Layout {
        Layout {
            output_fields,
            replaced: Vec::new(),
            context_fields: 0,
        }
    }

    /// Whether the output is the input (nothing replaced, nothing dropped): the stream can then
    /// be forwarded as is, counted by a [`Counter`].
    pub fn is_passthrough(&self) -> bool {
        self.replaced.is_empty() && self.context_fields == 0
    }
}

/// A malformed COPY stream, or a failing transform or encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyError {
    pub message: String,
    /// The 1-based number of the tuple at fault; 0 for the binary header.
    pub tuple: u64,
}

impl CopyError {
    pub(crate) fn new(message: impl Into<String>, tuple: u64) -> CopyError {
        CopyError {
            message: message.into(),
            tuple,
        }
    }
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tuple == 0 {
            write!(f, "COPY data: {}", self.message)
        } else {
            write!(f, "COPY data, row {}: {}", self.tuple, self.message)
        }
    }
}

impl std::error::Error for CopyError {}

/// Rewrites one COPY stream, chunk by chunk. One per stream: it holds the partial tuple carried
/// between chunks.
pub struct Rewriter {
    inner: Inner,
}

enum Inner {
    Binary(binary::BinaryRewriter),
    Text(text::TextRewriter),
}

impl Rewriter {
    /// A rewriter for one stream.
    ///
    /// # Panics
    ///
    /// If `layout.replaced` names a position `>= output_fields` or the same position twice.
    pub fn new(format: Format, layout: Layout) -> Rewriter {
        let plan = Plan::new(layout);
        Rewriter {
            inner: match format {
                Format::Binary => Inner::Binary(binary::BinaryRewriter::new(plan)),
                Format::Text => Inner::Text(text::TextRewriter::new(plan)),
            },
        }
    }

    /// Consumes one chunk of COPY OUT data and appends COPY IN data for each tuple completed by
    /// it to `out` (and, in binary, the output header once the input header is read).
    ///
    /// For each tuple, `transform(replaced, context, new_values)` is called (when the layout
    /// replaces or drops anything): `replaced[i]` is the original text of `layout.replaced[i]`,
    /// `context[j]` that of context field `j` (`None` = NULL). It must push exactly one value per
    /// replaced field into `new_values` (cleared before each call); an `Err` stops the stream.
    ///
    /// Returns the number of tuples completed in this chunk. After an error the stream is
    /// unusable and `out` may hold part of a tuple.
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
        match &mut self.inner {
            Inner::Binary(r) => r.feed(chunk, out, transform),
            Inner::Text(r) => r.feed(chunk, out, transform),
        }
    }

    /// After the last chunk: an error if the stream ended mid-tuple or (binary) without a
    /// complete header or the end-of-data trailer. Appends the binary trailer to `out` (nothing
    /// for text).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CopyError> {
        match &mut self.inner {
            Inner::Binary(r) => r.finish(out),
            Inner::Text(r) => r.finish(),
        }
    }

    /// Tuples completed so far.
    pub fn tuples(&self) -> u64 {
        match &self.inner {
            Inner::Binary(r) => r.tuples(),
            Inner::Text(r) => r.tuples(),
        }
    }
}

/// Counts (and checks) the tuples of a stream forwarded unchanged, without copying it: feed it
/// each chunk, then send the same chunk to the target.
///
/// It checks the binary header, the field count of every tuple, and that the stream ends
/// cleanly (binary trailer, final newline).
pub struct Counter {
    inner: CounterInner,
}

enum CounterInner {
    Binary(binary::BinaryCounter),
    Text(text::TextCounter),
}

impl Counter {
    /// A counter for a stream whose tuples have `fields` fields.
    pub fn new(format: Format, fields: usize) -> Counter {
        Counter {
            inner: match format {
                Format::Binary => CounterInner::Binary(binary::BinaryCounter::new(fields)),
                Format::Text => CounterInner::Text(text::TextCounter::new(fields)),
            },
        }
    }

    /// Walks one chunk; returns the number of tuples completed in it.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<u64, CopyError> {
        match &mut self.inner {
            CounterInner::Binary(c) => c.feed(chunk),
            CounterInner::Text(c) => c.feed(chunk),
        }
    }

    /// After the last chunk: an error if the stream ended mid-tuple, or (binary) without a
    /// complete header or the trailer.
    pub fn finish(&mut self) -> Result<(), CopyError> {
        match &mut self.inner {
            CounterInner::Binary(c) => c.finish(),
            CounterInner::Text(c) => c.finish(),
        }
    }

    /// Tuples completed so far.
    pub fn tuples(&self) -> u64 {
        match &self.inner {
            CounterInner::Binary(c) => c.tuples(),
            CounterInner::Text(c) => c.tuples(),
        }
    }
}

/// Marks an output position that is not replaced.
pub(crate) const KEEP: u32 = u32::MAX;

/// A [`Layout`] prepared for per-tuple work.
pub(crate) struct Plan {
    pub output_fields: usize,
    pub context_fields: usize,
    /// Per output position: the index into `types` of its replacement, or [`KEEP`].
    pub slot: Vec<u32>,
    /// Per replaced field (in `Layout::replaced` order): its encoder.
    pub types: Vec<BinaryType>,
    /// Per replaced field: its output position.
    pub positions: Vec<usize>,
}

impl Plan {
    fn new(layout: Layout) -> Plan {
        let mut slot = vec![KEEP; layout.output_fields];
        for (i, &(pos, _)) in layout.replaced.iter().enumerate() {
            assert!(
                pos < layout.output_fields,
                "replaced position {pos} is not below output_fields {}",
                layout.output_fields
            );
            assert!(slot[pos] == KEEP, "position {pos} is replaced twice");
            slot[pos] = u32::try_from(i).expect("fewer than 2^32 replaced fields");
        }
        Plan {
            output_fields: layout.output_fields,
            context_fields: layout.context_fields,
            slot,
            types: layout.replaced.iter().map(|&(_, t)| t).collect(),
            positions: layout.replaced.iter().map(|&(p, _)| p).collect(),
        }
    }

    pub fn input_fields(&self) -> usize {
        self.output_fields + self.context_fields
    }

    pub fn replaced(&self) -> usize {
        self.types.len()
    }

    /// Whether tuples go out as they came in.
    pub fn is_passthrough(&self) -> bool {
        self.types.is_empty() && self.context_fields == 0
    }

    /// Where input field `i` goes among the transform's arguments (`replaced` then `context`),
    /// or [`KEEP`].
    #[inline]
    pub fn arg_of(&self, i: usize) -> u32 {
        if i < self.output_fields {
            self.slot[i]
        } else {
            (self.types.len() + i - self.output_fields) as u32
        }
    }
}

/// Reuses the allocation of an empty-able vector of string slices for another lifetime.
///
/// The transform's arguments borrow from each tuple; keeping one vector in the rewriter and
/// recycling it per tuple avoids an allocation per row. In-place collection of a vector whose
/// element type has the same size and alignment keeps the allocation (and an empty iterator
/// runs no code).
#[inline]
pub(crate) fn recycle<'b>(mut v: Vec<Option<&str>>) -> Vec<Option<&'b str>> {
    v.clear();
    v.into_iter().map(|_| None).collect()
}

/// Calls the transform for one tuple and checks it returned one value per replaced field.
#[inline]
pub(crate) fn call_transform<F>(
    transform: &mut F,
    args: &[Option<&str>],
    replaced: usize,
    values: &mut Vec<Option<String>>,
    tuple: u64,
) -> Result<(), CopyError>
where
    F: FnMut(&[Option<&str>], &[Option<&str>], &mut Vec<Option<String>>) -> Result<(), String>
        + ?Sized,
{
    values.clear();
    transform(&args[..replaced], &args[replaced..], values)
        .map_err(|m| CopyError::new(m, tuple))?;
    if values.len() != replaced {
        return Err(CopyError::new(
            format!(
                "the transform returned {} values for {} replaced columns",
                values.len(),
                replaced
            ),
            tuple,
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::{CopyError, Format, Layout, Rewriter};

    pub type Transform<'t> = dyn FnMut(&[Option<&str>], &[Option<&str>], &mut Vec<Option<String>>) -> Result<(), String>
        + 't;

    /// `chunks` rewritten in `format` with `layout` and `t`: the output and the tuples counted.
    pub fn run(
        format: Format,
        layout: &Layout,
        chunks: &[&[u8]],
        t: &mut Transform,
    ) -> Result<(Vec<u8>, u64), CopyError> {
        let mut r = Rewriter::new(format, layout.clone());
        let mut out = Vec::new();
        let mut n = 0;
        for c in chunks {
            n += r.feed(c, &mut out, t)?;
        }
        r.finish(&mut out)?;
        assert_eq!(r.tuples(), n);
        Ok((out, n))
    }

    /// Uppercases the replaced fields when the context field is "t".
    pub fn upper_if(
        rep: &[Option<&str>],
        ctx: &[Option<&str>],
        new: &mut Vec<Option<String>>,
    ) -> Result<(), String> {
        for v in rep {
            new.push(match (v, ctx[0]) {
                (Some(v), Some("t")) => Some(v.to_uppercase()),
                (v, _) => v.map(str::to_string),
            });
        }
        Ok(())
    }

    /// A deterministic pseudo-random sequence (xorshift), for chunk splits.
    pub struct Rng(pub u64);

    impl Rng {
        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Splits `data` at random points into chunks of 0 to `max` bytes.
    pub fn random_chunks<'a>(data: &'a [u8], rng: &mut Rng, max: usize) -> Vec<&'a [u8]> {
        let mut chunks = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let n = rng.below(max + 1).min(rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        chunks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycling_keeps_the_allocation() {
        let mut v: Vec<Option<&'static str>> = Vec::with_capacity(16);
        let p = v.as_ptr() as usize;
        v.push(Some("x"));
        let s = String::from("y");
        let mut w: Vec<Option<&str>> = recycle(v);
        w.push(Some(&s));
        assert_eq!(w.capacity(), 16);
        assert_eq!(w.as_ptr() as usize, p);
        let back: Vec<Option<&'static str>> = recycle(w);
        assert_eq!(back.as_ptr() as usize, p);
    }

    #[test]
    #[should_panic(expected = "replaced twice")]
    fn a_position_replaced_twice_is_a_bug() {
        Rewriter::new(
            Format::Binary,
            Layout {
                output_fields: 2,
                replaced: vec![(1, BinaryType::Text), (1, BinaryType::Text)],
                context_fields: 0,
            },
        );
    }

    #[test]
    #[should_panic(expected = "not below output_fields")]
    fn a_position_past_the_output_is_a_bug() {
        Rewriter::new(
            Format::Text,
            Layout {
                output_fields: 2,
                replaced: vec![(2, BinaryType::Text)],
                context_fields: 0,
            },
        );
    }

    #[test]
    fn errors_name_the_row() {
        assert_eq!(
            CopyError::new("bad", 3).to_string(),
            "COPY data, row 3: bad"
        );
        assert_eq!(CopyError::new("bad", 0).to_string(), "COPY data: bad");
    }
}
