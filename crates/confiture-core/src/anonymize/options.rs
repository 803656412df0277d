//! Decoding of one strategy's options mapping, with errors that name file, line and key.

use crate::codes;
use crate::config::decode::{Decoder, MapReader};
use crate::error::{ConfitureError, Result};
use crate::yaml::{Node, Value};

use super::{located, Strategy};

static EMPTY: Node = Node {
    value: Value::Null,
    line: 0,
    column: 0,
};

/// The options of the strategy being loaded.
pub struct Options<'d, 'n> {
    pub dec: &'d Decoder<'d>,
    /// The options mapping, when there is one.
    pub node: Option<&'n Node>,
    /// Whether a key is configured.
    pub keyed: bool,
    path: String,
    map: MapReader<'n>,
}

impl<'d, 'n> Options<'d, 'n> {
    pub fn new(
        dec: &'d Decoder<'d>,
        node: Option<&'n Node>,
        path: &str,
        keyed: bool,
    ) -> Result<Self> {
        let map = dec.map(node.unwrap_or(&EMPTY), path)?;
        Ok(Options {
            dec,
            node,
            keyed,
            path: path.to_string(),
            map,
        })
    }

    /// The dotted path of option `key`.
    pub fn path_of(&self, key: &str) -> String {
        self.map.path_of(key)
    }

    pub fn get(&mut self, key: &'static str) -> Option<&'n Node> {
        self.map.get(key)
    }

    pub fn string(&mut self, key: &'static str) -> Result<Option<String>> {
        let path = self.path_of(key);
        self.get(key).map(|n| self.dec.string(n, &path)).transpose()
    }

    pub fn required_string(&mut self, key: &'static str) -> Result<(String, &'n Node)> {
        let path = self.path_of(key);
        match self.get(key) {
            Some(n) => Ok((self.dec.string(n, &path)?, n)),
            None => Err(self.missing(key)),
        }
    }

    pub fn bool(&mut self, key: &'static str, default: bool) -> Result<bool> {
        let path = self.path_of(key);
        self.get(key)
            .map_or(Ok(default), |n| self.dec.bool(n, &path))
    }

    /// A non-negative integer no greater than `max`.
    pub fn u64(&mut self, key: &'static str, default: u64, max: u64) -> Result<u64> {
        let path = self.path_of(key);
        let Some(n) = self.get(key) else {
            return Ok(default);
        };
        let v = self.dec.u64(n, &path)?;
        if v > max {
            return Err(self.invalid(n, format!("'{path}' must be at most {max}, found {v}")));
        }
        Ok(v)
    }

    /// A single character.
    pub fn char(&mut self, key: &'static str, default: char) -> Result<char> {
        let path = self.path_of(key);
        let Some(n) = self.get(key) else {
            return Ok(default);
        };
        let s = self.dec.string(n, &path)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(self.invalid(
                n,
                format!("'{path}' must be a single character, found '{s}'"),
            )),
        }
    }

    /// A nested strategy: a name (`redact`) or a mapping `{type: name, <its options>...}`.
    pub fn strategy(&mut self, key: &'static str) -> Result<Option<Strategy>> {
        let path = self.path_of(key);
        let Some(n) = self.get(key) else {
            return Ok(None);
        };
        let (name, options) = match &n.value {
            Value::Str(_) => (self.dec.string(n, &path)?, None),
            Value::Map(entries) => {
                let Some((_, ty)) = entries.iter().find(|(k, _)| k.key_text() == "type") else {
                    return Err(self
                        .dec
                        .error(
                            codes::CONFIG_MISSING_KEY,
                            n,
                            format!("'{path}' needs a 'type' naming the strategy"),
                        )
                        .with_hint(format!("{key}: {{type: redact}}")));
                };
                let rest: Vec<(Node, Node)> = entries
                    .iter()
                    .filter(|(k, _)| k.key_text() != "type")
                    .cloned()
                    .collect();
                let options = Node {
                    value: Value::Map(rest),
                    line: n.line,
                    column: n.column,
                };
                (self.dec.string(ty, &format!("{path}.type"))?, Some(options))
            }
            _ => {
                return Err(self.dec.error(
                    codes::CONFIG_WRONG_TYPE,
                    n,
                    format!("'{path}' must be a strategy name or a mapping with a 'type'"),
                ))
            }
        };
        super::load(&name, options.as_ref(), self.dec, &path, self.keyed).map(Some)
    }

    /// `CONFIG_MISSING_KEY` for required option `key`.
    pub fn missing(&self, key: &str) -> ConfitureError {
        located(
            self.dec,
            self.node,
            codes::CONFIG_MISSING_KEY,
            format!("'{}' is required", self.path_of(key)),
        )
    }

    /// `CONFIG_INVALID_VALUE` at `node`.
    pub fn invalid(&self, node: &Node, message: String) -> ConfitureError {
        self.dec.error(codes::CONFIG_INVALID_VALUE, node, message)
    }

    /// `CONFIG_INVALID_VALUE` for a strategy that needs a key when none is configured.
    pub fn require_key(&self, strategy: &str) -> Result<()> {
        if self.keyed {
            return Ok(());
        }
        Err(located(
            self.dec,
            self.node,
            codes::CONFIG_INVALID_VALUE,
            format!(
                "'{}': strategy {strategy} needs a secret key, and none is configured",
                self.path
            ),
        )
        .with_hint("set salt: ${ANON_SALT} in the anonymization settings and export ANON_SALT"))
    }

    /// Reject options nobody asked for.
    pub fn finish(self) -> Result<()> {
        self.map.finish(self.dec)
    }
}
