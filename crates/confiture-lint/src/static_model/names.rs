//! Names as PostgreSQL prints and chooses them: `quote_identifier`, and the default names of
//! constraints, indexes and sequences (`makeObjectName`, `ChooseRelationName`).

use pg_query::protobuf::Node;
use pg_query::NodeEnum;

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1` bytes).
pub const MAX_IDENT: usize = 63;

/// Keywords that `quote_identifier` quotes: every category but the unreserved one
/// (PostgreSQL 18's `kwlist.h`, sorted).
const QUOTED_KEYWORDS: [&str; 164] = [
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

fn is_quoted_keyword(word: &str) -> bool {
    static SET: std::sync::OnceLock<super::FastSet<&'static str>> = std::sync::OnceLock::new();
    // Keywords are 2 to 17 bytes long.
    (2..=17).contains(&word.len())
        && SET
            .get_or_init(|| QUOTED_KEYWORDS.iter().copied().collect())
            .contains(word)
}

/// PostgreSQL's `quote_identifier`: quoted only when it must be (not a lower-case identifier,
/// or a keyword other than an unreserved one).
pub fn quote_identifier(ident: &str) -> String {
    let bytes = ident.as_bytes();
    let safe = !bytes.is_empty()
        && (bytes[0].is_ascii_lowercase() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        && !is_quoted_keyword(ident);
    if safe {
        ident.to_string()
    } else {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }
}

/// `schema.name`, each part through [`quote_identifier`].
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_identifier(schema), quote_identifier(name))
}

/// A string literal (`'it''s'`).
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary
/// (`pg_mbcliplen`).
pub fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, the longer of the two names shortened
/// until the whole fits in 63 bytes.
pub fn make_object_name(name1: &str, name2: Option<&str>, label: Option<&str>) -> String {
    let mut overhead = 0;
    if name2.is_some() {
        overhead += 1;
    }
    if let Some(l) = label {
        overhead += l.len() + 1;
    }
    let avail = MAX_IDENT.saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_string();
    if let Some(n) = name2 {
        out.push('_');
        out.push_str(clip(n, n2));
    }
    if let Some(l) = label {
        out.push('_');
        out.push_str(l);
    }
    out
}

/// PostgreSQL's `ChooseRelationName` / `ChooseConstraintName`: `name1_name2_label`, then
/// `label1`, `label2`, … until `taken` says no.
pub fn choose_name(
    name1: &str,
    name2: Option<&str>,
    label: &str,
    taken: impl Fn(&str) -> bool,
) -> String {
    let mut pass = 0;
    let mut modlabel = label.to_string();
    loop {
        let name = make_object_name(name1, name2, Some(&modlabel));
        if !taken(&name) {
            return name;
        }
        pass += 1;
        modlabel = format!("{label}{pass}");
    }
}

/// `ChooseIndexNameAddition` / `ChooseForeignKeyConstraintNameAddition`: column names joined
/// by `_`, cut once past the identifier length.
pub fn name_addition<S: AsRef<str>>(columns: &[S]) -> Option<String> {
    if columns.is_empty() {
        return None;
    }
    let mut buf = String::new();
    for c in columns {
        if !buf.is_empty() {
            buf.push('_');
        }
        buf.push_str(clip(c.as_ref(), MAX_IDENT));
        if buf.len() >= MAX_IDENT {
            break;
        }
    }
    Some(clip(&buf, MAX_IDENT + 1).to_string())
}

/// `ChooseIndexColumnNames`: each column's name made unique among the index's columns by a
/// numeric suffix (`a`, `b`, `a1`).
pub fn unique_column_names(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for orig in names {
        let mut cur = orig.clone();
        let mut i = 1;
        while out.contains(&cur) {
            let suffix = i.to_string();
            cur = format!("{}{suffix}", clip(&orig, MAX_IDENT - suffix.len()));
            i += 1;
        }
        out.push(cur);
    }
    out
}

/// The text of a `String` node.
pub fn str_of(node: &Node) -> Option<&str> {
    match node.node.as_ref()? {
        NodeEnum::String(s) => Some(&s.sval),
        _ => None,
    }
}

/// The strings of a name list (`["app", "users"]`).
pub fn strings(list: &[Node]) -> Vec<String> {
    list.iter()
        .filter_map(|n| str_of(n).map(str::to_string))
        .collect()
}

/// The items of a `List` node.
pub fn list_items(node: &Node) -> &[Node] {
    match node.node.as_ref() {
        Some(NodeEnum::List(l)) => &l.items,
        _ => &[],
    }
}

/// `schema.name` of a qualified name list (`None` for the schema when unqualified).
pub fn split_name(parts: &[String]) -> Option<(Option<&str>, &str)> {
    match parts {
        [name] => Some((None, name)),
        [.., schema, name] => Some((Some(schema), name)),
        [] => None,
    }
}

/// `text` (SQL as PostgreSQL prints it) with every identifier `old` replaced by `new`, quoted
/// as needed; string literals and qualified names' other parts are left alone.
pub fn rename_identifier(text: &str, old: &str, new: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' {
            let start = i;
            i += 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push_str(&text[start..i]);
        } else if c == b'"' {
            let start = i;
            i += 1;
            let mut value = String::new();
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    if bytes.get(i + 1) == Some(&b'"') {
                        value.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                let ch = text[i..].chars().next().unwrap_or(' ');
                value.push(ch);
                i += ch.len_utf8();
            }
            if value == old && !after_dot(bytes, start) {
                out.push_str(&quote_identifier(new));
            } else {
                out.push_str(&text[start..i]);
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            let word = &text[start..i];
            if word == old && !after_dot(bytes, start) {
                out.push_str(&quote_identifier(new));
            } else {
                out.push_str(word);
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The identifier at `start` is the second part of a qualified name (`s.t`).
fn after_dot(bytes: &[u8], start: usize) -> bool {
    start > 0 && bytes[start - 1] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted() {
        let mut sorted = QUOTED_KEYWORDS;
        sorted.sort_unstable();
        assert_eq!(sorted, QUOTED_KEYWORDS);
    }

    #[test]
    fn quoting_like_postgres() {
        assert_eq!(quote_identifier("users"), "users");
        assert_eq!(quote_identifier("_a1"), "_a1");
        assert_eq!(quote_identifier("Users"), "\"Users\"");
        assert_eq!(quote_identifier("user"), "\"user\"");
        assert_eq!(quote_identifier("name"), "name");
        assert_eq!(quote_identifier("order"), "\"order\"");
        assert_eq!(quote_identifier("1a"), "\"1a\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier(""), "\"\"");
    }

    #[test]
    fn renaming_identifiers() {
        assert_eq!(
            rename_identifier("CHECK ((email <> 'email'::text))", "email", "mail"),
            "CHECK ((mail <> 'email'::text))"
        );
        assert_eq!(
            rename_identifier("(\"Email\", app.email, emails)", "Email", "user"),
            "(\"user\", app.email, emails)"
        );
    }

    #[test]
    fn object_names_fit_63_bytes() {
        assert_eq!(make_object_name("t", Some("a"), Some("key")), "t_a_key");
        assert_eq!(make_object_name("t", None, Some("pkey")), "t_pkey");
        let long = "x".repeat(60);
        let n = make_object_name(&long, Some("col"), Some("fkey"));
        assert_eq!(n.len(), 63);
        assert!(n.ends_with("_col_fkey"));
        let n = make_object_name(&long, Some(&"y".repeat(60)), Some("idx"));
        assert_eq!(n.len(), 63);
        assert_eq!(
            choose_name("t", Some("a"), "check", |n| n == "t_a_check"),
            "t_a_check1"
        );
        assert_eq!(
            unique_column_names(vec!["a".into(), "b".into(), "a".into()]),
            vec!["a", "b", "a1"]
        );
    }
}
