//! `notify`: POST a JSON summary of the migration to a URL (a chat webhook, a deploy tracker).
//!
//! ```yaml
//! - type: notify
//!   config:
//!     url: ${DEPLOY_WEBHOOK_URL}
//!     headers: {Authorization: "Bearer ${DEPLOY_TOKEN}"}
//! ```
//! The body is the migration context: migration, database, environment, dry_run, the phase,
//! every earlier hook's result, and the error for `on_error` hooks. A response other than 2xx,
//! or no response within the hook's `timeout` (default 10 s), fails the hook. The URL and
//! headers often hold secrets: messages show the URL's scheme and host only.
//! Skipped in `--dry-run` unless `dry_run: true`.

use std::time::Duration;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};

use crate::hooks::{Config, HookOutput, HookRun};

#[derive(Clone)]
pub struct Notify {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for Notify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notify({})", shown_url(&self.url))
    }
}

/// `https://hooks.example.com/…`: where it goes, not the token in its path.
pub fn shown_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?']).next().unwrap_or_default();
            let host = host.rsplit('@').next().unwrap_or(host);
            format!("{scheme}://{host}/…")
        }
        None => "(url)".into(),
    }
}

impl Notify {
    pub fn load(c: &Config<'_>) -> Result<Notify> {
        let node = c
            .get("url")
            .ok_or_else(|| c.missing("'url': where to POST the summary"))?;
        let url = c.dec.string(node, &c.key("url"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(c.error(
                Some(node),
                format!("'{}' must be an http:// or https:// URL", c.key("url")),
            ));
        }
        let mut headers = Vec::new();
        if let Some(n) = c.get("headers") {
            let confiture_core::yaml::Value::Map(entries) = &n.value else {
                return Err(c.error(
                    Some(n),
                    format!("'{}' must be a mapping name: value", c.key("headers")),
                ));
            };
            for (k, v) in entries {
                headers.push((
                    k.key_text(),
                    c.dec
                        .string(v, &format!("{}.{}", c.key("headers"), k.key_text()))?,
                ));
            }
        }
        Ok(Notify { url, headers })
    }

    pub fn describe(&self) -> String {
        format!(
            "notify: POST the migration summary (JSON) to {}",
            shown_url(&self.url)
        )
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        let body = serde_json::to_string(run.context).unwrap_or_default();
        let url = self.url.clone();
        let headers = self.headers.clone();
        let timeout = run.timeout.unwrap_or(Duration::from_secs(10));
        let shown = shown_url(&self.url);
        let status = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(timeout))
                .http_status_as_error(false)
                .build()
                .into();
            let mut request = agent.post(&url).header("Content-Type", "application/json");
            for (k, v) in &headers {
                request = request.header(k, v);
            }
            request.send(body).map(|r| r.status().as_u16())
        })
        .await
        .map_err(|e| ConfitureError::new(codes::MIGRATE_HOOK_FAILED, format!("notify: {e}")))?
        .map_err(|e| {
            let code = match e {
                ureq::Error::Timeout(_) => codes::MIGRATE_HOOK_TIMEOUT,
                _ => codes::MIGRATE_HOOK_FAILED,
            };
            ConfitureError::new(
                code,
                format!("POST to {shown} failed: {}", describe_error(&e)),
            )
        })?;
        if !(200..300).contains(&status) {
            return Err(ConfitureError::new(
                codes::MIGRATE_HOOK_FAILED,
                format!("POST to {shown} answered HTTP {status}"),
            ));
        }
        Ok(HookOutput {
            rows: None,
            values: serde_json::json!({ "status": status }),
            notes: Vec::new(),
        })
    }
}

/// The transport error without the URL (which may carry a token).
fn describe_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "no answer within the timeout".into(),
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        other => {
            let text = other.to_string();
            if text.contains("://") {
                "request failed".into()
            } else {
                text
            }
        }
    }
}
