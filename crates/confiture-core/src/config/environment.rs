//! `db/environments/<env>.yaml`: the typed environment configuration.
//!
//! Accepts every key that projects written for confiture (the Python tool) use, so they load
//! unchanged. Keys Confiture does not interpret yet are accepted as-is (listed in `PYTHON_ONLY_*`)
//! rather than rejected; any other unknown key is an error with a suggestion.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::codes;
use crate::config::decode::{Decoder, MapReader};
use crate::config::source;
use crate::error::{ConfitureError, Location, Result};
use crate::migrate::hook_decl::{decode_hooks, HookDecl};
use crate::yaml::{self, Node};

/// Top-level keys of the Python tool that Confiture accepts but does not act on yet.
const PYTHON_ONLY_TOP: &[&str] = &[
    "superuser_dirs",
    "superuser_post_dirs",
    "infrastructure",
    "seed",
    "drift",
    "ssh_tunnel",
    "acls",
    "ownership",
    "function_coverage",
    "security_lint",
    "lint",
];
const PYTHON_ONLY_BUILD: &[&str] = &["two_pass", "validate_comments", "separators", "lint"];
const PYTHON_ONLY_MIGRATION: &[&str] = &[
    "strict_mode",
    "destructive",
    "backfill",
    "view_helpers",
    "migration_generators",
    "snapshot_history",
    "snapshots_dir",
    "live_snapshot",
    "rebuild_threshold",
    "grant_dir",
    "allow_unsafe_under_replication",
];

#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    /// The environment name (the file stem, or the `name` key).
    pub name: String,
    /// The file this environment was read from.
    pub source: PathBuf,
    /// The project root (the directory that holds `db/`).
    pub project_dir: PathBuf,
    /// The connection string; `None` means "the embedded cluster" for the `local` environment.
    #[serde(skip)]
    pub database_url: Option<String>,
    pub include_dirs: Vec<IncludeDir>,
    pub exclude_dirs: Vec<PathBuf>,
    pub build: BuildConfig,
    pub migration: MigrationConfig,
    /// `linting:` (defaults when absent).
    pub linting: super::linting::LintingConfig,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncludeDir {
    /// Absolute path.
    pub path: PathBuf,
    pub recursive: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub order: i64,
    /// `true`: a missing directory is skipped. Default `false`: it is an error (`BUILD_001`).
    pub auto_discover: bool,
    /// Where the entry is written (`include_dirs[i]` in the environment file), for error messages;
    /// `None` for the default `db/schema`.
    #[serde(skip)]
    pub origin: Option<(Location, String)>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortMode {
    #[default]
    Alphabetical,
    Natural,
    Hex,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BuildOrder {
    /// Files in discovery order.
    #[default]
    Files,
    /// Statements in dependency order.
    Dependencies,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct BuildConfig {
    pub sort_mode: SortMode,
    pub order: BuildOrder,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationConfig {
    /// Possibly schema-qualified (`schema.table`).
    pub tracking_table: String,
    /// The advisory lock that serializes `migrate` runs on one database.
    pub locking: LockingConfig,
    /// `lock_timeout` of every migration statement: a migration never queues behind a long
    /// transaction while blocking the traffic queued behind it.
    pub lock_timeout_ms: u64,
    /// How many times a migration whose statement hit `lock_timeout` is retried.
    pub lock_retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub lock_retry_backoff_ms: u64,
    /// `statement_timeout` of migration statements (`None`: the server's setting).
    pub statement_timeout_ms: Option<u64>,
    /// Hooks for every migration that matches their `when:` condition.
    pub hooks: Vec<HookDecl>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LockingConfig {
    pub enabled: bool,
    pub timeout_ms: u64,
}

impl Default for MigrationConfig {
    fn default() -> Self {
        MigrationConfig {
            tracking_table: "tb_confiture".into(),
            locking: LockingConfig {
                enabled: true,
                timeout_ms: 30_000,
            },
            lock_timeout_ms: 5_000,
            lock_retries: 3,
            lock_retry_backoff_ms: 500,
            statement_timeout_ms: None,
            hooks: Vec::new(),
        }
    }
}

impl Environment {
    /// Load the environment file at `path`, resolving relative directories against
    /// `project_dir`. `lookup` resolves `${VAR}` references (normally the process environment).
    pub fn load(
        path: &Path,
        project_dir: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Environment> {
        let text = source::read_text(path)?;
        let Some(root) = yaml::parse(&text, path)? else {
            return Err(ConfitureError::new(
                codes::CONFIG_EMPTY,
                format!("{} is empty", path.display()),
            )
            .with_hint("an environment needs at least `database_url:` (or none, for the embedded local cluster) and `include_dirs:`")
            .at(Location::at(path, 1, 1)));
        };
        let dec = Decoder { file: path, lookup };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        decode_environment(&dec, &root, stem, project_dir)
    }
}

fn decode_environment(
    dec: &Decoder<'_>,
    root: &Node,
    stem: String,
    project_dir: &Path,
) -> Result<Environment> {
    let mut map = dec.map(root, "")?;
    if let Some(key) = map.key_node("migration_table") {
        return Err(dec
            .error(
                codes::CONFIG_UNKNOWN_KEY,
                key,
                "unknown key 'migration_table' at top level",
            )
            .with_hint(
                "move it under 'migration:' and rename it: migration: { tracking_table: ... }",
            ));
    }
    let name = match map.get("name") {
        Some(n) => dec.string(n, "name")?,
        None => stem,
    };
    let database_url = match map.get("database_url") {
        Some(n) => {
            let url = dec.string(n, "database_url")?;
            validate_database_url(dec, n, &url)?;
            Some(url)
        }
        None => None,
    };
    let include_dirs = match map.get("include_dirs") {
        Some(n) => dec
            .seq(n, "include_dirs")?
            .iter()
            .enumerate()
            .map(|(i, item)| decode_include_dir(dec, item, i, project_dir))
            .collect::<Result<Vec<_>>>()?,
        None => vec![IncludeDir::plain(project_dir.join("db/schema"))],
    };
    let exclude_dirs = match map.get("exclude_dirs") {
        Some(n) => dec
            .string_list(n, "exclude_dirs")?
            .into_iter()
            .map(|d| project_dir.join(d))
            .collect(),
        None => Vec::new(),
    };
    let build = match map.get("build") {
        Some(n) => decode_build(dec, n)?,
        None => BuildConfig::default(),
    };
    let migration = match map.get("migration") {
        Some(n) => decode_migration(dec, n, project_dir)?,
        None => MigrationConfig::default(),
    };
    let linting = match map.get("linting") {
        Some(n) => super::linting::decode(dec, n)?,
        None => super::linting::LintingConfig::default(),
    };
    map.accept(PYTHON_ONLY_TOP);
    map.finish(dec)?;
    Ok(Environment {
        name,
        source: dec.file.to_path_buf(),
        project_dir: project_dir.to_path_buf(),
        database_url,
        include_dirs,
        exclude_dirs,
        build,
        migration,
        linting,
    })
}

fn validate_database_url(dec: &Decoder<'_>, node: &Node, url: &str) -> Result<()> {
    let ok =
        url.starts_with("postgresql://") || url.starts_with("postgres://") || url.contains('=');
    if ok {
        return Ok(());
    }
    Err(dec
        .error(
            codes::CONFIG_INVALID_VALUE,
            node,
            format!(
                "'database_url' must be a PostgreSQL URL or key=value DSN, found '{}'",
                crate::redact::redact_dsn(url)
            ),
        )
        .with_hint("e.g. postgresql://user@localhost:5432/myapp_local"))
}

impl IncludeDir {
    pub fn plain(path: PathBuf) -> Self {
        IncludeDir {
            path,
            recursive: true,
            include: vec!["**/*.sql".into()],
            exclude: Vec::new(),
            order: 0,
            auto_discover: false,
            origin: None,
        }
    }
}

fn decode_include_dir(
    dec: &Decoder<'_>,
    node: &Node,
    index: usize,
    project_dir: &Path,
) -> Result<IncludeDir> {
    let key = format!("include_dirs[{index}]");
    let origin = Some((Location::at(dec.file, node.line, node.column), key.clone()));
    if let yaml::Value::Str(_) = node.value {
        let path = dec.string(node, &key)?;
        let mut dir = IncludeDir::plain(project_dir.join(path));
        dir.origin = origin;
        return Ok(dir);
    }
    let mut map: MapReader<'_> = dec.map(node, &key)?;
    let Some(path_node) = map.get("path") else {
        return Err(dec
            .error(
                codes::CONFIG_MISSING_KEY,
                node,
                format!("'{key}' needs a 'path'"),
            )
            .with_hint("e.g. - path: db/schema/01_write_side"));
    };
    let mut dir = IncludeDir::plain(project_dir.join(dec.string(path_node, &map.path_of("path"))?));
    dir.origin = origin;
    if let Some(n) = map.get("recursive") {
        dir.recursive = dec.bool(n, &map.path_of("recursive"))?;
    }
    if let Some(n) = map.get("include") {
        dir.include = dec.string_list(n, &map.path_of("include"))?;
    }
    if let Some(n) = map.get("exclude") {
        dir.exclude = dec.string_list(n, &map.path_of("exclude"))?;
    }
    if let Some(n) = map.get("order") {
        dir.order = dec.i64(n, &map.path_of("order"))?;
    }
    if let Some(n) = map.get("auto_discover") {
        dir.auto_discover = dec.bool(n, &map.path_of("auto_discover"))?;
    }
    map.finish(dec)?;
    Ok(dir)
}

fn decode_build(dec: &Decoder<'_>, node: &Node) -> Result<BuildConfig> {
    let mut map = dec.map(node, "build")?;
    let mut build = BuildConfig::default();
    if let Some(n) = map.get("sort_mode") {
        build.sort_mode = match dec.string(n, "build.sort_mode")?.as_str() {
            "alphabetical" => SortMode::Alphabetical,
            "natural" => SortMode::Natural,
            "hex" => SortMode::Hex,
            other => {
                return Err(dec
                    .error(
                        codes::CONFIG_INVALID_VALUE,
                        n,
                        format!("'build.sort_mode' cannot be '{other}'"),
                    )
                    .with_hint("use one of: alphabetical, natural, hex"))
            }
        };
    }
    if let Some(n) = map.get("order") {
        build.order = match dec.string(n, "build.order")?.as_str() {
            "files" => BuildOrder::Files,
            "dependencies" => BuildOrder::Dependencies,
            other => {
                return Err(dec
                    .error(
                        codes::CONFIG_INVALID_VALUE,
                        n,
                        format!("'build.order' cannot be '{other}'"),
                    )
                    .with_hint("use one of: files, dependencies"))
            }
        };
    }
    map.accept(PYTHON_ONLY_BUILD);
    map.finish(dec)?;
    Ok(build)
}

fn decode_migration(dec: &Decoder<'_>, node: &Node, project_dir: &Path) -> Result<MigrationConfig> {
    let mut map = dec.map(node, "migration")?;
    let mut migration = MigrationConfig::default();
    if let Some(n) = map.get("tracking_table") {
        let table = dec.string(n, "migration.tracking_table")?;
        let valid = {
            let parts: Vec<&str> = table.split('.').collect();
            parts.len() <= 2 && parts.iter().all(|p| is_plain_identifier(p))
        };
        if !valid {
            return Err(dec
                .error(
                    codes::CONFIG_INVALID_VALUE,
                    n,
                    format!("'migration.tracking_table' is not a valid table name: '{table}'"),
                )
                .with_hint("use letters, digits and underscores, optionally schema-qualified: public.tb_confiture"));
        }
        migration.tracking_table = table;
    }
    if let Some(n) = map.get("locking") {
        let mut locking = dec.map(n, "migration.locking")?;
        if let Some(v) = locking.get("enabled") {
            migration.locking.enabled = dec.bool(v, "migration.locking.enabled")?;
        }
        if let Some(v) = locking.get("timeout_ms") {
            migration.locking.timeout_ms = dec.u64(v, "migration.locking.timeout_ms")?;
        }
        locking.finish(dec)?;
    }
    if let Some(n) = map.get("lock_timeout_ms") {
        migration.lock_timeout_ms = dec.u64(n, "migration.lock_timeout_ms")?;
    }
    if let Some(n) = map.get("lock_retries") {
        let retries = dec.u64(n, "migration.lock_retries")?;
        migration.lock_retries = u32::try_from(retries).map_err(|_| {
            dec.error(
                codes::CONFIG_INVALID_VALUE,
                n,
                "'migration.lock_retries' is too large",
            )
        })?;
    }
    if let Some(n) = map.get("lock_retry_backoff_ms") {
        migration.lock_retry_backoff_ms = dec.u64(n, "migration.lock_retry_backoff_ms")?;
    }
    if let Some(n) = map.get("statement_timeout_ms") {
        migration.statement_timeout_ms = Some(dec.u64(n, "migration.statement_timeout_ms")?);
    }
    if let Some(n) = map.get("hooks") {
        migration.hooks = decode_hooks(dec, n, "migration.hooks", true, project_dir)?;
    }
    map.accept(PYTHON_ONLY_MIGRATION);
    map.finish(dec)?;
    Ok(migration)
}

fn is_plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Environment> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("local.yaml");
        std::fs::write(&p, text).unwrap();
        let lookup = |name: &str| (name == "DB_HOST").then(|| "db.internal".to_string());
        Environment::load(&p, dir.path(), &lookup)
    }

    #[test]
    fn python_project_loads() {
        let env = load(
            "name: local\ndatabase_url: postgresql://${DB_HOST}/app\ninclude_dirs:\n  - db/schema/00_common\n  - path: db/schema/01_write_side\n    recursive: false\n    include: ['*.sql']\n    order: 2\nexclude_dirs: [db/schema/old]\nbuild:\n  sort_mode: hex\n  validate_comments: {enabled: true}\nmigration:\n  tracking_table: public.tb_confiture\n  locking: {enabled: false, timeout_ms: 5000}\n  strict_mode: true\nseed: {execution_mode: sequential}\n",
        )
        .unwrap();
        assert_eq!(
            env.database_url.as_deref(),
            Some("postgresql://db.internal/app")
        );
        assert_eq!(env.include_dirs.len(), 2);
        assert!(!env.include_dirs[1].recursive);
        assert_eq!(env.include_dirs[1].order, 2);
        assert_eq!(env.build.sort_mode, SortMode::Hex);
        assert_eq!(env.migration.tracking_table, "public.tb_confiture");
        assert!(!env.migration.locking.enabled);
        assert_eq!(env.migration.locking.timeout_ms, 5000);
    }

    #[test]
    fn unknown_nested_key_suggests() {
        let err = load("migration:\n  lockng: {}\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_005");
        assert_eq!(err.hint.as_deref(), Some("did you mean 'locking'?"));
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (Some(2), Some(3)));
    }
}
