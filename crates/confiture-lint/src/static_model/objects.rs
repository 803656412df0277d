//! Schemas, extensions, views, comments, policies, triggers, and the statements that rename,
//! re-own and drop objects; `SET search_path`.

use std::collections::BTreeMap;

use confiture_core::schema::{Column, Extension, Namespace, Policy, Table, Trigger, View};
use pg_query::protobuf::{
    AlterOwnerStmt, AlterPolicyStmt, CommentStmt, CreateExtensionStmt, CreatePolicyStmt,
    CreateSchemaStmt, CreateTableAsStmt, CreateTrigStmt, DropStmt, Node, ObjectType, RenameStmt,
    VariableSetKind, VariableSetStmt, ViewStmt,
};
use pg_query::NodeEnum;

use super::expr::{self, Cx};
use super::functions::find_function;
use super::indexes::{drop_index, index_definition};
use super::names::{
    list_items, literal, qualified, quote_identifier, rename_identifier, split_name, str_of,
    strings,
};
use super::tables::{role_name, split_key};
use super::{dotted, Here, State};

pub(crate) fn create_schema(st: &mut State, s: &CreateSchemaStmt, here: &Here) {
    let owner = s.authrole.as_ref().map(role_name).unwrap_or_default();
    let name = if s.schemaname.is_empty() {
        owner.clone()
    } else {
        s.schemaname.clone()
    };
    if name.is_empty() {
        return;
    }
    if !st.model.schemas.contains_key(&name) {
        let grants = st.initial_grants('n', "");
        st.model.schemas.insert(
            name.clone(),
            Namespace {
                name: name.clone(),
                owner,
                comment: None,
                grants,
            },
        );
        st.locate("schema", &name, here.loc());
    }
    // CREATE SCHEMA s CREATE TABLE …: the elements are created in it.
    if !s.schema_elts.is_empty() {
        let saved = std::mem::replace(&mut st.search_path, vec![name]);
        for e in &s.schema_elts {
            if let Some(node) = &e.node {
                st.apply(node, here);
            }
        }
        st.search_path = saved;
    }
}

pub(crate) fn create_extension(st: &mut State, s: &CreateExtensionStmt) {
    if st.model.extensions.contains_key(&s.extname) {
        return;
    }
    let mut schema = None;
    let mut version = String::new();
    for o in &s.options {
        if let Some(NodeEnum::DefElem(d)) = &o.node {
            let value = match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                Some(NodeEnum::String(s)) => s.sval.clone(),
                _ => continue,
            };
            match d.defname.as_str() {
                "schema" => schema = Some(value),
                "new_version" => version = value,
                _ => {}
            }
        }
    }
    let schema = schema.unwrap_or_else(|| st.creation_schema());
    st.model.extensions.insert(
        s.extname.clone(),
        Extension {
            name: s.extname.clone(),
            schema,
            version,
        },
    );
}

/// The `schema.name` of an existing relation named by a name list.
fn relation_of(st: &State, parts: &[String]) -> Option<String> {
    st.key_of(parts, |k| st.relnames.contains(k))
}

pub(crate) fn comment(st: &mut State, s: &CommentStmt) {
    let text = Some(s.comment.clone()).filter(|c| !c.is_empty());
    let Some(object) = s.object.as_deref() else {
        return;
    };
    let objtype = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let parts = strings(list_items(object));
    match objtype {
        ObjectType::ObjectTable
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectForeignTable => {
            let Some(key) = relation_of(st, &parts) else {
                return;
            };
            if let Some(t) = st.model.tables.get_mut(&key) {
                t.comment = text;
            } else if let Some(v) = st.model.views.get_mut(&key) {
                v.comment = text;
            }
        }
        ObjectType::ObjectColumn => {
            let Some((column, table)) = parts.split_last() else {
                return;
            };
            let Some(key) = relation_of(st, table) else {
                return;
            };
            if let Some(c) = st
                .model
                .tables
                .get_mut(&key)
                .and_then(|t| t.columns.iter_mut().find(|c| c.name == *column))
            {
                c.comment = text;
            }
        }
        ObjectType::ObjectIndex => {
            let Some(key) = relation_of(st, &parts) else {
                return;
            };
            let Some(owner) = st.index_owner.get(&key).cloned() else {
                return;
            };
            let (_, name) = split_key(&key);
            if let Some(i) = st
                .model
                .tables
                .get_mut(&owner)
                .and_then(|t| t.indexes.get_mut(name))
            {
                i.comment = text;
            } else if let Some(i) = st
                .model
                .views
                .get_mut(&owner)
                .and_then(|v| v.indexes.get_mut(name))
            {
                i.comment = text;
            }
        }
        ObjectType::ObjectTabconstraint => {
            let Some((name, table)) = parts.split_last() else {
                return;
            };
            let Some(key) = relation_of(st, table) else {
                return;
            };
            if let Some(c) = st
                .model
                .tables
                .get_mut(&key)
                .and_then(|t| t.constraints.get_mut(name))
            {
                c.comment = text;
            }
        }
        ObjectType::ObjectTrigger => {
            let Some((name, table)) = parts.split_last() else {
                return;
            };
            let Some(key) = relation_of(st, table) else {
                return;
            };
            if let Some(t) = st
                .model
                .tables
                .get_mut(&key)
                .and_then(|t| t.triggers.get_mut(name))
            {
                t.comment = text;
            } else if let Some(t) = st
                .model
                .views
                .get_mut(&key)
                .and_then(|v| v.triggers.get_mut(name))
            {
                t.comment = text;
            }
        }
        ObjectType::ObjectFunction
        | ObjectType::ObjectProcedure
        | ObjectType::ObjectRoutine
        | ObjectType::ObjectAggregate => {
            let Some(NodeEnum::ObjectWithArgs(o)) = &object.node else {
                return;
            };
            if let Some(f) = find_function(st, o).and_then(|k| st.model.functions.get_mut(&k)) {
                f.comment = text;
            }
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => {
            let names = match &object.node {
                Some(NodeEnum::TypeName(t)) => strings(&t.names),
                _ => parts,
            };
            let Some(key) = st.key_of(&names, |k| st.model.types.contains_key(k)) else {
                return;
            };
            if let Some(t) = st.model.types.get_mut(&key) {
                t.comment = text;
            }
        }
        ObjectType::ObjectSchema => {
            if let Some(n) = str_of(object).and_then(|n| st.model.schemas.get_mut(n)) {
                n.comment = text;
            }
        }
        _ => {}
    }
}

/// The relations of a `FROM` list with their reference names and columns (`None` when one is
/// not known).
fn from_columns(st: &State, from: &[Node]) -> Option<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for item in from {
        match &item.node {
            Some(NodeEnum::RangeVar(rv)) => {
                let key = st.relation_key(rv);
                let columns: Vec<String> = if let Some(t) = st.model.tables.get(&key) {
                    t.columns.iter().map(|c| c.name.clone()).collect()
                } else if let Some(v) = st.model.views.get(&key) {
                    if v.columns.is_empty() {
                        return None;
                    }
                    v.columns.clone()
                } else {
                    return None;
                };
                let alias = rv
                    .alias
                    .as_ref()
                    .map_or_else(|| rv.relname.clone(), |a| a.aliasname.clone());
                out.push((alias, columns));
            }
            Some(NodeEnum::JoinExpr(j)) => {
                let mut sides = Vec::new();
                for side in [j.larg.as_deref(), j.rarg.as_deref()].into_iter().flatten() {
                    sides.extend(from_columns(st, std::slice::from_ref(side))?);
                }
                if !j.using_clause.is_empty() || j.is_natural {
                    return None;
                }
                out.extend(sides);
            }
            Some(NodeEnum::RangeSubselect(r)) => {
                let alias = r.alias.as_ref()?;
                let mut columns = query_columns(st, r.subquery.as_deref()?)?;
                for (i, c) in strings(&alias.colnames).into_iter().enumerate() {
                    if let Some(slot) = columns.get_mut(i) {
                        *slot = c;
                    }
                }
                out.push((alias.aliasname.clone(), columns));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The column names a query produces, when they can be known without a database.
fn query_columns(st: &State, query: &Node) -> Option<Vec<String>> {
    let Some(NodeEnum::SelectStmt(s)) = &query.node else {
        return None;
    };
    if let Some(l) = &s.larg {
        return query_columns(
            st,
            &Node {
                node: Some(NodeEnum::SelectStmt(l.clone())),
            },
        );
    }
    if let Some(first) = s.values_lists.first() {
        let n = list_items(first).len();
        return Some((1..=n).map(|i| format!("column{i}")).collect());
    }
    let mut out = Vec::new();
    let mut from = None;
    for t in &s.target_list {
        let Some(NodeEnum::ResTarget(r)) = &t.node else {
            continue;
        };
        if !r.name.is_empty() {
            out.push(r.name.clone());
            continue;
        }
        let Some(val) = r.val.as_deref() else {
            continue;
        };
        if let Some(NodeEnum::ColumnRef(c)) = &val.node {
            if matches!(
                c.fields.last().and_then(|f| f.node.as_ref()),
                Some(NodeEnum::AStar(_))
            ) {
                if from.is_none() {
                    from = Some(from_columns(st, &s.from_clause)?);
                }
                let relations = from.as_ref()?;
                match c.fields.as_slice() {
                    [_] => {
                        for (_, cols) in relations {
                            out.extend(cols.iter().cloned());
                        }
                    }
                    [.., qualifier, _] => {
                        let q = str_of(qualifier)?;
                        let (_, cols) = relations.iter().find(|(n, _)| n == q)?;
                        out.extend(cols.iter().cloned());
                    }
                    [] => {}
                }
                continue;
            }
        }
        out.push(expr::figure_colname(val).unwrap_or_else(|| "?column?".into()));
    }
    Some(out)
}

/// How many views a query is built on, transitively.
fn view_depth(st: &State, query: &Node) -> u32 {
    let mut depth = 0;
    for (name, _) in confiture_sql::walk::references(query) {
        if name.kind != confiture_sql::names::Kind::Relation {
            continue;
        }
        let schema = st.resolve(name.schema.as_deref(), &name.name, |k| {
            st.model.views.contains_key(k)
        });
        if let Some(v) = st.model.views.get(&dotted(&schema, &name.name)) {
            depth = depth.max(v.depth + 1);
        }
    }
    depth
}

fn query_text(query: &Node) -> String {
    query
        .node
        .as_ref()
        .and_then(|n| n.deparse(pg_query::DeparseOptions::default()).ok())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn put_view(
    st: &mut State,
    schema: String,
    name: String,
    materialized: bool,
    query: &Node,
    aliases: Vec<String>,
    replace: bool,
    here: &Here,
) {
    let key = dotted(&schema, &name);
    let previous = st.model.views.get(&key).cloned();
    if previous.is_some() && !replace {
        return;
    }
    if previous.is_none() && st.relnames.contains(&key) {
        return;
    }
    let mut columns = query_columns(st, query).unwrap_or_default();
    for (i, a) in aliases.into_iter().enumerate() {
        if let Some(slot) = columns.get_mut(i) {
            *slot = a;
        } else if columns.is_empty() {
            break;
        }
    }
    let mut view = View {
        schema: schema.clone(),
        name,
        materialized,
        definition: query_text(query),
        columns,
        depth: view_depth(st, query),
        grants: st.initial_grants('r', &schema),
        ..View::default()
    };
    if let Some(p) = previous {
        view.indexes = p.indexes;
        view.triggers = p.triggers;
        view.owner = p.owner;
        view.comment = p.comment;
        view.grants = p.grants;
    }
    st.relnames.insert(key.clone());
    st.locate("view", &key, here.loc());
    st.model.views.insert(key, view);
}

pub(crate) fn create_view(st: &mut State, s: &ViewStmt, here: &Here) {
    let (Some(rv), Some(query)) = (&s.view, s.query.as_deref()) else {
        return;
    };
    if rv.relpersistence == "t" {
        return;
    }
    let (schema, name) = st.new_relation_key(rv);
    put_view(
        st,
        schema,
        name,
        false,
        query,
        strings(&s.aliases),
        s.replace,
        here,
    );
}

pub(crate) fn create_table_as(st: &mut State, s: &CreateTableAsStmt, here: &Here) {
    let (Some(into), Some(query)) = (s.into.as_deref(), s.query.as_deref()) else {
        return;
    };
    let Some(rv) = &into.rel else {
        return;
    };
    if rv.relpersistence == "t" {
        return;
    }
    let (schema, name) = st.new_relation_key(rv);
    let aliases = strings(&into.col_names);
    if s.objtype == ObjectType::ObjectMatview as i32 {
        put_view(st, schema, name, true, query, aliases, false, here);
        return;
    }
    // CREATE TABLE … AS: column types come from the query, unknown without a database.
    let key = dotted(&schema, &name);
    if st.relnames.contains(&key) {
        return;
    }
    let mut names = query_columns(st, query).unwrap_or_default();
    for (i, a) in aliases.into_iter().enumerate() {
        match names.get_mut(i) {
            Some(slot) => *slot = a,
            None => names.push(a),
        }
    }
    let table = Table {
        schema: schema.clone(),
        name,
        persistence: if rv.relpersistence == "u" {
            "unlogged".into()
        } else {
            "permanent".into()
        },
        columns: names
            .into_iter()
            .map(|n| Column {
                name: n,
                ..Column::default()
            })
            .collect(),
        grants: st.initial_grants('r', &schema),
        ..Table::default()
    };
    st.relnames.insert(key.clone());
    st.locate("table", &key, here.loc());
    st.model.tables.insert(key, table);
}

fn policy_roles(roles: &[Node]) -> Vec<String> {
    let mut out: Vec<String> = roles
        .iter()
        .filter_map(|r| match &r.node {
            Some(NodeEnum::RoleSpec(r)) => Some(role_name(r)),
            _ => None,
        })
        .collect();
    // PUBLIC covers everyone: PostgreSQL keeps it alone.
    if out.is_empty() || out.iter().any(|r| r == "PUBLIC") {
        return vec!["PUBLIC".into()];
    }
    out.sort();
    out.dedup();
    out
}

pub(crate) fn create_policy(st: &mut State, s: &CreatePolicyStmt) {
    let Some(rv) = &s.table else {
        return;
    };
    let key = st.relation_key(rv);
    let Some(columns) = st.model.tables.get(&key).map(|t| t.columns.clone()) else {
        return;
    };
    let cx = Cx::new(st, &columns);
    let policy = Policy {
        name: s.policy_name.clone(),
        permissive: s.permissive,
        command: s.cmd_name.to_uppercase(),
        roles: policy_roles(&s.roles),
        using: s.qual.as_deref().map(|q| expr::print(q, &cx)),
        with_check: s.with_check.as_deref().map(|q| expr::print(q, &cx)),
    };
    if let Some(t) = st.model.tables.get_mut(&key) {
        t.policies.entry(s.policy_name.clone()).or_insert(policy);
    }
}

pub(crate) fn alter_policy(st: &mut State, s: &AlterPolicyStmt) {
    let Some(rv) = &s.table else {
        return;
    };
    let key = st.relation_key(rv);
    let Some(columns) = st.model.tables.get(&key).map(|t| t.columns.clone()) else {
        return;
    };
    let cx = Cx::new(st, &columns);
    let using = s.qual.as_deref().map(|q| expr::print(q, &cx));
    let with_check = s.with_check.as_deref().map(|q| expr::print(q, &cx));
    let roles = (!s.roles.is_empty()).then(|| policy_roles(&s.roles));
    if let Some(p) = st
        .model
        .tables
        .get_mut(&key)
        .and_then(|t| t.policies.get_mut(&s.policy_name))
    {
        if using.is_some() {
            p.using = using;
        }
        if with_check.is_some() {
            p.with_check = with_check;
        }
        if let Some(r) = roles {
            p.roles = r;
        }
    }
}

/// `pg_get_triggerdef`.
fn trigger_definition(st: &State, s: &CreateTrigStmt, key: &str, columns: &[Column]) -> String {
    const BEFORE: i32 = 1 << 1;
    const INSERT: i32 = 1 << 2;
    const DELETE: i32 = 1 << 3;
    const UPDATE: i32 = 1 << 4;
    const TRUNCATE: i32 = 1 << 5;
    const INSTEAD: i32 = 1 << 6;
    let mut def = String::from(if s.isconstraint {
        "CREATE CONSTRAINT TRIGGER "
    } else {
        "CREATE TRIGGER "
    });
    def.push_str(&quote_identifier(&s.trigname));
    def.push_str(if s.timing & BEFORE != 0 {
        " BEFORE"
    } else if s.timing & INSTEAD != 0 {
        " INSTEAD OF"
    } else {
        " AFTER"
    });
    let mut events = Vec::new();
    if s.events & INSERT != 0 {
        events.push("INSERT".to_string());
    }
    if s.events & DELETE != 0 {
        events.push("DELETE".to_string());
    }
    if s.events & UPDATE != 0 {
        let cols = strings(&s.columns);
        if cols.is_empty() {
            events.push("UPDATE".to_string());
        } else {
            let cols: Vec<String> = cols.iter().map(|c| quote_identifier(c)).collect();
            events.push(format!("UPDATE OF {}", cols.join(", ")));
        }
    }
    if s.events & TRUNCATE != 0 {
        events.push("TRUNCATE".to_string());
    }
    let (schema, table) = split_key(key);
    def.push_str(&format!(
        " {} ON {}",
        events.join(" OR "),
        qualified(schema, table)
    ));
    if s.isconstraint {
        if let Some(rv) = &s.constrrel {
            let (cs, ct) = {
                let k = st.relation_key(rv);
                let (a, b) = split_key(&k);
                (a.to_string(), b.to_string())
            };
            def.push_str(&format!(" FROM {}", qualified(&cs, &ct)));
        }
        def.push_str(if s.deferrable {
            " DEFERRABLE"
        } else {
            " NOT DEFERRABLE"
        });
        def.push_str(if s.initdeferred {
            " INITIALLY DEFERRED"
        } else {
            " INITIALLY IMMEDIATE"
        });
    }
    let transitions: Vec<String> = s
        .transition_rels
        .iter()
        .filter_map(|t| match &t.node {
            Some(NodeEnum::TriggerTransition(t)) => Some(format!(
                "{} TABLE AS {}",
                if t.is_new { "NEW" } else { "OLD" },
                quote_identifier(&t.name)
            )),
            _ => None,
        })
        .collect();
    if !transitions.is_empty() {
        def.push_str(&format!(" REFERENCING {}", transitions.join(" ")));
    }
    def.push_str(if s.row {
        " FOR EACH ROW"
    } else {
        " FOR EACH STATEMENT"
    });
    if let Some(w) = s.when_clause.as_deref() {
        def.push_str(&format!(
            " WHEN ({})",
            expr::print(w, &Cx::new(st, columns))
        ));
    }
    let parts = strings(&s.funcname);
    let function = match split_name(&parts) {
        Some((Some(schema), name)) => qualified(schema, name),
        Some((None, name)) => {
            let schema = st.resolve(None, name, |k| {
                let (s, n) = split_key(k);
                st.funcs.contains_key(&(s.to_string(), n.to_string()))
            });
            qualified(&schema, name)
        }
        None => String::new(),
    };
    let args: Vec<String> = s
        .args
        .iter()
        .filter_map(|a| str_of(a).map(literal))
        .collect();
    def.push_str(&format!(
        " EXECUTE FUNCTION {function}({})",
        args.join(", ")
    ));
    def
}

pub(crate) fn create_trigger(st: &mut State, s: &CreateTrigStmt) {
    let Some(rv) = &s.relation else {
        return;
    };
    let key = st.relation_key(rv);
    let columns = match (st.model.tables.get(&key), st.model.views.get(&key)) {
        (Some(t), _) => t.columns.clone(),
        (None, Some(_)) => Vec::new(),
        (None, None) => return,
    };
    let trigger = Trigger {
        name: s.trigname.clone(),
        definition: trigger_definition(st, s, &key, &columns),
        enabled: "O".into(),
        comment: None,
        inherited: false,
    };
    let triggers: &mut BTreeMap<String, Trigger> = match st.model.tables.get_mut(&key) {
        Some(t) => &mut t.triggers,
        None => match st.model.views.get_mut(&key) {
            Some(v) => &mut v.triggers,
            None => return,
        },
    };
    if let Some(old) = triggers.get(&s.trigname) {
        if !s.replace {
            return;
        }
        let comment = old.comment.clone();
        triggers.insert(s.trigname.clone(), Trigger { comment, ..trigger });
    } else {
        triggers.insert(s.trigname.clone(), trigger);
    }
}

pub(crate) fn alter_owner(st: &mut State, s: &AlterOwnerStmt) {
    let Some(owner) = s.newowner.as_ref().map(role_name) else {
        return;
    };
    let Some(object) = s.object.as_deref() else {
        return;
    };
    match ObjectType::try_from(s.object_type).unwrap_or(ObjectType::Undefined) {
        ObjectType::ObjectSchema => {
            if let Some(n) = str_of(object).and_then(|n| st.model.schemas.get_mut(n)) {
                n.owner = owner.clone();
                n.grants.retain(|g| g.grantee != owner);
            }
        }
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            let Some(NodeEnum::ObjectWithArgs(o)) = &object.node else {
                return;
            };
            if let Some(f) = find_function(st, o).and_then(|k| st.model.functions.get_mut(&k)) {
                f.owner = owner.clone();
                f.grants.retain(|g| g.grantee != owner);
            }
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => {
            let names = match &object.node {
                Some(NodeEnum::TypeName(t)) => strings(&t.names),
                _ => strings(list_items(object)),
            };
            if let Some(t) = st
                .key_of(&names, |k| st.model.types.contains_key(k))
                .and_then(|k| st.model.types.get_mut(&k))
            {
                t.owner = owner;
            }
        }
        _ => {}
    }
}

pub(crate) fn set_variable(st: &mut State, s: &VariableSetStmt) {
    if s.name != "search_path" {
        return;
    }
    match VariableSetKind::try_from(s.kind) {
        Ok(VariableSetKind::VarSetValue) => {
            let path: Vec<String> = s
                .args
                .iter()
                .filter_map(|a| match &a.node {
                    Some(NodeEnum::AConst(c)) => match &c.val {
                        Some(pg_query::protobuf::a_const::Val::Sval(s)) => Some(s.sval.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .flat_map(|s| {
                    // SET search_path = 'a, b' gives one string.
                    s.split(',')
                        .map(|p| p.trim().trim_matches('"').to_string())
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                })
                .collect();
            st.search_path = path;
        }
        Ok(VariableSetKind::VarSetDefault | VariableSetKind::VarReset) => {
            st.search_path = vec!["$user".into(), "public".into()];
        }
        _ => {}
    }
}

pub(crate) fn rename(st: &mut State, s: &RenameStmt) {
    let rename_type = ObjectType::try_from(s.rename_type).unwrap_or(ObjectType::Undefined);
    match rename_type {
        ObjectType::ObjectTable | ObjectType::ObjectForeignTable => {
            if let Some(rv) = &s.relation {
                let key = st.relation_key(rv);
                rename_relation(st, &key, &s.newname);
            }
        }
        ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectSequence
        | ObjectType::ObjectIndex => {
            if let Some(rv) = &s.relation {
                let key = st.relation_key(rv);
                rename_relation(st, &key, &s.newname);
            }
        }
        ObjectType::ObjectColumn => {
            if let Some(rv) = &s.relation {
                let key = st.relation_key(rv);
                rename_column(st, &key, &s.subname, &s.newname);
            }
        }
        ObjectType::ObjectTabconstraint => {
            if let Some(rv) = &s.relation {
                let key = st.relation_key(rv);
                rename_constraint(st, &key, &s.subname, &s.newname);
            }
        }
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            let Some(NodeEnum::ObjectWithArgs(o)) =
                s.object.as_deref().and_then(|o| o.node.as_ref())
            else {
                return;
            };
            let Some(key) = find_function(st, o) else {
                return;
            };
            let Some(mut f) = st.model.functions.remove(&key) else {
                return;
            };
            let old = (f.schema.clone(), f.name.clone());
            let new_key = format!("{}.{}({})", f.schema, s.newname, f.arguments);
            f.name = s.newname.clone();
            let inputs = st
                .funcs
                .get_mut(&old)
                .and_then(|v| v.iter().position(|(k, _)| *k == key).map(|i| v.remove(i).1))
                .unwrap_or_default();
            st.funcs
                .entry((f.schema.clone(), s.newname.clone()))
                .or_default()
                .push((new_key.clone(), inputs));
            st.move_locations("function", &key, &new_key);
            st.model.functions.insert(new_key, f);
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => {
            let names = match s.object.as_deref().and_then(|o| o.node.as_ref()) {
                Some(NodeEnum::TypeName(t)) => strings(&t.names),
                Some(NodeEnum::List(l)) => strings(&l.items),
                _ => return,
            };
            let Some(key) = st.key_of(&names, |k| st.model.types.contains_key(k)) else {
                return;
            };
            let Some(mut t) = st.model.types.remove(&key) else {
                return;
            };
            let old_name = qualified(&t.schema, &t.name);
            t.name = s.newname.clone();
            let new_name = qualified(&t.schema, &t.name);
            let new_key = format!("{}.{}", t.schema, t.name);
            for table in st.model.tables.values_mut() {
                for c in table.columns.iter_mut() {
                    if c.data_type == old_name {
                        c.data_type = new_name.clone();
                    } else if c.data_type == format!("{old_name}[]") {
                        c.data_type = format!("{new_name}[]");
                    }
                }
            }
            st.move_locations("type", &key, &new_key);
            st.model.types.insert(new_key, t);
        }
        ObjectType::ObjectTrigger => {
            let Some(rv) = &s.relation else {
                return;
            };
            let key = st.relation_key(rv);
            let triggers = match st.model.tables.get_mut(&key) {
                Some(t) => &mut t.triggers,
                None => match st.model.views.get_mut(&key) {
                    Some(v) => &mut v.triggers,
                    None => return,
                },
            };
            if let Some(mut t) = triggers.remove(&s.subname) {
                t.definition = t.definition.replacen(
                    &quote_identifier(&s.subname),
                    &quote_identifier(&s.newname),
                    1,
                );
                t.name = s.newname.clone();
                triggers.insert(s.newname.clone(), t);
            }
        }
        ObjectType::ObjectPolicy => {
            let Some(rv) = &s.relation else {
                return;
            };
            let key = st.relation_key(rv);
            if let Some(t) = st.model.tables.get_mut(&key) {
                if let Some(mut p) = t.policies.remove(&s.subname) {
                    p.name = s.newname.clone();
                    t.policies.insert(s.newname.clone(), p);
                }
            }
        }
        ObjectType::ObjectSchema => {
            // Moving every object of the schema is out of reach; the namespace itself follows.
            if let Some(mut n) = st.model.schemas.remove(&s.subname) {
                n.name = s.newname.clone();
                st.model.schemas.insert(s.newname.clone(), n);
            }
        }
        _ => {}
    }
}

/// Rename a table, view, sequence or index, and every reference the model holds to it.
fn rename_relation(st: &mut State, key: &str, new: &str) {
    let (schema, old) = split_key(key);
    let (schema, old) = (schema.to_string(), old.to_string());
    let new_key = dotted(&schema, new);
    if !st.relnames.remove(key) {
        return;
    }
    st.relnames.insert(new_key.clone());
    if let Some(mut t) = st.model.tables.remove(key) {
        t.name = new.to_string();
        let only = t.partition_by.is_some();
        for (name, i) in t.indexes.iter_mut() {
            if let Some(info) = st.index_info.remove(&dotted(key, name)) {
                i.definition =
                    index_definition(name, i.unique, &schema, new, only, &i.method, &info.body);
                st.index_info.insert(dotted(&new_key, name), info);
            }
            st.index_owner
                .insert(dotted(&schema, name), new_key.clone());
        }
        for name in t.constraints.keys() {
            if let Some(info) = st.index_info.remove(&dotted(key, name)) {
                st.index_info.insert(dotted(&new_key, name), info);
            }
        }
        for trigger in t.triggers.values_mut() {
            trigger.definition = trigger.definition.replace(
                &format!(" ON {} ", qualified(&schema, &old)),
                &format!(" ON {} ", qualified(&schema, new)),
            );
        }
        st.model.tables.insert(new_key.clone(), t);
        // References from other tables.
        let old_q = format!("REFERENCES {}(", qualified(&schema, &old));
        let new_q = format!("REFERENCES {}(", qualified(&schema, new));
        for table in st.model.tables.values_mut() {
            for c in table.constraints.values_mut() {
                if c.references.as_deref() == Some(key) {
                    c.references = Some(new_key.clone());
                    c.definition = c.definition.replace(&old_q, &new_q);
                }
            }
            if let Some(p) = table.partition_of.as_mut().filter(|p| p.parent == key) {
                p.parent = new_key.clone();
            }
            for p in table.inherits.iter_mut().filter(|p| *p == key) {
                *p = new_key.clone();
            }
        }
        let prefix = format!("{key}.");
        for s in st.model.sequences.values_mut() {
            if let Some(o) = s.owned_by.as_mut().filter(|o| o.starts_with(&prefix)) {
                *o = format!("{new_key}.{}", &o[prefix.len()..]);
            }
        }
        if let Some(children) = st.children.remove(key) {
            st.children.insert(new_key.clone(), children);
        }
        for children in st.children.values_mut() {
            for c in children.iter_mut().filter(|c| *c == key) {
                *c = new_key.clone();
            }
        }
        for kind in ["table", "column", "constraint", "index"] {
            st.move_locations(kind, key, &new_key);
        }
    } else if let Some(mut v) = st.model.views.remove(key) {
        v.name = new.to_string();
        st.model.views.insert(new_key.clone(), v);
        st.move_locations("view", key, &new_key);
        st.move_locations("index", key, &new_key);
    } else if let Some(mut s) = st.model.sequences.remove(key) {
        s.name = new.to_string();
        st.model.sequences.insert(new_key.clone(), s);
        st.move_locations("sequence", key, &new_key);
        let old_lit = literal(&qualified(&schema, &old));
        let new_lit = literal(&qualified(&schema, new));
        for t in st.model.tables.values_mut() {
            for c in t.columns.iter_mut() {
                if let Some(d) = c.default.as_mut().filter(|d| d.contains(&old_lit)) {
                    *d = d.replace(&old_lit, &new_lit);
                }
            }
        }
    } else if let Some(owner) = st.index_owner.remove(key) {
        st.index_owner.insert(new_key.clone(), owner.clone());
        let (_, table) = split_key(&owner);
        let table = table.to_string();
        let info = st.index_info.remove(&dotted(&owner, &old));
        let only = st
            .model
            .tables
            .get(&owner)
            .is_some_and(|t| t.partition_by.is_some());
        let indexes = match st.model.tables.get_mut(&owner) {
            Some(t) => Some(&mut t.indexes),
            None => st.model.views.get_mut(&owner).map(|v| &mut v.indexes),
        };
        if let Some(indexes) = indexes {
            if let Some(mut i) = indexes.remove(&old) {
                i.name = new.to_string();
                if let Some(info) = &info {
                    i.definition = index_definition(
                        new, i.unique, &schema, &table, only, &i.method, &info.body,
                    );
                }
                indexes.insert(new.to_string(), i);
            }
        }
        if let Some(info) = info {
            st.index_info.insert(dotted(&owner, new), info);
        }
        st.move_locations("index", &dotted(&owner, &old), &dotted(&owner, new));
    } else {
        // An index that backs a constraint: the constraint is renamed with it.
        let owner = st
            .model
            .tables
            .iter()
            .find(|(_, t)| t.schema == schema && t.constraints.contains_key(&old))
            .map(|(k, _)| k.clone());
        if let Some(owner) = owner {
            rename_constraint(st, &owner, &old, new);
        }
    }
}

fn rename_column(st: &mut State, key: &str, old: &str, new: &str) {
    let mut family = vec![key.to_string()];
    let mut i = 0;
    while i < family.len() {
        if let Some(children) = st.children.get(&family[i]) {
            family.extend(children.iter().cloned());
        }
        i += 1;
    }
    for k in &family {
        let Some(t) = st.model.tables.get_mut(k) else {
            continue;
        };
        let Some(col) = t.columns.iter_mut().find(|c| c.name == old) else {
            continue;
        };
        col.name = new.to_string();
        for c in t.columns.iter_mut() {
            if let Some(g) = c.generated.as_mut() {
                *g = rename_identifier(g, old, new);
            }
        }
        for c in t.constraints.values_mut() {
            c.definition = match c.definition.split_once(" REFERENCES ") {
                Some((own, rest)) => {
                    format!("{} REFERENCES {rest}", rename_identifier(own, old, new))
                }
                None => rename_identifier(&c.definition, old, new),
            };
        }
        for i in t.indexes.values_mut() {
            i.definition = rename_identifier(&i.definition, old, new);
        }
        for p in t.policies.values_mut() {
            p.using = p.using.as_deref().map(|u| rename_identifier(u, old, new));
            p.with_check = p
                .with_check
                .as_deref()
                .map(|u| rename_identifier(u, old, new));
        }
        let names: Vec<String> = t
            .constraints
            .keys()
            .chain(t.indexes.keys())
            .map(|n| dotted(k, n))
            .collect();
        for n in names {
            if let Some(info) = st.index_info.get_mut(&n) {
                info.body = rename_identifier(&info.body, old, new);
                for c in info.keys.iter_mut().chain(info.names.iter_mut()) {
                    if c == old {
                        *c = new.to_string();
                    }
                }
                if info.reads.remove(old) {
                    info.reads.insert(new.to_string());
                }
            }
        }
        st.move_locations("column", &dotted(k, old), &dotted(k, new));
        let owned = dotted(k, old);
        for s in st.model.sequences.values_mut() {
            if s.owned_by.as_deref() == Some(owned.as_str()) {
                s.owned_by = Some(dotted(k, new));
            }
        }
    }
    // Foreign keys of other tables that reference the column.
    for t in st.model.tables.values_mut() {
        for c in t.constraints.values_mut() {
            if c.references.as_deref() != Some(key) {
                continue;
            }
            if let Some((own, rest)) = c.definition.split_once(" REFERENCES ") {
                if let Some((target, tail)) = rest.split_once('(') {
                    if let Some((cols, after)) = tail.split_once(')') {
                        c.definition = format!(
                            "{own} REFERENCES {target}({}){after}",
                            rename_identifier(cols, old, new)
                        );
                    }
                }
            }
        }
    }
}

fn rename_constraint(st: &mut State, key: &str, old: &str, new: &str) {
    let Some(t) = st.model.tables.get_mut(key) else {
        return;
    };
    let schema = t.schema.clone();
    let Some(mut c) = t.constraints.remove(old) else {
        return;
    };
    c.name = new.to_string();
    let indexed = matches!(c.kind.as_str(), "primary_key" | "unique" | "exclusion");
    t.constraints.insert(new.to_string(), c);
    if indexed {
        st.relnames.remove(&dotted(&schema, old));
        st.relnames.insert(dotted(&schema, new));
    }
    st.connames.remove(&dotted(&schema, old));
    st.connames.insert(dotted(&schema, new));
    if let Some(info) = st.index_info.remove(&dotted(key, old)) {
        st.index_info.insert(dotted(key, new), info);
    }
    st.move_locations("constraint", &dotted(key, old), &dotted(key, new));
}

/// Drop a table with what belongs to it (indexes, constraints, owned sequences, partitions).
fn drop_table(st: &mut State, key: &str) {
    let Some(t) = st.model.tables.remove(key) else {
        return;
    };
    st.relnames.remove(key);
    for name in t.indexes.keys() {
        st.relnames.remove(&format!("{}.{name}", t.schema));
        st.index_owner.remove(&format!("{}.{name}", t.schema));
        st.index_info.remove(&dotted(key, name));
    }
    for (name, c) in &t.constraints {
        if matches!(c.kind.as_str(), "primary_key" | "unique" | "exclusion") {
            st.relnames.remove(&format!("{}.{name}", t.schema));
        }
        st.connames.remove(&format!("{}.{name}", t.schema));
        st.index_info.remove(&dotted(key, name));
    }
    let prefix = format!("{key}.");
    let owned: Vec<String> = st
        .model
        .sequences
        .iter()
        .filter(|(_, s)| {
            s.owned_by
                .as_deref()
                .is_some_and(|o| o.starts_with(&prefix))
        })
        .map(|(k, _)| k.clone())
        .collect();
    for s in owned {
        st.model.sequences.remove(&s);
        st.relnames.remove(&s);
        st.forget_location("sequence", &s);
    }
    for kind in ["table", "column", "constraint", "index"] {
        st.forget_locations(kind, key);
    }
    for children in st.children.values_mut() {
        children.retain(|c| c != key);
    }
    if let Some(children) = st.children.remove(key) {
        for child in children {
            let partition = st
                .model
                .tables
                .get(&child)
                .is_some_and(|c| c.partition_of.as_ref().is_some_and(|p| p.parent == key));
            if partition {
                drop_table(st, &child);
            } else if let Some(c) = st.model.tables.get_mut(&child) {
                c.inherits.retain(|p| p != key);
            }
        }
    }
}

pub(crate) fn drop(st: &mut State, s: &DropStmt) {
    let kind = ObjectType::try_from(s.remove_type).unwrap_or(ObjectType::Undefined);
    for object in &s.objects {
        let parts = strings(list_items(object));
        match kind {
            ObjectType::ObjectTable | ObjectType::ObjectForeignTable => {
                if let Some(key) = st.key_of(&parts, |k| st.model.tables.contains_key(k)) {
                    drop_table(st, &key);
                }
            }
            ObjectType::ObjectView | ObjectType::ObjectMatview => {
                if let Some(key) = st.key_of(&parts, |k| st.model.views.contains_key(k)) {
                    if let Some(v) = st.model.views.remove(&key) {
                        st.relnames.remove(&key);
                        for name in v.indexes.keys() {
                            st.relnames.remove(&format!("{}.{name}", v.schema));
                            st.index_owner.remove(&format!("{}.{name}", v.schema));
                        }
                        st.forget_locations("view", &key);
                        st.forget_locations("index", &key);
                    }
                }
            }
            ObjectType::ObjectSequence => {
                if let Some(key) = st.key_of(&parts, |k| st.model.sequences.contains_key(k)) {
                    if st.model.sequences.remove(&key).is_some() {
                        st.relnames.remove(&key);
                        st.forget_location("sequence", &key);
                    }
                }
            }
            ObjectType::ObjectIndex => {
                if let Some(key) = st.key_of(&parts, |k| st.index_owner.contains_key(k)) {
                    if let Some(owner) = st.index_owner.get(&key).cloned() {
                        let (_, name) = split_key(&key);
                        drop_index(st, &owner, name);
                    }
                }
            }
            ObjectType::ObjectFunction
            | ObjectType::ObjectProcedure
            | ObjectType::ObjectRoutine => {
                let Some(NodeEnum::ObjectWithArgs(o)) = &object.node else {
                    continue;
                };
                if let Some(key) = find_function(st, o) {
                    if let Some(f) = st.model.functions.remove(&key) {
                        if let Some(v) = st.funcs.get_mut(&(f.schema.clone(), f.name.clone())) {
                            v.retain(|(k, _)| *k != key);
                        }
                        st.forget_location("function", &key);
                    }
                }
            }
            ObjectType::ObjectType | ObjectType::ObjectDomain => {
                let names = match &object.node {
                    Some(NodeEnum::TypeName(t)) => strings(&t.names),
                    _ => parts,
                };
                if let Some(key) = st.key_of(&names, |k| st.model.types.contains_key(k)) {
                    if st.model.types.remove(&key).is_some() {
                        st.relnames.remove(&key);
                        st.forget_location("type", &key);
                    }
                }
            }
            ObjectType::ObjectSchema => {
                if let Some(name) = str_of(object) {
                    drop_schema(st, name);
                }
            }
            ObjectType::ObjectExtension => {
                if let Some(name) = str_of(object) {
                    st.model.extensions.remove(name);
                }
            }
            ObjectType::ObjectTrigger | ObjectType::ObjectPolicy => {
                let Some((name, table)) = parts.split_last() else {
                    continue;
                };
                let Some(key) = relation_of(st, table) else {
                    continue;
                };
                if kind == ObjectType::ObjectTrigger {
                    if let Some(t) = st.model.tables.get_mut(&key) {
                        t.triggers.remove(name);
                    } else if let Some(v) = st.model.views.get_mut(&key) {
                        v.triggers.remove(name);
                    }
                } else if let Some(t) = st.model.tables.get_mut(&key) {
                    t.policies.remove(name);
                }
            }
            _ => {}
        }
    }
}

/// `DROP SCHEMA` (with what is in it: a successful build needed CASCADE or an empty schema).
fn drop_schema(st: &mut State, name: &str) {
    if st.model.schemas.remove(name).is_none() {
        return;
    }
    st.forget_locations("schema", name);
    let tables: Vec<String> = st
        .model
        .tables
        .values()
        .filter(|t| t.schema == name)
        .map(|t| format!("{}.{}", t.schema, t.name))
        .collect();
    for t in tables {
        drop_table(st, &t);
    }
    st.model.views.retain(|_, v| v.schema != name);
    st.model.sequences.retain(|_, s| s.schema != name);
    st.model.types.retain(|_, t| t.schema != name);
    st.model.functions.retain(|_, f| f.schema != name);
    st.funcs.retain(|(s, _), _| s != name);
    let prefix = format!("{name}.");
    st.relnames.retain(|k| !k.starts_with(&prefix));
    st.locs.objects.retain(|k, _| {
        k.split_once(':')
            .is_none_or(|(_, rest)| !rest.starts_with(&prefix))
    });
}
