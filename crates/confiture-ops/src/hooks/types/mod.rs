//! The built-in hook types, one file each: its `config`, documented in `docs/hooks.md`, and
//! what it does.

pub mod analyze;
pub mod backfill;
pub mod backup;
pub mod capture_statistics;
pub mod command;
pub mod drop_temporary_tables;
pub mod notify;
pub mod rebuild_index;
pub mod sql;
pub mod test_queries;
pub mod verify_consistency;

use confiture_core::build::scan;

/// Split inline SQL from a hook's config into statements (a last `;` may be left out).
pub(crate) fn statements_of(text: &str) -> Option<Vec<String>> {
    let trimmed = text.trim();
    let owned;
    let text = if trimmed.ends_with(';') {
        trimmed
    } else {
        // On its own line only when the text ends in a line comment, which would swallow it.
        let last = trimmed.lines().last().unwrap_or_default();
        owned = if last.contains("--") {
            format!("{trimmed}\n;")
        } else {
            format!("{trimmed};")
        };
        &owned
    };
    let parts = scan::split(text).ok()?;
    Some(
        parts
            .iter()
            .map(|s| text[s.start..s.end].trim().to_string())
            .filter(|s| !s.is_empty() && s != ";")
            .collect(),
    )
}

/// A (possibly schema-qualified) name from a hook's config, for SQL. Written as in SQL: plain
/// parts are used as they are (folded to lower case by the server), others are quoted.
pub(crate) fn qualified(name: &str) -> String {
    name.split('.')
        .map(|part| {
            let plain = part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
            if plain || (part.starts_with('"') && part.ends_with('"') && part.len() > 1) {
                part.to_string()
            } else {
                confiture_pg::ident::quote_ident(part)
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}
