//! Migration files in `db/migrations/`: `{version}_{name}.up.sql`, and optionally `.down.sql`,
//! `.verify.sql` and a `.yaml` sidecar. The version is the text before the first `_`: digits
//! (a 14-digit timestamp or a legacy number such as `001`), ordered by value. Other files
//! (`.gitkeep`, notes, bare `.sql` snapshots) are ignored, as the Python tool ignores them;
//! `.py` migrations of the Python tool are refused by name.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::codes;
use crate::error::{ConfitureError, Location, Result};

/// One migration: its version, name and files.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationFile {
    pub version: String,
    pub name: String,
    pub up: PathBuf,
    pub down: Option<PathBuf>,
    pub verify: Option<PathBuf>,
    pub sidecar: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Up,
    Down,
    Verify,
    Sidecar,
}

const SUFFIXES: [(&str, Part); 5] = [
    (".up.sql", Part::Up),
    (".down.sql", Part::Down),
    (".verify.sql", Part::Verify),
    (".yaml", Part::Sidecar),
    (".yml", Part::Sidecar),
];

/// The migrations of `dir`, ordered by version. A missing directory has none.
pub fn discover(dir: &Path) -> Result<Vec<MigrationFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfitureError::new(
                codes::IO_FAILED,
                format!("cannot read the migrations directory: {e}"),
            )
            .at(Location::file(dir)))
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();

    let mut groups: BTreeMap<String, Vec<(Part, String, PathBuf)>> = BTreeMap::new();
    for file_name in names {
        let path = dir.join(&file_name);
        if file_name.ends_with(".py") {
            if file_name == "__init__.py" || file_name.starts_with('_') {
                continue;
            }
            return Err(ConfitureError::new(
                codes::MIGRATE_PYTHON_UNSUPPORTED,
                format!("{file_name} is a Python migration; Confiture runs SQL migrations only"),
            )
            .at(Location::file(&path))
            .with_hint(format!(
                "rewrite it as {}.up.sql (and .down.sql), or apply it with the Python tool first; its row in the tracking table is kept either way",
                file_name.trim_end_matches(".py")
            )));
        }
        let Some((suffix, part)) = SUFFIXES.iter().find(|(s, _)| file_name.ends_with(s)) else {
            continue;
        };
        let stem = &file_name[..file_name.len() - suffix.len()];
        let (version, name) = parse_stem(stem).ok_or_else(|| {
            ConfitureError::new(
                codes::MIGRATE_BAD_FILE_NAME,
                format!("{file_name}: a migration file is named {{version}}_{{name}}{suffix}, with a numeric version"),
            )
            .at(Location::file(&path))
            .with_hint("e.g. 20260122093000_add_users.up.sql; `confiture migrate generate NAME` names one for you")
        })?;
        groups.entry(version_key(version)).or_default().push((
            *part,
            format!("{version}\u{0}{name}"),
            path,
        ));
    }

    let mut migrations = Vec::new();
    for (_, parts) in groups {
        migrations.push(assemble(parts)?);
    }
    migrations.sort_by(|a, b| compare_versions(&a.version, &b.version));
    Ok(migrations)
}

/// Group the files of one version into a migration; every file must agree on the version
/// and name, and there must be exactly one `.up.sql`.
fn assemble(parts: Vec<(Part, String, PathBuf)>) -> Result<MigrationFile> {
    let ups: Vec<&(Part, String, PathBuf)> = parts.iter().filter(|p| p.0 == Part::Up).collect();
    if ups.len() > 1 || parts.iter().any(|p| p.1 != parts[0].1) {
        let up_names: Vec<String> = ups.iter().map(|p| file_name(&p.2)).collect();
        let shown = if up_names.len() > 1 {
            up_names
        } else {
            parts.iter().map(|p| file_name(&p.2)).collect()
        };
        return Err(ConfitureError::new(
            codes::MIGRATE_DUPLICATE_VERSION,
            format!("these migrations share a version: {}", shown.join(", ")),
        )
        .at(Location::file(&parts[0].2))
        .with_hint("give each migration its own version (`confiture migrate generate NAME` uses the current time)"));
    }
    let Some(up) = ups.first() else {
        let orphan = &parts[0].2;
        return Err(ConfitureError::new(
            codes::MIGRATE_BAD_FILE_NAME,
            format!("{} has no matching .up.sql", file_name(orphan)),
        )
        .at(Location::file(orphan))
        .with_hint("rename it to match its migration's .up.sql, or remove it"));
    };
    let (version, name) =
        up.1.split_once('\u{0}')
            .expect("identity is version NUL name");
    let find = |part: Part| parts.iter().find(|p| p.0 == part).map(|p| p.2.clone());
    Ok(MigrationFile {
        version: version.to_string(),
        name: name.to_string(),
        up: up.2.clone(),
        down: find(Part::Down),
        verify: find(Part::Verify),
        sidecar: find(Part::Sidecar),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `001_create_users` → (`001`, `create_users`); the version must be digits and the name
/// non-empty.
pub fn parse_stem(stem: &str) -> Option<(&str, &str)> {
    let (version, name) = stem.split_once('_')?;
    let digits = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
    (digits && !name.is_empty()).then_some((version, name))
}

/// The value of a version: digits without leading zeros (`001` and `1` are the same version).
fn version_key(version: &str) -> String {
    let trimmed = version.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

/// Versions compare by numeric value (`9` < `10` < `20260101000000`; `003` equals `3`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (ka, kb) = (version_key(a), version_key(b));
    ka.len().cmp(&kb.len()).then_with(|| ka.cmp(&kb))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            std::fs::write(dir.path().join(f), "SELECT 1;\n").unwrap();
        }
        dir
    }

    #[test]
    fn groups_and_orders_by_numeric_version() {
        let dir = dir_with(&[
            "10_ten.up.sql",
            "9_nine.up.sql",
            "9_nine.down.sql",
            "20260101000000_stamp.up.sql",
            "20260101000000_stamp.yaml",
            "001_first.up.sql",
            "001_first.verify.sql",
            "README.md",
            ".gitkeep",
            "__init__.py",
            "_helpers.py",
            "schema_snapshot.sql",
        ]);
        let found = discover(dir.path()).unwrap();
        let versions: Vec<&str> = found.iter().map(|m| m.version.as_str()).collect();
        assert_eq!(versions, vec!["001", "9", "10", "20260101000000"]);
        assert_eq!(found[0].name, "first");
        assert!(found[0].verify.is_some() && found[0].down.is_none());
        assert!(found[1].down.is_some());
        assert!(found[3].sidecar.is_some());
    }

    #[test]
    fn rejects_python_duplicates_orphans_and_bad_names() {
        let cases: [(&[&str], &str, &str); 5] = [
            (
                &["001_a.up.sql", "002_b.py"],
                "MIGRATE_003",
                "002_b.py is a Python migration",
            ),
            (
                &["001_a.up.sql", "001_b.up.sql"],
                "MIGRATE_002",
                "001_a.up.sql, 001_b.up.sql",
            ),
            (
                &["001_a.up.sql", "1_b.up.sql"],
                "MIGRATE_002",
                "share a version",
            ),
            (
                &["001_a.up.sql", "002_b.down.sql"],
                "MIGRATE_001",
                "002_b.down.sql has no matching .up.sql",
            ),
            (
                &["v1_a.up.sql"],
                "MIGRATE_001",
                "v1_a.up.sql: a migration file is named",
            ),
        ];
        for (files, code, needle) in cases {
            let dir = dir_with(files);
            let err = discover(dir.path()).unwrap_err();
            assert_eq!(err.code.id, code, "{files:?}: {}", err.message);
            assert!(err.message.contains(needle), "{files:?}: {}", err.message);
        }
    }

    #[test]
    fn missing_directory_has_no_migrations() {
        assert!(discover(Path::new("/nonexistent/migrations"))
            .unwrap()
            .is_empty());
    }
}
