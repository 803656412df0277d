//! `adding-volatile-default`: `ADD COLUMN` whose value must be computed row by row (a volatile
//! `DEFAULT`, a serial or identity column, a stored generated column) on an existing table.

use pg_query::protobuf::{node::Node as N, AlterTableType, ConstrType, Node};

use crate::finding::Finding;
use crate::inputs::MigrationInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::Severity;

use super::common::{self, ident, relation_sql, type_sql};

pub static RULE: Rule = Rule {
    id: "adding-volatile-default",
    category: Category::Migration,
    severity: Severity::Warning,
    summary: "ADD COLUMN with a volatile default, serial, identity or stored generated value rewrites the table",
    explanation: "Since PostgreSQL 11, `ADD COLUMN … DEFAULT <constant>` (or a stable expression such \
as `now()`) is instant: the value is computed once and kept in the catalog. A volatile default \
(`random()`, `clock_timestamp()`, `gen_random_uuid()`, `uuid_generate_v4()`, `nextval(…)`, \
`txid_current()`, …), a `serial`/`bigserial` or identity column (each row takes its own \
`nextval`) and a `GENERATED … STORED` column must be computed for every existing row: PostgreSQL \
rewrites the whole table and its indexes while holding an ACCESS EXCLUSIVE lock, which blocks \
every read and write until it is done.\n\nInstead, add the column without a default (instant), set \
the default for new rows with `ALTER COLUMN … SET DEFAULT` (instant, it does not touch existing \
rows), then backfill the existing rows in batches. A table created in the same migration is \
empty and is not reported. With `--live` (a database), the severity follows the table's size.",
    bundle: None,
    check: Check::Migration(check),
};

/// Functions whose value changes from row to row (PostgreSQL's VOLATILE built-ins and the usual
/// extensions' generators).
const VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "setseed",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuid_generate_v7",
    "nextval",
    "currval",
    "lastval",
    "txid_current",
    "pg_current_xact_id",
];

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
            let Some(why) = per_row(col) else { continue };
            if created.before(i, rel) {
                break;
            }
            let table = common::table_key(rel);
            let (severity, size) = common::sized(&RULE, ctx, &table);
            let ty = col.type_name.as_ref().map(type_sql).unwrap_or_default();
            let ty = match ty.as_str() {
                "serial" | "serial4" => "integer".to_string(),
                "bigserial" | "serial8" => "bigint".to_string(),
                "smallserial" | "serial2" => "smallint".to_string(),
                _ => ty,
            };
            let (t, c) = (relation_sql(rel), ident(&col.colname));
            out.push(
                common::finding(
                    &RULE,
                    m,
                    st,
                    format!("{table}.{}", col.colname),
                    format!(
                        "ADD COLUMN {} on {table}{size}: {why}, so PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock",
                        col.colname
                    ),
                )
                .severity(severity)
                .fix(format!(
                    "add the column without a value, give new rows theirs, backfill the others in batches:\n\
ALTER TABLE {t} ADD COLUMN {c} {ty};\n\
ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT …;  -- the same expression: new rows only\n\
UPDATE {t} SET {c} = … WHERE … ;  -- in batches, outside this migration's transaction"
                )),
            );
        }
    }
}

/// Why the new column's value is computed row by row, if it is.
fn per_row(col: &pg_query::protobuf::ColumnDef) -> Option<String> {
    if col.type_name.as_ref().is_some_and(common::is_serial) {
        return Some(format!(
            "a {} column takes nextval() for every existing row",
            col.type_name
                .as_ref()
                .map(common::type_base)
                .unwrap_or_default()
        ));
    }
    for c in common::column_constraints(col) {
        match common::contype(c) {
            ConstrType::ConstrIdentity => {
                return Some("an identity column takes a new value for every existing row".into());
            }
            ConstrType::ConstrGenerated if c.generated_kind != "v" => {
                return Some("a stored generated column is computed for every existing row".into());
            }
            ConstrType::ConstrDefault => {
                if let Some(f) = c.raw_expr.as_deref().and_then(volatile_call) {
                    return Some(format!(
                        "its default calls {f}(), which is volatile: evaluated for every existing row"
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

/// The first volatile function an expression calls.
fn volatile_call(node: &Node) -> Option<&str> {
    match node.node.as_ref()? {
        N::FuncCall(f) => {
            let name = common::strings(&f.funcname).last().unwrap_or_default();
            if VOLATILE.contains(&name) {
                Some(name)
            } else {
                any(&f.args)
            }
        }
        N::TypeCast(t) => one(&t.arg),
        N::AExpr(e) => one(&e.lexpr).or_else(|| one(&e.rexpr)),
        N::BoolExpr(e) => any(&e.args),
        N::CoalesceExpr(e) => any(&e.args),
        N::MinMaxExpr(e) => any(&e.args),
        N::NullIfExpr(e) => any(&e.args),
        N::CaseExpr(e) => one(&e.arg)
            .or_else(|| any(&e.args))
            .or_else(|| one(&e.defresult)),
        N::CaseWhen(w) => one(&w.expr).or_else(|| one(&w.result)),
        N::NullTest(t) => one(&t.arg),
        N::AArrayExpr(a) => any(&a.elements),
        N::RowExpr(r) => any(&r.args),
        N::CollateClause(c) => one(&c.arg),
        N::List(l) => any(&l.items),
        _ => None,
    }
}

fn any(nodes: &[Node]) -> Option<&str> {
    nodes.iter().find_map(volatile_call)
}

fn one(node: &Option<Box<Node>>) -> Option<&str> {
    node.as_deref().and_then(volatile_call)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::migration::testing::{run, run_with, stats};

    #[test]
    fn volatile_defaults_serials_and_stored_columns_are_reported() {
        let f = run(
            &RULE,
            "SET lock_timeout = '5s';\nALTER TABLE app.users ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "adding-volatile-default");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object.as_deref(), Some("app.users.token"));
        assert_eq!(f[0].line, Some(2));
        assert!(
            f[0].message.contains("gen_random_uuid()"),
            "{}",
            f[0].message
        );
        assert!(f[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("ALTER TABLE app.users ADD COLUMN token uuid;"));

        for sql in [
            "ALTER TABLE t ADD COLUMN r int DEFAULT (random() * 100)::int",
            "ALTER TABLE t ADD COLUMN at timestamptz DEFAULT clock_timestamp()",
            "ALTER TABLE t ADD COLUMN n bigint DEFAULT nextval('t_n_seq')",
            "ALTER TABLE t ADD COLUMN id bigserial",
            "ALTER TABLE t ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY",
            "ALTER TABLE t ADD COLUMN total int GENERATED ALWAYS AS (a + b) STORED",
            "ALTER TABLE t ADD COLUMN u uuid DEFAULT coalesce(NULL, public.uuid_generate_v4())",
        ] {
            let f = run(&RULE, sql);
            assert_eq!(f.len(), 1, "{sql}");
            assert_eq!(f[0].line, Some(1));
        }
    }

    #[test]
    fn constant_and_stable_defaults_and_new_tables_are_fine() {
        for sql in [
            "ALTER TABLE t ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()",
            "ALTER TABLE t ADD COLUMN active boolean NOT NULL DEFAULT true",
            "ALTER TABLE t ADD COLUMN tags text[] DEFAULT '{}'",
            "ALTER TABLE t ADD COLUMN at timestamptz DEFAULT current_timestamp",
            "ALTER TABLE t ALTER COLUMN token SET DEFAULT gen_random_uuid()",
            "CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN token uuid DEFAULT gen_random_uuid()",
        ] {
            assert!(run(&RULE, sql).is_empty(), "{sql}");
        }
    }

    #[test]
    fn severity_follows_the_table_size() {
        let sql = "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid()";
        let small = run_with(&RULE, sql, true, Some(&stats("public.orders", 300)));
        assert_eq!(small[0].severity, Severity::Info);
        assert!(
            small[0].message.contains("(300 rows"),
            "{}",
            small[0].message
        );
        let large = run_with(&RULE, sql, true, Some(&stats("public.orders", 3_000_000)));
        assert_eq!(large[0].severity, Severity::Error);
        assert!(
            large[0].message.contains("3,000,000 rows"),
            "{}",
            large[0].message
        );
    }
}
