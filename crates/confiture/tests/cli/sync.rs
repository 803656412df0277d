//! `confiture sync` and `confiture anonymize validate|verify` against real PostgreSQL: no
//! original value of an anonymized column reaches the target, foreign keys stay joinable
//! through deterministic hashes, the source is never written, a killed sync resumes, strict
//! mode stops before writing, and the error exits (profile, target mismatch, unsafe plan,
//! foreign checkpoint).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use confiture_testkit::{query, query_one, TestDb};
use serde_json::Value;

use crate::common::*;

// ---- helpers ----

const SALT: &str = "sync-tests-7d1e4c";

/// A project whose `local` environment is `src`, and a target database `dst`.
struct Pair {
    src: TestDb,
    dst: TestDb,
    dir: tempfile::TempDir,
}

impl Pair {
    /// `schema` in both databases, `data` in the source only.
    fn new(schema: &str, data: &str) -> Pair {
        let src = TestDb::new();
        let dst = TestDb::new();
        exec(&src.url, schema);
        exec(&src.url, data);
        exec(&dst.url, schema);
        let dir = project_with_local(format!("database_url: {}\n", src.url).as_bytes());
        Pair { src, dst, dir }
    }

    /// `schema` in the source (with `data`), `target_schema` in the target.
    fn with_target(schema: &str, data: &str, target_schema: &str) -> Pair {
        let src = TestDb::new();
        let dst = TestDb::new();
        exec(&src.url, schema);
        exec(&src.url, data);
        exec(&dst.url, target_schema);
        let dir = project_with_local(format!("database_url: {}\n", src.url).as_bytes());
        Pair { src, dst, dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Write `db/anonymization/NAME.yaml`; returns its path.
    fn profile(&self, name: &str, yaml: &str) -> PathBuf {
        let rel = format!("db/anonymization/{name}.yaml");
        write(self.root(), &rel, yaml.as_bytes());
        self.root().join(rel)
    }

    /// The binary in the project, with the profile salt set.
    fn cmd(&self) -> Command {
        let mut cmd = confiture(self.root());
        cmd.env("ANON_SALT", SALT);
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.cmd().args(args))
    }

    /// `confiture sync --from SRC --to TO EXTRA --format json`.
    fn sync_to(&self, to: &str, extra: &[&str]) -> Run {
        let mut args = vec!["sync", "--from", &self.src.url, "--to", to];
        args.extend_from_slice(extra);
        args.extend(["--format", "json"]);
        self.run(&args)
    }

    fn sync(&self, extra: &[&str]) -> Run {
        self.sync_to(&self.dst.url, extra)
    }

    /// A sync into the target that must succeed; its report.
    fn sync_ok(&self, extra: &[&str]) -> Value {
        let r = self.sync(extra);
        assert_eq!(r.code, 0, "sync {extra:?}:\n{}", r.all_output());
        let v = r.json();
        assert_eq!(v["ok"], true, "{v}");
        v
    }

    /// A sync into the target that must fail with exit `exit` and `code`; the error object.
    fn sync_err(&self, extra: &[&str], exit: i32, code: &str) -> Value {
        let r = self.sync(extra);
        assert_eq!(r.code, exit, "sync {extra:?}:\n{}", r.all_output());
        let e = r.json()["error"].clone();
        assert_eq!(e["code"], code, "{e}");
        e
    }

    /// `confiture sync ... ` in text mode (errors and warnings readable on stderr/stdout).
    fn sync_text(&self, extra: &[&str]) -> Run {
        let mut args = vec!["sync", "--from", &self.src.url, "--to", &self.dst.url];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

/// Run `sql` (several statements allowed) on `url`.
fn exec(url: &str, sql: &str) {
    if !sql.trim().is_empty() {
        query(url, sql);
    }
}

fn one(url: &str, sql: &str) -> String {
    query_one(url, sql).unwrap_or_else(|| panic!("NULL from {sql}"))
}

fn count(url: &str, table: &str) -> i64 {
    one(url, &format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

/// The first column of every row.
fn column(url: &str, sql: &str) -> Vec<Option<String>> {
    query(url, sql).into_iter().map(|r| r[0].clone()).collect()
}

/// An order-independent checksum of a table's (or a select list's) rows.
fn checksum(url: &str, table: &str) -> String {
    one(
        url,
        &format!(
            "SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), 'empty') FROM {table} t"
        ),
    )
}

/// Checksum of `select` (a query) over its rows.
fn checksum_of(url: &str, select: &str) -> String {
    one(
        url,
        &format!(
            "SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), 'empty') FROM ({select}) t"
        ),
    )
}

/// Every user table of the database (`schema.table`).
fn user_tables(url: &str) -> Vec<String> {
    column(
        url,
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables \
         WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    .into_iter()
    .map(Option::unwrap)
    .collect()
}

/// The whole data of the database as text: every row of every user table.
fn dump(url: &str) -> String {
    let mut all = String::new();
    for t in user_tables(url) {
        let text = one(
            url,
            &format!("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {t} t"),
        );
        all.push_str(&text);
        all.push('\n');
    }
    all
}

/// Needles of one length: a bitmap prefilter of their hashes, and the needles by hash.
type Bucket<'a> = (Vec<u64>, HashMap<u64, Vec<&'a str>>);

/// The needles that occur in `haystack` as exact substrings (Rabin–Karp per needle length,
/// with a bitmap prefilter: fast enough in a debug build for thousands of needles).
fn occurring<'a>(haystack: &str, needles: &'a [String]) -> Vec<&'a str> {
    const B: u64 = 1_000_003;
    const BITS: u32 = 22;
    let hash = |s: &[u8]| {
        s.iter()
            .fold(0u64, |a, &c| a.wrapping_mul(B).wrapping_add(u64::from(c)))
    };
    let h = haystack.as_bytes();
    let mut by_len: BTreeMap<usize, Bucket<'a>> = BTreeMap::new();
    for n in needles.iter().filter(|n| !n.is_empty()) {
        let x = hash(n.as_bytes());
        let (bitmap, table) = by_len
            .entry(n.len())
            .or_insert_with(|| (vec![0u64; 1 << (BITS - 6)], HashMap::new()));
        let bit = (x >> (64 - BITS)) as usize;
        bitmap[bit >> 6] |= 1 << (bit & 63);
        table.entry(x).or_default().push(n);
    }
    let mut found = BTreeSet::new();
    for (&len, (bitmap, table)) in &by_len {
        if len > h.len() {
            continue;
        }
        let top = (1..len).fold(1u64, |a, _| a.wrapping_mul(B));
        let mut x = hash(&h[..len]);
        for i in 0..=h.len() - len {
            if i > 0 {
                x = x
                    .wrapping_sub(u64::from(h[i - 1]).wrapping_mul(top))
                    .wrapping_mul(B)
                    .wrapping_add(u64::from(h[i + len - 1]));
            }
            let bit = (x >> (64 - BITS)) as usize;
            if bitmap[bit >> 6] & (1 << (bit & 63)) == 0 {
                continue;
            }
            if let Some(candidates) = table.get(&x) {
                for n in candidates {
                    if &h[i..i + len] == n.as_bytes() {
                        found.insert(*n);
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

/// The report's `tables`, by name.
fn by_table(report: &Value) -> BTreeMap<String, Value> {
    report["tables"]
        .as_array()
        .unwrap_or_else(|| panic!("no tables in {report}"))
        .iter()
        .map(|t| (t["table"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

/// `column -> strategy` of a table entry of the report.
fn anonymized(entry: &Value) -> BTreeMap<String, String> {
    entry["anonymized"]
        .as_array()
        .unwrap_or_else(|| panic!("no anonymized list in {entry}"))
        .iter()
        .map(|c| {
            (
                c["column"].as_str().unwrap().to_string(),
                c["strategy"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the profile")) as u64
        + 1
}

// ---- the shop: tenants, users (personal data), orders ----

const SHOP: &str = "
CREATE TABLE tenants (id int PRIMARY KEY, plan text NOT NULL);
CREATE TABLE users (
    id uuid PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES tenants,
    email text NOT NULL,
    phone text,
    first_name text,
    last_name text,
    ssn text,
    created_at timestamptz NOT NULL
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users,
    tenant_id int NOT NULL,
    note text
);
CREATE TABLE audit_log (id serial PRIMARY KEY, action text NOT NULL);
";

/// 5 tenants, 2,000 users with distinct personal data (every 50th phone NULL; `created_at`
/// distinct, so that source and target users can be matched), 5,000 orders spread unevenly
/// (users with 0 to several orders), 300 audit rows.
const SHOP_DATA: &str = "
INSERT INTO tenants SELECT g, (ARRAY['free', 'pro', 'enterprise'])[1 + g % 3] FROM generate_series(1, 5) g;
INSERT INTO users
SELECT md5('user-' || g)::uuid,
       1 + g % 5,
       'user' || g || '@corp.example',
       CASE WHEN g % 50 = 0 THEN NULL ELSE '+44-20-7' || lpad((g * 7919 % 1000000)::text, 6, '0') END,
       (ARRAY['Wilhelmina', 'Bartholomew', 'Evangeline', 'Maximilian', 'Philippa', 'Cornelius', 'Rosalind'])[1 + g % 7] || g,
       (ARRAY['Featherstone', 'Blackwood', 'Ashcombe', 'Thistlewood', 'Hargreaves'])[1 + g % 5] || g,
       lpad((100 + g % 800)::text, 3, '0') || '-' || lpad((10 + g % 90)::text, 2, '0') || '-' || lpad(g::text, 4, '0'),
       timestamptz '2023-01-01 00:00:00+00' + g * interval '37 minutes'
FROM generate_series(1, 2000) g;
INSERT INTO orders (user_id, tenant_id, note)
SELECT md5('user-' || (1 + (g * g) % 2000))::uuid, 1 + (1 + (g * g) % 2000) % 5, 'order ' || g
FROM generate_series(1, 5000) g;
INSERT INTO audit_log (action) SELECT (ARRAY['login', 'logout', 'export'])[1 + g % 3] FROM generate_series(1, 300) g;
";

/// The profile that covers every personal column of the shop.
const QA: &str = r#"anonymization_profile: qa
salt: ${ANON_SALT}
strict: true
immutable: [tenant_id]
strategies:
  email_mask: {type: email_masking, keep_domain: true, prefix: "qa+"}
  id_hash: {type: deterministic_hash}
rules:
  - table: users
    columns:
      id: {strategy: id_hash}
      email: {strategy: email_mask}
      phone: phone
      first_name: first_name
      last_name: last_name
      ssn: {type: pattern_masking, pattern: "***-**-####"}
      tenant_id: {strategy: none}
  - table: orders
    columns:
      user_id: {strategy: id_hash}
      note: preserve
"#;

fn shop() -> Pair {
    Pair::new(SHOP, SHOP_DATA)
}

fn shop_with_qa() -> Pair {
    let p = shop();
    p.profile("qa", QA);
    p
}

/// A row in the target that a sync refused before writing must leave in place.
fn put_marker(p: &Pair) {
    exec(
        &p.dst.url,
        "INSERT INTO tenants VALUES (999, 'marker'); INSERT INTO audit_log (id, action) VALUES (999, 'marker')",
    );
}

fn assert_marker_kept(p: &Pair) {
    assert_eq!(
        one(
            &p.dst.url,
            "SELECT (SELECT count(*) FROM tenants WHERE id = 999 AND plan = 'marker') || ',' || \
                    (SELECT count(*) FROM audit_log WHERE id = 999 AND action = 'marker') || ',' || \
                    (SELECT count(*) FROM tenants) || ',' || (SELECT count(*) FROM users) || ',' || \
                    (SELECT count(*) FROM orders) || ',' || (SELECT count(*) FROM audit_log)"
        ),
        "1,1,1,0,0,1",
        "the target must be untouched"
    );
}

/// Source `users.id` → target `users.id`, matched through the unchanged `created_at`.
fn id_mapping(p: &Pair) -> HashMap<String, String> {
    let pairs = |url: &str| -> HashMap<String, String> {
        query(url, "SELECT created_at::text, id::text FROM users")
            .into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
            .collect()
    };
    let src = pairs(&p.src.url);
    let dst = pairs(&p.dst.url);
    assert_eq!(src.len(), dst.len(), "users matched by created_at");
    src.into_iter()
        .map(|(at, id)| {
            let to = dst
                .get(&at)
                .unwrap_or_else(|| panic!("no target user created at {at}"))
                .clone();
            (id, to)
        })
        .collect()
}

// ---- 1. nothing leaks ----

#[test]
fn no_original_value_of_an_anonymized_column_reaches_the_target() {
    let p = shop_with_qa();
    let report = p.sync_ok(&["--profile", "qa"]);
    assert_eq!(report["profile"], "qa", "{report}");
    assert_eq!(report["resumed"], false, "{report}");
    assert_eq!(report["uncovered_pii"], serde_json::json!([]), "{report}");

    let tables = by_table(&report);
    for (t, rows) in [
        ("public.tenants", 5),
        ("public.users", 2000),
        ("public.orders", 5000),
        ("public.audit_log", 300),
    ] {
        assert_eq!(tables[t]["status"], "copied", "{t}: {report}");
        assert_eq!(tables[t]["rows"], rows, "{t}: {report}");
        assert_eq!(count(&p.dst.url, t), rows, "{t} in the target");
        assert_eq!(count(&p.src.url, t), rows, "{t} in the source");
    }
    assert_eq!(report["rows"], 7305, "{report}");
    let users = anonymized(&tables["public.users"]);
    for c in ["id", "email", "phone", "first_name", "last_name", "ssn"] {
        assert!(
            users.contains_key(c),
            "users.{c} not reported anonymized: {users:?}"
        );
    }
    assert!(
        !users.contains_key("tenant_id"),
        "none is no anonymization: {users:?}"
    );
    assert!(!users.contains_key("created_at"), "{users:?}");
    let orders = anonymized(&tables["public.orders"]);
    assert_eq!(
        orders.keys().collect::<Vec<_>>(),
        ["user_id"],
        "note is preserved: {orders:?}"
    );

    // Every original value of every anonymized column, searched in every row of the target.
    let mut needles = Vec::new();
    for col in [
        "id::text",
        "email",
        "phone",
        "first_name",
        "last_name",
        "ssn",
    ] {
        let values = column(&p.src.url, &format!("SELECT {col} FROM users"));
        needles.extend(values.into_iter().flatten());
    }
    assert_eq!(
        needles.len(),
        2000 * 6 - 40,
        "every original value collected"
    );
    let target = dump(&p.dst.url);
    let leaked = occurring(&target, &needles);
    assert!(
        leaked.is_empty(),
        "{} original value(s) found in the target, e.g. {:?}",
        leaked.len(),
        &leaked[..leaked.len().min(10)]
    );
    // The search itself finds what is there (a target value, and a preserved source value).
    let email = one(
        &p.dst.url,
        "SELECT email FROM users ORDER BY created_at LIMIT 1",
    );
    let present = vec![
        email.clone(),
        "order 4321".to_string(),
        "Nobody-here-xyz".to_string(),
    ];
    let found: BTreeSet<&str> = occurring(&target, &present).into_iter().collect();
    assert_eq!(found, BTreeSet::from([email.as_str(), "order 4321"]));

    // The strategies did what the profile says.
    let bad = |sql: &str| count(&p.dst.url, &format!("users WHERE {sql}"));
    assert_eq!(
        bad(r"email !~ '^qa\+[^@]+@corp\.example$'"),
        0,
        "email_mask keeps the domain and uses the prefix"
    );
    assert_eq!(
        bad(r"phone !~ '^\+\d\d-\d\d-\d{7}$'"),
        0,
        "phone keeps the format"
    );
    assert_eq!(bad("phone IS NULL"), 40, "NULL stays NULL");
    assert_eq!(bad(r"ssn !~ '^\*\*\*-\*\*-\d{4}$'"), 0, "pattern mask");
    assert_eq!(
        checksum_of(&p.dst.url, "SELECT right(ssn, 4) FROM users"),
        checksum_of(&p.src.url, "SELECT right(ssn, 4) FROM users"),
        "the pattern keeps the last four digits"
    );
    assert!(
        count(&p.dst.url, "(SELECT DISTINCT email FROM users) s") > 1990,
        "masked emails stay (almost) distinct"
    );
    // Columns without a rule are copied as they are.
    for select in [
        "SELECT tenant_id, created_at FROM users",
        "SELECT id, tenant_id, note FROM orders",
        "SELECT * FROM tenants",
        "SELECT * FROM audit_log",
    ] {
        assert_eq!(
            checksum_of(&p.dst.url, select),
            checksum_of(&p.src.url, select),
            "{select}"
        );
    }
    // The checkpoint of a completed sync is gone.
    assert!(
        !p.root().join(".confiture/sync-checkpoint.json").exists(),
        "checkpoint left after a successful sync"
    );
}

// ---- 2. foreign keys stay joinable ----

#[test]
fn deterministic_hashes_keep_foreign_keys_and_distributions() {
    let p = shop_with_qa();
    p.sync_ok(&["--profile", "qa"]);
    let (s, d) = (&p.src.url, &p.dst.url);

    assert_eq!(
        count(
            d,
            "orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL"
        ),
        0,
        "every orders.user_id matches a users.id"
    );
    let orders_per_user = "SELECT count(*) AS n FROM orders GROUP BY user_id";
    assert_eq!(
        checksum_of(d, orders_per_user),
        checksum_of(s, orders_per_user),
        "orders per user (multiset)"
    );
    for table in ["users", "orders"] {
        let per_tenant = format!("SELECT tenant_id, count(*) FROM {table} GROUP BY 1");
        assert_eq!(
            checksum_of(d, &per_tenant),
            checksum_of(s, &per_tenant),
            "{table} per tenant"
        );
    }
    assert_eq!(one(d, "SELECT count(DISTINCT id) FROM users"), "2000");
    assert_eq!(one(d, "SELECT count(DISTINCT id) FROM orders"), "5000");

    // The ids changed: no source id is in the target.
    let src_ids: HashSet<String> = column(s, "SELECT id::text FROM users")
        .into_iter()
        .flatten()
        .collect();
    let dst_ids: HashSet<String> = column(d, "SELECT id::text FROM users")
        .into_iter()
        .flatten()
        .collect();
    let kept: Vec<_> = src_ids.intersection(&dst_ids).collect();
    assert!(
        kept.is_empty(),
        "{} source ids kept, e.g. {:?}",
        kept.len(),
        kept.first()
    );
    let dst_refs: HashSet<String> = column(d, "SELECT DISTINCT user_id::text FROM orders")
        .into_iter()
        .flatten()
        .collect();
    assert!(
        src_ids.is_disjoint(&dst_refs),
        "source ids kept in orders.user_id"
    );

    // The same input hashed to the same output in both tables: each order (its id is copied)
    // points at the image of its source user.
    let map = id_mapping(&p);
    assert_eq!(
        map.values().collect::<HashSet<_>>().len(),
        2000,
        "the hash is injective on the sample"
    );
    let orders = |url: &str| -> HashMap<String, String> {
        query(url, "SELECT id::text, user_id::text FROM orders")
            .into_iter()
            .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
            .collect()
    };
    let (so, dorders) = (orders(s), orders(d));
    let wrong: Vec<_> = so
        .iter()
        .filter(|(id, user)| dorders.get(*id) != Some(&map[*user]))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} order(s) point at another user than the source's, e.g. {:?}",
        wrong.len(),
        wrong.first()
    );

    // Deterministic across runs under the same salt: a second sync gives the same target.
    let before = checksum(d, "users");
    p.sync_ok(&["--profile", "qa"]);
    assert_eq!(
        checksum(d, "users"),
        before,
        "a second sync with the same salt"
    );
}

// ---- 3. the source is never written ----

#[test]
fn the_source_is_unchanged() {
    let p = shop_with_qa();
    // A sequence advanced past the data, so that a write to it would show.
    exec(
        &p.src.url,
        "SELECT setval(pg_get_serial_sequence('orders', 'id'), 6000)",
    );
    let state = |url: &str| -> Vec<String> {
        let mut v: Vec<String> = ["tenants", "users", "orders", "audit_log"]
            .iter()
            .map(|t| format!("{t}: {}", checksum(url, t)))
            .collect();
        v.push(one(
            url,
            "SELECT string_agg(format('%s.%s:%s', n.nspname, c.relname, c.relkind), ',' ORDER BY 1) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
               AND n.nspname NOT LIKE 'pg_temp%'",
        ));
        v.push(one(
            url,
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
        ));
        v.push(one(
            url,
            "SELECT string_agg(nspname, ',' ORDER BY 1) FROM pg_namespace",
        ));
        v.push(one(
            url,
            "SELECT string_agg(format('%s.%s=%s', schemaname, sequencename, coalesce(last_value::text, 'unset')), ',' ORDER BY 1) \
             FROM pg_sequences",
        ));
        v
    };
    let before = state(&p.src.url);
    p.sync_ok(&["--profile", "qa"]);
    assert_eq!(state(&p.src.url), before, "the source changed");
    assert_eq!(
        one(&p.src.url, "SELECT count(*) FROM pg_replication_slots"),
        "0",
        "no replication slot left"
    );
    assert_eq!(
        one(&p.src.url, "SELECT count(*) FROM pg_prepared_xacts"),
        "0",
        "no prepared transaction left"
    );
}

// ---- 4. kill -9, then --resume ----

const CHAIN: &str = "
CREATE TABLE regions (id int PRIMARY KEY, code text NOT NULL);
CREATE TABLE stores (id int PRIMARY KEY, region_id int NOT NULL REFERENCES regions, label text NOT NULL);
CREATE TABLE tags (id int PRIMARY KEY, tag text NOT NULL);
CREATE TABLE events (
    id bigint PRIMARY KEY,
    store_id int NOT NULL REFERENCES stores,
    kind text NOT NULL,
    payload text NOT NULL,
    remark text
);
";

fn chain_data(events: u32) -> String {
    format!(
        "
INSERT INTO regions SELECT g, 'R' || g FROM generate_series(1, 10) g;
INSERT INTO stores SELECT g, 1 + g % 10, 'store ' || g FROM generate_series(1, 200) g;
INSERT INTO tags SELECT g, 'tag' || g FROM generate_series(1, 50) g;
INSERT INTO events
SELECT g, 1 + g % 200, (ARRAY['view', 'click', 'buy'])[1 + g % 3], md5(g::text) || md5((g + 1)::text), 'remark-' || g
FROM generate_series(1, {events}) g;
ANALYZE;
"
    )
}

const CHAIN_PROFILE: &str = "anonymization_profile: chain
salt: ${ANON_SALT}
rules:
  - table: events
    columns:
      remark: {type: redact}
";

const CHAIN_TABLES: [&str; 4] = [
    "public.events",
    "public.regions",
    "public.stores",
    "public.tags",
];

/// Every table of the chain in the target equals the source (`events.remark` redacted).
fn assert_chain_copied(p: &Pair) {
    for t in ["regions", "stores", "tags"] {
        assert_eq!(checksum(&p.dst.url, t), checksum(&p.src.url, t), "{t}");
    }
    let kept = "SELECT id, store_id, kind, payload FROM events";
    assert_eq!(
        checksum_of(&p.dst.url, kept),
        checksum_of(&p.src.url, kept),
        "events (columns without a rule)"
    );
    assert_eq!(
        count(&p.dst.url, "events WHERE remark LIKE 'remark-%'"),
        0,
        "events.remark redacted"
    );
}

fn read_checkpoint(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn done_tables(cp: &Value) -> BTreeSet<String> {
    cp["done"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_killed_sync_resumes_where_it_stopped() {
    let events = 300_000;
    let p = Pair::new(CHAIN, &chain_data(events));
    p.profile("chain", CHAIN_PROFILE);
    let checkpoint = p.root().join(".confiture/sync-checkpoint.json");

    let mut child = p
        .cmd()
        .args([
            "sync",
            "--from",
            &p.src.url,
            "--to",
            &p.dst.url,
            "--profile",
            "chain",
            "-j",
            "1",
            "--format",
            "json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn confiture sync");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the sync exited ({status}) before it could be killed after its first table: \
                 make `events` larger\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if read_checkpoint(&checkpoint).is_some_and(|cp| !done_tables(&cp).is_empty()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no table recorded complete in {} after 120 s",
            checkpoint.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed");

    let cp = read_checkpoint(&checkpoint).expect("the checkpoint survives the kill");
    let done = done_tables(&cp);
    let all: BTreeSet<String> = CHAIN_TABLES.iter().map(|s| s.to_string()).collect();
    assert!(!done.is_empty());
    assert!(
        done.len() < all.len(),
        "the kill landed after every table was copied ({done:?}): make `events` larger"
    );
    // Every table is complete or empty: each is loaded in its own transaction.
    for t in &all {
        let (n, expected) = (count(&p.dst.url, t), count(&p.src.url, t));
        if done.contains(t) {
            assert_eq!(n, expected, "{t} is recorded complete");
            assert_eq!(cp["done"][t], expected, "{t} rows in the checkpoint");
        } else {
            assert!(
                n == 0 || n == expected,
                "{t} is partly loaded: {n} of {expected}"
            );
        }
    }

    let report = p.sync_ok(&["--profile", "chain", "-j", "1", "--resume"]);
    assert_eq!(report["resumed"], true, "{report}");
    let tables = by_table(&report);
    assert_eq!(
        tables.keys().cloned().collect::<BTreeSet<_>>(),
        all,
        "{report}"
    );
    for t in &all {
        let expected = if done.contains(t) {
            "already_done"
        } else {
            "copied"
        };
        assert_eq!(tables[t]["status"], expected, "{t}: {report}");
        assert_eq!(tables[t]["rows"], count(&p.src.url, t), "{t}: {report}");
    }
    assert_eq!(
        tables["public.events"]["status"], "copied",
        "the big table was interrupted"
    );
    assert_eq!(report["verification"], serde_json::json!([]), "{report}");
    assert_chain_copied(&p);
    assert!(
        !checkpoint.exists(),
        "checkpoint left after the resumed sync"
    );
}

// ---- 5. strict mode ----

#[test]
fn strict_mode_stops_on_a_column_without_a_rule() {
    let p = shop();
    p.profile(
        "qa",
        &QA.replace("      email: {strategy: email_mask}\n", ""),
    );
    put_marker(&p);
    let e = p.sync_err(&["--profile", "qa"], 7, "ANON_002");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("public.users.email (email, by name)"), "{msg}");
    assert!(
        !msg.contains("public.users.phone"),
        "phone is covered: {msg}"
    );
    assert_marker_kept(&p);

    // Text mode: the same on stderr, with the way out.
    let r = p.sync_text(&["--profile", "qa"]);
    assert_eq!(r.code, 7, "{}", r.all_output());
    assert!(r.stderr.contains("error[ANON_002]"), "{}", r.stderr);
    assert!(r.stderr.contains("public.users.email"), "{}", r.stderr);
    assert!(r.stderr.contains("--no-strict"), "{}", r.stderr);
    assert_marker_kept(&p);
}

#[test]
fn strict_mode_without_a_profile_lists_every_personal_column() {
    let p = shop();
    put_marker(&p);
    let e = p.sync_err(&[], 7, "ANON_002");
    let msg = e["message"].as_str().unwrap();
    for c in ["email", "phone", "first_name", "last_name", "ssn"] {
        assert!(msg.contains(&format!("public.users.{c} (")), "{c}: {msg}");
    }
    for c in [
        "users.tenant_id",
        "users.created_at",
        "orders.note",
        "audit_log.action",
    ] {
        assert!(
            !msg.contains(&format!("public.{c} ")),
            "{c} is no PII: {msg}"
        );
    }
    assert_marker_kept(&p);
}

#[test]
fn strict_mode_detects_personal_data_by_content_and_no_strict_copies_it() {
    let schema = format!("{SHOP}CREATE TABLE contacts (id int PRIMARY KEY, notes text);");
    let data = format!(
        "{SHOP_DATA}INSERT INTO contacts SELECT g, 'contact' || g || '@mail.example' FROM generate_series(1, 150) g;"
    );
    let p = Pair::new(&schema, &data);
    p.profile("qa", QA);
    put_marker(&p);
    let e = p.sync_err(&["--profile", "qa"], 7, "ANON_002");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("public.contacts.notes (") && msg.contains("by content"),
        "{msg}"
    );
    assert!(!msg.contains("public.users."), "users are covered: {msg}");
    assert_marker_kept(&p);

    // --no-strict copies it unchanged, and says so.
    let report = p.sync_ok(&["--profile", "qa", "--no-strict"]);
    let uncovered = report["uncovered_pii"].as_array().unwrap();
    assert!(
        uncovered
            .iter()
            .any(|u| u["table"] == "public.contacts" && u["column"] == "notes"),
        "{report}"
    );
    assert_eq!(
        checksum(&p.dst.url, "contacts"),
        checksum(&p.src.url, "contacts")
    );
    assert_eq!(count(&p.dst.url, "users"), 2000);
    let r = p.sync_text(&["--profile", "qa", "--no-strict"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let out = r.all_output();
    assert!(
        out.contains("public.contacts.notes") && out.contains("warning"),
        "a warning names the column: {out}"
    );
}

// ---- 6. profile errors ----

#[test]
fn an_unknown_strategy_is_refused_with_a_suggestion() {
    let p = shop();
    let yaml = QA
        .replace(
            "      email: {strategy: email_mask}\n",
            "      email: {strategy: emial_mask}\n",
        )
        .replace(
            "  email_mask: {type: email_masking",
            "  work_mask: {type: email_masking",
        );
    let path = p.profile("typo", &yaml);
    put_marker(&p);
    let e = p.sync_err(&["--profile", "typo"], 5, "ANON_001");
    let hint = e["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("did you mean 'email_mask'"), "{e}");
    assert!(
        e["file"]
            .as_str()
            .unwrap_or_default()
            .ends_with("typo.yaml"),
        "{e}"
    );
    assert_eq!(e["line"], line_of(&yaml, "emial_mask"), "{e}");
    assert!(e["message"].as_str().unwrap().contains("emial_mask"), "{e}");
    assert_marker_kept(&p);

    // The profile as a path works the same; text mode shows file:line.
    let r = p.sync_text(&["--profile", path.to_str().unwrap()]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    let at = format!("typo.yaml:{}:", line_of(&yaml, "emial_mask"));
    assert!(r.stderr.contains(&at), "{at} in {}", r.stderr);
    assert!(
        r.stderr.contains("did you mean 'email_mask'"),
        "{}",
        r.stderr
    );
    assert_marker_kept(&p);
}

// ---- 7. the target must match ----

#[test]
fn a_target_without_a_column_is_refused() {
    let target = SHOP.replace("    ssn text,\n", "");
    assert_ne!(target, SHOP);
    let p = Pair::with_target(SHOP, SHOP_DATA, &target);
    p.profile("qa", QA);
    put_marker(&p);
    let e = p.sync_err(&["--profile", "qa"], 4, "SYNC_001");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("public.users.ssn"), "{msg}");
    assert_marker_kept(&p);
}

#[test]
fn a_target_column_of_another_type_is_refused() {
    let target = SHOP.replace("    phone text,\n", "    phone bigint,\n");
    let p = Pair::with_target(SHOP, SHOP_DATA, &target);
    p.profile("qa", QA);
    put_marker(&p);
    let e = p.sync_err(&["--profile", "qa"], 4, "SYNC_001");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains("public.users.phone"), "{msg}");
    assert_marker_kept(&p);
}

// ---- 8. sequences ----

#[test]
fn sequences_continue_after_the_source_values() {
    let p = shop_with_qa();
    // Both sequences advanced past the rows that remain.
    exec(
        &p.src.url,
        "INSERT INTO orders (user_id, tenant_id) SELECT user_id, tenant_id FROM orders LIMIT 100;
         DELETE FROM orders WHERE id > 5000;
         INSERT INTO audit_log (action) SELECT 'purge' FROM generate_series(1, 20);
         DELETE FROM audit_log WHERE action = 'purge';",
    );
    let seq = |url: &str, table: &str| {
        one(
            url,
            &format!(
                "SELECT last_value FROM {}",
                one(
                    url,
                    &format!("SELECT pg_get_serial_sequence('{table}', 'id')")
                )
            ),
        )
        .parse::<i64>()
        .unwrap()
    };
    assert_eq!(seq(&p.src.url, "orders"), 5100);
    assert_eq!(seq(&p.src.url, "audit_log"), 320);

    // The target is reached through an environment this time.
    write(
        p.root(),
        "db/environments/staging.yaml",
        format!("database_url: {}\n", p.dst.url).as_bytes(),
    );
    let r = p.sync_to("staging", &["--profile", "qa"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let report = r.json();
    assert!(report["sequences"].as_u64().unwrap() >= 2, "{report}");

    let next = |table: &str| {
        one(
            &p.dst.url,
            &format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"),
        )
        .parse::<i64>()
        .unwrap()
    };
    assert_eq!(
        next("orders"),
        5101,
        "orders continues after the source's value"
    );
    assert_eq!(
        next("audit_log"),
        321,
        "audit_log continues after the source's value"
    );
    // New rows get fresh ids.
    exec(
        &p.dst.url,
        "INSERT INTO orders (user_id, tenant_id) SELECT id, tenant_id FROM users LIMIT 3;
         INSERT INTO audit_log (action) VALUES ('after-sync');",
    );
}

// ---- 9. skip_table and --exclude ----

#[test]
fn skip_table_empties_the_table_in_the_target() {
    let p = shop();
    p.profile(
        "qa",
        &format!("{QA}  - table: audit_log\n    strategy: skip_table\n"),
    );
    exec(
        &p.dst.url,
        "INSERT INTO audit_log (id, action) VALUES (1000, 'stale'), (1001, 'stale')",
    );
    let report = p.sync_ok(&["--profile", "qa"]);
    let tables = by_table(&report);
    assert_eq!(tables["public.audit_log"]["status"], "skipped", "{report}");
    assert_eq!(tables["public.audit_log"]["rows"], 0, "{report}");
    assert_eq!(
        count(&p.dst.url, "audit_log"),
        0,
        "a skipped table is emptied"
    );
    assert_eq!(count(&p.dst.url, "users"), 2000);
}

#[test]
fn an_excluded_table_keeps_its_target_rows() {
    let p = shop_with_qa();
    exec(
        &p.dst.url,
        "INSERT INTO audit_log (id, action) VALUES (1000, 'target-only')",
    );
    let report = p.sync_ok(&["--profile", "qa", "--exclude", "audit_log"]);
    let tables = by_table(&report);
    assert!(!tables.contains_key("public.audit_log"), "{report}");
    assert_eq!(
        column(&p.dst.url, "SELECT id || ':' || action FROM audit_log"),
        [Some("1000:target-only".to_string())]
    );
    assert_eq!(count(&p.dst.url, "orders"), 5000);

    // --tables: only those; the hashed orders.user_id still joins the users of the first sync.
    let report = p.sync_ok(&["--profile", "qa", "--tables", "orders,audit_log"]);
    assert_eq!(
        by_table(&report).keys().cloned().collect::<Vec<_>>(),
        ["public.audit_log", "public.orders"],
        "{report}"
    );
    assert_eq!(
        checksum(&p.dst.url, "audit_log"),
        checksum(&p.src.url, "audit_log")
    );
    assert_eq!(
        count(
            &p.dst.url,
            "orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL"
        ),
        0
    );
}

#[test]
fn excluding_a_table_that_references_a_synced_one_is_refused() {
    let p = shop_with_qa();
    put_marker(&p);
    let e = p.sync_err(&["--profile", "qa", "--exclude", "orders"], 5, "SYNC_005");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("public.orders references public.users"),
        "{msg}"
    );
    assert_marker_kept(&p);

    let e = p.sync_err(&["--profile", "qa", "--tables", "userz"], 5, "SYNC_005");
    assert!(e["message"].as_str().unwrap().contains("userz"), "{e}");
    assert_marker_kept(&p);

    // Source and target the same database.
    let r = p.sync_to(&p.src.url, &["--profile", "qa"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert_eq!(r.json()["error"]["code"], "SYNC_005");
}

// ---- 10. sql_expression and conditional ----

#[test]
fn sql_expression_and_conditional_strategies() {
    let p = Pair::new(
        "CREATE TABLE accounts (id int PRIMARY KEY, login text NOT NULL, email text, is_internal boolean NOT NULL);",
        "INSERT INTO accounts SELECT g, 'login' || g, 'person' || g || '@client.example', g % 4 = 0 FROM generate_series(1, 200) g;",
    );
    p.profile(
        "expr",
        r#"anonymization_profile: expr
salt: ${ANON_SALT}
rules:
  - table: accounts
    columns:
      login: {type: sql_expression, expression: "'user_' || id"}
      email:
        type: conditional
        when: row.is_internal == true
        then: preserve
        else: {type: email_masking, keep_domain: false}
"#,
    );
    let report = p.sync_ok(&["--profile", "expr"]);
    let strategies = anonymized(&by_table(&report)["public.accounts"]);
    assert!(strategies.contains_key("login"), "{strategies:?}");
    assert!(strategies.contains_key("email"), "{strategies:?}");

    assert_eq!(count(&p.dst.url, "accounts"), 200);
    assert_eq!(
        count(
            &p.dst.url,
            "accounts WHERE login IS DISTINCT FROM 'user_' || id"
        ),
        0,
        "login = 'user_' || id: {:?}",
        column(&p.dst.url, "SELECT login FROM accounts ORDER BY id LIMIT 3")
    );
    let emails = |url: &str| -> BTreeMap<i64, (String, bool)> {
        query(url, "SELECT id, email, is_internal FROM accounts")
            .into_iter()
            .map(|r| {
                (
                    r[0].clone().unwrap().parse().unwrap(),
                    (r[1].clone().unwrap(), r[2].as_deref() == Some("t")),
                )
            })
            .collect()
    };
    let (src, dst) = (emails(&p.src.url), emails(&p.dst.url));
    let mut internal = 0;
    for (id, (original, is_internal)) in &src {
        let (now, flag) = &dst[id];
        assert_eq!(flag, is_internal, "is_internal of {id}");
        if *is_internal {
            internal += 1;
            assert_eq!(now, original, "internal account {id} keeps its email");
        } else {
            assert_ne!(now, original, "external account {id} is masked");
            assert!(now.ends_with("@example.com"), "{id}: {now}");
        }
    }
    assert_eq!(internal, 50);
}

// ---- 11. anonymize validate / verify ----

#[test]
fn anonymize_validate_checks_the_profile_against_the_source() {
    let p = shop_with_qa();
    let r = p.run(&["anonymize", "validate", "qa"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let r = p.run(&["anonymize", "validate", "qa", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["findings"], serde_json::json!([]), "{v}");

    // email_mask on an integer column.
    let bad = format!("{QA}  - table: tenants\n    columns:\n      id: {{strategy: email_mask}}\n");
    let line = line_of(&bad, "id: {strategy: email_mask}");
    p.profile("bad", &bad);
    let r = p.run(&["anonymize", "validate", "bad"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(r.stderr.contains("error[ANON_003]"), "{}", r.stderr);
    assert!(r.stderr.contains("public.tenants.id"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("bad.yaml:{line}")),
        "bad.yaml:{line} in {}",
        r.stderr
    );
    let r = p.run(&["anonymize", "validate", "bad", "--format", "json"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    let v = r.json();
    assert_eq!(v["ok"], false, "{v}");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{v}");
    assert_eq!(findings[0]["table"], "public.tenants", "{v}");
    assert_eq!(findings[0]["column"], "id", "{v}");
    assert_eq!(findings[0]["line"], line, "{v}");

    // A missing column.
    let missing = QA.replace("      note: preserve\n", "      notes: preserve\n");
    p.profile("missing", &missing);
    let r = p.run(&["anonymize", "validate", "missing"]);
    assert_eq!(r.code, 5, "{}", r.all_output());
    assert!(r.stderr.contains("public.orders.notes"), "{}", r.stderr);

    // Uncovered personal data.
    p.profile(
        "partial",
        &QA.replace(
            "      ssn: {type: pattern_masking, pattern: \"***-**-####\"}\n",
            "",
        ),
    );
    let r = p.run(&["anonymize", "validate", "partial"]);
    assert_eq!(r.code, 7, "{}", r.all_output());
    assert!(r.stderr.contains("error[ANON_002]"), "{}", r.stderr);
    assert!(r.stderr.contains("public.users.ssn"), "{}", r.stderr);
}

#[test]
fn anonymize_verify_tries_the_profile_on_sampled_rows() {
    let p = shop_with_qa();
    let r = p.run(&[
        "anonymize",
        "verify",
        "qa",
        "--sample",
        "100",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    let columns = v["columns"].as_array().unwrap();
    assert!(
        columns
            .iter()
            .any(|c| c["table"] == "public.users" && c["column"] == "email" && c["changed"] == 100),
        "{v}"
    );
    assert!(
        columns
            .iter()
            .all(|c| c["problems"] == serde_json::json!([])),
        "{v}"
    );

    // A pattern that keeps every character keeps the values.
    let keeps = QA.replace(
        "pattern: \"***-**-####\"",
        "pattern: \"####################\"",
    );
    p.profile("keeps", &keeps);
    let r = p.run(&["anonymize", "verify", "keeps", "--sample", "50"]);
    assert_eq!(r.code, 7, "{}", r.all_output());
    assert!(r.stderr.contains("error[ANON_004]"), "{}", r.stderr);
    assert!(r.stderr.contains("public.users.ssn"), "{}", r.stderr);
    assert!(
        r.stderr.contains("kept their original value"),
        "{}",
        r.stderr
    );
}

// ---- 12. parallel ----

const MANY: &str = "
CREATE TABLE a (id int PRIMARY KEY, email text, v text);
CREATE TABLE b (id int PRIMARY KEY, phone text, n numeric);
CREATE TABLE c (id bigserial PRIMARY KEY, payload jsonb);
CREATE TABLE d (id int PRIMARY KEY, at timestamptz, flag boolean);
CREATE TABLE e (id int PRIMARY KEY, d_id int REFERENCES d, label text);
CREATE TABLE f (id uuid PRIMARY KEY, blob bytea);
";

const MANY_DATA: &str = "
INSERT INTO a SELECT g, 'a' || g || '@x.example', repeat('v', g % 30) FROM generate_series(1, 3000) g;
INSERT INTO b SELECT g, '+1 (555) ' || lpad(g::text, 7, '0'), g / 7.0 FROM generate_series(1, 3000) g;
INSERT INTO c (payload) SELECT jsonb_build_object('k', g, 'tags', jsonb_build_array('x', g % 5)) FROM generate_series(1, 3000) g;
INSERT INTO d SELECT g, timestamptz '2024-01-01' + g * interval '1 hour', g % 2 = 0 FROM generate_series(1, 3000) g;
INSERT INTO e SELECT g, 1 + g % 3000, NULLIF('e' || g, 'e7') FROM generate_series(1, 3000) g;
INSERT INTO f SELECT md5('f' || g)::uuid, decode(md5(g::text), 'hex') FROM generate_series(1, 3000) g;
";

#[test]
fn parallel_jobs_give_the_same_result() {
    let p = Pair::new(MANY, MANY_DATA);
    p.profile(
        "many",
        "anonymization_profile: many
salt: ${ANON_SALT}
rules:
  - table: a
    columns:
      email: {type: email_mask}
  - table: b
    columns:
      phone: phone
",
    );
    let second = TestDb::new();
    exec(&second.url, MANY);

    let r1 = p.sync_ok(&["--profile", "many", "-j", "1"]);
    let r3 = p.sync_to(&second.url, &["--profile", "many", "-j", "3"]);
    assert_eq!(r3.code, 0, "{}", r3.all_output());
    let r3 = r3.json();
    assert_eq!(r1["jobs"], 1, "{r1}");
    assert_eq!(r3["jobs"], 3, "{r3}");
    assert_eq!(r1["rows"], 18000, "{r1}");
    assert_eq!(r3["rows"], 18000, "{r3}");
    for t in ["a", "b", "c", "d", "e", "f"] {
        assert_eq!(
            checksum(&second.url, t),
            checksum(&p.dst.url, t),
            "{t}: -j 3 differs from -j 1"
        );
    }
    for t in ["c", "d", "e", "f"] {
        assert_eq!(
            checksum(&p.dst.url, t),
            checksum(&p.src.url, t),
            "{t} copied as is"
        );
    }
    // Every table over --split-above MiB with one integer key is read by -j readers, one key
    // range each, into the same transaction: the same rows as one reader.
    let third = TestDb::new();
    exec(&third.url, MANY);
    let split = p.sync_to(
        &third.url,
        &["--profile", "many", "-j", "3", "--split-above", "0"],
    );
    assert_eq!(split.code, 0, "{}", split.all_output());
    let split = split.json();
    assert_eq!(split["rows"], 18000, "{split}");
    let readers = |name: &str| {
        split["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("{name} in {split}"))["readers"]
            .clone()
    };
    assert_eq!(readers("public.a"), 3, "{split}");
    assert_eq!(readers("public.c"), 3, "{split}");
    assert_eq!(readers("public.f"), 1, "uuid keys are not split: {split}");
    for t in ["a", "b", "c", "d", "e", "f"] {
        assert_eq!(
            checksum(&third.url, t),
            checksum(&p.dst.url, t),
            "{t}: split reads differ from one reader"
        );
    }
    assert_eq!(
        count(&p.dst.url, "a WHERE email LIKE 'a%@x.example'"),
        0,
        "a.email masked"
    );
    assert_eq!(
        count(&p.dst.url, "b WHERE phone LIKE '+1 (555) 000%'"),
        0,
        "b.phone masked"
    );
    assert_eq!(
        one(
            &second.url,
            "SELECT nextval(pg_get_serial_sequence('c', 'id'))"
        ),
        "3001"
    );
}

// ---- 13. checkpoints of another sync ----

#[test]
fn a_checkpoint_of_another_sync_is_refused() {
    // A target where the last table cannot be loaded: the sync fails after the others.
    let target = format!("{CHAIN}ALTER TABLE events ADD CONSTRAINT no_buy CHECK (kind <> 'buy');");
    let p = Pair::with_target(CHAIN, &chain_data(3000), &target);
    p.profile("chain", CHAIN_PROFILE);
    let cp = p.root().join("cp.json");
    let cp_arg = cp.to_str().unwrap();

    let e = p.sync_err(
        &["--profile", "chain", "-j", "1", "--checkpoint", cp_arg],
        1,
        "SYNC_002",
    );
    assert!(
        e["message"].as_str().unwrap().contains("public.events"),
        "{e}"
    );
    let saved = read_checkpoint(&cp).expect("the checkpoint of the failed sync");
    let done = done_tables(&saved);
    assert!(
        done.contains("public.regions") && done.contains("public.stores"),
        "the tables before events are recorded: {saved}"
    );
    assert!(!done.contains("public.events"), "{saved}");
    assert_eq!(
        count(&p.dst.url, "events"),
        0,
        "the failed table was rolled back"
    );

    // The same checkpoint with another target.
    let other = TestDb::new();
    exec(&other.url, CHAIN);
    let r = p.sync_to(
        &other.url,
        &["--profile", "chain", "--resume", "--checkpoint", cp_arg],
    );
    assert_eq!(r.code, 5, "{}", r.all_output());
    let e = r.json()["error"].clone();
    assert_eq!(e["code"], "SYNC_004", "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("another sync"),
        "{e}"
    );
    assert_eq!(
        count(&other.url, "regions"),
        0,
        "nothing written to the other target"
    );
    // With another profile.
    let e = p.sync_err(
        &["--resume", "--checkpoint", cp_arg, "--no-strict"],
        5,
        "SYNC_004",
    );
    assert!(
        e["message"].as_str().unwrap().contains("another sync"),
        "{e}"
    );
    // Without a checkpoint at all.
    let e = p.sync_err(
        &[
            "--profile",
            "chain",
            "--resume",
            "--checkpoint",
            p.root().join("none.json").to_str().unwrap(),
        ],
        5,
        "SYNC_004",
    );
    assert!(
        e["message"].as_str().unwrap().contains("no checkpoint"),
        "{e}"
    );
    assert_eq!(count(&p.dst.url, "regions"), 10, "done tables kept");

    // Fixed, the right resume finishes the job.
    exec(&p.dst.url, "ALTER TABLE events DROP CONSTRAINT no_buy");
    let report = p.sync_ok(&["--profile", "chain", "--resume", "--checkpoint", cp_arg]);
    let tables = by_table(&report);
    for t in &done {
        assert_eq!(tables[t]["status"], "already_done", "{t}: {report}");
    }
    assert_eq!(tables["public.events"]["status"], "copied", "{report}");
    assert_chain_copied(&p);
    assert!(!cp.exists(), "checkpoint removed after success");
}
