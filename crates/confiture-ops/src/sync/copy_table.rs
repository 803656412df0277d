//! Copying one table: `COPY (SELECT …) TO STDOUT` on the source snapshot, anonymized in flight,
//! `COPY … FROM STDIN` into the target, inside the caller's target transaction.
//!
//! Readers and the writer run as separate tasks joined by a bounded channel, so reading and
//! anonymizing use one core while the target is fed from another, and memory stays bounded
//! (a few 256 KiB batches per reader). A large table with a single-column integer primary key
//! is read by several readers at once, one primary-key range each, all in the same exported
//! snapshot; their tuples go into the one target COPY, so the table still loads in one
//! transaction.
//!
//! Tables without anonymized columns are forwarded byte for byte (binary format, no decoding).
//! Otherwise the source casts the anonymized columns (and the columns conditional rules read,
//! appended as extra fields) to text, the rewriter hands those to the strategies and encodes the
//! results in the target column's binary format; columns of types without a binary encoder make
//! the table travel in text format instead. `sql_expression` rules go through a temporary
//! staging table so that the expression is evaluated by the target and the original value never
//! reaches the target table (nor its WAL).

use std::sync::Arc;

use bytes::Bytes;
use confiture_core::ident::quote_ident;
use confiture_pg::copy::binary::{HEADER, TRAILER};
use confiture_pg::copy::encode::BinaryType;
use confiture_pg::copy::{Format, Layout, Rewriter};
use confiture_pg::ConnTarget;
use futures_util::{pin_mut, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_postgres::Client;

use super::plan::TablePlan;
use super::progress::Progress;
use super::session::open_source;

/// Flush to the target once this much COPY data is buffered: large enough to amortize
/// messages, small enough to keep memory flat.
const BATCH: usize = 256 * 1024;

/// Batches in flight per reader.
const CHANNEL_DEPTH: usize = 4;

/// Tables smaller than this (by default) are read by one reader.
pub const SPLIT_MIN_BYTES: i64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, Default)]
pub struct Copied {
    pub rows: u64,
    pub bytes: u64,
    /// How many readers shared the table.
    pub parts: usize,
}

/// Why a table copy failed.
#[derive(Debug)]
pub struct CopyFailure {
    pub message: String,
}

impl From<tokio_postgres::Error> for CopyFailure {
    fn from(e: tokio_postgres::Error) -> Self {
        CopyFailure {
            message: match e.as_db_error() {
                Some(db) => match db.detail() {
                    Some(d) => format!("{} ({d})", db.message()),
                    None => db.message().to_string(),
                },
                None => e.to_string(),
            },
        }
    }
}

fn failure(message: impl Into<String>) -> CopyFailure {
    CopyFailure {
        message: message.into(),
    }
}

/// How to open more sessions on the sync's snapshot (for split tables), and when to.
#[derive(Clone)]
pub struct Snapshot {
    pub conn: ConnTarget,
    pub id: String,
    /// Tables at least this large (heap bytes) are read in primary-key ranges.
    pub split_min_bytes: i64,
}

pub fn table_sql(t: &TablePlan) -> String {
    format!(
        "{}{}.{}",
        if t.info.partitioned { "" } else { "ONLY " },
        quote_ident(&t.info.schema),
        quote_ident(&t.info.name)
    )
}

fn target_name(t: &TablePlan) -> String {
    format!(
        "{}.{}",
        quote_ident(&t.info.schema),
        quote_ident(&t.info.name)
    )
}

fn format_sql(f: Format) -> &'static str {
    match f {
        Format::Binary => "binary",
        Format::Text => "text",
    }
}

/// What the readers of one table share.
struct Reading {
    table: Arc<TablePlan>,
    format: Format,
    /// `SELECT <list> FROM <table>` without a filter.
    select: String,
    progress: Arc<dyn Progress>,
}

impl Reading {
    fn new(t: Arc<TablePlan>, progress: Arc<dyn Progress>) -> Reading {
        let live = live_rules(&t);
        let columns: Vec<&str> = t.info.copied_columns().map(|c| c.name.as_str()).collect();
        let context: &[String] = if live.is_empty() { &[] } else { &t.context };
        let list: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if live.contains(&i) {
                    format!("{}::text", quote_ident(c))
                } else {
                    quote_ident(c)
                }
            })
            .chain(context.iter().map(|c| format!("{}::text", quote_ident(c))))
            .collect();
        let format = if live.is_empty() {
            Format::Binary
        } else {
            t.format
        };
        Reading {
            select: format!("SELECT {} FROM {}", list.join(", "), table_sql(&t)),
            table: t,
            format,
            progress,
        }
    }
}

/// Positions of the rules applied in flight (`sql_expression` ones are the target's).
fn live_rules(t: &TablePlan) -> Vec<usize> {
    t.rules
        .iter()
        .filter(|(_, r)| r.strategy.sql_expression().is_none())
        .map(|(pos, _)| *pos)
        .collect()
}

/// Copy table `t` from the snapshot (`source` is the worker's session on it) into `target`
/// (an open transaction), with up to `parts` readers.
pub async fn copy_table(
    source: Arc<Client>,
    snapshot: &Snapshot,
    target: &Client,
    t: Arc<TablePlan>,
    stage: usize,
    parts: usize,
    progress: Arc<dyn Progress>,
) -> Result<Copied, CopyFailure> {
    let columns: Vec<String> = t.info.copied_columns().map(|c| c.name.clone()).collect();
    let column_list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let reading = Arc::new(Reading::new(t.clone(), progress));
    let staged = t.has_sql_expressions();
    let stage_name = format!("confiture_sync_stage_{stage}");
    let into = if staged {
        target
            .batch_execute(&format!(
                "CREATE TEMP TABLE {stage_name} ON COMMIT DROP AS \
                 SELECT {column_list} FROM {} WITH NO DATA",
                target_name(&t)
            ))
            .await?;
        stage_name.clone()
    } else {
        target_name(&t)
    };

    // The readers: one per primary-key range of a large table, else one.
    let filters = match (
        &t.split_column,
        parts > 1 && t.info.bytes >= snapshot.split_min_bytes,
    ) {
        (Some(column), true) => ranges(&source, &t, column, parts).await?,
        _ => vec![None],
    };
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(CHANNEL_DEPTH * filters.len());
    let mut readers = tokio::task::JoinSet::new();
    for (i, filter) in filters.iter().enumerate() {
        let session = if i == 0 {
            source.clone()
        } else {
            Arc::new(
                open_source(&snapshot.conn, Some(&snapshot.id))
                    .await
                    .map_err(|e| failure(e.message.clone()))?,
            )
        };
        let (reading, tx, filter) = (reading.clone(), tx.clone(), filter.clone());
        let aligned = filters.len() > 1;
        readers.spawn(async move { read_part(session, reading, filter, aligned, tx).await });
    }
    drop(tx);

    let in_sql = format!(
        "COPY {into} ({column_list}) FROM STDIN (FORMAT {})",
        format_sql(reading.format)
    );
    let written = async {
        let mut sink = Box::pin(target.copy_in::<_, Bytes>(&in_sql).await?);
        if reading.format == Format::Binary {
            sink.send(Bytes::from_static(HEADER)).await?;
        }
        while let Some(batch) = rx.recv().await {
            sink.send(Bytes::from(batch)).await?;
        }
        if reading.format == Format::Binary {
            sink.send(Bytes::from_static(TRAILER)).await?;
        }
        Ok::<_, CopyFailure>(sink)
    };
    // Wait for the writer to drain the channel (or fail), then for every reader: a reader's
    // error explains a short stream better than the writer's.
    let written = written.await;
    if written.is_err() {
        readers.abort_all();
    }
    let mut copied = Copied {
        parts: filters.len(),
        ..Copied::default()
    };
    let mut first_error = None;
    while let Some(r) = readers.join_next().await {
        match r {
            Ok(Ok(part)) => copied.bytes += part.bytes,
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                first_error.get_or_insert(failure(format!("a reader stopped: {e}")));
            }
        }
    }
    if let Some(e) = first_error {
        // Dropping the unfinished sink aborts the COPY.
        return Err(e);
    }
    let mut sink = written?;
    copied.rows = sink.as_mut().finish().await?;
    if staged {
        insert_from_stage(target, &t, &columns, &column_list, &stage_name).await?;
    }
    Ok(copied)
}

/// Evaluate the `sql_expression` rules in the target: staging table → table.
async fn insert_from_stage(
    target: &Client,
    t: &TablePlan,
    columns: &[String],
    column_list: &str,
    stage_name: &str,
) -> Result<(), CopyFailure> {
    let values = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            match t
                .rules
                .iter()
                .find(|(pos, _)| *pos == i)
                .and_then(|(_, r)| r.strategy.sql_expression())
            {
                Some(expr) => format!("({expr}) AS {}", quote_ident(c)),
                None => quote_ident(c),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    target
        .batch_execute(&format!(
            "INSERT INTO {} ({column_list}) OVERRIDING SYSTEM VALUE \
             SELECT {values} FROM {stage_name}; DROP TABLE {stage_name}",
            target_name(t)
        ))
        .await?;
    Ok(())
}

/// `parts` primary-key ranges of equal width between the snapshot's min and max.
async fn ranges(
    source: &Client,
    t: &TablePlan,
    column: &str,
    parts: usize,
) -> Result<Vec<Option<String>>, CopyFailure> {
    let row = source
        .query_one(
            &format!(
                "SELECT min({c})::int8, max({c})::int8 FROM {}",
                table_sql(t),
                c = quote_ident(column)
            ),
            &[],
        )
        .await?;
    let (Some(lo), Some(hi)) = (row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(1)) else {
        return Ok(vec![None]);
    };
    let width = ((hi as i128 - lo as i128) / parts as i128 + 1).max(1);
    let c = quote_ident(column);
    let bound = |i: usize| (lo as i128 + width * i as i128).min(i64::MAX as i128) as i64;
    Ok((0..parts)
        .map(|i| {
            Some(match i {
                0 => format!("{c} < {}", bound(1)),
                i if i == parts - 1 => format!("{c} >= {}", bound(i)),
                i => format!("{c} >= {} AND {c} < {}", bound(i), bound(i + 1)),
            })
        })
        .collect())
}

/// One reader: COPY one part of the table, rewrite it, send batches without the binary header
/// and trailer (which the writer sends once). `aligned`: other readers share the channel, so
/// every batch must hold whole tuples (the stream is then parsed even when nothing changes).
async fn read_part(
    source: Arc<Client>,
    r: Arc<Reading>,
    filter: Option<String>,
    aligned: bool,
    tx: mpsc::Sender<Vec<u8>>,
) -> Result<Copied, CopyFailure> {
    let t = &r.table;
    let name = t.qualified();
    let sql = format!(
        "COPY ({}{}) TO STDOUT (FORMAT {})",
        r.select,
        filter.map(|f| format!(" WHERE {f}")).unwrap_or_default(),
        format_sql(r.format)
    );
    let stream = source.copy_out(&sql).await?;
    pin_mut!(stream);
    let mut framing = Framing::new(r.format, !aligned && live_rules(t).is_empty());
    let mut buf: Vec<u8> = Vec::with_capacity(BATCH + 64 * 1024);
    let mut copied = Copied::default();
    let live = live_rules(t);
    let send = |buf: &mut Vec<u8>, rows: Option<u64>| {
        r.progress.advance(&name, rows, buf.len() as u64);
        std::mem::replace(buf, Vec::with_capacity(BATCH + 64 * 1024))
    };
    let closed = || failure("the target stopped taking data");
    if live.is_empty() && !aligned {
        // Forwarded as is: a single reader keeps the order, so batches may cut tuples.
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            copied.bytes += chunk.len() as u64;
            framing.push(&chunk, &mut buf);
            if buf.len() >= BATCH {
                let batch = send(&mut buf, None);
                tx.send(batch).await.map_err(|_| closed())?;
            }
        }
    } else {
        let wire: Vec<&str> = t
            .info
            .copied_columns()
            .map(|c| c.wire_type.as_str())
            .collect();
        let names: Vec<&str> = t.info.copied_columns().map(|c| c.name.as_str()).collect();
        let rules: Vec<_> = t
            .rules
            .iter()
            .filter(|(_, rule)| rule.strategy.sql_expression().is_none())
            .collect();
        let layout = Layout {
            output_fields: names.len(),
            replaced: rules
                .iter()
                .map(|(pos, _)| (*pos, BinaryType::of(wire[*pos]).unwrap_or(BinaryType::Text)))
                .collect(),
            context_fields: if rules.is_empty() { 0 } else { t.context.len() },
        };
        let mut rewriter = Rewriter::new(r.format, layout);
        let row_names: Vec<&str> = rules
            .iter()
            .map(|(pos, _)| names[*pos])
            .chain(
                t.context
                    .iter()
                    .map(String::as_str)
                    .filter(|_| !rules.is_empty()),
            )
            .collect();
        let needs_row = rules
            .iter()
            .any(|(_, rule)| !rule.context_columns().is_empty());
        let mut transform = |originals: &[Option<&str>],
                             ctx: &[Option<&str>],
                             out: &mut Vec<Option<String>>|
         -> Result<(), String> {
            let row: Vec<(&str, Option<&str>)> = if needs_row {
                row_names
                    .iter()
                    .copied()
                    .zip(originals.iter().chain(ctx.iter()).copied())
                    .collect()
            } else {
                Vec::new()
            };
            for (k, (pos, rule)) in rules.iter().enumerate() {
                out.push(
                    rule.strategy
                        .apply(originals[k], &rule.row(wire[*pos], &row)),
                );
            }
            Ok(())
        };
        let mut out = Vec::with_capacity(BATCH + 64 * 1024);
        let mut rows_sent = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            copied.bytes += chunk.len() as u64;
            copied.rows += rewriter
                .feed(&chunk, &mut out, &mut transform)
                .map_err(|e| failure(format!("reading the source's COPY data: {e}")))?;
            if out.len() >= BATCH {
                framing.push(&out, &mut buf);
                out.clear();
                let batch = send(&mut buf, Some(copied.rows - rows_sent));
                rows_sent = copied.rows;
                tx.send(batch).await.map_err(|_| closed())?;
            }
        }
        rewriter
            .finish(&mut out)
            .map_err(|e| failure(format!("reading the source's COPY data: {e}")))?;
        if r.format == Format::Binary {
            // The rewriter's own trailer, written by finish().
            if !out.ends_with(TRAILER) {
                return Err(failure("the rewritten COPY data lacks its trailer"));
            }
            out.truncate(out.len() - TRAILER.len());
        }
        framing.push(&out, &mut buf);
        r.progress.advance(&name, Some(copied.rows - rows_sent), 0);
    }
    framing.finish()?;
    if !buf.is_empty() {
        let batch = send(&mut buf, None);
        tx.send(batch).await.map_err(|_| closed())?;
    }
    Ok(copied)
}

/// Strips a binary COPY stream's header (the first `HEADER.len()` bytes) and, with
/// `hold_trailer`, its trailer: the last two bytes are held back until the end, where they must
/// be the trailer (for raw source data; a rewriter's trailer is cut by the caller). Text streams
/// pass unchanged.
struct Framing {
    binary: bool,
    hold_trailer: bool,
    header_seen: usize,
    held: Vec<u8>,
}

impl Framing {
    fn new(format: Format, hold_trailer: bool) -> Framing {
        Framing {
            binary: format == Format::Binary,
            hold_trailer,
            header_seen: 0,
            held: Vec::with_capacity(TRAILER.len()),
        }
    }

    fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        if !self.binary {
            out.extend_from_slice(data);
            return;
        }
        if self.header_seen < HEADER.len() {
            let n = (HEADER.len() - self.header_seen).min(data.len());
            self.header_seen += n;
            data = &data[n..];
        }
        if !self.hold_trailer {
            out.extend_from_slice(data);
            return;
        }
        // Keep the last TRAILER.len() bytes of everything seen so far.
        let total = self.held.len() + data.len();
        if total <= TRAILER.len() {
            self.held.extend_from_slice(data);
            return;
        }
        let release = total - TRAILER.len();
        let from_held = release.min(self.held.len());
        out.extend_from_slice(&self.held[..from_held]);
        self.held.drain(..from_held);
        let from_data = release - from_held;
        out.extend_from_slice(&data[..from_data]);
        self.held.extend_from_slice(&data[from_data..]);
    }

    fn finish(&self) -> Result<(), CopyFailure> {
        let trailer_ok = !self.hold_trailer || self.held == TRAILER;
        if self.binary && (self.header_seen < HEADER.len() || !trailer_ok) {
            return Err(failure(
                "the source's COPY data ended without its binary header or trailer",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(chunks: &[&[u8]]) -> (Vec<u8>, bool) {
        let mut f = Framing::new(Format::Binary, true);
        let mut out = Vec::new();
        for c in chunks {
            f.push(c, &mut out);
        }
        (out, f.finish().is_ok())
    }

    #[test]
    fn framing_strips_header_and_trailer_across_any_split() {
        let mut stream = HEADER.to_vec();
        let body: Vec<u8> = (0..50u8).collect();
        stream.extend_from_slice(&body);
        stream.extend_from_slice(TRAILER);
        for cut in 0..stream.len() {
            for cut2 in cut..stream.len() {
                let (out, ok) = frame(&[&stream[..cut], &stream[cut..cut2], &stream[cut2..]]);
                assert!(ok);
                assert_eq!(out, body, "cuts {cut} {cut2}");
            }
        }
        let (_, ok) = frame(&[&stream[..stream.len() - 1]]);
        assert!(!ok, "a missing trailer is an error");
    }
}
