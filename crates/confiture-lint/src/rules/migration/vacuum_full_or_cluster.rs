//! `vacuum-full-or-cluster`: `VACUUM FULL`, `CLUSTER` and `REINDEX` without `CONCURRENTLY`
//! lock the table exclusively while they rewrite or rebuild it.

use pg_query::protobuf::{node::Node as N, Node, RangeVar, ReindexObjectType};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::{MigrationInput, Statement};
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, relation_sql};

pub static RULE: Rule = Rule {
    id: "vacuum-full-or-cluster",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "VACUUM FULL, CLUSTER or REINDEX without CONCURRENTLY locks the table while it rewrites or rebuilds it",
    explanation: "`VACUUM FULL` and `CLUSTER` rewrite the whole table and its indexes under an \
ACCESS EXCLUSIVE lock: nothing can read or write it until they finish. `REINDEX` (without \
CONCURRENTLY) blocks writes to the table, and every query that would use the index, for the whole \
rebuild.\n\nA plain `VACUUM` (no blocking lock) makes dead space reusable; to give space back to \
the operating system or reorder a table online, use `pg_repack` or `pg_squeeze`, outside \
migrations. Rebuild indexes with `REINDEX … CONCURRENTLY` (PostgreSQL 12+), alone in a migration \
(it cannot run in a transaction). Maintenance rarely belongs in a migration at all. A table \
created in the same migration is not reported. With `--live` (a database), the severity follows \
the table's size.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, ctx: &Context, out: &mut Vec<Finding>) {
    let created = common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        match &st.node {
            Some(NodeEnum::VacuumStmt(v)) if v.is_vacuumcmd && has_option(&v.options, "full") => {
                let fix = "plain VACUUM makes the space reusable without blocking; to shrink the table online use pg_repack or pg_squeeze, outside migrations";
                if v.rels.is_empty() {
                    out.push(whole_database(m, st, "VACUUM FULL", fix));
                }
                for r in &v.rels {
                    if let Some(N::VacuumRelation(vr)) = &r.node {
                        if let Some(rel) = vr.relation.as_ref() {
                            if !created.before(i, rel) {
                                out.push(on_table(
                                    m,
                                    st,
                                    ctx,
                                    rel,
                                    "VACUUM FULL",
                                    "rewrites it under an ACCESS EXCLUSIVE lock",
                                    fix.to_string(),
                                ));
                            }
                        }
                    }
                }
            }
            Some(NodeEnum::ClusterStmt(c)) => {
                let fix =
                    "reorder the table online with pg_repack (--order-by), outside migrations";
                match &c.relation {
                    None => out.push(whole_database(m, st, "CLUSTER", fix)),
                    Some(rel) if !created.before(i, rel) => out.push(on_table(
                        m,
                        st,
                        ctx,
                        rel,
                        "CLUSTER",
                        "rewrites it under an ACCESS EXCLUSIVE lock",
                        fix.to_string(),
                    )),
                    Some(_) => {}
                }
            }
            Some(NodeEnum::ReindexStmt(r)) if !has_option(&r.params, "concurrently") => {
                let kind =
                    ReindexObjectType::try_from(r.kind).unwrap_or(ReindexObjectType::Undefined);
                match (kind, &r.relation) {
                    (ReindexObjectType::ReindexObjectTable, Some(rel)) => {
                        if !created.before(i, rel) {
                            out.push(on_table(
                                m,
                                st,
                                ctx,
                                rel,
                                "REINDEX TABLE",
                                "blocks its writes (and queries using its indexes) while every index is rebuilt",
                                format!(
                                    "rebuild without blocking, alone in a migration (runs in autocommit):\nREINDEX TABLE CONCURRENTLY {};",
                                    relation_sql(rel)
                                ),
                            ));
                        }
                    }
                    (ReindexObjectType::ReindexObjectIndex, Some(ix)) => {
                        let object = common::table_key(ix);
                        out.push(
                            common::finding(
                                &RULE,
                                m,
                                st,
                                &object,
                                format!("REINDEX INDEX {object} without CONCURRENTLY blocks writes to its table, and queries using the index, while it is rebuilt"),
                            )
                            .fix(format!(
                                "rebuild without blocking, alone in a migration (runs in autocommit):\nREINDEX INDEX CONCURRENTLY {};",
                                relation_sql(ix)
                            )),
                        );
                    }
                    _ => {
                        let what = match kind {
                            ReindexObjectType::ReindexObjectSchema => "REINDEX SCHEMA",
                            ReindexObjectType::ReindexObjectSystem => "REINDEX SYSTEM",
                            _ => "REINDEX DATABASE",
                        };
                        let mut f = Finding::new(
                            &RULE,
                            format!("{what} without CONCURRENTLY blocks writes to every table it covers while their indexes are rebuilt"),
                        )
                        .at(Some(&common::loc(m, st)))
                        .fix(format!(
                            "rebuild without blocking, alone in a migration (runs in autocommit):\n{what} CONCURRENTLY {};",
                            ident(&r.name)
                        ));
                        if kind == ReindexObjectType::ReindexObjectSchema {
                            f = f.object(r.name.clone());
                        }
                        out.push(f);
                    }
                }
            }
            _ => {}
        }
    }
}

fn has_option(options: &[Node], name: &str) -> bool {
    options
        .iter()
        .any(|o| matches!(&o.node, Some(N::DefElem(d)) if d.defname == name))
}

fn on_table(
    m: &MigrationInput,
    st: &Statement,
    ctx: &Context,
    rel: &RangeVar,
    what: &str,
    effect: &str,
    fix: String,
) -> Finding {
    let table = common::table_key(rel);
    let (severity, size) = common::sized(&RULE, ctx, &table);
    common::finding(
        &RULE,
        m,
        st,
        &table,
        format!("{what} {table}{size} {effect}"),
    )
    .severity(severity)
    .fix(fix)
}

fn whole_database(m: &MigrationInput, st: &Statement, what: &str, fix: &str) -> Finding {
    Finding::new(
        &RULE,
        format!("{what} without a table rewrites every table of the database under ACCESS EXCLUSIVE locks"),
    )
    .at(Some(&common::loc(m, st)))
    .fix(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn exclusive_maintenance_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\nVACUUM (FULL, ANALYZE) app.events;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "vacuum-full-or-cluster");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.events"));
        assert_eq!(f[0].line, Some(2));
        for (sql, object) in [
            ("CLUSTER events USING events_at", Some("public.events")),
            ("REINDEX TABLE events", Some("public.events")),
            ("REINDEX INDEX app.events_at", Some("app.events_at")),
            ("REINDEX SCHEMA app", Some("app")),
            ("VACUUM FULL", None),
        ] {
            let f = run(&RULE, sql);
            assert_eq!(f.len(), 1, "{sql}");
            assert_eq!(f[0].object.as_deref(), object, "{sql}");
        }
        assert!(run(&RULE, "REINDEX TABLE events")[0]
            .fix
            .as_deref()
            .unwrap()
            .ends_with("REINDEX TABLE CONCURRENTLY events;"));
    }

    #[test]
    fn plain_vacuum_concurrent_reindex_and_new_tables_are_fine() {
        for sql in [
            "VACUUM (ANALYZE) events",
            "ANALYZE events",
            "REINDEX TABLE CONCURRENTLY events",
            "CREATE TABLE t (id int);\nCLUSTER t USING t_pkey;",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn severity_follows_the_table_size() {
        let small = run_with(
            &RULE,
            "VACUUM FULL events",
            false,
            Some(&stats("public.events", 300)),
        );
        assert_eq!(small[0].severity, Severity::Info);
        let large = run_with(
            &RULE,
            "CLUSTER events",
            true,
            Some(&stats("public.events", 3_000_000)),
        );
        assert_eq!(large[0].severity, Severity::Error);
    }
}
