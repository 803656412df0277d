//! Schema questions answered as PostgreSQL sees them: `introspect` (read a database into the
//! model), `diff` (compare two sources), `drift` (a live database against `db/schema/`) and
//! `preflight` (do the pending migrations produce `db/schema/`?).
//!
//! A source is an environment, a DSN, or a directory of DDL; a directory (or an environment's
//! schema files) is built into a throwaway database on the project's embedded cluster and read
//! back from the catalog, never guessed from text ([`scratch`]).

pub mod diff;
pub mod drift;
pub mod introspect;
pub mod preflight;
pub mod scratch;

use std::path::{Path, PathBuf};

use confiture_core::config::{Environment, IncludeDir, Project, TargetArgs};
use confiture_core::error::Result;
use confiture_core::schema::Schema;
use serde::Serialize;

/// Where a schema comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A database: an environment's (by name).
    Environment(String),
    /// A database by connection string.
    Dsn(String),
    /// DDL files, built into a throwaway database.
    Directory(PathBuf),
}

impl Source {
    /// `postgresql://…` or `key=value …` is a DSN; an existing directory is a directory;
    /// anything else names an environment.
    pub fn parse(text: &str, project_root: &Path) -> Source {
        if text.starts_with("postgresql://")
            || text.starts_with("postgres://")
            || text.contains('=')
        {
            return Source::Dsn(text.to_string());
        }
        let path = Path::new(text);
        let candidates = [path.to_path_buf(), project_root.join(path)];
        if let Some(dir) = candidates.iter().find(|p| p.is_dir()) {
            return Source::Directory(dir.clone());
        }
        Source::Environment(text.to_string())
    }
}

/// A schema read from a source, with a description safe to print.
#[derive(Debug, Clone, Serialize)]
pub struct Loaded {
    #[serde(skip)]
    pub schema: Schema,
    pub source: String,
    /// What was done to read it (cluster started, scratch database built).
    pub notices: Vec<String>,
}

/// Read `source`. `base` is the environment whose build settings (sort mode, order) a
/// directory is built with.
pub async fn load(project: &Project, source: &Source, base: &Environment) -> Result<Loaded> {
    match source {
        Source::Directory(dir) => {
            let mut env = base.clone();
            env.include_dirs = vec![IncludeDir::plain(dir.clone())];
            env.exclude_dirs = Vec::new();
            let (schema, notices) = scratch::build_and_read(project, &env).await?;
            Ok(Loaded {
                schema,
                source: format!("directory {}", dir.display()),
                notices,
            })
        }
        Source::Environment(name) => {
            let args = TargetArgs {
                database_url: None,
                env: Some(name.clone()),
                config: None,
            };
            introspect::read(project, &args).await
        }
        Source::Dsn(dsn) => {
            let args = TargetArgs {
                database_url: Some(dsn.clone()),
                env: None,
                config: None,
            };
            introspect::read(project, &args).await
        }
    }
}
