//! Structure rules: keys, indexes, comments.

pub mod require_primary_key;

use crate::rule::Rule;

pub const RULES: &[&Rule] = &[&require_primary_key::RULE];
