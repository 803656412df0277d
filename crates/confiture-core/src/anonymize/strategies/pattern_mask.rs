//! `pattern_mask` (alias `pattern_masking`): mask a value position by position.
//!
//! Options: `pattern` (string, required). Each pattern character consumes one character of the
//! value: `*` outputs `*` (masked), `#` outputs the value's character (kept), any other
//! character is output literally. Value characters beyond the end of the pattern are masked
//! with `*`; a pattern longer than the value stops where the value ends.
//! Example: `***-**-####` turns `123-45-6789` into `***-**-6789`.

use crate::anonymize::Options;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct PatternMask {
    pub pattern: String,
}

impl PatternMask {
    pub fn load(o: &mut Options) -> Result<Self> {
        let (pattern, node) = o.required_string("pattern")?;
        if pattern.is_empty() {
            let path = o.path_of("pattern");
            return Err(o.invalid(node, format!("'{path}' must not be empty")));
        }
        Ok(PatternMask { pattern })
    }

    pub fn apply(&self, value: &str) -> Option<String> {
        let mut pattern = self.pattern.chars();
        let out = value
            .chars()
            .map(|c| match pattern.next() {
                Some('#') => c,
                Some('*') | None => '*',
                Some(literal) => literal,
            })
            .collect();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    #[test]
    fn masks_keeps_and_writes_literals() {
        let s = strategy("pattern_mask", "pattern: '***-**-####'");
        assert_eq!(keyed(&s, "text", "123-45-6789"), "***-**-6789");
        assert_eq!(keyed(&s, "text", "123456789012"), "***-**-8901*");
        assert_eq!(keyed(&s, "text", "12"), "**");
        let s = strategy("pattern_masking", "pattern: '#X*'");
        assert_eq!(keyed(&s, "text", "abc"), "aX*");
    }

    #[test]
    fn pattern_is_required() {
        assert_eq!(
            try_load("pattern_mask", "", true).unwrap_err().code.id,
            "CONFIG_011"
        );
        assert_eq!(
            try_load("pattern_mask", "pattern: ''", true)
                .unwrap_err()
                .code
                .id,
            "CONFIG_010"
        );
    }
}
