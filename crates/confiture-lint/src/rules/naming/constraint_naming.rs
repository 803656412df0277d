//! `constraint-naming`: constraint names end with PostgreSQL's suffix for their kind
//! (`_pkey`, `_fkey`, `_key`, `_check`, `_excl`).

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{
    constraint_columns, is_snake_case, sql_ident, sql_qualified, table_key, tables, truncate_bytes,
    MAX_IDENTIFIER_BYTES,
};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "constraint-naming",
    category: Category::Naming,
    severity: Severity::Info,
    summary: "Constraint names end with PostgreSQL's suffix for their kind",
    explanation: "PostgreSQL names the constraints it creates `<table>_pkey` (primary key), \
`<table>_<columns>_fkey` (foreign key), `<table>_<columns>_key` (unique), \
`<table>_<column>_check` and `<table>_<columns>_excl` (exclusion). Following that convention \
for named constraints tells the kind of a constraint from its name alone, in error messages \
(`violates foreign key constraint \"orders_customer_id_fkey\"`) as in migrations.\n\nRename \
the constraint (`ALTER TABLE s.t RENAME CONSTRAINT old TO new;`); code that names it (`ON \
CONFLICT ON CONSTRAINT …`, error handling) must follow.",
    bundle: None,
    check: Check::Schema(check),
};

/// The conventional suffix of a constraint kind.
pub fn suffix(kind: &str) -> Option<&'static str> {
    match kind {
        "primary_key" => Some("_pkey"),
        "foreign_key" => Some("_fkey"),
        "unique" => Some("_key"),
        "check" => Some("_check"),
        "exclusion" => Some("_excl"),
        _ => None,
    }
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let key = table_key(t);
        for c in t.constraints.values().filter(|c| !c.inherited) {
            let Some(suffix) = suffix(&c.kind) else {
                continue;
            };
            if c.name.ends_with(suffix) {
                continue;
            }
            let mut base = t.name.clone();
            if c.kind != "primary_key" {
                for col in constraint_columns(&c.definition) {
                    if is_snake_case(&col) {
                        base.push('_');
                        base.push_str(&col);
                    }
                }
            }
            let suggested = format!(
                "{}{suffix}",
                truncate_bytes(&base, MAX_IDENTIFIER_BYTES - suffix.len())
            );
            let object = format!("{key}.{}", c.name);
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "{} constraint {} on {key} does not end with {suffix}",
                        c.kind.replace('_', " "),
                        c.name
                    ),
                )
                .object(&object)
                .at(s
                    .locations
                    .get("constraint", &object)
                    .or_else(|| s.locations.get("table", &key)))
                .fix(format!(
                    "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
                    sql_qualified(&t.schema, &t.name),
                    sql_ident(&c.name),
                    sql_ident(&suggested)
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;

    #[test]
    fn fires_on_names_without_their_kinds_suffix() {
        let t = table("app", "orders", &["id", "customer_id", "total"]);
        let t = constraint(t, "pk_orders", "primary_key", "PRIMARY KEY (id)");
        let t = constraint(
            t,
            "fk_customer",
            "foreign_key",
            "FOREIGN KEY (customer_id) REFERENCES app.customers(id)",
        );
        let t = constraint(t, "positive_total", "check", "CHECK ((total > 0))");
        // A unique constraint named like a check.
        let t = constraint(t, "orders_total_check", "unique", "UNIQUE (total)");
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(
            objects(&f),
            [
                "app.orders.fk_customer",
                "app.orders.orders_total_check",
                "app.orders.pk_orders",
                "app.orders.positive_total"
            ]
        );
        assert!(f
            .iter()
            .all(|f| f.rule == "constraint-naming" && f.severity == Severity::Info));
        assert_eq!(
            f[0].fix.as_deref(),
            Some(
                "ALTER TABLE app.orders RENAME CONSTRAINT fk_customer TO orders_customer_id_fkey;"
            )
        );
        assert!(f[2].fix.as_deref().unwrap().ends_with("TO orders_pkey;"));
        assert!(f.iter().all(|f| f.fix_sql.is_none()));
    }

    #[test]
    fn conventional_names_pass() {
        let t = pk(table("app", "orders", &["id", "code"]), "id");
        let t = constraint(t, "orders_code_key", "unique", "UNIQUE (code)");
        let t = constraint(t, "orders_code_check", "check", "CHECK ((code <> ''))");
        let t = constraint(
            t,
            "orders_x_excl",
            "exclusion",
            "EXCLUDE USING gist (code WITH =)",
        );
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert!(f.is_empty(), "{f:?}");
    }
}
