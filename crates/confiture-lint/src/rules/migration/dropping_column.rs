//! `dropping-column`: `DROP COLUMN` loses its data and breaks the code that still uses it.

use pg_query::protobuf::AlterTableType;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, relation_sql};

pub static RULE: Rule = Rule {
    id: "dropping-column",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "DROP COLUMN loses its values and breaks the code that still uses the column",
    explanation:
        "A dropped column's values are gone: a rollback cannot bring them back. `confiture \
migrate down` refuses to roll back a migration without a `.down.sql` (exit 8), and a `.down.sql` \
that adds the column again restores its definition, not its values. The running version of the \
application fails as soon as the drop commits if any of its queries names the column (ORMs list \
every mapped column in their INSERTs and SELECTs). The drop itself is quick but takes an ACCESS \
EXCLUSIVE lock on the table.\n\nFirst deploy code that no longer reads or writes the column (for \
an ORM: mark it ignored), make sure its values are no longer needed, then drop it in a later \
migration. A table created in the same migration is not reported.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    let created = common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        let Some((alter, rel)) = common::alter_table(st) else {
            continue;
        };
        for cmd in common::commands(alter) {
            if !common::is(cmd, AlterTableType::AtDropColumn) {
                continue;
            }
            if created.before(i, rel) {
                break;
            }
            let table = common::table_key(rel);
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{}", cmd.name),
                    format!(
                        "DROP COLUMN {table}.{}: its values cannot be recovered by a rollback, and running code that uses it fails",
                        cmd.name
                    ),
                )
                .fix(format!(
                    "deploy code that no longer reads or writes {} first (ORMs: mark it ignored), then drop it in a later migration:\n\
ALTER TABLE {} DROP COLUMN {};",
                    cmd.name,
                    relation_sql(rel),
                    ident(&cmd.name)
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn dropping_a_column_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '1s';\nALTER TABLE app.users DROP COLUMN IF EXISTS legacy_id;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "dropping-column");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.users.legacy_id"));
        assert_eq!(f[0].line, Some(2));
    }

    #[test]
    fn new_tables_are_fine() {
        for sql in [
            "CREATE TABLE users (id int, tmp int);\nALTER TABLE users DROP COLUMN tmp;",
            "ALTER TABLE users DROP CONSTRAINT users_tmp_check",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
