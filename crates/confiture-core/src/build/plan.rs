//! A build plan: the statements of the loaded files in the order they run, with the changes
//! dependency ordering made (a statement rewritten without a foreign key, the foreign key
//! added at the end). Every step keeps the source file and line it came from, so an error
//! while applying is reported where the user wrote the statement.

use serde::Serialize;

/// A statement of the build: `file` indexes the loaded files, `index` that file's statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StatementId {
    pub file: usize,
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The statement as written.
    Original(StatementId),
    /// The statement replaced by `sql` (e.g. `CREATE TABLE` without a cyclic foreign key).
    Rewritten {
        id: StatementId,
        sql: String,
        note: String,
    },
    /// A statement the plan adds at the end, attributed to the statement it was taken from.
    Added {
        id: StatementId,
        sql: String,
        note: String,
    },
    /// A statement the plan runs just before the next one, attributed to it (e.g. the
    /// `SET search_path` the files had set for it).
    Inserted {
        id: StatementId,
        sql: String,
        note: String,
    },
}

impl Step {
    pub fn id(&self) -> StatementId {
        match self {
            Step::Original(id) => *id,
            Step::Rewritten { id, .. } | Step::Added { id, .. } | Step::Inserted { id, .. } => *id,
        }
    }
}

/// How statements were ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderMode {
    /// Files in discovery order, statements as written.
    Files,
    /// Statements ordered by the objects they define and use (`--order dependencies`).
    Dependencies,
}

/// The ordered steps of a build.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: OrderMode,
    pub steps: Vec<Step>,
}

impl Plan {
    /// Every statement of every file, in file order.
    pub fn in_file_order(statement_counts: impl IntoIterator<Item = usize>) -> Plan {
        let steps = statement_counts
            .into_iter()
            .enumerate()
            .flat_map(|(file, n)| {
                (0..n).map(move |index| Step::Original(StatementId { file, index }))
            })
            .collect();
        Plan {
            mode: OrderMode::Files,
            steps,
        }
    }

    /// Whether the plan keeps every file whole and in order (output is the files concatenated).
    pub fn is_file_order(&self) -> bool {
        self.mode == OrderMode::Files
    }
}
