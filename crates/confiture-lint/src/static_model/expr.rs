//! Expressions printed the way PostgreSQL's `ruleutils` prints stored expressions
//! (`pg_get_expr`, `pg_get_constraintdef`): operators and tests in parentheses, literals with
//! the type they were resolved to (`'x'::text`), implicit casts of operands shown
//! (`(name)::text`, `(0)::numeric`). Type resolution is approximated from the columns of the
//! table; anything not recognised is printed by pg_query's deparser.

use std::collections::BTreeSet;

use confiture_core::schema::Column;
use pg_query::protobuf::{
    a_const, AExpr, AExprKind, BoolExprType, BoolTestType, FuncCall, LimitOption, MinMaxOp, Node,
    NullTestType, ResTarget, SelectStmt, SetOperation, SqlValueFunctionOp,
};
use pg_query::NodeEnum;

use super::names::{literal, quote_identifier, str_of, strings};
use super::types::{cast_name, format_type};
use super::State;

/// What an expression is printed against.
pub(crate) struct Cx<'a> {
    pub st: &'a State,
    /// Columns of the table it belongs to: their types resolve literals and casts.
    pub columns: &'a [Column],
    /// In a domain's CHECK: the domain's base type (`VALUE`).
    pub domain: Option<&'a str>,
    /// `ruleutils`' indentation level: `CASE` puts its keywords on lines of their own.
    pub indent: std::cell::Cell<usize>,
}

impl<'a> Cx<'a> {
    pub fn new(st: &'a State, columns: &'a [Column]) -> Self {
        Cx {
            st,
            columns,
            domain: None,
            indent: std::cell::Cell::new(0),
        }
    }

    /// A keyword on a new line at the current indentation (`appendContextKeyword`).
    fn keyword(&self, out: &mut String, word: &str) {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', self.indent.get()));
        out.push_str(word);
    }
}

/// `appendContextKeyword` removes the spaces before the line break it adds.
fn tidy(text: String) -> String {
    if !text.contains('\n') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            let trimmed = out.trim_end_matches(' ').len();
            out.truncate(trimmed);
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// A printed sub-expression.
#[derive(Debug, Clone)]
struct E {
    text: String,
    /// Its type (`format_type` spelling), when known.
    ty: Option<String>,
    /// An untyped string literal: its value (the type comes from where it is used).
    unknown: Option<String>,
    /// A NULL literal.
    null: bool,
    /// Prints like a function call (`pg_get_indexdef` leaves it unparenthesised).
    function_like: bool,
    /// Its text without the implicit cast it is shown with (a domain's value as its base
    /// type), for where `ruleutils` hides implicit casts.
    bare: Option<String>,
}

impl E {
    fn new(text: String, ty: Option<String>) -> Self {
        E {
            text,
            ty,
            unknown: None,
            null: false,
            function_like: false,
            bare: None,
        }
    }

    fn func(text: String, ty: Option<String>) -> Self {
        E {
            function_like: true,
            ..E::new(text, ty)
        }
    }

    /// Its text once its type is settled: an untyped literal takes `ty` (else `text`).
    fn as_type(&self, ty: Option<&str>) -> String {
        match &self.unknown {
            Some(v) => typed_literal(v, &cast_name(ty.unwrap_or("text"))),
            None if self.null => "NULL".to_string(),
            None => self.text.clone(),
        }
    }

    fn settled(&self, ty: Option<&str>) -> E {
        match &self.unknown {
            Some(_) => {
                let ty = ty.unwrap_or("text").to_string();
                E::new(self.as_type(Some(&ty)), Some(cast_name(&ty)))
            }
            None => self.clone(),
        }
    }

    /// Shown with an implicit cast to `ty` (`(x)::text`).
    fn cast_to(&self, ty: &str) -> E {
        E::new(format!("({})::{ty}", self.text), Some(ty.to_string()))
    }
}

/// A string literal converted to `ty` as `ruleutils` prints the constant: integers and
/// decimal numbers bare, booleans as `true`/`false`, the rest quoted with a cast.
fn typed_literal(v: &str, ty: &str) -> String {
    match ty {
        "integer" if v.trim().parse::<i32>().is_ok_and(|i| i >= 0) => v
            .trim()
            .parse::<i32>()
            .map(|i| i.to_string())
            .unwrap_or_default(),
        "numeric"
            if v.starts_with(|c: char| c.is_ascii_digit())
                && v.contains(['.', 'e', 'E'])
                && v.parse::<f64>().is_ok() =>
        {
            v.to_string()
        }
        "boolean" => match v.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "yes" | "on" | "1" => "true".into(),
            "f" | "false" | "n" | "no" | "off" | "0" => "false".into(),
            _ => format!("{}::boolean", literal(v)),
        },
        _ => format!("{}::{ty}", literal(v)),
    }
}

/// An expression at the top of a stored expression (column default, policy, generated
/// column, index predicate or check body).
pub(crate) fn print(node: &Node, cx: &Cx) -> String {
    let e = ex(node, cx);
    tidy(e.bare.clone().unwrap_or_else(|| e.as_type(None)))
}

/// A column default as `pg_get_expr` prints it, `None` for `DEFAULT NULL` (not stored).
pub(crate) fn print_default(node: &Node, column_type: &str, cx: &Cx) -> Option<String> {
    let e = ex(node, cx);
    if e.null {
        return None;
    }
    // A literal for a domain is a constant of its base type (the domain check is implicit).
    let ty = domain_base(cx.st, column_type).unwrap_or(column_type);
    Some(tidy(e.as_type(Some(ty))))
}

/// An index key expression: bare when it looks like a function call, else parenthesised.
pub(crate) fn print_index_key(node: &Node, cx: &Cx) -> String {
    let e = ex(node, cx);
    let text = tidy(e.as_type(None));
    if e.function_like {
        text
    } else {
        format!("({text})")
    }
}

/// The columns an expression reads (unqualified or last field of a column reference).
pub(crate) fn columns_read(node: &Node) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect_columns(node, &mut out);
    out
}

fn collect_columns(node: &Node, out: &mut BTreeSet<String>) {
    let Some(n) = &node.node else {
        return;
    };
    let mut each = |nodes: &[Node]| {
        for x in nodes {
            collect_columns(x, out);
        }
    };
    match n {
        NodeEnum::ColumnRef(c) => {
            if let Some(name) = c.fields.last().and_then(str_of) {
                out.insert(name.to_string());
            }
        }
        NodeEnum::AConst(_) | NodeEnum::SqlvalueFunction(_) | NodeEnum::ParamRef(_) => {}
        NodeEnum::AExpr(a) => {
            for x in [a.lexpr.as_deref(), a.rexpr.as_deref()]
                .into_iter()
                .flatten()
            {
                collect_columns(x, out);
            }
        }
        NodeEnum::BoolExpr(b) => each(&b.args),
        NodeEnum::List(l) => each(&l.items),
        NodeEnum::FuncCall(f) => each(&f.args),
        NodeEnum::CoalesceExpr(c) => each(&c.args),
        NodeEnum::MinMaxExpr(m) => each(&m.args),
        NodeEnum::AArrayExpr(a) => each(&a.elements),
        NodeEnum::RowExpr(r) => each(&r.args),
        NodeEnum::TypeCast(t) => {
            if let Some(a) = t.arg.as_deref() {
                collect_columns(a, out);
            }
        }
        NodeEnum::NullTest(t) => {
            if let Some(a) = t.arg.as_deref() {
                collect_columns(a, out);
            }
        }
        NodeEnum::BooleanTest(t) => {
            if let Some(a) = t.arg.as_deref() {
                collect_columns(a, out);
            }
        }
        NodeEnum::NamedArgExpr(a) => {
            if let Some(a) = a.arg.as_deref() {
                collect_columns(a, out);
            }
        }
        NodeEnum::CollateClause(c) => {
            if let Some(a) = c.arg.as_deref() {
                collect_columns(a, out);
            }
        }
        other => {
            for (child, _, _, _) in other.nodes() {
                if let pg_query::NodeRef::ColumnRef(c) = child {
                    if let Some(name) = c.fields.last().and_then(str_of) {
                        out.insert(name.to_string());
                    }
                }
            }
        }
    }
}

/// The name PostgreSQL gives an expression's column (`FigureColname`), `None` when it has
/// none of its own (`?column?`, or `expr` for an index).
pub(crate) fn figure_colname(node: &Node) -> Option<String> {
    match node.node.as_ref()? {
        NodeEnum::ColumnRef(c) => c.fields.last().and_then(str_of).map(str::to_string),
        NodeEnum::FuncCall(f) => f.funcname.last().and_then(str_of).map(str::to_string),
        NodeEnum::TypeCast(t) => t.arg.as_deref().and_then(figure_colname).or_else(|| {
            t.type_name
                .as_ref()
                .and_then(|tn| tn.names.last())
                .and_then(str_of)
                .map(str::to_string)
        }),
        NodeEnum::AIndirection(i) => i
            .indirection
            .last()
            .and_then(str_of)
            .map(str::to_string)
            .or_else(|| i.arg.as_deref().and_then(figure_colname)),
        NodeEnum::CoalesceExpr(_) => Some("coalesce".into()),
        NodeEnum::MinMaxExpr(m) => Some(
            if m.op == MinMaxOp::IsGreatest as i32 {
                "greatest"
            } else {
                "least"
            }
            .into(),
        ),
        NodeEnum::CaseExpr(c) => c
            .defresult
            .as_deref()
            .and_then(figure_colname)
            .or_else(|| Some("case".into())),
        NodeEnum::AArrayExpr(_) => Some("array".into()),
        NodeEnum::RowExpr(_) => Some("row".into()),
        NodeEnum::SqlvalueFunction(f) => Some(
            match SqlValueFunctionOp::try_from(f.op) {
                Ok(SqlValueFunctionOp::SvfopCurrentDate) => "current_date",
                Ok(
                    SqlValueFunctionOp::SvfopCurrentTime | SqlValueFunctionOp::SvfopCurrentTimeN,
                ) => "current_time",
                Ok(
                    SqlValueFunctionOp::SvfopCurrentTimestamp
                    | SqlValueFunctionOp::SvfopCurrentTimestampN,
                ) => "current_timestamp",
                Ok(SqlValueFunctionOp::SvfopLocaltime | SqlValueFunctionOp::SvfopLocaltimeN) => {
                    "localtime"
                }
                Ok(
                    SqlValueFunctionOp::SvfopLocaltimestamp
                    | SqlValueFunctionOp::SvfopLocaltimestampN,
                ) => "localtimestamp",
                Ok(SqlValueFunctionOp::SvfopCurrentRole) => "current_role",
                Ok(SqlValueFunctionOp::SvfopCurrentUser) => "current_user",
                Ok(SqlValueFunctionOp::SvfopUser) => "user",
                Ok(SqlValueFunctionOp::SvfopSessionUser) => "session_user",
                Ok(SqlValueFunctionOp::SvfopCurrentCatalog) => "current_catalog",
                _ => "current_schema",
            }
            .into(),
        ),
        _ => None,
    }
}

/// Printed by pg_query's deparser (a `SELECT` of the expression, the keyword cut off).
pub(crate) fn deparse(node: &Node) -> String {
    let select = NodeEnum::SelectStmt(Box::new(SelectStmt {
        target_list: vec![Node {
            node: Some(NodeEnum::ResTarget(Box::new(ResTarget {
                val: Some(Box::new(node.clone())),
                ..ResTarget::default()
            }))),
        }],
        limit_option: LimitOption::Default as i32,
        op: SetOperation::SetopNone as i32,
        ..SelectStmt::default()
    }));
    match select.deparse(pg_query::DeparseOptions::default()) {
        Ok(s) => s.strip_prefix("SELECT ").unwrap_or(&s).to_string(),
        Err(_) => String::new(),
    }
}

/// Type families that decide casts.
fn is_int(ty: &str) -> bool {
    matches!(ty, "smallint" | "integer" | "bigint")
}

fn is_float(ty: &str) -> bool {
    matches!(ty, "numeric" | "real" | "double precision")
}

fn is_varchar(ty: &str) -> bool {
    ty.starts_with("character varying")
}

fn base(ty: &Option<String>) -> Option<String> {
    ty.as_deref().map(cast_name)
}

fn ex(node: &Node, cx: &Cx) -> E {
    let Some(n) = &node.node else {
        return E::new(String::new(), None);
    };
    match n {
        NodeEnum::AConst(c) => constant(c),
        NodeEnum::ColumnRef(c) => {
            let parts: Vec<String> = c
                .fields
                .iter()
                .map(|f| match &f.node {
                    Some(NodeEnum::String(s)) => quote_identifier(&s.sval),
                    _ => "*".to_string(),
                })
                .collect();
            if let (Some(base), [only]) = (cx.domain, c.fields.as_slice()) {
                if str_of(only) == Some("value") {
                    return E::new("VALUE".into(), Some(base.to_string()));
                }
            }
            let ty = match c.fields.as_slice() {
                [only] => str_of(only).and_then(|name| {
                    cx.columns
                        .iter()
                        .find(|col| col.name == name)
                        .map(|col| col.data_type.clone())
                }),
                _ => None,
            };
            let text = parts.join(".");
            // A domain's value is used as its base type: PostgreSQL shows the relabelling.
            if let Some(base) = ty.as_deref().and_then(|t| domain_base(cx.st, t)) {
                return E {
                    bare: Some(text.clone()),
                    ..E::new(
                        format!("({text})::{}", cast_name(base)),
                        Some(base.to_string()),
                    )
                };
            }
            E::new(text, ty)
        }
        NodeEnum::TypeCast(t) => {
            let Some(tn) = &t.type_name else {
                return fallback(node);
            };
            let ty = format_type(cx.st, tn, true);
            let arg = match t.arg.as_deref() {
                Some(a) => ex(a, cx),
                None => return fallback(node),
            };
            if let Some(v) = &arg.unknown {
                return E::new(format!("{}::{ty}", literal(v)), Some(ty));
            }
            if arg.null {
                return E::new(format!("NULL::{ty}"), Some(ty));
            }
            if base(&arg.ty).as_deref() == Some(cast_name(&ty).as_str()) && ty == cast_name(&ty) {
                return arg;
            }
            E::new(format!("({})::{ty}", arg.text), Some(ty))
        }
        NodeEnum::AExpr(a) => a_expr(a, node, cx),
        NodeEnum::BoolExpr(b) => {
            let args: Vec<String> = b
                .args
                .iter()
                .map(|a| ex(a, cx).as_type(Some("boolean")))
                .collect();
            let text = match BoolExprType::try_from(b.boolop) {
                Ok(BoolExprType::AndExpr) => format!("({})", args.join(" AND ")),
                Ok(BoolExprType::OrExpr) => format!("({})", args.join(" OR ")),
                _ => format!("(NOT {})", args.join(" ")),
            };
            E::new(text, Some("boolean".into()))
        }
        NodeEnum::NullTest(t) => {
            // The tested value is not coerced: a domain's value shows no cast.
            let arg = t.arg.as_deref().map(|a| {
                let e = ex(a, cx);
                e.bare.clone().unwrap_or_else(|| e.as_type(None))
            });
            let test = if t.nulltesttype == NullTestType::IsNotNull as i32 {
                "IS NOT NULL"
            } else {
                "IS NULL"
            };
            E::new(
                format!("({} {test})", arg.unwrap_or_default()),
                Some("boolean".into()),
            )
        }
        NodeEnum::BooleanTest(t) => {
            let arg = t.arg.as_deref().map(|a| ex(a, cx).as_type(Some("boolean")));
            let test = match BoolTestType::try_from(t.booltesttype) {
                Ok(BoolTestType::IsTrue) => "IS TRUE",
                Ok(BoolTestType::IsNotTrue) => "IS NOT TRUE",
                Ok(BoolTestType::IsFalse) => "IS FALSE",
                Ok(BoolTestType::IsNotFalse) => "IS NOT FALSE",
                Ok(BoolTestType::IsUnknown) => "IS UNKNOWN",
                _ => "IS NOT UNKNOWN",
            };
            E::new(
                format!("({} {test})", arg.unwrap_or_default()),
                Some("boolean".into()),
            )
        }
        NodeEnum::FuncCall(f) => func_call(f, node, cx),
        NodeEnum::SqlvalueFunction(f) => {
            let (name, ty) = match SqlValueFunctionOp::try_from(f.op) {
                Ok(SqlValueFunctionOp::SvfopCurrentDate) => ("CURRENT_DATE", "date"),
                Ok(
                    SqlValueFunctionOp::SvfopCurrentTime | SqlValueFunctionOp::SvfopCurrentTimeN,
                ) => ("CURRENT_TIME", "time with time zone"),
                Ok(
                    SqlValueFunctionOp::SvfopCurrentTimestamp
                    | SqlValueFunctionOp::SvfopCurrentTimestampN,
                ) => ("CURRENT_TIMESTAMP", "timestamp with time zone"),
                Ok(SqlValueFunctionOp::SvfopLocaltime | SqlValueFunctionOp::SvfopLocaltimeN) => {
                    ("LOCALTIME", "time without time zone")
                }
                Ok(
                    SqlValueFunctionOp::SvfopLocaltimestamp
                    | SqlValueFunctionOp::SvfopLocaltimestampN,
                ) => ("LOCALTIMESTAMP", "timestamp without time zone"),
                Ok(SqlValueFunctionOp::SvfopCurrentRole) => ("CURRENT_ROLE", "name"),
                Ok(SqlValueFunctionOp::SvfopCurrentUser) => ("CURRENT_USER", "name"),
                Ok(SqlValueFunctionOp::SvfopUser) => ("USER", "name"),
                Ok(SqlValueFunctionOp::SvfopSessionUser) => ("SESSION_USER", "name"),
                Ok(SqlValueFunctionOp::SvfopCurrentCatalog) => ("CURRENT_CATALOG", "name"),
                _ => ("CURRENT_SCHEMA", "name"),
            };
            let text = if f.typmod >= 0 {
                format!("{name}({})", f.typmod)
            } else {
                name.to_string()
            };
            E::func(text, Some(ty.into()))
        }
        NodeEnum::CoalesceExpr(c) => {
            let args: Vec<E> = c.args.iter().map(|a| ex(a, cx)).collect();
            let ty = args.iter().find_map(|a| a.ty.clone());
            let texts: Vec<String> = args.iter().map(|a| a.as_type(ty.as_deref())).collect();
            E::func(format!("COALESCE({})", texts.join(", ")), ty)
        }
        NodeEnum::MinMaxExpr(m) => {
            let args: Vec<E> = m.args.iter().map(|a| ex(a, cx)).collect();
            let ty = args.iter().find_map(|a| a.ty.clone());
            let texts: Vec<String> = args.iter().map(|a| a.as_type(ty.as_deref())).collect();
            let name = if m.op == MinMaxOp::IsGreatest as i32 {
                "GREATEST"
            } else {
                "LEAST"
            };
            E::func(format!("{name}({})", texts.join(", ")), ty)
        }
        NodeEnum::CaseExpr(c) => {
            let level = cx.indent.get();
            let mut text = String::new();
            cx.keyword(&mut text, "CASE");
            cx.indent.set(level + 4);
            let arg = c.arg.as_deref().map(|a| ex(a, cx));
            if let Some(a) = &arg {
                text.push(' ');
                text.push_str(&a.as_type(None));
            }
            let results: Vec<(String, E)> = c
                .args
                .iter()
                .filter_map(|w| match &w.node {
                    Some(NodeEnum::CaseWhen(w)) => {
                        let cond = w.expr.as_deref().map(|e| ex(e, cx));
                        let cond = match (&arg, cond) {
                            (Some(a), Some(c)) => c.as_type(a.ty.as_deref()),
                            (None, Some(c)) => c.as_type(Some("boolean")),
                            _ => String::new(),
                        };
                        let result = w.result.as_deref().map(|r| ex(r, cx))?;
                        Some((cond, result))
                    }
                    _ => None,
                })
                .collect();
            let default = c.defresult.as_deref().map(|d| ex(d, cx));
            let ty = results
                .iter()
                .map(|(_, r)| r)
                .chain(default.iter())
                .find_map(|r| r.ty.clone());
            for (cond, result) in &results {
                cx.keyword(&mut text, "WHEN ");
                text.push_str(&format!("{cond} THEN {}", result.as_type(ty.as_deref())));
            }
            if let Some(d) = &default {
                cx.keyword(&mut text, "ELSE ");
                text.push_str(&d.as_type(ty.as_deref()));
            }
            cx.indent.set(level);
            cx.keyword(&mut text, "END");
            E::new(text, ty)
        }
        NodeEnum::AArrayExpr(a) => {
            let items: Vec<E> = a.elements.iter().map(|e| ex(e, cx)).collect();
            let ty = items.iter().find_map(|i| base(&i.ty));
            let texts: Vec<String> = items.iter().map(|i| i.as_type(ty.as_deref())).collect();
            E::new(
                format!("ARRAY[{}]", texts.join(", ")),
                Some(format!("{}[]", ty.unwrap_or_else(|| "text".into()))),
            )
        }
        NodeEnum::RowExpr(r) => {
            let items: Vec<String> = r.args.iter().map(|e| ex(e, cx).as_type(None)).collect();
            E::new(format!("ROW({})", items.join(", ")), None)
        }
        NodeEnum::ParamRef(p) => E::new(format!("${}", p.number), None),
        NodeEnum::CollateClause(c) => {
            let arg = c
                .arg
                .as_deref()
                .map(|a| ex(a, cx))
                .unwrap_or_else(|| E::new(String::new(), None));
            let coll: Vec<String> = strings(&c.collname)
                .iter()
                .map(|s| quote_identifier(s))
                .collect();
            E::new(
                format!("({} COLLATE {})", arg.as_type(None), coll.join(".")),
                arg.ty.clone(),
            )
        }
        _ => fallback(node),
    }
}

/// The base type of a domain named as `format_type` prints it (`app.email`).
fn domain_base<'a>(st: &'a State, ty: &str) -> Option<&'a str> {
    if !ty.contains('.') || ty.ends_with(']') {
        return None;
    }
    let key = ty.replace('"', "");
    match &st.model.types.get(&key)?.kind {
        confiture_core::schema::TypeKind::Domain { base, .. } => Some(base),
        _ => None,
    }
}

fn fallback(node: &Node) -> E {
    E::new(deparse(node), None)
}

fn constant(c: &pg_query::protobuf::AConst) -> E {
    if c.isnull {
        return E {
            null: true,
            ..E::new("NULL".into(), None)
        };
    }
    match &c.val {
        Some(a_const::Val::Ival(i)) => {
            if i.ival < 0 {
                E::new(format!("'{}'::integer", i.ival), Some("integer".into()))
            } else {
                E::new(i.ival.to_string(), Some("integer".into()))
            }
        }
        Some(a_const::Val::Fval(f)) => {
            let v = &f.fval;
            let float_looking =
                v.starts_with(|c: char| c.is_ascii_digit()) && v.contains(['.', 'e', 'E']);
            if float_looking {
                E::new(v.clone(), Some("numeric".into()))
            } else if v.starts_with(|c: char| c.is_ascii_digit()) {
                // An integer too large for int4: bigint.
                E::new(format!("'{v}'::bigint"), Some("bigint".into()))
            } else {
                E::new(format!("'{v}'::numeric"), Some("numeric".into()))
            }
        }
        Some(a_const::Val::Boolval(b)) => E::new(
            if b.boolval { "true" } else { "false" }.into(),
            Some("boolean".into()),
        ),
        Some(a_const::Val::Sval(s)) => E {
            unknown: Some(s.sval.clone()),
            ..E::new(literal(&s.sval), None)
        },
        Some(a_const::Val::Bsval(b)) => {
            let bits = b.bsval.trim_start_matches(['b', 'B']);
            E::new(format!("B'{bits}'::\"bit\""), Some("bit".into()))
        }
        None => E {
            null: true,
            ..E::new("NULL".into(), None)
        },
    }
}

/// Operands of a binary operator with their types reconciled the way operator resolution
/// would: untyped literals take the other side's type, `varchar` meets `text`, integers meet
/// `numeric`.
fn reconcile(l: &E, r: &E, text_op: bool) -> (String, String, Option<String>) {
    let lt = base(&l.ty);
    let rt = base(&r.ty);
    match (&l.unknown, &r.unknown) {
        (Some(_), Some(_)) => (l.as_type(Some("text")), r.as_type(Some("text")), None),
        (Some(_), None) => {
            let (rt2, rtext) = widen_varchar(r, rt.as_deref());
            (l.as_type(rt2.as_deref()), rtext, rt2)
        }
        (None, Some(_)) => {
            let (lt2, ltext) = widen_varchar(l, lt.as_deref());
            let rtext = r.as_type(lt2.as_deref());
            (ltext, rtext, lt2)
        }
        (None, None) => {
            let (lt, rt) = (lt.unwrap_or_default(), rt.unwrap_or_default());
            if is_float(&lt) && is_int(&rt) {
                (l.text.clone(), r.cast_to(&lt).text, Some(lt))
            } else if is_int(&lt) && is_float(&rt) {
                (l.cast_to(&rt).text, r.text.clone(), Some(rt))
            } else if (is_varchar(&lt) && (rt == "text" || is_varchar(&rt)) && text_op)
                || (is_varchar(&lt) && rt == "text")
            {
                let rtext = if is_varchar(&rt) {
                    r.cast_to("text").text
                } else {
                    r.text.clone()
                };
                (l.cast_to("text").text, rtext, Some("text".into()))
            } else if is_varchar(&rt) && lt == "text" {
                (l.text.clone(), r.cast_to("text").text, Some("text".into()))
            } else {
                let ty = if lt.is_empty() { None } else { Some(lt) };
                (l.text.clone(), r.text.clone(), ty)
            }
        }
    }
}

/// A `varchar` operand meets a literal through `text`.
fn widen_varchar(e: &E, ty: Option<&str>) -> (Option<String>, String) {
    match ty {
        Some(t) if is_varchar(t) => (Some("text".into()), e.cast_to("text").text),
        Some(t) => (Some(t.to_string()), e.text.clone()),
        None => (None, e.text.clone()),
    }
}

fn op_name(a: &AExpr) -> String {
    let parts = strings(&a.name);
    match parts.as_slice() {
        [op] => op.clone(),
        [.., schema, op] if schema == "pg_catalog" => op.clone(),
        [.., schema, op] => format!("OPERATOR({schema}.{op})"),
        [] => String::new(),
    }
}

fn a_expr(a: &AExpr, node: &Node, cx: &Cx) -> E {
    let kind = AExprKind::try_from(a.kind).unwrap_or(AExprKind::Undefined);
    let l = a.lexpr.as_deref().map(|n| ex(n, cx));
    let op = op_name(a);
    match kind {
        AExprKind::AexprOp | AExprKind::AexprLike | AExprKind::AexprIlike => {
            let Some(r) = a.rexpr.as_deref().map(|n| ex(n, cx)) else {
                return fallback(node);
            };
            let Some(l) = l else {
                // Prefix operator.
                return E::new(format!("({op} {})", r.as_type(None)), base(&r.ty));
            };
            // JSON operators whose right operand is a key or a path, not a document.
            if base(&l.ty).is_some_and(|t| t == "jsonb" || t == "json") && r.unknown.is_some() {
                let (right, result) = match op.as_str() {
                    "?" => ("text", "boolean"),
                    "?|" | "?&" => ("text[]", "boolean"),
                    "->" => ("text", l.ty.as_deref().unwrap_or("jsonb")),
                    "->>" => ("text", "text"),
                    "#>" => ("text[]", l.ty.as_deref().unwrap_or("jsonb")),
                    "#>>" => ("text[]", "text"),
                    "-" => ("text", "jsonb"),
                    _ => ("", ""),
                };
                if !right.is_empty() {
                    return E::new(
                        format!("({} {op} {})", l.text, r.as_type(Some(right))),
                        Some(cast_name(result)),
                    );
                }
            }
            // Pattern operators take a text pattern, whatever the left side's string type.
            if matches!(
                op.as_str(),
                "~" | "~*" | "!~" | "!~*" | "~~" | "~~*" | "!~~" | "!~~*"
            ) && r.unknown.is_some()
            {
                let left = match base(&l.ty).as_deref() {
                    Some(t) if is_varchar(t) => l.cast_to("text").text,
                    _ => l.text.clone(),
                };
                return E::new(
                    format!("({left} {op} {})", r.as_type(Some("text"))),
                    Some("boolean".into()),
                );
            }
            let comparison = matches!(
                op.as_str(),
                "=" | "<>"
                    | "<"
                    | ">"
                    | "<="
                    | ">="
                    | "~~"
                    | "!~~"
                    | "~~*"
                    | "!~~*"
                    | "~"
                    | "!~"
                    | "~*"
                    | "!~*"
                    | "?"
                    | "?|"
                    | "?&"
                    | "@>"
                    | "<@"
                    | "&&"
            );
            let text_op = comparison || op == "||";
            let (lt, rt, ty) = reconcile(&l, &r, text_op);
            let result = if comparison {
                Some("boolean".to_string())
            } else if op == "||" {
                Some("text".to_string())
            } else {
                ty
            };
            E::new(format!("({lt} {op} {rt})"), result)
        }
        AExprKind::AexprDistinct | AExprKind::AexprNotDistinct => {
            let (Some(l), Some(r)) = (l, a.rexpr.as_deref().map(|n| ex(n, cx))) else {
                return fallback(node);
            };
            let (lt, rt, _) = reconcile(&l, &r, true);
            let not = if kind == AExprKind::AexprNotDistinct {
                " NOT"
            } else {
                ""
            };
            E::new(
                format!("({lt} IS{not} DISTINCT FROM {rt})"),
                Some("boolean".into()),
            )
        }
        AExprKind::AexprNullif => {
            let (Some(l), Some(r)) = (l, a.rexpr.as_deref().map(|n| ex(n, cx))) else {
                return fallback(node);
            };
            let (lt, rt, ty) = reconcile(&l, &r, true);
            E::func(format!("NULLIF({lt}, {rt})"), ty)
        }
        AExprKind::AexprIn => {
            let (Some(l), Some(list)) = (l, a.rexpr.as_deref()) else {
                return fallback(node);
            };
            let items: Vec<E> = match &list.node {
                Some(NodeEnum::List(items)) => items.items.iter().map(|i| ex(i, cx)).collect(),
                _ => return fallback(node),
            };
            let negated = op == "<>";
            if let [one] = items.as_slice() {
                let (lt, rt, _) = reconcile(&l, one, true);
                return E::new(format!("({lt} {op} {rt})"), Some("boolean".into()));
            }
            let lt = base(&l.ty);
            let quantifier = if negated { "ALL" } else { "ANY" };
            let (left, array) = match lt.as_deref() {
                Some(t) if is_varchar(t) => {
                    let texts: Vec<String> = items
                        .iter()
                        .map(|i| i.as_type(Some("character varying")))
                        .collect();
                    (
                        l.cast_to("text").text,
                        format!("(ARRAY[{}])::text[]", texts.join(", ")),
                    )
                }
                _ => {
                    let ty = lt.or_else(|| items.iter().find_map(|i| base(&i.ty)));
                    let texts: Vec<String> =
                        items.iter().map(|i| i.as_type(ty.as_deref())).collect();
                    (l.text.clone(), format!("ARRAY[{}]", texts.join(", ")))
                }
            };
            E::new(
                format!("({left} {op} {quantifier} ({array}))"),
                Some("boolean".into()),
            )
        }
        AExprKind::AexprOpAny | AExprKind::AexprOpAll => {
            let (Some(l), Some(r)) = (l, a.rexpr.as_deref().map(|n| ex(n, cx))) else {
                return fallback(node);
            };
            let q = if kind == AExprKind::AexprOpAny {
                "ANY"
            } else {
                "ALL"
            };
            let rt = r.settled(
                l.ty.as_deref()
                    .map(|t| format!("{}[]", cast_name(t)))
                    .as_deref(),
            );
            E::new(
                format!("({} {op} {q} ({}))", l.as_type(None), rt.text),
                Some("boolean".into()),
            )
        }
        AExprKind::AexprBetween | AExprKind::AexprNotBetween => {
            let (Some(l), Some(list)) = (l, a.rexpr.as_deref()) else {
                return fallback(node);
            };
            let bounds: Vec<E> = match &list.node {
                Some(NodeEnum::List(items)) => items.items.iter().map(|i| ex(i, cx)).collect(),
                _ => return fallback(node),
            };
            let [lo, hi] = bounds.as_slice() else {
                return fallback(node);
            };
            let (l1, lo, _) = reconcile(&l, lo, true);
            let (l2, hi, _) = reconcile(&l, hi, true);
            let text = if kind == AExprKind::AexprBetween {
                format!("(({l1} >= {lo}) AND ({l2} <= {hi}))")
            } else {
                format!("(({l1} < {lo}) OR ({l2} > {hi}))")
            };
            E::new(text, Some("boolean".into()))
        }
        _ => fallback(node),
    }
}

/// Built-in functions whose text arguments make `varchar` columns show their cast to text.
const TEXT_FUNCTIONS: [&str; 21] = [
    "btrim",
    "char_length",
    "initcap",
    "left",
    "length",
    "lower",
    "ltrim",
    "md5",
    "regexp_like",
    "regexp_match",
    "regexp_replace",
    "replace",
    "reverse",
    "right",
    "rtrim",
    "split_part",
    "starts_with",
    "strpos",
    "substr",
    "to_tsvector",
    "upper",
];

/// Functions of common extensions, printed qualified with the extension's schema.
const EXTENSION_FUNCTIONS: [(&str, &str); 12] = [
    ("uuid_generate_v1", "uuid-ossp"),
    ("uuid_generate_v1mc", "uuid-ossp"),
    ("uuid_generate_v3", "uuid-ossp"),
    ("uuid_generate_v4", "uuid-ossp"),
    ("uuid_generate_v5", "uuid-ossp"),
    ("uuid_nil", "uuid-ossp"),
    ("crypt", "pgcrypto"),
    ("gen_salt", "pgcrypto"),
    ("digest", "pgcrypto"),
    ("hmac", "pgcrypto"),
    ("gen_random_bytes", "pgcrypto"),
    ("unaccent", "unaccent"),
];

/// Result types of common built-in functions.
fn function_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "lower" | "upper" | "btrim" | "ltrim" | "rtrim" | "md5" | "initcap" | "left" | "right"
        | "replace" | "reverse" | "substr" | "split_part" | "concat" | "concat_ws"
        | "regexp_replace" | "to_char" | "current_setting" | "format" | "unaccent" => "text",
        "length" | "char_length" | "strpos" | "array_length" | "cardinality" => "integer",
        "now" | "clock_timestamp" | "statement_timestamp" | "transaction_timestamp" => {
            "timestamp with time zone"
        }
        "gen_random_uuid" | "uuid_generate_v4" | "uuid_generate_v1" | "uuidv4" | "uuidv7" => "uuid",
        "nextval" | "currval" | "setval" => "bigint",
        "to_tsvector" => "tsvector",
        "starts_with" | "regexp_like" => "boolean",
        _ => return None,
    })
}

fn func_call(f: &FuncCall, node: &Node, cx: &Cx) -> E {
    // SQL-syntax forms (EXTRACT, TRIM, SUBSTRING …), windows, filters and ordered aggregates
    // are left to the deparser.
    if f.funcformat == pg_query::protobuf::CoercionForm::CoerceSqlSyntax as i32 {
        if let Some(e) = sql_syntax(f, cx) {
            return e;
        }
    }
    if f.funcformat == pg_query::protobuf::CoercionForm::CoerceSqlSyntax as i32
        || f.over.is_some()
        || f.agg_filter.is_some()
        || !f.agg_order.is_empty()
    {
        let mut e = fallback(node);
        e.function_like = true;
        return e;
    }
    let parts = strings(&f.funcname);
    let (schema, name) = match parts.as_slice() {
        [name] => (None, name.as_str()),
        [.., schema, name] => (Some(schema.as_str()), name.as_str()),
        [] => return fallback(node),
    };
    let printed_name = match schema {
        Some("pg_catalog") => quote_identifier(name),
        Some(s) => format!("{}.{}", quote_identifier(s), quote_identifier(name)),
        None => match user_function_schema(cx.st, name) {
            Some(s) => format!("{}.{}", quote_identifier(&s), quote_identifier(name)),
            None => quote_identifier(name),
        },
    };
    if f.agg_star {
        return E::func(format!("{printed_name}(*)"), Some("bigint".into()));
    }
    let sequence_function = schema.is_none_or(|s| s == "pg_catalog")
        && matches!(name, "nextval" | "currval" | "setval");
    let text_function = schema.is_none_or(|s| s == "pg_catalog") && TEXT_FUNCTIONS.contains(&name);
    let mut args = Vec::with_capacity(f.args.len());
    for (i, a) in f.args.iter().enumerate() {
        let (arg, prefix) = match &a.node {
            Some(NodeEnum::NamedArgExpr(n)) => match n.arg.as_deref() {
                Some(inner) => (ex(inner, cx), format!("{} => ", quote_identifier(&n.name))),
                None => continue,
            },
            _ => (ex(a, cx), String::new()),
        };
        let text = if sequence_function && i == 0 {
            match &arg.unknown {
                Some(v) => format!("{}::regclass", literal(&sequence_literal(cx.st, v))),
                None => arg.as_type(None),
            }
        } else if text_function && arg.ty.as_deref().is_some_and(is_varchar) {
            arg.cast_to("text").text
        } else {
            arg.as_type(None)
        };
        args.push(format!("{prefix}{text}"));
    }
    let distinct = if f.agg_distinct { "DISTINCT " } else { "" };
    let variadic = if f.func_variadic { "VARIADIC " } else { "" };
    let text = if variadic.is_empty() {
        format!("{printed_name}({distinct}{})", args.join(", "))
    } else {
        let last = args.pop().unwrap_or_default();
        let mut all = args;
        all.push(format!("{variadic}{last}"));
        format!("{printed_name}({distinct}{})", all.join(", "))
    };
    E::func(text, function_type(name).map(str::to_string))
}

/// Functions written in SQL's own syntax, printed the way PostgreSQL 16+ prints them back.
fn sql_syntax(f: &FuncCall, cx: &Cx) -> Option<E> {
    let name = strings(&f.funcname).pop()?;
    let args: Vec<E> = f.args.iter().map(|a| ex(a, cx)).collect();
    // Implicit casts are not shown in these forms.
    let text = |e: &E, ty: &str| match &e.bare {
        Some(b) => b.clone(),
        None => e.as_type(Some(ty)),
    };
    Some(match (name.as_str(), args.as_slice()) {
        ("extract", [field, source]) => {
            let field = field.unknown.clone()?;
            E::func(
                format!(
                    "EXTRACT({field} FROM {})",
                    source.bare.clone().unwrap_or_else(|| source.as_type(None))
                ),
                Some("numeric".into()),
            )
        }
        ("btrim" | "ltrim" | "rtrim", [s, rest @ ..]) => {
            let side = match name.as_str() {
                "btrim" => "BOTH",
                "ltrim" => "LEADING",
                _ => "TRAILING",
            };
            let chars = match rest {
                [c] => format!(" {}", text(c, "text")),
                _ => String::new(),
            };
            E::func(
                format!("TRIM({side}{chars} FROM {})", text(s, "text")),
                Some("text".into()),
            )
        }
        ("substring", [s, from]) => E::func(
            format!(
                "SUBSTRING({} FROM {})",
                text(s, "text"),
                from.as_type(Some("integer"))
            ),
            Some("text".into()),
        ),
        ("substring", [s, from, count]) => E::func(
            format!(
                "SUBSTRING({} FROM {} FOR {})",
                text(s, "text"),
                from.as_type(Some("integer")),
                count.as_type(Some("integer"))
            ),
            Some("text".into()),
        ),
        ("position", [haystack, needle]) => E::func(
            format!(
                "POSITION(({}) IN ({}))",
                text(needle, "text"),
                text(haystack, "text")
            ),
            Some("integer".into()),
        ),
        ("timezone", [zone, value]) => E::new(
            format!(
                "({} AT TIME ZONE {})",
                value.as_type(None),
                zone.as_type(Some("text"))
            ),
            None,
        ),
        _ => return None,
    })
}

/// The schema a function called unqualified resolves to, when it is not built in: a function
/// of the DDL tree, or a known function of an extension it creates.
fn user_function_schema(st: &State, name: &str) -> Option<String> {
    for s in &st.search_path {
        if st.funcs.contains_key(&(s.clone(), name.to_string())) {
            return Some(s.clone());
        }
    }
    let ext = EXTENSION_FUNCTIONS
        .iter()
        .find(|(f, _)| *f == name)
        .map(|(_, e)| *e)?;
    st.model.extensions.get(ext).map(|e| e.schema.clone())
}

/// `nextval('users_id_seq')` names its sequence as `regclass` prints it: schema-qualified.
fn sequence_literal(st: &State, name: &str) -> String {
    let parts: Vec<&str> = name.split('.').collect();
    let (schema, seq) = match parts.as_slice() {
        [seq] => (None, *seq),
        [.., schema, seq] => (Some(*schema), *seq),
        [] => return name.to_string(),
    };
    let schema = st.resolve(schema, seq, |k| st.model.sequences.contains_key(k));
    format!("{}.{}", quote_identifier(&schema), quote_identifier(seq))
}
