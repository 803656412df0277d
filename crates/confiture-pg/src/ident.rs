//! Identifier and literal quoting lives in `confiture-core::ident` (the schema model's SQL
//! generation needs it too); re-exported here for the database layer.

pub use confiture_core::ident::*;
