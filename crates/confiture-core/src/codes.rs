//! The registry of stable error codes. A code never changes meaning once released; add new
//! ones at the end of their family. Each code fixes the exit class of the error.

use serde::Serialize;

use crate::exit::ExitClass;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorCode {
    pub id: &'static str,
    pub exit: ExitClass,
    pub summary: &'static str,
}

macro_rules! codes {
    ($( $name:ident = ($id:literal, $exit:ident, $summary:literal); )*) => {
        $( pub const $name: ErrorCode = ErrorCode { id: $id, exit: ExitClass::$exit, summary: $summary }; )*
        /// Every code, in documentation order.
        pub const ALL: &[ErrorCode] = &[ $( $name ),* ];
    };
}

codes! {
    // Configuration and input (exit 5)
    CONFIG_NOT_FOUND = ("CONFIG_001", InvalidInput, "Environment or configuration file not found");
    CONFIG_UNREADABLE = ("CONFIG_002", InvalidInput, "Configuration file cannot be read");
    CONFIG_NOT_UTF8 = ("CONFIG_003", InvalidInput, "Configuration file is not valid UTF-8");
    CONFIG_YAML_SYNTAX = ("CONFIG_004", InvalidInput, "YAML syntax error");
    CONFIG_UNKNOWN_KEY = ("CONFIG_005", InvalidInput, "Unknown configuration key");
    CONFIG_WRONG_TYPE = ("CONFIG_006", InvalidInput, "Configuration value has the wrong type");
    CONFIG_MISSING_VAR = ("CONFIG_007", InvalidInput, "Environment variable referenced by ${VAR} is not set");
    CONFIG_DUPLICATE_KEY = ("CONFIG_008", InvalidInput, "Duplicate key in a YAML mapping");
    CONFIG_EMPTY = ("CONFIG_009", InvalidInput, "Configuration file is empty");
    CONFIG_INVALID_VALUE = ("CONFIG_010", InvalidInput, "Configuration value is not allowed");
    CONFIG_MISSING_KEY = ("CONFIG_011", InvalidInput, "Required configuration key is missing");
    CONFIG_BAD_VAR_SYNTAX = ("CONFIG_012", InvalidInput, "Malformed ${VAR} reference");
    CONFIG_NO_PROJECT = ("CONFIG_013", InvalidInput, "No Confiture project found");
    INPUT_INVALID_ARGUMENT = ("INPUT_001", InvalidInput, "Invalid command-line argument");
    INPUT_PATH_EXISTS = ("INPUT_002", InvalidInput, "Refusing to overwrite an existing file");
    INPUT_INVALID_DSN = ("INPUT_003", InvalidInput, "Database URL cannot be parsed");
    // Connections (exit 3)
    CONN_REFUSED = ("CONN_001", DatabaseUnreachable, "Cannot connect to the database");
    CONN_AUTH = ("CONN_002", DatabaseUnreachable, "Authentication failed");
    CONN_TLS = ("CONN_003", DatabaseUnreachable, "TLS negotiation or certificate verification failed");
    CONN_TIMEOUT = ("CONN_004", DatabaseUnreachable, "Connection timed out");
    CONN_DATABASE_MISSING = ("CONN_005", DatabaseUnreachable, "The database does not exist");
    CONN_SERVER_TOO_OLD = ("CONN_006", DatabaseUnreachable, "PostgreSQL server version is not supported");
    // Embedded cluster (exit 1)
    PG_BINARIES_NOT_FOUND = ("PGLOCAL_001", Failure, "PostgreSQL server binaries not found");
    PG_INITDB_FAILED = ("PGLOCAL_002", Failure, "initdb failed");
    PG_START_FAILED = ("PGLOCAL_003", Failure, "The embedded PostgreSQL server failed to start");
    PG_STOP_FAILED = ("PGLOCAL_004", Failure, "The embedded PostgreSQL server failed to stop");
    PG_NO_UNPRIVILEGED_USER = ("PGLOCAL_005", Failure, "Running as root and no unprivileged OS user to run PostgreSQL");
    PG_STATE_CORRUPT = ("PGLOCAL_006", Failure, "The embedded cluster directory is in an unexpected state");
    // Build (confiture build)
    BUILD_INCLUDE_DIR_MISSING = ("BUILD_001", InvalidInput, "An include directory does not exist");
    BUILD_EMPTY = ("BUILD_002", InvalidInput, "The build selected no SQL files");
    BUILD_FILE_UNREADABLE = ("BUILD_003", InvalidInput, "A SQL source file cannot be read");
    BUILD_FILE_NOT_UTF8 = ("BUILD_004", InvalidInput, "A SQL source file is not valid UTF-8");
    BUILD_UNTERMINATED = ("BUILD_005", InvalidInput, "A SQL file ends inside a comment, string, quoted identifier or dollar-quoted body, or without a final semicolon");
    BUILD_SYMLINK_LOOP = ("BUILD_006", InvalidInput, "A symbolic link loop in the schema tree");
    BUILD_CYCLE = ("BUILD_007", SchemaError, "A dependency cycle that cannot be broken");
    BUILD_PARSE = ("BUILD_008", SchemaError, "A statement the PostgreSQL grammar rejects");
    BUILD_APPLY_FAILED = ("BUILD_009", SchemaError, "A statement failed while applying the build");
    BUILD_RECREATE_REFUSED = ("BUILD_010", InvalidInput, "Refusing to drop a database outside local/test/ci without --force");
    BUILD_TRANSACTION_CONTROL = ("BUILD_011", InvalidInput, "A transaction-control statement in a build that is applied in one transaction");
    BUILD_COPY_FROM_STDIN = ("BUILD_012", InvalidInput, "COPY ... FROM stdin, whose data only psql can send");
    // Migrations (confiture migrate)
    MIGRATE_BAD_FILE_NAME = ("MIGRATE_001", InvalidInput, "A migration file name does not follow {version}_{name}.up.sql");
    MIGRATE_DUPLICATE_VERSION = ("MIGRATE_002", InvalidInput, "Two migrations share a version");
    MIGRATE_PYTHON_UNSUPPORTED = ("MIGRATE_003", InvalidInput, "A Python (.py) migration, which Confiture does not run");
    MIGRATE_STATEMENT_FAILED = ("MIGRATE_004", Failure, "A migration statement failed");
    MIGRATE_LOCKED = ("MIGRATE_005", LockContention, "Another process holds the migration lock");
    MIGRATE_LOCK_TIMEOUT = ("MIGRATE_006", LockContention, "A migration statement could not get its lock within lock_timeout, after every retry");
    MIGRATE_CHECKSUM_MISMATCH = ("MIGRATE_007", GateFailed, "An applied migration's file changed since it was applied");
    MIGRATE_OUT_OF_ORDER = ("MIGRATE_008", InvalidInput, "A pending migration is older than the newest applied one");
    MIGRATE_NO_DOWN = ("MIGRATE_009", IrreversibleRollback, "A migration to roll back has no .down.sql");
    MIGRATE_NO_TRACKING_TABLE = ("MIGRATE_010", TrackingTableAbsent, "The migration tracking table does not exist");
    MIGRATE_NEEDS_AUTOCOMMIT = ("MIGRATE_011", InvalidInput, "A statement that cannot run in a transaction, in a transactional migration");
    MIGRATE_UNKNOWN_VERSION = ("MIGRATE_012", InvalidInput, "No migration has the requested version");
    MIGRATE_VERIFY_FAILED = ("MIGRATE_013", GateFailed, "A migration's .verify.sql did not return true");
    MIGRATE_MISSING_FILE = ("MIGRATE_014", InvalidInput, "An applied migration's file is missing");
    MIGRATE_TRANSACTION_CONTROL = ("MIGRATE_015", InvalidInput, "Transaction control (BEGIN, COMMIT, ...) in a migration file");
    MIGRATE_META_COMMAND = ("MIGRATE_016", InvalidInput, "A psql meta-command (\\i, \\connect, ...) in a migration file");
    MIGRATE_HOOK_FAILED = ("MIGRATE_017", Failure, "A migration hook failed; the migration was rolled back");
    MIGRATE_HOOK_TIMEOUT = ("MIGRATE_018", Failure, "A migration hook exceeded its timeout; the migration was rolled back");
    MIGRATE_HOOK_CONFIG = ("MIGRATE_019", InvalidInput, "A hook declaration is invalid (unknown type, bad config)");
    SCHEMA_DRIFT = ("SCHEMA_001", GateFailed, "The database differs from its schema files (drift)");
    SCHEMA_PREFLIGHT_FAILED = ("SCHEMA_002", GateFailed, "Preflight failed: the pending migrations fail, or do not produce the schema files");
    SCHEMA_BAD_SOURCE = ("SCHEMA_003", InvalidInput, "A schema source (environment, DSN or directory) cannot be used");
    ANON_PROFILE_INVALID = ("ANON_001", InvalidInput, "An anonymization profile is invalid (structure, unknown strategy, bad option)");
    ANON_UNCOVERED_PII = ("ANON_002", GateFailed, "Strict mode: columns that look like personal data are not covered by the profile");
    ANON_PROFILE_MISMATCH = ("ANON_003", InvalidInput, "The profile names a table or column the source lacks, or a strategy unfit for the column type");
    ANON_VERIFY_FAILED = ("ANON_004", GateFailed, "Anonymization verification failed (a value kept, unstable, or an immutable column changed)");
    SYNC_TARGET_MISMATCH = ("SYNC_001", SchemaError, "The target lacks a table or column of the source, or its type differs");
    SYNC_COPY_FAILED = ("SYNC_002", Failure, "Copying a table failed; that table was rolled back");
    SYNC_VERIFY_FAILED = ("SYNC_003", GateFailed, "Row counts in the target differ from the rows read from the source");
    SYNC_BAD_CHECKPOINT = ("SYNC_004", InvalidInput, "The resume checkpoint is unreadable or belongs to another sync");
    SYNC_UNSAFE_PLAN = ("SYNC_005", InvalidInput, "The sync cannot run safely as asked (same database, a foreign key from a table left out, an unknown table)");
    LINT_FAILED = ("LINT_001", GateFailed, "Lint found findings at or above linting.fail_on_severity");
    // Generic
    IO_FAILED = ("IO_001", Failure, "File system operation failed");
    SQL_FAILED = ("SQL_001", Failure, "A SQL statement failed");
    DOCTOR_FAILED = ("DOCTOR_001", Failure, "doctor found a failing check");
    INTERNAL = ("INTERNAL_001", Failure, "Internal error (a bug: please report it)");
}

/// Look a code up by its id (`CONFIG_005`), for `--explain`-style tooling and tests.
pub fn find(id: &str) -> Option<ErrorCode> {
    ALL.iter().copied().find(|c| c.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = ALL.iter().map(|c| c.id).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate error code id");
    }

    #[test]
    fn config_errors_exit_5() {
        for c in ALL.iter().filter(|c| c.id.starts_with("CONFIG_")) {
            assert_eq!(c.exit.code(), 5, "{}", c.id);
        }
        assert_eq!(find("conn_001").unwrap().exit.code(), 3);
    }
}
