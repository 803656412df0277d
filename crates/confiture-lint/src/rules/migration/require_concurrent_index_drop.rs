//! `require-concurrent-index-drop`: `DROP INDEX` without `CONCURRENTLY`.

use pg_query::protobuf::{node::Node as N, ObjectType};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident};

pub static RULE: Rule = Rule {
    id: "require-concurrent-index-drop",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
    explanation:
        "`DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself \
is quick, but the lock must wait for every running query on the table to finish, and while it \
waits every new query on the table queues behind it: a single long SELECT turns into an outage.\n\n\
`DROP INDEX CONCURRENTLY` waits for running transactions without blocking anyone. It drops one \
index per statement, without CASCADE, and cannot run inside a transaction: put it alone in a \
migration (a migration of a single such statement runs in autocommit) or set \
`transactional: false` in the migration's `.yaml`. An index created earlier in the same \
migration is not reported.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for (i, st) in m.statements.iter().enumerate() {
        let Some(NodeEnum::DropStmt(d)) = &st.node else {
            continue;
        };
        if d.remove_type != ObjectType::ObjectIndex as i32 || d.concurrent {
            continue;
        }
        for obj in &d.objects {
            let Some(N::List(l)) = &obj.node else {
                continue;
            };
            let names: Vec<&str> = common::strings(&l.items).collect();
            let (schema, name) = match names.as_slice() {
                [name] => (None, *name),
                [schema, name] => (Some(*schema), *name),
                [.., schema, name] => (Some(*schema), *name),
                [] => continue,
            };
            if created_earlier(m, i, schema, name) {
                continue;
            }
            let object = format!("{}.{name}", schema.unwrap_or("public"));
            let written = match schema {
                Some(s) => format!("{}.{}", ident(s), ident(name)),
                None => ident(name).into_owned(),
            };
            let if_exists = if d.missing_ok { "IF EXISTS " } else { "" };
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    &object,
                    format!(
                        "DROP INDEX {object} without CONCURRENTLY: its ACCESS EXCLUSIVE lock on the table queues every query behind the longest running one"
                    ),
                )
                .fix(format!(
                    "drop it concurrently, alone in a migration (runs in autocommit):\nDROP INDEX CONCURRENTLY {if_exists}{written};"
                )),
            );
        }
    }
}

/// An index of that name created earlier in this migration.
fn created_earlier(m: &MigrationInput, index: usize, schema: Option<&str>, name: &str) -> bool {
    m.statements[..index].iter().any(|s| match &s.node {
        Some(NodeEnum::IndexStmt(ix)) => {
            ix.idxname == name
                && schema.is_none_or(|sc| ix.relation.as_ref().map(common::schema_of) == Some(sc))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn drop_index_is_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '1s';\nDROP INDEX IF EXISTS app.users_email, users_name;",
        );
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].rule, "require-concurrent-index-drop");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.users_email"));
        assert_eq!(f[1].object.as_deref(), Some("public.users_name"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .ends_with("DROP INDEX CONCURRENTLY IF EXISTS app.users_email;"));
    }

    #[test]
    fn concurrent_drops_and_new_indexes_are_fine() {
        for sql in [
            "DROP INDEX CONCURRENTLY users_email",
            "CREATE INDEX tmp_ix ON users (email);\nDROP INDEX tmp_ix;",
            "DROP TABLE users",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
