//! `CREATE TABLE` and `ALTER TABLE`: columns, constraints (with PostgreSQL's default names and
//! `pg_get_constraintdef` definitions), serial and identity sequences, partitions and
//! inheritance.

use std::collections::BTreeSet;

use confiture_core::schema::{Column, Constraint, PartitionOf, Table};
use pg_query::protobuf::{
    a_const, AlterTableCmd, AlterTableStmt, AlterTableType, ColumnDef, ConstrType,
    Constraint as PgConstraint, CreateStmt, Node, ObjectType, PartitionBoundSpec, PartitionSpec,
    PartitionStrategy, RoleSpec, RoleSpecType, TableLikeClause,
};
use pg_query::NodeEnum;

use super::expr::{self, Cx};
use super::indexes::{index_definition, index_elem};
use super::names::{
    choose_name, list_items, literal, name_addition, qualified, quote_identifier, str_of, strings,
};
use super::types::{
    apply_sequence_options, collation_name, format_type, new_sequence, serial_type,
};
use super::{dotted, Here, IndexInfo, State};
use crate::inputs::Loc;

/// `schema.table` → (`schema`, `table`).
pub(crate) fn split_key(key: &str) -> (&str, &str) {
    key.split_once('.').unwrap_or(("public", key))
}

/// A role as the catalog names it (`PUBLIC` for the public pseudo-role).
pub(crate) fn role_name(r: &RoleSpec) -> String {
    match RoleSpecType::try_from(r.roletype) {
        Ok(RoleSpecType::RolespecPublic) => "PUBLIC".into(),
        Ok(RoleSpecType::RolespecCurrentUser | RoleSpecType::RolespecCurrentRole) => {
            "current_user".into()
        }
        Ok(RoleSpecType::RolespecSessionUser) => "session_user".into(),
        _ => r.rolename.clone(),
    }
}

/// A constraint's timing and enforcement: on the node, or in the attribute clauses that follow
/// a column constraint (`REFERENCES t DEFERRABLE INITIALLY DEFERRED`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attrs {
    deferrable: bool,
    initdeferred: bool,
    enforced: bool,
}

impl Attrs {
    pub fn of(c: &PgConstraint) -> Self {
        Attrs {
            deferrable: c.deferrable,
            initdeferred: c.initdeferred,
            enforced: c.is_enforced,
        }
    }
}

/// A constraint waiting for its table: the node, the column it was written on, its place.
struct Pending<'a> {
    c: &'a PgConstraint,
    attrs: Attrs,
    column: Option<&'a str>,
    loc: Loc,
}

/// What a column definition leaves to do once every column is known.
#[derive(Default)]
struct Deferred<'a> {
    constraints: Vec<Pending<'a>>,
    generated: Vec<(&'a str, &'a Node)>,
}

pub(crate) fn create_table(st: &mut State, s: &CreateStmt, here: &Here) {
    let Some(rv) = &s.relation else {
        return;
    };
    if rv.relpersistence == "t" {
        return;
    }
    let (schema, name) = st.new_relation_key(rv);
    let key = dotted(&schema, &name);
    if st.model.tables.contains_key(&key) || st.relnames.contains(&key) {
        return;
    }
    let parents: Vec<String> = s
        .inh_relations
        .iter()
        .filter_map(|n| match &n.node {
            Some(NodeEnum::RangeVar(p)) => Some(st.relation_key(p)),
            _ => None,
        })
        .collect();
    let partition_of = match (&s.partbound, parents.first()) {
        (Some(b), Some(p)) => Some(PartitionOf {
            parent: p.clone(),
            bound: partition_bound(st, b),
        }),
        _ => None,
    };
    let is_partition = partition_of.is_some();
    let mut table = Table {
        schema: schema.clone(),
        name: name.clone(),
        persistence: if rv.relpersistence == "u" {
            "unlogged".into()
        } else {
            "permanent".into()
        },
        inherits: if is_partition {
            Vec::new()
        } else {
            parents.clone()
        },
        partition_of,
        grants: st.initial_grants('r', &schema),
        ..Table::default()
    };
    for parent in &parents {
        if let Some(p) = st.model.tables.get(parent) {
            for c in &p.columns {
                if table.columns.iter().all(|x| x.name != c.name) {
                    table.columns.push(Column {
                        inherited: true,
                        comment: None,
                        ..c.clone()
                    });
                }
            }
        }
    }
    let mut deferred = Deferred::default();
    let mut likes: Vec<&TableLikeClause> = Vec::new();
    for elt in &s.table_elts {
        match &elt.node {
            Some(NodeEnum::ColumnDef(cd)) => {
                apply_column_def(st, &mut table, cd, here, &mut deferred, is_partition);
            }
            Some(NodeEnum::Constraint(c)) => deferred.constraints.push(Pending {
                c,
                attrs: Attrs::of(c),
                column: None,
                loc: here.at(c.location),
            }),
            Some(NodeEnum::TableLikeClause(l)) => {
                copy_like_columns(st, &mut table, l, here);
                likes.push(l);
            }
            _ => {}
        }
    }
    for c in &s.constraints {
        if let Some(NodeEnum::Constraint(c)) = &c.node {
            deferred.constraints.push(Pending {
                c,
                attrs: Attrs::of(c),
                column: None,
                loc: here.at(c.location),
            });
        }
    }
    if let Some(spec) = &s.partspec {
        table.partition_by = Some(partition_key(st, spec, &table.columns));
    }
    st.relnames.insert(key.clone());
    st.locate("table", &key, here.loc());
    st.model.tables.insert(key.clone(), table);
    for parent in &parents {
        st.children
            .entry(parent.clone())
            .or_default()
            .push(key.clone());
    }
    for l in likes {
        copy_like_constraints(st, &key, l, here);
    }
    finish_columns(st, &key, deferred, true);
    for parent in &parents {
        clone_from_parent(st, &key, parent, is_partition);
    }
}

/// Add the constraints and generated expressions a table's column definitions left.
fn finish_columns(st: &mut State, key: &str, deferred: Deferred<'_>, in_create: bool) {
    // Primary keys and unique constraints first: a foreign key to the table itself needs them.
    let (fks, others): (Vec<Pending>, Vec<Pending>) = deferred
        .constraints
        .into_iter()
        .partition(|p| p.c.contype == ConstrType::ConstrForeign as i32);
    for p in others.into_iter().chain(fks) {
        add_constraint(st, key, p.c, p.attrs, p.column, in_create, p.loc, true);
    }
    if deferred.generated.is_empty() {
        return;
    }
    let columns: &[Column] = st.model.tables.get(key).map_or(&[], |t| &t.columns);
    let printed: Vec<(String, String)> = deferred
        .generated
        .iter()
        .map(|(col, e)| (col.to_string(), expr::print(e, &Cx::new(st, columns))))
        .collect();
    if let Some(t) = st.model.tables.get_mut(key) {
        for (col, text) in printed {
            if let Some(c) = t.columns.iter_mut().find(|c| c.name == col) {
                c.generated = Some(text);
                c.default = None;
            }
        }
    }
}

/// Apply a column definition to `table` (a new column, or options on an inherited one).
fn apply_column_def<'a>(
    st: &mut State,
    table: &mut Table,
    cd: &'a ColumnDef,
    here: &Here,
    deferred: &mut Deferred<'a>,
    is_partition: bool,
) {
    let key = format!("{}.{}", table.schema, table.name);
    let loc = here.at(cd.location);
    let index = match table.columns.iter().position(|c| c.name == cd.colname) {
        Some(i) => {
            if !is_partition {
                table.columns[i].inherited = false;
            }
            i
        }
        None => {
            table.columns.push(Column {
                name: cd.colname.clone(),
                ..Column::default()
            });
            st.locate_in("column", &key, &cd.colname, loc.clone());
            table.columns.len() - 1
        }
    };
    let mut serial = None;
    if let Some(tn) = &cd.type_name {
        let data_type = match serial_type(tn) {
            Some(int) => {
                serial = Some(int);
                int.to_string()
            }
            None => format_type(st, tn, true),
        };
        table.columns[index].data_type = data_type;
    }
    if let Some(coll) = &cd.coll_clause {
        let name = collation_name(&strings(&coll.collname));
        table.columns[index].collation = Some(name).filter(|c| c != "pg_catalog.default");
    }
    if cd.is_not_null {
        table.columns[index].not_null = true;
    }
    let data_type = table.columns[index].data_type.clone();
    if let Some(d) = cd.raw_default.as_deref() {
        table.columns[index].default = expr::print_default(d, &data_type, &Cx::new(st, &[]));
    }
    for c in &cd.constraints {
        let Some(NodeEnum::Constraint(c)) = &c.node else {
            continue;
        };
        match ConstrType::try_from(c.contype) {
            Ok(ConstrType::ConstrNotnull) => table.columns[index].not_null = true,
            Ok(ConstrType::ConstrNull) => table.columns[index].not_null = false,
            Ok(ConstrType::ConstrDefault) => {
                if let Some(d) = c.raw_expr.as_deref() {
                    table.columns[index].default =
                        expr::print_default(d, &data_type, &Cx::new(st, &[]));
                }
            }
            Ok(ConstrType::ConstrIdentity) => {
                let col = &mut table.columns[index];
                col.identity = Some(identity_kind(&c.generated_when));
                col.not_null = true;
                col.default = None;
                make_owned_sequence(
                    st,
                    &table.schema,
                    &table.name,
                    &cd.colname,
                    &data_type,
                    true,
                    &c.options,
                    &loc,
                );
            }
            Ok(ConstrType::ConstrGenerated) => {
                if let Some(e) = c.raw_expr.as_deref() {
                    deferred.generated.push((&cd.colname, e));
                }
            }
            Ok(
                ConstrType::ConstrCheck
                | ConstrType::ConstrPrimary
                | ConstrType::ConstrUnique
                | ConstrType::ConstrForeign
                | ConstrType::ConstrExclusion,
            ) => deferred.constraints.push(Pending {
                c,
                attrs: Attrs::of(c),
                column: Some(&cd.colname),
                loc: loc.clone(),
            }),
            Ok(ConstrType::ConstrAttrDeferrable) => {
                if let Some(p) = deferred.constraints.last_mut() {
                    p.attrs.deferrable = true;
                }
            }
            Ok(ConstrType::ConstrAttrNotDeferrable) => {
                if let Some(p) = deferred.constraints.last_mut() {
                    p.attrs.deferrable = false;
                }
            }
            Ok(ConstrType::ConstrAttrDeferred) => {
                if let Some(p) = deferred.constraints.last_mut() {
                    p.attrs.initdeferred = true;
                    p.attrs.deferrable = true;
                }
            }
            Ok(ConstrType::ConstrAttrImmediate) => {
                if let Some(p) = deferred.constraints.last_mut() {
                    p.attrs.initdeferred = false;
                }
            }
            Ok(ConstrType::ConstrAttrNotEnforced) => {
                if let Some(p) = deferred.constraints.last_mut() {
                    p.attrs.enforced = false;
                }
            }
            _ => {}
        }
    }
    if let Some(int) = serial {
        let seq = make_owned_sequence(
            st,
            &table.schema,
            &table.name,
            &cd.colname,
            int,
            false,
            &[],
            &loc,
        );
        let col = &mut table.columns[index];
        col.not_null = true;
        col.default = Some(format!(
            "nextval({}::regclass)",
            literal(&qualified(&table.schema, &seq))
        ));
    }
}

fn identity_kind(generated_when: &str) -> String {
    if generated_when == "d" {
        "by default".into()
    } else {
        "always".into()
    }
}

/// The sequence of a serial or identity column: `table_column_seq`, owned by the column.
#[allow(clippy::too_many_arguments)]
fn make_owned_sequence(
    st: &mut State,
    schema: &str,
    table: &str,
    column: &str,
    data_type: &str,
    identity: bool,
    options: &[Node],
    loc: &Loc,
) -> String {
    // An identity's options may name the sequence.
    let named = options.iter().find_map(|o| match &o.node {
        Some(NodeEnum::DefElem(d)) if d.defname == "sequence_name" => d
            .arg
            .as_deref()
            .map(|a| strings(list_items(a)))
            .and_then(|parts| parts.last().cloned()),
        _ => None,
    });
    let name = named.unwrap_or_else(|| {
        choose_name(table, Some(column), "seq", |n| {
            st.relnames.contains(&dotted(schema, n))
        })
    });
    let key = dotted(schema, &name);
    let mut seq = new_sequence(schema, &name, data_type);
    apply_sequence_options(st, &mut seq, options, true);
    seq.owned_by = Some(format!("{schema}.{table}.{column}"));
    seq.identity = identity;
    seq.grants = st.initial_grants('S', schema);
    st.relnames.insert(key.clone());
    st.locate("sequence", &key, loc.clone());
    st.model.sequences.insert(key, seq);
    name
}

/// `CREATE TABLE … (LIKE source INCLUDING …)`: the source's columns.
fn copy_like_columns(st: &mut State, table: &mut Table, l: &TableLikeClause, here: &Here) {
    const COMMENTS: u32 = 1 << 0;
    const DEFAULTS: u32 = 1 << 3;
    const GENERATED: u32 = 1 << 4;
    const IDENTITY: u32 = 1 << 5;
    let Some(rv) = &l.relation else {
        return;
    };
    let source = st.relation_key(rv);
    let Some(src) = st.model.tables.get(&source).map(|t| t.columns.clone()) else {
        return;
    };
    let key = format!("{}.{}", table.schema, table.name);
    for c in &src {
        if table.columns.iter().any(|x| x.name == c.name) {
            continue;
        }
        let mut col = Column {
            name: c.name.clone(),
            data_type: c.data_type.clone(),
            not_null: c.not_null,
            collation: c.collation.clone(),
            ..Column::default()
        };
        if l.options & DEFAULTS != 0 && c.identity.is_none() {
            col.default = c.default.clone();
        }
        if l.options & GENERATED != 0 {
            col.generated = c.generated.clone();
        }
        if l.options & IDENTITY != 0 {
            col.identity = c.identity.clone();
        }
        if l.options & COMMENTS != 0 {
            col.comment = c.comment.clone();
        }
        st.locate_in("column", &key, &c.name, here.loc());
        table.columns.push(col);
    }
}

/// `LIKE … INCLUDING CONSTRAINTS / INDEXES`: check constraints (same names), primary keys,
/// unique constraints and indexes (new names).
fn copy_like_constraints(st: &mut State, key: &str, l: &TableLikeClause, here: &Here) {
    const CONSTRAINTS: u32 = 1 << 2;
    const INDEXES: u32 = 1 << 6;
    let Some(rv) = &l.relation else {
        return;
    };
    let source = st.relation_key(rv);
    let Some(src) = st.model.tables.get(&source).cloned() else {
        return;
    };
    for c in src.constraints.values() {
        let wanted = match c.kind.as_str() {
            "check" => l.options & CONSTRAINTS != 0,
            "primary_key" | "unique" | "exclusion" => l.options & INDEXES != 0,
            _ => false,
        };
        if wanted {
            clone_constraint(st, key, &source, c, false, here.loc());
        }
    }
    if l.options & INDEXES != 0 {
        for i in src.indexes.values() {
            clone_index(st, key, &source, i, false, here.loc());
        }
    }
}

/// A parent's constraints and indexes on a new partition or inheritance child.
fn clone_from_parent(st: &mut State, child: &str, parent: &str, partition: bool) {
    let Some(p) = st.model.tables.get(parent).cloned() else {
        return;
    };
    let loc = st.locs.get("table", child).cloned().unwrap_or_else(|| Loc {
        file: Default::default(),
        line: 0,
        column: 0,
    });
    for c in p.constraints.values() {
        let wanted = match c.kind.as_str() {
            "check" => !c.definition.contains(" NO INHERIT"),
            _ => partition,
        };
        if wanted {
            clone_constraint(st, child, parent, c, true, loc.clone());
        }
    }
    if partition {
        for i in p.indexes.values() {
            clone_index(st, child, parent, i, true, loc.clone());
        }
    }
}

/// A constraint of `source` created on `target` (a partition, a child, a `LIKE` copy): the
/// same name, but a new one for those backed by an index.
fn clone_constraint(
    st: &mut State,
    target: &str,
    source: &str,
    c: &Constraint,
    inherited: bool,
    loc: Loc,
) {
    let (schema, tname) = split_key(target);
    let (schema, tname) = (schema.to_string(), tname.to_string());
    let info = st
        .index_info
        .get(&dotted(source, &c.name))
        .cloned()
        .unwrap_or_default();
    let name = match c.kind.as_str() {
        "primary_key" | "unique" | "exclusion" => {
            let (addition, label) = match c.kind.as_str() {
                "primary_key" => (None, "pkey"),
                "unique" => (name_addition(&info.names), "key"),
                _ => (name_addition(&info.names), "excl"),
            };
            let n = choose_name(&tname, addition.as_deref(), label, |n| {
                st.relnames.contains(&dotted(&schema, n))
            });
            st.relnames.insert(dotted(&schema, &n));
            n
        }
        _ => c.name.clone(),
    };
    let Some(t) = st.model.tables.get_mut(target) else {
        return;
    };
    if t.constraints.contains_key(&name) {
        return;
    }
    if c.kind == "primary_key" {
        for col in t.columns.iter_mut() {
            if info.keys.contains(&col.name) {
                col.not_null = true;
            }
        }
    }
    t.constraints.insert(
        name.clone(),
        Constraint {
            name: name.clone(),
            comment: None,
            inherited,
            ..c.clone()
        },
    );
    st.connames.insert(dotted(&schema, &name));
    st.index_info.insert(dotted(target, &name), info);
    st.locate_in("constraint", target, &name, loc);
}

/// An index of `source` created on `target` with the name PostgreSQL chooses.
pub(crate) fn clone_index(
    st: &mut State,
    target: &str,
    source: &str,
    i: &confiture_core::schema::Index,
    inherited: bool,
    loc: Loc,
) {
    let (schema, tname) = split_key(target);
    let (schema, tname) = (schema.to_string(), tname.to_string());
    let Some(info) = st.index_info.get(&dotted(source, &i.name)).cloned() else {
        return;
    };
    let name = choose_name(&tname, name_addition(&info.names).as_deref(), "idx", |n| {
        st.relnames.contains(&dotted(&schema, n))
    });
    let Some(t) = st.model.tables.get_mut(target) else {
        return;
    };
    let only = t.partition_by.is_some();
    let definition = index_definition(
        &name, i.unique, &schema, &tname, only, &i.method, &info.body,
    );
    t.indexes.insert(
        name.clone(),
        confiture_core::schema::Index {
            name: name.clone(),
            definition,
            method: i.method.clone(),
            unique: i.unique,
            valid: true,
            comment: None,
            inherited,
        },
    );
    st.relnames.insert(dotted(&schema, &name));
    st.index_owner
        .insert(dotted(&schema, &name), target.to_string());
    st.index_info.insert(dotted(target, &name), info);
    st.locate_in("index", target, &name, loc);
}

fn deferral(c: Attrs) -> String {
    let mut out = String::new();
    if c.deferrable || c.initdeferred {
        out.push_str(" DEFERRABLE");
    }
    if c.initdeferred {
        out.push_str(" INITIALLY DEFERRED");
    }
    out
}

fn quoted_list(cols: &[String]) -> String {
    let mut out = String::with_capacity(cols.iter().map(|c| c.len() + 2).sum());
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&quote_identifier(c));
    }
    out
}

fn fk_action(code: &str) -> Option<&'static str> {
    match code {
        "r" => Some("RESTRICT"),
        "c" => Some("CASCADE"),
        "n" => Some("SET NULL"),
        "d" => Some("SET DEFAULT"),
        _ => None,
    }
}

/// Add a table constraint (named as PostgreSQL names it when unnamed); `in_create`: written
/// in `CREATE TABLE` (always validated there). `recurse`: also on partitions and children.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_constraint(
    st: &mut State,
    key: &str,
    c: &PgConstraint,
    attrs: Attrs,
    column: Option<&str>,
    in_create: bool,
    loc: Loc,
    recurse: bool,
) {
    let Some(t) = st.model.tables.get(key) else {
        return;
    };
    let (schema, tname) = (t.schema.clone(), t.name.clone());
    let validated = in_create || !c.skip_validation;
    let not_valid = if validated { "" } else { " NOT VALID" };
    let taken_rel = |st: &State, n: &str| st.relnames.contains(&dotted(&schema, n));
    let taken_con = |st: &State, n: &str| {
        st.connames.contains(&dotted(&schema, n))
            || st
                .model
                .tables
                .get(key)
                .is_some_and(|t| t.constraints.contains_key(n))
    };
    let kind = ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined);
    let (name, constraint, info) = match kind {
        ConstrType::ConstrPrimary | ConstrType::ConstrUnique => {
            let primary = kind == ConstrType::ConstrPrimary;
            let (keys, including) = if c.indexname.is_empty() {
                let keys = if c.keys.is_empty() {
                    column.map(|c| vec![c.to_string()]).unwrap_or_default()
                } else {
                    strings(&c.keys)
                };
                (keys, strings(&c.including))
            } else {
                // USING INDEX: the index becomes the constraint's.
                let index_key = dotted(key, &c.indexname);
                let info = st.index_info.remove(&index_key).unwrap_or_default();
                if let Some(t) = st.model.tables.get_mut(key) {
                    t.indexes.remove(&c.indexname);
                }
                st.relnames.remove(&dotted(&schema, &c.indexname));
                st.forget_location("index", &index_key);
                (info.keys, Vec::new())
            };
            let name = if !c.conname.is_empty() {
                c.conname.clone()
            } else if !c.indexname.is_empty() {
                c.indexname.clone()
            } else if primary {
                choose_name(&tname, None, "pkey", |n| taken_rel(st, n))
            } else {
                choose_name(&tname, name_addition(&keys).as_deref(), "key", |n| {
                    taken_rel(st, n)
                })
            };
            let mut def = String::from(if primary { "PRIMARY KEY" } else { "UNIQUE" });
            if c.nulls_not_distinct {
                def.push_str(" NULLS NOT DISTINCT");
            }
            def.push_str(&format!(" ({})", quoted_list(&keys)));
            if c.without_overlaps {
                def.insert_str(def.len() - 1, " WITHOUT OVERLAPS");
            }
            if !including.is_empty() {
                def.push_str(&format!(" INCLUDE ({})", quoted_list(&including)));
            }
            def.push_str(&deferral(attrs));
            st.relnames.insert(dotted(&schema, &name));
            let reads: BTreeSet<String> = keys.iter().chain(&including).cloned().collect();
            let info = IndexInfo {
                names: keys.clone(),
                keys: keys.clone(),
                reads,
                body: def.clone(),
            };
            if primary {
                if let Some(t) = st.model.tables.get_mut(key) {
                    for col in t.columns.iter_mut() {
                        if keys.contains(&col.name) {
                            col.not_null = true;
                        }
                    }
                }
            }
            let kind = if primary { "primary_key" } else { "unique" };
            (name, (kind, def, None), info)
        }
        ConstrType::ConstrForeign => {
            let fk_cols = if c.fk_attrs.is_empty() {
                column.map(|c| vec![c.to_string()]).unwrap_or_default()
            } else {
                strings(&c.fk_attrs)
            };
            let Some(pk) = &c.pktable else {
                return;
            };
            let target = st.relation_key(pk);
            let pk_cols = if c.pk_attrs.is_empty() {
                primary_key_columns(st, &target)
            } else {
                strings(&c.pk_attrs)
            };
            let name = if c.conname.is_empty() {
                choose_name(&tname, name_addition(&fk_cols).as_deref(), "fkey", |n| {
                    taken_con(st, n)
                })
            } else {
                c.conname.clone()
            };
            let (ts, tn) = split_key(&target);
            let mut def = format!(
                "FOREIGN KEY ({}) REFERENCES {}",
                quoted_list(&fk_cols),
                qualified(ts, tn)
            );
            if pk_cols.is_empty() {
                // Its primary key may come later in the files: filled in at the end.
                st.unresolved_fks
                    .push((key.to_string(), name.clone(), target.clone()));
            } else {
                def.push_str(&format!("({})", quoted_list(&pk_cols)));
            }
            match c.fk_matchtype.as_str() {
                "f" => def.push_str(" MATCH FULL"),
                "p" => def.push_str(" MATCH PARTIAL"),
                _ => {}
            }
            if let Some(a) = fk_action(&c.fk_upd_action) {
                def.push_str(&format!(" ON UPDATE {a}"));
            }
            if let Some(a) = fk_action(&c.fk_del_action) {
                def.push_str(&format!(" ON DELETE {a}"));
                let set_cols = strings(&c.fk_del_set_cols);
                if !set_cols.is_empty() {
                    def.push_str(&format!(" ({})", quoted_list(&set_cols)));
                }
            }
            def.push_str(&deferral(attrs));
            if !attrs.enforced {
                def.push_str(" NOT ENFORCED");
            }
            def.push_str(not_valid);
            let info = IndexInfo {
                names: fk_cols.clone(),
                keys: fk_cols.clone(),
                reads: fk_cols.iter().cloned().collect(),
                body: String::new(),
            };
            (name, ("foreign_key", def, Some(target)), info)
        }
        ConstrType::ConstrCheck => {
            let Some(e) = c.raw_expr.as_deref() else {
                return;
            };
            let columns: &[Column] = st.model.tables.get(key).map_or(&[], |t| &t.columns);
            let text = expr::print(e, &Cx::new(st, columns));
            let reads = expr::columns_read(e);
            let name = if c.conname.is_empty() {
                let col = if reads.len() == 1 {
                    reads.iter().next().cloned()
                } else {
                    None
                };
                choose_name(&tname, col.as_deref(), "check", |n| taken_con(st, n))
            } else {
                c.conname.clone()
            };
            let mut def = format!("CHECK ({text})");
            if c.is_no_inherit {
                def.push_str(" NO INHERIT");
            }
            if !attrs.enforced {
                def.push_str(" NOT ENFORCED");
            }
            def.push_str(not_valid);
            let info = IndexInfo {
                reads,
                ..IndexInfo::default()
            };
            (name, ("check", def, None), info)
        }
        ConstrType::ConstrExclusion => {
            let columns: &[Column] = st.model.tables.get(key).map_or(&[], |t| &t.columns);
            let method = if c.access_method.is_empty() {
                "gist".to_string()
            } else {
                c.access_method.clone()
            };
            let mut elems = Vec::new();
            let mut names = Vec::new();
            let mut reads = BTreeSet::new();
            for pair in &c.exclusions {
                let items = list_items(pair);
                let (Some(elem), Some(ops)) = (items.first(), items.get(1)) else {
                    continue;
                };
                let Some(NodeEnum::IndexElem(ie)) = &elem.node else {
                    continue;
                };
                let printed = index_elem(st, ie, columns);
                names.push(printed.name);
                reads.extend(printed.reads);
                let op: Vec<String> = strings(list_items(ops));
                let op = match op.as_slice() {
                    [o] => o.clone(),
                    [.., s, o] => format!("OPERATOR({s}.{o})"),
                    [] => String::new(),
                };
                elems.push(format!("{} WITH {op}", printed.text));
            }
            let names = super::names::unique_column_names(names);
            let name = if c.conname.is_empty() {
                choose_name(&tname, name_addition(&names).as_deref(), "excl", |n| {
                    taken_rel(st, n)
                })
            } else {
                c.conname.clone()
            };
            let mut def = format!("EXCLUDE USING {method} ({})", elems.join(", "));
            let including = strings(&c.including);
            if !including.is_empty() {
                def.push_str(&format!(" INCLUDE ({})", quoted_list(&including)));
            }
            if let Some(w) = c.where_clause.as_deref() {
                def.push_str(&format!(
                    " WHERE ({})",
                    expr::print(w, &Cx::new(st, columns))
                ));
            }
            def.push_str(&deferral(attrs));
            st.relnames.insert(dotted(&schema, &name));
            let info = IndexInfo {
                names,
                keys: Vec::new(),
                reads,
                body: def.clone(),
            };
            (name, ("exclusion", def, None), info)
        }
        _ => return,
    };
    let (kind, definition, references) = constraint;
    let Some(t) = st.model.tables.get_mut(key) else {
        return;
    };
    if t.constraints.contains_key(&name) {
        return;
    }
    let new = Constraint {
        name: name.clone(),
        kind: kind.to_string(),
        definition,
        validated,
        references,
        comment: None,
        inherited: false,
    };
    let propagate = recurse && st.children.get(key).is_some_and(|c| !c.is_empty());
    let copy = propagate.then(|| new.clone());
    t.constraints.insert(name.clone(), new);
    st.connames.insert(dotted(&schema, &name));
    st.index_info.insert(dotted(key, &name), info);
    if let Some(new) = copy {
        propagate_constraint(st, key, &new, loc.clone());
    }
    st.locate_in("constraint", key, &name, loc);
}

/// A constraint added to a table also lands on its partitions (and check constraints on its
/// inheritance children).
fn propagate_constraint(st: &mut State, key: &str, c: &Constraint, loc: Loc) {
    let children = st.children.get(key).cloned().unwrap_or_default();
    for child in children {
        let partition = st
            .model
            .tables
            .get(&child)
            .is_some_and(|t| t.partition_of.is_some());
        let wanted = match c.kind.as_str() {
            "check" => !c.definition.contains(" NO INHERIT"),
            _ => partition,
        };
        if !wanted {
            continue;
        }
        clone_constraint(st, &child, key, c, true, loc.clone());
        let cloned = st
            .model
            .tables
            .get(&child)
            .and_then(|t| {
                t.constraints
                    .values()
                    .find(|x| x.definition == c.definition && x.inherited)
            })
            .cloned();
        if let Some(cloned) = cloned {
            propagate_constraint(st, &child, &cloned, loc.clone());
        }
    }
}

/// Foreign keys written before the primary key they reference (`REFERENCES t` with no
/// columns): the key's columns, now known.
pub(crate) fn resolve_foreign_keys(st: &mut State) {
    for (key, name, target) in std::mem::take(&mut st.unresolved_fks) {
        let columns = primary_key_columns(st, &target);
        if columns.is_empty() {
            continue;
        }
        let (ts, tn) = split_key(&target);
        let reference = format!("REFERENCES {}", qualified(ts, tn));
        if let Some(c) = st
            .model
            .tables
            .get_mut(&key)
            .and_then(|t| t.constraints.get_mut(&name))
        {
            if let Some(at) = c.definition.find(&reference) {
                let end = at + reference.len();
                if !c.definition[end..].starts_with('(') {
                    c.definition
                        .insert_str(end, &format!("({})", quoted_list(&columns)));
                }
            }
        }
    }
}

/// The columns of a table's primary key (a foreign key's default target).
pub(crate) fn primary_key_columns(st: &State, key: &str) -> Vec<String> {
    let Some(t) = st.model.tables.get(key) else {
        return Vec::new();
    };
    t.constraints
        .values()
        .find(|c| c.kind == "primary_key")
        .and_then(|c| st.index_info.get(&dotted(key, &c.name)))
        .map(|i| i.keys.clone())
        .unwrap_or_default()
}

/// `pg_get_partkeydef`: `RANGE (created_at)`, `LIST (lower(region))`.
fn partition_key(st: &State, spec: &PartitionSpec, columns: &[Column]) -> String {
    let strategy = match PartitionStrategy::try_from(spec.strategy) {
        Ok(PartitionStrategy::List) => "LIST",
        Ok(PartitionStrategy::Hash) => "HASH",
        _ => "RANGE",
    };
    let keys: Vec<String> = spec
        .part_params
        .iter()
        .filter_map(|p| match &p.node {
            Some(NodeEnum::PartitionElem(e)) => {
                let mut text = match e.expr.as_deref() {
                    Some(x) => expr::print_index_key(x, &Cx::new(st, columns)),
                    None => quote_identifier(&e.name),
                };
                let coll = strings(&e.collation);
                if !coll.is_empty() {
                    text.push_str(&format!(
                        " COLLATE {}",
                        coll.iter()
                            .map(|c| quote_identifier(c))
                            .collect::<Vec<_>>()
                            .join(".")
                    ));
                }
                let opclass = strings(&e.opclass);
                if let Some(o) = opclass.last() {
                    text.push(' ');
                    text.push_str(&quote_identifier(o));
                }
                Some(text)
            }
            _ => None,
        })
        .collect();
    format!("{strategy} ({})", keys.join(", "))
}

/// A partition bound value as `pg_get_expr` prints it (literals without their cast).
fn bound_value(st: &State, node: &Node) -> String {
    match &node.node {
        Some(NodeEnum::AConst(c)) => match &c.val {
            Some(a_const::Val::Sval(s)) => literal(&s.sval),
            Some(a_const::Val::Ival(i)) => i.ival.to_string(),
            Some(a_const::Val::Fval(f)) => f.fval.clone(),
            Some(a_const::Val::Boolval(b)) => b.boolval.to_string(),
            _ => "NULL".into(),
        },
        Some(NodeEnum::ColumnRef(c)) => match c.fields.last().and_then(str_of) {
            Some("minvalue") => "MINVALUE".into(),
            Some("maxvalue") => "MAXVALUE".into(),
            Some(other) => quote_identifier(other),
            None => String::new(),
        },
        Some(NodeEnum::TypeCast(t)) => t
            .arg
            .as_deref()
            .map(|a| bound_value(st, a))
            .unwrap_or_default(),
        _ => expr::print(node, &Cx::new(st, &[])),
    }
}

/// `FOR VALUES …` or `DEFAULT`.
fn partition_bound(st: &State, b: &PartitionBoundSpec) -> String {
    if b.is_default {
        return "DEFAULT".into();
    }
    let list = |items: &[Node]| {
        items
            .iter()
            .map(|i| bound_value(st, i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match b.strategy.as_str() {
        "l" => format!("FOR VALUES IN ({})", list(&b.listdatums)),
        "h" => format!(
            "FOR VALUES WITH (modulus {}, remainder {})",
            b.modulus, b.remainder
        ),
        _ => format!(
            "FOR VALUES FROM ({}) TO ({})",
            list(&b.lowerdatums),
            list(&b.upperdatums)
        ),
    }
}

pub(crate) fn alter_table(st: &mut State, s: &AlterTableStmt, here: &Here) {
    let Some(rv) = &s.relation else {
        return;
    };
    let objtype = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let key = st.relation_key(rv);
    for cmd in &s.cmds {
        let Some(NodeEnum::AlterTableCmd(cmd)) = &cmd.node else {
            continue;
        };
        match objtype {
            ObjectType::ObjectTable | ObjectType::ObjectForeignTable => {
                if st.model.tables.contains_key(&key) {
                    alter_table_cmd(st, &key, cmd, rv.inh, here);
                } else {
                    // ALTER TABLE works on views and sequences for some subcommands.
                    alter_other(st, &key, cmd);
                }
            }
            _ => alter_other(st, &key, cmd),
        }
    }
}

/// `ALTER VIEW/SEQUENCE/…`: the owner is the one thing the model keeps.
fn alter_other(st: &mut State, key: &str, cmd: &AlterTableCmd) {
    if cmd.subtype != AlterTableType::AtChangeOwner as i32 {
        return;
    }
    let Some(owner) = cmd.newowner.as_ref().map(role_name) else {
        return;
    };
    if let Some(v) = st.model.views.get_mut(key) {
        v.owner = owner.clone();
        v.grants.retain(|g| g.grantee != owner);
    } else if let Some(s) = st.model.sequences.get_mut(key) {
        s.owner = owner.clone();
        s.grants.retain(|g| g.grantee != owner);
    }
}

fn column_mut<'a>(st: &'a mut State, key: &str, name: &str) -> Option<&'a mut Column> {
    st.model
        .tables
        .get_mut(key)?
        .columns
        .iter_mut()
        .find(|c| c.name == name)
}

/// Tables a change to `key` also applies to (partitions and children, recursively), with it.
fn family(st: &State, key: &str, recurse: bool) -> Vec<String> {
    let mut out = vec![key.to_string()];
    if !recurse {
        return out;
    }
    let mut i = 0;
    while i < out.len() {
        if let Some(children) = st.children.get(&out[i]) {
            for c in children {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
        i += 1;
    }
    out
}

fn alter_table_cmd(st: &mut State, key: &str, cmd: &AlterTableCmd, recurse: bool, here: &Here) {
    let subtype = AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined);
    let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
    match subtype {
        AlterTableType::AtAddColumn => {
            let Some(NodeEnum::ColumnDef(cd)) = def else {
                return;
            };
            for (i, k) in family(st, key, recurse).into_iter().enumerate() {
                let Some(mut table) = st.model.tables.remove(&k) else {
                    continue;
                };
                if table.columns.iter().any(|c| c.name == cd.colname) {
                    st.model.tables.insert(k, table);
                    continue;
                }
                let mut deferred = Deferred::default();
                apply_column_def(st, &mut table, cd, here, &mut deferred, false);
                if i > 0 {
                    if let Some(c) = table.columns.iter_mut().find(|c| c.name == cd.colname) {
                        c.inherited = true;
                    }
                    // Constraints reach children through their parent's.
                    deferred.constraints.clear();
                }
                st.model.tables.insert(k.clone(), table);
                finish_columns(st, &k, deferred, false);
            }
        }
        AlterTableType::AtDropColumn => {
            for k in family(st, key, recurse) {
                drop_column(st, &k, &cmd.name);
            }
        }
        AlterTableType::AtColumnDefault => {
            for k in family(st, key, recurse) {
                let ty = column_mut(st, &k, &cmd.name).map(|c| c.data_type.clone());
                let Some(ty) = ty else {
                    continue;
                };
                let default = cmd
                    .def
                    .as_deref()
                    .and_then(|d| expr::print_default(d, &ty, &Cx::new(st, &[])));
                if let Some(c) = column_mut(st, &k, &cmd.name) {
                    c.default = default;
                }
            }
        }
        AlterTableType::AtSetNotNull | AlterTableType::AtDropNotNull => {
            let value = subtype == AlterTableType::AtSetNotNull;
            for k in family(st, key, recurse) {
                if let Some(c) = column_mut(st, &k, &cmd.name) {
                    c.not_null = value;
                }
            }
        }
        AlterTableType::AtAlterColumnType => {
            let Some(NodeEnum::ColumnDef(cd)) = def else {
                return;
            };
            let Some(tn) = &cd.type_name else {
                return;
            };
            let ty = format_type(st, tn, true);
            let collation = cd
                .coll_clause
                .as_ref()
                .map(|c| collation_name(&strings(&c.collname)));
            for k in family(st, key, recurse) {
                if let Some(c) = column_mut(st, &k, &cmd.name) {
                    c.data_type = ty.clone();
                    // Without COLLATE the column takes the new type's default collation.
                    c.collation = collation.clone().filter(|c| c != "pg_catalog.default");
                }
            }
        }
        AlterTableType::AtAddConstraint => {
            if let Some(NodeEnum::Constraint(c)) = def {
                add_constraint(
                    st,
                    key,
                    c,
                    Attrs::of(c),
                    None,
                    false,
                    here.at(c.location),
                    recurse,
                );
            }
        }
        AlterTableType::AtDropConstraint => {
            for k in family(st, key, recurse) {
                drop_constraint(st, &k, &cmd.name);
            }
        }
        AlterTableType::AtValidateConstraint => {
            for k in family(st, key, recurse) {
                if let Some(c) = st
                    .model
                    .tables
                    .get_mut(&k)
                    .and_then(|t| t.constraints.get_mut(&cmd.name))
                {
                    c.validated = true;
                    if let Some(d) = c.definition.strip_suffix(" NOT VALID") {
                        c.definition = d.to_string();
                    }
                }
            }
        }
        AlterTableType::AtAddIdentity => {
            let Some(NodeEnum::Constraint(c)) = def else {
                return;
            };
            let Some(t) = st.model.tables.get(key) else {
                return;
            };
            let (schema, tname) = (t.schema.clone(), t.name.clone());
            let Some(col) = t.columns.iter().find(|c| c.name == cmd.name) else {
                return;
            };
            let ty = col.data_type.clone();
            make_owned_sequence(
                st,
                &schema,
                &tname,
                &cmd.name,
                &ty,
                true,
                &c.options,
                &here.loc(),
            );
            if let Some(col) = column_mut(st, key, &cmd.name) {
                col.identity = Some(identity_kind(&c.generated_when));
                col.not_null = true;
            }
        }
        AlterTableType::AtSetIdentity => {
            let items: Vec<&Node> = match def {
                Some(NodeEnum::List(l)) => l.items.iter().collect(),
                _ => Vec::new(),
            };
            for item in items {
                if let Some(NodeEnum::DefElem(d)) = &item.node {
                    if d.defname == "generated" {
                        let always = matches!(
                            d.arg.as_deref().and_then(|a| a.node.as_ref()),
                            Some(NodeEnum::Integer(i)) if i.ival == i32::from(b'a')
                        );
                        if let Some(col) = column_mut(st, key, &cmd.name) {
                            col.identity =
                                Some(if always { "always" } else { "by default" }.into());
                        }
                    }
                }
            }
        }
        AlterTableType::AtDropIdentity => {
            if let Some(col) = column_mut(st, key, &cmd.name) {
                col.identity = None;
            }
            let owner = dotted(key, &cmd.name);
            let dropped: Vec<String> = st
                .model
                .sequences
                .iter()
                .filter(|(_, s)| s.identity && s.owned_by.as_deref() == Some(owner.as_str()))
                .map(|(k, _)| k.clone())
                .collect();
            for k in dropped {
                st.model.sequences.remove(&k);
                st.relnames.remove(&k);
            }
        }
        AlterTableType::AtSetExpression => {
            let columns = st
                .model
                .tables
                .get(key)
                .map(|t| t.columns.clone())
                .unwrap_or_default();
            let text = cmd
                .def
                .as_deref()
                .map(|d| expr::print(d, &Cx::new(st, &columns)));
            if let Some(col) = column_mut(st, key, &cmd.name) {
                col.generated = text;
            }
        }
        AlterTableType::AtDropExpression => {
            if let Some(col) = column_mut(st, key, &cmd.name) {
                col.generated = None;
            }
        }
        AlterTableType::AtEnableRowSecurity
        | AlterTableType::AtDisableRowSecurity
        | AlterTableType::AtForceRowSecurity
        | AlterTableType::AtNoForceRowSecurity => {
            if let Some(t) = st.model.tables.get_mut(key) {
                match subtype {
                    AlterTableType::AtEnableRowSecurity => t.rls_enabled = true,
                    AlterTableType::AtDisableRowSecurity => t.rls_enabled = false,
                    AlterTableType::AtForceRowSecurity => t.rls_forced = true,
                    _ => t.rls_forced = false,
                }
            }
        }
        AlterTableType::AtChangeOwner => {
            let Some(owner) = cmd.newowner.as_ref().map(role_name) else {
                return;
            };
            if let Some(t) = st.model.tables.get_mut(key) {
                t.owner = owner.clone();
                t.grants.retain(|g| g.grantee != owner);
            }
            let prefix = format!("{key}.");
            for s in st.model.sequences.values_mut() {
                if s.owned_by
                    .as_deref()
                    .is_some_and(|o| o.starts_with(&prefix))
                {
                    s.owner = owner.clone();
                }
            }
        }
        AlterTableType::AtSetLogged | AlterTableType::AtSetUnLogged => {
            if let Some(t) = st.model.tables.get_mut(key) {
                t.persistence = if subtype == AlterTableType::AtSetLogged {
                    "permanent".into()
                } else {
                    "unlogged".into()
                };
            }
        }
        AlterTableType::AtAttachPartition => {
            let Some(NodeEnum::PartitionCmd(pc)) = def else {
                return;
            };
            let (Some(rv), Some(bound)) = (&pc.name, &pc.bound) else {
                return;
            };
            let child = st.relation_key(rv);
            let bound = partition_bound(st, bound);
            let parent_cols: Vec<String> = st
                .model
                .tables
                .get(key)
                .map(|t| t.columns.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default();
            let Some(t) = st.model.tables.get_mut(&child) else {
                return;
            };
            t.partition_of = Some(PartitionOf {
                parent: key.to_string(),
                bound,
            });
            for c in t.columns.iter_mut() {
                if parent_cols.contains(&c.name) {
                    c.inherited = true;
                }
            }
            st.children
                .entry(key.to_string())
                .or_default()
                .push(child.clone());
            clone_from_parent(st, &child, key, true);
        }
        AlterTableType::AtDetachPartition | AlterTableType::AtDetachPartitionFinalize => {
            let Some(NodeEnum::PartitionCmd(pc)) = def else {
                return;
            };
            let Some(rv) = &pc.name else {
                return;
            };
            let child = st.relation_key(rv);
            if let Some(children) = st.children.get_mut(key) {
                children.retain(|c| *c != child);
            }
            if let Some(t) = st.model.tables.get_mut(&child) {
                t.partition_of = None;
                for c in t.columns.iter_mut() {
                    c.inherited = false;
                }
                for c in t.constraints.values_mut() {
                    c.inherited = false;
                }
                for i in t.indexes.values_mut() {
                    i.inherited = false;
                }
            }
        }
        AlterTableType::AtAddInherit | AlterTableType::AtDropInherit => {
            let Some(NodeEnum::RangeVar(p)) = def else {
                return;
            };
            let parent = st.relation_key(p);
            let add = subtype == AlterTableType::AtAddInherit;
            if let Some(t) = st.model.tables.get_mut(key) {
                if add {
                    if !t.inherits.contains(&parent) {
                        t.inherits.push(parent.clone());
                    }
                } else {
                    t.inherits.retain(|p| *p != parent);
                }
            }
            let children = st.children.entry(parent).or_default();
            if add {
                children.push(key.to_string());
            } else {
                children.retain(|c| c != key);
            }
        }
        AlterTableType::AtEnableTrig
        | AlterTableType::AtEnableAlwaysTrig
        | AlterTableType::AtEnableReplicaTrig
        | AlterTableType::AtDisableTrig
        | AlterTableType::AtEnableTrigAll
        | AlterTableType::AtDisableTrigAll
        | AlterTableType::AtEnableTrigUser
        | AlterTableType::AtDisableTrigUser => {
            let state = match subtype {
                AlterTableType::AtEnableAlwaysTrig => "A",
                AlterTableType::AtEnableReplicaTrig => "R",
                AlterTableType::AtDisableTrig
                | AlterTableType::AtDisableTrigAll
                | AlterTableType::AtDisableTrigUser => "D",
                _ => "O",
            };
            let all = matches!(
                subtype,
                AlterTableType::AtEnableTrigAll
                    | AlterTableType::AtDisableTrigAll
                    | AlterTableType::AtEnableTrigUser
                    | AlterTableType::AtDisableTrigUser
            );
            if let Some(t) = st.model.tables.get_mut(key) {
                for (name, trigger) in t.triggers.iter_mut() {
                    if all || *name == cmd.name {
                        trigger.enabled = state.into();
                    }
                }
            }
        }
        _ => {}
    }
}

/// Drop a column, and what depends on it: constraints and indexes that read it.
fn drop_column(st: &mut State, key: &str, column: &str) {
    let Some(t) = st.model.tables.get_mut(key) else {
        return;
    };
    let before = t.columns.len();
    t.columns.retain(|c| c.name != column);
    if t.columns.len() == before {
        return;
    }
    let reads = |name: &str| {
        st.index_info
            .get(&dotted(key, name))
            .is_some_and(|i| i.reads.contains(column))
    };
    let constraints: Vec<String> = t.constraints.keys().filter(|n| reads(n)).cloned().collect();
    let indexes: Vec<String> = t.indexes.keys().filter(|n| reads(n)).cloned().collect();
    st.forget_location("column", &dotted(key, column));
    for c in constraints {
        drop_constraint(st, key, &c);
    }
    for i in indexes {
        super::indexes::drop_index(st, key, &i);
    }
    let owner = dotted(key, column);
    let sequences: Vec<String> = st
        .model
        .sequences
        .iter()
        .filter(|(_, s)| s.owned_by.as_deref() == Some(owner.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    for s in sequences {
        st.model.sequences.remove(&s);
        st.relnames.remove(&s);
        st.forget_location("sequence", &s);
    }
}

/// Drop a constraint and its index.
pub(crate) fn drop_constraint(st: &mut State, key: &str, name: &str) {
    let Some(t) = st.model.tables.get_mut(key) else {
        return;
    };
    let Some(c) = t.constraints.remove(name) else {
        return;
    };
    let schema = t.schema.clone();
    if c.kind == "primary_key" || c.kind == "unique" || c.kind == "exclusion" {
        st.relnames.remove(&dotted(&schema, name));
    }
    st.connames.remove(&dotted(&schema, name));
    st.index_info.remove(&dotted(key, name));
    st.forget_location("constraint", &dotted(key, name));
}
