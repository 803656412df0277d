//! `tenant-rls-required`: tenant tables have row-level security enabled (when
//! `multi_tenant.require_rls`).

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::tenancy::{tenant_column, tenant_tables};
use crate::rules::util::{sql_ident, sql_qualified, table_key};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "tenant-rls-required",
    category: Category::MultiTenancy,
    severity: Severity::Error,
    summary: "Tenant tables have row-level security enabled (multi_tenant.require_rls)",
    explanation: "Row-level security makes the database itself keep tenants apart: a policy \
such as `USING (tenant_id = current_setting('app.tenant_id')::uuid)` filters every query, \
including the ones that forget the filter. Policies do nothing until RLS is enabled on the \
table.\n\nCreate the policies, then `ALTER TABLE s.t ENABLE ROW LEVEL SECURITY;` (and `FORCE \
ROW LEVEL SECURITY` if the application connects as the table's owner). Enabling RLS on a table \
without any policy denies every row to every role but the owner, so the fix is only offered \
as SQL for tables that already have policies. Runs only when `linting.multi_tenant.require_rls` \
is true.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    if !ctx.config.multi_tenant.require_rls {
        return;
    }
    for t in tenant_tables(s, ctx) {
        let Some(col) = tenant_column(t, ctx) else {
            continue;
        };
        if t.rls_enabled {
            continue;
        }
        let key = table_key(t);
        let name = sql_qualified(&t.schema, &t.name);
        let enable = format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;");
        let mut f = Finding::new(
            &RULE,
            format!("tenant table {key} does not have row-level security enabled"),
        )
        .object(&key)
        .at(s.locations.get("table", &key));
        if t.policies.is_empty() {
            f = f.fix(format!(
                "CREATE POLICY tenant_isolation ON {name} USING ({} = \
                 current_setting('app.tenant_id')::{}); then {enable}",
                sql_ident(&col.name),
                col.data_type
            ));
        } else {
            f = f.fix(enable.clone()).fix_sql(enable);
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use crate::rules::tenancy::tests::config;
    use confiture_core::schema::Policy;

    fn with_policy(mut t: confiture_core::schema::Table) -> confiture_core::schema::Table {
        t.policies.insert(
            "tenant_isolation".into(),
            Policy {
                name: "tenant_isolation".into(),
                permissive: true,
                command: "ALL".into(),
                roles: vec!["PUBLIC".into()],
                using: Some("(tenant_id = current_setting('app.tenant_id'))".into()),
                with_check: None,
            },
        );
        t
    }

    #[test]
    fn fires_on_tenant_tables_without_rls() {
        let orders = with_policy(table("app", "orders", &["id", "tenant_id"]));
        let notes = table("app", "notes", &["id", "tenant_id"]);
        let f = run(&RULE, &schema(vec![orders, notes]), &config(&[], true));
        assert_eq!(objects(&f), ["app.notes", "app.orders"]);
        assert!(f
            .iter()
            .all(|f| f.rule == "tenant-rls-required" && f.severity == Severity::Error));
        // Without a policy, enabling RLS would hide every row: no SQL to apply blindly.
        assert!(f[0].fix_sql.is_none());
        assert!(f[0].fix.as_deref().unwrap().contains("CREATE POLICY"));
        assert_eq!(
            f[1].fix_sql.as_deref(),
            Some("ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;")
        );
    }

    #[test]
    fn silent_when_enabled_exempt_not_required_or_not_a_tenant_table() {
        let mut on = table("app", "a", &["id", "tenant_id"]);
        on.rls_enabled = true;
        let shared = table("app", "countries", &["code"]);
        let exempt = table("app", "audit", &["tenant_id"]);
        let model = schema(vec![on, shared, exempt]);
        assert!(run(&RULE, &model, &config(&["audit"], true)).is_empty());
        let off = schema(vec![table("app", "b", &["tenant_id"])]);
        assert!(run(&RULE, &off, &config(&[], false)).is_empty());
    }
}
