//! Moving foreign keys out of a `CREATE TABLE` to break a cycle: the table is created without
//! them, and each comes back as `ALTER TABLE … ADD CONSTRAINT` once every table exists.
//! Both statements are produced by the PostgreSQL deparser from the parse tree, so quoting and
//! every clause of the constraint (`ON DELETE`, `DEFERRABLE`, `MATCH`, …) are kept.

use pg_query::protobuf::{self, node::Node as N, AlterTableType, ConstrType, ObjectType};

use crate::facts::strings;

use crate::facts::ForeignKey;

/// The rewritten `CREATE TABLE` and one `ALTER TABLE` per moved foreign key.
pub struct Split {
    pub create: String,
    pub alters: Vec<String>,
}

/// Remove `moved` (foreign keys of `create`) from it. `version` is the parser's version number.
pub fn split_foreign_keys(
    create: &protobuf::CreateStmt,
    moved: &[&ForeignKey],
    version: i32,
) -> Result<Split, String> {
    let mut table = create.clone();
    let mut constraints = Vec::new();
    // Remove from the end so earlier indexes stay valid.
    let mut ordered: Vec<&&ForeignKey> = moved.iter().collect();
    ordered.sort_by_key(|fk| std::cmp::Reverse((fk.column, fk.constraint)));
    for fk in ordered {
        let mut constraint = match fk.column {
            Some(col) => {
                let Some(N::ColumnDef(column)) = table.table_elts[col].node.as_mut() else {
                    return Err("foreign key location is not a column".into());
                };
                let node = column.constraints.remove(fk.constraint);
                let Some(N::Constraint(mut c)) = node.node else {
                    return Err("foreign key location is not a constraint".into());
                };
                // `DEFERRABLE` / `INITIALLY …` after a column constraint are separate nodes of
                // the column's list: they move with the foreign key.
                while let Some(N::Constraint(attr)) = column
                    .constraints
                    .get(fk.constraint)
                    .and_then(|n| n.node.as_ref())
                {
                    match ConstrType::try_from(attr.contype) {
                        Ok(ConstrType::ConstrAttrDeferrable) => c.deferrable = true,
                        Ok(ConstrType::ConstrAttrNotDeferrable) => c.deferrable = false,
                        Ok(ConstrType::ConstrAttrDeferred) => {
                            c.deferrable = true;
                            c.initdeferred = true;
                        }
                        Ok(ConstrType::ConstrAttrImmediate) => c.initdeferred = false,
                        _ => break,
                    }
                    column.constraints.remove(fk.constraint);
                }
                // A column constraint names no columns: the column is implied.
                c.fk_attrs = vec![string_node(&column.colname)];
                *c
            }
            None => {
                let node = table.table_elts.remove(fk.constraint);
                let Some(N::Constraint(c)) = node.node else {
                    return Err("foreign key location is not a constraint".into());
                };
                *c
            }
        };
        if constraint.conname.is_empty() {
            // The name PostgreSQL would have chosen in the CREATE TABLE, so that the result
            // (and a later COMMENT ON CONSTRAINT) does not depend on the cycle breaking.
            let table_name = create
                .relation
                .as_ref()
                .map(|r| r.relname.as_str())
                .unwrap_or_default();
            let name = format!(
                "{table_name}_{}_fkey",
                strings(&constraint.fk_attrs).join("_")
            );
            if name.len() <= 63 {
                constraint.conname = name;
            }
        }
        constraints.push(constraint);
    }
    constraints.reverse();
    let create_sql = deparse(N::CreateStmt(table), version)?;
    let alters = constraints
        .into_iter()
        .map(|c| {
            let name = c.conname.clone();
            let cmd = protobuf::AlterTableCmd {
                subtype: AlterTableType::AtAddConstraint as i32,
                def: Some(Box::new(protobuf::Node {
                    node: Some(N::Constraint(Box::new(c))),
                })),
                behavior: protobuf::DropBehavior::DropRestrict as i32,
                ..Default::default()
            };
            let alter = protobuf::AlterTableStmt {
                relation: create.relation.clone(),
                cmds: vec![protobuf::Node {
                    node: Some(N::AlterTableCmd(Box::new(cmd))),
                }],
                objtype: ObjectType::ObjectTable as i32,
                missing_ok: false,
            };
            let sql = deparse(N::AlterTableStmt(alter), version)?;
            // An idempotent tree (CREATE TABLE IF NOT EXISTS) stays idempotent.
            match (&create.relation, create.if_not_exists && !name.is_empty()) {
                (Some(rel), true) => Ok::<String, String>(if_missing(rel, &name, &sql)),
                _ => Ok(sql),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Split {
        create: create_sql,
        alters,
    })
}

fn string_node(s: &str) -> protobuf::Node {
    protobuf::Node {
        node: Some(N::String(protobuf::String {
            sval: s.to_string(),
        })),
    }
}

/// One statement printed back as SQL (with its `;`) by PostgreSQL's deparser.
pub(crate) fn deparse(stmt: N, version: i32) -> Result<String, String> {
    let tree = protobuf::ParseResult {
        version,
        stmts: vec![protobuf::RawStmt {
            stmt: Some(Box::new(protobuf::Node { node: Some(stmt) })),
            stmt_location: 0,
            stmt_len: 0,
        }],
    };
    pg_query::deparse(&tree, Default::default())
        .map(|sql| format!("{sql};"))
        .map_err(|e| e.to_string())
}

/// `alter` run only when the table has no constraint `name` yet.
fn if_missing(rel: &protobuf::RangeVar, name: &str, alter: &str) -> String {
    let table = match rel.schemaname.as_str() {
        "" => quote(&rel.relname),
        schema => format!("{}.{}", quote(schema), quote(&rel.relname)),
    };
    format!(
        "DO $confiture$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {}::regclass AND conname = {}) THEN {alter} END IF; END $confiture$;",
        literal(&table),
        literal(name)
    )
}

fn quote(ident: &str) -> String {
    let plain = ident
        .bytes()
        .enumerate()
        .all(|(i, b)| b.is_ascii_lowercase() || b == b'_' || (i > 0 && b.is_ascii_digit()));
    if plain && !ident.is_empty() {
        ident.to_string()
    } else {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
