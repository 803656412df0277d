//! The typed schema model. Every map is a `BTreeMap` keyed by qualified name, so iteration and
//! JSON output are sorted and stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A database's schema: everything except data.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Schema {
    /// `server_version_num` of the server it was read from.
    pub server_version: u32,
    pub schemas: BTreeMap<String, Namespace>,
    pub extensions: BTreeMap<String, Extension>,
    /// Enums, domains and composite types, by `schema.name`.
    pub types: BTreeMap<String, TypeDef>,
    pub sequences: BTreeMap<String, Sequence>,
    pub tables: BTreeMap<String, Table>,
    /// Views and materialized views.
    pub views: BTreeMap<String, View>,
    /// Functions, procedures and aggregates, by `schema.name(identity arguments)`.
    pub functions: BTreeMap<String, Function>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Namespace {
    pub name: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Extension {
    pub name: String,
    pub schema: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeKind {
    Enum {
        labels: Vec<String>,
    },
    Domain {
        base: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        not_null: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        collation: Option<String>,
        /// Check constraints: name → `CHECK (…)`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        checks: BTreeMap<String, String>,
    },
    Composite {
        /// (name, type) in order.
        attributes: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TypeDef {
    pub schema: String,
    pub name: String,
    #[serde(flatten)]
    pub kind: TypeKind,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `schema.table.column` of a serial or identity column that owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Backs an identity column (created and dropped with it).
    pub identity: bool,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Table {
    pub schema: String,
    pub name: String,
    /// `permanent` or `unlogged`.
    pub persistence: String,
    /// Partitioned table: `PARTITION BY …` (`pg_get_partkeydef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_by: Option<String>,
    /// A partition: its parent and bound (`FOR VALUES …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<PartitionOf>,
    /// Parents by plain inheritance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<String>,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraints: BTreeMap<String, Constraint>,
    /// Indexes that do not back a constraint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indexes: BTreeMap<String, Index>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<String, Trigger>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Policy>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PartitionOf {
    pub parent: String,
    pub bound: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Column {
    pub name: String,
    /// `format_type`: `character varying(40)`, `integer[]`, `app.status`.
    pub data_type: String,
    pub not_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `always` or `by default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The expression of a `GENERATED ALWAYS AS (…) STORED` column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// A collation other than the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Inherited from a parent (partition or inheritance), not declared locally.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Constraint {
    pub name: String,
    /// `primary_key`, `unique`, `foreign_key`, `check`, `exclusion`.
    pub kind: String,
    /// `pg_get_constraintdef`: `FOREIGN KEY (a) REFERENCES t(id) ON DELETE CASCADE DEFERRABLE`.
    pub definition: String,
    /// `false` for `NOT VALID`.
    pub validated: bool,
    /// For foreign keys: the referenced table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Inherited from a parent table (created by it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Index {
    pub name: String,
    /// `pg_get_indexdef`: `CREATE UNIQUE INDEX i ON s.t USING btree (a, lower(b)) WHERE …`.
    pub definition: String,
    pub method: String,
    pub unique: bool,
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// A partition's index created by its parent's partitioned index (`pg_inherits`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Trigger {
    pub name: String,
    /// `pg_get_triggerdef`.
    pub definition: String,
    /// `O` (origin, the default), `D` disabled, `R` replica, `A` always.
    pub enabled: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// A partition's trigger cloned from its parent's (`tgparentid`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    pub name: String,
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE`, `DELETE`.
    pub command: String,
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct View {
    pub schema: String,
    pub name: String,
    pub materialized: bool,
    /// `pg_get_viewdef` (the query, normalised by PostgreSQL).
    pub definition: String,
    /// Column names, in order.
    pub columns: Vec<String>,
    /// How many views this one is built on, transitively (creation order).
    pub depth: u32,
    /// Indexes of a materialized view.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indexes: BTreeMap<String, Index>,
    /// `INSTEAD OF` triggers of a view.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<String, Trigger>,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// `function`, `procedure`, `aggregate`, `window`.
    pub kind: String,
    /// `pg_get_function_identity_arguments`.
    pub arguments: String,
    /// `pg_get_function_result` (`None` for procedures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<String>,
    pub language: String,
    /// `immutable`, `stable`, `volatile`.
    pub volatility: String,
    pub security_definer: bool,
    pub strict: bool,
    /// `SET` clauses: `search_path=pg_catalog, public`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// `pg_get_functiondef`: the whole `CREATE OR REPLACE FUNCTION` (empty for aggregates).
    pub definition: String,
    /// The body as PostgreSQL's parser sees it (comments and layout dropped), for comparison.
    #[serde(skip)]
    pub body_fingerprint: String,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

/// Privileges granted to one role (or `PUBLIC`) on an object, owner's own excluded.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    pub grantee: String,
    /// `SELECT`, `INSERT`, … sorted.
    pub privileges: Vec<String>,
}

/// `schema.name` → (`schema`, `name`) for SQL; splits at the first dot outside quotes.
pub fn split_qualified(key: &str) -> (&str, &str) {
    key.split_once('.').unwrap_or(("public", key))
}
