//! Anonymization strategies for `confiture sync`: pure transforms of one column value.
//!
//! Values are PostgreSQL's TEXT representation of a column (`None` is SQL NULL). Every strategy
//! keeps NULL as NULL. A strategy is loaded once from its YAML options ([`load`], or
//! [`load_spec`] for a strategy written where one is expected in a profile) and then applied to
//! each value ([`Strategy::apply`]) with a [`Row`]: the column's type, the other columns of the
//! same row, and the secret [`Key`] of deterministic strategies.
//!
//! Deterministic outputs are HMAC-SHA256 of the input under the key, so the same input maps to
//! the same output across tables and runs with the same key. Strategies that are only
//! deterministic *when keyed* fall back to a per-process key ([`Key::process`]) when there is
//! none; `deterministic_hash`, whose whole point is stability, refuses to load without a key.
//! [`Strategy::deterministic`] states the rule per strategy.
//!
//! Profiles ([`profile`]) name strategies for tables and columns; [`pii`] finds the columns
//! that look like personal data.

pub mod dates;
pub mod key;
pub mod legacy;
pub mod options;
pub mod pii;
pub mod profile;
pub mod row;
pub mod strategies;

pub use key::Key;
pub use options::Options;
pub use profile::{ColumnRule, Profile, TableRule};
pub use row::Row;

use crate::codes;
use crate::config::decode::{suggest, Decoder};
use crate::error::{ConfitureError, Location, Result};
use crate::yaml::{Node, Value};
use strategies::*;

/// Every strategy name, with the aliases accepted for projects written for the Python tool.
pub const STRATEGIES: &[(&str, &[&str])] = &[
    ("preserve", &["no_anonymization", "none"]),
    ("null", &[]),
    ("redact", &[]),
    ("email_mask", &["email_masking"]),
    ("deterministic_hash", &[]),
    ("pattern_mask", &["pattern_masking"]),
    ("partial", &[]),
    ("phone", &[]),
    ("first_name", &[]),
    ("last_name", &[]),
    ("full_name", &[]),
    ("company", &[]),
    ("address", &[]),
    ("city", &[]),
    ("random_in_range", &[]),
    ("date_jitter", &[]),
    ("ip", &[]),
    ("credit_card", &[]),
    ("json_path", &[]),
    ("conditional", &[]),
    ("sql_expression", &[]),
    ("custom", &["custom_function"]),
];

/// The canonical name of `name` (itself or the strategy it is an alias of).
pub fn canonical(name: &str) -> Option<&'static str> {
    STRATEGIES
        .iter()
        .find(|(n, aliases)| *n == name || aliases.contains(&name))
        .map(|(n, _)| *n)
}

/// One loaded strategy with its decoded options.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    Preserve,
    Null,
    Redact(redact::Redact),
    EmailMask(email_mask::EmailMask),
    DeterministicHash(deterministic_hash::DeterministicHash),
    PatternMask(pattern_mask::PatternMask),
    Partial(partial::Partial),
    Phone(phone::Phone),
    /// `first_name`, `last_name`, `full_name`, `company`, `address` and `city`.
    Fake(fake::Fake),
    RandomInRange(random_in_range::RandomInRange),
    DateJitter(date_jitter::DateJitter),
    Ip(ip::Ip),
    CreditCard(credit_card::CreditCard),
    JsonPath(Box<json_path::JsonPath>),
    Conditional(Box<conditional::Conditional>),
    SqlExpression(sql_expression::SqlExpression),
    /// A strategy that runs under its own key rather than its context's: a definition with its
    /// own `salt`, or a reference to a profile's named strategy, nested in another strategy.
    Keyed(Box<Keyed>),
}

/// A strategy with the key it runs under (`None`: the per-process key).
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed {
    pub key: Option<Key>,
    pub strategy: Strategy,
}

/// What a strategy is loaded in.
#[derive(Clone, Copy)]
pub struct Scope<'s> {
    /// Whether a key applies to the strategy (strategies that need one fail without it).
    pub keyed: bool,
    /// Named strategies (a profile's `strategies:`): references resolve there first, then to
    /// built-in names.
    pub named: Option<&'s dyn Named>,
    /// The code of invalid values (an unknown strategy, a bad option value):
    /// `CONFIG_INVALID_VALUE`, or `ANON_PROFILE_INVALID` in a profile.
    pub code: codes::ErrorCode,
}

impl Scope<'_> {
    /// No named strategies; invalid values are `CONFIG_INVALID_VALUE`.
    pub fn plain(keyed: bool) -> Scope<'static> {
        Scope {
            keyed,
            named: None,
            code: codes::CONFIG_INVALID_VALUE,
        }
    }
}

/// A set of named strategies that references may use (implemented by a profile's
/// `strategies:`).
pub trait Named {
    /// The strategy named `name`, if the set has one, ready to run anywhere: wrapped in
    /// [`Strategy::Keyed`] with the key it runs under. `at` and `path` locate the reference
    /// (for a reference cycle).
    fn resolve(&self, name: &str, dec: &Decoder, at: &Node, path: &str)
        -> Option<Result<Strategy>>;
    /// Every name, for suggestions.
    fn names(&self) -> Vec<String>;
}

/// Load strategy `name` (or an alias) with its `options` mapping. `path` is the dotted key path
/// of the options in messages (`tables.users.columns.email`). `keyed` says whether a key
/// (`salt: ${ANON_SALT}`) is configured; strategies that need one fail here without it.
pub fn load(
    name: &str,
    options: Option<&Node>,
    dec: &Decoder,
    path: &str,
    keyed: bool,
) -> Result<Strategy> {
    let scope = Scope::plain(keyed);
    let canonical = check_name(name, options, dec, path, scope)?;
    let mut o = Options::new(dec, options, path, scope)?;
    let strategy = build(canonical, &mut o)?;
    o.finish()?;
    Ok(strategy)
}

/// Load a strategy written where one is expected (a column of a profile, a branch of
/// `conditional`, the field strategy of `json_path`), at `path`:
/// - a reference: a bare name (`phone`) or `{strategy: name}`. The name is one of
///   `scope.named` first, then a built-in strategy (aliases included) without options;
/// - a definition: `{type: <built-in>, salt?, algorithm?, <options>...}`. With its own `salt`
///   the strategy runs under that key ([`Strategy::Keyed`]); `algorithm` must be `sha256`;
/// - the vision documents' `{type: custom, strategy: <built-in>, <options>...}`, read as the
///   definition `{type: <built-in>, <options>...}`.
///
/// `strategy` and `type` together are an error, except in those two cases and for
/// `{type: json_path, path: ..., strategy: ...}`, whose `strategy` is an option.
///
/// Returns the strategy and its name as written (the type for a definition).
pub fn load_spec(
    dec: &Decoder,
    node: &Node,
    path: &str,
    scope: Scope,
) -> Result<(Strategy, String)> {
    let entries = match &node.value {
        Value::Str(_) => {
            let name = dec.string(node, path)?;
            return reference(dec, &name, node, path, scope);
        }
        Value::Map(entries) => entries,
        _ => {
            return Err(dec
                .error(
                    codes::CONFIG_WRONG_TYPE,
                    node,
                    format!(
                        "'{path}' must be a strategy name or a mapping with 'strategy' or 'type', \
                         found {}",
                        node.type_name()
                    ),
                )
                .with_hint("email: email_mask, or email: {strategy: email_mask}, or email: {type: email_mask, keep_domain: false}"))
        }
    };
    let find = |k: &str| entries.iter().find(|(key, _)| key.key_text() == k);
    let type_is =
        |ty: &Node, name: &str| matches!(&ty.value, Value::Str(t) if canonical(t) == Some(name));
    match (find("type"), find("strategy")) {
        // `json_path` has an option named `strategy` (the field's strategy).
        (Some((_, ty)), Some(_)) if type_is(ty, "json_path") => {
            definition(dec, node, path, scope, "type")
        }
        (Some((_, ty)), Some(_)) if type_is(ty, "custom") => {
            definition(dec, node, path, scope, "strategy")
        }
        (Some((key, _)), Some(_)) => Err(dec
            .error(
                scope.code,
                key,
                format!(
                    "'{path}' has both 'strategy' (a reference to a strategy) and 'type' (a \
                     definition of one); give one of them"
                ),
            )
            .with_hint(
                "{strategy: name} uses a named or built-in strategy as it is; \
                 {type: name, <options>} defines one here",
            )),
        (Some(_), None) => definition(dec, node, path, scope, "type"),
        (None, Some((_, name_node))) => {
            if let Some((extra, _)) = entries.iter().find(|(k, _)| k.key_text() != "strategy") {
                let key = extra.key_text();
                let err = dec.error(
                    codes::CONFIG_UNKNOWN_KEY,
                    extra,
                    format!("unknown key '{path}.{key}'"),
                );
                return Err(match suggest(&key, &["type", "salt", "algorithm"]) {
                    Some("type") => err.with_hint("did you mean 'type'?"),
                    _ => err.with_hint(
                        "a reference ({strategy: name}) takes no options: define the strategy \
                         inline with {type: name, <options>}, or under strategies:",
                    ),
                });
            }
            let path = format!("{path}.strategy");
            let name = dec.string(name_node, &path)?;
            reference(dec, &name, name_node, &path, scope)
        }
        (None, None) => {
            for (k, _) in entries {
                let key = k.key_text();
                if let Some(s) = suggest(&key, &["type", "strategy"]) {
                    return Err(dec
                        .error(
                            codes::CONFIG_UNKNOWN_KEY,
                            k,
                            format!("unknown key '{path}.{key}'"),
                        )
                        .with_hint(format!("did you mean '{s}'?")));
                }
            }
            Err(dec
                .error(
                    codes::CONFIG_MISSING_KEY,
                    node,
                    format!(
                        "'{path}' needs a 'type' naming the strategy, or a 'strategy' \
                         referring to one"
                    ),
                )
                .with_hint("{type: redact, with: x} or {strategy: redact}"))
        }
    }
}

/// A reference to `name` (at node `at`): a named strategy, else a built-in one without options.
fn reference(
    dec: &Decoder,
    name: &str,
    at: &Node,
    path: &str,
    scope: Scope,
) -> Result<(Strategy, String)> {
    if let Some(named) = scope.named {
        if let Some(resolved) = named.resolve(name, dec, at, path) {
            return resolved.map(|s| (s, name.to_string()));
        }
    }
    let canonical = check_name(name, Some(at), dec, path, scope)?;
    let mut o = Options::new(dec, None, path, scope)?.anchored(at);
    let strategy = build(canonical, &mut o)?;
    o.finish()?;
    Ok((strategy, name.to_string()))
}

/// A definition `{<name_key>: <built-in>, salt?, algorithm?, <options>...}`.
fn definition(
    dec: &Decoder,
    node: &Node,
    path: &str,
    scope: Scope,
    name_key: &'static str,
) -> Result<(Strategy, String)> {
    let mut o = Options::new(dec, Some(node), path, scope)?;
    if name_key != "type" {
        o.get("type");
    }
    let (name, name_node) = o.required_string(name_key)?;
    let key = o.salt()?;
    if key.is_some() {
        o.scope.keyed = true;
    }
    let name_path = o.path_of(name_key);
    let canonical = check_name(&name, Some(name_node), dec, &name_path, scope)?;
    let strategy = build(canonical, &mut o)?;
    o.finish()?;
    let strategy = match key {
        Some(key) => Strategy::Keyed(Box::new(Keyed {
            key: Some(key),
            strategy,
        })),
        None => strategy,
    };
    Ok((strategy, name))
}

/// The canonical name of built-in strategy `name`; errors for unknown names (with a
/// suggestion drawn from the built-in and the named strategies) and for `custom`.
fn check_name(
    name: &str,
    at: Option<&Node>,
    dec: &Decoder,
    path: &str,
    scope: Scope,
) -> Result<&'static str> {
    let named = scope.named.map(|n| n.names()).unwrap_or_default();
    let Some(canonical) = canonical(name) else {
        if named.iter().any(|n| n == name) {
            return Err(located(
                dec,
                at,
                scope.code,
                format!("'{path}': '{name}' is a named strategy, not a built-in type"),
            )
            .with_hint(format!(
                "refer to it with strategy: {name} (type: names a built-in strategy)"
            )));
        }
        let mut names: Vec<&str> = named.iter().map(String::as_str).collect();
        names.extend(
            STRATEGIES
                .iter()
                .flat_map(|(n, a)| std::iter::once(*n).chain(a.iter().copied())),
        );
        let err = located(
            dec,
            at,
            scope.code,
            format!("'{path}': unknown anonymization strategy '{name}'"),
        );
        return Err(match suggest(name, &names) {
            Some(s) => err.with_hint(format!("did you mean '{s}'?")),
            None => {
                let mut hint = format!(
                    "known strategies: {}",
                    STRATEGIES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if !named.is_empty() {
                    hint.push_str(&format!("; named strategies: {}", named.join(", ")));
                }
                err.with_hint(hint)
            }
        });
    };
    if canonical == "custom" {
        return Err(located(
            dec,
            at,
            scope.code,
            format!(
                "'{path}': custom strategies (Python callables) are not supported; \
                 use sql_expression or a command"
            ),
        )
        .with_hint(
            "rewrite the callable as a SQL expression: strategy sql_expression, option expression",
        ));
    }
    Ok(canonical)
}

/// Decode the options of built-in strategy `canonical`.
fn build(canonical: &str, o: &mut Options) -> Result<Strategy> {
    Ok(match canonical {
        "preserve" => Strategy::Preserve,
        "null" => Strategy::Null,
        "redact" => Strategy::Redact(redact::Redact::load(o)?),
        "email_mask" => Strategy::EmailMask(email_mask::EmailMask::load(o)?),
        "deterministic_hash" => {
            Strategy::DeterministicHash(deterministic_hash::DeterministicHash::load(o)?)
        }
        "pattern_mask" => Strategy::PatternMask(pattern_mask::PatternMask::load(o)?),
        "partial" => Strategy::Partial(partial::Partial::load(o)?),
        "phone" => Strategy::Phone(phone::Phone::load(o)?),
        "first_name" | "last_name" | "full_name" | "company" | "address" | "city" => {
            Strategy::Fake(fake::Fake::load(canonical, o)?)
        }
        "random_in_range" => Strategy::RandomInRange(random_in_range::RandomInRange::load(o)?),
        "date_jitter" => Strategy::DateJitter(date_jitter::DateJitter::load(o)?),
        "ip" => Strategy::Ip(ip::Ip::load(o)?),
        "credit_card" => Strategy::CreditCard(credit_card::CreditCard::load(o)?),
        "json_path" => Strategy::JsonPath(Box::new(json_path::JsonPath::load(o)?)),
        "conditional" => Strategy::Conditional(Box::new(conditional::Conditional::load(o)?)),
        "sql_expression" => Strategy::SqlExpression(sql_expression::SqlExpression::load(o)?),
        other => unreachable!("strategy '{other}' is registered but not loaded"),
    })
}

/// An error at `node` when there is one, else at the file.
pub(crate) fn located(
    dec: &Decoder,
    node: Option<&Node>,
    code: codes::ErrorCode,
    message: String,
) -> ConfitureError {
    match node {
        Some(n) if n.line > 0 => dec.error(code, n, message),
        _ => ConfitureError::new(code, message).at(Location::file(dec.file)),
    }
}

impl Strategy {
    /// Anonymize one value. NULL stays NULL.
    pub fn apply(&self, value: Option<&str>, row: &Row) -> Option<String> {
        match self {
            Strategy::Conditional(c) => return c.apply(value, row),
            Strategy::Keyed(k) => {
                let row = Row {
                    key: k.key.as_ref(),
                    ..*row
                };
                return k.strategy.apply(value, &row);
            }
            _ => {}
        }
        let value = value?;
        match self {
            Strategy::Preserve => Some(value.to_string()),
            Strategy::Null => None,
            Strategy::Redact(s) => s.apply(value),
            Strategy::EmailMask(s) => s.apply(value, row),
            Strategy::DeterministicHash(s) => s.apply(value, row),
            Strategy::PatternMask(s) => s.apply(value),
            Strategy::Partial(s) => s.apply(value),
            Strategy::Phone(s) => s.apply(value, row),
            Strategy::Fake(s) => s.apply(value, row),
            Strategy::RandomInRange(s) => s.apply(value, row),
            Strategy::DateJitter(s) => s.apply(value, row),
            Strategy::Ip(s) => s.apply(value, row),
            Strategy::CreditCard(s) => s.apply(value, row),
            Strategy::JsonPath(s) => s.apply(value, row),
            Strategy::SqlExpression(_) => Some(value.to_string()),
            Strategy::Conditional(_) | Strategy::Keyed(_) => unreachable!("handled above"),
        }
    }

    /// The SQL expression of an `sql_expression` strategy, which the sync layer evaluates in
    /// the target instead of calling [`Strategy::apply`].
    pub fn sql_expression(&self) -> Option<&str> {
        match self {
            Strategy::SqlExpression(s) => Some(&s.expression),
            Strategy::Keyed(k) => k.strategy.sql_expression(),
            _ => None,
        }
    }

    /// Whether the output is a pure function of the value (and, for `conditional`, of the
    /// columns it reads) and of the key, so that the same input gives the same output on every
    /// run with the same key. `keyed`: whether a key applies (the profile's or the strategy's
    /// own `salt`).
    ///
    /// - Always: `preserve`, `null`, `redact`, `pattern_mask`, `partial` (they use no key).
    /// - When keyed: `email_mask`, `deterministic_hash` (which requires a key), `phone`, the
    ///   fake names (`first_name`, ..., `city`), `random_in_range`, `date_jitter`, `ip`,
    ///   `credit_card`: their output is an HMAC of the value under the key. Without a key they
    ///   use the per-process key: stable within one run, different across runs.
    /// - `json_path`: as its field strategy; `conditional`: when both branches are.
    /// - Never: `sql_expression` (the target evaluates it; it may call `random()` or `now()`).
    ///
    /// No strategy draws real randomness: within one process every strategy except
    /// `sql_expression` maps the same input to the same output.
    pub fn deterministic(&self, keyed: bool) -> bool {
        match self {
            Strategy::Preserve
            | Strategy::Null
            | Strategy::Redact(_)
            | Strategy::PatternMask(_)
            | Strategy::Partial(_) => true,
            Strategy::EmailMask(_)
            | Strategy::DeterministicHash(_)
            | Strategy::Phone(_)
            | Strategy::Fake(_)
            | Strategy::RandomInRange(_)
            | Strategy::DateJitter(_)
            | Strategy::Ip(_)
            | Strategy::CreditCard(_) => keyed,
            Strategy::JsonPath(j) => j.strategy.deterministic(keyed),
            Strategy::Conditional(c) => {
                c.then.deterministic(keyed) && c.otherwise.deterministic(keyed)
            }
            Strategy::SqlExpression(_) => false,
            Strategy::Keyed(k) => k.strategy.deterministic(k.key.is_some()),
        }
    }

    /// The other columns of the row the strategy reads (`conditional`'s `when`, also inside
    /// `json_path` or a branch), sorted, each once. `sql_expression` reads nothing from the
    /// [`Row`]: the target evaluates it.
    pub fn context_columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_columns(&mut out);
        out.sort_unstable();
        out.dedup();
        out
    }

    fn collect_columns(&self, out: &mut Vec<String>) {
        match self {
            Strategy::Conditional(c) => {
                out.extend(c.columns().into_iter().map(str::to_string));
                c.then.collect_columns(out);
                c.otherwise.collect_columns(out);
            }
            Strategy::JsonPath(j) => j.strategy.collect_columns(out),
            Strategy::Keyed(k) => k.strategy.collect_columns(out),
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;
    use std::path::Path;

    /// Parse `options` YAML (empty for none) and load strategy `name`.
    pub fn try_load(name: &str, options: &str, keyed: bool) -> Result<Strategy> {
        let file = Path::new("anon.yaml");
        let lookup = |_: &str| None;
        let dec = Decoder {
            file,
            lookup: &lookup,
        };
        let node = crate::yaml::parse(options, file)?;
        load(name, node.as_ref(), &dec, "columns.c", keyed)
    }

    pub fn strategy(name: &str, options: &str) -> Strategy {
        try_load(name, options, true).unwrap_or_else(|e| panic!("{}", e.message))
    }

    pub fn row<'a>(column_type: &'a str, key: Option<&'a Key>) -> Row<'a> {
        Row {
            column_type,
            columns: &[],
            key,
        }
    }

    /// Apply under the key "test-key".
    pub fn keyed(s: &Strategy, column_type: &str, value: &str) -> String {
        let key = Key::new("test-key");
        s.apply(Some(value), &row(column_type, Some(&key)))
            .expect("not NULL")
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn every_registered_strategy_keeps_null() {
        for (name, aliases) in STRATEGIES {
            let options = match *name {
                "pattern_mask" => "pattern: '***'",
                "json_path" => "path: $.a\nstrategy: redact",
                "conditional" => "when: row.a == true\nthen: redact\nelse: redact",
                "random_in_range" => "min: 1\nmax: 2",
                "sql_expression" => "expression: md5(email)",
                "custom" => continue,
                _ => "",
            };
            for n in std::iter::once(name).chain(aliases.iter()) {
                let s = strategy(n, options);
                assert_eq!(s.apply(None, &row("text", None)), None, "{n}");
            }
        }
    }

    #[test]
    fn unknown_strategy_suggests() {
        let err = try_load("emial_mask", "", true).unwrap_err();
        assert_eq!(err.code.id, codes::CONFIG_INVALID_VALUE.id);
        assert!(err.message.contains("'emial_mask'"), "{}", err.message);
        assert_eq!(err.hint.as_deref(), Some("did you mean 'email_mask'?"));
        let err = try_load("zzz", "", true).unwrap_err();
        assert!(err
            .hint
            .clone()
            .unwrap()
            .starts_with("known strategies: preserve"));
    }

    #[test]
    fn custom_is_a_clear_error() {
        let err = try_load("custom", "function: mymod.fake", true).unwrap_err();
        assert_eq!(err.code.id, codes::CONFIG_INVALID_VALUE.id);
        assert!(err
            .message
            .contains("custom strategies (Python callables) are not supported"));
        assert_eq!(err.location.clone().unwrap().line, Some(1));
    }

    #[test]
    fn unknown_option_is_rejected_with_line() {
        let err = try_load("redact", "with: x\nwiht: y\n", true).unwrap_err();
        assert_eq!(err.code.id, codes::CONFIG_UNKNOWN_KEY.id);
        assert_eq!(err.message, "unknown key 'columns.c.wiht'");
        assert_eq!(err.location.clone().unwrap().line, Some(2));
    }

    #[test]
    fn nested_errors_point_at_their_line() {
        let opts = "path: $.a\nstrategy:\n  type: redact\n  wiht: x\n";
        let err = try_load("json_path", opts, true).unwrap_err();
        assert_eq!(err.message, "unknown key 'columns.c.strategy.wiht'");
        assert_eq!(err.location.clone().unwrap().line, Some(4));
        let err = try_load("random_in_range", "\nmin: 1\n", true).unwrap_err();
        assert_eq!(err.message, "'columns.c.max' is required");
        assert_eq!(err.location.clone().unwrap().line, Some(2));
    }

    #[test]
    fn sql_expression_is_exposed_and_value_passes_through() {
        let s = strategy("sql_expression", "expression: \"'user_' || id\"");
        assert_eq!(s.sql_expression(), Some("'user_' || id"));
        assert_eq!(keyed(&s, "text", "a@b.c"), "a@b.c");
        assert_eq!(strategy("null", "").sql_expression(), None);
    }

    #[test]
    fn aliases_resolve() {
        assert_eq!(canonical("no_anonymization"), Some("preserve"));
        assert_eq!(canonical("email_masking"), Some("email_mask"));
        assert_eq!(canonical("pattern_masking"), Some("pattern_mask"));
        assert_eq!(canonical("nope"), None);
        assert_eq!(keyed(&strategy("no_anonymization", ""), "text", "x"), "x");
    }
}
