//! The secret key of deterministic strategies, and HMAC-SHA256 (RFC 2104) over it.
//!
//! A keyed strategy maps the same input to the same output on every run with the same key
//! (so joins across tables survive anonymization) while the key keeps the mapping unguessable.
//! Without a key, strategies that only *may* be deterministic use [`Key::process`], a key drawn
//! once per process: stable within one run, different across runs.

use std::sync::OnceLock;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Secret salt bytes, and the HMAC state keyed with them. `Debug` never prints them.
#[derive(Clone)]
pub struct Key {
    bytes: Vec<u8>,
    /// Keying hashes the padded key blocks; done once here, each [`Key::mac`] clones the state
    /// (a strategy calls it for every value of millions of rows).
    keyed: HmacSha256,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Key {}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Key {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        let bytes = bytes.into();
        let keyed = HmacSha256::new_from_slice(&bytes).expect("HMAC takes keys of any length");
        Key { bytes, keyed }
    }

    /// A key drawn once per process (from the std hasher's random seed, the time and the pid).
    pub fn process() -> &'static Key {
        static NONCE: OnceLock<Key> = OnceLock::new();
        NONCE.get_or_init(|| {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            h.write_u128(now);
            h.write_u32(std::process::id());
            let mut seed = h.finish().to_le_bytes().to_vec();
            seed.extend_from_slice(&now.to_le_bytes());
            Key::new(Sha256::digest(&seed).to_vec())
        })
    }

    /// HMAC-SHA256 of `domain`, a zero byte and `input`. `domain` separates strategies so that
    /// the same value hashed by two strategies gives unrelated outputs.
    pub fn mac(&self, domain: &str, input: &str) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A number in `0..n` (n > 0) derived from [`Key::mac`]; the bias is at most n / 2^64.
    pub fn pick(&self, domain: &str, input: &str, n: u64) -> u64 {
        let mac = self.mac(domain, input);
        u64::from_be_bytes(mac[..8].try_into().expect("8 bytes")) % n
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc4231_vectors() {
        // Test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block size.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex(&mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", Key::new("secret")), "Key(<redacted>)");
    }

    #[test]
    fn process_key_is_stable_and_domains_separate() {
        assert_eq!(Key::process(), Key::process());
        let k = Key::new("k");
        assert_ne!(k.mac("a", "x"), k.mac("b", "x"));
        assert!(k.pick("a", "x", 7) < 7);
    }

    #[test]
    fn mac_is_the_hmac_of_domain_zero_input() {
        let k = Key::new(vec![0xaa; 131]);
        assert_eq!(
            k.mac("email_mask", "alice@example.com"),
            hmac_sha256(&[0xaa; 131], b"email_mask\0alice@example.com")
        );
        // The keyed state is cloned, never consumed: the same answer twice.
        assert_eq!(k.mac("d", "v"), k.mac("d", "v"));
    }
}
