//! `email_mask` (alias `email_masking`): replace an email address by `<prefix>_<8 hex>@<domain>`.
//!
//! Options: `keep_domain` (bool, default true; false uses `example.com`), `prefix` (string,
//! default `user`). The hex part is an HMAC of the lower-cased address, so the same address
//! always gives the same output under the same key (per run without a key). A value without
//! `@` is treated as a local part and gets `example.com`.

use crate::anonymize::{key::hex, Options, Row};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct EmailMask {
    pub keep_domain: bool,
    pub prefix: String,
}

impl EmailMask {
    pub fn load(o: &mut Options) -> Result<Self> {
        Ok(EmailMask {
            keep_domain: o.bool("keep_domain", true)?,
            prefix: o.string("prefix")?.unwrap_or_else(|| "user".into()),
        })
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let lower = value.trim().to_lowercase();
        let domain = match lower.rsplit_once('@') {
            Some((_, d)) if self.keep_domain && !d.is_empty() => d,
            _ => "example.com",
        };
        let tag = hex(&row.key().mac("email_mask", &lower)[..4]);
        Some(format!("{}_{tag}@{domain}", self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    #[test]
    fn keeps_domain_and_is_stable() {
        let s = strategy("email_mask", "");
        let a = keyed(&s, "text", "Alice@Corp.com");
        assert_eq!(a, keyed(&s, "text", "alice@corp.com"));
        assert!(a.starts_with("user_") && a.ends_with("@corp.com"), "{a}");
        assert_eq!(a.len(), "user_".len() + 8 + "@corp.com".len());
        assert_ne!(a, keyed(&s, "text", "bob@corp.com"));
    }

    #[test]
    fn options_and_alias() {
        let s = strategy("email_masking", "keep_domain: false\nprefix: anon");
        let a = keyed(&s, "text", "alice@corp.com");
        assert!(a.starts_with("anon_") && a.ends_with("@example.com"), "{a}");
        assert!(keyed(&s, "text", "no-at-sign").ends_with("@example.com"));
    }

    #[test]
    fn different_keys_give_different_outputs() {
        let s = strategy("email_mask", "");
        let k2 = crate::anonymize::Key::new("other");
        let other = s.apply(Some("a@b.c"), &row("text", Some(&k2))).unwrap();
        assert_ne!(other, keyed(&s, "text", "a@b.c"));
    }
}
