//! A lexical scanner for SQL files: splits a file into statements the way `psql` does and
//! finds files that end inside a comment, a string, a quoted identifier or a dollar-quoted body.
//!
//! It knows only what decides where a statement ends: `--` and nested `/* */` comments,
//! `'…'` / `E'…'` strings, `"…"` identifiers, `$tag$…$tag$` bodies, parentheses, and the
//! `BEGIN … END` of SQL-standard routine bodies (`CREATE FUNCTION … BEGIN ATOMIC … END`), which
//! `psql` tracks with the same heuristic. Like `psql` it also sets aside what is not SQL: psql
//! meta-commands (`\set …`, `\restrict …`) between statements, and the data lines that follow a
//! `COPY … FROM STDIN` up to the line `\.`. Everything else is left to the server.
//!
//! Line breaks are `\n`, `\r\n` or a lone `\r`, as for `psql` and the server.

use std::fmt;

/// One statement of a file: byte range from its first token to its terminating `;` (inclusive),
/// and the 1-based line of its first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    pub start: usize,
    pub end: usize,
    pub line: usize,
}

/// A psql meta-command (`\set ON_ERROR_STOP on`, `\restrict KEY`, `\i file.sql`): a line that
/// starts with a backslash where no statement is in progress. It is not SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaCommand {
    /// 1-based line of the backslash.
    pub line: usize,
    /// The whole line, trimmed.
    pub text: String,
}

/// A file split: its statements and, apart, its psql meta-commands (both in file order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub statements: Vec<Statement>,
    pub meta_commands: Vec<MetaCommand>,
}

/// The construct a file ended inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Construct {
    BlockComment,
    String,
    QuotedIdentifier,
    DollarQuote(String),
    /// A `(` never closed: the statement's semicolons after it do not end it.
    Parenthesis,
    /// A `BEGIN ATOMIC` routine body never closed by its `END`.
    RoutineBody,
    /// The data of a `COPY … FROM STDIN`, with no line `\.` ending it.
    CopyData,
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
            Construct::Parenthesis => write!(f, "parenthesis ( … )"),
            Construct::RoutineBody => write!(f, "routine body BEGIN ATOMIC … END"),
            Construct::CopyData => write!(f, "COPY … FROM STDIN data"),
            Construct::Statement => write!(f, "statement without a terminating semicolon"),
        }
    }
}

/// A file that does not stand alone: it ends inside `construct`, opened at `line`:`column` (1-based).
/// For `CopyData` the position is the COPY statement's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unterminated {
    pub construct: Construct,
    pub line: usize,
    pub column: usize,
}

/// Split `text` into statements and psql meta-commands. Comments and whitespace between
/// statements belong to no statement; an empty statement (`;` alone) is skipped; the data lines
/// of a `COPY … FROM STDIN` belong to nothing.
pub fn split_file(text: &str) -> Result<Split, Unterminated> {
    Scanner::new(text).run()
}

/// The statements of `text` (see [`split_file`]), without its meta-commands.
pub fn split(text: &str) -> Result<Vec<Statement>, Unterminated> {
    split_file(text).map(|s| s.statements)
}

/// Whether the (first) statement of `sql` is a `COPY … FROM STDIN`, whose data `psql` reads from
/// the lines after it: words inside strings, comments or parentheses do not count.
pub fn is_copy_from_stdin(sql: &str) -> bool {
    let mut scanner = Scanner::new(sql);
    while scanner.pos < scanner.bytes.len() && scanner.copy != CopyWords::FromStdin {
        // A `;` ends the first statement; an unclosed quote ends its words.
        if scanner.token().is_err() || !scanner.statements.is_empty() {
            break;
        }
    }
    scanner.copy == CopyWords::FromStdin
}

/// 1-based column (in characters) of byte `offset` on its line. A byte-order mark opening the
/// text is not a column.
pub fn column_of(text: &str, offset: usize) -> usize {
    let line_start = (0..offset)
        .rev()
        .find(|&i| ends_line(text.as_bytes(), i))
        .map_or(0, |i| i + 1);
    let line = &text[line_start..offset];
    let line = if line_start == 0 {
        line.strip_prefix('\u{feff}').unwrap_or(line)
    } else {
        line
    };
    line.chars().count() + 1
}

/// 1-based line of byte `offset`.
pub fn line_of(text: &str, offset: usize) -> usize {
    (0..offset)
        .filter(|&i| ends_line(text.as_bytes(), i))
        .count()
        + 1
}

/// Whether byte `i` ends a line: a `\n`, or a `\r` not followed by `\n` (`\r\n` is one break).
fn ends_line(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
}

/// How far the words of the statement being scanned match `COPY … FROM STDIN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyWords {
    No,
    Copy,
    From,
    FromStdin,
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    statements: Vec<Statement>,
    meta_commands: Vec<MetaCommand>,
    /// `(offset, line)` of the `COPY … FROM STDIN` statements whose data starts after the
    /// current line.
    copy_data: Vec<(usize, usize)>,
    // State of the statement being scanned.
    start: Option<(usize, usize)>,
    /// `(offset, line)` of each `(` still open, outermost first.
    open_parens: Vec<(usize, usize)>,
    begin_depth: usize,
    /// `(offset, line)` of the `BEGIN` that opened the routine body, while it is open.
    body_open: Option<(usize, usize)>,
    words: usize,
    routine_header: [u8; 4],
    copy: CopyWords,
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
            // A byte-order mark is not part of the first statement.
            pos: if text.starts_with('\u{feff}') {
                '\u{feff}'.len_utf8()
            } else {
                0
            },
            line: 1,
            statements: Vec::new(),
            meta_commands: Vec::new(),
            copy_data: Vec::new(),
            start: None,
            open_parens: Vec::new(),
            begin_depth: 0,
            body_open: None,
            words: 0,
            routine_header: [0; 4],
            copy: CopyWords::No,
        }
    }

    fn unterminated(&self, construct: Construct, offset: usize, line: usize) -> Unterminated {
        Unterminated {
            construct,
            line,
            column: column_of(self.text, offset),
        }
    }

    fn run(mut self) -> Result<Split, Unterminated> {
        while self.pos < self.bytes.len() {
            self.token()?;
        }
        if let Some(&(offset, line)) = self.copy_data.first() {
            return Err(self.unterminated(Construct::CopyData, offset, line));
        }
        if let Some((offset, line)) = self.start {
            // The file ends with the statement open: name what keeps it open, where it opened.
            let (construct, offset, line) =
                if let Some(&(paren, paren_line)) = self.open_parens.first() {
                    (Construct::Parenthesis, paren, paren_line)
                } else if let Some((begin, begin_line)) = self.body_open {
                    (Construct::RoutineBody, begin, begin_line)
                } else {
                    (Construct::Statement, offset, line)
                };
            return Err(self.unterminated(construct, offset, line));
        }
        Ok(Split {
            statements: self.statements,
            meta_commands: self.meta_commands,
        })
    }

    /// Scan the token (or whitespace, comment, line break) at `pos`.
    fn token(&mut self) -> Result<(), Unterminated> {
        let b = self.bytes[self.pos];
        match b {
            b'\n' | b'\r' => {
                self.line_break();
                // psql reads COPY data from the lines after the one that ended the COPY.
                for (offset, line) in std::mem::take(&mut self.copy_data) {
                    self.skip_copy_data(offset, line)?;
                }
            }
            b' ' | b'\t' | b'\x0c' => self.pos += 1,
            b'-' if self.peek(1) == Some(b'-') => self.skip_line_comment(),
            b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment()?,
            b'\\' if self.start.is_none() => self.meta_command(),
            b';' => {
                self.mark_token();
                self.pos += 1;
                if self.open_parens.is_empty() && self.begin_depth == 0 {
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
                self.open_parens.push((self.pos, self.line));
                self.pos += 1;
            }
            b')' => {
                self.mark_token();
                self.open_parens.pop();
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
        Ok(())
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// Length of the line break at `pos` (`\r\n` is one), or 0.
    fn line_break_len(&self) -> usize {
        match (self.bytes.get(self.pos), self.peek(1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            (Some(b'\n' | b'\r'), _) => 1,
            _ => 0,
        }
    }

    /// Step over the line break at `pos`, if any. Returns whether there was one.
    fn line_break(&mut self) -> bool {
        let len = self.line_break_len();
        if len > 0 {
            self.line += 1;
            self.pos += len;
        }
        len > 0
    }

    /// Step to the end of the line, before its line break.
    fn skip_to_line_end(&mut self) {
        while self.pos < self.bytes.len() && !matches!(self.bytes[self.pos], b'\n' | b'\r') {
            self.pos += 1;
        }
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
        if self.copy == CopyWords::FromStdin {
            self.copy_data.push((start, line));
        }
        self.open_parens.clear();
        self.begin_depth = 0;
        self.body_open = None;
        self.words = 0;
        self.routine_header = [0; 4];
        self.copy = CopyWords::No;
    }

    fn skip_line_comment(&mut self) {
        self.skip_to_line_end();
    }

    /// A psql meta-command runs to the end of its line and is no part of any statement.
    fn meta_command(&mut self) {
        let start = self.pos;
        self.skip_to_line_end();
        let text = self.text[start..self.pos].trim();
        // `\copy … from stdin` reads its data from the lines after it, as COPY does.
        if is_copy_from_stdin(&text[1..]) {
            self.copy_data.push((start, self.line));
        }
        self.meta_commands.push(MetaCommand {
            line: self.line,
            text: text.to_string(),
        });
    }

    /// Skip the data lines of the `COPY … FROM STDIN` at `offset`, through the line `\.`.
    fn skip_copy_data(&mut self, offset: usize, line: usize) -> Result<(), Unterminated> {
        while self.pos < self.bytes.len() {
            let line_start = self.pos;
            self.skip_to_line_end();
            let end_marker = &self.text[line_start..self.pos] == "\\.";
            self.line_break();
            if end_marker {
                return Ok(());
            }
        }
        Err(self.unterminated(Construct::CopyData, offset, line))
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
                _ => {
                    if !self.line_break() {
                        self.pos += 1;
                    }
                }
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
            if self.line_break() {
                continue;
            }
            if b == b'\\' && backslash_escapes {
                // The escaped character, which may be a line break.
                self.pos += 1;
                if self.pos < self.bytes.len() && !self.line_break() {
                    self.pos += 1;
                }
                continue;
            }
            if b == quote {
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
                // The body ends at the tag's `$`, so a `\r` at its end is a line break of its own.
                self.line += line_of(&self.text[self.pos..body_end], body_end - self.pos) - 1;
                self.pos = body_end + tag.len();
                Ok(())
            }
            None => {
                Err(self.unterminated(Construct::DollarQuote(tag.to_string()), open, open_line))
            }
        }
    }

    /// An identifier or keyword. Tracks `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN … END`
    /// so that the semicolons of a SQL-standard body do not end the statement (psql's rule), and
    /// `COPY … FROM STDIN`, whose data follows the statement.
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
        self.copy_word(word);
        self.words += 1;
        let h = self.routine_header;
        let in_routine = h[0] == b'c'
            && (matches!(h[1], b'f' | b'p')
                || (h[1] == b'o' && h[2] == b'r' && matches!(h[3], b'f' | b'p')));
        if !in_routine || !self.open_parens.is_empty() {
            return;
        }
        if word.eq_ignore_ascii_case("begin") {
            if self.begin_depth == 0 {
                self.body_open = Some((start, self.line));
            }
            self.begin_depth += 1;
        } else if word.eq_ignore_ascii_case("case") {
            if self.begin_depth >= 1 {
                self.begin_depth += 1;
            }
        } else if word.eq_ignore_ascii_case("end") {
            self.begin_depth = self.begin_depth.saturating_sub(1);
            if self.begin_depth == 0 {
                self.body_open = None;
            }
        }
    }

    /// `COPY` as the first word, then `FROM STDIN` outside parentheses (a `COPY (query) TO`
    /// may read from a table named stdin).
    fn copy_word(&mut self, word: &str) {
        let is = |keyword: &str| word.eq_ignore_ascii_case(keyword);
        self.copy = match self.copy {
            CopyWords::No if self.words == 0 && is("copy") => CopyWords::Copy,
            state if !self.open_parens.is_empty() => state,
            CopyWords::Copy | CopyWords::From if is("from") => CopyWords::From,
            CopyWords::From if is("stdin") => CopyWords::FromStdin,
            CopyWords::From => CopyWords::Copy,
            state => state,
        };
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
    fn psql_meta_commands_are_set_apart() {
        let sql = "\\set ON_ERROR_STOP on\nSELECT 1;\n\\restrict Ab12\n-- c\n/* d */  \\connect db  \r\nSELECT 2; \\i other.sql\n\\unrestrict Ab12";
        let file = split_file(sql).unwrap();
        assert_eq!(texts(sql), vec!["SELECT 1;", "SELECT 2;"]);
        assert_eq!(file.statements[1].line, 6);
        let metas: Vec<(usize, &str)> = file
            .meta_commands
            .iter()
            .map(|m| (m.line, m.text.as_str()))
            .collect();
        assert_eq!(
            metas,
            vec![
                (1, "\\set ON_ERROR_STOP on"),
                (3, "\\restrict Ab12"),
                (5, "\\connect db"),
                (6, "\\i other.sql"),
                (7, "\\unrestrict Ab12"),
            ]
        );
        // Inside a statement a backslash is the server's business.
        assert_eq!(texts("SELECT 1\n\\x\n;"), vec!["SELECT 1\n\\x\n;"]);
        // After a byte-order mark too.
        let file = split_file("\u{feff}\\set x 1\nSELECT 1;").unwrap();
        assert_eq!(file.meta_commands[0].text, "\\set x 1");
        assert_eq!(file.statements.len(), 1);
    }

    #[test]
    fn copy_from_stdin_data_is_skipped() {
        let sql = "COPY t (a, b) FROM stdin;\n1\tit's; \"here\n\\.x\n\\.\nSELECT 1;\ncopy t from STDIN with (format csv); -- data\r\n2,$$\r\n\\.\r\nSELECT 2;\n";
        assert_eq!(
            texts(sql),
            vec![
                "COPY t (a, b) FROM stdin;",
                "SELECT 1;",
                "copy t from STDIN with (format csv);",
                "SELECT 2;"
            ]
        );
        let lines: Vec<usize> = split(sql).unwrap().iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![1, 5, 6, 9]);
        // The rest of the COPY's line is SQL, run before the data is read.
        assert_eq!(
            texts("COPY t FROM stdin; SELECT 1;\n'\n\\.\nSELECT 2;"),
            vec!["COPY t FROM stdin;", "SELECT 1;", "SELECT 2;"]
        );
        // psql's \copy … from stdin reads the lines after it the same way.
        let file = split_file("\\copy t from stdin\nx;y\n\\.\nSELECT 1;").unwrap();
        assert_eq!(file.statements.len(), 1);
        assert_eq!(file.meta_commands.len(), 1);
        // Other COPYs have no data lines.
        assert_eq!(
            texts("COPY t TO STDOUT;\nCOPY t FROM '/tmp/stdin';\nSELECT 1;").len(),
            3
        );
        for sql in [
            "SELECT 1;\n  COPY t FROM stdin;\n1\n\\.x\n",
            "SELECT 1;\n  COPY t FROM stdin;",
        ] {
            assert_eq!(
                split(sql).unwrap_err(),
                Unterminated {
                    construct: Construct::CopyData,
                    line: 2,
                    column: 3
                },
                "{sql:?}"
            );
        }
    }

    #[test]
    fn copy_from_stdin_is_recognised_by_its_words() {
        for sql in [
            "COPY t FROM STDIN;",
            "copy s.t (a, \"b\") from stdin with (format csv)",
            "/* c */ COPY t\nFROM -- x\n  stdin;",
        ] {
            assert!(is_copy_from_stdin(sql), "{sql:?}");
        }
        for sql in [
            "COPY t FROM '/tmp/stdin';",
            "COPY t FROM PROGRAM 'cat stdin';",
            "COPY t TO STDOUT;",
            "COPY (SELECT * FROM stdin) TO STDOUT;",
            "SELECT 'COPY t FROM stdin';",
            "SELECT copy FROM stdin;",
            "SELECT 1; COPY t FROM stdin;",
            "COPY t FROM \"stdin\";",
        ] {
            assert!(!is_copy_from_stdin(sql), "{sql:?}");
        }
    }

    #[test]
    fn carriage_returns_end_lines_and_line_comments() {
        let sql = "-- head; \rSELECT 1;\rSELECT\r'a\rb',\r/* x\r*/ 2;\r\nSELECT $$\r$$;\rSELECT E'\\\r';\r\n-- x\rSELECT 3;";
        assert_eq!(
            texts(sql),
            vec![
                "SELECT 1;",
                "SELECT\r'a\rb',\r/* x\r*/ 2;",
                "SELECT $$\r$$;",
                "SELECT E'\\\r';",
                "SELECT 3;"
            ]
        );
        let lines: Vec<usize> = split(sql).unwrap().iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![2, 3, 8, 10, 13]);
        for (text, offset, line, column) in [
            ("ab\rcd", 4, 2, 2),
            ("ab\r\ncd", 5, 2, 2),
            ("ab\r\ncd", 2, 1, 3),
            ("a\n\rb", 3, 3, 1),
        ] {
            assert_eq!(line_of(text, offset), line, "{text:?}");
            assert_eq!(column_of(text, offset), column, "{text:?}");
        }
        assert_eq!(
            split("SELECT 1;\r\rSELECT 'x").unwrap_err(),
            Unterminated {
                construct: Construct::String,
                line: 3,
                column: 8
            }
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let sql = "\u{feff}SELECT 'x";
        assert_eq!(column_of(sql, sql.find('\'').unwrap()), 8);
        assert_eq!(column_of(sql, 0), 1);
        assert_eq!(split(sql).unwrap_err().column, 8);
        // Only on line 1.
        assert_eq!(column_of("a\n\u{feff}b", 5), 2);
    }

    #[test]
    fn unclosed_parentheses_and_routine_bodies_are_named() {
        let cases = [
            (
                "SELECT 1;\nCREATE TABLE t (\n  a numeric(10, 2;\nSELECT 2;\n",
                Construct::Parenthesis,
                2,
                16,
            ),
            ("SELECT (1));\nSELECT ((2);", Construct::Parenthesis, 2, 8),
            (
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n  BEGIN ATOMIC\n    SELECT CASE WHEN true THEN 1 END;\n",
                Construct::RoutineBody,
                2,
                3,
            ),
            (
                "CREATE PROCEDURE p() BEGIN ATOMIC SELECT (1; END;",
                Construct::Parenthesis,
                1,
                42,
            ),
            // A closed body leaves a plain missing semicolon.
            (
                "CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END",
                Construct::Statement,
                1,
                1,
            ),
        ];
        for (sql, construct, line, column) in cases {
            assert_eq!(
                split(sql).unwrap_err(),
                Unterminated {
                    construct,
                    line,
                    column
                },
                "{sql:?}"
            );
        }
        assert_eq!(Construct::Parenthesis.to_string(), "parenthesis ( … )");
    }

    #[test]
    fn empty_statements_and_trailing_comments() {
        assert_eq!(texts(";;\nSELECT 1;;\n-- end\n"), vec!["SELECT 1;"]);
        assert!(split("").unwrap().is_empty());
    }
}
