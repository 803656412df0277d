//! `tenant-column-indexed`: the tenant column leads the primary key or some index.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::tenancy::{tenant_column, tenant_tables};
use crate::rules::util::{index_name_for, sql_ident, sql_qualified, table_indexes, table_key};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "tenant-column-indexed",
    category: Category::MultiTenancy,
    severity: Severity::Warning,
    summary: "The tenant column leads the primary key or an index",
    explanation: "Nearly every query of a multi-tenant schema filters on the tenant column, and \
row-level security policies add that filter to all of them. Without an index whose first \
column is the tenant column (a primary key `(tenant_id, id)`, or an index on `(tenant_id, …)`), \
each of those queries reads the rows of every tenant.\n\nAdd one: `CREATE INDEX CONCURRENTLY \
t_tenant_id_idx ON s.t (tenant_id);` (in a migration with `transactional: false`), or lead the \
table's main indexes with the tenant column. Partial indexes do not count. Runs only when \
`linting.multi_tenant` is configured.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    for t in tenant_tables(s, ctx) {
        let Some(col) = tenant_column(t, ctx) else {
            continue;
        };
        let lead = [col.name.clone()];
        if table_indexes(t).iter().any(|i| i.leads_with(&lead)) {
            continue;
        }
        let key = table_key(t);
        let object = format!("{key}.{}", col.name);
        let create = format!(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
            sql_ident(&index_name_for(&t.name, &lead)),
            sql_qualified(&t.schema, &t.name),
            sql_ident(&col.name)
        );
        let mut f = Finding::new(
            &RULE,
            format!("tenant column {object} leads neither the primary key nor an index"),
        )
        .object(&object)
        .at(s
            .locations
            .get("column", &object)
            .or_else(|| s.locations.get("table", &key)));
        if t.partition_by.is_some() {
            f = f.fix(format!(
                "index the partitioned table: CREATE INDEX … ON ONLY {key} ({}), then CREATE \
                 INDEX CONCURRENTLY on each partition and ALTER INDEX … ATTACH PARTITION",
                col.name
            ));
        } else {
            f = f
                .fix(format!(
                    "{create} -- in a migration with transactional: false"
                ))
                .fix_sql(create);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use crate::rules::tenancy::tests::config;
    use confiture_core::config::linting::LintingConfig;

    #[test]
    fn fires_when_the_tenant_column_leads_nothing() {
        let t = pk(table("app", "orders", &["id", "tenant_id"]), "id");
        let t = index(
            t,
            "CREATE INDEX orders_id_tenant_idx ON app.orders USING btree (id, tenant_id)",
        );
        let t = index(
            t,
            "CREATE INDEX orders_part_idx ON app.orders USING btree (tenant_id) WHERE (id > 0)",
        );
        let f = run(&RULE, &schema(vec![t]), &config(&[], false));
        assert_eq!(objects(&f), ["app.orders.tenant_id"]);
        assert_eq!(f[0].rule, "tenant-column-indexed");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_tenant_id_idx ON app.orders \
                 (tenant_id);"
            )
        );
    }

    #[test]
    fn silent_when_leading_a_key_or_index_or_disabled() {
        let by_pk = pk(table("app", "a", &["id", "tenant_id"]), "tenant_id, id");
        let by_index = index(
            pk(table("app", "b", &["id", "tenant_id"]), "id"),
            "CREATE INDEX b_t_idx ON app.b USING btree (tenant_id, id)",
        );
        let no_column = table("app", "c", &["id"]);
        let model = schema(vec![by_pk, by_index, no_column]);
        assert!(run(&RULE, &model, &config(&[], false)).is_empty());
        let bare = schema(vec![table("app", "d", &["tenant_id"])]);
        assert!(run(&RULE, &bare, &LintingConfig::default()).is_empty());
        assert!(run(&RULE, &bare, &config(&["d"], false)).is_empty());
    }
}
