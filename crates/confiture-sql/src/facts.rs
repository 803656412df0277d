//! What one statement defines, changes and uses, read from its PostgreSQL parse tree.
//!
//! Specific statement kinds say what they define (`CREATE TABLE` a relation and its row type,
//! `CREATE FUNCTION` a function by name, …) and the non-obvious things they use (a trigger's
//! function, a comment's object, a grant's objects and roles). Everything a statement mentions
//! anywhere else (relations, type names, function calls) is found by a generic walk of the tree,
//! so a new statement kind is still ordered by what it references.

use pg_query::protobuf::{
    self, node::Node as N, ConstrType, GrantTargetType, ObjectType, VariableSetKind,
};

use crate::names::{Kind, ObjectName};
use crate::walk::references;

/// The facts of one statement.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub defines: Vec<ObjectName>,
    /// Objects the statement alters (`ALTER TABLE t …`): later users of `t` come after it.
    pub modifies: Vec<ObjectName>,
    pub requires: Vec<Requirement>,
    /// Foreign keys declared inside a `CREATE TABLE`; they can be moved out to break a cycle.
    pub foreign_keys: Vec<ForeignKey>,
    /// Tables the statement makes `table` reference by foreign key (`CREATE TABLE`, `ALTER TABLE
    /// … ADD FOREIGN KEY`): seeds of `table` must come after seeds of these.
    pub references: Vec<(ObjectName, ObjectName)>,
    /// The table whose rows the statement writes (`INSERT`, `UPDATE`, `DELETE`, `COPY FROM`, `MERGE`).
    pub writes_rows_of: Option<ObjectName>,
    /// `SET search_path …` / `RESET search_path`: the new path (`Some(vec![])` never; `None`
    /// inside means back to the default).
    pub sets_search_path: Option<Option<Vec<String>>>,
    /// What it does cannot be seen (`DO` blocks): nothing moves across it.
    pub barrier: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub object: ObjectName,
    pub via: Via,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A plain reference: the object must exist first.
    Reference,
    /// The `i`-th entry of `Facts::foreign_keys`.
    ForeignKey(usize),
    /// Every relation (or function, for `kind == Function`) of a schema: `GRANT … ON ALL TABLES IN SCHEMA`.
    AllInSchema,
}

/// Where a foreign key sits in a `CREATE TABLE`, so it can be cut out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub target: ObjectName,
    /// Index in `table_elts` of the column definition holding it, for a column constraint.
    pub column: Option<usize>,
    /// Index in the column's (or the table's) constraint list.
    pub constraint: usize,
    /// The constraint name when written.
    pub name: Option<String>,
}

/// Analyze one parsed statement.
pub fn analyze(stmt: &N) -> Facts {
    let mut facts = Facts::default();
    specific(stmt, &mut facts);
    let mut fk_locations = Vec::new();
    if let N::CreateStmt(create) = stmt {
        fk_locations = create_table_fks(create, &mut facts);
    }
    // Statements that read or write rows come after the earlier statements writing the rows
    // of every table they mention (`INSERT … SELECT`, `setval(…, (SELECT max(id) …))`).
    let touches_rows = matches!(
        stmt,
        N::InsertStmt(_)
            | N::UpdateStmt(_)
            | N::DeleteStmt(_)
            | N::MergeStmt(_)
            | N::SelectStmt(_)
            | N::CopyStmt(_)
            | N::CallStmt(_)
    );
    for (object, location) in references(stmt) {
        if fk_locations.contains(&location) {
            continue;
        }
        if touches_rows && object.kind == Kind::Relation {
            facts.requires.push(Requirement {
                object: object.with_kind(Kind::Data),
                via: Via::Reference,
            });
        }
        facts.requires.push(Requirement {
            object,
            via: Via::Reference,
        });
    }
    finish(&mut facts);
    facts
}

/// Drop self-references and duplicates; every qualified name needs its schema.
fn finish(facts: &mut Facts) {
    let defined = facts.defines.clone();
    facts
        .requires
        .retain(|r| !defined.iter().any(|d| same_object(d, &r.object)));
    let mut schemas: Vec<ObjectName> = facts
        .defines
        .iter()
        .chain(facts.modifies.iter())
        .chain(facts.requires.iter().map(|r| &r.object))
        .filter(|o| o.kind != Kind::Schema)
        .filter_map(|o| o.schema.as_deref())
        .map(|s| ObjectName::new(Kind::Schema, None, s))
        .collect();
    schemas.sort();
    schemas.dedup();
    for schema in schemas {
        if !defined.contains(&schema) {
            facts.requires.push(Requirement {
                object: schema,
                via: Via::Reference,
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    facts
        .requires
        .retain(|r| seen.insert((r.object.clone(), format!("{:?}", r.via))));
}

/// The same object as written: an unqualified use of `users` in `CREATE VIEW api.users` is
/// another object (the search path decides which), not the view itself.
fn same_object(defined: &ObjectName, used: &ObjectName) -> bool {
    let kinds_match = defined.kind == used.kind
        || (defined.kind == Kind::Relation && used.kind == Kind::Type)
        || (defined.kind == Kind::Type && used.kind == Kind::Relation);
    kinds_match && defined.name == used.name && defined.schema == used.schema
}

fn specific(stmt: &N, facts: &mut Facts) {
    match stmt {
        N::CreateSchemaStmt(s) => {
            facts
                .defines
                .push(ObjectName::new(Kind::Schema, None, &s.schemaname));
            if let Some(role) = &s.authrole {
                require_role(facts, role);
            }
        }
        N::CreateExtensionStmt(s) => {
            facts
                .defines
                .push(ObjectName::new(Kind::Extension, None, &s.extname));
            for opt in def_elems(&s.options) {
                if opt.defname == "schema" {
                    if let Some(schema) = opt.arg.as_deref().and_then(node_string) {
                        require(facts, ObjectName::new(Kind::Schema, None, &schema));
                    }
                }
            }
        }
        N::CreateRoleStmt(s) => facts
            .defines
            .push(ObjectName::new(Kind::Role, None, &s.role)),
        N::GrantRoleStmt(s) => {
            for role in &s.granted_roles {
                if let Some(N::AccessPriv(p)) = &role.node {
                    require(facts, ObjectName::new(Kind::Role, None, &p.priv_name));
                }
            }
        }
        N::CreateStmt(s) => {
            define_relation(facts, s.relation.as_ref());
            define_implicit_sequences(facts, s);
            if let Some(rel) = &s.relation {
                facts.defines.push(range_var(Kind::Keys, rel));
            }
        }
        N::CreateCastStmt(s) => {
            if let Some(f) = &s.func {
                if let Some(name) = ObjectName::from_parts(Kind::Function, &strings(&f.objname)) {
                    require(facts, name);
                }
            }
        }
        N::VariableSetStmt(s) if s.name.eq_ignore_ascii_case("search_path") => {
            facts.sets_search_path = Some(match VariableSetKind::try_from(s.kind) {
                Ok(VariableSetKind::VarSetValue) => Some(
                    s.args
                        .iter()
                        .filter_map(|a| match &a.node {
                            Some(N::AConst(c)) => match &c.val {
                                Some(protobuf::a_const::Val::Sval(v)) => Some(v.sval.clone()),
                                _ => None,
                            },
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            });
        }
        N::VariableSetStmt(s)
            if VariableSetKind::try_from(s.kind) == Ok(VariableSetKind::VarResetAll) =>
        {
            facts.sets_search_path = Some(None);
        }
        N::DoStmt(_) => facts.barrier = true,
        N::CreateForeignTableStmt(s) => {
            if let Some(base) = &s.base_stmt {
                define_relation(facts, base.relation.as_ref());
            }
        }
        N::ViewStmt(s) => define_relation(facts, s.view.as_ref()),
        N::CreateTableAsStmt(s) => {
            define_relation(facts, s.into.as_ref().and_then(|i| i.rel.as_ref()))
        }
        N::CreateSeqStmt(s) => {
            if let Some(rel) = &s.sequence {
                facts.defines.push(range_var(Kind::Relation, rel));
            }
        }
        N::CompositeTypeStmt(s) => {
            if let Some(rel) = &s.typevar {
                facts.defines.push(range_var(Kind::Type, rel));
            }
        }
        N::CreateEnumStmt(s) => define_parts(facts, Kind::Type, &s.type_name),
        N::CreateRangeStmt(s) => define_parts(facts, Kind::Type, &s.type_name),
        N::CreateDomainStmt(s) => define_parts(facts, Kind::Type, &s.domainname),
        N::DefineStmt(s) => {
            match ObjectType::try_from(s.kind) {
                Ok(ObjectType::ObjectType) => define_parts(facts, Kind::Type, &s.defnames),
                Ok(ObjectType::ObjectAggregate) => define_parts(facts, Kind::Function, &s.defnames),
                _ => {}
            }
            // `sfunc = my_add`, `FUNCTION = f`, `restrict = …`: functions, written as type names.
            for opt in def_elems(&s.definition) {
                let is_function = opt.defname.ends_with("func")
                    || matches!(
                        opt.defname.as_str(),
                        "function"
                            | "procedure"
                            | "restrict"
                            | "join"
                            | "subtype_diff"
                            | "canonical"
                    );
                if let (true, Some(N::TypeName(t))) = (
                    is_function,
                    opt.arg.as_deref().and_then(|a| a.node.as_ref()),
                ) {
                    if let Some(f) = ObjectName::from_parts(Kind::Function, &strings(&t.names)) {
                        require(facts, f);
                    }
                }
            }
        }
        N::CreateFunctionStmt(s) => {
            define_parts(facts, Kind::Function, &s.funcname);
            sql_function_body(s, facts);
        }
        N::CreateTrigStmt(s) => {
            if let Some(f) = ObjectName::from_parts(Kind::Function, &strings(&s.funcname)) {
                require(facts, f);
            }
            define_member(facts, s.relation.as_ref(), &s.trigname);
        }
        N::CreatePolicyStmt(s) => define_member(facts, s.table.as_ref(), &s.policy_name),
        N::IndexStmt(s) => {
            if let Some(rel) = &s.relation {
                if s.unique || s.primary {
                    facts.defines.push(range_var(Kind::Keys, rel));
                }
                if !s.idxname.is_empty() {
                    let schema = Some(rel.schemaname.as_str());
                    facts
                        .defines
                        .push(ObjectName::new(Kind::Relation, schema, &s.idxname));
                }
            }
        }
        N::AlterTableStmt(s) => {
            if let Some(rel) = &s.relation {
                let table = range_var(Kind::Relation, rel);
                facts.modifies.push(table.clone());
                for cmd in &s.cmds {
                    let Some(N::AlterTableCmd(cmd)) = &cmd.node else {
                        continue;
                    };
                    // ADD CONSTRAINT …, or ADD COLUMN … REFERENCES / PRIMARY KEY / UNIQUE.
                    let constraints: Vec<&protobuf::Constraint> =
                        match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
                            Some(N::Constraint(c)) => vec![c],
                            Some(N::ColumnDef(col)) => col
                                .constraints
                                .iter()
                                .filter_map(|c| match &c.node {
                                    Some(N::Constraint(c)) => Some(c.as_ref()),
                                    _ => None,
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                    for c in constraints {
                        match ConstrType::try_from(c.contype) {
                            Ok(ConstrType::ConstrForeign) => {
                                if let Some(target) = &c.pktable {
                                    facts
                                        .references
                                        .push((table.clone(), range_var(Kind::Relation, target)));
                                }
                            }
                            Ok(ConstrType::ConstrPrimary | ConstrType::ConstrUnique) => {
                                facts.defines.push(table.with_kind(Kind::Keys));
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        N::CommentStmt(s) => {
            if let Some(object) = s.object.as_deref().and_then(|n| n.node.as_ref()) {
                require_object(facts, s.objtype, object);
            }
        }
        N::GrantStmt(s) => grant(facts, s),
        N::InsertStmt(s) => writes(facts, s.relation.as_ref()),
        N::UpdateStmt(s) => writes(facts, s.relation.as_ref()),
        N::DeleteStmt(s) => writes(facts, s.relation.as_ref()),
        N::MergeStmt(s) => writes(facts, s.relation.as_ref()),
        N::CopyStmt(s) if s.is_from => writes(facts, s.relation.as_ref()),
        _ => {}
    }
}

fn define_relation(facts: &mut Facts, rel: Option<&protobuf::RangeVar>) {
    if let Some(rel) = rel {
        facts.defines.push(range_var(Kind::Relation, rel));
        facts.defines.push(range_var(Kind::Type, rel));
    }
}

/// `serial` columns and identity columns create a sequence `<table>_<column>_seq`.
fn define_implicit_sequences(facts: &mut Facts, create: &protobuf::CreateStmt) {
    let Some(rel) = &create.relation else { return };
    for elt in &create.table_elts {
        let Some(N::ColumnDef(col)) = &elt.node else {
            continue;
        };
        let type_name = col
            .type_name
            .as_ref()
            .map(|t| strings(&t.names))
            .unwrap_or_default();
        let serial = type_name.last().is_some_and(|t| {
            matches!(
                t.as_str(),
                "serial" | "bigserial" | "smallserial" | "serial2" | "serial4" | "serial8"
            )
        });
        let identity = col
            .constraints
            .iter()
            .any(|c| matches!(&c.node, Some(N::Constraint(c)) if c.contype == ConstrType::ConstrIdentity as i32));
        if serial || identity {
            let name = format!("{}_{}_seq", rel.relname, col.colname);
            facts.defines.push(ObjectName::new(
                Kind::Relation,
                Some(&rel.schemaname),
                &name,
            ));
        }
    }
}

/// A trigger or policy: named within its table.
fn member(table: &ObjectName, name: &str) -> ObjectName {
    ObjectName::new(
        Kind::Member,
        table.schema.as_deref(),
        &format!("{}.{name}", table.name),
    )
}

fn define_member(facts: &mut Facts, table: Option<&protobuf::RangeVar>, name: &str) {
    if let (Some(table), false) = (table, name.is_empty()) {
        facts
            .defines
            .push(member(&range_var(Kind::Relation, table), name));
    }
}

fn define_parts(facts: &mut Facts, kind: Kind, parts: &[protobuf::Node]) {
    if let Some(name) = ObjectName::from_parts(kind, &strings(parts)) {
        facts.defines.push(name);
    }
}

fn require(facts: &mut Facts, object: ObjectName) {
    facts.requires.push(Requirement {
        object,
        via: Via::Reference,
    });
}

fn require_role(facts: &mut Facts, role: &protobuf::RoleSpec) {
    if !role.rolename.is_empty() {
        require(facts, ObjectName::new(Kind::Role, None, &role.rolename));
    }
}

fn writes(facts: &mut Facts, rel: Option<&protobuf::RangeVar>) {
    if let Some(rel) = rel {
        let data = range_var(Kind::Data, rel);
        facts.modifies.push(data.clone());
        require(facts, data.clone());
        facts.writes_rows_of = Some(data.with_kind(Kind::Relation));
    }
}

/// The foreign keys of a `CREATE TABLE`; returns the locations of their referenced-table
/// `RangeVar`s so the generic walk does not count them twice.
fn create_table_fks(create: &protobuf::CreateStmt, facts: &mut Facts) -> Vec<i64> {
    let Some(table) = create
        .relation
        .as_ref()
        .map(|r| range_var(Kind::Relation, r))
    else {
        return Vec::new();
    };
    let mut locations = Vec::new();
    let mut add =
        |facts: &mut Facts, column: Option<usize>, constraint: usize, c: &protobuf::Constraint| {
            let Some(target) = &c.pktable else { return };
            let target_name = range_var(Kind::Relation, target);
            locations.push(i64::from(target.location));
            facts.references.push((table.clone(), target_name.clone()));
            if same_object(&table, &target_name) {
                return; // A self-reference needs nothing first.
            }
            facts.foreign_keys.push(ForeignKey {
                target: target_name.clone(),
                column,
                constraint,
                name: (!c.conname.is_empty()).then(|| c.conname.clone()),
            });
            let via = Via::ForeignKey(facts.foreign_keys.len() - 1);
            // The referenced columns need a unique key, wherever it is declared.
            facts.requires.push(Requirement {
                object: target_name.with_kind(Kind::Keys),
                via,
            });
            facts.requires.push(Requirement {
                object: target_name,
                via,
            });
        };
    for (elt_index, elt) in create.table_elts.iter().enumerate() {
        match &elt.node {
            Some(N::ColumnDef(col)) => {
                for (i, c) in col.constraints.iter().enumerate() {
                    if let Some(N::Constraint(c)) = &c.node {
                        if c.contype == ConstrType::ConstrForeign as i32 {
                            add(facts, Some(elt_index), i, c);
                        }
                    }
                }
            }
            Some(N::Constraint(c)) if c.contype == ConstrType::ConstrForeign as i32 => {
                add(facts, None, elt_index, c);
            }
            _ => {}
        }
    }
    locations
}

/// A `LANGUAGE sql` function with a string body is checked against the catalog when created
/// (`check_function_bodies`), so what its body uses must exist first. PL/pgSQL bodies are not.
fn sql_function_body(f: &protobuf::CreateFunctionStmt, facts: &mut Facts) {
    let options = def_elems(&f.options);
    let is_sql = options.iter().any(|o| {
        o.defname == "language"
            && o.arg
                .as_deref()
                .and_then(node_string)
                .is_some_and(|l| l.eq_ignore_ascii_case("sql"))
    });
    if !is_sql {
        return;
    }
    let body = options.iter().find(|o| o.defname == "as").and_then(|o| {
        match o.arg.as_deref().and_then(|a| a.node.as_ref()) {
            Some(N::List(list)) => strings(&list.items).into_iter().next(),
            _ => None,
        }
    });
    let Some(body) = body else { return };
    let Ok(parsed) = pg_query::parse(&body, 0) else {
        return; // The server reports a broken body with its own message.
    };
    for raw in &parsed.protobuf.stmts {
        if let Some(stmt) = raw.stmt.as_deref() {
            for (object, _) in references(stmt) {
                require(facts, object);
            }
        }
    }
}

fn require_object(facts: &mut Facts, objtype: i32, object: &N) {
    let Ok(objtype) = ObjectType::try_from(objtype) else {
        return;
    };
    let parts = || match object {
        N::List(list) => strings(&list.items),
        N::String(s) => vec![s.sval.clone()],
        _ => Vec::new(),
    };
    let found = match objtype {
        ObjectType::ObjectTable
        | ObjectType::ObjectView
        | ObjectType::ObjectMatview
        | ObjectType::ObjectSequence
        | ObjectType::ObjectIndex
        | ObjectType::ObjectForeignTable => ObjectName::from_parts(Kind::Relation, &parts()),
        // `trigger ON table`, `policy ON table`: the trigger or policy itself.
        ObjectType::ObjectTrigger | ObjectType::ObjectPolicy => {
            let p = parts();
            if let [table_parts @ .., name] = p.as_slice() {
                if let Some(table) = ObjectName::from_parts(Kind::Relation, table_parts) {
                    require(facts, member(&table, name));
                }
            }
            ObjectName::from_parts(Kind::Relation, &p[..p.len().saturating_sub(1)])
        }
        // `table.column`, `constraint ON table`, `rule ON table`.
        ObjectType::ObjectColumn | ObjectType::ObjectTabconstraint | ObjectType::ObjectRule => {
            let p = parts();
            ObjectName::from_parts(Kind::Relation, &p[..p.len().saturating_sub(1)])
        }
        ObjectType::ObjectSchema => ObjectName::from_parts(Kind::Schema, &parts()),
        ObjectType::ObjectExtension => ObjectName::from_parts(Kind::Extension, &parts()),
        ObjectType::ObjectRole => ObjectName::from_parts(Kind::Role, &parts()),
        ObjectType::ObjectFunction
        | ObjectType::ObjectProcedure
        | ObjectType::ObjectRoutine
        | ObjectType::ObjectAggregate => match object {
            N::ObjectWithArgs(o) => ObjectName::from_parts(Kind::Function, &strings(&o.objname)),
            _ => None,
        },
        ObjectType::ObjectDomconstraint => None, // The domain's TypeName is found by the walk.
        _ => None,
    };
    if let Some(found) = found {
        require(facts, found);
    }
}

fn grant(facts: &mut Facts, g: &protobuf::GrantStmt) {
    for grantee in &g.grantees {
        if let Some(N::RoleSpec(role)) = &grantee.node {
            require_role(facts, role);
        }
    }
    let Ok(objtype) = ObjectType::try_from(g.objtype) else {
        return;
    };
    if g.targtype == GrantTargetType::AclTargetAllInSchema as i32 {
        let kind = match objtype {
            ObjectType::ObjectFunction
            | ObjectType::ObjectProcedure
            | ObjectType::ObjectRoutine => Kind::Function,
            _ => Kind::Relation,
        };
        for schema in strings(&g.objects) {
            facts.requires.push(Requirement {
                object: ObjectName::new(kind, Some(&schema), "*"),
                via: Via::AllInSchema,
            });
        }
        return;
    }
    for object in &g.objects {
        if let Some(node) = &object.node {
            // Tables and sequences are RangeVars (found by the walk); the rest are named here.
            require_object(facts, g.objtype, node);
        }
    }
}

// ---- typed helpers -----------------------------------------------------------------------

fn range_var(kind: Kind, rel: &protobuf::RangeVar) -> ObjectName {
    ObjectName::new(kind, Some(rel.schemaname.as_str()), &rel.relname)
}

pub(crate) fn strings(nodes: &[protobuf::Node]) -> Vec<String> {
    nodes.iter().filter_map(node_string).collect()
}

fn node_string(node: &protobuf::Node) -> Option<String> {
    match &node.node {
        Some(N::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

fn def_elems(options: &[protobuf::Node]) -> Vec<&protobuf::DefElem> {
    options
        .iter()
        .filter_map(|o| match &o.node {
            Some(N::DefElem(d)) => Some(d.as_ref()),
            _ => None,
        })
        .collect()
}
