//! Type names as `format_type` prints them, and the statements that define types, domains and
//! sequences.

use std::collections::BTreeMap;

use confiture_core::schema::{Sequence, TypeDef, TypeKind};
use pg_query::protobuf::{
    a_const, AlterDomainStmt, AlterEnumStmt, AlterSeqStmt, CompositeTypeStmt, ConstrType,
    CreateDomainStmt, CreateEnumStmt, CreateSeqStmt, DefElem, Node, TypeName,
};
use pg_query::NodeEnum;

use super::expr::{self, Cx};
use super::names::{choose_name, quote_identifier, split_name, str_of, strings};
use super::{dotted, Here, State};

/// `INTERVAL_FULL_RANGE`: an interval typmod without fields.
const INTERVAL_FULL_RANGE: i32 = 0x7FFF;

/// The `format_type` spelling of a built-in type's internal or SQL name, with whether it
/// takes a typmod printed in parentheses.
fn builtin(name: &str) -> Option<&'static str> {
    Some(match name {
        "int2" | "smallint" => "smallint",
        "int4" | "int" | "integer" => "integer",
        "int8" | "bigint" => "bigint",
        "float4" | "real" => "real",
        "float8" => "double precision",
        "numeric" | "decimal" => "numeric",
        "bool" | "boolean" => "boolean",
        "varchar" => "character varying",
        "bpchar" => "character",
        "char" => "\"char\"",
        "timestamp" => "timestamp without time zone",
        "timestamptz" => "timestamp with time zone",
        "time" => "time without time zone",
        "timetz" => "time with time zone",
        "interval" => "interval",
        "bit" => "bit",
        "varbit" => "bit varying",
        "text" => "text",
        "name" => "name",
        "bytea" => "bytea",
        "uuid" => "uuid",
        "json" => "json",
        "jsonb" => "jsonb",
        "jsonpath" => "jsonpath",
        "xml" => "xml",
        "date" => "date",
        "inet" => "inet",
        "cidr" => "cidr",
        "macaddr" => "macaddr",
        "macaddr8" => "macaddr8",
        "money" => "money",
        "tsvector" => "tsvector",
        "tsquery" => "tsquery",
        "oid" => "oid",
        "xid" => "xid",
        "xid8" => "xid8",
        "cid" => "cid",
        "tid" => "tid",
        "regclass" => "regclass",
        "regtype" => "regtype",
        "regproc" => "regproc",
        "regprocedure" => "regprocedure",
        "regoper" => "regoper",
        "regoperator" => "regoperator",
        "regnamespace" => "regnamespace",
        "regrole" => "regrole",
        "regconfig" => "regconfig",
        "regdictionary" => "regdictionary",
        "regcollation" => "regcollation",
        "point" => "point",
        "line" => "line",
        "lseg" => "lseg",
        "box" => "box",
        "path" => "path",
        "polygon" => "polygon",
        "circle" => "circle",
        "int4range" => "int4range",
        "int8range" => "int8range",
        "numrange" => "numrange",
        "tsrange" => "tsrange",
        "tstzrange" => "tstzrange",
        "daterange" => "daterange",
        "int4multirange" => "int4multirange",
        "int8multirange" => "int8multirange",
        "nummultirange" => "nummultirange",
        "tsmultirange" => "tsmultirange",
        "tstzmultirange" => "tstzmultirange",
        "datemultirange" => "datemultirange",
        "pg_lsn" => "pg_lsn",
        "pg_snapshot" => "pg_snapshot",
        "txid_snapshot" => "txid_snapshot",
        "refcursor" => "refcursor",
        "void" => "void",
        "trigger" => "trigger",
        "event_trigger" => "event_trigger",
        "record" => "record",
        "cstring" => "cstring",
        "internal" => "internal",
        "unknown" => "unknown",
        "anyelement" => "anyelement",
        "anyarray" => "anyarray",
        "anynonarray" => "anynonarray",
        "anyenum" => "anyenum",
        "anyrange" => "anyrange",
        "anymultirange" => "anymultirange",
        "anycompatible" => "anycompatible",
        "anycompatiblearray" => "anycompatiblearray",
        "anycompatiblenonarray" => "anycompatiblenonarray",
        "anycompatiblerange" => "anycompatiblerange",
        "anycompatiblemultirange" => "anycompatiblemultirange",
        "language_handler" => "language_handler",
        "fdw_handler" => "fdw_handler",
        "index_am_handler" => "index_am_handler",
        "table_am_handler" => "table_am_handler",
        "tsm_handler" => "tsm_handler",
        "pg_node_tree" => "pg_node_tree",
        "aclitem" => "aclitem",
        _ => return None,
    })
}

/// The integer type a `serial` pseudo-type stands for.
pub(crate) fn serial_type(tn: &TypeName) -> Option<&'static str> {
    if !tn.array_bounds.is_empty() {
        return None;
    }
    let name = match tn.names.as_slice() {
        [n] => str_of(n)?,
        [s, n] if str_of(s) == Some("pg_catalog") => str_of(n)?,
        _ => return None,
    };
    match name {
        "smallserial" | "serial2" => Some("smallint"),
        "serial" | "serial4" => Some("integer"),
        "bigserial" | "serial8" => Some("bigint"),
        _ => None,
    }
}

fn typmods(tn: &TypeName) -> Vec<i64> {
    tn.typmods
        .iter()
        .filter_map(|m| match &m.node {
            Some(NodeEnum::AConst(c)) => match &c.val {
                Some(a_const::Val::Ival(i)) => Some(i64::from(i.ival)),
                Some(a_const::Val::Fval(f)) => f.fval.parse().ok(),
                Some(a_const::Val::Sval(s)) => s.sval.parse().ok(),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn interval_fields(mask: i64) -> &'static str {
    const MONTH: i64 = 1 << 1;
    const YEAR: i64 = 1 << 2;
    const DAY: i64 = 1 << 3;
    const HOUR: i64 = 1 << 10;
    const MINUTE: i64 = 1 << 11;
    const SECOND: i64 = 1 << 12;
    match mask {
        YEAR => " year",
        MONTH => " month",
        DAY => " day",
        HOUR => " hour",
        MINUTE => " minute",
        SECOND => " second",
        m if m == YEAR | MONTH => " year to month",
        m if m == DAY | HOUR => " day to hour",
        m if m == DAY | HOUR | MINUTE => " day to minute",
        m if m == DAY | HOUR | MINUTE | SECOND => " day to second",
        m if m == HOUR | MINUTE => " hour to minute",
        m if m == HOUR | MINUTE | SECOND => " hour to second",
        m if m == MINUTE | SECOND => " minute to second",
        _ => "",
    }
}

/// A type name as `format_type` prints it (with its typmod when `with_typmod`, as for a
/// column; without, as for a function argument). User types are schema-qualified.
pub(crate) fn format_type(st: &State, tn: &TypeName, with_typmod: bool) -> String {
    let builtin_name = match tn.names.as_slice() {
        _ if tn.pct_type => None,
        [s, n] if str_of(s) == Some("pg_catalog") => str_of(n).and_then(|n| Some((builtin(n)?, n))),
        [n] => str_of(n).and_then(|n| Some((builtin(n)?, n))),
        _ => None,
    };
    let mut out = match builtin_name {
        Some((display, internal)) => builtin_with_typmod(display, internal, tn, with_typmod),
        None => {
            let names = strings(&tn.names);
            if tn.pct_type {
                percent_type(st, &names).unwrap_or_else(|| "unknown".into())
            } else {
                user_type(st, &names)
            }
        }
    };
    if !tn.array_bounds.is_empty() {
        out.push_str("[]");
    }
    out
}

fn builtin_with_typmod(display: &str, internal: &str, tn: &TypeName, with_typmod: bool) -> String {
    if !with_typmod || (tn.typmods.is_empty() && !internal.starts_with("time")) {
        if internal == "bpchar" && tn.names.len() == 1 && with_typmod {
            return "bpchar".into();
        }
        return display.to_string();
    }
    let mods = typmods(tn);
    let precision = |p: Option<&i64>| p.map(|p| format!("({p})")).unwrap_or_default();
    match internal {
        "timestamp" | "timestamptz" | "time" | "timetz" => {
            let zone = if internal.ends_with("tz") {
                "with time zone"
            } else {
                "without time zone"
            };
            let base = if internal.starts_with("timestamp") {
                "timestamp"
            } else {
                "time"
            };
            format!("{base}{} {zone}", precision(mods.first()))
        }
        "interval" => match mods.as_slice() {
            [] => "interval".into(),
            [mask] if *mask == i64::from(INTERVAL_FULL_RANGE) => "interval".into(),
            [mask] => format!("interval{}", interval_fields(*mask)),
            [mask, p] if *mask == i64::from(INTERVAL_FULL_RANGE) => format!("interval({p})"),
            [mask, p, ..] => format!("interval{}({p})", interval_fields(*mask)),
        },
        "numeric" | "decimal" => match mods.as_slice() {
            [] => "numeric".into(),
            [p] => format!("numeric({p},0)"),
            [p, s, ..] => format!("numeric({p},{s})"),
        },
        "bpchar" if mods.is_empty() && tn.names.len() == 1 => "bpchar".into(),
        "varchar" | "bpchar" | "bit" | "varbit" => {
            format!("{display}{}", precision(mods.first()))
        }
        _ => display.to_string(),
    }
}

/// `table.column%TYPE`: the column's type.
fn percent_type(st: &State, names: &[String]) -> Option<String> {
    let (table, column) = match names {
        [t, c] => (vec![t.clone()], c),
        [s, t, c] => (vec![s.clone(), t.clone()], c),
        _ => return None,
    };
    let key = st.key_of(&table, |k| st.model.tables.contains_key(k))?;
    let t = st.model.tables.get(&key)?;
    t.columns
        .iter()
        .find(|c| &c.name == column)
        .map(|c| c.data_type.clone())
}

/// A user type (enum, domain, composite, a table's row type, an extension's type):
/// `schema.name`, the schema from the path.
fn user_type(st: &State, names: &[String]) -> String {
    let Some((schema, name)) = split_name(names) else {
        return String::new();
    };
    let schema = st.resolve(schema, name, |k| {
        st.model.types.contains_key(k)
            || st.model.tables.contains_key(k)
            || st.model.views.contains_key(k)
    });
    format!("{}.{}", quote_identifier(&schema), quote_identifier(name))
}

/// The type a literal is cast to for `ty` (`format_type` without its typmod;
/// `character` as `bpchar`).
pub(crate) fn cast_name(ty: &str) -> String {
    let mut out = String::with_capacity(ty.len());
    let mut depth = 0;
    let mut quoted = false;
    for c in ty.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let out = out.trim().to_string();
    match out.as_str() {
        "character" => "bpchar".into(),
        "character[]" => "bpchar[]".into(),
        _ => out,
    }
}

fn new_type_key(st: &State, parts: &[String]) -> Option<(String, String)> {
    let (schema, name) = split_name(parts)?;
    let schema = schema.map_or_else(|| st.creation_schema(), str::to_string);
    Some((schema, name.to_string()))
}

fn insert_type(st: &mut State, schema: String, name: String, kind: TypeKind, here: &Here) {
    let key = dotted(&schema, &name);
    if st.model.types.contains_key(&key) {
        return;
    }
    st.locate("type", &key, here.loc());
    st.model.types.insert(
        key,
        TypeDef {
            schema,
            name,
            kind,
            owner: String::new(),
            comment: None,
        },
    );
}

pub(crate) fn create_enum(st: &mut State, s: &CreateEnumStmt, here: &Here) {
    let Some((schema, name)) = new_type_key(st, &strings(&s.type_name)) else {
        return;
    };
    let labels = strings(&s.vals);
    insert_type(st, schema, name, TypeKind::Enum { labels }, here);
}

pub(crate) fn alter_enum(st: &mut State, s: &AlterEnumStmt) {
    let Some(key) = st.key_of(&strings(&s.type_name), |k| st.model.types.contains_key(k)) else {
        return;
    };
    let Some(TypeKind::Enum { labels }) = st.model.types.get_mut(&key).map(|t| &mut t.kind) else {
        return;
    };
    if !s.old_val.is_empty() {
        if let Some(l) = labels.iter_mut().find(|l| **l == s.old_val) {
            *l = s.new_val.clone();
        }
        return;
    }
    if labels.contains(&s.new_val) {
        return;
    }
    let at = if s.new_val_neighbor.is_empty() {
        labels.len()
    } else {
        match labels.iter().position(|l| *l == s.new_val_neighbor) {
            Some(i) if s.new_val_is_after => i + 1,
            Some(i) => i,
            None => labels.len(),
        }
    };
    labels.insert(at, s.new_val.clone());
}

pub(crate) fn create_composite(st: &mut State, s: &CompositeTypeStmt, here: &Here) {
    let Some(rv) = &s.typevar else {
        return;
    };
    let (schema, name) = st.new_relation_key(rv);
    let attributes = s
        .coldeflist
        .iter()
        .filter_map(|c| match &c.node {
            Some(NodeEnum::ColumnDef(cd)) => Some((
                cd.colname.clone(),
                cd.type_name
                    .as_ref()
                    .map(|t| format_type(st, t, true))
                    .unwrap_or_default(),
            )),
            _ => None,
        })
        .collect();
    st.relnames.insert(dotted(&schema, &name));
    insert_type(st, schema, name, TypeKind::Composite { attributes }, here);
}

pub(crate) fn create_domain(st: &mut State, s: &CreateDomainStmt, here: &Here) {
    let Some((schema, name)) = new_type_key(st, &strings(&s.domainname)) else {
        return;
    };
    let base = s
        .type_name
        .as_ref()
        .map(|t| format_type(st, t, true))
        .unwrap_or_default();
    let collation = s
        .coll_clause
        .as_ref()
        .map(|c| collation_name(&strings(&c.collname)))
        .filter(|c| c != "pg_catalog.default");
    let mut kind = TypeKind::Domain {
        base,
        default: None,
        not_null: false,
        collation,
        checks: BTreeMap::new(),
    };
    for c in &s.constraints {
        if let Some(NodeEnum::Constraint(c)) = &c.node {
            domain_constraint(st, &schema, &name, &mut kind, c);
        }
    }
    insert_type(st, schema, name, kind, here);
}

fn domain_constraint(
    st: &mut State,
    schema: &str,
    name: &str,
    kind: &mut TypeKind,
    c: &pg_query::protobuf::Constraint,
) {
    let TypeKind::Domain {
        base,
        default,
        not_null,
        checks,
        ..
    } = kind
    else {
        return;
    };
    match ConstrType::try_from(c.contype) {
        Ok(ConstrType::ConstrNotnull) => *not_null = true,
        Ok(ConstrType::ConstrNull) => *not_null = false,
        Ok(ConstrType::ConstrDefault) => {
            if let Some(e) = c.raw_expr.as_deref() {
                let cx = Cx {
                    domain: Some(base),
                    ..Cx::new(st, &[])
                };
                *default = expr::print_default(e, base, &cx);
            }
        }
        Ok(ConstrType::ConstrCheck) => {
            let Some(e) = c.raw_expr.as_deref() else {
                return;
            };
            let cx = Cx {
                domain: Some(base),
                ..Cx::new(st, &[])
            };
            let mut definition = format!("CHECK ({})", expr::print(e, &cx));
            if c.skip_validation {
                definition.push_str(" NOT VALID");
            }
            let cname = if c.conname.is_empty() {
                choose_name(name, None, "check", |n| {
                    checks.contains_key(n) || st.connames.contains(&dotted(schema, n))
                })
            } else {
                c.conname.clone()
            };
            st.connames.insert(dotted(schema, &cname));
            checks.insert(cname, definition);
        }
        _ => {}
    }
}

pub(crate) fn alter_domain(st: &mut State, s: &AlterDomainStmt) {
    let Some(key) = st.key_of(&strings(&s.type_name), |k| st.model.types.contains_key(k)) else {
        return;
    };
    let Some(mut ty) = st.model.types.remove(&key) else {
        return;
    };
    let (schema, name) = (ty.schema.clone(), ty.name.clone());
    match s.subtype.as_str() {
        "T" => {
            if let TypeKind::Domain { base, default, .. } = &mut ty.kind {
                *default = s.def.as_deref().and_then(|d| {
                    let cx = Cx {
                        domain: Some(base),
                        ..Cx::new(st, &[])
                    };
                    expr::print_default(d, base, &cx)
                });
            }
        }
        "N" => {
            if let TypeKind::Domain { not_null, .. } = &mut ty.kind {
                *not_null = false;
            }
        }
        "O" => {
            if let TypeKind::Domain { not_null, .. } = &mut ty.kind {
                *not_null = true;
            }
        }
        "C" => {
            if let Some(NodeEnum::Constraint(c)) = s.def.as_deref().and_then(|d| d.node.as_ref()) {
                domain_constraint(st, &schema, &name, &mut ty.kind, c);
            }
        }
        "X" => {
            if let TypeKind::Domain { checks, .. } = &mut ty.kind {
                checks.remove(&s.name);
            }
        }
        "V" => {
            if let TypeKind::Domain { checks, .. } = &mut ty.kind {
                if let Some(d) = checks.get_mut(&s.name) {
                    if let Some(stripped) = d.strip_suffix(" NOT VALID") {
                        *d = stripped.to_string();
                    }
                }
            }
        }
        _ => {}
    }
    st.model.types.insert(key, ty);
}

/// A collation as the model names it: `schema.name` (`pg_catalog` when unqualified).
pub(crate) fn collation_name(parts: &[String]) -> String {
    match split_name(parts) {
        Some((Some(s), n)) => dotted(s, n),
        Some((None, n)) => format!("pg_catalog.{n}"),
        None => String::new(),
    }
}

/// Bounds of a sequence type: (min, max).
fn type_bounds(data_type: &str) -> (i64, i64) {
    match data_type {
        "smallint" => (i64::from(i16::MIN), i64::from(i16::MAX)),
        "integer" => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

fn def_int(d: &DefElem) -> Option<i64> {
    match d.arg.as_deref().and_then(|a| a.node.as_ref())? {
        NodeEnum::Integer(i) => Some(i64::from(i.ival)),
        NodeEnum::Float(f) => f.fval.parse().ok(),
        NodeEnum::String(s) => s.sval.parse().ok(),
        _ => None,
    }
}

/// What sequence options say, applied to `seq` (`CREATE SEQUENCE`, `ALTER SEQUENCE`, identity
/// options). `fresh`: bounds and start follow the type and direction unless given.
pub(crate) fn apply_sequence_options(
    st: &State,
    seq: &mut Sequence,
    options: &[Node],
    fresh: bool,
) -> Option<String> {
    let mut owned_by = None;
    let (mut min, mut max, mut start) = (None, None, None);
    let mut restart_type = false;
    for o in options {
        let Some(NodeEnum::DefElem(d)) = &o.node else {
            continue;
        };
        match d.defname.as_str() {
            "as" => {
                if let Some(NodeEnum::TypeName(t)) = d.arg.as_deref().and_then(|a| a.node.as_ref())
                {
                    seq.data_type = format_type(st, t, false);
                    restart_type = true;
                }
            }
            "increment" => seq.increment = def_int(d).unwrap_or(1),
            "start" => start = def_int(d),
            "minvalue" => min = Some(def_int(d)),
            "maxvalue" => max = Some(def_int(d)),
            "cache" => seq.cache = def_int(d).unwrap_or(1),
            "cycle" => {
                seq.cycle = match d.arg.as_deref().and_then(|a| a.node.as_ref()) {
                    Some(NodeEnum::Boolean(b)) => b.boolval,
                    Some(NodeEnum::Integer(i)) => i.ival != 0,
                    _ => true,
                }
            }
            "owned_by" => {
                let parts = d
                    .arg
                    .as_deref()
                    .map(|a| match &a.node {
                        Some(NodeEnum::List(l)) => strings(&l.items),
                        _ => Vec::new(),
                    })
                    .unwrap_or_default();
                owned_by = Some(match parts.as_slice() {
                    [none] if none == "none" => String::new(),
                    [t, c] => {
                        let key = st
                            .key_of(std::slice::from_ref(t), |k| st.model.tables.contains_key(k))
                            .unwrap_or_default();
                        dotted(&key, c)
                    }
                    [s, t, c] => format!("{s}.{t}.{c}"),
                    _ => String::new(),
                });
            }
            _ => {}
        }
    }
    let (tmin, tmax) = type_bounds(&seq.data_type);
    let ascending = seq.increment > 0;
    if fresh || restart_type || min.is_some() {
        seq.min = match min.flatten() {
            Some(v) => v,
            None if ascending => 1,
            None => tmin,
        };
    }
    if fresh || restart_type || max.is_some() {
        seq.max = match max.flatten() {
            Some(v) => v,
            None if ascending => tmax,
            None => -1,
        };
    }
    if let Some(s) = start {
        seq.start = s;
    } else if fresh {
        seq.start = if ascending { seq.min } else { seq.max };
    }
    owned_by
}

/// A new sequence with PostgreSQL's defaults for `data_type`.
pub(crate) fn new_sequence(schema: &str, name: &str, data_type: &str) -> Sequence {
    let (_, max) = type_bounds(data_type);
    Sequence {
        schema: schema.to_string(),
        name: name.to_string(),
        data_type: data_type.to_string(),
        start: 1,
        increment: 1,
        min: 1,
        max,
        cache: 1,
        cycle: false,
        owned_by: None,
        identity: false,
        owner: String::new(),
        grants: Vec::new(),
    }
}

pub(crate) fn create_sequence(st: &mut State, s: &CreateSeqStmt, here: &Here) {
    let Some(rv) = &s.sequence else {
        return;
    };
    if rv.relpersistence == "t" {
        return;
    }
    let (schema, name) = st.new_relation_key(rv);
    let key = dotted(&schema, &name);
    if st.model.sequences.contains_key(&key) {
        return;
    }
    let mut seq = new_sequence(&schema, &name, "bigint");
    let owned_by = apply_sequence_options(st, &mut seq, &s.options, true);
    seq.owned_by = owned_by.filter(|o| !o.is_empty());
    seq.grants = st.initial_grants('S', &schema);
    st.relnames.insert(key.clone());
    st.locate("sequence", &key, here.loc());
    st.model.sequences.insert(key, seq);
}

pub(crate) fn alter_sequence(st: &mut State, s: &AlterSeqStmt) {
    let Some(rv) = &s.sequence else {
        return;
    };
    let key = st.relation_key(rv);
    let Some(mut seq) = st.model.sequences.remove(&key) else {
        return;
    };
    if let Some(owned) = apply_sequence_options(st, &mut seq, &s.options, false) {
        seq.owned_by = Some(owned).filter(|o| !o.is_empty());
    }
    st.model.sequences.insert(key, seq);
}
