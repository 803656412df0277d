//! `renaming-table`: `ALTER TABLE … RENAME TO` breaks the application code still running with
//! the old name.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, relation_sql};

pub static RULE: Rule = Rule {
    id: "renaming-table",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "Renaming a table breaks the application code that still uses the old name",
    explanation: "During a deployment the old version of the application keeps running while the \
migration is applied (and a rollback of the application brings it back): every one of its \
queries naming the old table fails from the moment the rename commits. The rename also takes an \
ACCESS EXCLUSIVE lock on the table.\n\nExpand and contract instead: rename and keep the old name \
working with a view (`CREATE VIEW old AS SELECT * FROM new`: a simple view is updatable), deploy \
the code that uses the new name, then drop the view in a later migration. Or create the new table, \
write to both, backfill, switch, and drop the old one later. A table created in the same \
migration is not reported.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    let created = common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        let Some(NodeEnum::RenameStmt(r)) = &st.node else {
            continue;
        };
        if r.rename_type != ObjectType::ObjectTable as i32 {
            continue;
        }
        let Some(rel) = &r.relation else { continue };
        if created.before(i, rel) {
            continue;
        }
        let table = common::table_key(rel);
        let new = if rel.schemaname.is_empty() {
            ident(&r.newname).into_owned()
        } else {
            format!("{}.{}", ident(&rel.schemaname), ident(&r.newname))
        };
        let old = relation_sql(rel);
        out.push(
            common::finding(
                &RULE,
                m,
                st,
                &table,
                format!(
                    "RENAME of {table} to {}: running code that still uses {} fails as soon as this commits",
                    r.newname, rel.relname
                ),
            )
            .fix(format!(
                "keep the old name working until no code uses it:\n\
ALTER TABLE {old} RENAME TO {};\n\
CREATE VIEW {old} AS SELECT * FROM {new};  -- updatable: old code keeps reading and writing\n\
-- in a later migration, once every reader uses the new name:\n\
DROP VIEW {old};",
                ident(&r.newname)
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn renaming_a_table_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '1s';\nALTER TABLE app.customer RENAME TO customers;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "renaming-table");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.customer"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("CREATE VIEW app.customer AS SELECT * FROM app.customers;"));
    }

    #[test]
    fn new_tables_and_other_renames_are_fine() {
        for sql in [
            "CREATE TABLE tmp (id int);\nALTER TABLE tmp RENAME TO final;",
            "ALTER TABLE t RENAME CONSTRAINT a TO b",
            "ALTER INDEX ix RENAME TO iy",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
