//! Migrations, the pure part: files and their sidecars, checksums, and where each migration
//! stands against the tracking table. Running them lives in `confiture-ops::migrate`.

pub mod files;
pub mod generate;
pub mod hook_decl;
pub mod sidecar;
pub mod status;

/// SHA-256 (hex) of a migration file's bytes: what the tracking table's `checksum` holds.
pub fn checksum(bytes: &[u8]) -> String {
    crate::build::hash::sha256_hex(bytes)
}
