//! COPY rewriting against a real server: `COPY … TO STDOUT` from one table, through a
//! [`Rewriter`], `COPY … FROM STDIN` into another, in binary and text format.

use std::pin::pin;
use std::time::Instant;

use bytes::Bytes;
use confiture_pg::copy::{encode, BinaryType, Counter, Format, Layout, Rewriter};
use confiture_testkit::TestDb;
use futures_util::{SinkExt, StreamExt};
use tokio_postgres::Client;

/// The source session settings `confiture sync` uses.
const SESSION: &str = "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO'; SET TimeZone = 'UTC';
    SET extra_float_digits = 3; SET IntervalStyle = 'postgres';";

const SCHEMA: &str = r#"
CREATE EXTENSION citext;
CREATE TYPE mood AS ENUM ('happy', 'sad', 'with space');
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
CREATE TABLE a (
    id integer PRIMARY KEY,
    t text, vc varchar(20), ch char(5), nm name, ci citext,
    u uuid, i2 smallint, i4 integer, i8 bigint, b boolean,
    f4 real, f8 double precision, n numeric, n4 numeric(12,4),
    d date, ts timestamp, tstz timestamptz, ts3 timestamp(3) with time zone,
    j json, jb jsonb, ip inet, net cidr, m mood, e email
);
CREATE TABLE b (LIKE a INCLUDING ALL);

INSERT INTO a VALUES
(1, 'hello', 'varchar', 'ab', 'a_name', 'CiText',
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1, 2, 3, true,
 1.5, 0.1, 123.456, 1.5,
 '2024-03-05', '2024-03-05 12:34:56.123456', '2024-03-05 12:34:56.123456+05:30',
 '2024-03-05 12:34:56.789+00',
 '{"a": [1, 2, {"b": null}], "k": "v"}', '{"nested": {"deep": [1, "x", true, 1.50]}, "u": "é\t"}',
 '192.168.1.5/24', '10.0.0.0/8', 'happy', 'x@example.com'),
(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(3, E'tab\there\nnewline\\backslash\r cr ünï 日本 😀 \\N \\.', E'\\N', ' ', 'Ünï', E'a\tb',
 'ffffffff-ffff-ffff-ffff-ffffffffffff', -32768, -2147483648, -9223372036854775808, false,
 'NaN', '-Infinity', '-123456789.987654321', '-0.0001',
 '-infinity', 'infinity', '-infinity', 'infinity',
 E'"str\\twith tab"', '[]', '::1', '2001:db8::/32', 'with space', E'a\\b@c'),
(4, '', '', '', '', '',
 '00000000-0000-0000-0000-000000000000', 32767, 2147483647, 9223372036854775807, true,
 'Infinity', 'NaN', 'NaN', '0',
 '0044-03-15 BC', '0044-03-15 12:00:00 BC', '4714-11-24 00:00:00+00 BC', '1800-01-01 00:00:00+05:53:28',
 'null', 'null', '::ffff:1.2.3.4', '0.0.0.0/0', 'sad', '@'),
(5, 'x', 'y', 'abcde', 'z', 'Z',
 '123e4567-e89b-12d3-a456-426614174000', 0, 0, 0, false,
 3.4028235e38, 1e-310, 'Infinity', '99999999.9999',
 '5874897-12-31', '294276-12-31 23:59:59.999999', '2000-01-01 00:00:00+14', '1999-12-31 23:59:59.999+00',
 '{"deep": {"a": {"b": {"c": [[[]]]}}}}', '{"n": -0.000001, "big": 12345678901234567890, "s": "\\\"q\\\""}',
 'fe80::1/10', 'fe80::/10', 'with space', 'y@z'),
(6, 'x', 'y', 'z', 'z', 'z',
 '123e4567-e89b-12d3-a456-426614174001', -1, -1, -1, true,
 -0.0, 1.7976931348623157e308, '-Infinity', '0.0001',
 '1970-01-01', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '2024-02-29 23:59:59.999-12:00',
 '1.5', '-1.5e3', '255.255.255.255', '255.255.255.255/32', 'happy', 'w@w'),
(7, repeat('long ', 2000), 'y', 'z', 'z', 'z',
 NULL, NULL, NULL, NULL, NULL,
 1e-45, -2.2250738585072014e-308, '1e-20', '-99999999.9999',
 '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00+00', NULL,
 NULL, NULL, NULL, NULL, NULL, NULL);
"#;

/// Columns of `table` in order, each with its encoder (enums as text, domains as their base).
async fn columns(client: &Client, table: &str) -> Vec<(String, BinaryType)> {
    let rows = client
        .query(
            "SELECT a.attname::text,
                    format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, NULL),
                    t.typtype = 'e'
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            &[&table],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let name: String = r.get(0);
            let ty: String = r.get(1);
            let is_enum: bool = r.get(2);
            let bt = if is_enum {
                BinaryType::Text
            } else {
                BinaryType::of(&ty).unwrap_or_else(|| panic!("no encoder for {ty}"))
            };
            (name, bt)
        })
        .collect()
}

type Transform<'t> = dyn FnMut(&[Option<&str>], &[Option<&str>], &mut Vec<Option<String>>) -> Result<(), String>
    + Send
    + 't;

/// Streams `out_sql` from `src` through a rewriter into `in_sql` on `dst`; returns the rows
/// the rewriter counted (checked against the server's count). Each chunk is also cut in two
/// to exercise tuples that straddle chunks.
async fn pipe(
    src: &Client,
    dst: &Client,
    out_sql: &str,
    in_sql: &str,
    format: Format,
    layout: Layout,
    transform: &mut Transform<'_>,
) -> u64 {
    let mut stream = pin!(src.copy_out(out_sql).await.expect("copy out"));
    let mut sink = pin!(dst.copy_in::<_, Bytes>(in_sql).await.expect("copy in"));
    let mut rw = Rewriter::new(format, layout);
    let mut buf = Vec::with_capacity(1 << 16);
    let mut k = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("copy out chunk");
        k += 1;
        let (a, b) = chunk.split_at((k * 7) % (chunk.len() + 1));
        rw.feed(a, &mut buf, transform).expect("rewrite");
        rw.feed(b, &mut buf, transform).expect("rewrite");
        if buf.len() >= 1 << 15 {
            let full = std::mem::replace(&mut buf, Vec::with_capacity(1 << 16));
            sink.send(Bytes::from(full)).await.expect("send");
        }
    }
    rw.finish(&mut buf).expect("finish");
    sink.send(Bytes::from(buf)).await.expect("send");
    let n = sink.as_mut().finish().await.expect("copy in finish");
    assert_eq!(n, rw.tuples());
    n
}

fn identity(
    rep: &[Option<&str>],
    _: &[Option<&str>],
    new: &mut Vec<Option<String>>,
) -> Result<(), String> {
    new.extend(rep.iter().map(|v| v.map(str::to_string)));
    Ok(())
}

/// Rows of `a` not in `b` and of `b` not in `a`, compared as row text.
async fn differences(client: &Client) -> (i64, i64) {
    let one = |sql: &'static str| async move {
        client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0)
    };
    (
        one("SELECT count(*) FROM (SELECT x::text FROM a x EXCEPT SELECT y::text FROM b y) d")
            .await,
        one("SELECT count(*) FROM (SELECT y::text FROM b y EXCEPT SELECT x::text FROM a x) d")
            .await,
    )
}

async fn setup() -> (TestDb, Client, Client) {
    let db = TestDb::new();
    let src = db.client().await;
    src.batch_execute(SCHEMA).await.expect("schema");
    src.batch_execute(SESSION).await.unwrap();
    let dst = db.client().await;
    dst.batch_execute(SESSION).await.unwrap();
    (db, src, dst)
}

async fn identity_round_trip(format: Format) {
    let (_db, src, dst) = setup().await;
    let cols = columns(&src, "a").await;
    let select: Vec<String> = cols.iter().map(|(c, _)| format!("{c}::text")).collect();
    let fmt = match format {
        Format::Binary => "binary",
        Format::Text => "text",
    };
    let layout = Layout {
        output_fields: cols.len(),
        replaced: cols.iter().enumerate().map(|(i, (_, t))| (i, *t)).collect(),
        context_fields: 0,
    };
    let n = pipe(
        &src,
        &dst,
        &format!(
            "COPY (SELECT {} FROM a) TO STDOUT (FORMAT {fmt})",
            select.join(", ")
        ),
        &format!("COPY b FROM STDIN (FORMAT {fmt})"),
        format,
        layout,
        &mut identity,
    )
    .await;
    assert_eq!(n, 7);
    assert_eq!(differences(&src).await, (0, 0));
    let count: i64 = src
        .query_one("SELECT count(*) FROM b", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 7);
}

#[tokio::test]
async fn every_type_round_trips_through_binary_encoders() {
    identity_round_trip(Format::Binary).await;
}

#[tokio::test]
async fn every_type_round_trips_through_text() {
    identity_round_trip(Format::Text).await;
}

#[tokio::test]
async fn an_untouched_table_is_forwarded_and_counted() {
    let (_db, src, dst) = setup().await;
    for fmt in ["binary", "text"] {
        dst.batch_execute("TRUNCATE b").await.unwrap();
        let format = if fmt == "binary" {
            Format::Binary
        } else {
            Format::Text
        };
        let mut stream = pin!(src
            .copy_out(&format!("COPY a TO STDOUT (FORMAT {fmt})"))
            .await
            .unwrap());
        let mut sink = pin!(dst
            .copy_in::<_, Bytes>(&format!("COPY b FROM STDIN (FORMAT {fmt})"))
            .await
            .unwrap());
        let mut counter = Counter::new(format, 25);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            counter.feed(&chunk).unwrap();
            sink.send(chunk).await.unwrap();
        }
        counter.finish().unwrap();
        assert_eq!(sink.as_mut().finish().await.unwrap(), 7);
        assert_eq!(counter.tuples(), 7);
        assert_eq!(differences(&src).await, (0, 0), "{fmt}");
    }
}

/// id, name, email, age, score.
type Person = (
    i32,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<String>,
);

#[tokio::test]
async fn a_transform_changes_values_read_from_context_columns() {
    let db = TestDb::new();
    let src = db.client().await;
    src.batch_execute(
        "CREATE TABLE people (id int, name text, email text, age int, score numeric(6,2),
                              is_internal boolean, team text);
         CREATE TABLE people_out (id int, name text, email text, age int, score numeric(6,2));
         INSERT INTO people VALUES
           (1, 'alice', 'alice@corp.example', 30, 1.5, true, 'core'),
           (2, 'bob', 'bob@mail.example', 41, -2.25, false, NULL),
           (3, E'tab\\there', NULL, NULL, NULL, true, 'x\\ny'),
           (4, NULL, 'd@e.example', 7, 0, NULL, 'ops');",
    )
    .await
    .unwrap();
    src.batch_execute(SESSION).await.unwrap();
    let dst = db.client().await;
    for (fmt, format) in [("binary", Format::Binary), ("text", Format::Text)] {
        dst.batch_execute("TRUNCATE people_out").await.unwrap();
        let layout = Layout {
            output_fields: 5,
            replaced: vec![
                (1, BinaryType::Text),
                (2, BinaryType::Text),
                (3, BinaryType::Int4),
            ],
            context_fields: 2,
        };
        let mut transform = |rep: &[Option<&str>],
                             ctx: &[Option<&str>],
                             new: &mut Vec<Option<String>>|
         -> Result<(), String> {
            let internal = ctx[0] == Some("true");
            new.push(match (rep[0], internal) {
                (Some(n), true) => Some(format!("{}@{}", n.to_uppercase(), ctx[1].unwrap_or("-"))),
                (n, _) => n.map(str::to_string),
            });
            new.push(rep[1].map(|_| "redacted@example.com".to_string()));
            new.push(match rep[2] {
                Some(a) => Some((a.parse::<i32>().map_err(|e| e.to_string())? + 1).to_string()),
                None => None,
            });
            Ok(())
        };
        let n = pipe(
            &src,
            &dst,
            &format!(
                "COPY (SELECT id, name::text, email::text, age::text, score, is_internal::text, team
                       FROM people ORDER BY id) TO STDOUT (FORMAT {fmt})"
            ),
            &format!("COPY people_out FROM STDIN (FORMAT {fmt})"),
            format,
            layout,
            &mut transform,
        )
        .await;
        assert_eq!(n, 4);
        let rows = dst
            .query(
                "SELECT id, name, email, age, score::text FROM people_out ORDER BY id",
                &[],
            )
            .await
            .unwrap();
        let got: Vec<Person> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            got,
            [
                (
                    1,
                    s("ALICE@core"),
                    s("redacted@example.com"),
                    Some(31),
                    s("1.50")
                ),
                (2, s("bob"), s("redacted@example.com"), Some(42), s("-2.25")),
                (3, s("TAB\tHERE@x\\ny"), None, None, None),
                (4, None, s("redacted@example.com"), Some(8), s("0.00")),
            ],
            "{fmt}"
        );
    }
}

/// Every encoder gives the bytes of the type's own send function, for the text the server
/// prints.
#[tokio::test]
async fn encoders_match_the_send_functions() {
    let db = TestDb::new();
    let client = db.client().await;
    client.batch_execute(SESSION).await.unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        ("text", "textsend", &["", "héllo\tw", "日本 😀"]),
        ("varchar", "varcharsend", &["v"]),
        ("bpchar", "bpcharsend", &["ab"]),
        ("name", "namesend", &["a_name"]),
        (
            "uuid",
            "uuid_send",
            &[
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                "{A0EEBC999C0B4EF8BB6D6BB9BD380A11}",
            ],
        ),
        ("int2", "int2send", &["0", "-32768", "32767", " 12 "]),
        ("int4", "int4send", &["-2147483648", "2147483647", "+5"]),
        (
            "int8",
            "int8send",
            &["-9223372036854775808", "9223372036854775807"],
        ),
        ("bool", "boolsend", &["t", "f", "yes", "off"]),
        (
            "float4",
            "float4send",
            &[
                "0",
                "-0",
                "1.1",
                "3.4028235e38",
                "1e-45",
                "NaN",
                "Infinity",
                "-Infinity",
                "0.1",
                "123456.789",
            ],
        ),
        (
            "float8",
            "float8send",
            &[
                "0",
                "-0",
                "0.1",
                "1e-310",
                "1.7976931348623157e308",
                "NaN",
                "-Infinity",
                "3.141592653589793",
                "1e22",
                "2.5e-5",
            ],
        ),
        (
            "numeric",
            "numeric_send",
            &[
                "0",
                "-0",
                "0.00",
                "1",
                "-1",
                "9999",
                "10000",
                "12345.6780",
                "-123456789.987654321",
                "0.0001",
                "0.00001",
                "1e-5",
                "-1.5e3",
                "1e100",
                "1e-100",
                "NaN",
                "123.4500",
                "99999999.99",
                "0.1234567890123456789",
                "-0.000001",
                "100000000",
                "1.000000001",
                "12345678901234567890.0987654321",
            ],
        ),
        (
            "date",
            "date_send",
            &[
                "2000-01-01",
                "1970-01-01",
                "2024-02-29",
                "0044-03-15 BC",
                "4714-11-24 BC",
                "5874897-12-31",
                "infinity",
                "-infinity",
            ],
        ),
        (
            "timestamp",
            "timestamp_send",
            &[
                "2000-01-01 00:00:00",
                "2024-03-05 12:34:56.123456",
                "1969-12-31 23:59:59.999999",
                "0044-03-15 12:00:00 BC",
                "294276-12-31 23:59:59.999999",
                "4714-11-24 00:00:00 BC",
                "infinity",
                "-infinity",
            ],
        ),
        (
            "timestamptz",
            "timestamptz_send",
            &[
                "2024-03-05 12:34:56.123456+05:30",
                "2024-03-05 12:34:56-08",
                "1800-01-01 00:00:00+00",
                "0044-03-15 12:00:00+00 BC",
                "infinity",
                "-infinity",
            ],
        ),
        ("json", "json_send", &["{\"a\": [1, 2]}", "null"]),
        (
            "jsonb",
            "jsonb_send",
            &["{\"a\": [1, 2, {\"b\": null}]}", "[]", "\"x\\ty\""],
        ),
        (
            "inet",
            "inet_send",
            &[
                "1.2.3.4",
                "192.168.1.5/24",
                "::1",
                "::1/64",
                "2001:db8::1/48",
                "::ffff:1.2.3.4",
                "0.0.0.0/0",
            ],
        ),
        (
            "cidr",
            "cidr_send",
            &[
                "10.0.0.0/8",
                "192.168.1.128/25",
                "2001:db8::/32",
                "0.0.0.0/0",
                "::/0",
                "1.2.3.4/32",
            ],
        ),
    ];
    let mut checked = 0;
    for (ty, send, values) in cases {
        let bt = BinaryType::of(ty).unwrap();
        for v in *values {
            let row = client
                .query_one(
                    &format!("SELECT v::text, {send}(v) FROM (SELECT $1::text::{ty} AS v) s"),
                    &[v],
                )
                .await
                .unwrap_or_else(|e| panic!("{ty} {v}: {e}"));
            let text: String = row.get(0);
            let want: Vec<u8> = row.get(1);
            for input in [v, &text.as_str()] {
                let mut got = Vec::new();
                bt.encode(input, &mut got)
                    .unwrap_or_else(|e| panic!("{ty} {input}: {e}"));
                assert_eq!(got, want, "{ty} {input:?} (printed {text:?})");
            }
            checked += 1;
        }
    }
    // numeric ±Infinity: numeric_send writes a display scale of 32 (bits of its packed
    // header); any scale is accepted back, ours is 0.
    for (v, sign) in [("Infinity", 0xD0u8), ("-Infinity", 0xF0)] {
        let row = client
            .query_one("SELECT numeric_send($1::text::numeric)", &[&v])
            .await
            .unwrap();
        let want: Vec<u8> = row.get(0);
        let mut got = Vec::new();
        encode::BinaryType::Numeric.encode(v, &mut got).unwrap();
        assert_eq!(got, [0, 0, 0, 0, sign, 0, 0, 0]);
        assert_eq!(want[..6], got[..6]);
    }
    assert!(checked > 90);
}

/// 200,000 rows through a rewriter that replaces two of six columns, against a plain
/// pass-through pipe. Prints the times; run with
/// `cargo test --release -p confiture-pg --test copy -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn rewriting_timing() {
    let db = TestDb::new();
    let src = db.client().await;
    src.batch_execute(
        "CREATE TABLE big (id bigint, email text, name text, created timestamptz, amount numeric(12,2), note text);
         CREATE TABLE big_out (LIKE big);
         INSERT INTO big SELECT g, 'user' || g || '@example.com', 'Name ' || g, now() - g * interval '1 minute',
                                g * 1.25, repeat('n', 40) FROM generate_series(1, 200000) g;",
    )
    .await
    .unwrap();
    src.batch_execute(SESSION).await.unwrap();
    let dst = db.client().await;
    let start = Instant::now();
    let layout = Layout {
        output_fields: 6,
        replaced: vec![(1, BinaryType::Text), (2, BinaryType::Text)],
        context_fields: 0,
    };
    let mut transform =
        |rep: &[Option<&str>], _: &[Option<&str>], new: &mut Vec<Option<String>>| {
            new.extend(rep.iter().map(|v| v.map(|s| s.to_uppercase())));
            Ok(())
        };
    let n = pipe(
        &src,
        &dst,
        "COPY (SELECT id, email::text, name::text, created, amount, note FROM big) TO STDOUT (FORMAT binary)",
        "COPY big_out FROM STDIN (FORMAT binary)",
        Format::Binary,
        layout,
        &mut transform,
    )
    .await;
    println!("rewrite: {n} rows in {:?}", start.elapsed());
    dst.batch_execute("TRUNCATE big_out").await.unwrap();
    let start = Instant::now();
    let n = pipe(
        &src,
        &dst,
        "COPY big TO STDOUT (FORMAT binary)",
        "COPY big_out FROM STDIN (FORMAT binary)",
        Format::Binary,
        Layout::passthrough(6),
        &mut identity,
    )
    .await;
    println!("passthrough: {n} rows in {:?}", start.elapsed());
}
