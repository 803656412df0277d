//! `tenant-column-required`: every table not exempted has the tenant column.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::tenancy::{tenant_column, tenant_tables};
use crate::rules::util::{sql_ident, sql_qualified, table_key, tables};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "tenant-column-required",
    category: Category::MultiTenancy,
    severity: Severity::Error,
    summary: "Every table has the tenant column (multi_tenant.required_column)",
    explanation: "In a multi-tenant schema every row belongs to one tenant: a table without \
the tenant column cannot be filtered, partitioned or protected by row-level security per \
tenant, and its rows leak across tenants as soon as a query forgets a join.\n\nAdd the column \
(`multi_tenant.required_column`, `tenant_id` by default) with a foreign key to the tenants \
table, or list the shared tables (lookup data, the tenants table itself) in \
`linting.multi_tenant.exempt_tables` (globs over `schema.table` or `table`). Runs only when \
`linting.multi_tenant` is configured.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    let column = &ctx.config.multi_tenant.required_column;
    // The tenant column's usual type, from the tables that have it.
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for t in tables(s) {
        if let Some(c) = tenant_column(t, ctx) {
            *types.entry(c.data_type.as_str()).or_default() += 1;
        }
    }
    let data_type = types
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or("<type>", |(t, _)| *t);
    for t in tenant_tables(s, ctx) {
        if tenant_column(t, ctx).is_some() {
            continue;
        }
        let key = table_key(t);
        out.push(
            Finding::new(&RULE, format!("table {key} has no tenant column {column}"))
                .object(&key)
                .at(s.locations.get("table", &key))
                .fix(format!(
                    "ALTER TABLE {} ADD COLUMN {} {data_type} NOT NULL REFERENCES …; -- backfill \
                     existing rows first, or exempt the table in \
                     linting.multi_tenant.exempt_tables",
                    sql_qualified(&t.schema, &t.name),
                    sql_ident(column)
                )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use crate::rules::tenancy::tests::config;
    use confiture_core::config::linting::LintingConfig;

    fn model() -> confiture_core::schema::Schema {
        let mut orders = table("app", "orders", &["id", "tenant_id"]);
        orders.columns[1].data_type = "uuid".into();
        schema(vec![
            orders,
            table("app", "notes", &["id"]),
            table("app", "tenants", &["id"]),
            table("ref", "countries", &["code"]),
        ])
    }

    #[test]
    fn fires_on_tables_without_the_column() {
        let f = run(&RULE, &model(), &config(&["tenants", "ref.*"], false));
        assert_eq!(objects(&f), ["app.notes"]);
        assert_eq!(f[0].rule, "tenant-column-required");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("tenant_id"));
        assert!(
            f[0].fix
                .as_deref()
                .unwrap()
                .starts_with("ALTER TABLE app.notes ADD COLUMN tenant_id uuid NOT NULL"),
            "{:?}",
            f[0].fix
        );
        assert!(f[0].fix_sql.is_none());
    }

    #[test]
    fn silent_when_disabled_exempt_or_present() {
        assert!(run(&RULE, &model(), &LintingConfig::default()).is_empty());
        let f = run(
            &RULE,
            &model(),
            &config(&["app.notes", "tenants", "ref.*"], false),
        );
        assert!(f.is_empty(), "{f:?}");
    }
}
