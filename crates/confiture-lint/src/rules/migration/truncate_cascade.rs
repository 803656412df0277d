//! `truncate-cascade`: `TRUNCATE … CASCADE` also empties every table whose foreign keys
//! reference the truncated ones.

use pg_query::protobuf::{node::Node as N, DropBehavior};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, relation_sql};

pub static RULE: Rule = Rule {
    id: "truncate-cascade",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "TRUNCATE … CASCADE silently empties every table that references the truncated one",
    explanation: "`TRUNCATE … CASCADE` empties the named tables and, recursively, every table \
with a foreign key to them, whatever the foreign key's `ON DELETE` says: one statement can wipe \
most of a database, and which tables it reaches changes as the schema grows. It takes ACCESS \
EXCLUSIVE locks on all of them, and a rollback of the migration cannot bring the rows back once \
it has committed.\n\nName every table to empty explicitly (`TRUNCATE a, b, c` fails if another \
table still references them, which is the point), or delete the rows that must go with `DELETE … \
WHERE`.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for st in m.statements {
        let Some(NodeEnum::TruncateStmt(t)) = &st.node else {
            continue;
        };
        if t.behavior != DropBehavior::DropCascade as i32 {
            continue;
        }
        let rels: Vec<_> = t
            .relations
            .iter()
            .filter_map(|r| match &r.node {
                Some(N::RangeVar(rv)) => Some(rv),
                _ => None,
            })
            .collect();
        let Some(first) = rels.first() else { continue };
        let table = common::table_key(first);
        let listed = rels
            .iter()
            .map(|r| relation_sql(r))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(
            common::finding(
                &RULE,
                m,
                st,
                &table,
                format!(
                    "TRUNCATE {table} CASCADE also empties every table whose foreign keys reference it, recursively"
                ),
            )
            .fix(format!(
                "name every table to empty (it fails while another table still references them):\nTRUNCATE {listed}, …;"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn truncate_cascade_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '1s';\nTRUNCATE app.customers CASCADE;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "truncate-cascade");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.customers"));
        assert_eq!(f[0].line, Some(2));
    }

    #[test]
    fn plain_truncate_is_fine() {
        assert!(run(&RULE, "TRUNCATE app.customers, app.orders").is_empty());
    }
}
