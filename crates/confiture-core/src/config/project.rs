//! The project: the directory that holds `db/`, and its environments.

use std::path::{Path, PathBuf};

use crate::codes;
use crate::config::environment::Environment;
use crate::error::{ConfitureError, Location, Result};

/// The environment used when none is named.
pub const DEFAULT_ENV: &str = "local";

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// The project at `root` (no check that it has a `db/` directory).
    pub fn at(root: impl Into<PathBuf>) -> Project {
        Project { root: root.into() }
    }

    /// Find the project containing `start`: the nearest ancestor with `db/environments/`
    /// (or `db/`). Falls back to `start` itself, so commands that need no project still work.
    pub fn discover(start: &Path) -> Project {
        for dir in start.ancestors() {
            if dir.join("db/environments").is_dir() {
                return Project::at(dir);
            }
        }
        Project::at(start)
    }

    pub fn environments_dir(&self) -> PathBuf {
        self.root.join("db/environments")
    }

    pub fn environment_file(&self, name: &str) -> PathBuf {
        self.environments_dir().join(format!("{name}.yaml"))
    }

    /// Names of the environments defined in `db/environments/`, sorted.
    pub fn environment_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.environments_dir())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                (p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                    .then(|| p.file_stem()?.to_str().map(str::to_string))
                    .flatten()
            })
            .collect();
        names.sort();
        names
    }

    /// Load environment `name`. An unknown name lists the environments that exist.
    pub fn load_environment(
        &self,
        name: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Environment> {
        let mut path = self.environment_file(name);
        if !path.exists() {
            let yml = self.environments_dir().join(format!("{name}.yml"));
            if yml.exists() {
                path = yml;
            } else {
                let known = self.environment_names();
                let hint = if known.is_empty() {
                    "run `confiture init` to create a project, or pass --project-dir".to_string()
                } else {
                    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
                    match crate::config::decode::suggest(name, &refs) {
                        Some(s) => {
                            format!("did you mean '{s}'? environments: {}", known.join(", "))
                        }
                        None => format!("environments: {}", known.join(", ")),
                    }
                };
                return Err(ConfitureError::new(
                    codes::CONFIG_NOT_FOUND,
                    format!(
                        "environment '{name}' not found: expected {}",
                        path.display()
                    ),
                )
                .with_hint(hint)
                .at(Location::file(&path)));
            }
        }
        Environment::load(&path, &self.root, lookup)
    }

    /// Load an environment from an explicit file (`--config FILE`). Relative directories in
    /// it resolve against the project root.
    pub fn load_environment_file(
        &self,
        path: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Environment> {
        Environment::load(path, &self.root, lookup)
    }
}
