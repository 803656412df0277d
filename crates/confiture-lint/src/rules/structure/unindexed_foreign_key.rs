//! `unindexed-foreign-key`: a foreign key whose columns lead no index of its table.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{
    constraint_columns, index_name_for, sql_ident, sql_qualified, table_indexes, table_key, tables,
};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "unindexed-foreign-key",
    category: Category::Structure,
    severity: Severity::Warning,
    summary: "Foreign key columns not covered by an index",
    explanation: "PostgreSQL indexes the referenced side of a foreign key (its primary key or \
unique constraint), never the referencing columns. Without an index on them, every DELETE or key \
UPDATE of a referenced row scans the whole referencing table (under a lock), and joins along the \
key scan too.\n\nA foreign key is covered when its columns, in any order, are the leading \
columns of an index, primary key or unique constraint without a WHERE clause. Add one: `CREATE \
INDEX CONCURRENTLY t_col_idx ON s.t (col);` (in a migration of its own, `transactional: \
false`).",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let indexes = table_indexes(t);
        let key = table_key(t);
        for c in t.constraints.values() {
            if c.kind != "foreign_key" || c.inherited {
                continue;
            }
            let columns = constraint_columns(&c.definition);
            if columns.is_empty() || indexes.iter().any(|i| i.leads_with(&columns)) {
                continue;
            }
            let object = match columns.as_slice() {
                [one] => format!("{key}.{one}"),
                _ => key.clone(),
            };
            let list = columns
                .iter()
                .map(|c| sql_ident(c))
                .collect::<Vec<_>>()
                .join(", ");
            let create = format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({list});",
                sql_ident(&index_name_for(&t.name, &columns)),
                sql_qualified(&t.schema, &t.name),
            );
            let mut f = Finding::new(
                &RULE,
                format!(
                    "foreign key {} on {key} ({}) has no index on its columns",
                    c.name,
                    columns.join(", ")
                ),
            )
            .object(object)
            .at(s
                .locations
                .get("constraint", &format!("{key}.{}", c.name))
                .or_else(|| s.locations.get("table", &key)));
            if t.partition_by.is_some() {
                // CONCURRENTLY is refused on a partitioned table.
                f = f.fix(format!(
                    "index the partitioned table: CREATE INDEX … ON ONLY {key} ({list}), then \
                     CREATE INDEX CONCURRENTLY on each partition and ALTER INDEX … ATTACH \
                     PARTITION"
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;

    fn orders() -> confiture_core::schema::Table {
        let t = table("app", "orders", &["id", "customer_id", "tenant_id"]);
        let t = pk(t, "id");
        constraint(
            t,
            "orders_customer_id_fkey",
            "foreign_key",
            "FOREIGN KEY (customer_id) REFERENCES app.customers(id)",
        )
    }

    #[test]
    fn fires_on_an_unindexed_foreign_key() {
        let model = schema(vec![orders()]);
        let f = run(&RULE, &model, &LintingConfig::default());
        assert_eq!(objects(&f), ["app.orders.customer_id"]);
        assert_eq!(f[0].rule, "unindexed-foreign-key");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON app.orders \
                 (customer_id);"
            )
        );
        assert!(f[0].message.contains("orders_customer_id_fkey"));
    }

    #[test]
    fn partial_and_non_leading_indexes_do_not_cover() {
        let t = index(
            orders(),
            "CREATE INDEX orders_active_idx ON app.orders USING btree (customer_id) WHERE (id > 0)",
        );
        let t = index(
            t,
            "CREATE INDEX orders_t_c_idx ON app.orders USING btree (tenant_id, customer_id)",
        );
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(objects(&f), ["app.orders.customer_id"]);
    }

    #[test]
    fn multi_column_keys_name_the_table_and_quote_names() {
        let t = table("app", "Lines", &["order_id", "Pos"]);
        let t = constraint(
            t,
            "lines_fkey",
            "foreign_key",
            "FOREIGN KEY (order_id, \"Pos\") REFERENCES app.x(a, b)",
        );
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(objects(&f), ["app.Lines"]);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Lines_order_id_Pos_idx\" ON \
                 app.\"Lines\" (order_id, \"Pos\");"
            )
        );
    }

    #[test]
    fn covered_by_an_index_or_a_key() {
        let by_index = index(
            orders(),
            "CREATE INDEX orders_c_idx ON app.orders USING btree (customer_id, id)",
        );
        let by_unique = constraint(
            orders(),
            "orders_customer_id_tenant_id_key",
            "unique",
            "UNIQUE (customer_id, tenant_id)",
        );
        let multi = constraint(
            pk(table("app", "l", &["a", "b"]), "b, a"),
            "l_fkey",
            "foreign_key",
            "FOREIGN KEY (a, b) REFERENCES app.x(a, b)",
        );
        let f = run(
            &RULE,
            &schema(vec![by_index, multi]),
            &LintingConfig::default(),
        );
        assert!(f.is_empty(), "{f:?}");
        let f = run(&RULE, &schema(vec![by_unique]), &LintingConfig::default());
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn partitioned_tables_get_no_concurrent_fix_sql() {
        let mut t = orders();
        t.partition_by = Some("RANGE (id)".into());
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(f.len(), 1);
        assert!(f[0].fix_sql.is_none());
    }
}
