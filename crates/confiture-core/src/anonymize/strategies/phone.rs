//! `phone`: replace the digits of a phone number, keeping its formatting.
//!
//! Options: `keep_prefix` (default 0): how many leading digits to keep (a country or area
//! code). Every other digit is replaced by a digit derived from an HMAC of the whole number,
//! so the same number always gives the same output under the same key (per run without a key).
//! Non-digit characters (`+`, spaces, dashes, parentheses) are kept in place.

use crate::anonymize::{Options, Row};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Phone {
    pub keep_prefix: usize,
}

impl Phone {
    pub fn load(o: &mut Options) -> Result<Self> {
        Ok(Phone {
            keep_prefix: o.u64("keep_prefix", 0, 32)? as usize,
        })
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        Some(replace_digits(value, self.keep_prefix, row, "phone"))
    }
}

/// Replace the digits of `value` after the first `keep`, from an HMAC stream of `value`.
pub(crate) fn replace_digits(value: &str, keep: usize, row: &Row, domain: &str) -> String {
    let key = row.key();
    let mut stream = Vec::new();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= keep {
                return c;
            }
            if stream.is_empty() {
                let block = format!("{}:{}", seen, value);
                stream = key.mac(domain, &block).to_vec();
            }
            let b = stream.pop().expect("non-empty");
            char::from(b'0' + b % 10)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    #[test]
    fn keeps_prefix_and_format() {
        let s = strategy("phone", "keep_prefix: 2");
        let v = "+33 6 12 34 56 78";
        let out = keyed(&s, "text", v);
        assert!(out.starts_with("+33 "), "{out}");
        assert_eq!(out.len(), v.len());
        let shape = |s: &str| s.chars().map(|c| c.is_ascii_digit()).collect::<Vec<_>>();
        assert_eq!(shape(&out), shape(v));
        assert_ne!(out, v);
        assert_eq!(out, keyed(&s, "text", v));
        assert_ne!(out, keyed(&s, "text", "+33 6 12 34 56 79"));
    }

    #[test]
    fn long_numbers_get_enough_digits() {
        let s = strategy("phone", "");
        let v = "1".repeat(80);
        let out = keyed(&s, "text", &v);
        assert_eq!(out.len(), 80);
        assert!(out.bytes().all(|b| b.is_ascii_digit()));
    }
}
