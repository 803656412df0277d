//! Decoding of one strategy's options mapping, with errors that name file, line and key.

use crate::codes;
use crate::config::decode::{Decoder, MapReader};
use crate::error::{ConfitureError, Result};
use crate::yaml::{Node, Value};

use super::{located, Key, Scope, Strategy};

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
    /// Whether a key applies, the named strategies references may use, the code of invalid
    /// values.
    pub scope: Scope<'d>,
    /// Where errors about the strategy as a whole point (the options, or the reference).
    anchor: Option<&'n Node>,
    path: String,
    map: MapReader<'n>,
}

impl<'d, 'n> Options<'d, 'n> {
    pub fn new(
        dec: &'d Decoder<'d>,
        node: Option<&'n Node>,
        path: &str,
        scope: Scope<'d>,
    ) -> Result<Self> {
        let map = dec.map(node.unwrap_or(&EMPTY), path)?;
        Ok(Options {
            dec,
            node,
            scope,
            anchor: node,
            path: path.to_string(),
            map,
        })
    }

    /// Point errors about the strategy as a whole at `node` (a reference without options).
    pub fn anchored(mut self, node: &'n Node) -> Self {
        self.anchor = Some(node);
        self
    }

    /// Whether a key applies.
    pub fn keyed(&self) -> bool {
        self.scope.keyed
    }

    /// The dotted path of option `key`.
    pub fn path_of(&self, key: &str) -> String {
        self.map.path_of(key)
    }

    pub fn get(&mut self, key: &'static str) -> Option<&'n Node> {
        self.map.get(key)
    }

    /// Which of `key` and its alias `alias` is given (`key` when neither is); both is an error.
    pub fn either(&mut self, key: &'static str, alias: &'static str) -> Result<&'static str> {
        if let (Some(_), Some(second)) = (self.map.key_node(key), self.map.key_node(alias)) {
            let (a, b) = (self.path_of(key), self.path_of(alias));
            return Err(self
                .dec
                .error(
                    self.scope.code,
                    second,
                    format!("'{b}' is another spelling of '{a}': give only one of them"),
                )
                .with_hint(format!("remove '{alias}' or '{key}'")));
        }
        let chosen = if self.map.key_node(alias).is_some() {
            alias
        } else {
            key
        };
        // Both spellings are known keys (for "did you mean").
        let other = if chosen == key { alias } else { key };
        self.map.get(other);
        Ok(chosen)
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

    /// The definition's own key: `salt` (a non-empty string, `${VAR}` expanded) and
    /// `algorithm`, which must be `sha256` when given (keys are HMAC-SHA256).
    pub fn salt(&mut self) -> Result<Option<Key>> {
        let path = self.path_of("algorithm");
        if let Some(n) = self.get("algorithm") {
            let algorithm = self.dec.string(n, &path)?;
            if !algorithm.eq_ignore_ascii_case("sha256") {
                return Err(self
                    .invalid(n, format!("'{path}' must be sha256, found '{algorithm}'"))
                    .with_hint(
                        "deterministic outputs are HMAC-SHA256; remove algorithm or write sha256",
                    ));
            }
        }
        let path = self.path_of("salt");
        let Some(n) = self.get("salt") else {
            return Ok(None);
        };
        let salt = self.dec.string(n, &path)?;
        if salt.is_empty() {
            return Err(self
                .invalid(n, format!("'{path}' is empty"))
                .with_hint("an empty salt is no secret: set the variable to a long random value"));
        }
        Ok(Some(Key::new(salt)))
    }

    /// A nested strategy: a reference (`redact`, `{strategy: name}`) or a definition
    /// `{type: name, <its options>...}` (see [`super::load_spec`]). `sql_expression` cannot be
    /// nested: [`Strategy::apply`] would return the value unchanged.
    pub fn strategy(&mut self, key: &'static str) -> Result<Option<Strategy>> {
        let path = self.path_of(key);
        let Some(n) = self.get(key) else {
            return Ok(None);
        };
        let (strategy, _) = super::load_spec(self.dec, n, &path, self.scope)?;
        if strategy.sql_expression().is_some() {
            return Err(self
                .invalid(
                    n,
                    format!("'{path}': sql_expression can only be a column's own strategy"),
                )
                .with_hint(
                    "the target evaluates sql_expression for the whole column; \
                     nested in another strategy it would leave the value unchanged",
                ));
        }
        Ok(Some(strategy))
    }

    /// `CONFIG_MISSING_KEY` for required option `key`.
    pub fn missing(&self, key: &str) -> ConfitureError {
        located(
            self.dec,
            self.anchor,
            codes::CONFIG_MISSING_KEY,
            format!("'{}' is required", self.path_of(key)),
        )
    }

    /// An invalid value at `node`: `CONFIG_INVALID_VALUE`, or `ANON_PROFILE_INVALID` in a
    /// profile.
    pub fn invalid(&self, node: &Node, message: String) -> ConfitureError {
        self.dec.error(self.scope.code, node, message)
    }

    /// An invalid value for a strategy that needs a key when none is configured.
    pub fn require_key(&self, strategy: &str) -> Result<()> {
        if self.scope.keyed {
            return Ok(());
        }
        Err(located(
            self.dec,
            self.anchor,
            self.scope.code,
            format!(
                "'{}': strategy {strategy} needs a secret key, and none is configured",
                self.path
            ),
        )
        .with_hint(
            "set salt: ${ANON_SALT} (in the profile, or in this strategy's definition) \
             and export ANON_SALT",
        ))
    }

    /// Reject options nobody asked for.
    pub fn finish(self) -> Result<()> {
        self.map.finish(self.dec)
    }
}
