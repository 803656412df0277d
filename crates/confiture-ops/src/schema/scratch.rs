//! Building DDL into a throwaway database on the project's embedded cluster and reading it
//! back: what PostgreSQL makes of the files, not a guess from their text. The database is
//! dropped afterwards, whatever happens.

use confiture_core::config::{Environment, Project, TargetOrigin};
use confiture_core::error::Result;
use confiture_core::ident::quote_ident;
use confiture_core::schema::Schema;
use confiture_pg::project_cluster::ProjectCluster;
use confiture_pg::{ConnEnv, ConnTarget};

use crate::build::apply::{apply, ApplyOptions};
use crate::build::{build, BuildOptions, OutputTarget};
use crate::target::Connection;

/// A fresh, empty database on the embedded cluster (started if needed), and notices.
pub async fn scratch_database(project: &Project) -> Result<(ConnTarget, Vec<String>)> {
    let var = |k: &str| std::env::var(k).ok();
    let cluster = ProjectCluster::open(&project.root, &var)?;
    let mut notices = Vec::new();
    let url = match cluster.url("local") {
        Some(url) => url,
        None => {
            let outcome = cluster.start("local").await?;
            notices.push(format!(
                "started the embedded PostgreSQL {} on port {} (stop it with `confiture db stop`)",
                outcome.version, outcome.port
            ));
            outcome.url
        }
    };
    let base = ConnTarget::resolve(&url, &ConnEnv::process())?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("confiture_scratch_{}_{nanos}", std::process::id());
    Ok((base.with_dbname(&name), notices))
}

/// Drop a scratch database (connections to it are closed first).
pub async fn drop_scratch(target: &ConnTarget) {
    if let Ok(admin) = target.with_dbname("postgres").connect().await {
        let _ = admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&target.dbname)
            ))
            .await;
    }
}

/// Build `env`'s schema files (no seeds) into a scratch database and read it.
pub async fn build_and_read(project: &Project, env: &Environment) -> Result<(Schema, Vec<String>)> {
    let built = build(
        env,
        &BuildOptions {
            schema_only: true,
            order: None,
            output: OutputTarget::Stdout,
            timestamp: false,
        },
    )?;
    let (target, mut notices) = scratch_database(project).await?;
    let conn = Connection {
        conn: target.clone(),
        origin: TargetOrigin::Environment,
        environment: None,
        embedded: true,
        notices: Vec::new(),
    };
    let result = async {
        apply(
            &conn,
            "scratch",
            &built,
            ApplyOptions::default(),
            &mut |_, _| {},
        )
        .await?;
        let client = target.connect().await?;
        super::introspect::read_client(&client, &target).await
    }
    .await;
    drop_scratch(&target).await;
    notices.push(format!(
        "built {} file(s) into a scratch database on the embedded cluster (dropped afterwards)",
        built.files.len()
    ));
    result.map(|schema| (schema, notices))
}
