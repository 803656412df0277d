//! What a strategy sees of the row it anonymizes.

use super::Key;

/// The context of one value: its column's type, the other columns of the same row (TEXT
/// representation, `None` for NULL) and the key of deterministic strategies.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// PostgreSQL type name as `format_type` prints it without modifiers: `uuid`, `integer`,
    /// `bigint`, `text`, `character varying`, `date`, `timestamp with time zone`, `inet`, ...
    pub column_type: &'a str,
    /// `(column name, value)` of the row's columns (the original, not yet anonymized values).
    pub columns: &'a [(&'a str, Option<&'a str>)],
    /// The configured key; `None` when there is none.
    pub key: Option<&'a Key>,
}

impl<'a> Row<'a> {
    /// The value of column `name`: `None` when there is no such column, `Some(None)` for NULL.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.columns
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The configured key, or the per-process one.
    pub fn key(&self) -> &'a Key {
        self.key.unwrap_or_else(|| Key::process())
    }

    /// The same row seen from a value of another type (a field inside a jsonb value).
    pub fn with_type(&self, column_type: &'a str) -> Row<'a> {
        Row {
            column_type,
            ..*self
        }
    }
}
