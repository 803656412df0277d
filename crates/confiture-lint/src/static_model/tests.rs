//! The static model, checked against what PostgreSQL's catalog gives for the same DDL (the
//! expected spellings below were read from a PostgreSQL 15 server through `confiture
//! introspect`).

use std::path::PathBuf;

use confiture_core::schema::{Grant, TypeKind};

use super::*;

fn src(path: &str, text: &str) -> SourceText {
    SourceText {
        path: PathBuf::from(path),
        text: text.to_string(),
    }
}

fn one(text: &str) -> Schema {
    let (model, _, unreadable) = build(&[src("schema.sql", text)]);
    assert!(unreadable.is_empty(), "{unreadable:?}");
    model
}

fn grant(grantee: &str, privileges: &[&str]) -> Grant {
    Grant {
        grantee: grantee.into(),
        privileges: privileges.iter().map(|p| p.to_string()).collect(),
    }
}

fn constraint<'a>(m: &'a Schema, table: &str, name: &str) -> &'a str {
    &m.tables[table].constraints[name].definition
}

fn column<'a>(m: &'a Schema, table: &str, name: &str) -> &'a confiture_core::schema::Column {
    m.tables[table]
        .columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {table}"))
}

fn at(l: &Locations, kind: &str, key: &str) -> (String, usize, usize) {
    let loc = l
        .get(kind, key)
        .unwrap_or_else(|| panic!("no location for {kind}:{key}"));
    (loc.file.display().to_string(), loc.line, loc.column)
}

const SCHEMAS: &str = "\
CREATE SCHEMA IF NOT EXISTS app;
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
COMMENT ON SCHEMA app IS 'Application data';
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO reporting;
CREATE TYPE app.order_status AS ENUM ('pending', 'paid');
ALTER TYPE app.order_status ADD VALUE 'shipped' AFTER 'paid';
CREATE DOMAIN app.email AS text CHECK (VALUE ~ '@');
";

const USERS: &str = "\
SET search_path = app, public;

CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email app.email NOT NULL UNIQUE,
    display_name varchar(80),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (length(display_name) > 0)
);
COMMENT ON TABLE users IS 'People who sign in';
COMMENT ON COLUMN users.email IS 'Login';
CREATE UNIQUE INDEX users_lower_email_idx ON users (lower(email));
RESET search_path;
";

const ORDERS: &str = "\
CREATE TABLE app.orders (
    id integer GENERATED ALWAYS AS IDENTITY,
    user_id bigint NOT NULL REFERENCES app.users ON DELETE CASCADE,
    status app.order_status NOT NULL DEFAULT 'pending',
    amount numeric(12,2) NOT NULL CHECK (amount >= 0),
    note text,
    CONSTRAINT orders_pk PRIMARY KEY (id)
);
CREATE INDEX ON app.orders (user_id);
CREATE INDEX IF NOT EXISTS orders_pending_idx ON app.orders USING btree (id DESC) WHERE status = 'pending';
ALTER TABLE app.orders ADD COLUMN created_at timestamptz DEFAULT now();
ALTER TABLE app.orders ALTER COLUMN created_at SET NOT NULL;
ALTER TABLE app.orders ADD CONSTRAINT orders_note_len CHECK (char_length(note) < 500) NOT VALID;
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_owner ON app.orders FOR SELECT TO app_user
    USING (user_id = current_setting('app.user_id')::bigint);
COMMENT ON INDEX app.orders_user_id_idx IS 'FK lookups';
COMMENT ON CONSTRAINT orders_pk ON app.orders IS 'Surrogate key';
GRANT SELECT, INSERT ON app.orders TO app_user;
";

const FUNCTIONS: &str = "\
CREATE OR REPLACE FUNCTION app.order_total(p_user_id bigint, p_status app.order_status DEFAULT 'paid')
RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, app
AS $$ SELECT coalesce(sum(amount), 0) FROM app.orders WHERE user_id = p_user_id AND status = p_status $$;
REVOKE EXECUTE ON FUNCTION app.order_total(bigint, app.order_status) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.order_total(bigint, app.order_status) TO app_user;
COMMENT ON FUNCTION app.order_total(bigint, app.order_status) IS 'Sum of a user''s orders';
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created_at := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE VIEW app.paid_orders AS SELECT o.id, o.amount FROM app.orders o WHERE o.status = 'paid';
INSERT INTO app.users (email) VALUES ('a@b.c');
";

fn realistic_tree() -> Vec<SourceText> {
    vec![
        src("db/schema/00_common/schemas.sql", SCHEMAS),
        src("db/schema/10_tables/users.sql", USERS),
        src("db/schema/10_tables/orders.sql", ORDERS),
        src("db/schema/20_functions/order_total.sql", FUNCTIONS),
    ]
}

#[test]
fn a_realistic_tree_builds_the_model_the_catalog_would_give() {
    let (m, l, unreadable) = build(&realistic_tree());
    assert!(unreadable.is_empty(), "{unreadable:?}");

    // Schemas, extensions, types.
    assert_eq!(
        m.schemas["app"].comment.as_deref(),
        Some("Application data")
    );
    assert_eq!(
        m.schemas["public"].grants,
        vec![grant("PUBLIC", &["USAGE"])]
    );
    assert_eq!(m.extensions["pgcrypto"].schema, "public");
    assert_eq!(
        m.types["app.order_status"].kind,
        TypeKind::Enum {
            labels: vec!["pending".into(), "paid".into(), "shipped".into()]
        }
    );
    match &m.types["app.email"].kind {
        TypeKind::Domain { base, checks, .. } => {
            assert_eq!(base, "text");
            assert_eq!(checks["email_check"], "CHECK ((VALUE ~ '@'::text))");
        }
        other => panic!("{other:?}"),
    }

    // users: created through the search path, bigserial, domain column, unnamed constraints.
    let users = &m.tables["app.users"];
    assert_eq!(users.comment.as_deref(), Some("People who sign in"));
    let id = column(&m, "app.users", "id");
    assert_eq!(id.data_type, "bigint");
    assert!(id.not_null);
    assert_eq!(
        id.default.as_deref(),
        Some("nextval('app.users_id_seq'::regclass)")
    );
    let email = column(&m, "app.users", "email");
    assert_eq!(email.data_type, "app.email");
    assert_eq!(email.comment.as_deref(), Some("Login"));
    assert_eq!(
        column(&m, "app.users", "display_name").data_type,
        "character varying(80)"
    );
    assert_eq!(
        column(&m, "app.users", "created_at").default.as_deref(),
        Some("now()")
    );
    assert_eq!(
        constraint(&m, "app.users", "users_pkey"),
        "PRIMARY KEY (id)"
    );
    assert_eq!(
        constraint(&m, "app.users", "users_email_key"),
        "UNIQUE (email)"
    );
    assert_eq!(
        constraint(&m, "app.users", "users_display_name_check"),
        "CHECK ((length((display_name)::text) > 0))"
    );
    assert_eq!(
        users.indexes["users_lower_email_idx"].definition,
        "CREATE UNIQUE INDEX users_lower_email_idx ON app.users USING btree (lower((email)::text))"
    );
    assert!(users.indexes["users_lower_email_idx"].unique);
    // Default privileges of the schema.
    assert_eq!(users.grants, vec![grant("reporting", &["SELECT"])]);
    let seq = &m.sequences["app.users_id_seq"];
    assert_eq!(seq.data_type, "bigint");
    assert_eq!(seq.owned_by.as_deref(), Some("app.users.id"));
    assert!(!seq.identity);

    // orders: identity, foreign key to the primary key, ALTERs, RLS, policy, comments.
    let orders = &m.tables["app.orders"];
    let id = column(&m, "app.orders", "id");
    assert_eq!(id.identity.as_deref(), Some("always"));
    assert!(id.not_null && id.default.is_none());
    assert!(m.sequences["app.orders_id_seq"].identity);
    assert_eq!(
        column(&m, "app.orders", "status").default.as_deref(),
        Some("'pending'::app.order_status")
    );
    let created = column(&m, "app.orders", "created_at");
    assert!(created.not_null);
    assert_eq!(created.default.as_deref(), Some("now()"));
    let fk = &orders.constraints["orders_user_id_fkey"];
    assert_eq!(fk.kind, "foreign_key");
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (user_id) REFERENCES app.users(id) ON DELETE CASCADE"
    );
    assert_eq!(fk.references.as_deref(), Some("app.users"));
    assert_eq!(
        constraint(&m, "app.orders", "orders_amount_check"),
        "CHECK ((amount >= (0)::numeric))"
    );
    let pk = &orders.constraints["orders_pk"];
    assert_eq!(pk.definition, "PRIMARY KEY (id)");
    assert_eq!(pk.comment.as_deref(), Some("Surrogate key"));
    let note = &orders.constraints["orders_note_len"];
    assert!(!note.validated);
    assert_eq!(
        note.definition,
        "CHECK ((char_length(note) < 500)) NOT VALID"
    );
    assert_eq!(
        orders.indexes["orders_user_id_idx"].definition,
        "CREATE INDEX orders_user_id_idx ON app.orders USING btree (user_id)"
    );
    assert_eq!(
        orders.indexes["orders_user_id_idx"].comment.as_deref(),
        Some("FK lookups")
    );
    assert_eq!(
        orders.indexes["orders_pending_idx"].definition,
        "CREATE INDEX orders_pending_idx ON app.orders USING btree (id DESC) \
         WHERE (status = 'pending'::app.order_status)"
    );
    // Constraint indexes are not in `indexes`.
    assert!(!orders.indexes.contains_key("orders_pk"));
    assert!(orders.rls_enabled && !orders.rls_forced);
    let policy = &orders.policies["orders_owner"];
    assert_eq!(policy.command, "SELECT");
    assert_eq!(policy.roles, vec!["app_user"]);
    assert_eq!(
        policy.using.as_deref(),
        Some("(user_id = (current_setting('app.user_id'::text))::bigint)")
    );
    assert_eq!(
        orders.grants,
        vec![
            grant("app_user", &["INSERT", "SELECT"]),
            grant("reporting", &["SELECT"])
        ]
    );
    assert_eq!(
        orders.triggers["orders_touch"].definition,
        "CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW \
         EXECUTE FUNCTION app.touch()"
    );
    assert_eq!(orders.owner, "");

    // Functions: identity arguments with names, config, grants after REVOKE … FROM PUBLIC.
    let key = "app.order_total(p_user_id bigint, p_status app.order_status)";
    let f = &m.functions[key];
    assert_eq!(f.returns.as_deref(), Some("numeric"));
    assert_eq!(f.language, "sql");
    assert_eq!(f.volatility, "stable");
    assert!(f.security_definer && !f.strict);
    assert_eq!(f.config, vec!["search_path=pg_catalog, app"]);
    assert_eq!(f.grants, vec![grant("app_user", &["EXECUTE"])]);
    assert_eq!(f.comment.as_deref(), Some("Sum of a user's orders"));
    assert!(f
        .definition
        .starts_with("CREATE OR REPLACE FUNCTION app.order_total("));
    assert!(f.definition.ends_with("$$"));
    let touch = &m.functions["app.touch()"];
    assert_eq!(touch.returns.as_deref(), Some("trigger"));
    assert_eq!(touch.grants, vec![grant("PUBLIC", &["EXECUTE"])]);

    // The view.
    let v = &m.views["app.paid_orders"];
    assert_eq!(v.columns, vec!["id", "amount"]);
    assert_eq!(v.grants, vec![grant("reporting", &["SELECT"])]);

    // Locations: statements, and column and inline constraint lines.
    let users_file = "db/schema/10_tables/users.sql".to_string();
    assert_eq!(at(&l, "table", "app.users"), (users_file.clone(), 3, 1));
    assert_eq!(
        at(&l, "column", "app.users.email"),
        (users_file.clone(), 5, 5)
    );
    assert_eq!(
        at(&l, "constraint", "app.users.users_email_key"),
        (users_file.clone(), 5, 5)
    );
    assert_eq!(
        at(&l, "constraint", "app.users.users_display_name_check"),
        (users_file.clone(), 8, 5)
    );
    assert_eq!(
        at(&l, "index", "app.users.users_lower_email_idx"),
        (users_file.clone(), 12, 1)
    );
    assert_eq!(at(&l, "sequence", "app.users_id_seq"), (users_file, 4, 5));
    let orders_file = "db/schema/10_tables/orders.sql".to_string();
    assert_eq!(
        at(&l, "column", "app.orders.created_at"),
        (orders_file.clone(), 11, 35)
    );
    assert_eq!(
        at(&l, "constraint", "app.orders.orders_note_len"),
        (orders_file.clone(), 13, 28)
    );
    assert_eq!(
        at(&l, "index", "app.orders.orders_user_id_idx"),
        (orders_file, 9, 1)
    );
    assert_eq!(
        at(&l, "function", key),
        ("db/schema/20_functions/order_total.sql".to_string(), 1, 1)
    );
    assert_eq!(
        at(&l, "type", "app.order_status"),
        ("db/schema/00_common/schemas.sql".to_string(), 5, 1)
    );
    assert_eq!(
        at(&l, "schema", "app"),
        ("db/schema/00_common/schemas.sql".to_string(), 1, 1)
    );
    assert_eq!(
        at(&l, "view", "app.paid_orders").1,
        11,
        "the view's statement line"
    );
}

#[test]
fn serial_columns_own_a_sequence_like_postgres_makes() {
    let m = one(
        "CREATE TABLE t (id serial, small smallserial, big bigserial PRIMARY KEY);\n\
         CREATE SEQUENCE t_id_seq1;\n\
         CREATE TABLE u (t_id_seq int);\n\
         ALTER TABLE t ADD COLUMN extra serial;",
    );
    let id = column(&m, "public.t", "id");
    assert_eq!(id.data_type, "integer");
    assert!(id.not_null);
    assert_eq!(
        id.default.as_deref(),
        Some("nextval('public.t_id_seq'::regclass)")
    );
    assert_eq!(column(&m, "public.t", "small").data_type, "smallint");
    assert_eq!(m.sequences["public.t_small_seq"].max, i64::from(i16::MAX));
    let seq = &m.sequences["public.t_id_seq"];
    assert_eq!(
        (
            seq.data_type.as_str(),
            seq.start,
            seq.min,
            seq.max,
            seq.cache
        ),
        ("integer", 1, 1, i64::from(i32::MAX), 1)
    );
    assert_eq!(seq.owned_by.as_deref(), Some("public.t.id"));
    assert_eq!(m.sequences["public.t_big_seq"].data_type, "bigint");
    assert_eq!(
        column(&m, "public.t", "extra").default.as_deref(),
        Some("nextval('public.t_extra_seq'::regclass)")
    );
    // A sequence created by hand is not owned.
    assert_eq!(m.sequences["public.t_id_seq1"].owned_by, None);
    assert_eq!(m.sequences["public.t_id_seq1"].data_type, "bigint");
}

#[test]
fn unnamed_constraints_and_indexes_get_postgres_default_names() {
    let m = one("CREATE TABLE dup (a int CHECK (a > 0) CHECK (a < 100), \
             CONSTRAINT dup_a_check2 CHECK (a <> 50), b int, CHECK (a > 0), \
             CHECK (a < b), UNIQUE (a, b), UNIQUE (b));\n\
         CREATE TABLE fk (x int, y int, FOREIGN KEY (x, y) REFERENCES dup (a, b), \
             z int REFERENCES dup (b), \
             EXCLUDE USING gist (x WITH =));\n\
         CREATE INDEX ON fk (x, y, x);\n\
         CREATE INDEX ON fk ((x + y));\n\
         CREATE INDEX ON fk (lower(z::text));\n\
         CREATE INDEX ON fk (x);\n\
         CREATE INDEX ON fk (x);\n\
         CREATE TABLE t_long_name_that_goes_on_and_on_and_on_and_on_forever_and_ever \
             (column_with_a_really_long_name_too_for_testing int UNIQUE);");
    let dup = &m.tables["public.dup"];
    let names: Vec<&str> = dup.constraints.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "dup_a_b_key",
            "dup_a_check",
            "dup_a_check1",
            "dup_a_check2",
            "dup_a_check3",
            "dup_b_key",
            "dup_check"
        ]
    );
    assert_eq!(constraint(&m, "public.dup", "dup_check"), "CHECK ((a < b))");
    let fk = &m.tables["public.fk"];
    assert_eq!(
        fk.constraints["fk_x_y_fkey"].definition,
        "FOREIGN KEY (x, y) REFERENCES public.dup(a, b)"
    );
    assert_eq!(
        fk.constraints["fk_z_fkey"].definition,
        "FOREIGN KEY (z) REFERENCES public.dup(b)"
    );
    assert_eq!(
        fk.constraints["fk_x_excl"].definition,
        "EXCLUDE USING gist (x WITH =)"
    );
    let indexes: Vec<&str> = fk.indexes.keys().map(String::as_str).collect();
    assert_eq!(
        indexes,
        vec![
            "fk_expr_idx",
            "fk_lower_idx",
            "fk_x_idx",
            "fk_x_idx1",
            "fk_x_y_x1_idx"
        ]
    );
    assert_eq!(
        fk.indexes["fk_expr_idx"].definition,
        "CREATE INDEX fk_expr_idx ON public.fk USING btree (((x + y)))"
    );
    assert_eq!(
        fk.indexes["fk_lower_idx"].definition,
        "CREATE INDEX fk_lower_idx ON public.fk USING btree (lower((z)::text))"
    );
    let long = &m.tables["public.t_long_name_that_goes_on_and_on_and_on_and_on_forever_and_ever"];
    assert_eq!(
        long.constraints.keys().next().map(String::as_str),
        Some("t_long_name_that_goes_on_and__column_with_a_really_long_nam_key")
    );
}

#[test]
fn alter_table_keeps_the_model_consistent() {
    let m = one(
        "CREATE TABLE a (id int PRIMARY KEY, lo int, hi int, name varchar(40) COLLATE \"C\", \
             kind text, ratio real, code char(3) NOT NULL UNIQUE, CHECK (lo < hi));\n\
         CREATE INDEX a_ratio_idx ON a (ratio);\n\
         CREATE TABLE r (id int PRIMARY KEY, a_id int);\n\
         ALTER TABLE a RENAME COLUMN lo TO low;\n\
         ALTER TABLE a DROP COLUMN ratio;\n\
         ALTER TABLE a ALTER COLUMN name TYPE varchar(60);\n\
         ALTER TABLE a ALTER COLUMN kind SET DEFAULT 'a', ALTER COLUMN code DROP NOT NULL;\n\
         ALTER TABLE a ADD COLUMN email text, \
             ADD CONSTRAINT a_email_chk CHECK (email LIKE '%@%') NOT VALID;\n\
         ALTER TABLE r ADD FOREIGN KEY (a_id) REFERENCES a ON UPDATE CASCADE ON DELETE SET NULL NOT VALID;\n\
         ALTER TABLE a RENAME CONSTRAINT a_code_key TO a_code_uq;\n\
         ALTER TABLE a VALIDATE CONSTRAINT a_email_chk;\n\
         ALTER TABLE a RENAME TO accounts;\n\
         ALTER TABLE accounts RENAME COLUMN id TO account_id;\n\
         ALTER TABLE accounts OWNER TO alice;\n\
         ALTER TABLE accounts ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\n\
         ALTER TABLE accounts ALTER COLUMN kind DROP DEFAULT;",
    );
    assert!(!m.tables.contains_key("public.a"));
    let t = &m.tables["public.accounts"];
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["account_id", "low", "hi", "name", "kind", "code", "email"]
    );
    assert_eq!(t.constraints["a_check"].definition, "CHECK ((low < hi))");
    assert_eq!(
        t.constraints["a_pkey"].definition,
        "PRIMARY KEY (account_id)"
    );
    assert_eq!(t.constraints["a_code_uq"].definition, "UNIQUE (code)");
    let email = &t.constraints["a_email_chk"];
    assert!(email.validated);
    assert_eq!(email.definition, "CHECK ((email ~~ '%@%'::text))");
    // The index on the dropped column went with it.
    assert!(t.indexes.is_empty());
    let name = column(&m, "public.accounts", "name");
    assert_eq!(name.data_type, "character varying(60)");
    assert_eq!(name.collation, None);
    assert_eq!(column(&m, "public.accounts", "kind").default, None);
    assert!(!column(&m, "public.accounts", "code").not_null);
    assert_eq!(t.owner, "alice");
    assert!(t.rls_enabled && t.rls_forced);
    let fk = &m.tables["public.r"].constraints["r_a_id_fkey"];
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (a_id) REFERENCES public.accounts(account_id) \
         ON UPDATE CASCADE ON DELETE SET NULL NOT VALID"
    );
    assert_eq!(fk.references.as_deref(), Some("public.accounts"));
    assert!(!fk.validated);
}

#[test]
fn renames_and_drops_move_locations() {
    let (m, l, _) = build(&[
        src(
            "a.sql",
            "CREATE TABLE t (id int PRIMARY KEY, x int);\nCREATE INDEX t_x ON t (x);",
        ),
        src(
            "b.sql",
            "ALTER TABLE t RENAME TO t2;\nALTER INDEX t_x RENAME TO t2_x;\n\
             ALTER TABLE t2 RENAME COLUMN x TO y;\nCREATE TABLE gone (a int);\nDROP TABLE gone;",
        ),
    ]);
    assert_eq!(at(&l, "table", "public.t2"), ("a.sql".into(), 1, 1));
    assert_eq!(at(&l, "column", "public.t2.y"), ("a.sql".into(), 1, 37));
    assert_eq!(at(&l, "index", "public.t2.t2_x"), ("a.sql".into(), 2, 1));
    assert!(l.get("table", "public.t").is_none());
    assert!(l.get("table", "public.gone").is_none());
    assert!(!m.tables.contains_key("public.gone"));
    assert_eq!(
        m.tables["public.t2"].indexes["t2_x"].definition,
        "CREATE INDEX t2_x ON public.t2 USING btree (y)"
    );
}

#[test]
fn unreadable_statements_are_reported_with_their_line() {
    let (m, _, unreadable) = build(&[
        src(
            "bad.sql",
            "CREATE TABLE ok1 (id int);\n\nCREATE TABLE broken (id int,,);\nCREATE TABLE ok2 (id int);\n",
        ),
        src("open.sql", "CREATE TABLE x (a text DEFAULT 'oops);\n"),
        src("tail.sql", "CREATE TABLE ok3 (id int);\nCREATE TABLE last (id int)\n"),
    ]);
    assert!(m.tables.contains_key("public.ok1"));
    assert!(m.tables.contains_key("public.ok2"));
    assert!(m.tables.contains_key("public.ok3"));
    // A last statement without its semicolon is reported, and still read.
    assert!(m.tables.contains_key("public.last"));
    assert_eq!(unreadable.len(), 3, "{unreadable:?}");
    assert_eq!(unreadable[0].file, PathBuf::from("bad.sql"));
    assert_eq!(unreadable[0].line, 3);
    assert!(
        unreadable[0].message.contains("syntax error"),
        "{}",
        unreadable[0].message
    );
    assert_eq!(unreadable[1].file, PathBuf::from("open.sql"));
    assert_eq!(unreadable[1].line, 1);
    assert!(unreadable[1].message.contains("quoted string"));
    assert_eq!(unreadable[2].file, PathBuf::from("tail.sql"));
    assert_eq!(unreadable[2].line, 2);
}

#[test]
fn partitions_and_inheritance_follow_their_parent() {
    let m = one(
        "CREATE TABLE m (id bigint, at timestamp(3) NOT NULL, region text, \
             CHECK (id > 0)) PARTITION BY RANGE (at);\n\
         CREATE INDEX ON m (at);\n\
         ALTER TABLE m ADD PRIMARY KEY (id, at);\n\
         CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n\
         CREATE TABLE m_rest (LIKE m);\n\
         ALTER TABLE m ATTACH PARTITION m_rest DEFAULT;\n\
         CREATE TABLE l (r text) PARTITION BY LIST (lower(r));\n\
         CREATE TABLE l_eu PARTITION OF l FOR VALUES IN ('eu', 'fr');\n\
         CREATE TABLE base (a int CHECK (a > 0), b text);\n\
         CREATE TABLE derived (c int, a int) INHERITS (base);\n\
         CREATE UNLOGGED TABLE cache (k text PRIMARY KEY);",
    );
    let parent = &m.tables["public.m"];
    assert_eq!(parent.partition_by.as_deref(), Some("RANGE (at)"));
    assert_eq!(
        parent.indexes["m_at_idx"].definition,
        "CREATE INDEX m_at_idx ON ONLY public.m USING btree (at)"
    );
    let p = &m.tables["public.m_2024"];
    let of = p.partition_of.as_ref().expect("a partition");
    assert_eq!(of.parent, "public.m");
    assert_eq!(of.bound, "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
    assert!(p.columns.iter().all(|c| c.inherited));
    assert_eq!(
        column(&m, "public.m_2024", "at").data_type,
        "timestamp(3) without time zone"
    );
    let pk = &p.constraints["m_2024_pkey"];
    assert!(pk.inherited);
    assert_eq!(pk.definition, "PRIMARY KEY (id, at)");
    assert!(p.constraints["m_id_check"].inherited);
    assert_eq!(
        p.indexes["m_2024_at_idx"].definition,
        "CREATE INDEX m_2024_at_idx ON public.m_2024 USING btree (at)"
    );
    assert!(p.indexes["m_2024_at_idx"].inherited);
    let rest = &m.tables["public.m_rest"];
    assert_eq!(
        rest.partition_of.as_ref().map(|p| p.bound.as_str()),
        Some("DEFAULT")
    );
    assert!(rest.constraints.contains_key("m_rest_pkey"));
    assert!(rest.indexes.contains_key("m_rest_at_idx"));
    assert_eq!(
        m.tables["public.l"].partition_by.as_deref(),
        Some("LIST (lower(r))")
    );
    assert_eq!(
        m.tables["public.l_eu"]
            .partition_of
            .as_ref()
            .map(|p| p.bound.as_str()),
        Some("FOR VALUES IN ('eu', 'fr')")
    );
    let derived = &m.tables["public.derived"];
    assert_eq!(derived.inherits, vec!["public.base"]);
    let cols: Vec<(&str, bool)> = derived
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.inherited))
        .collect();
    assert_eq!(cols, vec![("a", false), ("b", true), ("c", false)]);
    assert!(derived.constraints["base_a_check"].inherited);
    assert_eq!(m.tables["public.cache"].persistence, "unlogged");
    assert_eq!(m.tables["public.m"].persistence, "permanent");
}

#[test]
fn grants_start_from_postgres_defaults() {
    let m = one(
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n\
         ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;\n\
         CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 1';\n\
         CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1';\n\
         GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO bob;\n\
         CREATE SCHEMA s AUTHORIZATION owner_role;\n\
         GRANT ALL ON SCHEMA s TO reader;\n\
         REVOKE CREATE ON SCHEMA s FROM reader;\n\
         CREATE TABLE s.t (id int);\n\
         CREATE VIEW s.v AS SELECT id FROM s.t;\n\
         CREATE SEQUENCE s.q;\n\
         GRANT SELECT ON ALL TABLES IN SCHEMA s TO reader;\n\
         GRANT ALL ON s.t TO writer, PUBLIC;\n\
         REVOKE TRUNCATE ON s.t FROM writer;\n\
         GRANT USAGE, SELECT ON SEQUENCE s.q TO reader;\n\
         GRANT UPDATE (id) ON s.t TO column_only;\n\
         ALTER TABLE s.t OWNER TO writer;",
    );
    assert_eq!(
        m.functions["public.f()"].grants,
        vec![grant("PUBLIC", &["EXECUTE"]), grant("bob", &["EXECUTE"])]
    );
    assert_eq!(
        m.functions["public.g()"].grants,
        vec![grant("bob", &["EXECUTE"])]
    );
    // ALL FUNCTIONS leaves procedures out.
    assert!(m.functions["public.p()"].grants.is_empty());
    assert_eq!(m.functions["public.p()"].kind, "procedure");
    assert_eq!(m.schemas["s"].owner, "owner_role");
    assert_eq!(m.schemas["s"].grants, vec![grant("reader", &["USAGE"])]);
    let all = [
        "DELETE",
        "INSERT",
        "MAINTAIN",
        "REFERENCES",
        "SELECT",
        "TRIGGER",
        "TRUNCATE",
        "UPDATE",
    ];
    // The owner's own privileges are left out, as in the catalog's reading.
    assert_eq!(
        m.tables["s.t"].grants,
        vec![grant("PUBLIC", &all), grant("reader", &["SELECT"])]
    );
    assert_eq!(m.views["s.v"].grants, vec![grant("reader", &["SELECT"])]);
    assert_eq!(
        m.sequences["s.q"].grants,
        vec![grant("reader", &["SELECT", "USAGE"])]
    );
}

#[test]
fn expressions_print_like_the_catalog() {
    let m = one("CREATE EXTENSION \"uuid-ossp\";\n\
         CREATE TABLE e (\n\
           id uuid DEFAULT uuid_generate_v4(),\n\
           id2 uuid DEFAULT gen_random_uuid(),\n\
           code varchar(10) CHECK (code IN ('a', 'b')),\n\
           code2 varchar(10) CHECK (code2 LIKE 'x%'),\n\
           price numeric CHECK (price > 0.5),\n\
           qty int CHECK (qty > 0 AND qty < 1000),\n\
           who text DEFAULT CURRENT_USER,\n\
           data jsonb CHECK (data ? 'k') CHECK (data->>'k' <> ''),\n\
           tags text[] DEFAULT '{}' CHECK ('x' = ANY (tags)),\n\
           created timestamptz DEFAULT now() - interval '1 day',\n\
           flag boolean DEFAULT 'yes' CHECK (flag IS TRUE),\n\
           y int CHECK (EXTRACT(year FROM created) > 2000),\n\
           s text CHECK (trim(s) <> ''),\n\
           s3 text CHECK (char_length(s3) BETWEEN 1 AND 10),\n\
           s4 text DEFAULT ('a' || 'b'),\n\
           f int CHECK (f::text <> '0'),\n\
           g text CHECK (g = 'x' OR g = 'y' OR g IS NULL),\n\
           j text CHECK (j NOT IN ('a', 'b')),\n\
           w text CHECK (CASE WHEN qty > 0 THEN w IS NOT NULL ELSE true END),\n\
           l text DEFAULT 'it''s',\n\
           m numeric(10,2) DEFAULT 0.00,\n\
           n numeric DEFAULT '5',\n\
           o int DEFAULT -5,\n\
           i int DEFAULT '7',\n\
           z text DEFAULT NULL,\n\
           gen int GENERATED ALWAYS AS (qty * 2) STORED\n\
         );\n\
         CREATE INDEX e_gin ON e USING gin (data jsonb_path_ops);\n\
         CREATE INDEX e_cast ON e ((data->>'k'));\n\
         CREATE INDEX e_nulls ON e (qty NULLS FIRST, price DESC NULLS LAST, s COLLATE \"C\");");
    let default = |c: &str| column(&m, "public.e", c).default.clone();
    assert_eq!(default("id").as_deref(), Some("public.uuid_generate_v4()"));
    assert_eq!(default("id2").as_deref(), Some("gen_random_uuid()"));
    assert_eq!(default("who").as_deref(), Some("CURRENT_USER"));
    assert_eq!(default("tags").as_deref(), Some("'{}'::text[]"));
    assert_eq!(
        default("created").as_deref(),
        Some("(now() - '1 day'::interval)")
    );
    assert_eq!(default("flag").as_deref(), Some("true"));
    assert_eq!(default("s4").as_deref(), Some("('a'::text || 'b'::text)"));
    assert_eq!(default("l").as_deref(), Some("'it''s'::text"));
    assert_eq!(default("m").as_deref(), Some("0.00"));
    assert_eq!(default("n").as_deref(), Some("'5'::numeric"));
    assert_eq!(default("o").as_deref(), Some("'-5'::integer"));
    assert_eq!(default("i").as_deref(), Some("7"));
    assert_eq!(default("z"), None);
    assert_eq!(
        column(&m, "public.e", "gen").generated.as_deref(),
        Some("(qty * 2)")
    );
    let check = |name: &str| constraint(&m, "public.e", name).to_string();
    assert_eq!(
        check("e_code_check"),
        "CHECK (((code)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))"
    );
    assert_eq!(
        check("e_code2_check"),
        "CHECK (((code2)::text ~~ 'x%'::text))"
    );
    assert_eq!(check("e_price_check"), "CHECK ((price > 0.5))");
    assert_eq!(check("e_qty_check"), "CHECK (((qty > 0) AND (qty < 1000)))");
    assert_eq!(check("e_data_check"), "CHECK ((data ? 'k'::text))");
    assert_eq!(
        check("e_data_check1"),
        "CHECK (((data ->> 'k'::text) <> ''::text))"
    );
    assert_eq!(check("e_tags_check"), "CHECK (('x'::text = ANY (tags)))");
    assert_eq!(check("e_flag_check"), "CHECK ((flag IS TRUE))");
    assert_eq!(
        check("e_created_check"),
        "CHECK ((EXTRACT(year FROM created) > (2000)::numeric))"
    );
    assert_eq!(
        check("e_s_check"),
        "CHECK ((TRIM(BOTH FROM s) <> ''::text))"
    );
    assert_eq!(
        check("e_s3_check"),
        "CHECK (((char_length(s3) >= 1) AND (char_length(s3) <= 10)))"
    );
    assert_eq!(check("e_f_check"), "CHECK (((f)::text <> '0'::text))");
    assert_eq!(
        check("e_g_check"),
        "CHECK (((g = 'x'::text) OR (g = 'y'::text) OR (g IS NULL)))"
    );
    assert_eq!(
        check("e_j_check"),
        "CHECK ((j <> ALL (ARRAY['a'::text, 'b'::text])))"
    );
    assert_eq!(
        check("e_check"),
        "CHECK (\nCASE\n    WHEN (qty > 0) THEN (w IS NOT NULL)\n    ELSE true\nEND)"
    );
    let index = |name: &str| m.tables["public.e"].indexes[name].definition.clone();
    assert_eq!(
        index("e_gin"),
        "CREATE INDEX e_gin ON public.e USING gin (data jsonb_path_ops)"
    );
    assert_eq!(
        index("e_cast"),
        "CREATE INDEX e_cast ON public.e USING btree (((data ->> 'k'::text)))"
    );
    assert_eq!(
        index("e_nulls"),
        "CREATE INDEX e_nulls ON public.e USING btree (qty NULLS FIRST, price DESC NULLS LAST, s COLLATE \"C\")"
    );
}

#[test]
fn functions_are_keyed_by_their_identity_arguments() {
    let m = one(
        "CREATE FUNCTION f(p_id integer, OUT r text, INOUT x int, VARIADIC v text[]) \
             RETURNS record LANGUAGE sql AS $$ SELECT 'a', 1 $$;\n\
         CREATE PROCEDURE p(a int, OUT b int) LANGUAGE plpgsql AS $$ BEGIN b := a; END $$;\n\
         CREATE FUNCTION g(text) RETURNS SETOF pg_class LANGUAGE sql STABLE STRICT \
             SECURITY DEFINER SET search_path = pg_catalog, public SET work_mem = '64MB' \
             SET timezone = 'UTC' AS $$ SELECT * FROM pg_class $$;\n\
         CREATE FUNCTION h() RETURNS TABLE(a int, b text) LANGUAGE sql SET search_path = '' \
             AS $$ SELECT 1, 'x' $$;\n\
         CREATE PROCEDURE q() LANGUAGE sql SET search_path FROM CURRENT AS 'SELECT 1';\n\
         CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE RETURN a + b;\n\
         CREATE FUNCTION add(a numeric, b numeric) RETURNS numeric LANGUAGE sql RETURN a + b;\n\
         ALTER FUNCTION add(numeric, numeric) OWNER TO alice;\n\
         ALTER FUNCTION add(int, int) SECURITY DEFINER SET search_path = app;\n\
         ALTER FUNCTION h RESET search_path;\n\
         COMMENT ON FUNCTION add(numeric, numeric) IS 'numeric';",
    );
    let f = &m.functions["public.f(p_id integer, OUT r text, INOUT x integer, VARIADIC v text[])"];
    assert_eq!(f.returns.as_deref(), Some("record"));
    assert_eq!(f.volatility, "volatile");
    let p = &m.functions["public.p(IN a integer, OUT b integer)"];
    assert_eq!((p.kind.as_str(), p.returns.as_deref()), ("procedure", None));
    assert_eq!(p.language, "plpgsql");
    let g = &m.functions["public.g(text)"];
    assert_eq!(g.returns.as_deref(), Some("SETOF public.pg_class"));
    assert!(g.strict && g.security_definer);
    assert_eq!(
        g.config,
        vec![
            "search_path=pg_catalog, public",
            "work_mem=64MB",
            "TimeZone=UTC"
        ]
    );
    let h = &m.functions["public.h()"];
    assert_eq!(h.returns.as_deref(), Some("TABLE(a integer, b text)"));
    assert!(h.config.is_empty());
    assert_eq!(
        m.functions["public.q()"].config,
        vec!["search_path=\"$user\", public"]
    );
    let add = &m.functions["public.add(a integer, b integer)"];
    assert!(add.security_definer);
    assert_eq!(add.config, vec!["search_path=app"]);
    let add2 = &m.functions["public.add(a numeric, b numeric)"];
    assert_eq!(add2.owner, "alice");
    assert_eq!(add2.comment.as_deref(), Some("numeric"));
}

#[test]
fn views_types_sequences_and_triggers() {
    let m = one("CREATE TABLE t (id int, name text);\n\
         CREATE VIEW v1 AS SELECT * FROM t;\n\
         CREATE VIEW v2 (ident) AS SELECT id, upper(name), 1 FROM v1;\n\
         CREATE MATERIALIZED VIEW mv AS SELECT id FROM v2;\n\
         CREATE UNIQUE INDEX ON mv (id);\n\
         CREATE OR REPLACE VIEW v1 AS SELECT t.* FROM t;\n\
         COMMENT ON VIEW v1 IS 'all of t';\n\
         CREATE TYPE pair AS (x int, y varchar(5));\n\
         CREATE DOMAIN posint AS int DEFAULT 1 CHECK (VALUE > 0);\n\
         ALTER DOMAIN posint SET NOT NULL;\n\
         CREATE SEQUENCE c AS smallint INCREMENT BY -2 CACHE 10 CYCLE;\n\
         CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
         CREATE TRIGGER v_ins INSTEAD OF INSERT ON v1 FOR EACH ROW EXECUTE FUNCTION trg();\n\
         CREATE TRIGGER t_upd BEFORE INSERT OR UPDATE OF name ON t FOR EACH ROW \
             WHEN (NEW.name IS NOT NULL) EXECUTE FUNCTION trg('a', 1);\n\
         ALTER TABLE t DISABLE TRIGGER t_upd;");
    assert_eq!(m.views["public.v1"].columns, vec!["id", "name"]);
    assert_eq!(m.views["public.v1"].comment.as_deref(), Some("all of t"));
    assert_eq!(
        m.views["public.v2"].columns,
        vec!["ident", "upper", "?column?"]
    );
    assert_eq!(m.views["public.v2"].depth, 1);
    let mv = &m.views["public.mv"];
    assert!(mv.materialized);
    assert_eq!(mv.depth, 2);
    assert_eq!(
        mv.indexes["mv_id_idx"].definition,
        "CREATE UNIQUE INDEX mv_id_idx ON public.mv USING btree (id)"
    );
    assert_eq!(
        m.types["public.pair"].kind,
        TypeKind::Composite {
            attributes: vec![
                ("x".into(), "integer".into()),
                ("y".into(), "character varying(5)".into())
            ]
        }
    );
    match &m.types["public.posint"].kind {
        TypeKind::Domain {
            default,
            not_null,
            checks,
            ..
        } => {
            assert_eq!(default.as_deref(), Some("1"));
            assert!(*not_null);
            assert_eq!(checks["posint_check"], "CHECK ((VALUE > 0))");
        }
        other => panic!("{other:?}"),
    }
    let c = &m.sequences["public.c"];
    assert_eq!(
        (
            c.data_type.as_str(),
            c.start,
            c.increment,
            c.min,
            c.max,
            c.cache,
            c.cycle
        ),
        ("smallint", -1, -2, i64::from(i16::MIN), -1, 10, true)
    );
    assert_eq!(
        m.views["public.v1"].triggers["v_ins"].definition,
        "CREATE TRIGGER v_ins INSTEAD OF INSERT ON public.v1 FOR EACH ROW EXECUTE FUNCTION public.trg()"
    );
    let t = &m.tables["public.t"].triggers["t_upd"];
    assert_eq!(
        t.definition,
        "CREATE TRIGGER t_upd BEFORE INSERT OR UPDATE OF name ON public.t FOR EACH ROW \
         WHEN ((new.name IS NOT NULL)) EXECUTE FUNCTION public.trg('a', '1')"
    );
    assert_eq!(t.enabled, "D");
}

#[test]
fn the_search_path_decides_where_unqualified_names_go() {
    let m = one(
        "CREATE SCHEMA app;\n\
         CREATE TABLE before (id int);\n\
         SET search_path TO app, public;\n\
         CREATE TYPE mood AS ENUM ('ok');\n\
         CREATE TABLE inside (m mood, b_id int REFERENCES before (id));\n\
         CREATE SCHEMA rep CREATE TABLE daily (d date PRIMARY KEY) CREATE VIEW recent AS SELECT d FROM daily;\n\
         RESET search_path;\n\
         CREATE TABLE after (id int);",
    );
    assert!(m.tables.contains_key("public.before"));
    assert!(m.tables.contains_key("app.inside"));
    assert!(m.tables.contains_key("public.after"));
    assert!(m.tables.contains_key("rep.daily"));
    assert!(m.views.contains_key("rep.recent"));
    assert_eq!(column(&m, "app.inside", "m").data_type, "app.mood");
    assert_eq!(
        m.tables["app.inside"].constraints["inside_b_id_fkey"]
            .references
            .as_deref(),
        Some("public.before")
    );
}

#[test]
fn a_foreign_key_written_before_its_target_gets_the_target_key() {
    let (m, _, _) = build(&[
        src(
            "a.sql",
            "CREATE TABLE child (parent_id int REFERENCES parent);",
        ),
        src("b.sql", "CREATE TABLE parent (id int PRIMARY KEY);"),
    ]);
    assert_eq!(
        m.tables["public.child"].constraints["child_parent_id_fkey"].definition,
        "FOREIGN KEY (parent_id) REFERENCES public.parent(id)"
    );
}

#[test]
fn names_longer_than_postgres_keeps_are_given_as_written() {
    let long_table = format!("t_{}", "a".repeat(70));
    let long_column = format!("moderation_status_{}", "x".repeat(60));
    let (m, l, _) = build(&[src(
        "long.sql",
        &format!(
            "CREATE TABLE app_{long_table} (id int PRIMARY KEY, {long_column} text);\n\
             COMMENT ON COLUMN app_{long_table}.{long_column} IS 'long';\n\
             CREATE TABLE other (r int REFERENCES app_{long_table});"
        ),
    )]);
    let key = format!("public.app_{long_table}");
    let t = &m.tables[&key];
    assert_eq!(t.name, format!("app_{long_table}"));
    assert_eq!(t.columns[1].name, long_column);
    assert_eq!(t.columns[1].comment.as_deref(), Some("long"));
    assert_eq!(
        m.tables["public.other"].constraints["other_r_fkey"]
            .references
            .as_deref(),
        Some(key.as_str())
    );
    assert!(l.get("table", &key).is_some());
    assert!(l.get("column", &format!("{key}.{long_column}")).is_some());
}

/// A DDL tree the size of a large project: 1,256 files, each one table with its indexes,
/// comments, a grant and a foreign key to the previous table.
fn large_tree() -> Vec<SourceText> {
    let mut files = vec![src("db/schema/00_schema.sql", "CREATE SCHEMA app;")];
    files.extend((0..1256).map(|i| {
        let fk = if i > 0 {
            format!(
                ",\n    parent_id bigint REFERENCES app.t{} (id) ON DELETE CASCADE",
                i - 1
            )
        } else {
            String::new()
        };
        let text = format!(
            "-- table {i}\n\
             CREATE TABLE app.t{i} (\n    \
                 id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    \
                 tenant_id uuid NOT NULL,\n    \
                 code varchar(40) NOT NULL,\n    \
                 name text NOT NULL DEFAULT '',\n    \
                 status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),\n    \
                 amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount >= 0),\n    \
                 data jsonb NOT NULL DEFAULT '{{}}',\n    \
                 created_at timestamptz NOT NULL DEFAULT now(),\n    \
                 updated_at timestamptz,\n    \
                 deleted_at timestamptz{fk},\n    \
                 UNIQUE (tenant_id, code)\n\
             );\n\
             CREATE INDEX t{i}_tenant_idx ON app.t{i} (tenant_id, created_at DESC);\n\
             CREATE INDEX ON app.t{i} (lower(name)) WHERE deleted_at IS NULL;\n\
             COMMENT ON TABLE app.t{i} IS 'Table number {i}';\n\
             COMMENT ON COLUMN app.t{i}.code IS 'Business code';\n\
             COMMENT ON COLUMN app.t{i}.status IS 'Lifecycle';\n\
             GRANT SELECT ON app.t{i} TO reporting;\n"
        );
        src(&format!("db/schema/10_tables/t{i:04}.sql"), &text)
    }));
    files
}

#[test]
#[ignore = "timing: cargo test --release -p confiture-lint -- --ignored --nocapture"]
fn a_large_tree_builds_fast() {
    let files = large_tree();
    // The best of a few runs: the machine may be busy with something else.
    let mut elapsed = std::time::Duration::MAX;
    let mut built = None;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let result = build(&files);
        elapsed = elapsed.min(start.elapsed());
        built = Some(result);
    }
    let (model, locations, unreadable) = built.expect("built");
    println!(
        "static model of {} files ({} statements): {} tables, {} locations in {elapsed:?}",
        files.len(),
        files
            .iter()
            .map(|f| f.text.matches(';').count())
            .sum::<usize>(),
        model.tables.len(),
        locations.objects.len()
    );
    assert!(unreadable.is_empty(), "{unreadable:?}");
    assert_eq!(model.tables.len(), 1256);
    assert_eq!(
        model.tables["app.t1"].constraints["t1_parent_id_fkey"].definition,
        "FOREIGN KEY (parent_id) REFERENCES app.t0(id) ON DELETE CASCADE"
    );
    assert!(elapsed.as_secs_f64() < 0.3, "{elapsed:?}");
}
