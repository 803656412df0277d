//! Small helpers shared by rules.

use confiture_core::schema::Table;

use crate::inputs::SchemaInput;

/// `schema.table` of a model table.
pub fn table_key(t: &Table) -> String {
    format!("{}.{}", t.schema, t.name)
}

/// The tables rules look at: not partitions (their parent is linted) and not the tracking table.
pub fn tables<'a>(s: &'a SchemaInput) -> impl Iterator<Item = &'a Table> {
    s.model
        .tables
        .values()
        .filter(|t| t.partition_of.is_none() && t.name != "tb_confiture")
}
