//! `require-concurrent-index`: `CREATE INDEX` on an existing table without `CONCURRENTLY`.

use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::{Loc, MigrationInput};
use crate::rule::{Category, Check, Context, Rule};
use crate::size;
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "require-concurrent-index",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "CREATE INDEX on an existing table without CONCURRENTLY",
    explanation: "`CREATE INDEX` takes a SHARE lock on the table for the whole build: every \
INSERT, UPDATE and DELETE waits, for minutes on a large table.\n\n`CREATE INDEX CONCURRENTLY` \
builds without blocking writes. It cannot run inside a transaction: put it alone in a migration \
with `transactional: false`. A table created in the same migration is empty, so a plain \
`CREATE INDEX` is fine there. With `--live` (a database), the severity follows the table's size.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, ctx: &Context, out: &mut Vec<Finding>) {
    let created = super::common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        let Some(NodeEnum::IndexStmt(ix)) = &st.node else {
            continue;
        };
        if ix.concurrent {
            continue;
        }
        let Some(rel) = &ix.relation else { continue };
        if created.before(i, rel) {
            continue;
        }
        let schema = if rel.schemaname.is_empty() {
            "public"
        } else {
            &rel.schemaname
        };
        let table = format!("{schema}.{}", rel.relname);
        let sz = ctx.stats.and_then(|s| s.get(&table));
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "CREATE INDEX on {table}{} blocks writes while it builds",
                    size::describe(sz)
                ),
            )
            .severity(size::scaled(sz, RULE.severity))
            .object(&table)
            .at(Some(&Loc {
                file: m.file.to_path_buf(),
                line: st.line,
                column: st.column,
            }))
            .fix("CREATE INDEX CONCURRENTLY … in a migration of its own (transactional: false)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn create_index_on_an_existing_table_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\nCREATE INDEX users_email ON app.users (email);",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "require-concurrent-index");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.users"));
        assert_eq!(f[0].line, Some(2));
        let large = run_with(
            &RULE,
            "CREATE INDEX ix ON t (a)",
            true,
            Some(&stats("public.t", 3_000_000)),
        );
        assert_eq!(large[0].severity, Severity::Error);
    }

    #[test]
    fn concurrent_indexes_and_new_tables_are_fine() {
        for sql in [
            "CREATE INDEX CONCURRENTLY users_email ON users (email)",
            "CREATE TABLE app.users (email text);\nCREATE INDEX users_email ON app.users (email);",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
