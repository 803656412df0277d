//! The order of files inside one `include_dirs` entry: `alphabetical` (byte order of the path),
//! `natural` (digit runs compare as numbers, so `2_x` < `10_x` and `01_write` < `019_seed`),
//! `hex` (a hexadecimal prefix before the first `_` of each path component is a number).
//!
//! Paths compare component by component, so a directory sorts as a unit with its files.

use std::cmp::Ordering;

use crate::config::environment::SortMode;

/// Compare two relative paths (components separated by `/`) under `mode`.
pub fn compare_paths(mode: SortMode, a: &str, b: &str) -> Ordering {
    let mut left = a.split('/');
    let mut right = b.split('/');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = compare_components(mode, x, y);
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

fn compare_components(mode: SortMode, a: &str, b: &str) -> Ordering {
    let ord = match mode {
        SortMode::Alphabetical => Ordering::Equal,
        SortMode::Natural => natural(a, b),
        SortMode::Hex => match (hex_prefix(a), hex_prefix(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            // Numbered entries come before unnumbered ones.
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    };
    // Ties (and alphabetical mode) fall back to byte order, so the order is total.
    ord.then_with(|| a.cmp(b))
}

/// The value of the hexadecimal run before the first `_`, if it has at least one decimal digit
/// (so `add_column.sql` stays a word) and fits in 128 bits.
pub fn hex_prefix(component: &str) -> Option<u128> {
    let prefix = component.split_once('_')?.0;
    if prefix.is_empty()
        || prefix.len() > 32
        || !prefix.bytes().all(|b| b.is_ascii_hexdigit())
        || !prefix.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    u128::from_str_radix(prefix, 16).ok()
}

/// Natural order: runs of ASCII digits compare by value (then shorter first, so `01` < `001`),
/// everything else byte by byte.
fn natural(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let ord = compare_digit_runs(&a[si..i], &b[sj..j]);
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn compare_digit_runs(x: &[u8], y: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&d| d == b'0').count() };
    let (tx, ty) = (&x[strip(x)..], &y[strip(y)..]);
    tx.len()
        .cmp(&ty.len())
        .then_with(|| tx.cmp(ty))
        .then_with(|| x.len().cmp(&y.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mode: SortMode, paths: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| compare_paths(mode, a, b));
        v
    }

    #[test]
    fn alphabetical_is_byte_order_per_component() {
        assert_eq!(
            sorted(
                SortMode::Alphabetical,
                &[
                    "b.sql",
                    "a/z.sql",
                    "a.sql",
                    "019_seed/x.sql",
                    "01_write/x.sql"
                ]
            ),
            vec![
                "019_seed/x.sql",
                "01_write/x.sql",
                "a/z.sql",
                "a.sql",
                "b.sql"
            ]
        );
    }

    #[test]
    fn natural_compares_numbers_by_value() {
        assert_eq!(
            sorted(
                SortMode::Natural,
                &[
                    "10_x.sql",
                    "2_x.sql",
                    "019_prep_seed/a.sql",
                    "01_write_side/a.sql",
                    "1_a.sql"
                ]
            ),
            vec![
                "1_a.sql",
                "01_write_side/a.sql",
                "2_x.sql",
                "10_x.sql",
                "019_prep_seed/a.sql"
            ]
        );
    }

    #[test]
    fn hex_reads_prefixes_on_every_component() {
        assert_eq!(
            sorted(
                SortMode::Hex,
                &[
                    "0a_x/1.sql",
                    "09_y/1.sql",
                    "readme_notes.sql",
                    "1f_z.sql",
                    "add_column.sql"
                ]
            ),
            vec![
                "09_y/1.sql",
                "0a_x/1.sql",
                "1f_z.sql",
                "add_column.sql",
                "readme_notes.sql"
            ]
        );
        assert_eq!(hex_prefix("add_column"), None);
        assert_eq!(hex_prefix("0a1_x"), Some(0xa1));
    }
}
