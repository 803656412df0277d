//! The Python tool's rules file (`db/sync/anonymization.yaml` of `fraiseql-confiture`), read as a
//! profile so that projects move over without rewriting it:
//!
//! ```yaml
//! users:
//!   - column: email
//!     strategy: email      # email | phone | name | hash | redact (or any strategy of ours)
//!     seed: 12345          # accepted; the Python tool's domain separator
//! ```
//!
//! The file is rewritten, node by node and keeping every line number, into the profile shape
//! (`rules:` with one entry per table) and decoded like any profile. The Python tool keys its
//! pseudonyms with `ANONYMIZATION_SECRET`; so does this reading (`salt: ${ANONYMIZATION_SECRET}`)
//! when a keyed strategy is used. Outputs differ from the Python tool's (other formats), but
//! they are as stable.

use crate::yaml::{Node, Value};

/// Keys of the profile format: a file using any of them is a profile, not a rules file.
const PROFILE_KEYS: &[&str] = &[
    "anonymization_profile",
    "name",
    "description",
    "salt",
    "strict",
    "immutable",
    "strategies",
    "rules",
];

/// Whether `root` has the Python tool's shape: a mapping of table names to lists of column
/// entries. A list of profile rules (entries with a `table` key) under a misspelt `rules:` is a
/// profile with a typo, left to the profile decoder to name.
pub fn is_rules_file(root: &Node) -> bool {
    match &root.value {
        Value::Map(entries) => {
            !entries.is_empty() && entries.iter().all(|(k, v)| {
                matches!(&k.value, Value::Str(s) if !PROFILE_KEYS.contains(&s.as_str()))
                    && matches!(&v.value, Value::Seq(items) if !items.iter().any(is_profile_rule))
            })
        }
        _ => false,
    }
}

/// A profile's rule entry (`- table: users`), which no rules-file entry has.
fn is_profile_rule(item: &Node) -> bool {
    matches!(&item.value, Value::Map(keys)
        if keys.iter().any(|(k, _)| matches!(&k.value, Value::Str(s) if s == "table")))
}

fn at(value: Value, n: &Node) -> Node {
    Node {
        value,
        line: n.line,
        column: n.column,
    }
}

fn string(s: &str, n: &Node) -> Node {
    at(Value::Str(s.to_string()), n)
}

/// The Python tool's strategy as one of ours (a name or an inline definition).
fn strategy(name: &Node) -> (Node, bool) {
    let Value::Str(s) = &name.value else {
        return (name.clone(), false);
    };
    let def = |fields: &[(&str, Value)]| {
        at(
            Value::Map(
                fields
                    .iter()
                    .map(|(k, v)| (string(k, name), at(v.clone(), name)))
                    .collect(),
            ),
            name,
        )
    };
    match s.as_str() {
        "email" => (
            def(&[
                ("type", Value::Str("email_mask".into())),
                ("keep_domain", Value::Bool(false)),
            ]),
            true,
        ),
        "phone" => (string("phone", name), true),
        "name" => (string("full_name", name), true),
        "hash" => (
            def(&[
                ("type", Value::Str("deterministic_hash".into())),
                ("length", Value::Int(16)),
            ]),
            true,
        ),
        _ => (name.clone(), false),
    }
}

/// Rewrite a rules file into a profile node. Entries that are not `{column, strategy, seed?}`
/// mappings are kept as they are, so the profile decoder reports them at their line.
pub fn to_profile(root: &Node) -> Node {
    let Value::Map(tables) = &root.value else {
        return root.clone();
    };
    let mut keyed = false;
    let mut rules = Vec::new();
    for (table, list) in tables {
        let Value::Seq(entries) = &list.value else {
            continue;
        };
        let mut columns = Vec::new();
        for e in entries {
            let Value::Map(fields) = &e.value else {
                columns.push((string("?", e), e.clone()));
                continue;
            };
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(key, _)| matches!(&key.value, Value::Str(s) if s == k))
                    .map(|(_, v)| v)
            };
            let unknown = fields.iter().find(|(key, _)| {
                !matches!(&key.value, Value::Str(s) if ["column", "strategy", "seed"].contains(&s.as_str()))
            });
            match (get("column"), get("strategy"), unknown) {
                (Some(column), Some(s), None) => {
                    let (def, k) = strategy(s);
                    keyed |= k;
                    columns.push((column.clone(), def));
                }
                // Let the decoder name what is wrong, at this entry.
                _ => columns.push((string("?", e), e.clone())),
            }
        }
        rules.push(at(
            Value::Map(vec![
                (string("table", table), table.clone()),
                (string("columns", list), at(Value::Map(columns), list)),
            ]),
            table,
        ));
    }
    let mut top = vec![(string("rules", root), at(Value::Seq(rules), root))];
    if keyed {
        top.push((
            string("salt", root),
            string("${ANONYMIZATION_SECRET}", root),
        ));
    }
    at(Value::Map(top), root)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::anonymize::profile::Profile;
    use crate::anonymize::Strategy;

    const RULES: &str = "users:\n  - column: email\n    strategy: email\n    seed: 12345\n  - column: ssn\n    strategy: redact\norders:\n  - column: customer\n    strategy: name\n";

    #[test]
    fn the_python_rules_file_reads_as_a_profile() {
        let lookup = |k: &str| (k == "ANONYMIZATION_SECRET").then(|| "s3cret".to_string());
        let p = Profile::parse(RULES, Path::new("db/sync/anonymization.yaml"), &lookup).unwrap();
        assert_eq!(p.name, "anonymization");
        assert!(p.key.is_some());
        let users = p.table("public", "users").unwrap();
        assert_eq!(users.line, 1);
        let email = users.column("email").unwrap();
        assert!(matches!(email.strategy, Strategy::EmailMask(_)));
        assert_eq!(email.line, 2);
        let out = email
            .strategy
            .apply(Some("jane@corp.example"), &email.row("text", &[]))
            .unwrap();
        assert!(out.ends_with("@example.com"), "{out}");
        assert!(matches!(
            users.column("ssn").unwrap().strategy,
            Strategy::Redact(_)
        ));
        let customer = p
            .table("public", "orders")
            .unwrap()
            .column("customer")
            .unwrap();
        assert!(matches!(customer.strategy, Strategy::Fake(_)));
    }

    #[test]
    fn keyed_strategies_need_the_python_secret() {
        let err = Profile::parse(RULES, Path::new("a.yaml"), &|_| None).unwrap_err();
        assert!(
            err.message.contains("ANONYMIZATION_SECRET"),
            "{}",
            err.message
        );
        // redact alone needs no secret
        let p = Profile::parse(
            "t:\n  - column: c\n    strategy: redact\n",
            Path::new("a.yaml"),
            &|_| None,
        )
        .unwrap();
        assert!(p.key.is_none());
    }

    #[test]
    fn a_typo_is_reported_at_its_line() {
        let err = Profile::parse(
            "users:\n  - column: email\n    strategy: emial\n",
            Path::new("a.yaml"),
            &|_| Some("k".into()),
        )
        .unwrap_err();
        assert_eq!(err.location.clone().unwrap().line, Some(3));
        assert!(err.message.contains("'emial'"), "{}", err.message);
    }
}
