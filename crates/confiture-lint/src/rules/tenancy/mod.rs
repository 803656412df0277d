//! Multi-tenancy rules (only when `linting.multi_tenant` is enabled): the tenant column on
//! every table, indexed first, and row-level security.

pub mod tenant_column_indexed;
pub mod tenant_column_required;
pub mod tenant_rls_required;

use confiture_core::schema::Table;
use globset::Glob;

use crate::inputs::SchemaInput;
use crate::rule::{Context, Rule};
use crate::rules::util::{table_key, tables};

pub const RULES: &[&Rule] = &[
    &tenant_column_indexed::RULE,
    &tenant_column_required::RULE,
    &tenant_rls_required::RULE,
];

/// The tables that must carry the tenant column: none unless `multi_tenant` is enabled, else
/// every table (not partitions) that no `exempt_tables` glob matches, by `schema.table` or
/// `table`.
pub(crate) fn tenant_tables<'a>(s: &'a SchemaInput, ctx: &Context) -> Vec<&'a Table> {
    let mt = &ctx.config.multi_tenant;
    if !mt.enabled {
        return Vec::new();
    }
    let globs: Vec<_> = mt
        .exempt_tables
        .iter()
        .filter_map(|g| Glob::new(g).ok().map(|g| g.compile_matcher()))
        .collect();
    tables(s)
        .filter(|t| {
            let key = table_key(t);
            !globs
                .iter()
                .any(|g| g.is_match(&key) || g.is_match(&t.name))
        })
        .collect()
}

/// The tenant column of a table, when it has one.
pub(crate) fn tenant_column<'a>(
    t: &'a Table,
    ctx: &Context,
) -> Option<&'a confiture_core::schema::Column> {
    let name = &ctx.config.multi_tenant.required_column;
    t.columns.iter().find(|c| &c.name == name)
}

#[cfg(test)]
pub(crate) mod tests {
    use confiture_core::config::linting::{LintingConfig, MultiTenant};

    /// Multi-tenancy on, `tenant_id`, these exemptions.
    pub fn config(exempt: &[&str], require_rls: bool) -> LintingConfig {
        LintingConfig {
            multi_tenant: MultiTenant {
                enabled: true,
                required_column: "tenant_id".into(),
                exempt_tables: exempt.iter().map(|e| e.to_string()).collect(),
                require_rls,
            },
            ..LintingConfig::default()
        }
    }
}
