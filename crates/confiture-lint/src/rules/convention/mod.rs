//! Convention rules: the project's own conventions (`linting.custom_rules`).

pub mod custom_rules;

use crate::rule::Rule;

pub const RULES: &[&Rule] = &[&custom_rules::RULE];
