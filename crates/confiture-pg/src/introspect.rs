//! Reading a database's schema from the catalog into the typed model
//! ([`confiture_core::schema::Schema`]).
//!
//! One query per kind of object, over the whole catalog, all sent at once (tokio-postgres
//! pipelines concurrent queries on one connection), decoded into the model here. Only user
//! objects are read: schemas other than `pg_catalog`, `information_schema`, `pg_toast*` and
//! `pg_temp*`, and nothing that belongs to an extension.
//!
//! Definitions are PostgreSQL's own text (`pg_get_constraintdef`, `pg_get_indexdef`, …),
//! rendered with `search_path` empty so every name in them is schema-qualified whatever the
//! session's path; the session's `search_path` is restored afterwards, also on error. Names
//! that refer to other objects (map keys, `references`, `partition_of`, `inherits`,
//! `owned_by`, collations) are raw `schema.name`, never quoted.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, SimpleQueryMessage};

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_core::schema::{
    Column, Constraint, Extension, Function, Grant, Index, Namespace, PartitionOf, Policy, Schema,
    Sequence, Table, Trigger, TypeDef, TypeKind, View,
};

use crate::ConnTarget;

/// Read the schema of the database `client` is connected to. `target` only shapes errors
/// (coded, password-free).
///
/// The reads run with `search_path` set to `''` in the session, then the previous path is
/// put back (also when a read fails), so do not run other statements on `client` while
/// this is in progress, and let it finish: dropped half-way, it leaves the path empty.
pub async fn introspect(client: &Client, target: &ConnTarget) -> Result<Schema> {
    read(client).await.map_err(|e| catalog_error(target, &e))
}

fn catalog_error(target: &ConnTarget, e: &tokio_postgres::Error) -> ConfitureError {
    match e.as_db_error() {
        Some(db) => ConfitureError::new(
            codes::SQL_FAILED,
            format!(
                "cannot read the schema of {}: {}",
                target.display(),
                target.message(e)
            ),
        )
        .with_details(serde_json::json!({ "sqlstate": db.code().code() })),
        None => target.classify(e),
    }
}

async fn read(client: &Client) -> Result<Schema, tokio_postgres::Error> {
    // One round trip: the version, the path to restore, and the empty path for the reads.
    let messages = client
        .simple_query(
            "SELECT current_setting('server_version_num'), current_setting('search_path'); \
             SET search_path = ''",
        )
        .await?;
    let (version, saved_path) = messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some((
                row.get(0).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0),
                row.get(1).unwrap_or_default().to_string(),
            )),
            _ => None,
        })
        .unwrap_or_default();
    let result = read_catalog(client).await;
    let restored = client
        .query_typed(
            "SELECT set_config('search_path', $1, false)",
            &[(&saved_path, Type::TEXT)],
        )
        .await;
    // The first failure wins: after a failed read inside the caller's transaction, the
    // restore fails too (and the rollback restores the path anyway).
    let mut schema = result?;
    restored?;
    schema.server_version = version;
    Ok(schema)
}

/// `n` (a `pg_namespace` row) is a user schema.
const USER_NS: &str = "n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'";

/// The object `oid` of catalog `catalog` does not belong to an extension.
fn not_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass \
         AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

/// `c` (a `pg_class` row, joined to its schema as `n`) is a user relation of one of `kinds`.
fn user_relation(kinds: &str) -> String {
    format!(
        "c.relkind IN ({kinds}) AND {USER_NS} AND {}",
        not_member("pg_class", "c.oid")
    )
}

/// A comment: `pg_description` joined as `alias` on `objoid` of `catalog`.
fn comment_join(alias: &str, catalog: &str, objoid: &str, subid: &str) -> String {
    format!(
        "LEFT JOIN pg_description {alias} ON {alias}.objoid = {objoid} \
         AND {alias}.classoid = '{catalog}'::regclass AND {alias}.objsubid = {subid}"
    )
}

struct Queries {
    namespaces: String,
    extensions: String,
    types: String,
    domain_checks: String,
    sequences: String,
    relations: String,
    columns: String,
    constraints: String,
    indexes: String,
    triggers: String,
    policies: String,
    view_deps: String,
    functions: String,
    grants: String,
}

fn queries() -> Queries {
    let namespaces = format!(
        "SELECT n.oid, n.nspname::text AS name, pg_get_userbyid(n.nspowner)::text AS owner, \
                d.description AS comment \
         FROM pg_namespace n {} \
         WHERE {USER_NS} AND {}",
        comment_join("d", "pg_namespace", "n.oid", "0"),
        not_member("pg_namespace", "n.oid"),
    );
    let extensions = "SELECT x.extname::text AS name, n.nspname::text AS schema, \
                             x.extversion AS version \
                      FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace"
        .to_string();
    let types = format!(
        "SELECT t.oid, n.nspname::text AS schema, t.typname::text AS name, \
                t.typtype::text AS kind, pg_get_userbyid(t.typowner)::text AS owner, \
                d.description AS comment, \
                CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT l.enumlabel::text FROM pg_enum l \
                     WHERE l.enumtypid = t.oid ORDER BY l.enumsortorder) END AS labels, \
                CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base, \
                pg_get_expr(t.typdefaultbin, 0) AS default_expr, \
                t.typnotnull AS not_null, \
                CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 \
                          AND t.typcollation IS DISTINCT FROM bt.typcollation \
                     THEN cn.nspname || '.' || co.collname END AS collation, \
                CASE WHEN t.typtype = 'c' THEN ARRAY(SELECT a.attname::text FROM pg_attribute a \
                     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
                     ORDER BY a.attnum) END AS attr_names, \
                CASE WHEN t.typtype = 'c' THEN ARRAY(SELECT format_type(a.atttypid, a.atttypmod) \
                     FROM pg_attribute a \
                     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
                     ORDER BY a.attnum) END AS attr_types \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         LEFT JOIN pg_type bt ON bt.oid = t.typbasetype \
         LEFT JOIN pg_collation co ON co.oid = t.typcollation \
         LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace \
         {} \
         WHERE {USER_NS} \
           AND (t.typtype IN ('e', 'd') \
                OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class r \
                                                WHERE r.oid = t.typrelid AND r.relkind = 'c'))) \
           AND {} \
           AND (t.typrelid = 0 OR {})",
        comment_join("d", "pg_type", "t.oid", "0"),
        not_member("pg_type", "t.oid"),
        not_member("pg_class", "t.typrelid"),
    );
    let domain_checks = format!(
        "SELECT k.contypid AS type_oid, k.conname::text AS name, \
                pg_get_constraintdef(k.oid) AS definition \
         FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid \
         JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE k.contypid <> 0 AND k.contype = 'c' AND {USER_NS}"
    );
    let sequences = format!(
        "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, \
                format_type(s.seqtypid, NULL) AS data_type, s.seqstart, s.seqincrement, \
                s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
                dep.owned_by, COALESCE(dep.identity, false) AS identity, \
                pg_get_userbyid(c.relowner)::text AS owner \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN LATERAL ( \
             SELECT tn.nspname || '.' || t.relname || '.' || a.attname AS owned_by, \
                    d.deptype = 'i' AS identity \
             FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid \
             JOIN pg_namespace tn ON tn.oid = t.relnamespace \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid \
             WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.objsubid = 0 \
               AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 \
               AND d.deptype IN ('a', 'i') \
             ORDER BY d.deptype DESC LIMIT 1) dep ON true \
         WHERE {}",
        user_relation("'S'"),
    );
    let relations = format!(
        "SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, \
                c.relkind::text AS kind, c.relpersistence::text AS persistence, \
                CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_by, \
                CASE WHEN c.relispartition THEN ( \
                    SELECT pn.nspname || '.' || p.relname FROM pg_inherits i \
                    JOIN pg_class p ON p.oid = i.inhparent \
                    JOIN pg_namespace pn ON pn.oid = p.relnamespace \
                    WHERE i.inhrelid = c.oid LIMIT 1) END AS partition_parent, \
                CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) \
                     END AS partition_bound, \
                ARRAY(SELECT pn.nspname || '.' || p.relname FROM pg_inherits i \
                      JOIN pg_class p ON p.oid = i.inhparent \
                      JOIN pg_namespace pn ON pn.oid = p.relnamespace \
                      WHERE i.inhrelid = c.oid AND NOT c.relispartition \
                      ORDER BY i.inhseqno) AS inherits, \
                c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced, \
                pg_get_userbyid(c.relowner)::text AS owner, d.description AS comment, \
                CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view_definition \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace {} \
         WHERE {}",
        comment_join("d", "pg_class", "c.oid", "0"),
        user_relation("'r', 'p', 'v', 'm'"),
    );
    let columns = format!(
        "SELECT a.attrelid AS rel, a.attname::text AS name, \
                format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null, \
                CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) \
                     END AS default_expr, \
                a.attidentity::text AS identity, \
                CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) \
                     END AS generated, \
                CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation \
                     THEN cn.nspname || '.' || co.collname END AS collation, \
                d.description AS comment, NOT a.attislocal AS inherited \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_type ty ON ty.oid = a.atttypid \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation \
         LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace \
         {} \
         WHERE a.attnum > 0 AND NOT a.attisdropped AND {} \
         ORDER BY a.attrelid, a.attnum",
        comment_join("d", "pg_class", "a.attrelid", "a.attnum"),
        user_relation("'r', 'p', 'v', 'm'"),
    );
    // Foreign keys to a partitioned table get one internal clone per referenced partition,
    // on the same referencing table (its parent constraint is on that table too): skipped.
    let constraints = format!(
        "SELECT k.conrelid AS rel, k.conname::text AS name, k.contype::text AS kind, \
                pg_get_constraintdef(k.oid) AS definition, k.convalidated AS validated, \
                CASE WHEN k.contype = 'f' THEN ( \
                    SELECT rn.nspname || '.' || r.relname FROM pg_class r \
                    JOIN pg_namespace rn ON rn.oid = r.relnamespace \
                    WHERE r.oid = k.confrelid) END AS refs, \
                d.description AS comment, NOT k.conislocal AS inherited \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace {} \
         WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND {} \
           AND NOT (k.contype = 'f' AND k.conparentid <> 0 AND EXISTS ( \
                    SELECT 1 FROM pg_constraint pk \
                    WHERE pk.oid = k.conparentid AND pk.conrelid = k.conrelid))",
        comment_join("d", "pg_constraint", "k.oid", "0"),
        user_relation("'r', 'p'"),
    );
    let indexes = format!(
        "SELECT i.indrelid AS rel, ic.relname::text AS name, \
                pg_get_indexdef(i.indexrelid) AS definition, am.amname::text AS method, \
                i.indisunique AS is_unique, i.indisvalid AS valid, d.description AS comment, \
                EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) AS inherited \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_am am ON am.oid = ic.relam {} \
         WHERE {} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                           AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))",
        comment_join("d", "pg_class", "i.indexrelid", "0"),
        user_relation("'r', 'p', 'm'"),
    );
    // Before PostgreSQL 15 a partition's clone of its parent's trigger was marked internal;
    // foreign-key triggers (internal, tied to a constraint) are never read.
    let triggers = format!(
        "SELECT tg.tgrelid AS rel, tg.tgname::text AS name, \
                pg_get_triggerdef(tg.oid) AS definition, tg.tgenabled::text AS enabled, \
                d.description AS comment, tg.tgparentid <> 0 AS inherited \
         FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace {} \
         WHERE (NOT tg.tgisinternal OR (tg.tgparentid <> 0 AND tg.tgconstraint = 0)) AND {}",
        comment_join("d", "pg_trigger", "tg.oid", "0"),
        user_relation("'r', 'p', 'v'"),
    );
    let policies = format!(
        "SELECT p.polrelid AS rel, p.polname::text AS name, p.polpermissive AS permissive, \
                p.polcmd::text AS command, \
                ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END \
                      FROM unnest(p.polroles) r) AS roles, \
                pg_get_expr(p.polqual, p.polrelid) AS using_expr, \
                pg_get_expr(p.polwithcheck, p.polrelid) AS check_expr \
         FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {}",
        user_relation("'r', 'p'"),
    );
    let view_deps = format!(
        "SELECT DISTINCT rw.ev_class AS view, dep.refobjid AS dep \
         FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_depend dep ON dep.classid = 'pg_rewrite'::regclass AND dep.objid = rw.oid \
         JOIN pg_class r ON r.oid = dep.refobjid \
         WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid <> rw.ev_class \
           AND r.relkind IN ('v', 'm') AND c.relkind IN ('v', 'm') AND {USER_NS}"
    );
    let functions = format!(
        "SELECT p.oid, n.nspname::text AS schema, p.proname::text AS name, \
                p.prokind::text AS kind, \
                pg_get_function_identity_arguments(p.oid) AS arguments, \
                CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END AS returns, \
                l.lanname::text AS language, p.provolatile::text AS volatility, \
                p.prosecdef AS security_definer, p.proisstrict AS strict, \
                p.proconfig AS config, \
                CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END AS definition, \
                pg_get_userbyid(p.proowner)::text AS owner, d.description AS comment \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         JOIN pg_language l ON l.oid = p.prolang {} \
         WHERE {USER_NS} AND {}",
        comment_join("d", "pg_proc", "p.oid", "0"),
        not_member("pg_proc", "p.oid"),
    );
    // The owner's own grant (grantor = grantee = owner) is implied by ownership; a NULL ACL
    // (the defaults) explodes to nothing.
    let grants = format!(
        "SELECT g.kind, g.oid, \
                CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee)::text \
                     END AS grantee, \
                g.privilege \
         FROM ( \
             SELECT 'n'::text AS kind, n.oid, a.grantor, a.grantee, \
                    a.privilege_type AS privilege, n.nspowner AS owner \
             FROM pg_namespace n CROSS JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a WHERE {USER_NS} \
             UNION ALL \
             SELECT 'c', c.oid, a.grantor, a.grantee, a.privilege_type, c.relowner \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", c.relowner))) a \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND {USER_NS} \
             UNION ALL \
             SELECT 'f', p.oid, a.grantor, a.grantee, a.privilege_type, p.proowner \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE {USER_NS} \
         ) g \
         WHERE NOT (g.grantor = g.owner AND g.grantee = g.owner)"
    );
    Queries {
        namespaces,
        extensions,
        types,
        domain_checks,
        sequences,
        relations,
        columns,
        constraints,
        indexes,
        triggers,
        policies,
        view_deps,
        functions,
        grants,
    }
}

/// Grants by (catalog letter, object oid): grantee → privileges.
type GrantMap = HashMap<(char, u32), BTreeMap<String, BTreeSet<String>>>;

fn take_grants(grants: &mut GrantMap, kind: char, oid: u32) -> Vec<Grant> {
    grants
        .remove(&(kind, oid))
        .unwrap_or_default()
        .into_iter()
        .map(|(grantee, privileges)| Grant {
            grantee,
            privileges: privileges.into_iter().collect(),
        })
        .collect()
}

/// A text column that a `pg_get_*` function may leave NULL (an object dropped meanwhile).
fn text(row: &Row, column: &str) -> String {
    row.get::<_, Option<String>>(column).unwrap_or_default()
}

async fn read_catalog(client: &Client) -> Result<Schema, tokio_postgres::Error> {
    let q = queries();
    let (
        namespaces,
        extensions,
        types,
        domain_checks,
        sequences,
        relations,
        columns,
        constraints,
        indexes,
        triggers,
        policies,
        view_deps,
        functions,
        grants,
    ) = tokio::try_join!(
        client.query_typed(&q.namespaces, &[]),
        client.query_typed(&q.extensions, &[]),
        client.query_typed(&q.types, &[]),
        client.query_typed(&q.domain_checks, &[]),
        client.query_typed(&q.sequences, &[]),
        client.query_typed(&q.relations, &[]),
        client.query_typed(&q.columns, &[]),
        client.query_typed(&q.constraints, &[]),
        client.query_typed(&q.indexes, &[]),
        client.query_typed(&q.triggers, &[]),
        client.query_typed(&q.policies, &[]),
        client.query_typed(&q.view_deps, &[]),
        client.query_typed(&q.functions, &[]),
        client.query_typed(&q.grants, &[]),
    )?;

    let mut grant_map: GrantMap = HashMap::new();
    for row in &grants {
        let kind: String = row.get("kind");
        let oid: u32 = row.get("oid");
        grant_map
            .entry((kind.chars().next().unwrap_or('?'), oid))
            .or_default()
            .entry(row.get("grantee"))
            .or_default()
            .insert(row.get("privilege"));
    }

    let mut schema = Schema::default();

    for row in &namespaces {
        let oid: u32 = row.get("oid");
        let name: String = row.get("name");
        schema.schemas.insert(
            name.clone(),
            Namespace {
                name,
                owner: row.get("owner"),
                comment: row.get("comment"),
                grants: take_grants(&mut grant_map, 'n', oid),
            },
        );
    }

    for row in &extensions {
        let name: String = row.get("name");
        schema.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: row.get("schema"),
                version: row.get("version"),
            },
        );
    }

    let mut checks: HashMap<u32, BTreeMap<String, String>> = HashMap::new();
    for row in &domain_checks {
        checks
            .entry(row.get("type_oid"))
            .or_default()
            .insert(row.get("name"), text(row, "definition"));
    }
    for row in &types {
        let oid: u32 = row.get("oid");
        let kind = match row.get::<_, String>("kind").as_str() {
            "e" => TypeKind::Enum {
                labels: row
                    .get::<_, Option<Vec<String>>>("labels")
                    .unwrap_or_default(),
            },
            "d" => TypeKind::Domain {
                base: text(row, "base"),
                default: row.get("default_expr"),
                not_null: row.get("not_null"),
                collation: row.get("collation"),
                checks: checks.remove(&oid).unwrap_or_default(),
            },
            _ => {
                let names: Vec<String> = row
                    .get::<_, Option<Vec<String>>>("attr_names")
                    .unwrap_or_default();
                let types: Vec<String> = row
                    .get::<_, Option<Vec<String>>>("attr_types")
                    .unwrap_or_default();
                TypeKind::Composite {
                    attributes: names.into_iter().zip(types).collect(),
                }
            }
        };
        let (s, name): (String, String) = (row.get("schema"), row.get("name"));
        schema.types.insert(
            format!("{s}.{name}"),
            TypeDef {
                schema: s,
                name,
                kind,
                owner: row.get("owner"),
                comment: row.get("comment"),
            },
        );
    }

    for row in &sequences {
        let oid: u32 = row.get("oid");
        let (s, name): (String, String) = (row.get("schema"), row.get("name"));
        schema.sequences.insert(
            format!("{s}.{name}"),
            Sequence {
                schema: s,
                name,
                data_type: text(row, "data_type"),
                start: row.get("seqstart"),
                increment: row.get("seqincrement"),
                min: row.get("seqmin"),
                max: row.get("seqmax"),
                cache: row.get("seqcache"),
                cycle: row.get("seqcycle"),
                owned_by: row.get("owned_by"),
                identity: row.get("identity"),
                owner: row.get("owner"),
                grants: take_grants(&mut grant_map, 'c', oid),
            },
        );
    }

    // Relations, by oid until every part is attached.
    let mut tables: HashMap<u32, Table> = HashMap::new();
    let mut views: HashMap<u32, View> = HashMap::new();
    for row in &relations {
        let oid: u32 = row.get("oid");
        let kind: String = row.get("kind");
        let (s, name): (String, String) = (row.get("schema"), row.get("name"));
        let owner: String = row.get("owner");
        let comment: Option<String> = row.get("comment");
        let grants = take_grants(&mut grant_map, 'c', oid);
        if kind == "v" || kind == "m" {
            let definition = text(row, "view_definition");
            let definition = definition.trim().trim_end_matches(';').trim_end();
            views.insert(
                oid,
                View {
                    schema: s,
                    name,
                    materialized: kind == "m",
                    definition: definition.to_string(),
                    columns: Vec::new(),
                    depth: 0,
                    indexes: BTreeMap::new(),
                    triggers: BTreeMap::new(),
                    owner,
                    comment,
                    grants,
                },
            );
        } else {
            let persistence: String = row.get("persistence");
            let partition_of = row
                .get::<_, Option<String>>("partition_parent")
                .map(|parent| PartitionOf {
                    parent,
                    bound: text(row, "partition_bound"),
                });
            tables.insert(
                oid,
                Table {
                    schema: s,
                    name,
                    persistence: if persistence == "u" {
                        "unlogged".into()
                    } else {
                        "permanent".into()
                    },
                    partition_by: row.get("partition_by"),
                    partition_of,
                    inherits: row.get("inherits"),
                    columns: Vec::new(),
                    constraints: BTreeMap::new(),
                    indexes: BTreeMap::new(),
                    triggers: BTreeMap::new(),
                    policies: BTreeMap::new(),
                    rls_enabled: row.get("rls_enabled"),
                    rls_forced: row.get("rls_forced"),
                    owner,
                    comment,
                    grants,
                },
            );
        }
    }

    for row in &columns {
        let rel: u32 = row.get("rel");
        if let Some(view) = views.get_mut(&rel) {
            view.columns.push(row.get("name"));
            continue;
        }
        let Some(table) = tables.get_mut(&rel) else {
            continue;
        };
        let identity = match row.get::<_, Option<String>>("identity").as_deref() {
            Some("a") => Some("always".to_string()),
            Some("d") => Some("by default".to_string()),
            _ => None,
        };
        table.columns.push(Column {
            name: row.get("name"),
            data_type: text(row, "data_type"),
            not_null: row.get("not_null"),
            default: row.get("default_expr"),
            identity,
            generated: row.get("generated"),
            collation: row.get("collation"),
            comment: row.get("comment"),
            inherited: row.get("inherited"),
        });
    }

    for row in &constraints {
        let Some(table) = tables.get_mut(&row.get::<_, u32>("rel")) else {
            continue;
        };
        let kind = match row.get::<_, String>("kind").as_str() {
            "p" => "primary_key",
            "u" => "unique",
            "f" => "foreign_key",
            "c" => "check",
            _ => "exclusion",
        };
        let name: String = row.get("name");
        table.constraints.insert(
            name.clone(),
            Constraint {
                name,
                kind: kind.to_string(),
                definition: text(row, "definition"),
                validated: row.get("validated"),
                references: row.get("refs"),
                comment: row.get("comment"),
                inherited: row.get("inherited"),
            },
        );
    }

    for row in &indexes {
        let rel: u32 = row.get("rel");
        let name: String = row.get("name");
        let index = Index {
            name: name.clone(),
            definition: text(row, "definition"),
            method: row.get("method"),
            unique: row.get("is_unique"),
            valid: row.get("valid"),
            comment: row.get("comment"),
            inherited: row.get("inherited"),
        };
        if let Some(table) = tables.get_mut(&rel) {
            table.indexes.insert(name, index);
        } else if let Some(view) = views.get_mut(&rel) {
            view.indexes.insert(name, index);
        }
    }

    for row in &triggers {
        let rel = row.get::<_, u32>("rel");
        let name: String = row.get("name");
        let trigger = Trigger {
            name: name.clone(),
            definition: text(row, "definition"),
            enabled: row.get("enabled"),
            comment: row.get("comment"),
            inherited: row.get("inherited"),
        };
        if let Some(table) = tables.get_mut(&rel) {
            table.triggers.insert(name, trigger);
        } else if let Some(view) = views.get_mut(&rel) {
            // INSTEAD OF triggers.
            view.triggers.insert(name, trigger);
        }
    }

    for row in &policies {
        let Some(table) = tables.get_mut(&row.get::<_, u32>("rel")) else {
            continue;
        };
        let command = match row.get::<_, String>("command").as_str() {
            "r" => "SELECT",
            "a" => "INSERT",
            "w" => "UPDATE",
            "d" => "DELETE",
            _ => "ALL",
        };
        let mut roles: Vec<String> = row.get("roles");
        roles.sort();
        let name: String = row.get("name");
        table.policies.insert(
            name.clone(),
            Policy {
                name,
                permissive: row.get("permissive"),
                command: command.to_string(),
                roles,
                using: row.get("using_expr"),
                with_check: row.get("check_expr"),
            },
        );
    }

    let edges: Vec<(u32, u32)> = view_deps
        .iter()
        .map(|row| (row.get("view"), row.get("dep")))
        .collect();
    for (oid, depth) in view_depths(&views, &edges) {
        if let Some(view) = views.get_mut(&oid) {
            view.depth = depth;
        }
    }

    for row in &functions {
        let oid: u32 = row.get("oid");
        let (s, name): (String, String) = (row.get("schema"), row.get("name"));
        let arguments = text(row, "arguments");
        let kind = match row.get::<_, String>("kind").as_str() {
            "p" => "procedure",
            "a" => "aggregate",
            "w" => "window",
            _ => "function",
        };
        let volatility = match row.get::<_, String>("volatility").as_str() {
            "i" => "immutable",
            "s" => "stable",
            _ => "volatile",
        };
        schema.functions.insert(
            format!("{s}.{name}({arguments})"),
            Function {
                schema: s,
                name,
                kind: kind.to_string(),
                arguments,
                returns: row.get("returns"),
                language: row.get("language"),
                volatility: volatility.to_string(),
                security_definer: row.get("security_definer"),
                strict: row.get("strict"),
                config: row
                    .get::<_, Option<Vec<String>>>("config")
                    .unwrap_or_default(),
                definition: text(row, "definition"),
                body_fingerprint: String::new(),
                owner: row.get("owner"),
                comment: row.get("comment"),
                grants: take_grants(&mut grant_map, 'f', oid),
            },
        );
    }

    for table in tables.into_values() {
        schema
            .tables
            .insert(format!("{}.{}", table.schema, table.name), table);
    }
    for view in views.into_values() {
        schema
            .views
            .insert(format!("{}.{}", view.schema, view.name), view);
    }
    Ok(schema)
}

/// Each view's depth: the length of the longest chain of views it is built on (0 when it
/// reads only tables). `edges` are (view, view it reads); edges to anything not in `views`
/// (an extension's view) are ignored, and a cycle, impossible in a real catalog, is cut.
fn view_depths(views: &HashMap<u32, View>, edges: &[(u32, u32)]) -> HashMap<u32, u32> {
    let mut deps: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(view, dep) in edges {
        if views.contains_key(&view) && views.contains_key(&dep) && view != dep {
            deps.entry(view).or_default().push(dep);
        }
    }
    let mut depth: HashMap<u32, u32> = HashMap::new();
    let mut on_path: HashSet<u32> = HashSet::new();
    for &start in views.keys() {
        depth_of(start, &deps, &mut depth, &mut on_path);
    }
    depth
}

fn depth_of(
    view: u32,
    deps: &HashMap<u32, Vec<u32>>,
    depth: &mut HashMap<u32, u32>,
    on_path: &mut HashSet<u32>,
) -> u32 {
    if let Some(&d) = depth.get(&view) {
        return d;
    }
    if !on_path.insert(view) {
        return 0;
    }
    let mut d = 0;
    if let Some(children) = deps.get(&view) {
        for &child in children {
            d = d.max(depth_of(child, deps, depth, on_path) + 1);
        }
    }
    on_path.remove(&view);
    depth.insert(view, d);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str) -> View {
        View {
            name: name.into(),
            ..View::default()
        }
    }

    #[test]
    fn depths_follow_the_longest_chain() {
        let views: HashMap<u32, View> = [
            (1, view("a")),
            (2, view("b")),
            (3, view("c")),
            (4, view("d")),
        ]
        .into_iter()
        .collect();
        // d reads c and a; c reads b; b reads a; 99 is not a user view.
        let edges = [(4, 3), (4, 1), (3, 2), (2, 1), (1, 99)];
        let d = view_depths(&views, &edges);
        assert_eq!(d[&1], 0);
        assert_eq!(d[&2], 1);
        assert_eq!(d[&3], 2);
        assert_eq!(d[&4], 3);
    }

    #[test]
    fn a_cycle_terminates() {
        let views: HashMap<u32, View> = [(1, view("a")), (2, view("b"))].into_iter().collect();
        let d = view_depths(&views, &[(1, 2), (2, 1)]);
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn grants_are_grouped_and_sorted() {
        let mut map: GrantMap = HashMap::new();
        for (grantee, privilege) in [("zoe", "SELECT"), ("PUBLIC", "USAGE"), ("zoe", "INSERT")] {
            map.entry(('c', 7))
                .or_default()
                .entry(grantee.to_string())
                .or_default()
                .insert(privilege.to_string());
        }
        let grants = take_grants(&mut map, 'c', 7);
        assert_eq!(
            grants,
            vec![
                Grant {
                    grantee: "PUBLIC".into(),
                    privileges: vec!["USAGE".into()]
                },
                Grant {
                    grantee: "zoe".into(),
                    privileges: vec!["INSERT".into(), "SELECT".into()]
                },
            ]
        );
        assert!(take_grants(&mut map, 'c', 7).is_empty());
    }
}
