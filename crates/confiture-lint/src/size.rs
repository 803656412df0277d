//! Table-size aware severity: the same lock is harmless on 300 rows and an outage on 3 million.

use crate::inputs::TableSize;
use crate::Severity;

/// Below this many rows a rewrite or a long lock is instant: `info`.
pub const SMALL_ROWS: i64 = 10_000;
/// From this many rows (or 1 GiB) it is an outage: `error`.
pub const LARGE_ROWS: i64 = 1_000_000;
pub const LARGE_BYTES: i64 = 1 << 30;

/// The severity of a locking or rewriting operation on a table of `size` (`None`: no database
/// was given, so the rule's own severity stands).
pub fn scaled(size: Option<TableSize>, default: Severity) -> Severity {
    match size {
        None => default,
        Some(s) if s.rows >= LARGE_ROWS || s.bytes >= LARGE_BYTES => Severity::Error,
        Some(s) if s.rows < SMALL_ROWS => Severity::Info,
        Some(_) => Severity::Warning,
    }
}

/// `" (3,000,000 rows)"` for messages, or nothing.
pub fn describe(size: Option<TableSize>) -> String {
    match size {
        None => String::new(),
        Some(s) => format!(
            " ({} rows, {} MiB)",
            group(s.rows.max(0)),
            s.bytes / (1 << 20)
        ),
    }
}

fn group(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_scales_with_rows() {
        let s = |rows| Some(TableSize { rows, bytes: 0 });
        assert_eq!(scaled(s(300), Severity::Warning), Severity::Info);
        assert_eq!(scaled(s(50_000), Severity::Error), Severity::Warning);
        assert_eq!(scaled(s(3_000_000), Severity::Info), Severity::Error);
        assert_eq!(scaled(None, Severity::Warning), Severity::Warning);
        assert_eq!(describe(s(3_000_000)), " (3,000,000 rows, 0 MiB)");
    }
}
