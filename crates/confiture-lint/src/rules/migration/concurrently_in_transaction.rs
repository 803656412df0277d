//! `concurrently-in-transaction`: a statement PostgreSQL refuses inside a transaction block
//! (`CREATE/DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY`, `VACUUM`, …) in a migration that
//! runs in one transaction: the migration fails.

use pg_query::protobuf::{
    node::Node as N, AlterTableType, DiscardMode, Node, ObjectType, ReindexObjectType,
};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common;

pub static RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    category: Category::Migration,
    severity: Severity::Error,
    summary: "Statement that cannot run in a transaction block, in a migration that runs in one",
    explanation: "PostgreSQL refuses some statements inside a transaction block: `CREATE INDEX \
CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`, `REINDEX SCHEMA/DATABASE/\
SYSTEM`, `VACUUM`, `ALTER TABLE … DETACH PARTITION … CONCURRENTLY`, `ALTER SYSTEM`, `CREATE/DROP \
DATABASE`, tablespaces and subscriptions. `confiture migrate` runs each migration in one \
transaction with its tracking row, so such a migration cannot be applied (a migration of a single \
such statement is run in autocommit automatically).\n\nPut the statement in a migration of its \
own, or set `transactional: false` in the migration's `.yaml` (then a failure leaves the \
statements before it applied: write them to be re-runnable, with `IF NOT EXISTS`).",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    if !m.transactional {
        return;
    }
    for st in m.statements {
        let Some(node) = &st.node else { continue };
        let Some((what, object)) = refuses_transaction(node) else {
            continue;
        };
        let mut f = Finding::new(
            &RULE,
            format!(
                "{what} cannot run inside a transaction block, and this migration runs in one: it fails"
            ),
        )
        .at(Some(&common::loc(m, st)))
        .fix(format!(
            "move the {what} to a migration of its own (a single such statement runs in autocommit), or set `transactional: false` in this migration's .yaml"
        ));
        if let Some(o) = object {
            f = f.object(o);
        }
        out.push(f);
    }
}

/// What the statement is, and the object it is about, when PostgreSQL refuses it in a
/// transaction block (the tree-based twin of `confiture_sql::autocommit::classify`).
fn refuses_transaction(node: &NodeEnum) -> Option<(&'static str, Option<String>)> {
    match node {
        NodeEnum::IndexStmt(s) if s.concurrent => Some((
            "CREATE INDEX CONCURRENTLY",
            s.relation.as_ref().map(common::table_key),
        )),
        NodeEnum::DropStmt(s) if s.concurrent => {
            let object = s.objects.first().and_then(|o| match &o.node {
                Some(N::List(l)) => {
                    let names: Vec<&str> = common::strings(&l.items).collect();
                    match names.as_slice() {
                        [name] => Some(format!("public.{name}")),
                        [.., schema, name] => Some(format!("{schema}.{name}")),
                        [] => None,
                    }
                }
                _ => None,
            });
            let what = if s.remove_type == ObjectType::ObjectIndex as i32 {
                "DROP INDEX CONCURRENTLY"
            } else {
                "DROP … CONCURRENTLY"
            };
            Some((what, object))
        }
        NodeEnum::ReindexStmt(s) if has_option(&s.params, "concurrently") => Some((
            "REINDEX CONCURRENTLY",
            s.relation.as_ref().map(common::table_key),
        )),
        NodeEnum::ReindexStmt(s)
            if matches!(
                ReindexObjectType::try_from(s.kind),
                Ok(ReindexObjectType::ReindexObjectSchema
                    | ReindexObjectType::ReindexObjectSystem
                    | ReindexObjectType::ReindexObjectDatabase)
            ) =>
        {
            Some(("REINDEX SCHEMA/SYSTEM/DATABASE", None))
        }
        NodeEnum::VacuumStmt(s) if s.is_vacuumcmd => {
            let object = s.rels.first().and_then(|r| match &r.node {
                Some(N::VacuumRelation(v)) => v.relation.as_ref().map(common::table_key),
                _ => None,
            });
            Some(("VACUUM", object))
        }
        NodeEnum::DiscardStmt(s) if s.target == DiscardMode::DiscardAll as i32 => {
            Some(("DISCARD ALL", None))
        }
        NodeEnum::AlterTableStmt(s) if s.cmds.iter().any(detaches_concurrently) => Some((
            "DETACH PARTITION … CONCURRENTLY",
            s.relation.as_ref().map(common::table_key),
        )),
        NodeEnum::AlterSystemStmt(_) => Some(("ALTER SYSTEM", None)),
        NodeEnum::CreatedbStmt(_) => Some(("CREATE DATABASE", None)),
        NodeEnum::DropdbStmt(_) => Some(("DROP DATABASE", None)),
        NodeEnum::CreateTableSpaceStmt(_) => Some(("CREATE TABLESPACE", None)),
        NodeEnum::DropTableSpaceStmt(_) => Some(("DROP TABLESPACE", None)),
        NodeEnum::CreateSubscriptionStmt(_) => Some(("CREATE SUBSCRIPTION", None)),
        NodeEnum::DropSubscriptionStmt(_) => Some(("DROP SUBSCRIPTION", None)),
        _ => None,
    }
}

fn has_option(params: &[Node], name: &str) -> bool {
    params
        .iter()
        .any(|p| matches!(&p.node, Some(N::DefElem(d)) if d.defname == name))
}

fn detaches_concurrently(cmd: &Node) -> bool {
    let Some(N::AlterTableCmd(cmd)) = &cmd.node else {
        return false;
    };
    common::is(cmd, AlterTableType::AtDetachPartition)
        && matches!(cmd.def.as_deref().and_then(|d| d.node.as_ref()), Some(N::PartitionCmd(p)) if p.concurrent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with};

    #[test]
    fn concurrent_statements_in_a_transaction_are_reported() {
        let sql = "ALTER TABLE users ADD COLUMN email text;\nCREATE INDEX CONCURRENTLY users_email ON app.users (email);";
        let f = run(&RULE, sql);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "concurrently-in-transaction");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].object.as_deref(), Some("app.users"));
        assert_eq!(f[0].line, Some(2));
        for sql in [
            "SELECT 1;\nDROP INDEX CONCURRENTLY app.ix;",
            "SELECT 1;\nREINDEX TABLE CONCURRENTLY t;",
            "SELECT 1;\nVACUUM (ANALYZE) t;",
            "SELECT 1;\nALTER TABLE p DETACH PARTITION c CONCURRENTLY;",
        ] {
            assert_eq!(run(&RULE, sql).len(), 1, "{sql}");
        }
    }

    #[test]
    fn autocommit_migrations_and_plain_statements_are_fine() {
        let sql = "CREATE INDEX CONCURRENTLY ix ON t (a);\nDROP INDEX CONCURRENTLY iy;";
        assert!(run_with(&RULE, sql, false, None).is_empty());
        for sql in [
            "CREATE INDEX ix ON t (a)",
            "REINDEX TABLE t",
            "ANALYZE t",
            "ALTER TABLE p DETACH PARTITION c",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
