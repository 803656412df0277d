//! `GRANT`, `REVOKE` and `ALTER DEFAULT PRIVILEGES` on tables, views, sequences, functions
//! and schemas: privileges upper-case and sorted by grantee, the owner's own left out, as the
//! catalog's ACLs read through `aclexplode`.

use std::collections::BTreeSet;

use confiture_core::schema::Grant;
use pg_query::protobuf::{AlterDefaultPrivilegesStmt, GrantStmt, GrantTargetType, ObjectType};
use pg_query::NodeEnum;

use super::functions::functions_named;
use super::names::{str_of, strings};
use super::tables::role_name;
use super::{Acl, State};

/// Every privilege `ALL` stands for, by object kind.
fn all_privileges(kind: char) -> &'static [&'static str] {
    match kind {
        'r' => &[
            "DELETE",
            "INSERT",
            "MAINTAIN",
            "REFERENCES",
            "SELECT",
            "TRIGGER",
            "TRUNCATE",
            "UPDATE",
        ],
        'S' => &["SELECT", "UPDATE", "USAGE"],
        'f' => &["EXECUTE"],
        'n' => &["CREATE", "USAGE"],
        _ => &[],
    }
}

/// A model grant list → grantee → privileges.
pub(crate) fn to_acl(grants: &[Grant]) -> Acl {
    grants
        .iter()
        .map(|g| (g.grantee.clone(), g.privileges.iter().cloned().collect()))
        .collect()
}

/// Grantee → privileges → the model's grant list (sorted, empty entries dropped).
pub(crate) fn to_grants(acl: &Acl) -> Vec<Grant> {
    acl.iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(grantee, privileges)| Grant {
            grantee: grantee.clone(),
            privileges: privileges.iter().cloned().collect(),
        })
        .collect()
}

/// What a GRANT or REVOKE does to one object's grants. `privileges` empty: ALL.
fn apply(
    grants: &mut Vec<Grant>,
    owner: &str,
    kind: char,
    is_grant: bool,
    privileges: &BTreeSet<String>,
    grantees: &[String],
) {
    let privileges: BTreeSet<String> = if privileges.is_empty() {
        all_privileges(kind).iter().map(|p| p.to_string()).collect()
    } else {
        // A sequence named in GRANT … ON TABLE takes only what sequences have.
        let valid = all_privileges(kind);
        privileges
            .iter()
            .filter(|p| valid.contains(&p.as_str()))
            .cloned()
            .collect()
    };
    let mut acl = to_acl(grants);
    for grantee in grantees {
        if grantee == owner || grantee == "current_user" || grantee == "session_user" {
            continue;
        }
        let entry = acl.entry(grantee.clone()).or_default();
        if is_grant {
            entry.extend(privileges.iter().cloned());
        } else {
            entry.retain(|p| !privileges.contains(p));
        }
    }
    *grants = to_grants(&acl);
}

/// The privileges and grantees of a statement; `None` when only column privileges are named
/// (the model keeps object privileges).
fn parts(s: &GrantStmt) -> Option<(BTreeSet<String>, Vec<String>)> {
    let mut privileges = BTreeSet::new();
    let mut column_only = false;
    for p in &s.privileges {
        if let Some(NodeEnum::AccessPriv(a)) = &p.node {
            if !a.cols.is_empty() {
                column_only = true;
                continue;
            }
            if a.priv_name.is_empty() || a.priv_name == "all" {
                privileges.clear();
                column_only = false;
                break;
            }
            privileges.insert(a.priv_name.to_uppercase());
        }
    }
    if column_only && privileges.is_empty() {
        return None;
    }
    let grantees = s
        .grantees
        .iter()
        .filter_map(|g| match &g.node {
            Some(NodeEnum::RoleSpec(r)) => Some(role_name(r)),
            _ => None,
        })
        .collect();
    Some((privileges, grantees))
}

pub(crate) fn grant(st: &mut State, s: &GrantStmt) {
    // GRANT OPTION FOR only takes the option back.
    if !s.is_grant && s.grant_option {
        return;
    }
    let Some((privileges, grantees)) = parts(s) else {
        return;
    };
    let objtype = ObjectType::try_from(s.objtype).unwrap_or(ObjectType::Undefined);
    let target = GrantTargetType::try_from(s.targtype).unwrap_or(GrantTargetType::Undefined);
    if target == GrantTargetType::AclTargetAllInSchema {
        let schemas: Vec<String> = s
            .objects
            .iter()
            .filter_map(|o| str_of(o).map(str::to_string))
            .collect();
        for schema in schemas {
            all_in_schema(st, objtype, &schema, s.is_grant, &privileges, &grantees);
        }
        return;
    }
    match objtype {
        ObjectType::ObjectTable | ObjectType::ObjectSequence | ObjectType::ObjectView => {
            for o in &s.objects {
                let Some(NodeEnum::RangeVar(rv)) = &o.node else {
                    continue;
                };
                let key = st.relation_key(rv);
                relation(st, &key, s.is_grant, &privileges, &grantees);
            }
        }
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            for key in functions_named(st, &s.objects) {
                if let Some(f) = st.model.functions.get_mut(&key) {
                    apply(
                        &mut f.grants,
                        &f.owner,
                        'f',
                        s.is_grant,
                        &privileges,
                        &grantees,
                    );
                }
            }
        }
        ObjectType::ObjectSchema => {
            for o in &s.objects {
                let Some(name) = str_of(o) else {
                    continue;
                };
                if let Some(n) = st.model.schemas.get_mut(name) {
                    apply(
                        &mut n.grants,
                        &n.owner,
                        'n',
                        s.is_grant,
                        &privileges,
                        &grantees,
                    );
                }
            }
        }
        _ => {}
    }
}

/// A table, view or sequence.
fn relation(
    st: &mut State,
    key: &str,
    is_grant: bool,
    privileges: &BTreeSet<String>,
    grantees: &[String],
) {
    if let Some(t) = st.model.tables.get_mut(key) {
        apply(&mut t.grants, &t.owner, 'r', is_grant, privileges, grantees);
    } else if let Some(v) = st.model.views.get_mut(key) {
        apply(&mut v.grants, &v.owner, 'r', is_grant, privileges, grantees);
    } else if let Some(s) = st.model.sequences.get_mut(key) {
        apply(&mut s.grants, &s.owner, 'S', is_grant, privileges, grantees);
    }
}

/// `… ON ALL TABLES / SEQUENCES / FUNCTIONS IN SCHEMA s`.
fn all_in_schema(
    st: &mut State,
    objtype: ObjectType,
    schema: &str,
    is_grant: bool,
    privileges: &BTreeSet<String>,
    grantees: &[String],
) {
    match objtype {
        ObjectType::ObjectTable => {
            for t in st.model.tables.values_mut().filter(|t| t.schema == schema) {
                apply(&mut t.grants, &t.owner, 'r', is_grant, privileges, grantees);
            }
            for v in st.model.views.values_mut().filter(|v| v.schema == schema) {
                apply(&mut v.grants, &v.owner, 'r', is_grant, privileges, grantees);
            }
        }
        ObjectType::ObjectSequence => {
            for s in st
                .model
                .sequences
                .values_mut()
                .filter(|s| s.schema == schema)
            {
                apply(&mut s.grants, &s.owner, 'S', is_grant, privileges, grantees);
            }
        }
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            let kind = match objtype {
                ObjectType::ObjectFunction => Some("function"),
                ObjectType::ObjectProcedure => Some("procedure"),
                _ => None,
            };
            for f in st
                .model
                .functions
                .values_mut()
                .filter(|f| f.schema == schema)
            {
                let wanted = match kind {
                    Some("function") => f.kind != "procedure",
                    Some(k) => f.kind == k,
                    None => true,
                };
                if wanted {
                    apply(&mut f.grants, &f.owner, 'f', is_grant, privileges, grantees);
                }
            }
        }
        _ => {}
    }
}

/// `ALTER DEFAULT PRIVILEGES [IN SCHEMA s] GRANT/REVOKE … ON TABLES/SEQUENCES/FUNCTIONS/SCHEMAS`:
/// applies to objects created afterwards (whoever creates them: the build runs as one role).
pub(crate) fn default_privileges(st: &mut State, s: &AlterDefaultPrivilegesStmt) {
    let Some(action) = &s.action else {
        return;
    };
    if !action.is_grant && action.grant_option {
        return;
    }
    let Some((privileges, grantees)) = parts(action) else {
        return;
    };
    let kind = match ObjectType::try_from(action.objtype) {
        Ok(ObjectType::ObjectTable) => 'r',
        Ok(ObjectType::ObjectSequence) => 'S',
        Ok(
            ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine,
        ) => 'f',
        Ok(ObjectType::ObjectSchema) => 'n',
        _ => return,
    };
    let mut schemas = Vec::new();
    for o in &s.options {
        if let Some(NodeEnum::DefElem(d)) = &o.node {
            if d.defname == "schemas" {
                if let Some(NodeEnum::List(l)) = d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                    schemas.extend(strings(&l.items));
                }
            }
        }
    }
    if schemas.is_empty() {
        schemas.push(String::new());
    }
    for schema in schemas {
        let entry = st.default_acl.entry((kind, schema)).or_default();
        let mut grants = to_grants(entry);
        apply(
            &mut grants,
            "",
            kind,
            action.is_grant,
            &privileges,
            &grantees,
        );
        *entry = to_acl(&grants);
    }
}
