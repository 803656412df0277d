//! Naming rules: snake_case, identifier length, names that need quotes, index, constraint and
//! type naming conventions.

pub mod constraint_naming;
pub mod identifier_too_long;
pub mod index_naming;
pub mod names_need_quoting;
pub mod snake_case_names;
pub mod type_naming;

use crate::inputs::{Loc, SchemaInput};
use crate::rule::Rule;
use crate::rules::util::{table_key, tables};

pub const RULES: &[&Rule] = &[
    &constraint_naming::RULE,
    &identifier_too_long::RULE,
    &index_naming::RULE,
    &names_need_quoting::RULE,
    &snake_case_names::RULE,
    &type_naming::RULE,
];

/// What kind of object a name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Schema,
    Table,
    Column,
    View,
    Function,
    Type,
    Sequence,
    Index,
    Constraint,
    Trigger,
    Policy,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Table => "table",
            Kind::Column => "column",
            Kind::View => "view",
            Kind::Function => "function",
            Kind::Type => "type",
            Kind::Sequence => "sequence",
            Kind::Index => "index",
            Kind::Constraint => "constraint",
            Kind::Trigger => "trigger",
            Kind::Policy => "policy",
        }
    }
}

/// One named object of the model.
pub(crate) struct Named<'a> {
    pub kind: Kind,
    /// The object's own name (unqualified).
    pub name: &'a str,
    /// `schema`, `schema.table`, `schema.table.column`, `schema.f(args)`, `schema.table.index`.
    pub object: String,
    /// Where it is written (or its table or view), when the model was built statically.
    pub loc: Option<&'a Loc>,
}

/// Every named object of the model the naming rules look at: schemas, tables (not
/// partitions) with their local columns, constraints, indexes, triggers and policies, views
/// (and materialized views' indexes), functions, types, and sequences not owned by a column.
pub(crate) fn named<'a>(s: &'a SchemaInput) -> Vec<Named<'a>> {
    let loc = |kind: &str, key: &str| s.locations.get(kind, key);
    let mut out = Vec::new();
    for n in s.model.schemas.values() {
        out.push(Named {
            kind: Kind::Schema,
            name: &n.name,
            object: n.name.clone(),
            loc: loc("schema", &n.name),
        });
    }
    for t in tables(s) {
        let key = table_key(t);
        let at_table = loc("table", &key);
        out.push(Named {
            kind: Kind::Table,
            name: &t.name,
            object: key.clone(),
            loc: at_table,
        });
        for c in t.columns.iter().filter(|c| !c.inherited) {
            let object = format!("{key}.{}", c.name);
            out.push(Named {
                kind: Kind::Column,
                name: &c.name,
                loc: loc("column", &object).or(at_table),
                object,
            });
        }
        for c in t.constraints.values().filter(|c| !c.inherited) {
            let object = format!("{key}.{}", c.name);
            out.push(Named {
                kind: Kind::Constraint,
                name: &c.name,
                loc: loc("constraint", &object).or(at_table),
                object,
            });
        }
        for i in t.indexes.values().filter(|i| !i.inherited) {
            let object = format!("{key}.{}", i.name);
            out.push(Named {
                kind: Kind::Index,
                name: &i.name,
                loc: loc("index", &object).or(at_table),
                object,
            });
        }
        for g in t.triggers.values().filter(|g| !g.inherited) {
            out.push(Named {
                kind: Kind::Trigger,
                name: &g.name,
                object: format!("{key}.{}", g.name),
                loc: at_table,
            });
        }
        for p in t.policies.values() {
            out.push(Named {
                kind: Kind::Policy,
                name: &p.name,
                object: format!("{key}.{}", p.name),
                loc: at_table,
            });
        }
    }
    for v in s.model.views.values() {
        let key = format!("{}.{}", v.schema, v.name);
        let at_view = loc("view", &key);
        out.push(Named {
            kind: Kind::View,
            name: &v.name,
            object: key.clone(),
            loc: at_view,
        });
        for i in v.indexes.values() {
            let object = format!("{key}.{}", i.name);
            out.push(Named {
                kind: Kind::Index,
                name: &i.name,
                loc: loc("index", &object).or(at_view),
                object,
            });
        }
    }
    for (key, f) in &s.model.functions {
        out.push(Named {
            kind: Kind::Function,
            name: &f.name,
            object: key.clone(),
            loc: loc("function", key),
        });
    }
    for (key, t) in &s.model.types {
        out.push(Named {
            kind: Kind::Type,
            name: &t.name,
            object: key.clone(),
            loc: loc("type", key),
        });
    }
    for (key, q) in &s.model.sequences {
        if q.owned_by.is_none() {
            out.push(Named {
                kind: Kind::Sequence,
                name: &q.name,
                object: key.clone(),
                loc: loc("sequence", key),
            });
        }
    }
    out
}
