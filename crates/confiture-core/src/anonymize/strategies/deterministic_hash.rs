//! `deterministic_hash`: replace the value by a keyed HMAC of it, keeping the column's type.
//!
//! Options: `length` (1..=64, default 16): hex characters of the output for text columns.
//! Requires a key (`salt: ${ANON_SALT}`): the same input always maps to the same output, so
//! foreign keys stay joinable. By column type:
//! - `uuid`: a version-4-shaped uuid;
//! - `smallint`, `integer`, `bigint`, `numeric`: a non-negative integer within the type's range
//!   (`numeric` uses the `bigint` range);
//! - any other type: `length` lower-case hex characters (meant for text types).

use crate::anonymize::{key::hex, Options, Row};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct DeterministicHash {
    pub length: usize,
}

impl DeterministicHash {
    pub fn load(o: &mut Options) -> Result<Self> {
        o.require_key("deterministic_hash")?;
        let length = o.u64("length", 16, 64)?;
        if length == 0 {
            let node = o.get("length").expect("length was given");
            let path = o.path_of("length");
            return Err(o.invalid(node, format!("'{path}' must be at least 1")));
        }
        Ok(DeterministicHash {
            length: length as usize,
        })
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let mac = row.key().mac("deterministic_hash", value);
        let first8 = u64::from_be_bytes(mac[..8].try_into().expect("8 bytes"));
        Some(match row.column_type {
            "uuid" => {
                let mut b: [u8; 16] = mac[..16].try_into().expect("16 bytes");
                b[6] = (b[6] & 0x0f) | 0x40;
                b[8] = (b[8] & 0x3f) | 0x80;
                let h = hex(&b);
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            }
            "smallint" => (first8 % (i16::MAX as u64 + 1)).to_string(),
            "integer" => (first8 % (i32::MAX as u64 + 1)).to_string(),
            "bigint" | "numeric" => (first8 & i64::MAX as u64).to_string(),
            _ => hex(&mac)[..self.length].to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    fn is_uuid(s: &str) -> bool {
        let parts: Vec<&str> = s.split('-').collect();
        parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
            && parts.iter().all(|p| {
                p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            })
    }

    #[test]
    fn text_is_hex_of_length_and_stable() {
        let s = strategy("deterministic_hash", "length: 10");
        let a = keyed(&s, "text", "alice");
        assert_eq!(a.len(), 10);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, keyed(&s, "text", "alice"));
        assert_ne!(a, keyed(&s, "text", "alicf"));
        assert_eq!(
            keyed(&strategy("deterministic_hash", ""), "text", "alice").len(),
            16
        );
    }

    #[test]
    fn exact_output_under_a_fixed_key() {
        // HMAC-SHA256("test-key", "deterministic_hash\0alice"), first 16 hex characters.
        let mac = crate::anonymize::key::hmac_sha256(b"test-key", b"deterministic_hash\0alice");
        let expected = crate::anonymize::key::hex(&mac)[..16].to_string();
        let s = strategy("deterministic_hash", "");
        assert_eq!(keyed(&s, "character varying", "alice"), expected);
    }

    #[test]
    fn uuid_stays_a_uuid() {
        let s = strategy("deterministic_hash", "");
        let v = "6f1c1a52-5c7b-4a34-9b0e-8c1d2e3f4a5b";
        let out = keyed(&s, "uuid", v);
        assert!(is_uuid(&out), "{out}");
        assert_ne!(out, v);
        assert_eq!(&out[14..15], "4");
        assert!("89ab".contains(&out[19..20]));
        assert_eq!(out, keyed(&s, "uuid", v));
    }

    #[test]
    fn integers_stay_in_range() {
        let s = strategy("deterministic_hash", "");
        for i in 0..50 {
            let v = i.to_string();
            let small: i64 = keyed(&s, "smallint", &v).parse().unwrap();
            assert!((0..=i16::MAX as i64).contains(&small));
            let int: i64 = keyed(&s, "integer", &v).parse().unwrap();
            assert!((0..=i32::MAX as i64).contains(&int));
            let big: i64 = keyed(&s, "bigint", &v).parse().unwrap();
            assert!(big >= 0);
        }
        assert_ne!(keyed(&s, "integer", "1"), keyed(&s, "integer", "2"));
    }

    #[test]
    fn needs_a_key_and_a_sane_length() {
        let err = try_load("deterministic_hash", "", false).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_010");
        assert!(err.hint.clone().unwrap().contains("salt: ${ANON_SALT}"));
        assert_eq!(
            try_load("deterministic_hash", "length: 0", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_010"
        );
        assert_eq!(
            try_load("deterministic_hash", "length: 65", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_010"
        );
    }
}
