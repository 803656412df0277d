//! The process exit-code contract. These numbers are public API: scripts and CI depend on them.
//! Documented in `docs/exit-codes.md`; printed by `confiture exit-codes`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitClass {
    Ok,
    Failure,
    TrackingTableAbsent,
    DatabaseUnreachable,
    SchemaError,
    InvalidInput,
    LockContention,
    GateFailed,
    IrreversibleRollback,
}

impl ExitClass {
    pub const ALL: [ExitClass; 9] = [
        ExitClass::Ok,
        ExitClass::Failure,
        ExitClass::TrackingTableAbsent,
        ExitClass::DatabaseUnreachable,
        ExitClass::SchemaError,
        ExitClass::InvalidInput,
        ExitClass::LockContention,
        ExitClass::GateFailed,
        ExitClass::IrreversibleRollback,
    ];

    pub fn code(self) -> i32 {
        match self {
            ExitClass::Ok => 0,
            ExitClass::Failure => 1,
            ExitClass::TrackingTableAbsent => 2,
            ExitClass::DatabaseUnreachable => 3,
            ExitClass::SchemaError => 4,
            ExitClass::InvalidInput => 5,
            ExitClass::LockContention => 6,
            ExitClass::GateFailed => 7,
            ExitClass::IrreversibleRollback => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ExitClass::Ok => "ok",
            ExitClass::Failure => "failure",
            ExitClass::TrackingTableAbsent => "tracking_table_absent",
            ExitClass::DatabaseUnreachable => "database_unreachable",
            ExitClass::SchemaError => "schema_error",
            ExitClass::InvalidInput => "invalid_input",
            ExitClass::LockContention => "lock_contention",
            ExitClass::GateFailed => "gate_failed",
            ExitClass::IrreversibleRollback => "irreversible_rollback",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            ExitClass::Ok => "Success.",
            ExitClass::Failure => "The command ran and failed (a statement, a hook, an I/O error).",
            ExitClass::TrackingTableAbsent => "The migration tracking table does not exist yet.",
            ExitClass::DatabaseUnreachable => {
                "The database could not be reached (connection refused, authentication, TLS, timeout)."
            }
            ExitClass::SchemaError => "The schema or build is broken (bad DDL, dependency cycle, SQL error while building).",
            ExitClass::InvalidInput => "Invalid configuration, arguments or input files; nothing was changed.",
            ExitClass::LockContention => "Another process holds the lock (migration lock or lock_timeout exhausted).",
            ExitClass::GateFailed => "A gate failed: drift, lint or preflight found problems.",
            ExitClass::IrreversibleRollback => "A rollback was refused because it cannot be done safely (no down migration).",
        }
    }
}
