//! Shared by the migration rules: relation names, statement locations, ALTER TABLE commands,
//! column types, size-scaled findings and the SQL of fixes.
//!
//! Everything here reads the parse tree in place: nothing is parsed again and nothing is
//! allocated until a rule has something to report.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

use pg_query::protobuf::{
    node::Node as N, AlterTableCmd, AlterTableStmt, AlterTableType, ColumnDef, ConstrType,
    Constraint, Node, ObjectType, RangeVar, TypeName,
};
use pg_query::NodeEnum;

use crate::finding::Finding;
use crate::inputs::{Loc, MigrationInput, Statement};
use crate::rule::{Context, Rule};
use crate::rules::util;
use crate::size;

/// The schema of `rel`, `public` when unqualified.
pub fn schema_of(rel: &RangeVar) -> &str {
    if rel.schemaname.is_empty() {
        "public"
    } else {
        &rel.schemaname
    }
}

/// `schema.table` of `rel` (the key of [`crate::Stats`] and of findings' objects).
pub fn table_key(rel: &RangeVar) -> String {
    format!("{}.{}", schema_of(rel), rel.relname)
}

/// Which tables the statements of a migration create, to tell new (empty) tables from existing
/// ones: locking or rewriting a table created earlier in the same migration hurts nobody. The
/// same answer as [`MigrationInput::created_before`], without building a list per question:
/// short files are scanned, long ones (a `pg_dump` adds its keys and indexes after thousands of
/// `CREATE TABLE`) get an index built once, on first use.
pub struct Created<'a> {
    statements: &'a [Statement],
    index: OnceCell<HashMap<(&'a str, &'a str), usize>>,
}

/// Below this many earlier statements a scan beats building the index.
const SCAN: usize = 64;

impl<'a> Created<'a> {
    pub fn new(m: &MigrationInput<'a>) -> Created<'a> {
        Created {
            statements: m.statements,
            index: OnceCell::new(),
        }
    }

    /// Whether a statement before `index` created `rel`.
    pub fn before(&self, index: usize, rel: &RangeVar) -> bool {
        self.named_before(index, schema_of(rel), &rel.relname)
    }

    /// Whether a statement before `index` created table `schema.name`.
    pub fn named_before(&self, index: usize, schema: &str, name: &str) -> bool {
        if index <= SCAN {
            return self.statements[..index]
                .iter()
                .any(|s| creates(s).is_some_and(|(sc, n)| n == name && sc == schema));
        }
        let map = self.index.get_or_init(|| {
            let mut map = HashMap::new();
            for (i, s) in self.statements.iter().enumerate() {
                if let Some(key) = creates(s) {
                    map.entry(key).or_insert(i);
                }
            }
            map
        });
        map.get(&(schema, name)).is_some_and(|&at| at < index)
    }
}

/// The table (`schema`, `name`) a `CREATE TABLE` creates.
fn creates(s: &Statement) -> Option<(&str, &str)> {
    match &s.node {
        Some(NodeEnum::CreateStmt(c)) => c
            .relation
            .as_ref()
            .map(|r| (schema_of(r), r.relname.as_str())),
        _ => None,
    }
}

/// Where statement `st` of `m` starts.
pub fn loc(m: &MigrationInput, st: &Statement) -> Loc {
    Loc {
        file: m.file.to_path_buf(),
        line: st.line,
        column: st.column,
    }
}

/// A finding of `rule` about `object`, at statement `st`, at the rule's severity.
pub fn finding(
    rule: &Rule,
    m: &MigrationInput,
    st: &Statement,
    object: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding::new(rule, message)
        .object(object)
        .at(Some(&loc(m, st)))
}

/// The severity of `rule` for a lock or rewrite of `table` (scaled by its size when a database
/// was given) and the size to put in the message (`" (3,000,000 rows, 412 MiB)"` or nothing).
pub fn sized(rule: &Rule, ctx: &Context, table: &str) -> (crate::Severity, String) {
    let sz = ctx.stats.and_then(|s| s.get(table));
    (size::scaled(sz, rule.severity), size::describe(sz))
}

/// The relation and commands of an `ALTER TABLE` (not `ALTER INDEX`, `ALTER VIEW`, …).
pub fn alter_table(st: &Statement) -> Option<(&AlterTableStmt, &RangeVar)> {
    match &st.node {
        Some(NodeEnum::AlterTableStmt(a)) if a.objtype == ObjectType::ObjectTable as i32 => {
            a.relation.as_ref().map(|r| (a, r))
        }
        _ => None,
    }
}

/// The commands of an `ALTER TABLE`.
pub fn commands(a: &AlterTableStmt) -> impl Iterator<Item = &AlterTableCmd> {
    a.cmds.iter().filter_map(|c| match &c.node {
        Some(N::AlterTableCmd(cmd)) => Some(cmd.as_ref()),
        _ => None,
    })
}

pub fn is(cmd: &AlterTableCmd, kind: AlterTableType) -> bool {
    cmd.subtype == kind as i32
}

/// The column an `ADD COLUMN` (or `ALTER COLUMN … TYPE`) defines.
pub fn column_def(cmd: &AlterTableCmd) -> Option<&ColumnDef> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(N::ColumnDef(c)) => Some(c),
        _ => None,
    }
}

/// The constraint an `ADD CONSTRAINT` adds.
pub fn constraint(cmd: &AlterTableCmd) -> Option<&Constraint> {
    match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
        Some(N::Constraint(c)) => Some(c),
        _ => None,
    }
}

/// The constraints written on a column (`NOT NULL`, `DEFAULT`, `PRIMARY KEY`, …).
pub fn column_constraints(col: &ColumnDef) -> impl Iterator<Item = &Constraint> {
    col.constraints.iter().filter_map(|c| match &c.node {
        Some(N::Constraint(c)) => Some(c.as_ref()),
        _ => None,
    })
}

pub fn contype(c: &Constraint) -> ConstrType {
    ConstrType::try_from(c.contype).unwrap_or(ConstrType::Undefined)
}

/// The column constraint of kind `kind`, if written.
pub fn column_constraint(col: &ColumnDef, kind: ConstrType) -> Option<&Constraint> {
    column_constraints(col).find(|c| contype(c) == kind)
}

/// Where a column's type is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnSite {
    CreateTable,
    AddColumn,
    AlterType,
}

/// Every column type a statement writes: the columns of `CREATE TABLE`, `ADD COLUMN` and
/// `ALTER COLUMN … TYPE`, with their table, name and definition.
pub fn column_types<'a>(
    st: &'a Statement,
    mut f: impl FnMut(&'a RangeVar, &'a str, &'a TypeName, &'a ColumnDef, ColumnSite),
) {
    match &st.node {
        Some(NodeEnum::CreateStmt(c)) => {
            let Some(rel) = &c.relation else { return };
            for e in &c.table_elts {
                if let Some(N::ColumnDef(col)) = &e.node {
                    if let Some(t) = &col.type_name {
                        f(rel, &col.colname, t, col, ColumnSite::CreateTable);
                    }
                }
            }
        }
        Some(NodeEnum::AlterTableStmt(_)) => {
            let Some((alter, rel)) = alter_table(st) else {
                return;
            };
            for cmd in commands(alter) {
                let site = if is(cmd, AlterTableType::AtAddColumn) {
                    ColumnSite::AddColumn
                } else if is(cmd, AlterTableType::AtAlterColumnType) {
                    ColumnSite::AlterType
                } else {
                    continue;
                };
                let Some(col) = column_def(cmd) else { continue };
                let Some(t) = &col.type_name else { continue };
                let name = if site == ColumnSite::AlterType {
                    &cmd.name
                } else {
                    &col.colname
                };
                f(rel, name, t, col, site);
            }
        }
        _ => {}
    }
}

/// The string values of a list of `String` nodes (column lists, qualified names).
pub fn strings(nodes: &[Node]) -> impl Iterator<Item = &str> {
    nodes.iter().filter_map(|n| match &n.node {
        Some(N::String(s)) => Some(s.sval.as_str()),
        _ => None,
    })
}

/// The name of a type as PostgreSQL knows it, without `pg_catalog`: `int4` for `integer`,
/// `bpchar` for `char(n)`, `timestamp`, `serial` (a pseudo-type of the grammar).
pub fn type_base(t: &TypeName) -> &str {
    strings(&t.names).last().unwrap_or_default()
}

/// Whether the type is a built-in one (unqualified or in `pg_catalog`) named `name`: a quoted
/// `"char"` is PostgreSQL's one-byte internal type, not `char(1)`.
pub fn builtin(t: &TypeName) -> Option<&str> {
    let mut names = strings(&t.names);
    match (names.next(), names.next(), names.next()) {
        (Some(n), None, None) => Some(n),
        (Some("pg_catalog"), Some(n), None) => Some(n),
        _ => None,
    }
}

/// The serial pseudo-types (`serial`, `bigserial`, `smallserial` and their aliases).
pub fn is_serial(t: &TypeName) -> bool {
    t.names.len() == 1
        && matches!(
            type_base(t),
            "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
        )
}

/// A type as SQL for a fix: `integer`, `varchar(20)`, `timestamp(3)[]`, `app.money`.
pub fn type_sql(t: &TypeName) -> String {
    let mut names = strings(&t.names).peekable();
    if names.peek() == Some(&"pg_catalog") {
        names.next();
    }
    let parts: Vec<&str> = names.collect();
    let mut out = match parts.as_slice() {
        [one] => match *one {
            "int2" => "smallint".to_string(),
            "int4" => "integer".to_string(),
            "int8" => "bigint".to_string(),
            "float4" => "real".to_string(),
            "float8" => "double precision".to_string(),
            "bool" => "boolean".to_string(),
            "bpchar" => "char".to_string(),
            // Built-in type names (`varchar`, `timestamp`, …) are keywords that need no quotes.
            other if util::is_snake_case(other) => other.to_string(),
            other => confiture_core::ident::quote_ident(other),
        },
        _ => parts.iter().map(|p| ident(p)).collect::<Vec<_>>().join("."),
    };
    let mods: Vec<String> = t
        .typmods
        .iter()
        .filter_map(|m| match &m.node {
            Some(N::AConst(c)) => match &c.val {
                Some(pg_query::protobuf::a_const::Val::Ival(i)) => Some(i.ival.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if !mods.is_empty() && out != "interval" {
        out.push('(');
        out.push_str(&mods.join(", "));
        out.push(')');
    }
    for _ in &t.array_bounds {
        out.push_str("[]");
    }
    out
}

/// An identifier for SQL: as is when PostgreSQL reads it back unchanged, else quoted (the
/// crate's rule, [`crate::rules::util::needs_quoting`]).
pub fn ident(name: &str) -> Cow<'_, str> {
    if util::needs_quoting(name) {
        Cow::Owned(confiture_core::ident::quote_ident(name))
    } else {
        Cow::Borrowed(name)
    }
}

/// `rel` for SQL, qualified the way it is written.
pub fn relation_sql(rel: &RangeVar) -> String {
    if rel.schemaname.is_empty() {
        ident(&rel.relname).into_owned()
    } else {
        format!("{}.{}", ident(&rel.schemaname), ident(&rel.relname))
    }
}

/// `ALTER TABLE rel <cmd>;` printed by PostgreSQL's deparser (for fixes).
pub fn deparse_alter(rel: &RangeVar, cmd: AlterTableCmd) -> Option<String> {
    let stmt = NodeEnum::AlterTableStmt(AlterTableStmt {
        relation: Some(rel.clone()),
        cmds: vec![Node {
            node: Some(N::AlterTableCmd(Box::new(cmd))),
        }],
        objtype: ObjectType::ObjectTable as i32,
        missing_ok: false,
    });
    stmt.deparse(Default::default())
        .ok()
        .map(|s| format!("{s};"))
}

/// `ALTER TABLE rel ADD CONSTRAINT name … NOT VALID;`: constraint `c` under `name`, printed by
/// the deparser; `ALTER TABLE rel ADD CONSTRAINT {placeholder} NOT VALID;` if it cannot print it.
pub fn add_not_valid(rel: &RangeVar, c: &Constraint, name: &str, placeholder: &str) -> String {
    let mut not_valid = c.clone();
    not_valid.conname = name.to_string();
    not_valid.skip_validation = true;
    not_valid.initially_valid = false;
    deparse_alter(
        rel,
        AlterTableCmd {
            subtype: AlterTableType::AtAddConstraint as i32,
            def: Some(Box::new(Node {
                node: Some(N::Constraint(Box::new(not_valid))),
            })),
            behavior: pg_query::protobuf::DropBehavior::DropRestrict as i32,
            ..Default::default()
        },
    )
    .unwrap_or_else(|| {
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {placeholder} NOT VALID;",
            relation_sql(rel)
        )
    })
}

/// A constraint name the way PostgreSQL derives one (`orders_customer_id_fkey`), kept within
/// 63 bytes.
pub fn derived_name(table: &str, columns: &[&str], suffix: &str) -> String {
    let mut name = String::from(table);
    for c in columns {
        name.push('_');
        name.push_str(c);
    }
    let kept = util::truncate_bytes(&name, util::MAX_IDENTIFIER_BYTES - suffix.len() - 1).len();
    name.truncate(kept);
    name.push('_');
    name.push_str(suffix);
    name
}

/// The later statement of a transactional migration that validates constraint `name` of `rel`:
/// the lock `ADD CONSTRAINT … NOT VALID` took is held until commit, so validating in the same
/// transaction scans the table under it and `NOT VALID` gains nothing.
pub fn validated_in_same_transaction<'a>(
    m: &'a MigrationInput,
    index: usize,
    rel: &RangeVar,
    name: &str,
) -> Option<&'a Statement> {
    if !m.transactional || name.is_empty() {
        return None;
    }
    let schema = schema_of(rel);
    m.statements[index + 1..].iter().find(|s| {
        alter_table(s).is_some_and(|(a, r)| {
            r.relname == rel.relname
                && schema_of(r) == schema
                && commands(a)
                    .any(|c| is(c, AlterTableType::AtValidateConstraint) && c.name == name)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::parse_one;

    fn column(sql: &str) -> ColumnDef {
        match parse_one(sql) {
            Some(NodeEnum::CreateStmt(c)) => match &c.table_elts[0].node {
                Some(N::ColumnDef(col)) => (**col).clone(),
                _ => unreachable!(),
            },
            _ => unreachable!(),
        }
    }

    #[test]
    fn types_print_back() {
        let t = |ty: &str| {
            type_sql(
                column(&format!("CREATE TABLE t (c {ty})"))
                    .type_name
                    .as_ref()
                    .unwrap(),
            )
        };
        assert_eq!(t("int"), "integer");
        assert_eq!(t("character varying(20)"), "varchar(20)");
        assert_eq!(t("timestamp(3) without time zone"), "timestamp(3)");
        assert_eq!(t("numeric(10, 2)[]"), "numeric(10, 2)[]");
        assert_eq!(t("app.\"Money\""), "app.\"Money\"");
        assert_eq!(t("interval day"), "interval");
    }

    #[test]
    fn created_tables_are_found_in_short_and_long_files() {
        use crate::inputs::parse_statements;
        let mut sql = String::from("CREATE TABLE app.a (id int);\n");
        for i in 0..100 {
            sql.push_str(&format!("CREATE TABLE t{i} (id int);\n"));
        }
        let stmts = parse_statements(&sql).unwrap();
        let m = MigrationInput {
            file: std::path::Path::new("x.sql"),
            statements: &stmts,
            transactional: true,
        };
        let created = Created::new(&m);
        let rel = |schema: &str, name: &str| RangeVar {
            schemaname: schema.into(),
            relname: name.into(),
            ..Default::default()
        };
        for index in [10, 100] {
            assert!(created.before(index, &rel("app", "a")));
            assert!(!created.before(index, &rel("", "a")));
            assert!(created.before(index, &rel("public", "t5")));
            assert!(created.before(index, &rel("", "t5")));
            assert!(!created.before(index, &rel("", "t99")));
            assert!(!created.before(index, &rel("", "missing")));
        }
        assert!(created.before(100, &rel("", "t90")));
        assert_eq!(
            created.before(100, &rel("", "t90")),
            m.created_before(100).contains(&"public.t90".to_string())
        );
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("Users"), "\"Users\"");
        assert_eq!(ident("name"), "name");
        assert_eq!(
            derived_name("orders", &["customer_id"], "fkey"),
            "orders_customer_id_fkey"
        );
        assert_eq!(derived_name(&"x".repeat(80), &[], "key").len(), 63);
    }
}
