//! The tables of a database as a data copy sees them: columns in order with their types,
//! primary keys, foreign-key edges, sizes and sequences. Smaller and cheaper than the full schema
//! model of [`crate::introspect`], which `sync` does not need.

use tokio_postgres::{Client, Row};

/// One user table (ordinary or partitioned; partitions are copied through their root).
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub schema: String,
    pub name: String,
    /// A partitioned table: read and written through the root, truncated without `ONLY`.
    pub partitioned: bool,
    /// Columns in attribute order, without dropped ones.
    pub columns: Vec<ColumnInfo>,
    pub primary_key: Vec<String>,
    /// Tables this one references by foreign key (itself included when self-referencing).
    pub references: Vec<(String, String)>,
    /// Deferrable foreign keys only: a cycle of them can be loaded in one transaction.
    pub all_references_deferrable: bool,
    /// `reltuples` (an estimate; -1 when never analyzed) and the relation's size in bytes.
    pub estimated_rows: i64,
    pub bytes: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    /// `format_type` with modifiers: what two databases must agree on.
    pub type_name: String,
    /// The type whose binary format the column uses: a domain's base type, `format_type`
    /// without modifiers; `text` for enums (whose binary form is their label).
    pub wire_type: String,
    /// A generated column: never copied (the target computes it).
    pub generated: bool,
}

impl TableInfo {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns a copy reads and writes: every column but the generated ones.
    pub fn copied_columns(&self) -> impl Iterator<Item = &ColumnInfo> {
        self.columns.iter().filter(|c| !c.generated)
    }
}

/// A sequence and, when it has one, the table column that owns it.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceInfo {
    pub schema: String,
    pub name: String,
    pub owner: Option<(String, String)>,
}

const USER_TABLE: &str = "c.relkind IN ('r', 'p') AND NOT c.relispartition \
     AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' \
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass \
                     AND e.objid = c.oid AND e.deptype = 'e')";

/// Every user table of the connected database, sorted by schema and name.
pub async fn read_tables(client: &Client) -> Result<Vec<TableInfo>, tokio_postgres::Error> {
    let tables_sql = format!(
        "SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind = 'p', \
                c.reltuples::int8, \
                CASE WHEN c.relkind = 'p' \
                     THEN (SELECT coalesce(sum(pg_relation_size(p.relid)), 0)::int8 \
                             FROM pg_partition_tree(c.oid) p) \
                     ELSE pg_relation_size(c.oid) END \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
          WHERE {USER_TABLE} ORDER BY 2, 3"
    );
    let columns_sql = format!(
        "SELECT a.attrelid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), \
                CASE WHEN t.typtype = 'e' OR b.typtype = 'e' THEN 'text' \
                     ELSE format_type(coalesce(nullif(t.typbasetype, 0), t.oid), NULL) END, \
                a.attgenerated <> '' \
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           JOIN pg_type t ON t.oid = a.atttypid \
           LEFT JOIN pg_type b ON b.oid = t.typbasetype \
          WHERE {USER_TABLE} AND a.attnum > 0 AND NOT a.attisdropped \
          ORDER BY a.attrelid, a.attnum"
    );
    let constraints_sql = format!(
        "SELECT k.conrelid::int8, k.contype::text, \
                coalesce(rn.nspname::text, ''), coalesce(r.relname::text, ''), k.condeferrable, \
                ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) \
                        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n \
                       ORDER BY u.i) \
           FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_class r ON r.oid = k.confrelid \
           LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace \
          WHERE {USER_TABLE} AND k.contype IN ('p', 'f') AND k.conparentid = 0"
    );
    let (tables, columns, constraints) = tokio::try_join!(
        client.query(&tables_sql, &[]),
        client.query(&columns_sql, &[]),
        client.query(&constraints_sql, &[]),
    )?;
    let mut out: Vec<(i64, TableInfo)> = tables
        .iter()
        .map(|r: &Row| {
            (
                r.get(0),
                TableInfo {
                    schema: r.get(1),
                    name: r.get(2),
                    partitioned: r.get(3),
                    columns: Vec::new(),
                    primary_key: Vec::new(),
                    references: Vec::new(),
                    all_references_deferrable: true,
                    estimated_rows: r.get(4),
                    bytes: r.get(5),
                },
            )
        })
        .collect();
    let index: std::collections::HashMap<i64, usize> = out
        .iter()
        .enumerate()
        .map(|(i, (oid, _))| (*oid, i))
        .collect();
    for r in &columns {
        if let Some(&i) = index.get(&r.get::<_, i64>(0)) {
            out[i].1.columns.push(ColumnInfo {
                name: r.get(1),
                type_name: r.get(2),
                wire_type: r.get(3),
                generated: r.get(4),
            });
        }
    }
    for r in &constraints {
        let Some(&i) = index.get(&r.get::<_, i64>(0)) else {
            continue;
        };
        let t = &mut out[i].1;
        if r.get::<_, String>(1) == "p" {
            t.primary_key = r.get(5);
        } else {
            let target = (r.get::<_, String>(2), r.get::<_, String>(3));
            t.all_references_deferrable &= r.get::<_, bool>(4);
            if !t.references.contains(&target) {
                t.references.push(target);
            }
        }
    }
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

/// Every user sequence (identity sequences included), with its owning table when it has one.
pub async fn read_sequences(client: &Client) -> Result<Vec<SequenceInfo>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, tn.nspname::text, t.relname::text \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
               LEFT JOIN pg_class t ON t.oid = d.refobjid \
               LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace \
              WHERE c.relkind = 'S' AND n.nspname NOT LIKE 'pg\\_%' \
                AND n.nspname <> 'information_schema' \
                AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass \
                                AND e.objid = c.oid AND e.deptype = 'e') \
              ORDER BY 1, 2",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| SequenceInfo {
            schema: r.get(0),
            name: r.get(1),
            owner: match (r.get::<_, Option<String>>(2), r.get::<_, Option<String>>(3)) {
                (Some(s), Some(t)) => Some((s, t)),
                _ => None,
            },
        })
        .collect())
}
