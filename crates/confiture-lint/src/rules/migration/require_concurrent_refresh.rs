//! `require-concurrent-refresh`: `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` blocks
//! every read of the view until the query behind it has run again.

use pg_query::protobuf::{ObjectType, RangeVar};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::{MigrationInput, Statement};
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, relation_sql, schema_of};

pub static RULE: Rule = Rule {
    id: "require-concurrent-refresh",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view while it recomputes",
    explanation: "A plain `REFRESH MATERIALIZED VIEW` holds an ACCESS EXCLUSIVE lock on the \
view for the whole time its query runs again: every `SELECT` on it (dashboards, the \
application's read models) waits, and queues everything behind it. On a view over large \
tables that is minutes of outage on the read side.\n\n`REFRESH MATERIALIZED VIEW CONCURRENTLY` \
computes the new contents aside and applies the difference under an EXCLUSIVE lock that still \
lets readers in. It needs a unique index on the view (without a `WHERE`, on plain columns) and \
a view already populated; unlike `CREATE INDEX CONCURRENTLY` it may run inside a transaction. \
Not reported: `WITH NO DATA` (which empties the view on purpose) and views created earlier in \
the same migration (nobody reads them yet). With `--live` (a database), the severity follows \
the view's size.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, ctx: &Context, out: &mut Vec<Finding>) {
    for (i, st) in m.statements.iter().enumerate() {
        let Some(NodeEnum::RefreshMatViewStmt(r)) = &st.node else {
            continue;
        };
        let Some(rel) = r.relation.as_ref() else {
            continue;
        };
        if r.concurrent || r.skip_data || created_before(&m.statements[..i], rel) {
            continue;
        }
        out.push(report(m, st, ctx, rel));
    }
}

/// Whether one of `earlier` is the `CREATE MATERIALIZED VIEW` of `rel`.
fn created_before(earlier: &[Statement], rel: &RangeVar) -> bool {
    earlier.iter().any(|s| match &s.node {
        Some(NodeEnum::CreateTableAsStmt(c)) if c.objtype == ObjectType::ObjectMatview as i32 => c
            .into
            .as_ref()
            .and_then(|into| into.rel.as_ref())
            .is_some_and(|v| v.relname == rel.relname && schema_of(v) == schema_of(rel)),
        _ => false,
    })
}

fn report(m: &MigrationInput, st: &Statement, ctx: &Context, rel: &RangeVar) -> Finding {
    let view = common::table_key(rel);
    let (severity, size) = common::sized(&RULE, ctx, &view);
    let v = relation_sql(rel);
    common::finding(
        &RULE,
        m,
        st,
        &view,
        format!(
            "REFRESH MATERIALIZED VIEW {view}{size} without CONCURRENTLY blocks every read of the view until its query has run again"
        ),
    )
    .severity(severity)
    .fix(format!(
        "refresh it concurrently (it needs a unique index on the view, built once):\n\
CREATE UNIQUE INDEX CONCURRENTLY ON {v} (…);\n\
REFRESH MATERIALIZED VIEW CONCURRENTLY {v};"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn a_blocking_refresh_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\nREFRESH MATERIALIZED VIEW app.r_order_totals;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "require-concurrent-refresh");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.r_order_totals"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("REFRESH MATERIALIZED VIEW CONCURRENTLY app.r_order_totals;"));
    }

    #[test]
    fn concurrent_no_data_and_new_views_are_fine() {
        for sql in [
            "REFRESH MATERIALIZED VIEW CONCURRENTLY app.r_order_totals",
            "REFRESH MATERIALIZED VIEW app.r_order_totals WITH NO DATA",
            "CREATE MATERIALIZED VIEW app.r_totals AS SELECT 1 AS n WITH NO DATA;\nREFRESH MATERIALIZED VIEW app.r_totals;",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
        // A view of the same name in another schema is an existing one.
        let sql = "CREATE MATERIALIZED VIEW other.r_totals AS SELECT 1 AS n;\nREFRESH MATERIALIZED VIEW app.r_totals;";
        assert_eq!(run(&RULE, sql).len(), 1);
    }

    #[test]
    fn severity_follows_the_view_size() {
        let sql = "REFRESH MATERIALIZED VIEW r_totals";
        let small = run_with(&RULE, sql, true, Some(&stats("public.r_totals", 300)));
        assert_eq!(small[0].severity, Severity::Info);
        let large = run_with(&RULE, sql, true, Some(&stats("public.r_totals", 3_000_000)));
        assert_eq!(large[0].severity, Severity::Error);
    }
}
