//! `json_path`: anonymize one field inside a json/jsonb value.
//!
//! Options: `path` (required): a simple dotted path from the root, `$.a.b` (no arrays,
//! wildcards or quoting); `strategy` (required): the strategy for the field, as a name
//! (`redact`) or a mapping `{type: email_mask, keep_domain: false}`.
//! The field is handed to the strategy as text: a string as its content (type `text`), an
//! integer as `bigint`, another number as `numeric`, a boolean as `boolean`, an object or
//! array as its JSON (`jsonb`). The result is stored back with the original JSON kind when it
//! parses as one, else as a string; NULL becomes JSON `null`. A value without the path is
//! returned unchanged; a value that is not JSON becomes NULL (fail closed).

use serde_json::Value as Json;

use crate::anonymize::{Options, Row, Strategy};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    pub path: Vec<String>,
    pub strategy: Strategy,
}

impl JsonPath {
    pub fn load(o: &mut Options) -> Result<Self> {
        let (text, node) = o.required_string("path")?;
        let path: Option<Vec<String>> = text.strip_prefix("$.").and_then(|rest| {
            let parts: Vec<String> = rest.split('.').map(str::to_string).collect();
            parts
                .iter()
                .all(|p| !p.is_empty() && !p.contains(['[', ']', '*', '"', '\'', ' ']))
                .then_some(parts)
        });
        let Some(path) = path else {
            let key = o.path_of("path");
            return Err(o
                .invalid(
                    node,
                    format!("'{key}' must be a dotted path like $.a.b, found '{text}'"),
                )
                .with_hint(
                    "only simple object keys are supported: no arrays, wildcards or quotes",
                ));
        };
        let strategy = o
            .strategy("strategy")?
            .ok_or_else(|| o.missing("strategy"))?;
        Ok(JsonPath { path, strategy })
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let mut root: Json = serde_json::from_str(value).ok()?;
        let mut field = &mut root;
        for key in &self.path {
            match field.get_mut(key) {
                Some(next) => field = next,
                None => return Some(value.to_string()),
            }
        }
        let (text, ty) = match &*field {
            Json::Null => (None, "jsonb"),
            Json::String(s) => (Some(s.clone()), "text"),
            Json::Bool(b) => (Some(b.to_string()), "boolean"),
            Json::Number(n) if n.is_i64() || n.is_u64() => (Some(n.to_string()), "bigint"),
            Json::Number(n) => (Some(n.to_string()), "numeric"),
            other => (Some(other.to_string()), "jsonb"),
        };
        let out = self.strategy.apply(text.as_deref(), &row.with_type(ty));
        *field = match (out, ty) {
            (None, _) => Json::Null,
            (Some(s), "text") => Json::String(s),
            (Some(s), _) => match serde_json::from_str::<Json>(&s) {
                Ok(parsed) if !parsed.is_string() => parsed,
                _ => Json::String(s),
            },
        };
        Some(root.to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    #[test]
    fn rewrites_only_the_field() {
        let s = strategy(
            "json_path",
            "path: $.contact.email\nstrategy: {type: email_mask, prefix: anon}",
        );
        let v = r#"{"id": 7, "contact": {"email": "a@b.com", "ok": true}}"#;
        let out = keyed(&s, "jsonb", v);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["id"], 7);
        assert_eq!(json["contact"]["ok"], true);
        let email = json["contact"]["email"].as_str().unwrap();
        assert!(
            email.starts_with("anon_") && email.ends_with("@b.com"),
            "{email}"
        );
        assert_eq!(out, keyed(&s, "jsonb", v));
    }

    #[test]
    fn numbers_stay_numbers_and_null_becomes_null() {
        let s = strategy(
            "json_path",
            "path: $.n\nstrategy: {type: random_in_range, min: 1, max: 3}",
        );
        let json: serde_json::Value =
            serde_json::from_str(&keyed(&s, "jsonb", r#"{"n": 42}"#)).unwrap();
        assert!((1..=3).contains(&json["n"].as_i64().unwrap()));
        let s = strategy("json_path", "path: $.n\nstrategy: \"null\"");
        assert_eq!(
            keyed(&s, "jsonb", r#"{"n": "x", "m": 1}"#),
            r#"{"n":null,"m":1}"#
        );
    }

    #[test]
    fn missing_path_unchanged_and_bad_json_null() {
        let s = strategy("json_path", "path: $.a.b\nstrategy: redact");
        assert_eq!(keyed(&s, "jsonb", r#"{"a": 1}"#), r#"{"a": 1}"#);
        let key = crate::anonymize::Key::new("k");
        assert_eq!(s.apply(Some("{not json"), &row("jsonb", Some(&key))), None);
    }

    #[test]
    fn bad_options() {
        for (opts, code) in [
            ("path: a.b\nstrategy: redact", "CONFIG_010"),
            ("path: $.a[0]\nstrategy: redact", "CONFIG_010"),
            ("path: $.a", "CONFIG_011"),
            ("path: $.a\nstrategy: {with: x}", "CONFIG_011"),
            ("path: $.a\nstrategy: {type: redact, wiht: x}", "CONFIG_005"),
            ("path: $.a\nstrategy: redcat", "CONFIG_010"),
        ] {
            assert_eq!(
                try_load("json_path", opts, true).unwrap_err().code.id,
                code,
                "{opts}"
            );
        }
    }
}
