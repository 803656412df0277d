//! `random_in_range`: replace a number or a date by one drawn from `[min, max]`.
//!
//! Options: `min` and `max` (required, inclusive): two integers (integer output), two numbers
//! of which one has a fraction (output with two decimals), or two `YYYY-MM-DD` dates (date
//! output; the time part of a timestamp value is kept). The draw is an HMAC of the value:
//! deterministic under a key, and under the per-process key without one (stable within a run,
//! different across runs) — there is no other source of randomness.

use crate::anonymize::{dates, Options, Row};
use crate::error::Result;
use crate::yaml::{Node, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum RandomInRange {
    Int(i64, i64),
    Float(f64, f64),
    /// Day numbers since 1970-01-01.
    Date(i64, i64),
}

enum Bound {
    Int(i64),
    Float(f64),
    Date(i64),
}

impl RandomInRange {
    pub fn load(o: &mut Options) -> Result<Self> {
        let min = bound(o, "min")?;
        let max = bound(o, "max")?;
        let range = match (min, max) {
            (Bound::Int(a), Bound::Int(b)) => RandomInRange::Int(a, b),
            (Bound::Date(a), Bound::Date(b)) => RandomInRange::Date(a, b),
            (Bound::Int(a), Bound::Float(b)) => RandomInRange::Float(a as f64, b),
            (Bound::Float(a), Bound::Int(b)) => RandomInRange::Float(a, b as f64),
            (Bound::Float(a), Bound::Float(b)) => RandomInRange::Float(a, b),
            _ => {
                let node = o.get("max").expect("max was read");
                return Err(o.invalid(
                    node,
                    "'min' and 'max' must both be numbers or both be dates".into(),
                ));
            }
        };
        let ordered = match range {
            RandomInRange::Int(a, b) | RandomInRange::Date(a, b) => a <= b,
            RandomInRange::Float(a, b) => a <= b,
        };
        if !ordered {
            let node = o.get("max").expect("max was read");
            let path = o.path_of("max");
            return Err(o.invalid(node, format!("'{path}' must not be less than 'min'")));
        }
        Ok(range)
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let mac = row.key().mac("random_in_range", value);
        let draw = u128::from_be_bytes(mac[..16].try_into().expect("16 bytes"));
        let pick = |a: i64, b: i64| {
            (a as i128 + (draw % ((b as i128 - a as i128 + 1) as u128)) as i128) as i64
        };
        Some(match *self {
            RandomInRange::Int(a, b) => pick(a, b).to_string(),
            RandomInRange::Float(a, b) => {
                let unit = (draw >> 75) as f64 / (1u64 << 53) as f64;
                format!("{:.2}", (a + unit * (b - a)).clamp(a, b))
            }
            RandomInRange::Date(a, b) => {
                let rest = dates::split(value).map_or("", |(_, rest)| rest);
                format!("{}{rest}", dates::format(pick(a, b)))
            }
        })
    }
}

fn bound(o: &mut Options, key: &'static str) -> Result<Bound> {
    let path = o.path_of(key);
    let node: &Node = o.get(key).ok_or_else(|| o.missing(key))?;
    match &node.value {
        Value::Int(i) => Ok(Bound::Int(*i)),
        Value::Float(f) if f.is_finite() => Ok(Bound::Float(*f)),
        Value::Str(_) => {
            let text = o.dec.string(node, &path)?;
            match dates::split(&text) {
                Some((day, "")) => Ok(Bound::Date(day)),
                _ => Err(o.invalid(
                    node,
                    format!("'{path}' must be a number or a YYYY-MM-DD date, found '{text}'"),
                )),
            }
        }
        _ => Err(o.invalid(
            node,
            format!("'{path}' must be a number or a YYYY-MM-DD date"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::dates;
    use crate::anonymize::testutil::*;

    #[test]
    fn integers_within_bounds_and_stable() {
        let s = strategy("random_in_range", "min: 18\nmax: 20");
        let mut seen = std::collections::HashSet::new();
        for v in 0..100 {
            let out: i64 = keyed(&s, "integer", &v.to_string()).parse().unwrap();
            assert!((18..=20).contains(&out));
            seen.insert(out);
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(keyed(&s, "integer", "42"), keyed(&s, "integer", "42"));
        let full = strategy(
            "random_in_range",
            "min: -9223372036854775808\nmax: 9223372036854775807",
        );
        keyed(&full, "bigint", "1").parse::<i64>().unwrap();
    }

    #[test]
    fn floats_and_dates() {
        let s = strategy("random_in_range", "min: 1.5\nmax: 2");
        for v in 0..50 {
            let out = keyed(&s, "numeric", &v.to_string());
            let x: f64 = out.parse().unwrap();
            assert!((1.5..=2.0).contains(&x), "{out}");
            assert_eq!(out.split('.').nth(1).unwrap().len(), 2);
        }
        let s = strategy("random_in_range", "min: '2020-01-01'\nmax: '2020-12-31'");
        let out = keyed(&s, "timestamp without time zone", "1985-06-01 08:00:00");
        assert!(
            out.starts_with("2020-") && out.ends_with(" 08:00:00"),
            "{out}"
        );
        let (day, _) = dates::split(&out).unwrap();
        assert!((18262..=18627).contains(&day));
    }

    #[test]
    fn bad_options() {
        assert_eq!(
            try_load("random_in_range", "min: 1", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_011"
        );
        assert_eq!(
            try_load("random_in_range", "min: 2\nmax: 1", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_010"
        );
        assert_eq!(
            try_load("random_in_range", "min: 1\nmax: '2020-01-01'", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_010"
        );
        assert_eq!(
            try_load("random_in_range", "min: x\nmax: 2", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_010"
        );
    }
}
