//! `CREATE FUNCTION / PROCEDURE` and `ALTER FUNCTION`: keys with
//! `pg_get_function_identity_arguments`, results as `pg_get_function_result`, `proconfig`
//! entries, and the `EXECUTE` PostgreSQL grants `PUBLIC` by default.

use confiture_core::schema::Function;
use pg_query::protobuf::{
    a_const, AlterFunctionStmt, CreateFunctionStmt, DefElem, FunctionParameterMode, Node,
    ObjectWithArgs, VariableSetKind, VariableSetStmt,
};
use pg_query::NodeEnum;

use super::names::{quote_identifier, split_name, strings};
use super::types::format_type;
use super::{Here, State};

/// Settings whose list elements `flatten_set_variable_args` quotes as identifiers.
const LIST_QUOTE: [&str; 5] = [
    "search_path",
    "temp_tablespaces",
    "session_preload_libraries",
    "shared_preload_libraries",
    "local_preload_libraries",
];

/// The catalog's spelling of a setting's name (a few are mixed case).
fn setting_name(name: &str) -> String {
    match name {
        "timezone" => "TimeZone".into(),
        "datestyle" => "DateStyle".into(),
        "intervalstyle" => "IntervalStyle".into(),
        _ => name.to_string(),
    }
}

/// A `SET name = value` clause as a `proconfig` entry (`search_path=pg_catalog, public`);
/// `None` for resets and `FROM CURRENT` of anything but the search path (unknown statically).
fn config_entry(v: &VariableSetStmt, search_path: &[String]) -> Option<String> {
    match VariableSetKind::try_from(v.kind) {
        Ok(VariableSetKind::VarSetValue) => {}
        Ok(VariableSetKind::VarSetCurrent) if v.name == "search_path" => {
            let path: Vec<String> = search_path.iter().map(|s| quote_identifier(s)).collect();
            return Some(format!("search_path={}", path.join(", ")));
        }
        _ => return None,
    }
    let quote = LIST_QUOTE.contains(&v.name.as_str());
    let values: Vec<String> = v
        .args
        .iter()
        .filter_map(|a| match &a.node {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(a_const::Val::Sval(s)) if quote => Some(quote_identifier(&s.sval)),
                Some(a_const::Val::Sval(s)) => Some(s.sval.clone()),
                Some(a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                Some(a_const::Val::Fval(f)) => Some(f.fval.clone()),
                Some(a_const::Val::Boolval(b)) => Some(if b.boolval { "on" } else { "off" }.into()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    Some(format!("{}={}", setting_name(&v.name), values.join(", ")))
}

/// Apply a `SET`/`RESET` clause to a function's configuration (same name replaced in place).
fn apply_set(config: &mut Vec<String>, v: &VariableSetStmt, search_path: &[String]) {
    let kind = VariableSetKind::try_from(v.kind).unwrap_or(VariableSetKind::Undefined);
    if kind == VariableSetKind::VarResetAll {
        config.clear();
        return;
    }
    let prefix = format!("{}=", setting_name(&v.name));
    match config_entry(v, search_path) {
        Some(entry) => match config.iter_mut().find(|c| c.starts_with(&prefix)) {
            Some(existing) => *existing = entry,
            None => config.push(entry),
        },
        None if matches!(
            kind,
            VariableSetKind::VarSetDefault | VariableSetKind::VarReset
        ) =>
        {
            config.retain(|c| !c.starts_with(&prefix));
        }
        None => {}
    }
}

fn def_bool(d: &DefElem) -> bool {
    match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::Boolean(b)) => b.boolval,
        Some(NodeEnum::Integer(i)) => i.ival != 0,
        None => true,
        _ => false,
    }
}

fn def_string(d: &DefElem) -> Option<String> {
    match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::String(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

/// Apply the attribute options common to CREATE and ALTER FUNCTION.
fn apply_option(f: &mut Function, d: &DefElem, search_path: &[String]) {
    match d.defname.as_str() {
        "language" => {
            if let Some(l) = def_string(d) {
                f.language = l.to_lowercase();
            }
        }
        "volatility" => {
            if let Some(v) = def_string(d) {
                f.volatility = v;
            }
        }
        "strict" => f.strict = def_bool(d),
        "security" => f.security_definer = def_bool(d),
        "window" if def_bool(d) => {
            f.kind = "window".into();
        }
        "set" => {
            if let Some(NodeEnum::VariableSetStmt(v)) =
                d.arg.as_deref().and_then(|a| a.node.as_ref())
            {
                apply_set(&mut f.config, v, search_path);
            }
        }
        _ => {}
    }
}

pub(crate) fn create_function(st: &mut State, s: &CreateFunctionStmt, here: &Here) {
    let parts = strings(&s.funcname);
    let Some((schema, name)) = split_name(&parts) else {
        return;
    };
    let schema = schema.map_or_else(|| st.creation_schema(), str::to_string);
    let name = name.to_string();
    let mut args = Vec::new();
    let mut inputs = Vec::new();
    let mut table_columns = Vec::new();
    let mut outs = Vec::new();
    for p in &s.parameters {
        let Some(NodeEnum::FunctionParameter(p)) = &p.node else {
            continue;
        };
        let ty = p
            .arg_type
            .as_ref()
            .map(|t| format_type(st, t, false))
            .unwrap_or_default();
        let mode = FunctionParameterMode::try_from(p.mode)
            .unwrap_or(FunctionParameterMode::FuncParamDefault);
        let named = if p.name.is_empty() {
            ty.clone()
        } else {
            format!("{} {ty}", quote_identifier(&p.name))
        };
        let prefix = match mode {
            FunctionParameterMode::FuncParamTable => {
                table_columns.push(named);
                continue;
            }
            FunctionParameterMode::FuncParamOut => {
                outs.push(ty.clone());
                "OUT "
            }
            FunctionParameterMode::FuncParamInout => {
                outs.push(ty.clone());
                inputs.push(ty.clone());
                "INOUT "
            }
            FunctionParameterMode::FuncParamVariadic => {
                inputs.push(ty.clone());
                "VARIADIC "
            }
            _ => {
                inputs.push(ty.clone());
                if s.is_procedure {
                    "IN "
                } else {
                    ""
                }
            }
        };
        args.push(format!("{prefix}{named}"));
    }
    let arguments = args.join(", ");
    let returns = if s.is_procedure {
        None
    } else if !table_columns.is_empty() {
        Some(format!("TABLE({})", table_columns.join(", ")))
    } else if let Some(rt) = &s.return_type {
        let ty = format_type(st, rt, false);
        Some(if rt.setof { format!("SETOF {ty}") } else { ty })
    } else {
        Some(match outs.as_slice() {
            [one] => one.clone(),
            [] => "void".into(),
            _ => "record".into(),
        })
    };
    let key = format!("{schema}.{name}({arguments})");
    let previous = st.model.functions.remove(&key);
    let mut f = Function {
        schema: schema.clone(),
        name: name.clone(),
        kind: if s.is_procedure {
            "procedure"
        } else {
            "function"
        }
        .into(),
        arguments,
        returns,
        language: "sql".into(),
        volatility: "volatile".into(),
        security_definer: false,
        strict: false,
        config: Vec::new(),
        definition: here.text().to_string(),
        body_fingerprint: String::new(),
        owner: String::new(),
        comment: None,
        grants: Vec::new(),
    };
    for o in &s.options {
        if let Some(NodeEnum::DefElem(d)) = &o.node {
            apply_option(&mut f, d, &st.search_path);
        }
    }
    match previous {
        // OR REPLACE keeps the owner, comment and privileges.
        Some(p) => {
            f.owner = p.owner;
            f.comment = p.comment;
            f.grants = p.grants;
        }
        None => {
            f.grants = st.initial_grants('f', &schema);
            let entry = st.funcs.entry((schema, name)).or_default();
            if !entry.iter().any(|(k, _)| *k == key) {
                entry.push((key.clone(), inputs));
            }
        }
    }
    st.locate("function", &key, here.loc());
    st.model.functions.insert(key, f);
}

/// The model key of the function an `ObjectWithArgs` names (`f(integer, text)`, or `f` alone
/// when its name is unique).
pub(crate) fn find_function(st: &State, o: &ObjectWithArgs) -> Option<String> {
    let parts = strings(&o.objname);
    let (schema, name) = split_name(&parts)?;
    let schemas: Vec<String> = match schema {
        Some(s) => vec![s.to_string()],
        None => st.search_path.clone(),
    };
    let wanted: Vec<String> = o
        .objargs
        .iter()
        .filter_map(|a| match &a.node {
            Some(NodeEnum::TypeName(t)) => Some(format_type(st, t, false)),
            _ => None,
        })
        .collect();
    for s in schemas {
        let Some(candidates) = st.funcs.get(&(s, name.to_string())) else {
            continue;
        };
        let live: Vec<&(String, Vec<String>)> = candidates
            .iter()
            .filter(|(k, _)| st.model.functions.contains_key(k))
            .collect();
        if o.args_unspecified {
            if let [one] = live.as_slice() {
                return Some(one.0.clone());
            }
            continue;
        }
        if let Some((k, _)) = live.iter().find(|(_, inputs)| *inputs == wanted) {
            return Some(k.clone());
        }
    }
    None
}

pub(crate) fn alter_function(st: &mut State, s: &AlterFunctionStmt) {
    let Some(o) = &s.func else {
        return;
    };
    let Some(key) = find_function(st, o) else {
        return;
    };
    let Some(f) = st.model.functions.get_mut(&key) else {
        return;
    };
    for a in &s.actions {
        if let Some(NodeEnum::DefElem(d)) = &a.node {
            apply_option(f, d, &st.search_path);
        }
    }
}

/// Functions named by a list of `ObjectWithArgs` nodes (GRANT, DROP, COMMENT).
pub(crate) fn functions_named(st: &State, objects: &[Node]) -> Vec<String> {
    objects
        .iter()
        .filter_map(|o| match &o.node {
            Some(NodeEnum::ObjectWithArgs(o)) => find_function(st, o),
            _ => None,
        })
        .collect()
}
