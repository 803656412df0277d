//! Version, help, exit-code contract, argument errors, completions.

use crate::common::*;

fn here() -> std::path::PathBuf {
    std::env::temp_dir()
}

#[test]
fn version_and_help() {
    let r = confiture_in(&here(), &["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("confiture "), "{}", r.stdout);
    for cmd in [
        &["--help"][..],
        &["db", "--help"],
        &["doctor", "--help"],
        &["init", "--help"],
        &["config", "show", "--help"],
    ] {
        let r = confiture_in(&here(), cmd);
        assert_eq!(r.code, 0, "{cmd:?}");
        assert!(r.stdout.contains("Usage:"), "{cmd:?}: {}", r.stdout);
    }
}

#[test]
fn exit_code_contract_json() {
    let r = confiture_in(&here(), &["exit-codes", "--format", "json"]);
    assert_eq!(r.code, 0);
    let v = r.json();
    let codes: Vec<i64> = v["exit_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, (0..=8).collect::<Vec<_>>());
    let names: Vec<&str> = v["exit_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[6], "lock_contention");
    assert!(v["exit_codes"][5]["error_codes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "CONFIG_005"));
    let text = confiture_in(&here(), &["exit-codes"]);
    assert!(text.stdout.contains(" 7  gate_failed"), "{}", text.stdout);
}

#[test]
fn bad_arguments_exit_5_with_json_envelope() {
    let r = confiture_in(&here(), &["doctor", "--bogus"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    let r = confiture_in(&here(), &["--format", "json", "no-such-command"]);
    assert_eq!(r.code, 5);
    let v = r.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "INPUT_001");
}

#[test]
fn completions_for_three_shells() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef"),
        ("fish", "complete -c confiture"),
    ] {
        let r = confiture_in(&here(), &["completions", shell]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains(marker), "{shell}");
        assert!(r.stdout.contains("doctor"), "{shell}");
    }
}

#[test]
fn no_color_by_flag_env_and_pipe() {
    let dir =
        project_with_local(b"database_url: postgresql://u@127.0.0.1:1/db?connect_timeout=1\n");
    for args in [&["doctor"][..], &["doctor", "--no-color"]] {
        let r = confiture_in(dir.path(), args);
        assert!(
            !r.all_output().contains('\x1b'),
            "no ANSI when piped: {}",
            r.all_output()
        );
    }
    let r = run(confiture(dir.path()).env("NO_COLOR", "1").arg("doctor"));
    assert!(!r.all_output().contains('\x1b'));
}

#[test]
fn init_scaffolds_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let r = confiture_in(dir.path(), &["init", "proj", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let root = dir.path().join("proj");
    for p in [
        "db/schema",
        "db/seeds/common",
        "db/seeds/development",
        "db/seeds/test",
        "db/migrations",
        "db/environments/local.yaml",
    ] {
        assert!(root.join(p).exists(), "{p}");
    }
    let gi = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    assert!(gi.contains(".confiture/"));
    // The scaffolded environment is valid.
    let r = confiture_in(&root, &["config", "show", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    // A second init refuses (exit 5) and changes nothing.
    std::fs::write(root.join("db/schema/10_tables/010_users.sql"), "-- mine").unwrap();
    let r = confiture_in(dir.path(), &["init", "proj"]);
    assert_eq!(r.code, 5);
    let r = confiture_in(dir.path(), &["init", "proj", "--force"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        std::fs::read_to_string(root.join("db/schema/10_tables/010_users.sql")).unwrap(),
        "-- mine"
    );
}

#[test]
fn quiet_prints_nothing_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let r = confiture_in(dir.path(), &["init", "p", "-q"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "");
}
