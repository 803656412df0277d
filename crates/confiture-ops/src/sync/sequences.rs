//! Sequences: after the data, each target sequence is set to the source's value, so the next
//! `nextval` in the target does not collide with a copied key.

use std::collections::BTreeSet;

use confiture_core::ident::{quote_ident, quote_literal};
use confiture_pg::tables::SequenceInfo;
use tokio_postgres::{Client, SimpleQueryMessage};

/// Copy the state of every sequence present in both databases whose owning table (if any) is
/// in `tables`. Returns how many were set.
pub async fn reset(
    source: &Client,
    target: &Client,
    source_sequences: &[SequenceInfo],
    target_sequences: &[SequenceInfo],
    tables: &BTreeSet<String>,
) -> Result<usize, tokio_postgres::Error> {
    let in_target: BTreeSet<(&str, &str)> = target_sequences
        .iter()
        .map(|s| (s.schema.as_str(), s.name.as_str()))
        .collect();
    let chosen: Vec<&SequenceInfo> = source_sequences
        .iter()
        .filter(|s| in_target.contains(&(s.schema.as_str(), s.name.as_str())))
        .filter(|s| match &s.owner {
            Some((schema, table)) => tables.contains(&format!("{schema}.{table}")),
            None => true,
        })
        .collect();
    if chosen.is_empty() {
        return Ok(0);
    }
    let read = chosen
        .iter()
        .map(|s| {
            format!(
                "SELECT last_value::text, is_called::text FROM {}.{}",
                quote_ident(&s.schema),
                quote_ident(&s.name)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let values: Vec<(String, String)> = source
        .simple_query(&read)
        .await?
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some((
                r.get(0).unwrap_or_default().to_string(),
                r.get(1).unwrap_or_default().to_string(),
            )),
            _ => None,
        })
        .collect();
    let set = chosen
        .iter()
        .zip(&values)
        .map(|(s, (value, called))| {
            let name = format!("{}.{}", quote_ident(&s.schema), quote_ident(&s.name));
            format!(
                "SELECT setval({}, {value}, {})",
                quote_literal(&name),
                if called == "true" { "true" } else { "false" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    target.batch_execute(&set).await?;
    Ok(chosen.len())
}
