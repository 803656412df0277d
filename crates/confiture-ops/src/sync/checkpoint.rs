//! The resume checkpoint: which tables of an interrupted sync are complete in the target.
//!
//! Written after each table's transaction commits (temporary file + rename, so a crash leaves
//! the previous version), removed when the sync completes. A table committed but not yet
//! recorded is simply copied again on `--resume`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Location, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// Source and target without passwords: a checkpoint only resumes the same sync.
    pub source: String,
    pub target: String,
    pub profile: Option<String>,
    /// Every table the sync replaces, in plan order.
    pub tables: Vec<String>,
    /// Complete tables and the rows they received.
    pub done: BTreeMap<String, u64>,
}

impl Checkpoint {
    pub fn new(
        source: String,
        target: String,
        profile: Option<String>,
        tables: Vec<String>,
    ) -> Self {
        Checkpoint {
            version: 1,
            source,
            target,
            profile,
            tables,
            done: BTreeMap::new(),
        }
    }

    /// Read the checkpoint at `path` for `--resume`; it must describe the same sync as `fresh`.
    pub fn resume(path: &Path, fresh: &Checkpoint) -> Result<Checkpoint> {
        let bad = |msg: String| {
            ConfitureError::new(codes::SYNC_BAD_CHECKPOINT, msg).at(Location::file(path))
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(bad(format!(
                    "--resume: there is no checkpoint at {} (no interrupted sync to resume)",
                    path.display()
                ))
                .with_hint("run the sync without --resume"))
            }
            Err(e) => return Err(bad(format!("cannot read {}: {e}", path.display()))),
        };
        let saved: Checkpoint = serde_json::from_str(&text)
            .map_err(|e| bad(format!("{} is not a sync checkpoint: {e}", path.display())))?;
        let same = saved.version == fresh.version
            && saved.source == fresh.source
            && saved.target == fresh.target
            && saved.profile == fresh.profile
            && saved.tables == fresh.tables;
        if !same {
            return Err(bad(format!(
                "the checkpoint at {} belongs to another sync ({} → {}, {} table(s), profile {})",
                path.display(),
                saved.source,
                saved.target,
                saved.tables.len(),
                saved.profile.as_deref().unwrap_or("none")
            ))
            .with_hint("resume with the same --from, --to, --profile, --tables and --exclude, or run without --resume to start over"));
        }
        Ok(saved)
    }

    /// Save atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |e: std::io::Error| {
            ConfitureError::new(
                codes::IO_FAILED,
                format!("cannot write the sync checkpoint {}: {e}", path.display()),
            )
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = temporary(path);
        let text = serde_json::to_string_pretty(self).expect("a checkpoint serializes");
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    pub fn remove(path: &Path) {
        let _ = std::fs::remove_file(path);
    }
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp() -> Checkpoint {
        Checkpoint::new(
            "postgresql://u@h/a".into(),
            "postgresql://u@h/b".into(),
            Some("qa".into()),
            vec!["public.users".into()],
        )
    }

    #[test]
    fn round_trip_and_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x/cp.json");
        let mut c = cp();
        c.done.insert("public.users".into(), 3);
        c.save(&path).unwrap();
        assert_eq!(Checkpoint::resume(&path, &cp()).unwrap(), c);
        let mut other = cp();
        other.target = "postgresql://u@h/c".into();
        let err = Checkpoint::resume(&path, &other).unwrap_err();
        assert_eq!(err.code.id, "SYNC_004");
        assert!(
            err.message.contains("belongs to another sync"),
            "{}",
            err.message
        );
        std::fs::write(&path, "{").unwrap();
        let err = Checkpoint::resume(&path, &cp()).unwrap_err();
        assert!(
            err.message.contains("is not a sync checkpoint"),
            "{}",
            err.message
        );
        Checkpoint::remove(&path);
        let err = Checkpoint::resume(&path, &cp()).unwrap_err();
        assert!(err.message.contains("no checkpoint"), "{}", err.message);
    }
}
