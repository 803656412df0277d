//! The project-local embedded cluster behind `confiture db start|stop|status|url`, and the
//! default database of the `local` environment when it has no `database_url`.
//!
//! It lives in `<project>/.confiture/postgres/`. When Confiture runs as root and the server's
//! OS user cannot reach the project (a project under `/root`, say), the cluster is placed in
//! `/var/tmp/confiture-clusters/<id>/` instead and `.confiture/postgres.location` points to it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::Serialize;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};

use crate::cluster::binaries::has_server_tools;
use crate::cluster::{os_user, Cluster, ClusterOptions, ClusterState, PgBinaries, RunState};
use crate::connect::{ConnEnv, ConnTarget};

pub struct ProjectCluster {
    pub project_root: PathBuf,
    pub cluster: Cluster,
}

#[derive(Debug, Clone, Serialize)]
pub struct StartOutcome {
    pub created: bool,
    pub already_running: bool,
    pub port: u16,
    /// Set when the remembered port was taken by another program and a new one was chosen.
    pub previous_port: Option<u16>,
    pub database: String,
    pub database_created: bool,
    pub url: String,
    pub data_dir: PathBuf,
    pub log_file: PathBuf,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub state: RunState,
    pub port: Option<u16>,
    pub url: Option<String>,
    pub data_dir: PathBuf,
    pub version: Option<String>,
}

impl ProjectCluster {
    /// The cluster of the project at `project_root` (nothing is created yet).
    pub fn open(
        project_root: &Path,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ProjectCluster> {
        let root = project_root
            .canonicalize()
            .unwrap_or_else(|_| project_root.to_path_buf());
        let os_user = os_user::server_user(var)?;
        let dir = cluster_dir(&root, os_user);
        // A cluster must be run by the binaries that created it.
        let bins = match ClusterState::read(&dir)
            .map(|s| s.bin_dir)
            .filter(|d| has_server_tools(d))
        {
            Some(bin_dir) => PgBinaries::in_dir(bin_dir)?,
            None => PgBinaries::locate(var)?,
        };
        Ok(ProjectCluster {
            project_root: root,
            cluster: Cluster::new(dir, bins, os_user),
        })
    }

    /// The database the `env` environment uses on this cluster: `<project>_<env>`.
    pub fn database_name(&self, env: &str) -> String {
        let project = self
            .project_root
            .file_name()
            .map(|s| s.to_string_lossy().to_lowercase())
            .unwrap_or_else(|| "confiture".into());
        let clean: String = format!("{project}_{env}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        clean.chars().take(63).collect()
    }

    pub fn status(&self) -> ClusterStatus {
        let state = self.cluster.run_state();
        let port = self.cluster.port();
        ClusterStatus {
            state,
            port,
            url: match (state, port) {
                (RunState::Running, Some(p)) => {
                    Some(self.cluster.url(p, &self.database_name("local")))
                }
                _ => None,
            },
            data_dir: self.cluster.data_dir(),
            version: self.cluster.state().map(|s| s.version),
        }
    }

    /// Create (if needed) and start the cluster, and make sure `<project>_<env>` exists.
    pub async fn start(&self, env: &str) -> Result<StartOutcome> {
        let remembered = self.cluster.port();
        let created = self.cluster.init(&ClusterOptions {
            durability_off: false,
        })?;
        let already_running = self.cluster.run_state() == RunState::Running;
        let port = self.cluster.start(remembered)?;
        let database = self.database_name(env);
        let database_created = self.ensure_database(port, &database).await?;
        Ok(StartOutcome {
            created,
            already_running,
            port,
            previous_port: remembered.filter(|p| *p != port),
            url: self.cluster.url(port, &database),
            database,
            database_created,
            data_dir: self.cluster.data_dir(),
            log_file: self.cluster.log_file(),
            version: self.cluster.bins.version.clone(),
        })
    }

    pub fn stop(&self) -> Result<bool> {
        self.cluster.stop()
    }

    /// The connection URL of `env`'s database, if the cluster is running.
    pub fn url(&self, env: &str) -> Option<String> {
        match (self.cluster.run_state(), self.cluster.port()) {
            (RunState::Running, Some(port)) => {
                Some(self.cluster.url(port, &self.database_name(env)))
            }
            _ => None,
        }
    }

    async fn ensure_database(&self, port: u16, dbname: &str) -> Result<bool> {
        let env = ConnEnv {
            var: &|_| None,
            home: None,
            os_user: None,
        };
        let admin = ConnTarget::resolve(&self.cluster.url(port, "postgres"), &env)?;
        let client = admin.connect().await?;
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&dbname])
            .await
            .map_err(|e| admin.classify(&e))?
            .is_some();
        if exists {
            return Ok(false);
        }
        let sql = format!("CREATE DATABASE {}", crate::ident::quote_ident(dbname));
        client.batch_execute(&sql).await.map_err(|e| {
            ConfitureError::new(
                codes::SQL_FAILED,
                format!("cannot create database {dbname}: {e}"),
            )
        })?;
        Ok(true)
    }
}

fn cluster_dir(root: &Path, os_user: Option<os_user::OsUser>) -> PathBuf {
    let local = root.join(".confiture/postgres");
    let pointer = root.join(".confiture/postgres.location");
    if let Ok(text) = std::fs::read_to_string(&pointer) {
        return PathBuf::from(text.trim());
    }
    match os_user {
        Some(u) if !os_user::can_traverse(&local, u) => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            root.hash(&mut h);
            let dir = PathBuf::from(format!("/var/tmp/confiture-clusters/{:016x}", h.finish()));
            let _ = std::fs::create_dir_all(root.join(".confiture"));
            let _ = std::fs::create_dir_all("/var/tmp/confiture-clusters");
            let _ = std::fs::write(&pointer, format!("{}\n", dir.display()));
            dir
        }
        _ => local,
    }
}
