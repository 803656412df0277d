//! Which database a command talks to, by the documented precedence:
//!
//! 1. `--database-url`
//! 2. an explicit `--env NAME` or `--config FILE`
//! 3. `CONFITURE_DATABASE_URL`
//! 4. the default environment file (`db/environments/local.yaml`), if it exists
//! 5. `DATABASE_URL`
//! 6. libpq defaults (`PGHOST`, `PGPORT`, `PGUSER`, ..., or the local socket)
//!
//! An environment without `database_url` means the project's embedded cluster.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::environment::Environment;
use crate::config::project::{Project, DEFAULT_ENV};
use crate::error::Result;

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct TargetArgs {
    pub database_url: Option<String>,
    pub env: Option<String>,
    pub config: Option<PathBuf>,
}

/// Where the connection string came from, for `doctor` and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetOrigin {
    DatabaseUrlFlag,
    Environment,
    ConfitureDatabaseUrl,
    DefaultEnvironment,
    DatabaseUrlVar,
    LibpqDefaults,
}

impl TargetOrigin {
    pub fn describe(self) -> &'static str {
        match self {
            TargetOrigin::DatabaseUrlFlag => "--database-url",
            TargetOrigin::Environment => "--env/--config",
            TargetOrigin::ConfitureDatabaseUrl => "CONFITURE_DATABASE_URL",
            TargetOrigin::DefaultEnvironment => "default environment file",
            TargetOrigin::DatabaseUrlVar => "DATABASE_URL",
            TargetOrigin::LibpqDefaults => "libpq defaults (PGHOST, PGPORT, ...)",
        }
    }
}

#[derive(Debug, Clone)]
pub enum TargetKind {
    /// A connection string (possibly empty: libpq defaults fill it).
    Dsn(String),
    /// The project's embedded cluster (an environment without `database_url`).
    Embedded,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub origin: TargetOrigin,
    /// The environment in play, if any (even when the URL came from elsewhere, the
    /// environment still supplies tracking table, include dirs, ...).
    pub environment: Option<Environment>,
}

/// Resolve the target of a command.
pub fn resolve(
    project: &Project,
    args: &TargetArgs,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Target> {
    let explicit_env = match (&args.config, &args.env) {
        (Some(path), _) => Some(project.load_environment_file(path, lookup)?),
        (None, Some(name)) => Some(project.load_environment(name, lookup)?),
        (None, None) => None,
    };
    let default_env = || -> Result<Option<Environment>> {
        let path = project.environment_file(DEFAULT_ENV);
        if path.exists() {
            Ok(Some(project.load_environment(DEFAULT_ENV, lookup)?))
        } else {
            Ok(None)
        }
    };
    let from_env = |env: Environment, origin| Target {
        kind: match &env.database_url {
            Some(url) => TargetKind::Dsn(url.clone()),
            None => TargetKind::Embedded,
        },
        origin,
        environment: Some(env),
    };

    if let Some(url) = &args.database_url {
        let environment = match explicit_env {
            Some(e) => Some(e),
            None => default_env()?,
        };
        return Ok(Target {
            kind: TargetKind::Dsn(url.clone()),
            origin: TargetOrigin::DatabaseUrlFlag,
            environment,
        });
    }
    if let Some(env) = explicit_env {
        return Ok(from_env(env, TargetOrigin::Environment));
    }
    if let Some(url) = lookup("CONFITURE_DATABASE_URL").filter(|u| !u.is_empty()) {
        return Ok(Target {
            kind: TargetKind::Dsn(url),
            origin: TargetOrigin::ConfitureDatabaseUrl,
            environment: default_env()?,
        });
    }
    if let Some(env) = default_env()? {
        return Ok(from_env(env, TargetOrigin::DefaultEnvironment));
    }
    if let Some(url) = lookup("DATABASE_URL").filter(|u| !u.is_empty()) {
        return Ok(Target {
            kind: TargetKind::Dsn(url),
            origin: TargetOrigin::DatabaseUrlVar,
            environment: None,
        });
    }
    Ok(Target {
        kind: TargetKind::Dsn(String::new()),
        origin: TargetOrigin::LibpqDefaults,
        environment: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn project_with(envs: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("db/environments")).unwrap();
        for (name, text) in envs {
            std::fs::write(
                dir.path().join(format!("db/environments/{name}.yaml")),
                text,
            )
            .unwrap();
        }
        let p = Project::at(dir.path());
        (dir, p)
    }

    fn dsn(t: &Target) -> &str {
        match &t.kind {
            TargetKind::Dsn(s) => s,
            TargetKind::Embedded => "<embedded>",
        }
    }

    #[test]
    fn precedence_order() {
        let (_d, p) = project_with(&[
            ("local", "database_url: postgresql://localfile/db\n"),
            ("prod", "database_url: postgresql://prodfile/db\n"),
        ]);
        let vars: HashMap<&str, &str> = [
            ("CONFITURE_DATABASE_URL", "postgresql://confvar/db"),
            ("DATABASE_URL", "postgresql://dbvar/db"),
        ]
        .into();
        let lookup = |k: &str| vars.get(k).map(|s| s.to_string());
        let mut args = TargetArgs {
            database_url: Some("postgresql://flag/db".into()),
            env: Some("prod".into()),
            config: None,
        };
        assert_eq!(
            dsn(&resolve(&p, &args, &lookup).unwrap()),
            "postgresql://flag/db"
        );
        args.database_url = None;
        assert_eq!(
            dsn(&resolve(&p, &args, &lookup).unwrap()),
            "postgresql://prodfile/db"
        );
        args.env = None;
        assert_eq!(
            dsn(&resolve(&p, &args, &lookup).unwrap()),
            "postgresql://confvar/db"
        );
        let lookup2 = |k: &str| (k == "DATABASE_URL").then(|| "postgresql://dbvar/db".to_string());
        assert_eq!(
            dsn(&resolve(&p, &args, &lookup2).unwrap()),
            "postgresql://localfile/db"
        );
        let (_d2, empty) = project_with(&[]);
        assert_eq!(
            dsn(&resolve(&empty, &args, &lookup2).unwrap()),
            "postgresql://dbvar/db"
        );
        let t = resolve(&empty, &args, &|_| None).unwrap();
        assert_eq!(t.origin, TargetOrigin::LibpqDefaults);
    }

    #[test]
    fn local_without_url_is_embedded() {
        let (_d, p) = project_with(&[("local", "include_dirs: [db/schema]\n")]);
        let t = resolve(&p, &TargetArgs::default(), &|_| None).unwrap();
        assert!(matches!(t.kind, TargetKind::Embedded));
    }
}
