//! `confiture doctor` against a real PostgreSQL.

use confiture_testkit::TestDb;

use crate::common::*;

fn check<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {v}"))
}

#[tokio::test]
async fn healthy_database_and_tracking_table() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let r = confiture_in(
        dir.path(),
        &["doctor", "--database-url", &db.url, "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(check(&v, "connection")["status"], "ok");
    assert_eq!(check(&v, "server_version")["status"], "ok");
    assert!(check(&v, "privileges")["detail"]
        .as_str()
        .unwrap()
        .contains("superuser"));
    assert_eq!(check(&v, "tracking_table")["status"], "info");

    let client = db.client().await;
    client
        .batch_execute(
            "CREATE TABLE tb_confiture (id int); INSERT INTO tb_confiture VALUES (1), (2);",
        )
        .await
        .unwrap();
    let r = confiture_in(
        dir.path(),
        &["doctor", "--database-url", &db.url, "--format", "json"],
    );
    let v = r.json();
    assert_eq!(check(&v, "tracking_table")["status"], "ok");
    assert!(check(&v, "tracking_table")["detail"]
        .as_str()
        .unwrap()
        .contains("2 migrations"));
}

#[tokio::test]
async fn configured_tracking_table_and_unprivileged_role() {
    let db = TestDb::new();
    let client = db.client().await;
    client
        .batch_execute(
            "CREATE SCHEMA ops; CREATE TABLE ops.ledger (id int);
             DO $$ BEGIN CREATE ROLE doctor_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        )
        .await
        .unwrap();
    let dir = project_with_local(
        format!(
            "database_url: {}\nmigration:\n  tracking_table: ops.ledger\n",
            db.url
        )
        .as_bytes(),
    );
    let r = confiture_in(dir.path(), &["doctor", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let v = r.json();
    assert!(check(&v, "tracking_table")["detail"]
        .as_str()
        .unwrap()
        .starts_with("ops.ledger present"));
    assert!(check(&v, "target")["detail"]
        .as_str()
        .unwrap()
        .contains("default environment file"));

    let reader = db.url.replace("postgres@", "doctor_reader@");
    let r = confiture_in(
        dir.path(),
        &["doctor", "--database-url", &reader, "--format", "json"],
    );
    assert_eq!(r.code, 0, "warnings do not fail: {}", r.all_output());
    let v = r.json();
    assert_eq!(check(&v, "privileges")["status"], "warn");
    assert!(check(&v, "privileges")["detail"]
        .as_str()
        .unwrap()
        .contains("permission denied"));
}

#[test]
fn unreachable_server_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let r = confiture_in(
        dir.path(),
        &["doctor", "--database-url", "postgresql://u@127.0.0.1:1/db"],
    );
    assert_eq!(r.code, 3, "{}", r.all_output());
    assert!(r.stdout.contains("FAIL  connection"), "{}", r.stdout);
}

#[test]
fn config_error_exits_5_with_location() {
    let dir = project_with_local(b"databse_url: x\n");
    let r = confiture_in(dir.path(), &["doctor", "--format", "json"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    let v = r.json();
    assert_eq!(v["ok"], false);
    let detail = check(&v, "config")["detail"].as_str().unwrap();
    assert!(detail.contains("local.yaml:1:1"), "{detail}");
}

#[test]
fn libpq_environment_variables_are_used() {
    let db = TestDb::new();
    let c = confiture_testkit::cluster();
    let dir = tempfile::tempdir().unwrap();
    let r = run(confiture(dir.path())
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", c.port.to_string())
        .env("PGUSER", "postgres")
        .env("PGDATABASE", &db.name)
        .env("PGSSLMODE", "disable")
        .args(["doctor", "--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(check(&r.json(), "target")["detail"]
        .as_str()
        .unwrap()
        .contains(&db.name));
}
