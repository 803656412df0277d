//! Which of the environment's hooks (`migration.hooks:` with `when:`) apply to a migration.

use std::path::Path;

use confiture_core::error::Result;
use confiture_core::migrate::hook_decl::{HookDecl, When};
use confiture_sql::names::ObjectName;
use confiture_sql::relations::{relations_defined, relations_named, same_relation};

/// The environment hooks whose `when:` holds for the migration `label` (`<version>_<name>`)
/// run in `direction` (`up`, `down`) with statements `sql`. A hook without `when:` applies to
/// every migration.
pub fn environment_hooks(
    hooks: &[HookDecl],
    label: &str,
    direction: &str,
    sql: &[&str],
) -> Result<Vec<HookDecl>> {
    let mut named: Option<Vec<ObjectName>> = None;
    let mut out = Vec::new();
    for h in hooks {
        let applies = match &h.when {
            None => true,
            Some(when) => matches(when, label, direction, sql, &mut named)?,
        };
        if applies {
            out.push(h.clone());
        }
    }
    Ok(out)
}

fn matches(
    when: &When,
    label: &str,
    direction: &str,
    sql: &[&str],
    named: &mut Option<Vec<ObjectName>>,
) -> Result<bool> {
    if when.direction.as_deref().is_some_and(|d| d != direction) {
        return Ok(false);
    }
    if let Some(glob) = &when.migration {
        let matcher = globset::Glob::new(glob)
            .map(|g| g.compile_matcher())
            .map_err(|e| {
                confiture_core::error::ConfitureError::new(
                    confiture_core::codes::MIGRATE_HOOK_CONFIG,
                    format!("invalid glob '{glob}': {e}"),
                )
            })?;
        if !matcher.is_match(label) {
            return Ok(false);
        }
    }
    if let Some(dir) = &when.touches {
        let named = named.get_or_insert_with(|| {
            sql.iter()
                .flat_map(|s| relations_named(s))
                .collect::<Vec<_>>()
        });
        let defined = defined_under(dir)?;
        if !named
            .iter()
            .any(|n| defined.iter().any(|d| same_relation(n, d)))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Relations defined by the `.sql` files under `dir` (recursively). A missing directory
/// defines nothing.
fn defined_under(dir: &Path) -> Result<Vec<ObjectName>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .flatten()
    {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(path) {
            out.extend(relations_defined(&text));
        }
    }
    Ok(out)
}
