//! Names of the database objects statements define, change and use.

use std::fmt;

/// What kind of object a name refers to. Tables, views, sequences and indexes share one
/// namespace in PostgreSQL (`pg_class`), so they are all `Relation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Schema,
    Extension,
    Role,
    Type,
    Relation,
    /// Functions, procedures and aggregates, by name (overloads are one object).
    Function,
    /// The rows of a table: seeds that insert into it.
    Data,
    /// A trigger or policy, named `table.name` (they live in their table's namespace).
    Member,
    /// The unique keys of a table (primary key, unique constraints and indexes) that foreign
    /// keys to it need.
    Keys,
}

/// An object name as the grammar gives it (unquoted identifiers already folded to lower case).
/// `schema` is `None` when the statement did not qualify the name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectName {
    pub kind: Kind,
    pub schema: Option<String>,
    pub name: String,
}

impl ObjectName {
    pub fn new(kind: Kind, schema: Option<&str>, name: &str) -> Self {
        ObjectName {
            kind,
            schema: schema.filter(|s| !s.is_empty()).map(str::to_string),
            name: name.to_string(),
        }
    }

    /// From a qualified name list (`["app", "users"]`, `["users"]`); `None` when empty or when it
    /// names a system catalog object (`pg_catalog.*`, `information_schema.*`).
    pub fn from_parts(kind: Kind, parts: &[String]) -> Option<Self> {
        let (schema, name) = match parts {
            [name] => (None, name.as_str()),
            [.., schema, name] => (Some(schema.as_str()), name.as_str()),
            [] => return None,
        };
        if matches!(schema, Some("pg_catalog" | "information_schema")) {
            return None;
        }
        Some(ObjectName::new(kind, schema, name))
    }

    pub fn with_kind(&self, kind: Kind) -> Self {
        ObjectName {
            kind,
            ..self.clone()
        }
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Schema => "schema",
            Kind::Extension => "extension",
            Kind::Role => "role",
            Kind::Type => "type",
            Kind::Relation => "relation",
            Kind::Function => "function",
            Kind::Data => "rows of",
            Kind::Keys => "unique keys of",
            Kind::Member => "trigger or policy",
        };
        match &self.schema {
            Some(schema) => write!(f, "{kind} {schema}.{}", self.name),
            None => write!(f, "{kind} {}", self.name),
        }
    }
}
