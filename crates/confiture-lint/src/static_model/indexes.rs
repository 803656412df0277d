//! `CREATE INDEX`: `pg_get_indexdef` definitions and PostgreSQL's default index names.

use std::collections::BTreeSet;

use confiture_core::schema::{Column, Index};
use pg_query::protobuf::{IndexElem, IndexStmt, SortByDir, SortByNulls};
use pg_query::NodeEnum;

use super::expr::{self, Cx};
use super::names::{
    choose_name, name_addition, qualified, quote_identifier, strings, unique_column_names,
};
use super::tables::{clone_index, split_key};
use super::{dotted, Here, IndexInfo, State};

/// One printed index column.
pub(crate) struct Elem {
    pub text: String,
    /// Its name for PostgreSQL's default index name (`a`, `lower`, `expr`).
    pub name: String,
    /// A plain column key.
    pub key: Option<String>,
    pub reads: BTreeSet<String>,
}

/// Operator classes of extensions, printed qualified with the extension's schema.
const EXTENSION_OPCLASSES: [(&str, &str); 2] =
    [("gin_trgm_ops", "pg_trgm"), ("gist_trgm_ops", "pg_trgm")];

/// Operator classes that are their type's default for the access method (not printed).
const DEFAULT_OPCLASSES: [&str; 8] = [
    "jsonb_ops",
    "text_ops",
    "int4_ops",
    "int8_ops",
    "uuid_ops",
    "varchar_ops",
    "timestamptz_ops",
    "array_ops",
];

pub(crate) fn index_elem(st: &State, ie: &IndexElem, columns: &[Column]) -> Elem {
    let (mut text, name, key, reads) = match ie.expr.as_deref() {
        Some(e) if ie.name.is_empty() => (
            expr::print_index_key(e, &Cx::new(st, columns)),
            if ie.indexcolname.is_empty() {
                expr::figure_colname(e).unwrap_or_else(|| "expr".into())
            } else {
                ie.indexcolname.clone()
            },
            None,
            expr::columns_read(e),
        ),
        _ => (
            quote_identifier(&ie.name),
            if ie.indexcolname.is_empty() {
                ie.name.clone()
            } else {
                ie.indexcolname.clone()
            },
            Some(ie.name.clone()),
            BTreeSet::from([ie.name.clone()]),
        ),
    };
    let collation = strings(&ie.collation);
    if !collation.is_empty() {
        let parts: Vec<&String> = collation
            .iter()
            .skip_while(|p| collation.len() > 1 && *p == "pg_catalog")
            .collect();
        let parts: Vec<String> = parts.iter().map(|p| quote_identifier(p)).collect();
        text.push_str(&format!(" COLLATE {}", parts.join(".")));
    }
    let opclass = strings(&ie.opclass);
    if let Some(op) = opclass.last() {
        if !DEFAULT_OPCLASSES.contains(&op.as_str()) {
            let schema = if opclass.len() > 1 {
                Some(opclass[opclass.len() - 2].clone()).filter(|s| s != "pg_catalog")
            } else {
                EXTENSION_OPCLASSES
                    .iter()
                    .find(|(o, _)| o == op)
                    .map(|(_, ext)| {
                        st.model
                            .extensions
                            .get(*ext)
                            .map_or_else(|| "public".to_string(), |e| e.schema.clone())
                    })
            };
            match schema {
                Some(s) => text.push_str(&format!(" {}", qualified(&s, op))),
                None => text.push_str(&format!(" {}", quote_identifier(op))),
            }
        }
    }
    let desc = ie.ordering == SortByDir::SortbyDesc as i32;
    if desc {
        text.push_str(" DESC");
    }
    match SortByNulls::try_from(ie.nulls_ordering) {
        Ok(SortByNulls::SortbyNullsFirst) if !desc => text.push_str(" NULLS FIRST"),
        Ok(SortByNulls::SortbyNullsLast) if desc => text.push_str(" NULLS LAST"),
        _ => {}
    }
    Elem {
        text,
        name,
        key,
        reads,
    }
}

/// `pg_get_indexdef`: `CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING method body`.
pub(crate) fn index_definition(
    name: &str,
    unique: bool,
    schema: &str,
    table: &str,
    only: bool,
    method: &str,
    body: &str,
) -> String {
    format!(
        "CREATE {}INDEX {} ON {}{} USING {method} {body}",
        if unique { "UNIQUE " } else { "" },
        quote_identifier(name),
        if only { "ONLY " } else { "" },
        qualified(schema, table)
    )
}

pub(crate) fn create_index(st: &mut State, s: &IndexStmt, here: &Here) {
    let Some(rv) = &s.relation else {
        return;
    };
    let key = st.relation_key(rv);
    let (schema, tname) = split_key(&key);
    let (schema, tname) = (schema.to_string(), tname.to_string());
    let (columns, partitioned): (&[Column], bool) =
        match (st.model.tables.get(&key), st.model.views.get(&key)) {
            (Some(t), _) => (&t.columns, t.partition_by.is_some()),
            (None, Some(_)) => (&[], false),
            (None, None) => return,
        };
    let elems: Vec<Elem> = s
        .index_params
        .iter()
        .filter_map(|p| match &p.node {
            Some(NodeEnum::IndexElem(ie)) => Some(index_elem(st, ie, columns)),
            _ => None,
        })
        .collect();
    let including: Vec<String> = s
        .index_including_params
        .iter()
        .filter_map(|p| match &p.node {
            Some(NodeEnum::IndexElem(ie)) => Some(ie.name.clone()),
            _ => None,
        })
        .collect();
    let names = unique_column_names(elems.iter().map(|e| e.name.clone()).collect());
    let name = if s.idxname.is_empty() {
        choose_name(&tname, name_addition(&names).as_deref(), "idx", |n| {
            st.relnames.contains(&dotted(&schema, n))
        })
    } else {
        s.idxname.clone()
    };
    if st.relnames.contains(&dotted(&schema, &name)) {
        return;
    }
    let method = if s.access_method.is_empty() {
        "btree".to_string()
    } else {
        s.access_method.clone()
    };
    let mut body = format!(
        "({})",
        elems
            .iter()
            .map(|e| e.text.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !including.is_empty() {
        body.push_str(&format!(
            " INCLUDE ({})",
            including
                .iter()
                .map(|c| quote_identifier(c))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if s.nulls_not_distinct {
        body.push_str(" NULLS NOT DISTINCT");
    }
    let options: Vec<String> = s
        .options
        .iter()
        .filter_map(|o| match &o.node {
            Some(NodeEnum::DefElem(d)) => {
                let value = match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                    Some(NodeEnum::Integer(i)) => i.ival.to_string(),
                    Some(NodeEnum::Float(f)) => f.fval.clone(),
                    Some(NodeEnum::String(s)) => s.sval.clone(),
                    Some(NodeEnum::Boolean(b)) => b.boolval.to_string(),
                    _ => "true".into(),
                };
                Some(format!("{}='{value}'", d.defname))
            }
            _ => None,
        })
        .collect();
    if !options.is_empty() {
        body.push_str(&format!(" WITH ({})", options.join(", ")));
    }
    let mut reads: BTreeSet<String> = elems.iter().flat_map(|e| e.reads.clone()).collect();
    reads.extend(including.iter().cloned());
    if let Some(w) = s.where_clause.as_deref() {
        body.push_str(&format!(" WHERE {}", expr::print(w, &Cx::new(st, columns))));
        reads.extend(expr::columns_read(w));
    }
    let definition = index_definition(
        &name,
        s.unique,
        &schema,
        &tname,
        partitioned,
        &method,
        &body,
    );
    let index = Index {
        name: name.clone(),
        definition,
        method,
        unique: s.unique,
        valid: true,
        comment: None,
        inherited: false,
    };
    let info = IndexInfo {
        names,
        keys: elems.iter().filter_map(|e| e.key.clone()).collect(),
        reads,
        body,
    };
    if let Some(t) = st.model.tables.get_mut(&key) {
        t.indexes.insert(name.clone(), index.clone());
    } else if let Some(v) = st.model.views.get_mut(&key) {
        v.indexes.insert(name.clone(), index.clone());
    }
    st.relnames.insert(dotted(&schema, &name));
    st.index_owner.insert(dotted(&schema, &name), key.clone());
    st.index_info.insert(dotted(&key, &name), info);
    let loc = here.loc();
    st.locate_in("index", &key, &name, loc.clone());
    // A partitioned table's index is created on each partition too.
    if partitioned {
        propagate(st, &key, &index, loc);
    }
}

fn propagate(st: &mut State, key: &str, index: &Index, loc: crate::inputs::Loc) {
    let children = st.children.get(key).cloned().unwrap_or_default();
    for child in children {
        let is_partition = st
            .model
            .tables
            .get(&child)
            .is_some_and(|t| t.partition_of.is_some());
        if !is_partition {
            continue;
        }
        let before: BTreeSet<String> = st
            .model
            .tables
            .get(&child)
            .map(|t| t.indexes.keys().cloned().collect())
            .unwrap_or_default();
        clone_index(st, &child, key, index, true, loc.clone());
        let added = st.model.tables.get(&child).and_then(|t| {
            t.indexes
                .values()
                .find(|i| !before.contains(&i.name))
                .cloned()
        });
        if let Some(added) = added {
            propagate(st, &child, &added, loc.clone());
        }
    }
}

/// Drop index `name` of table or materialized view `key`.
pub(crate) fn drop_index(st: &mut State, key: &str, name: &str) {
    let (schema, _) = split_key(key);
    let schema = schema.to_string();
    if let Some(t) = st.model.tables.get_mut(key) {
        t.indexes.remove(name);
    } else if let Some(v) = st.model.views.get_mut(key) {
        v.indexes.remove(name);
    }
    st.relnames.remove(&dotted(&schema, name));
    st.index_owner.remove(&dotted(&schema, name));
    st.index_info.remove(&dotted(key, name));
    st.forget_location("index", &dotted(key, name));
}
