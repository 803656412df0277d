//! `confiture introspect`, `diff`, `drift`, `migrate preflight` and `migrate generate
//! --from-diff` against real PostgreSQL: a realistic schema survives the round trip through the
//! generated SQL, a generated migration (and its down) reaches the other version, drift sees hand
//! edits but not formatting, preflight replays the pending migrations, and the error exits.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use confiture_testkit::{admin_exec, query, query_one, TestDb};
use serde_json::Value;

use crate::common::*;

// ---- helpers ----

/// A project whose local environment targets `url` (include_dirs: db/schema), with `files`.
/// Its embedded cluster, which directory sources, `drift` and `preflight` start on demand, is
/// stopped when the value is dropped (also when the test fails).
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(url: &str, files: &[(&str, &str)]) -> Project {
        let yaml = format!("database_url: {url}\ninclude_dirs: [db/schema]\n");
        let dir = project_with_local(yaml.as_bytes());
        // Let the embedded server's OS user (`postgres`) reach the project when tests run as root.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(dir.path().join("db/schema")).unwrap();
        std::fs::create_dir_all(dir.path().join("db/migrations")).unwrap();
        for (path, content) in files {
            write(dir.path(), path, content.as_bytes());
        }
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Run {
        confiture_in(self.path(), args)
    }

    /// `confiture ARGS --format json`, which must exit `code`; its JSON.
    fn json(&self, args: &[&str], code: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let r = self.run(&all);
        assert_eq!(
            r.code,
            code,
            "confiture {}:\n{}",
            all.join(" "),
            r.all_output()
        );
        r.json()
    }

    fn write(&self, path: &str, content: &str) {
        write(self.path(), path, content.as_bytes());
    }

    fn migrations(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path().join("db/migrations"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = confiture_in(self.dir.path(), &["db", "stop"]);
    }
}

/// A role with a unique name, dropped (with everything granted to it on the test cluster's
/// databases that still exist) when the value is dropped. Declare it before the databases that
/// use it, so that they are dropped first.
struct Role(String);

impl Role {
    fn new(prefix: &str) -> Role {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("{prefix}_{}_{nanos}", std::process::id());
        admin_exec(&format!("CREATE ROLE {name} NOLOGIN"));
        Role(name)
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        admin_exec(&format!("DROP ROLE IF EXISTS {}", self.0));
    }
}

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

/// Run `sql` with psql on `url`, stopping at the first error. `Err` holds psql's message and
/// the failing statement's neighbourhood (psql names the line).
fn psql(url: &str, sql: &str) -> Result<(), String> {
    let mut child = Command::new(pg_tool("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // "psql:<stdin>:LINE: ERROR: …": show the lines before it.
    let line: Option<usize> = stderr.split(':').nth(2).and_then(|l| l.trim().parse().ok());
    let context = match line {
        Some(n) => sql
            .lines()
            .enumerate()
            .skip(n.saturating_sub(12))
            .take(14)
            .map(|(i, l)| format!("{:>5}  {l}", i + 1))
            .collect::<Vec<_>>()
            .join("\n"),
        None => sql.to_string(),
    };
    Err(format!(
        "{stderr}\n--- the SQL up to that line ---\n{context}"
    ))
}

/// Run every statement of `sql` with psql without stopping: the errors psql reports.
fn psql_all_errors(url: &str, sql: &str) -> String {
    let mut child = Command::new(pg_tool("psql"))
        .args(["-X", "-q", "-d", url, "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn psql_file(url: &str, path: &Path) -> Result<(), String> {
    psql(url, &std::fs::read_to_string(path).unwrap())
}

/// `changes[].name` of a diff report.
fn names(report: &Value) -> Vec<String> {
    report["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes in {report}"))
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// The changes of a diff report, one line each: `action object name [risk]`.
fn change_lines(report: &Value) -> String {
    report["changes"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| {
                    format!(
                        "{} {} {} [{}] {}",
                        c["action"].as_str().unwrap_or_default(),
                        c["object"].as_str().unwrap_or_default(),
                        c["name"].as_str().unwrap_or_default(),
                        c["risk"].as_str().unwrap_or_default(),
                        c["detail"].as_str().unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn change<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["changes"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

/// The tracking table's rows (empty when it does not exist).
fn ledger_rows(url: &str) -> Vec<Vec<Option<String>>> {
    let exists = query_one(
        url,
        "SELECT (to_regclass('tb_confiture') IS NOT NULL)::text",
    );
    if exists.as_deref() != Some("true") {
        return Vec::new();
    }
    query(
        url,
        "SELECT version, name, checksum, applied_at::text FROM tb_confiture ORDER BY pk_confiture",
    )
}

/// The relations, columns, constraints, functions and types of the user schemas, as text.
fn catalog_fingerprint(url: &str) -> String {
    let ns = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";
    let sql = format!(
        "SELECT concat_ws(E'\\n',
            (SELECT string_agg(format('%s.%s:%s', n.nspname, c.relname, c.relkind), ',' ORDER BY n.nspname, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {ns}),
            (SELECT string_agg(format('%s.%s.%s:%s:%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull), ',' ORDER BY n.nspname, c.relname, a.attnum)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE a.attnum > 0 AND NOT a.attisdropped AND {ns}),
            (SELECT string_agg(format('%s.%s:%s', n.nspname, x.conname, pg_get_constraintdef(x.oid)), ',' ORDER BY n.nspname, x.conname)
               FROM pg_constraint x JOIN pg_namespace n ON n.oid = x.connamespace WHERE {ns}),
            (SELECT string_agg(format('%s.%s:%s', n.nspname, p.proname, md5(pg_get_functiondef(p.oid))), ',' ORDER BY n.nspname, p.proname)
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {ns}),
            (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace))"
    );
    query_one(url, &sql).unwrap_or_default()
}

// ---- 1. round trip: introspect, diff --sql from empty, apply, identical ----

/// A realistic schema: two schemas, every constraint kind, identity/serial/generated columns, a
/// partitioned and an inherited table, expression and partial indexes, views on views, a
/// materialized view with an index, PL/pgSQL and SQL functions, triggers, a SECURITY DEFINER
/// function with SET search_path, an enum, a domain, a composite type, RLS with a policy,
/// comments and grants to `{role}`.
const REALISTIC: &str = r#"
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE SCHEMA app;
CREATE SCHEMA audit;
COMMENT ON SCHEMA app IS 'Application data';

CREATE TYPE app.status AS ENUM ('new', 'active', 'closed');
COMMENT ON TYPE app.status IS 'Lifecycle of a user';
CREATE DOMAIN app.email AS text CONSTRAINT email_shape CHECK (VALUE ~ '^[^@]+@[^@]+$');
CREATE TYPE app.amount AS (currency char(3), value numeric(12,2));

CREATE TABLE app.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email app.email NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    full_name text GENERATED ALWAYS AS (first_name || ' ' || last_name) STORED,
    status app.status NOT NULL DEFAULT 'new',
    nickname varchar(40) COLLATE "C",
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_first_name_not_blank CHECK (length(first_name) > 0)
);
COMMENT ON TABLE app.users IS 'People who log in';
COMMENT ON COLUMN app.users.email IS 'Login; unique';
COMMENT ON CONSTRAINT users_first_name_not_blank ON app.users IS 'no empty names';

CREATE TABLE app.orders (
    id serial PRIMARY KEY,
    user_id bigint NOT NULL,
    total app.amount,
    quantity integer NOT NULL DEFAULT 1,
    note text,
    placed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES app.users (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT orders_quantity_positive CHECK (quantity > 0)
);
ALTER TABLE app.orders ADD CONSTRAINT orders_note_short CHECK (length(note) < 500) NOT VALID;

CREATE TABLE app.bookings (
    id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 10) PRIMARY KEY,
    room integer NOT NULL,
    during tsrange NOT NULL,
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room WITH =, during WITH &&)
);

CREATE SEQUENCE app.invoice_numbers AS integer START WITH 1000 INCREMENT BY 5 CACHE 10;

CREATE TABLE audit.events (
    id bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind text NOT NULL DEFAULT 'info',
    payload jsonb,
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE audit.events_2024 PARTITION OF audit.events
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE audit.events_2025 PARTITION OF audit.events
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE INDEX events_kind_idx ON audit.events (kind);

CREATE TABLE app.notes (
    id integer PRIMARY KEY,
    body text NOT NULL,
    CONSTRAINT notes_body_not_blank CHECK (body <> '')
);
CREATE TABLE app.order_notes (
    order_id integer NOT NULL REFERENCES app.orders (id)
) INHERITS (app.notes);

CREATE INDEX users_lower_email_idx ON app.users (lower(email::text));
CREATE INDEX orders_with_note_idx ON app.orders (user_id, placed_at DESC) WHERE note IS NOT NULL;
CREATE UNIQUE INDEX users_nickname_idx ON app.users (nickname) WHERE nickname IS NOT NULL;
COMMENT ON INDEX app.users_lower_email_idx IS 'case-insensitive lookup';

CREATE VIEW app.active_users AS
    SELECT id, email, full_name FROM app.users WHERE status = 'active';
CREATE VIEW app.active_user_emails AS
    SELECT lower(email::text) AS email FROM app.active_users;
COMMENT ON VIEW app.active_users IS 'Users who can log in';
CREATE MATERIALIZED VIEW app.order_counts AS
    SELECT user_id, count(*) AS orders, sum(quantity) AS items FROM app.orders GROUP BY user_id;
CREATE UNIQUE INDEX order_counts_user_idx ON app.order_counts (user_id);

CREATE FUNCTION app.touch_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- stamp it
    NEW.created_at := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_touch BEFORE INSERT ON app.users
    FOR EACH ROW EXECUTE FUNCTION app.touch_created();
COMMENT ON TRIGGER users_touch ON app.users IS 'creation time';

CREATE FUNCTION audit.default_kind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind IS NULL THEN
        NEW.kind := 'info';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER events_default_kind BEFORE INSERT ON audit.events
    FOR EACH ROW EXECUTE FUNCTION audit.default_kind();

CREATE FUNCTION app.user_count(p_status app.status) RETURNS bigint
    LANGUAGE sql STABLE STRICT
    AS $$ SELECT count(*) FROM app.users WHERE status = p_status $$;
COMMENT ON FUNCTION app.user_count(app.status) IS 'how many users have a status';

CREATE FUNCTION app.lookup_user(p_email text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, app
    AS $$
DECLARE
    found bigint;
BEGIN
    SELECT id INTO found FROM app.users WHERE lower(email::text) = lower(p_email);
    RETURN found;
END;
$$;
REVOKE ALL ON FUNCTION app.lookup_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.lookup_user(text) TO {role};

ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_by_owner ON app.orders FOR SELECT TO {role}
    USING (user_id = current_setting('app.user_id')::bigint);

GRANT USAGE ON SCHEMA app TO {role};
GRANT SELECT, INSERT, UPDATE ON app.users TO {role};
GRANT SELECT ON app.orders TO {role};
GRANT SELECT ON app.active_users TO {role};
GRANT USAGE, SELECT ON SEQUENCE app.orders_id_seq TO {role};
"#;

#[test]
fn round_trip_of_a_realistic_schema_through_diff_sql_is_identical() {
    let role = Role::new("confiture_rt");
    let a = TestDb::new();
    let b = TestDb::new();
    if let Err(e) = psql(&a.url, &REALISTIC.replace("{role}", &role.0)) {
        panic!("the test schema itself failed: {e}");
    }
    let p = Project::new(&a.url, &[]);

    // introspect has the objects.
    let m = p.json(&["introspect", "--database-url", &a.url], 0);
    for key in ["app", "audit"] {
        assert!(
            m["schemas"][key].is_object(),
            "schema {key}: {}",
            m["schemas"]
        );
    }
    assert_eq!(m["schemas"]["app"]["comment"], "Application data");
    assert_eq!(m["extensions"]["btree_gist"]["schema"], "public");
    assert_eq!(
        m["types"]["app.status"]["labels"],
        serde_json::json!(["new", "active", "closed"])
    );
    assert_eq!(m["types"]["app.status"]["kind"], "enum");
    assert_eq!(m["types"]["app.email"]["kind"], "domain");
    assert!(
        m["types"]["app.email"]["checks"]["email_shape"]
            .as_str()
            .unwrap_or_default()
            .starts_with("CHECK"),
        "{}",
        m["types"]["app.email"]
    );
    assert_eq!(m["types"]["app.amount"]["kind"], "composite");
    let users = &m["tables"]["app.users"];
    let kinds: Vec<(String, String)> = users["constraints"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["kind"].as_str().unwrap().to_string()))
        .collect();
    assert!(
        kinds.contains(&("users_pkey".into(), "primary_key".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("users_email_key".into(), "unique".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("users_first_name_not_blank".into(), "check".into())),
        "{kinds:?}"
    );
    let column = |t: &Value, name: &str| -> Value {
        t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("column {name} in {t}"))
    };
    assert_eq!(column(users, "id")["identity"], "always");
    assert!(column(users, "full_name")["generated"].is_string());
    assert_eq!(column(users, "email")["comment"], "Login; unique");
    assert_eq!(column(users, "nickname")["collation"], "pg_catalog.C");
    assert!(users["indexes"]["users_lower_email_idx"]["definition"]
        .as_str()
        .unwrap()
        .contains("lower"));
    assert!(users["indexes"]["users_nickname_idx"]["definition"]
        .as_str()
        .unwrap()
        .contains("WHERE"));
    assert!(users["triggers"]["users_touch"].is_object(), "{users}");
    let orders = &m["tables"]["app.orders"];
    let fk = &orders["constraints"]["orders_user_fk"];
    assert_eq!(fk["kind"], "foreign_key");
    assert_eq!(fk["references"], "app.users");
    let fk_def = fk["definition"].as_str().unwrap();
    assert!(
        fk_def.contains("ON DELETE CASCADE") && fk_def.contains("DEFERRABLE INITIALLY DEFERRED"),
        "{fk_def}"
    );
    assert_eq!(
        orders["constraints"]["orders_note_short"]["validated"],
        false
    );
    assert_eq!(orders["rls_enabled"], true);
    assert_eq!(
        orders["policies"]["orders_by_owner"]["roles"],
        serde_json::json!([role.0])
    );
    assert_eq!(
        m["tables"]["app.bookings"]["constraints"]["bookings_no_overlap"]["kind"],
        "exclusion"
    );
    assert_eq!(
        m["sequences"]["app.orders_id_seq"]["owned_by"],
        "app.orders.id"
    );
    assert_eq!(m["sequences"]["app.invoice_numbers"]["increment"], 5);
    assert!(m["tables"]["audit.events"]["partition_by"].is_string());
    assert_eq!(
        m["tables"]["audit.events_2024"]["partition_of"]["parent"],
        "audit.events"
    );
    assert_eq!(
        m["tables"]["app.order_notes"]["inherits"],
        serde_json::json!(["app.notes"])
    );
    assert_eq!(m["views"]["app.active_user_emails"]["depth"], 1);
    assert_eq!(m["views"]["app.active_users"]["depth"], 0);
    assert_eq!(m["views"]["app.order_counts"]["materialized"], true);
    assert!(m["views"]["app.order_counts"]["indexes"]["order_counts_user_idx"].is_object());
    let lookup = &m["functions"]["app.lookup_user(p_email text)"];
    assert_eq!(lookup["security_definer"], true, "{}", m["functions"]);
    assert_eq!(
        lookup["config"],
        serde_json::json!(["search_path=pg_catalog, app"])
    );
    assert_eq!(
        lookup["grants"],
        serde_json::json!([{"grantee": role.0, "privileges": ["EXECUTE"]}])
    );
    assert_eq!(
        users["grants"],
        serde_json::json!([{"grantee": role.0, "privileges": ["INSERT", "SELECT", "UPDATE"]}])
    );

    // The SQL from an empty database to A.
    let r = p.run(&["diff", "--from", &b.url, "--to", &a.url, "--sql"]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    let sql = r.stdout.clone();
    std::fs::write(p.path().join("round_trip.sql"), &sql).unwrap();
    if let Err(e) = psql(&b.url, &sql) {
        let all = psql_all_errors(&TestDb::new().url, &sql);
        panic!("the generated SQL does not apply to an empty database: {e}\n--- every error when run without stopping ---\n{all}\n--- the whole script ---\n{sql}");
    }

    let d = p.json(&["diff", "--from", &b.url, "--to", &a.url], 0);
    assert_eq!(
        d["identical"],
        true,
        "after applying the generated SQL, still:\n{}",
        change_lines(&d)
    );
    // And the other way round.
    let d = p.json(&["diff", "--from", &a.url, "--to", &b.url], 0);
    assert_eq!(d["identical"], true, "{}", change_lines(&d));
}
