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

// ---- build trees (shared by build.rs and build_scan.rs) ----

/// A project with `local.yaml` = `yaml` (`{url}` replaced) and the given files.
pub fn tree(yaml: &str, url: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = project_with_local(yaml.replace("{url}", url).as_bytes());
    for (path, content) in files {
        write(dir.path(), path, content.as_bytes());
    }
    dir
}

pub fn write(root: &Path, path: &str, content: &[u8]) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

pub const PLAIN: &str = "database_url: {url}\ninclude_dirs:\n  - db/schema\n";

/// Runs `build` on a broken tree and checks the exit code, the error code, the message and that
/// nothing was written (a previous output stays as it was).
pub fn assert_bad_input(dir: &Path, code: &str, needle: &str) {
    write(dir, "db/generated/schema_local.sql", b"previous build\n");
    let r = confiture_in(dir, &["build", "--format", "json"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], code, "{e}");
    let text = confiture_in(dir, &["build"]);
    assert!(
        text.stderr.contains(needle),
        "expected {needle:?} in {}",
        text.stderr
    );
    let kept = std::fs::read(dir.join("db/generated/schema_local.sql")).unwrap();
    assert_eq!(kept, b"previous build\n", "nothing may be written on error");
}

/// A project whose local environment targets `url`, with `extra` appended to local.yaml and the
/// given files under db/migrations.
pub fn project(url: &str, extra: &str, migrations: &[(&str, &str)]) -> tempfile::TempDir {
    let yaml = format!("database_url: {url}\ninclude_dirs: [db/schema]\n{extra}");
    let dir = project_with_local(yaml.as_bytes());
    std::fs::create_dir_all(dir.path().join("db/migrations")).unwrap();
    for (name, content) in migrations {
        write_migration(dir.path(), name, content);
    }
    dir
}

pub fn write_migration(root: &Path, name: &str, content: &str) {
    std::fs::write(root.join("db/migrations").join(name), content).unwrap();
}

pub fn tracking_table_exists(url: &str) -> bool {
    confiture_testkit::query_one(
        url,
        "SELECT (to_regclass('tb_confiture') IS NOT NULL)::text",
    )
    .as_deref()
        == Some("true")
}

/// Versions in the tracking table, in the order applied (none when it does not exist).
pub fn versions(url: &str) -> Vec<String> {
    if !tracking_table_exists(url) {
        return Vec::new();
    }
    confiture_testkit::query(
        url,
        "SELECT version FROM tb_confiture ORDER BY pk_confiture",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect()
}

/// The tables of `public`, except the tracking table.
pub fn tables(url: &str) -> String {
    confiture_testkit::query_one(
        url,
        "SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tb_confiture'",
    )
    .unwrap()
}
