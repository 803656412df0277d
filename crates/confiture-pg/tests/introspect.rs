//! Catalog introspection against a real server: a realistic schema in a fresh database, read
//! back into the model.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use confiture_core::schema::{Grant, Schema, TypeKind};
use confiture_pg::introspect::introspect;
use confiture_pg::{ConnEnv, ConnTarget};
use confiture_testkit::TestDb;

static ROLES: AtomicUsize = AtomicUsize::new(0);

fn target(url: &str) -> ConnTarget {
    let env = ConnEnv {
        var: &|_| None,
        home: None,
        os_user: None,
    };
    ConnTarget::resolve(url, &env).expect("test url")
}

/// A role name no other test (or test process) on the cluster uses.
fn unique_role() -> String {
    format!(
        "intro_reader_{}_{}",
        std::process::id(),
        ROLES.fetch_add(1, Ordering::SeqCst)
    )
}

fn fixture(role: &str) -> String {
    format!(
        r#"
CREATE ROLE {role} NOLOGIN;
CREATE SCHEMA app;
CREATE SCHEMA audit;
COMMENT ON SCHEMA app IS 'Application objects';
GRANT USAGE ON SCHEMA app TO {role};

CREATE TYPE app.status AS ENUM ('draft', 'active', 'archived');
ALTER TYPE app.status ADD VALUE 'pending' BEFORE 'active';
COMMENT ON TYPE app.status IS 'Lifecycle';
CREATE DOMAIN app.email AS text COLLATE "C" DEFAULT 'nobody@example.com' NOT NULL
    CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
CREATE TYPE app.amount AS (currency char(3), cents bigint);

CREATE TABLE app.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email app.email UNIQUE,
    name varchar(80) COLLATE "C" NOT NULL,
    status app.status NOT NULL DEFAULT 'draft',
    balance app.amount,
    CONSTRAINT name_not_blank CHECK (name <> '')
);
COMMENT ON TABLE app.customers IS 'People who buy';
COMMENT ON COLUMN app.customers.email IS 'Login';

CREATE TABLE app.orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL,
    quantity int NOT NULL,
    unit_cents int NOT NULL,
    total_cents bigint GENERATED ALWAYS AS (quantity::bigint * unit_cents) STORED,
    during tsrange,
    note text,
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES app.customers (id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT orders_no_overlap EXCLUDE USING gist (during WITH &&)
);
ALTER TABLE app.orders ADD CONSTRAINT quantity_positive CHECK (quantity > 0) NOT VALID;
COMMENT ON CONSTRAINT quantity_positive ON app.orders IS 'Checked later';
CREATE INDEX orders_lower_note ON app.orders (lower(note));
CREATE INDEX orders_open ON app.orders (customer_id) WHERE note IS NULL;
CREATE UNIQUE INDEX orders_customer_id_uq ON app.orders (customer_id, id);
COMMENT ON INDEX app.orders_open IS 'Open orders';

CREATE TABLE audit.events (
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    payload jsonb,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE audit.events_2024 PARTITION OF audit.events
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE audit.events_2025 PARTITION OF audit.events
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE INDEX events_at ON audit.events (at);
CREATE TABLE audit.event_notes (
    event_id bigint NOT NULL,
    event_at timestamptz NOT NULL,
    body text,
    CONSTRAINT event_notes_event_fk FOREIGN KEY (event_id, event_at) REFERENCES audit.events
);

CREATE TABLE app.base_log (id int, msg text CONSTRAINT msg_not_blank CHECK (msg <> ''));
CREATE TABLE app.error_log (code int) INHERITS (app.base_log);

CREATE UNLOGGED TABLE app.cache (k text PRIMARY KEY, v text);

CREATE VIEW app.active_customers AS
    SELECT id, email FROM app.customers WHERE status = 'active';
CREATE VIEW app.active_emails AS SELECT email FROM app.active_customers;
CREATE MATERIALIZED VIEW app.order_totals AS
    SELECT customer_id, sum(total_cents) AS total FROM app.orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_totals_customer ON app.order_totals (customer_id);
COMMENT ON VIEW app.active_customers IS 'Only active';

CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.note := coalesce(NEW.note, '');  -- never NULL
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.touch() IS 'Fills defaults';
CREATE TRIGGER orders_touch BEFORE INSERT ON app.orders
    FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER events_touch BEFORE UPDATE ON audit.events
    FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.orders DISABLE TRIGGER orders_touch;
CREATE FUNCTION app.customer_count(s app.status) RETURNS bigint
    LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, app
    AS $$ SELECT count(*) FROM app.customers WHERE status = s $$;
REVOKE ALL ON FUNCTION app.customer_count(app.status) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.customer_count(app.status) TO {role};
CREATE PROCEDURE app.archive(days int) LANGUAGE plpgsql AS $$
BEGIN
    UPDATE app.customers SET status = 'archived' WHERE false;
END
$$;
CREATE AGGREGATE app.total(int) (SFUNC = int4pl, STYPE = int);

ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.orders FORCE ROW LEVEL SECURITY;
CREATE POLICY orders_mine ON app.orders FOR SELECT TO {role} USING (customer_id > 0);
CREATE POLICY orders_small ON app.orders AS RESTRICTIVE FOR INSERT
    WITH CHECK (quantity < 100);

GRANT SELECT, INSERT ON app.customers TO {role};
GRANT SELECT ON app.active_customers TO PUBLIC;
GRANT USAGE ON SEQUENCE app.orders_id_seq TO {role};

CREATE TABLE public.tb_confiture (version text PRIMARY KEY);
"#
    )
}

fn grant(grantee: &str, privileges: &[&str]) -> Grant {
    Grant {
        grantee: grantee.into(),
        privileges: privileges.iter().map(|p| p.to_string()).collect(),
    }
}

#[tokio::test]
async fn introspects_a_realistic_schema() {
    let db = TestDb::new();
    let client = db.client().await;
    let role = unique_role();
    client
        .batch_execute(&fixture(&role))
        .await
        .expect("fixture");
    // An extension's objects are not the user's: none of them may show up.
    let citext = client
        .query_one(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'citext'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 1;
    if citext {
        client
            .batch_execute("CREATE EXTENSION citext SCHEMA public")
            .await
            .unwrap();
    }
    client
        .batch_execute("SET search_path = app, public")
        .await
        .unwrap();

    let s: Schema = introspect(&client, &target(&db.url))
        .await
        .expect("introspect");

    // The session's path is restored.
    let path: String = client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(path, "app, public");

    assert!(s.server_version >= 130000, "{}", s.server_version);

    // Schemas.
    assert_eq!(
        s.schemas.keys().collect::<Vec<_>>(),
        ["app", "audit", "public"]
    );
    let app = &s.schemas["app"];
    assert_eq!(app.comment.as_deref(), Some("Application objects"));
    assert_eq!(app.grants, vec![grant(&role, &["USAGE"])]);
    assert!(!app.owner.is_empty());

    // Extensions.
    assert_eq!(s.extensions["plpgsql"].schema, "pg_catalog");
    if citext {
        assert_eq!(s.extensions["citext"].schema, "public");
        assert!(!s.types.contains_key("public.citext"));
        assert!(
            s.functions.keys().all(|k| !k.starts_with("public.")),
            "{:?}",
            s.functions.keys().collect::<Vec<_>>()
        );
    }

    // Types.
    assert_eq!(
        s.types.keys().collect::<Vec<_>>(),
        ["app.amount", "app.email", "app.status"]
    );
    let status = &s.types["app.status"];
    assert_eq!(status.comment.as_deref(), Some("Lifecycle"));
    assert_eq!(
        status.kind,
        TypeKind::Enum {
            labels: vec![
                "draft".into(),
                "pending".into(),
                "active".into(),
                "archived".into()
            ]
        }
    );
    match &s.types["app.email"].kind {
        TypeKind::Domain {
            base,
            default,
            not_null,
            collation,
            checks,
        } => {
            assert_eq!(base, "text");
            assert_eq!(default.as_deref(), Some("'nobody@example.com'::text"));
            assert!(*not_null);
            assert_eq!(collation.as_deref(), Some("pg_catalog.C"));
            assert_eq!(checks["email_has_at"], "CHECK ((VALUE ~~ '%@%'::text))");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.types["app.amount"].kind,
        TypeKind::Composite {
            attributes: vec![
                ("currency".into(), "character(3)".into()),
                ("cents".into(), "bigint".into())
            ]
        }
    );

    // Sequences.
    let identity = &s.sequences["app.customers_id_seq"];
    assert!(identity.identity);
    assert_eq!(identity.owned_by.as_deref(), Some("app.customers.id"));
    assert_eq!(identity.data_type, "bigint");
    let serial = &s.sequences["app.orders_id_seq"];
    assert!(!serial.identity);
    assert_eq!(serial.owned_by.as_deref(), Some("app.orders.id"));
    assert_eq!(serial.data_type, "integer");
    assert_eq!(
        (
            serial.start,
            serial.increment,
            serial.min,
            serial.max,
            serial.cache,
            serial.cycle
        ),
        (1, 1, 1, i32::MAX as i64, 1, false)
    );
    assert_eq!(serial.grants, vec![grant(&role, &["USAGE"])]);

    // Tables.
    let mut table_keys: Vec<_> = s.tables.keys().map(String::as_str).collect();
    table_keys.sort();
    assert_eq!(
        table_keys,
        [
            "app.base_log",
            "app.cache",
            "app.customers",
            "app.error_log",
            "app.orders",
            "audit.event_notes",
            "audit.events",
            "audit.events_2024",
            "audit.events_2025",
            "public.tb_confiture"
        ]
    );
    let customers = &s.tables["app.customers"];
    assert_eq!(customers.persistence, "permanent");
    assert_eq!(customers.comment.as_deref(), Some("People who buy"));
    assert_eq!(
        customers
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["id", "email", "name", "status", "balance"]
    );
    let id = &customers.columns[0];
    assert_eq!(id.identity.as_deref(), Some("always"));
    assert!(id.not_null && id.default.is_none());
    let email = &customers.columns[1];
    assert_eq!(email.data_type, "app.email");
    assert_eq!(email.comment.as_deref(), Some("Login"));
    assert_eq!(
        email.collation, None,
        "the domain's collation is the default"
    );
    let name = &customers.columns[2];
    assert_eq!(name.data_type, "character varying(80)");
    assert_eq!(name.collation.as_deref(), Some("pg_catalog.C"));
    assert_eq!(
        customers.columns[3].default.as_deref(),
        Some("'draft'::app.status")
    );
    assert_eq!(customers.grants, vec![grant(&role, &["INSERT", "SELECT"])]);
    let pk = &customers.constraints["customers_pkey"];
    assert_eq!(pk.kind, "primary_key");
    assert_eq!(pk.definition, "PRIMARY KEY (id)");
    assert_eq!(customers.constraints["customers_email_key"].kind, "unique");
    assert_eq!(
        customers.constraints["name_not_blank"].definition,
        "CHECK (((name)::text <> ''::text))"
    );
    assert!(customers.indexes.is_empty(), "{:?}", customers.indexes);

    let orders = &s.tables["app.orders"];
    let by_name = |n: &str| orders.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(
        by_name("id").default.as_deref(),
        Some("nextval('app.orders_id_seq'::regclass)")
    );
    let total = by_name("total_cents");
    assert_eq!(
        total.generated.as_deref(),
        Some("((quantity)::bigint * unit_cents)")
    );
    assert_eq!(total.default, None);
    let fk = &orders.constraints["orders_customer_fk"];
    assert_eq!(fk.kind, "foreign_key");
    assert_eq!(fk.references.as_deref(), Some("app.customers"));
    assert_eq!(
        fk.definition,
        "FOREIGN KEY (customer_id) REFERENCES app.customers(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED"
    );
    assert!(fk.validated);
    let excl = &orders.constraints["orders_no_overlap"];
    assert_eq!(excl.kind, "exclusion");
    assert_eq!(excl.definition, "EXCLUDE USING gist (during WITH &&)");
    let nv = &orders.constraints["quantity_positive"];
    assert!(!nv.validated);
    assert_eq!(nv.comment.as_deref(), Some("Checked later"));
    assert_eq!(nv.definition, "CHECK ((quantity > 0)) NOT VALID");
    assert_eq!(
        orders.constraints.keys().collect::<Vec<_>>(),
        [
            "orders_customer_fk",
            "orders_no_overlap",
            "orders_pkey",
            "quantity_positive"
        ]
    );
    assert_eq!(
        orders.indexes.keys().collect::<Vec<_>>(),
        ["orders_customer_id_uq", "orders_lower_note", "orders_open"]
    );
    assert_eq!(
        orders.indexes["orders_lower_note"].definition,
        "CREATE INDEX orders_lower_note ON app.orders USING btree (lower(note))"
    );
    let open = &orders.indexes["orders_open"];
    assert_eq!(
        open.definition,
        "CREATE INDEX orders_open ON app.orders USING btree (customer_id) WHERE (note IS NULL)"
    );
    assert_eq!(open.comment.as_deref(), Some("Open orders"));
    assert_eq!(open.method, "btree");
    assert!(!open.unique && open.valid);
    assert!(orders.indexes["orders_customer_id_uq"].unique);
    let touch = &orders.triggers["orders_touch"];
    assert_eq!(
        touch.definition,
        "CREATE TRIGGER orders_touch BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch()"
    );
    assert_eq!(touch.enabled, "D");
    assert!(!touch.inherited);
    assert_eq!(orders.triggers.len(), 1, "no foreign-key triggers");
    assert!(orders.rls_enabled && orders.rls_forced);
    let mine = &orders.policies["orders_mine"];
    assert!(mine.permissive);
    assert_eq!(mine.command, "SELECT");
    assert_eq!(mine.roles, [role.as_str()]);
    assert_eq!(mine.using.as_deref(), Some("(customer_id > 0)"));
    assert_eq!(mine.with_check, None);
    let small = &orders.policies["orders_small"];
    assert!(!small.permissive);
    assert_eq!(small.command, "INSERT");
    assert_eq!(small.roles, ["PUBLIC"]);
    assert_eq!(small.with_check.as_deref(), Some("(quantity < 100)"));

    // Partitioning.
    let events = &s.tables["audit.events"];
    assert_eq!(events.partition_by.as_deref(), Some("RANGE (at)"));
    assert_eq!(events.partition_of, None);
    assert_eq!(
        events.indexes["events_at"].definition,
        "CREATE INDEX events_at ON ONLY audit.events USING btree (at)"
    );
    assert!(!events.indexes["events_at"].inherited);
    assert!(!events.triggers["events_touch"].inherited);
    let p2024 = &s.tables["audit.events_2024"];
    let part = p2024.partition_of.as_ref().expect("a partition");
    assert_eq!(part.parent, "audit.events");
    assert_eq!(
        part.bound,
        "FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00')"
    );
    assert!(p2024.inherits.is_empty());
    assert!(p2024.columns.iter().all(|c| c.inherited));
    assert!(p2024.constraints["events_2024_pkey"].inherited);
    assert_eq!(
        p2024.indexes.keys().collect::<Vec<_>>(),
        ["events_2024_at_idx"]
    );
    assert!(p2024.indexes["events_2024_at_idx"].inherited);
    assert!(p2024.triggers["events_touch"].inherited);
    // A foreign key to a partitioned table: the one declared, not its per-partition clones.
    let notes = &s.tables["audit.event_notes"];
    assert_eq!(
        notes.constraints.keys().collect::<Vec<_>>(),
        ["event_notes_event_fk"]
    );
    assert_eq!(
        notes.constraints["event_notes_event_fk"]
            .references
            .as_deref(),
        Some("audit.events")
    );

    // Inheritance.
    let error_log = &s.tables["app.error_log"];
    assert_eq!(error_log.inherits, ["app.base_log"]);
    assert_eq!(error_log.partition_of, None);
    assert_eq!(
        error_log
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.inherited))
            .collect::<Vec<_>>(),
        [("id", true), ("msg", true), ("code", false)]
    );
    assert!(error_log.constraints["msg_not_blank"].inherited);
    assert!(!s.tables["app.base_log"].constraints["msg_not_blank"].inherited);

    assert_eq!(s.tables["app.cache"].persistence, "unlogged");
    assert!(s.tables.contains_key("public.tb_confiture"));

    // Views.
    let active = &s.views["app.active_customers"];
    assert!(!active.materialized);
    assert_eq!(active.depth, 0);
    assert_eq!(active.columns, ["id", "email"]);
    assert_eq!(active.comment.as_deref(), Some("Only active"));
    assert_eq!(active.grants, vec![grant("PUBLIC", &["SELECT"])]);
    assert!(
        active.definition.starts_with("SELECT ")
            && active.definition.contains("FROM app.customers")
            && !active.definition.ends_with(';'),
        "{}",
        active.definition
    );
    let emails = &s.views["app.active_emails"];
    assert_eq!(emails.depth, 1);
    assert!(emails.definition.contains("app.active_customers"));
    let totals = &s.views["app.order_totals"];
    assert!(totals.materialized);
    assert_eq!(totals.depth, 0);
    assert_eq!(totals.columns, ["customer_id", "total"]);
    assert!(totals.indexes["order_totals_customer"].unique);

    // Functions.
    assert_eq!(
        s.functions.keys().collect::<Vec<_>>(),
        [
            "app.archive(IN days integer)",
            "app.customer_count(s app.status)",
            "app.total(integer)",
            "app.touch()"
        ]
    );
    let touch = &s.functions["app.touch()"];
    assert_eq!(touch.kind, "function");
    assert_eq!(touch.returns.as_deref(), Some("trigger"));
    assert_eq!(touch.language, "plpgsql");
    assert_eq!(touch.volatility, "volatile");
    assert_eq!(touch.comment.as_deref(), Some("Fills defaults"));
    assert!(touch
        .definition
        .starts_with("CREATE OR REPLACE FUNCTION app.touch()"));
    assert!(touch.definition.contains("-- never NULL"));
    assert!(touch.body_fingerprint.is_empty());
    // Executable by PUBLIC, PostgreSQL's default (read with acldefault).
    assert_eq!(touch.grants, vec![grant("PUBLIC", &["EXECUTE"])]);
    let count = &s.functions["app.customer_count(s app.status)"];
    assert!(count.security_definer && count.strict);
    assert_eq!(count.volatility, "stable");
    assert_eq!(count.returns.as_deref(), Some("bigint"));
    assert_eq!(count.config, ["search_path=pg_catalog, app"]);
    assert_eq!(count.grants, vec![grant(&role, &["EXECUTE"])]);
    let archive = &s.functions["app.archive(IN days integer)"];
    assert_eq!(archive.kind, "procedure");
    assert_eq!(archive.returns, None);
    assert!(archive
        .definition
        .starts_with("CREATE OR REPLACE PROCEDURE app.archive(IN days integer)"));
    let agg = &s.functions["app.total(integer)"];
    assert_eq!(agg.kind, "aggregate");
    assert_eq!(agg.definition, "");

    // The model round-trips through JSON.
    let json = serde_json::to_string(&s).unwrap();
    let back: Schema = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);

    client
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .expect("drop role");
}

#[tokio::test]
async fn an_empty_database_has_only_public() {
    let db = TestDb::new();
    let client = db.client().await;
    let s = introspect(&client, &target(&db.url)).await.unwrap();
    assert_eq!(s.schemas.keys().collect::<Vec<_>>(), ["public"]);
    assert!(s.tables.is_empty() && s.views.is_empty() && s.functions.is_empty());
    assert!(s.types.is_empty() && s.sequences.is_empty());
    assert_eq!(s.extensions.keys().collect::<Vec<_>>(), ["plpgsql"]);
    // The default path, with its quoted "$user", comes back as it was.
    let path: String = client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(path, "\"$user\", public");
}

#[tokio::test]
async fn a_failure_is_coded_and_restores_the_path() {
    let db = TestDb::new();
    let client = db.client().await;
    client
        .batch_execute("SET search_path = public")
        .await
        .unwrap();
    // Inside an aborted transaction every read fails.
    client
        .batch_execute("BEGIN; SELECT 1/0")
        .await
        .expect_err("division by zero");
    let err = introspect(&client, &target(&db.url))
        .await
        .expect_err("aborted transaction");
    assert_eq!(err.code.id, "SQL_001", "{err}");
    assert!(err.message.contains("25P02"), "{}", err.message);
    client.batch_execute("ROLLBACK").await.unwrap();
    let path: String = client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(path, "public");
}

/// 1,000 tables with columns, indexes, foreign keys, triggers and functions. Prints the
/// time; run with `cargo test -p confiture-pg --test introspect -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn thousand_tables_timing() {
    let db = TestDb::new();
    let client = db.client().await;
    let mut sql = String::from("CREATE SCHEMA bench;\n");
    for i in 0..1000 {
        sql.push_str(&format!(
            "CREATE TABLE bench.t{i} (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                parent_id bigint {fk},
                code text NOT NULL UNIQUE,
                amount numeric(12,2) DEFAULT 0 CHECK (amount >= 0),
                created_at timestamptz NOT NULL DEFAULT now(),
                note varchar(200)
             );
             CREATE INDEX t{i}_created ON bench.t{i} (created_at);
             CREATE INDEX t{i}_lower_code ON bench.t{i} (lower(code)) WHERE note IS NOT NULL;
             COMMENT ON TABLE bench.t{i} IS 'table {i}';
             CREATE FUNCTION bench.f{i}(x bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
             BEGIN RETURN (SELECT count(*) FROM bench.t{i} WHERE id > x); END $$;\n",
            fk = if i == 0 {
                String::new()
            } else {
                format!("REFERENCES bench.t{}(id) ON DELETE CASCADE", i - 1)
            },
        ));
        if i % 10 == 0 {
            sql.push_str(&format!(
                "CREATE FUNCTION bench.trg{i}() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$;
                 CREATE TRIGGER t{i}_trg BEFORE INSERT ON bench.t{i}
                     FOR EACH ROW EXECUTE FUNCTION bench.trg{i}();
                 CREATE VIEW bench.v{i} AS SELECT id, code FROM bench.t{i};\n"
            ));
        }
    }
    client.batch_execute(&sql).await.expect("bench schema");
    client.batch_execute("ANALYZE").await.unwrap();
    let target = target(&db.url);
    // Warm: the same session again and again (its catalog caches filled).
    let mut warm = Vec::new();
    let mut s = Schema::default();
    for _ in 0..5 {
        let start = Instant::now();
        s = introspect(&client, &target).await.expect("introspect");
        warm.push(start.elapsed());
    }
    // Cold: a new session each time, as a command-line run sees it.
    let mut cold = Vec::new();
    for _ in 0..5 {
        let fresh = db.client().await;
        let start = Instant::now();
        introspect(&fresh, &target).await.expect("introspect");
        cold.push(start.elapsed());
    }
    assert_eq!(s.tables.len(), 1000);
    assert_eq!(s.functions.len(), 1100);
    assert_eq!(s.views.len(), 100);
    assert_eq!(s.tables["bench.t5"].indexes.len(), 2);
    assert_eq!(s.tables["bench.t5"].constraints.len(), 4);
    println!("introspection of 1,000 tables, new session: {cold:?}");
    println!("introspection of 1,000 tables, same session: {warm:?}");
}
