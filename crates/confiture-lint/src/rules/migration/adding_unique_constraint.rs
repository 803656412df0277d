//! `adding-unique-constraint`: `ADD CONSTRAINT … UNIQUE` / `PRIMARY KEY` (or a new column
//! declared so) on an existing table builds its index under an ACCESS EXCLUSIVE lock.

use pg_query::protobuf::{AlterTableType, ConstrType, RangeVar};

use crate::finding::Finding;
use crate::inputs::{MigrationInput, Statement};
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, derived_name, ident, relation_sql};

pub static RULE: Rule = Rule {
    id: "adding-unique-constraint",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "UNIQUE or PRIMARY KEY constraint added without USING INDEX builds its index under an ACCESS EXCLUSIVE lock",
    explanation: "`ALTER TABLE … ADD CONSTRAINT … UNIQUE (…)` or `PRIMARY KEY (…)` builds the \
constraint's index while holding an ACCESS EXCLUSIVE lock on the table: every read and write \
waits for the whole build, minutes on a large table. So does `ADD COLUMN … UNIQUE` / `PRIMARY \
KEY`.\n\nBuild the index first with `CREATE UNIQUE INDEX CONCURRENTLY` (in a migration of its \
own: it cannot run in a transaction), then attach it: `ALTER TABLE … ADD CONSTRAINT name UNIQUE \
USING INDEX name` is instant. For a primary key the columns must also be NOT NULL: set that \
first without a long lock (see `setting-not-null`), or `ADD PRIMARY KEY USING INDEX` will scan \
for NULLs under its lock. A table created in the same migration is empty and is not reported. \
With `--live` (a database), the severity follows the table's size.",
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
            // The constraint, and the new column it is declared on (else its keys name them).
            let (c, column) = if common::is(cmd, AlterTableType::AtAddConstraint) {
                let Some(c) = common::constraint(cmd) else {
                    continue;
                };
                (c, None)
            } else if common::is(cmd, AlterTableType::AtAddColumn) {
                let Some(col) = common::column_def(cmd) else {
                    continue;
                };
                let Some(c) = common::column_constraints(col).find(|c| {
                    matches!(
                        common::contype(c),
                        ConstrType::ConstrUnique | ConstrType::ConstrPrimary
                    )
                }) else {
                    continue;
                };
                (c, Some(col.colname.as_str()))
            } else {
                continue;
            };
            let primary = match common::contype(c) {
                ConstrType::ConstrPrimary => true,
                ConstrType::ConstrUnique => false,
                _ => continue,
            };
            if !c.indexname.is_empty() {
                continue;
            }
            if created.before(i, rel) {
                break;
            }
            let columns: Vec<&str> = match column {
                Some(col) => vec![col],
                None => common::strings(&c.keys).collect(),
            };
            out.push(report(m, st, ctx, rel, &c.conname, &columns, primary));
        }
    }
}

fn report(
    m: &MigrationInput,
    st: &Statement,
    ctx: &Context,
    rel: &RangeVar,
    conname: &str,
    columns: &[&str],
    primary: bool,
) -> Finding {
    let table = common::table_key(rel);
    let (severity, size) = common::sized(&RULE, ctx, &table);
    let kind = if primary { "PRIMARY KEY" } else { "UNIQUE" };
    let name = if !conname.is_empty() {
        conname.to_string()
    } else if primary {
        derived_name(&rel.relname, &[], "pkey")
    } else {
        derived_name(&rel.relname, columns, "key")
    };
    let t = relation_sql(rel);
    let n = ident(&name);
    let cols = columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let not_null = if primary {
        "\n-- the key's columns must already be NOT NULL (see setting-not-null)"
    } else {
        ""
    };
    let object = match columns {
        [one] => format!("{table}.{one}"),
        _ => table.clone(),
    };
    common::finding(
        &RULE,
        m,
        st,
        object,
        format!(
            "ADD {kind} ({}) on {table}{size} builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait for the whole build",
            columns.join(", ")
        ),
    )
    .severity(severity)
    .fix(format!(
        "build the index concurrently, in a migration of its own, then attach it:\n\
CREATE UNIQUE INDEX CONCURRENTLY {n} ON {t} ({cols});\n\
-- in the next migration:{not_null}\n\
ALTER TABLE {t} ADD CONSTRAINT {n} {kind} USING INDEX {n};"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn unique_and_primary_keys_are_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\nALTER TABLE app.users ADD CONSTRAINT users_email_key UNIQUE (email);",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "adding-unique-constraint");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.users.email"));
        assert_eq!(f[0].line, Some(2));
        let fix = f[0].fix.as_deref().unwrap();
        assert!(
            fix.contains("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON app.users (email);")
        );
        assert!(fix.contains(
            "ALTER TABLE app.users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;"
        ));

        let f = run(&RULE, "ALTER TABLE t ADD PRIMARY KEY (a, b)");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object.as_deref(), Some("public.t"));
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("t_pkey PRIMARY KEY USING INDEX t_pkey"));
        assert_eq!(
            run(&RULE, "ALTER TABLE t ADD COLUMN code text UNIQUE").len(),
            1
        );
    }

    #[test]
    fn using_index_and_new_tables_are_fine() {
        for sql in [
            "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key",
            "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_pkey",
            "CREATE TABLE users (email text);\nALTER TABLE users ADD CONSTRAINT u UNIQUE (email);",
            "ALTER TABLE users ADD CONSTRAINT c CHECK (a > 0)",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn severity_follows_the_table_size() {
        let sql = "ALTER TABLE users ADD UNIQUE (email)";
        let small = run_with(&RULE, sql, true, Some(&stats("public.users", 300)));
        assert_eq!(small[0].severity, Severity::Info);
        let large = run_with(&RULE, sql, true, Some(&stats("public.users", 3_000_000)));
        assert_eq!(large[0].severity, Severity::Error);
    }
}
