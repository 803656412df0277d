//! Anonymization strategies for `confiture sync`: pure transforms of one column value.
//!
//! Values are PostgreSQL's TEXT representation of a column (`None` is SQL NULL). Every strategy
//! keeps NULL as NULL. A strategy is loaded once from its YAML options ([`load`]) and then
//! applied to each value ([`Strategy::apply`]) with a [`Row`]: the column's type, the other
//! columns of the same row, and the secret [`Key`] of deterministic strategies.
//!
//! Deterministic outputs are HMAC-SHA256 of the input under the key, so the same input maps to
//! the same output across tables and runs with the same key. Strategies that are only
//! deterministic *when keyed* fall back to a per-process key ([`Key::process`]) when there is
//! none; `deterministic_hash`, whose whole point is stability, refuses to load without a key.

pub mod dates;
pub mod key;
pub mod options;
pub mod row;
pub mod strategies;

pub use key::Key;
pub use options::Options;
pub use row::Row;

use crate::codes;
use crate::config::decode::{suggest, Decoder};
use crate::error::{ConfitureError, Location, Result};
use crate::yaml::Node;
use strategies::*;

/// Every strategy name, with the aliases accepted for projects written for the Python tool.
pub const STRATEGIES: &[(&str, &[&str])] = &[
    ("preserve", &["no_anonymization"]),
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
    ("custom", &[]),
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
    let Some(canonical) = canonical(name) else {
        let names: Vec<&str> = STRATEGIES
            .iter()
            .flat_map(|(n, a)| std::iter::once(*n).chain(a.iter().copied()))
            .collect();
        let err = located(
            dec,
            options,
            codes::CONFIG_INVALID_VALUE,
            format!("'{path}': unknown anonymization strategy '{name}'"),
        );
        return Err(match suggest(name, &names) {
            Some(s) => err.with_hint(format!("did you mean '{s}'?")),
            None => err.with_hint(format!(
                "known strategies: {}",
                STRATEGIES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    };
    if canonical == "custom" {
        return Err(located(
            dec,
            options,
            codes::CONFIG_INVALID_VALUE,
            format!(
                "'{path}': custom strategies (Python callables) are not supported; \
                 use sql_expression or a command"
            ),
        )
        .with_hint(
            "rewrite the callable as a SQL expression: strategy sql_expression, option expression",
        ));
    }
    let mut o = Options::new(dec, options, path, keyed)?;
    let strategy = match canonical {
        "preserve" => Strategy::Preserve,
        "null" => Strategy::Null,
        "redact" => Strategy::Redact(redact::Redact::load(&mut o)?),
        "email_mask" => Strategy::EmailMask(email_mask::EmailMask::load(&mut o)?),
        "deterministic_hash" => {
            Strategy::DeterministicHash(deterministic_hash::DeterministicHash::load(&mut o)?)
        }
        "pattern_mask" => Strategy::PatternMask(pattern_mask::PatternMask::load(&mut o)?),
        "partial" => Strategy::Partial(partial::Partial::load(&mut o)?),
        "phone" => Strategy::Phone(phone::Phone::load(&mut o)?),
        "first_name" | "last_name" | "full_name" | "company" | "address" | "city" => {
            Strategy::Fake(fake::Fake::load(canonical, &mut o)?)
        }
        "random_in_range" => Strategy::RandomInRange(random_in_range::RandomInRange::load(&mut o)?),
        "date_jitter" => Strategy::DateJitter(date_jitter::DateJitter::load(&mut o)?),
        "ip" => Strategy::Ip(ip::Ip::load(&mut o)?),
        "credit_card" => Strategy::CreditCard(credit_card::CreditCard::load(&mut o)?),
        "json_path" => Strategy::JsonPath(Box::new(json_path::JsonPath::load(&mut o)?)),
        "conditional" => Strategy::Conditional(Box::new(conditional::Conditional::load(&mut o)?)),
        "sql_expression" => Strategy::SqlExpression(sql_expression::SqlExpression::load(&mut o)?),
        other => unreachable!("strategy '{other}' is registered but not loaded"),
    };
    o.finish()?;
    Ok(strategy)
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
        if let Strategy::Conditional(c) = self {
            return c.apply(value, row);
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
            Strategy::Conditional(_) => unreachable!("handled above"),
        }
    }

    /// The SQL expression of an `sql_expression` strategy, which the sync layer evaluates in
    /// the target instead of calling [`Strategy::apply`].
    pub fn sql_expression(&self) -> Option<&str> {
        match self {
            Strategy::SqlExpression(s) => Some(&s.expression),
            _ => None,
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
