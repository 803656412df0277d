//! `confiture migrate`: incremental migrations tracked in the Python tool's `tb_confiture`.
//!
//! Every command discovers and checks the migration files before it connects; commands that
//! change anything hold the migration lock (`lock`) for the whole run.

pub mod baseline;
pub mod checksums;
pub mod down;
pub mod dry_run;
pub mod execute;
pub mod ledger;
pub mod lock;
pub mod preview;
pub mod status;
pub mod up;
pub mod verify;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use confiture_core::codes;
use confiture_core::config::{Environment, Project, TargetArgs};
use confiture_core::error::{ConfitureError, Location, Result};
use confiture_core::migrate::checksum;
use confiture_core::migrate::files::{discover, MigrationFile};
use confiture_core::migrate::sidecar::{self, Sidecar};
use confiture_pg::ConnTarget;
use tokio_postgres::Client;

use crate::target::connect_target;
use execute::Timeouts;
use ledger::TrackingTable;

/// `db/migrations` of the project.
pub fn migrations_dir(project_root: &Path) -> PathBuf {
    project_root.join("db").join("migrations")
}

/// A connection for a migration command, with what it needs to know.
pub struct Session {
    pub client: Client,
    pub target: ConnTarget,
    pub table: TrackingTable,
    pub project_root: PathBuf,
    pub environment: Environment,
    /// Things worth telling the user (e.g. "started the embedded cluster").
    pub notices: Vec<String>,
}

impl Session {
    /// Connect to the environment's database as `confiture <command>`.
    pub async fn open(
        project: &Project,
        args: &TargetArgs,
        environment: &Environment,
        command: &str,
    ) -> Result<Session> {
        let mut conn = connect_target(project, args, true).await?;
        // Shown in pg_stat_activity, and to a second `migrate` waiting for the lock.
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let mut name = format!(
            "confiture {command} (pid {} on {})",
            std::process::id(),
            host.trim()
        );
        name.truncate(63);
        conn.conn.application_name = name;
        let client = conn.conn.connect().await?;
        // A killed confiture must not keep its locks while the server waits on a long
        // statement: check the client is still there every second (PostgreSQL 14+).
        let _ = client
            .batch_execute("SET client_connection_check_interval = '1s'")
            .await;
        Ok(Session {
            client,
            target: conn.conn,
            table: TrackingTable::parse(&environment.migration.tracking_table),
            project_root: project.root.clone(),
            environment: environment.clone(),
            notices: conn.notices,
        })
    }

    /// Take the migration lock unless `migration.locking.enabled` is false.
    pub async fn lock(&self, wait: Option<Duration>) -> Result<()> {
        let locking = &self.environment.migration.locking;
        if !locking.enabled {
            return Ok(());
        }
        let wait = wait.unwrap_or(Duration::from_millis(locking.timeout_ms));
        lock::acquire(&self.client, &self.target, wait).await
    }

    /// Fail with exit 2 when the tracking table does not exist.
    pub async fn require_table(&self) -> Result<()> {
        if self.table.exists(&self.client, &self.target).await? {
            return Ok(());
        }
        Err(ConfitureError::new(
            codes::MIGRATE_NO_TRACKING_TABLE,
            format!(
                "the tracking table {} does not exist in {}: no migration has been applied",
                self.table.display(),
                self.target.dbname
            ),
        )
        .with_hint("`confiture migrate up` creates it; `confiture migrate baseline --through V` records an existing schema"))
    }

    pub fn timeouts(&self, sidecar: &Sidecar) -> Timeouts {
        let m = &self.environment.migration;
        Timeouts {
            lock_timeout_ms: sidecar.lock_timeout_ms.unwrap_or(m.lock_timeout_ms),
            statement_timeout_ms: sidecar.statement_timeout_ms.or(m.statement_timeout_ms),
            retries: m.lock_retries,
            backoff_ms: m.lock_retry_backoff_ms,
        }
    }
}

/// The project's migrations, checked (names, duplicate versions, Python files) before anything runs.
pub fn migration_files(project_root: &Path) -> Result<Vec<MigrationFile>> {
    discover(&migrations_dir(project_root))
}

/// SHA-256 of each migration's `.up.sql`, by version.
pub fn checksums(files: &[MigrationFile]) -> Result<HashMap<String, String>> {
    files
        .iter()
        .map(|f| {
            let bytes = std::fs::read(&f.up).map_err(|e| {
                ConfitureError::new(
                    codes::BUILD_FILE_UNREADABLE,
                    format!("cannot read the migration: {e}"),
                )
                .at(Location::file(&f.up))
            })?;
            Ok((f.version.clone(), checksum(&bytes)))
        })
        .collect()
}

pub fn load_sidecar(file: &MigrationFile) -> Result<Sidecar> {
    match &file.sidecar {
        Some(path) => sidecar::load(path, &|k| std::env::var(k).ok()),
        None => Ok(Sidecar::default()),
    }
}

/// `.up.sql` or `.down.sql` path relative to the project, for messages.
pub fn shown(project_root: &Path, path: &Path) -> String {
    confiture_core::build::discover::relative_path(project_root, path)
}

/// The hooks of one migration run in `direction`: the environment's hooks whose `when:` holds
/// wrap the migration's own (they run first in `before_*` phases and last in the others).
/// Every declaration is checked here, before anything runs.
pub fn migration_hooks(
    session: &Session,
    file: &MigrationFile,
    sidecar: &Sidecar,
    script: &execute::Script,
    direction: &str,
) -> Result<Vec<crate::hooks::Hook>> {
    use confiture_core::migrate::hook_decl::Phase;
    let own = match direction {
        "down" => &sidecar.down_hooks,
        _ => &sidecar.hooks,
    };
    let env = &session.environment.migration.hooks;
    if own.is_empty() && env.is_empty() {
        return Ok(Vec::new());
    }
    let sql: Vec<&str> = (0..script.file.statements.len())
        .map(|i| script.file.statement_text(i))
        .collect();
    let label = format!("{}_{}", file.version, file.name);
    let global = crate::hooks::select::environment_hooks(env, &label, direction, &sql)?;
    let cx = crate::hooks::LoadContext {
        project_root: &session.project_root,
        migration_sql: &sql,
    };
    let mut decls: Vec<_> = Vec::new();
    for phase in Phase::ALL {
        let g = global.iter().filter(|h| h.phase == phase);
        let o = own.iter().filter(|h| h.phase == phase);
        if matches!(phase, Phase::BeforeValidation | Phase::BeforeDdl) {
            decls.extend(g.chain(o));
        } else {
            decls.extend(o.chain(g));
        }
    }
    // Environment and migration hooks share one context: keep ids unique.
    let mut decls: Vec<_> = decls.into_iter().cloned().collect();
    confiture_core::migrate::hook_decl::unique_ids(&mut decls);
    let hooks = decls
        .iter()
        .map(|decl| crate::hooks::load(decl, &cx))
        .collect::<Result<Vec<_>>>()?;
    Ok(hooks)
}

/// The context hooks of `file` start from.
pub fn hook_context(
    session: &Session,
    file: &MigrationFile,
    script: &execute::Script,
    direction: &str,
    dry_run: bool,
) -> crate::hooks::context::Context {
    crate::hooks::context::Context::new(&crate::hooks::context::MigrationInfo {
        version: &file.version,
        name: &file.name,
        direction,
        file: &script.file.source.relative,
        database: &session.target.dbname,
        environment: &session.environment.name,
        dry_run,
    })
}

/// A migration selected to run (up or down), checked and ready.
pub struct Planned<'f> {
    pub file: &'f MigrationFile,
    pub script: execute::Script,
    pub mode: execute::Mode,
    pub sidecar: Sidecar,
    pub hooks: Vec<crate::hooks::Hook>,
    /// Checksum of the `.up.sql` (for `up`, the tracking row).
    pub checksum: Option<String>,
}
