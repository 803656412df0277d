//! Strict, located decoding of a YAML node tree into typed configuration.
//! Every error names the file, line and column of the offending key or value, and the dotted
//! key path (`migration.locking.timeout_ms`). Unknown keys get a "did you mean".

use std::path::Path;

use crate::codes::{self, ErrorCode};
use crate::config::envvars::{self, ExpandError};
use crate::error::{ConfitureError, Location, Result};
use crate::yaml::{Node, Value};

/// Shared decoding context: the file being read and how `${VAR}` are looked up.
pub struct Decoder<'a> {
    pub file: &'a Path,
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Decoder<'a> {
    pub fn error(
        &self,
        code: ErrorCode,
        node: &Node,
        message: impl Into<String>,
    ) -> ConfitureError {
        ConfitureError::new(code, message).at(Location::at(self.file, node.line, node.column))
    }

    fn wrong_type(&self, node: &Node, key: &str, expected: &str) -> ConfitureError {
        self.error(
            codes::CONFIG_WRONG_TYPE,
            node,
            format!("'{key}' must be {expected}, found {}", node.type_name()),
        )
    }

    /// A string value, with `${VAR}` expanded.
    pub fn string(&self, node: &Node, key: &str) -> Result<String> {
        match &node.value {
            Value::Str(s) => self.expand(node, key, s),
            _ => Err(self.wrong_type(node, key, "a string")),
        }
    }

    fn expand(&self, node: &Node, key: &str, raw: &str) -> Result<String> {
        envvars::expand(raw, self.lookup).map_err(|e| match e {
            ExpandError::Missing { name, .. } => self
                .error(
                    codes::CONFIG_MISSING_VAR,
                    node,
                    format!(
                        "'{key}' uses ${{{name}}} but the environment variable {name} is not set"
                    ),
                )
                .with_hint(format!(
                    "export {name}=..., or give a default: ${{{name}:-value}}"
                )),
            ExpandError::Malformed { text, .. } => self
                .error(
                    codes::CONFIG_BAD_VAR_SYNTAX,
                    node,
                    format!("'{key}' has a malformed variable reference '{text}'"),
                )
                .with_hint("use ${NAME} or ${NAME:-default}; write $${ for a literal ${"),
        })
    }

    pub fn bool(&self, node: &Node, key: &str) -> Result<bool> {
        match &node.value {
            Value::Bool(b) => Ok(*b),
            Value::Str(s) if s.contains("${") => match self.expand(node, key, s)?.as_str() {
                "true" | "True" | "TRUE" | "1" => Ok(true),
                "false" | "False" | "FALSE" | "0" => Ok(false),
                other => Err(self.error(
                    codes::CONFIG_WRONG_TYPE,
                    node,
                    format!("'{key}' must be true or false, found '{other}'"),
                )),
            },
            _ => Err(self.wrong_type(node, key, "true or false")),
        }
    }

    pub fn u64(&self, node: &Node, key: &str) -> Result<u64> {
        match &node.value {
            Value::Int(i) if *i >= 0 => Ok(*i as u64),
            Value::Int(_) => Err(self.error(
                codes::CONFIG_INVALID_VALUE,
                node,
                format!("'{key}' must not be negative"),
            )),
            Value::Str(s) if s.contains("${") => {
                let text = self.expand(node, key, s)?;
                text.trim().parse::<u64>().map_err(|_| {
                    self.error(
                        codes::CONFIG_WRONG_TYPE,
                        node,
                        format!("'{key}' must be a non-negative integer, found '{text}'"),
                    )
                })
            }
            _ => Err(self.wrong_type(node, key, "a non-negative integer")),
        }
    }

    pub fn i64(&self, node: &Node, key: &str) -> Result<i64> {
        match &node.value {
            Value::Int(i) => Ok(*i),
            _ => Err(self.wrong_type(node, key, "an integer")),
        }
    }

    pub fn string_list(&self, node: &Node, key: &str) -> Result<Vec<String>> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.string(item, &format!("{key}[{i}]")))
                .collect(),
            Value::Null => Ok(Vec::new()),
            _ => Err(self.wrong_type(node, key, "a list of strings")),
        }
    }

    pub fn seq<'n>(&self, node: &'n Node, key: &str) -> Result<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            Value::Null => Ok(&[]),
            _ => Err(self.wrong_type(node, key, "a list")),
        }
    }

    /// Open a mapping for keyed reading. `path` is the dotted path used in messages.
    pub fn map<'n>(&self, node: &'n Node, path: &str) -> Result<MapReader<'n>> {
        match &node.value {
            Value::Map(entries) => Ok(MapReader {
                entries,
                used: vec![false; entries.len()],
                path: path.to_string(),
                known: Vec::new(),
            }),
            Value::Null => Ok(MapReader {
                entries: &[],
                used: Vec::new(),
                path: path.to_string(),
                known: Vec::new(),
            }),
            _ => Err(self.wrong_type(
                node,
                if path.is_empty() {
                    "the document"
                } else {
                    path
                },
                "a mapping",
            )),
        }
    }
}

/// Reads keys of one mapping; [`MapReader::finish`] rejects any key nobody asked for.
pub struct MapReader<'n> {
    entries: &'n [(Node, Node)],
    used: Vec<bool>,
    path: String,
    known: Vec<&'static str>,
}

impl<'n> MapReader<'n> {
    /// The dotted path of `key` inside this mapping.
    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, if present. A `null` value counts as absent.
    pub fn get(&mut self, key: &'static str) -> Option<&'n Node> {
        self.known.push(key);
        let idx = self.entries.iter().position(|(k, _)| k.key_text() == key)?;
        self.used[idx] = true;
        let value = &self.entries[idx].1;
        (value.value != Value::Null).then_some(value)
    }

    /// The key node of `key`, for errors that point at the key rather than its value.
    pub fn key_node(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.key_text() == key)
            .map(|(k, _)| k)
    }

    /// Accept keys whose values Confiture does not interpret (yet), so that projects written
    /// for the Python tool load unchanged.
    pub fn accept(&mut self, keys: &[&'static str]) {
        for key in keys {
            self.get(key);
        }
    }

    /// Fail on the first key that was never asked for, suggesting the closest known key.
    pub fn finish(self, dec: &Decoder<'_>) -> Result<()> {
        for (i, (key, _)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let name = key.key_text();
            let mut known = self.known.clone();
            known.sort_unstable();
            known.dedup();
            let mut err = dec.error(
                codes::CONFIG_UNKNOWN_KEY,
                key,
                format!("unknown key '{}'", self.path_of(&name)),
            );
            err = match suggest(&name, &known) {
                Some(s) => err.with_hint(format!("did you mean '{s}'?")),
                None => err.with_hint(format!("known keys here: {}", known.join(", "))),
            };
            return Err(err);
        }
        Ok(())
    }
}

/// The known word closest to `word`, if it is close enough to be a plausible typo.
pub fn suggest<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = word.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let known = ["database_url", "include_dirs", "exclude_dirs", "migration"];
        assert_eq!(suggest("databse_url", &known), Some("database_url"));
        assert_eq!(suggest("include_dir", &known), Some("include_dirs"));
        assert_eq!(suggest("Migration", &known), Some("migration"));
        assert_eq!(suggest("zebra", &known), None);
    }
}
