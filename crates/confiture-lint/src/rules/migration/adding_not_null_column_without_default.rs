//! `adding-not-null-column-without-default`: `ADD COLUMN … NOT NULL` (or `PRIMARY KEY`) without
//! a `DEFAULT` on an existing table: it fails as soon as the table has a row.

use pg_query::protobuf::{AlterTableType, ConstrType};

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, relation_sql, type_sql};

pub static RULE: Rule = Rule {
    id: "adding-not-null-column-without-default",
    category: Category::Migration,
    severity: Severity::Error,
    summary: "ADD COLUMN … NOT NULL without DEFAULT fails on a table that has rows",
    explanation: "The existing rows get NULL in a new column unless it has a default, so \
`ALTER TABLE … ADD COLUMN c … NOT NULL` (or `PRIMARY KEY`, which implies NOT NULL) without a \
`DEFAULT` fails with `column \"c\" contains null values` on any table that has a row: it passes \
on an empty development database and breaks the deployment.\n\nGive the column a constant \
default (`ADD COLUMN c integer NOT NULL DEFAULT 0`, instant since PostgreSQL 11), or add it \
nullable, backfill it, and set NOT NULL afterwards through a validated CHECK constraint (see \
`setting-not-null`). A table created in the same migration is empty and is not reported. With `--live` (a database), a table that is empty there is reported as a warning: \
production's may not be.",
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
            if !common::is(cmd, AlterTableType::AtAddColumn) {
                continue;
            }
            let Some(col) = common::column_def(cmd) else {
                continue;
            };
            if !requires_value(col) {
                continue;
            }
            if created.before(i, rel) {
                break;
            }
            let table = common::table_key(rel);
            let sz = ctx.stats.and_then(|s| s.get(&table));
            let severity = match sz {
                Some(s) if s.rows <= 0 && s.bytes == 0 => Severity::Warning,
                _ => RULE.severity,
            };
            let ty = col
                .type_name
                .as_ref()
                .map(type_sql)
                .unwrap_or_else(|| "…".into());
            let (t, c) = (relation_sql(rel), ident(&col.colname));
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{}", col.colname),
                    format!(
                        "ADD COLUMN {} NOT NULL without DEFAULT on {table}{}: fails with \"contains null values\" as soon as the table has a row",
                        col.colname,
                        crate::size::describe(sz)
                    ),
                )
                .severity(severity)
                .fix(format!(
                    "give it a constant default (instant since PostgreSQL 11):\n\
ALTER TABLE {t} ADD COLUMN {c} {ty} NOT NULL DEFAULT …;\n\
-- or add it nullable, backfill it, then SET NOT NULL through a validated CHECK (see setting-not-null)"
                )),
            );
        }
    }
}

/// NOT NULL (or PRIMARY KEY) with no value for the existing rows: no default, not generated,
/// not an identity or serial column.
fn requires_value(col: &pg_query::protobuf::ColumnDef) -> bool {
    if col.type_name.as_ref().is_some_and(common::is_serial) {
        return false;
    }
    let mut not_null = col.is_not_null;
    for c in common::column_constraints(col) {
        match common::contype(c) {
            ConstrType::ConstrNotnull | ConstrType::ConstrPrimary => not_null = true,
            ConstrType::ConstrDefault
            | ConstrType::ConstrIdentity
            | ConstrType::ConstrGenerated => return false,
            _ => {}
        }
    }
    not_null
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn not_null_without_default_is_reported() {
        let f = run(
            &RULE,
            "-- add the owner\nALTER TABLE app.projects ADD COLUMN owner_id bigint NOT NULL;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "adding-not-null-column-without-default");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].object.as_deref(), Some("app.projects.owner_id"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("ALTER TABLE app.projects ADD COLUMN owner_id bigint NOT NULL DEFAULT"));
        assert_eq!(
            run(&RULE, "ALTER TABLE t ADD COLUMN k int PRIMARY KEY").len(),
            1
        );
    }

    #[test]
    fn defaults_generated_values_and_new_tables_are_fine() {
        for sql in [
            "ALTER TABLE t ADD COLUMN n int NOT NULL DEFAULT 0",
            "ALTER TABLE t ADD COLUMN n int",
            "ALTER TABLE t ADD COLUMN id bigserial NOT NULL",
            "ALTER TABLE t ADD COLUMN id bigint NOT NULL GENERATED ALWAYS AS IDENTITY",
            "CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN n int NOT NULL",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn an_empty_table_is_a_warning() {
        let sql = "ALTER TABLE t ADD COLUMN n int NOT NULL";
        let f = run_with(&RULE, sql, true, Some(&stats("public.t", 0)));
        assert_eq!(f[0].severity, Severity::Warning);
        let f = run_with(&RULE, sql, true, Some(&stats("public.t", 300)));
        assert_eq!(f[0].severity, Severity::Error);
    }
}
