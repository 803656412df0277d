//! Migration lock-safety rules: statements that take long or strong locks on existing tables,
//! rewrite them, fail on tables with rows, or break the application still running; and column
//! types that are costly to change later. One rule per file; [`common`] holds what they share.

pub mod adding_not_null_column_without_default;
pub mod adding_unique_constraint;
pub mod adding_volatile_default;
pub mod changing_column_type;
pub mod check_not_valid;
pub mod common;
pub mod concurrently_in_transaction;
pub mod dropping_column;
pub mod dropping_table;
pub mod foreign_key_not_valid;
pub mod missing_lock_timeout;
pub mod prefer_bigint_keys;
pub mod prefer_identity;
pub mod prefer_text_over_char;
pub mod prefer_timestamptz;
pub mod renaming_column;
pub mod renaming_table;
pub mod require_concurrent_index;
pub mod require_concurrent_index_drop;
pub mod require_concurrent_refresh;
pub mod setting_not_null;
#[cfg(test)]
pub mod testing;
pub mod transaction_control;
pub mod truncate_cascade;
pub mod vacuum_full_or_cluster;

use crate::rule::Rule;

pub const RULES: &[&Rule] = &[
    &adding_not_null_column_without_default::RULE,
    &adding_unique_constraint::RULE,
    &adding_volatile_default::RULE,
    &changing_column_type::RULE,
    &check_not_valid::RULE,
    &concurrently_in_transaction::RULE,
    &dropping_column::RULE,
    &dropping_table::RULE,
    &foreign_key_not_valid::RULE,
    &missing_lock_timeout::RULE,
    &prefer_bigint_keys::RULE,
    &prefer_identity::RULE,
    &prefer_text_over_char::RULE,
    &prefer_timestamptz::RULE,
    &renaming_column::RULE,
    &renaming_table::RULE,
    &require_concurrent_index::RULE,
    &require_concurrent_index_drop::RULE,
    &require_concurrent_refresh::RULE,
    &setting_not_null::RULE,
    &transaction_control::RULE,
    &truncate_cascade::RULE,
    &vacuum_full_or_cluster::RULE,
];
