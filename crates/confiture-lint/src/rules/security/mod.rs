//! Security rules: privileges, SECURITY DEFINER functions, secrets in the clear, durability.

pub mod plaintext_password_column;
pub mod public_grants;
pub mod security_definer_search_path;
pub mod unlogged_table_in_production;

#[cfg(test)]
pub(crate) mod fixtures;

use crate::rule::Rule;

pub const RULES: &[&Rule] = &[
    &plaintext_password_column::RULE,
    &public_grants::RULE,
    &security_definer_search_path::RULE,
    &unlogged_table_in_production::RULE,
];
