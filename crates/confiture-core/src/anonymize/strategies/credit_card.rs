//! `credit_card`: keep the issuer (first 6 digits, the BIN), replace the rest of the number.
//!
//! No options. The length and any separators (spaces, dashes) are kept; the digits after the
//! BIN come from an HMAC of the number (stable under a key, per run without one) and the last
//! digit is recomputed so that the output passes the Luhn check. Numbers with fewer than 8
//! digits have every digit replaced.

use crate::anonymize::{Options, Row};
use crate::error::Result;

use super::phone::replace_digits;

#[derive(Debug, Clone, PartialEq)]
pub struct CreditCard;

impl CreditCard {
    pub fn load(_o: &mut Options) -> Result<Self> {
        Ok(CreditCard)
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let n = value.bytes().filter(u8::is_ascii_digit).count();
        let keep = if n >= 8 { 6 } else { 0 };
        let replaced = replace_digits(value, keep, row, "credit_card");
        if n < 2 {
            return Some(replaced);
        }
        // Recompute the check digit (the last digit) over the other digits.
        let digits: Vec<u32> = replaced.chars().filter_map(|c| c.to_digit(10)).collect();
        let body = &digits[..n - 1];
        let sum: u32 = body
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                if i % 2 == 0 {
                    (d * 2) % 9 + u32::from(d == 9) * 9
                } else {
                    d
                }
            })
            .sum();
        let check = (10 - sum % 10) % 10;
        let last = replaced
            .rfind(|c: char| c.is_ascii_digit())
            .expect("n >= 2");
        let mut out = replaced;
        out.replace_range(last..last + 1, &check.to_string());
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    fn luhn_valid(number: &str) -> bool {
        let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, &d)| {
                if i % 2 == 1 {
                    let x = d * 2;
                    if x > 9 {
                        x - 9
                    } else {
                        x
                    }
                } else {
                    d
                }
            })
            .sum();
        matches!(sum % 10, 0)
    }

    #[test]
    fn keeps_bin_length_and_luhn() {
        assert!(luhn_valid("4539 1488 0343 6467"));
        let s = strategy("credit_card", "");
        for v in [
            "4539 1488 0343 6467",
            "5500-0000-0000-0004",
            "378282246310005",
            "4111111111111111",
        ] {
            let out = keyed(&s, "text", v);
            assert!(luhn_valid(&out), "{v} -> {out}");
            assert_eq!(out.len(), v.len());
            assert_eq!(
                out[..7].replace(['-', ' '], "")[..6],
                v[..7].replace(['-', ' '], "")[..6]
            );
            assert_ne!(out, v);
            assert_eq!(out, keyed(&s, "text", v));
        }
    }

    #[test]
    fn many_numbers_are_all_luhn_valid() {
        let s = strategy("credit_card", "");
        for i in 0..200u64 {
            let v = format!("4{:015}", i * 7919);
            assert!(luhn_valid(&keyed(&s, "text", &v)));
        }
        assert!(try_load("credit_card", "bin: 6", true).is_err());
    }
}
