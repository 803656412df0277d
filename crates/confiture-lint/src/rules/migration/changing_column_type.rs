//! `changing-column-type`: `ALTER COLUMN … TYPE` rewrites the table and its indexes under an
//! ACCESS EXCLUSIVE lock (binary-coercible widenings aside).

use pg_query::protobuf::AlterTableType;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, relation_sql, type_sql};

pub static RULE: Rule = Rule {
    id: "changing-column-type",
    category: Category::Migration,
    severity: Severity::Warning,
    summary:
        "ALTER COLUMN … TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock",
    explanation:
        "Changing a column's type converts every row: PostgreSQL rewrites the whole table \
and rebuilds its indexes while holding an ACCESS EXCLUSIVE lock, blocking every read and write \
(`integer` → `bigint` included). Only binary-coercible changes skip the rewrite: `varchar(n)` → \
`varchar(m)` with m > n, `varchar` → `text`; these are not reported (with no `USING`; the old \
type is not known to the linter, so a narrowing `varchar(m)` is not reported either).\n\nFor other \
changes, expand and contract: add a column of the new type, keep it filled (a trigger, or the \
application writing both), backfill the existing rows in batches, switch the readers, then drop \
the old column in a later migration. For a length limit, prefer `text` with a `CHECK \
(char_length(c) <= n) NOT VALID` constraint. A table created in the same migration is not \
reported. With `--live` (a database), the severity follows the table's size.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, ctx: &Context, out: &mut Vec<Finding>) {
    let created = common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        let Some((alter, rel)) = common::alter_table(st) else {
            continue;
        };
        for cmd in common::commands(alter) {
            if !common::is(cmd, AlterTableType::AtAlterColumnType) {
                continue;
            }
            let Some(col) = common::column_def(cmd) else {
                continue;
            };
            let Some(ty) = &col.type_name else { continue };
            let using = col.raw_default.is_some();
            if !using && matches!(common::builtin(ty), Some("text" | "varchar")) {
                continue;
            }
            if created.before(i, rel) {
                break;
            }
            let table = common::table_key(rel);
            let (severity, size) = common::sized(&RULE, ctx, &table);
            let new_type = type_sql(ty);
            let (t, c) = (relation_sql(rel), ident(&cmd.name));
            let new = ident_owned(&format!("{}_new", cmd.name));
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{}", cmd.name),
                    format!(
                        "ALTER COLUMN {} TYPE {new_type} on {table}{size} rewrites the table and its indexes under an ACCESS EXCLUSIVE lock",
                        cmd.name
                    ),
                )
                .severity(severity)
                .fix(format!(
                    "expand and contract instead of converting in place:\n\
ALTER TABLE {t} ADD COLUMN {new} {new_type};\n\
-- keep it filled for new writes (trigger or application), backfill in batches:\n\
UPDATE {t} SET {new} = {c} WHERE …;\n\
-- switch readers, then in a later migration: drop {c}, rename {new}"
                )),
            );
        }
    }
}

fn ident_owned(name: &str) -> String {
    ident(name).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn type_changes_are_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\nALTER TABLE app.events ALTER COLUMN id TYPE bigint;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "changing-column-type");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.events.id"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0].message.contains("TYPE bigint"));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("ALTER TABLE app.events ADD COLUMN id_new bigint;"));
        assert_eq!(
            run(
                &RULE,
                "ALTER TABLE t ALTER COLUMN n TYPE text USING n::text"
            )
            .len(),
            1
        );
        assert_eq!(
            run(
                &RULE,
                "ALTER TABLE t ALTER COLUMN n SET DATA TYPE numeric(12, 2)"
            )
            .len(),
            1
        );
    }

    #[test]
    fn binary_coercible_widenings_and_new_tables_are_fine() {
        for sql in [
            "ALTER TABLE t ALTER COLUMN name TYPE varchar(200)",
            "ALTER TABLE t ALTER COLUMN name TYPE character varying",
            "ALTER TABLE t ALTER COLUMN name TYPE text",
            "CREATE TABLE t (id int);\nALTER TABLE t ALTER COLUMN id TYPE bigint;",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn severity_follows_the_table_size() {
        let sql = "ALTER TABLE t ALTER COLUMN id TYPE bigint";
        let small = run_with(&RULE, sql, true, Some(&stats("public.t", 300)));
        assert_eq!(small[0].severity, Severity::Info);
        let large = run_with(&RULE, sql, true, Some(&stats("public.t", 3_000_000)));
        assert_eq!(large[0].severity, Severity::Error);
    }
}
