//! `conditional`: choose a strategy per row from the row's other columns.
//!
//! Options: `when` (alias `condition`, required): an expression; `then` and `else` (aliases
//! `if_true` and `if_false`; both required, so that no row falls through un-anonymized by
//! omission): strategies as a name, a reference `{strategy: name}` (a profile's named strategy
//! or a built-in one) or a definition `{type: ..., <options>}`.
//!
//! The expression language is deliberately tiny and safe (no function calls, no SQL):
//!
//! ```text
//! expr    := conj ("or" conj)*
//! conj    := cmp ("and" cmp)*
//! cmp     := column ("==" | "!=") literal
//! column  := "row." name | "row['" name "']" | "row[\"" name "\"]"
//! literal := true | false | null | 'string' | "string" | number
//! ```
//!
//! `and` binds tighter than `or`; there are no parentheses. Whitespace, newlines included, is
//! free (a YAML block scalar `condition: |` works). A quote inside a string or a bracketed
//! column name is written twice. `True`, `False` and `None` are accepted for projects written
//! for the Python tool. Columns are compared through their TEXT representation:
//! `true`/`false` match `t`/`true`/`f`/`false`, numbers compare numerically, strings exactly.
//! A NULL column equals only `null` (so `row.x != 'a'` holds for NULL), and a column absent
//! from the row counts as NULL; [`Conditional::columns`] lists the columns the expression reads
//! so the sync layer can check they exist.

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
        let when_key = o.either("when", "condition")?;
        let (text, node) = o.required_string(when_key)?;
        let when = parse(&text).map_err(|msg| {
            let path = o.path_of(when_key);
            o.invalid(node, format!("'{path}': {msg}")).with_hint(
                "write comparisons like row.is_internal == true or row['status'] == 'active', \
                 joined by and / or",
            )
        })?;
        let then_key = o.either("then", "if_true")?;
        let then = o.strategy(then_key)?.ok_or_else(|| o.missing(then_key))?;
        let else_key = o.either("else", "if_false")?;
        let otherwise = o.strategy(else_key)?.ok_or_else(|| o.missing(else_key))?;
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
    /// `row.name` or `row['name']`.
    Column(String),
    Word(String),
    Op(bool),
    Str(String),
    Num(f64),
}

/// The text between quote `q` at `chars[*i]` and the matching one (a doubled quote stands for
/// itself); `*i` ends after the closing quote.
fn quoted(chars: &[char], i: &mut usize) -> std::result::Result<String, String> {
    let (start, q) = (*i, chars[*i]);
    let mut s = String::new();
    *i += 1;
    loop {
        match chars.get(*i) {
            None => {
                return Err(format!(
                    "unterminated string starting at character {}",
                    start + 1
                ))
            }
            Some(&c) if c == q && chars.get(*i + 1) == Some(&q) => {
                s.push(q);
                *i += 2;
            }
            Some(&c) if c == q => {
                *i += 1;
                return Ok(s);
            }
            Some(&c) => {
                s.push(c);
                *i += 1;
            }
        }
    }
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
        } else if c == '\'' || c == '"' {
            out.push(Token::Str(quoted(&chars, &mut i)?));
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
            let word: String = chars[start..i].iter().collect();
            if word == "row" && chars.get(i) == Some(&'[') {
                i += 1;
                if !matches!(chars.get(i), Some('\'' | '"')) {
                    return Err(format!(
                        "expected a quoted column name after 'row[' at character {}",
                        i + 1
                    ));
                }
                let column = quoted(&chars, &mut i)?;
                if chars.get(i) != Some(&']') {
                    return Err(format!("expected ']' at character {}", i + 1));
                }
                i += 1;
                if column.is_empty() {
                    return Err(format!("empty column name at character {}", start + 1));
                }
                out.push(Token::Column(column));
                continue;
            }
            match word.strip_prefix("row.") {
                Some(col) if !col.is_empty() && !col.contains('.') => {
                    out.push(Token::Column(col.to_string()))
                }
                _ => out.push(Token::Word(word)),
            }
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
            Some(Token::Column(c)) => c,
            Some(Token::Word(w)) => {
                return Err(format!(
                    "expected row.<column> or row['<column>'], found '{w}'"
                ))
            }
            Some(t) => return Err(format!("expected row.<column>, found {t:?}")),
            None => return Err("expected row.<column>, found the end".into()),
        };
        let equal = match it.next() {
            Some(Token::Op(eq)) => eq,
            _ => return Err(format!("expected '==' or '!=' after row.{column}")),
        };
        let literal = match it.next() {
            Some(Token::Word(w)) if w == "true" || w == "True" => Literal::Bool(true),
            Some(Token::Word(w)) if w == "false" || w == "False" => Literal::Bool(false),
            Some(Token::Word(w)) if w == "null" || w == "None" => Literal::Null,
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

    #[test]
    fn vision_spelling_condition_if_true_if_false_and_brackets() {
        let s = strategy(
            "conditional",
            "condition: |\n  row['is_internal_customer'] == true\n    and row[\"kind\"] != 'x'\n\
             if_true: {strategy: none}\nif_false: {type: redact, with: gone}\n",
        );
        let Strategy::Conditional(c) = &s else {
            panic!()
        };
        assert_eq!(c.columns(), ["is_internal_customer", "kind"]);
        let internal = [("is_internal_customer", Some("t")), ("kind", Some("a"))];
        assert_eq!(apply_with(&s, &internal, "v").as_deref(), Some("v"));
        let external = [("is_internal_customer", Some("f")), ("kind", Some("a"))];
        assert_eq!(apply_with(&s, &external, "v").as_deref(), Some("gone"));
        let kind_x = [("is_internal_customer", Some("t")), ("kind", Some("x"))];
        assert_eq!(apply_with(&s, &kind_x, "v").as_deref(), Some("gone"));
    }

    #[test]
    fn bracket_columns_and_python_literals() {
        let cases = [
            ("row['it''s'] == None", vec![("it's", None)], true),
            ("row[\"a b\"] == True", vec![("a b", Some("true"))], true),
            (
                "row['a'] == \"say \"\"hi\"\"\"",
                vec![("a", Some("say \"hi\""))],
                true,
            ),
            (
                "row.a == False or row['b'] == 1",
                vec![("b", Some("1"))],
                true,
            ),
            (
                "row.a == False or row['b'] == 1",
                vec![("b", Some("2"))],
                false,
            ),
        ];
        for (when, cols, expected) in cases {
            let s = strategy(
                "conditional",
                &format!(
                    "when: '{}'\nthen: preserve\nelse: 'null'",
                    when.replace('\'', "''")
                ),
            );
            let out = apply_with(&s, &cols, "v");
            assert_eq!(out.is_some(), expected, "{when}");
        }
    }

    #[test]
    fn aliases_are_exclusive_and_brackets_strict() {
        let err = try_load(
            "conditional",
            "when: row.a == 1\ncondition: row.a == 2\nthen: preserve\nelse: redact",
            true,
        )
        .unwrap_err();
        assert_eq!(err.code.id, "CONFIG_010");
        assert_eq!(err.location.clone().unwrap().line, Some(2));
        assert!(
            err.message.contains("'columns.c.condition'"),
            "{}",
            err.message
        );
        let err = try_load(
            "conditional",
            "when: row.a == 1\nthen: preserve\nif_true: redact\nelse: redact",
            true,
        )
        .unwrap_err();
        assert_eq!(err.location.clone().unwrap().line, Some(3));
        let err = try_load("conditional", "when: row.a == 1\nif_true: preserve", true).unwrap_err();
        assert_eq!(err.message, "'columns.c.else' is required");
        for when in [
            "row[a] == 1",
            "row['a' == 1",
            "row[''] == 1",
            "row['a] == 1",
        ] {
            let opts = format!("when: \"{}\"\nthen: preserve\nelse: redact", when);
            let err = try_load("conditional", &opts, true).unwrap_err();
            assert_eq!(err.code.id, "CONFIG_010", "{when}");
        }
    }

    #[test]
    fn sql_expression_cannot_be_a_branch() {
        let err = try_load(
            "conditional",
            "when: row.a == 1\nthen: preserve\nelse:\n  type: sql_expression\n  expression: md5(x)",
            true,
        )
        .unwrap_err();
        assert_eq!(err.code.id, "CONFIG_010");
        assert!(
            err.message.contains("sql_expression can only be"),
            "{}",
            err.message
        );
        assert_eq!(err.location.clone().unwrap().line, Some(4));
    }
}
