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
