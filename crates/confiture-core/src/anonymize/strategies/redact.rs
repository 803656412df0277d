//! `redact`: replace the value with a constant.
//!
//! Options: `with` (string, default `[REDACTED]`). Meant for text columns: the constant must be
//! a valid value of the column's type.

use crate::anonymize::Options;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Redact {
    pub with: String,
}

impl Redact {
    pub fn load(o: &mut Options) -> Result<Self> {
        Ok(Redact {
            with: o.string("with")?.unwrap_or_else(|| "[REDACTED]".into()),
        })
    }

    pub fn apply(&self, _value: &str) -> Option<String> {
        Some(self.with.clone())
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    #[test]
    fn default_and_custom_constant() {
        assert_eq!(
            keyed(&strategy("redact", ""), "text", "secret"),
            "[REDACTED]"
        );
        assert_eq!(
            keyed(&strategy("redact", "with: '***'"), "text", "secret"),
            "***"
        );
    }

    #[test]
    fn with_must_be_a_string() {
        let err = try_load("redact", "with: [1]", true).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_006");
    }
}
