//! Which tables a piece of SQL names, for hooks: `analyze` without a table list analyzes what
//! the migration touched, and an environment hook `when: { touches: db/schema/… }` runs for
//! migrations that name a relation defined under that directory.

use crate::facts::analyze;
use crate::names::{Kind, ObjectName};

/// Relations `sql` defines, alters, writes or reads, each once, in first-mention order.
/// SQL that does not parse names nothing.
pub fn relations_named(sql: &str) -> Vec<ObjectName> {
    let mut out: Vec<ObjectName> = Vec::new();
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return out;
    };
    for raw in &parsed.protobuf.stmts {
        let Some(node) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) else {
            continue;
        };
        let facts = analyze(node);
        let names = facts
            .defines
            .iter()
            .chain(&facts.modifies)
            .chain(facts.requires.iter().map(|r| &r.object))
            .chain(facts.writes_rows_of.iter())
            .filter(|n| matches!(n.kind, Kind::Relation | Kind::Data));
        for n in names {
            let n = n.with_kind(Kind::Relation);
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Relations `sql` defines (`CREATE TABLE`, `CREATE VIEW`, …).
pub fn relations_defined(sql: &str) -> Vec<ObjectName> {
    let mut out = Vec::new();
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return out;
    };
    for raw in &parsed.protobuf.stmts {
        if let Some(node) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) {
            out.extend(
                analyze(node)
                    .defines
                    .into_iter()
                    .filter(|n| n.kind == Kind::Relation),
            );
        }
    }
    out
}

/// Whether two names can be the same relation (an unqualified name matches any schema).
pub fn same_relation(a: &ObjectName, b: &ObjectName) -> bool {
    a.name == b.name
        && match (&a.schema, &b.schema) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_relation_once() {
        let names = relations_named(
            "ALTER TABLE app.users ADD COLUMN x int; UPDATE app.users SET x = 1 FROM orders o WHERE o.id = 1; CREATE INDEX i ON orders (id);",
        );
        let got: Vec<String> = names
            .iter()
            .map(|n| format!("{:?}.{}", n.schema, n.name))
            .collect();
        assert!(got.contains(&"Some(\"app\").users".to_string()), "{got:?}");
        assert!(got.contains(&"None.orders".to_string()), "{got:?}");
        assert_eq!(
            got.iter().filter(|g| g.ends_with(".users")).count(),
            1,
            "{got:?}"
        );
        assert!(relations_named("not sql at all").is_empty());
    }

    #[test]
    fn defined_and_matching() {
        let defined = relations_defined(
            "CREATE TABLE billing.invoices (id int); CREATE INDEX ix ON billing.invoices (id);",
        );
        assert_eq!(defined.len(), 2, "{defined:?}");
        let used = relations_named("ALTER TABLE invoices ADD COLUMN y int");
        assert!(same_relation(&used[0], &defined[0]));
    }
}
