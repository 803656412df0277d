//! Which statements PostgreSQL refuses inside a transaction block, read from the grammar:
//! `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`, `VACUUM`,
//! `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`, `ALTER SYSTEM`, `CREATE/DROP DATABASE`,
//! `CREATE/DROP TABLESPACE`, subscriptions; and transaction control, which would end a
//! migration's transaction early.

use pg_query::protobuf::{
    node::Node as N, AlterTableType, DiscardMode, ReindexObjectType, TransactionStmtKind,
};

/// What a statement needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxNeed {
    /// Runs inside a transaction (most statements).
    Transaction,
    /// Must run in autocommit. `what` names it for messages; `concurrent_index` is the index a
    /// `CREATE INDEX CONCURRENTLY` builds (`schema`, `name`), which a failure leaves INVALID.
    Autocommit {
        what: &'static str,
        concurrent_index: Option<(Option<String>, String)>,
    },
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, `PREPARE TRANSACTION`, … (savepoints are fine).
    TransactionControl,
}

/// Classify `sql` (one statement). A statement the grammar rejects is `Transaction`: the
/// server reports it with its own message.
pub fn classify(sql: &str) -> TxNeed {
    if !may_need_more_than_a_transaction(sql) {
        return TxNeed::Transaction;
    }
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return TxNeed::Transaction;
    };
    let Some(stmt) = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|raw| raw.stmt.as_deref())
        .and_then(|n| n.node.as_ref())
    else {
        return TxNeed::Transaction;
    };
    let autocommit = |what| TxNeed::Autocommit {
        what,
        concurrent_index: None,
    };
    match stmt {
        // Savepoints work inside the migration's transaction; the rest would end it.
        N::TransactionStmt(t)
            if [
                TransactionStmtKind::TransStmtSavepoint,
                TransactionStmtKind::TransStmtRelease,
                TransactionStmtKind::TransStmtRollbackTo,
            ]
            .iter()
            .any(|k| *k as i32 == t.kind) =>
        {
            TxNeed::Transaction
        }
        N::TransactionStmt(_) => TxNeed::TransactionControl,
        N::IndexStmt(s) if s.concurrent => TxNeed::Autocommit {
            what: "CREATE INDEX CONCURRENTLY",
            concurrent_index: (!s.idxname.is_empty()).then(|| {
                let schema = s
                    .relation
                    .as_ref()
                    .map(|r| r.schemaname.clone())
                    .filter(|s| !s.is_empty());
                (schema, s.idxname.clone())
            }),
        },
        N::DropStmt(s) if s.concurrent => autocommit("DROP INDEX CONCURRENTLY"),
        N::ReindexStmt(s) if has_option(&s.params, "concurrently") => {
            autocommit("REINDEX CONCURRENTLY")
        }
        N::ReindexStmt(s)
            if matches!(
                ReindexObjectType::try_from(s.kind),
                Ok(ReindexObjectType::ReindexObjectSchema
                    | ReindexObjectType::ReindexObjectSystem
                    | ReindexObjectType::ReindexObjectDatabase)
            ) =>
        {
            autocommit("REINDEX SCHEMA/SYSTEM/DATABASE")
        }
        N::VacuumStmt(s) if s.is_vacuumcmd => autocommit("VACUUM"),
        N::DiscardStmt(s) if s.target == DiscardMode::DiscardAll as i32 => {
            autocommit("DISCARD ALL")
        }
        N::AlterTableStmt(s) if s.cmds.iter().any(detaches_concurrently) => {
            autocommit("ALTER TABLE … DETACH PARTITION … CONCURRENTLY")
        }
        N::AlterSystemStmt(_) => autocommit("ALTER SYSTEM"),
        N::CreatedbStmt(_) => autocommit("CREATE DATABASE"),
        N::DropdbStmt(_) => autocommit("DROP DATABASE"),
        N::CreateTableSpaceStmt(_) => autocommit("CREATE TABLESPACE"),
        N::DropTableSpaceStmt(_) => autocommit("DROP TABLESPACE"),
        N::CreateSubscriptionStmt(_) => autocommit("CREATE SUBSCRIPTION"),
        N::DropSubscriptionStmt(_) => autocommit("DROP SUBSCRIPTION"),
        _ => TxNeed::Transaction,
    }
}

/// `CREATE INDEX` / `DROP INDEX` / `REINDEX` without `CONCURRENTLY` (printed by the deparser),
/// for a database being built, where concurrency protects no traffic; `None` for other
/// statements.
pub fn without_concurrently(sql: &str) -> Option<String> {
    let parsed = pg_query::parse(sql, 0).ok()?;
    let version = parsed.protobuf.version;
    let mut stmt = parsed.protobuf.stmts.into_iter().next()?.stmt?.node?;
    match &mut stmt {
        N::IndexStmt(s) if s.concurrent => s.concurrent = false,
        N::DropStmt(s) if s.concurrent => s.concurrent = false,
        N::ReindexStmt(s) if has_option(&s.params, "concurrently") => {
            s.params
                .retain(|p| !matches!(&p.node, Some(N::DefElem(d)) if d.defname == "concurrently"));
        }
        _ => return None,
    }
    crate::rewrite::deparse(stmt, version).ok()
}

/// Every statement `classify` singles out contains one of these words, so a statement without
/// any is a plain transactional one and need not be parsed (`build --apply` classifies every
/// statement of the tree).
fn may_need_more_than_a_transaction(sql: &str) -> bool {
    const WORDS: [&str; 15] = [
        "REINDEX",
        "CONCURRENTLY",
        "VACUUM",
        "SYSTEM",
        "DATABASE",
        "TABLESPACE",
        "SUBSCRIPTION",
        "DISCARD",
        "BEGIN",
        "START",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "PREPARE",
    ];
    let upper = sql.to_ascii_uppercase();
    WORDS.iter().any(|w| upper.contains(w))
}

fn has_option(params: &[pg_query::protobuf::Node], name: &str) -> bool {
    params
        .iter()
        .any(|p| matches!(&p.node, Some(N::DefElem(d)) if d.defname == name))
}

fn detaches_concurrently(cmd: &pg_query::protobuf::Node) -> bool {
    let Some(N::AlterTableCmd(cmd)) = &cmd.node else {
        return false;
    };
    cmd.subtype == AlterTableType::AtDetachPartition as i32
        && matches!(cmd.def.as_deref().and_then(|d| d.node.as_ref()), Some(N::PartitionCmd(p)) if p.concurrent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_statements_that_need_autocommit() {
        let auto = [
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "create unique index concurrently if not exists i on s.t (a)",
            "DROP INDEX CONCURRENTLY i",
            "REINDEX TABLE CONCURRENTLY t",
            "VACUUM (ANALYZE) t",
            "ALTER SYSTEM SET work_mem = '64MB'",
            "ALTER TABLE p DETACH PARTITION c CONCURRENTLY",
            "CREATE DATABASE x",
        ];
        for sql in auto {
            assert!(matches!(classify(sql), TxNeed::Autocommit { .. }), "{sql}");
        }
        for sql in [
            "CREATE INDEX i ON t (a)",
            "ANALYZE t",
            "REINDEX TABLE t",
            "ALTER TABLE p DETACH PARTITION c",
            "SELECT 'VACUUM'",
        ] {
            assert_eq!(classify(sql), TxNeed::Transaction, "{sql}");
        }
        assert_eq!(classify("SAVEPOINT a"), TxNeed::Transaction);
        for sql in ["BEGIN", "COMMIT", "ROLLBACK", "END"] {
            assert_eq!(classify(sql), TxNeed::TransactionControl, "{sql}");
        }
        assert_eq!(
            classify("CREATE INDEX CONCURRENTLY users_email ON app.users (email)"),
            TxNeed::Autocommit {
                what: "CREATE INDEX CONCURRENTLY",
                concurrent_index: Some((Some("app".into()), "users_email".into()))
            }
        );
    }
}
