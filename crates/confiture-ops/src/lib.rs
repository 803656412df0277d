//! Confiture's capabilities. Each follows plan → execute → report: it returns a typed,
//! serializable report and never prints; the CLI renders it.

pub mod anonymize;
pub mod build;
pub mod doctor;
pub mod hooks;
pub mod lint;
pub mod migrate;
pub mod schema;
pub mod statement_error;
pub mod sync;
pub mod target;
