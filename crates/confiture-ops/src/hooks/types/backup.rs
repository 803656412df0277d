//! `backup`: `pg_dump` listed tables or schemas to a file before the DDL.
//!
//! ```yaml
//! - type: backup
//!   config:
//!     output: backups/{version}_{name}.dump   # project-relative; {version} {name} {timestamp}
//!     tables: [users]                         # and/or
//!     schemas: [billing]                      # (neither: the whole database)
//!     format: custom                          # custom (default) or plain
//!     pg_dump: /usr/lib/postgresql/17/bin/pg_dump   # default: next to the server binaries, or PATH
//! ```
//! `pg_dump` connects on its own (password through `PGPASSWORD`, never its command line) and
//! sees the committed database, so declare it in `before_validation` or `before_ddl`, before the
//! migration locks the tables; `--lock-wait-timeout` stops it instead of waiting on them.
//! Skipped in `--dry-run` unless `dry_run: true`.

use std::path::PathBuf;
use std::time::Duration;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};

use crate::hooks::{Config, HookOutput, HookRun, LoadContext};

#[derive(Debug, Clone)]
pub struct Backup {
    /// Project-relative template.
    pub output: String,
    pub tables: Vec<String>,
    pub schemas: Vec<String>,
    pub plain: bool,
    pub pg_dump: Option<PathBuf>,
}

impl Backup {
    pub fn load(c: &Config<'_>, _cx: &LoadContext<'_>) -> Result<Backup> {
        let output = match c.string("output")? {
            Some(o) => o,
            None => match c.string("backup_dir")? {
                Some(dir) => format!(
                    "{}/{{version}}_{{name}}_{{timestamp}}.dump",
                    dir.trim_end_matches('/')
                ),
                None => {
                    return Err(c.missing(
                        "'output': the file to write (e.g. backups/{version}_{name}.dump)",
                    ))
                }
            },
        };
        let plain = match c.get("format") {
            None => false,
            Some(n) => match c.dec.string(n, &c.key("format"))?.as_str() {
                "custom" => false,
                "plain" => true,
                other => {
                    return Err(c.error(
                        Some(n),
                        format!(
                            "'{}' cannot be '{other}': use custom or plain",
                            c.key("format")
                        ),
                    ))
                }
            },
        };
        // The vision documents' `compression: gzip`: custom format is compressed already.
        c.get("compression");
        Ok(Backup {
            output,
            tables: c.strings("tables")?,
            schemas: c.strings("schemas")?,
            plain,
            pg_dump: c.string("pg_dump")?.map(PathBuf::from),
        })
    }

    pub fn describe(&self) -> String {
        let what = match (self.tables.is_empty(), self.schemas.is_empty()) {
            (true, true) => "the whole database".to_string(),
            _ => self
                .tables
                .iter()
                .chain(&self.schemas)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!("backup: pg_dump {what} to {}", self.output)
    }

    fn program(&self) -> PathBuf {
        if let Some(p) = &self.pg_dump {
            return p.clone();
        }
        confiture_pg::cluster::binaries::PgBinaries::locate(&|k| std::env::var(k).ok())
            .map(|b| b.tool("pg_dump"))
            .ok()
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("pg_dump"))
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let m = &run.context["migration"];
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let relative = self
            .output
            .replace("{version}", m["version"].as_str().unwrap_or(""))
            .replace("{name}", m["name"].as_str().unwrap_or(""))
            .replace(
                "{timestamp}",
                &confiture_core::migrate::generate::timestamp_version(now),
            );
        let path = run.project_root.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                ConfitureError::new(
                    codes::MIGRATE_HOOK_FAILED,
                    format!("cannot create {}: {e}", parent.display()),
                )
            })?;
        }
        let partial = path.with_extension("partial");
        let program = self.program();
        let mut cmd = tokio::process::Command::new(&program);
        cmd.arg("--no-password")
            .arg(format!(
                "--lock-wait-timeout={}",
                run.timeout.unwrap_or(Duration::from_secs(30)).as_millis()
            ))
            .arg(if self.plain {
                "--format=plain"
            } else {
                "--format=custom"
            })
            .arg(format!("--file={}", partial.display()));
        for t in &self.tables {
            cmd.arg(format!("--table={t}"));
        }
        for s in &self.schemas {
            cmd.arg(format!("--schema={s}"));
        }
        for (k, v) in run.target.libpq_env() {
            cmd.env(k, v);
        }
        cmd.kill_on_drop(true).stdin(std::process::Stdio::null());
        let out = cmd.output().await.map_err(|e| {
            ConfitureError::new(
                codes::MIGRATE_HOOK_FAILED,
                format!("cannot run {}: {e}", program.display()),
            )
            .with_hint(
                "install the PostgreSQL client (pg_dump), or give its path in config.pg_dump",
            )
        })?;
        if !out.status.success() {
            let _ = std::fs::remove_file(&partial);
            let stderr = run
                .target
                .redact(String::from_utf8_lossy(&out.stderr).trim());
            return Err(ConfitureError::new(
                codes::MIGRATE_HOOK_FAILED,
                format!("pg_dump failed ({}): {stderr}", out.status),
            )
            .with_hint("pg_dump must be at least the server's major version; declare backups in before_validation/before_ddl, before the migration locks the tables"));
        }
        std::fs::rename(&partial, &path).map_err(|e| {
            ConfitureError::new(
                codes::MIGRATE_HOOK_FAILED,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok(HookOutput {
            rows: None,
            values: serde_json::json!({ "file": relative, "bytes": bytes }),
            notes: vec![format!("wrote {relative} ({bytes} bytes)")],
        })
    }
}
