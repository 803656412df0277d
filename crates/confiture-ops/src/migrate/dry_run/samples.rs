//! `--show-sample-rows N`: for each table a statement wrote, up to N rows as they are inside
//! the dry-run (rows whose `xmin` is this transaction's, or one of its subtransactions', and
//! whose `cmin` is the latest command's) and as they were before (the committed rows with the same primary key, read on a second
//! connection that cannot see the dry-run).

use confiture_pg::ident::quote_literal;
use serde::Serialize;
use tokio_postgres::Client;

use super::probe::Effects;
use crate::migrate::Session;

#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub table: String,
    /// The committed row (`null`: a new row, a table without primary key, or a table the
    /// dry-run holds an exclusive lock on, which no other session can read).
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

pub struct Sampler<'s> {
    session: &'s Session,
    rows: usize,
    /// The committed view, opened on first use.
    outside: Option<Option<Client>>,
}

impl<'s> Sampler<'s> {
    pub fn new(session: &'s Session, rows: usize) -> Sampler<'s> {
        Sampler {
            session,
            rows,
            outside: None,
        }
    }

    /// Samples of the tables `effects` updated or inserted into. Best effort: a sample that
    /// cannot be read is left out, never failing the dry-run.
    pub async fn sample(&mut self, effects: &Effects) -> Vec<Sample> {
        if self.rows == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for t in effects
            .rows_by_table
            .iter()
            .filter(|t| t.updated + t.inserted > 0)
        {
            out.extend(self.table(&t.table).await);
        }
        out
    }

    async fn table(&mut self, table: &str) -> Vec<Sample> {
        let client = &self.session.client;
        let name = quote_literal(table);
        // The rows the last statement wrote: this transaction's (`xmin`), with the highest
        // command id (`cmin`) among them. In a savepoint: an error here must not abort the
        // dry-run's transaction.
        let sql = format!(
            "SAVEPOINT confiture_sample; WITH ours AS (SELECT to_jsonb(t) AS confiture_row, t.cmin::text::bigint AS confiture_cmin FROM {} t WHERE to_regclass({name}) IS NOT NULL AND t.xmin::text::bigint >= (pg_current_xact_id()::text::bigint % 4294967296)) SELECT confiture_row::text FROM ours WHERE confiture_cmin = (SELECT max(confiture_cmin) FROM ours) LIMIT {}",
            qualified(table),
            self.rows
        );
        let rows = client.simple_query(&sql).await;
        let key: Vec<String> = match &rows {
            Ok(_) => client
                .query_opt(
                    "SELECT array_agg(a.attname::text ORDER BY k.n) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indrelid = to_regclass($1) AND i.indisprimary",
                    &[&table],
                )
                .await
                .ok()
                .flatten()
                .and_then(|r| r.get::<_, Option<Vec<String>>>(0))
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        // Rolled back, not released: the locks sampling took go with the savepoint, so the
        // next statement's locks are its own.
        let _ = client
            .batch_execute(
                "ROLLBACK TO SAVEPOINT confiture_sample; RELEASE SAVEPOINT confiture_sample",
            )
            .await;
        let Ok(rows) = rows else {
            return Vec::new();
        };
        let after: Vec<serde_json::Value> = rows
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    r.get(0).and_then(|v| serde_json::from_str(v).ok())
                }
                _ => None,
            })
            .collect();
        if after.is_empty() {
            return Vec::new();
        }
        let mut before = vec![serde_json::Value::Null; after.len()];
        if !key.is_empty() {
            if self.outside.is_none() {
                let client = self.session.target.connect().await.ok();
                if let Some(c) = &client {
                    // A table the dry-run locked exclusively cannot be read from outside: give
                    // up on its "before" rows at once rather than wait for the dry-run's end.
                    let _ = c.batch_execute("SET lock_timeout = '200ms'").await;
                }
                self.outside = Some(client);
            }
            if let Some(Some(outside)) = &self.outside {
                for (i, row) in after.iter().enumerate() {
                    let cond: Vec<String> = key
                        .iter()
                        .map(|k| {
                            let v = row.get(k).cloned().unwrap_or(serde_json::Value::Null);
                            format!(
                                "to_jsonb(t.{}) = {}::jsonb",
                                confiture_pg::ident::quote_ident(k),
                                quote_literal(&v.to_string())
                            )
                        })
                        .collect();
                    let sql = format!(
                        "SELECT to_jsonb(t)::text FROM {} t WHERE {} LIMIT 1",
                        qualified(table),
                        cond.join(" AND ")
                    );
                    if let Ok(Some(r)) = outside.query_opt(&sql, &[]).await {
                        let text: String = r.get(0);
                        before[i] = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
                    }
                }
            }
        }
        after
            .into_iter()
            .zip(before)
            .map(|(after, before)| Sample {
                table: table.to_string(),
                before,
                after,
            })
            .collect()
    }
}

/// `schema.table` as reported by the statistics views, quoted for SQL.
fn qualified(table: &str) -> String {
    match table.split_once('.') {
        Some((s, t)) => format!(
            "{}.{}",
            confiture_pg::ident::quote_ident(s),
            confiture_pg::ident::quote_ident(t)
        ),
        None => confiture_pg::ident::quote_ident(table),
    }
}
