//! `prefer-bigint-keys`: `integer` / `smallint` / `serial` primary key and identity columns.

use pg_query::protobuf::{node::Node as N, ConstrType};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::{MigrationInput, Statement};
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, ColumnSite};

pub static RULE: Rule = Rule {
    id: "prefer-bigint-keys",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "Integer, smallint or serial key column: it overflows; use bigint",
    explanation: "An `integer` (`int`, `serial`) key runs out at 2,147,483,647 values, a \
`smallint` (`smallserial`) one at 32,767, and sequence values are consumed by rolled-back \
inserts and `ON CONFLICT` too. When it happens every INSERT fails, and the fix (`ALTER COLUMN … \
TYPE bigint`) rewrites the table and every table whose foreign keys reference it, under ACCESS \
EXCLUSIVE locks, at the moment the table is largest.\n\n`bigint` costs 4 more bytes per row and \
does not run out: use `bigint GENERATED ALWAYS AS IDENTITY` (or `bigint` for keys given by the \
application) for primary keys, identity and serial columns, and `bigint` for the foreign keys \
that reference them.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for st in m.statements {
        common::column_types(st, |rel, column, ty, col, site| {
            if site == ColumnSite::AlterType {
                return;
            }
            let serial = matches!(
                common::type_base(ty),
                "serial" | "serial4" | "smallserial" | "serial2"
            ) && common::is_serial(ty);
            let small = serial
                || (matches!(common::builtin(ty), Some("int4" | "int2"))
                    && ty.array_bounds.is_empty());
            if !small {
                return;
            }
            let identity = common::column_constraint(col, ConstrType::ConstrIdentity).is_some();
            let primary = common::column_constraint(col, ConstrType::ConstrPrimary).is_some()
                || in_table_primary_key(st, column);
            let what = if primary {
                "primary key"
            } else if identity {
                "identity column"
            } else if serial {
                "serial column"
            } else {
                return;
            };
            let table = common::table_key(rel);
            let written = if serial {
                common::type_base(ty).to_string()
            } else {
                common::type_sql(ty)
            };
            let limit = if matches!(common::type_base(ty), "int2" | "smallserial" | "serial2") {
                "32,767"
            } else {
                "2,147,483,647"
            };
            let generated = if identity || serial {
                " GENERATED ALWAYS AS IDENTITY"
            } else {
                ""
            };
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{column}"),
                    format!(
                        "{what} {table}.{column} is {written}: it runs out at {limit}; use bigint"
                    ),
                )
                .fix(format!(
                    "{} bigint{generated}  -- and bigint for the foreign keys that reference it",
                    ident(column)
                )),
            );
        });
    }
}

/// Whether `column` is in the table-level `PRIMARY KEY (…)` of a `CREATE TABLE`.
fn in_table_primary_key(st: &Statement, column: &str) -> bool {
    let Some(NodeEnum::CreateStmt(c)) = &st.node else {
        return false;
    };
    c.table_elts.iter().any(|e| match &e.node {
        Some(N::Constraint(k)) => {
            common::contype(k) == ConstrType::ConstrPrimary
                && common::strings(&k.keys).any(|k| k == column)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn small_keys_are_reported() {
        let f = run(
            &RULE,
            "-- users\nCREATE TABLE app.users (id integer PRIMARY KEY, name text);",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "prefer-bigint-keys");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.users.id"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0].message.contains("2,147,483,647"));
        for sql in [
            "CREATE TABLE t (id serial PRIMARY KEY)",
            "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY)",
            "CREATE TABLE t (a smallint, b int, PRIMARY KEY (a, b))",
            "ALTER TABLE t ADD COLUMN id int4 PRIMARY KEY",
            "CREATE TABLE t (n serial)",
        ] {
            let f = run(&RULE, sql);
            assert!(!f.is_empty(), "{sql}");
        }
        assert_eq!(
            run(
                &RULE,
                "CREATE TABLE t (a smallint, b int, PRIMARY KEY (a, b))"
            )
            .len(),
            2
        );
    }

    #[test]
    fn bigint_keys_and_plain_integers_are_fine() {
        for sql in [
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, qty integer)",
            "CREATE TABLE t (id bigserial PRIMARY KEY, parent_id int)",
            "CREATE TABLE t (code text PRIMARY KEY)",
            "ALTER TABLE t ADD COLUMN qty smallint",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
