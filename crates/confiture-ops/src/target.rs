//! Turning the configured target into a connection: a DSN resolved with libpq's rules, or the
//! project's embedded cluster (started on demand).

use confiture_core::config::{self, Environment, Project, TargetArgs, TargetKind, TargetOrigin};
use confiture_core::error::Result;
use confiture_pg::project_cluster::ProjectCluster;
use confiture_pg::{ConnEnv, ConnTarget};

/// A database to talk to, and what was done to reach it.
pub struct Connection {
    pub conn: ConnTarget,
    pub origin: TargetOrigin,
    pub environment: Option<Environment>,
    pub embedded: bool,
    /// Things worth telling the user (e.g. "started the embedded cluster").
    pub notices: Vec<String>,
}

/// Resolve the target of a command. When it is the embedded cluster and `start_embedded` is
/// set, the cluster is created and started if needed.
pub async fn connect_target(
    project: &Project,
    args: &TargetArgs,
    start_embedded: bool,
) -> Result<Connection> {
    let var = |k: &str| std::env::var(k).ok();
    let target = config::target::resolve(project, args, &var)?;
    let env = ConnEnv::process();
    match target.kind {
        TargetKind::Dsn(dsn) => Ok(Connection {
            conn: ConnTarget::resolve(&dsn, &env)?,
            origin: target.origin,
            environment: target.environment,
            embedded: false,
            notices: Vec::new(),
        }),
        TargetKind::Embedded => {
            let env_name = target
                .environment
                .as_ref()
                .map(|e| e.name.clone())
                .unwrap_or_else(|| config::DEFAULT_ENV.to_string());
            let cluster = ProjectCluster::open(&project.root, &var)?;
            let mut notices = Vec::new();
            let url = match cluster.url(&env_name) {
                Some(url) if !start_embedded => url,
                _ if !start_embedded => {
                    // Not running: report the URL it would have, connection will fail clearly.
                    let port = cluster.cluster.port().unwrap_or(5432);
                    cluster.cluster.url(port, &cluster.database_name(&env_name))
                }
                _ => {
                    let outcome = cluster.start(&env_name).await?;
                    if !outcome.already_running {
                        notices.push(format!(
                            "started the embedded PostgreSQL {} on port {} (stop it with `confiture db stop`)",
                            outcome.version, outcome.port
                        ));
                    }
                    outcome.url
                }
            };
            Ok(Connection {
                conn: ConnTarget::resolve(&url, &env)?,
                origin: target.origin,
                environment: target.environment,
                embedded: true,
                notices,
            })
        }
    }
}
