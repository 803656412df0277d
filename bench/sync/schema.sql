-- The benchmark's table, created in every source and target database (the target's stays
-- empty). Loaded by gen.sql; the primary key exists on both sides, as in production.
-- psql variables: :tbl names the table (users, or customers for the two-table -j measurement),
-- :pk its primary key constraint (TBL_pkey).
CREATE TABLE :tbl (
    id          bigint CONSTRAINT :pk PRIMARY KEY,
    tenant_id   int NOT NULL,
    email       text NOT NULL,
    phone       text,
    first_name  text NOT NULL,
    last_name   text NOT NULL,
    ssn         text,
    created_at  timestamptz NOT NULL
);
