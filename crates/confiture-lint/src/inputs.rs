//! What rules look at: the schema model with where each object is written, parsed migration
//! statements, and table sizes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use confiture_core::build::scan;
use confiture_core::schema::Schema;
use pg_query::NodeEnum;

/// A place in a source file (relative to the project root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

/// Where the objects of a statically built model are written. Keys:
/// `table:s.t`, `column:s.t.c`, `constraint:s.t.name`, `index:s.t.name`, `view:s.v`,
/// `function:<model key>` (`s.f(integer, text)`), `type:s.n`, `sequence:s.n`, `schema:s`.
/// Empty for a model read from a live database.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    pub objects: HashMap<String, Loc>,
}

impl Locations {
    pub fn get(&self, kind: &str, key: &str) -> Option<&Loc> {
        self.objects.get(&format!("{kind}:{key}"))
    }

    pub fn insert(&mut self, kind: &str, key: &str, loc: Loc) {
        self.objects.entry(format!("{kind}:{key}")).or_insert(loc);
    }

    /// The directory (relative to the project) of the file that defines table `key`
    /// (`schema.table`), for per-directory conventions.
    pub fn table_dir(&self, key: &str) -> Option<&Path> {
        self.get("table", key).and_then(|l| l.file.parent())
    }
}

/// The schema model and where its objects come from.
pub struct SchemaInput<'a> {
    pub model: &'a Schema,
    pub locations: &'a Locations,
    /// Read from a live database (else built statically from the DDL tree).
    pub live: bool,
}

/// One statement of a migration file.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    /// 1-based line and column of its first token in the file.
    pub line: usize,
    pub column: usize,
    /// The parse tree: `None` when the grammar rejects the statement, or when it is of a kind
    /// no migration rule reads (see [`tree_unused`]).
    pub node: Option<NodeEnum>,
}

/// One migration file, parsed.
pub struct MigrationInput<'a> {
    /// Relative to the project root.
    pub file: &'a Path,
    pub statements: &'a [Statement],
    /// Runs in one transaction (the default; `-- confiture:no-transaction` or the sidecar's
    /// `transactional: false` make it autocommit).
    pub transactional: bool,
}

impl MigrationInput<'_> {
    /// Tables (`schema.table`, `public` when unqualified) created by an earlier statement of
    /// this same migration: changing them locks nobody.
    pub fn created_before(&self, index: usize) -> Vec<String> {
        self.statements[..index]
            .iter()
            .filter_map(|s| match &s.node {
                Some(NodeEnum::CreateStmt(c)) => c.relation.as_ref().map(|r| {
                    let schema = if r.schemaname.is_empty() {
                        "public"
                    } else {
                        &r.schemaname
                    };
                    format!("{schema}.{}", r.relname)
                }),
                _ => None,
            })
            .collect()
    }
}

/// Rows and bytes of a table, read from a live database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSize {
    pub rows: i64,
    pub bytes: i64,
}

/// Table sizes by `schema.table`.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub tables: HashMap<String, TableSize>,
}

impl Stats {
    pub fn get(&self, table: &str) -> Option<TableSize> {
        self.tables.get(table).copied()
    }
}

/// Split a SQL file and parse each statement. A file the splitter cannot read (unterminated
/// string or comment) gives an error message with its line.
pub fn parse_statements(text: &str) -> Result<Vec<Statement>, scan::Unterminated> {
    split_and_parse(text, |_| true)
}

/// [`parse_statements`] for the migration rules: statements of kinds no migration rule reads
/// ([`tree_unused`]) are split and located but not parsed.
pub fn parse_migration(text: &str) -> Result<Vec<Statement>, scan::Unterminated> {
    split_and_parse(text, |sql| !tree_unused(sql))
}

fn split_and_parse(
    text: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<Statement>, scan::Unterminated> {
    let split = scan::split(text)?;
    Ok(split
        .iter()
        .map(|s| {
            let sql = &text[s.start..s.end];
            Statement {
                sql: sql.to_string(),
                line: s.line,
                column: scan::column_of(text, s.start),
                node: if wanted(sql) { parse_one(sql) } else { None },
            }
        })
        .collect())
}

/// Whether `sql` is of a kind no migration rule reads, so its parse tree need not be built:
/// data statements, comments, grants, `DO` blocks, function, procedure and view definitions.
/// Parsing is most of a migration lint's time, and function bodies and view queries are the
/// largest statements of a migration. A rule that starts reading one of these kinds must take
/// it out of this list (`skipped_kinds_change_no_finding` checks the rules of today).
pub fn tree_unused(sql: &str) -> bool {
    const DATA_AND_GRANTS: &[&str] = &[
        "INSERT", "UPDATE", "DELETE", "MERGE", "SELECT", "VALUES", "WITH", "TABLE", "COPY",
        "COMMENT", "GRANT", "REVOKE", "DO", "CALL",
    ];
    const DEFINITIONS: &[&str] = &["FUNCTION", "PROCEDURE", "VIEW", "RECURSIVE", "AGGREGATE"];
    let words = leading_words(sql, 4);
    let is = |i: usize, word: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(word));
    let any = |i: usize, list: &[&str]| list.iter().any(|w| is(i, w));
    if any(0, DATA_AND_GRANTS) {
        return true;
    }
    if !is(0, "CREATE") {
        return false;
    }
    if is(1, "OR") && is(2, "REPLACE") {
        any(3, DEFINITIONS)
    } else {
        any(1, DEFINITIONS)
    }
}

/// The first `n` words of `sql`, after white space and comments; stops at the first character
/// that is not part of a word (a quote, a parenthesis, …).
fn leading_words(sql: &str, n: usize) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while words.len() < n && i < bytes.len() {
        match bytes[i] {
            b if b.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in PostgreSQL.
                let mut depth = 0;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if bytes[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                words.push(&sql[start..i]);
            }
            _ => break,
        }
    }
    words
}

/// Why the grammar rejects `sql`, or `None` when it reads it.
pub fn grammar_error(sql: &str) -> Option<String> {
    pg_query::parse(sql, 0).err().map(rejection)
}

/// A parser error as notices say it.
pub(crate) fn rejection(e: pg_query::Error) -> String {
    match e {
        pg_query::Error::Parse(m) => format!("the PostgreSQL grammar rejects this statement: {m}"),
        other => format!("the PostgreSQL grammar rejects this statement: {other}"),
    }
}

/// The parse tree of one statement.
pub fn parse_one(sql: &str) -> Option<NodeEnum> {
    pg_query::parse(sql, 0)
        .ok()?
        .protobuf
        .stmts
        .into_iter()
        .next()
        .and_then(|raw| raw.stmt)
        .and_then(|node| node.node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry;
    use crate::rule::{Check, Context};
    use confiture_core::config::linting::LintingConfig;

    #[test]
    fn kinds_without_a_reader_are_not_parsed() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "  -- backfill\n  update t set a = 1",
            "/* a /* nested */ comment */ DELETE FROM t",
            "WITH x AS (SELECT 1) UPDATE t SET a = 2",
            "COMMENT ON TABLE t IS 'x'",
            "GRANT SELECT ON t TO app",
            "DO $$ BEGIN PERFORM 1; END $$",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "create or replace view v as select 1",
            "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'",
        ] {
            assert!(tree_unused(sql), "{sql}");
        }
        for sql in [
            "CREATE MATERIALIZED VIEW m AS SELECT 1",
            "CREATE OR REPLACE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION f()",
            "CREATE TABLE t (a int)",
            "CREATE TEMP VIEW v AS SELECT 1",
            "ALTER TABLE t ADD COLUMN c int",
            "SET lock_timeout = '2s'",
            "REFRESH MATERIALIZED VIEW m",
            "BEGIN",
            "-- only a comment",
            "",
        ] {
            assert!(!tree_unused(sql), "{sql}");
        }
    }

    /// The statements left unparsed change no migration rule's findings: every migration rule
    /// runs on a migration mixing them with risky statements, with and without their trees.
    #[test]
    fn skipped_kinds_change_no_finding() {
        let sql = "CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
CREATE VIEW app.v AS SELECT id FROM app.orders;
INSERT INTO app.orders (id) VALUES (1);
UPDATE app.orders SET total = 0 WHERE total IS NULL;
DELETE FROM app.orders WHERE id < 0;
COMMENT ON TABLE app.orders IS 'orders';
GRANT SELECT ON app.orders TO PUBLIC;
DO $$ BEGIN PERFORM 1; END $$;
ALTER TABLE app.orders ADD COLUMN note text NOT NULL;
CREATE INDEX orders_note_idx ON app.orders (note);
ALTER TABLE app.orders ALTER COLUMN total TYPE numeric(12,2);
VACUUM FULL app.orders;
";
        let skipped = parse_migration(sql).unwrap();
        assert_eq!(skipped.iter().filter(|s| s.node.is_none()).count(), 8);
        let full: Vec<Statement> = skipped
            .iter()
            .cloned()
            .map(|mut s| {
                s.node = parse_one(&s.sql);
                assert!(s.node.is_some(), "{}", s.sql);
                s
            })
            .collect();
        let config = LintingConfig::default();
        let ctx = Context {
            config: &config,
            environment: "local",
            stats: None,
            anonymized: None,
        };
        let findings = |statements: &[Statement]| {
            let m = MigrationInput {
                file: Path::new("db/migrations/001_x.up.sql"),
                statements,
                transactional: true,
            };
            let mut out = Vec::new();
            for rule in registry::all() {
                if let Check::Migration(check) = rule.check {
                    check(&m, &ctx, &mut out);
                }
            }
            out
        };
        let with_trees = findings(&full);
        assert!(with_trees.len() >= 4, "{with_trees:?}");
        assert_eq!(findings(&skipped), with_trees);
    }
}
