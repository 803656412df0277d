//! The schema model built statically from the DDL tree (no database), with where each object
//! is written. Being written by a helper; see the module's final documentation.

use std::path::PathBuf;

use confiture_core::schema::Schema;

use crate::inputs::Locations;

/// A DDL file: its path relative to the project, and its text.
pub struct SourceText {
    pub path: PathBuf,
    pub text: String,
}

/// A statement the grammar rejects, or a file the splitter cannot read.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Build the model of `files` (in build order).
pub fn build(files: &[SourceText]) -> (Schema, Locations, Vec<Unreadable>) {
    let _ = files;
    (Schema::default(), Locations::default(), Vec::new())
}
