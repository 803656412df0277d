//! The DDL tree of the `confiture lint` acceptance tests: a realistic multi-tenant schema (a
//! pharmacy web shop), deterministic, that is clean under [`environment`]'s linting
//! configuration (multi-tenancy with RLS, comments everywhere, custom rules, the four
//! compliance bundles, the anonymization profile [`Tree::profile`]), and the same tree with
//! violations planted on purpose, each with the (rule, object, file) the linter must report.
//!
//! Layout:
//!
//! ```text
//! db/schema/00_common/        roles, schemas, types, the tenants table, shared functions,
//!                             the audit trail (immutable, append-only)
//! db/schema/01_write_side/    NN_module/: w_ tables (table + comments, indexes, security)
//! db/schema/02_query_side/    r_ read models (sources in their comments), a view, a function
//! db/anonymization/lint.yaml  the profile covering every personal-data column
//! ```
//!
//! Every tenant table has `tenant_id` leading its primary key `(tenant_id, id)`, a foreign key
//! to `core.tenants`, composite foreign keys `(tenant_id, x_id)` each led by an index, RLS
//! enabled with a policy, grants to two roles (never PUBLIC), a comment on the table and on
//! every column. The whole tree applies with `confiture build --apply` to an empty database.

use std::collections::BTreeMap;

/// A violation planted on purpose: what the linter must report, and where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Planted {
    pub rule: String,
    pub object: String,
    /// The file the finding points at (where its object is defined).
    pub file: String,
}

pub struct Tree {
    /// (project-relative path, content), sorted by path.
    pub files: Vec<(String, String)>,
    pub planted: Vec<Planted>,
    /// `table -> [(column, strategy)]`: the personal-data columns, for the profile.
    anonymized: BTreeMap<String, Vec<(String, String)>>,
}

impl Tree {
    /// `db/anonymization/lint.yaml`: a rule for every personal-data column of the tree (but the
    /// one planted for `gdpr-pii-anonymized`).
    pub fn profile(&self) -> String {
        let mut out = String::from(
            "anonymization_profile: lint\nsalt: lint-acceptance-salt-not-a-secret\nstrict: true\nrules:\n",
        );
        for (table, columns) in &self.anonymized {
            out.push_str(&format!("  - table: {table}\n    columns:\n"));
            for (c, s) in columns {
                out.push_str(&format!("      {c}: {s}\n"));
            }
        }
        out
    }
}

/// The environment file: `database_url` = `url`, and the linting configuration the clean tree
/// satisfies.
pub fn environment(url: &str) -> String {
    format!(
        r#"database_url: {url}
include_dirs:
  - db/schema
linting:
  fail_on_severity: error
  production_environments: [local]
  multi_tenant:
    required_column: tenant_id
    exempt_tables: [core.tenants, app.w_medication_catalog]
    require_rls: true
  comments_required: true
  custom_rules:
    - name: write-side-prefix
      type: table_prefix
      pattern: w_
      affected_dirs: [db/schema/01_write_side]
      severity: error
      message: write-side tables start with w_
    - name: query-side-prefix
      type: table_prefix
      pattern: r_
      affected_dirs: [db/schema/02_query_side]
      severity: error
    - name: write-side-created-at
      type: column_required
      pattern: created_at
      affected_dirs: [db/schema/01_write_side]
    - name: no-legacy-columns
      type: column_forbidden
      pattern: "legacy_*"
    - name: read-model-sources
      type: read_model_sources
      pattern: "r_*"
      affected_schema: [reporting]
  compliance: [gdpr, hipaa, pci-dss, sox]
"#
    )
}

// ---------------------------------------------------------------------------------------------
// Tables

#[derive(Clone)]
struct Col {
    name: String,
    /// Type and column constraints, as written.
    ty: String,
    comment: Option<String>,
    /// Anonymization strategy (personal data).
    anon: Option<&'static str>,
}

fn col(name: &str, ty: &str, comment: &str) -> Col {
    Col {
        name: name.into(),
        ty: ty.into(),
        comment: Some(comment.into()),
        anon: None,
    }
}

/// A personal-data column covered by the profile with `strategy`.
fn pii(name: &str, ty: &str, comment: &str, strategy: &'static str) -> Col {
    Col {
        anon: Some(strategy),
        ..col(name, ty, comment)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Pk {
    /// `PRIMARY KEY (tenant_id, id)`, `id` an identity column.
    TenantId,
    /// `id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY` (shared tables).
    Id,
    /// `PRIMARY KEY (tenant_id, <these>)` without an `id` column (read models).
    Natural(&'static str),
    None,
}

#[derive(Clone)]
struct Table {
    dir: String,
    schema: &'static str,
    name: String,
    comment: Option<String>,
    /// `tenant_id uuid NOT NULL` (+ its foreign key to core.tenants when `tenant_fk`).
    tenant: bool,
    tenant_fk: bool,
    pk: Pk,
    cols: Vec<Col>,
    created_at: bool,
    /// Composite foreign keys `(tenant_id, column) -> table (tenant_id, id)`.
    refs: Vec<(&'static str, &'static str)>,
    /// Index each of `refs` (named `<table>_tenant_id_<column>_idx`).
    index_refs: bool,
    /// More statements for the indexes file.
    indexes: Vec<String>,
    /// Table constraints, written after the columns.
    constraints: Vec<String>,
    rls: bool,
    unlogged: bool,
    /// `GRANT … TO app_writer` / `app_reader` lines (written into the security file).
    grants: Vec<String>,
    /// More statements for the security file.
    security: Vec<String>,
}

impl Table {
    /// A standard tenant table of the write side.
    fn tenant(dir: &str, schema: &'static str, name: &str, comment: &str, cols: Vec<Col>) -> Table {
        Table {
            dir: dir.into(),
            schema,
            name: name.into(),
            comment: Some(comment.into()),
            tenant: true,
            tenant_fk: true,
            pk: Pk::TenantId,
            cols,
            created_at: true,
            refs: Vec::new(),
            index_refs: true,
            indexes: Vec::new(),
            constraints: Vec::new(),
            rls: true,
            unlogged: false,
            grants: vec![
                "SELECT, INSERT, UPDATE, DELETE ON TABLE {t} TO app_writer".into(),
                "SELECT ON TABLE {t} TO app_reader".into(),
            ],
            security: Vec::new(),
        }
    }

    fn refs(mut self, refs: &[(&'static str, &'static str)]) -> Table {
        self.refs = refs.to_vec();
        self
    }

    fn qualified(&self) -> String {
        format!("{}.{}", self.schema, ident(&self.name))
    }

    fn key(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    fn base(&self) -> String {
        format!("{}/{}", self.dir, self.name)
    }

    /// The table's file (where findings about the table and its columns point).
    fn file(&self) -> String {
        format!("{}.sql", self.base())
    }

    fn render(&self, out: &mut Files, anonymized: &mut BTreeMap<String, Vec<(String, String)>>) {
        let t = self.qualified();
        let mut lines: Vec<String> = Vec::new();
        let mut all: Vec<Col> = Vec::new();
        if self.tenant {
            let fk = if self.tenant_fk {
                " REFERENCES core.tenants (id)"
            } else {
                ""
            };
            all.push(col(
                "tenant_id",
                &format!("uuid NOT NULL{fk}"),
                "Tenant owning the row (RLS key).",
            ));
        }
        match self.pk {
            Pk::TenantId => all.push(col(
                "id",
                "bigint GENERATED ALWAYS AS IDENTITY",
                "Surrogate key, unique within the tenant.",
            )),
            Pk::Id => all.push(col(
                "id",
                "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                "Surrogate key.",
            )),
            _ => {}
        }
        all.extend(self.cols.iter().cloned());
        if self.created_at {
            all.push(col(
                "created_at",
                "timestamptz NOT NULL DEFAULT now()",
                "When the row was created.",
            ));
        }
        for c in &all {
            lines.push(format!("    {} {}", ident(&c.name), c.ty));
        }
        match self.pk {
            Pk::TenantId => lines.push("    PRIMARY KEY (tenant_id, id)".into()),
            Pk::Natural(cols) => lines.push(format!("    PRIMARY KEY (tenant_id, {cols})")),
            _ => {}
        }
        for (column, target) in &self.refs {
            lines.push(format!(
                "    FOREIGN KEY (tenant_id, {column}) REFERENCES {target} (tenant_id, id)"
            ));
        }
        for c in &self.constraints {
            lines.push(format!("    {c}"));
        }
        let unlogged = if self.unlogged { "UNLOGGED " } else { "" };
        let mut sql = format!(
            "-- {}\nCREATE {unlogged}TABLE {t} (\n{}\n);\n\n",
            self.comment.as_deref().unwrap_or(&self.name),
            lines.join(",\n")
        );
        if let Some(c) = &self.comment {
            sql.push_str(&format!("COMMENT ON TABLE {t} IS {};\n", literal(c)));
        }
        for c in &all {
            if let Some(comment) = &c.comment {
                sql.push_str(&format!(
                    "COMMENT ON COLUMN {t}.{} IS {};\n",
                    ident(&c.name),
                    literal(comment)
                ));
            }
            if let Some(s) = c.anon {
                anonymized
                    .entry(self.key())
                    .or_default()
                    .push((c.name.clone(), s.to_string()));
            }
        }
        out.add(&self.file(), sql);

        let mut idx = String::new();
        if self.index_refs {
            for (column, _) in &self.refs {
                idx.push_str(&format!(
                    "CREATE INDEX {}_tenant_id_{column}_idx ON {t} (tenant_id, {column});\n",
                    self.name
                ));
            }
        }
        for i in &self.indexes {
            idx.push_str(&i.replace("{t}", &t));
            idx.push('\n');
        }
        if !idx.is_empty() {
            out.add(&format!("{}_indexes.sql", self.base()), idx);
        }

        let mut sec = String::new();
        if self.rls {
            sec.push_str(&format!(
                "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\nCREATE POLICY {}_tenant_isolation ON {t}\n    USING (tenant_id = core.current_tenant_id());\n",
                self.name
            ));
        }
        for g in &self.grants {
            sec.push_str(&format!("GRANT {};\n", g.replace("{t}", &t)));
        }
        for s in &self.security {
            sec.push_str(&s.replace("{t}", &t));
            sec.push('\n');
        }
        if !sec.is_empty() {
            out.add(&format!("{}_security.sql", self.base()), sec);
        }
    }
}

/// A name as SQL: quoted unless lower snake_case and not a keyword the tree uses.
fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !["order", "user", "group", "table"].contains(&name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[derive(Default)]
struct Files(BTreeMap<String, String>);

impl Files {
    fn add(&mut self, path: &str, content: String) {
        let path = format!("db/schema/{path}");
        let entry = self.0.entry(path).or_default();
        entry.push_str(&content);
    }
}

// ---------------------------------------------------------------------------------------------
// The clean tree

const COMMON: &str = "00_common";
const WRITE: &str = "01_write_side";
const QUERY: &str = "02_query_side";

fn common(files: &mut Files) {
    files.add(
        &format!("{COMMON}/000_roles.sql"),
        r#"-- Roles of the application (cluster-wide: created only when missing).
DO $$
BEGIN
    CREATE ROLE app_writer NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
DO $$
BEGIN
    CREATE ROLE app_reader NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
"#
        .into(),
    );
    files.add(
        &format!("{COMMON}/010_schemas.sql"),
        r#"CREATE SCHEMA core;
COMMENT ON SCHEMA core IS 'Tenants, shared types and functions, the audit trail.';
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'Write side: the transactional tables.';
CREATE SCHEMA reporting;
COMMENT ON SCHEMA reporting IS 'Query side: read models and views.';

GRANT USAGE ON SCHEMA core, app, reporting TO app_writer, app_reader;
"#
        .into(),
    );
    files.add(
        &format!("{COMMON}/020_types.sql"),
        r#"CREATE TYPE core.tenant_plan AS ENUM ('free', 'team', 'business', 'enterprise');
COMMENT ON TYPE core.tenant_plan IS 'Commercial plan of a tenant.';

CREATE TYPE core.order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled');
COMMENT ON TYPE core.order_status IS 'Order workflow.';

CREATE TYPE core.product_status AS ENUM ('draft', 'active', 'discontinued');
COMMENT ON TYPE core.product_status IS 'Publication state of a product.';

CREATE DOMAIN core.money_amount AS numeric(12, 2) CHECK (VALUE >= 0);
COMMENT ON DOMAIN core.money_amount IS 'A non-negative amount in the tenant currency.';
"#
        .into(),
    );
    files.add(
        &format!("{COMMON}/030_tenants.sql"),
        r#"-- The tenants: shared by every tenant table (exempt from the tenant column).
CREATE TABLE core.tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE,
    legal_entity text NOT NULL,
    plan core.tenant_plan NOT NULL DEFAULT 'free',
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (slug ~ '^[a-z0-9-]+$')
);

COMMENT ON TABLE core.tenants IS 'Customers of the platform; every tenant table references it.';
COMMENT ON COLUMN core.tenants.id IS 'Tenant identifier, the value of app.tenant_id.';
COMMENT ON COLUMN core.tenants.slug IS 'URL-safe unique handle.';
COMMENT ON COLUMN core.tenants.legal_entity IS 'Registered company of the tenant.';
COMMENT ON COLUMN core.tenants.plan IS 'Commercial plan.';
COMMENT ON COLUMN core.tenants.created_at IS 'When the tenant signed up.';

GRANT SELECT ON TABLE core.tenants TO app_writer, app_reader;
"#
        .into(),
    );
    files.add(
        &format!("{COMMON}/040_functions.sql"),
        r#"-- The tenant of the current session (set by the application per transaction).
CREATE FUNCTION core.current_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
COMMENT ON FUNCTION core.current_tenant_id() IS 'Tenant of the session, for RLS policies.';

-- Creating a tenant needs the owner's rights: SECURITY DEFINER, search_path pinned.
CREATE FUNCTION core.create_tenant(p_slug text, p_legal_entity text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_id uuid;
BEGIN
    INSERT INTO core.tenants (slug, legal_entity) VALUES (p_slug, p_legal_entity)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
REVOKE ALL ON FUNCTION core.create_tenant(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION core.create_tenant(text, text) TO app_writer;

-- Audit records are immutable: this trigger function refuses UPDATE and DELETE.
CREATE FUNCTION core.reject_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'audit records are immutable (% on %)', TG_OP, TG_TABLE_NAME;
END
$$;
"#
        .into(),
    );
}

/// The audit trail (in 00_common, a tenant table): append-only grants, an immutable trigger.
fn audit_table(name: &str, comment: &str, trigger: bool, grants: &[&str]) -> Table {
    let mut t = Table::tenant(
        COMMON,
        "core",
        name,
        comment,
        vec![
            col("table_name", "text NOT NULL", "Table changed."),
            col("operation", "text NOT NULL", "INSERT, UPDATE or DELETE."),
            col(
                "actor",
                "text NOT NULL",
                "Database role that made the change.",
            ),
            col("payload", "jsonb", "The row after the change."),
        ],
    );
    t.grants = grants.iter().map(|g| g.to_string()).collect();
    if trigger {
        t.security.push(format!(
            "CREATE TRIGGER {name}_immutable BEFORE UPDATE OR DELETE ON {{t}}\n    FOR EACH ROW EXECUTE FUNCTION core.reject_audit_change();"
        ));
    }
    t
}

fn write_side() -> Vec<Table> {
    let d = |m: &str| format!("{WRITE}/{m}");
    vec![
        Table::tenant(
            &d("10_customers"),
            "app",
            "w_customers",
            "Shop customers.",
            vec![
                pii(
                    "email",
                    "text NOT NULL",
                    "Login and contact address.",
                    "email_mask",
                ),
                pii(
                    "full_name",
                    "text NOT NULL",
                    "Name for invoices.",
                    "full_name",
                ),
                pii("phone", "text", "Contact phone.", "phone"),
                pii(
                    "billing_address",
                    "text",
                    "Postal billing address.",
                    "address",
                ),
                pii(
                    "birth_date",
                    "date",
                    "Age check for prescriptions.",
                    "date_jitter",
                ),
                col(
                    "marketing_opt_in",
                    "boolean NOT NULL DEFAULT false",
                    "Consent to newsletters.",
                ),
            ],
        )
        .with_index(
            "CREATE UNIQUE INDEX w_customers_tenant_id_email_idx ON {t} (tenant_id, lower(email));",
        ),
        Table::tenant(
            &d("10_customers"),
            "app",
            "w_users",
            "Back-office accounts of a tenant.",
            vec![
                pii("login_email", "text NOT NULL", "Login.", "email_mask"),
                pii(
                    "password_hash",
                    "text NOT NULL",
                    "bcrypt hash of the password.",
                    "redact",
                ),
                pii("last_login_ip", "inet", "Address of the last login.", "ip"),
                col(
                    "is_admin",
                    "boolean NOT NULL DEFAULT false",
                    "Full rights in the tenant.",
                ),
            ],
        ),
        Table::tenant(
            &d("20_products"),
            "app",
            "w_products",
            "Catalog of a tenant.",
            vec![
                col(
                    "sku",
                    "text NOT NULL",
                    "Stock keeping unit, unique per tenant.",
                ),
                col("title", "text NOT NULL", "Shown in the shop."),
                col("price", "core.money_amount NOT NULL", "Unit price."),
                col(
                    "status",
                    "core.product_status NOT NULL DEFAULT 'draft'",
                    "Publication state.",
                ),
                col(
                    "needs_prescription",
                    "boolean NOT NULL DEFAULT false",
                    "Sold on prescription only.",
                ),
            ],
        )
        .with_index("CREATE UNIQUE INDEX w_products_tenant_id_sku_idx ON {t} (tenant_id, sku);"),
        Table::tenant(
            &d("30_orders"),
            "app",
            "w_orders",
            "Customer orders.",
            vec![
                col("customer_id", "bigint NOT NULL", "Who ordered."),
                col(
                    "status",
                    "core.order_status NOT NULL DEFAULT 'pending'",
                    "Workflow state.",
                ),
                col(
                    "placed_at",
                    "timestamptz NOT NULL DEFAULT now()",
                    "When the order was placed.",
                ),
                col(
                    "total",
                    "numeric(12, 2) NOT NULL CHECK (total >= 0)",
                    "Order total.",
                ),
            ],
        )
        .refs(&[("customer_id", "app.w_customers")]),
        Table::tenant(
            &d("35_order_lines"),
            "app",
            "w_order_lines",
            "Lines of an order.",
            vec![
                col("order_id", "bigint NOT NULL", "The order."),
                col("product_id", "bigint NOT NULL", "The product."),
                col(
                    "quantity",
                    "integer NOT NULL CHECK (quantity > 0)",
                    "Units ordered.",
                ),
                col(
                    "unit_price",
                    "core.money_amount NOT NULL",
                    "Price when ordered.",
                ),
            ],
        )
        .refs(&[
            ("order_id", "app.w_orders"),
            ("product_id", "app.w_products"),
        ]),
        Table::tenant(
            &d("40_payments"),
            "app",
            "w_payments",
            "Payments of orders, through the payment provider.",
            vec![
                col("order_id", "bigint NOT NULL", "The order paid."),
                col("amount", "core.money_amount NOT NULL", "Amount paid."),
                col("card_token", "text", "Provider token of the card."),
                col("card_last4", "text", "Last four digits, for display."),
                col("paid_at", "timestamptz", "When the provider confirmed."),
            ],
        )
        .refs(&[("order_id", "app.w_orders")]),
        Table::tenant(
            &d("50_shipping"),
            "app",
            "w_shipments",
            "Parcels sent for orders.",
            vec![
                col("order_id", "bigint NOT NULL", "The order shipped."),
                col("carrier", "text NOT NULL", "Carrier code."),
                col("tracking_code", "text", "Carrier tracking code."),
                pii(
                    "shipping_address",
                    "text NOT NULL",
                    "Delivery address.",
                    "address",
                ),
                col("shipped_at", "timestamptz", "When the parcel left."),
            ],
        )
        .refs(&[("order_id", "app.w_orders")]),
        Table::tenant(
            &d("60_pharmacy"),
            "app",
            "w_prescriptions",
            "Prescriptions uploaded by customers (health information).",
            vec![
                col(
                    "customer_id",
                    "bigint NOT NULL",
                    "The patient (a customer).",
                ),
                col("medication", "text NOT NULL", "Prescribed medication."),
                col("prescriber", "text NOT NULL", "Prescribing doctor."),
                col(
                    "valid_until",
                    "date NOT NULL",
                    "Expiry of the prescription.",
                ),
            ],
        )
        .refs(&[("customer_id", "app.w_customers")]),
    ]
}

impl Table {
    fn with_index(mut self, sql: &str) -> Table {
        self.indexes.push(sql.into());
        self
    }
}

fn query_side(files: &mut Files) -> Vec<Table> {
    let mut totals = Table::tenant(
        QUERY,
        "reporting",
        "r_customer_order_totals",
        "Order count and amount per customer. sources: w_orders, w_customers",
        vec![
            col("customer_id", "bigint NOT NULL", "The customer."),
            col("order_count", "bigint NOT NULL DEFAULT 0", "Orders placed."),
            col(
                "total_spent",
                "numeric(14, 2) NOT NULL DEFAULT 0",
                "Sum of order totals.",
            ),
            col(
                "refreshed_at",
                "timestamptz NOT NULL DEFAULT now()",
                "Last refresh.",
            ),
        ],
    );
    totals.pk = Pk::Natural("customer_id");
    totals.created_at = false;
    totals.grants = vec![
        "SELECT, INSERT, UPDATE, DELETE ON TABLE {t} TO app_writer".into(),
        "SELECT ON TABLE {t} TO app_reader".into(),
    ];
    let mut daily = Table::tenant(
        QUERY,
        "reporting",
        "r_daily_sales",
        "Revenue per day. @source app.w_orders @source app.w_order_lines",
        vec![
            col("sales_day", "date NOT NULL", "The day."),
            col(
                "order_count",
                "bigint NOT NULL DEFAULT 0",
                "Orders placed that day.",
            ),
            col(
                "revenue",
                "numeric(14, 2) NOT NULL DEFAULT 0",
                "Sum of order totals.",
            ),
        ],
    );
    daily.pk = Pk::Natural("sales_day");
    daily.created_at = false;
    files.add(
        &format!("{QUERY}/views.sql"),
        r#"CREATE VIEW reporting.v_open_orders AS
    SELECT o.tenant_id, o.id, o.customer_id, o.status, o.placed_at, o.total
    FROM app.w_orders o
    WHERE o.status IN ('pending', 'paid');
COMMENT ON VIEW reporting.v_open_orders IS 'Orders not shipped yet.';
GRANT SELECT ON TABLE reporting.v_open_orders TO app_reader;

CREATE FUNCTION reporting.refresh_customer_order_totals() RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO reporting.r_customer_order_totals AS r (tenant_id, customer_id, order_count, total_spent)
    SELECT tenant_id, customer_id, count(*), sum(total)
    FROM app.w_orders
    WHERE tenant_id = core.current_tenant_id()
    GROUP BY tenant_id, customer_id
    ON CONFLICT (tenant_id, customer_id) DO UPDATE
        SET order_count = excluded.order_count, total_spent = excluded.total_spent,
            refreshed_at = now();
END
$$;
COMMENT ON FUNCTION reporting.refresh_customer_order_totals() IS 'Rebuilds the totals of the session tenant.';
"#
        .into(),
    );
    vec![totals, daily]
}

// ---------------------------------------------------------------------------------------------
// The tree, clean or with violations

/// The clean tree (`plant` false: the linter must find nothing), or with every planted
/// violation.
pub fn tree(plant: bool) -> Tree {
    let mut files = Files::default();
    let mut anonymized = BTreeMap::new();
    let mut planted: Vec<Planted> = Vec::new();
    common(&mut files);
    let mut tables = vec![audit_table(
        "audit_log",
        "Audit trail of changes to the write side.",
        true,
        &[
            "SELECT, INSERT ON TABLE {t} TO app_writer",
            "SELECT ON TABLE {t} TO app_reader",
        ],
    )];
    tables.extend(write_side());
    tables.extend(query_side(&mut files));
    if plant {
        plants(&mut files, &mut tables, &mut planted);
    }
    for t in &tables {
        t.render(&mut files, &mut anonymized);
    }
    planted.sort();
    Tree {
        files: files.0.into_iter().collect(),
        planted,
        anonymized,
    }
}

fn expect(planted: &mut Vec<Planted>, rule: &str, object: &str, file: &str) {
    planted.push(Planted {
        rule: rule.into(),
        object: object.into(),
        file: format!("db/schema/{file}"),
    });
}

/// Where the planted tables live.
const LEGACY: &str = "01_write_side/80_legacy";

fn plants(files: &mut Files, tables: &mut Vec<Table>, p: &mut Vec<Planted>) {
    let find = |tables: &mut Vec<Table>, name: &str| -> usize {
        tables.iter().position(|t| t.name == name).unwrap()
    };
    let plain = |name: &str, cols: Vec<Col>| {
        Table::tenant(LEGACY, "app", name, &format!("Planted: {name}."), cols)
    };
    let note = || col("note", "text", "Free text.");

    // require-primary-key: no primary key (tenant_id still leads an index).
    let mut t = plain(
        "w_import_rows",
        vec![
            col("line_no", "integer NOT NULL", "Line in the imported file."),
            col("payload", "jsonb", "The line."),
        ],
    );
    t.pk = Pk::None;
    t.indexes.push(
        "CREATE INDEX w_import_rows_tenant_id_line_no_idx ON {t} (tenant_id, line_no);".into(),
    );
    expect(p, "require-primary-key", "app.w_import_rows", &t.file());
    tables.push(t);

    // unindexed-foreign-key: (tenant_id, order_id) -> w_orders, no index.
    let mut t = Table::tenant(
        "01_write_side/35_order_lines",
        "app",
        "w_order_notes",
        "Notes on orders.",
        vec![col("order_id", "bigint NOT NULL", "The order."), note()],
    )
    .refs(&[("order_id", "app.w_orders")]);
    t.index_refs = false;
    expect(p, "unindexed-foreign-key", "app.w_order_notes", &t.file());
    tables.push(t);

    // snake-case-names + names-need-quoting (camelCase), identifier-too-long (70 bytes).
    let long = {
        let mut s = String::from("moderation_status_changed_by_the_automated_review_pipeline");
        while s.len() < 70 {
            s.push_str("_x");
        }
        s.truncate(70);
        s
    };
    let t = plain(
        "w_product_reviews",
        vec![
            col("product_id", "bigint NOT NULL", "The product."),
            col("helpfulVotes", "integer NOT NULL DEFAULT 0", "Votes."),
            col(&long, "text", "Moderation trace."),
        ],
    )
    .refs(&[("product_id", "app.w_products")]);
    expect(
        p,
        "snake-case-names",
        "app.w_product_reviews.helpfulVotes",
        &t.file(),
    );
    expect(
        p,
        "names-need-quoting",
        "app.w_product_reviews.helpfulVotes",
        &t.file(),
    );
    expect(
        p,
        "identifier-too-long",
        &format!("app.w_product_reviews.{long}"),
        &t.file(),
    );
    tables.push(t);

    // names-need-quoting: a table named "order" (00_common: no prefix rule there).
    let t = Table::tenant(
        COMMON,
        "core",
        "order",
        "Planted: a reserved word.",
        vec![note()],
    );
    expect(p, "names-need-quoting", "core.order", &t.file());
    tables.push(t);

    // index-naming: neither _idx nor idx_.
    let i = find(tables, "w_products");
    tables[i]
        .indexes
        .push("CREATE INDEX w_products_by_title ON {t} (tenant_id, title);".into());
    expect(
        p,
        "index-naming",
        "app.w_products.w_products_by_title",
        &format!("{}_indexes.sql", tables[i].base()),
    );

    // require-comments: a table without comment, a column without comment.
    let mut t = plain(
        "w_coupons",
        vec![
            col("code", "text NOT NULL", "Code typed at checkout."),
            Col {
                comment: None,
                ..col("discount_percent", "integer NOT NULL", "")
            },
        ],
    );
    t.comment = None;
    expect(p, "require-comments", "app.w_coupons", &t.file());
    expect(
        p,
        "require-comments",
        "app.w_coupons.discount_percent",
        &t.file(),
    );
    tables.push(t);

    // duplicate-index and redundant-index on w_orders.
    let i = find(tables, "w_orders");
    let idx = format!("{}_indexes.sql", tables[i].base());
    tables[i].indexes.extend([
        "CREATE INDEX w_orders_status_a_idx ON {t} (tenant_id, status);".to_string(),
        "CREATE INDEX w_orders_status_b_idx ON {t} (tenant_id, status);".to_string(),
        "CREATE INDEX w_orders_placed_at_idx ON {t} (tenant_id, placed_at);".to_string(),
        "CREATE INDEX w_orders_placed_at_status_idx ON {t} (tenant_id, placed_at, status);"
            .to_string(),
    ]);
    expect(
        p,
        "duplicate-index",
        "app.w_orders.w_orders_status_b_idx",
        &idx,
    );
    expect(
        p,
        "redundant-index",
        "app.w_orders.w_orders_placed_at_idx",
        &idx,
    );

    // tenant-column-required: no tenant_id (and not exempted).
    let mut t = plain(
        "w_exchange_rates",
        vec![
            col("currency", "text NOT NULL", "ISO 4217 code."),
            col("rate", "numeric(12, 6) NOT NULL", "Rate to EUR."),
        ],
    );
    t.tenant = false;
    t.pk = Pk::Id;
    t.rls = false;
    expect(
        p,
        "tenant-column-required",
        "app.w_exchange_rates",
        &t.file(),
    );
    tables.push(t);

    // tenant-column-indexed: tenant_id leads no index (no foreign key either).
    let mut t = plain(
        "w_webhooks",
        vec![col(
            "target_url",
            "text NOT NULL",
            "Where events are posted.",
        )],
    );
    t.pk = Pk::Id;
    t.tenant_fk = false;
    expect(
        p,
        "tenant-column-indexed",
        "app.w_webhooks.tenant_id",
        &t.file(),
    );
    tables.push(t);

    // tenant-rls-required: RLS not enabled.
    let mut t = plain("w_carts", vec![note()]);
    t.rls = false;
    expect(p, "tenant-rls-required", "app.w_carts", &t.file());
    tables.push(t);

    // security-definer-search-path: SECURITY DEFINER without SET search_path.
    files.add(
        &format!("{COMMON}/050_purge.sql"),
        r#"CREATE FUNCTION core.purge_tenant(p_tenant uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    AS $$
BEGIN
    DELETE FROM core.tenants WHERE id = p_tenant;
END
$$;
REVOKE ALL ON FUNCTION core.purge_tenant(uuid) FROM PUBLIC;
"#
        .into(),
    );
    expect(
        p,
        "security-definer-search-path",
        "core.purge_tenant(p_tenant uuid)",
        &format!("{COMMON}/050_purge.sql"),
    );

    // plaintext-password-column (covered by the profile, so no gdpr finding).
    let t = plain(
        "w_smtp_settings",
        vec![
            col("host", "text NOT NULL", "SMTP server."),
            pii(
                "smtp_password",
                "text NOT NULL",
                "Planted: in the clear.",
                "redact",
            ),
        ],
    );
    expect(
        p,
        "plaintext-password-column",
        "app.w_smtp_settings.smtp_password",
        &t.file(),
    );
    tables.push(t);

    // public-grants: SELECT to PUBLIC.
    let i = find(tables, "w_products");
    tables[i]
        .security
        .push("GRANT SELECT ON TABLE {t} TO PUBLIC;".into());
    expect(p, "public-grants", "app.w_products", &tables[i].file());

    // write-side-prefix / query-side-prefix (custom table_prefix).
    let t = plain("customer_flags", vec![note()]);
    expect(p, "write-side-prefix", "app.customer_flags", &t.file());
    tables.push(t);
    let mut t = Table::tenant(
        QUERY,
        "reporting",
        "daily_totals",
        "Planted: a read model without the r_ prefix.",
        vec![
            col("sales_day", "date NOT NULL", "The day."),
            col("revenue", "numeric(14, 2) NOT NULL", "Revenue."),
        ],
    );
    t.pk = Pk::Natural("sales_day");
    expect(p, "query-side-prefix", "reporting.daily_totals", &t.file());
    tables.push(t);

    // write-side-created-at (custom column_required).
    let mut t = plain("w_tags", vec![col("label", "text NOT NULL", "Tag text.")]);
    t.created_at = false;
    expect(p, "write-side-created-at", "app.w_tags", &t.file());
    tables.push(t);

    // no-legacy-columns (custom column_forbidden).
    let t = plain(
        "w_suppliers",
        vec![
            col("company", "text NOT NULL", "Supplier."),
            col("legacy_erp_code", "text", "Old ERP key."),
        ],
    );
    expect(
        p,
        "no-legacy-columns",
        "app.w_suppliers.legacy_erp_code",
        &t.file(),
    );
    tables.push(t);

    // read-model-sources: none declared; a declared source that does not exist.
    for (name, comment) in [
        ("r_stock_levels", "Stock per product, refreshed hourly."),
        (
            "r_refund_totals",
            "Refunds per customer. sources: w_refunds",
        ),
    ] {
        let mut t = Table::tenant(
            QUERY,
            "reporting",
            name,
            comment,
            vec![
                col("product_id", "bigint NOT NULL", "Key."),
                col("amount", "numeric(14, 2) NOT NULL", "Value."),
            ],
        );
        t.pk = Pk::Natural("product_id");
        t.created_at = false;
        expect(
            p,
            "read-model-sources",
            &format!("reporting.{name}"),
            &t.file(),
        );
        tables.push(t);
    }

    // pci-dss: a readable card number (covered by the profile) and a CVV.
    let t = plain(
        "w_saved_cards",
        vec![
            pii(
                "card_number",
                "text NOT NULL",
                "Planted: the PAN in the clear.",
                "credit_card",
            ),
            pii("cvv", "text", "Planted: the security code.", "redact"),
        ],
    );
    expect(
        p,
        "pci-card-number-plaintext",
        "app.w_saved_cards.card_number",
        &t.file(),
    );
    expect(p, "pci-cvv-stored", "app.w_saved_cards.cvv", &t.file());
    tables.push(t);

    // hipaa-phi-rls: health information without RLS (a shared table, exempt from tenancy).
    let mut t = plain(
        "w_medication_catalog",
        vec![
            col("atc_code", "text NOT NULL", "ATC classification."),
            col("dosage", "text NOT NULL", "Strength."),
        ],
    );
    t.tenant = false;
    t.pk = Pk::Id;
    t.rls = false;
    expect(p, "hipaa-phi-rls", "app.w_medication_catalog", &t.file());
    tables.push(t);

    // gdpr: personal data not in the profile; personal data without a comment.
    let t = plain(
        "w_newsletter_signups",
        vec![
            col(
                "contact_email",
                "text NOT NULL",
                "Planted: not in the profile.",
            ),
            Col {
                comment: None,
                anon: Some("ip"),
                ..col("signup_ip", "inet", "")
            },
        ],
    );
    expect(
        p,
        "gdpr-pii-anonymized",
        "app.w_newsletter_signups.contact_email",
        &t.file(),
    );
    expect(
        p,
        "gdpr-pii-documented",
        "app.w_newsletter_signups.signup_ip",
        &t.file(),
    );
    expect(
        p,
        "require-comments",
        "app.w_newsletter_signups.signup_ip",
        &t.file(),
    );
    tables.push(t);

    // sox: an audit table writable by another role; one without the immutable trigger.
    let t = audit_table(
        "payment_journal",
        "Planted: journal of payments, updatable.",
        true,
        &["SELECT, INSERT, UPDATE ON TABLE {t} TO app_writer"],
    );
    expect(
        p,
        "sox-audit-append-only",
        "core.payment_journal",
        &t.file(),
    );
    tables.push(t);
    let t = audit_table(
        "login_history",
        "Planted: logins, no immutable trigger.",
        false,
        &["SELECT, INSERT ON TABLE {t} TO app_writer"],
    );
    expect(
        p,
        "sox-audit-immutable-trigger",
        "core.login_history",
        &t.file(),
    );
    tables.push(t);

    // unlogged-table-in-production (the environment lists local as production).
    let mut t = plain(
        "w_session_cache",
        vec![col("payload", "jsonb", "Cached session.")],
    );
    t.unlogged = true;
    expect(
        p,
        "unlogged-table-in-production",
        "app.w_session_cache",
        &t.file(),
    );
    tables.push(t);

    // constraint-naming: a CHECK named without _check.
    let mut t = plain(
        "w_gift_cards",
        vec![col(
            "balance",
            "numeric(12, 2) NOT NULL",
            "Remaining value.",
        )],
    );
    t.constraints
        .push("CONSTRAINT positive_balance CHECK (balance >= 0)".into());
    expect(
        p,
        "constraint-naming",
        "app.w_gift_cards.positive_balance",
        &t.file(),
    );
    tables.push(t);

    // type-naming: an enum label not in snake_case.
    files.add(
        &format!("{COMMON}/025_ticket_types.sql"),
        "CREATE TYPE core.ticket_priority AS ENUM ('low', 'normal', 'High');\nCOMMENT ON TYPE core.ticket_priority IS 'Planted: a label in upper case.';\n".into(),
    );
    expect(
        p,
        "type-naming",
        "core.ticket_priority",
        &format!("{COMMON}/025_ticket_types.sql"),
    );
}
