#!/usr/bin/env python3
"""Deterministic migration files for the `confiture lint --migrations` vs squawk benchmark.
Stdlib only.

    gen_migrations.py PROJECT_DIR [--files 1000] [--seed 42]

writes PROJECT_DIR/db/environments/local.yaml and PROJECT_DIR/db/migrations/NNNNN_<name>.up.sql
(the file names `confiture migrate` expects), and prints one JSON line:
{"files": N, "statements": N, "bytes": N, "kinds": {kind: count}}.

Each file holds 4-16 statements, the kinds a migration linter looks at, on tables the
migrations do not create (so every locking rule applies): ADD COLUMN with volatile, constant
and no defaults, NOT NULL without default, CREATE INDEX with and without CONCURRENTLY, DROP
INDEX, foreign keys and checks with and without NOT VALID (+ VALIDATE), UNIQUE constraints,
SET NOT NULL, ALTER COLUMN TYPE, renames, drops, TRUNCATE, VACUUM FULL, CREATE TABLE with
serial / integer keys / char(n) / timestamp columns, views, plpgsql trigger functions and
triggers, comments, UPDATE/INSERT backfills, and SET lock_timeout / statement_timeout. Every
statement parses with PostgreSQL's grammar (both linters build on it).
"""

from __future__ import annotations

import argparse
import json
import os
import random

TABLES = 500


def statements(rng: random.Random, f: int):
    """The statements of file `f`: (kind, sql)."""
    out = []
    if rng.random() < 0.6:
        out.append(("set_lock_timeout", "SET lock_timeout = '2s';"))
    if rng.random() < 0.3:
        out.append(("set_statement_timeout", "SET statement_timeout = '30s';"))
    n = rng.randint(4, 14)
    for i in range(n):
        t = rng.randint(1, TABLES)
        tbl = f"app.t_{t:04d}"
        c = f"c_{f:05d}_{i:02d}"
        k = rng.randrange(27)
        if k == 0:
            out.append(("add_column_volatile_default", f"ALTER TABLE {tbl} ADD COLUMN {c} uuid DEFAULT gen_random_uuid();"))
        elif k == 1:
            out.append(("add_column_constant_default", f"ALTER TABLE {tbl} ADD COLUMN {c} integer NOT NULL DEFAULT 0;"))
        elif k == 2:
            out.append(("add_column_not_null", f"ALTER TABLE {tbl} ADD COLUMN {c} bigint NOT NULL;"))
        elif k == 3:
            out.append(("add_column", f"ALTER TABLE {tbl} ADD COLUMN IF NOT EXISTS {c} varchar(120);"))
        elif k == 4:
            out.append(("add_column_timestamp", f"ALTER TABLE {tbl} ADD COLUMN {c} timestamp;"))
        elif k == 5:
            out.append(("create_index", f"CREATE INDEX {tbl[4:]}_{c}_idx ON {tbl} (name, created_at DESC);"))
        elif k == 6:
            out.append(("create_index_concurrently", f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {tbl[4:]}_{c}_idx ON {tbl} USING btree (lower(name)) WHERE deleted_at IS NULL;"))
        elif k == 7:
            out.append(("drop_index", f"DROP INDEX IF EXISTS app.{tbl[4:]}_old_{i}_idx;"))
        elif k == 8:
            p = rng.randint(1, TABLES)
            out.append(("add_foreign_key", f"ALTER TABLE {tbl} ADD CONSTRAINT {tbl[4:]}_{c}_fkey FOREIGN KEY (parent_id) REFERENCES app.t_{p:04d} (id) ON DELETE CASCADE;"))
        elif k == 9:
            p = rng.randint(1, TABLES)
            name = f"{tbl[4:]}_{c}_fkey"
            out.append(("add_foreign_key_not_valid", f"ALTER TABLE {tbl} ADD CONSTRAINT {name} FOREIGN KEY (parent_id) REFERENCES app.t_{p:04d} (id) NOT VALID;"))
            out.append(("validate_constraint", f"ALTER TABLE {tbl} VALIDATE CONSTRAINT {name};"))
        elif k == 10:
            out.append(("add_check", f"ALTER TABLE {tbl} ADD CONSTRAINT {tbl[4:]}_{c}_check CHECK (qty >= 0 AND qty < 1000000);"))
        elif k == 11:
            out.append(("add_unique", f"ALTER TABLE {tbl} ADD CONSTRAINT {tbl[4:]}_{c}_key UNIQUE (code);"))
        elif k == 12:
            out.append(("set_not_null", f"ALTER TABLE {tbl} ALTER COLUMN name SET NOT NULL;"))
        elif k == 13:
            out.append(("alter_column_type", f"ALTER TABLE {tbl} ALTER COLUMN qty TYPE bigint USING qty::bigint;"))
        elif k == 14:
            out.append(("rename_column", f"ALTER TABLE {tbl} RENAME COLUMN note TO {c};"))
        elif k == 15:
            out.append(("rename_table", f"ALTER TABLE {tbl} RENAME TO t_{t:04d}_{f:05d};"))
        elif k == 16:
            out.append(("drop_column", f"ALTER TABLE {tbl} DROP COLUMN IF EXISTS legacy_{i};"))
        elif k == 17:
            out.append(("drop_table", f"DROP TABLE IF EXISTS app.old_{f:05d}_{i:02d};"))
        elif k == 18:
            out.append(("truncate", f"TRUNCATE {tbl} CASCADE;"))
        elif k == 19:
            out.append(("vacuum_full", f"VACUUM FULL {tbl};"))
        elif k == 20:
            out.append(("create_table", (
                f"CREATE TABLE app.n_{f:05d}_{i:02d} (\n"
                "    id serial PRIMARY KEY,\n"
                f"    parent_id integer REFERENCES {tbl} (id),\n"
                "    code char(4) NOT NULL,\n"
                "    label varchar(80),\n"
                "    amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),\n"
                "    created timestamp NOT NULL DEFAULT now(),\n"
                "    updated_at timestamptz\n"
                ");"
            )))
        elif k == 21:
            out.append(("create_view", (
                f"CREATE OR REPLACE VIEW app.v_{f:05d}_{i:02d} AS\n"
                f"    SELECT t.id, t.name, p.name AS parent_name, count(*) OVER (PARTITION BY t.parent_id) AS siblings\n"
                f"    FROM {tbl} t LEFT JOIN app.t_{rng.randint(1, TABLES):04d} p ON p.id = t.parent_id\n"
                "    WHERE t.deleted_at IS NULL;"
            )))
        elif k == 22:
            fn = f"app.touch_{f:05d}_{i:02d}"
            out.append(("create_function", (
                f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger\n"
                "    LANGUAGE plpgsql\n"
                "    AS $$\n"
                "BEGIN\n"
                "    NEW.updated_at := now();\n"
                "    IF NEW.qty < 0 THEN\n"
                "        RAISE EXCEPTION 'negative quantity on %', TG_TABLE_NAME;\n"
                "    END IF;\n"
                "    RETURN NEW;\n"
                "END\n"
                "$$;"
            )))
            out.append(("create_trigger", f"CREATE TRIGGER touch_{f:05d}_{i:02d} BEFORE UPDATE ON {tbl} FOR EACH ROW EXECUTE FUNCTION {fn}();"))
        elif k == 23:
            out.append(("comment", f"COMMENT ON COLUMN {tbl}.name IS 'Display name (migration {f}, step {i}); it''s shown in the shop.';"))
        elif k == 24:
            out.append(("update_backfill", f"UPDATE {tbl} SET qty = 0, updated_at = now() WHERE qty IS NULL AND id BETWEEN {i * 1000} AND {i * 1000 + 999};"))
        elif k == 25:
            out.append(("insert", f"INSERT INTO {tbl} (name, qty, code) VALUES ('seed {f}-{i}', {i}, 'C{i:03d}') ON CONFLICT DO NOTHING;"))
        else:
            out.append(("alter_default", f"ALTER TABLE {tbl} ALTER COLUMN qty SET DEFAULT 0;"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    env = os.path.join(a.project, "db", "environments")
    mig = os.path.join(a.project, "db", "migrations")
    os.makedirs(env, exist_ok=True)
    os.makedirs(mig, exist_ok=True)
    with open(os.path.join(env, "local.yaml"), "w") as f:
        f.write("database_url: postgresql://postgres@127.0.0.1:1/unused\ninclude_dirs: [db/schema]\n")
    total, size, kinds = 0, 0, {}
    for f in range(1, a.files + 1):
        stmts = statements(rng, f)
        kind = stmts[-1][0]
        text = f"-- Migration {f:05d}: {kind.replace('_', ' ')} and {len(stmts) - 1} more\n\n" + "\n\n".join(s for _, s in stmts) + "\n"
        path = os.path.join(mig, f"{f:05d}_{kind}_{f:05d}.up.sql")
        with open(path, "w") as out:
            out.write(text)
        total += len(stmts)
        size += len(text.encode())
        for k, _ in stmts:
            kinds[k] = kinds.get(k, 0) + 1
    print(json.dumps({"files": a.files, "statements": total, "bytes": size, "kinds": dict(sorted(kinds.items()))}))


if __name__ == "__main__":
    main()
