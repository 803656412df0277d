//! Migration lock-safety rules: statements that take long or strong locks on existing tables.

pub mod require_concurrent_index;

use crate::rule::Rule;

pub const RULES: &[&Rule] = &[&require_concurrent_index::RULE];
