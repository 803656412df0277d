//! Turning the configured target into a connection: a DSN resolved with libpq's rules, or the
//! project's embedded cluster (started on demand).

use confiture_core::codes;
use confiture_core::config::{self, Environment, Project, TargetArgs, TargetKind, TargetOrigin};
use confiture_core::error::{ConfitureError, Result};
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
            // The embedded database is named after the environment file (`local.yaml` →
            // `<project>_local`), the same name `confiture db start -e local` creates.
            let env_name = target
                .environment
                .as_ref()
                .and_then(|e| e.source.file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| config::DEFAULT_ENV.to_string());
            let cluster = ProjectCluster::open(&project.root, &var)?;
            let mut notices = Vec::new();
            let url = match cluster.url(&env_name) {
                Some(url) => url,
                // Never guess a port: another server could be listening there.
                None if !start_embedded => {
                    return Err(ConfitureError::new(
                        codes::CONN_REFUSED,
                        format!(
                            "the environment '{env_name}' uses the project's embedded PostgreSQL, which is not running"
                        ),
                    )
                    .with_hint("start it with `confiture db start`, or set database_url in the environment file"))
                }
                None => {
                    let outcome = cluster.start(&env_name).await?;
                    notices.push(format!(
                        "started the embedded PostgreSQL {} on port {} (stop it with `confiture db stop`)",
                        outcome.version, outcome.port
                    ));
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
