//! `confiture migrate generate NAME`: a timestamped `.up.sql` / `.down.sql` pair.

use std::path::{Path, PathBuf};

use crate::codes;
use crate::error::{ConfitureError, Location, Result};

/// The two files written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Generated {
    pub up: PathBuf,
    pub down: PathBuf,
    pub version: String,
}

/// Write `{version}_{name}.up.sql` and `.down.sql` in `dir`; `version` is the UTC time as
/// `YYYYMMDDHHMMSS`. The name must be lower-case letters, digits and underscores.
pub fn generate(dir: &Path, name: &str, version: &str) -> Result<Generated> {
    generate_with(
        dir,
        name,
        version,
        &format!("-- Migration {version}_{name}: up\n-- Runs in one transaction with its tracking row.\n\n"),
        &format!("-- Migration {version}_{name}: down\n-- Undo what the .up.sql did.\n\n"),
    )
}

/// [`generate`] with given contents (`migrate generate --from-diff`).
pub fn generate_with(
    dir: &Path,
    name: &str,
    version: &str,
    up_sql: &str,
    down_sql: &str,
) -> Result<Generated> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.starts_with('_');
    if !valid {
        return Err(ConfitureError::new(
            codes::INPUT_INVALID_ARGUMENT,
            format!(
                "'{name}' is not a migration name: use lower-case letters, digits and underscores"
            ),
        )
        .with_hint("e.g. `confiture migrate generate add_users_email_index`"));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        ConfitureError::new(
            codes::IO_FAILED,
            format!("cannot create {}: {e}", dir.display()),
        )
        .at(Location::file(dir))
    })?;
    let up = dir.join(format!("{version}_{name}.up.sql"));
    let down = dir.join(format!("{version}_{name}.down.sql"));
    for path in [&up, &down] {
        if path.exists() {
            return Err(ConfitureError::new(
                codes::INPUT_PATH_EXISTS,
                format!("{} already exists", path.display()),
            )
            .at(Location::file(path)));
        }
    }
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|e| {
            ConfitureError::new(
                codes::IO_FAILED,
                format!("cannot write {}: {e}", path.display()),
            )
            .at(Location::file(path))
        })
    };
    write(&up, up_sql.to_string())?;
    write(&down, down_sql.to_string())?;
    Ok(Generated {
        up,
        down,
        version: version.to_string(),
    })
}

/// Now (UTC) as a migration version, `YYYYMMDDHHMMSS`.
pub fn timestamp_version(unix_seconds: i64) -> String {
    let (days, rem) = (
        unix_seconds.div_euclid(86_400),
        unix_seconds.rem_euclid(86_400),
    );
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_versions() {
        assert_eq!(timestamp_version(0), "19700101000000");
        assert_eq!(timestamp_version(1_795_000_000), "20261118110640");
    }

    #[test]
    fn writes_a_pair_and_refuses_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let g = generate(dir.path(), "add_users", "20261122000000").unwrap();
        assert!(g.up.ends_with("20261122000000_add_users.up.sql") && g.down.exists());
        assert_eq!(
            generate(dir.path(), "Add Users", "1").unwrap_err().code.id,
            "INPUT_001"
        );
        assert_eq!(
            generate(dir.path(), "add_users", "20261122000000")
                .unwrap_err()
                .code
                .id,
            "INPUT_002"
        );
    }
}
