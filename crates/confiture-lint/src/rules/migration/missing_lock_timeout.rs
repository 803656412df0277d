//! `missing-lock-timeout`: a migration takes a strong lock on an existing table without setting
//! `lock_timeout` first.

use pg_query::protobuf::{
    a_const::Val, node::Node as N, AlterTableStmt, AlterTableType, Node, ObjectType, RangeVar,
    VariableSetKind,
};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, Created};

pub static RULE: Rule = Rule {
    id: "missing-lock-timeout",
    category: Category::Migration,
    severity: Severity::Info,
    summary: "Strong lock on an existing table without SET lock_timeout earlier in the migration",
    explanation: "Most `ALTER TABLE` forms, `DROP`, `RENAME`, `TRUNCATE`, `CREATE INDEX` (without \
CONCURRENTLY), `CREATE TRIGGER`, `VACUUM FULL`, `CLUSTER`, … take a lock that blocks writes, most \
of them ACCESS EXCLUSIVE, which blocks reads too. The statement may be quick, but the lock must \
wait for every transaction already using the table; while it waits, every new query on the table \
queues behind it. One long-running report turns a one-millisecond `ALTER TABLE` into an outage. \
`SET lock_timeout = '5s'` makes the migration fail (and be retried later) instead of waiting.\n\n\
`confiture migrate` already sets `lock_timeout` for every migration, from \
`migration.lock_timeout_ms` (or the migration's `.yaml` `lock_timeout`), and retries on timeout: \
this finding matters for migrations applied by other tools (psql, another migration runner) or \
with lock_timeout disabled. Put `SET lock_timeout = '5s';` at the top of the file (plain `SET`: \
a `SET LOCAL` has no effect in a migration that does not run in a transaction). The first such \
statement of a file is reported once; tables created in the same migration are not counted.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    let created = Created::new(m);
    let mut protected = false;
    for (i, st) in m.statements.iter().enumerate() {
        let Some(node) = &st.node else { continue };
        if let NodeEnum::VariableSetStmt(v) = node {
            if let Some(on) = sets_lock_timeout(v, m.transactional) {
                protected = on;
            }
            continue;
        }
        if protected {
            continue;
        }
        let Some((what, lock, object)) = strong_lock(&created, i, node) else {
            continue;
        };
        let mut f = Finding::new(
            &RULE,
            format!(
                "{what} waits for {lock} lock{} with no lock_timeout set: while it waits, every query on the table queues behind it",
                object.as_deref().map(|o| format!(" on {o}")).unwrap_or_default()
            ),
        )
        .at(Some(&common::loc(m, st)))
        .fix("SET lock_timeout = '5s';  -- at the top of the migration (confiture migrate sets it from migration.lock_timeout_ms)");
        if let Some(o) = object {
            f = f.object(o);
        }
        out.push(f);
        return;
    }
}

/// `Some(true)` when the statement sets a non-zero `lock_timeout`, `Some(false)` when it turns
/// it off (0, DEFAULT, RESET), `None` when it is about something else. A `SET LOCAL` outside a
/// transaction changes nothing.
fn sets_lock_timeout(v: &pg_query::protobuf::VariableSetStmt, transactional: bool) -> Option<bool> {
    let kind = VariableSetKind::try_from(v.kind).ok()?;
    if kind == VariableSetKind::VarResetAll {
        return Some(false);
    }
    if v.name != "lock_timeout" || (v.is_local && !transactional) {
        return None;
    }
    match kind {
        VariableSetKind::VarSetValue => Some(v.args.first().is_some_and(non_zero)),
        VariableSetKind::VarSetDefault | VariableSetKind::VarReset => Some(false),
        _ => None,
    }
}

fn non_zero(arg: &Node) -> bool {
    let Some(N::AConst(c)) = &arg.node else {
        return true;
    };
    match &c.val {
        Some(Val::Ival(i)) => i.ival != 0,
        Some(Val::Fval(f)) => f.fval.parse::<f64>() != Ok(0.0),
        Some(Val::Sval(s)) => {
            let s = s.sval.trim();
            let end = s
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(s.len());
            s[..end].parse::<f64>() != Ok(0.0)
        }
        _ => true,
    }
}

/// The statement, the lock it takes, and the object, when it takes a lock that blocks writes
/// (or more) on an existing table.
fn strong_lock(
    created: &Created,
    i: usize,
    node: &NodeEnum,
) -> Option<(&'static str, &'static str, Option<String>)> {
    fn existing<'r>(
        created: &Created,
        i: usize,
        rel: &'r Option<RangeVar>,
    ) -> Option<&'r RangeVar> {
        rel.as_ref().filter(|r| !created.before(i, r))
    }
    const AEL: &str = "an ACCESS EXCLUSIVE";
    match node {
        NodeEnum::AlterTableStmt(a) if a.objtype == ObjectType::ObjectTable as i32 => {
            let lock = alter_table_lock(a)?;
            let rel = existing(created, i, &a.relation)?;
            Some(("ALTER TABLE", lock, Some(common::table_key(rel))))
        }
        NodeEnum::RenameStmt(r)
            if [
                ObjectType::ObjectTable,
                ObjectType::ObjectColumn,
                ObjectType::ObjectTabconstraint,
            ]
            .iter()
            .any(|t| *t as i32 == r.rename_type) =>
        {
            let rel = existing(created, i, &r.relation)?;
            Some(("RENAME", AEL, Some(common::table_key(rel))))
        }
        NodeEnum::DropStmt(d) => {
            let what = match ObjectType::try_from(d.remove_type).ok()? {
                ObjectType::ObjectTable => "DROP TABLE",
                ObjectType::ObjectIndex if !d.concurrent => "DROP INDEX",
                ObjectType::ObjectView => "DROP VIEW",
                ObjectType::ObjectMatview => "DROP MATERIALIZED VIEW",
                ObjectType::ObjectTrigger => "DROP TRIGGER",
                ObjectType::ObjectPolicy => "DROP POLICY",
                _ => return None,
            };
            let all_new = d.remove_type == ObjectType::ObjectTable as i32
                && d.objects.iter().all(|o| match &o.node {
                    Some(N::List(l)) => {
                        let names: Vec<&str> = common::strings(&l.items).collect();
                        match names.as_slice() {
                            [name] => created.named_before(i, "public", name),
                            [.., schema, name] => created.named_before(i, schema, name),
                            [] => false,
                        }
                    }
                    _ => false,
                });
            if all_new {
                return None;
            }
            let object = d.objects.first().and_then(|o| match &o.node {
                Some(N::List(l)) => {
                    let names: Vec<&str> = common::strings(&l.items).collect();
                    match (what, names.as_slice()) {
                        ("DROP TRIGGER" | "DROP POLICY", [.., table, _]) => Some(table.to_string()),
                        (_, [name]) => Some(format!("public.{name}")),
                        (_, [.., schema, name]) => Some(format!("{schema}.{name}")),
                        _ => None,
                    }
                }
                _ => None,
            });
            Some((what, AEL, object))
        }
        NodeEnum::TruncateStmt(t) => {
            let rel = t.relations.iter().find_map(|r| match &r.node {
                Some(N::RangeVar(rv)) if !created.before(i, rv) => Some(rv),
                _ => None,
            })?;
            Some(("TRUNCATE", AEL, Some(common::table_key(rel))))
        }
        NodeEnum::IndexStmt(ix) if !ix.concurrent => {
            let rel = existing(created, i, &ix.relation)?;
            Some(("CREATE INDEX", "a SHARE", Some(common::table_key(rel))))
        }
        NodeEnum::ReindexStmt(r)
            if !r
                .params
                .iter()
                .any(|p| matches!(&p.node, Some(N::DefElem(d)) if d.defname == "concurrently")) =>
        {
            let rel = existing(created, i, &r.relation)?;
            Some(("REINDEX", AEL, Some(common::table_key(rel))))
        }
        NodeEnum::ClusterStmt(c) => {
            let rel = existing(created, i, &c.relation)?;
            Some(("CLUSTER", AEL, Some(common::table_key(rel))))
        }
        NodeEnum::VacuumStmt(v)
            if v.is_vacuumcmd
                && v.options
                    .iter()
                    .any(|o| matches!(&o.node, Some(N::DefElem(d)) if d.defname == "full")) =>
        {
            let rel = v.rels.iter().find_map(|r| match &r.node {
                Some(N::VacuumRelation(vr)) => existing(created, i, &vr.relation),
                _ => None,
            });
            if rel.is_none() && !v.rels.is_empty() {
                return None;
            }
            Some(("VACUUM FULL", AEL, rel.map(common::table_key)))
        }
        NodeEnum::CreateTrigStmt(t) => {
            let rel = existing(created, i, &t.relation)?;
            Some((
                "CREATE TRIGGER",
                "a SHARE ROW EXCLUSIVE",
                Some(common::table_key(rel)),
            ))
        }
        NodeEnum::CreatePolicyStmt(p) => {
            let rel = existing(created, i, &p.table)?;
            Some(("CREATE POLICY", AEL, Some(common::table_key(rel))))
        }
        NodeEnum::AlterPolicyStmt(p) => {
            let rel = existing(created, i, &p.table)?;
            Some(("ALTER POLICY", AEL, Some(common::table_key(rel))))
        }
        NodeEnum::RefreshMatViewStmt(r) if !r.concurrent => {
            let rel = r.relation.as_ref()?;
            Some((
                "REFRESH MATERIALIZED VIEW",
                AEL,
                Some(common::table_key(rel)),
            ))
        }
        NodeEnum::LockStmt(l) if l.mode >= 5 => {
            let rel = l.relations.iter().find_map(|r| match &r.node {
                Some(N::RangeVar(rv)) if !created.before(i, rv) => Some(rv),
                _ => None,
            })?;
            Some(("LOCK TABLE", "a", Some(common::table_key(rel))))
        }
        _ => None,
    }
}

/// The strongest lock an `ALTER TABLE` takes, when it blocks writes.
fn alter_table_lock(a: &AlterTableStmt) -> Option<&'static str> {
    use AlterTableType as T;
    let mut lock = None;
    for cmd in common::commands(a) {
        let Ok(kind) = T::try_from(cmd.subtype) else {
            continue;
        };
        match kind {
            // SHARE UPDATE EXCLUSIVE: reads and writes go on.
            T::AtSetStatistics
            | T::AtSetOptions
            | T::AtResetOptions
            | T::AtValidateConstraint
            | T::AtClusterOn
            | T::AtDropCluster
            | T::AtSetRelOptions
            | T::AtResetRelOptions
            | T::AtAttachPartition
            | T::AtDetachPartitionFinalize => {}
            T::AtDetachPartition if matches!(cmd.def.as_deref().and_then(|d| d.node.as_ref()), Some(N::PartitionCmd(p)) if p.concurrent) =>
                {}
            T::AtEnableTrig
            | T::AtEnableAlwaysTrig
            | T::AtEnableReplicaTrig
            | T::AtDisableTrig
            | T::AtEnableTrigAll
            | T::AtDisableTrigAll
            | T::AtEnableTrigUser
            | T::AtDisableTrigUser => {
                lock.get_or_insert("a SHARE ROW EXCLUSIVE");
            }
            T::AtAddConstraint
                if common::constraint(cmd).is_some_and(|c| {
                    common::contype(c) == pg_query::protobuf::ConstrType::ConstrForeign
                }) =>
            {
                lock.get_or_insert("a SHARE ROW EXCLUSIVE");
            }
            _ => return Some("an ACCESS EXCLUSIVE"),
        }
    }
    lock
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with};

    #[test]
    fn strong_locks_without_lock_timeout_are_reported_once() {
        let f = run(
            &RULE,
            "CREATE TABLE new_t (id bigint);\n\
             ALTER TABLE app.users ADD COLUMN nickname text;\n\
             DROP TABLE legacy;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "missing-lock-timeout");
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(f[0].object.as_deref(), Some("app.users"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0].message.contains("ACCESS EXCLUSIVE"));
        for sql in [
            "SET lock_timeout = 0;\nDROP INDEX ix;",
            "SET lock_timeout = '2s';\nRESET lock_timeout;\nTRUNCATE t;",
            "CREATE INDEX ix ON t (a)",
            "ALTER TABLE t RENAME COLUMN a TO b",
        ] {
            assert_eq!(run(&RULE, sql).len(), 1, "{sql}");
        }
        // SET LOCAL outside a transaction has no effect.
        let sql = "SET LOCAL lock_timeout = '2s';\nALTER TABLE t DROP COLUMN c;";
        assert_eq!(run_with(&RULE, sql, false, None).len(), 1);
        assert!(run(&RULE, sql).is_empty());
    }

    #[test]
    fn lock_timeout_weak_locks_and_new_tables_are_fine() {
        for sql in [
            "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname text;",
            "SET lock_timeout TO 2000;\nDROP TABLE legacy;",
            "ALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE users ALTER COLUMN a SET STATISTICS 500;",
            "CREATE INDEX CONCURRENTLY ix ON t (a)",
            "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN a int;\nCREATE INDEX ix ON t (a);",
            "INSERT INTO t VALUES (1);\nUPDATE t SET a = 1;",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
