//! SQL understanding for Confiture, on the PostgreSQL grammar itself (`pg_query`, the server's
//! parser compiled as a library): what each statement defines and uses, and the dependency
//! order of a build.

pub mod autocommit;
pub mod facts;
pub mod graph;
pub mod names;
pub mod normalize;
pub mod order;
pub mod relations;
pub mod rewrite;
pub mod walk;

pub use order::{order_by_dependencies, DependencyOrder};
