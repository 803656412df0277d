//! The `.yaml` sidecar of a migration: `description`, `transactional`, `lock_timeout`,
//! `statement_timeout`, and `hooks` (accepted for a later release, reported as not run yet).
//! Decoded strictly, like environment files: unknown keys and wrong types name file, line and key.

use std::path::Path;

use serde::Serialize;

use crate::codes;
use crate::config::decode::Decoder;
use crate::config::source;
use crate::error::Result;
use crate::yaml::{self, Node, Value};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Sidecar {
    pub description: Option<String>,
    /// `Some(false)`: run statement by statement in autocommit.
    pub transactional: Option<bool>,
    pub lock_timeout_ms: Option<u64>,
    pub statement_timeout_ms: Option<u64>,
    /// The file declares hooks, which this release does not run.
    pub has_hooks: bool,
    /// The Python tool's `up_preconditions` / `down_preconditions`, which this release does not check.
    pub has_preconditions: bool,
}

pub fn load(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Sidecar> {
    let text = source::read_text(path)?;
    let Some(root) = yaml::parse(&text, path)? else {
        return Ok(Sidecar::default());
    };
    let dec = Decoder { file: path, lookup };
    let mut map = dec.map(&root, "")?;
    let mut sidecar = Sidecar::default();
    if let Some(n) = map.get("description") {
        sidecar.description = Some(dec.string(n, "description")?);
    }
    if let Some(n) = map.get("transactional") {
        sidecar.transactional = Some(dec.bool(n, "transactional")?);
    }
    if let Some(n) = map.get("lock_timeout") {
        sidecar.lock_timeout_ms = Some(duration_ms(&dec, n, "lock_timeout")?);
    }
    if let Some(n) = map.get("statement_timeout") {
        sidecar.statement_timeout_ms = Some(duration_ms(&dec, n, "statement_timeout")?);
    }
    if map.get("hooks").is_some() {
        sidecar.has_hooks = true;
    }
    if map.get("up_preconditions").is_some() | map.get("down_preconditions").is_some() {
        sidecar.has_preconditions = true;
    }
    map.finish(&dec)?;
    Ok(sidecar)
}

/// A duration: an integer (milliseconds) or a string with a unit: `250ms`, `5s`, `2min`.
fn duration_ms(dec: &Decoder<'_>, node: &Node, key: &str) -> Result<u64> {
    if let Value::Int(_) = node.value {
        return dec.u64(node, key);
    }
    let text = dec.string(node, key)?;
    parse_duration_ms(&text).ok_or_else(|| {
        dec.error(
            codes::CONFIG_INVALID_VALUE,
            node,
            format!("'{key}' must be a duration such as 500ms, 5s or 2min, found '{text}'"),
        )
    })
}

pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        _ => return None,
    };
    value.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Sidecar> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("001_x.yaml");
        std::fs::write(&path, text).unwrap();
        load(&path, &|_| None)
    }

    #[test]
    fn reads_every_key() {
        let s = load_text("description: add users\ntransactional: false\nlock_timeout: 2s\nstatement_timeout: 90000\nhooks:\n  before: []\n").unwrap();
        assert_eq!(s.description.as_deref(), Some("add users"));
        assert_eq!(s.transactional, Some(false));
        assert_eq!(s.lock_timeout_ms, Some(2_000));
        assert_eq!(s.statement_timeout_ms, Some(90_000));
        assert!(s.has_hooks);
    }

    #[test]
    fn unknown_keys_and_bad_durations_are_located() {
        let err = load_text("description: x\ntransactionl: false\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_005");
        assert_eq!(err.location.as_ref().unwrap().line, Some(2));
        let err = load_text("lock_timeout: soon\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_010");
        assert!(
            err.message.contains("'lock_timeout' must be a duration"),
            "{}",
            err.message
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("250ms"), Some(250));
        assert_eq!(parse_duration_ms("5s"), Some(5_000));
        assert_eq!(parse_duration_ms("2min"), Some(120_000));
        assert_eq!(parse_duration_ms("5 s"), Some(5_000));
        assert_eq!(parse_duration_ms("fast"), None);
    }
}
