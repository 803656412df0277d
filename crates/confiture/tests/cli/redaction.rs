//! A password in a DSN never reaches output: text, JSON, reports and error paths.

use confiture_testkit::TestDb;

use crate::common::*;

const SECRET: &str = "hunter2-Sup3rSecret";

fn assert_no_secret(r: &Run) {
    assert!(
        !r.all_output().contains(SECRET),
        "password leaked:\n{}",
        r.all_output()
    );
}

#[test]
fn config_show_masks_password_text_and_json() {
    let dir = project_with_local(
        format!("database_url: postgresql://app:{SECRET}@db.example/app\n").as_bytes(),
    );
    let r = confiture_in(dir.path(), &["config", "show"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("postgresql://app:***@db.example/app"),
        "{}",
        r.stdout
    );
    assert_no_secret(&r);
    let j = confiture_in(dir.path(), &["config", "show", "--format", "json"]);
    assert_eq!(
        j.json()["database_url"],
        "postgresql://app:***@db.example/app"
    );
    assert_no_secret(&j);
}

#[test]
fn password_from_variable_is_masked() {
    let dir =
        project_with_local(b"database_url: postgresql://app:${CONFITURE_T_PW}@db.example/app\n");
    let r = run(confiture(dir.path())
        .env("CONFITURE_T_PW", SECRET)
        .args(["config", "show", "--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_no_secret(&r);
}

#[test]
fn unreachable_server_error_hides_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgresql://app:{SECRET}@127.0.0.1:1/db?connect_timeout=2");
    for format in ["text", "json"] {
        let r = confiture_in(
            dir.path(),
            &["doctor", "--database-url", &url, "--format", format],
        );
        assert_eq!(r.code, 3, "{}", r.all_output());
        assert_no_secret(&r);
    }
}

#[test]
fn invalid_dsn_error_hides_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgresql://app:{SECRET}@host:notaport/db");
    for format in ["text", "json"] {
        let r = confiture_in(
            dir.path(),
            &["doctor", "--database-url", &url, "--format", format],
        );
        assert_eq!(r.code, 5, "{}", r.all_output());
        assert!(r.all_output().contains("INPUT_003"), "{}", r.all_output());
        assert_no_secret(&r);
    }
}

#[test]
fn keyvalue_dsn_error_hides_password() {
    let dir = tempfile::tempdir().unwrap();
    let dsn = format!("host=127.0.0.1 port=1 password={SECRET} dbname=x connect_timeout=2");
    let r = confiture_in(
        dir.path(),
        &["doctor", "--database-url", &dsn, "--format", "json"],
    );
    assert_eq!(r.code, 3, "{}", r.all_output());
    assert_no_secret(&r);
}

#[test]
fn server_error_against_real_postgres_hides_password() {
    // A real server answer (database does not exist) with a password in the URL.
    let db = TestDb::new();
    let url = db
        .url
        .replace("postgres@", &format!("postgres:{SECRET}@"))
        .replace(&db.name, "no_such_db");
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json"] {
        let r = confiture_in(
            dir.path(),
            &["doctor", "--database-url", &url, "--format", format],
        );
        assert_eq!(r.code, 3, "{}", r.all_output());
        assert!(r.all_output().contains("CONN_005"), "{}", r.all_output());
        assert_no_secret(&r);
    }
    // And a successful run with a password shows it masked (or not at all).
    let ok_url = db.url.replace("postgres@", &format!("postgres:{SECRET}@"));
    let r = confiture_in(
        dir.path(),
        &["doctor", "--database-url", &ok_url, "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_no_secret(&r);
}
