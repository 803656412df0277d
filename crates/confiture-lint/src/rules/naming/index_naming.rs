//! `index-naming`: index names end with `_idx` or start with `idx_`.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{
    index_columns, index_name_for, is_snake_case, sql_qualified, table_key, tables,
};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "index-naming",
    category: Category::Naming,
    severity: Severity::Info,
    summary: "Index names end with _idx or start with idx_",
    explanation: "A naming convention for indexes makes them recognisable in plans, in \
`pg_stat_user_indexes` and in migrations, and keeps them apart from the constraints' own \
indexes (`_pkey`, `_key`, `_excl`). PostgreSQL's own default is `<table>_<columns>_idx`.\n\n\
The rule accepts a name ending with `_idx` or starting with `idx_`; rename the others \
(`ALTER INDEX s.i RENAME TO t_col_idx;`). Indexes behind primary key, unique and exclusion \
constraints are named by the `constraint-naming` rule.",
    bundle: None,
    check: Check::Schema(check),
};

pub fn conventional(name: &str) -> bool {
    name.ends_with("_idx") || name.starts_with("idx_")
}

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    let mut relations: Vec<(String, &str, &str, _)> = tables(s)
        .map(|t| (table_key(t), t.schema.as_str(), t.name.as_str(), &t.indexes))
        .collect();
    for v in s.model.views.values().filter(|v| v.materialized) {
        relations.push((
            format!("{}.{}", v.schema, v.name),
            &v.schema,
            &v.name,
            &v.indexes,
        ));
    }
    for (key, schema, relname, indexes) in relations {
        for i in indexes.values().filter(|i| !i.inherited) {
            if conventional(&i.name) {
                continue;
            }
            let object = format!("{key}.{}", i.name);
            let columns: Vec<String> = index_columns(&i.definition)
                .into_iter()
                .map(|c| {
                    if is_snake_case(&c) {
                        c
                    } else {
                        "expr".to_string()
                    }
                })
                .collect();
            let fix = if columns.is_empty() {
                format!(
                    "rename it: ALTER INDEX {} RENAME TO …_idx;",
                    sql_qualified(schema, &i.name)
                )
            } else {
                format!(
                    "ALTER INDEX {} RENAME TO {};",
                    sql_qualified(schema, &i.name),
                    index_name_for(relname, &columns)
                )
            };
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "index {} on {key} does not end with _idx or start with idx_",
                        i.name
                    ),
                )
                .object(&object)
                .at(s
                    .locations
                    .get("index", &object)
                    .or_else(|| s.locations.get("table", &key))
                    .or_else(|| s.locations.get("view", &key)))
                .fix(fix),
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
    fn fires_at_info_on_unconventional_names() {
        let t = table("app", "users", &["id", "email"]);
        let t = index(
            t,
            "CREATE INDEX by_email ON app.users USING btree (lower(email), id)",
        );
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(objects(&f), ["app.users.by_email"]);
        assert_eq!(f[0].rule, "index-naming");
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(
            f[0].fix.as_deref(),
            Some("ALTER INDEX app.by_email RENAME TO users_expr_id_idx;")
        );
        assert!(f[0].fix_sql.is_none());
    }

    #[test]
    fn conventional_names_and_constraints_pass() {
        let t = pk(table("app", "users", &["id", "email"]), "id");
        let t = index(
            t,
            "CREATE INDEX users_email_idx ON app.users USING btree (email)",
        );
        let t = index(t, "CREATE INDEX idx_users_id ON app.users USING btree (id)");
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert!(f.is_empty(), "{f:?}");
    }
}
