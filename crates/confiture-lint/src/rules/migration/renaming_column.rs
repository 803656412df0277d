//! `renaming-column`: `ALTER TABLE … RENAME COLUMN` breaks the application code still running
//! with the old name.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, relation_sql};

pub static RULE: Rule = Rule {
    id: "renaming-column",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "Renaming a column breaks the application code that still uses the old name",
    explanation: "During a deployment the old version of the application keeps running while the \
migration is applied (and a rollback of the application brings it back): every one of its \
queries naming the old column fails from the moment the rename commits. The rename also takes an \
ACCESS EXCLUSIVE lock on the table.\n\nExpand and contract instead: add the new column, keep both \
filled (a trigger, or the application writing both), backfill the existing rows in batches, \
deploy the code that reads the new column, then drop the old one in a later migration. A table \
created in the same migration is not reported.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    let created = common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        let Some(NodeEnum::RenameStmt(r)) = &st.node else {
            continue;
        };
        if r.rename_type != ObjectType::ObjectColumn as i32
            || r.relation_type != ObjectType::ObjectTable as i32
        {
            continue;
        }
        let Some(rel) = &r.relation else { continue };
        if created.before(i, rel) {
            continue;
        }
        let table = common::table_key(rel);
        let t = relation_sql(rel);
        let (old, new) = (ident(&r.subname), ident(&r.newname));
        out.push(
            common::finding(
                &RULE,
                m,
                st,
                format!("{table}.{}", r.subname),
                format!(
                    "RENAME COLUMN {table}.{} to {}: running code that still uses {} fails as soon as this commits",
                    r.subname, r.newname, r.subname
                ),
            )
            .fix(format!(
                "expand and contract:\n\
ALTER TABLE {t} ADD COLUMN {new} …;  -- the type of {old}\n\
-- keep both filled (trigger or application), backfill in batches:\n\
UPDATE {t} SET {new} = {old} WHERE …;\n\
-- deploy code that uses {new}, then in a later migration:\n\
ALTER TABLE {t} DROP COLUMN {old};"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn renaming_a_column_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '1s';\nALTER TABLE users RENAME COLUMN mail TO email;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "renaming-column");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("public.users.mail"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("ALTER TABLE users DROP COLUMN mail;"));
    }

    #[test]
    fn new_tables_and_other_renames_are_fine() {
        for sql in [
            "CREATE TABLE users (mail text);\nALTER TABLE users RENAME COLUMN mail TO email;",
            "ALTER TABLE users RENAME TO people",
            "ALTER TABLE users RENAME CONSTRAINT a TO b",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
