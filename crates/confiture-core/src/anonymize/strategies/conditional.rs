//! `conditional`: choose a strategy per row from the row's other columns.
//!
//! Options: `when` (required): an expression; `then` and `else` (both required, so that no
//! row falls through un-anonymized by omission): strategies as a name or a mapping
//! `{type: ..., <options>}`.
//!
//! The expression language is deliberately tiny and safe (no function calls, no SQL):
//!
//! ```text
//! expr  := conj ("or" conj)*
//! conj  := cmp ("and" cmp)*
//! cmp   := "row." column ("==" | "!=") literal
//! literal := true | false | null | 'string' ('' for a quote) | number
//! ```
//!
//! `and` binds tighter than `or`; there are no parentheses. Columns are compared through their
//! TEXT representation: `true`/`false` match `t`/`true`/`f`/`false`, numbers compare
//! numerically, strings exactly. A NULL column equals only `null` (so `row.x != 'a'` holds for
//! NULL), and a column absent from the row counts as NULL; [`Conditional::columns`] lists the
//! columns the expression reads so the sync layer can check they exist.

use crate::anonymize::{Options, Row, Strategy};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct Conditional {
    /// Disjunction of conjunctions of comparisons.
    pub when: Vec<Vec<Comparison>>,
    pub then: Strategy,
    pub otherwise: Strategy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub column: String,
    pub equal: bool,
    pub literal: Literal,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Bool(bool),
    Null,
    Str(String),
    Num(f64),
}

impl Conditional {
    pub fn load(o: &mut Options) -> Result<Self> {
        let (text, node) = o.required_string("when")?;
        let when = parse(&text).map_err(|msg| {
            let path = o.path_of("when");
            o.invalid(node, format!("'{path}': {msg}"))
                .with_hint("write comparisons like row.is_internal == true, joined by and / or")
        })?;
        let then = o.strategy("then")?.ok_or_else(|| o.missing("then"))?;
        let otherwise = o.strategy("else")?.ok_or_else(|| o.missing("else"))?;
        Ok(Conditional {
            when,
            then,
            otherwise,
        })
    }

    pub fn apply(&self, value: Option<&str>, row: &Row) -> Option<String> {
        if self.matches(row) {
            self.then.apply(value, row)
        } else {
            self.otherwise.apply(value, row)
        }
    }

    /// Whether the row satisfies `when`.
    pub fn matches(&self, row: &Row) -> bool {
        self.when
            .iter()
            .any(|conj| conj.iter().all(|c| c.holds(row.get(&c.column).flatten())))
    }

    /// The columns `when` reads.
    pub fn columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = self
            .when
            .iter()
            .flatten()
            .map(|c| c.column.as_str())
            .collect();
        cols.sort_unstable();
        cols.dedup();
        cols
    }
}

impl Comparison {
    fn holds(&self, value: Option<&str>) -> bool {
        let eq = match (&self.literal, value) {
            (Literal::Null, v) => v.is_none(),
            (_, None) => false,
            (Literal::Bool(b), Some(v)) => match v {
                "t" | "true" | "TRUE" | "True" => *b,
                "f" | "false" | "FALSE" | "False" => !*b,
                _ => false,
            },
            (Literal::Str(s), Some(v)) => s == v,
            (Literal::Num(n), Some(v)) => v.trim().parse::<f64>().is_ok_and(|x| x == *n),
        };
        eq == self.equal
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Op(bool),
    Str(String),
    Num(f64),
}

fn tokenize(text: &str) -> std::result::Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '=' || c == '!' {
            if chars.get(i + 1) != Some(&'=') {
                return Err(format!("expected '==' or '!=' at character {}", i + 1));
            }
            out.push(Token::Op(c == '='));
            i += 2;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!(
                            "unterminated string starting at character {}",
                            start + 1
                        ))
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Token::Str(s));
        } else if c.is_ascii_digit() || c == '-' {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let n = s.parse::<f64>().map_err(|_| format!("bad number '{s}'"))?;
            out.push(Token::Num(n));
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.'))
            {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected '{c}' at character {}", i + 1));
        }
    }
    Ok(out)
}

fn parse(text: &str) -> std::result::Result<Vec<Vec<Comparison>>, String> {
    let tokens = tokenize(text)?;
    let mut it = tokens.into_iter().peekable();
    let mut disj = vec![Vec::new()];
    loop {
        let column = match it.next() {
            Some(Token::Word(w)) => match w.strip_prefix("row.") {
                Some(col) if !col.is_empty() && !col.contains('.') => col.to_string(),
                _ => return Err(format!("expected row.<column>, found '{w}'")),
            },
            Some(t) => return Err(format!("expected row.<column>, found {t:?}")),
            None => return Err("expected row.<column>, found the end".into()),
        };
        let equal = match it.next() {
            Some(Token::Op(eq)) => eq,
            _ => return Err(format!("expected '==' or '!=' after row.{column}")),
        };
        let literal = match it.next() {
            Some(Token::Word(w)) if w == "true" => Literal::Bool(true),
            Some(Token::Word(w)) if w == "false" => Literal::Bool(false),
            Some(Token::Word(w)) if w == "null" => Literal::Null,
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Num(n)) => Literal::Num(n),
            _ => {
                return Err(format!(
                    "expected true, false, null, a 'string' or a number after row.{column}"
                ))
            }
        };
        disj.last_mut().expect("non-empty").push(Comparison {
            column,
            equal,
            literal,
        });
        match it.next() {
            None => return Ok(disj),
            Some(Token::Word(w)) if w == "and" => {}
            Some(Token::Word(w)) if w == "or" => disj.push(Vec::new()),
            Some(t) => return Err(format!("expected 'and', 'or' or the end, found {t:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::testutil::*;
    use crate::anonymize::Key;

    fn apply_with(s: &Strategy, cols: &[(&str, Option<&str>)], value: &str) -> Option<String> {
        let key = Key::new("k");
        let row = Row {
            column_type: "text",
            columns: cols,
            key: Some(&key),
        };
        s.apply(Some(value), &row)
    }

    #[test]
    fn picks_the_branch_per_row() {
        let s = strategy(
            "conditional",
            "when: row.is_internal == true\nthen: preserve\nelse: {type: redact, with: gone}",
        );
        assert_eq!(
            apply_with(&s, &[("is_internal", Some("t"))], "x").as_deref(),
            Some("x")
        );
        assert_eq!(
            apply_with(&s, &[("is_internal", Some("f"))], "x").as_deref(),
            Some("gone")
        );
        assert_eq!(
            apply_with(&s, &[("is_internal", None)], "x").as_deref(),
            Some("gone")
        );
        assert_eq!(apply_with(&s, &[], "x").as_deref(), Some("gone"));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let s = strategy(
            "conditional",
            "when: \"row.a == 'it''s' and row.b != null or row.c == 2.5\"\nthen: preserve\nelse: \"null\"",
        );
        let Strategy::Conditional(c) = &s else {
            panic!()
        };
        assert_eq!(c.columns(), ["a", "b", "c"]);
        assert_eq!(
            apply_with(&s, &[("a", Some("it's")), ("b", Some("1"))], "v").as_deref(),
            Some("v")
        );
        assert_eq!(
            apply_with(&s, &[("a", Some("it's")), ("b", None)], "v"),
            None
        );
        assert_eq!(
            apply_with(&s, &[("c", Some("2.50"))], "v").as_deref(),
            Some("v")
        );
        assert_eq!(
            apply_with(&s, &[("a", Some("x")), ("c", Some("3"))], "v"),
            None
        );
    }

    #[test]
    fn rejects_anything_else() {
        for when in [
            "row.a = 1",
            "a == 1",
            "row.a == b",
            "row.a == 1 xor row.b == 2",
            "row.a == 'open",
            "(row.a == 1)",
            "row.a == 1 and",
            "row.a.b == 1",
        ] {
            let opts = format!("when: \"{when}\"\nthen: preserve\nelse: redact");
            let err = try_load("conditional", &opts, true).unwrap_err();
            assert_eq!(err.code.id, "CONFIG_010", "{when}");
            assert!(
                err.message.starts_with("'columns.c.when': "),
                "{}",
                err.message
            );
        }
        let err = try_load("conditional", "when: row.a == 1\nthen: preserve", true).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_011");
        assert_eq!(err.message, "'columns.c.else' is required");
    }

    #[test]
    fn nested_key_requirements_propagate() {
        let err = try_load(
            "conditional",
            "when: row.a == 1\nthen: deterministic_hash\nelse: redact",
            false,
        )
        .unwrap_err();
        assert!(
            err.message.contains("needs a secret key"),
            "{}",
            err.message
        );
    }
}
