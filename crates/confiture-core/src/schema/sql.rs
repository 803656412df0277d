//! DDL for model objects. Names are quoted through `crate::ident`; expressions and definitions
//! are PostgreSQL's own text from the catalog.

use super::model::*;
use crate::ident::{quote_ident, quote_literal};

pub fn q(name: &str) -> String {
    quote_ident(name)
}

pub fn qn(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

pub fn literal(text: &str) -> String {
    quote_literal(text)
}

/// `schema.table.column` (raw) → `"schema"."table"."column"`.
pub fn qualified_column(raw: &str) -> String {
    raw.splitn(3, '.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

/// `schema.name` (raw, as model keys are) → quoted.
pub fn qualified(raw: &str) -> String {
    let (s, n) = split_qualified(raw);
    qn(s, n)
}

pub fn create_type(t: &TypeDef) -> Vec<String> {
    let name = qn(&t.schema, &t.name);
    match &t.kind {
        TypeKind::Enum { labels } => vec![format!(
            "CREATE TYPE {name} AS ENUM ({})",
            labels
                .iter()
                .map(|l| literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        )],
        TypeKind::Composite { attributes } => vec![format!(
            "CREATE TYPE {name} AS ({})",
            attributes
                .iter()
                .map(|(a, ty)| format!("{} {ty}", q(a)))
                .collect::<Vec<_>>()
                .join(", ")
        )],
        TypeKind::Domain {
            base,
            default,
            not_null,
            collation,
            checks,
        } => {
            let mut s = format!("CREATE DOMAIN {name} AS {base}");
            if let Some(c) = collation {
                s.push_str(&format!(" COLLATE {}", qualified(c)));
            }
            if let Some(d) = default {
                s.push_str(&format!(" DEFAULT {d}"));
            }
            if *not_null {
                s.push_str(" NOT NULL");
            }
            for (cname, check) in checks {
                s.push_str(&format!(" CONSTRAINT {} {check}", q(cname)));
            }
            vec![s]
        }
    }
}

pub fn create_sequence(s: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} AS {} {}",
        qn(&s.schema, &s.name),
        s.data_type,
        sequence_options(s)
    )
}

/// `INCREMENT BY … MINVALUE … MAXVALUE … START WITH … CACHE … [CYCLE]`.
pub fn sequence_options(s: &Sequence) -> String {
    format!(
        "INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{}",
        s.increment,
        s.min,
        s.max,
        s.start,
        s.cache,
        if s.cycle { " CYCLE" } else { " NO CYCLE" }
    )
}

/// The identity sequence of `table.column` (raw key `schema.table`) in `schema`.
pub fn identity_sequence<'s>(
    schema: &'s Schema,
    table: &str,
    column: &str,
) -> Option<&'s Sequence> {
    let owner = format!("{table}.{column}");
    schema
        .sequences
        .values()
        .find(|s| s.identity && s.owned_by.as_deref() == Some(owner.as_str()))
}

/// A column as in `CREATE TABLE` / `ADD COLUMN`; `identity` is its identity sequence, whose
/// options are kept.
pub fn column_def(c: &Column, identity: Option<&Sequence>) -> String {
    let mut s = format!("{} {}", q(&c.name), c.data_type);
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {}", qualified(coll)));
    }
    if let Some(expr) = &c.generated {
        s.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    } else if let Some(kind) = &c.identity {
        s.push_str(&format!(" GENERATED {} AS IDENTITY", kind.to_uppercase()));
        if let Some(seq) = identity {
            s.push_str(&format!(" ({})", sequence_options(seq)));
        }
    } else if let Some(d) = &c.default {
        s.push_str(&format!(" DEFAULT {d}"));
    }
    if c.not_null {
        s.push_str(" NOT NULL");
    }
    s
}

/// `CREATE TABLE` with its own columns; constraints, indexes and the rest are separate changes.
pub fn create_table(t: &Table, schema: &Schema) -> String {
    let key = format!("{}.{}", t.schema, t.name);
    let name = qn(&t.schema, &t.name);
    let unlogged = if t.persistence == "unlogged" {
        "UNLOGGED "
    } else {
        ""
    };
    let own: Vec<String> = t
        .columns
        .iter()
        .filter(|c| !c.inherited)
        .map(|c| column_def(c, identity_sequence(schema, &key, &c.name)))
        .collect();
    let mut s = if let Some(p) = &t.partition_of {
        let mut s = format!(
            "CREATE {unlogged}TABLE {name} PARTITION OF {}",
            qualified(&p.parent)
        );
        // Partitions declare no columns; NOT NULL and defaults of their own come after.
        s.push_str(&format!(" {}", p.bound));
        s
    } else {
        let mut s = format!(
            "CREATE {unlogged}TABLE {name} (\n    {}\n)",
            own.join(",\n    ")
        );
        if !t.inherits.is_empty() {
            s.push_str(&format!(
                " INHERITS ({})",
                t.inherits
                    .iter()
                    .map(|p| qualified(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        s
    };
    if let Some(key) = &t.partition_by {
        s.push_str(&format!(" PARTITION BY {key}"));
    }
    s
}

pub fn trigger_enable(table: &str, name: &str, enabled: &str) -> String {
    let what = match enabled {
        "D" => "DISABLE TRIGGER",
        "R" => "ENABLE REPLICA TRIGGER",
        "A" => "ENABLE ALWAYS TRIGGER",
        _ => "ENABLE TRIGGER",
    };
    format!("ALTER TABLE {table} {what} {}", q(name))
}

pub fn create_policy(table: &str, p: &Policy) -> String {
    let mut s = format!(
        "CREATE POLICY {} ON {table} AS {} FOR {} TO {}",
        q(&p.name),
        if p.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        p.command,
        p.roles
            .iter()
            .map(|r| if r == "PUBLIC" { r.clone() } else { q(r) })
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(u) = &p.using {
        s.push_str(&format!(" USING ({u})"));
    }
    if let Some(c) = &p.with_check {
        s.push_str(&format!(" WITH CHECK ({c})"));
    }
    s
}

pub fn create_view(v: &View) -> String {
    let columns = v
        .columns
        .iter()
        .map(|c| q(c))
        .collect::<Vec<_>>()
        .join(", ");
    let body = v.definition.trim().trim_end_matches(';');
    if v.materialized {
        format!(
            "CREATE MATERIALIZED VIEW {} ({columns}) AS\n{body}",
            qn(&v.schema, &v.name)
        )
    } else {
        format!(
            "CREATE VIEW {} ({columns}) AS\n{body}",
            qn(&v.schema, &v.name)
        )
    }
}
