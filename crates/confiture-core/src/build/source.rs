//! Reading the selected files: every file must be readable UTF-8 and stand alone (end outside
//! any comment, string, quoted identifier or dollar-quoted body, with its last statement
//! terminated), and is split into statements and psql meta-commands.

use crate::build::discover::SourceFile;
use crate::build::scan::{self, Construct, MetaCommand, Statement};
use crate::codes;
use crate::error::{ConfitureError, Location, Result};

/// A selected file, read and split.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub source: SourceFile,
    /// The content as read (a UTF-8 byte-order mark included: the hash covers the raw bytes).
    pub text: String,
    pub statements: Vec<Statement>,
    /// The psql meta-commands between statements (`\set …`, `\restrict …`): not SQL, not in
    /// `statements`.
    pub meta_commands: Vec<MetaCommand>,
}

impl LoadedFile {
    pub fn statement_text(&self, index: usize) -> &str {
        let s = &self.statements[index];
        &self.text[s.start..s.end]
    }
}

/// Read and check every file. Stops at the first bad file: its error names it.
pub fn load(files: Vec<SourceFile>) -> Result<Vec<LoadedFile>> {
    files.into_iter().map(load_one).collect()
}

pub fn load_one(source: SourceFile) -> Result<LoadedFile> {
    let bytes = std::fs::read(&source.path).map_err(|e| {
        ConfitureError::new(
            codes::BUILD_FILE_UNREADABLE,
            format!("cannot read the file: {e}"),
        )
        .at(Location::file(&source.path))
        .with_hint("check the file's permissions")
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let (line, column) = std::str::from_utf8(valid)
            .map(|v| (scan::line_of(v, v.len()), scan::column_of(v, v.len())))
            .unwrap_or((1, 1));
        ConfitureError::new(
            codes::BUILD_FILE_NOT_UTF8,
            format!("not valid UTF-8 (first invalid byte at line {line}, column {column})"),
        )
        .at(Location::at(&source.path, line, column))
        .with_hint("convert it, e.g. `iconv -f LATIN1 -t UTF-8`")
    })?;
    let split = scan::split_file(&text).map_err(|u| unterminated_error(&source.path, &u))?;
    Ok(LoadedFile {
        source,
        text,
        statements: split.statements,
        meta_commands: split.meta_commands,
    })
}

/// `BUILD_005` for a file of `path` that does not stand alone, at the place the construct
/// opens, with what to do about it.
pub fn unterminated_error(path: &std::path::Path, u: &scan::Unterminated) -> ConfitureError {
    let (message, hint) = match &u.construct {
        Construct::Statement => (
            format!(
                "the statement at line {}, column {} has no terminating semicolon",
                u.line, u.column
            ),
            "end the statement with ';': every file must stand alone, or it runs into the next file",
        ),
        Construct::CopyData => (
            format!(
                "the file ends inside the data of the COPY … FROM STDIN at line {}, column {}: no line \\. ends it",
                u.line, u.column
            ),
            "end the data with a line that is exactly \\. (as pg_dump writes it)",
        ),
        construct => (
            format!(
                "the file ends inside a {construct} opened at line {}, column {}",
                u.line, u.column
            ),
            "close it in the same file: every file must stand alone, or it swallows the files after it",
        ),
    };
    ConfitureError::new(codes::BUILD_UNTERMINATED, message)
        .at(Location::at(path, u.line, u.column))
        .with_hint(hint)
}
