//! One file per strategy: its options, their decoding, the transform and its tests.
//! `preserve` and `null` have no options and live in [`super::Strategy::apply`].

pub mod conditional;
pub mod credit_card;
pub mod date_jitter;
pub mod deterministic_hash;
pub mod email_mask;
pub mod fake;
pub mod ip;
pub mod json_path;
pub mod partial;
pub mod pattern_mask;
pub mod phone;
pub mod random_in_range;
pub mod redact;
pub mod sql_expression;
