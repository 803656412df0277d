//! Building small schema models in tests, and running one rule over them (shared by the
//! naming, structure and tenancy tests).

use confiture_core::config::linting::LintingConfig;
use confiture_core::schema::{Column, Constraint, Index, Schema, Table};

use crate::finding::Finding;
use crate::inputs::{Locations, SchemaInput};
use crate::rule::{Check, Context, Rule};

/// A permanent table with `text` columns.
pub fn table(schema: &str, name: &str, columns: &[&str]) -> Table {
    Table {
        schema: schema.into(),
        name: name.into(),
        persistence: "permanent".into(),
        columns: columns
            .iter()
            .map(|c| Column {
                name: (*c).into(),
                data_type: "text".into(),
                ..Column::default()
            })
            .collect(),
        owner: "app".into(),
        ..Table::default()
    }
}

/// Add a constraint (`primary_key`, `unique`, `foreign_key`, `check`) with its definition.
pub fn constraint(mut t: Table, name: &str, kind: &str, definition: &str) -> Table {
    let references = crate::rules::util::fk_target(definition).map(|(t, _)| t);
    t.constraints.insert(
        name.into(),
        Constraint {
            name: name.into(),
            kind: kind.into(),
            definition: definition.into(),
            validated: true,
            references: if kind == "foreign_key" {
                references
            } else {
                None
            },
            ..Constraint::default()
        },
    );
    t
}

/// Add `PRIMARY KEY (cols)` named `<table>_pkey`.
pub fn pk(t: Table, columns: &str) -> Table {
    let name = format!("{}_pkey", t.name);
    constraint(t, &name, "primary_key", &format!("PRIMARY KEY ({columns})"))
}

/// Add an index from its `pg_get_indexdef` definition.
pub fn index(mut t: Table, definition: &str) -> Table {
    let d = crate::rules::util::parse_index(definition).expect("index definition");
    t.indexes.insert(
        d.name.clone(),
        Index {
            name: d.name,
            definition: definition.into(),
            method: d.method,
            unique: d.unique,
            valid: true,
            ..Index::default()
        },
    );
    t
}

/// A model of these tables.
pub fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema {
        server_version: 170000,
        ..Schema::default()
    };
    for t in tables {
        s.tables.insert(format!("{}.{}", t.schema, t.name), t);
    }
    s
}

/// Run one schema rule over a model built statically (`live = false`) without locations.
pub fn run(rule: &Rule, model: &Schema, config: &LintingConfig) -> Vec<Finding> {
    run_with(rule, model, config, &Locations::default(), false)
}

pub fn run_with(
    rule: &Rule,
    model: &Schema,
    config: &LintingConfig,
    locations: &Locations,
    live: bool,
) -> Vec<Finding> {
    let input = SchemaInput {
        model,
        locations,
        live,
    };
    let ctx = Context {
        config,
        environment: "local",
        stats: None,
        anonymized: None,
    };
    let Check::Schema(check) = rule.check else {
        panic!("{} is not a schema rule", rule.id)
    };
    let mut out = Vec::new();
    check(&input, &ctx, &mut out);
    out
}

/// The objects of the findings, in order.
pub fn objects(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f.object.as_deref().unwrap_or(""))
        .collect()
}

/// The definition parsers of `rules::util` on PostgreSQL's own spellings.
#[cfg(test)]
mod parsing {
    use crate::rules::util::*;

    #[test]
    fn index_definitions() {
        let d = parse_index(
            "CREATE UNIQUE INDEX \"Odd \"\" ON name\" ON ONLY \"S\".t USING btree \
             (\"Col\" DESC NULLS LAST, lower((b)::text) text_pattern_ops, ((a + 1)), \
             c COLLATE \"C\") INCLUDE (\"X\", y) WITH (fillfactor='90') WHERE ((d IS NOT NULL) \
             AND (e = 'a, WHERE (b)'))",
        )
        .unwrap();
        assert!(d.unique);
        assert_eq!(d.name, "Odd \" ON name");
        assert_eq!(d.table, "S.t");
        assert_eq!(d.method, "btree");
        let keys: Vec<_> = d.elements.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["Col", "lower((b)::text)", "((a + 1))", "c"]);
        assert_eq!(
            d.elements.iter().map(|e| e.expression).collect::<Vec<_>>(),
            [false, true, true, false]
        );
        assert_eq!(d.elements[0].modifiers, "DESC NULLS LAST");
        assert_eq!(d.elements[1].modifiers, "text_pattern_ops");
        assert_eq!(d.elements[3].modifiers, "COLLATE \"C\"");
        assert_eq!(d.include, ["X", "y"]);
        assert_eq!(
            d.predicate.as_deref(),
            Some("((d IS NOT NULL) AND (e = 'a, WHERE (b)'))")
        );
        assert_eq!(
            index_columns("CREATE INDEX i ON s.t USING gin (tags)"),
            ["tags"]
        );
        assert_eq!(index_columns("CREATE INDEX ON t (a, b)"), ["a", "b"]);
        assert!(index_columns("not an index").is_empty());
    }

    #[test]
    fn constraint_definitions() {
        assert_eq!(
            constraint_columns("PRIMARY KEY (id, \"Pos\")"),
            ["id", "Pos"]
        );
        assert_eq!(
            constraint_columns("UNIQUE NULLS NOT DISTINCT (a) INCLUDE (b)"),
            ["a"]
        );
        assert_eq!(
            constraint_include("UNIQUE (a) INCLUDE (b, \"C\")"),
            ["b", "C"]
        );
        assert_eq!(
            constraint_columns("EXCLUDE USING gist (room WITH =, during WITH &&)"),
            ["room", "during"]
        );
        assert!(constraint_columns("CHECK ((a > 0))").is_empty());
        let fk = "FOREIGN KEY (a, \"B\") REFERENCES \"Sch\".\"T\"(x, y) ON DELETE CASCADE \
                  DEFERRABLE";
        assert_eq!(constraint_columns(fk), ["a", "B"]);
        assert_eq!(
            fk_target(fk),
            Some(("Sch.T".to_string(), vec!["x".to_string(), "y".to_string()]))
        );
        assert_eq!(
            fk_target("FOREIGN KEY (a) REFERENCES t"),
            Some(("t".to_string(), vec![]))
        );
        assert_eq!(fk_target("PRIMARY KEY (a)"), None);
    }

    #[test]
    fn quoting_and_names() {
        assert!(!needs_quoting("user_id"));
        assert!(needs_quoting("user"));
        assert!(needs_quoting("left"));
        assert!(!needs_quoting_as_function_or_type("left"));
        assert!(needs_quoting("Users"));
        assert!(needs_quoting("a b"));
        assert!(needs_quoting("1a"));
        assert_eq!(sql_qualified("app", "Users"), "app.\"Users\"");
        assert_eq!(sql_ident("order"), "\"order\"");
        assert_eq!(index_name_for(&"t".repeat(70), &["a".into()]).len(), 63);
        assert_eq!(truncate_bytes("ééé", 5), "éé");
    }

    /// The keyword lists agree with PostgreSQL's own scanner (pg_query's copy of it).
    #[test]
    fn keyword_lists_match_the_scanner() {
        use pg_query::protobuf::KeywordKind;
        let kind = |word: &str| {
            let tokens = pg_query::scan(word).unwrap().tokens;
            assert_eq!(tokens.len(), 1, "{word}");
            tokens[0].keyword_kind
        };
        for w in RESERVED_KEYWORDS {
            assert_eq!(kind(w), KeywordKind::ReservedKeyword as i32, "{w}");
        }
        for w in TYPE_FUNC_NAME_KEYWORDS {
            assert_eq!(kind(w), KeywordKind::TypeFuncNameKeyword as i32, "{w}");
        }
        for w in ["time", "position", "name", "users", "value", "type", "text"] {
            let k = kind(w);
            assert!(
                k != KeywordKind::ReservedKeyword as i32
                    && k != KeywordKind::TypeFuncNameKeyword as i32,
                "{w}"
            );
        }
    }
}
