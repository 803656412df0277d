//! The schema model built statically from the DDL tree (no database), with where each object
//! is written, so that the schema rules run on files as they do on a live database.
//!
//! Every file is split and parsed (two threads), then its statements are applied in build
//! order to a [`Schema`] spelled the way `confiture-pg`'s introspection reads the catalog:
//! `data_type` as `format_type` prints it, constraint definitions as `pg_get_constraintdef`,
//! index definitions as `pg_get_indexdef`, function keys with
//! `pg_get_function_identity_arguments`, PostgreSQL's default names for unnamed constraints,
//! indexes and sequences, and its default privileges (`EXECUTE` to `PUBLIC` on functions).
//! Names in definitions are schema-qualified, as the catalog prints them with an empty
//! `search_path`. What a file cannot know is left empty: owners (unless `OWNER TO` says),
//! extension versions, values PostgreSQL normalises (partition bounds, view queries).
//!
//! One file per statement family: [`tables`] (CREATE/ALTER TABLE), [`indexes`],
//! [`functions`], [`grants`], [`types`] (types, domains, sequences), [`objects`] (schemas,
//! extensions, views, comments, policies, triggers, renames, owners, drops); [`expr`] prints
//! expressions the way PostgreSQL's `ruleutils` does, [`names`] quotes and chooses names.

mod expr;
mod functions;
mod grants;
mod indexes;
mod long_names;
mod names;
mod objects;
mod tables;
mod types;

#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use confiture_core::build::scan;
use confiture_core::schema::{Grant, Namespace, Schema};
use pg_query::protobuf::RangeVar;
use pg_query::NodeEnum;

use crate::inputs::{parse_statements, Loc, Locations, Statement};

/// A DDL file: its path relative to the project, and its text.
pub struct SourceText {
    pub path: PathBuf,
    pub text: String,
}

/// A statement the grammar rejects, or a file the splitter cannot read.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Build the model of `files` (in build order).
///
/// Two threads split and parse the files (file `i` on thread `i % 2`), a little ahead of this
/// one, which applies them in order and hands each file's parse trees back to the thread that
/// made them to be freed there: memory is reused while it is warm, and freeing runs beside the
/// applying.
pub fn build(files: &[SourceText]) -> (Schema, Locations, Vec<Unreadable>) {
    let mut st = State::with_capacity(files.iter().map(|f| f.text.len()).sum());
    if files.len() < 2 {
        for file in files {
            st.apply_file(file, parse_file(file));
        }
        return st.finish();
    }
    const THREADS: usize = 2;
    const AHEAD: usize = 64;
    std::thread::scope(|scope| {
        let mut parsed = Vec::with_capacity(THREADS);
        let mut freed = Vec::with_capacity(THREADS);
        for w in 0..THREADS {
            let (tx, rx) = mpsc::sync_channel::<Parsed>(AHEAD);
            let (back_tx, back_rx) = mpsc::channel::<Vec<Statement>>();
            scope.spawn(move || {
                for file in files.iter().skip(w).step_by(THREADS) {
                    while let Ok(done) = back_rx.try_recv() {
                        drop(done);
                    }
                    if tx.send(parse_file(file)).is_err() {
                        return;
                    }
                }
                drop(tx);
                for done in back_rx {
                    drop(done);
                }
            });
            parsed.push(rx);
            freed.push(back_tx);
        }
        for (i, file) in files.iter().enumerate() {
            let Ok(result) = parsed[i % THREADS].recv() else {
                break;
            };
            if let Some(done) = st.apply_file(file, result) {
                // The thread is gone only if it panicked, and then the scope reports it.
                let _ = freed[i % THREADS].send(done);
            }
        }
    });
    st.finish()
}

/// A file split and parsed, or why it cannot be split.
type Parsed = Result<Vec<Statement>, SplitError>;

/// A file the splitter rejects: what to report, and its statements when they could still be
/// read (a last statement without its semicolon).
struct SplitError {
    unreadable: Unreadable,
    salvaged: Option<Vec<Statement>>,
}

fn parse_file(file: &SourceText) -> Result<Vec<Statement>, SplitError> {
    match parse_statements(&file.text) {
        Ok(s) => Ok(s),
        Err(u) => {
            let (line, message, statement) = (
                u.line,
                format!("the file ends inside a {}", u.construct),
                u.construct == scan::Construct::Statement,
            );
            // A last statement without its semicolon is still read.
            let salvaged = if statement {
                parse_statements(&format!("{}\n;", file.text)).ok()
            } else {
                None
            };
            Err(SplitError {
                unreadable: Unreadable {
                    file: file.path.clone(),
                    line,
                    message,
                },
                salvaged,
            })
        }
    }
}

/// Why the grammar rejects `sql` (`None` when it holds no statement at all).
fn grammar_error(sql: &str) -> Option<String> {
    match pg_query::parse(sql, 0) {
        Ok(r) if r.protobuf.stmts.is_empty() => None,
        Ok(_) => Some("the statement cannot be read".to_string()),
        Err(e) => Some(crate::inputs::rejection(e)),
    }
}

/// The statement being applied: its file, text and place.
pub(crate) struct Here<'a> {
    pub file: &'a Path,
    pub sql: &'a str,
    pub line: usize,
    pub column: usize,
    /// Byte offsets where the statement's lines after the first start (computed once needed).
    pub lines: OnceCell<Vec<usize>>,
}

impl Here<'_> {
    /// Where the statement starts.
    pub fn loc(&self) -> Loc {
        Loc {
            file: self.file.to_path_buf(),
            line: self.line,
            column: self.column,
        }
    }

    /// Where byte `offset` of the statement is (a node's `location`); the statement's start
    /// when unknown.
    pub fn at(&self, offset: i32) -> Loc {
        let Ok(offset) = usize::try_from(offset) else {
            return self.loc();
        };
        if offset > self.sql.len() || !self.sql.is_char_boundary(offset) {
            return self.loc();
        }
        let starts = self.lines.get_or_init(|| {
            self.sql
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1)
                .collect()
        });
        // How many lines start at or before `offset`.
        let newlines = starts.partition_point(|&s| s <= offset);
        let (line, column) = match newlines {
            0 => (self.line, self.column + self.sql[..offset].chars().count()),
            n => {
                let start = starts[n - 1];
                (self.line + n, self.sql[start..offset].chars().count() + 1)
            }
        };
        Loc {
            file: self.file.to_path_buf(),
            line,
            column,
        }
    }

    /// The statement's text without its terminating semicolon.
    pub fn text(&self) -> &str {
        self.sql.trim().trim_end_matches(';').trim_end()
    }
}

/// A fast hash for the builder's own maps (keys are names from local files: no flooding
/// to fear), after rustc's FxHasher.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, i: usize) {
        self.0 = (self.0.rotate_left(5) ^ i as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;
pub(crate) type FastSet<K> = HashSet<K, BuildHasherDefault<Fx>>;

/// `a.b` (keys of the builder's maps), without the formatting machinery.
pub(crate) fn dotted(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len() + 1);
    s.push_str(a);
    s.push('.');
    s.push_str(b);
    s
}

/// One function of a name: its model key and its input argument types.
pub(crate) type Overload = (String, Vec<String>);

/// Grantee → privileges.
pub(crate) type Acl = BTreeMap<String, BTreeSet<String>>;

/// The model being built, and what building it needs besides.
pub(crate) struct State {
    pub model: Schema,
    pub locs: Locations,
    pub unreadable: Vec<Unreadable>,
    /// `SET search_path`: where unqualified names are created and looked up.
    pub search_path: Vec<String>,
    /// Relation names taken (`schema.name`): tables, views, sequences, indexes, composite
    /// types; for PostgreSQL's choice of default names.
    pub relnames: FastSet<String>,
    /// Constraint names taken (`schema.name`).
    pub connames: FastSet<String>,
    /// Functions by (schema, name): model key and input argument types.
    pub funcs: FastMap<(String, String), Vec<Overload>>,
    /// Default privileges by (object kind `r`/`S`/`f`/`n`, schema or `""` for all).
    pub default_acl: FastMap<(char, String), Acl>,
    /// Partitions and inheritance children of a table (`schema.table`).
    pub children: FastMap<String, Vec<String>>,
    /// What definitions are rebuilt from, for each index and index-backed constraint
    /// (`schema.table.name`).
    pub index_info: FastMap<String, IndexInfo>,
    /// The table or materialized view of each index (`schema.index` → `schema.table`).
    pub index_owner: FastMap<String, String>,
    /// Foreign keys whose target's primary key was not known yet: (table, name, target).
    pub unresolved_fks: Vec<(String, String, String)>,
    /// Identifiers longer than 63 bytes in the statements: truncated → as written.
    pub long_names: FastMap<String, String>,
}

/// An index or an index-backed constraint, as its definition is rebuilt (renames, clones).
#[derive(Debug, Clone, Default)]
pub(crate) struct IndexInfo {
    /// Its columns' names for PostgreSQL's default names (`a`, `lower`, `expr`).
    pub names: Vec<String>,
    /// Plain key columns, in order (a foreign key's default target columns).
    pub keys: Vec<String>,
    /// Every column it reads (DROP COLUMN drops it).
    pub reads: BTreeSet<String>,
    /// What follows `USING method ` in `pg_get_indexdef`: `(a, lower(b)) INCLUDE (c) WHERE …`;
    /// for a constraint, its definition.
    pub body: String,
}

impl State {
    /// A builder sized for `bytes` of DDL (about one located object per 60 bytes).
    fn with_capacity(bytes: usize) -> Self {
        let mut st = State::new();
        let objects = bytes / 60;
        st.locs.objects.reserve(objects);
        st.relnames.reserve(objects / 4);
        st.connames.reserve(objects / 4);
        st.index_info.reserve(objects / 3);
        st.index_owner.reserve(objects / 8);
        st
    }

    fn new() -> Self {
        let mut model = Schema {
            server_version: parser_version(),
            ..Schema::default()
        };
        // Every database has it: owned by pg_database_owner, usable by PUBLIC (PostgreSQL 15+).
        model.schemas.insert(
            "public".into(),
            Namespace {
                name: "public".into(),
                owner: "pg_database_owner".into(),
                comment: Some("standard public schema".into()),
                grants: vec![Grant {
                    grantee: "PUBLIC".into(),
                    privileges: vec!["USAGE".into()],
                }],
            },
        );
        // And this extension.
        model.extensions.insert(
            "plpgsql".into(),
            confiture_core::schema::Extension {
                name: "plpgsql".into(),
                schema: "pg_catalog".into(),
                version: "1.0".into(),
            },
        );
        let mut default_acl = FastMap::default();
        default_acl.insert(
            ('f', String::new()),
            Acl::from([(
                "PUBLIC".to_string(),
                BTreeSet::from(["EXECUTE".to_string()]),
            )]),
        );
        State {
            model,
            locs: Locations::default(),
            unreadable: Vec::new(),
            search_path: vec!["$user".into(), "public".into()],
            relnames: Default::default(),
            connames: Default::default(),
            funcs: Default::default(),
            default_acl,
            children: Default::default(),
            index_info: Default::default(),
            index_owner: Default::default(),
            unresolved_fks: Vec::new(),
            long_names: Default::default(),
        }
    }

    /// Apply a parsed file's statements; its parse trees are given back to be freed.
    fn apply_file(&mut self, file: &SourceText, parsed: Parsed) -> Option<Vec<Statement>> {
        let statements = match parsed {
            Ok(s) => s,
            Err(u) => {
                self.unreadable.push(u.unreadable);
                u.salvaged?
            }
        };
        for stmt in &statements {
            let here = Here {
                file: &file.path,
                sql: &stmt.sql,
                line: stmt.line,
                column: stmt.column,
                lines: OnceCell::new(),
            };
            match &stmt.node {
                Some(node) => {
                    long_names::collect(&stmt.sql, &mut self.long_names);
                    self.apply(node, &here);
                }
                None => {
                    if let Some(message) = grammar_error(&stmt.sql) {
                        self.unreadable.push(Unreadable {
                            file: file.path.clone(),
                            line: stmt.line,
                            message,
                        });
                    }
                }
            }
        }
        Some(statements)
    }

    fn finish(mut self) -> (Schema, Locations, Vec<Unreadable>) {
        tables::resolve_foreign_keys(&mut self);
        long_names::lengthen(&mut self);
        (self.model, self.locs, self.unreadable)
    }

    fn apply(&mut self, node: &NodeEnum, here: &Here) {
        match node {
            NodeEnum::CreateSchemaStmt(s) => objects::create_schema(self, s, here),
            NodeEnum::CreateExtensionStmt(s) => objects::create_extension(self, s),
            NodeEnum::CreateStmt(s) => tables::create_table(self, s, here),
            NodeEnum::AlterTableStmt(s) => tables::alter_table(self, s, here),
            NodeEnum::IndexStmt(s) => indexes::create_index(self, s, here),
            NodeEnum::CommentStmt(s) => objects::comment(self, s),
            NodeEnum::CreateFunctionStmt(s) => functions::create_function(self, s, here),
            NodeEnum::AlterFunctionStmt(s) => functions::alter_function(self, s),
            NodeEnum::ViewStmt(s) => objects::create_view(self, s, here),
            NodeEnum::CreateTableAsStmt(s) => objects::create_table_as(self, s, here),
            NodeEnum::CreateEnumStmt(s) => types::create_enum(self, s, here),
            NodeEnum::AlterEnumStmt(s) => types::alter_enum(self, s),
            NodeEnum::CompositeTypeStmt(s) => types::create_composite(self, s, here),
            NodeEnum::CreateDomainStmt(s) => types::create_domain(self, s, here),
            NodeEnum::AlterDomainStmt(s) => types::alter_domain(self, s),
            NodeEnum::CreateSeqStmt(s) => types::create_sequence(self, s, here),
            NodeEnum::AlterSeqStmt(s) => types::alter_sequence(self, s),
            NodeEnum::GrantStmt(s) => grants::grant(self, s),
            NodeEnum::AlterDefaultPrivilegesStmt(s) => grants::default_privileges(self, s),
            NodeEnum::CreatePolicyStmt(s) => objects::create_policy(self, s),
            NodeEnum::AlterPolicyStmt(s) => objects::alter_policy(self, s),
            NodeEnum::CreateTrigStmt(s) => objects::create_trigger(self, s),
            NodeEnum::RenameStmt(s) => objects::rename(self, s),
            NodeEnum::AlterOwnerStmt(s) => objects::alter_owner(self, s),
            NodeEnum::DropStmt(s) => objects::drop(self, s),
            NodeEnum::VariableSetStmt(s) => objects::set_variable(self, s),
            _ => {}
        }
    }

    /// The schema unqualified objects are created in: the first schema of the path that
    /// exists.
    pub fn creation_schema(&self) -> String {
        self.search_path
            .iter()
            .find(|s| self.model.schemas.contains_key(*s))
            .cloned()
            .unwrap_or_else(|| "public".to_string())
    }

    /// The schema of an object named `schema` (possibly empty) `name`: the given schema, else
    /// the first schema of the path where `exists` finds it, else the creation schema.
    pub fn resolve(
        &self,
        schema: Option<&str>,
        name: &str,
        exists: impl Fn(&str) -> bool,
    ) -> String {
        if let Some(s) = schema.filter(|s| !s.is_empty()) {
            return s.to_string();
        }
        for s in &self.search_path {
            if exists(&dotted(s, name)) {
                return s.clone();
            }
        }
        self.creation_schema()
    }

    /// `schema.name` of an existing relation (table, view, sequence, index).
    pub fn relation_key(&self, rv: &RangeVar) -> String {
        let schema = self.resolve(Some(&rv.schemaname), &rv.relname, |k| {
            self.relnames.contains(k)
        });
        dotted(&schema, &rv.relname)
    }

    /// `schema.name` of a relation about to be created.
    pub fn new_relation_key(&self, rv: &RangeVar) -> (String, String) {
        let schema = if rv.schemaname.is_empty() {
            self.creation_schema()
        } else {
            rv.schemaname.clone()
        };
        (schema, rv.relname.clone())
    }

    /// The key of an existing object from a qualified name list (`[schema,] name`).
    pub fn key_of(&self, parts: &[String], exists: impl Fn(&str) -> bool) -> Option<String> {
        let (schema, name) = names::split_name(parts)?;
        let schema = self.resolve(schema, name, exists);
        Some(dotted(&schema, name))
    }

    /// The grants a new object of `kind` (`r` relation, `S` sequence, `f` function, `n`
    /// schema) in `schema` starts with: PostgreSQL's defaults and `ALTER DEFAULT PRIVILEGES`.
    pub fn initial_grants(&self, kind: char, schema: &str) -> Vec<Grant> {
        let mut acl = self
            .default_acl
            .get(&(kind, String::new()))
            .cloned()
            .unwrap_or_default();
        if let Some(extra) = self.default_acl.get(&(kind, schema.to_string())) {
            for (grantee, privileges) in extra {
                acl.entry(grantee.clone())
                    .or_default()
                    .extend(privileges.iter().cloned());
            }
        }
        grants::to_grants(&acl)
    }

    /// Note a location (the first one wins).
    pub fn locate(&mut self, kind: &str, key: &str, loc: Loc) {
        let mut k = String::with_capacity(kind.len() + key.len() + 1);
        k.push_str(kind);
        k.push(':');
        k.push_str(key);
        self.locs.objects.entry(k).or_insert(loc);
    }

    /// Note the location of `name` in table (or view) `parent` (`column:s.t.c`).
    pub fn locate_in(&mut self, kind: &str, parent: &str, name: &str, loc: Loc) {
        let mut k = String::with_capacity(kind.len() + parent.len() + name.len() + 2);
        k.push_str(kind);
        k.push(':');
        k.push_str(parent);
        k.push('.');
        k.push_str(name);
        self.locs.objects.entry(k).or_insert(loc);
    }

    /// Move every location under `kind:old…` to `kind:new…` (renames).
    pub fn move_locations(&mut self, kind: &str, old: &str, new: &str) {
        let exact = format!("{kind}:{old}");
        let prefix = format!("{kind}:{old}.");
        let moved: Vec<String> = self
            .locs
            .objects
            .keys()
            .filter(|k| **k == exact || k.starts_with(&prefix))
            .cloned()
            .collect();
        for k in moved {
            if let Some(loc) = self.locs.objects.remove(&k) {
                let rest = &k[exact.len()..];
                self.locs.objects.insert(format!("{kind}:{new}{rest}"), loc);
            }
        }
    }

    /// Forget every location under `kind:key` and `kind:key.…` (a table's columns, …).
    pub fn forget_locations(&mut self, kind: &str, key: &str) {
        let exact = format!("{kind}:{key}");
        let prefix = format!("{kind}:{key}.");
        self.locs
            .objects
            .retain(|k, _| *k != exact && !k.starts_with(&prefix));
    }

    /// Forget the location of one object that has no members (a column, a constraint, …).
    pub fn forget_location(&mut self, kind: &str, key: &str) {
        self.locs.objects.remove(&format!("{kind}:{key}"));
    }
}

/// `PG_VERSION_NUM` of the grammar the files are read with.
fn parser_version() -> u32 {
    pg_query::parse("SELECT", 0)
        .map(|r| u32::try_from(r.protobuf.version).unwrap_or(0))
        .unwrap_or(0)
}
