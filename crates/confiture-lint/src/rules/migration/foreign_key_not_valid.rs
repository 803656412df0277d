//! `foreign-key-not-valid`: a foreign key added to an existing table without `NOT VALID` (or
//! validated in the same transaction) checks every row while blocking writes to both tables.

use pg_query::protobuf::{node::Node as N, AlterTableType, ConstrType, Constraint, Node, RangeVar};

use crate::finding::Finding;
use crate::inputs::{MigrationInput, Statement};
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, derived_name, ident, relation_sql, type_sql};

pub static RULE: Rule = Rule {
    id: "foreign-key-not-valid",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "Foreign key added to an existing table without NOT VALID blocks writes to both tables while it checks every row",
    explanation: "Adding a foreign key checks that every existing row has its referenced row. \
PostgreSQL does it at once, holding a SHARE ROW EXCLUSIVE lock on both the table and the \
referenced table: no INSERT, UPDATE or DELETE on either goes through until every row is checked \
(with `ADD COLUMN … REFERENCES`, the ACCESS EXCLUSIVE lock of ADD COLUMN also blocks reads).\n\n\
Add the constraint `NOT VALID` instead: it is enforced for new rows at once and takes its locks \
only for a moment. Then run `ALTER TABLE … VALIDATE CONSTRAINT …` in a later migration: it checks \
the existing rows under a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes through. \
Validating in the same transaction as the `NOT VALID` add gains nothing (the add's lock is held \
until commit) and is reported too. A table created in the same migration is empty and is not \
reported. With `--live` (a database), the severity follows the table's size.",
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
            if common::is(cmd, AlterTableType::AtAddConstraint) {
                let Some(c) = common::constraint(cmd) else {
                    continue;
                };
                if common::contype(c) != ConstrType::ConstrForeign {
                    continue;
                }
                // NOT ENFORCED (PostgreSQL 18): nothing is checked.
                if !c.is_enforced {
                    continue;
                }
                if c.skip_validation {
                    if let Some(later) =
                        common::validated_in_same_transaction(m, i, rel, &c.conname)
                    {
                        out.push(same_transaction(m, later, ctx, rel, c));
                    }
                    continue;
                }
                if created.before(i, rel) {
                    break;
                }
                out.push(validating(m, st, ctx, rel, c, None));
            } else if common::is(cmd, AlterTableType::AtAddColumn) {
                let Some(col) = common::column_def(cmd) else {
                    continue;
                };
                let Some(c) = common::column_constraint(col, ConstrType::ConstrForeign)
                    .filter(|c| c.is_enforced)
                else {
                    continue;
                };
                if created.before(i, rel) {
                    break;
                }
                let mut c = c.clone();
                c.fk_attrs = vec![string(&col.colname)];
                let add = format!(
                    "ALTER TABLE {} ADD COLUMN {} {};\n",
                    relation_sql(rel),
                    ident(&col.colname),
                    col.type_name.as_ref().map(type_sql).unwrap_or_default()
                );
                out.push(validating(m, st, ctx, rel, &c, Some(add)));
            }
        }
    }
}

fn string(s: &str) -> Node {
    Node {
        node: Some(N::String(pg_query::protobuf::String { sval: s.into() })),
    }
}

/// The finding of a foreign key validated as it is added; `add_column` is the first step of
/// the fix when the key came with a new column.
fn validating(
    m: &MigrationInput,
    st: &Statement,
    ctx: &Context,
    rel: &RangeVar,
    c: &Constraint,
    add_column: Option<String>,
) -> Finding {
    let table = common::table_key(rel);
    let referenced = c
        .pktable
        .as_ref()
        .map(common::table_key)
        .unwrap_or_default();
    let columns: Vec<&str> = common::strings(&c.fk_attrs).collect();
    let name = if c.conname.is_empty() {
        derived_name(&rel.relname, &columns, "fkey")
    } else {
        c.conname.clone()
    };
    let add = common::add_not_valid(rel, c, &name, "…");
    let (severity, size) = common::sized(&RULE, ctx, &table);
    let what = if add_column.is_some() {
        "ADD COLUMN … REFERENCES"
    } else {
        "ADD FOREIGN KEY"
    };
    let object = match columns.as_slice() {
        [one] => format!("{table}.{one}"),
        _ => table.clone(),
    };
    common::finding(
        &RULE,
        m,
        st,
        object,
        format!(
            "{what} on {table}{size} checks every row while holding SHARE ROW EXCLUSIVE locks on {table} and {referenced}: writes to both wait"
        ),
    )
    .severity(severity)
    .fix(format!(
        "add it NOT VALID (enforced for new rows at once), validate it in a later migration:\n{}{add}\n\
-- in a later migration (SHARE UPDATE EXCLUSIVE: reads and writes go on):\n\
ALTER TABLE {} VALIDATE CONSTRAINT {};",
        add_column.unwrap_or_default(),
        relation_sql(rel),
        ident(&name)
    ))
}

fn same_transaction(
    m: &MigrationInput,
    validate: &Statement,
    ctx: &Context,
    rel: &RangeVar,
    c: &Constraint,
) -> Finding {
    let table = common::table_key(rel);
    let (severity, size) = common::sized(&RULE, ctx, &table);
    common::finding(
        &RULE,
        m,
        validate,
        &table,
        format!(
            "VALIDATE CONSTRAINT {} on {table}{size} runs in the same transaction as its ADD … NOT VALID: the SHARE ROW EXCLUSIVE locks are held until commit, so writes wait during the whole check",
            c.conname
        ),
    )
    .severity(severity)
    .fix(format!(
        "move it to a later migration:\nALTER TABLE {} VALIDATE CONSTRAINT {};",
        relation_sql(rel),
        ident(&c.conname)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn validating_foreign_keys_are_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '2s';\nALTER TABLE app.orders ADD FOREIGN KEY (customer_id) REFERENCES app.customers (id);",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "foreign-key-not-valid");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.orders.customer_id"));
        assert_eq!(f[0].line, Some(2));
        assert!(f[0].message.contains("app.customers"), "{}", f[0].message);
        let fix = f[0].fix.as_deref().unwrap();
        assert!(
            fix.contains("ALTER TABLE app.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES app.customers (id) NOT VALID;"),
            "{fix}"
        );
        assert!(fix.contains("ALTER TABLE app.orders VALIDATE CONSTRAINT orders_customer_id_fkey;"));

        let f = run(
            &RULE,
            "ALTER TABLE orders ADD COLUMN shop_id bigint REFERENCES shops",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object.as_deref(), Some("public.orders.shop_id"));
        let fix = f[0].fix.as_deref().unwrap();
        assert!(fix.starts_with("add it NOT VALID"));
        assert!(
            fix.contains("ALTER TABLE orders ADD COLUMN shop_id bigint;\n"),
            "{fix}"
        );
        assert!(
            fix.contains("FOREIGN KEY (shop_id) REFERENCES shops NOT VALID;"),
            "{fix}"
        );
    }

    #[test]
    fn validating_in_the_same_transaction_is_reported() {
        let sql =
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES cs (id) NOT VALID;\n\
                   ALTER TABLE orders VALIDATE CONSTRAINT fk;";
        let f = run(&RULE, sql);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, Some(2));
        assert!(f[0].message.contains("same transaction"));
        assert!(run_with(&RULE, sql, false, None).is_empty());
    }

    #[test]
    fn not_valid_and_new_tables_are_fine() {
        for sql in [
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES cs (id) NOT VALID",
            "ALTER TABLE orders VALIDATE CONSTRAINT fk",
            "CREATE TABLE orders (id int, c int);\n\
             ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES cs (id);",
            "CREATE TABLE orders (id int, c int REFERENCES cs (id))",
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES cs (id) NOT ENFORCED",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn severity_follows_the_table_size() {
        let sql = "ALTER TABLE orders ADD FOREIGN KEY (c) REFERENCES cs (id)";
        let small = run_with(&RULE, sql, true, Some(&stats("public.orders", 300)));
        assert_eq!(small[0].severity, Severity::Info);
        let large = run_with(&RULE, sql, true, Some(&stats("public.orders", 3_000_000)));
        assert_eq!(large[0].severity, Severity::Error);
    }
}
