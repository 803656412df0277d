//! Configuration: the project, its environment files, and which database a command targets.

pub mod decode;
pub mod environment;
pub mod envvars;
pub mod linting;
pub mod project;
pub mod source;
pub mod target;

pub use environment::{BuildOrder, Environment, IncludeDir, SortMode};
pub use project::{Project, DEFAULT_ENV};
pub use target::{Target, TargetArgs, TargetKind, TargetOrigin};
