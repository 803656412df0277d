//! The schema model: what a database contains, as PostgreSQL describes it. Filled from the
//! catalog by `confiture-pg::introspect`; compared by [`diff`]; turned into DDL by [`sql`].
//!
//! Definitions are kept in PostgreSQL's own canonical text (`pg_get_constraintdef`,
//! `pg_get_indexdef`, `pg_get_viewdef`, `pg_get_triggerdef`, `format_type`, `pg_get_expr`), so
//! two databases built from differently formatted DDL compare equal, and generated SQL is
//! PostgreSQL's. Function bodies are compared by their parse trees (`confiture-sql::normalize`).
//!
//! The JSON form (`confiture introspect`) is documented in `docs/schema.md`; maps are keyed by
//! `schema.name` and sorted, so the output is stable.

pub mod diff;
pub mod model;
pub mod sql;

pub use model::*;
