//! `confiture build`: discovery, order, output, validation and `--apply` against PostgreSQL.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use confiture_testkit::{database_exists, query, query_one, FreshDatabase, TestDb};

use crate::common::*;

/// FKs across files named against their order, and a seed directory that sorts first.
fn misordered_tree(url: &str) -> tempfile::TempDir {
    tree(
        PLAIN,
        url,
        &[
            ("db/schema/019_prep_seed/seed.sql", "INSERT INTO comments (id, post_id) VALUES (1, 10);\nINSERT INTO posts (id, user_id) VALUES (10, 100);\nINSERT INTO users (id) VALUES (100);\n"),
            ("db/schema/01_write_side/comments.sql", "CREATE TABLE comments (\n  id int PRIMARY KEY,\n  post_id int NOT NULL REFERENCES posts (id)\n);\n"),
            ("db/schema/01_write_side/posts.sql", "CREATE TABLE posts (\n  id int PRIMARY KEY,\n  user_id int NOT NULL REFERENCES users (id)\n);\nCOMMENT ON TABLE posts IS 'blog posts';\n"),
            ("db/schema/01_write_side/users.sql", "CREATE TABLE users (id int PRIMARY KEY);\n"),
        ],
    )
}

#[test]
fn dependency_order_builds_a_tree_that_fails_alphabetically() {
    let db = FreshDatabase::new();
    let dir = misordered_tree(&db.url);

    // In file order the first statement already fails, and the database created for the
    // build is dropped again.
    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 4, "{}", r.all_output());
    assert!(r.stderr.contains("error[BUILD_009]"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "019_prep_seed/seed.sql:1:13: relation \"comments\" does not exist (SQLSTATE 42P01)"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !database_exists(&db.name),
        "the failed build must not leave a database behind"
    );

    let r = confiture_in(
        dir.path(),
        &[
            "build",
            "--apply",
            "--order",
            "dependencies",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    let report = r.json();
    assert_eq!(report["order"], "dependencies");
    assert_eq!(report["apply"]["created"], true);
    assert_eq!(report["apply"]["statements_in_transaction"], 7);
    let counts = query_one(
        &db.url,
        "SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM posts) || '/' || (SELECT count(*) FROM comments)",
    );
    assert_eq!(counts.as_deref(), Some("1/1/1"));
    let comment = query_one(
        &db.url,
        "SELECT obj_description('posts'::regclass, 'pg_class')",
    );
    assert_eq!(comment.as_deref(), Some("blog posts"));
}

#[test]
fn build_order_can_come_from_the_environment() {
    let db = FreshDatabase::new();
    let dir = misordered_tree(&db.url);
    let yaml = format!(
        "database_url: {}\ninclude_dirs: [db/schema]\nbuild:\n  order: dependencies\n",
        db.url
    );
    std::fs::write(dir.path().join("db/environments/local.yaml"), yaml).unwrap();
    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(r.stdout.contains("dependency order"), "{}", r.stdout);
}

#[test]
fn a_foreign_key_cycle_is_broken_and_applies() {
    let db = FreshDatabase::new();
    let dir = tree(
        PLAIN,
        &db.url,
        &[
            ("db/schema/orgs.sql", "CREATE TABLE orgs (\n  id int PRIMARY KEY,\n  owner_id int REFERENCES people (id) ON DELETE SET NULL\n);\n"),
            ("db/schema/people.sql", "CREATE TABLE people (\n  id int PRIMARY KEY,\n  org_id int,\n  CONSTRAINT people_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id)\n);\n"),
        ],
    );
    let r = confiture_in(dir.path(), &["build", "--order", "dependencies", "--apply"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stdout
            .contains("note: db/schema/orgs.sql:1: foreign key(s) to relation people moved"),
        "{}",
        r.stdout
    );
    let fks = query(
        &db.url,
        "SELECT conrelid::regclass::text, confrelid::regclass::text, confdeltype::text FROM pg_constraint WHERE contype = 'f' ORDER BY 1",
    );
    assert_eq!(
        fks,
        vec![
            vec![Some("orgs".into()), Some("people".into()), Some("n".into())],
            vec![Some("people".into()), Some("orgs".into()), Some("a".into())],
        ]
    );
    let out = std::fs::read_to_string(dir.path().join("db/generated/schema_local.sql")).unwrap();
    assert!(out.contains("ALTER TABLE orgs ADD CONSTRAINT orgs_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES people (id) ON DELETE SET NULL;"), "{out}");
}

#[test]
fn a_true_cycle_is_reported_and_nothing_is_written() {
    let dir = tree(
        PLAIN,
        "postgresql://unused@127.0.0.1:1/x",
        &[
            ("db/schema/a.sql", "CREATE VIEW va AS SELECT * FROM vb;\n"),
            ("db/schema/b.sql", "CREATE VIEW vb AS SELECT * FROM va;\n"),
        ],
    );
    let r = confiture_in(
        dir.path(),
        &["build", "--order", "dependencies", "--format", "json"],
    );
    assert_eq!(r.code, 4, "{}", r.all_output());
    let e = r.json();
    assert_eq!(e["error"]["code"], "BUILD_007");
    let cycle = e["error"]["details"]["cycle"].as_array().unwrap();
    assert_eq!(cycle.len(), 2);
    assert!(
        cycle
            .iter()
            .any(|l| l == "db/schema/a.sql:1 uses relation vb defined at db/schema/b.sql:1"),
        "{cycle:?}"
    );
    assert!(!dir.path().join("db/generated").exists());
}

#[test]
fn a_failing_statement_deep_in_a_tree_reports_its_source_file_and_line() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE marker (id int)");
    let mut files: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("db/schema/{:02}_module/t{i}.sql", i / 10),
                format!("-- table {i}\nCREATE TABLE t{i} (\n  id int PRIMARY KEY\n);\n"),
            )
        })
        .collect();
    files.push((
        "db/schema/03_module/views/v_bad.sql".into(),
        "-- a view with a typo\n\nCREATE VIEW v_bad AS\n  SELECT id,\n         missing_col\n  FROM t35;\n".into(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let dir = tree(PLAIN, &db.url, &refs);

    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 4, "{}", r.all_output());
    let expected = format!(
        "{}:5:10: column \"missing_col\" does not exist (SQLSTATE 42703)",
        dir.path()
            .join("db/schema/03_module/views/v_bad.sql")
            .display()
    );
    assert!(r.stderr.contains(&expected), "{}", r.stderr);
    assert!(
        r.stderr.contains("is as it was before the build"),
        "{}",
        r.stderr
    );

    let r = confiture_in(dir.path(), &["build", "--apply", "--format", "json"]);
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], "BUILD_009");
    assert_eq!(e["line"], 5);
    assert_eq!(e["column"], 10);
    assert!(e["file"]
        .as_str()
        .unwrap()
        .ends_with("db/schema/03_module/views/v_bad.sql"));
    assert_eq!(e["details"]["sqlstate"], "42703");

    // Rolled back: the marker is there, none of the 40 tables is.
    let tables = query_one(
        &db.url,
        "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'",
    );
    assert_eq!(tables.as_deref(), Some("marker"));
}

/// SHA-256 as the docs define it, computed by `sha256sum` (an independent implementation).
fn documented_hash(root: &Path, files: &[&str]) -> String {
    let mut bytes = Vec::new();
    for f in files {
        bytes.extend_from_slice(f.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(&std::fs::read(root.join(f)).unwrap());
        bytes.push(0);
    }
    let input = root.join("hash-input.bin");
    std::fs::write(&input, bytes).unwrap();
    let out = std::process::Command::new("sha256sum")
        .arg(&input)
        .output()
        .unwrap();
    std::fs::remove_file(input).unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn output_and_hash_are_reproducible_across_runs_and_working_directories() {
    let dir = tree(
        "include_dirs:\n  - db/schema\nbuild:\n  sort_mode: natural\n",
        "",
        &[
            ("db/schema/10_b/x.sql", "SELECT 10;\n"),
            ("db/schema/2_a/y.sql", "SELECT 2;\n"),
            ("db/seeds/common/s.sql", "SELECT 's';"),
        ],
    );
    let root = dir.path();
    let first = confiture_in(root, &["build", "-o", "one.sql"]);
    assert_eq!(first.code, 0, "{}", first.all_output());
    let elsewhere = tempfile::tempdir().unwrap();
    let out2 = root.join("two.sql");
    let second = confiture_in(
        elsewhere.path(),
        &[
            "build",
            "-C",
            root.to_str().unwrap(),
            "-o",
            out2.to_str().unwrap(),
        ],
    );
    assert_eq!(second.code, 0, "{}", second.all_output());
    let one = std::fs::read(root.join("one.sql")).unwrap();
    assert_eq!(one, std::fs::read(&out2).unwrap(), "same tree, same bytes");

    let hash = confiture_in(root, &["build", "--show-hash"]);
    assert_eq!(hash.code, 0);
    let expected = documented_hash(
        root,
        &[
            "db/schema/2_a/y.sql",
            "db/schema/10_b/x.sql",
            "db/seeds/common/s.sql",
        ],
    );
    assert_eq!(hash.stdout.trim(), expected);
    let from_elsewhere = confiture_in(
        elsewhere.path(),
        &["build", "-C", root.to_str().unwrap(), "--show-hash"],
    );
    assert_eq!(from_elsewhere.stdout.trim(), expected);
    let text = String::from_utf8(one).unwrap();
    assert!(
        text.contains(&format!(
            "-- Source SHA-256: {expected}\n-- Files Included: 3\n"
        )),
        "{text}"
    );
    assert!(!text.contains("Generated:"), "no timestamp unless asked");
    assert!(
        text.find("File: db/schema/2_a/y.sql").unwrap()
            < text.find("File: db/schema/10_b/x.sql").unwrap()
    );
    // A file without a final newline still ends its section.
    assert!(text.ends_with("SELECT 's';\n"), "{text}");

    let with_time = confiture_in(root, &["build", "--timestamp", "-o", "-"]);
    assert!(
        with_time.stdout.contains("-- Generated: 20"),
        "{}",
        with_time.stdout
    );
}

#[test]
fn json_report_has_files_bytes_hash_statements_order_and_timings() {
    let dir = tree(
        "include_dirs:\n  - db/schema\n  - path: db/schema\n    include: ['**/*.sql']\n",
        "",
        &[
            ("db/schema/a.sql", "SELECT 1;\nSELECT 2;\n"),
            ("db/seeds/common/s.sql", "SELECT 3;\n"),
            ("db/seeds/local/l.sql", "SELECT 4;\n"),
            ("db/seeds/production/p.sql", "SELECT 5;\n"),
        ],
    );
    let r = confiture_in(dir.path(), &["build", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let j = r.json();
    assert_eq!(j["ok"], true);
    assert_eq!(j["file_count"], 3);
    assert_eq!(j["statements"], 4);
    assert_eq!(j["bytes"], 40);
    assert_eq!(j["order"], "files");
    assert_eq!(j["hash"].as_str().unwrap().len(), 64);
    assert_eq!(j["output"], "db/generated/schema_local.sql");
    let paths: Vec<&str> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec![
            "db/schema/a.sql",
            "db/seeds/common/s.sql",
            "db/seeds/local/l.sql"
        ]
    );
    for phase in [
        "discover",
        "read_and_validate",
        "order",
        "render",
        "write",
        "total",
    ] {
        assert!(j["timings_ms"][phase].is_number(), "{phase}: {j}");
    }
    // The second entry selects a.sql again: built once, with a warning.
    assert_eq!(j["warnings"].as_array().unwrap().len(), 1, "{j}");
    assert!(j["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("db/schema/a.sql is selected more than once"));

    let r = confiture_in(dir.path(), &["build", "--schema-only", "--format", "json"]);
    assert_eq!(r.json()["file_count"], 1);
}

#[test]
fn sort_modes_and_globs_select_and_order_files() {
    let files = [
        ("db/schema/10_x.sql", "SELECT 1;\n"),
        ("db/schema/2_x.sql", "SELECT 1;\n"),
        ("db/schema/0a_hex.sql", "SELECT 1;\n"),
        ("db/schema/skip_me.sql", "SELECT 1;\n"),
        ("db/schema/nested/1_deep.sql", "SELECT 1;\n"),
        ("db/schema/notes.txt", "not sql"),
    ];
    let order = |yaml: &str| -> Vec<String> {
        let dir = tree(yaml, "", &files);
        let r = confiture_in(dir.path(), &["build", "--format", "json", "-o", "out.sql"]);
        assert_eq!(r.code, 0, "{}", r.all_output());
        r.json()["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("db/schema/")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        order("include_dirs:\n  - path: db/schema\n    exclude: ['skip_*']\n"),
        vec!["0a_hex.sql", "10_x.sql", "2_x.sql", "nested/1_deep.sql"]
    );
    assert_eq!(
        order("include_dirs:\n  - path: db/schema\n    recursive: false\nbuild: {sort_mode: natural}\n"),
        vec!["0a_hex.sql", "2_x.sql", "10_x.sql", "skip_me.sql"]
    );
    assert_eq!(
        order("include_dirs: [db/schema]\nbuild: {sort_mode: hex}\n"),
        vec![
            "2_x.sql",
            "0a_hex.sql",
            "10_x.sql",
            "nested/1_deep.sql",
            "skip_me.sql"
        ]
    );
    assert_eq!(
        order("include_dirs:\n  - path: db/schema\n    include: ['*.sql']\n    exclude: ['1*']\n"),
        vec!["0a_hex.sql", "2_x.sql", "skip_me.sql"]
    );
}

#[test]
fn missing_include_dir() {
    let dir = tree(
        "include_dirs:\n  - db/schema\n  - db/missing\n",
        "",
        &[("db/schema/a.sql", "SELECT 1;")],
    );
    assert_bad_input(
        dir.path(),
        "BUILD_001",
        "local.yaml:3:5: include_dirs[1]: include directory db/missing does not exist",
    );
    // auto_discover skips it.
    std::fs::write(
        dir.path().join("db/environments/local.yaml"),
        "include_dirs:\n  - db/schema\n  - path: db/missing\n    auto_discover: true\n",
    )
    .unwrap();
    assert_eq!(confiture_in(dir.path(), &["build"]).code, 0);
}

#[test]
fn unreadable_file() {
    let dir = tree(PLAIN, "", &[("db/schema/a.sql", "SELECT 1;")]);
    std::os::unix::fs::symlink(
        dir.path().join("nowhere.sql"),
        dir.path().join("db/schema/b.sql"),
    )
    .unwrap();
    assert_bad_input(
        dir.path(),
        "BUILD_003",
        "b.sql: cannot read db/schema/b.sql",
    );
    if unsafe { libc_geteuid() } != 0 {
        std::fs::remove_file(dir.path().join("db/schema/b.sql")).unwrap();
        write(dir.path(), "db/schema/c.sql", b"SELECT 1;");
        std::fs::set_permissions(
            dir.path().join("db/schema/c.sql"),
            std::fs::Permissions::from_mode(0o000),
        )
        .unwrap();
        assert_bad_input(dir.path(), "BUILD_003", "c.sql: cannot read the file");
    }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn non_utf8_file() {
    let dir = tree(PLAIN, "", &[("db/schema/a.sql", "SELECT 1;")]);
    write(
        dir.path(),
        "db/schema/latin1.sql",
        b"SELECT 1;\nCOMMENT ON TABLE t IS 'caf\xe9';\n",
    );
    assert_bad_input(
        dir.path(),
        "BUILD_004",
        "latin1.sql:2:27: not valid UTF-8 (first invalid byte at line 2, column 27)",
    );
}

#[test]
fn empty_tree() {
    let dir = tree(PLAIN, "", &[("db/schema/readme.md", "no sql here")]);
    assert_bad_input(
        dir.path(),
        "BUILD_002",
        "no SQL files selected from include_dirs: db/schema",
    );
}

#[test]
fn symlink_loop() {
    let dir = tree(PLAIN, "", &[("db/schema/a/x.sql", "SELECT 1;")]);
    std::os::unix::fs::symlink(
        dir.path().join("db/schema"),
        dir.path().join("db/schema/a/back"),
    )
    .unwrap();
    assert_bad_input(
        dir.path(),
        "BUILD_006",
        "symbolic link loop: db/schema/a/back leads back to db/schema",
    );
}

#[test]
fn unclosed_comment_string_dollar_quote_and_missing_semicolon() {
    let cases = [
        ("SELECT 1;\n/* never closed\nSELECT 2;\n", "comment.sql:2:1: the file ends inside a block comment /* … */ opened at line 2, column 1"),
        ("SELECT 1;\nSELECT 'oops;\n", "comment.sql:2:8: the file ends inside a quoted string '…' opened at line 2, column 8"),
        ("CREATE FUNCTION f() RETURNS int AS $body$\nSELECT 1;\n", "comment.sql:1:36: the file ends inside a dollar-quoted body $body$…$body$ opened at line 1, column 36"),
        ("SELECT 1;\nSELECT 2\n", "comment.sql:2:1: the statement at line 2, column 1 has no terminating semicolon"),
    ];
    for (content, needle) in cases {
        let dir = tree(
            PLAIN,
            "",
            &[
                ("db/schema/a.sql", "SELECT 0;"),
                ("db/schema/comment.sql", content),
            ],
        );
        assert_bad_input(dir.path(), "BUILD_005", needle);
    }
}

#[test]
fn transaction_control_is_refused_before_anything_is_created() {
    let db = FreshDatabase::new();
    let dir = tree(
        PLAIN,
        &db.url,
        &[(
            "db/schema/a.sql",
            "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\n",
        )],
    );
    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[BUILD_011]") && r.stderr.contains("a.sql:1:1"),
        "{}",
        r.stderr
    );
    assert!(!database_exists(&db.name));
}

#[test]
fn statements_refused_in_a_transaction_run_after_it_and_are_reported() {
    let db = FreshDatabase::new();
    let dir = tree(
        PLAIN,
        &db.url,
        &[(
            "db/schema/a.sql",
            "CREATE TABLE t (id int);\nCREATE UNIQUE INDEX CONCURRENTLY t_id ON t (id);\nALTER TABLE t ADD CONSTRAINT t_id_uq UNIQUE USING INDEX t_id;\nINSERT INTO t VALUES (1);\nVACUUM ANALYZE t;\n",
        )],
    );
    let r = confiture_in(dir.path(), &["build", "--apply", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    // A database being built has no traffic: the index is built in the transaction (so the
    // constraint can use it); VACUUM must run after it.
    let apply = r.json()["apply"].clone();
    assert_eq!(apply["statements_in_transaction"], 4);
    assert_eq!(
        apply["statements_after_transaction"][0],
        "db/schema/a.sql:5"
    );
    let r = confiture_in(dir.path(), &["build", "--apply", "--recreate"]);
    assert!(r.stdout.contains("ran 1 statement(s) after the transaction (PostgreSQL refuses them inside one): db/schema/a.sql:5"), "{}", r.stdout);
    let constraint = query_one(
        &db.url,
        "SELECT conname FROM pg_constraint WHERE contype = 'u' AND conrelid = 't'::regclass",
    );
    assert_eq!(constraint.as_deref(), Some("t_id_uq"));
}

#[test]
fn recreate_replaces_on_success_and_keeps_the_old_database_on_failure() {
    let db = TestDb::new();
    query(
        &db.url,
        "CREATE TABLE old_table (id int); INSERT INTO old_table VALUES (42)",
    );
    let dir = tree(
        PLAIN,
        &db.url,
        &[(
            "db/schema/a.sql",
            "CREATE TABLE new_table (id int);\nSELECT 1/0;\n",
        )],
    );

    let r = confiture_in(dir.path(), &["build", "--apply", "--recreate"]);
    assert_eq!(r.code, 4, "{}", r.all_output());
    assert!(
        r.stderr.contains("division by zero (SQLSTATE 22012)"),
        "{}",
        r.stderr
    );
    assert_eq!(
        query_one(&db.url, "SELECT id::text FROM old_table").as_deref(),
        Some("42")
    );
    assert!(!database_exists(&format!("{}__confiture_build", db.name)));

    write(
        dir.path(),
        "db/schema/a.sql",
        b"CREATE TABLE new_table (id int);\n",
    );
    let r = confiture_in(
        dir.path(),
        &["build", "--apply", "--recreate", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(r.json()["apply"]["recreated"], true);
    let tables = query_one(
        &db.url,
        "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'",
    );
    assert_eq!(tables.as_deref(), Some("new_table"));
}

#[test]
fn recreate_outside_local_test_ci_needs_force() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE precious (id int)");
    let dir = tree(
        PLAIN,
        &db.url,
        &[("db/schema/a.sql", "CREATE TABLE t (id int);\n")],
    );
    std::fs::write(
        dir.path().join("db/environments/production.yaml"),
        format!("database_url: {}\ninclude_dirs: [db/schema]\n", db.url),
    )
    .unwrap();
    let r = confiture_in(
        dir.path(),
        &["build", "-e", "production", "--apply", "--recreate"],
    );
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[BUILD_010]") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM precious").as_deref(),
        Some("0")
    );

    let r = confiture_in(
        dir.path(),
        &[
            "build",
            "-e",
            "production",
            "--apply",
            "--recreate",
            "--force",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all_output());
}

#[test]
fn stdout_output_and_argument_conflicts() {
    let dir = tree(PLAIN, "", &[("db/schema/a.sql", "SELECT 1;")]);
    let r = confiture_in(dir.path(), &["build", "-o", "-"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("-- ====") && r.stdout.contains("SELECT 1;"),
        "{}",
        r.stdout
    );
    assert!(!dir.path().join("db/generated").exists());
    let r = confiture_in(dir.path(), &["build", "-o", "-", "--format", "json"]);
    assert_eq!(r.code, 5);
    assert_eq!(
        confiture_in(dir.path(), &["build", "--recreate"]).code,
        5,
        "--recreate needs --apply"
    );
}

#[test]
fn apply_uses_the_embedded_cluster_when_local_has_no_database_url() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(confiture_in(dir.path(), &["init", "."]).code, 0);
    let r = confiture_in(dir.path(), &["build", "--apply", "--format", "json"]);
    let stop = || confiture_in(dir.path(), &["db", "stop"]);
    if r.code != 0 {
        stop();
        panic!("{}", r.all_output());
    }
    assert_eq!(r.json()["apply"]["embedded"], true);
    let url = confiture_in(dir.path(), &["db", "url"])
        .stdout
        .trim()
        .to_string();
    let users = query_one(&url, "SELECT count(*) FROM app.users");
    stop();
    assert!(users.is_some());
}

/// Build `files` with `--order dependencies --apply` into a fresh database; it must succeed.
fn apply_in_dependency_order(files: &[(&str, &str)]) -> (tempfile::TempDir, FreshDatabase) {
    let db = FreshDatabase::new();
    let dir = tree(PLAIN, &db.url, files);
    let r = confiture_in(dir.path(), &["build", "--order", "dependencies", "--apply"]);
    assert_eq!(r.code, 0, "{files:#?}\n{}", r.all_output());
    (dir, db)
}

#[test]
fn dependency_order_keeps_deferrable_clauses_of_moved_column_foreign_keys() {
    let (_dir, db) = apply_in_dependency_order(&[
        ("db/schema/01_a.sql", "CREATE TABLE a (id int PRIMARY KEY, b_id int REFERENCES b DEFERRABLE INITIALLY DEFERRED);\n"),
        ("db/schema/02_b.sql", "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);\n"),
    ]);
    let fk = query(&db.url, "SELECT conname, condeferrable::text, condeferred::text FROM pg_constraint WHERE conrelid = 'a'::regclass AND contype = 'f'");
    assert_eq!(
        fk,
        vec![vec![
            Some("a_b_id_fkey".into()),
            Some("true".into()),
            Some("true".into())
        ]]
    );
}

#[test]
fn dependency_order_reapplies_an_idempotent_cycle_without_duplicating_foreign_keys() {
    let db = TestDb::new();
    let dir = tree(
        PLAIN,
        &db.url,
        &[
            (
                "db/schema/01_a.sql",
                "CREATE TABLE IF NOT EXISTS a (id int PRIMARY KEY, b_id int REFERENCES b);\n",
            ),
            (
                "db/schema/02_b.sql",
                "CREATE TABLE IF NOT EXISTS b (id int PRIMARY KEY, a_id int REFERENCES a);\n",
            ),
        ],
    );
    for _ in 0..2 {
        let r = confiture_in(dir.path(), &["build", "--order", "dependencies", "--apply"]);
        assert_eq!(r.code, 0, "{}", r.all_output());
    }
    assert_eq!(
        query_one(
            &db.url,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
        )
        .as_deref(),
        Some("2")
    );
}

#[test]
fn dependency_order_follows_the_search_path_the_files_set() {
    let (_dir, db) = apply_in_dependency_order(&[
        ("db/schema/00_schema.sql", "CREATE SCHEMA app;\n"),
        (
            "db/schema/10_views.sql",
            "SET search_path = app, public;\nCREATE VIEW v AS SELECT * FROM t;\n",
        ),
        (
            "db/schema/20_tables.sql",
            "SET search_path = public;\nCREATE TABLE t (id int);\n",
        ),
        (
            "db/schema/30_api.sql",
            "CREATE SCHEMA api;\nCREATE VIEW api.users AS SELECT id FROM users;\n",
        ),
        (
            "db/schema/40_users.sql",
            "RESET search_path;\nCREATE TABLE users (id int PRIMARY KEY);\n",
        ),
    ]);
    let views = query_one(&db.url, "SELECT string_agg(schemaname || '.' || viewname, ',' ORDER BY schemaname, viewname) FROM pg_views WHERE schemaname IN ('app', 'api', 'public')");
    assert_eq!(views.as_deref(), Some("api.users,app.v"));
    assert_eq!(
        query_one(&db.url, "SELECT to_regclass('public.t') IS NOT NULL").as_deref(),
        Some("t")
    );
}

#[test]
fn dependency_order_runs_readers_after_the_rows_they_read_and_redefinitions_in_order() {
    let (_dir, db) = apply_in_dependency_order(&[
        ("db/schema/01.sql", "CREATE TABLE categories (id int PRIMARY KEY);\nCREATE TABLE products (id serial PRIMARY KEY, category_id int REFERENCES categories);\nCREATE TABLE featured (product_id int);\n"),
        ("db/schema/02_f.sql", "CREATE OR REPLACE FUNCTION total() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM items';\n"),
        ("db/schema/03_f_v2.sql", "CREATE OR REPLACE FUNCTION total() RETURNS bigint LANGUAGE sql AS 'SELECT 42::bigint';\n"),
        ("db/schema/04_items.sql", "CREATE TABLE items (id int);\n"),
        ("db/seeds/common/01_products.sql", "INSERT INTO products (id, category_id) VALUES (1, 1), (2, 1);\n"),
        ("db/seeds/common/02_after_products.sql", "INSERT INTO featured SELECT id FROM products;\nSELECT setval('products_id_seq', (SELECT max(id) FROM products));\n"),
        ("db/seeds/common/03_categories.sql", "INSERT INTO categories VALUES (1);\n"),
    ]);
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM featured").as_deref(),
        Some("2")
    );
    assert_eq!(
        query_one(&db.url, "SELECT last_value FROM products_id_seq").as_deref(),
        Some("2")
    );
    assert_eq!(query_one(&db.url, "SELECT total()").as_deref(), Some("42"));
}

#[test]
fn dependency_order_sees_sequences_types_of_columns_functions_of_aggregates_roles_and_keys() {
    let role = format!("cf_reader_{}", std::process::id());
    let grant =
        format!("GRANT SELECT ON t TO {role};\nGRANT USAGE ON SEQUENCE users_id_seq TO {role};\n");
    let create_role = format!("CREATE ROLE {role};\n");
    let (_dir, db) = apply_in_dependency_order(&[
        ("db/schema/00_grants.sql", grant.as_str()),
        ("db/schema/01_t.sql", "CREATE TABLE t (id bigint DEFAULT nextval('t_seq') PRIMARY KEY, b_code text REFERENCES b (code));\n"),
        ("db/schema/02_fn.sql", "CREATE FUNCTION get_user(p_id users.id%TYPE) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN p_id; END $$;\n"),
        ("db/schema/03_agg.sql", "CREATE AGGREGATE my_sum(int) (sfunc = my_add, stype = int, initcond = '0');\n"),
        ("db/schema/04_cte.sql", "CREATE VIEW recent AS WITH totals AS (SELECT 1 AS id) SELECT * FROM totals;\nCREATE VIEW totals AS SELECT id FROM recent;\n"),
        ("db/schema/10_s.sql", "CREATE SEQUENCE t_seq;\n"),
        ("db/schema/11_users.sql", "CREATE TABLE users (id serial PRIMARY KEY);\n"),
        ("db/schema/12_add.sql", "CREATE FUNCTION my_add(int, int) RETURNS int LANGUAGE sql AS 'SELECT $1 + $2';\n"),
        ("db/schema/13_b.sql", "CREATE TABLE b (code text NOT NULL);\n"),
        ("db/schema/14_b_key.sql", "CREATE UNIQUE INDEX b_code ON b (code);\n"),
        ("db/schema/15_role.sql", create_role.as_str()),
        ("db/schema/16_trigger.sql", "CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();\nCOMMENT ON TRIGGER t_touch ON t IS 'keeps t fresh';\n"),
        ("db/schema/17_touch.sql", "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"),
    ]);
    let comment = query_one(
        &db.url,
        "SELECT obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE tgname = 't_touch'",
    );
    assert_eq!(comment.as_deref(), Some("keeps t fresh"));
    assert_eq!(
        query_one(&db.url, "SELECT my_sum(x) FROM (VALUES (1), (2)) v(x)").as_deref(),
        Some("3")
    );
    assert_eq!(
        query_one(
            &db.url,
            &format!("SELECT has_table_privilege('{role}', 't', 'SELECT')::text")
        )
        .as_deref(),
        Some("true")
    );
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM totals").as_deref(),
        Some("1")
    );
}

#[test]
fn recreate_is_refused_up_front_while_other_sessions_use_the_database() {
    let db = TestDb::new();
    query(&db.url, "CREATE TABLE kept (id int)");
    let dir = tree(
        PLAIN,
        &db.url,
        &[("db/schema/a.sql", "CREATE TABLE t (id int);\n")],
    );
    let holder =
        confiture_testkit::hold_session(&db.url, "SELECT 1", std::time::Duration::from_secs(3));
    let r = confiture_in(dir.path(), &["build", "--apply", "--recreate"]);
    holder.join().unwrap();
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[SQL_001]")
            && r.stderr.contains("1 other session(s) are connected to it"),
        "{}",
        r.stderr
    );
    assert!(
        !database_exists(&format!("{}__confiture_build", db.name)),
        "nothing was built"
    );
    assert_eq!(
        query_one(&db.url, "SELECT count(*) FROM kept").as_deref(),
        Some("0")
    );
}
