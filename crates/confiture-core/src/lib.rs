//! Confiture's pure core: configuration and project model, errors and exit codes, redaction.
//! No database, no terminal: everything here is unit-tested in isolation.

pub mod anonymize;
pub mod build;
pub mod codes;
pub mod config;
pub mod dsn;
pub mod error;
pub mod exit;
pub mod ident;
pub mod migrate;
pub mod redact;
pub mod scaffold;
pub mod schema;
pub mod yaml;

pub use error::{ConfitureError, Location, Result};
pub use exit::ExitClass;
