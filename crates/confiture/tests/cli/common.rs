//! Helpers for running the `confiture` binary in tests.

use std::path::Path;
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The binary with a clean environment: no connection variables leak in from the machine.
pub fn confiture(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confiture"));
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("PG")
            || k == "DATABASE_URL"
            || k.starts_with("CONFITURE_")
            || k == "NO_COLOR"
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run confiture");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `confiture ARGS` in `dir`.
pub fn confiture_in(dir: &Path, args: &[&str]) -> Run {
    run(confiture(dir).args(args))
}

/// A project directory holding `db/environments/local.yaml` with `yaml`.
pub fn project_with_local(yaml: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("db/environments")).unwrap();
    std::fs::write(dir.path().join("db/environments/local.yaml"), yaml).unwrap();
    dir
}
