//! Opening connections. A DSN is resolved the libpq way (explicit parameters, then `PG*`
//! environment variables, then defaults, then `.pgpass` for the password) into a
//! [`ConnTarget`], which prints without its password and connects with the right TLS mode.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::{Client, NoTls};

use confiture_core::codes;
use confiture_core::dsn::{self, ConnParams};
use confiture_core::error::{ConfitureError, Result};
use confiture_core::redact::{redact_text, MASK};

use crate::pgpass::{self, PgpassQuery};
use crate::tls::{self, SslMode, TlsFiles};

/// Default connect timeout when neither the DSN nor `PGCONNECT_TIMEOUT` sets one: a hung
/// network should fail a CI job quickly, not after the kernel's two minutes.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A fully resolved connection target. `Debug`/`Serialize` never show the password.
#[derive(Clone, Serialize)]
pub struct ConnTarget {
    pub hosts: Vec<String>,
    pub port: u16,
    pub user: String,
    pub dbname: String,
    #[serde(skip)]
    password: Option<String>,
    pub password_source: Option<&'static str>,
    pub sslmode: SslMode,
    #[serde(skip)]
    tls_files: TlsFiles,
    /// 0 waits forever, as in libpq.
    pub connect_timeout_s: u64,
    pub application_name: String,
    #[serde(skip)]
    home: Option<PathBuf>,
}

impl std::fmt::Debug for ConnTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnTarget({})", self.display())
    }
}

/// How process-level facts are looked up (injected so tests can control them).
pub struct ConnEnv<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
    pub os_user: Option<String>,
}

impl ConnEnv<'static> {
    /// The real process environment.
    pub fn process() -> ConnEnv<'static> {
        ConnEnv {
            var: &|k| std::env::var(k).ok(),
            home: std::env::var_os("HOME").map(PathBuf::from),
            os_user: std::env::var("USER").ok().or_else(current_os_user),
        }
    }
}

fn current_os_user() -> Option<String> {
    // SAFETY: getpwuid returns a pointer into static storage or NULL; we copy the name out at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

impl ConnTarget {
    /// Resolve `dsn` (possibly empty) with libpq's fallbacks.
    pub fn resolve(dsn_text: &str, env: &ConnEnv<'_>) -> Result<ConnTarget> {
        let params = dsn::parse(dsn_text)?;
        Self::from_params(params, env)
    }

    pub fn from_params(p: ConnParams, env: &ConnEnv<'_>) -> Result<ConnTarget> {
        let var = |k: &str| (env.var)(k).filter(|v| !v.is_empty());
        let hosts = if !p.hosts.is_empty() {
            p.hosts.clone()
        } else if let Some(h) = var("PGHOST") {
            h.split(',').map(str::to_string).collect()
        } else {
            vec![default_socket_dir()]
        };
        let port = match p.ports.first() {
            Some(port) => *port,
            None => match var("PGPORT") {
                Some(s) => s.trim().parse().map_err(|_| {
                    ConfitureError::new(
                        codes::INPUT_INVALID_DSN,
                        format!("PGPORT '{s}' is not a port number"),
                    )
                })?,
                None => 5432,
            },
        };
        let user = p
            .user
            .clone()
            .or_else(|| var("PGUSER"))
            .or_else(|| env.os_user.clone())
            .unwrap_or_else(|| "postgres".into());
        let dbname = p
            .dbname
            .clone()
            .or_else(|| var("PGDATABASE"))
            .unwrap_or_else(|| user.clone());
        let opt =
            |key: &str, env_key: &str| p.option(key).map(str::to_string).or_else(|| var(env_key));
        let sslmode = match opt("sslmode", "PGSSLMODE") {
            Some(m) => SslMode::parse(&m)?,
            // libpq defaults to prefer; over a unix socket TLS never applies.
            None if hosts.iter().all(|h| h.starts_with('/')) => SslMode::Disable,
            None => SslMode::Prefer,
        };
        let connect_timeout_s = match opt("connect_timeout", "PGCONNECT_TIMEOUT") {
            Some(t) => t.trim().parse::<u64>().map_err(|_| {
                ConfitureError::new(
                    codes::INPUT_INVALID_DSN,
                    format!("connect_timeout '{t}' is not a number of seconds"),
                )
            })?,
            None => DEFAULT_CONNECT_TIMEOUT.as_secs(),
        };
        let (password, password_source) = match (p.password.clone(), var("PGPASSWORD")) {
            (Some(pw), _) => (Some(pw), Some("connection string")),
            (None, Some(pw)) => (Some(pw), Some("PGPASSWORD")),
            (None, None) => {
                let file = var("PGPASSFILE")
                    .map(PathBuf::from)
                    .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")));
                let found = file.and_then(|f| {
                    pgpass::lookup(
                        &f,
                        &PgpassQuery {
                            host: &hosts[0],
                            port,
                            dbname: &dbname,
                            user: &user,
                        },
                    )
                });
                let source = found.as_ref().map(|_| "pgpass");
                (found, source)
            }
        };
        Ok(ConnTarget {
            hosts,
            port,
            user,
            dbname,
            password,
            password_source,
            sslmode,
            tls_files: TlsFiles {
                root_cert: opt("sslrootcert", "PGSSLROOTCERT"),
                client_cert: opt("sslcert", "PGSSLCERT").map(PathBuf::from),
                client_key: opt("sslkey", "PGSSLKEY").map(PathBuf::from),
            },
            connect_timeout_s,
            application_name: opt("application_name", "PGAPPNAME")
                .unwrap_or_else(|| "confiture".into()),
            home: env.home.clone(),
        })
    }

    /// `user@host:port/dbname`, never with the password.
    pub fn display(&self) -> String {
        format!(
            "{}@{}:{}/{}",
            self.user,
            self.hosts.join(","),
            self.port,
            self.dbname
        )
    }

    /// A connection URL for people and other tools, with the password masked.
    pub fn url_redacted(&self) -> String {
        self.url_with(self.password.as_ref().map(|_| MASK))
    }

    /// A connection URL without any password (tools read it from `.pgpass`/`PGPASSWORD`).
    pub fn url_without_password(&self) -> String {
        self.url_with(None)
    }

    fn url_with(&self, password: Option<&str>) -> String {
        let auth = match password {
            Some(pw) => format!("{}:{pw}@", encode(&self.user)),
            None => format!("{}@", encode(&self.user)),
        };
        let host = &self.hosts[0];
        if host.starts_with('/') {
            format!(
                "postgresql://{auth}/{}?host={}&port={}",
                encode(&self.dbname),
                encode(host),
                self.port
            )
        } else {
            format!(
                "postgresql://{auth}{host}:{}/{}",
                self.port,
                encode(&self.dbname)
            )
        }
    }

    /// The same server, another database.
    pub fn with_dbname(&self, dbname: &str) -> ConnTarget {
        ConnTarget {
            dbname: dbname.to_string(),
            ..self.clone()
        }
    }

    /// The `PG*` variables that make a libpq program (`pg_dump`, a hook's `psql`) connect to
    /// this target: the password goes through the environment, never a command line.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PGHOST", self.hosts.join(",")),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.dbname.clone()),
            ("PGSSLMODE", self.sslmode.as_str().to_string()),
            ("PGCONNECT_TIMEOUT", self.connect_timeout_s.to_string()),
        ];
        if let Some(pw) = &self.password {
            env.push(("PGPASSWORD", pw.clone()));
        }
        if let Some(root) = &self.tls_files.root_cert {
            env.push(("PGSSLROOTCERT", root.clone()));
        }
        if let Some(cert) = &self.tls_files.client_cert {
            env.push(("PGSSLCERT", cert.display().to_string()));
        }
        if let Some(key) = &self.tls_files.client_key {
            env.push(("PGSSLKEY", key.display().to_string()));
        }
        env
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// Scrub this target's password out of free text (driver messages).
    pub fn redact(&self, text: &str) -> String {
        match &self.password {
            Some(pw) => redact_text(text, &[pw]),
            None => text.to_string(),
        }
    }

    fn pg_config(&self) -> tokio_postgres::Config {
        let mut cfg = tokio_postgres::Config::new();
        for h in &self.hosts {
            cfg.host(h);
        }
        cfg.port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(&self.application_name);
        if self.connect_timeout_s > 0 {
            // libpq treats 1 as 2: one second is too short to be meant.
            cfg.connect_timeout(Duration::from_secs(self.connect_timeout_s.max(2)));
        }
        if let Some(pw) = &self.password {
            cfg.password(pw);
        }
        cfg.ssl_mode(match self.sslmode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Allow | SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
        });
        cfg
    }

    /// Connect, spawning the connection driver on the current tokio runtime.
    pub async fn connect(&self) -> Result<Client> {
        let cfg = self.pg_config();
        // Backstop for the per-host timeout, generous enough for every host to get its turn.
        let deadline = match self.connect_timeout_s {
            0 => Duration::MAX / 4,
            t => Duration::from_secs(t.max(2) * self.hosts.len() as u64 + 1),
        };
        let attempt = async {
            if self.sslmode == SslMode::Disable {
                let (client, conn) = cfg.connect(NoTls).await?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok::<_, ConnectFailure>(client)
            } else {
                let config =
                    tls::client_config(self.sslmode, &self.tls_files, self.home.as_deref())
                        .map_err(ConnectFailure::Setup)?;
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
                let (client, conn) = cfg.connect(tls).await?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                Ok(client)
            }
        };
        match tokio::time::timeout(deadline, attempt).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(ConnectFailure::Setup(e))) => Err(e),
            Ok(Err(ConnectFailure::Pg(e))) => Err(self.classify(&e)),
            Err(_) => Err(self.timeout_error()),
        }
    }

    fn timeout_error(&self) -> ConfitureError {
        ConfitureError::new(
            codes::CONN_TIMEOUT,
            format!(
                "timed out after {}s connecting to {}",
                self.connect_timeout_s,
                self.display()
            ),
        )
        .with_hint("check the host and port, firewalls, and that the server is running; raise connect_timeout if the network is slow")
    }

    /// A driver error as text a person can act on (the server's message and SQLSTATE, not
    /// just "db error"), without the password.
    pub fn message(&self, e: &tokio_postgres::Error) -> String {
        match e.as_db_error() {
            Some(db) => self.redact(&format!("{} (SQLSTATE {})", db.message(), db.code().code())),
            None => self.redact(&full_message(e)),
        }
    }

    /// Map a driver error to a coded, password-free error.
    pub fn classify(&self, e: &tokio_postgres::Error) -> ConfitureError {
        let text = self.redact(&full_message(e));
        let target = self.display();
        if let Some(db) = e.as_db_error() {
            let state = db.code().code();
            let (code, hint) = match state {
                "28P01" | "28000" => (
                    codes::CONN_AUTH,
                    "check the user and password (DSN, PGPASSWORD or ~/.pgpass) and pg_hba.conf",
                ),
                "3D000" => (
                    codes::CONN_DATABASE_MISSING,
                    "create the database first, or point the environment at an existing one",
                ),
                _ => (codes::CONN_REFUSED, "see the server message above"),
            };
            return ConfitureError::new(
                code,
                format!("cannot connect to {target}: {}", self.redact(db.message())),
            )
            .with_hint(hint)
            .with_details(serde_json::json!({ "sqlstate": state }));
        }
        let lower = text.to_lowercase();
        if lower.contains("tls") || lower.contains("certificate") || lower.contains("ssl") {
            return ConfitureError::new(
                codes::CONN_TLS,
                format!("TLS failed connecting to {target}: {text}"),
            )
            .with_hint("check sslmode, sslrootcert and that the server has ssl=on");
        }
        if lower.contains("timed out") || lower.contains("timeout") {
            return self.timeout_error();
        }
        ConfitureError::new(codes::CONN_REFUSED, format!("cannot connect to {target}: {text}"))
            .with_hint("is the server running and accepting connections on that host and port? (`confiture db start` starts the embedded one)")
    }
}

enum ConnectFailure {
    Setup(ConfitureError),
    Pg(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for ConnectFailure {
    fn from(e: tokio_postgres::Error) -> Self {
        ConnectFailure::Pg(e)
    }
}

/// The error and its sources, joined: tokio-postgres puts the useful part in the source.
fn full_message(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn default_socket_dir() -> String {
    for dir in ["/var/run/postgresql", "/tmp"] {
        if Path::new(dir).is_dir() {
            return dir.to_string();
        }
    }
    "/tmp".into()
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of<'a>(vars: &'a HashMap<&'a str, &'a str>) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.get(k).map(|s| s.to_string())
    }

    #[test]
    fn pg_env_vars_fill_gaps_and_dsn_wins() {
        let vars: HashMap<&str, &str> = [
            ("PGHOST", "envhost"),
            ("PGPORT", "6543"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpw"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
        ]
        .into();
        let f = env_of(&vars);
        let env = ConnEnv {
            var: &f,
            home: None,
            os_user: Some("me".into()),
        };
        let t = ConnTarget::resolve("", &env).unwrap();
        assert_eq!(t.display(), "envuser@envhost:6543/envdb");
        assert_eq!(t.sslmode, SslMode::Require);
        assert_eq!(t.password_source, Some("PGPASSWORD"));
        let t = ConnTarget::resolve("postgresql://u:dsnpw@h/d?sslmode=disable", &env).unwrap();
        assert_eq!(t.display(), "u@h:6543/d");
        assert_eq!(t.sslmode, SslMode::Disable);
        assert_eq!(t.password_source, Some("connection string"));
        assert_eq!(t.url_redacted(), "postgresql://u:***@h:6543/d");
        assert!(!format!("{t:?}").contains("dsnpw"));
        assert!(!serde_json::to_string(&t).unwrap().contains("dsnpw"));
    }

    #[test]
    fn defaults_and_socket_urls() {
        let env = ConnEnv {
            var: &|_| None,
            home: None,
            os_user: Some("me".into()),
        };
        let t = ConnTarget::resolve("host=/tmp/x port=7000", &env).unwrap();
        assert_eq!(t.user, "me");
        assert_eq!(t.dbname, "me");
        assert_eq!(t.sslmode, SslMode::Disable);
        assert_eq!(
            t.url_without_password(),
            "postgresql://me@/me?host=%2Ftmp%2Fx&port=7000"
        );
        assert!(ConnTarget::resolve("sslmode=bogus", &env).is_err());
    }
}
