//! Small helpers shared by rules.

use confiture_core::schema::Table;

use crate::inputs::SchemaInput;

/// `schema.table` of a model table.
pub fn table_key(t: &Table) -> String {
    format!("{}.{}", t.schema, t.name)
}

/// The tables rules look at: not partitions (their parent is linted) and not the tracking table.
pub fn tables<'a>(s: &'a SchemaInput) -> impl Iterator<Item = &'a Table> {
    s.model
        .tables
        .values()
        .filter(|t| t.partition_of.is_none() && t.name != "tb_confiture")
}

/// The base of a `format_type` spelling: lower case, without array brackets and type modifiers
/// (`character varying(40)[]` → `character varying`).
fn base_type(data_type: &str) -> String {
    let t = data_type.trim().to_ascii_lowercase();
    let t = t.trim_end_matches("[]");
    t.split('(').next().unwrap_or(t).trim().to_string()
}

/// A type that stores readable text: `text`, `character varying(n)`, `character(n)`, `citext`,
/// `name` (arrays judged by their element type; domains are not known here).
pub fn is_text_type(data_type: &str) -> bool {
    matches!(
        base_type(data_type).as_str(),
        "text"
            | "character varying"
            | "varchar"
            | "character"
            | "char"
            | "bpchar"
            | "citext"
            | "name"
    )
}

/// A numeric type: integers, `numeric`/`decimal`, floating point.
pub fn is_numeric_type(data_type: &str) -> bool {
    matches!(
        base_type(data_type).as_str(),
        "smallint"
            | "integer"
            | "bigint"
            | "int"
            | "int2"
            | "int4"
            | "int8"
            | "numeric"
            | "decimal"
            | "real"
            | "double precision"
            | "float4"
            | "float8"
    )
}

/// A function as SQL names it in `ALTER`/`GRANT`/`REVOKE`: `"s"."f"(integer, text)` (the
/// identity arguments as the model spells them, `format_type` output).
pub fn function_signature(f: &confiture_core::schema::Function) -> String {
    use confiture_core::ident::quote_ident;
    format!(
        "{}.{}({})",
        quote_ident(&f.schema),
        quote_ident(&f.name),
        f.arguments
    )
}

/// `FUNCTION` or `PROCEDURE`, for `ALTER …`/`REVOKE … ON …` of a model function.
pub fn function_keyword(f: &confiture_core::schema::Function) -> &'static str {
    if f.kind == "procedure" {
        "PROCEDURE"
    } else {
        "FUNCTION"
    }
}

// ---- Identifiers and definitions (naming, structure and tenancy rules) ----

/// PostgreSQL's reserved keywords (`RESERVED_KEYWORD` in `kwlist.h`): never a bare name.
pub const RESERVED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

/// Keywords that may name a function or a type but not a table, column or schema
/// (`TYPE_FUNC_NAME_KEYWORD` in `kwlist.h`).
pub const TYPE_FUNC_NAME_KEYWORDS: &[&str] = &[
    "authorization",
    "binary",
    "collation",
    "concurrently",
    "cross",
    "current_schema",
    "freeze",
    "full",
    "ilike",
    "inner",
    "is",
    "isnull",
    "join",
    "left",
    "like",
    "natural",
    "notnull",
    "outer",
    "overlaps",
    "right",
    "similar",
    "tablesample",
    "verbose",
];

/// PostgreSQL's identifier limit (`NAMEDATALEN - 1` bytes): longer names are truncated.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Lower snake_case: `[a-z_][a-z0-9_]*`, no leading digit.
pub fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A snake_case spelling of `name` for suggestions: `UserAccounts` → `user_accounts`,
/// `HTTPStatus` → `http_status`, `first name` → `first_name`.
pub fn to_snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                if (prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_lower))
                    && !out.ends_with('_')
                {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        None => "_".to_string(),
        Some(c) if c.is_ascii_digit() => format!("_{out}"),
        Some(_) => out,
    }
}

/// `name` must be double-quoted to be written as a table, column, schema, index or constraint
/// name: anything but `[a-z_][a-z0-9_]*`, or a reserved (or type/function-only) keyword.
pub fn needs_quoting(name: &str) -> bool {
    !is_snake_case(name)
        || RESERVED_KEYWORDS.contains(&name)
        || TYPE_FUNC_NAME_KEYWORDS.contains(&name)
}

/// Like [`needs_quoting`], for the name of a function or a type (where the type/function-only
/// keywords such as `left` are allowed bare).
pub fn needs_quoting_as_function_or_type(name: &str) -> bool {
    !is_snake_case(name) || RESERVED_KEYWORDS.contains(&name)
}

/// An identifier for SQL text: bare when PostgreSQL reads it back unchanged, else quoted
/// (through [`confiture_core::ident::quote_ident`]).
pub fn sql_ident(name: &str) -> String {
    if needs_quoting(name) {
        confiture_core::ident::quote_ident(name)
    } else {
        name.to_string()
    }
}

/// `schema.name` for SQL text, each part quoted only when needed.
pub fn sql_qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", sql_ident(schema), sql_ident(name))
}

/// `name` cut to at most `max` bytes on a character boundary (PostgreSQL's truncation).
pub fn truncate_bytes(name: &str, max: usize) -> &str {
    if name.len() <= max {
        return name;
    }
    let mut end = max;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A conventional index name `<table>_<col>_<col>_idx`, within PostgreSQL's 63 bytes.
pub fn index_name_for(table: &str, columns: &[String]) -> String {
    let mut base = table.to_string();
    for c in columns {
        base.push('_');
        base.push_str(c);
    }
    let base = truncate_bytes(&base, MAX_IDENTIFIER_BYTES - 4);
    format!("{base}_idx")
}

/// One key element of an index or constraint column list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    /// A column name (unquoted: `Order`, not `"Order"`) or an expression as written
    /// (`lower(email)`, `(a + b)`).
    pub key: String,
    /// An expression rather than a column.
    pub expression: bool,
    /// What follows the key: collation, operator class, `DESC`, `NULLS FIRST`, `WITH &&`.
    pub modifiers: String,
}

/// An index definition (`pg_get_indexdef`) taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    pub unique: bool,
    /// The index name (unquoted).
    pub name: String,
    /// The table as written, parts unquoted and joined with `.`.
    pub table: String,
    /// `btree` when `USING` is absent.
    pub method: String,
    pub elements: Vec<KeyElement>,
    /// `INCLUDE (…)` columns, unquoted.
    pub include: Vec<String>,
    /// The predicate of a partial index, as written.
    pub predicate: Option<String>,
}

/// A scanner over definition text that knows identifiers, quotes and parentheses.
struct DefCursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> DefCursor<'a> {
    fn new(text: &'a str) -> Self {
        DefCursor { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    /// Consume keyword `kw` (case-insensitive, whole word).
    fn keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        let r = self.rest();
        if r.len() >= kw.len()
            && r.is_char_boundary(kw.len())
            && r[..kw.len()].eq_ignore_ascii_case(kw)
            && !r[kw.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    /// One identifier, bare or double-quoted; returned unquoted.
    fn ident(&mut self) -> Option<String> {
        self.skip_ws();
        let r = self.rest();
        if let Some(body) = r.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = body.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if chars.peek().is_some_and(|(_, n)| *n == '"') {
                        out.push('"');
                        chars.next();
                    } else {
                        self.pos += i + 2;
                        return Some(out);
                    }
                } else {
                    out.push(c);
                }
            }
            None
        } else {
            let len: usize = r
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                .map(char::len_utf8)
                .sum();
            (len > 0).then(|| {
                self.pos += len;
                r[..len].to_string()
            })
        }
    }

    /// A possibly qualified name: parts unquoted.
    fn qualified(&mut self) -> Option<Vec<String>> {
        let mut parts = vec![self.ident()?];
        while self.rest().starts_with('.') {
            self.pos += 1;
            parts.push(self.ident()?);
        }
        Some(parts)
    }

    /// A parenthesised group at the cursor: its inside.
    fn group(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let r = self.rest();
        if !r.starts_with('(') {
            return None;
        }
        let end = matching_paren(r)?;
        self.pos += end + 1;
        Some(&r[1..end])
    }
}

/// Byte index of the parenthesis closing the one `s` starts with (quotes respected).
fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Split at commas outside parentheses and quotes.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None::<char>, 0usize);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(s[start..].trim());
    }
    out
}

/// Byte index of keyword `kw` at the top level of `s` (outside parentheses and quotes).
fn find_top_level_keyword(s: &str, kw: &str) -> Option<usize> {
    let (mut depth, mut quote) = (0usize, None::<char>);
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                let boundary_before =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                let word = s.get(i..i + kw.len());
                let boundary_after = s[i..]
                    .get(kw.len()..)
                    .is_some_and(|r| !r.starts_with(|c: char| c.is_alphanumeric() || c == '_'));
                if boundary_before
                    && boundary_after
                    && word.is_some_and(|w| w.eq_ignore_ascii_case(kw))
                {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// One element of a column list: `"Order" DESC`, `lower(b) text_pattern_ops`, `(a + b)`,
/// `c WITH &&`.
pub fn key_element(text: &str) -> KeyElement {
    let text = text.trim();
    let text = text
        .strip_prefix("PERIOD ")
        .map(str::trim_start)
        .unwrap_or(text);
    let expression = |end: usize| KeyElement {
        key: text[..end].to_string(),
        expression: true,
        modifiers: text[end..].trim().to_string(),
    };
    if text.starts_with('(') {
        return match matching_paren(text) {
            Some(end) => expression(end + 1),
            None => expression(text.len()),
        };
    }
    let mut cur = DefCursor::new(text);
    match cur.qualified() {
        Some(parts) => {
            let r = cur.rest();
            if r.starts_with('(') {
                let end = cur.pos + matching_paren(r).map_or(r.len(), |e| e + 1);
                expression(end)
            } else if parts.len() == 1 {
                KeyElement {
                    key: parts.into_iter().next().unwrap_or_default(),
                    expression: false,
                    modifiers: r.trim().to_string(),
                }
            } else {
                expression(cur.pos)
            }
        }
        None => expression(text.len()),
    }
}

/// Take apart a `pg_get_indexdef` definition:
/// `CREATE UNIQUE INDEX i ON ONLY s.t USING btree (a, lower(b)) INCLUDE (c) WHERE …`.
pub fn parse_index(definition: &str) -> Option<IndexDef> {
    let mut cur = DefCursor::new(definition);
    if !cur.keyword("CREATE") {
        return None;
    }
    let unique = cur.keyword("UNIQUE");
    if !cur.keyword("INDEX") {
        return None;
    }
    cur.keyword("CONCURRENTLY");
    if cur.keyword("IF") {
        cur.keyword("NOT");
        cur.keyword("EXISTS");
    }
    let name = if cur.keyword("ON") {
        String::new()
    } else {
        let n = cur.ident()?;
        if !cur.keyword("ON") {
            return None;
        }
        n
    };
    cur.keyword("ONLY");
    let table = cur.qualified()?.join(".");
    let method = if cur.keyword("USING") {
        cur.ident()?.to_ascii_lowercase()
    } else {
        "btree".to_string()
    };
    let elements = split_top_level(cur.group()?)
        .into_iter()
        .map(key_element)
        .collect();
    let tail = cur.rest();
    let (tail, predicate) = match find_top_level_keyword(tail, "WHERE") {
        Some(i) => (&tail[..i], Some(tail[i + 5..].trim().to_string())),
        None => (tail, None),
    };
    let include = match find_top_level_keyword(tail, "INCLUDE") {
        Some(i) => {
            let mut c = DefCursor::new(&tail[i + 7..]);
            c.group()
                .map(|g| {
                    split_top_level(g)
                        .into_iter()
                        .map(|e| key_element(e).key)
                        .collect()
                })
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    Some(IndexDef {
        unique,
        name,
        table,
        method,
        elements,
        include,
        predicate,
    })
}

/// The key columns of an index definition (`pg_get_indexdef`), unquoted; expressions as
/// written (`lower(b)`). Empty when the definition cannot be read.
pub fn index_columns(definition: &str) -> Vec<String> {
    parse_index(definition)
        .map(|d| d.elements.into_iter().map(|e| e.key).collect())
        .unwrap_or_default()
}

/// The column list of a constraint definition (`pg_get_constraintdef`), unquoted:
/// `PRIMARY KEY (a, b)`, `UNIQUE NULLS NOT DISTINCT (a)`, `FOREIGN KEY (a) REFERENCES …`
/// (the referencing columns), `EXCLUDE USING gist (c WITH &&)`. Empty for `CHECK`.
pub fn constraint_columns(definition: &str) -> Vec<String> {
    let mut cur = DefCursor::new(definition);
    if cur.keyword("CHECK") {
        return Vec::new();
    }
    let Some(open) = definition.find('(') else {
        return Vec::new();
    };
    cur.pos = open;
    cur.group()
        .map(|g| {
            split_top_level(g)
                .into_iter()
                .map(|e| key_element(e).key)
                .collect()
        })
        .unwrap_or_default()
}

/// `INCLUDE (…)` columns of a PRIMARY KEY or UNIQUE constraint definition, unquoted.
pub fn constraint_include(definition: &str) -> Vec<String> {
    match find_top_level_keyword(definition, "INCLUDE") {
        Some(i) => DefCursor::new(&definition[i + 7..])
            .group()
            .map(|g| {
                split_top_level(g)
                    .into_iter()
                    .map(|e| key_element(e).key)
                    .collect()
            })
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// The referenced table (parts unquoted, joined with `.`) and columns (empty when the
/// definition names none) of a `FOREIGN KEY (a) REFERENCES s.t(id) …` definition.
pub fn fk_target(definition: &str) -> Option<(String, Vec<String>)> {
    let at = find_top_level_keyword(definition, "REFERENCES")?;
    let mut cur = DefCursor::new(&definition[at + "REFERENCES".len()..]);
    let table = cur.qualified()?.join(".");
    let columns = cur
        .group()
        .map(|g| {
            split_top_level(g)
                .into_iter()
                .map(|e| key_element(e).key)
                .collect()
        })
        .unwrap_or_default();
    Some((table, columns))
}

/// An index of a table, explicit or behind a PRIMARY KEY or UNIQUE constraint.
#[derive(Debug, Clone)]
pub struct TableIndex<'a> {
    pub name: &'a str,
    /// The kind of the constraint it backs (`primary_key`, `unique`); `None` for an index.
    pub constraint: Option<&'a str>,
    pub unique: bool,
    pub method: String,
    pub elements: Vec<KeyElement>,
    pub include: Vec<String>,
    pub predicate: Option<String>,
}

impl TableIndex<'_> {
    /// Usable for lookups on `columns` (in any order): not partial, and its leading key
    /// columns are exactly `columns`.
    pub fn leads_with(&self, columns: &[String]) -> bool {
        self.predicate.is_none()
            && !columns.is_empty()
            && self.elements.len() >= columns.len()
            && self.elements[..columns.len()]
                .iter()
                .all(|e| !e.expression && columns.contains(&e.key))
            && columns
                .iter()
                .all(|c| self.elements[..columns.len()].iter().any(|e| &e.key == c))
    }
}

/// The valid, non-inherited indexes of a map (a table's or a materialized view's) whose
/// definitions can be read.
pub fn explicit_indexes(
    indexes: &std::collections::BTreeMap<String, confiture_core::schema::Index>,
) -> Vec<TableIndex<'_>> {
    indexes
        .values()
        .filter(|i| i.valid && !i.inherited)
        .filter_map(|i| {
            let d = parse_index(&i.definition)?;
            Some(TableIndex {
                name: &i.name,
                constraint: None,
                unique: i.unique,
                method: if i.method.is_empty() {
                    d.method
                } else {
                    i.method.clone()
                },
                elements: d.elements,
                include: d.include,
                predicate: d.predicate,
            })
        })
        .collect()
}

/// A table's indexes: [`explicit_indexes`], then those of its PRIMARY KEY and UNIQUE
/// constraints (not inherited).
pub fn table_indexes(t: &Table) -> Vec<TableIndex<'_>> {
    let mut out = explicit_indexes(&t.indexes);
    for c in t.constraints.values() {
        if c.inherited || !matches!(c.kind.as_str(), "primary_key" | "unique") {
            continue;
        }
        out.push(TableIndex {
            name: &c.name,
            constraint: Some(&c.kind),
            unique: true,
            method: "btree".to_string(),
            elements: constraint_columns(&c.definition)
                .into_iter()
                .map(|key| KeyElement {
                    key,
                    expression: false,
                    modifiers: String::new(),
                })
                .collect(),
            include: constraint_include(&c.definition),
            predicate: None,
        });
    }
    out
}
