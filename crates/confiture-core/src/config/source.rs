//! Reading a configuration file into text: missing, unreadable, non-UTF-8 and empty files each
//! get their own code and a location.

use std::io::ErrorKind;
use std::path::Path;

use crate::codes;
use crate::error::{ConfitureError, Location, Result};

/// Read `path` as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => ConfitureError::new(
            codes::CONFIG_NOT_FOUND,
            format!("configuration file not found: {}", path.display()),
        )
        .at(Location::at(path, 1, 1)),
        _ => ConfitureError::new(
            codes::CONFIG_UNREADABLE,
            format!("cannot read {}: {e}", path.display()),
        )
        .with_hint("check the file's permissions and that it is a regular file")
        .at(Location::at(path, 1, 1)),
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text)),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let (line, column) = line_col_of_end(valid);
            Err(ConfitureError::new(
                codes::CONFIG_NOT_UTF8,
                format!(
                    "{} is not valid UTF-8 (invalid byte 0x{:02x})",
                    path.display(),
                    e.as_bytes()[valid.len()]
                ),
            )
            .with_hint("save the file as UTF-8")
            .at(Location::at(path, line, column)))
        }
    }
}

/// 1-based line and column just after `prefix` (columns count characters).
fn line_col_of_end(prefix: &[u8]) -> (usize, usize) {
    let text = std::str::from_utf8(prefix).unwrap_or("");
    let line = text.matches('\n').count() + 1;
    let last_line = text.rsplit('\n').next().unwrap_or("");
    (line, last_line.chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.yaml");
        std::fs::write(&p, b"a: 1\nbb: \xff\n").unwrap();
        let err = read_text(&p).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_003");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (Some(2), Some(5)));
    }
}
