//! Which statements can run inside the build's single transaction. PostgreSQL refuses some
//! (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …) inside a transaction block: those run after it.
//! Transaction control (`BEGIN`, `COMMIT`, …) would end the build's transaction early, so it is
//! refused.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxBehaviour {
    InTransaction,
    /// Must run outside a transaction block; run after the build's transaction commits.
    OutsideTransaction,
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, …: not allowed in a build applied in one transaction.
    TransactionControl,
}

/// Classify a statement by its leading keywords (comments skipped).
pub fn classify(sql: &str) -> TxBehaviour {
    let words = leading_words(sql, 6);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["BEGIN", ..]
        | ["START", "TRANSACTION", ..]
        | ["COMMIT", ..]
        | ["END", ..]
        | ["ROLLBACK", ..]
        | ["ABORT", ..] => TxBehaviour::TransactionControl,
        ["PREPARE", "TRANSACTION", ..] => TxBehaviour::TransactionControl,
        ["CREATE", "INDEX", "CONCURRENTLY", ..]
        | ["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY", ..]
        | ["DROP", "INDEX", "CONCURRENTLY", ..]
        | ["CREATE", "DATABASE", ..]
        | ["DROP", "DATABASE", ..]
        | ["CREATE", "TABLESPACE", ..]
        | ["DROP", "TABLESPACE", ..]
        | ["ALTER", "SYSTEM", ..]
        | ["VACUUM", ..] => TxBehaviour::OutsideTransaction,
        ["REINDEX", rest @ ..] if rest.contains(&"CONCURRENTLY") => TxBehaviour::OutsideTransaction,
        _ => TxBehaviour::InTransaction,
    }
}

/// The first `n` words of `sql` in upper case, skipping comments and punctuation.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() && words.len() < n {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                words.push(sql[start..i].to_ascii_uppercase());
            }
            // Quotes and parentheses end the keyword prefix that matters here.
            b'\'' | b'"' | b'(' | b'$' => break,
            _ => i += 1,
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_leading_keywords() {
        use TxBehaviour::*;
        let cases = [
            ("CREATE TABLE t (id int);", InTransaction),
            (
                "/* why */ create index concurrently i on t (id);",
                OutsideTransaction,
            ),
            (
                "CREATE UNIQUE INDEX CONCURRENTLY i ON t (id);",
                OutsideTransaction,
            ),
            ("-- note\nVACUUM ANALYZE t;", OutsideTransaction),
            ("REINDEX TABLE CONCURRENTLY t;", OutsideTransaction),
            ("REINDEX TABLE t;", InTransaction),
            ("BEGIN;", TransactionControl),
            ("commit;", TransactionControl),
            ("END;", TransactionControl),
            ("DO $$ BEGIN END $$;", InTransaction),
            ("CREATE INDEX i ON t (id);", InTransaction),
        ];
        for (sql, expected) in cases {
            assert_eq!(classify(sql), expected, "{sql}");
        }
    }
}
