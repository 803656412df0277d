//! Confiture's database layer: resolving and opening connections (libpq conventions, TLS,
//! `.pgpass`), identifier quoting, and the embedded PostgreSQL cluster.

pub mod cluster;
pub mod connect;
pub mod copy;
pub mod ident;
pub mod introspect;
pub mod pgpass;
pub mod project_cluster;
pub mod tables;
pub mod tls;

pub use connect::{ConnEnv, ConnTarget};
