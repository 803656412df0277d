//! How a sync reports progress while it runs. The CLI draws bars on a TTY; tests and JSON
//! output use [`Silent`].

/// Called from the workers, concurrently: implementations must be cheap and thread-safe.
pub trait Progress: Send + Sync {
    /// A table starts copying; `estimated_rows` is the source's estimate (-1 when unknown).
    fn table_started(&self, _table: &str, _estimated_rows: i64, _bytes: i64) {}
    /// More data went to the target: `rows` when counted (anonymized tables), and bytes.
    fn advance(&self, _table: &str, _rows: Option<u64>, _bytes: u64) {}
    /// The table's transaction committed with `rows` rows.
    fn table_finished(&self, _table: &str, _rows: u64) {}
}

/// No progress display.
pub struct Silent;

impl Progress for Silent {}
