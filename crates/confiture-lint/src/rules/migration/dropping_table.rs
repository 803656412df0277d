//! `dropping-table`: `DROP TABLE` loses its data and breaks the code that still uses it.

use pg_query::protobuf::{node::Node as N, DropBehavior, ObjectType};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident};

pub static RULE: Rule = Rule {
    id: "dropping-table",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "DROP TABLE loses its rows and breaks the code that still uses the table",
    explanation: "A dropped table's rows are gone: a rollback cannot bring them back. `confiture \
migrate down` refuses to roll back a migration without a `.down.sql` (exit 8), and a `.down.sql` \
that recreates the table restores its structure, not its data. The running version of the \
application (and any other reader: reports, replicas' consumers) fails as soon as the drop \
commits. `DROP TABLE` also takes an ACCESS EXCLUSIVE lock on the table and on the tables whose \
foreign keys reference it; `CASCADE` silently drops the views and constraints that depend on \
it.\n\nFirst deploy code that no longer uses the table; make sure its data is no longer needed \
(or archived); then drop it in a later migration. Renaming it aside first (`… RENAME TO \
t_deprecated`) makes a forgotten use fail loudly while the data is still there. A table created \
in the same migration is not reported.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    let created = common::Created::new(m);
    for (i, st) in m.statements.iter().enumerate() {
        let Some(NodeEnum::DropStmt(d)) = &st.node else {
            continue;
        };
        if d.remove_type != ObjectType::ObjectTable as i32 {
            continue;
        }
        let cascade = d.behavior == DropBehavior::DropCascade as i32;
        for obj in &d.objects {
            let Some(N::List(l)) = &obj.node else {
                continue;
            };
            let names: Vec<&str> = common::strings(&l.items).collect();
            let (schema, name) = match names.as_slice() {
                [name] => (None, *name),
                [.., schema, name] => (Some(*schema), *name),
                [] => continue,
            };
            if created.named_before(i, schema.unwrap_or("public"), name) {
                continue;
            }
            let table = format!("{}.{name}", schema.unwrap_or("public"));
            let written = match schema {
                Some(s) => format!("{}.{}", ident(s), ident(name)),
                None => ident(name).into_owned(),
            };
            let aside = ident(&format!("{name}_deprecated")).into_owned();
            let cascade_note = if cascade {
                " (CASCADE also drops what depends on it)"
            } else {
                ""
            };
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    &table,
                    format!(
                        "DROP TABLE {table}{cascade_note}: its rows cannot be recovered by a rollback, and running code that uses it fails"
                    ),
                )
                .fix(format!(
                    "deploy code that no longer uses it first; set it aside before dropping it in a later migration:\n\
ALTER TABLE {written} RENAME TO {aside};\n\
-- later, once nothing broke and the data is archived or not needed:\n\
DROP TABLE {}{aside};",
                    schema.map(|s| format!("{}.", ident(s))).unwrap_or_default()
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
    fn dropping_a_table_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '1s';\nDROP TABLE IF EXISTS legacy.audit, old_sessions CASCADE;",
        );
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].rule, "dropping-table");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("legacy.audit"));
        assert_eq!(f[1].object.as_deref(), Some("public.old_sessions"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0].message.contains("CASCADE"));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("ALTER TABLE legacy.audit RENAME TO audit_deprecated;"));
    }

    #[test]
    fn tables_created_in_the_same_migration_are_fine() {
        for sql in [
            "CREATE TABLE tmp (id int);\nDROP TABLE tmp;",
            "CREATE TABLE app.tmp (id int);\nDROP TABLE app.tmp;",
            "DROP VIEW v",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
