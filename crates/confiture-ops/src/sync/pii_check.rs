//! Fail closed: find the columns that look like personal data (by name, or by a sample of their
//! content) and that no rule of the profile covers.

use confiture_core::anonymize::pii::{self, PiiKind};
use confiture_core::anonymize::profile::Profile;
use confiture_core::ident::quote_ident;
use confiture_pg::tables::TableInfo;
use futures_util::future::try_join_all;
use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage};

/// How many values of each text column are sampled.
pub const SAMPLE_ROWS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uncovered {
    pub table: String,
    pub column: String,
    pub kind: PiiKind,
    /// `name` or `content`.
    pub evidence: &'static str,
}

impl Uncovered {
    pub fn describe(&self) -> String {
        format!(
            "{}.{} ({}, by {})",
            self.table,
            self.column,
            serde_json::to_value(self.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            self.evidence
        )
    }
}

/// Types whose content is sampled (free text that can hold anything).
fn textual(wire_type: &str) -> bool {
    matches!(
        wire_type,
        "text" | "character varying" | "character" | "citext"
    )
}

/// The uncovered PII-looking columns of `tables` (skipped tables excluded by the caller),
/// sampling their content on `source` (inside the sync's snapshot).
pub async fn uncovered(
    source: &Client,
    tables: &[&TableInfo],
    profile: Option<&Profile>,
) -> Result<Vec<Uncovered>, tokio_postgres::Error> {
    let mut found = Vec::new();
    let mut samples = Vec::new();
    for t in tables {
        let rule = profile.and_then(|p| p.table(&t.schema, &t.name));
        let covered = |c: &str| rule.is_some_and(|r| r.columns.iter().any(|x| x.column == c));
        let mut to_sample = Vec::new();
        for c in t.copied_columns().filter(|c| !covered(&c.name)) {
            let by_name = pii::by_column(&c.name, &c.wire_type);
            let by_type = (c.wire_type == "inet" || c.wire_type == "cidr").then_some(PiiKind::Ip);
            if let Some(kind) = by_name.or(by_type) {
                found.push(Uncovered {
                    table: t.qualified(),
                    column: c.name.clone(),
                    kind,
                    evidence: "name",
                });
            } else if textual(&c.wire_type) {
                to_sample.push(c.name.clone());
            }
        }
        if !to_sample.is_empty() {
            samples.push((t, to_sample));
        }
    }
    let queries = samples.iter().map(|(t, cols)| {
        let sql = format!(
            "SELECT {} FROM {}{}.{} LIMIT {SAMPLE_ROWS}",
            cols.iter()
                .map(|c| format!("{}::text", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", "),
            if t.partitioned { "" } else { "ONLY " },
            quote_ident(&t.schema),
            quote_ident(&t.name)
        );
        async move { source.simple_query(&sql).await }
    });
    let results = try_join_all(queries).await?;
    for ((t, cols), messages) in samples.iter().zip(results) {
        let rows: Vec<_> = messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .collect();
        for (i, c) in cols.iter().enumerate() {
            if let Some(kind) = pii::by_values(rows.iter().filter_map(|r| r.get(i))) {
                found.push(Uncovered {
                    table: t.qualified(),
                    column: c.clone(),
                    kind,
                    evidence: "content",
                });
            }
        }
    }
    found.sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
    Ok(found)
}
