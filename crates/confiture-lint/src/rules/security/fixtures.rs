//! Test fixtures shared by the security, convention and compliance rule tests: small schema
//! models built in code, and running one schema rule over them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use confiture_core::config::linting::LintingConfig;
use confiture_core::schema::{Column, Function, Grant, Schema, Table};

use crate::finding::Finding;
use crate::inputs::{Loc, Locations, SchemaInput};
use crate::rule::{Check, Context, Rule};

/// A permanent table `schema.name` owned by `app` with `columns` (name, type).
pub fn table(key: &str, columns: &[(&str, &str)]) -> Table {
    let (schema, name) = key.split_once('.').unwrap();
    Table {
        schema: schema.into(),
        name: name.into(),
        persistence: "permanent".into(),
        columns: columns
            .iter()
            .map(|(n, t)| Column {
                name: n.to_string(),
                data_type: t.to_string(),
                ..Column::default()
            })
            .collect(),
        owner: "app".into(),
        ..Table::default()
    }
}

/// A function `schema.name(arguments)` with PostgreSQL's default grant (EXECUTE to PUBLIC).
pub fn function(schema: &str, name: &str, arguments: &str) -> Function {
    Function {
        schema: schema.into(),
        name: name.into(),
        kind: "function".into(),
        arguments: arguments.into(),
        language: "sql".into(),
        volatility: "volatile".into(),
        owner: "app".into(),
        grants: vec![grant("PUBLIC", &["EXECUTE"])],
        ..Function::default()
    }
}

pub fn grant(grantee: &str, privileges: &[&str]) -> Grant {
    Grant {
        grantee: grantee.into(),
        privileges: privileges.iter().map(|p| p.to_string()).collect(),
    }
}

/// A model holding `tables`.
pub fn schema(tables: Vec<Table>) -> Schema {
    let mut s = Schema::default();
    for t in tables {
        s.tables.insert(format!("{}.{}", t.schema, t.name), t);
    }
    s
}

/// `Locations` placing each table `(key, file)` at line 1 of its file.
pub fn locations(files: &[(&str, &str)]) -> Locations {
    let mut l = Locations::default();
    for (key, file) in files {
        l.insert(
            "table",
            key,
            Loc {
                file: PathBuf::from(file),
                line: 1,
                column: 1,
            },
        );
    }
    l
}

/// Run `rule`'s schema check.
pub fn run_with(
    rule: &Rule,
    model: &Schema,
    locations: &Locations,
    config: &LintingConfig,
    environment: &str,
    anonymized: Option<&BTreeSet<String>>,
) -> Vec<Finding> {
    let input = SchemaInput {
        model,
        locations,
        live: true,
    };
    let ctx = Context {
        config,
        environment,
        stats: None,
        anonymized,
    };
    let mut out = Vec::new();
    match rule.check {
        Check::Schema(check) => check(&input, &ctx, &mut out),
        Check::Migration(_) => panic!("{} is not a schema rule", rule.id),
    }
    out
}

/// Run `rule` with the default configuration in `local`.
pub fn run(rule: &Rule, model: &Schema) -> Vec<Finding> {
    run_with(
        rule,
        model,
        &Locations::default(),
        &LintingConfig::default(),
        "local",
        None,
    )
}
