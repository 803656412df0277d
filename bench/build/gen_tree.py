#!/usr/bin/env python3
"""Generate a realistic Confiture project for benchmarking `confiture build`.

    gen_tree.py OUTDIR [--files 1256] [--seed 42] [--yaml both|rust] [--force]

Deterministic: the same --files/--seed always gives byte-identical files.

Layout (every name within a directory carries a fixed-width numeric prefix, so
natural order -- digit runs compared by value, component by component -- and
plain byte-wise order agree, and both are a valid creation order):

    db/environments/local.yaml
    db/schema/00_common/       roles, schemas, enum types, domains, composite types
    db/schema/01_write_side/   multi-tenant tables (one module per subdirectory)
    db/schema/02_query_side/   views and materialized views over the write side
    db/schema/03_functions/    plpgsql / SQL functions, trigger functions
    db/schema/04_triggers/     CREATE TRIGGER statements (after their functions)
    db/seeds/common/           multi-row INSERTs into write-side tables, FK order

The whole tree, concatenated schema first then seeds, applies in one
transaction to an empty PostgreSQL 15 database using core features only.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

N_TENANTS = 3

ENUMS = [
    # (schema, name, values, comment)
    ("tenant", "e_tenant_plan", ["free", "team", "business", "enterprise"], "Commercial plan of a tenant."),
    ("tenant", "e_user_status", ["invited", "active", "suspended", "deleted"], "Lifecycle of a user account."),
    ("catalog", "e_product_status", ["draft", "active", "discontinued", "archived"], "Publication state of a catalog item."),
    ("catalog", "e_stock_movement_kind", ["receipt", "shipment", "adjustment", "transfer"], "Why stock moved."),
    ("sales", "e_order_status", ["pending", "confirmed", "shipped", "delivered", "cancelled", "refunded"], "Order workflow; see sales.fn_* for transitions."),
    ("sales", "e_payment_method", ["card", "transfer", "cash", "voucher"], "How a payment was made."),
    ("sales", "e_channel", ["web", "store", "phone", "marketplace"], "Sales channel."),
    ("util", "e_priority", ["low", "normal", "high", "urgent"], "Generic priority scale."),
    ("util", "e_visibility", ["private", "internal", "public"], "Who may see a row."),
    ("util", "e_audit_operation", ["INSERT", "UPDATE", "DELETE"], "Operation recorded by util.fn_tg_audit()."),
]
STATUS_ENUM = {
    "tenant": "tenant.e_user_status",
    "catalog": "catalog.e_product_status",
    "sales": "sales.e_order_status",
}
ENUM_VALUES = {f"{s}.{n}": v for s, n, v, _ in ENUMS}

DOMAINS = [
    # (name, base type + check, comment)
    ("d_code", r"text CHECK (VALUE ~ '^[A-Z0-9][A-Z0-9_-]{0,39}$')", "Upper-case business code, e.g. 'SKU-42'; no spaces."),
    ("d_name", "text CHECK (char_length(btrim(VALUE)) BETWEEN 1 AND 200)", "Human-readable name (1..200 chars once trimmed)."),
    ("d_email", r"text CHECK (VALUE ~* '^[^@\s]+@[^@\s]+\.[a-z]{2,}$')", "E-mail address, checked loosely: 'a@b.io' passes; 'a;b' does not."),
    ("d_money", "numeric(14,2) CHECK (VALUE >= 0)", "Non-negative amount with two decimals."),
    ("d_currency", "char(3) CHECK (VALUE ~ '^[A-Z]{3}$')", "ISO 4217 currency code."),
    ("d_percent", "numeric(5,2) CHECK (VALUE BETWEEN 0 AND 100)", "Percentage between 0 and 100."),
    ("d_quantity", "integer CHECK (VALUE >= 0)", "Non-negative count of units."),
    ("d_slug", "text CHECK (VALUE ~ '^[a-z0-9]+(-[a-z0-9]+)*$')", "URL slug: lower-case words joined by '-'."),
    ("d_phone", r"text CHECK (VALUE ~ '^\+?[0-9 ().-]{6,20}$')", "Phone number as typed by a person."),
    ("d_country_code", "char(2) CHECK (VALUE ~ '^[A-Z]{2}$')", "ISO 3166-1 alpha-2 country code."),
]

COMPOSITES = [
    ("t_address", [("line1", "text"), ("line2", "text"), ("city", "text"), ("postal_code", "text"), ("country", "util.d_country_code")],
     "Postal address."),
    ("t_money", [("amount", "numeric(14,2)"), ("currency", "char(3)")], "Amount with its currency."),
    ("t_dimensions", [("length_mm", "integer"), ("width_mm", "integer"), ("height_mm", "integer"), ("weight_g", "integer")],
     "Parcel dimensions (mm) and weight (g)."),
    ("t_geo_point", [("latitude", "double precision"), ("longitude", "double precision")], "WGS84 point."),
    ("t_contact", [("full_name", "text"), ("email", "text"), ("phone", "text")], "Contact person."),
    ("t_period", [("starts_on", "date"), ("ends_on", "date")], "Closed date interval."),
]

SCHEMAS = [
    ("tenant", "Tenants, users and everything scoped to an account."),
    ("catalog", "Products, prices and stock (write side)."),
    ("sales", "Customers, orders, payments (write side)."),
    ("read", "Query side: views and materialized views; read-only for applications."),
    ("util", "Shared types, domains and helper functions."),
]

NOUNS = {
    "tenant": ["organization", "user", "role", "user_role", "team", "team_member", "api_key", "setting",
               "invitation", "session", "preference", "notification", "webhook", "feature_flag", "quota",
               "usage_record", "billing_account", "department", "location", "calendar", "holiday",
               "document", "folder", "share", "integration", "credential", "login_attempt", "consent"],
    "catalog": ["product", "product_variant", "category", "brand", "supplier", "attribute", "attribute_value",
                "price_list", "price", "tax_rate", "unit", "warehouse", "stock_level", "stock_movement",
                "collection", "bundle", "media", "review", "tag", "barcode", "supplier_offer", "purchase_order",
                "purchase_line", "lot", "bin", "cycle_count", "recipe", "component", "packaging", "label"],
    "sales": ["customer", "customer_address", "customer_contact", "order", "order_line", "payment", "refund",
              "invoice", "invoice_line", "shipment", "shipment_item", "cart", "cart_item", "coupon",
              "promotion", "channel_account", "return", "return_line", "quote", "quote_line", "subscription",
              "plan", "credit_note", "loyalty_account", "loyalty_event", "gift_card", "commission", "territory"],
}
QUALIFIERS = ["history", "note", "attachment", "revision", "metric", "snapshot", "approval", "comment",
              "link", "schedule", "rule", "event", "batch", "allocation", "archive", "translation",
              "version", "audit", "import", "export"]
TOPICS = {
    "tenant": ["accounts", "access", "workspace", "integration"],
    "catalog": ["core", "pricing", "inventory", "purchasing", "content", "production"],
    "sales": ["customers", "orders", "billing", "fulfilment", "marketing", "subscriptions"],
}
STREETS = ["12 Rue de la Paix", "221B Baker Street", "1 Infinite Loop", "Hauptstraße 5", "Via Roma 10",
           "350 Fifth Avenue", "Calle Mayor 1", "Dam 1"]
CITIES = [("Paris", "75002", "FR"), ("London", "NW1 6XE", "GB"), ("Cupertino", "95014", "US"),
          ("Berlin", "10115", "DE"), ("Roma", "00184", "IT"), ("New York", "10118", "US"),
          ("Madrid", "28013", "ES"), ("Amsterdam", "1012 JS", "NL")]
WORDS = ["alpha", "bravo", "classic", "deluxe", "eco", "fresh", "grand", "happy", "ivory", "jade", "keen",
         "lunar", "metro", "nova", "opal", "prime", "quartz", "royal", "solid", "terra", "ultra", "vivid"]

MAX_IDENT = 63


def ident(name: str) -> str:
    """A PostgreSQL identifier of at most 63 bytes, shortened deterministically."""
    if len(name) <= MAX_IDENT:
        return name
    digest = hashlib.md5(name.encode()).hexdigest()[:8]
    return name[: MAX_IDENT - 9] + "_" + digest


def q(text: str) -> str:
    """A standard SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------


@dataclass
class Col:
    name: str
    ddl: str          # type and modifiers, without the name
    kind: str         # how seeds produce a value
    nullable: bool = False
    seeded: bool = True  # listed in the seed INSERT
    ref: "Table | None" = None
    enum: str = ""
    comment: str = ""


@dataclass
class Table:
    schema: str
    name: str          # tb_...
    module: "Module"
    seq: int = 0
    parents: list = field(default_factory=list)   # list[Table], distinct
    self_ref: bool = False
    cols: list = field(default_factory=list)       # list[Col]
    seeded: bool = False
    special: str = ""  # "tenant" | "audit" | ""
    rls: bool = False
    children: list = field(default_factory=list)
    seed_rows: dict = field(default_factory=dict)  # tenant -> [ids]
    triggered: bool = False
    validate_fn: bool = False
    audit: bool = False

    @property
    def qname(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def base(self) -> str:
        return self.name[3:]

    def has(self, col: str) -> bool:
        return any(c.name == col for c in self.cols)


@dataclass
class Module:
    prefix: int
    schema: str
    topic: str
    tables: list = field(default_factory=list)

    @property
    def dirname(self) -> str:
        return f"{self.prefix:03d}_{self.schema}_{self.topic}"


# ---------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------


class Generator:
    def __init__(self, n_files: int, seed: int):
        self.n_files = n_files
        self.rng = random.Random(seed)
        self.files: list[tuple[str, list[str], str]] = []  # (relpath, statements, header)
        self.modules: list[Module] = []
        self.tables: list[Table] = []

    # -- allocation ---------------------------------------------------------

    def allocate(self):
        n_common = 1 + len(SCHEMAS) + len(ENUMS) + len(DOMAINS) + len(COMPOSITES)
        rest = self.n_files - n_common
        if rest < 60:
            sys.exit(f"gen_tree: --files must be at least {n_common + 60}")
        n_tables = round(rest * 0.30)
        n_views = round(rest * 0.19)
        n_triggers = round(rest * 0.10)
        n_seeds = round(rest * 0.15)
        n_functions = rest - n_tables - n_views - n_triggers - n_seeds
        self.n_common = n_common
        self.n_tables, self.n_views, self.n_functions = n_tables, n_views, n_functions
        self.n_triggers, self.n_seeds = n_triggers, n_seeds
        assert n_seeds <= n_tables - 1 and n_triggers <= n_tables - 2

    # -- write-side layout --------------------------------------------------

    def plan_tables(self):
        rng = self.rng
        per_module = 30
        n_other = self.n_tables - 2  # tb_tenant and tb_audit_event are fixed
        n_modules = max(3, -(-n_other // per_module))
        schemas_cycle = ["tenant", "catalog", "sales"]
        # modules: the first of each schema early, then alternate catalog/sales/tenant
        order = []
        counts = {"tenant": 0, "catalog": 0, "sales": 0}
        for i in range(n_modules + 1):
            if i == 0:
                s = "tenant"
            else:
                s = ["catalog", "sales", "catalog", "sales", "tenant"][(i - 1) % 5]
            topics = TOPICS[s]
            k = counts[s]
            topic = topics[k] if k < len(topics) else f"{topics[k % len(topics)]}{k // len(topics) + 1}"
            counts[s] += 1
            order.append(Module(prefix=i * 10, schema=s, topic=topic))
        self.modules = order
        del schemas_cycle

        m0 = self.modules[0]
        tenant = Table("tenant", "tb_tenant", m0, special="tenant")
        audit = Table("tenant", "tb_audit_event", m0, special="audit")
        m0.tables += [tenant, audit]
        self.tenant, self.audit = tenant, audit

        used = {"tb_tenant", "tb_audit_event"}
        # distribute the remaining tables over modules (module 0 gets a few)
        sizes = [0] * len(self.modules)
        for i in range(n_other):
            sizes[1 + (i % (len(self.modules) - 1)) if i % 7 else 0] += 1
        noun_idx = {s: 0 for s in NOUNS}
        for mod, size in zip(self.modules, sizes):
            for _ in range(size):
                s = mod.schema
                nouns = NOUNS[s]
                i = noun_idx[s]
                noun_idx[s] += 1
                base = nouns[i % len(nouns)]
                rnd = i // len(nouns)
                name = f"tb_{base}" if rnd == 0 else f"tb_{base}_{QUALIFIERS[(rnd - 1 + i) % len(QUALIFIERS)]}"
                k = 2
                while name in used:
                    name = f"tb_{base}_{QUALIFIERS[(rnd + k + i) % len(QUALIFIERS)]}"
                    k += 1
                    if k > 40:
                        name = f"tb_{base}_{i}"
                used.add(name)
                mod.tables.append(Table(s, name, mod))
        for mod in self.modules:
            for seq, t in enumerate(mod.tables, start=1):
                t.seq = seq
                self.tables.append(t)

        # FK graph: parents among earlier tables, same module preferred
        for idx, t in enumerate(self.tables):
            if t.special:
                continue
            earlier = [p for p in self.tables[:idx] if not p.special]
            same = [p for p in earlier if p.module is t.module]
            n_par = rng.choices([0, 1, 2, 3], weights=[2, 5, 3, 1])[0]
            if not earlier:
                n_par = 0
            chosen: list[Table] = []
            for _ in range(n_par):
                pool = same if same and rng.random() < 0.7 else earlier
                p = rng.choice(pool)
                if p not in chosen:
                    chosen.append(p)
            t.parents = chosen
            for p in chosen:
                p.children.append(t)
            t.self_ref = rng.random() < 0.08
            t.rls = rng.random() < 0.2

    def plan_seeds(self):
        """Pick the seeded tables: tb_tenant plus n_seeds-1 others, spread out."""
        rng = self.rng
        candidates = [t for t in self.tables if not t.special]
        picked = sorted(rng.sample(range(len(candidates)), self.n_seeds - 1))
        self.tenant.seeded = True
        for i in picked:
            candidates[i].seeded = True

    # -- columns --------------------------------------------------------------

    def plan_columns(self):
        rng = self.rng
        for t in self.tables:
            cols: list[Col] = [
                Col("id", "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "id", comment="Surrogate key."),
                Col("uuid", "uuid NOT NULL DEFAULT gen_random_uuid()", "uuid", seeded=False,
                    comment="Public identifier; never reuse it."),
            ]
            if t.special == "tenant":
                cols += [
                    Col("code", "util.d_code NOT NULL", "code", comment="Short tenant code, e.g. 'ACME'."),
                    Col("name", "util.d_name NOT NULL", "name", comment="Display name."),
                    Col("plan", "tenant.e_tenant_plan NOT NULL DEFAULT 'free'", "enum", enum="tenant.e_tenant_plan"),
                    Col("is_active", "boolean NOT NULL DEFAULT true", "bool"),
                    Col("settings", "jsonb NOT NULL DEFAULT '{}'::jsonb", "jsonb"),
                    Col("created_at", "timestamptz NOT NULL DEFAULT now()", "created", seeded=False),
                    Col("updated_at", "timestamptz NOT NULL DEFAULT now()", "updated", seeded=False),
                ]
                t.cols = cols
                continue
            cols.append(Col("tenant_id", "bigint NOT NULL REFERENCES tenant.tb_tenant (id) ON DELETE CASCADE",
                            "tenant", comment="Owning tenant; every query filters on it."))
            if t.special == "audit":
                cols += [
                    Col("table_name", "text NOT NULL", "text"),
                    Col("operation", "util.e_audit_operation NOT NULL", "enum", enum="util.e_audit_operation"),
                    Col("row_id", "bigint", "int", nullable=True),
                    Col("payload", "jsonb NOT NULL DEFAULT '{}'::jsonb", "jsonb"),
                    Col("created_at", "timestamptz NOT NULL DEFAULT now()", "created", seeded=False),
                ]
                t.cols = cols
                continue
            # business columns
            if rng.random() < 0.85:
                cols.append(Col("code", "util.d_code NOT NULL", "code", comment="Business code, unique per tenant; e.g. 'X-1'; upper case."))
            if rng.random() < 0.9:
                cols.append(Col("name", "util.d_name NOT NULL", "name", comment="Display name; trimmed by the validate trigger."))
            for p in t.parents:
                nn = (p.seeded or not t.seeded) and rng.random() < 0.7
                cols.append(Col(f"{p.base}_id", "bigint" + (" NOT NULL" if nn else ""), "fk", nullable=not nn, ref=p,
                                comment=f"References {p.qname}; same tenant."))
            if t.self_ref:
                cols.append(Col("parent_id", "bigint", "self_fk", nullable=True, ref=t,
                                comment="Parent row in the same table (tree)."))
            optional = [
                (0.5, Col("description", "text", "text", nullable=True, comment="Free text; may contain ';' or quotes like ''this''.")),
                (0.35, Col("status", f"{STATUS_ENUM[t.schema]} NOT NULL DEFAULT '{ENUM_VALUES[STATUS_ENUM[t.schema]][0]}'",
                           "enum", enum=STATUS_ENUM[t.schema])),
                (0.3, Col("amount", "util.d_money NOT NULL DEFAULT 0", "money")),
                (0.3, Col("currency", "util.d_currency NOT NULL DEFAULT 'EUR'", "currency")),
                (0.3, Col("quantity", "util.d_quantity NOT NULL DEFAULT 0", "qty")),
                (0.15, Col("discount_pct", "util.d_percent", "pct", nullable=True)),
                (0.4, Col("is_active", "boolean NOT NULL DEFAULT true", "bool")),
                (0.25, Col("position", "integer NOT NULL DEFAULT 0", "int")),
                (0.45, Col("metadata", "jsonb NOT NULL DEFAULT '{}'::jsonb", "jsonb")),
                (0.2, Col("valid_from", "date NOT NULL DEFAULT current_date", "date_from")),
                (0.12, Col("address", "util.t_address", "address", nullable=True)),
                (0.1, Col("dimensions", "util.t_dimensions", "dims", nullable=True)),
                (0.15, Col("priority", "util.e_priority NOT NULL DEFAULT 'normal'", "enum", enum="util.e_priority")),
                (0.1, Col("visibility", "util.e_visibility NOT NULL DEFAULT 'private'", "enum", enum="util.e_visibility")),
                (0.15, Col("occurred_at", "timestamptz", "ts", nullable=True)),
                (0.15, Col("tags", "text[] NOT NULL DEFAULT '{}'", "tags")),
                (0.1, Col("email", "util.d_email", "email", nullable=True)),
                (0.06, Col("phone", "util.d_phone", "phone", nullable=True)),
                (0.08, Col("slug", "util.d_slug", "slug", nullable=True)),
                (0.05, Col("location", "util.t_geo_point", "geo", nullable=True)),
            ]
            for p_, c in optional:
                if rng.random() < p_:
                    cols.append(c)
                    if c.name == "valid_from":
                        cols.append(Col("valid_to", "date", "date_to", nullable=True))
            if t.has("name") and rng.random() < 0.2:
                cols.append(Col("name_search", "text GENERATED ALWAYS AS (lower(name::text)) STORED", "generated",
                                seeded=False, comment="Lower-cased name for search; generated."))
            cols.append(Col("created_at", "timestamptz NOT NULL DEFAULT now()", "created", seeded=False))
            if rng.random() < 0.8:
                cols.append(Col("updated_at", "timestamptz NOT NULL DEFAULT now()", "updated", seeded=False,
                                comment="Touched by util.fn_tg_touch_updated_at()."))
            t.cols = cols

    # -- emitters -------------------------------------------------------------

    def add(self, relpath: str, stmts: list[str], header: str):
        self.files.append((relpath, stmts, header))

    def emit_common(self):
        self.add(
            "db/schema/00_common/000_roles/0010_roles.sql",
            [
                "DO $$\nBEGIN\n    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_reader') THEN\n"
                "        CREATE ROLE app_reader;\n    END IF;\n"
                "    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_writer') THEN\n"
                "        CREATE ROLE app_writer;\n    END IF;\nEND $$;",
                "COMMENT ON ROLE app_reader IS 'Read-only application role; SELECT on read.* and write-side tables.';",
                "COMMENT ON ROLE app_writer IS 'Application role for the write side (INSERT; UPDATE; DELETE).';",
            ],
            "Application roles. Roles are cluster-wide: create them only when missing.",
        )
        for i, (s, comment) in enumerate(SCHEMAS, start=1):
            self.add(
                f"db/schema/00_common/010_schemas/{i * 10:04d}_{s}.sql",
                [
                    f"CREATE SCHEMA IF NOT EXISTS {s};",
                    f"COMMENT ON SCHEMA {s} IS {q(comment)};",
                    f"GRANT USAGE ON SCHEMA {s} TO app_reader, app_writer;",
                ],
                f"Schema {s}.",
            )
        for i, (s, n, values, comment) in enumerate(ENUMS, start=1):
            vals = ",\n    ".join(q(v) for v in values)
            self.add(
                f"db/schema/00_common/020_enums/{i * 10:04d}_{s}_{n}.sql",
                [
                    f"CREATE TYPE {s}.{n} AS ENUM (\n    {vals}\n);",
                    f"COMMENT ON TYPE {s}.{n} IS {q(comment)};",
                ],
                f"Enum {s}.{n}.",
            )
        for i, (n, body, comment) in enumerate(DOMAINS, start=1):
            typ, check = body.split(" CHECK ", 1)
            self.add(
                f"db/schema/00_common/030_domains/{i * 10:04d}_util_{n}.sql",
                [
                    f"CREATE DOMAIN util.{n} AS {typ}\n    CONSTRAINT ck_{n} CHECK {check};",
                    f"COMMENT ON DOMAIN util.{n} IS {q(comment)};",
                ],
                f"Domain util.{n}.",
            )
        for i, (n, fields, comment) in enumerate(COMPOSITES, start=1):
            body = ",\n    ".join(f"{a} {b}" for a, b in fields)
            self.add(
                f"db/schema/00_common/040_types/{i * 10:04d}_util_{n}.sql",
                [
                    f"CREATE TYPE util.{n} AS (\n    {body}\n);",
                    f"COMMENT ON TYPE util.{n} IS {q(comment)};",
                ],
                f"Composite type util.{n}.",
            )

    def emit_tables(self):
        rng = self.rng
        for t in self.tables:
            lines = [f"    {c.name} {c.ddl}" for c in t.cols]
            cons = []
            tn = t.name
            if not t.special == "tenant":
                cons.append(f"CONSTRAINT {ident(f'uq_{tn}_tenant_id')} UNIQUE (tenant_id, id)")
            else:
                cons.append(f"CONSTRAINT {ident(f'uq_{tn}_code')} UNIQUE (code)")
            cons.append(f"CONSTRAINT {ident(f'uq_{tn}_uuid')} UNIQUE (uuid)")
            if t.has("code") and not t.special:
                cons.append(f"CONSTRAINT {ident(f'uq_{tn}_code')} UNIQUE (tenant_id, code)")
            for c in t.cols:
                if c.kind == "fk":
                    p = c.ref
                    same_mod = p.module is t.module
                    if c.nullable and rng.random() < 0.4:
                        action = f" ON DELETE SET NULL ({c.name})"
                    elif same_mod and not c.nullable:
                        action = " ON DELETE CASCADE"
                    else:
                        action = " ON DELETE RESTRICT"
                    cons.append(f"CONSTRAINT {ident(f'fk_{tn}_{c.name}')} FOREIGN KEY (tenant_id, {c.name})\n"
                                f"        REFERENCES {p.qname} (tenant_id, id){action}")
                elif c.kind == "self_fk":
                    cons.append(f"CONSTRAINT {ident(f'fk_{tn}_parent')} FOREIGN KEY (tenant_id, parent_id)\n"
                                f"        REFERENCES {t.qname} (tenant_id, id) ON DELETE CASCADE")
                    cons.append(f"CONSTRAINT {ident(f'ck_{tn}_not_own_parent')} CHECK (parent_id IS NULL OR parent_id <> id)")
            if t.has("name") and not t.special:
                cons.append(f"CONSTRAINT {ident(f'ck_{tn}_name_no_semicolons')} CHECK (position(';;' IN name) = 0)")
            if t.has("valid_to"):
                cons.append(f"CONSTRAINT {ident(f'ck_{tn}_valid_range')} CHECK (valid_to IS NULL OR valid_to >= valid_from)")
            if t.has("position"):
                cons.append(f"CONSTRAINT {ident(f'ck_{tn}_position')} CHECK (position >= 0)")
            if t.has("metadata"):
                cons.append(f"CONSTRAINT {ident(f'ck_{tn}_metadata_object')} CHECK (jsonb_typeof(metadata) = 'object')")
            if t.has("amount") and t.has("discount_pct"):
                cons.append(f"CONSTRAINT {ident(f'ck_{tn}_discount')} CHECK (discount_pct IS NULL OR amount > 0 OR discount_pct = 0)")
            body = ",\n".join(lines + ["    " + c for c in cons])
            stmts = [f"CREATE TABLE {t.qname} (\n{body}\n);"]
            # indexes
            if not t.special == "tenant" and (t.special or rng.random() < 0.7):
                stmts.append(f"CREATE INDEX {ident(f'ix_{tn}_tenant_created')} ON {t.qname} (tenant_id, created_at DESC);")
            for c in t.cols:
                if c.kind in ("fk", "self_fk") and rng.random() < 0.6:
                    stmts.append(f"CREATE INDEX {ident(f'ix_{tn}_{c.name}')} ON {t.qname} (tenant_id, {c.name});")
            lead = "" if t.special == "tenant" else "tenant_id, "  # tb_tenant has no tenant_id
            if t.has("name") and rng.random() < 0.4:
                stmts.append(f"CREATE INDEX {ident(f'ix_{tn}_name_lower')} ON {t.qname} ({lead}lower(name::text));")
            if t.has("metadata") and rng.random() < 0.3:
                stmts.append(f"CREATE INDEX {ident(f'ix_{tn}_metadata')} ON {t.qname} USING gin (metadata jsonb_path_ops);")
            if t.has("status") and rng.random() < 0.5:
                first = ENUM_VALUES[STATUS_ENUM[t.schema]][0]
                stmts.append(f"CREATE INDEX {ident(f'ix_{tn}_open')} ON {t.qname} (tenant_id, status)\n"
                             f"    WHERE status <> '{first}';")
            if t.has("tags") and rng.random() < 0.5:
                stmts.append(f"CREATE INDEX {ident(f'ix_{tn}_tags')} ON {t.qname} USING gin (tags);")
            if t.has("is_active") and t.has("code") and rng.random() < 0.3:
                stmts.append(f"CREATE UNIQUE INDEX {ident(f'ux_{tn}_active_code')} ON {t.qname} ({lead}lower(code::text))\n"
                             f"    WHERE is_active;")
            # later ALTERs
            if t.has("quantity") and rng.random() < 0.4:
                stmts.append(f"ALTER TABLE {t.qname}\n    ADD CONSTRAINT {ident(f'ck_{tn}_quantity_cap')} CHECK (quantity <= 1000000);")
            if t.has("description") and rng.random() < 0.2:
                stmts.append(f"ALTER TABLE {t.qname} ALTER COLUMN description SET STORAGE EXTERNAL;")
            # comments
            nice = t.base.replace("_", " ")
            stmts.append(f"COMMENT ON TABLE {t.qname} IS {q(self.table_comment(t, nice))};")
            commented = [c for c in t.cols if c.comment]
            n_com = min(len(commented), rng.choice([0, 1, 1, 1, 2]))
            for c in sorted(rng.sample(commented, n_com), key=commented.index):
                stmts.append(f"COMMENT ON COLUMN {t.qname}.{c.name} IS {q(c.comment)};")
            # row level security
            if t.rls and not t.special:
                stmts.append(f"ALTER TABLE {t.qname} ENABLE ROW LEVEL SECURITY;")
                stmts.append(
                    f"CREATE POLICY {ident(f'pl_{tn}_tenant_isolation')} ON {t.qname}\n"
                    f"    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::bigint)\n"
                    f"    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::bigint);")
            # grants
            # app_reader mostly reads through read.*; a few tables are exposed directly
            if t.special or rng.random() < 0.4:
                stmts.append(f"GRANT SELECT ON {t.qname} TO app_reader;")
            if t.special != "audit":
                stmts.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t.qname} TO app_writer;")
            else:
                stmts.append(f"GRANT SELECT, INSERT ON {t.qname} TO app_writer;")
            path = f"db/schema/01_write_side/{t.module.dirname}/{t.seq * 10:04d}_{tn}.sql"
            self.add(path, stmts, f"Table {t.qname} ({t.module.schema} / {t.module.topic}).")

    def table_comment(self, t: Table, nice: str) -> str:
        if t.special == "tenant":
            return "A tenant (customer account); the root of every multi-tenant table."
        if t.special == "audit":
            return "Append-only audit trail written by util.fn_tg_audit(); one row per INSERT; UPDATE; DELETE."
        variants = [
            f"{nice.capitalize()} records of a tenant.",
            f"{nice.capitalize()}: one row per {nice}; scoped by tenant_id.",
            f"Write-side {nice} data (don't read directly; use the read.* views).",
            f"Tenant-scoped {nice}; soft rules are enforced by triggers, hard ones by constraints.",
        ]
        return variants[(len(t.name) + t.seq) % len(variants)]

    # -- query side -----------------------------------------------------------

    def plan_views(self):
        rng = self.rng
        specs = []  # (table, kind, extra)
        regular = [t for t in self.tables if not t.special]
        target = self.n_views
        # first pass: probabilistic selection in creation order
        probs = {"v": 0.45, "mv": 0.12, "recent": 0.25, "stats": 0.2}
        for t in regular:
            have_v = False
            if rng.random() < probs["v"]:
                specs.append((t, "v", None))
                have_v = True
            if rng.random() < probs["mv"]:
                specs.append((t, "mv", None))
            if have_v and rng.random() < probs["recent"]:
                specs.append((t, "recent", None))
            for p in t.parents:
                if rng.random() < probs["stats"]:
                    specs.append((t, "stats", p))
        # trim or extend to exactly `target`
        while len(specs) > target:
            # drop the last spec nothing depends on
            for i in range(len(specs) - 1, -1, -1):
                t, kind, extra = specs[i]
                if kind == "v" and any(s[0] is t and s[1] == "recent" for s in specs):
                    continue
                del specs[i]
                break
        while len(specs) < target:
            before = len(specs)
            for t in regular:
                if len(specs) >= target:
                    break
                if not any(s[0] is t and s[1] == "v" for s in specs):
                    specs.append((t, "v", None))
                elif not any(s[0] is t and s[1] == "mv" for s in specs):
                    specs.append((t, "mv", None))
                elif t.has("is_active") and not any(s[0] is t and s[1] == "active" for s in specs):
                    specs.append((t, "active", None))
            if len(specs) == before:
                sys.exit("gen_tree: cannot place that many views; lower --files")
        order = {"v": 0, "mv": 1, "recent": 2, "active": 3, "stats": 4}
        index = {id(t): i for i, t in enumerate(self.tables)}
        specs.sort(key=lambda s: (index[id(s[0])], order[s[1]], index[id(s[2])] if s[2] else -1))
        self.view_specs = specs

    def emit_views(self):
        rng = self.rng
        seqs: dict[str, int] = {}
        for t, kind, extra in self.view_specs:
            d = t.module.dirname
            seqs[d] = seqs.get(d, 0) + 1
            stmts: list[str]
            if kind == "v":
                vname = f"read.{ident('v_' + t.base)}"
                cols = ["t.id", "t.uuid", "t.tenant_id", "tn.code AS tenant_code"]
                for c in t.cols:
                    if c.name in ("code", "name", "status", "amount", "currency", "quantity", "is_active", "valid_from", "valid_to"):
                        cols.append(f"t.{c.name}")
                joins = ["JOIN tenant.tb_tenant AS tn ON tn.id = t.tenant_id"]
                for i, c in enumerate([c for c in t.cols if c.kind == "fk"][:3], start=1):
                    p = c.ref
                    joins.append(f"LEFT JOIN {p.qname} AS p{i}\n    ON p{i}.tenant_id = t.tenant_id AND p{i}.id = t.{c.name}")
                    label = "name" if p.has("name") else "uuid"
                    cols.append(f"p{i}.{label} AS {ident(p.base + '_' + label)}")
                if t.has("address"):
                    cols.append("(t.address).city AS city")
                cols += ["t.created_at"]
                opts = " WITH (security_invoker = true)" if rng.random() < 0.2 else ""
                stmts = [
                    f"CREATE VIEW {vname}{opts} AS\nSELECT\n    " + ",\n    ".join(cols)
                    + f"\nFROM {t.qname} AS t\n" + "\n".join(joins) + "\nWHERE tn.is_active;",
                    f"COMMENT ON VIEW {vname} IS {q(f'{t.base} joined with its tenant and parents; active tenants only.')};",
                    f"GRANT SELECT ON {vname} TO app_reader;",
                ]
            elif kind == "recent":
                base = f"read.{ident('v_' + t.base)}"
                vname = f"read.{ident('v_' + t.base + '_recent')}"
                stmts = [
                    f"CREATE VIEW {vname} AS\nSELECT v.*\nFROM {base} AS v\n"
                    f"WHERE v.created_at >= now() - interval '30 days'\nORDER BY v.created_at DESC;",
                    f"COMMENT ON VIEW {vname} IS 'Rows created during the last 30 days; newest first.';",
                    f"GRANT SELECT ON {vname} TO app_reader;",
                ]
            elif kind == "active":
                vname = f"read.{ident('v_' + t.base + '_active')}"
                stmts = [
                    f"CREATE VIEW {vname} AS\nSELECT t.*\nFROM {t.qname} AS t\nWHERE t.is_active;",
                    f"GRANT SELECT ON {vname} TO app_reader;",
                ]
            elif kind == "mv":
                vname = f"read.{ident('mv_' + t.base + '_by_tenant')}"
                aggs = ["count(*) AS row_count", "max(t.created_at) AS last_created_at"]
                if t.has("amount"):
                    aggs.append("sum(t.amount)::numeric(16,2) AS total_amount")
                if t.has("quantity"):
                    aggs.append("sum(t.quantity) AS total_quantity")
                if t.has("status"):
                    first = ENUM_VALUES[STATUS_ENUM[t.schema]][0]
                    aggs.append(f"count(*) FILTER (WHERE t.status = '{first}') AS n_{first}")
                stmts = [
                    f"CREATE MATERIALIZED VIEW {vname} AS\nSELECT\n    tn.id AS tenant_id,\n    tn.code AS tenant_code,\n    "
                    + ",\n    ".join(aggs)
                    + f"\nFROM tenant.tb_tenant AS tn\nJOIN {t.qname} AS t ON t.tenant_id = tn.id\n"
                    "GROUP BY tn.id, tn.code\nWITH DATA;",
                    f"CREATE UNIQUE INDEX {ident('ux_mv_' + t.base + '_by_tenant')} ON {vname} (tenant_id);",
                    f"COMMENT ON MATERIALIZED VIEW {vname} IS 'Per-tenant totals; REFRESH MATERIALIZED VIEW CONCURRENTLY nightly.';",
                    f"GRANT SELECT ON {vname} TO app_reader;",
                ]
            else:  # stats: parent with count of this table's rows
                p = extra
                fk = next(c for c in t.cols if c.kind == "fk" and c.ref is p)
                vname = f"read.{ident('v_' + p.base + '_' + t.base + '_stats')}"
                label = "p.name" if p.has("name") else "p.uuid"
                stmts = [
                    f"CREATE VIEW {vname} AS\nSELECT\n    p.tenant_id,\n    p.id AS {ident(p.base + '_id')},\n    {label},\n"
                    f"    count(c.id) AS {ident('n_' + t.base)},\n    max(c.created_at) AS last_at\n"
                    f"FROM {p.qname} AS p\nLEFT JOIN {t.qname} AS c\n    ON c.tenant_id = p.tenant_id AND c.{fk.name} = p.id\n"
                    f"GROUP BY p.tenant_id, p.id, {label};",
                    f"COMMENT ON VIEW {vname} IS {q(f'How many {t.base} rows each {p.base} has.')};",
                    f"GRANT SELECT ON {vname} TO app_reader;",
                ]
            short = vname.split(".", 1)[1]
            path = f"db/schema/02_query_side/{d}/{seqs[d] * 10:04d}_{short}.sql"
            self.add(path, stmts, f"Query side: {vname} over {t.qname}.")

    # -- functions and triggers -------------------------------------------------

    def plan_triggers(self):
        rng = self.rng
        regular = [t for t in self.tables if not t.special]
        idx = sorted(rng.sample(range(len(regular)), self.n_triggers))
        self.triggered = [regular[i] for i in idx]
        for t in self.triggered:
            t.triggered = True
            t.validate_fn = rng.random() < 0.5
            t.audit = rng.random() < 0.5
            if not t.validate_fn and not t.audit and not t.has("updated_at"):
                t.audit = True

    def emit_functions(self):
        rng = self.rng
        generic = self.generic_functions()
        specs = []  # (table, kind)
        for t in self.triggered:
            if t.validate_fn:
                specs.append((t, "validate"))
        budget = self.n_functions - len(generic) - len(specs)
        if budget < 0:
            sys.exit("gen_tree: not enough function files for the trigger functions")
        kinds = ["get", "count", "describe", "touch", "json"]
        regular = [t for t in self.tables if not t.special]
        extra = []
        round_ = 0
        while len(extra) < budget:
            for t in regular:
                if len(extra) >= budget:
                    break
                k = kinds[(round_ + len(t.name)) % len(kinds)]
                if round_ > 0 and rng.random() < 0.5:
                    continue
                if (t, k) not in extra:
                    extra.append((t, k))
            round_ += 1
        specs += extra
        index = {id(t): i for i, t in enumerate(self.tables)}
        korder = {"validate": 0, "get": 1, "count": 2, "describe": 3, "touch": 4, "json": 5}
        specs.sort(key=lambda s: (index[id(s[0])], korder[s[1]]))
        for i, (name, stmts, header) in enumerate(generic, start=1):
            self.add(f"db/schema/03_functions/000_util/{i * 10:04d}_{name}.sql", stmts, header)
        seqs: dict[str, int] = {}
        for t, kind in specs:
            d = t.module.dirname
            seqs[d] = seqs.get(d, 0) + 1
            fname, stmts = self.table_function(t, kind)
            self.add(f"db/schema/03_functions/{d}/{seqs[d] * 10:04d}_{fname}.sql", stmts,
                     f"Function {t.schema}.{fname} for {t.qname}.")

    def generic_functions(self):
        out = []
        out.append(("fn_tg_touch_updated_at", [
            "CREATE OR REPLACE FUNCTION util.fn_tg_touch_updated_at()\nRETURNS trigger\nLANGUAGE plpgsql\nAS $$\n"
            "BEGIN\n    -- keep updated_at honest; callers cannot forge it\n    NEW.updated_at := now();\n    RETURN NEW;\nEND;\n$$;",
            "COMMENT ON FUNCTION util.fn_tg_touch_updated_at() IS 'BEFORE UPDATE trigger: sets updated_at := now();';",
        ], "Generic trigger function: touch updated_at."))
        out.append(("fn_tg_audit", [
            "CREATE OR REPLACE FUNCTION util.fn_tg_audit()\nRETURNS trigger\nLANGUAGE plpgsql\nSECURITY DEFINER\n"
            "SET search_path = pg_catalog, pg_temp\nAS $fn$\nDECLARE\n    v_row jsonb;\n    v_tenant bigint;\nBEGIN\n"
            "    IF TG_OP = 'DELETE' THEN\n        v_row := to_jsonb(OLD);\n    ELSE\n        v_row := to_jsonb(NEW);\n    END IF;\n"
            "    v_tenant := (v_row ->> 'tenant_id')::bigint;\n"
            "    /* one row per change; the payload is the whole row; no diff */\n"
            "    INSERT INTO tenant.tb_audit_event (tenant_id, table_name, operation, row_id, payload)\n"
            "    VALUES (v_tenant, TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP::util.e_audit_operation,\n"
            "            (v_row ->> 'id')::bigint, v_row);\n    RETURN NULL;\nEND;\n$fn$;",
            "COMMENT ON FUNCTION util.fn_tg_audit() IS 'AFTER trigger: appends to tenant.tb_audit_event; SECURITY DEFINER.';",
            "REVOKE ALL ON FUNCTION util.fn_tg_audit() FROM PUBLIC;",
        ], "Generic audit trigger function."))
        out.append(("fn_slugify", [
            "CREATE OR REPLACE FUNCTION util.fn_slugify(p_text text)\nRETURNS text\nLANGUAGE sql\nIMMUTABLE\nSTRICT\nPARALLEL SAFE\n"
            "AS $$\n    SELECT btrim(regexp_replace(lower(p_text), '[^a-z0-9]+', '-', 'g'), '-');\n$$;",
            "COMMENT ON FUNCTION util.fn_slugify(text) IS 'Turns ''Hello; World!'' into ''hello-world''.';",
            "GRANT EXECUTE ON FUNCTION util.fn_slugify(text) TO app_reader, app_writer;",
        ], "Slug helper."))
        out.append(("fn_format_money", [
            "CREATE OR REPLACE FUNCTION util.fn_format_money(p_amount numeric, p_currency text DEFAULT 'EUR')\n"
            "RETURNS text\nLANGUAGE plpgsql\nIMMUTABLE\nAS $body$\nDECLARE\n    v_sym text;\nBEGIN\n"
            "    v_sym := CASE p_currency WHEN 'EUR' THEN '€' WHEN 'USD' THEN '$' WHEN 'GBP' THEN '£' ELSE p_currency || ' ' END;\n"
            "    IF p_amount IS NULL THEN\n        RETURN 'n/a; no amount';\n    END IF;\n"
            "    RETURN v_sym || to_char(p_amount, 'FM999G999G990D00');\nEND;\n$body$;",
            "COMMENT ON FUNCTION util.fn_format_money(numeric, text) IS 'Formats an amount: ''€1,234.50''; NULL gives ''n/a''.';",
            "GRANT EXECUTE ON FUNCTION util.fn_format_money(numeric, text) TO app_reader;",
        ], "Money formatting helper."))
        out.append(("fn_current_tenant", [
            "CREATE OR REPLACE FUNCTION util.fn_current_tenant()\nRETURNS bigint\nLANGUAGE sql\nSTABLE\n"
            "BEGIN ATOMIC\n    SELECT nullif(current_setting('app.tenant_id', true), '')::bigint;\nEND;",
            "COMMENT ON FUNCTION util.fn_current_tenant() IS 'The tenant of this session (GUC app.tenant_id); NULL when unset.';",
        ], "Current tenant from the session (SQL-standard function body)."))
        out.append(("fn_assert", [
            "CREATE OR REPLACE PROCEDURE util.pr_assert(p_condition boolean, p_message text DEFAULT 'assertion failed; see log')\n"
            "LANGUAGE plpgsql\nAS $$\nBEGIN\n    IF NOT coalesce(p_condition, false) THEN\n"
            "        RAISE EXCEPTION USING MESSAGE = p_message, HINT = 'Check the caller''s input; it is validated here.';\n"
            "    END IF;\nEND;\n$$;",
            "COMMENT ON PROCEDURE util.pr_assert(boolean, text) IS 'Raises when the condition is not true.';",
        ], "Assertion procedure."))
        out.append(("fn_jsonb_merge", [
            "CREATE OR REPLACE FUNCTION util.fn_jsonb_merge(p_left jsonb, p_right jsonb)\nRETURNS jsonb\nLANGUAGE sql\nIMMUTABLE\n"
            "AS 'SELECT coalesce(p_left, ''{}''::jsonb) || coalesce(p_right, ''{}''::jsonb);';",
            "COMMENT ON FUNCTION util.fn_jsonb_merge(jsonb, jsonb) IS 'Shallow merge; right wins.';",
        ], "JSONB merge helper (single-quoted body)."))
        return out

    def table_function(self, t: Table, kind: str):
        rng = self.rng
        s, tn, base = t.schema, t.qname, t.base
        label = "name" if t.has("name") else ("code" if t.has("code") else "uuid")
        if kind == "validate":
            fname = ident(f"fn_tg_{base}_validate")
            checks = []
            if t.has("name"):
                checks.append(
                    "    IF NEW.name IS NULL OR btrim(NEW.name) = '' THEN\n"
                    f"        RAISE EXCEPTION 'name is required; got ''%'' on {base}', NEW.name\n"
                    "            USING ERRCODE = 'check_violation';\n    END IF;\n"
                    "    NEW.name := btrim(NEW.name);")
            if t.has("code"):
                checks.append("    NEW.code := upper(NEW.code);")
            if t.has("quantity"):
                checks.append("    IF NEW.quantity > 1000000 THEN\n"
                              "        RAISE EXCEPTION 'quantity % too large; max is 1000000', NEW.quantity;\n    END IF;")
            if t.has("valid_to"):
                checks.append("    IF NEW.valid_to IS NOT NULL AND NEW.valid_to < NEW.valid_from THEN\n"
                              "        RAISE EXCEPTION 'valid_to (%) before valid_from (%); fix the period', NEW.valid_to, NEW.valid_from;\n"
                              "    END IF;")
            if t.has("metadata"):
                checks.append("    NEW.metadata := coalesce(NEW.metadata, '{}'::jsonb);")
            if not checks:
                checks.append("    -- nothing to normalise yet; the hook exists for later rules\n    NULL;")
            stmts = [
                f"CREATE OR REPLACE FUNCTION {s}.{fname}()\nRETURNS trigger\nLANGUAGE plpgsql\nAS $$\nBEGIN\n"
                + "\n".join(checks) + "\n    RETURN NEW;\nEND;\n$$;",
                f"COMMENT ON FUNCTION {s}.{fname}() IS {q(f'BEFORE INSERT OR UPDATE trigger on {tn}: normalises; rejects bad rows.')};",
            ]
        elif kind == "get":
            fname = ident(f"fn_get_{base}")
            stmts = [
                f"CREATE OR REPLACE FUNCTION {s}.{fname}(p_tenant_id bigint, p_id bigint)\nRETURNS SETOF {tn}\n"
                f"LANGUAGE sql\nSTABLE\nAS $$\n    SELECT *\n    FROM {tn}\n    WHERE tenant_id = p_tenant_id\n      AND id = p_id;\n$$;",
                f"COMMENT ON FUNCTION {s}.{fname}(bigint, bigint) IS 'One row by id, tenant-scoped.';",
                f"GRANT EXECUTE ON FUNCTION {s}.{fname}(bigint, bigint) TO app_reader;",
            ]
        elif kind == "count":
            fname = ident(f"fn_count_{base}")
            where = " AND is_active" if t.has("is_active") else ""
            if rng.random() < 0.3:
                body = (f"BEGIN ATOMIC\n    SELECT count(*)\n    FROM {tn}\n    WHERE tenant_id = p_tenant_id{where};\nEND;")
            else:
                body = (f"AS $$\n    SELECT count(*)\n    FROM {tn}\n    WHERE tenant_id = p_tenant_id{where};\n$$;")
            stmts = [
                f"CREATE OR REPLACE FUNCTION {s}.{fname}(p_tenant_id bigint)\nRETURNS bigint\nLANGUAGE sql\nSTABLE\n" + body,
                f"GRANT EXECUTE ON FUNCTION {s}.{fname}(bigint) TO app_reader;",
            ]
        elif kind == "describe":
            fname = ident(f"fn_describe_{base}")
            stmts = [
                f"CREATE OR REPLACE FUNCTION {s}.{fname}(p_tenant_id bigint, p_id bigint)\nRETURNS text\nLANGUAGE plpgsql\nSTABLE\n"
                f"AS $fn$\nDECLARE\n    v_label text;\n    v_created timestamptz;\n    v_sql text := 'SELECT 1; -- never run';\nBEGIN\n"
                f"    SELECT t.{label}::text, t.created_at\n      INTO v_label, v_created\n      FROM {tn} AS t\n"
                f"     WHERE t.tenant_id = p_tenant_id AND t.id = p_id;\n"
                f"    IF NOT FOUND THEN\n        RAISE NOTICE 'no {base} %; tenant %', p_id, p_tenant_id;\n"
                f"        RETURN 'missing; ''{base}'' not found';\n    END IF;\n"
                f"    -- a dollar sign inside the body: $$ is fine inside a body quoted with another tag\n"
                f"    RETURN format('%s (%s); created %s; it''s $$ok$$', v_label, p_id, to_char(v_created, 'YYYY-MM-DD'));\n"
                f"END;\n$fn$;",
                f"COMMENT ON FUNCTION {s}.{fname}(bigint, bigint) IS {q(f'Human description of a {base} row; e.g. ''x (1); created 2024-01-01''.')};",
                f"GRANT EXECUTE ON FUNCTION {s}.{fname}(bigint, bigint) TO app_reader;",
            ]
        elif kind == "touch":
            fname = ident(f"fn_touch_{base}")
            sets = "updated_at = now()" if t.has("updated_at") else "created_at = created_at"
            stmts = [
                f"CREATE OR REPLACE FUNCTION {s}.{fname}(p_tenant_id bigint, p_ids bigint[])\nRETURNS integer\nLANGUAGE plpgsql\n"
                f"AS $$\nDECLARE\n    v_count integer := 0;\nBEGIN\n    IF p_ids IS NULL OR cardinality(p_ids) = 0 THEN\n"
                f"        RETURN 0; -- nothing to do; ''empty'' input\n    END IF;\n"
                f"    UPDATE {tn}\n       SET {sets}\n     WHERE tenant_id = p_tenant_id\n       AND id = ANY (p_ids);\n"
                f"    GET DIAGNOSTICS v_count = ROW_COUNT;\n    RETURN v_count;\nEND;\n$$;",
                f"GRANT EXECUTE ON FUNCTION {s}.{fname}(bigint, bigint[]) TO app_writer;",
            ]
        else:  # json
            fname = ident(f"fn_{base}_as_json")
            stmts = [
                f"CREATE OR REPLACE FUNCTION {s}.{fname}(p_tenant_id bigint)\nRETURNS jsonb\nLANGUAGE sql\nSTABLE\n"
                f"AS $json$\n    SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'label', t.{label}, 'note', 'a;b') ORDER BY t.id), '[]'::jsonb)\n"
                f"    FROM {tn} AS t\n    WHERE t.tenant_id = p_tenant_id;\n$json$;",
                f"COMMENT ON FUNCTION {s}.{fname}(bigint) IS 'All rows of a tenant as a JSON array; ''[]'' when none.';",
                f"GRANT EXECUTE ON FUNCTION {s}.{fname}(bigint) TO app_reader;",
            ]
        return fname, stmts

    def emit_triggers(self):
        seqs: dict[str, int] = {}
        for t in self.triggered:
            d = t.module.dirname
            seqs[d] = seqs.get(d, 0) + 1
            stmts = []
            if t.validate_fn:
                fn = f"{t.schema}.{ident(f'fn_tg_{t.base}_validate')}"
                trg = ident(f"tg_{t.base}_validate")
                stmts.append(f"CREATE TRIGGER {trg}\n    BEFORE INSERT OR UPDATE ON {t.qname}\n    FOR EACH ROW\n"
                             f"    EXECUTE FUNCTION {fn}();")
            if t.has("updated_at"):
                trg = ident(f"tg_{t.base}_touch")
                cond = "\n    WHEN (OLD.* IS DISTINCT FROM NEW.*)" if len(t.name) % 2 else ""
                stmts.append(f"CREATE TRIGGER {trg}\n    BEFORE UPDATE ON {t.qname}\n    FOR EACH ROW{cond}\n"
                             f"    EXECUTE FUNCTION util.fn_tg_touch_updated_at();")
            if t.audit:
                trg = ident(f"tg_{t.base}_audit")
                stmts.append(f"CREATE TRIGGER {trg}\n    AFTER INSERT OR UPDATE OR DELETE ON {t.qname}\n    FOR EACH ROW\n"
                             f"    EXECUTE FUNCTION util.fn_tg_audit();")
                stmts.append(f"COMMENT ON TRIGGER {trg} ON {t.qname} IS 'Audit trail; see tenant.tb_audit_event.';")
            self.add(f"db/schema/04_triggers/{d}/{seqs[d] * 10:04d}_tg_{t.name[3:]}.sql", stmts,
                     f"Triggers on {t.qname}.")

    # -- seeds ----------------------------------------------------------------

    def emit_seeds(self):
        rng = self.rng
        seqs: dict[str, int] = {}
        for t in self.tables:
            if not t.seeded:
                continue
            d = t.module.dirname
            seqs[d] = seqs.get(d, 0) + 1
            cols = [c for c in t.cols if c.seeded and (not c.nullable or c.kind in ("fk", "self_fk") or rng.random() < 0.6)]
            names = [c.name for c in cols]
            rows = []
            if t.special == "tenant":
                tenants = [(None, i) for i in range(1, N_TENANTS + 1)]
                per = 1
            else:
                tenants = [(k, None) for k in range(1, N_TENANTS + 1)]
                per = rng.randint(2, 6)
            for ten, tid in tenants:
                ids = []
                for r in range(per):
                    row_id = tid if tid is not None else ten * 1000 + r + 1
                    ids.append(row_id)
                    vals = [self.seed_value(t, c, ten if ten else row_id, row_id, r, ids) for c in cols]
                    rows.append("(" + ", ".join(vals) + ")")
                t.seed_rows[ten if ten else tid] = ids
            stmts = []
            # split into 1..2 INSERTs
            chunks = [rows] if len(rows) < 8 or rng.random() < 0.5 else [rows[: len(rows) // 2], rows[len(rows) // 2:]]
            for ch in chunks:
                stmts.append(f"INSERT INTO {t.qname} ({', '.join(names)})\nOVERRIDING SYSTEM VALUE\nVALUES\n    "
                             + ",\n    ".join(ch) + ";")
            if rng.random() < 0.25:
                stmts.append(f"SELECT setval(pg_get_serial_sequence('{t.qname}', 'id'), 100000, false);")
            else:
                stmts.append(f"ALTER TABLE {t.qname} ALTER COLUMN id RESTART WITH 100000;")
            self.add(f"db/seeds/common/{d}/{seqs[d] * 10:04d}_{t.name}.sql", stmts, f"Seed data for {t.qname}.")

    def seed_value(self, t: Table, c: Col, tenant: int, row_id: int, r: int, ids_so_far: list) -> str:
        rng = self.rng
        k = c.kind
        abbr = t.base.upper()[:24]
        if k == "id":
            return str(row_id)
        if k == "tenant":
            return str(tenant)
        if k == "code":
            return q(f"{abbr}-{tenant}-{r + 1}") if t.special != "tenant" else q(f"T{row_id:03d}")
        if k == "name":
            w = WORDS[(row_id + len(t.name)) % len(WORDS)]
            if t.special == "tenant":
                return q(["Acme Corp.", "Globex; Inc.", "Initech O'Brien & Co"][(row_id - 1) % 3])
            style = rng.random()
            if style < 0.2:
                return q(f"{w.capitalize()} {r + 1}; edition")
            if style < 0.35:
                return q(f"{w.capitalize()} 'special' {r + 1}")
            return q(f"{t.base.replace('_', ' ').capitalize()} {w} {r + 1}")
        if k == "text":
            if t.special == "audit":
                return q("seed")
            return rng.choice([q("Imported from the legacy system; see ticket #42."), "NULL",
                               q("It's a plain note -- not a comment; really."), q("Multi\nline; text")])
        if k == "email":
            return q(f"user{r + 1}.t{tenant}@example.com")
        if k == "phone":
            return q(f"+33 1 23 45 {10 + r:02d} {10 + tenant:02d}")
        if k == "slug":
            return q(f"{t.base.replace('_', '-')}-{tenant}-{r + 1}")
        if k == "enum":
            return q(rng.choice(ENUM_VALUES[c.enum]))
        if k == "money":
            return f"{rng.randint(100, 999999) / 100:.2f}"
        if k == "currency":
            return q(rng.choice(["EUR", "USD", "GBP"]))
        if k == "qty":
            return str(rng.randint(0, 500))
        if k == "pct":
            return rng.choice(["NULL", f"{rng.randint(0, 5000) / 100:.2f}"])
        if k == "bool":
            return rng.choice(["true", "true", "false"])
        if k == "int":
            return str(r * 10)
        if k == "jsonb":
            return rng.choice(["'{}'::jsonb", q('{"source": "seed", "rank": %d}' % (r + 1)) + "::jsonb",
                               q('{"note": "a; b", "quote": "it\'s"}') + "::jsonb"])
        if k == "date_from":
            return f"DATE '2024-{1 + r % 12:02d}-01'"
        if k == "date_to":
            return rng.choice(["NULL", f"DATE '2025-{1 + r % 12:02d}-28'"])
        if k == "address":
            street = STREETS[(row_id + r) % len(STREETS)]
            city, zipc, cc = CITIES[(row_id + r) % len(CITIES)]
            return f"ROW({q(street)}, NULL, {q(city)}, {q(zipc)}, {q(cc)})::util.t_address"
        if k == "dims":
            return f"ROW({rng.randint(10, 900)}, {rng.randint(10, 600)}, {rng.randint(5, 400)}, {rng.randint(50, 20000)})::util.t_dimensions"
        if k == "geo":
            return f"ROW({rng.uniform(-60, 60):.5f}, {rng.uniform(-170, 170):.5f})::util.t_geo_point"
        if k == "ts":
            return rng.choice(["NULL", f"TIMESTAMPTZ '2024-{1 + r % 12:02d}-15 10:30:00+00'"])
        if k == "tags":
            return rng.choice(["'{}'", "ARRAY['new', 'seed']", "'{\"a;b\",plain}'"])
        if k == "fk":
            p = c.ref
            if p.seeded:
                return str(rng.choice(p.seed_rows[tenant]))
            assert c.nullable, (t.qname, c.name)
            return "NULL"
        if k == "self_fk":
            return "NULL" if r == 0 else str(ids_so_far[0])
        raise AssertionError(k)

    # -- output ---------------------------------------------------------------

    def run(self):
        self.allocate()
        self.plan_tables()
        self.plan_seeds()
        self.plan_columns()
        self.plan_views()
        self.plan_triggers()
        self.emit_common()
        self.emit_tables()
        self.emit_views()
        self.emit_functions()
        self.emit_triggers()
        self.emit_seeds()
        if len(self.files) != self.n_files:
            sys.exit(f"gen_tree: internal error: {len(self.files)} files generated, {self.n_files} wanted")


def render(relpath: str, stmts: list[str], header: str, i: int) -> str:
    head = f"-- {relpath.split('/', 2)[2]}\n-- {header}\n"
    if i % 5 == 0:
        head = f"/*\n * {relpath.split('/', 2)[2]}\n * {header}\n * Generated benchmark file; edits are overwritten.\n */\n"
    return head + "\n" + "\n\n".join(stmts) + "\n"


YAML_RUST = """name: local
include_dirs:
  - db/schema
build:
  sort_mode: natural
"""

# Both tools: the Python tool requires database_url (build never connects) and
# builds only what include_dirs lists, so the seeds are listed too; confiture
# (Rust) takes seeds from db/seeds/common anyway and reads a file selected twice once.
YAML_BOTH = """name: local
database_url: postgresql://postgres@127.0.0.1:5432/bench_local
include_dirs:
  - db/schema
  - db/seeds/common
build:
  sort_mode: natural
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--files", type=int, default=1256, help="total number of .sql files, seeds included (default 1256)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--yaml", choices=["both", "rust"], default="both",
                    help="'rust': the minimal local.yaml (no database_url, seeds implicit); "
                         "'both' (default): also accepted by the Python fraiseql-confiture")
    ap.add_argument("--force", action="store_true", help="replace OUTDIR/db if it exists")
    args = ap.parse_args(argv)

    gen = Generator(args.files, args.seed)
    gen.run()

    db = os.path.join(args.outdir, "db")
    if os.path.exists(db):
        if not args.force:
            sys.exit(f"gen_tree: {db} exists (use --force to replace it)")
        shutil.rmtree(db)
    os.makedirs(os.path.join(db, "environments"))
    with open(os.path.join(db, "environments", "local.yaml"), "w", encoding="utf-8") as f:
        f.write(YAML_BOTH if args.yaml == "both" else YAML_RUST)

    n_stmts = 0
    n_bytes = 0
    per_area: dict[str, list[int]] = {}
    for i, (rel, stmts, header) in enumerate(gen.files):
        text = render(rel, stmts, header, i)
        data = text.encode("utf-8")
        path = os.path.join(args.outdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        n_stmts += len(stmts)
        n_bytes += len(data)
        parts = rel.split("/")
        area = parts[2] if parts[1] == "schema" else "seeds"
        a = per_area.setdefault(area, [0, 0, 0])
        a[0] += 1
        a[1] += len(stmts)
        a[2] += len(data)

    for area, (nf, ns, nb) in per_area.items():
        print(f"  {area:<16} {nf:5d} files {ns:6d} statements {nb:9d} bytes")
    print(f"files: {len(gen.files)}  statements: {n_stmts}  bytes: {n_bytes}  "
          f"(tables {gen.n_tables}, views {gen.n_views}, functions {gen.n_functions}, "
          f"trigger files {gen.n_triggers}, seed files {gen.n_seeds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
