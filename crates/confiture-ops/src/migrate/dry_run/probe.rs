//! What a statement did, read from the server around it, inside the dry-run transaction:
//!
//! - rows inserted/updated/deleted per table: `pg_stat_xact_all_tables` (this transaction's
//!   own counters, triggers' writes included);
//! - locks: this backend's granted relation locks in `pg_locks`, new since the last probe;
//! - WAL: `pg_current_wal_insert_lsn()` before and after (server-wide: other sessions' writes
//!   during the statement count too);
//! - objects: a catalog snapshot (relations, constraints, columns, relfilenodes) taken only when
//!   the statement wrote to the system catalogs — which the same counters tell.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use confiture_core::error::Result;
use confiture_pg::ConnTarget;
use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage, SimpleQueryRow};

use crate::migrate::ledger::sql_error;

const COUNTERS: &str = "SELECT s.relid::bigint::text, s.schemaname, s.relname, s.n_tup_ins::text, s.n_tup_upd::text, s.n_tup_del::text FROM pg_stat_xact_all_tables s WHERE s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0";
const LOCKS: &str = "SELECT l.mode, l.relation::bigint::text, coalesce(c.oid::regclass::text, l.relation::text) FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation WHERE l.pid = pg_backend_pid() AND l.granted AND l.locktype = 'relation' AND l.relation IS NOT NULL AND coalesce(c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) AND c.relnamespace::regnamespace::text NOT LIKE 'pg_toast%', true)";
const WAL: &str =
    "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_insert_lsn()::text END";
const RELATIONS: &str = "SELECT c.oid::bigint::text, c.relkind::text, c.relfilenode::bigint::text, c.oid::regclass::text, coalesce(i.indrelid::regclass::text, '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND c.relkind IN ('r', 'p', 'i', 'I', 'v', 'm', 'S', 'f')";
const CONSTRAINTS: &str = "SELECT c.oid::bigint::text, c.conname, coalesce(nullif(c.conrelid, 0)::regclass::text, nullif(c.contypid, 0)::regtype::text, ''), c.contype::text FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')";
const COLUMNS: &str = "SELECT a.attrelid::bigint::text, a.attname, c.oid::regclass::text FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

/// Counters, locks and WAL position at one instant.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// relid → (schema.table, inserted, updated, deleted).
    pub counters: HashMap<i64, (String, String, [u64; 3])>,
    /// (relation oid, mode) → relation name.
    pub locks: BTreeMap<(i64, String), String>,
    pub wal: Option<u64>,
}

impl Snapshot {
    /// Writes to the system catalogs so far: when it moves, the statement changed objects.
    pub fn catalog_writes(&self) -> u64 {
        self.counters
            .values()
            .filter(|(schema, _, _)| schema == "pg_catalog")
            .map(|(_, _, n)| n.iter().sum::<u64>())
            .sum()
    }
}

/// Objects of the database at one instant.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// oid → (relkind, relfilenode, name, table of an index).
    pub relations: HashMap<i64, (char, i64, String, String)>,
    /// oid → (name, table, contype).
    pub constraints: HashMap<i64, (String, String, char)>,
    /// (relid, column name) → table name.
    pub columns: HashMap<(i64, String), String>,
}

async fn segments(
    client: &Client,
    target: &ConnTarget,
    sql: &str,
) -> Result<Vec<Vec<SimpleQueryRow>>> {
    let messages = client
        .simple_query(sql)
        .await
        .map_err(|e| sql_error(target, "read the dry-run metrics", &e))?;
    let mut out = vec![Vec::new()];
    for m in messages {
        match m {
            SimpleQueryMessage::Row(r) => out.last_mut().expect("one segment").push(r),
            SimpleQueryMessage::CommandComplete(_) => out.push(Vec::new()),
            _ => {}
        }
    }
    Ok(out)
}

fn int(row: &SimpleQueryRow, i: usize) -> i64 {
    row.get(i).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn text(row: &SimpleQueryRow, i: usize) -> String {
    row.get(i).unwrap_or_default().to_string()
}

/// `0/16B3F28` → bytes.
fn lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

pub async fn snapshot(client: &Client, target: &ConnTarget) -> Result<Snapshot> {
    let seg = segments(client, target, &format!("{COUNTERS}; {LOCKS}; {WAL}")).await?;
    let mut snap = Snapshot::default();
    for r in &seg[0] {
        let counts = [3, 4, 5].map(|i| int(r, i).max(0) as u64);
        snap.counters
            .insert(int(r, 0), (text(r, 1), text(r, 2), counts));
    }
    for r in &seg[1] {
        snap.locks.insert((int(r, 1), text(r, 0)), text(r, 2));
    }
    snap.wal = seg[2].first().and_then(|r| r.get(0)).and_then(lsn);
    Ok(snap)
}

pub async fn catalog(client: &Client, target: &ConnTarget) -> Result<Catalog> {
    let seg = segments(
        client,
        target,
        &format!("{RELATIONS}; {CONSTRAINTS}; {COLUMNS}"),
    )
    .await?;
    let mut cat = Catalog::default();
    for r in &seg[0] {
        let kind = text(r, 1).chars().next().unwrap_or('?');
        cat.relations
            .insert(int(r, 0), (kind, int(r, 2), text(r, 3), text(r, 4)));
    }
    for r in &seg[1] {
        let kind = text(r, 3).chars().next().unwrap_or('?');
        cat.constraints
            .insert(int(r, 0), (text(r, 1), text(r, 2), kind));
    }
    for r in &seg[2] {
        cat.columns.insert((int(r, 0), text(r, 1)), text(r, 2));
    }
    Ok(cat)
}

/// What the dry-run has seen so far: the catalog before it, the catalog and counters after the
/// last step. [`Tracker::step`] measures the next statement or hook.
pub struct Tracker {
    /// The catalog before the dry-run (to tell relations it created).
    pub original: Catalog,
    pub catalog: Catalog,
    pub snap: Snapshot,
}

impl Tracker {
    pub async fn start(client: &Client, target: &ConnTarget) -> Result<Tracker> {
        let original = catalog(client, target).await?;
        let snap = snapshot(client, target).await?;
        Ok(Tracker {
            catalog: original.clone(),
            original,
            snap,
        })
    }

    /// The effects since the last step; the catalog is read again only when the step wrote to
    /// the system catalogs.
    pub async fn step(&mut self, client: &Client, target: &ConnTarget) -> Result<Effects> {
        let after = snapshot(client, target).await?;
        let changed = if after.catalog_writes() != self.snap.catalog_writes() {
            Some(catalog(client, target).await?)
        } else {
            None
        };
        let e = effects(
            &self.snap,
            &after,
            changed.as_ref().map(|c| (&self.catalog, c)),
            &self.original,
        );
        if let Some(c) = changed {
            self.catalog = c;
        }
        self.snap = after;
        Ok(e)
    }
}

/// Rows a statement wrote to one table.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TableRows {
    pub table: String,
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Lock {
    pub relation: String,
    pub mode: String,
    /// The relation was created by this dry-run (nobody else can be waiting on it).
    pub new_relation: bool,
}

/// Objects created or dropped.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Objects {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Views, materialized views, sequences, foreign tables.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

impl Objects {
    pub fn is_empty(&self) -> bool {
        self == &Objects::default()
    }
}

/// What happened between two probes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Effects {
    pub rows_inserted: u64,
    pub rows_updated: u64,
    pub rows_deleted: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows_by_table: Vec<TableRows>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locks: Vec<Lock>,
    /// Tables and materialized views whose storage was rewritten (relfilenode changed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rewritten: Vec<String>,
    #[serde(skip_serializing_if = "Objects::is_empty")]
    pub created: Objects,
    #[serde(skip_serializing_if = "Objects::is_empty")]
    pub dropped: Objects,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal_bytes: Option<u64>,
}

/// The effects between `before` and `after`. `catalogs` are the catalog snapshots around the
/// statement when it changed objects; `original` is the catalog before the dry-run (to tell
/// relations it created).
pub fn effects(
    before: &Snapshot,
    after: &Snapshot,
    catalogs: Option<(&Catalog, &Catalog)>,
    original: &Catalog,
) -> Effects {
    let mut e = Effects::default();
    let mut by_table: BTreeMap<String, TableRows> = BTreeMap::new();
    for (relid, (schema, name, now)) in &after.counters {
        if schema == "pg_catalog"
            || schema.starts_with("pg_toast")
            || schema == "information_schema"
        {
            continue;
        }
        let was = before
            .counters
            .get(relid)
            .map(|(_, _, n)| *n)
            .unwrap_or([0; 3]);
        let d = [0, 1, 2].map(|i| now[i].saturating_sub(was[i]));
        if d == [0; 3] {
            continue;
        }
        let entry = by_table.entry(format!("{schema}.{name}")).or_default();
        entry.table = format!("{schema}.{name}");
        entry.inserted += d[0];
        entry.updated += d[1];
        entry.deleted += d[2];
    }
    for t in by_table.into_values() {
        e.rows_inserted += t.inserted;
        e.rows_updated += t.updated;
        e.rows_deleted += t.deleted;
        e.rows_by_table.push(t);
    }
    for ((oid, mode), name) in &after.locks {
        if !before.locks.contains_key(&(*oid, mode.clone())) {
            // A relation the statement dropped is gone from pg_class: name it from the
            // catalog read before the statement.
            let known = catalogs
                .and_then(|(old, _)| old.relations.get(oid))
                .or_else(|| original.relations.get(oid))
                .map(|r| r.2.clone());
            let relation = match known {
                Some(n) if name.parse::<i64>().is_ok() => n,
                _ => name.clone(),
            };
            e.locks.push(Lock {
                relation,
                mode: mode.clone(),
                new_relation: !original.relations.contains_key(oid),
            });
        }
    }
    e.wal_bytes = match (before.wal, after.wal) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    if let Some((old, new)) = catalogs {
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let mut rewritten = Vec::new();
        for (oid, (kind, node, name, _)) in &new.relations {
            match old.relations.get(oid) {
                Some((_, old_node, _, _)) if old_node != node && matches!(kind, 'r' | 'm') => {
                    rewritten.push(name.clone())
                }
                Some(_) => {}
                None => push_relation(
                    &mut e.created,
                    *kind,
                    name,
                    &new.relations
                        .get(oid)
                        .map(|r| r.3.clone())
                        .unwrap_or_default(),
                ),
            }
        }
        e.rewritten = sorted(rewritten);
        for (oid, (kind, _, name, table)) in &old.relations {
            if !new.relations.contains_key(oid) {
                push_relation(&mut e.dropped, *kind, name, table);
            }
        }
        for (oid, (name, table, kind)) in &new.constraints {
            if !old.constraints.contains_key(oid) {
                e.created.constraints.push(constraint(name, table, *kind));
            }
        }
        for (oid, (name, table, kind)) in &old.constraints {
            if !new.constraints.contains_key(oid) {
                e.dropped.constraints.push(constraint(name, table, *kind));
            }
        }
        let new_tables: BTreeSet<i64> = new
            .relations
            .keys()
            .filter(|k| !old.relations.contains_key(k))
            .copied()
            .collect();
        let gone_tables: BTreeSet<i64> = old
            .relations
            .keys()
            .filter(|k| !new.relations.contains_key(k))
            .copied()
            .collect();
        for ((relid, col), table) in &new.columns {
            // Columns of a new table come with it.
            if !new_tables.contains(relid) && !old.columns.contains_key(&(*relid, col.clone())) {
                e.created.columns.push(format!("{table}.{col}"));
            }
        }
        for ((relid, col), table) in &old.columns {
            if !gone_tables.contains(relid) && !new.columns.contains_key(&(*relid, col.clone())) {
                e.dropped.columns.push(format!("{table}.{col}"));
            }
        }
        for o in [&mut e.created, &mut e.dropped] {
            for v in [
                &mut o.tables,
                &mut o.indexes,
                &mut o.constraints,
                &mut o.columns,
                &mut o.other,
            ] {
                v.sort();
            }
        }
    }
    e
}

fn push_relation(o: &mut Objects, kind: char, name: &str, table: &str) {
    match kind {
        'r' | 'p' => o.tables.push(name.to_string()),
        'i' | 'I' => o.indexes.push(if table.is_empty() {
            name.to_string()
        } else {
            format!("{name} on {table}")
        }),
        'v' => o.other.push(format!("view {name}")),
        'm' => o.other.push(format!("materialized view {name}")),
        'S' => o.other.push(format!("sequence {name}")),
        'f' => o.other.push(format!("foreign table {name}")),
        _ => o.other.push(name.to_string()),
    }
}

fn constraint(name: &str, table: &str, kind: char) -> String {
    let what = match kind {
        'p' => "primary key",
        'u' => "unique",
        'f' => "foreign key",
        'c' => "check",
        'x' => "exclusion",
        'n' => "not null",
        't' => "trigger",
        _ => "constraint",
    };
    format!("{what} {name} on {table}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsn_parses() {
        assert_eq!(lsn("0/10"), Some(16));
        assert_eq!(lsn("1/0"), Some(1 << 32));
        assert_eq!(lsn("x"), None);
    }
}
