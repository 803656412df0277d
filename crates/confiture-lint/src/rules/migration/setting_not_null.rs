//! `setting-not-null`: `ALTER COLUMN … SET NOT NULL` on an existing table scans it under an
//! ACCESS EXCLUSIVE lock.

use pg_query::protobuf::{AlterTableType, ConstrType};

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, derived_name, ident, relation_sql};

pub static RULE: Rule = Rule {
    id: "setting-not-null",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "ALTER COLUMN … SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
    explanation: "`ALTER TABLE … ALTER COLUMN c SET NOT NULL` must check that no row holds NULL: \
PostgreSQL reads the whole table while holding an ACCESS EXCLUSIVE lock, which blocks every read \
and write for as long as the scan takes.\n\nSince PostgreSQL 12, SET NOT NULL skips the scan when \
a valid `CHECK (c IS NOT NULL)` constraint already proves it. So: add the check as `NOT VALID` \
(instant), validate it in a later migration (`VALIDATE CONSTRAINT` scans under a SHARE UPDATE \
EXCLUSIVE lock, which lets reads and writes through), then `SET NOT NULL` (instant) and drop the \
check. PostgreSQL 18 can also add `NOT NULL … NOT VALID` directly. A SET NOT NULL that follows a \
`VALIDATE CONSTRAINT` on the same table in the same migration is taken for that pattern, and a \
table created in the same migration is empty: neither is reported. With `--live` (a database), \
the severity follows the table's size.",
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
            // `SET NOT NULL`, or PostgreSQL 18's `ADD CONSTRAINT … NOT NULL c` (without NOT VALID).
            let (column, what) = if common::is(cmd, AlterTableType::AtSetNotNull) {
                (cmd.name.as_str(), "SET NOT NULL")
            } else if let Some(k) = common::constraint(cmd).filter(|k| {
                common::is(cmd, AlterTableType::AtAddConstraint)
                    && common::contype(k) == ConstrType::ConstrNotnull
                    && !k.skip_validation
            }) {
                let Some(column) = common::strings(&k.keys).next() else {
                    continue;
                };
                (column, "ADD CONSTRAINT … NOT NULL")
            } else {
                continue;
            };
            if created.before(i, rel) || validated_earlier(m, i, alter, rel) {
                break;
            }
            let table = common::table_key(rel);
            let (severity, size) = common::sized(&RULE, ctx, &table);
            let (t, c) = (relation_sql(rel), ident(column));
            let check = derived_name(&rel.relname, &[column], "not_null");
            let k = ident(&check);
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{column}"),
                    format!(
                        "{what} on {table}.{column}{size} scans the whole table under an ACCESS EXCLUSIVE lock"
                    ),
                )
                .severity(severity)
                .fix(format!(
                    "prove it with a CHECK first (PostgreSQL 12+ then skips the scan):\n\
ALTER TABLE {t} ADD CONSTRAINT {k} CHECK ({c} IS NOT NULL) NOT VALID;\n\
-- in a later migration:\n\
ALTER TABLE {t} VALIDATE CONSTRAINT {k};\n\
ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\
ALTER TABLE {t} DROP CONSTRAINT {k};"
                )),
            );
        }
    }
}

/// A `VALIDATE CONSTRAINT` on the same table earlier in this migration, or in this very
/// statement: the safe pattern's second step.
fn validated_earlier(
    m: &MigrationInput,
    index: usize,
    alter: &pg_query::protobuf::AlterTableStmt,
    rel: &pg_query::protobuf::RangeVar,
) -> bool {
    let validates = |a: &pg_query::protobuf::AlterTableStmt| {
        common::commands(a).any(|c| common::is(c, AlterTableType::AtValidateConstraint))
    };
    let schema = common::schema_of(rel);
    validates(alter)
        || m.statements[..index].iter().any(|s| {
            common::alter_table(s).is_some_and(|(a, r)| {
                r.relname == rel.relname && common::schema_of(r) == schema && validates(a)
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn set_not_null_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\n\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "setting-not-null");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("public.users.email"));
        assert_eq!(f[0].line, Some(3));
        let fix = f[0].fix.as_deref().unwrap();
        assert!(fix.contains(
            "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;"
        ));
        assert!(fix.contains("VALIDATE CONSTRAINT users_email_not_null"));

        let f = run(&RULE, "ALTER TABLE users ADD CONSTRAINT nn NOT NULL email");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object.as_deref(), Some("public.users.email"));
    }

    #[test]
    fn the_safe_pattern_and_new_tables_are_fine() {
        for sql in [
            "ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            "CREATE TABLE users (email text);\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;",
            "ALTER TABLE users ADD CONSTRAINT nn NOT NULL email NOT VALID;",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn severity_follows_the_table_size() {
        let sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL";
        let small = run_with(&RULE, sql, true, Some(&stats("public.users", 300)));
        assert_eq!(small[0].severity, Severity::Info);
        let large = run_with(&RULE, sql, true, Some(&stats("public.users", 3_000_000)));
        assert_eq!(large[0].severity, Severity::Error);
        assert!(large[0].message.contains("3,000,000 rows"));
    }
}
