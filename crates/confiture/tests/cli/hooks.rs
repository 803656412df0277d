//! Migration hooks: every hook type in a real `migrate up`, failures in each phase (nothing kept),
//! `on_error`, timeouts, environment hooks with `when:`, declaration errors and `down_hooks:`.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use confiture_testkit::{query, query_one, TestDb};
use serde_json::{json, Value};

use crate::common::*;

// ---- helpers (copied from migrate.rs, plus a few for hooks) ----

fn up_json(dir: &Path) -> Run {
    confiture_in(dir, &["migrate", "up", "--format", "json"])
}

/// `migrate up --format json` that must succeed; its `applied` list.
fn up_ok(dir: &Path) -> Vec<Value> {
    let r = up_json(dir);
    assert_eq!(r.code, 0, "{}", r.all_output());
    r.json()["applied"].as_array().cloned().unwrap()
}

/// `migrate up --format json` that must fail with `exit` and `code`; the error object.
fn up_fails(dir: &Path, exit: i32, code: &str) -> Value {
    let r = up_json(dir);
    assert_eq!(r.code, exit, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], code, "{e:#}");
    assert_eq!(e["exit_code"], exit, "{e:#}");
    e
}

/// The hooks a migration of the report ran.
fn hooks_of(migration: &Value) -> Vec<Value> {
    migration["hooks"].as_array().cloned().unwrap_or_default()
}

fn hook_ids(migration: &Value) -> Vec<String> {
    hooks_of(migration)
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

fn hook(migration: &Value, id: &str) -> Value {
    hooks_of(migration)
        .into_iter()
        .find(|h| h["id"] == id)
        .unwrap_or_else(|| panic!("no hook {id} in {migration:#}"))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v:#}"))
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

/// 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{text}"));
    index as u64 + 1
}

fn read(root: &Path, path: &str) -> String {
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn read_json(root: &Path, path: &str) -> Value {
    let t = read(root, path);
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{path} is not JSON ({e}): {t}"))
}

/// A PostgreSQL client program of the machine (the newest installed major version).
fn pg_tool(tool: &str) -> PathBuf {
    let mut majors: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    majors.sort_unstable();
    majors
        .iter()
        .rev()
        .map(|v| PathBuf::from(format!("/usr/lib/postgresql/{v}/bin/{tool}")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(tool))
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet).
fn process_ended(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            state.starts_with('Z') || state.starts_with('X')
        }
    }
}

struct HttpRequest {
    head: String,
    body: String,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// A one-shot HTTP server on 127.0.0.1: it reads one request, answers `status` (e.g. `200 OK`)
/// and hands the request back. Returns its base URL.
fn http_once(status: &'static str) -> (String, mpsc::Receiver<HttpRequest>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let request = HttpRequest {
            head,
            body: String::new(),
        };
        let mut body = Vec::new();
        if let Some(n) = request
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
        {
            body.resize(n, 0);
            reader.read_exact(&mut body).unwrap();
        } else if request
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim().split(';').next().unwrap(), 16).unwrap();
                let mut chunk = vec![0; n + 2];
                reader.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        let _ = stream.write_all(
            format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        let _ = stream.flush();
        let _ = tx.send(HttpRequest {
            body: String::from_utf8_lossy(&body).into_owned(),
            ..request
        });
    });
    (url, rx)
}

/// `confiture migrate up --format json` without proxy variables (the webhook is local).
fn up_json_direct(dir: &Path) -> Run {
    let mut cmd = confiture(dir);
    for k in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        cmd.env_remove(k);
    }
    run(cmd.args(["migrate", "up", "--format", "json"]))
}

// ---- each hook type in a successful `migrate up` ----

#[test]
fn sql_hooks_inline_and_from_a_file_run_in_the_migration() {
    let db = TestDb::new();
    let sidecar = r#"hooks:
  before_ddl:
    - type: sql
      id: make_log
      config:
        sql: "CREATE TABLE hook_log (step text); INSERT INTO hook_log VALUES ('before_ddl')"
  after_ddl:
    - type: sql
      id: seed
      config:
        file: db/hooks/seed_users.sql
    - type: sql
      id: normalize
      config:
        sql: "UPDATE users SET email = lower(email)"
"#;
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_add_users.up.sql",
                "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);\n",
            ),
            ("001_add_users.yaml", sidecar),
        ],
    );
    write(
        dir.path(),
        "db/hooks/seed_users.sql",
        b"INSERT INTO users VALUES (1, 'Ann@Example.COM'), (2, 'BOB@example.com');\nINSERT INTO hook_log VALUES ('after_ddl');\n",
    );
    let applied = up_ok(dir.path());
    let m = &applied[0];
    assert_eq!(hook_ids(m), vec!["make_log", "seed", "normalize"]);
    for (h, phase) in hooks_of(m)
        .iter()
        .zip(["before_ddl", "after_ddl", "after_ddl"])
    {
        assert_eq!(h["type"], "sql", "{h}");
        assert_eq!(h["phase"], phase, "{h}");
        assert_eq!(h["status"], "ok", "{h}");
    }
    assert_eq!(hook(m, "make_log")["rows"], 1);
    assert_eq!(hook(m, "seed")["rows"], 3);
    assert_eq!(hook(m, "normalize")["rows"], 2);
    assert_eq!(
        query_one(
            &db.url,
            "SELECT string_agg(email, ',' ORDER BY id) FROM users"
        )
        .as_deref(),
        Some("ann@example.com,bob@example.com")
    );
    assert_eq!(
        query_one(&db.url, "SELECT string_agg(step, ',') FROM hook_log").as_deref(),
        Some("before_ddl,after_ddl")
    );
    assert_eq!(versions(&db.url), vec!["001"]);
}

#[test]
fn capture_statistics_then_verify_consistency_compares_against_the_captured_counts() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 3) g",
    );
    let sidecar = r#"hooks:
  before_ddl:
    - type: capture_statistics
      id: before
      config:
        tables: [users]
  after_validation:
    - type: verify_consistency
      id: consistent
      config:
        checks:
          - name: no row lost
            sql: "SELECT count(*) FROM users"
            ratio_to: {captured: before, table: users, metric: rows}
            expected_ratio: 1.0
          - name: everyone active
            sql: "SELECT count(*) FROM users WHERE NOT active"
            expect: 0
          - name: some users
            sql: "SELECT count(*) FROM users"
            min: 1
            max: 10
"#;
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_add_active.up.sql",
                "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;\n",
            ),
            ("001_add_active.yaml", sidecar),
        ],
    );
    let applied = up_ok(dir.path());
    let m = &applied[0];
    let before = hook(m, "before");
    assert_eq!(before["type"], "capture_statistics");
    assert_eq!(before["values"]["tables"]["users"]["rows"], 3, "{before}");
    assert!(
        before["values"]["tables"]["users"]["bytes"]
            .as_i64()
            .unwrap()
            > 0,
        "{before}"
    );
    let consistent = hook(m, "consistent");
    assert_eq!(consistent["status"], "ok");
    assert_eq!(
        consistent["values"]["checks"][0],
        json!({"name": "no row lost", "value": "3"})
    );
    assert_eq!(versions(&db.url), vec!["001"]);

    // A migration that loses a row fails the ratio check, and is rolled back.
    write_migration(
        dir.path(),
        "002_purge.up.sql",
        "DELETE FROM users WHERE id = 3;\nCREATE TABLE purge_log (id int);\n",
    );
    write_migration(dir.path(), "002_purge.yaml", sidecar);
    let e = up_fails(dir.path(), 1, "MIGRATE_017");
    assert_contains(
        text(&e, "message"),
        "migration 002_purge: hook after_validation 'consistent' (verify_consistency) failed: check 'no row lost': ratio 2/3",
    );
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM users").as_deref(),
        Some("3")
    );
    assert_eq!(tables(&db.url), "users");
    assert_eq!(versions(&db.url), vec!["001"]);
}

#[test]
fn backfill_updates_every_row_in_key_range_batches() {
    let db = TestDb::new();
    // 25 rows with gaps in the keys: 1, 3, …, 49.
    query(
        &db.url,
        "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2) NOT NULL); INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 49, 2) g",
    );
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_add_total_cents.up.sql",
                "ALTER TABLE orders ADD COLUMN total_cents bigint;\n",
            ),
            (
                "001_add_total_cents.yaml",
                r#"hooks:
  after_ddl:
    - type: backfill
      id: fill_cents
      config:
        table: orders
        batch_size: 10
        sql: "UPDATE orders SET total_cents = round(total * 100) WHERE {batch}"
"#,
            ),
        ],
    );
    let applied = up_ok(dir.path());
    let h = hook(&applied[0], "fill_cents");
    assert_eq!(h["type"], "backfill");
    assert_eq!(h["phase"], "after_ddl");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["rows"], 25, "{h}");
    assert_eq!(h["values"]["rows"], 25, "{h}");
    assert_eq!(h["values"]["batches"], 3, "10 + 10 + 5 rows: {h}");
    assert_eq!(h["values"]["key"], "id", "{h}");
    assert_eq!(
        query_one(
            &db.url,
            "SELECT count(*) FROM orders WHERE total_cents IS DISTINCT FROM round(total * 100)"
        )
        .as_deref(),
        Some("0")
    );
    assert_eq!(
        query_one(&db.url, "SELECT sum(total_cents) FROM orders").as_deref(),
        Some("93750"),
        "1.5 * (1 + 3 + … + 49) * 100"
    );
}

#[test]
fn test_queries_check_columns_and_types_and_fail_on_a_mismatch() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_create_items.up.sql",
                "CREATE TABLE items (id integer PRIMARY KEY, label text NOT NULL, price numeric);\nINSERT INTO items VALUES (1, 'a', 2.5), (2, 'b', 3);\n",
            ),
            (
                "001_create_items.yaml",
                r#"hooks:
  after_validation:
    - type: test_queries
      id: app_queries
      config:
        queries:
          - name: item list
            sql: "SELECT id, label FROM items ORDER BY id"
            columns: {id: integer, label: text}
            min_rows: 2
          - name: prices
            sql: "SELECT id, price FROM items"
            columns: [id, price]
        file: db/hooks/app_queries.sql
"#,
            ),
        ],
    );
    write(
        dir.path(),
        "db/hooks/app_queries.sql",
        b"SELECT count(*) FROM items;\nSELECT label FROM items WHERE id = 1;\n",
    );
    let applied = up_ok(dir.path());
    let h = hook(&applied[0], "app_queries");
    assert_eq!(h["type"], "test_queries");
    assert_eq!(h["status"], "ok");
    let queries = h["values"]["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 4, "{h}");
    assert_eq!(queries[0], json!({"name": "item list", "rows": 2}));
    assert_eq!(queries[1], json!({"name": "prices", "rows": 2}));

    // `integer` must not match a bigint column.
    write_migration(
        dir.path(),
        "002_create_tags.up.sql",
        "CREATE TABLE tags (id bigint);\n",
    );
    write_migration(
        dir.path(),
        "002_create_tags.yaml",
        r#"hooks:
  after_validation:
    - type: test_queries
      id: tag_queries
      config:
        queries:
          - name: tag ids
            sql: "SELECT id FROM tags"
            columns: {id: integer}
"#,
    );
    let e = up_fails(dir.path(), 1, "MIGRATE_017");
    assert_contains(
        text(&e, "message"),
        "hook after_validation 'tag_queries' (test_queries) failed: query 'tag ids': column id is int8, expected integer",
    );
    assert_eq!(tables(&db.url), "items");
    assert_eq!(versions(&db.url), vec!["001"]);
}

#[test]
fn rebuild_index_analyze_and_drop_temporary_tables() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE events (id int PRIMARY KEY, kind text);
         CREATE INDEX events_kind ON events (kind);
         CREATE TABLE untouched (id int); INSERT INTO untouched VALUES (1);",
    );
    let relfilenode = |index: &str| {
        query_one(
            &db.url,
            &format!("SELECT relfilenode::text FROM pg_class WHERE relname = '{index}'"),
        )
        .unwrap()
    };
    let kind_before = relfilenode("events_kind");
    let pkey_before = relfilenode("events_pkey");
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_load_events.up.sql",
                "INSERT INTO events SELECT g, 'k' || (g % 5) FROM generate_series(1, 500) g;\nCREATE TEMP TABLE tmp_stage AS SELECT id FROM events WHERE id <= 10;\nCREATE TABLE scratch (id int);\n",
            ),
            (
                "001_load_events.yaml",
                r#"hooks:
  after_ddl:
    - type: rebuild_index
      config:
        indexes: [events_kind]
        tables: [events]
    - type: analyze
  cleanup:
    - type: drop_temporary_tables
      config:
        tables: [scratch]
"#,
            ),
            // Fails with "relation already exists" if tmp_stage outlived 001 in the session.
            (
                "002_stage_again.up.sql",
                "CREATE TEMP TABLE tmp_stage (id int);\nCREATE TABLE staged_again (id int);\n",
            ),
        ],
    );
    let applied = up_ok(dir.path());
    let m = &applied[0];
    assert_eq!(
        hook_ids(m),
        vec!["rebuild_index", "analyze", "drop_temporary_tables"]
    );
    assert!(hooks_of(m).iter().all(|h| h["status"] == "ok"), "{m:#}");
    assert_ne!(relfilenode("events_kind"), kind_before, "REINDEX INDEX");
    assert_ne!(relfilenode("events_pkey"), pkey_before, "REINDEX TABLE");

    // ANALYZE ran on the table the migration names, not on others.
    assert_eq!(
        query_one(
            &db.url,
            "SELECT (last_analyze IS NOT NULL)::text FROM pg_stat_user_tables WHERE relname = 'events'"
        )
        .as_deref(),
        Some("true")
    );
    assert_eq!(
        query_one(
            &db.url,
            "SELECT (count(*) > 0)::text FROM pg_stats WHERE schemaname = 'public' AND tablename = 'events'"
        )
        .as_deref(),
        Some("true")
    );
    assert_eq!(
        query_one(
            &db.url,
            "SELECT (last_analyze IS NULL)::text FROM pg_stat_user_tables WHERE relname = 'untouched'"
        )
        .as_deref(),
        Some("true")
    );

    let dropped: Vec<String> = hook(m, "drop_temporary_tables")["values"]["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        dropped.iter().any(|t| t.ends_with("tmp_stage")),
        "{dropped:?}"
    );
    assert!(dropped.contains(&"scratch".to_string()), "{dropped:?}");
    assert_eq!(tables(&db.url), "events,staged_again,untouched");
    assert_eq!(versions(&db.url), vec!["001", "002"]);
}

#[test]
fn backup_dumps_the_table_as_committed_before_the_ddl() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE accounts (id int PRIMARY KEY, owner text);
         INSERT INTO accounts VALUES (1, 'alice-before-ddl'), (2, 'bob');
         CREATE TABLE other_data (v text); INSERT INTO other_data VALUES ('not-in-the-dump');",
    );
    let pg_dump = pg_tool("pg_dump");
    let sidecar = format!(
        r#"hooks:
  before_ddl:
    - type: backup
      id: dump_accounts
      config:
        output: backups/{{version}}_{{name}}.sql
        tables: [accounts]
        format: plain
        pg_dump: {pg}
    - type: backup
      id: dump_custom
      config:
        output: backups/{{version}}.dump
        tables: [accounts]
        pg_dump: {pg}
"#,
        pg = pg_dump.display()
    );
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_add_balance.up.sql",
                "ALTER TABLE accounts ADD COLUMN balance_cents bigint NOT NULL DEFAULT 0;\n",
            ),
            ("001_add_balance.yaml", &sidecar),
        ],
    );
    let applied = up_ok(dir.path());
    let m = &applied[0];
    let plain = dir.path().join("backups/001_add_balance.sql");
    let dump = std::fs::read_to_string(&plain).expect("the plain backup exists");
    assert!(!dump.is_empty());
    assert_contains(&dump, "CREATE TABLE public.accounts");
    assert_contains(&dump, "alice-before-ddl");
    assert!(
        !dump.contains("balance_cents"),
        "dumped before the DDL:\n{dump}"
    );
    assert!(!dump.contains("not-in-the-dump"), "only the listed table");
    let h = hook(m, "dump_accounts");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["values"]["file"], "backups/001_add_balance.sql");
    assert_eq!(
        h["values"]["bytes"].as_u64().unwrap(),
        std::fs::metadata(&plain).unwrap().len()
    );
    let custom = std::fs::read(dir.path().join("backups/001.dump")).unwrap();
    assert!(custom.starts_with(b"PGDMP"), "custom format by default");
    let leftovers: Vec<String> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'balance_cents'").as_deref(),
        Some("1")
    );
}

const INSPECT_SH: &str = r#"#!/bin/sh
set -e
mkdir -p out
cat > "out/context_$CONFITURE_PHASE.json"
printf '%s|%s|%s|%s|%s|%s\n' "$CONFITURE_MIGRATION_VERSION" "$CONFITURE_MIGRATION_NAME" "$CONFITURE_PHASE" "$CONFITURE_HOOK_ID" "$CONFITURE_DIRECTION" "$CONFITURE_DRY_RUN" > "out/env_$CONFITURE_PHASE.txt"
"$PSQL" -XAtc "SELECT count(*) FROM pg_tables WHERE tablename = 'notes'" > out/seen_by_psql.txt
printf '{"checked": 42, "who": "%s"}\n' "$GREETING"
"#;

const ON_ERROR_SH: &str = r#"#!/bin/sh
mkdir -p out
printf '%s\n' "$CONFITURE_PHASE" >> out/on_error_phase.txt
cat > out/on_error_context.json
"#;

#[test]
fn command_receives_the_context_and_its_json_output_becomes_its_values() {
    let db = TestDb::new();
    let sidecar = format!(
        r#"hooks:
  after_ddl:
    - type: sql
      id: fill
      config:
        sql: "INSERT INTO notes VALUES (1, 'a'), (2, 'b')"
    - type: command
      id: inspect
      config:
        run: [sh, db/hooks/inspect.sh]
        env: {{GREETING: hello, PSQL: {psql}}}
  on_error:
    - type: command
      config:
        run: [sh, db/hooks/on_error.sh]
"#,
        psql = pg_tool("psql").display()
    );
    let dir = project(
        &db.url,
        "",
        &[
            (
                "003_add_notes.up.sql",
                "CREATE TABLE notes (id int, body text);\n",
            ),
            ("003_add_notes.yaml", &sidecar),
        ],
    );
    write(dir.path(), "db/hooks/inspect.sh", INSPECT_SH.as_bytes());
    write(dir.path(), "db/hooks/on_error.sh", ON_ERROR_SH.as_bytes());
    let applied = up_ok(dir.path());
    let m = &applied[0];
    let h = hook(m, "inspect");
    assert_eq!(h["type"], "command");
    assert_eq!(h["status"], "ok");
    assert_eq!(h["values"], json!({"checked": 42, "who": "hello"}));

    assert_eq!(
        read(dir.path(), "out/env_after_ddl.txt"),
        "003|add_notes|after_ddl|inspect|up|0\n"
    );
    let cx = read_json(dir.path(), "out/context_after_ddl.json");
    assert_eq!(cx["migration"]["version"], "003", "{cx:#}");
    assert_eq!(cx["migration"]["name"], "add_notes");
    assert_eq!(cx["migration"]["direction"], "up");
    assert_eq!(cx["phase"], "after_ddl");
    assert_eq!(cx["hook"]["id"], "inspect");
    assert_eq!(cx["database"], db.name.as_str());
    assert_eq!(cx["environment"], "local");
    assert_eq!(cx["dry_run"], false);
    assert_eq!(cx["results"]["fill"]["status"], "ok", "{cx:#}");
    assert_eq!(cx["results"]["fill"]["type"], "sql");
    assert_eq!(cx["results"]["fill"]["rows"], 2);
    assert!(cx.get("error").is_none(), "{cx:#}");
    // Its own session: the PG* variables reach the database, which does not see the
    // migration's uncommitted table yet.
    assert_eq!(read(dir.path(), "out/seen_by_psql.txt").trim(), "0");
    assert!(
        !dir.path().join("out/on_error_phase.txt").exists(),
        "on_error hooks do not run on success"
    );
    assert_eq!(versions(&db.url), vec!["003"]);
}

#[test]
fn notify_posts_the_context_and_a_non_2xx_answer_fails_the_migration() {
    let db = TestDb::new();
    let sidecar = |url: &str| {
        format!(
            r#"hooks:
  after_ddl:
    - type: sql
      id: seed
      config:
        sql: "INSERT INTO deploys VALUES (1)"
  cleanup:
    - type: notify
      id: announce
      config:
        url: "{url}/hooks/deploy?token=s3cr3t-token"
        headers: {{X-Deploy-Token: abc123}}
"#
        )
    };
    let (url, requests) = http_once("200 OK");
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_create_deploys.up.sql",
                "CREATE TABLE deploys (id int);\n",
            ),
            ("001_create_deploys.yaml", &sidecar(&url)),
        ],
    );
    let r = up_json_direct(dir.path());
    assert_eq!(r.code, 0, "{}", r.all_output());
    let h = hook(&r.json()["applied"][0], "announce");
    assert_eq!(h["type"], "notify");
    assert_eq!(h["phase"], "cleanup");
    assert_eq!(h["values"]["status"], 200);
    let req = requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the webhook got a request");
    assert!(
        req.head
            .starts_with("POST /hooks/deploy?token=s3cr3t-token HTTP/1.1"),
        "{}",
        req.head
    );
    assert_eq!(req.header("x-deploy-token").as_deref(), Some("abc123"));
    assert_contains(
        &req.header("content-type").unwrap_or_default(),
        "application/json",
    );
    let body: Value = serde_json::from_str(&req.body).expect("a JSON body");
    assert_eq!(body["migration"]["version"], "001", "{body:#}");
    assert_eq!(body["migration"]["name"], "create_deploys");
    assert_eq!(body["phase"], "cleanup");
    assert_eq!(body["hook"]["id"], "announce");
    assert_eq!(body["results"]["seed"]["rows"], 1);
    assert_eq!(versions(&db.url), vec!["001"]);

    // HTTP 500: the hook fails, the migration is rolled back.
    let db = TestDb::new();
    let (url, requests) = http_once("500 Internal Server Error");
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_create_deploys.up.sql",
                "CREATE TABLE deploys (id int);\n",
            ),
            ("001_create_deploys.yaml", &sidecar(&url)),
        ],
    );
    let r = up_json_direct(dir.path());
    assert_eq!(r.code, 1, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], "MIGRATE_017", "{e:#}");
    assert_contains(
        text(&e, "message"),
        "migration 001_create_deploys: hook cleanup 'announce' (notify) failed: POST to http://127.0.0.1:",
    );
    assert_contains(text(&e, "message"), "answered HTTP 500");
    assert!(
        !r.all_output().contains("s3cr3t-token"),
        "the URL's token is not shown: {}",
        r.all_output()
    );
    assert!(requests.recv_timeout(Duration::from_secs(10)).is_ok());
    assert_eq!(tables(&db.url), "");
    assert_eq!(versions(&db.url), Vec::<String>::new());
}

// ---- failures: nothing of the migration is kept ----

struct PhaseCase {
    phase: &'static str,
    kind: &'static str,
    /// The failing hook (`id: breaks`), as a list item under its phase.
    hook: &'static str,
    says: &'static [&'static str],
}

const PHASE_CASES: [PhaseCase; 5] = [
    PhaseCase {
        phase: "before_validation",
        kind: "sql",
        hook: "    - type: sql\n      id: breaks\n      config:\n        sql: \"SELECT 1/0\"\n",
        says: &["division by zero (SQLSTATE 22012)"],
    },
    PhaseCase {
        phase: "before_ddl",
        kind: "command",
        hook: "    - type: command\n      id: breaks\n      config:\n        run: [sh, -c, \"echo boom-before-ddl >&2; exit 3\"]\n",
        says: &["exited with exit status: 3", "boom-before-ddl"],
    },
    PhaseCase {
        phase: "after_ddl",
        kind: "verify_consistency",
        hook: "    - type: verify_consistency\n      id: breaks\n      config:\n        checks:\n          - name: five widgets\n            sql: \"SELECT count(*) FROM widgets\"\n            expect: 5\n",
        says: &["check 'five widgets': returned 2, expected 5"],
    },
    PhaseCase {
        phase: "after_validation",
        kind: "test_queries",
        hook: "    - type: test_queries\n      id: breaks\n      config:\n        queries:\n          - name: widget ids\n            sql: \"SELECT id FROM widgets\"\n            columns: {id: text}\n",
        says: &["query 'widget ids': column id is int4, expected text"],
    },
    PhaseCase {
        phase: "cleanup",
        kind: "sql",
        hook: "    - type: sql\n      id: breaks\n      config:\n        sql: \"DELETE FROM no_such_table\"\n",
        says: &["relation \"no_such_table\" does not exist (SQLSTATE 42P01)"],
    },
];

#[test]
fn a_failing_hook_in_any_phase_leaves_the_database_and_the_ledger_as_before() {
    for case in &PHASE_CASES {
        let db = TestDb::new();
        // A hook that succeeded earlier in the migration: its effect must go too.
        let mut sidecar = String::from(
            "hooks:\n  before_validation:\n    - type: sql\n      id: early\n      config:\n        sql: \"CREATE TABLE early_effect (id int)\"\n",
        );
        if case.phase != "before_validation" {
            sidecar.push_str(&format!("  {}:\n", case.phase));
        }
        sidecar.push_str(case.hook);
        let dir = project(
            &db.url,
            "",
            &[
                ("001_base.up.sql", "CREATE TABLE base (id int);\n"),
                (
                    "002_create_widgets.up.sql",
                    "CREATE TABLE widgets (id int);\nINSERT INTO widgets VALUES (1), (2);\n",
                ),
                ("002_create_widgets.yaml", &sidecar),
            ],
        );
        let phase = case.phase;
        let e = up_fails(dir.path(), 1, "MIGRATE_017");
        let message = text(&e, "message");
        assert_contains(
            message,
            &format!(
                "migration 002_create_widgets: hook {phase} 'breaks' ({}) failed: ",
                case.kind
            ),
        );
        for says in case.says {
            assert_contains(message, says);
        }
        assert!(
            text(&e, "file").ends_with("db/migrations/002_create_widgets.yaml"),
            "{phase}: {e:#}"
        );
        let line = line_of(&sidecar, "id: breaks") - 1;
        assert_eq!(e["line"], line, "{phase}: {e:#}");
        assert_eq!(e["details"]["migration"], "002_create_widgets");
        assert_eq!(e["details"]["phase"], phase);
        assert_eq!(e["details"]["hook"], "breaks");
        assert_eq!(e["details"]["type"], case.kind);
        assert_contains(text(&e, "hint"), "the migration was rolled back");
        assert_contains(
            text(&e, "hint"),
            "applied and committed before it: 001_base",
        );

        assert_eq!(versions(&db.url), vec!["001"], "{phase}");
        assert_eq!(tables(&db.url), "base", "{phase}: nothing of 002 remains");

        // The same in text: the error points at the sidecar, at the hook.
        let r = confiture_in(dir.path(), &["migrate", "up"]);
        assert_eq!(r.code, 1, "{}", r.all_output());
        assert_contains(&r.stderr, "error[MIGRATE_017]: ");
        assert_contains(&r.stderr, &format!("002_create_widgets.yaml:{line}:"));
        assert_contains(&r.stderr, &format!("hook {phase} 'breaks'"));
        assert_eq!(versions(&db.url), vec!["001"], "{phase}");
        assert_eq!(tables(&db.url), "base", "{phase}");
    }
}

#[test]
fn on_error_hooks_run_after_a_failing_hook_and_outlive_the_rollback() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_create_ledger.up.sql",
                "CREATE TABLE ledger (id int);\n",
            ),
            (
                "001_create_ledger.yaml",
                r#"hooks:
  after_ddl:
    - type: sql
      id: boom
      config:
        sql: "SELECT 1/0"
    - type: sql
      id: never
      config:
        sql: "CREATE TABLE never_runs (id int)"
  on_error:
    - type: sql
      id: broken_handler
      config:
        sql: "SELECT * FROM no_such_handler_table"
    - type: command
      id: report_failure
      config:
        run: [sh, db/hooks/on_error.sh]
"#,
            ),
        ],
    );
    write(dir.path(), "db/hooks/on_error.sh", ON_ERROR_SH.as_bytes());
    let e = up_fails(dir.path(), 1, "MIGRATE_017");
    assert_contains(
        text(&e, "message"),
        "migration 001_create_ledger: hook after_ddl 'boom' (sql) failed",
    );
    assert_eq!(
        read(dir.path(), "out/on_error_phase.txt"),
        "on_error\n",
        "ran once, in phase on_error"
    );
    let cx = read_json(dir.path(), "out/on_error_context.json");
    assert_eq!(cx["phase"], "on_error", "{cx:#}");
    assert_eq!(cx["hook"]["id"], "report_failure");
    assert_eq!(cx["migration"]["version"], "001");
    assert_eq!(cx["error"]["phase"], "after_ddl", "{cx:#}");
    assert_eq!(cx["error"]["hook"], "boom");
    assert_contains(text(&cx["error"], "message"), "division by zero");
    assert_eq!(cx["results"]["boom"]["status"], "failed", "{cx:#}");
    assert!(cx["results"].get("never").is_none(), "{cx:#}");
    // A failing on_error hook is recorded; the next one still runs and the first error stands.
    assert_eq!(
        cx["results"]["broken_handler"]["status"], "failed",
        "{cx:#}"
    );
    assert!(
        !text(&e, "message").contains("no_such_handler_table"),
        "{e:#}"
    );
    assert_eq!(tables(&db.url), "");
    assert_eq!(versions(&db.url), Vec::<String>::new());
}

#[test]
fn on_error_hooks_run_after_a_failing_migration_statement() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_bad_insert.up.sql",
                "CREATE TABLE t (id int);\nINSERT INTO t VALUES ('x');\n",
            ),
            (
                "001_bad_insert.yaml",
                r#"hooks:
  before_ddl:
    - type: sql
      id: prepared
      config:
        sql: "CREATE TABLE prepared (id int)"
  on_error:
    - type: command
      config:
        run: [sh, db/hooks/on_error.sh]
"#,
            ),
        ],
    );
    write(dir.path(), "db/hooks/on_error.sh", ON_ERROR_SH.as_bytes());
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_contains(&r.stderr, "error[MIGRATE_004]");
    assert_contains(&r.stderr, "001_bad_insert.up.sql:2:");
    assert_contains(&r.stderr, "invalid input syntax for type integer");
    assert_eq!(read(dir.path(), "out/on_error_phase.txt"), "on_error\n");
    let cx = read_json(dir.path(), "out/on_error_context.json");
    assert_eq!(cx["error"]["phase"], Value::Null, "{cx:#}");
    assert_eq!(cx["error"]["hook"], Value::Null, "{cx:#}");
    assert_eq!(cx["results"]["prepared"]["status"], "ok", "{cx:#}");
    assert_eq!(
        tables(&db.url),
        "",
        "neither the statement's nor the hook's table"
    );
    assert_eq!(versions(&db.url), Vec::<String>::new());
    // The server's message, not the driver's "db error".
    assert_contains(
        text(&cx["error"], "message"),
        "invalid input syntax for type integer",
    );
}

#[test]
fn on_error_hooks_run_after_a_failing_statement_in_autocommit() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_bad_insert.up.sql",
                "CREATE TABLE t (id int);\nINSERT INTO t VALUES ('x');\n",
            ),
            (
                "001_bad_insert.yaml",
                "transactional: false\nhooks:\n  on_error:\n    - type: command\n      config:\n        run: [sh, db/hooks/on_error.sh]\n",
            ),
        ],
    );
    write(dir.path(), "db/hooks/on_error.sh", ON_ERROR_SH.as_bytes());
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_contains(&r.stderr, "error[MIGRATE_004]");
    assert_contains(&r.stderr, "001_bad_insert.up.sql:2:");
    assert_eq!(read(dir.path(), "out/on_error_phase.txt"), "on_error\n");
    let cx = read_json(dir.path(), "out/on_error_context.json");
    assert_eq!(cx["error"]["phase"], Value::Null, "{cx:#}");
    assert_contains(
        text(&cx["error"], "message"),
        "invalid input syntax for type integer",
    );
    assert_eq!(
        tables(&db.url),
        "t",
        "autocommit: the first statement stays"
    );
    assert_eq!(versions(&db.url), Vec::<String>::new());
}

#[test]
fn a_sql_hook_past_its_timeout_fails_with_migrate_018_and_nothing_is_kept() {
    let db = TestDb::new();
    let sidecar = r#"hooks:
  after_ddl:
    - type: sql
      id: nap
      timeout: 300ms
      config:
        sql: "SELECT pg_sleep(5)"
"#;
    let dir = project(
        &db.url,
        "",
        &[
            ("001_slow.up.sql", "CREATE TABLE slow_made (id int);\n"),
            ("001_slow.yaml", sidecar),
        ],
    );
    let e = up_fails(dir.path(), 1, "MIGRATE_018");
    assert_contains(
        text(&e, "message"),
        "migration 001_slow: hook after_ddl 'nap' (sql) failed: ",
    );
    assert_contains(text(&e, "message"), "statement timeout");
    assert!(text(&e, "file").ends_with("001_slow.yaml"), "{e:#}");
    assert_eq!(e["line"], line_of(sidecar, "id: nap") - 1);
    assert_eq!(tables(&db.url), "");
    assert_eq!(versions(&db.url), Vec::<String>::new());
}

#[test]
fn a_command_hook_past_its_timeout_is_killed_with_its_children() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_slow.up.sql", "CREATE TABLE slow_made (id int);\n"),
            (
                "001_slow.yaml",
                r#"hooks:
  before_ddl:
    - type: command
      id: sleeper
      timeout: 300ms
      config:
        run: [sh, db/hooks/sleeper.sh]
"#,
            ),
        ],
    );
    write(
        dir.path(),
        "db/hooks/sleeper.sh",
        b"#!/bin/sh\nmkdir -p out\nsleep 30 &\necho $! > out/sleeper.pid\nwait\n",
    );
    let e = up_fails(dir.path(), 1, "MIGRATE_018");
    assert_contains(
        text(&e, "message"),
        "migration 001_slow: hook before_ddl 'sleeper' (command) failed: sh was killed after its timeout of 300 ms",
    );
    let pid = read(dir.path(), "out/sleeper.pid").trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !process_ended(&pid) {
        assert!(
            Instant::now() < deadline,
            "the hook's child process {pid} is still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(tables(&db.url), "");
    assert_eq!(versions(&db.url), Vec::<String>::new());
}

#[test]
fn in_autocommit_each_hook_commits_on_its_own() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            ("001_ac.up.sql", "CREATE TABLE ac_made (id int);\n"),
            (
                "001_ac.yaml",
                r#"transactional: false
hooks:
  before_ddl:
    - type: sql
      id: before
      config:
        sql: "CREATE TABLE ac_before (id int)"
  after_ddl:
    - type: sql
      id: boom
      config:
        sql: "SELECT 1/0"
"#,
            ),
        ],
    );
    let e = up_fails(dir.path(), 1, "MIGRATE_017");
    assert_contains(
        text(&e, "message"),
        "migration 001_ac: hook after_ddl 'boom' (sql) failed",
    );
    assert_contains(text(&e, "hint"), "runs in autocommit");
    assert_eq!(
        tables(&db.url),
        "ac_before,ac_made",
        "what completed before the failing hook stays"
    );
    assert_eq!(versions(&db.url), Vec::<String>::new(), "not recorded");
}

// ---- environment hooks ----

#[test]
fn environment_hooks_run_only_for_migrations_their_when_matches() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE audit_log (id serial PRIMARY KEY, note text)",
    );
    let extra = r#"migration:
  hooks:
    after_ddl:
      - type: sql
        id: audit
        when: {migration: "*_users*"}
        config:
          sql: "INSERT INTO audit_log (note) VALUES ('users')"
      - type: sql
        id: billing
        when: {touches: db/schema/10_billing}
        config:
          sql: "INSERT INTO audit_log (note) VALUES ('billing')"
"#;
    let dir = project(
        &db.url,
        extra,
        &[
            (
                "001_create_users.up.sql",
                "CREATE TABLE users (id int PRIMARY KEY);\n",
            ),
            (
                "002_create_invoices.up.sql",
                "CREATE TABLE invoices (id int PRIMARY KEY);\n",
            ),
            (
                "003_add_users_email.up.sql",
                "ALTER TABLE users ADD COLUMN email text;\n",
            ),
            (
                "003_add_users_email.yaml",
                "hooks:\n  after_ddl:\n    - type: sql\n      id: own\n      config:\n        sql: \"INSERT INTO audit_log (note) VALUES ('own')\"\n",
            ),
            (
                "004_add_invoice_amount.up.sql",
                "ALTER TABLE public.invoices ADD COLUMN amount numeric;\n",
            ),
            (
                "005_create_products.up.sql",
                "CREATE TABLE products (id int);\n",
            ),
        ],
    );
    write(
        dir.path(),
        "db/schema/10_billing/invoices.sql",
        b"CREATE TABLE invoices (id int PRIMARY KEY, amount numeric);\n",
    );
    write(
        dir.path(),
        "db/schema/20_users/users.sql",
        b"CREATE TABLE users (id int PRIMARY KEY, email text);\n",
    );
    let applied = up_ok(dir.path());
    let ids: Vec<Vec<String>> = applied.iter().map(hook_ids).collect();
    assert_eq!(
        ids,
        vec![
            vec!["audit"],
            vec!["billing"],
            vec!["own", "audit"],
            vec!["billing"],
            vec![],
        ],
        "environment hooks come after the migration's own in after_ddl"
    );
    assert_eq!(
        query_one(
            &db.url,
            "SELECT string_agg(note, ',' ORDER BY id) FROM audit_log"
        )
        .as_deref(),
        Some("users,billing,own,users,billing")
    );
    assert_eq!(versions(&db.url), vec!["001", "002", "003", "004", "005"]);
}

// ---- declaration errors: exit 5 before anything runs ----

#[test]
fn bad_hook_declarations_exit_5_before_anything_runs_naming_file_and_line() {
    let db = TestDb::new();
    // (sidecar of 002, code, the line's marker, what the message says, what the hint says)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);
    let cases: [Case; 5] = [
        (
            "hooks:\n  after_ddl:\n    - type: analyse\n      config:\n        tables: [ok_table]\n",
            "MIGRATE_019",
            "type: analyse",
            "'hooks.after_ddl[0].type': unknown hook type 'analyse'",
            "did you mean 'analyze'?",
        ),
        (
            "hooks:\n  after_ddl:\n    - type: sql\n      config:\n        sql: \"SELECT 1\"\n        sqll: \"SELECT 2\"\n",
            "CONFIG_005",
            "sqll:",
            "unknown key 'hooks.after_ddl[0].config.sqll'",
            "did you mean 'sql'?",
        ),
        (
            "migration:\n  hooks:\n    after_ddl:\n      - type: backfill\n        config:\n          table: ok_table\n          sql: \"UPDATE ok_table SET id = id\"\n",
            "MIGRATE_019",
            "sql: \"UPDATE",
            "'migration.hooks.after_ddl[0].config.sql' must contain {batch}",
            "",
        ),
        (
            "hooks:\n  after_dll:\n    - type: analyze\n",
            "CONFIG_005",
            "after_dll:",
            "unknown key 'hooks.after_dll'",
            "did you mean 'after_ddl'?",
        ),
        (
            "hooks:\n  after_ddl:\n    - type: analyze\n      when: {migration: \"*\"}\n",
            "CONFIG_005",
            "when:",
            "unknown key 'hooks.after_ddl[0].when'",
            "",
        ),
    ];
    for (sidecar, code, marker, says, hint) in cases {
        let dir = project(
            &db.url,
            "",
            &[
                ("001_ok.up.sql", "CREATE TABLE ok_table (id int);\n"),
                ("002_add_x.up.sql", "CREATE TABLE x (id int);\n"),
                ("002_add_x.yaml", sidecar),
            ],
        );
        let e = up_fails(dir.path(), 5, code);
        assert_contains(text(&e, "message"), says);
        if !hint.is_empty() {
            assert_contains(text(&e, "hint"), hint);
        }
        assert!(
            text(&e, "file").ends_with("db/migrations/002_add_x.yaml"),
            "{code}: {e:#}"
        );
        let line = line_of(sidecar, marker);
        assert_eq!(e["line"], line, "{code} {says}: {e:#}");
        let r = confiture_in(dir.path(), &["migrate", "up"]);
        assert_eq!(r.code, 5, "{}", r.all_output());
        assert_contains(&r.stderr, &format!("error[{code}]: "));
        assert_contains(&r.stderr, &format!("002_add_x.yaml:{line}:"));
        assert_eq!(tables(&db.url), "", "{code} {says}: nothing ran");
        assert_eq!(versions(&db.url), Vec::<String>::new(), "{code} {says}");
    }

    // An unknown phase in the environment file: refused before connecting.
    let extra = "migration:\n  hooks:\n    befor_ddl:\n      - type: analyze\n";
    let dir = project(
        &db.url,
        extra,
        &[("001_ok.up.sql", "CREATE TABLE ok_table (id int);\n")],
    );
    query(&db.url, "DROP TABLE IF EXISTS tb_confiture");
    let e = up_fails(dir.path(), 5, "CONFIG_005");
    assert_contains(
        text(&e, "message"),
        "unknown key 'migration.hooks.befor_ddl'",
    );
    assert_contains(text(&e, "hint"), "did you mean 'before_ddl'?");
    assert!(
        text(&e, "file").ends_with("db/environments/local.yaml"),
        "{e:#}"
    );
    let local = format!("database_url: x\ninclude_dirs: [db/schema]\n{extra}");
    assert_eq!(e["line"], line_of(&local, "befor_ddl"));
    assert_eq!(
        query_one(
            &db.url,
            "SELECT (to_regclass('tb_confiture') IS NULL)::text"
        )
        .as_deref(),
        Some("true"),
        "nothing was created"
    );
}

// ---- down ----

#[test]
fn migrate_down_runs_the_down_hooks() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE marks (id serial PRIMARY KEY, note text)",
    );
    let extra = r#"migration:
  hooks:
    after_ddl:
      - type: sql
        when: {direction: down}
        config:
          sql: "INSERT INTO marks (note) VALUES ('env-down')"
"#;
    let sidecar = r#"hooks:
  after_ddl:
    - type: sql
      id: up_mark
      config:
        sql: "INSERT INTO marks (note) VALUES ('up')"
down_hooks:
  before_ddl:
    - type: sql
      id: down_mark
      config:
        sql: "INSERT INTO marks (note) SELECT 'down:' || count(*) FROM things"
  after_ddl:
    - type: command
      id: direction
      config:
        run: [sh, -c, "mkdir -p out; echo \"$CONFITURE_DIRECTION $CONFITURE_PHASE\" > out/direction.txt"]
"#;
    let dir = project(
        &db.url,
        extra,
        &[
            (
                "001_create_things.up.sql",
                "CREATE TABLE things (id int);\nINSERT INTO things VALUES (1), (2);\n",
            ),
            ("001_create_things.down.sql", "DROP TABLE things;\n"),
            ("001_create_things.yaml", sidecar),
        ],
    );
    let applied = up_ok(dir.path());
    assert_eq!(hook_ids(&applied[0]), vec!["up_mark"]);
    let marks = || {
        query_one(
            &db.url,
            "SELECT string_agg(note, ',' ORDER BY id) FROM marks",
        )
        .unwrap_or_default()
    };
    assert_eq!(marks(), "up");

    let r = confiture_in(dir.path(), &["migrate", "down", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let m = r.json()["rolled_back"][0].clone();
    assert_eq!(m["version"], "001");
    assert_eq!(hook_ids(&m), vec!["down_mark", "direction", "sql"]);
    assert!(hooks_of(&m).iter().all(|h| h["status"] == "ok"), "{m:#}");
    assert_eq!(marks(), "up,down:2,env-down");
    assert_eq!(read(dir.path(), "out/direction.txt"), "down after_ddl\n");
    assert_eq!(tables(&db.url), "marks");
    assert_eq!(versions(&db.url), Vec::<String>::new());

    // A failing down hook keeps the migration applied.
    assert_eq!(up_ok(dir.path()).len(), 1);
    write_migration(
        dir.path(),
        "001_create_things.yaml",
        "down_hooks:\n  after_ddl:\n    - type: sql\n      id: refuses\n      config:\n        sql: \"SELECT 1/0\"\n",
    );
    let r = confiture_in(dir.path(), &["migrate", "down", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], "MIGRATE_017", "{e:#}");
    assert_contains(
        text(&e, "message"),
        "migration 001_create_things: hook after_ddl 'refuses' (sql) failed",
    );
    assert!(
        text(&e, "file").ends_with("001_create_things.yaml"),
        "{e:#}"
    );
    assert_eq!(tables(&db.url), "marks,things");
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(marks(), "up,down:2,env-down,up");
}

#[test]
fn a_failing_environment_hook_points_at_the_environment_file() {
    let db = TestDb::new();
    let extra = r#"migration:
  hooks:
    before_ddl:
      - type: sql
        id: gate
        when: {migration: "002_*"}
        config:
          sql: "SELECT 1/0"
"#;
    let dir = project(
        &db.url,
        extra,
        &[
            ("001_a.up.sql", "CREATE TABLE a (id int);\n"),
            ("002_b.up.sql", "CREATE TABLE b (id int);\n"),
        ],
    );
    let e = up_fails(dir.path(), 1, "MIGRATE_017");
    assert_contains(
        text(&e, "message"),
        "migration 002_b: hook before_ddl 'gate' (sql) failed",
    );
    assert!(
        text(&e, "file").ends_with("db/environments/local.yaml"),
        "{e:#}"
    );
    let local = format!("database_url: x\ninclude_dirs: [db/schema]\n{extra}");
    assert_eq!(e["line"], line_of(&local, "id: gate") - 1, "{e:#}");
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(tables(&db.url), "a");
}

#[test]
fn a_hook_timeout_does_not_apply_to_what_runs_after_the_hook() {
    let db = TestDb::new();
    let dir = project(
        &db.url,
        "",
        &[
            (
                "001_slow_ddl.up.sql",
                "CREATE TABLE slow_ddl (id int);\nSELECT pg_sleep(1);\n",
            ),
            (
                "001_slow_ddl.yaml",
                r#"hooks:
  before_ddl:
    - type: sql
      id: quick
      timeout: 200ms
      config:
        sql: "SELECT 1"
  after_ddl:
    - type: sql
      id: slow_but_unlimited
      config:
        sql: "SELECT pg_sleep(1)"
"#,
            ),
        ],
    );
    let applied = up_ok(dir.path());
    assert_eq!(hook_ids(&applied[0]), vec!["quick", "slow_but_unlimited"]);
    assert_eq!(versions(&db.url), vec!["001"]);
    assert_eq!(tables(&db.url), "slow_ddl");
}

#[test]
fn a_notify_hook_without_an_answer_within_its_timeout_fails_with_migrate_018() {
    let db = TestDb::new();
    // A webhook that reads the request and never answers (until the test ends).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (release, released) = mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let _ = released.recv_timeout(Duration::from_secs(30));
        drop(stream);
    });
    let dir = project(
        &db.url,
        "",
        &[
            ("001_create_deploys.up.sql", "CREATE TABLE deploys (id int);\n"),
            (
                "001_create_deploys.yaml",
                &format!(
                    "hooks:\n  cleanup:\n    - type: notify\n      id: announce\n      timeout: 300ms\n      config:\n        url: \"{url}/deploy\"\n"
                ),
            ),
        ],
    );
    let r = up_json_direct(dir.path());
    let _ = release.send(());
    server.join().unwrap();
    assert_eq!(r.code, 1, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_contains(
        text(&e, "message"),
        "migration 001_create_deploys: hook cleanup 'announce' (notify) failed",
    );
    assert_eq!(tables(&db.url), "");
    assert_eq!(versions(&db.url), Vec::<String>::new());
    // Like sql and command hooks past their timeout.
    assert_eq!(e["code"], "MIGRATE_018", "{e:#}");
}
