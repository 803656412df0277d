//! Running a migration's hooks, phase by phase, inside its transaction.
//!
//! Each hook runs in its own SAVEPOINT, with `statement_timeout` set to its `timeout`. A hook
//! that fails is rolled back to its savepoint, the `on_error` hooks run (their own failures are
//! recorded, never hiding the first one), and the error names the migration, phase and hook;
//! the caller then rolls the whole migration back. For a migration that runs in autocommit,
//! each hook runs in a transaction of its own instead.

use std::time::{Duration, Instant};

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::migrate::hook_decl::Phase;
use confiture_pg::ConnTarget;
use tokio_postgres::Client;

use super::context::{Context, HookResult};
use super::{Hook, HookOutput, HookRun};

/// Extra time a hook gets past its `timeout` before it is cancelled from outside, so the
/// server's own `statement_timeout` (a clean error) fires first for SQL hooks.
const CANCEL_GRACE: Duration = Duration::from_millis(500);

pub struct Runner<'a> {
    pub client: &'a Client,
    pub target: &'a ConnTarget,
    pub project_root: &'a std::path::Path,
    /// `<version>_<name>`, for messages.
    pub migration: String,
    /// What `statement_timeout` goes back to after a hook that set its own.
    pub base_statement_timeout: String,
    /// Autocommit migration: each hook in a transaction of its own.
    pub standalone: bool,
    pub dry_run: bool,
    pub context: Context,
    pub results: Vec<HookResult>,
    pub progress: &'a (dyn Fn(&str) + Sync),
}

impl<'a> Runner<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: &'a Client,
        target: &'a ConnTarget,
        project_root: &'a std::path::Path,
        migration: String,
        statement_timeout_ms: Option<u64>,
        standalone: bool,
        context: Context,
        progress: &'a (dyn Fn(&str) + Sync),
    ) -> Runner<'a> {
        let dry_run = context.value()["dry_run"].as_bool().unwrap_or(false);
        Runner {
            client,
            target,
            project_root,
            migration,
            base_statement_timeout: match statement_timeout_ms {
                Some(ms) => format!("'{ms}ms'"),
                None => "DEFAULT".into(),
            },
            standalone,
            dry_run,
            context,
            results: Vec::new(),
            progress,
        }
    }

    /// Run the hooks of `phase`, in order. On failure, `on_error` hooks have run and the
    /// error is returned; the caller rolls back.
    pub async fn phase(&mut self, hooks: &[Hook], phase: Phase) -> Result<()> {
        for hook in hooks.iter().filter(|h| h.decl.phase == phase) {
            self.hook(hooks, hook).await?;
        }
        Ok(())
    }

    /// Run one hook of `hooks`; on failure the `on_error` hooks of `hooks` run.
    pub async fn hook(&mut self, hooks: &[Hook], hook: &Hook) -> Result<()> {
        if let Err((err, rolled_back)) = self.one(hooks, hook).await {
            let message = err.message.clone();
            if rolled_back {
                self.on_error(hooks, Some(hook.decl.phase), Some(&hook.decl.id), &message)
                    .await;
            }
            return Err(err);
        }
        Ok(())
    }

    /// Run the `on_error` hooks after a failure (of a hook, or of the migration's statements,
    /// once the caller rolled those back to a savepoint). Their failures are recorded only.
    pub async fn on_error(
        &mut self,
        hooks: &[Hook],
        phase: Option<Phase>,
        hook: Option<&str>,
        message: &str,
    ) {
        self.context.set_error(phase, hook, message);
        for h in hooks.iter().filter(|h| h.decl.phase == Phase::OnError) {
            let _ = self.one(hooks, h).await;
        }
    }

    /// A hook the caller ran itself (its SQL pipelined with the migration's): record it.
    pub fn record_ok(&mut self, hook: &Hook, duration_ms: f64, rows: u64) {
        let mut result = self.result(
            hook,
            Instant::now(),
            "ok",
            HookOutput {
                rows: Some(rows),
                ..HookOutput::default()
            },
        );
        result.duration_ms = (duration_ms * 100.0).round() / 100.0;
        self.context.record(&result);
        self.results.push(result);
    }

    /// A hook the caller ran itself failed with `inner`, and the caller rolled back to its
    /// savepoint: record it, run the `on_error` hooks, and return the error to report.
    pub async fn failed(
        &mut self,
        hooks: &[Hook],
        hook: &Hook,
        inner: ConfitureError,
    ) -> ConfitureError {
        let mut result = self.result(hook, Instant::now(), "failed", HookOutput::default());
        result.duration_ms = 0.0;
        result.notes.push(inner.message.clone());
        self.context.record(&result);
        self.results.push(result);
        let err = self.wrap(hook, inner, true);
        let message = err.message.clone();
        self.on_error(hooks, Some(hook.decl.phase), Some(&hook.decl.id), &message)
            .await;
        err
    }

    /// Run one hook in its savepoint. The error says whether the savepoint was rolled back
    /// (the transaction is usable again).
    async fn one(
        &mut self,
        hooks: &[Hook],
        hook: &Hook,
    ) -> std::result::Result<(), (ConfitureError, bool)> {
        let started = Instant::now();
        if self.dry_run && !hook.runs_in_dry_run() {
            let result = self.result(hook, started, "skipped (dry-run)", HookOutput::default());
            self.context.record(&result);
            self.results.push(result);
            return Ok(());
        }
        let savepoint = savepoint_name(hooks, hook);
        let timeout = hook.decl.timeout_ms.map(Duration::from_millis);
        let mut begin = if self.standalone {
            "BEGIN".to_string()
        } else {
            format!("SAVEPOINT {savepoint}")
        };
        if let Some(t) = timeout {
            begin.push_str(&format!(
                "; SET LOCAL statement_timeout = '{}ms'",
                t.as_millis()
            ));
        }
        self.client.batch_execute(&begin).await.map_err(|e| {
            (
                self.wrap(hook, super::sql_error(self.target, &e), false),
                false,
            )
        })?;
        let pid = match timeout {
            Some(_) => backend_pid(self.client).await,
            None => None,
        };
        let context = self
            .context
            .for_hook(hook.decl.phase, &hook.decl.id, hook.kind)
            .clone();
        let run = HookRun {
            client: self.client,
            target: self.target,
            project_root: self.project_root,
            context: &context,
            timeout,
            progress: self.progress,
        };
        let outcome = match timeout {
            Some(t) => match tokio::time::timeout(t + CANCEL_GRACE, hook.run(&run)).await {
                Ok(r) => r,
                Err(_) => {
                    cancel(self.target, pid).await;
                    Err(ConfitureError::new(
                        codes::MIGRATE_HOOK_TIMEOUT,
                        format!("stopped after its timeout of {} ms", t.as_millis()),
                    )
                    .with_details(serde_json::json!({ "timeout": true })))
                }
            },
            None => hook.run(&run).await,
        };
        match outcome {
            Ok(output) => {
                let end = if self.standalone {
                    "COMMIT".to_string()
                } else if timeout.is_some() {
                    format!(
                        "RELEASE SAVEPOINT {savepoint}; SET LOCAL statement_timeout = {}",
                        self.base_statement_timeout
                    )
                } else {
                    format!("RELEASE SAVEPOINT {savepoint}")
                };
                if let Err(e) = self.client.batch_execute(&end).await {
                    let err = super::sql_error(self.target, &e);
                    let _ = self.rollback(&savepoint).await;
                    return Err((self.wrap(hook, err, true), true));
                }
                let result = self.result(hook, started, "ok", output);
                self.context.record(&result);
                self.results.push(result);
                Ok(())
            }
            Err(err) => {
                let rolled_back = self.rollback(&savepoint).await.is_ok();
                let mut result = self.result(hook, started, "failed", HookOutput::default());
                result.notes.push(err.message.clone());
                self.context.record(&result);
                self.results.push(result);
                Err((self.wrap(hook, err, rolled_back), rolled_back))
            }
        }
    }

    async fn rollback(&self, savepoint: &str) -> std::result::Result<(), tokio_postgres::Error> {
        let sql = if self.standalone {
            "ROLLBACK".to_string()
        } else {
            format!("ROLLBACK TO SAVEPOINT {savepoint}")
        };
        self.client.batch_execute(&sql).await
    }

    fn result(
        &self,
        hook: &Hook,
        started: Instant,
        status: &'static str,
        output: HookOutput,
    ) -> HookResult {
        HookResult {
            id: hook.decl.id.clone(),
            kind: hook.kind,
            phase: hook.decl.phase,
            duration_ms: (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
            status,
            rows: output.rows,
            values: output.values,
            notes: output.notes,
        }
    }

    /// The error of a failed hook: which migration, phase and hook, at its declaration.
    fn wrap(&self, hook: &Hook, inner: ConfitureError, _rolled_back: bool) -> ConfitureError {
        let timed_out = inner.code == codes::MIGRATE_HOOK_TIMEOUT
            || (hook.decl.timeout_ms.is_some()
                && inner.details.get("sqlstate").and_then(|s| s.as_str()) == Some("57014"));
        let code = if timed_out {
            codes::MIGRATE_HOOK_TIMEOUT
        } else {
            codes::MIGRATE_HOOK_FAILED
        };
        let kept = if self.standalone {
            "the migration runs in autocommit: its statements and hooks that completed before this one stay applied; it is not recorded"
        } else if self.dry_run {
            "dry-run: nothing was kept"
        } else {
            "the migration was rolled back: the database and the tracking table are as before"
        };
        let hint = match &inner.hint {
            Some(h) => format!("{h}\n{kept}"),
            None => kept.to_string(),
        };
        let mut details = serde_json::json!({
            "migration": self.migration,
            "phase": hook.decl.phase.name(),
            "hook": hook.decl.id,
            "type": hook.kind,
        });
        if !inner.details.is_null() {
            details["cause"] = inner.details.clone();
        }
        ConfitureError::new(
            code,
            format!(
                "migration {}: hook {} '{}' ({}) failed: {}",
                self.migration,
                hook.decl.phase.name(),
                hook.decl.id,
                hook.kind,
                inner.message
            ),
        )
        .at(hook.decl.location.clone())
        .with_hint(hint)
        .with_details(details)
    }
}

/// `confiture_hook_<n>`, n the hook's position among the migration's hooks (from 1), as
/// `--preview` prints it.
pub fn savepoint_name(hooks: &[Hook], hook: &Hook) -> String {
    let n = hooks
        .iter()
        .position(|h| std::ptr::eq(h, hook))
        .map_or(0, |i| i + 1);
    format!("confiture_hook_{n}")
}

async fn backend_pid(client: &Client) -> Option<i32> {
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .ok()
        .map(|r| r.get(0))
}

/// Cancel what the session `pid` is running, from a second connection.
async fn cancel(target: &ConnTarget, pid: Option<i32>) {
    let Some(pid) = pid else { return };
    if let Ok(other) = target.connect().await {
        let _ = other.execute("SELECT pg_cancel_backend($1)", &[&pid]).await;
    }
}
