//! `date_jitter`: move a date or timestamp by up to ±`days` days.
//!
//! Options: `days` (1..=36500, default 30). The shift is derived from an HMAC of the value, so
//! it is stable under the same key (per run without a key), and is never zero. The time part
//! and time zone of a timestamp (everything after `YYYY-MM-DD`) are kept. A value that does not
//! start with a date (`infinity`, a BC date) becomes NULL: the strategy fails closed.

use crate::anonymize::{dates, Options, Row};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct DateJitter {
    pub days: i64,
}

impl DateJitter {
    pub fn load(o: &mut Options) -> Result<Self> {
        let days = o.u64("days", 30, 36_500)?;
        if days == 0 {
            let node = o.get("days").expect("days was given");
            let path = o.path_of("days");
            return Err(o.invalid(node, format!("'{path}' must be at least 1")));
        }
        Ok(DateJitter { days: days as i64 })
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let (day, rest) = dates::split(value)?;
        if rest.contains("BC") {
            return None;
        }
        // A shift in [-days, -1] ∪ [1, days].
        let k = row.key().pick("date_jitter", value, 2 * self.days as u64) as i64;
        let shift = if k < self.days {
            k - self.days
        } else {
            k - self.days + 1
        };
        Some(format!("{}{rest}", dates::format(day + shift)))
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::dates;
    use crate::anonymize::testutil::*;

    #[test]
    fn shifts_within_bounds_and_keeps_time() {
        let s = strategy("date_jitter", "days: 5");
        let mut seen = std::collections::HashSet::new();
        for d in 0..200 {
            let v = format!("{} 12:34:56.789+02", dates::format(19000 + d));
            let out = keyed(&s, "timestamp with time zone", &v);
            assert!(out.ends_with(" 12:34:56.789+02"), "{out}");
            let (a, _) = dates::split(&v).unwrap();
            let (b, _) = dates::split(&out).unwrap();
            assert!((1..=5).contains(&(b - a).abs()), "{v} -> {out}");
            seen.insert(b - a);
            assert_eq!(out, keyed(&s, "timestamp with time zone", &v));
        }
        assert_eq!(seen.len(), 10, "every shift in ±5 except 0 occurs");
    }

    #[test]
    fn plain_dates_and_bad_values() {
        let s = strategy("date_jitter", "days: 1");
        let out = keyed(&s, "date", "2024-03-01");
        assert!(out == "2024-02-29" || out == "2024-03-02", "{out}");
        let key = crate::anonymize::Key::new("k");
        assert_eq!(s.apply(Some("infinity"), &row("date", Some(&key))), None);
        assert_eq!(
            try_load("date_jitter", "days: 0", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_010"
        );
    }
}
