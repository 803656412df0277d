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
    /// The parse tree (`None` when the grammar rejects the statement).
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
pub fn parse_statements(text: &str) -> Result<Vec<Statement>, String> {
    let split = scan::split(text).map_err(|u| format!("{u:?}"))?;
    Ok(split
        .iter()
        .map(|s| {
            let sql = &text[s.start..s.end];
            Statement {
                sql: sql.to_string(),
                line: s.line,
                column: scan::column_of(text, s.start),
                node: parse_one(sql),
            }
        })
        .collect())
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
