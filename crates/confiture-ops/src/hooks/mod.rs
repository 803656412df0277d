//! Migration hooks: typed actions that run around a migration's statements, in six phases.
//!
//! A hook is declared (`confiture-core::migrate::hook_decl`), loaded here into a typed [`Action`]
//! (each type decodes its own `config` in its own file under `types/`), and run by
//! [`runner`] inside the migration's transaction, each in its own SAVEPOINT.
//!
//! Adding a hook type: one file in `types/`, one variant of [`Action`], one row of [`TYPES`].

pub mod context;
pub mod db;
pub mod runner;
pub mod select;
pub mod types;

use std::path::Path;
use std::time::Duration;

use confiture_core::codes;
use confiture_core::config::decode::{suggest, Decoder, MapReader};
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::hook_decl::HookDecl;
use confiture_core::yaml::Node;
use confiture_pg::ConnTarget;
use serde::Serialize;
use tokio_postgres::Client;

use types::*;

pub(crate) use db::sql_error_plain as sql_error;

/// Every hook type: its name and the names the vision documents use for it.
pub const TYPES: &[(&str, &[&str])] = &[
    ("sql", &[]),
    ("capture_statistics", &[]),
    ("backfill", &["backfill_read_model"]),
    ("verify_consistency", &[]),
    ("test_queries", &["test_application_queries"]),
    ("rebuild_index", &[]),
    ("analyze", &["analyze_statistics"]),
    ("drop_temporary_tables", &[]),
    ("backup", &["backup_database"]),
    ("command", &[]),
    ("notify", &[]),
];

/// A hook, loaded and ready to run.
#[derive(Debug, Clone)]
pub struct Hook {
    pub decl: HookDecl,
    /// The canonical type name.
    pub kind: &'static str,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    Sql(types::sql::SqlHook),
    CaptureStatistics(capture_statistics::CaptureStatistics),
    Backfill(backfill::Backfill),
    VerifyConsistency(verify_consistency::VerifyConsistency),
    TestQueries(test_queries::TestQueries),
    RebuildIndex(rebuild_index::RebuildIndex),
    Analyze(analyze::Analyze),
    DropTemporaryTables(drop_temporary_tables::DropTemporaryTables),
    Backup(backup::Backup),
    Command(command::Command),
    Notify(notify::Notify),
}

/// What loading a hook needs to know.
pub struct LoadContext<'a> {
    pub project_root: &'a Path,
    /// SQL of the migration the hook belongs to (for defaults such as `analyze`'s tables).
    pub migration_sql: &'a [&'a str],
}

/// Decode `decl`'s `config` into its typed action.
pub fn load(decl: &HookDecl, cx: &LoadContext<'_>) -> Result<Hook> {
    let Some((kind, _)) = TYPES
        .iter()
        .find(|(name, aliases)| *name == decl.kind || aliases.contains(&decl.kind.as_str()))
    else {
        let names: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
        let err = ConfitureError::new(
            codes::MIGRATE_HOOK_CONFIG,
            format!("'{}.type': unknown hook type '{}'", decl.path, decl.kind),
        )
        .at(decl.location.clone());
        return Err(match suggest(&decl.kind, &names) {
            Some(s) => err.with_hint(format!("did you mean '{s}'? (types: {})", names.join(", "))),
            None => err.with_hint(format!("hook types: {}", names.join(", "))),
        });
    };
    let lookup = |k: &str| std::env::var(k).ok();
    let config = Config::open(decl, &lookup)?;
    let action = match *kind {
        "sql" => Action::Sql(types::sql::SqlHook::load(&config, cx)?),
        "capture_statistics" => {
            Action::CaptureStatistics(capture_statistics::CaptureStatistics::load(&config)?)
        }
        "backfill" => Action::Backfill(backfill::Backfill::load(&config)?),
        "verify_consistency" => {
            Action::VerifyConsistency(verify_consistency::VerifyConsistency::load(&config)?)
        }
        "test_queries" => Action::TestQueries(test_queries::TestQueries::load(&config, cx)?),
        "rebuild_index" => Action::RebuildIndex(rebuild_index::RebuildIndex::load(&config)?),
        "analyze" => Action::Analyze(analyze::Analyze::load(&config, cx)?),
        "drop_temporary_tables" => {
            Action::DropTemporaryTables(drop_temporary_tables::DropTemporaryTables::load(&config)?)
        }
        "backup" => Action::Backup(backup::Backup::load(&config, cx)?),
        "command" => Action::Command(command::Command::load(&config, cx)?),
        "notify" => Action::Notify(notify::Notify::load(&config)?),
        other => unreachable!("hook type {other} is listed in TYPES but has no loader"),
    };
    config.finish()?;
    Ok(Hook {
        decl: decl.clone(),
        kind,
        action,
    })
}

impl Hook {
    /// Whether the hook runs during `--dry-run`: its `dry_run:` setting, else the type's
    /// default (hooks with effects outside the database — files, programs, messages — do not).
    pub fn runs_in_dry_run(&self) -> bool {
        self.decl.dry_run.unwrap_or(!matches!(
            self.action,
            Action::Backup(_) | Action::Notify(_) | Action::Command(_)
        ))
    }

    /// The SQL the hook runs, when it is fixed in advance (for `--preview` and pipelining);
    /// otherwise a description of what it does.
    pub fn preview(&self) -> Preview {
        match &self.action {
            Action::Sql(h) => Preview::Sql(h.statements.clone()),
            Action::CaptureStatistics(h) => Preview::Note(h.describe()),
            Action::Backfill(h) => Preview::Note(h.describe()),
            Action::VerifyConsistency(h) => Preview::Note(h.describe()),
            Action::TestQueries(h) => Preview::Note(h.describe()),
            Action::RebuildIndex(h) => Preview::Sql(h.statements()),
            Action::Analyze(h) => Preview::Sql(h.statements()),
            Action::DropTemporaryTables(h) => Preview::Note(h.describe()),
            Action::Backup(h) => Preview::Note(h.describe()),
            Action::Command(h) => Preview::Note(h.describe()),
            Action::Notify(h) => Preview::Note(h.describe()),
        }
    }

    async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        match &self.action {
            Action::Sql(h) => h.run(run).await,
            Action::CaptureStatistics(h) => h.run(run).await,
            Action::Backfill(h) => h.run(run).await,
            Action::VerifyConsistency(h) => h.run(run).await,
            Action::TestQueries(h) => h.run(run).await,
            Action::RebuildIndex(h) => db::run_all(run, &h.statements()).await,
            Action::Analyze(h) => db::run_all(run, &h.statements()).await,
            Action::DropTemporaryTables(h) => h.run(run).await,
            Action::Backup(h) => h.run(run).await,
            Action::Command(h) => h.run(run).await,
            Action::Notify(h) => h.run(run).await,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "text")]
pub enum Preview {
    Sql(Vec<String>),
    Note(String),
}

/// What a running hook can use.
pub struct HookRun<'a> {
    pub client: &'a Client,
    pub target: &'a ConnTarget,
    pub project_root: &'a Path,
    /// The migration context: the migration, earlier hooks' results, the error for `on_error`.
    pub context: &'a serde_json::Value,
    pub timeout: Option<Duration>,
    /// Progress lines (backfill batches), shown on a terminal.
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// What a hook produced: rows it changed or read, and values later hooks can read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HookOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub values: serde_json::Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A hook's `config` mapping, read key by key; unknown keys are errors at their line.
pub struct Config<'a> {
    pub dec: Decoder<'a>,
    pub map: std::cell::RefCell<MapReader<'a>>,
    pub path: String,
    pub decl: &'a HookDecl,
}

static EMPTY: Node = Node {
    value: confiture_core::yaml::Value::Null,
    line: 0,
    column: 0,
};

impl<'a> Config<'a> {
    fn open(decl: &'a HookDecl, lookup: &'a dyn Fn(&str) -> Option<String>) -> Result<Config<'a>> {
        let dec = Decoder {
            file: &decl.location.file,
            lookup,
        };
        let path = format!("{}.config", decl.path);
        let node = decl.config.as_ref().unwrap_or(&EMPTY);
        let map = dec.map(node, &path)?;
        Ok(Config {
            dec,
            map: std::cell::RefCell::new(map),
            path,
            decl,
        })
    }

    pub fn get(&self, key: &'static str) -> Option<&'a Node> {
        self.map.borrow_mut().get(key)
    }

    pub fn key(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    pub fn string(&self, key: &'static str) -> Result<Option<String>> {
        self.get(key)
            .map(|n| self.dec.string(n, &self.key(key)))
            .transpose()
    }

    pub fn strings(&self, key: &'static str) -> Result<Vec<String>> {
        match self.get(key) {
            Some(n) => self.dec.string_list(n, &self.key(key)),
            None => Ok(Vec::new()),
        }
    }

    pub fn u64(&self, key: &'static str) -> Result<Option<u64>> {
        self.get(key)
            .map(|n| self.dec.u64(n, &self.key(key)))
            .transpose()
    }

    pub fn bool(&self, key: &'static str) -> Result<Option<bool>> {
        self.get(key)
            .map(|n| self.dec.bool(n, &self.key(key)))
            .transpose()
    }

    /// A located error about this hook's config (at `node`, or at the hook).
    pub fn error(&self, node: Option<&Node>, message: impl Into<String>) -> ConfitureError {
        let err = ConfitureError::new(codes::MIGRATE_HOOK_CONFIG, message);
        match node {
            Some(n) => err.at(confiture_core::error::Location::at(
                self.dec.file,
                n.line,
                n.column,
            )),
            None => err.at(self.decl.location.clone()),
        }
    }

    /// The error for a required key that is missing.
    pub fn missing(&self, what: &str) -> ConfitureError {
        self.error(None, format!("'{}' needs {what}", self.path))
    }

    fn finish(self) -> Result<()> {
        self.map.into_inner().finish(&self.dec)
    }
}
