//! `confiture migrate`: the tracking table, locking, atomicity, rollback and every exit code.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use confiture_testkit::{hold_session, query, query_one, TestDb};

use crate::common::*;

fn sha256(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

const THREE: [(&str, &str); 5] = [
    (
        "001_create_a.up.sql",
        "CREATE TABLE a (id int PRIMARY KEY);\n",
    ),
    ("001_create_a.down.sql", "DROP TABLE a;\n"),
    (
        "2_create_b.up.sql",
        "CREATE TABLE b (id int PRIMARY KEY,\n  a_id int REFERENCES a);\n",
    ),
    ("2_create_b.down.sql", "DROP TABLE b;\n"),
    (
        "10_create_c.up.sql",
        "CREATE TABLE c (id int);\nINSERT INTO c VALUES (1), (2);\n",
    ),
];

#[test]
fn up_applies_in_version_order_and_records_python_compatible_rows() {
    let db = TestDb::new();
    let dir = project(&db.url, "", &THREE);
    let r = confiture_in(dir.path(), &["migrate", "up", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["created_tracking_table"], true);
    let applied: Vec<&str> = j["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_str().unwrap())
        .collect();
    assert_eq!(applied, vec!["001", "2", "10"]);
    assert_eq!(versions(&db.url), vec!["001", "2", "10"]);

    let row = &query(
        &db.url,
        "SELECT name, checksum, applied_by, slug ~ '^create_a_001_[0-9]{8}_[0-9]{6}$', execution_time_ms IS NOT NULL, id IS NOT NULL FROM tb_confiture WHERE version = '001'",
    )[0];
    assert_eq!(row[0].as_deref(), Some("create_a"));
    assert_eq!(
        row[1].as_deref(),
        Some(sha256(&dir.path().join("db/migrations/001_create_a.up.sql")).as_str())
    );
    assert_eq!(row[2].as_deref(), Some("postgres"));
    assert_eq!(
        row[3].as_deref(),
        Some("t"),
        "slug has the Python tool's shape"
    );
    assert_eq!(row[4].as_deref(), Some("t"));
    // The Python tool's indexes are there too.
    let indexes = query_one(&db.url, "SELECT count(*) FROM pg_indexes WHERE tablename = 'tb_confiture' AND indexname LIKE 'idx_tb_confiture_%'");
    assert_eq!(indexes.as_deref(), Some("4"));

    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("is up to date"), "{}", r.stdout);
    let current = confiture_in(dir.path(), &["migrate", "current", "--format", "json"]).json();
    assert_eq!(current["current"]["version"], "10");
}

#[test]
fn target_and_steps_limit_what_up_applies() {
    let db = TestDb::new();
    let dir = project(&db.url, "", &THREE);
    let r = confiture_in(dir.path(), &["migrate", "up", "--steps", "1"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(versions(&db.url), vec!["001"]);
    let r = confiture_in(dir.path(), &["migrate", "up", "--target", "2"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(versions(&db.url), vec!["001", "2"]);
    let r = confiture_in(dir.path(), &["migrate", "up", "--target", "7"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[MIGRATE_012]: ") && r.stderr.contains("versions: 001, 2, 10"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_python_ledger_is_read_and_continued() {
    let db = TestDb::new();
    // The table as a Python release before 0.17 created it (no applied_by, no archived_into),
    // with rows in its format.
    query(
        &db.url,
        "CREATE TABLE tb_confiture (
            id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
            pk_confiture BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            slug TEXT NOT NULL UNIQUE,
            version VARCHAR(255) NOT NULL UNIQUE,
            name VARCHAR(255) NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
            execution_time_ms INTEGER,
            checksum VARCHAR(64));
         CREATE TABLE a (id int PRIMARY KEY);
         CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);",
    );
    let dir = project(&db.url, "", &THREE);
    for (version, name, file) in [
        ("001", "create_a", "001_create_a.up.sql"),
        ("2", "create_b", "2_create_b.up.sql"),
    ] {
        let sum = sha256(&dir.path().join("db/migrations").join(file));
        query(
            &db.url,
            &format!(
                "INSERT INTO tb_confiture (id, slug, version, name, applied_at, execution_time_ms, checksum)
                 VALUES (gen_random_uuid(), '{name}_{version}_20250101_120000', '{version}', '{name}', '2025-01-01 12:00:00+00', 12, '{sum}')"
            ),
        );
    }
    let status = confiture_in(dir.path(), &["migrate", "status", "--format", "json"]).json();
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["applied", "applied", "pending"]);

    let r = confiture_in(dir.path(), &["migrate", "up", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(r.json()["applied"].as_array().unwrap().len(), 1);
    assert_eq!(versions(&db.url), vec!["001", "2", "10"]);
    let added = query_one(
        &db.url,
        "SELECT applied_by FROM tb_confiture WHERE version = '10'",
    );
    assert_eq!(
        added.as_deref(),
        Some("postgres"),
        "the missing columns were added"
    );
    assert_eq!(tables(&db.url), "a,b,c");
}

#[test]
fn eight_concurrent_ups_apply_each_migration_exactly_once() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE runs (migration text)");
    let migrations: Vec<(String, String)> = (1..=4)
        .map(|i| {
            (
                format!("00{i}_m{i}.up.sql"),
                format!("SELECT pg_sleep(0.2);\nINSERT INTO runs VALUES ('m{i}');\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = migrations
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = project(&db.url, "", &refs);
    let children: Vec<_> = (0..8)
        .map(|i| {
            // Half wait long enough for the others to finish, half give up quickly.
            let wait = if i % 2 == 0 { "60s" } else { "300ms" };
            confiture(dir.path())
                .args(["migrate", "up", "--lock-timeout", wait])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let code = out.status.code().unwrap();
        assert!(
            code == 0 || code == 6,
            "exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if code == 6 {
            assert!(String::from_utf8_lossy(&out.stderr).contains("error[MIGRATE_005]"));
        }
        codes.push(code);
    }
    assert!(codes.contains(&0), "{codes:?}");
    let runs = query_one(
        &db.url,
        "SELECT string_agg(migration, ',' ORDER BY migration) FROM runs",
    );
    assert_eq!(
        runs.as_deref(),
        Some("m1,m2,m3,m4"),
        "each migration ran exactly once"
    );
    assert_eq!(versions(&db.url), vec!["001", "002", "003", "004"]);
}

#[test]
fn kill_9_during_a_long_migration_leaves_nothing_and_the_next_up_applies_it() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE slow_flag (on_ boolean); INSERT INTO slow_flag VALUES (true)",
    );
    let dir = project(
        &db.url,
        "",
        &[
            ("001_first.up.sql", "CREATE TABLE first (id int);\n"),
            ("002_long.up.sql", "CREATE TABLE long_one (id int);\nINSERT INTO long_one VALUES (1);\nSELECT pg_sleep(60) FROM slow_flag WHERE on_;\n"),
        ],
    );
    let mut child = confiture(dir.path())
        .args(["migrate", "up"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sleeping = query_one(
            &db.url,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'",
        );
        if sleeping.as_deref() == Some("1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the long migration never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe_kill(child.id());
    child.wait().unwrap();

    // The server notices the dead client (client_connection_check_interval) and rolls back.
    let deadline = Instant::now() + Duration::from_secs(20);
    while query_one(
        &db.url,
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'",
    )
    .as_deref()
        != Some("0")
    {
        assert!(
            Instant::now() < deadline,
            "the orphaned session did not end"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        versions(&db.url),
        vec!["001"],
        "the killed migration is not recorded"
    );
    assert_eq!(
        tables(&db.url),
        "first,slow_flag",
        "none of its changes remain"
    );

    query(&db.url, "UPDATE slow_flag SET on_ = false");
    let r = confiture_in(dir.path(), &["migrate", "up", "--lock-timeout", "20s"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(versions(&db.url), vec!["001", "002"]);
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM long_one").as_deref(),
        Some("1")
    );
}

fn unsafe_kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn down_to_with_a_missing_down_file_exits_8_and_rolls_back_nothing() {
    let db = TestDb::new();
    let files = [THREE[0], THREE[2], THREE[4]]; // no .down.sql for 2 and 10
    let dir = project(&db.url, "", &files);
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    write_migration(dir.path(), "10_create_c.down.sql", "DROP TABLE c;\n");
    let r = confiture_in(dir.path(), &["migrate", "down-to", "001"]);
    assert_eq!(r.code, 8, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[MIGRATE_009]") && r.stderr.contains("2_create_b has no .down.sql"),
        "{}",
        r.stderr
    );
    assert_eq!(versions(&db.url), vec!["001", "2", "10"]);
    assert_eq!(tables(&db.url), "a,b,c", "10 was not rolled back either");
}

#[test]
fn down_and_down_to_roll_back_newest_first() {
    let db = TestDb::new();
    let mut files = THREE.to_vec();
    files.push(("10_create_c.down.sql", "DROP TABLE c;\n"));
    let dir = project(&db.url, "", &files);
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    let r = confiture_in(dir.path(), &["migrate", "down"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(versions(&db.url), vec!["001", "2"]);
    let r = confiture_in(
        dir.path(),
        &["migrate", "down-to", "001", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(r.json()["rolled_back"][0]["version"], "2");
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(tables(&db.url), "a");
}

#[test]
fn a_statement_blocked_by_a_lock_is_retried_and_succeeds_once_the_lock_is_released() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE busy (id int)");
    let dir = project(
        &db.url,
        "migration:\n  lock_timeout_ms: 200\n  lock_retries: 20\n  lock_retry_backoff_ms: 100\n",
        &[(
            "001_alter_busy.up.sql",
            "ALTER TABLE busy ADD COLUMN note text;\n",
        )],
    );
    let holder = hold_session(
        &db.url,
        "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE",
        Duration::from_millis(1500),
    );
    let r = confiture_in(dir.path(), &["migrate", "up", "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(r.code, 0, "{}", r.all_output());
    let attempts = r.json()["applied"][0]["attempts"].as_u64().unwrap();
    assert!(
        attempts > 1,
        "the statement waited for the lock: {attempts} attempt(s)"
    );
    assert_eq!(query_one(&db.url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy' AND column_name = 'note'").as_deref(), Some("1"));
}

#[test]
fn a_statement_blocked_after_every_retry_fails_cleanly_with_exit_6() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE busy (id int)");
    let dir = project(
        &db.url,
        "migration:\n  lock_timeout_ms: 100\n  lock_retries: 2\n  lock_retry_backoff_ms: 50\n",
        &[
            ("001_ok.up.sql", "CREATE TABLE fine (id int);\n"),
            (
                "002_alter_busy.up.sql",
                "CREATE TABLE side_effect (id int);\nALTER TABLE busy ADD COLUMN note text;\n",
            ),
        ],
    );
    let holder = hold_session(
        &db.url,
        "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE",
        Duration::from_secs(4),
    );
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 6, "{}", r.all_output());
    assert!(r.stderr.contains("error[MIGRATE_006]"), "{}", r.stderr);
    assert!(r.stderr.contains("002_alter_busy.up.sql:2:1: canceling statement due to lock timeout (SQLSTATE 55P03): could not get a lock within lock_timeout = 100 ms, 3 attempt(s)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("applied and committed before it: 001_ok"),
        "{}",
        r.stderr
    );
    holder.join().unwrap();
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(
        tables(&db.url),
        "busy,fine",
        "nothing of the failed migration remains"
    );
}

#[test]
fn the_migration_lock_names_its_holder_exit_6() {
    let db = TestDb::new();
    let dir = project(&db.url, "", &[("001_a.up.sql", "SELECT 1;\n")]);
    let id = query_one(&db.url, "SELECT (('x' || substr(encode(sha256(current_database()::bytea), 'hex'), 1, 8))::bit(32)::bigint & 2147483647)::text").unwrap();
    let holder = hold_session(
        &db.url,
        &format!("SET application_name = 'deploy-42'; SELECT pg_advisory_lock(1751936052, {id})"),
        Duration::from_secs(3),
    );
    let r = confiture_in(
        dir.path(),
        &[
            "migrate",
            "up",
            "--lock-timeout",
            "300ms",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 6, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], "MIGRATE_005");
    assert_eq!(
        e["details"]["holder"]["command"],
        "deploy-42, role postgres"
    );
    assert!(e["details"]["holder"]["pid"].as_i64().unwrap() > 0);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("(deploy-42, role postgres) since 20"),
        "{e}"
    );
    holder.join().unwrap();
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
}

#[test]
fn a_failing_statement_exits_1_at_its_file_and_line_and_leaves_that_migration_undone() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_ok.up.sql", "CREATE TABLE ok (id int);\n"),
            ("002_bad.up.sql", "-- adds two tables\nCREATE TABLE half (id int);\nINSERT INTO half\n  VALUES (1, 2);\n"),
        ],
    );
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(r.stderr.contains("error[MIGRATE_004]"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "002_bad.up.sql:4:14: INSERT has more expressions than target columns (SQLSTATE 42601)"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(tables(&db.url), "ok", "the failed migration left nothing");
}

#[test]
fn status_current_and_down_without_a_tracking_table_exit_2() {
    let db = TestDb::new();
    let dir = project(&db.url, "", &THREE);
    let r = confiture_in(dir.path(), &["migrate", "status", "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert_eq!(r.json()["tracking_table_exists"], false);
    assert_eq!(r.json()["pending"], 3);
    for args in [
        &["migrate", "current"][..],
        &["migrate", "down"],
        &["migrate", "verify"],
    ] {
        let r = confiture_in(dir.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all_output());
        assert!(r.stderr.contains("error[MIGRATE_010]"), "{}", r.stderr);
    }
    assert_eq!(
        query_one(
            &db.url,
            "SELECT (to_regclass('tb_confiture') IS NULL)::text"
        )
        .as_deref(),
        Some("true"),
        "read-only commands create nothing"
    );
}

#[test]
fn an_unreachable_database_exits_3() {
    let dir = project("postgresql://postgres@127.0.0.1:1/nothing", "", &THREE);
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 3, "{}", r.all_output());
}

#[test]
fn bad_migration_files_exit_5_before_anything_runs() {
    let db = TestDb::new();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 5] = [
        (
            &[
                ("001_a.up.sql", "CREATE TABLE a (id int);"),
                ("001_b.up.sql", "SELECT 1;"),
            ],
            "MIGRATE_002",
            "these migrations share a version: 001_a.up.sql, 001_b.up.sql",
        ),
        (
            &[
                ("001_a.up.sql", "CREATE TABLE a (id int);"),
                ("002_data.py", "def up(): pass"),
            ],
            "MIGRATE_003",
            "002_data.py is a Python migration",
        ),
        (
            &[
                ("001_a.up.sql", "CREATE TABLE a (id int);"),
                (
                    "002_b.up.sql",
                    "BEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\n",
                ),
            ],
            "MIGRATE_015",
            "002_b.up.sql:1:1: transaction control in a migration",
        ),
        (
            &[
                ("001_a.up.sql", "CREATE TABLE a (id int);"),
                (
                    "002_b.up.sql",
                    "CREATE TABLE b (id int);\nCREATE INDEX CONCURRENTLY b_id ON b (id);\n",
                ),
            ],
            "MIGRATE_011",
            "002_b.up.sql:2:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction",
        ),
        (
            &[
                ("001_a.up.sql", "CREATE TABLE a (id int);"),
                ("002_b.up.sql", "SELECT 'unterminated;\n"),
            ],
            "BUILD_005",
            "002_b.up.sql:1:8: the file ends inside a quoted string",
        ),
    ];
    for (files, code, needle) in cases {
        let dir = project(&db.url, "", files);
        let r = confiture_in(dir.path(), &["migrate", "up"]);
        assert_eq!(r.code, 5, "{code}: {}", r.all_output());
        assert!(
            r.stderr.contains(&format!("error[{code}]")) && r.stderr.contains(needle),
            "{code}: {}",
            r.stderr
        );
        assert_eq!(
            query_one(
                &db.url,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'a'"
            )
            .as_deref(),
            Some("0"),
            "{code}: nothing ran"
        );
        query(&db.url, "DROP TABLE IF EXISTS tb_confiture");
    }
}

#[test]
fn out_of_order_pending_migrations_are_refused_unless_allowed() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id int);"),
            ("003_c.up.sql", "CREATE TABLE c (id int);"),
        ],
    );
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    write_migration(dir.path(), "002_b.up.sql", "CREATE TABLE b (id int);");
    let status = confiture_in(dir.path(), &["migrate", "status", "--format", "json"]).json();
    assert_eq!(status["migrations"][1]["state"], "out_of_order");
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[MIGRATE_008]") && r.stderr.contains("002_b"),
        "{}",
        r.stderr
    );
    let r = confiture_in(dir.path(), &["migrate", "up", "--allow-out-of-order"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(versions(&db.url), vec!["001", "003", "002"]);
}

#[test]
fn checksum_mismatch_fails_warns_or_is_fixed() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[("001_a.up.sql", "CREATE TABLE a (id int);\n")],
    );
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    write_migration(dir.path(), "001_a.up.sql", "CREATE TABLE a (id bigint);\n");
    write_migration(dir.path(), "002_b.up.sql", "CREATE TABLE b (id int);\n");

    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 7, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[MIGRATE_007]") && r.stderr.contains("001_a"),
        "{}",
        r.stderr
    );
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(
        confiture_in(dir.path(), &["migrate", "verify-checksums"]).code,
        7
    );
    let status = confiture_in(dir.path(), &["migrate", "status", "--format", "json"]).json();
    assert_eq!(status["migrations"][0]["state"], "checksum_mismatch");

    let r = confiture_in(
        dir.path(),
        &["migrate", "up", "--on-checksum-mismatch", "warn"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stdout
            .contains("warning: applied migrations changed since they were applied: 001_a"),
        "{}",
        r.stdout
    );

    let r = confiture_in(dir.path(), &["migrate", "verify-checksums", "--fix"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(
        confiture_in(dir.path(), &["migrate", "verify-checksums"]).code,
        0
    );
    let recorded = query_one(
        &db.url,
        "SELECT checksum FROM tb_confiture WHERE version = '001'",
    );
    assert_eq!(
        recorded.as_deref(),
        Some(sha256(&dir.path().join("db/migrations/001_a.up.sql")).as_str())
    );
}

#[test]
fn a_failed_create_index_concurrently_leaves_an_invalid_index_that_the_next_run_drops() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (1)",
    );
    let dir = project(
        &db.url,
        "",
        &[(
            "001_unique_a.up.sql",
            "CREATE UNIQUE INDEX CONCURRENTLY t_a_key ON t (a);\n",
        )],
    );
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(
        r.stderr
            .contains("could not create unique index \"t_a_key\" (SQLSTATE 23505)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        query_one(
            &db.url,
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_a_key'::regclass"
        )
        .as_deref(),
        Some("false")
    );

    query(
        &db.url,
        "DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t)",
    );
    let r = confiture_in(dir.path(), &["migrate", "up", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let applied = &r.json()["applied"][0];
    assert_eq!(applied["mode"], "autocommit");
    assert_eq!(applied["dropped_invalid_indexes"][0], "t_a_key");
    assert_eq!(
        query_one(
            &db.url,
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_a_key'::regclass"
        )
        .as_deref(),
        Some("true")
    );
    assert_eq!(versions(&db.url), vec!["001"]);
}

#[test]
fn baseline_records_without_running_and_up_continues() {
    let db = TestDb::new();
    let dir = project(&db.url, "", &THREE);
    let r = confiture_in(
        dir.path(),
        &["migrate", "baseline", "--through", "2", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(r.json()["recorded"].as_array().unwrap().len(), 2);
    assert_eq!(versions(&db.url), vec!["001", "2"]);
    assert_eq!(tables(&db.url), "", "nothing ran");
    let slug = query_one(
        &db.url,
        "SELECT slug LIKE '%\\_baseline' FROM tb_confiture WHERE version = '2'",
    );
    assert_eq!(slug.as_deref(), Some("t"));
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    assert_eq!(tables(&db.url), "c");
}

#[test]
fn verify_runs_each_verify_query() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id int);\n"),
            ("001_a.verify.sql", "SELECT to_regclass('a') IS NOT NULL;\n"),
            ("002_b.up.sql", "CREATE TABLE b (id int);\n"),
        ],
    );
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    let r = confiture_in(dir.path(), &["migrate", "verify", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(r.json()["results"][0]["passed"], true);
    assert_eq!(r.json()["without_verify"], 1);
    query(&db.url, "DROP TABLE a");
    let r = confiture_in(dir.path(), &["migrate", "verify"]);
    assert_eq!(r.code, 7, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[MIGRATE_013]") && r.stderr.contains("001_a returned f"),
        "{}",
        r.stderr
    );
}

#[test]
fn generate_writes_a_timestamped_pair() {
    let dir = project("postgresql://unused@127.0.0.1:1/x", "", &[]);
    let r = confiture_in(
        dir.path(),
        &["migrate", "generate", "add_users", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let up = r.json()["up"].as_str().unwrap().to_string();
    let name = Path::new(&up)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert_eq!(
        name.len(),
        "20261122000000_add_users.up.sql".len(),
        "{name}"
    );
    assert!(
        name.ends_with("_add_users.up.sql") && name[..14].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    assert!(Path::new(&r.json()["down"].as_str().unwrap()).exists());
    let r = confiture_in(dir.path(), &["migrate", "generate", "Add Users"]);
    assert_eq!(r.code, 5);
}

#[test]
fn an_applied_migration_whose_file_is_gone_is_reported() {
    let db = TestDb::new();
    let dir = project(&db.url, "", &THREE);
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    std::fs::remove_file(dir.path().join("db/migrations/2_create_b.up.sql")).unwrap();
    std::fs::remove_file(dir.path().join("db/migrations/2_create_b.down.sql")).unwrap();
    let status = confiture_in(dir.path(), &["migrate", "status", "--format", "json"]).json();
    assert_eq!(status["migrations"][1]["version"], "2");
    assert_eq!(status["migrations"][1]["state"], "missing_file");
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stdout
            .contains("warning: migration 2_create_b is applied but its file is gone"),
        "{}",
        r.stdout
    );
    // Rolling it back is impossible: exit 8, nothing rolled back.
    let r = confiture_in(dir.path(), &["migrate", "down-to", "001"]);
    assert_eq!(r.code, 8, "{}", r.all_output());
    assert_eq!(versions(&db.url), vec!["001", "2", "10"]);
}

#[test]
fn the_lock_holder_of_another_role_is_reported_without_its_hidden_details() {
    let db = TestDb::new();
    let role = format!("cf_app_{}", std::process::id());
    query(
        &db.url,
        &format!("CREATE ROLE {role} LOGIN; GRANT ALL ON SCHEMA public TO {role}"),
    );
    let dir = project(
        &db.url.replace("postgres@", &format!("{role}@")),
        "",
        &[("001_a.up.sql", "SELECT 1;\n")],
    );
    let id = query_one(&db.url, "SELECT (('x' || substr(encode(sha256(current_database()::bytea), 'hex'), 1, 8))::bit(32)::bigint & 2147483647)::text").unwrap();
    let holder = hold_session(
        &db.url,
        &format!("SELECT pg_advisory_lock(1751936052, {id})"),
        Duration::from_secs(3),
    );
    let r = confiture_in(dir.path(), &["migrate", "up", "--lock-timeout", "300ms"]);
    holder.join().unwrap();
    assert_eq!(r.code, 6, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[MIGRATE_005]") && r.stderr.contains("not visible to this role"),
        "{}",
        r.stderr
    );
}

#[test]
fn psql_meta_commands_in_a_migration_are_refused() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[(
            "001_inc.up.sql",
            "\\i db/migrations/other.sql\nCREATE TABLE t3 (a int);\n",
        )],
    );
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[MIGRATE_016]")
            && r.stderr
                .contains("001_inc.up.sql:1:1: psql meta-command `\\i db/migrations/other.sql`"),
        "{}",
        r.stderr
    );
    assert_eq!(tables(&db.url), "");
}

#[test]
fn failures_at_commit_and_midway_through_autocommit_say_what_remains() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_p.up.sql", "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE ch (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n"),
            ("002_deferred.up.sql", "INSERT INTO ch VALUES (42);\n"),
        ],
    );
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(
        r.stderr.contains(
            "002_deferred.up.sql: insert or update on table \"ch\" violates foreign key constraint"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("at COMMIT: a deferred constraint or trigger failed")
            && r.stderr.contains("Key (pid)=(42)"),
        "{}",
        r.stderr
    );
    assert_eq!(versions(&db.url), vec!["001"]);

    let dir = project(
        &db.url,
        "",
        &[
            (
                "003_auto.up.sql",
                "CREATE TABLE made (id int);\nSELECT 1/0;\n",
            ),
            ("003_auto.yaml", "transactional: false\n"),
        ],
    );
    query(&db.url, "DELETE FROM ch");
    let r = confiture_in(dir.path(), &["migrate", "up", "--allow-out-of-order"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(
        r.stderr
            .contains("the statements before it in this migration stay applied"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_search_path_set_by_one_migration_does_not_leak_into_the_next() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_app.up.sql", "CREATE SCHEMA app;\nSET search_path TO app, public;\nCREATE TABLE users (id int);\n"),
            ("002_audit.up.sql", "CREATE TABLE audit (id int);\n"),
            ("003_empty_path.up.sql", "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.dumped (id int);\n"),
        ],
    );
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(
        query_one(&db.url, "SELECT to_regclass('public.audit') IS NOT NULL").as_deref(),
        Some("t")
    );
    assert_eq!(
        query_one(&db.url, "SELECT to_regclass('app.users') IS NOT NULL").as_deref(),
        Some("t")
    );
    assert_eq!(versions(&db.url), vec!["001", "002", "003"]);
}

#[test]
fn versions_compare_by_value_and_down_to_needs_an_applied_version() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id int);\n"),
            ("003_c.up.sql", "CREATE TABLE c (id int);\n"),
            ("003_c.down.sql", "DROP TABLE c;\n"),
        ],
    );
    let r = confiture_in(dir.path(), &["migrate", "up", "--target", "1"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(versions(&db.url), vec!["001"]);
    let r = confiture_in(dir.path(), &["migrate", "down-to", "3"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(
        r.stderr.contains("migration 3 is not applied"),
        "{}",
        r.stderr
    );
    assert_eq!(confiture_in(dir.path(), &["migrate", "up"]).code, 0);
    assert_eq!(
        confiture_in(dir.path(), &["migrate", "down-to", "1"]).code,
        0
    );
    assert_eq!(versions(&db.url), vec!["001"]);
}
