//! `confiture build`, the pure part: which files, in which order, checked to stand alone,
//! hashed, and rendered into one SQL file. Dependency ordering lives in `confiture-sql`;
//! applying to a database lives in `confiture-ops`.

pub mod discover;
pub mod hash;
pub mod plan;
pub mod render;
pub mod scan;
pub mod sort;
pub mod source;
