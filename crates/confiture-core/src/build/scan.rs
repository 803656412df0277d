//! A lexical scanner for SQL files: splits a file into statements the way `psql` does and
//! finds files that end inside a comment, a string, a quoted identifier or a dollar-quoted body.
//!
//! It knows only what decides where a statement ends: `--` and nested `/* */` comments,
//! `'…'` / `E'…'` strings, `"…"` identifiers, `$tag$…$tag$` bodies, parentheses, and the
//! `BEGIN … END` of SQL-standard routine bodies (`CREATE FUNCTION … BEGIN ATOMIC … END`), which
//! `psql` tracks with the same heuristic. Everything else is left to the server.

use std::fmt;

/// One statement of a file: byte range from its first token to its terminating `;` (inclusive),
/// and the 1-based line of its first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    pub start: usize,
    pub end: usize,
    pub line: usize,
}

/// The construct a file ended inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Construct {
    BlockComment,
    String,
    QuotedIdentifier,
    DollarQuote(String),
    /// A statement with no terminating semicolon at the end of the file.
    Statement,
}

impl fmt::Display for Construct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Construct::BlockComment => write!(f, "block comment /* … */"),
            Construct::String => write!(f, "quoted string '…'"),
            Construct::QuotedIdentifier => write!(f, "quoted identifier \"…\""),
            Construct::DollarQuote(tag) => write!(f, "dollar-quoted body {tag}…{tag}"),
            Construct::Statement => write!(f, "statement without a terminating semicolon"),
        }
    }
}

/// A file that does not stand alone: it ends inside `construct`, opened at `line`:`column` (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unterminated {
    pub construct: Construct,
    pub line: usize,
    pub column: usize,
}

/// Split `text` into statements. Comments and whitespace between statements belong to no
/// statement; an empty statement (`;` alone) is skipped.
pub fn split(text: &str) -> Result<Vec<Statement>, Unterminated> {
    Scanner::new(text).run()
}

/// 1-based column (in characters) of byte `offset` on its line.
pub fn column_of(text: &str, offset: usize) -> usize {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..offset].chars().count() + 1
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    statements: Vec<Statement>,
    // State of the statement being scanned.
    start: Option<(usize, usize)>,
    paren_depth: usize,
    begin_depth: usize,
    words: usize,
    routine_header: [u8; 4],
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            statements: Vec::new(),
            start: None,
            paren_depth: 0,
            begin_depth: 0,
            words: 0,
            routine_header: [0; 4],
        }
    }

    fn unterminated(&self, construct: Construct, offset: usize, line: usize) -> Unterminated {
        Unterminated {
            construct,
            line,
            column: column_of(self.text, offset),
        }
    }

    fn run(mut self) -> Result<Vec<Statement>, Unterminated> {
        if self.text.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            match b {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b'\x0c' => self.pos += 1,
                b'-' if self.peek(1) == Some(b'-') => self.skip_line_comment(),
                b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment()?,
                b';' => {
                    self.mark_token();
                    self.pos += 1;
                    if self.paren_depth == 0 && self.begin_depth == 0 {
                        self.finish_statement();
                    }
                }
                b'\'' => {
                    self.mark_token();
                    let escapes = self.escape_string_prefix();
                    self.skip_quoted(b'\'', escapes, Construct::String)?;
                }
                b'"' => {
                    self.mark_token();
                    self.skip_quoted(b'"', false, Construct::QuotedIdentifier)?;
                }
                b'$' => {
                    self.mark_token();
                    self.dollar()?;
                }
                b'(' => {
                    self.mark_token();
                    self.paren_depth += 1;
                    self.pos += 1;
                }
                b')' => {
                    self.mark_token();
                    self.paren_depth = self.paren_depth.saturating_sub(1);
                    self.pos += 1;
                }
                _ if is_ident_start(b) => {
                    self.mark_token();
                    self.word();
                }
                _ => {
                    self.mark_token();
                    self.pos += 1;
                }
            }
        }
        if let Some((offset, line)) = self.start {
            return Err(self.unterminated(Construct::Statement, offset, line));
        }
        Ok(self.statements)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn mark_token(&mut self) {
        if self.start.is_none() {
            self.start = Some((self.pos, self.line));
        }
    }

    fn finish_statement(&mut self) {
        let (start, line) = self
            .start
            .take()
            .expect("a ';' marks the statement started");
        // A lone ';' is an empty statement: nothing to run.
        if self.pos - start > 1 {
            self.statements.push(Statement {
                start,
                end: self.pos,
                line,
            });
        }
        self.paren_depth = 0;
        self.begin_depth = 0;
        self.words = 0;
        self.routine_header = [0; 4];
    }

    fn skip_line_comment(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn skip_block_comment(&mut self) -> Result<(), Unterminated> {
        let (open_offset, open_line) = (self.pos, self.line);
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            match (self.bytes[self.pos], self.peek(1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                (b'\n', _) => {
                    self.line += 1;
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
        Err(self.unterminated(Construct::BlockComment, open_offset, open_line))
    }

    /// Whether the quote at `pos` opens an `E'…'` string, where backslash escapes the quote.
    fn escape_string_prefix(&self) -> bool {
        if self.pos == 0 || !matches!(self.bytes[self.pos - 1], b'e' | b'E') {
            return false;
        }
        self.pos < 2 || !is_ident_char(self.bytes[self.pos - 2])
    }

    fn skip_quoted(
        &mut self,
        quote: u8,
        backslash_escapes: bool,
        construct: Construct,
    ) -> Result<(), Unterminated> {
        let (open_offset, open_line) = (self.pos, self.line);
        self.pos += 1;
        while self.pos < self.bytes.len() {
            let b = self.bytes[self.pos];
            if b == b'\n' {
                self.line += 1;
            } else if b == b'\\' && backslash_escapes {
                if self.peek(1) == Some(b'\n') {
                    self.line += 1;
                }
                self.pos += 2;
                continue;
            } else if b == quote {
                if self.peek(1) == Some(quote) {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return Ok(());
            }
            self.pos += 1;
        }
        Err(self.unterminated(construct, open_offset, open_line))
    }

    /// `$tag$` opens a dollar-quoted body; `$1` is a parameter; a `$` inside an identifier was
    /// consumed by `word`.
    fn dollar(&mut self) -> Result<(), Unterminated> {
        let open = self.pos;
        let mut end = open + 1;
        if end < self.bytes.len() && is_ident_start(self.bytes[end]) {
            while end < self.bytes.len()
                && is_ident_char(self.bytes[end])
                && self.bytes[end] != b'$'
            {
                end += 1;
            }
        }
        if self.bytes.get(end) != Some(&b'$') {
            self.pos += 1;
            return Ok(());
        }
        let tag = &self.text[open..=end];
        let open_line = self.line;
        self.pos = end + 1;
        match self.text[self.pos..].find(tag) {
            Some(found) => {
                let body_end = self.pos + found;
                self.line += self.bytes[self.pos..body_end]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                self.pos = body_end + tag.len();
                Ok(())
            }
            None => {
                Err(self.unterminated(Construct::DollarQuote(tag.to_string()), open, open_line))
            }
        }
    }

    /// An identifier or keyword. Tracks `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN … END`
    /// so that the semicolons of a SQL-standard body do not end the statement (psql's rule).
    fn word(&mut self) {
        let start = self.pos;
        while self.pos < self.bytes.len() && is_ident_char(self.bytes[self.pos]) {
            self.pos += 1;
        }
        let word = &self.text[start..self.pos];
        if self.words < self.routine_header.len() {
            let first = word.as_bytes()[0].to_ascii_lowercase();
            let tracked = ["create", "function", "procedure", "or", "replace"]
                .iter()
                .any(|k| word.eq_ignore_ascii_case(k));
            self.routine_header[self.words] = if tracked { first } else { 0 };
        }
        self.words += 1;
        let h = self.routine_header;
        let in_routine = h[0] == b'c'
            && (matches!(h[1], b'f' | b'p')
                || (h[1] == b'o' && h[2] == b'r' && matches!(h[3], b'f' | b'p')));
        if !in_routine || self.paren_depth != 0 {
            return;
        }
        if word.eq_ignore_ascii_case("begin") {
            self.begin_depth += 1;
        } else if word.eq_ignore_ascii_case("case") {
            if self.begin_depth >= 1 {
                self.begin_depth += 1;
            }
        } else if word.eq_ignore_ascii_case("end") {
            self.begin_depth = self.begin_depth.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql)
            .unwrap()
            .iter()
            .map(|s| &sql[s.start..s.end])
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_and_comments() {
        let sql = "-- head; comment\nCREATE TABLE a (x text default ';');\n/* ; */ INSERT INTO a VALUES ($$;$$);\n";
        assert_eq!(
            texts(sql),
            vec![
                "CREATE TABLE a (x text default ';');",
                "INSERT INTO a VALUES ($$;$$);"
            ]
        );
        let lines: Vec<usize> = split(sql).unwrap().iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![2, 3]);
    }

    #[test]
    fn dollar_tags_params_and_identifiers_with_dollars() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $x$ $body$ LANGUAGE sql;\nSELECT $1, a$b FROM t;";
        assert_eq!(texts(sql).len(), 2);
    }

    #[test]
    fn escape_strings_and_doubled_quotes() {
        let sql = "SELECT E'it\\'s;', 'it''s;', \"a\"\"b;\";\nSELECT 2;";
        assert_eq!(texts(sql).len(), 2);
    }

    #[test]
    fn nested_block_comments() {
        assert_eq!(texts("/* a /* b */ ; */ SELECT 1;").len(), 1);
    }

    #[test]
    fn begin_atomic_bodies_keep_their_semicolons() {
        let sql = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END;\nSELECT 3;";
        assert_eq!(texts(sql).len(), 2);
        // A transaction BEGIN is not a routine body.
        assert_eq!(texts("BEGIN; SELECT 1; END;").len(), 3);
    }

    #[test]
    fn unterminated_constructs_name_the_opening_line() {
        let cases = [
            ("SELECT 1;\n/* open\n\n", Construct::BlockComment, 2, 1),
            ("SELECT 1;\nSELECT 'abc\n;\n", Construct::String, 2, 8),
            ("SELECT \"x;\n", Construct::QuotedIdentifier, 1, 8),
            (
                "SELECT 1;\n\nCREATE FUNCTION f() AS $fn$\nBEGIN\n",
                Construct::DollarQuote("$fn$".into()),
                3,
                24,
            ),
            (
                "SELECT 1;\n  SELECT 2\n-- trailing\n",
                Construct::Statement,
                2,
                3,
            ),
        ];
        for (sql, construct, line, column) in cases {
            let err = split(sql).unwrap_err();
            assert_eq!(
                err,
                Unterminated {
                    construct,
                    line,
                    column
                },
                "{sql:?}"
            );
        }
    }

    #[test]
    fn empty_statements_and_trailing_comments() {
        assert_eq!(texts(";;\nSELECT 1;;\n-- end\n"), vec!["SELECT 1;"]);
        assert!(split("").unwrap().is_empty());
    }
}
