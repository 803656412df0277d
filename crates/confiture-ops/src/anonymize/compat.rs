//! Which column types each strategy can produce: `anonymize validate` refuses, before any sync,
//! a rule whose output the target column could not hold (an email mask on an integer).

use confiture_core::anonymize::Strategy;

fn textual(t: &str) -> bool {
    matches!(
        t,
        "text" | "character varying" | "character" | "citext" | "name"
    )
}

fn integer(t: &str) -> bool {
    matches!(t, "smallint" | "integer" | "bigint")
}

fn numeric(t: &str) -> bool {
    integer(t) || matches!(t, "numeric" | "real" | "double precision")
}

fn temporal(t: &str) -> bool {
    matches!(
        t,
        "date" | "timestamp without time zone" | "timestamp with time zone"
    )
}

/// `Err(reason)` when `strategy` cannot produce a value of `wire_type` (a domain's base type;
/// `text` for enums).
pub fn fits(strategy: &Strategy, wire_type: &str) -> Result<(), String> {
    let t = wire_type;
    let ok = match strategy {
        Strategy::Preserve | Strategy::Null | Strategy::SqlExpression(_) => true,
        Strategy::Redact(_)
        | Strategy::EmailMask(_)
        | Strategy::PatternMask(_)
        | Strategy::Partial(_)
        | Strategy::Phone(_)
        | Strategy::Fake(_) => textual(t),
        Strategy::DeterministicHash(_) => textual(t) || integer(t) || t == "uuid",
        Strategy::RandomInRange(_) => numeric(t) || temporal(t),
        Strategy::DateJitter(_) => temporal(t),
        Strategy::Ip(_) => textual(t) || t == "inet" || t == "cidr",
        Strategy::CreditCard(_) => textual(t) || t == "numeric" || t == "bigint",
        Strategy::JsonPath(_) => t == "json" || t == "jsonb",
        Strategy::Conditional(c) => {
            fits(&c.then, t)?;
            return fits(&c.otherwise, t);
        }
        Strategy::Keyed(k) => return fits(&k.strategy, t),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("cannot produce a value of type {t}"))
    }
}
