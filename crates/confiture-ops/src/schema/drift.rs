//! `confiture drift`: the live database of an environment against its `db/schema/`.

use confiture_core::config::{Environment, Project, TargetArgs};
use confiture_core::error::Result;

use super::diff::{report_files, DiffReport};
use super::{introspect, scratch};

/// `from` = what the schema files describe, `to` = what the database holds: the changes are
/// what someone did to the database by hand (and the SQL would reproduce them in the files).
pub async fn drift(project: &Project, args: &TargetArgs, env: &Environment) -> Result<DiffReport> {
    let live = introspect::read(project, args).await?;
    let (schema, notices) = scratch::build_and_read(project, env).await?;
    let files = super::Loaded {
        schema,
        source: format!("schema files of {}", env.name),
        notices,
    };
    Ok(report_files(files, live))
}
