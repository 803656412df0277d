//! `command`: run an external program — how hooks are written in any language.
//!
//! ```yaml
//! - type: command
//!   config:
//!     run: [python3, hooks/check_invariants.py, --strict]   # or one string, split on spaces
//!     env: {SLACK_CHANNEL: "#deploys"}
//!     cwd: .                                               # project-relative (default: the project)
//! ```
//! The program reads the migration context as JSON on stdin, and finds `CONFITURE_MIGRATION_VERSION`,
//! `CONFITURE_MIGRATION_NAME`, `CONFITURE_DIRECTION`, `CONFITURE_PHASE`, `CONFITURE_HOOK_ID`,
//! `CONFITURE_DRY_RUN` (`1`/`0`), `CONFITURE_DATABASE`, `CONFITURE_ENVIRONMENT` and the `PG*`
//! variables of the target (a `psql` it starts connects there) in its environment. A JSON
//! object printed on stdout becomes its result values. A non-zero exit fails the hook; past
//! its `timeout` it is killed (with its process group). It runs in its own session, so it sees
//! the database as committed, not the migration's uncommitted changes.

use std::path::PathBuf;
use std::process::Stdio;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use tokio::io::AsyncWriteExt;

use crate::hooks::{Config, HookOutput, HookRun, LoadContext};

#[derive(Debug, Clone)]
pub struct Command {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

impl Command {
    pub fn load(c: &Config<'_>, cx: &LoadContext<'_>) -> Result<Command> {
        let node = c
            .get("run")
            .ok_or_else(|| c.missing("'run': the program and its arguments"))?;
        let argv = match &node.value {
            confiture_core::yaml::Value::Seq(_) => c.dec.string_list(node, &c.key("run"))?,
            _ => c
                .dec
                .string(node, &c.key("run"))?
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        };
        if argv.is_empty() {
            return Err(c.error(Some(node), format!("'{}' is empty", c.key("run"))));
        }
        let mut env = Vec::new();
        if let Some(n) = c.get("env") {
            let mut m = c.dec.map(n, &c.key("env"))?;
            let confiture_core::yaml::Value::Map(entries) = &n.value else {
                unreachable!()
            };
            for (k, v) in entries {
                env.push((
                    k.key_text(),
                    c.dec
                        .string(v, &format!("{}.{}", c.key("env"), k.key_text()))?,
                ));
            }
            m.accept(&[]);
            drop(m);
        }
        let cwd = match c.string("cwd")? {
            Some(d) => cx.project_root.join(d),
            None => cx.project_root.to_path_buf(),
        };
        Ok(Command { argv, env, cwd })
    }

    pub fn describe(&self) -> String {
        format!("command: {}", self.argv.join(" "))
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let cx = run.context;
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let mut cmd = tokio::process::Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        for (k, v) in run.target.libpq_env() {
            cmd.env(k, v);
        }
        cmd.env(
            "CONFITURE_MIGRATION_VERSION",
            text(&cx["migration"]["version"]),
        )
        .env("CONFITURE_MIGRATION_NAME", text(&cx["migration"]["name"]))
        .env("CONFITURE_DIRECTION", text(&cx["migration"]["direction"]))
        .env("CONFITURE_PHASE", text(&cx["phase"]))
        .env("CONFITURE_HOOK_ID", text(&cx["hook"]["id"]))
        .env(
            "CONFITURE_DRY_RUN",
            if cx["dry_run"].as_bool() == Some(true) {
                "1"
            } else {
                "0"
            },
        )
        .env("CONFITURE_DATABASE", text(&cx["database"]))
        .env("CONFITURE_ENVIRONMENT", text(&cx["environment"]));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| {
            ConfitureError::new(
                codes::MIGRATE_HOOK_FAILED,
                format!("cannot start {}: {e}", self.argv[0]),
            )
            .with_hint(format!(
                "the program is looked up in PATH; relative paths start from {}",
                self.cwd.display()
            ))
        })?;
        let pid = child.id();
        if let Some(mut stdin) = child.stdin.take() {
            let body = serde_json::to_vec(cx).unwrap_or_default();
            // A program that does not read its input is fine.
            let _ = stdin.write_all(&body).await;
        }
        let waited = match run.timeout {
            Some(t) => match tokio::time::timeout(t, child.wait_with_output()).await {
                Ok(r) => r,
                Err(_) => {
                    if let Some(pid) = pid {
                        // SAFETY: signalling the process group we created for the child.
                        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
                    }
                    return Err(ConfitureError::new(
                        codes::MIGRATE_HOOK_TIMEOUT,
                        format!(
                            "{} was killed after its timeout of {} ms",
                            self.argv[0],
                            t.as_millis()
                        ),
                    ));
                }
            },
            None => child.wait_with_output().await,
        };
        let out = waited.map_err(|e| {
            ConfitureError::new(codes::MIGRATE_HOOK_FAILED, format!("{}: {e}", self.argv[0]))
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let stderr = run
                .target
                .redact(String::from_utf8_lossy(&out.stderr).trim());
            let tail: Vec<&str> = stderr
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return Err(ConfitureError::new(
                codes::MIGRATE_HOOK_FAILED,
                format!(
                    "{} exited with {}{}",
                    self.argv.join(" "),
                    out.status,
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", tail.join(" | "))
                    }
                ),
            ));
        }
        let values = serde_json::from_str::<serde_json::Value>(stdout.trim())
            .ok()
            .filter(|v| v.is_object())
            .unwrap_or(serde_json::Value::Null);
        let notes = if values.is_null() {
            stdout
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(20)
                .map(|l| run.target.redact(l))
                .collect()
        } else {
            Vec::new()
        };
        Ok(HookOutput {
            rows: None,
            values,
            notes,
        })
    }
}
