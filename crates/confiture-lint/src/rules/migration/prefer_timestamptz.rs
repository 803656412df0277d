//! `prefer-timestamptz`: `timestamp` (without time zone) columns.

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident};

pub static RULE: Rule = Rule {
    id: "prefer-timestamptz",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "timestamp without time zone column: use timestamptz",
    explanation: "`timestamp` (without time zone) stores a wall-clock reading with no offset: the \
same value means different instants for sessions and servers in different time zones, `now()` \
is converted with the session's zone on the way in, and comparisons across a daylight-saving \
change are wrong. `timestamptz` stores an instant (UTC internally) and displays it in the \
session's zone; it takes the same 8 bytes.\n\nUse `timestamptz` (`timestamp with time zone`) for \
points in time. Converting an existing column later rewrites the table (unless the session's \
TimeZone is UTC, PostgreSQL 12+), so choose it when the column is created.",
    bundle: None,
    check: Check::Migration(check),
};

fn check(m: &MigrationInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for st in m.statements {
        common::column_types(st, |rel, column, ty, _, _| {
            if common::builtin(ty) != Some("timestamp") {
                return;
            }
            let table = common::table_key(rel);
            let written = common::type_sql(ty);
            let fixed = written.replacen("timestamp", "timestamptz", 1);
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{column}"),
                    format!(
                        "column {table}.{column} is {written} without time zone: the same value means different instants in different zones; use timestamptz"
                    ),
                )
                .fix(format!("{} {fixed}", ident(column))),
            );
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::run;

    #[test]
    fn timestamp_columns_are_reported() {
        let f = run(
            &RULE,
            "CREATE TABLE t (id bigint);\nALTER TABLE events ADD COLUMN happened_at timestamp(3) without time zone;",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "prefer-timestamptz");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("public.events.happened_at"));
        assert_eq!(f[0].line, Some(2));
        assert_eq!(f[0].fix.as_deref(), Some("happened_at timestamptz(3)"));
        assert_eq!(run(&RULE, "CREATE TABLE t (at timestamp[])").len(), 1);
    }

    #[test]
    fn timestamptz_and_other_types_are_fine() {
        for sql in [
            "CREATE TABLE t (a timestamptz, b timestamp with time zone, c date, d time)",
            "ALTER TABLE t ALTER COLUMN at TYPE timestamptz",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }
}
