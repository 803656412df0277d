//! `duplicate-index`: two indexes of a table (or an index and a PRIMARY KEY or UNIQUE
//! constraint) with the same definition but for the name.

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{
    explicit_indexes, sql_qualified, table_indexes, table_key, tables, TableIndex,
};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "duplicate-index",
    category: Category::Structure,
    severity: Severity::Warning,
    summary: "Two indexes (or an index and a key) with the same definition",
    explanation: "An index that repeats another one (same columns, expressions, method, \
operator classes, INCLUDE and WHERE clause; only the name differs) gives the planner nothing \
new, yet every write maintains it, and it takes disk, memory and vacuum time. A plain index on \
the columns of a primary key or unique constraint repeats the constraint's own index; a \
non-unique index repeats a unique one with the same definition.\n\nDrop the extra index: `DROP \
INDEX CONCURRENTLY IF EXISTS s.i;` (in a migration with `transactional: false`). A UNIQUE \
constraint that repeats the primary key is reported without SQL: foreign keys may depend on it.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for t in tables(s) {
        let key = table_key(t);
        relation(
            s,
            &key,
            &t.schema,
            table_indexes(t),
            t.partition_by.is_some(),
            out,
        );
    }
    for v in s.model.views.values().filter(|v| v.materialized) {
        let key = format!("{}.{}", v.schema, v.name);
        relation(s, &key, &v.schema, explicit_indexes(&v.indexes), false, out);
    }
}

fn same(a: &TableIndex, b: &TableIndex) -> bool {
    a.method == b.method
        && a.elements == b.elements
        && a.include == b.include
        && a.predicate == b.predicate
}

/// Which of two equal indexes stays: the primary key, then a unique constraint, then a
/// unique index, then the first name.
fn rank<'a>(i: &TableIndex<'a>) -> (u8, &'a str) {
    let r = match (i.constraint, i.unique) {
        (Some("primary_key"), _) => 0,
        (Some(_), _) => 1,
        (None, true) => 2,
        (None, false) => 3,
    };
    (r, i.name)
}

fn relation(
    s: &SchemaInput,
    key: &str,
    schema: &str,
    mut indexes: Vec<TableIndex>,
    partitioned: bool,
    out: &mut Vec<Finding>,
) {
    indexes.sort_by(|a, b| rank(a).cmp(&rank(b)));
    for (n, extra) in indexes.iter().enumerate() {
        let Some(kept) = indexes[..n].iter().find(|k| same(k, extra)) else {
            continue;
        };
        // Two UNIQUE constraints on the same columns cannot be told apart: report the
        // later one against the primary key only.
        if extra.constraint == Some("primary_key") {
            continue;
        }
        let what = |i: &TableIndex| match i.constraint {
            Some("primary_key") => format!("the primary key {}", i.name),
            Some(_) => format!("the unique constraint {}", i.name),
            None => format!("index {}", i.name),
        };
        let object = format!("{key}.{}", extra.name);
        let kind = if extra.constraint.is_some() {
            "constraint"
        } else {
            "index"
        };
        let mut f = Finding::new(
            &RULE,
            format!("{} on {key} duplicates {}", what(extra), what(kept)),
        )
        .object(&object)
        .at(s
            .locations
            .get(kind, &object)
            .or_else(|| s.locations.get("table", key)));
        if extra.constraint.is_some() {
            f = f.fix(format!(
                "ALTER TABLE {key} DROP CONSTRAINT {}; -- once no foreign key depends on it",
                extra.name
            ));
        } else {
            let sql = format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {};",
                sql_qualified(schema, extra.name)
            );
            if partitioned {
                f = f.fix(format!(
                    "DROP INDEX {}; -- a partitioned index cannot be dropped CONCURRENTLY",
                    sql_qualified(schema, extra.name)
                ));
            } else {
                f = f
                    .fix(format!("{sql} -- in a migration with transactional: false"))
                    .fix_sql(sql);
            }
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;

    #[test]
    fn fires_on_two_equal_indexes_and_an_index_repeating_the_key() {
        let t = pk(table("app", "users", &["id", "email"]), "id");
        let t = index(
            t,
            "CREATE INDEX a_idx ON app.users USING btree (lower(email))",
        );
        let t = index(
            t,
            "CREATE INDEX b_idx ON app.users USING btree (lower(email))",
        );
        let t = index(
            t,
            "CREATE UNIQUE INDEX users_id_idx ON app.users USING btree (id)",
        );
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(objects(&f), ["app.users.users_id_idx", "app.users.b_idx"]);
        assert!(f
            .iter()
            .all(|f| f.rule == "duplicate-index" && f.severity == Severity::Warning));
        assert!(
            f[0].message.contains("the primary key users_pkey"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[1].fix_sql.as_deref(),
            Some("DROP INDEX CONCURRENTLY IF EXISTS app.b_idx;")
        );
    }

    #[test]
    fn the_non_unique_one_goes() {
        let t = table("app", "t", &["a"]);
        let t = index(t, "CREATE INDEX a1 ON app.t USING btree (a)");
        let t = index(t, "CREATE UNIQUE INDEX a2 ON app.t USING btree (a)");
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(objects(&f), ["app.t.a1"]);
    }

    #[test]
    fn a_unique_constraint_repeating_the_primary_key_has_no_fix_sql() {
        let t = pk(table("app", "t", &["a"]), "a");
        let t = constraint(t, "t_a_key", "unique", "UNIQUE (a)");
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert_eq!(objects(&f), ["app.t.t_a_key"]);
        assert!(f[0].fix_sql.is_none());
    }

    #[test]
    fn different_definitions_pass() {
        let t = pk(table("app", "t", &["a", "b"]), "a");
        let t = index(t, "CREATE INDEX i1 ON app.t USING btree (b)");
        let t = index(t, "CREATE INDEX i2 ON app.t USING btree (b) WHERE (a > 0)");
        let t = index(t, "CREATE INDEX i3 ON app.t USING hash (b)");
        let t = index(t, "CREATE INDEX i4 ON app.t USING btree (b DESC)");
        let t = index(t, "CREATE INDEX i5 ON app.t USING btree (b) INCLUDE (a)");
        let t = index(t, "CREATE INDEX i6 ON app.t USING btree (a, b)");
        let f = run(&RULE, &schema(vec![t]), &LintingConfig::default());
        assert!(f.is_empty(), "{f:?}");
    }
}
