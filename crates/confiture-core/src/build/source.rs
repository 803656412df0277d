//! Reading the selected files: every file must be readable UTF-8 and stand alone (end outside
//! any comment, string, quoted identifier or dollar-quoted body, with its last statement
//! terminated), and is split into statements.

use crate::build::discover::SourceFile;
use crate::build::scan::{self, Statement};
use crate::codes;
use crate::error::{ConfitureError, Location, Result};

/// A selected file, read and split.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub source: SourceFile,
    /// The content as read (a UTF-8 byte-order mark included: the hash covers the raw bytes).
    pub text: String,
    pub statements: Vec<Statement>,
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
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = std::str::from_utf8(valid)
            .map(|v| scan::column_of(v, v.len()))
            .unwrap_or(1);
        ConfitureError::new(
            codes::BUILD_FILE_NOT_UTF8,
            format!("not valid UTF-8 (first invalid byte at line {line}, column {column})"),
        )
        .at(Location::at(&source.path, line, column))
        .with_hint("convert it, e.g. `iconv -f LATIN1 -t UTF-8`")
    })?;
    let statements = scan::split(&text).map_err(|u| {
        let hint = match u.construct {
            scan::Construct::Statement => "end the statement with ';': every file must stand alone, or it runs into the next file",
            _ => "close it in the same file: every file must stand alone, or it swallows the files after it",
        };
        let message = match &u.construct {
            scan::Construct::Statement => format!(
                "the statement at line {}, column {} has no terminating semicolon",
                u.line, u.column
            ),
            construct => format!(
                "the file ends inside a {construct} opened at line {}, column {}",
                u.line, u.column
            ),
        };
        ConfitureError::new(codes::BUILD_UNTERMINATED, message)
        .at(Location::at(&source.path, u.line, u.column))
        .with_hint(hint)
    })?;
    Ok(LoadedFile {
        source,
        text,
        statements,
    })
}
