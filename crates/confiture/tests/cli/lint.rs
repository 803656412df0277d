//! `confiture lint` acceptance tests: a generated multi-tenant DDL tree that is clean, then the
//! same tree with violations planted (exactly those reported), the migration rules fire and stay
//! silent, table-size aware severities on a live database, suppressions and exemptions, unknown
//! rule ids, the report formats (SARIF, CSV, HTML in headless Chromium), `--fix` applied with
//! `migrate up`, and `--list-rules` / `--explain`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use confiture_testkit::{query_one, TestDb};
use serde_json::Value;

use crate::common::*;

#[path = "lint_tree.rs"]
mod lint_tree;

// ---- helpers ----

/// A URL for projects whose lint never connects.
const NO_DB: &str = "postgresql://lint@127.0.0.1:1/never_used";

/// A project holding `tree` (its files, environment and anonymization profile).
fn tree_project(tree: &lint_tree::Tree, url: &str) -> tempfile::TempDir {
    let dir = project_with_local(lint_tree::environment(url).as_bytes());
    for (path, content) in &tree.files {
        write(dir.path(), path, content.as_bytes());
    }
    write(
        dir.path(),
        "db/anonymization/lint.yaml",
        tree.profile().as_bytes(),
    );
    dir
}

/// `confiture ARGS --format json` in `dir`, which must exit `code`; its JSON.
fn lint_json(dir: &Path, args: &[&str], code: i32) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let r = confiture_in(dir, &all);
    assert_eq!(
        r.code,
        code,
        "confiture {}:\n{}",
        all.join(" "),
        r.all_output()
    );
    r.json()
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings")
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// (rule, object) of every finding.
fn pairs(v: &Value) -> BTreeSet<(String, String)> {
    findings(v)
        .iter()
        .map(|f| (s(&f["rule"]), s(&f["object"])))
        .collect()
}

/// The findings, one per line, for failure messages.
fn listing(v: &Value) -> String {
    findings(v)
        .iter()
        .map(|f| {
            format!(
                "  {} {} {} at {}:{}: {}",
                s(&f["severity"]),
                s(&f["rule"]),
                s(&f["object"]),
                s(&f["file"]),
                f["line"],
                s(&f["message"])
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The findings of `rule`.
fn of_rule<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(v).iter().filter(|f| f["rule"] == rule).collect()
}

// ---- 1. the generated tree: clean, then exactly the planted violations ----

#[test]
fn the_generated_tree_is_deterministic() {
    let (a, b) = (lint_tree::tree(true), lint_tree::tree(true));
    assert_eq!(a.files, b.files);
    assert_eq!(a.planted, b.planted);
    assert_eq!(a.profile(), b.profile());
    assert!(a.files.len() > 40, "{} files", a.files.len());
}

#[test]
fn the_clean_tree_has_no_finding() {
    let tree = lint_tree::tree(false);
    let dir = tree_project(&tree, NO_DB);
    let v = lint_json(dir.path(), &["lint", "--profile", "lint"], 0);
    assert!(
        findings(&v).is_empty(),
        "the clean tree must have no finding:\n{}",
        listing(&v)
    );
    assert_eq!(v["failed"], false);
    assert!(v["rules_run"].as_u64().unwrap() >= 27, "{}", v["rules_run"]);
}

#[test]
fn every_planted_violation_is_reported_and_nothing_else() {
    let tree = lint_tree::tree(true);
    let dir = tree_project(&tree, NO_DB);
    let v = lint_json(dir.path(), &["lint", "--profile", "lint"], 7);
    let expected: BTreeSet<(String, String)> = tree
        .planted
        .iter()
        .map(|p| (p.rule.clone(), p.object.clone()))
        .collect();
    let mut problems = differences(&expected, &v);
    // Each finding points at the file that defines its object, at a line of it.
    for p in &tree.planted {
        let Some(f) = findings(&v)
            .iter()
            .find(|f| f["rule"] == p.rule.as_str() && f["object"] == p.object.as_str())
        else {
            continue;
        };
        let line = f["line"].as_u64().unwrap_or(0) as usize;
        let lines = std::fs::read_to_string(dir.path().join(&p.file))
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if s(&f["file"]) != p.file || line == 0 || line > lines {
            problems.push(format!(
                "{} {} is at {}:{line}, expected a line of {} ({lines} lines)",
                p.rule,
                p.object,
                s(&f["file"]),
                p.file
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        findings(&v).len(),
        tree.planted.len(),
        "one finding per planted violation:\n{}",
        listing(&v)
    );
    assert_eq!(v["failed"], true);
    assert_eq!(v["error"]["code"], "LINT_001", "{v}");
}

/// What differs between the expected (rule, object) pairs and the report's findings.
fn differences(expected: &BTreeSet<(String, String)>, v: &Value) -> Vec<String> {
    let got = pairs(v);
    let mut out: Vec<String> = expected
        .difference(&got)
        .map(|(r, o)| format!("planted but not reported: {r} {o}"))
        .collect();
    out.extend(
        findings(v)
            .iter()
            .filter(|f| !expected.contains(&(s(&f["rule"]), s(&f["object"]))))
            .map(|f| {
                format!(
                    "reported but not planted: {} {} at {}:{}: {}",
                    s(&f["rule"]),
                    s(&f["object"]),
                    s(&f["file"]),
                    f["line"],
                    s(&f["message"])
                )
            }),
    );
    out
}

/// The same tree applied to a database (`confiture build --apply`) and linted `--live`: the
/// catalog gives the findings the files gave, but for what only files can show (names longer
/// than 63 bytes, which the database truncates; the custom rules scoped by directory).
#[test]
fn the_database_built_from_the_tree_gives_the_same_findings_live() {
    let db = TestDb::new();
    let tree = lint_tree::tree(true);
    let dir = tree_project(&tree, &db.url);
    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 0, "build --apply:\n{}", r.all_output());
    let files_only = [
        "identifier-too-long",
        "write-side-prefix",
        "query-side-prefix",
        "write-side-created-at",
    ];
    let expected: BTreeSet<(String, String)> = tree
        .planted
        .iter()
        .filter(|p| !files_only.contains(&p.rule.as_str()))
        .map(|p| (p.rule.clone(), p.object.clone()))
        .collect();
    let v = lint_json(dir.path(), &["lint", "--live", "--profile", "lint"], 7);
    let problems = differences(&expected, &v);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        findings(&v).iter().all(|f| f.get("file").is_none()),
        "a live finding has no file"
    );
}

// ---- 2. each migration rule fires on a bad migration and not on its safe version ----

/// (rule, bad migration, line of the finding, its object, good migration). Lock-taking
/// statements come after `SET lock_timeout` (or a comment) so that the finding is on line 2.
const MIGRATION_CASES: &[(&str, &str, usize, &str, &str)] = &[
    (
        "adding-not-null-column-without-default",
        "SET lock_timeout = '2s';\nALTER TABLE app.projects ADD COLUMN owner_id bigint NOT NULL;\n",
        2,
        "app.projects.owner_id",
        "SET lock_timeout = '2s';\nALTER TABLE app.projects ADD COLUMN owner_id bigint NOT NULL DEFAULT 0;\n",
    ),
    (
        "adding-unique-constraint",
        "SET lock_timeout = '2s';\nALTER TABLE app.users ADD CONSTRAINT users_email_key UNIQUE (email);\n",
        2,
        "app.users.email",
        "SET lock_timeout = '2s';\nALTER TABLE app.users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;\n",
    ),
    (
        "adding-volatile-default",
        "SET lock_timeout = '2s';\nALTER TABLE app.users ADD COLUMN token uuid DEFAULT gen_random_uuid();\n",
        2,
        "app.users.token",
        "SET lock_timeout = '2s';\nALTER TABLE app.users ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();\n",
    ),
    (
        "changing-column-type",
        "SET lock_timeout = '2s';\nALTER TABLE app.events ALTER COLUMN id TYPE bigint;\n",
        2,
        "app.events.id",
        "SET lock_timeout = '2s';\nALTER TABLE app.events ALTER COLUMN label TYPE text;\n",
    ),
    (
        "check-not-valid",
        "SET lock_timeout = '2s';\nALTER TABLE app.accounts ADD CONSTRAINT accounts_balance_check CHECK (balance >= 0);\n",
        2,
        "app.accounts",
        "SET lock_timeout = '2s';\nALTER TABLE app.accounts ADD CONSTRAINT accounts_balance_check CHECK (balance >= 0) NOT VALID;\n",
    ),
    (
        "concurrently-in-transaction",
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY users_nickname_idx ON app.users (nickname);\n",
        2,
        "app.users",
        "CREATE INDEX CONCURRENTLY users_nickname_idx ON app.users (nickname);\n",
    ),
    (
        "dropping-column",
        "SET lock_timeout = '2s';\nALTER TABLE app.users DROP COLUMN legacy_id;\n",
        2,
        "app.users.legacy_id",
        "CREATE TABLE app.scratch (id bigint, tmp integer);\nALTER TABLE app.scratch DROP COLUMN tmp;\n",
    ),
    (
        "dropping-table",
        "SET lock_timeout = '2s';\nDROP TABLE app.old_sessions;\n",
        2,
        "app.old_sessions",
        "SET lock_timeout = '2s';\nDROP VIEW app.v_old_sessions;\n",
    ),
    (
        "foreign-key-not-valid",
        "SET lock_timeout = '2s';\nALTER TABLE app.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES app.customers (id);\n",
        2,
        "app.orders.customer_id",
        "SET lock_timeout = '2s';\nALTER TABLE app.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES app.customers (id) NOT VALID;\n",
    ),
    (
        "missing-lock-timeout",
        "-- a nickname for every user\nALTER TABLE app.users ADD COLUMN nickname text;\n",
        2,
        "app.users",
        "SET lock_timeout = '2s';\nALTER TABLE app.users ADD COLUMN nickname text;\n",
    ),
    (
        "prefer-bigint-keys",
        "-- widgets\nCREATE TABLE app.widgets (id integer PRIMARY KEY, label text);\n",
        2,
        "app.widgets.id",
        "-- widgets\nCREATE TABLE app.widgets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text);\n",
    ),
    (
        "prefer-identity",
        "-- items\nCREATE TABLE app.items (id bigserial PRIMARY KEY);\n",
        2,
        "app.items.id",
        "-- items\nCREATE TABLE app.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n",
    ),
    (
        "prefer-text-over-char",
        "-- countries\nCREATE TABLE app.countries (code char(2) PRIMARY KEY);\n",
        2,
        "app.countries.code",
        "-- countries\nCREATE TABLE app.countries (code text PRIMARY KEY CHECK (char_length(code) = 2));\n",
    ),
    (
        "prefer-timestamptz",
        "SET lock_timeout = '2s';\nALTER TABLE app.events ADD COLUMN happened_at timestamp;\n",
        2,
        "app.events.happened_at",
        "SET lock_timeout = '2s';\nALTER TABLE app.events ADD COLUMN happened_at timestamptz;\n",
    ),
    (
        "renaming-column",
        "SET lock_timeout = '2s';\nALTER TABLE app.users RENAME COLUMN mail TO email;\n",
        2,
        "app.users.mail",
        "SET lock_timeout = '2s';\nALTER TABLE app.users RENAME CONSTRAINT users_a_check TO users_b_check;\n",
    ),
    (
        "renaming-table",
        "SET lock_timeout = '2s';\nALTER TABLE app.customer RENAME TO customers;\n",
        2,
        "app.customer",
        "CREATE TABLE app.staging (id bigint);\nALTER TABLE app.staging RENAME TO final;\n",
    ),
    (
        "require-concurrent-index",
        "SET lock_timeout = '2s';\nCREATE INDEX users_email_idx ON app.users (email);\n",
        2,
        "app.users",
        "CREATE INDEX CONCURRENTLY users_email_idx ON app.users (email);\n",
    ),
    (
        "require-concurrent-index-drop",
        "SET lock_timeout = '2s';\nDROP INDEX app.users_email_idx;\n",
        2,
        "app.users_email_idx",
        "DROP INDEX CONCURRENTLY app.users_email_idx;\n",
    ),
    (
        "setting-not-null",
        "SET lock_timeout = '2s';\nALTER TABLE app.users ALTER COLUMN email SET NOT NULL;\n",
        2,
        "app.users.email",
        "SET lock_timeout = '2s';\nALTER TABLE app.users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE app.users ALTER COLUMN email SET NOT NULL;\n",
    ),
    (
        "transaction-control",
        "-- wrapped by hand\nBEGIN;\nALTER TABLE app.users ADD COLUMN a integer;\nCOMMIT;\n",
        2,
        "",
        "SAVEPOINT before_a;\nALTER TABLE app.users ADD COLUMN a integer;\nRELEASE SAVEPOINT before_a;\n",
    ),
    (
        "require-concurrent-refresh",
        "SET lock_timeout = '2s';\nREFRESH MATERIALIZED VIEW app.r_order_totals;\n",
        2,
        "app.r_order_totals",
        "SET lock_timeout = '2s';\nREFRESH MATERIALIZED VIEW CONCURRENTLY app.r_order_totals;\n",
    ),
    (
        "truncate-cascade",
        "SET lock_timeout = '2s';\nTRUNCATE app.customers CASCADE;\n",
        2,
        "app.customers",
        "SET lock_timeout = '2s';\nTRUNCATE app.customers;\n",
    ),
    (
        "vacuum-full-or-cluster",
        "SET lock_timeout = '2s';\nCLUSTER app.events USING events_at_idx;\n",
        2,
        "app.events",
        "VACUUM (ANALYZE) app.events;\n",
    ),
];

/// A project without schema files whose db/migrations holds `migrations` (name, content).
fn migrations_project(
    url: &str,
    extra: &str,
    migrations: &[(String, String)],
) -> tempfile::TempDir {
    let dir = project(url, extra, &[]);
    for (name, content) in migrations {
        write_migration(dir.path(), name, content);
    }
    dir
}

fn slug(rule: &str) -> String {
    rule.replace('-', "_")
}

#[test]
fn every_migration_rule_fires_on_its_bad_migration_and_not_on_the_safe_one() {
    let mut files = Vec::new();
    for (i, (rule, bad, _, _, good)) in MIGRATION_CASES.iter().enumerate() {
        files.push((
            format!("{:03}_{}_bad.up.sql", 2 * i + 1, slug(rule)),
            bad.to_string(),
        ));
        files.push((
            format!("{:03}_{}_good.up.sql", 2 * i + 2, slug(rule)),
            good.to_string(),
        ));
    }
    let dir = migrations_project(NO_DB, "", &files);
    let v = lint_json(dir.path(), &["lint", "--migrations"], 7);
    let migration_rules: BTreeSet<String> = lint_json(dir.path(), &["lint", "--list-rules"], 0)
        ["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["category"] == "migration")
        .map(|r| s(&r["id"]))
        .collect();
    let covered: BTreeSet<String> = MIGRATION_CASES.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(covered, migration_rules, "one case per migration rule");

    let mut problems = Vec::new();
    for (i, (rule, _, line, object, _)) in MIGRATION_CASES.iter().enumerate() {
        let bad = format!("db/migrations/{:03}_{}_bad.up.sql", 2 * i + 1, slug(rule));
        let good = format!("db/migrations/{:03}_{}_good.up.sql", 2 * i + 2, slug(rule));
        let here = |file: &str| -> Vec<&Value> {
            of_rule(&v, rule)
                .into_iter()
                .filter(|f| f["file"] == file)
                .collect()
        };
        let fired = here(&bad);
        if !fired
            .iter()
            .any(|f| f["line"].as_u64() == Some(*line as u64) && s(&f["object"]) == *object)
        {
            problems.push(format!(
                "{rule}: expected a finding on {object:?} at {bad}:{line}, got {fired:?}"
            ));
        }
        let silent = here(&good);
        if !silent.is_empty() {
            problems.push(format!("{rule}: must not fire on {good}: {silent:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The same, file by file with --files, for one rule: only that file is read.
    let one = format!(
        "db/migrations/{:03}_{}_bad.up.sql",
        1,
        slug(MIGRATION_CASES[0].0)
    );
    let v = lint_json(dir.path(), &["lint", "--files", &one], 7);
    assert_eq!(v["inputs"], serde_json::json!(["1 migration(s)"]), "{v}");
    assert!(findings(&v).iter().all(|f| f["file"] == one.as_str()));
    // --select by category runs the migration rules only.
    let v = lint_json(dir.path(), &["lint", "--migrations", "--select", "migration", "--ignore", "transaction-control,concurrently-in-transaction,adding-not-null-column-without-default,prefer-bigint-keys"], 0);
    assert!(of_rule(&v, "transaction-control").is_empty());
    assert!(!of_rule(&v, "require-concurrent-index").is_empty());
}

/// Schema rules the planted tree cannot show: `hipaa-audit-table` needs a schema without any
/// audit table; UNLOGGED tables only count in production environments; without an
/// anonymization profile every personal-data column is reported.
#[test]
fn schema_rules_that_depend_on_the_whole_schema_or_the_environment() {
    let patients = "CREATE SCHEMA clinic;\nCREATE TABLE clinic.patients (\n    id bigint PRIMARY KEY,\n    diagnosis text\n);\nALTER TABLE clinic.patients ENABLE ROW LEVEL SECURITY;\n";
    let audit = "CREATE TABLE clinic.audit_log (id bigint PRIMARY KEY, action text);\n";
    let dir = tree(PLAIN, NO_DB, &[("db/schema/10_patients.sql", patients)]);
    let v = lint_json(dir.path(), &["lint", "--select", "hipaa"], 0);
    let f = of_rule(&v, "hipaa-audit-table");
    assert_eq!(f.len(), 1, "{}", listing(&v));
    assert_eq!(f[0]["file"], "db/schema/10_patients.sql");
    assert!(s(&f[0]["message"]).contains("clinic.patients"), "{}", f[0]);
    assert!(of_rule(&v, "hipaa-phi-rls").is_empty(), "RLS is on");
    // Not run unless the bundle is enabled or selected.
    let v = lint_json(dir.path(), &["lint"], 0);
    assert!(
        of_rule(&v, "hipaa-audit-table").is_empty(),
        "{}",
        listing(&v)
    );
    write(dir.path(), "db/schema/20_audit.sql", audit.as_bytes());
    let v = lint_json(dir.path(), &["lint", "--select", "hipaa"], 0);
    assert!(findings(&v).is_empty(), "{}", listing(&v));

    // UNLOGGED: a finding in production only.
    let unlogged = "CREATE UNLOGGED TABLE public.cache (id bigint PRIMARY KEY, payload jsonb);\n";
    let dir = tree(PLAIN, NO_DB, &[("db/schema/cache.sql", unlogged)]);
    write(
        dir.path(),
        "db/environments/production.yaml",
        format!("database_url: {NO_DB}\ninclude_dirs: [db/schema]\n").as_bytes(),
    );
    let v = lint_json(dir.path(), &["lint"], 0);
    assert!(findings(&v).is_empty(), "{}", listing(&v));
    let v = lint_json(dir.path(), &["lint", "-e", "production"], 7);
    assert_eq!(
        pairs(&v),
        BTreeSet::from([(
            "unlogged-table-in-production".to_string(),
            "public.cache".to_string()
        )])
    );

    // gdpr without a profile: every personal-data column is reported.
    let users = "CREATE TABLE public.users (\n    id bigint PRIMARY KEY,\n    email text NOT NULL\n);\nCOMMENT ON COLUMN public.users.email IS 'Login.';\n";
    let dir = tree(PLAIN, NO_DB, &[("db/schema/users.sql", users)]);
    let v = lint_json(dir.path(), &["lint", "--select", "gdpr"], 7);
    let f = of_rule(&v, "gdpr-pii-anonymized");
    assert_eq!(f.len(), 1, "{}", listing(&v));
    assert_eq!(f[0]["object"], "public.users.email");
    assert_eq!(f[0]["line"], 3);
    assert!(s(&f[0]["message"]).contains("none was given"), "{}", f[0]);
}

// ---- 3. table-size aware severities on a live database ----

#[test]
fn migration_findings_scale_with_the_size_of_the_live_table() {
    let db = TestDb::new();
    for (table, rows) in [("small", 300), ("medium", 50_000), ("big", 1_000_000)] {
        let url = &db.url;
        confiture_testkit::query(
            url,
            &format!(
                "CREATE TABLE {table} (id integer PRIMARY KEY); INSERT INTO {table} SELECT generate_series(1, {rows}); ANALYZE {table};"
            ),
        );
    }
    let files: Vec<(String, String)> = ["small", "medium", "big"]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                format!("{:03}_token_{t}.up.sql", i + 1),
                format!(
                    "SET lock_timeout = '2s';\nALTER TABLE {t} ADD COLUMN c uuid DEFAULT gen_random_uuid();\n"
                ),
            )
        })
        .collect();
    let dir = migrations_project(&db.url, "", &files);
    let select = ["--select", "adding-volatile-default"];
    let sev = |v: &Value, table: &str| -> (String, String) {
        let f = of_rule(v, "adding-volatile-default")
            .into_iter()
            .find(|f| f["object"] == format!("public.{table}.c").as_str())
            .unwrap_or_else(|| panic!("no finding on {table}:\n{}", listing(v)));
        (s(&f["severity"]), s(&f["message"]))
    };
    // Without a database: the rule's own severity.
    let v = lint_json(
        dir.path(),
        &[&["lint", "--migrations"][..], &select].concat(),
        0,
    );
    assert_eq!(sev(&v, "big").0, "warning");
    assert!(!sev(&v, "big").1.contains("rows"));
    // With the live database: by the number of rows.
    let v = lint_json(
        dir.path(),
        &[&["lint", "--live", "--migrations"][..], &select].concat(),
        7,
    );
    let (small, small_msg) = sev(&v, "small");
    let (medium, medium_msg) = sev(&v, "medium");
    let (big, big_msg) = sev(&v, "big");
    assert_eq!(
        (small.as_str(), medium.as_str(), big.as_str()),
        ("info", "warning", "error"),
        "{}",
        listing(&v)
    );
    assert!(small_msg.contains("(300 rows"), "{small_msg}");
    assert!(medium_msg.contains("(50,000 rows"), "{medium_msg}");
    assert!(big_msg.contains("(1,000,000 rows"), "{big_msg}");
    assert_eq!(v["error"]["code"], "LINT_001");
    // Only the small table's migration: info, exit 0.
    let v = lint_json(
        dir.path(),
        &[
            &[
                "lint",
                "--live",
                "--files",
                "db/migrations/001_token_small.up.sql",
            ][..],
            &select,
        ]
        .concat(),
        0,
    );
    assert_eq!(sev(&v, "small").0, "info");
    assert_eq!(findings(&v).len(), 1, "{}", listing(&v));
}

/// A statement the grammar rejects is named (file, line, the parser's message), never dropped
/// silently; the statements around it are still linted.
#[test]
fn statements_the_grammar_rejects_are_reported_with_their_line() {
    let dir = tree(
        PLAIN,
        NO_DB,
        &[
            (
                "db/schema/10_tables.sql",
                "CREATE SCHEMA app;\nCREATE TABLE app.orders (id bigint PRIMARY KEY);\nCREATE TABLE app.broken (id bigint PRIMARY KEY,);\nCREATE TABLE app.notes (body text);\n",
            ),
            (
                "db/migrations/20260101000000_add_note.up.sql",
                "SET lock_timeout = '2s';\nALTER TABLE app.orders ADD COLUM note text;\nALTER TABLE app.orders ADD COLUMN note_at timestamp;\n",
            ),
            ("db/migrations/20260101000000_add_note.down.sql", "SELECT 1;\n"),
        ],
    );
    let r = confiture_in(dir.path(), &["lint"]);
    assert_eq!(r.code, 7, "{}", r.all_output());
    assert!(
        r.stderr.contains(
            "db/schema/10_tables.sql:3: skipped: the PostgreSQL grammar rejects this statement: syntax error at or near \")\""
        ),
        "{}",
        r.all_output()
    );
    assert!(r.stdout.contains("app.notes"), "{}", r.all_output());

    let r = confiture_in(dir.path(), &["lint", "--migrations"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stderr.contains(
            "db/migrations/20260101000000_add_note.up.sql:2: skipped: the PostgreSQL grammar rejects this statement: syntax error at or near \"text\""
        ),
        "{}",
        r.all_output()
    );
    // The next statement is still read.
    assert!(
        r.stdout.contains("prefer-timestamptz"),
        "{}",
        r.all_output()
    );
}

/// Files that cannot be linted stop the run with the build's codes, at the file and line.
#[test]
fn unsplittable_and_missing_files_are_errors_naming_them() {
    let dir = tree(
        PLAIN,
        NO_DB,
        &[
            (
                "db/migrations/20260101000000_note.up.sql",
                "SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c text DEFAULT 'oops;\n",
            ),
            ("db/migrations/20260101000000_note.down.sql", "SELECT 1;\n"),
        ],
    );
    let v = lint_json(dir.path(), &["lint", "--migrations"], 5);
    let e = &v["error"];
    assert_eq!(e["code"], "BUILD_005", "{v}");
    assert_eq!(e["line"], 2, "{v}");
    assert_eq!(e["column"], 41, "{v}");
    assert!(
        s(&e["file"]).ends_with("db/migrations/20260101000000_note.up.sql"),
        "{v}"
    );
    assert!(
        s(&e["message"]).contains("ends inside a quoted string"),
        "{v}"
    );
    assert!(v.get("findings").is_none(), "no report: {v}");

    let v = lint_json(dir.path(), &["lint", "--files", "db/schema/missing.sql"], 5);
    assert_eq!(v["error"]["code"], "BUILD_003", "{v}");
    assert!(s(&v["error"]["message"]).contains("missing.sql"), "{v}");
}

#[test]
fn linting_enabled_false_runs_nothing_and_says_so() {
    let yaml = format!("{PLAIN}linting:\n  enabled: false\n");
    let dir = tree(
        &yaml,
        NO_DB,
        &[("db/schema/10.sql", "CREATE TABLE no_key (\"Bad\" text);\n")],
    );
    let r = confiture_in(dir.path(), &["lint"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert_eq!(r.stdout, "", "{}", r.all_output());
    assert!(
        r.stderr
            .contains("linting is disabled for local (linting.enabled: false)"),
        "{}",
        r.all_output()
    );
    let v = lint_json(dir.path(), &["lint"], 0);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["rules_run"], 0, "{v}");
    assert_eq!(v["failed"], false, "{v}");
    assert!(findings(&v).is_empty(), "{v}");
    // The same tree with linting on fails.
    let on = tree(
        PLAIN,
        NO_DB,
        &[("db/schema/10.sql", "CREATE TABLE no_key (\"Bad\" text);\n")],
    );
    lint_json(on.path(), &["lint"], 7);
}

// ---- 4. suppressions, exemptions, off, severity overrides ----

const SUPPRESSED: &str = "CREATE SCHEMA app;

CREATE TABLE app.staging_rows (line text);
-- confiture:lint-ignore require-primary-key loaded by the import job, then dropped
CREATE TABLE app.import_batch (\"lineNo\" integer);
CREATE TABLE app.events (payload text); -- confiture:lint-ignore require-primary-key append-only
CREATE TABLE app.notes (body text);
";

const WHOLE_FILE: &str =
    "-- confiture:lint-ignore-file require-primary-key legacy tables, replaced in Q3
CREATE TABLE app.legacy_a (x integer);
CREATE TABLE app.legacy_b (\"Y\" integer);
";

#[test]
fn lint_ignore_comments_remove_exactly_their_findings() {
    let dir = tree(
        PLAIN,
        NO_DB,
        &[
            ("db/schema/10_tables.sql", SUPPRESSED),
            ("db/schema/20_legacy.sql", WHOLE_FILE),
        ],
    );
    let v = lint_json(dir.path(), &["lint"], 7);
    let pk: BTreeSet<String> = of_rule(&v, "require-primary-key")
        .iter()
        .map(|f| s(&f["object"]))
        .collect();
    assert_eq!(
        pk,
        BTreeSet::from(["app.staging_rows".to_string(), "app.notes".to_string()]),
        "{}",
        listing(&v)
    );
    // The other rules still see the suppressed tables.
    for object in ["app.import_batch.lineNo", "app.legacy_b.Y"] {
        assert!(
            of_rule(&v, "snake-case-names")
                .iter()
                .any(|f| f["object"] == object),
            "{object}:\n{}",
            listing(&v)
        );
    }
    // Without the comments: four more findings.
    let plain_sql = SUPPRESSED.replace("-- confiture:lint-ignore", "-- ");
    write(dir.path(), "db/schema/10_tables.sql", plain_sql.as_bytes());
    write(
        dir.path(),
        "db/schema/20_legacy.sql",
        WHOLE_FILE
            .replace("confiture:lint-ignore-file", "")
            .as_bytes(),
    );
    let v = lint_json(dir.path(), &["lint"], 7);
    assert_eq!(
        of_rule(&v, "require-primary-key").len(),
        6,
        "{}",
        listing(&v)
    );

    // In a migration.
    let files = vec![(
        "001_nick.up.sql".to_string(),
        "-- confiture:lint-ignore missing-lock-timeout the table is tiny\nALTER TABLE app.users ADD COLUMN nick text;\nALTER TABLE app.users ADD COLUMN note text;\n".to_string(),
    )];
    let dir = migrations_project(NO_DB, "", &files);
    let v = lint_json(dir.path(), &["lint", "--migrations"], 0);
    assert!(
        of_rule(&v, "missing-lock-timeout").is_empty(),
        "{}",
        listing(&v)
    );
    write_migration(
        dir.path(),
        "001_nick.up.sql",
        "ALTER TABLE app.users ADD COLUMN nick text;\n",
    );
    let v = lint_json(dir.path(), &["lint", "--migrations"], 0);
    assert_eq!(
        of_rule(&v, "missing-lock-timeout").len(),
        1,
        "{}",
        listing(&v)
    );
}

const EXEMPTED: &str = "CREATE SCHEMA app;
CREATE TABLE app.staging_rows (line text);
CREATE TABLE app.staging_files (\"fileName\" text);
CREATE TABLE app.notes (body text);
";

#[test]
fn exemptions_off_and_severity_overrides() {
    let files = [("db/schema/10_tables.sql", EXEMPTED)];
    let with = |linting: &str| {
        let yaml = format!("database_url: {NO_DB}\ninclude_dirs: [db/schema]\nlinting:\n{linting}");
        tree(&yaml, NO_DB, &files)
    };
    // exempt: only the matching tables.
    let dir = with("  rules:\n    require-primary-key:\n      exempt: ['app.staging_*']\n");
    let v = lint_json(dir.path(), &["lint"], 7);
    let pk: Vec<String> = of_rule(&v, "require-primary-key")
        .iter()
        .map(|f| s(&f["object"]))
        .collect();
    assert_eq!(pk, ["app.notes"], "{}", listing(&v));
    let dir = with("  rules:\n    require-primary-key:\n      exempt: [notes, 'app.staging_*']\n");
    let v = lint_json(dir.path(), &["lint"], 0);
    assert!(
        of_rule(&v, "require-primary-key").is_empty(),
        "{}",
        listing(&v)
    );

    // off: the rule does not run; the others do.
    let dir = with("  rules:\n    snake-case-names: off\n");
    let v = lint_json(dir.path(), &["lint"], 7);
    assert!(
        of_rule(&v, "snake-case-names").is_empty(),
        "{}",
        listing(&v)
    );
    assert_eq!(
        of_rule(&v, "names-need-quoting").len(),
        1,
        "{}",
        listing(&v)
    );

    // Severity: an unindexed foreign key is a warning (exit 0), made an error (exit 7).
    let fk = "CREATE TABLE public.customers (id bigint PRIMARY KEY);\nCREATE TABLE public.orders (\n    id bigint PRIMARY KEY,\n    customer_id bigint REFERENCES public.customers (id)\n);\n";
    let with_fk = |linting: &str| {
        let yaml = format!("database_url: {NO_DB}\ninclude_dirs: [db/schema]\n{linting}");
        tree(&yaml, NO_DB, &[("db/schema/orders.sql", fk)])
    };
    let dir = with_fk("");
    let v = lint_json(dir.path(), &["lint"], 0);
    let f = of_rule(&v, "unindexed-foreign-key");
    assert_eq!(
        (f.len(), s(&f[0]["severity"])),
        (1, "warning".into()),
        "{}",
        listing(&v)
    );
    assert_eq!(v["failed"], false);
    let text = confiture_in(dir.path(), &["lint"]);
    assert_eq!(text.code, 0, "{}", text.all_output());
    let dir = with_fk("linting:\n  rules:\n    unindexed-foreign-key: error\n");
    let v = lint_json(dir.path(), &["lint"], 7);
    assert_eq!(
        s(&of_rule(&v, "unindexed-foreign-key")[0]["severity"]),
        "error"
    );
    assert_eq!(v["error"]["code"], "LINT_001");
    let text = confiture_in(dir.path(), &["lint"]);
    assert_eq!(text.code, 7, "{}", text.all_output());
    assert!(text.stderr.contains("LINT_001"), "{}", text.all_output());
    let dir = with_fk("linting:\n  rules:\n    unindexed-foreign-key: {severity: info}\n  fail_on_severity: warning\n");
    let v = lint_json(dir.path(), &["lint"], 0);
    assert_eq!(
        s(&of_rule(&v, "unindexed-foreign-key")[0]["severity"]),
        "info"
    );
    let dir = with_fk("linting:\n  fail_on_severity: warning\n");
    lint_json(dir.path(), &["lint"], 7);
}

// ---- 5. unknown rule ids ----

#[test]
fn unknown_rule_ids_are_errors_with_a_suggestion() {
    // In the configuration.
    let yaml = format!(
        "database_url: {NO_DB}\ninclude_dirs: [db/schema]\nlinting:\n  rules:\n    requre-primary-key: off\n"
    );
    let dir = tree(
        &yaml,
        NO_DB,
        &[(
            "db/schema/t.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY);\n",
        )],
    );
    let v = lint_json(dir.path(), &["lint"], 5);
    let e = &v["error"];
    assert_eq!(e["code"], "CONFIG_010", "{v}");
    assert!(s(&e["message"]).contains("'requre-primary-key'"), "{e}");
    assert!(
        s(&e["hint"]).contains("did you mean 'require-primary-key'"),
        "{e}"
    );
    assert!(s(&e["file"]).ends_with("db/environments/local.yaml"), "{e}");
    assert_eq!(e["line"], 5, "{e}");
    let text = confiture_in(dir.path(), &["lint"]);
    assert_eq!(text.code, 5);
    assert!(text.stderr.contains("did you mean"), "{}", text.stderr);

    // --select / --ignore.
    let dir = tree(
        PLAIN,
        NO_DB,
        &[(
            "db/schema/t.sql",
            "CREATE TABLE t (id bigint PRIMARY KEY);\n",
        )],
    );
    for flag in ["--select", "--ignore"] {
        let v = lint_json(
            dir.path(),
            &["lint", flag, "naming,unindexed-foreign-keys"],
            5,
        );
        let e = &v["error"];
        assert_eq!(e["code"], "INPUT_001", "{v}");
        assert!(s(&e["message"]).contains("'unindexed-foreign-keys'"), "{e}");
        assert!(
            s(&e["hint"]).contains("did you mean 'unindexed-foreign-key'"),
            "{e}"
        );
    }

    // In a lint-ignore comment.
    write(
        dir.path(),
        "db/schema/u.sql",
        b"-- a staging table\n-- confiture:lint-ignore require-primary-keys loaded then dropped\nCREATE TABLE u (x integer);\n",
    );
    let v = lint_json(dir.path(), &["lint"], 5);
    let e = &v["error"];
    assert_eq!(e["code"], "CONFIG_010", "{v}");
    assert!(s(&e["message"]).contains("'require-primary-keys'"), "{e}");
    assert!(
        s(&e["hint"]).contains("did you mean 'require-primary-key'"),
        "{e}"
    );
    assert!(s(&e["file"]).ends_with("db/schema/u.sql"), "{e}");
    assert_eq!(e["line"], 2, "{e}");
}

/// Migrations are linted on worker threads and their suppressions gathered afterwards: a
/// misspelt rule id in one of them is still an error at its file and line, in every file.
#[test]
fn unknown_rule_ids_in_migration_suppressions_are_errors() {
    let mut files: Vec<(String, String)> = (1..=4)
        .map(|i| {
            (
                format!("00{i}_step.up.sql"),
                "SET lock_timeout = '1s';\nALTER TABLE app.users ADD COLUMN nick text;\n"
                    .to_string(),
            )
        })
        .collect();
    files[2].1 = "-- confiture:lint-ignore missing-lock-timeouts tiny table\nALTER TABLE app.users ADD COLUMN note text;\n".to_string();
    let dir = migrations_project(NO_DB, "", &files);
    let v = lint_json(dir.path(), &["lint", "--migrations"], 5);
    let e = &v["error"];
    assert_eq!(e["code"], "CONFIG_010", "{v}");
    assert!(s(&e["message"]).contains("'missing-lock-timeouts'"), "{e}");
    assert!(
        s(&e["hint"]).contains("did you mean 'missing-lock-timeout'"),
        "{e}"
    );
    assert!(s(&e["file"]).ends_with("003_step.up.sql"), "{e}");
    assert_eq!(e["line"], 1, "{e}");
}

// ---- 6. report formats ----

/// The planted tree and its JSON report.
fn planted_report() -> (tempfile::TempDir, Value) {
    let tree = lint_tree::tree(true);
    let dir = tree_project(&tree, NO_DB);
    let v = lint_json(dir.path(), &["lint", "--profile", "lint"], 7);
    assert!(findings(&v).len() >= 25, "{}", findings(&v).len());
    (dir, v)
}

#[test]
fn sarif_report() {
    let (dir, v) = planted_report();
    let all = findings(&v);

    // SARIF 2.1.0 in a file; the text summary still on the terminal.
    let r = confiture_in(
        dir.path(),
        &[
            "lint",
            "--profile",
            "lint",
            "--report",
            "sarif",
            "-o",
            "out.sarif",
        ],
    );
    assert_eq!(r.code, 7, "{}", r.all_output());
    assert!(r.stderr.contains("out.sarif"), "{}", r.all_output());
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.sarif")).unwrap())
            .expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert!(
        s(&sarif["$schema"]).contains("sarif"),
        "{}",
        sarif["$schema"]
    );
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "confiture");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), all.len());
    let rules: Vec<String> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(&r["id"]))
        .collect();
    for (res, f) in results.iter().zip(all) {
        assert_eq!(res["ruleId"], f["rule"], "{res}");
        let index = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index], s(&f["rule"]));
        let level = match s(&f["severity"]).as_str() {
            "info" => "note".to_string(),
            other => other.to_string(),
        };
        assert_eq!(s(&res["level"]), level);
        let physical = &res["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], f["file"], "{res}");
        assert_eq!(physical["region"]["startLine"], f["line"], "{res}");
    }
    assert!(
        rules.contains(&"write-side-prefix".to_string()),
        "custom rules are described"
    );
}

#[test]
fn csv_report() {
    let (dir, v) = planted_report();
    let all = findings(&v);
    // The header, then one record per finding, in the same order; in a file and on stdout.
    let r = confiture_in(
        dir.path(),
        &[
            "lint",
            "--profile",
            "lint",
            "--report",
            "csv",
            "-o",
            "out.csv",
        ],
    );
    assert_eq!(r.code, 7, "{}", r.all_output());
    let file = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    let r = confiture_in(
        dir.path(),
        &["lint", "--profile", "lint", "--report", "csv"],
    );
    assert_eq!(r.code, 7, "{}", r.all_output());
    let tail = |t: &str| {
        t.chars()
            .rev()
            .take(12)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
    };
    assert!(
        r.stdout == file,
        "stdout and -o must give the same RFC 4180 document (CRLF after every record): stdout ends {:?}, the file ends {:?}",
        tail(&r.stdout),
        tail(&file)
    );
    let records = parse_csv(&file);
    assert_eq!(
        records[0],
        ["severity", "rule", "object", "file", "line", "column", "message", "fix"]
    );
    assert_eq!(records.len(), all.len() + 1);
    for (rec, f) in records[1..].iter().zip(all) {
        assert_eq!(rec[0], s(&f["severity"]));
        assert_eq!(rec[1], s(&f["rule"]));
        assert_eq!(rec[2], s(&f["object"]));
        assert_eq!(rec[3], s(&f["file"]));
        assert_eq!(rec[4], f["line"].to_string());
        assert_eq!(rec[6], s(&f["message"]));
    }
}

#[test]
fn html_report_in_headless_chromium() {
    let (dir, v) = planted_report();
    let all = findings(&v);
    // Opened in headless Chromium: one row per finding, none hidden.
    let r = confiture_in(
        dir.path(),
        &[
            "lint",
            "--profile",
            "lint",
            "--report",
            "html",
            "-o",
            "r.html",
        ],
    );
    assert_eq!(r.code, 7, "{}", r.all_output());
    let dom = dump_dom(&dir.path().join("r.html"), dir.path());
    let mut expected: std::collections::BTreeMap<String, usize> = Default::default();
    for f in all {
        *expected.entry(s(&f["rule"])).or_default() += 1;
    }
    for (rule, n) in &expected {
        let shown = dom.matches(&format!("data-rule=\"{rule}\"")).count();
        assert_eq!(shown, *n, "rows of {rule} in the DOM");
    }
    assert_eq!(
        dom.matches("<tr class=\"finding ").count(),
        all.len(),
        "finding rows"
    );
    assert!(
        dom.contains(&format!("data-shown=\"{}\"", all.len())),
        "the page's script counted every row as shown"
    );
}

/// A strict RFC 4180 reader (CRLF record ends).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            '\n' => panic!("bare LF outside quotes"),
            c => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "ends with CRLF"
    );
    records
}

const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

fn browser() -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in BROWSERS {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            {
                return candidate;
            }
        }
    }
    panic!(
        "no browser on PATH (looked for {}): run scripts/setup.sh, which installs chromium",
        BROWSERS.join(", ")
    );
}

/// The DOM of `html` after load, as headless Chromium dumps it.
fn dump_dom(html: &Path, scratch: &Path) -> String {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let browser = browser();
    let out_path = scratch.join("dom.html");
    let err_path = scratch.join("chromium.log");
    let mut child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-dev-shm-usage",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.join("chromium-profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not finish in 120 s", browser.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        status.success() && dom.contains("</html>"),
        "{} failed ({status}):\n{dom}\n{}",
        browser.display(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    dom
}

// ---- 7. --fix ----

const FIXABLE: &str = "CREATE SCHEMA app;
CREATE TABLE app.customers (id bigint PRIMARY KEY);
CREATE TABLE app.orders (
    id bigint PRIMARY KEY,
    customer_id bigint REFERENCES app.customers (id)
);
CREATE FUNCTION app.touch_customer(p_id bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    AS $$ UPDATE app.customers SET id = id WHERE id = p_id $$;
REVOKE ALL ON FUNCTION app.touch_customer(bigint) FROM PUBLIC;
";

fn fix_findings(v: &Value) -> BTreeSet<(String, String)> {
    pairs(v)
        .into_iter()
        .filter(|(r, _)| r == "unindexed-foreign-key" || r == "security-definer-search-path")
        .collect()
}

#[test]
fn fix_writes_migrations_that_migrate_up_applies_and_the_findings_are_gone() {
    let db = TestDb::new();
    let dir = tree(PLAIN, &db.url, &[("db/schema/10_app.sql", FIXABLE)]);
    std::fs::create_dir_all(dir.path().join("db/migrations")).unwrap();
    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 0, "build --apply:\n{}", r.all_output());
    let problems = || {
        (
            query_one(
                &db.url,
                "SELECT count(*) FROM pg_index WHERE indrelid = 'app.orders'::regclass",
            ),
            query_one(
                &db.url,
                "SELECT coalesce(array_to_string(proconfig, ','), '') FROM pg_proc WHERE proname = 'touch_customer'",
            ),
        )
    };
    assert_eq!(problems(), (Some("1".into()), Some(String::new())));

    // lint --fix on the files: two migrations written, nothing run.
    let r = confiture_in(dir.path(), &["lint", "--fix"]);
    assert_eq!(r.code, 7, "{}", r.all_output());
    let expected = BTreeSet::from([
        (
            "security-definer-search-path".to_string(),
            "app.touch_customer(p_id bigint)".to_string(),
        ),
        (
            "unindexed-foreign-key".to_string(),
            "app.orders.customer_id".to_string(),
        ),
    ]);
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("db/migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let find = |suffix: &str| -> String {
        let n = names
            .iter()
            .find(|n| n.ends_with(suffix))
            .unwrap_or_else(|| panic!("no *{suffix} in {names:?}"));
        std::fs::read_to_string(dir.path().join("db/migrations").join(n)).unwrap()
    };
    assert_eq!(names.len(), 5, "{names:?}");
    let fixes = find("_lint_fixes.up.sql");
    assert!(
        fixes.contains(
            "ALTER FUNCTION \"app\".\"touch_customer\"(p_id bigint) SET search_path = pg_catalog, pg_temp;"
        ),
        "{fixes}"
    );
    assert!(find("_lint_fixes.down.sql").contains("RESET search_path"));
    let concurrently = find("_lint_fixes_concurrently.up.sql");
    assert!(
        concurrently.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_idx ON app.orders (customer_id);"),
        "{concurrently}"
    );
    assert!(find("_lint_fixes_concurrently.down.sql")
        .contains("DROP INDEX CONCURRENTLY IF EXISTS app.orders_customer_id_idx;"));
    assert!(find("_lint_fixes_concurrently.yaml").contains("transactional: false"));
    // The linter executed nothing.
    assert_eq!(problems(), (Some("1".into()), Some(String::new())));
    let v = lint_json(dir.path(), &["lint", "--live"], 7);
    assert_eq!(fix_findings(&v), expected, "{}", listing(&v));

    // migrate up applies them; the live findings are gone.
    let r = confiture_in(dir.path(), &["migrate", "up"]);
    assert_eq!(r.code, 0, "migrate up:\n{}", r.all_output());
    assert_eq!(
        problems(),
        (
            Some("2".into()),
            Some("search_path=pg_catalog, pg_temp".into())
        )
    );
    let v = lint_json(dir.path(), &["lint", "--live"], 0);
    assert!(fix_findings(&v).is_empty(), "{}", listing(&v));
    assert!(findings(&v).is_empty(), "{}", listing(&v));
    let r = confiture_in(dir.path(), &["lint", "--live", "--fix"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stderr.contains("no finding has a safe automatic fix"),
        "{}",
        r.all_output()
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join("db/migrations"))
            .unwrap()
            .count(),
        5
    );

    // Their down migrations undo them.
    let r = confiture_in(dir.path(), &["migrate", "down", "--steps", "2"]);
    assert_eq!(r.code, 0, "migrate down:\n{}", r.all_output());
    assert_eq!(problems(), (Some("1".into()), Some(String::new())));
}

// ---- 8. --list-rules, --explain ----

#[test]
fn list_rules_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let v = lint_json(dir.path(), &["lint", "--list-rules"], 0);
    let rules = v["rules"].as_array().unwrap();
    let ids: BTreeSet<String> = rules.iter().map(|r| s(&r["id"])).collect();
    assert_eq!(ids.len(), rules.len(), "ids are unique");
    for r in rules {
        assert!(
            !s(&r["id"]).is_empty() && !s(&r["category"]).is_empty(),
            "{r}"
        );
        assert!(
            ["info", "warning", "error"].contains(&s(&r["severity"]).as_str()),
            "{r}"
        );
    }
    for id in [
        "require-primary-key",
        "unindexed-foreign-key",
        "adding-volatile-default",
        "pci-cvv-stored",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    assert!(
        rules.len() >= 50,
        "--list-rules lists {} rules, at least 50 expected: {ids:?}",
        rules.len()
    );

    let r = confiture_in(dir.path(), &["lint", "--explain", "require-primary-key"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stdout
            .starts_with("require-primary-key (structure, default error)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("logically"),
        "the explanation:\n{}",
        r.stdout
    );
    let v = lint_json(dir.path(), &["lint", "--explain", "require-primary-key"], 0);
    assert_eq!(v["rule"]["id"], "require-primary-key");
    assert!(s(&v["explanation"]).len() > 100);

    for (word, hint) in [
        ("nope", "--list-rules"),
        ("requre-primary-key", "did you mean 'require-primary-key'"),
    ] {
        let v = lint_json(dir.path(), &["lint", "--explain", word], 5);
        assert_eq!(v["error"]["code"], "INPUT_001", "{v}");
        assert!(s(&v["error"]["message"]).contains(word), "{v}");
        assert!(s(&v["error"]["hint"]).contains(hint), "{v}");
    }
}
