//! `redundant-index`: a btree index whose key is a leading prefix of another index's key.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{
    explicit_indexes, sql_qualified, table_indexes, table_key, tables, TableIndex,
};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "redundant-index",
    category: Category::Structure,
    severity: Severity::Warning,
    summary: "An index whose columns lead a wider index",
    explanation: "A btree index on `(a)` next to one on `(a, b)` (or a primary key or unique \
constraint on `(a, b)`) is redundant: the wider index serves every lookup and ordering on `a` \
alone. The narrower one still costs on every write, on disk and in vacuum.\n\nOnly plain btree \
indexes are compared: same method, the same columns with the same operator classes, collations \
and ordering, no WHERE clause on either, no INCLUDE on the narrower one. A unique index is never \
redundant: it enforces uniqueness on its own columns. Drop the narrower index once you have \
checked your plans (`DROP INDEX CONCURRENTLY s.i;`): it is smaller, so a few queries may have \
preferred it.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        relation(s, &table_key(t), &t.schema, &table_indexes(t), out);
    }
    for v in s.model.views.values().filter(|v| v.materialized) {
        let key = format!("{}.{}", v.schema, v.name);
        relation(s, &key, &v.schema, &explicit_indexes(&v.indexes), out);
    }
}

fn covers(wide: &TableIndex, narrow: &TableIndex) -> bool {
    wide.method == narrow.method
        && wide.predicate.is_none()
        && wide.elements.len() > narrow.elements.len()
        && wide.elements[..narrow.elements.len()] == narrow.elements[..]
}

fn relation(
    s: &SchemaInput,
    key: &str,
    schema: &str,
    indexes: &[TableIndex],
    out: &mut Vec<Finding>,
) {
    for narrow in indexes {
        if narrow.constraint.is_some()
            || narrow.unique
            || narrow.method != "btree"
            || narrow.predicate.is_some()
            || !narrow.include.is_empty()
            || narrow.elements.is_empty()
        {
            continue;
        }
        let Some(wide) = indexes.iter().find(|w| covers(w, narrow)) else {
            continue;
        };
        let object = format!("{key}.{}", narrow.name);
        let wide_name = match wide.constraint {
            Some("primary_key") => format!("the primary key {}", wide.name),
            Some(_) => format!("the unique constraint {}", wide.name),
            None => format!("index {}", wide.name),
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "index {} on {key} ({}) is a leading prefix of {wide_name} ({})",
                    narrow.name,
                    keys(narrow),
                    keys(wide)
                ),
            )
            .object(&object)
            .at(s
                .locations
                .get("index", &object)
                .or_else(|| s.locations.get("table", key)))
            .fix(format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}; -- after checking the plans that use it",
                sql_qualified(schema, narrow.name)
            )),
        );
    }
}

fn keys(i: &TableIndex) -> String {
    i.elements
        .iter()
        .map(|e| e.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;

    #[test]
    fn fires_on_a_prefix_of_an_index_or_a_key() {
        let t = pk(table("app", "t", &["a", "b", "c"]), "c, a");
        let t = index(t, "CREATE INDEX t_a_idx ON app.t USING btree (a)");
        let t = index(t, "CREATE INDEX t_a_b_idx ON app.t USING btree (a, b)");
        let t = index(t, "CREATE INDEX t_c_idx ON app.t USING btree (c)");
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(objects(&f), ["app.t.t_a_idx", "app.t.t_c_idx"]);
        assert!(f
            .iter()
            .all(|f| f.rule == "redundant-index" && f.severity == Severity::Warning));
        assert!(
            f[1].message.contains("the primary key t_pkey"),
            "{}",
            f[1].message
        );
        assert!(f.iter().all(|f| f.fix_sql.is_none()));
    }

    #[test]
    fn unique_partial_and_other_methods_pass() {
        let t = table("app", "t", &["a", "b"]);
        let t = index(t, "CREATE INDEX t_a_b_idx ON app.t USING btree (a, b)");
        let t = index(t, "CREATE UNIQUE INDEX t_a_key ON app.t USING btree (a)");
        let t = index(
            t,
            "CREATE INDEX t_a_part ON app.t USING btree (a) WHERE (b IS NULL)",
        );
        let t = index(t, "CREATE INDEX t_a_desc ON app.t USING btree (a DESC)");
        let t = index(t, "CREATE INDEX t_b_idx ON app.t USING btree (b)");
        let t = index(t, "CREATE INDEX t_a_gin ON app.t USING gin (a)");
        let t = index(
            t,
            "CREATE INDEX t_a_inc ON app.t USING btree (a) INCLUDE (b)",
        );
        let t = index(
            t,
            "CREATE INDEX t_ab_part ON app.t USING btree (b, a) WHERE (a IS NOT NULL)",
        );
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        // t_b_idx is a prefix of t_ab_part only, which is partial.
        assert!(f.is_empty(), "{f:?}");
    }
}
