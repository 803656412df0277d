//! `confiture init`: the files of a new project. The plan is pure (a list of files and their
//! contents); writing it is the caller's I/O.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::codes;
use crate::error::{ConfitureError, Location, Result};

/// Lines `confiture init` makes sure `.gitignore` has.
pub const GITIGNORE_ENTRIES: &[&str] = &[".confiture/", "db/generated/"];

/// Files of a new project, relative to its root. Empty content means "a directory marker".
pub fn project_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("db/environments/local.yaml", LOCAL_YAML),
        ("db/schema/00_common/001_schemas.sql", SCHEMAS_SQL),
        ("db/schema/10_tables/010_users.sql", USERS_SQL),
        ("db/schema/10_tables/020_posts.sql", POSTS_SQL),
        ("db/schema/20_views/010_user_post_counts.sql", VIEW_SQL),
        ("db/seeds/common/010_users.sql", SEED_COMMON_SQL),
        ("db/seeds/development/010_posts.sql", SEED_DEV_SQL),
        ("db/seeds/test/.gitkeep", ""),
        (
            "db/migrations/20260101000000_index_posts_published_at.up.sql",
            MIGRATION_UP_SQL,
        ),
        (
            "db/migrations/20260101000000_index_posts_published_at.down.sql",
            MIGRATION_DOWN_SQL,
        ),
        (
            "db/migrations/20260101000000_index_posts_published_at.yaml",
            MIGRATION_SIDECAR,
        ),
    ]
}

#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub root: PathBuf,
    pub created: Vec<PathBuf>,
    pub skipped: Vec<PathBuf>,
    pub gitignore_updated: bool,
}

/// Create the project at `root`. Existing files are never overwritten: without `force`,
/// an existing `db/` is an error; with it, only missing files are added.
pub fn init_project(root: &Path, force: bool) -> Result<InitReport> {
    let io = |path: &Path, e: std::io::Error| {
        ConfitureError::new(
            codes::IO_FAILED,
            format!("cannot write {}: {e}", path.display()),
        )
        .at(Location::file(path))
    };
    if root.join("db").exists() && !force {
        return Err(ConfitureError::new(
            codes::INPUT_PATH_EXISTS,
            format!("{} already has a db/ directory", root.display()),
        )
        .with_hint("use --force to add only the missing files (nothing is overwritten)")
        .at(Location::file(root.join("db"))));
    }
    let mut report = InitReport {
        root: root.to_path_buf(),
        created: Vec::new(),
        skipped: Vec::new(),
        gitignore_updated: false,
    };
    for (rel, content) in project_files() {
        let path = root.join(rel);
        if path.exists() {
            report.skipped.push(PathBuf::from(rel));
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&path, content).map_err(|e| io(&path, e))?;
        report.created.push(PathBuf::from(rel));
    }
    let gitignore = root.join(".gitignore");
    let existing = std::fs::read_to_string(&gitignore).unwrap_or_default();
    let missing: Vec<&str> = GITIGNORE_ENTRIES
        .iter()
        .copied()
        .filter(|entry| !existing.lines().any(|l| l.trim() == *entry))
        .collect();
    if !missing.is_empty() {
        let mut text = existing.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# Confiture: local cluster and build output\n");
        for entry in missing {
            text.push_str(entry);
            text.push('\n');
        }
        std::fs::write(&gitignore, text).map_err(|e| io(&gitignore, e))?;
        report.gitignore_updated = true;
    }
    Ok(report)
}

const LOCAL_YAML: &str = r#"# Confiture environment: local development.
# Without database_url, the local environment uses the project's embedded PostgreSQL
# cluster (`confiture db start`), stored under .confiture/postgres/.
# To use your own server instead:
#   database_url: postgresql://postgres@localhost:5432/myapp_local
# ${VAR} and ${VAR:-default} are expanded in every string value.
name: local
include_dirs:
  - db/schema
exclude_dirs: []
migration:
  tracking_table: tb_confiture
  locking:
    enabled: true
    timeout_ms: 30000
"#;

const SCHEMAS_SQL: &str =
    "-- Schemas and extensions come first.\nCREATE SCHEMA IF NOT EXISTS app;\n";

const USERS_SQL: &str = r#"CREATE TABLE app.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE app.users IS 'People who can sign in.';
"#;

const POSTS_SQL: &str = r#"CREATE TABLE app.posts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES app.users (id),
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    published_at timestamptz
);

CREATE INDEX posts_author_id_idx ON app.posts (author_id);
CREATE INDEX posts_published_at_idx ON app.posts (published_at);
"#;

// Schema files describe the desired state (what `confiture build` creates); migrations bring
// databases built before a change to that state. This one is in the schema files too.
const MIGRATION_UP_SQL: &str = r#"-- Existing databases get the index the schema files now declare.
CREATE INDEX IF NOT EXISTS posts_published_at_idx ON app.posts (published_at);
"#;

const MIGRATION_SIDECAR: &str = r#"# Hooks run inside the migration's transaction (docs/hooks.md).
description: Index posts by publication date
hooks:
  before_ddl:
    - type: capture_statistics
      id: before
      config: {tables: [app.posts]}
  after_validation:
    - type: verify_consistency
      config:
        checks:
          - name: no post lost
            sql: SELECT count(*) FROM app.posts
            ratio_to: {captured: before, table: app.posts}
            expected_ratio: 1.0
  cleanup:
    - type: analyze
"#;

const MIGRATION_DOWN_SQL: &str = r#"DROP INDEX IF EXISTS app.posts_published_at_idx;
"#;

const VIEW_SQL: &str = r#"CREATE VIEW app.user_post_counts AS
SELECT u.id AS user_id, u.display_name, count(p.id) AS post_count
FROM app.users u
LEFT JOIN app.posts p ON p.author_id = u.id
GROUP BY u.id, u.display_name;
"#;

const SEED_COMMON_SQL: &str = r#"INSERT INTO app.users (email, display_name) VALUES
    ('ada@example.com', 'Ada'),
    ('linus@example.com', 'Linus');
"#;

const SEED_DEV_SQL: &str = r#"INSERT INTO app.posts (author_id, title, body)
SELECT id, 'Hello from ' || display_name, 'First post.' FROM app.users;
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_creates_then_refuses_then_force_adds_missing() {
        let dir = tempfile::tempdir().unwrap();
        let r = init_project(dir.path(), false).unwrap();
        assert_eq!(r.created.len(), project_files().len());
        assert!(r.gitignore_updated);
        assert!(dir.path().join("db/seeds/test").is_dir());
        let err = init_project(dir.path(), false).unwrap_err();
        assert_eq!(err.code.exit.code(), 5);
        std::fs::remove_file(dir.path().join("db/schema/10_tables/020_posts.sql")).unwrap();
        let r = init_project(dir.path(), true).unwrap();
        assert_eq!(
            r.created,
            vec![PathBuf::from("db/schema/10_tables/020_posts.sql")]
        );
        assert!(!r.gitignore_updated);
        let gi = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
        assert_eq!(gi.matches(".confiture/").count(), 1);
    }
}
