//! Moving foreign keys out of a `CREATE TABLE` to break a cycle: the table is created without
//! them, and each comes back as `ALTER TABLE … ADD CONSTRAINT` once every table exists.
//! Both statements are produced by the PostgreSQL deparser from the parse tree, so quoting and
//! every clause of the constraint (`ON DELETE`, `DEFERRABLE`, `MATCH`, …) are kept.

use pg_query::protobuf::{self, node::Node as N, AlterTableType, ObjectType};

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
        let constraint = match fk.column {
            Some(col) => {
                let Some(N::ColumnDef(column)) = table.table_elts[col].node.as_mut() else {
                    return Err("foreign key location is not a column".into());
                };
                let node = column.constraints.remove(fk.constraint);
                let Some(N::Constraint(mut c)) = node.node else {
                    return Err("foreign key location is not a constraint".into());
                };
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
        constraints.push(constraint);
    }
    constraints.reverse();
    let create_sql = deparse(N::CreateStmt(table), version)?;
    let alters = constraints
        .into_iter()
        .map(|c| {
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
            deparse(N::AlterTableStmt(alter), version)
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

fn deparse(stmt: N, version: i32) -> Result<String, String> {
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
