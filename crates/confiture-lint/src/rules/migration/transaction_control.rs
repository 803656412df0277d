//! `transaction-control`: `BEGIN`, `COMMIT`, `ROLLBACK`, … in a migration file.

use pg_query::protobuf::TransactionStmtKind;
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common;

pub static RULE: Rule = Rule {
    id: "transaction-control",
    category: Category::Migration,
    severity: Severity::Error,
    summary: "BEGIN, COMMIT or ROLLBACK in a migration: confiture migrate refuses it",
    explanation: "`confiture migrate` runs each migration in its own transaction and commits it \
together with the migration's tracking row, so that a migration is applied entirely or not at \
all. A `BEGIN`, `COMMIT`, `ROLLBACK`, `END` or `PREPARE TRANSACTION` in the file would end that \
transaction early (a failure after it would leave the migration half applied and untracked): \
`confiture migrate` refuses such a file (`MIGRATE_TRANSACTION_CONTROL`).\n\nRemove the \
transaction control. For statements that cannot run in a transaction, put them in a migration \
of their own or set `transactional: false` in the migration's `.yaml`. `SAVEPOINT`, `RELEASE` \
and `ROLLBACK TO` are fine.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for st in m.statements {
        let Some(NodeEnum::TransactionStmt(t)) = &st.node else {
            continue;
        };
        use TransactionStmtKind as K;
        let what = match K::try_from(t.kind) {
            Ok(K::TransStmtSavepoint | K::TransStmtRelease | K::TransStmtRollbackTo) => continue,
            Ok(K::TransStmtBegin | K::TransStmtStart) => "BEGIN",
            Ok(K::TransStmtCommit) => "COMMIT",
            Ok(K::TransStmtRollback) => "ROLLBACK",
            Ok(K::TransStmtPrepare) => "PREPARE TRANSACTION",
            Ok(K::TransStmtCommitPrepared) => "COMMIT PREPARED",
            Ok(K::TransStmtRollbackPrepared) => "ROLLBACK PREPARED",
            _ => "transaction control",
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{what} in a migration: confiture migrate runs each migration in its own transaction (committed with its tracking row) and refuses the file"
                ),
            )
            .at(Some(&common::loc(m, st)))
            .fix(format!(
                "remove the {what}; for statements that cannot run in a transaction, use a migration of their own or `transactional: false` in the .yaml"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn transaction_control_is_reported() {
        let f = run(&RULE, "BEGIN;\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].rule, "transaction-control");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].object, None);
        assert_eq!((f[0].line, f[1].line), (Some(1), Some(3)));
        assert!(f[1].message.starts_with("COMMIT"));
    }

    #[test]
    fn savepoints_are_fine() {
        let sql = "SAVEPOINT a;\nALTER TABLE t ADD COLUMN a int;\nRELEASE SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;";
        assert!(run(&RULE, sql).is_empty());
    }
}
