#!/usr/bin/env python3
"""Generate a Confiture project with N small, realistic SQL migrations. Stdlib only.

    gen_migrations.py OUT_DIR [--count 200] [--port 5432] [--db bench_ours] [--seed 42]
                      [--psql-drivers DIR]

Writes
    OUT_DIR/db/environments/local.yaml   database_url: postgresql://postgres@127.0.0.1:PORT/DB
                                         include_dirs: [db/schema]
    OUT_DIR/db/schema/                   (empty)
    OUT_DIR/db/migrations/{version}_{name}.up.sql / .down.sql
        version = 20260101000000 + i (14 digits), i = 1..COUNT

Each migration has 1-4 statements of one of the kinds a real project accumulates:
create a table (with an identity key, a foreign key to an earlier table, a
check), add a column (with a default), create an index, insert a few rows,
create a view, comment on a table/column. They apply in order in a
fresh database; every .down.sql undoes its .up.sql (in reverse order, the
down files unwind the whole chain).

With --psql-drivers DIR, also writes the psql baselines (absolute \\i paths):
    DIR/driver_plain.sql     per migration: BEGIN; \\i FILE.up.sql COMMIT;
    DIR/driver_tracked.sql   the tracking table tb_confiture first (the DDL of
                             confiture-ops/src/migrate/ledger.rs `ensure`), then per
                             migration what `confiture migrate up` sends in its
                             transaction (execute.rs `run_in_transaction`): BEGIN;
                             SELECT set_config('confiture.migration_started', ...);
                             SET LOCAL lock_timeout = '5000ms'; \\i FILE.up.sql
                             the tb_confiture INSERT (ledger.rs `insert_sql`,
                             SHA-256 of the file) COMMIT;

Prints one summary line: "<count> migrations, <kinds>, <bytes> bytes into OUT_DIR".
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import random
import sys

BASE_VERSION = 20260101000000

WORDS = ["account", "invoice", "product", "order", "shipment", "customer", "supplier",
         "warehouse", "payment", "refund", "coupon", "review", "category", "tag", "author",
         "article", "comment", "session", "device", "region", "currency", "tax_rate",
         "subscription", "plan", "feature", "team", "member", "project", "task", "label",
         "milestone", "release", "build", "artifact", "deployment", "incident", "alert",
         "metric", "report", "audit_event"]

COLUMN_KINDS = [
    ("text", "'n/a'", lambda r, i: f"'{r.choice(['alpha', 'beta', 'gamma', 'delta'])}-{i}'"),
    ("integer", "0", lambda r, i: str(r.randint(0, 10_000))),
    ("numeric(12,2)", "0", lambda r, i: f"{r.randint(0, 99_999) / 100:.2f}"),
    ("boolean", "false", lambda r, i: r.choice(["true", "false"])),
    ("timestamptz", "now()", lambda r, i: f"'2026-01-{1 + i % 28:02d} 12:00:00+00'"),
    ("jsonb", "'{}'::jsonb", lambda r, i: f"'{{\"k\": {i}}}'::jsonb"),
]


class Table:
    def __init__(self, name: str, parent: "Table | None"):
        self.name = name
        self.parent = parent
        # (column name, type, default, value generator); "name" always exists
        self.columns: list[tuple[str, str, str, object]] = []
        self.rows = 0
        self.indexes: list[str] = []
        self.views: list[str] = []


def gen(count: int, seed: int) -> list[tuple[str, str, str, str]]:
    """[(name, kind, up_sql, down_sql)] in apply order."""
    r = random.Random(seed)
    tables: list[Table] = []
    used_names: collections.Counter = collections.Counter()
    out = []

    def new_table_name() -> str:
        w = WORDS[len(tables) % len(WORDS)]
        used_names[w] += 1
        return f"tb_{w}" if used_names[w] == 1 else f"tb_{w}_{used_names[w]}"

    def create_table() -> tuple[str, str, str]:
        parent = r.choice(tables) if tables and r.random() < 0.6 else None
        t = Table(new_table_name(), parent)
        lines = [f"    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                 f"    name text NOT NULL",
                 f"    created_at timestamptz NOT NULL DEFAULT now()"]
        if parent:
            lines.append(f"    {parent.name[3:]}_id bigint REFERENCES {parent.name}(id) ON DELETE CASCADE")
        lines.append(f"    CONSTRAINT {t.name}_name_not_blank CHECK (name <> '')")
        up = f"CREATE TABLE {t.name} (\n" + ",\n".join(lines) + "\n);\n"
        down = f"DROP TABLE {t.name};\n"
        if parent and r.random() < 0.7:
            idx = f"idx_{t.name[3:]}_{parent.name[3:]}_id"
            up += f"CREATE INDEX {idx} ON {t.name} ({parent.name[3:]}_id);\n"
            t.indexes.append(idx)
        tables.append(t)
        return f"create_{t.name}", up, down

    def add_column() -> tuple[str, str, str]:
        t = r.choice(tables)
        n_cols = r.randint(1, 2)
        ups, downs, names = [], [], []
        for _ in range(n_cols):
            typ, default, valgen = r.choice(COLUMN_KINDS)
            col = f"{r.choice(['status', 'score', 'amount', 'flag', 'seen_at', 'meta', 'note', 'level'])}_{len(t.columns) + 1}"
            t.columns.append((col, typ, default, valgen))
            names.append(col)
            ups.append(f"ALTER TABLE {t.name} ADD COLUMN {col} {typ} NOT NULL DEFAULT {default};\n")
            downs.insert(0, f"ALTER TABLE {t.name} DROP COLUMN {col};\n")
        return f"add_{'_'.join(names)}_to_{t.name[3:]}", "".join(ups), "".join(downs)

    def create_index() -> tuple[str, str, str]:
        cands = [t for t in tables if t.columns]
        t = r.choice(cands) if cands else r.choice(tables)
        col = r.choice(t.columns)[0] if t.columns else "name"
        idx = f"idx_{t.name[3:]}_{col}_{len(t.indexes) + 1}"
        t.indexes.append(idx)
        unique = ""
        where = f" WHERE created_at > '2025-01-01'" if r.random() < 0.3 else ""
        up = f"CREATE {unique}INDEX {idx} ON {t.name} ({col}{', created_at DESC' if r.random() < 0.4 else ''}){where};\n"
        return f"index_{t.name[3:]}_{col}", up, f"DROP INDEX {idx};\n"

    def insert_rows() -> tuple[str, str, str]:
        t = r.choice(tables)
        n = r.randint(2, 6)
        cols = ["name"] + [c[0] for c in t.columns]
        vals = []
        for k in range(n):
            i = t.rows + k + 1
            v = [f"'{t.name[3:]} {i}'"] + [c[3](r, i) for c in t.columns]
            vals.append("(" + ", ".join(v) + ")")
        first = t.rows + 1
        t.rows += n
        up = f"INSERT INTO {t.name} ({', '.join(cols)}) VALUES\n    " + ",\n    ".join(vals) + ";\n"
        names = ", ".join(f"'{t.name[3:]} {i}'" for i in range(first, first + n))
        down = f"DELETE FROM {t.name} WHERE name IN ({names});\n"
        if t.parent and t.parent.rows and r.random() < 0.5:
            up += (f"UPDATE {t.name} SET {t.parent.name[3:]}_id = (SELECT min(id) FROM {t.parent.name})\n"
                   f" WHERE {t.parent.name[3:]}_id IS NULL;\n")
        return f"seed_{t.name[3:]}_{first}", up, down

    def create_view() -> tuple[str, str, str]:
        t = r.choice(tables)
        v = f"v_{t.name[3:]}_{len(t.views) + 1}"
        t.views.append(v)
        cols = ", ".join(["t.id", "t.name", "t.created_at"] + [f"t.{c[0]}" for c in t.columns[:3]])
        if t.parent:
            body = (f"SELECT {cols}, p.name AS {t.parent.name[3:]}_name\n"
                    f"  FROM {t.name} t\n  LEFT JOIN {t.parent.name} p ON p.id = t.{t.parent.name[3:]}_id")
        else:
            body = f"SELECT {cols}\n  FROM {t.name} t\n WHERE t.created_at > '2000-01-01'"
        up = f"CREATE VIEW {v} AS\n{body};\n"
        up += f"COMMENT ON VIEW {v} IS 'Read model over {t.name}';\n"
        return f"view_{v}", up, f"DROP VIEW {v};\n"

    def comment() -> tuple[str, str, str]:
        t = r.choice(tables)
        up = f"COMMENT ON TABLE {t.name} IS 'Owned by the {t.name[3:]} team; revision {r.randint(1, 99)}';\n"
        down = f"COMMENT ON TABLE {t.name} IS NULL;\n"
        if t.columns and r.random() < 0.6:
            c = r.choice(t.columns)[0]
            up += f"COMMENT ON COLUMN {t.name}.{c} IS 'See the {c.split('_')[0]} glossary entry';\n"
            down += f"COMMENT ON COLUMN {t.name}.{c} IS NULL;\n"
        return f"comment_{t.name[3:]}", up, down

    kinds = [("create_table", create_table, 8), ("add_column", add_column, 22),
             ("create_index", create_index, 16), ("insert_rows", insert_rows, 20),
             ("create_view", create_view, 10), ("comment", comment, 10)]
    for i in range(count):
        if len(tables) < 3 or i % 9 == 0:
            kind, fn = "create_table", create_table
        else:
            kind, fn, _ = r.choices(kinds, weights=[k[2] for k in kinds])[0]
        name, up, down = fn()
        out.append((name, kind, up, down))
    return out


TRACKING_DDL = """\
CREATE TABLE IF NOT EXISTS tb_confiture (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    pk_confiture BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    version VARCHAR(255) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    execution_time_ms INTEGER,
    checksum VARCHAR(64),
    applied_by TEXT,
    archived_into VARCHAR(255)
);
CREATE INDEX IF NOT EXISTS idx_tb_confiture_pk_confiture ON tb_confiture(pk_confiture);
CREATE INDEX IF NOT EXISTS idx_tb_confiture_slug ON tb_confiture(slug);
CREATE INDEX IF NOT EXISTS idx_tb_confiture_version ON tb_confiture(version);
CREATE INDEX IF NOT EXISTS idx_tb_confiture_applied_at ON tb_confiture(applied_at DESC);
"""


def lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def psql_path(path: str) -> str:
    return "'" + path.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write_drivers(migs: str, out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    ups = sorted(f for f in os.listdir(migs) if f.endswith(".up.sql"))
    plain = ["\\set ON_ERROR_STOP 1\n"]
    # \\o /dev/null: the set_config SELECT would otherwise print a row per migration
    tracked = ["\\set ON_ERROR_STOP 1\n\\o /dev/null\n", TRACKING_DDL]
    for f in ups:
        path = os.path.abspath(os.path.join(migs, f))
        version, name = f[: -len(".up.sql")].split("_", 1)
        with open(path, "rb") as fh:
            checksum = hashlib.sha256(fh.read()).hexdigest()
        plain.append(f"BEGIN;\n\\i {psql_path(path)}\nCOMMIT;\n")
        tracked.append(
            f"BEGIN;\nSELECT set_config('confiture.migration_started', clock_timestamp()::text, true);\n"
            f"SET LOCAL lock_timeout = '5000ms';\n\\i {psql_path(path)}\n"
            f"INSERT INTO tb_confiture (id, slug, version, name, applied_at, execution_time_ms, checksum, applied_by)\n"
            f"VALUES (gen_random_uuid(), {lit(f'{name}_{version}_')} || to_char(now(), 'YYYYMMDD_HH24MISS') || '', "
            f"{lit(version)}, {lit(name)}, now(),\n"
            f"        (extract(epoch FROM clock_timestamp() - coalesce(nullif(current_setting("
            f"'confiture.migration_started', true), '')::timestamptz, now())) * 1000)::int,\n"
            f"        {lit(checksum)}, current_user);\n"
            f"COMMIT;\n")
    with open(os.path.join(out_dir, "driver_plain.sql"), "w", encoding="utf-8") as fh:
        fh.write("".join(plain))
    with open(os.path.join(out_dir, "driver_tracked.sql"), "w", encoding="utf-8") as fh:
        fh.write("".join(tracked))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1].strip())
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--port", type=int, default=5432)
    ap.add_argument("--db", default="bench_ours")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--psql-drivers", metavar="DIR")
    a = ap.parse_args(argv)

    migs = os.path.join(a.out, "db", "migrations")
    envs = os.path.join(a.out, "db", "environments")
    for d in (migs, envs, os.path.join(a.out, "db", "schema")):
        os.makedirs(d, exist_ok=True)
    if any(f.endswith(".sql") for f in os.listdir(migs)):
        print(f"gen_migrations.py: {migs} already holds migrations", file=sys.stderr)
        return 1
    with open(os.path.join(envs, "local.yaml"), "w", encoding="utf-8") as f:
        f.write(f"name: local\n"
                f"database_url: postgresql://postgres@127.0.0.1:{a.port}/{a.db}\n"
                f"include_dirs:\n  - db/schema\n")

    total = 0
    kinds: collections.Counter = collections.Counter()
    for i, (name, kind, up, down) in enumerate(gen(a.count, a.seed), start=1):
        stem = f"{BASE_VERSION + i:014d}_{name}"
        for suffix, text in ((".up.sql", up), (".down.sql", down)):
            text = f"-- {stem}{suffix}\n" + text
            with open(os.path.join(migs, stem + suffix), "w", encoding="utf-8") as f:
                f.write(text)
        total += len(up.encode()) + len(f"-- {stem}.up.sql\n".encode())
        kinds[kind] += 1
    summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    if a.psql_drivers:
        write_drivers(migs, a.psql_drivers)
    print(f"{a.count} migrations, {summary}, {total} bytes of .up.sql into {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
