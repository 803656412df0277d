//! `confiture build` on files the statement splitter must read as `psql` does: meta-commands,
//! `COPY … FROM stdin` data, `\r` line endings, byte-order marks, unclosed parentheses and
//! routine bodies.

use std::path::Path;

use confiture_testkit::{query_one, FreshDatabase};

use crate::common::*;

/// The statement count of an offline `build --format json` that must succeed.
fn statement_count(dir: &Path) -> serde_json::Value {
    let r = confiture_in(dir, &["build", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    r.json()["statements"].clone()
}

#[test]
fn psql_meta_commands_are_not_part_of_any_statement() {
    let db = FreshDatabase::new();
    // As pg_dump 15.18+ writes it, with a psql setting and an indented meta-command.
    let dump = "--\n-- PostgreSQL database dump\n--\n\n\\restrict aB3xYz\n\n\\set ON_ERROR_STOP on\nCREATE TABLE users (id int PRIMARY KEY);\n  \\echo loaded users\nCOMMENT ON TABLE users IS 'people';\n\n\\unrestrict aB3xYz\n";
    let dir = tree(PLAIN, &db.url, &[("db/schema/users.sql", dump)]);
    assert_eq!(statement_count(dir.path()), 2);

    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(
        r.stdout.contains("warning: db/schema/users.sql:9: psql meta-command `\\echo loaded users` is kept in the output but not run by --apply"),
        "{}",
        r.stdout
    );
    let comment = query_one(
        &db.url,
        "SELECT obj_description('users'::regclass, 'pg_class')",
    );
    assert_eq!(comment.as_deref(), Some("people"));
}

#[test]
fn copy_from_stdin_data_lines_are_not_sql() {
    // Data with quotes and semicolons that would open a string or end statements if read as SQL.
    let data = "CREATE TABLE t (a int, b text);\nCOPY public.t (a, b) FROM stdin;\n1\tit's; fine\n2\t\"x\n\\.\nSELECT 1;\n";
    let db = FreshDatabase::new();
    let dir = tree(PLAIN, &db.url, &[("db/schema/data.sql", data)]);
    assert_eq!(statement_count(dir.path()), 3);
    // --apply cannot send the data (only psql can): refused before anything runs.
    let r = confiture_in(dir.path(), &["build", "--apply"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(
        r.stderr.contains("error[BUILD_012]")
            && r.stderr.contains("data.sql:2:1: COPY … FROM stdin"),
        "{}",
        r.stderr
    );
    assert!(!confiture_testkit::database_exists(&db.name));

    let dir = tree(
        PLAIN,
        "",
        &[
            ("db/schema/a.sql", "SELECT 0;"),
            (
                "db/schema/data.sql",
                "SELECT 1;\nCOPY t FROM STDIN;\n1\n2\n",
            ),
        ],
    );
    assert_bad_input(
        dir.path(),
        "BUILD_005",
        "data.sql:2:1: the file ends inside the data of the COPY … FROM STDIN at line 2, column 1: no line \\. ends it",
    );
}

#[test]
fn carriage_return_line_endings_end_comments_and_count_lines() {
    let db = FreshDatabase::new();
    // Classic Mac line endings: the first comment must not swallow the file.
    let dir = tree(
        PLAIN,
        &db.url,
        &[(
            "db/schema/cr.sql",
            "-- users\rCREATE TABLE users (id int);\r\rSELECT missing FROM users;\r",
        )],
    );
    let r = confiture_in(dir.path(), &["build", "--apply", "--format", "json"]);
    assert_eq!(r.code, 4, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], "BUILD_009", "{e}");
    assert_eq!(e["line"], 4, "{e}");
    assert_eq!(e["column"], 8, "{e}");

    let dir = tree(
        PLAIN,
        "",
        &[(
            "db/schema/cr.sql",
            "SELECT 1;\r\nSELECT 2;\rSELECT 'oops;\r",
        )],
    );
    assert_bad_input(
        dir.path(),
        "BUILD_005",
        "cr.sql:3:8: the file ends inside a quoted string '…' opened at line 3, column 8",
    );
}

#[test]
fn a_byte_order_mark_does_not_shift_columns_on_line_one() {
    let db = FreshDatabase::new();
    let dir = tree(
        PLAIN,
        &db.url,
        &[("db/schema/bom.sql", "\u{feff}SELECT missing;\n")],
    );
    let r = confiture_in(dir.path(), &["build", "--apply", "--format", "json"]);
    assert_eq!(r.code, 4, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], "BUILD_009", "{e}");
    assert_eq!(
        (e["line"].clone(), e["column"].clone()),
        (1.into(), 8.into())
    );

    let dir = tree(
        PLAIN,
        "",
        &[("db/schema/bom.sql", "\u{feff}SELECT 'oops;\n")],
    );
    assert_bad_input(
        dir.path(),
        "BUILD_005",
        "bom.sql:1:8: the file ends inside a quoted string '…' opened at line 1, column 8",
    );
}

#[test]
fn an_unclosed_parenthesis_or_routine_body_is_named_where_it_opens() {
    let cases = [
        (
            "SELECT 1;\nCREATE TABLE t (\n  a int,\n  b numeric(10, 2);\n",
            "open.sql:2:16: the file ends inside a parenthesis ( … ) opened at line 2, column 16",
        ),
        (
            "CREATE FUNCTION one() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n",
            "open.sql:2:1: the file ends inside a routine body BEGIN ATOMIC … END opened at line 2, column 1",
        ),
    ];
    for (content, needle) in cases {
        let dir = tree(
            PLAIN,
            "",
            &[
                ("db/schema/a.sql", "SELECT 0;"),
                ("db/schema/open.sql", content),
            ],
        );
        assert_bad_input(dir.path(), "BUILD_005", needle);
    }
}
