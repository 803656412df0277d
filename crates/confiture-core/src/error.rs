//! The one error type of Confiture.
//!
//! Every failure carries a stable code (see [`crate::codes`]), an exit class (the process exit
//! code contract), a message, an optional hint, an optional source location and free-form details.
//! Messages must never contain secrets: build them from redacted values (see [`crate::redact`]).

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::codes::ErrorCode;
use crate::exit::ExitClass;

/// Where in the user's input a problem is: a file, and a 1-based line and column when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Location {
    pub fn file(file: impl AsRef<Path>) -> Self {
        Location {
            file: file.as_ref().to_path_buf(),
            line: None,
            column: None,
        }
    }

    pub fn at(file: impl AsRef<Path>, line: usize, column: usize) -> Self {
        Location {
            file: file.as_ref().to_path_buf(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// A Confiture failure. Construct it from an [`ErrorCode`]; the exit class follows from the code.
/// Boxed so that `Result<T, ConfitureError>` stays one pointer wide on the happy path.
#[derive(Debug, Clone)]
pub struct ConfitureError(Box<ErrorData>);

/// The fields of a [`ConfitureError`] (reached through `Deref`).
#[derive(Debug, Clone)]
pub struct ErrorData {
    pub code: ErrorCode,
    pub message: String,
    pub hint: Option<String>,
    pub location: Option<Location>,
    pub details: serde_json::Value,
}

pub type Result<T, E = ConfitureError> = std::result::Result<T, E>;

impl ConfitureError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ConfitureError(Box::new(ErrorData {
            code,
            message: message.into(),
            hint: None,
            location: None,
            details: serde_json::Value::Null,
        }))
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    pub fn exit_class(&self) -> ExitClass {
        self.code.exit
    }

    /// The JSON error envelope printed on stdout in `--format json` mode.
    pub fn to_envelope(&self) -> serde_json::Value {
        let loc = self.location.as_ref();
        serde_json::json!({
            "ok": false,
            "error": {
                "code": self.code.id,
                "exit_code": self.code.exit.code(),
                "message": self.message,
                "hint": self.hint,
                "file": loc.map(|l| l.file.display().to_string()),
                "line": loc.and_then(|l| l.line),
                "column": loc.and_then(|l| l.column),
                "details": self.details,
            }
        })
    }
}

impl fmt::Display for ConfitureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        write!(f, "[{}] {}", self.code.id, self.message)
    }
}

impl std::error::Error for ConfitureError {}

impl std::ops::Deref for ConfitureError {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for ConfitureError {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}
