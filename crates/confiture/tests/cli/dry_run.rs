//! `confiture migrate up|down|down-to --dry-run` and `--preview`: nothing is kept (catalog,
//! data and tracking table compared before and after), the measured metrics are true for fixed
//! scenarios, statements refused in a transaction are listed, sample rows, hooks, the SQL of a
//! preview and argument errors.

use std::path::Path;

use confiture_testkit::{query, query_one, TestDb};
use serde_json::Value;

use crate::common::*;

// ---- helpers (copied from migrate.rs / hooks.rs, plus a few for dry-runs) ----

fn exists(url: &str, relation: &str) -> bool {
    query_one(
        url,
        &format!("SELECT (to_regclass('{relation}') IS NOT NULL)::text"),
    )
    .as_deref()
        == Some("true")
}

const USER_NAMESPACES: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

/// The objects of the user schemas: relations (with their storage), columns, constraints,
/// indexes, schemas.
fn catalog_fingerprint(url: &str) -> String {
    let sql = format!(
        "SELECT concat_ws(E'\\n',
            (SELECT string_agg(format('%s.%s:%s:%s', n.nspname, c.relname, c.relkind, c.relfilenode), ',' ORDER BY n.nspname, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACES}),
            (SELECT string_agg(format('%s.%s.%s:%s:%s:%s:%s', n.nspname, c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid)), ',' ORDER BY n.nspname, c.relname, a.attnum)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
               WHERE a.attnum > 0 AND NOT a.attisdropped AND {USER_NAMESPACES}),
            (SELECT string_agg(format('%s.%s:%s:%s', n.nspname, x.conname, x.contype, pg_get_constraintdef(x.oid)), ',' ORDER BY n.nspname, x.conname)
               FROM pg_constraint x JOIN pg_namespace n ON n.oid = x.connamespace WHERE {USER_NAMESPACES}),
            (SELECT string_agg(format('%s:%s:%s', i.indexrelid::regclass, i.indisvalid, pg_get_indexdef(i.indexrelid)), ',' ORDER BY i.indexrelid::regclass::text)
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER_NAMESPACES}),
            (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace))"
    );
    query_one(url, &sql).unwrap_or_default()
}

/// An md5 of the rows of every user table, table by table.
fn data_checksums(url: &str) -> Vec<(String, String)> {
    let tables: Vec<String> = query(
        url,
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect();
    tables
        .into_iter()
        .map(|t| {
            let sum = query_one(
                url,
                &format!("SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) || ':' || count(*) FROM {t} t"),
            )
            .unwrap();
            (t, sum)
        })
        .collect()
}

/// The tracking table's rows, as text (empty when it does not exist).
fn ledger_rows(url: &str) -> String {
    if !tracking_table_exists(url) {
        return String::new();
    }
    query_one(
        url,
        "SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY pk_confiture), '') FROM tb_confiture t",
    )
    .unwrap()
}

/// Everything a dry-run must leave as it was.
#[derive(Debug, PartialEq)]
struct DbState {
    catalog: String,
    data: Vec<(String, String)>,
    ledger: String,
    tracking_table: bool,
}

fn db_state(url: &str) -> DbState {
    DbState {
        catalog: catalog_fingerprint(url),
        data: data_checksums(url),
        ledger: ledger_rows(url),
        tracking_table: tracking_table_exists(url),
    }
}

/// `confiture migrate ARGS --dry-run --format json`.
fn dry_run_json(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--dry-run", "--format", "json"]);
    confiture_in(dir, &all)
}

/// A dry-run that must succeed; its report.
fn dry_run_ok(dir: &Path, args: &[&str]) -> Value {
    let r = dry_run_json(dir, args);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["ok"], true, "{j:#}");
    assert_eq!(j["rolled_back"], true, "{j:#}");
    assert!(j.get("failure").is_none(), "{j:#}");
    j
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn migration<'a>(report: &'a Value, version: &str) -> &'a Value {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["version"] == version)
        .unwrap_or_else(|| panic!("no migration {version} in {report:#}"))
}

fn versions_of(report: &Value) -> Vec<String> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_str().unwrap().to_string())
        .collect()
}

/// The only statement of a one-statement migration.
fn only_statement<'a>(report: &'a Value, version: &str) -> &'a Value {
    let m = migration(report, version);
    let s = m["statements"].as_array().unwrap();
    assert_eq!(s.len(), 1, "{m:#}");
    &s[0]
}

fn has_lock(effects: &Value, relation: &str, mode: &str) -> bool {
    effects["locks"]
        .as_array()
        .map(|locks| {
            locks
                .iter()
                .any(|l| l["relation"] == relation && l["mode"] == mode)
        })
        .unwrap_or(false)
}

fn hook<'a>(m: &'a Value, id: &str) -> &'a Value {
    m["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == id)
        .unwrap_or_else(|| panic!("no hook {id} in {m:#}"))
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

/// Asserts the needles occur in `text` in this order, each after the previous one.
fn assert_in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("expected {needle:?} after byte {from} in:\n{text}"),
        }
    }
}

// ---- nothing is kept ----

/// Several migrations of every kind (table created, column added, rows updated and deleted,
/// index created, column dropped, a hook inserting rows).
fn many_kinds() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "001_base.up.sql",
            "CREATE TABLE items (id int PRIMARY KEY, x int NOT NULL, y text);\nINSERT INTO items SELECT g, g, 'y' || g FROM generate_series(1, 100) g;\n",
        ),
        (
            "002_audit.up.sql",
            "CREATE TABLE audit (id serial PRIMARY KEY, note text);\n",
        ),
        (
            "003_add_z.up.sql",
            "ALTER TABLE items ADD COLUMN z int DEFAULT 7;\n",
        ),
        (
            "004_touch.up.sql",
            "UPDATE items SET x = x + 1 WHERE id <= 10;\nDELETE FROM items WHERE id > 90;\n",
        ),
        (
            "005_index.up.sql",
            "CREATE INDEX items_x_idx ON items (x);\n",
        ),
        (
            "006_drop_y.up.sql",
            "ALTER TABLE items DROP COLUMN y;\n",
        ),
        (
            "006_drop_y.yaml",
            "hooks:\n  after_ddl:\n    - type: sql\n      id: log\n      config:\n        sql: \"INSERT INTO audit (note) SELECT 'n' || id FROM items WHERE id <= 5\"\n",
        ),
    ]
}

#[test]
fn a_dry_run_leaves_the_catalog_the_data_and_the_ledger_exactly_as_they_were() {
    let db = TestDb::new();
    let all = many_kinds();
    // 001 is applied for real: the tracking table exists and has a row.
    let dir = project(&db.url, "", &all[..1]);
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    for (name, content) in &all[1..] {
        write_migration(dir.path(), name, content);
    }
    let before = db_state(&db.url);
    assert!(before.tracking_table);
    assert_eq!(versions(&db.url), vec!["001"]);

    let j = dry_run_ok(dir.path(), &["up"]);
    assert_eq!(j["direction"], "up");
    assert_eq!(versions_of(&j), vec!["002", "003", "004", "005", "006"]);
    assert_eq!(j["remaining"], 0);
    // It did run them all: the report shows their effects.
    assert_eq!(j["rows_updated"], 10, "{j:#}");
    assert_eq!(j["rows_deleted"], 10, "{j:#}");
    assert_eq!(j["rows_inserted"], 5, "the hook's rows: {j:#}");
    let log = hook(migration(&j, "006"), "log");
    assert_eq!(log["status"], "ok", "{log:#}");
    assert_eq!(log["rows"], 5, "{log:#}");

    let after = db_state(&db.url);
    assert_eq!(before, after, "the dry-run changed the database");
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(tables(&db.url), "items");
    assert_eq!(
        query_one(
            &db.url,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name IN ('y', 'z')"
        )
        .as_deref(),
        Some("1"),
        "y is still there, z was not added"
    );

    // The text report says the same and changes nothing either.
    let r = confiture_in(dir.path(), &["migrate", "up", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_contains(&r.stdout, "dry-run of 5 migration(s) up on");
    assert_contains(&r.stdout, "rolled back, nothing was kept");
    assert_contains(&r.stdout, "total: 5 inserted, 10 updated, 10 deleted");
    assert_eq!(db_state(&db.url), before);

    // And the real run then applies every one of them.
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(
        versions(&db.url),
        vec!["001", "002", "003", "004", "005", "006"]
    );
}

#[test]
fn a_dry_run_does_not_create_the_tracking_table() {
    let db = TestDb::new();
    let dir = project(&db.url, "", &many_kinds());
    let before = db_state(&db.url);
    assert!(!before.tracking_table);
    let j = dry_run_ok(dir.path(), &["up"]);
    assert_eq!(
        versions_of(&j),
        vec!["001", "002", "003", "004", "005", "006"]
    );
    assert_eq!(
        migration(&j, "001")["statements"][0]["created"]["tables"],
        serde_json::json!(["items"]),
        "{j:#}"
    );
    assert!(
        !tracking_table_exists(&db.url),
        "the dry-run created the tracking table"
    );
    assert_eq!(db_state(&db.url), before);
    assert_eq!(tables(&db.url), "");
    // `--target` and `--steps` select as for a real run.
    let j = dry_run_ok(dir.path(), &["up", "--steps", "2"]);
    assert_eq!(versions_of(&j), vec!["001", "002"]);
    assert_eq!(j["remaining"], 4);
    let j = dry_run_ok(dir.path(), &["up", "--target", "003"]);
    assert_eq!(versions_of(&j), vec!["001", "002", "003"]);
    assert!(!tracking_table_exists(&db.url));
}

// ---- the metrics are true ----

#[test]
fn metrics_of_rewrites_locks_rows_objects_and_wal_are_true() {
    let db = TestDb::new();
    // `r` for the rewrite (its index is rebuilt under a SHARE lock), `t` for the rest.
    query(
        &db.url,
        "CREATE TABLE r (id int PRIMARY KEY, x int NOT NULL);
         INSERT INTO r SELECT g, g FROM generate_series(1, 50) g;
         CREATE TABLE t (id int PRIMARY KEY, x int NOT NULL, y text);
         INSERT INTO t SELECT g, g, 'y' || g FROM generate_series(1, 50) g;",
    );
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_add_c.up.sql",
                "ALTER TABLE r ADD COLUMN c float DEFAULT random();\n",
            ),
            ("002_index_x.up.sql", "CREATE INDEX t_x_idx ON t (x);\n"),
            ("003_bump.up.sql", "UPDATE t SET x = x + 1 WHERE id <= 7;\n"),
            (
                "004_more.up.sql",
                "INSERT INTO t (id, x) SELECT g, g FROM generate_series(1001, 1025) g;\n",
            ),
            (
                "005_purge.up.sql",
                "DELETE FROM t WHERE id > 40 AND id <= 50;\n",
            ),
            ("006_drop_y.up.sql", "ALTER TABLE t DROP COLUMN y;\n"),
        ],
    );
    let before = db_state(&db.url);
    let j = dry_run_ok(dir.path(), &["up"]);

    // A volatile default rewrites the table under an ACCESS EXCLUSIVE lock.
    let add = only_statement(&j, "001");
    assert_eq!(strings(&add["rewritten"]), vec!["r"], "{add:#}");
    assert!(has_lock(add, "r", "AccessExclusiveLock"), "{add:#}");
    let lock = add["locks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "r" && l["mode"] == "AccessExclusiveLock")
        .unwrap();
    assert_eq!(lock["new_relation"], false, "{lock}");
    assert_eq!(strings(&add["created"]["columns"]), vec!["r.c"], "{add:#}");
    assert_eq!(add["rows_inserted"], 0, "a rewrite is no insert: {add:#}");
    assert_eq!(add["rows_updated"], 0, "{add:#}");
    assert_eq!(add["rows_deleted"], 0, "{add:#}");
    assert_eq!(add["line"], 1);
    assert_eq!(add["index"], 1);
    assert_contains(add["sql"].as_str().unwrap(), "ALTER TABLE r ADD COLUMN c");

    // CREATE INDEX: a SHARE lock, the index, no rewrite.
    let index = only_statement(&j, "002");
    assert!(has_lock(index, "t", "ShareLock"), "{index:#}");
    assert_eq!(
        strings(&index["created"]["indexes"]),
        vec!["t_x_idx on t"],
        "{index:#}"
    );
    assert!(index.get("rewritten").is_none(), "{index:#}");

    // UPDATE: exactly the rows it changed, by table, and WAL.
    let update = only_statement(&j, "003");
    assert_eq!(update["rows_updated"], 7, "{update:#}");
    assert_eq!(update["rows_inserted"], 0, "{update:#}");
    assert_eq!(update["rows_deleted"], 0, "{update:#}");
    assert_eq!(
        update["rows_by_table"],
        serde_json::json!([{"table": "public.t", "inserted": 0, "updated": 7, "deleted": 0}]),
        "{update:#}"
    );
    assert!(
        update["wal_bytes"].as_u64().unwrap_or(0) > 0,
        "an UPDATE writes WAL: {update:#}"
    );
    assert!(
        update.get("created").is_none() && update.get("dropped").is_none(),
        "{update:#}"
    );

    let insert = only_statement(&j, "004");
    assert_eq!(insert["rows_inserted"], 25, "{insert:#}");
    assert_eq!(insert["rows_updated"], 0, "{insert:#}");
    assert_eq!(insert["rows_by_table"][0]["table"], "public.t");
    assert_eq!(insert["rows_by_table"][0]["inserted"], 25);

    let delete = only_statement(&j, "005");
    assert_eq!(delete["rows_deleted"], 10, "{delete:#}");
    assert_eq!(delete["rows_inserted"], 0, "{delete:#}");
    assert_eq!(delete["rows_by_table"][0]["deleted"], 10);

    let drop = only_statement(&j, "006");
    assert_eq!(
        strings(&drop["dropped"]["columns"]),
        vec!["t.y"],
        "{drop:#}"
    );

    // The totals add the statements up.
    assert_eq!(j["rows_updated"], 7);
    assert_eq!(j["rows_deleted"], 10);
    assert_eq!(j["rows_inserted"], 25, "{j:#}");
    assert!(j["wal_bytes"].as_u64().unwrap() > 0);
    // Everything ran: the estimate is measured, with a range around it.
    let e = &j["estimate"];
    assert_eq!(e["confidence"], "high", "{e:#}");
    let (ms, low, high) = (
        e["ms"].as_f64().unwrap(),
        e["low_ms"].as_f64().unwrap(),
        e["high_ms"].as_f64().unwrap(),
    );
    assert!(low <= ms && ms <= high, "{e:#}");
    // The locks the first migration holds until its COMMIT.
    let held = migration(&j, "001")["locks_held"].as_array().unwrap();
    assert!(
        held.iter()
            .any(|l| l["relation"] == "r" && l["mode"] == "AccessExclusiveLock"),
        "{held:?}"
    );

    // The text report names the same.
    let r = confiture_in(dir.path(), &["migrate", "up", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_contains(&r.stdout, "rewrites: r");
    assert_contains(&r.stdout, "AccessExclusiveLock on r");
    assert_contains(&r.stdout, "AccessExclusiveLock on t");
    assert_contains(&r.stdout, "ShareLock on t");
    assert_contains(&r.stdout, "created: column r.c");
    assert_contains(&r.stdout, "created: index t_x_idx on t");
    assert_contains(&r.stdout, "rows of public.t: 7 updated");
    assert_contains(&r.stdout, "rows of public.t: 25 inserted");
    assert_contains(&r.stdout, "rows of public.t: 10 deleted");
    assert_contains(&r.stdout, "dropped: column t.y");
    assert_contains(&r.stdout, "confidence high");

    assert_eq!(db_state(&db.url), before);
}

#[test]
fn a_check_constraint_that_existing_rows_violate_fails_the_dry_run_and_changes_nothing() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE t (id int PRIMARY KEY, x int NOT NULL);
         INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;",
    );
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_log.up.sql",
                "CREATE TABLE log (id int);\nINSERT INTO log VALUES (1);\n",
            ),
            (
                "002_check.up.sql",
                "UPDATE t SET x = x WHERE id = 1;\nALTER TABLE t ADD CONSTRAINT x_small CHECK (x < 5);\n",
            ),
            ("003_after.up.sql", "CREATE TABLE never (id int);\n"),
        ],
    );
    let before = db_state(&db.url);
    let r = dry_run_json(dir.path(), &["up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["ok"], false, "{j:#}");
    assert_eq!(j["rolled_back"], true);
    let failure = &j["failure"];
    assert_eq!(failure["error"]["code"], "MIGRATE_004", "{failure:#}");
    assert_eq!(failure["error"]["exit_code"], 1, "{failure:#}");
    assert_eq!(failure["migration"], "002_check", "{failure:#}");
    assert_eq!(failure["error"]["line"], 2, "{failure:#}");
    assert_contains(failure["error"]["message"].as_str().unwrap(), "x_small");
    let violations = j["constraint_violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{j:#}");
    assert_eq!(violations[0]["constraint"], "x_small");
    assert_eq!(violations[0]["table"], "t");
    assert_eq!(violations[0]["migration"], "002_check");
    // It stopped there: 003 was not run; the statement before the failure was measured.
    assert_eq!(versions_of(&j), vec!["001", "002"]);
    assert_eq!(
        migration(&j, "002")["statements"].as_array().unwrap().len(),
        1
    );
    assert_eq!(j["estimate"]["confidence"], "low");
    assert_eq!(db_state(&db.url), before);
    assert!(!tracking_table_exists(&db.url));
    assert_eq!(tables(&db.url), "t");

    // In text: the report, then the error, exit 1.
    let r = confiture_in(dir.path(), &["migrate", "up", "--dry-run"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_contains(&r.stdout, "constraint violation in 002_check");
    assert_contains(&r.stdout, "confidence low");
    assert_contains(&r.stderr, "error[MIGRATE_004]");
    assert_contains(&r.stderr, "002_check.up.sql:2:1");
    assert_eq!(db_state(&db.url), before);
    // The real run fails the same way.
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_contains(&r.stderr, "error[MIGRATE_004]");
}

// ---- statements that cannot run in a transaction ----

#[test]
fn create_index_concurrently_is_listed_as_not_executed_and_not_created() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE t (id int PRIMARY KEY, x int); INSERT INTO t SELECT g, g FROM generate_series(1, 20) g;",
    );
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_cic.up.sql",
                "UPDATE t SET x = 0 WHERE id = 1;\nCREATE INDEX CONCURRENTLY t_x_cic ON t (x);\n",
            ),
            ("001_cic.yaml", "transactional: false\n"),
        ],
    );
    let before = db_state(&db.url);
    let j = dry_run_ok(dir.path(), &["up"]);
    let m = migration(&j, "001");
    assert_eq!(m["mode"], "autocommit", "{m:#}");
    let not_executed = m["not_executed"].as_array().unwrap();
    assert_eq!(not_executed.len(), 1, "{m:#}");
    assert_eq!(not_executed[0]["index"], 2);
    assert_eq!(not_executed[0]["line"], 2);
    assert_contains(
        not_executed[0]["sql"].as_str().unwrap(),
        "CREATE INDEX CONCURRENTLY t_x_cic",
    );
    assert_contains(
        not_executed[0]["reason"].as_str().unwrap(),
        "cannot run inside the dry-run's transaction",
    );
    // The other statement did run.
    let statements = m["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{m:#}");
    assert_eq!(statements[0]["rows_updated"], 1);
    assert!(!exists(&db.url, "t_x_cic"), "the index was created");
    let e = &j["estimate"];
    assert_ne!(e["confidence"], "high", "{e:#}");
    assert!(
        e["basis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b.as_str().unwrap().contains("could not run")),
        "{e:#}"
    );
    assert_eq!(db_state(&db.url), before);

    let r = confiture_in(dir.path(), &["migrate", "up", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_contains(&r.stdout, "not executed: statement 2 (line 2)");
    assert!(!exists(&db.url, "t_x_cic"));
}

// ---- sample rows ----

#[test]
fn show_sample_rows_shows_the_committed_row_before_and_the_new_one_after() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE s (id int PRIMARY KEY, v text);
         INSERT INTO s SELECT g, 'old' || g FROM generate_series(1, 5) g;",
    );
    let dir = project(
        &db.url,
        "",
        &[(
            "001_rename.up.sql",
            "UPDATE s SET v = 'new' || id WHERE id <= 3;\n",
        )],
    );
    let before = db_state(&db.url);
    let j = dry_run_ok(dir.path(), &["up", "--show-sample-rows", "2"]);
    let update = only_statement(&j, "001");
    assert_eq!(update["rows_updated"], 3);
    let samples = update["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 2, "at most N rows: {update:#}");
    for sample in samples {
        assert_eq!(sample["table"], "public.s", "{sample}");
        let id = sample["after"]["id"].as_i64().unwrap();
        assert!((1..=3).contains(&id), "{sample}");
        assert_eq!(
            sample["after"],
            serde_json::json!({"id": id, "v": format!("new{id}")}),
            "{sample}"
        );
        assert_eq!(
            sample["before"],
            serde_json::json!({"id": id, "v": format!("old{id}")}),
            "{sample}"
        );
    }

    // In text.
    let r = confiture_in(
        dir.path(),
        &["migrate", "up", "--dry-run", "--show-sample-rows", "1"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("sample public.s:"))
        .unwrap_or_else(|| panic!("no sample line in:\n{}", r.stdout));
    assert_contains(line, "\"v\":\"old");
    assert_contains(line, "-> ");
    assert_contains(line, "\"v\":\"new");
    assert_eq!(r.stdout.matches("sample public.s:").count(), 1);

    // Without the option: no samples.
    let j = dry_run_ok(dir.path(), &["up"]);
    assert!(only_statement(&j, "001").get("samples").is_none());
    assert_eq!(db_state(&db.url), before);
}

#[test]
fn sample_rows_of_a_table_locked_exclusively_have_no_before_and_do_not_block() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE s (id int PRIMARY KEY, v text);
         INSERT INTO s SELECT g, 'old' || g FROM generate_series(1, 5) g;",
    );
    let dir = project(
        &db.url,
        "",
        &[(
            "001_alter_then_update.up.sql",
            "ALTER TABLE s ADD COLUMN w int;\nUPDATE s SET v = 'new' || id WHERE id <= 2;\n",
        )],
    );
    let j = dry_run_ok(dir.path(), &["up", "--show-sample-rows", "5"]);
    let m = migration(&j, "001");
    let update = &m["statements"][1];
    let samples = update["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 2, "{update:#}");
    for sample in samples {
        assert!(sample["before"].is_null(), "{sample}");
        let id = sample["after"]["id"].as_i64().unwrap();
        assert_eq!(sample["after"]["v"], format!("new{id}"), "{sample}");
    }
    assert_eq!(
        query_one(&db.url, "SELECT string_agg(v, ',' ORDER BY id) FROM s").as_deref(),
        Some("old1,old2,old3,old4,old5")
    );
}

// ---- hooks ----

#[test]
fn hooks_run_in_the_dry_run_and_command_hooks_only_when_declared() {
    let db = TestDb::new();
    let sidecar = r#"hooks:
  after_ddl:
    - type: sql
      id: seed
      config:
        sql: "INSERT INTO notes VALUES (1, 'a'), (2, 'b')"
    - type: command
      id: outside
      config:
        run: [sh, -c, "echo ran > ran_outside.txt"]
    - type: command
      id: allowed
      dry_run: true
      config:
        run: [sh, -c, "printf '%s' \"$CONFITURE_DRY_RUN\" > dry_run_env.txt"]
"#;
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_notes.up.sql",
                "CREATE TABLE notes (id int PRIMARY KEY, body text);\n",
            ),
            ("001_notes.yaml", sidecar),
        ],
    );
    let before = db_state(&db.url);
    let j = dry_run_ok(dir.path(), &["up"]);
    let m = migration(&j, "001");
    let ids: Vec<&str> = m["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["seed", "outside", "allowed"]);

    let seed = hook(m, "seed");
    assert_eq!(seed["type"], "sql");
    assert_eq!(seed["phase"], "after_ddl");
    assert_eq!(seed["status"], "ok");
    assert_eq!(seed["rows"], 2);
    assert_eq!(seed["rows_inserted"], 2, "{seed:#}");
    assert_eq!(
        seed["rows_by_table"][0]["table"], "public.notes",
        "{seed:#}"
    );
    assert_eq!(seed["rows_by_table"][0]["inserted"], 2, "{seed:#}");
    assert_eq!(j["rows_inserted"], 2, "the totals count hooks: {j:#}");

    let outside = hook(m, "outside");
    assert_eq!(outside["type"], "command");
    assert_eq!(outside["status"], "skipped (dry-run)", "{outside:#}");
    assert!(
        !dir.path().join("ran_outside.txt").exists(),
        "a command hook ran in a dry-run without dry_run: true"
    );

    let allowed = hook(m, "allowed");
    assert_eq!(allowed["status"], "ok", "{allowed:#}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dry_run_env.txt")).unwrap(),
        "1",
        "CONFITURE_DRY_RUN=1"
    );
    // A skipped hook makes the estimate less sure.
    let e = &j["estimate"];
    assert_eq!(e["confidence"], "medium", "{e:#}");
    assert!(
        e["basis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b.as_str().unwrap().contains("1 hook(s)")),
        "{e:#}"
    );
    assert!(!exists(&db.url, "notes"));
    assert_eq!(db_state(&db.url), before);

    // Text.
    std::fs::remove_file(dir.path().join("dry_run_env.txt")).unwrap();
    let r = confiture_in(dir.path(), &["migrate", "up", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_contains(&r.stdout, "hook after_ddl seed (sql): ok, 2 row(s)");
    assert_contains(
        &r.stdout,
        "hook after_ddl outside (command): skipped (dry-run)",
    );
    assert_contains(&r.stdout, "hook after_ddl allowed (command): ok");

    // The real run runs both command hooks with CONFITURE_DRY_RUN=0.
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(dir.path().join("ran_outside.txt").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dry_run_env.txt")).unwrap(),
        "0"
    );
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM notes").as_deref(),
        Some("2")
    );
}

#[test]
fn a_failing_sql_hook_fails_the_dry_run_with_its_code() {
    let db = TestDb::new();
    let sidecar = r#"hooks:
  after_ddl:
    - type: sql
      id: broken
      config:
        sql: "INSERT INTO missing_table VALUES (1)"
"#;
    let dir = project(
        &db.url,
        "",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id int);\n"),
            ("001_a.yaml", sidecar),
        ],
    );
    let before = db_state(&db.url);
    let r = dry_run_json(dir.path(), &["up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["ok"], false);
    assert_eq!(j["failure"]["error"]["code"], "MIGRATE_017", "{j:#}");
    assert_eq!(hook(migration(&j, "001"), "broken")["status"], "failed");
    assert_eq!(db_state(&db.url), before);
}

// ---- down ----

#[test]
fn down_and_down_to_dry_runs_run_the_down_files_and_keep_everything() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_a.up.sql", "CREATE TABLE a (id int);\n"),
            ("001_a.down.sql", "DROP TABLE a;\n"),
            (
                "002_b.up.sql",
                "CREATE TABLE b (id int);\nINSERT INTO b VALUES (1), (2), (3);\n",
            ),
            (
                "002_b.down.sql",
                "DELETE FROM b WHERE id > 1;\nDROP TABLE b;\n",
            ),
            ("003_c.up.sql", "CREATE TABLE c (id int);\n"),
            ("003_c.down.sql", "DROP TABLE c;\n"),
        ],
    );
    // Without a tracking table there is nothing to roll back: exit 2, as for a real run.
    let r = dry_run_json(dir.path(), &["down"]);
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(!tracking_table_exists(&db.url));

    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let before = db_state(&db.url);

    let j = dry_run_ok(dir.path(), &["down"]);
    assert_eq!(j["direction"], "down");
    assert_eq!(versions_of(&j), vec!["003"]);
    let drop = only_statement(&j, "003");
    assert_eq!(strings(&drop["dropped"]["tables"]), vec!["c"], "{drop:#}");
    assert_eq!(db_state(&db.url), before);
    assert_eq!(tables(&db.url), "a,b,c");
    assert_eq!(versions(&db.url), vec!["001", "002", "003"]);

    let j = dry_run_ok(dir.path(), &["down-to", "001"]);
    assert_eq!(versions_of(&j), vec!["003", "002"], "newest first");
    let b = migration(&j, "002");
    let statements = b["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "{b:#}");
    assert_eq!(statements[0]["rows_deleted"], 2, "{b:#}");
    assert_eq!(strings(&statements[1]["dropped"]["tables"]), vec!["b"]);
    assert_eq!(j["rows_deleted"], 2);
    assert_eq!(db_state(&db.url), before);
    assert_eq!(tables(&db.url), "a,b,c");
    assert_eq!(versions(&db.url), vec!["001", "002", "003"]);
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM b").as_deref(),
        Some("3")
    );

    let r = confiture_in(dir.path(), &["migrate", "down-to", "001", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_contains(&r.stdout, "dry-run of 2 migration(s) down on");
    assert_eq!(db_state(&db.url), before);
}

// ---- preview ----

#[test]
fn preview_prints_the_sql_in_order_and_runs_nothing() {
    let db = TestDb::new();
    let sidecar = r#"hooks:
  after_ddl:
    - type: sql
      id: fix
      config:
        sql: "UPDATE a SET id = 2 WHERE id = 1"
"#;
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_a.up.sql",
                "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n",
            ),
            ("001_a.yaml", sidecar),
            ("001_a.down.sql", "DROP TABLE a;\n"),
            ("002_b.up.sql", "CREATE TABLE b (id int);\n"),
            ("002_b.down.sql", "DROP TABLE b;\n"),
        ],
    );
    let before = db_state(&db.url);
    let r = confiture_in(dir.path(), &["migrate", "up", "--preview"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let out = &r.stdout;
    assert_in_order(
        out,
        &[
            "nothing was run",
            "CREATE TABLE IF NOT EXISTS \"tb_confiture\"",
            "-- 001_a",
            "BEGIN;",
            "CREATE TABLE a (id int);",
            "INSERT INTO a VALUES (1);",
            "-- hook after_ddl 'fix' (sql)",
            "SAVEPOINT confiture_hook_1;",
            "UPDATE a SET id = 2 WHERE id = 1;",
            "RELEASE SAVEPOINT confiture_hook_1;",
            "INSERT INTO \"tb_confiture\"",
            "'001'",
            "COMMIT;",
            "-- 002_b",
            "BEGIN;",
            "CREATE TABLE b (id int);",
            "INSERT INTO \"tb_confiture\"",
            "'002'",
            "COMMIT;",
        ],
    );
    // Nothing ran, not even the tracking table's creation.
    assert!(!tracking_table_exists(&db.url));
    assert_eq!(tables(&db.url), "");
    assert_eq!(db_state(&db.url), before);

    // JSON.
    let r = confiture_in(
        dir.path(),
        &["migrate", "up", "--preview", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["direction"], "up");
    assert_eq!(j["creates_tracking_table"], true);
    assert_eq!(strings(&j["migrations"]), vec!["001_a", "002_b"]);
    let sql = j["sql"].as_str().unwrap();
    assert_in_order(
        sql,
        &[
            "CREATE TABLE IF NOT EXISTS \"tb_confiture\"",
            "CREATE TABLE a (id int);",
            "UPDATE a SET id = 2 WHERE id = 1;",
            "INSERT INTO \"tb_confiture\"",
            "CREATE TABLE b (id int);",
        ],
    );
    assert!(!tracking_table_exists(&db.url));

    // Once the tracking table exists, it is not created again; applied migrations are left out.
    let r = confiture_in(dir.path(), &["migrate", "up", "--steps", "1"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let before = db_state(&db.url);
    let r = confiture_in(
        dir.path(),
        &["migrate", "up", "--preview", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["creates_tracking_table"], false);
    assert_eq!(strings(&j["migrations"]), vec!["002_b"]);
    let sql = j["sql"].as_str().unwrap();
    assert!(!sql.contains("CREATE TABLE IF NOT EXISTS"), "{sql}");
    assert!(!sql.contains("CREATE TABLE a"), "{sql}");
    assert_in_order(
        sql,
        &[
            "BEGIN;",
            "CREATE TABLE b (id int);",
            "INSERT INTO",
            "COMMIT;",
        ],
    );
    assert_eq!(db_state(&db.url), before);

    // down: the .down.sql and the tracking row's DELETE.
    let r = confiture_in(dir.path(), &["migrate", "down", "--preview"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_in_order(
        &r.stdout,
        &[
            "BEGIN;",
            "DROP TABLE a;",
            "DELETE FROM ",
            "tb_confiture\" WHERE version = '001'",
            "COMMIT;",
        ],
    );
    assert_eq!(db_state(&db.url), before);
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(tables(&db.url), "a");

    // Up to date: nothing to run.
    let r = confiture_in(
        dir.path(),
        &["migrate", "up", "--preview", "--target", "001"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_contains(&r.stdout, "-- nothing to run");
}

#[test]
fn preview_of_an_autocommit_migration_has_no_transaction_around_its_statements() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE t (x int)");
    let dir = project(
        &db.url,
        "",
        &[(
            "001_cic.up.sql",
            "CREATE INDEX CONCURRENTLY t_x ON t (x);\n",
        )],
    );
    let r = confiture_in(dir.path(), &["migrate", "up", "--preview"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_contains(&r.stdout, "autocommit: statement by statement");
    let body = &r.stdout[r.stdout.find("-- 001_cic").unwrap()..];
    assert!(!body.contains("BEGIN;"), "{body}");
    assert_in_order(
        body,
        &[
            "CREATE INDEX CONCURRENTLY t_x ON t (x);",
            "INSERT INTO \"tb_confiture\"",
        ],
    );
    assert!(!exists(&db.url, "t_x"));
    assert!(!tracking_table_exists(&db.url));
}

// ---- argument errors ----

#[test]
fn sample_rows_without_dry_run_and_dry_run_with_preview_are_argument_errors() {
    // No database is needed: the arguments are refused before anything connects.
    let dir = project(
        "postgresql://unused@127.0.0.1:1/x",
        "",
        &[("001_a.up.sql", "CREATE TABLE a (id int);\n")],
    );
    for args in [
        &["migrate", "up", "--show-sample-rows", "2"][..],
        &["migrate", "up", "--dry-run", "--preview"][..],
        &["migrate", "down", "--dry-run", "--preview"][..],
        &["migrate", "down-to", "001", "--show-sample-rows", "2"][..],
    ] {
        let r = confiture_in(dir.path(), args);
        assert_eq!(r.code, 5, "{args:?}: {}", r.all_output());
        assert!(
            r.stderr.contains("--dry-run") || r.stderr.contains("--preview"),
            "{args:?}: {}",
            r.stderr
        );
        let mut json = args.to_vec();
        json.extend(["--format", "json"]);
        let r = confiture_in(dir.path(), &json);
        assert_eq!(r.code, 5, "{json:?}: {}", r.all_output());
        assert_eq!(r.json()["ok"], false);
        assert_eq!(r.json()["error"]["exit_code"], 5);
    }
}

// ---- what the dry-run must report as the real run would see it ----

// The lock of a dropped table is named from the catalog read before the statement (pg_class no
// longer has it when pg_locks is read).
#[test]
fn the_lock_of_a_dropped_table_is_reported_by_the_tables_name() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE doomed (id int)");
    let dir = project(&db.url, "", &[("001_drop.up.sql", "DROP TABLE doomed;\n")]);
    let j = dry_run_ok(dir.path(), &["up"]);
    let drop = only_statement(&j, "001");
    assert_eq!(
        strings(&drop["dropped"]["tables"]),
        vec!["doomed"],
        "{drop:#}"
    );
    assert!(has_lock(drop, "doomed", "AccessExclusiveLock"), "{drop:#}");
    let held = &migration(&j, "001")["locks_held"];
    assert!(
        held.as_array()
            .unwrap()
            .iter()
            .any(|l| l["relation"] == "doomed"),
        "{held:#}"
    );
    assert!(exists(&db.url, "doomed"));
}

// Every migration of a dry-run runs in its one transaction, which keeps the locks of earlier
// migrations (a real run commits each): a migration's `locks_held` lists only what it took
// itself, and when it names relations earlier migrations already locked, `earlier_locks_on`
// says its own locks on them could not be observed; dry-run alone, they are.
#[test]
fn each_migration_reports_its_own_locks_as_in_a_real_run() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE r (id int PRIMARY KEY, x int); INSERT INTO r SELECT g, g FROM generate_series(1, 10) g;
         CREATE TABLE other (id int);",
    );
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_add_c.up.sql",
                "ALTER TABLE r ADD COLUMN c float DEFAULT random();\n",
            ),
            ("002_index.up.sql", "CREATE INDEX r_x_idx ON r (x);\n"),
            ("003_other.up.sql", "INSERT INTO other VALUES (1);\n"),
        ],
    );
    let j = dry_run_ok(dir.path(), &["up"]);
    assert_eq!(
        migration(&j, "002")["earlier_locks_on"],
        serde_json::json!(["r"]),
        "{j:#}"
    );
    assert!(
        migration(&j, "003").get("earlier_locks_on").is_none(),
        "{j:#}"
    );
    // Alone (001 applied for real), 002 shows its ShareLock on r.
    let r = confiture_in(dir.path(), &["migrate", "up", "--steps", "1"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let alone = dry_run_ok(dir.path(), &["up", "--steps", "1"]);
    let index = only_statement(&alone, "002");
    assert!(has_lock(index, "r", "ShareLock"), "{index:#}");
    let held: Vec<(String, String)> = migration(&j, "003")["locks_held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["relation"].as_str().unwrap().to_string(),
                l["mode"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        !held.iter().any(|(relation, _)| relation.starts_with('r')),
        "003 never touches r: {held:?}"
    );
    assert!(
        held.contains(&("other".to_string(), "RowExclusiveLock".to_string())),
        "{held:?}"
    );
}

// The dry-run checks what COMMIT would (SET CONSTRAINTS ALL IMMEDIATE in a savepoint).
#[test]
fn a_deferred_constraint_that_fails_at_commit_fails_the_dry_run() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE ch (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);",
    );
    let dir = project(
        &db.url,
        "",
        &[("001_orphan.up.sql", "INSERT INTO ch VALUES (42);\n")],
    );
    let r = dry_run_json(dir.path(), &["up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["ok"], false, "{j:#}");
    assert_eq!(j["failure"]["migration"], "001_orphan", "{j:#}");
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM ch").as_deref(),
        Some("0")
    );
    // The real run fails at COMMIT.
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
}

// As a real run, the dry-run resets the session after each migration (RESET ALL).
#[test]
fn a_set_in_one_migration_does_not_leak_into_the_next_in_a_dry_run() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_app.up.sql",
                "CREATE SCHEMA app;\nSET search_path TO app;\nCREATE TABLE users (id int);\n",
            ),
            (
                "002_audit.up.sql",
                "CREATE TABLE audit (id int);\nINSERT INTO public.audit VALUES (1);\n",
            ),
        ],
    );
    let r = dry_run_json(dir.path(), &["up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let j = r.json();
    assert_eq!(
        migration(&j, "002")["statements"][0]["created"]["tables"],
        serde_json::json!(["audit"]),
        "{j:#}"
    );
    assert!(!exists(&db.url, "app.users"));
    // The real run applies both.
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(exists(&db.url, "public.audit"));
}

// Sampling runs in a savepoint that is rolled back, taking its locks with it.
#[test]
fn sampling_rows_adds_no_lock_to_the_next_statement() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE s (id int PRIMARY KEY, v text); INSERT INTO s VALUES (1, 'a');
         CREATE TABLE other (id int);",
    );
    let dir = project(
        &db.url,
        "",
        &[(
            "001_two.up.sql",
            "UPDATE s SET v = 'b' WHERE id = 1;\nINSERT INTO other VALUES (1);\n",
        )],
    );
    let plain = dry_run_ok(dir.path(), &["up"]);
    let sampled = dry_run_ok(dir.path(), &["up", "--show-sample-rows", "1"]);
    let locks = |j: &Value| migration(j, "001")["statements"][1]["locks"].clone();
    assert_eq!(locks(&sampled), locks(&plain), "{sampled:#}");
    let held = |j: &Value| migration(j, "001")["locks_held"].clone();
    assert_eq!(held(&sampled), held(&plain), "{sampled:#}");
}

// A lock timeout in a dry-run is the lock-contention error of a real run (MIGRATE_006, exit 6).
#[test]
fn a_dry_run_blocked_by_a_lock_fails_as_the_real_run_would() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE busy (id int)");
    let dir = project(
        &db.url,
        "migration:\n  lock_timeout_ms: 100\n  lock_retries: 1\n  lock_retry_backoff_ms: 50\n",
        &[(
            "001_alter_busy.up.sql",
            "ALTER TABLE busy ADD COLUMN note text;\n",
        )],
    );
    let holder = confiture_testkit::hold_session(
        &db.url,
        "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE",
        std::time::Duration::from_secs(4),
    );
    let dry = dry_run_json(dir.path(), &["up"]);
    let real = confiture_in(dir.path(), &["migrate", "up", "--format", "json"]);
    holder.join().unwrap();
    assert_eq!(real.code, 6, "{}", real.all_output());
    assert_eq!(real.json()["error"]["code"], "MIGRATE_006");
    assert_eq!(dry.code, 6, "{}", dry.all_output());
    assert_eq!(
        dry.json()["failure"]["error"]["code"],
        "MIGRATE_006",
        "{}",
        dry.stdout
    );
}
