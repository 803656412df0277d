//! Every rule, in one list: the categories' `RULES` joined, sorted by category then id.

use std::sync::OnceLock;

use crate::rule::Rule;
use crate::rules;

pub fn all() -> &'static [&'static Rule] {
    static ALL: OnceLock<Vec<&'static Rule>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<&'static Rule> = [
            rules::naming::RULES,
            rules::structure::RULES,
            rules::tenancy::RULES,
            rules::security::RULES,
            rules::convention::RULES,
            rules::migration::RULES,
            rules::compliance::RULES,
        ]
        .concat();
        v.sort_by_key(|r| (r.category, r.id));
        v
    })
}

pub fn find(id: &str) -> Option<&'static Rule> {
    all().iter().copied().find(|r| r.id == id)
}

/// The closest rule id to a misspelt one.
pub fn suggest(id: &str) -> Option<&'static str> {
    let ids: Vec<&str> = all().iter().map(|r| r.id).collect();
    confiture_core::config::decode::suggest(id, &ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_explained() {
        let mut seen = std::collections::HashSet::new();
        for r in all() {
            assert!(seen.insert(r.id), "duplicate id {}", r.id);
            assert!(
                r.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                r.id
            );
            assert!(
                !r.summary.is_empty() && r.explanation.len() > 40,
                "{}",
                r.id
            );
        }
    }
}
