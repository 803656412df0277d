//! An embedded PostgreSQL cluster in a directory: `initdb`, start on a free port (TCP on
//! 127.0.0.1 plus a unix socket in the directory), stop. Used by the test harness (one
//! throwaway cluster per test run) and by `confiture db` (a project-local cluster).
//!
//! Layout of a cluster directory:
//! `data/` (PGDATA), `run/` (unix socket), `postgres.log`, `cluster.json` (port, binaries).

pub mod binaries;
pub mod os_user;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::{Deserialize, Serialize};

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Location, Result};

pub use binaries::PgBinaries;
pub use os_user::OsUser;

/// The superuser `initdb` creates; authentication is `trust` on loopback and the socket,
/// so the cluster must never listen beyond 127.0.0.1.
pub const SUPERUSER: &str = "postgres";

#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Skip fsync (test clusters): much faster, unsafe on power loss.
    pub durability_off: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterState {
    pub port: u16,
    pub bin_dir: PathBuf,
    pub version: String,
}

impl ClusterState {
    /// The state recorded in cluster directory `dir`, if any (readable before the binaries
    /// are known: it says which binaries created the cluster).
    pub fn read(dir: &Path) -> Option<ClusterState> {
        let text = std::fs::read_to_string(state_file_in(dir)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

fn state_file_in(dir: &Path) -> PathBuf {
    dir.join("cluster.json")
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub dir: PathBuf,
    pub bins: PgBinaries,
    pub os_user: Option<OsUser>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// No cluster has been created in the directory.
    Absent,
    Stopped,
    Running,
}

impl Cluster {
    pub fn new(dir: impl Into<PathBuf>, bins: PgBinaries, os_user: Option<OsUser>) -> Cluster {
        Cluster {
            dir: dir.into(),
            bins,
            os_user,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("run")
    }
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }
    fn state_file(&self) -> PathBuf {
        state_file_in(&self.dir)
    }

    pub fn state(&self) -> Option<ClusterState> {
        ClusterState::read(&self.dir)
    }

    fn save_state(&self, port: u16) -> Result<()> {
        let state = ClusterState {
            port,
            bin_dir: self.bins.bin_dir.clone(),
            version: self.bins.version.clone(),
        };
        let text = serde_json::to_string_pretty(&state).expect("state serializes");
        std::fs::write(self.state_file(), text).map_err(|e| io_error(&self.state_file(), e))
    }

    /// A command run as the server's OS user.
    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bins.tool(tool));
        if let Some(u) = self.os_user {
            cmd.uid(u.uid).gid(u.gid);
            // The server user cannot read root's home; keep libpq/locale lookups out of it.
            cmd.env("HOME", &self.dir);
        }
        cmd.env_remove("PGDATA").env("LC_ALL", "C");
        cmd
    }

    pub fn exists(&self) -> bool {
        self.data_dir().join("PG_VERSION").is_file()
    }

    /// Run `initdb` unless the cluster already exists. Returns whether it was created.
    pub fn init(&self, options: &ClusterOptions) -> Result<bool> {
        if self.exists() {
            return Ok(false);
        }
        for dir in [&self.dir, &self.socket_dir()] {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        if let Some(u) = self.os_user {
            if !os_user::can_traverse(&self.dir, u) {
                return Err(ConfitureError::new(
                    codes::PG_INITDB_FAILED,
                    format!(
                        "the PostgreSQL OS user (uid {}) cannot reach {}: a parent directory is not searchable",
                        u.uid,
                        self.dir.display()
                    ),
                )
                .with_hint("run Confiture as a normal user, move the project out of a private directory (such as /root), or chmod o+x the parent directories"));
            }
            for dir in [&self.dir, &self.socket_dir()] {
                os_user::chown(dir, u).map_err(|e| io_error(dir, e))?;
            }
        }
        let mut cmd = self.command("initdb");
        cmd.arg("-D").arg(self.data_dir()).args([
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        if options.durability_off {
            cmd.arg("--no-sync");
        }
        let out = run(cmd, "initdb")?;
        if !out.status.success() {
            return Err(ConfitureError::new(
                codes::PG_INITDB_FAILED,
                format!("initdb failed: {}", tail(&out)),
            )
            .at(Location::file(self.data_dir())));
        }
        let mut conf = format!(
            "\n# Added by Confiture: loopback only (trust authentication).\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n",
            self.socket_dir().display()
        );
        if options.durability_off {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let conf_path = self.data_dir().join("postgresql.conf");
        let mut existing =
            std::fs::read_to_string(&conf_path).map_err(|e| io_error(&conf_path, e))?;
        existing.push_str(&conf);
        std::fs::write(&conf_path, existing).map_err(|e| io_error(&conf_path, e))?;
        Ok(true)
    }

    pub fn run_state(&self) -> RunState {
        if !self.exists() {
            return RunState::Absent;
        }
        match self
            .command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(self.data_dir())
            .output()
        {
            Ok(out) if out.status.success() => RunState::Running,
            _ => RunState::Stopped,
        }
    }

    /// The port the cluster runs (or last ran) on.
    pub fn port(&self) -> Option<u16> {
        self.state().map(|s| s.port)
    }

    /// Start the server, preferring `preferred_port`; if that port is taken, another free port
    /// is used. Returns the port. Starting a running cluster is a no-op.
    pub fn start(&self, preferred_port: Option<u16>) -> Result<u16> {
        if self.run_state() == RunState::Running {
            if let Some(port) = self.port() {
                return Ok(port);
            }
        }
        let mut last_error = None;
        for attempt in 0..5 {
            let port = match preferred_port.filter(|_| attempt == 0) {
                Some(p) if port_is_free(p) => p,
                _ => free_port()?,
            };
            let log = self.log_file();
            let mut cmd = self.command("pg_ctl");
            cmd.arg("start")
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o"])
                .arg(format!("-p {port}"));
            if self.os_user.is_some() && !log.exists() {
                // pg_ctl (as the server user) must be able to create the log file.
                std::fs::write(&log, "").map_err(|e| io_error(&log, e))?;
                if let Some(u) = self.os_user {
                    os_user::chown(&log, u).map_err(|e| io_error(&log, e))?;
                }
            }
            let out = run(cmd, "pg_ctl start")?;
            if out.status.success() {
                self.save_state(port)?;
                return Ok(port);
            }
            let log_tail = std::fs::read_to_string(&log)
                .map(|t| last_lines(&t, 5))
                .unwrap_or_default();
            let bind_race =
                log_tail.contains("could not bind") || log_tail.contains("already in use");
            last_error = Some(format!("{}\n{log_tail}", tail(&out)));
            if !bind_race {
                break;
            }
        }
        Err(ConfitureError::new(
            codes::PG_START_FAILED,
            format!(
                "PostgreSQL did not start: {}",
                last_error.unwrap_or_default().trim()
            ),
        )
        .with_hint(format!("see the server log: {}", self.log_file().display()))
        .at(Location::file(self.log_file())))
    }

    /// Stop the server (fast shutdown). Returns whether it was running.
    pub fn stop(&self) -> Result<bool> {
        if self.run_state() != RunState::Running {
            return Ok(false);
        }
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "-t", "60"]);
        let out = run(cmd, "pg_ctl stop")?;
        if !out.status.success() {
            return Err(ConfitureError::new(
                codes::PG_STOP_FAILED,
                format!("pg_ctl stop failed: {}", tail(&out)),
            ));
        }
        Ok(true)
    }

    /// A libpq-style URL to `dbname` on this cluster, as the superuser over TCP loopback.
    pub fn url(&self, port: u16, dbname: &str) -> String {
        format!("postgresql://{SUPERUSER}@127.0.0.1:{port}/{dbname}?sslmode=disable")
    }
}

fn run(mut cmd: Command, what: &str) -> Result<Output> {
    cmd.stdin(std::process::Stdio::null());
    cmd.output()
        .map_err(|e| ConfitureError::new(codes::PG_START_FAILED, format!("cannot run {what}: {e}")))
}

fn tail(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if text.is_empty() {
        text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    }
    last_lines(&text, 6)
}

/// The last `n` lines of `text`: where tools put the reason they failed.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn io_error(path: &Path, e: std::io::Error) -> ConfitureError {
    ConfitureError::new(codes::IO_FAILED, format!("{}: {e}", path.display()))
        .at(Location::file(path))
}

/// A port that was free a moment ago (the OS picks it).
pub fn free_port() -> Result<u16> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ConfitureError::new(codes::PG_START_FAILED, format!("no free TCP port: {e}")))
}

pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}
