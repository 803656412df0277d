//! The bad-configuration corpus: each case exits 5 and names file:line:column.

use crate::common::*;

/// Load `yaml` as the local environment; expect exit 5, `code`, and a `local.yaml:L:C` location.
fn expect_config_error(yaml: &[u8], code: &str, line: usize, column: usize) -> Run {
    let dir = project_with_local(yaml);
    let r = confiture_in(dir.path(), &["config", "show"]);
    assert_eq!(r.code, 5, "exit code; stderr:\n{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("error[{code}]")),
        "code {code} in:\n{}",
        r.stderr
    );
    let loc = format!("local.yaml:{line}:{column}:");
    assert!(r.stderr.contains(&loc), "expected {loc} in:\n{}", r.stderr);
    // The same failure in JSON: an envelope on stdout with the same location.
    let j = confiture_in(dir.path(), &["config", "show", "--format", "json"]);
    assert_eq!(j.code, 5);
    let v = j.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], code);
    assert_eq!(v["error"]["line"], line);
    assert_eq!(v["error"]["column"], column);
    assert!(v["error"]["file"]
        .as_str()
        .unwrap()
        .ends_with("db/environments/local.yaml"));
    r
}

#[test]
fn yaml_syntax_error_unclosed_flow_sequence() {
    expect_config_error(
        b"include_dirs: [db/schema\nname: local\n",
        "CONFIG_004",
        2,
        5,
    );
}

#[test]
fn yaml_syntax_error_bad_indentation() {
    let r = expect_config_error(
        b"migration:\n  tracking_table: x\n bad: 1\n",
        "CONFIG_004",
        3,
        5,
    );
    assert!(r.stderr.contains("invalid YAML"));
}

#[test]
fn unknown_top_level_key_suggests() {
    let r = expect_config_error(
        b"name: local\ndatabse_url: postgresql://h/db\n",
        "CONFIG_005",
        2,
        1,
    );
    assert!(
        r.stderr.contains("did you mean 'database_url'?"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_nested_key_suggests() {
    let r = expect_config_error(
        b"migration:\n  locking:\n    timeout: 5\n",
        "CONFIG_005",
        3,
        5,
    );
    assert!(
        r.stderr.contains("migration.locking.timeout"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean 'timeout_ms'?"),
        "{}",
        r.stderr
    );
}

#[test]
fn misplaced_migration_table_is_explained() {
    let r = expect_config_error(b"migration_table: tb_x\n", "CONFIG_005", 1, 1);
    assert!(r.stderr.contains("tracking_table"), "{}", r.stderr);
}

#[test]
fn wrong_type_include_dirs() {
    let r = expect_config_error(b"include_dirs: 5\n", "CONFIG_006", 1, 15);
    assert!(
        r.stderr.contains("'include_dirs' must be a list"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_type_boolean() {
    expect_config_error(
        b"migration:\n  locking:\n    enabled: sometimes\n",
        "CONFIG_006",
        3,
        14,
    );
}

#[test]
fn wrong_type_document_is_a_list() {
    expect_config_error(b"- a\n- b\n", "CONFIG_006", 1, 1);
}

#[test]
fn missing_environment_variable() {
    let r = expect_config_error(
        b"name: local\ndatabase_url: postgresql://${CONFITURE_TEST_SURELY_UNSET}/db\n",
        "CONFIG_007",
        2,
        15,
    );
    assert!(
        r.stderr.contains("CONFITURE_TEST_SURELY_UNSET"),
        "{}",
        r.stderr
    );
}

#[test]
fn malformed_variable_reference() {
    expect_config_error(
        b"database_url: postgresql://${HOST/db\n",
        "CONFIG_012",
        1,
        15,
    );
}

#[test]
fn duplicate_key() {
    let r = expect_config_error(b"name: a\ninclude_dirs: []\nname: b\n", "CONFIG_008", 3, 1);
    assert!(r.stderr.contains("first defined on line 1"), "{}", r.stderr);
}

#[test]
fn empty_file() {
    expect_config_error(b"", "CONFIG_009", 1, 1);
}

#[test]
fn comment_only_file_is_empty() {
    expect_config_error(b"# nothing here\n", "CONFIG_009", 1, 1);
}

#[test]
fn non_utf8_bytes() {
    let r = expect_config_error(
        b"name: local\ninclude_dirs: [db/sch\xe9ma]\n",
        "CONFIG_003",
        2,
        22,
    );
    assert!(r.stderr.contains("0xe9"), "{}", r.stderr);
}

#[test]
fn unreadable_file() {
    // A directory where the file should be: unreadable even for root.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("db/environments/local.yaml")).unwrap();
    let r = confiture_in(dir.path(), &["config", "show"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("error[CONFIG_002]"), "{}", r.stderr);
    assert!(r.stderr.contains("local.yaml:1:1:"), "{}", r.stderr);
}

#[test]
fn invalid_enum_value() {
    let r = expect_config_error(b"build:\n  sort_mode: random\n", "CONFIG_010", 2, 14);
    assert!(
        r.stderr.contains("alphabetical, natural, hex"),
        "{}",
        r.stderr
    );
}

#[test]
fn include_dir_without_path() {
    expect_config_error(b"include_dirs:\n  - recursive: false\n", "CONFIG_011", 2, 5);
}

#[test]
fn invalid_tracking_table_name() {
    expect_config_error(
        b"migration:\n  tracking_table: \"my table; drop\"\n",
        "CONFIG_010",
        2,
        19,
    );
}

#[test]
fn negative_timeout() {
    expect_config_error(
        b"migration:\n  locking:\n    timeout_ms: -5\n",
        "CONFIG_010",
        3,
        17,
    );
}

#[test]
fn database_url_that_is_not_a_dsn() {
    expect_config_error(b"database_url: mysql-server.local\n", "CONFIG_010", 1, 15);
}

#[test]
fn two_yaml_documents() {
    expect_config_error(b"name: a\n---\nname: b\n", "CONFIG_004", 2, 1);
}

#[test]
fn unknown_environment_lists_existing_ones() {
    let dir = project_with_local(b"name: local\n");
    let r = confiture_in(dir.path(), &["config", "show", "--env", "locl"]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("error[CONFIG_001]"), "{}", r.stderr);
    assert!(r.stderr.contains("locl.yaml"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean 'local'?"), "{}", r.stderr);
}

#[test]
fn python_tool_project_loads_unchanged() {
    let yaml = br#"name: production
database_url: postgresql://app@db.internal:5432/printoptim
include_dirs:
  - db/schema/00_common
  - path: db/schema/01_write_side
    recursive: true
    include: ["**/*.sql"]
    exclude: ["**/legacy/**"]
    order: 1
exclude_dirs:
  - db/schema/99_scratch
build:
  sort_mode: hex
  validate_comments:
    enabled: true
migration:
  tracking_table: public.tb_confiture
  strict_mode: false
  locking:
    enabled: true
    timeout_ms: 30000
seed:
  execution_mode: sequential
"#;
    let dir = project_with_local(yaml);
    let r = confiture_in(dir.path(), &["config", "show", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["environment"]["name"], "production");
    assert_eq!(
        v["environment"]["migration"]["tracking_table"],
        "public.tb_confiture"
    );
    assert_eq!(v["environment"]["include_dirs"][1]["order"], 1);
    assert_eq!(v["environment"]["build"]["sort_mode"], "hex");
}

#[test]
fn variables_expand_with_defaults() {
    let dir = project_with_local(
        b"database_url: postgresql://${CONFITURE_T_HOST:-fallback}:${CONFITURE_T_PORT}/db\n",
    );
    let r = run(confiture(dir.path())
        .env("CONFITURE_T_PORT", "6000")
        .args(["config", "show", "--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["database_url"], "postgresql://fallback:6000/db");
}
