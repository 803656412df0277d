//! The one place identifiers and literals are quoted for SQL text.

/// Quote an identifier for PostgreSQL (`"a""b"`), always: never rely on case folding.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quote a possibly schema-qualified name given as `schema.table` (no dots inside parts).
pub fn quote_qualified(name: &str) -> String {
    name.split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

/// Quote a string literal (`'it''s'`); standard_conforming_strings is on since PG 9.1.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            quote_qualified("public.tb_confiture"),
            "\"public\".\"tb_confiture\""
        );
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
