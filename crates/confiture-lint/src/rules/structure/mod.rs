//! Structure rules: keys, indexes, comments.

pub mod duplicate_index;
pub mod redundant_index;
pub mod require_comments;
pub mod require_primary_key;
pub mod unindexed_foreign_key;

#[cfg(test)]
pub(crate) mod testing;

use crate::rule::Rule;

pub const RULES: &[&Rule] = &[
    &duplicate_index::RULE,
    &redundant_index::RULE,
    &require_comments::RULE,
    &require_primary_key::RULE,
    &unindexed_foreign_key::RULE,
];
