//! Dependency ordering on in-memory trees (the applying side is tested against PostgreSQL in the
//! CLI tests).

use std::path::PathBuf;

use confiture_core::build::discover::SourceFile;
use confiture_core::build::plan::Step;
use confiture_core::build::scan;
use confiture_core::build::source::LoadedFile;
use confiture_sql::order_by_dependencies;

fn tree(files: &[(&str, &str)]) -> Vec<LoadedFile> {
    files
        .iter()
        .map(|(name, text)| LoadedFile {
            source: SourceFile {
                path: PathBuf::from(format!("/p/{name}")),
                relative: name.to_string(),
                seed: false,
            },
            text: text.to_string(),
            statements: scan::split(text).unwrap(),
            meta_commands: Vec::new(),
        })
        .collect()
}

/// The ordered statements as text (rewritten and added ones included).
fn ordered(files: &[LoadedFile]) -> Vec<String> {
    let order = order_by_dependencies(files).unwrap();
    order
        .plan
        .steps
        .iter()
        .map(|s| match s {
            Step::Original(id) => files[id.file].statement_text(id.index).to_string(),
            Step::Rewritten { sql, .. } | Step::Added { sql, .. } | Step::Inserted { sql, .. } => {
                sql.clone()
            }
        })
        .collect()
}

fn position(list: &[String], needle: &str) -> usize {
    list.iter()
        .position(|s| s.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {list:#?}"))
}

#[test]
fn foreign_keys_across_files_named_against_their_order() {
    let files = tree(&[
        ("comments.sql", "CREATE TABLE app.comments (id int PRIMARY KEY, post_id int REFERENCES app.posts(id));"),
        ("posts.sql", "CREATE TABLE app.posts (id int PRIMARY KEY, user_id int NOT NULL,\n  CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES app.users(id));"),
        ("schema.sql", "CREATE SCHEMA app;"),
        ("users.sql", "CREATE TABLE app.users (id int PRIMARY KEY);\nCOMMENT ON TABLE app.users IS 'people';"),
    ]);
    let out = ordered(&files);
    assert_eq!(out.len(), 5);
    assert!(position(&out, "CREATE SCHEMA") < position(&out, "app.users (id"));
    assert!(position(&out, "app.users (id") < position(&out, "app.posts (id"));
    assert!(position(&out, "app.posts (id") < position(&out, "app.comments"));
    assert!(position(&out, "COMMENT ON TABLE app.users") > position(&out, "app.users (id"));
}

#[test]
fn file_order_is_kept_where_the_graph_allows() {
    let files = tree(&[
        ("a.sql", "SELECT 1;\nCREATE TABLE t1 (id int);\nSELECT 2;"),
        ("b.sql", "CREATE TABLE t2 (id int);\nSELECT 3;"),
    ]);
    assert_eq!(
        ordered(&files),
        vec![
            "SELECT 1;",
            "CREATE TABLE t1 (id int);",
            "SELECT 2;",
            "CREATE TABLE t2 (id int);",
            "SELECT 3;"
        ]
    );
}

#[test]
fn seeds_come_after_their_tables_and_after_the_rows_they_reference() {
    let files = tree(&[
        ("00_seed/posts.sql", "INSERT INTO posts VALUES (1, 1);"),
        ("00_seed/users.sql", "INSERT INTO users VALUES (1);"),
        (
            "10_tables/posts.sql",
            "CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users);",
        ),
        (
            "10_tables/users.sql",
            "CREATE TABLE users (id int PRIMARY KEY);",
        ),
    ]);
    let out = ordered(&files);
    assert!(position(&out, "CREATE TABLE users") < position(&out, "CREATE TABLE posts"));
    assert!(position(&out, "CREATE TABLE posts") < position(&out, "INSERT INTO posts"));
    assert!(position(&out, "INSERT INTO users") < position(&out, "INSERT INTO posts"));
}

#[test]
fn a_foreign_key_cycle_is_broken_by_moving_one_constraint_to_the_end() {
    let files = tree(&[
        ("orgs.sql", "-- organisations\nCREATE TABLE orgs (id int PRIMARY KEY, owner_id int REFERENCES people (id) ON DELETE SET NULL);"),
        ("people.sql", "CREATE TABLE people (id int PRIMARY KEY, org_id int, CONSTRAINT people_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) DEFERRABLE);"),
    ]);
    let order = order_by_dependencies(&files).unwrap();
    assert_eq!(order.notes.len(), 1, "{:?}", order.notes);
    assert!(
        order.notes[0].starts_with("orgs.sql:2:"),
        "{:?}",
        order.notes
    );
    let out = ordered(&files);
    assert_eq!(out.len(), 3, "{out:#?}");
    assert!(
        out[0].starts_with("CREATE TABLE orgs") && !out[0].contains("REFERENCES"),
        "{}",
        out[0]
    );
    assert!(out[1].contains("people_org_fk"));
    assert_eq!(
        out[2],
        "ALTER TABLE orgs ADD CONSTRAINT orgs_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES people (id) ON DELETE SET NULL;"
    );
}

#[test]
fn a_cycle_without_foreign_keys_is_reported_with_its_objects() {
    let files = tree(&[
        ("v1.sql", "CREATE VIEW v1 AS SELECT * FROM v2;"),
        ("v2.sql", "CREATE VIEW v2 AS SELECT * FROM v1;"),
    ]);
    let err = order_by_dependencies(&files).unwrap_err();
    assert_eq!(err.code.id, "BUILD_007");
    assert!(
        err.message
            .contains("v1.sql:1 uses relation v2 defined at v2.sql:1"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("v2.sql:1 uses relation v1 defined at v1.sql:1"),
        "{}",
        err.message
    );
}

#[test]
fn functions_triggers_types_grants_and_sql_bodies() {
    let files = tree(&[
        ("0_grants.sql", "GRANT SELECT ON ALL TABLES IN SCHEMA app TO app_reader;"),
        ("1_trigger.sql", "CREATE TRIGGER t_touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch();"),
        ("2_sqlfn.sql", "CREATE FUNCTION app.item_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM app.items $$;"),
        ("3_items.sql", "CREATE TABLE app.items (id int, status app.status DEFAULT app.default_status());"),
        ("4_fn.sql", "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\nCREATE FUNCTION app.default_status() RETURNS app.status LANGUAGE sql AS 'SELECT ''new''::app.status';"),
        ("5_types.sql", "CREATE TYPE app.status AS ENUM ('new', 'done');"),
        ("6_schema.sql", "CREATE SCHEMA app;\nCREATE ROLE app_reader;"),
    ]);
    let out = ordered(&files);
    let schema = position(&out, "CREATE SCHEMA");
    let status = position(&out, "CREATE TYPE app.status");
    let default_fn = position(&out, "app.default_status() RETURNS");
    let items = position(&out, "CREATE TABLE app.items");
    assert!(
        schema < status && status < default_fn && default_fn < items,
        "{out:#?}"
    );
    assert!(items < position(&out, "app.item_count()"), "{out:#?}");
    assert!(
        position(&out, "app.touch() RETURNS") < position(&out, "CREATE TRIGGER"),
        "{out:#?}"
    );
    let grant = position(&out, "GRANT SELECT");
    assert!(
        grant > items && grant > position(&out, "CREATE ROLE"),
        "{out:#?}"
    );
}

#[test]
fn a_statement_the_grammar_rejects_names_file_and_line() {
    let files = tree(&[(
        "bad.sql",
        "CREATE TABLE ok (id int);\n\nCREATE TABLEX broken (id int);",
    )]);
    let err = order_by_dependencies(&files).unwrap_err();
    assert_eq!(err.code.id, "BUILD_008");
    assert!(
        err.message
            .starts_with("the PostgreSQL grammar rejects this statement: syntax error at or near"),
        "{}",
        err.message
    );
    assert_eq!(
        err.location.as_ref().unwrap().file,
        PathBuf::from("/p/bad.sql")
    );
    assert_eq!(err.location.as_ref().unwrap().line, Some(3));
}
