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
`CREATE INDEX` is fine there. With a database (`--env`), the severity follows the table's size.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, ctx: &Context, out: &mut Vec<Finding>) {
    for (i, st) in m.statements.iter().enumerate() {
        let Some(NodeEnum::IndexStmt(ix)) = &st.node else {
            continue;
        };
        if ix.concurrent {
            continue;
        }
        let Some(rel) = &ix.relation else { continue };
        let schema = if rel.schemaname.is_empty() {
            "public"
        } else {
            &rel.schemaname
        };
        let table = format!("{schema}.{}", rel.relname);
        if m.created_before(i).contains(&table) {
            continue;
        }
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
