//! The rules, one file each, grouped by category. Each category's `mod.rs` lists its rules in
//! `RULES`; [`crate::registry`] joins them. Shared helpers for rules live in [`util`].

pub mod compliance;
pub mod convention;
pub mod migration;
pub mod naming;
pub mod security;
pub mod structure;
pub mod tenancy;
pub mod util;
