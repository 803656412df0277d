//! Confiture's linter, pure: rules over the schema model (read from a live database or built
//! statically from the DDL tree) and over parsed migration statements. No database, no
//! terminal: `confiture-ops::lint` gathers the inputs, the CLI renders the findings.
//!
//! Each rule is one file under `rules/<category>/`, listed in its category's `RULES`; the
//! [`registry`] joins the categories. The [`engine`] selects rules, runs them, and applies the
//! configuration (severities, exemptions) and inline suppressions
//! (`-- confiture:lint-ignore RULE reason`).

pub mod engine;
pub mod finding;
pub mod inputs;
pub mod registry;
pub mod report;
pub mod rule;
pub mod rules;
pub mod size;
pub mod static_model;
pub mod suppress;

pub use confiture_core::config::linting::Severity;
pub use finding::Finding;
pub use inputs::{Locations, MigrationInput, SchemaInput, Statement, Stats, TableSize};
pub use rule::{Category, Check, Context, Rule};
