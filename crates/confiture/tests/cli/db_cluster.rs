//! `confiture db start|stop|status|url`: the project-local embedded cluster.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;

struct ProjectDir(tempfile::TempDir);

impl ProjectDir {
    fn new() -> ProjectDir {
        let dir = tempfile::tempdir().unwrap();
        // Let the server's OS user reach the project when tests run as root.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let r = confiture_in(dir.path(), &["init", "."]);
        assert_eq!(r.code, 0, "{}", r.all_output());
        ProjectDir(dir)
    }
}

impl Drop for ProjectDir {
    fn drop(&mut self) {
        let _ = confiture_in(self.0.path(), &["db", "stop"]);
    }
}

#[test]
fn start_is_idempotent_stop_twice_is_fine() {
    let p = ProjectDir::new();
    let dir = p.0.path();
    let r = confiture_in(dir, &["db", "status", "--format", "json"]);
    assert_eq!(r.json()["state"], "absent");

    let r = confiture_in(dir, &["db", "start", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let first = r.json();
    assert_eq!(first["created"], true);
    assert_eq!(first["already_running"], false);
    assert_eq!(first["database_created"], true);
    assert!(dir.join(".confiture/postgres/data/PG_VERSION").exists());

    let r = confiture_in(dir, &["db", "start", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let second = r.json();
    assert_eq!(second["already_running"], true);
    assert_eq!(second["created"], false);
    assert_eq!(second["port"], first["port"]);

    // The local environment (no database_url) now reaches the embedded database.
    let r = confiture_in(dir, &["doctor", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let url = confiture_in(dir, &["db", "url"]);
    let expected_db: String = dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    assert!(
        url.stdout
            .trim()
            .ends_with(&format!("/{expected_db}_local?sslmode=disable")),
        "{}",
        url.stdout
    );

    let r = confiture_in(dir, &["db", "stop"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Stopped"), "{}", r.stdout);
    let r = confiture_in(dir, &["db", "stop"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("not running"), "{}", r.stdout);
    let r = confiture_in(dir, &["db", "status", "--format", "json"]);
    assert_eq!(r.json()["state"], "stopped");
    let r = confiture_in(dir, &["db", "url", "--format", "json"]);
    assert_eq!(r.code, 3);
    // Doctor on the stopped embedded cluster: unreachable, with the way out.
    let r = confiture_in(dir, &["doctor"]);
    assert_eq!(r.code, 3);
    assert!(r.stdout.contains("confiture db start"), "{}", r.stdout);
}

#[test]
fn remembered_port_in_use_moves_to_a_free_port() {
    let p = ProjectDir::new();
    let dir = p.0.path();
    let r = confiture_in(dir, &["db", "start", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let port = r.json()["port"].as_u64().unwrap() as u16;
    assert_eq!(confiture_in(dir, &["db", "stop"]).code, 0);

    // Someone else takes the port while the cluster is stopped.
    let squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let r = confiture_in(dir, &["db", "start", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let v = r.json();
    assert_ne!(v["port"].as_u64().unwrap() as u16, port);
    assert_eq!(v["previous_port"].as_u64().unwrap() as u16, port);
    drop(squatter);
    assert_eq!(confiture_in(dir, &["doctor", "--format", "json"]).code, 0);
}

#[test]
fn private_project_dir_as_root_uses_the_fallback_location() {
    // A 0700 directory: as root, the `postgres` OS user cannot reach it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(confiture_in(dir.path(), &["init", "."]).code, 0);
    let r = confiture_in(dir.path(), &["db", "start", "--format", "json"]);
    let pointer = dir.path().join(".confiture/postgres.location");
    let fallback = std::fs::read_to_string(&pointer)
        .ok()
        .map(|s| s.trim().to_string());
    let guard = FallbackCleanup(dir.path().to_path_buf(), fallback.clone());
    assert_eq!(r.code, 0, "{}", r.all_output());
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc_geteuid() } == 0;
    if root {
        let fallback = fallback.expect("pointer file written");
        assert!(
            fallback.starts_with("/var/tmp/confiture-clusters/"),
            "{fallback}"
        );
        assert!(r.json()["data_dir"]
            .as_str()
            .unwrap()
            .starts_with(&fallback));
    } else {
        assert!(fallback.is_none());
    }
    assert_eq!(
        confiture_in(dir.path(), &["doctor", "--format", "json"]).code,
        0
    );
    drop(guard);
}

struct FallbackCleanup(std::path::PathBuf, Option<String>);

impl Drop for FallbackCleanup {
    fn drop(&mut self) {
        let _ = confiture_in(&self.0, &["db", "stop"]);
        if let Some(dir) = &self.1 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn missing_server_binaries_fail_clearly_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(confiture_in(dir.path(), &["init", "."]).code, 0);
    let r = run(confiture(dir.path())
        .env("CONFITURE_PG_BIN", dir.path().join("no-such-bin"))
        .args(["db", "start", "--format", "json"]));
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(r.json()["error"]["code"], "PGLOCAL_001");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-bin"));
    assert!(!dir.path().join(".confiture/postgres/data").exists());
}
