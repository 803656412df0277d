//! Hook declarations, as written in a migration's `.yaml` sidecar (`hooks:`) or in the
//! environment file (`migration.hooks:`, each with a `when:` condition):
//!
//! ```yaml
//! hooks:
//!   after_ddl:
//!     - type: backfill
//!       id: fill_totals            # optional: the name of its result in the context
//!       description: fill the new column
//!       timeout: 5min              # optional
//!       config: { table: orders, batch_size: 10000, sql: "UPDATE orders SET … WHERE {batch}" }
//! ```
//!
//! Only the shape is decoded here; each hook type decodes its own `config` (`confiture-ops::hooks`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::codes;
use crate::config::decode::Decoder;
use crate::error::{Location, Result};
use crate::migrate::sidecar::duration_ms;
use crate::yaml::{Node, Value};

/// When a hook runs, in execution order (`on_error` only after a failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    BeforeValidation,
    BeforeDdl,
    AfterDdl,
    AfterValidation,
    Cleanup,
    OnError,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::BeforeValidation,
        Phase::BeforeDdl,
        Phase::AfterDdl,
        Phase::AfterValidation,
        Phase::Cleanup,
        Phase::OnError,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::BeforeValidation => "before_validation",
            Phase::BeforeDdl => "before_ddl",
            Phase::AfterDdl => "after_ddl",
            Phase::AfterValidation => "after_validation",
            Phase::Cleanup => "cleanup",
            Phase::OnError => "on_error",
        }
    }
}

/// The condition of a hook declared in the environment file: it runs for a migration when every
/// given condition holds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct When {
    /// A glob over `<version>_<name>` (`*_backfill_*`).
    pub migration: Option<String>,
    /// A schema directory (project-relative, e.g. `db/schema/20_billing`): the migration names a
    /// relation defined by a file under it.
    pub touches: Option<PathBuf>,
    /// `up` or `down` (default: both).
    pub direction: Option<String>,
}

/// One declared hook.
#[derive(Debug, Clone, Serialize)]
pub struct HookDecl {
    pub phase: Phase,
    /// The type as written (aliases are resolved by the registry).
    pub kind: String,
    /// The name of its result in the context; unique within a migration.
    pub id: String,
    pub description: Option<String>,
    pub timeout_ms: Option<u64>,
    /// Whether it runs during `--dry-run` (`None`: the type's default).
    pub dry_run: Option<bool>,
    #[serde(skip)]
    pub config: Option<Node>,
    pub when: Option<When>,
    /// Where it is declared (file, line of its `type:` entry).
    pub location: Location,
    /// Dotted path in its file (`hooks.after_ddl[0]`), for messages.
    pub path: String,
}

/// Decode a `phase → [hook…]` mapping. `path` is the mapping's dotted path; `with_when` accepts
/// the `when:` key (environment hooks).
pub fn decode_hooks(
    dec: &Decoder<'_>,
    node: &Node,
    path: &str,
    with_when: bool,
    project_dir: &Path,
) -> Result<Vec<HookDecl>> {
    let mut map = dec.map(node, path)?;
    let mut hooks = Vec::new();
    for phase in Phase::ALL {
        let Some(list) = map.get(phase.name()) else {
            continue;
        };
        let list_path = format!("{path}.{}", phase.name());
        for (i, item) in dec.seq(list, &list_path)?.iter().enumerate() {
            let item_path = format!("{list_path}[{i}]");
            hooks.push(decode_one(
                dec,
                item,
                phase,
                &item_path,
                with_when,
                project_dir,
            )?);
        }
    }
    map.finish(dec)?;
    unique_ids(&mut hooks);
    Ok(hooks)
}

fn decode_one(
    dec: &Decoder<'_>,
    node: &Node,
    phase: Phase,
    path: &str,
    with_when: bool,
    project_dir: &Path,
) -> Result<HookDecl> {
    let mut map = dec.map(node, path)?;
    let kind = match map.get("type") {
        Some(n) => dec.string(n, &format!("{path}.type"))?,
        None => {
            return Err(dec
                .error(
                    codes::CONFIG_MISSING_KEY,
                    node,
                    format!("'{path}' has no 'type'"),
                )
                .with_hint("every hook names its type: sql, capture_statistics, backfill, verify_consistency, test_queries, rebuild_index, analyze, drop_temporary_tables, backup, command, notify"))
        }
    };
    let id = match map.get("id") {
        Some(n) => dec.string(n, &format!("{path}.id"))?,
        None => kind.clone(),
    };
    let description = match map.get("description") {
        Some(n) => Some(dec.string(n, &format!("{path}.description"))?),
        None => None,
    };
    let timeout_ms = match map.get("timeout") {
        Some(n) => Some(duration_ms(dec, n, &format!("{path}.timeout"))?),
        None => None,
    };
    let dry_run = match map.get("dry_run") {
        Some(n) => Some(dec.bool(n, &format!("{path}.dry_run"))?),
        None => None,
    };
    let config = map.get("config").cloned();
    if let Some(c) = &config {
        if !matches!(c.value, Value::Map(_)) {
            return Err(dec.error(
                codes::CONFIG_WRONG_TYPE,
                c,
                format!("'{path}.config' must be a mapping, found {}", c.type_name()),
            ));
        }
    }
    let when = if with_when {
        match map.get("when") {
            Some(n) => Some(decode_when(dec, n, &format!("{path}.when"), project_dir)?),
            None => None,
        }
    } else {
        None
    };
    map.finish(dec)?;
    Ok(HookDecl {
        phase,
        kind,
        id,
        description,
        timeout_ms,
        dry_run,
        config,
        when,
        location: Location::at(dec.file, node.line, node.column),
        path: path.to_string(),
    })
}

fn decode_when(dec: &Decoder<'_>, node: &Node, path: &str, project_dir: &Path) -> Result<When> {
    let mut map = dec.map(node, path)?;
    let mut when = When::default();
    if let Some(n) = map.get("migration") {
        let glob = dec.string(n, &format!("{path}.migration"))?;
        if let Err(e) = globset::Glob::new(&glob) {
            return Err(dec.error(
                codes::CONFIG_INVALID_VALUE,
                n,
                format!("'{path}.migration' is not a valid glob: {e}"),
            ));
        }
        when.migration = Some(glob);
    }
    if let Some(n) = map.get("touches") {
        let dir = dec.string(n, &format!("{path}.touches"))?;
        when.touches = Some(project_dir.join(dir));
    }
    if let Some(n) = map.get("direction") {
        let direction = dec.string(n, &format!("{path}.direction"))?;
        if direction != "up" && direction != "down" {
            return Err(dec.error(
                codes::CONFIG_INVALID_VALUE,
                n,
                format!("'{path}.direction' must be up or down, found '{direction}'"),
            ));
        }
        when.direction = Some(direction);
    }
    map.finish(dec)?;
    Ok(when)
}

/// Give every hook a distinct id: a repeated one becomes `analyze#2`, `analyze#3`, … (skipping
/// ids already taken). Also used when environment hooks join a migration's own.
pub fn unique_ids(hooks: &mut [HookDecl]) {
    let mut seen = std::collections::HashSet::new();
    for h in hooks.iter_mut() {
        let base = h.id.clone();
        let mut n = 1;
        while !seen.insert(h.id.clone()) {
            n += 1;
            h.id = format!("{base}#{n}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    fn decode(text: &str, with_when: bool) -> Result<Vec<HookDecl>> {
        let file = Path::new("/p/db/migrations/001_x.yaml");
        let root = yaml::parse(text, file).unwrap().unwrap();
        let dec = Decoder {
            file,
            lookup: &|_| None,
        };
        decode_hooks(&dec, &root, "hooks", with_when, Path::new("/p"))
    }

    #[test]
    fn phases_in_execution_order_with_ids() {
        let hooks = decode(
            "cleanup:\n  - type: analyze\nbefore_ddl:\n  - type: sql\n    config: {sql: 'SELECT 1'}\n  - type: sql\n    timeout: 2s\n",
            false,
        )
        .unwrap();
        let got: Vec<(Phase, &str, Option<u64>)> = hooks
            .iter()
            .map(|h| (h.phase, h.id.as_str(), h.timeout_ms))
            .collect();
        assert_eq!(
            got,
            vec![
                (Phase::BeforeDdl, "sql", None),
                (Phase::BeforeDdl, "sql#2", Some(2000)),
                (Phase::Cleanup, "analyze", None)
            ]
        );
        assert_eq!(hooks[0].location.line, Some(4));
    }

    #[test]
    fn unknown_phase_missing_type_and_when_are_located() {
        let err = decode("after_dll: []\n", false).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_005");
        assert_eq!(err.hint.as_deref(), Some("did you mean 'after_ddl'?"));
        let err = decode("after_ddl:\n  - description: x\n", false).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_011");
        assert_eq!(err.location.clone().unwrap().line, Some(2));
        let err = decode(
            "after_ddl:\n  - type: analyze\n    when: {migration: '*_x'}\n",
            false,
        )
        .unwrap_err();
        assert_eq!(err.code.id, "CONFIG_005");
        let hooks = decode(
            "after_ddl:\n  - type: analyze\n    when: {migration: '*_x', touches: db/schema/10}\n",
            true,
        )
        .unwrap();
        let when = hooks[0].when.clone().unwrap();
        assert_eq!(when.migration.as_deref(), Some("*_x"));
        assert_eq!(when.touches, Some(PathBuf::from("/p/db/schema/10")));
    }
}
