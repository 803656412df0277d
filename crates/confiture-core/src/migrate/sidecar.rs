//! The `.yaml` sidecar of a migration: `description`, `transactional`, `lock_timeout`,
//! `statement_timeout` and `hooks`, either at the top level (the Python tool's files) or under
//! `migration:` (the shape of the vision documents, which may also carry `name`).
//! Decoded strictly, like environment files: unknown keys and wrong types name file, line and key.

use std::path::Path;

use serde::Serialize;

use crate::codes;
use crate::config::decode::Decoder;
use crate::config::source;
use crate::error::Result;
use crate::migrate::hook_decl::{decode_hooks, HookDecl};
use crate::yaml::{self, Node, Value};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Sidecar {
    pub description: Option<String>,
    /// `Some(false)`: run statement by statement in autocommit.
    pub transactional: Option<bool>,
    pub lock_timeout_ms: Option<u64>,
    pub statement_timeout_ms: Option<u64>,
    /// Hooks of `up`, in phase order then file order.
    pub hooks: Vec<HookDecl>,
    /// Hooks of `down` (`down_hooks:`).
    pub down_hooks: Vec<HookDecl>,
    /// The Python tool's `up_preconditions` / `down_preconditions`, which this release does not check.
    pub has_preconditions: bool,
}

pub fn load(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Sidecar> {
    let text = source::read_text(path)?;
    let Some(root) = yaml::parse(&text, path)? else {
        return Ok(Sidecar::default());
    };
    let dec = Decoder { file: path, lookup };
    let mut top = dec.map(&root, "")?;
    if let Some(inner) = top.get("migration") {
        // With `migration:`, the top level holds nothing else.
        top.finish(&dec)?;
        return decode_body(&dec, inner, "migration.", path);
    }
    decode_body(&dec, &root, "", path)
}

fn decode_body(dec: &Decoder<'_>, node: &Node, prefix: &str, path: &Path) -> Result<Sidecar> {
    let mut map = dec.map(node, prefix.trim_end_matches('.'))?;
    let mut sidecar = Sidecar::default();
    if !prefix.is_empty() {
        // The vision documents' `migration: { name: … }`: informative, the file name rules.
        map.get("name");
    }
    if let Some(n) = map.get("description") {
        sidecar.description = Some(dec.string(n, &format!("{prefix}description"))?);
    }
    if let Some(n) = map.get("transactional") {
        sidecar.transactional = Some(dec.bool(n, &format!("{prefix}transactional"))?);
    }
    if let Some(n) = map.get("lock_timeout") {
        sidecar.lock_timeout_ms = Some(duration_ms(dec, n, &format!("{prefix}lock_timeout"))?);
    }
    if let Some(n) = map.get("statement_timeout") {
        sidecar.statement_timeout_ms =
            Some(duration_ms(dec, n, &format!("{prefix}statement_timeout"))?);
    }
    if let Some(n) = map.get("hooks") {
        let project_dir = path
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        sidecar.hooks = decode_hooks(dec, n, &format!("{prefix}hooks"), false, project_dir)?;
    }
    if let Some(n) = map.get("down_hooks") {
        let project_dir = path
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .unwrap_or(Path::new("."));
        sidecar.down_hooks =
            decode_hooks(dec, n, &format!("{prefix}down_hooks"), false, project_dir)?;
    }
    if map.get("up_preconditions").is_some() | map.get("down_preconditions").is_some() {
        sidecar.has_preconditions = true;
    }
    map.finish(dec)?;
    Ok(sidecar)
}

/// A duration: an integer (milliseconds) or a string with a unit: `250ms`, `5s`, `2min`.
pub(crate) fn duration_ms(dec: &Decoder<'_>, node: &Node, key: &str) -> Result<u64> {
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
        let s = load_text("description: add users\ntransactional: false\nlock_timeout: 2s\nstatement_timeout: 90000\nhooks:\n  before_ddl: []\n").unwrap();
        assert_eq!(s.description.as_deref(), Some("add users"));
        assert_eq!(s.transactional, Some(false));
        assert_eq!(s.lock_timeout_ms, Some(2_000));
        assert_eq!(s.statement_timeout_ms, Some(90_000));
        assert!(s.hooks.is_empty());
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

    #[test]
    fn the_vision_documents_shape_under_migration() {
        let s = load_text("migration:\n  name: 003_add_user_analytics\n  description: analytics\n  hooks:\n    after_ddl:\n      - type: analyze\n  down_hooks:\n    cleanup:\n      - type: sql\n        config: {sql: SELECT 1}\n").unwrap();
        assert_eq!(s.description.as_deref(), Some("analytics"));
        assert_eq!(s.hooks.len(), 1);
        assert_eq!(s.hooks[0].path, "migration.hooks.after_ddl[0]");
        assert_eq!(s.down_hooks.len(), 1);
        let err = load_text("migration:\n  hooks: {}\ndescription: x\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_005");
        assert_eq!(err.location.clone().unwrap().line, Some(3));
        let err = load_text("migration:\n  transactionl: false\n").unwrap_err();
        assert!(
            err.message.contains("migration.transactionl"),
            "{}",
            err.message
        );
    }
}
