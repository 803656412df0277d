//! Finding PostgreSQL server binaries: `CONFITURE_PG_BIN`, then `PATH`, then
//! `pg_config --bindir`, then `/usr/lib/postgresql/*/bin` (newest major first).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};

/// The programs a cluster needs.
const REQUIRED: &[&str] = &["initdb", "pg_ctl", "postgres"];

#[derive(Debug, Clone, Serialize)]
pub struct PgBinaries {
    pub bin_dir: PathBuf,
    /// Where the directory was found (`CONFITURE_PG_BIN`, `PATH`, `pg_config`, `/usr/lib/postgresql`).
    pub found_via: &'static str,
    /// Full version string, e.g. `15.18`.
    pub version: String,
    pub major: u32,
}

impl PgBinaries {
    pub fn tool(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// Locate the binaries. `var` reads environment variables.
    pub fn locate(var: &dyn Fn(&str) -> Option<String>) -> Result<PgBinaries> {
        let mut tried: Vec<String> = Vec::new();
        if let Some(dir) = var("CONFITURE_PG_BIN").filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            if has_server_tools(&dir) {
                return Self::describe(dir, "CONFITURE_PG_BIN");
            }
            return Err(ConfitureError::new(
                codes::PG_BINARIES_NOT_FOUND,
                format!(
                    "CONFITURE_PG_BIN={} does not contain {}",
                    dir.display(),
                    REQUIRED.join(", ")
                ),
            )
            .with_hint(
                "point CONFITURE_PG_BIN at the bin directory of a PostgreSQL server installation",
            ));
        }
        if let Some(path) = var("PATH") {
            for dir in std::env::split_paths(&path) {
                if has_server_tools(&dir) {
                    return Self::describe(dir, "PATH");
                }
            }
            tried.push("PATH".into());
        }
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
            if out.status.success() {
                let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
                if has_server_tools(&dir) {
                    return Self::describe(dir, "pg_config");
                }
                tried.push(format!("pg_config --bindir ({})", dir.display()));
            }
        }
        let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let major = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((major, e.path().join("bin")))
            })
            .filter(|(_, dir)| has_server_tools(dir))
            .collect();
        versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
        if let Some((_, dir)) = versioned.into_iter().next() {
            return Self::describe(dir, "/usr/lib/postgresql");
        }
        tried.push("/usr/lib/postgresql/*/bin".into());
        Err(ConfitureError::new(
            codes::PG_BINARIES_NOT_FOUND,
            format!("PostgreSQL server binaries not found (looked in {})", tried.join(", ")),
        )
        .with_hint("install the PostgreSQL server (e.g. apt-get install postgresql) or set CONFITURE_PG_BIN"))
    }

    /// The binaries in `bin_dir`, e.g. the ones that created an existing cluster.
    pub fn in_dir(bin_dir: PathBuf) -> Result<PgBinaries> {
        Self::describe(bin_dir, "cluster.json")
    }

    fn describe(bin_dir: PathBuf, found_via: &'static str) -> Result<PgBinaries> {
        let out = Command::new(bin_dir.join("postgres"))
            .arg("--version")
            .output()
            .map_err(|e| {
                ConfitureError::new(
                    codes::PG_BINARIES_NOT_FOUND,
                    format!("cannot run {}/postgres: {e}", bin_dir.display()),
                )
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        let version = text
            .split_whitespace()
            .nth(2)
            .unwrap_or("")
            .trim()
            .to_string();
        let major = version
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        Ok(PgBinaries {
            bin_dir,
            found_via,
            version,
            major,
        })
    }
}

/// Whether `dir` holds every program a cluster needs.
pub fn has_server_tools(dir: &Path) -> bool {
    REQUIRED.iter().all(|t| dir.join(t).is_file())
}
