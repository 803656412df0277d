//! Copying one table: `COPY (SELECT …) TO STDOUT` on the source snapshot, anonymized in flight,
//! `COPY … FROM STDIN` into the target, inside the caller's target transaction.
//!
//! Tables without anonymized columns are forwarded byte for byte (binary format, no decoding).
//! Otherwise the source casts the anonymized columns (and the columns conditional rules read,
//! appended as extra fields) to text, the rewriter hands those to the strategies and encodes the
//! results in the target column's binary format; columns of types without a binary encoder make
//! the table travel in text format instead. `sql_expression` rules go through a temporary
//! staging table so that the expression is evaluated by the target and the original value never
//! reaches the target table (nor its WAL).

use bytes::Bytes;
use confiture_core::anonymize::Row;
use confiture_core::ident::quote_ident;
use confiture_pg::copy::encode::BinaryType;
use confiture_pg::copy::{Format, Layout, Rewriter};
use futures_util::{pin_mut, SinkExt, StreamExt};
use tokio_postgres::Client;

use super::plan::TablePlan;
use super::progress::Progress;

/// Flush to the target once this much COPY data is buffered: large enough to amortize
/// messages, small enough to keep memory flat.
const BATCH: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, Default)]
pub struct Copied {
    pub rows: u64,
    pub bytes: u64,
}

/// Why a table copy failed: the message, and whether it came from the source side.
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

/// Copy table `t` from `source` (a snapshot transaction) into `target` (an open transaction).
pub async fn copy_table(
    source: &Client,
    target: &Client,
    t: &TablePlan,
    stage: usize,
    progress: &dyn Progress,
) -> Result<Copied, CopyFailure> {
    let columns: Vec<&str> = t.info.copied_columns().map(|c| c.name.as_str()).collect();
    let wire: Vec<&str> = t
        .info
        .copied_columns()
        .map(|c| c.wire_type.as_str())
        .collect();
    // Rules applied in flight; sql_expression ones are evaluated by the target afterwards.
    let live: Vec<_> = t
        .rules
        .iter()
        .filter(|(_, r)| r.strategy.sql_expression().is_none())
        .collect();
    let replaced: Vec<usize> = live.iter().map(|(pos, _)| *pos).collect();
    let context: Vec<&str> = if live.is_empty() {
        Vec::new()
    } else {
        t.context.iter().map(String::as_str).collect()
    };
    let select: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if replaced.contains(&i) {
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
    let out_sql = format!(
        "COPY (SELECT {} FROM {}) TO STDOUT (FORMAT {})",
        select.join(", "),
        table_sql(t),
        format_sql(format)
    );
    let column_list = columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let staged = t.has_sql_expressions();
    let stage_name = format!("confiture_sync_stage_{stage}");
    let into = if staged {
        target
            .batch_execute(&format!(
                "CREATE TEMP TABLE {stage_name} ON COMMIT DROP AS \
                 SELECT {column_list} FROM {} WITH NO DATA",
                target_name(t)
            ))
            .await?;
        stage_name.clone()
    } else {
        target_name(t)
    };
    let in_sql = format!(
        "COPY {into} ({column_list}) FROM STDIN (FORMAT {})",
        format_sql(format)
    );

    let stream = source.copy_out(&out_sql).await?;
    let sink = target.copy_in::<_, Bytes>(&in_sql).await?;
    pin_mut!(stream);
    pin_mut!(sink);
    let mut copied = Copied::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BATCH + 64 * 1024);
    if live.is_empty() {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            copied.bytes += chunk.len() as u64;
            buf.extend_from_slice(&chunk);
            if buf.len() >= BATCH {
                progress.advance(&t.qualified(), None, buf.len() as u64);
                sink.send(Bytes::from(std::mem::replace(
                    &mut buf,
                    Vec::with_capacity(BATCH + 64 * 1024),
                )))
                .await?;
            }
        }
    } else {
        let layout = Layout {
            output_fields: columns.len(),
            replaced: live
                .iter()
                .map(|(pos, _)| (*pos, BinaryType::of(wire[*pos]).unwrap_or(BinaryType::Text)))
                .collect(),
            context_fields: context.len(),
        };
        let mut rewriter = Rewriter::new(format, layout);
        let names: Vec<&str> = replaced
            .iter()
            .map(|&i| columns[i])
            .chain(context.iter().copied())
            .collect();
        let needs_row = live.iter().any(|(_, r)| !r.context_columns().is_empty());
        let mut transform = |originals: &[Option<&str>],
                             ctx: &[Option<&str>],
                             out: &mut Vec<Option<String>>|
         -> Result<(), String> {
            let row: Vec<(&str, Option<&str>)> = if needs_row {
                names
                    .iter()
                    .copied()
                    .zip(originals.iter().chain(ctx.iter()).copied())
                    .collect()
            } else {
                Vec::new()
            };
            for (k, (pos, rule)) in live.iter().enumerate() {
                let r: Row = rule.row(wire[*pos], &row);
                out.push(rule.strategy.apply(originals[k], &r));
            }
            Ok(())
        };
        let mut rows_before = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            copied.bytes += chunk.len() as u64;
            copied.rows += rewriter
                .feed(&chunk, &mut buf, &mut transform)
                .map_err(|e| CopyFailure {
                    message: format!("reading the source's COPY data: {e}"),
                })?;
            if buf.len() >= BATCH {
                progress.advance(
                    &t.qualified(),
                    Some(copied.rows - rows_before),
                    buf.len() as u64,
                );
                rows_before = copied.rows;
                sink.send(Bytes::from(std::mem::replace(
                    &mut buf,
                    Vec::with_capacity(BATCH + 64 * 1024),
                )))
                .await?;
            }
        }
        rewriter.finish(&mut buf).map_err(|e| CopyFailure {
            message: format!("reading the source's COPY data: {e}"),
        })?;
        progress.advance(&t.qualified(), Some(copied.rows - rows_before), 0);
    }
    if !buf.is_empty() {
        progress.advance(&t.qualified(), None, buf.len() as u64);
        sink.send(Bytes::from(buf)).await?;
    }
    let loaded = sink.finish().await?;
    copied.rows = loaded;
    if staged {
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
    }
    Ok(copied)
}
