//! `sql`: run SQL inside the migration's transaction.
//!
//! ```yaml
//! - type: sql
//!   config:
//!     sql: "UPDATE users SET email = lower(email)"   # or
//!     file: db/hooks/normalize_emails.sql            # project-relative
//! ```
//! Result: `rows` = rows changed by its statements.

use std::path::Path;

use confiture_core::build::discover::{relative_path, SourceFile};
use confiture_core::build::source::load_one;
use confiture_core::error::Result;

use crate::hooks::{db, Config, HookOutput, HookRun, LoadContext};

#[derive(Debug, Clone)]
pub struct SqlHook {
    pub statements: Vec<String>,
}

impl SqlHook {
    pub fn load(c: &Config<'_>, cx: &LoadContext<'_>) -> Result<SqlHook> {
        let inline = c.get("sql");
        let file = c.get("file");
        let statements = match (inline, file) {
            (Some(n), None) => {
                let text = c.dec.string(n, &c.key("sql"))?;
                super::statements_of(&text).ok_or_else(|| {
                    c.error(
                        Some(n),
                        format!(
                            "'{}' does not end outside every string and comment",
                            c.key("sql")
                        ),
                    )
                })?
            }
            (None, Some(n)) => {
                let path = cx.project_root.join(c.dec.string(n, &c.key("file"))?);
                if !path.is_file() {
                    return Err(c.error(
                        Some(n),
                        format!("'{}': no file {}", c.key("file"), path.display()),
                    ));
                }
                load_file(&path, cx.project_root)?
            }
            (Some(_), Some(n)) => {
                return Err(c.error(
                    Some(n),
                    format!("'{}' has both 'sql' and 'file': give one", c.path),
                ))
            }
            (None, None) => return Err(c.missing("'sql' (inline SQL) or 'file' (a SQL file)")),
        };
        Ok(SqlHook { statements })
    }

    pub async fn run(&self, run: &HookRun<'_>) -> Result<HookOutput> {
        db::run_all(run, &self.statements).await
    }
}

/// A hook's SQL file, checked like a migration (it must stand alone).
pub(crate) fn load_file(path: &Path, project_root: &Path) -> Result<Vec<String>> {
    let file = load_one(SourceFile {
        path: path.to_path_buf(),
        relative: relative_path(project_root, path),
        seed: false,
    })?;
    Ok((0..file.statements.len())
        .map(|i| file.statement_text(i).to_string())
        .collect())
}
