//! `partial`: keep the first and last characters, mask the middle.
//!
//! Options: `keep_first` (default 0), `keep_last` (default 0), `mask` (one character, default
//! `*`). The length is kept. When the kept characters would cover the whole value, everything
//! is masked (the output never equals the input).

use crate::anonymize::Options;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    pub keep_first: usize,
    pub keep_last: usize,
    pub mask: char,
}

impl Partial {
    pub fn load(o: &mut Options) -> Result<Self> {
        Ok(Partial {
            keep_first: o.u64("keep_first", 0, 1 << 20)? as usize,
            keep_last: o.u64("keep_last", 0, 1 << 20)? as usize,
            mask: o.char("mask", '*')?,
        })
    }

    pub fn apply(&self, value: &str) -> Option<String> {
        let n = value.chars().count();
        let (first, last) = if self.keep_first + self.keep_last >= n {
            (0, 0)
        } else {
            (self.keep_first, self.keep_last)
        };
        let out = value
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i < first || i >= n - last {
                    c
                } else {
                    self.mask
                }
            })
            .collect();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::anonymize::testutil::*;

    #[test]
    fn keeps_ends_and_length() {
        let s = strategy("partial", "keep_first: 2\nkeep_last: 3\nmask: x");
        assert_eq!(keyed(&s, "text", "0612345678"), "06xxxxx678");
        assert_eq!(keyed(&s, "text", "Zoé Lefèvre"), "Zoxxxxxxvre");
        assert_eq!(keyed(&strategy("partial", ""), "text", "abc"), "***");
    }

    #[test]
    fn short_values_are_fully_masked() {
        let s = strategy("partial", "keep_first: 2\nkeep_last: 2");
        assert_eq!(keyed(&s, "text", "abcd"), "****");
        assert_eq!(keyed(&s, "text", ""), "");
    }

    #[test]
    fn mask_must_be_one_character() {
        assert_eq!(
            try_load("partial", "mask: ab", true).unwrap_err().code.id,
            "CONFIG_010"
        );
    }
}
