//! Which files a build reads, and in which order.
//!
//! Schema files come from `include_dirs`, entry by entry (entries sorted by `order`, then as
//! listed), each entry's files sorted by path under `build.sort_mode`, filtered by its
//! `include`/`exclude` globs (relative to the entry's directory) and by `exclude_dirs`.
//! Seed files come last: those `include_dirs` selected under `db/seeds/`, then
//! `db/seeds/common/`, then `db/seeds/<env>/`. A file selected twice is read once, where it was
//! first selected.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use serde::Serialize;
use walkdir::WalkDir;

use crate::build::sort::compare_paths;
use crate::codes;
use crate::config::environment::{Environment, IncludeDir, SortMode};
use crate::error::{ConfitureError, Location, Result};

/// A file selected for the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// Absolute path as found (symlinks not resolved).
    #[serde(skip)]
    pub path: PathBuf,
    /// Path relative to the project root with `/` separators: what the hash and the output name.
    pub relative: String,
    pub seed: bool,
}

/// The result of discovery: files in build order, and warnings (files selected twice).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub files: Vec<SourceFile>,
    pub warnings: Vec<String>,
}

/// Select the files of `env`'s build. `schema_only` leaves the seeds out.
pub fn discover(env: &Environment, schema_only: bool) -> Result<Selection> {
    let root = env.project_dir.as_path();
    let seeds_root = root.join("db").join("seeds");
    let mode = env.build.sort_mode;
    let mut entries: Vec<(usize, &IncludeDir)> = env.include_dirs.iter().enumerate().collect();
    entries.sort_by_key(|(index, dir)| (dir.order, *index));

    let mut seen = HashSet::new();
    let mut selection = Selection::default();
    let mut seeds_from_entries = Vec::new();
    for (_, entry) in entries {
        if !entry.path.is_dir() {
            if entry.auto_discover {
                continue;
            }
            return Err(missing_dir(entry, root));
        }
        for path in entry_files(entry, root, mode)? {
            if env
                .exclude_dirs
                .iter()
                .any(|excluded| path.starts_with(excluded))
            {
                continue;
            }
            let seed = path.starts_with(&seeds_root);
            let Some(file) = admit(&mut seen, &mut selection.warnings, root, path, seed)? else {
                continue;
            };
            if seed {
                seeds_from_entries.push(file);
            } else {
                selection.files.push(file);
            }
        }
    }
    if !schema_only {
        selection.files.extend(seeds_from_entries);
        for seed_dir in [seeds_root.join("common"), seeds_root.join(&env.name)] {
            if !seed_dir.is_dir() {
                continue;
            }
            let entry = IncludeDir::plain(seed_dir);
            for path in entry_files(&entry, root, mode)? {
                // Seeds already selected through include_dirs are expected: no warning.
                let mut quiet = Vec::new();
                if let Some(file) = admit(&mut seen, &mut quiet, root, path, true)? {
                    selection.files.push(file);
                }
            }
        }
    }
    if selection.files.is_empty() {
        return Err(empty_selection(env));
    }
    Ok(selection)
}

/// Record `path` unless its resolved path was already selected.
fn admit(
    seen: &mut HashSet<PathBuf>,
    warnings: &mut Vec<String>,
    root: &Path,
    path: PathBuf,
    seed: bool,
) -> Result<Option<SourceFile>> {
    let relative = relative_path(root, &path);
    let resolved = std::fs::canonicalize(&path).map_err(|e| {
        ConfitureError::new(
            codes::BUILD_FILE_UNREADABLE,
            format!("cannot resolve {relative}: {e}"),
        )
        .at(Location::file(&path))
    })?;
    if !seen.insert(resolved) {
        warnings.push(format!(
            "{relative} is selected more than once (by overlapping include_dirs entries or patterns); it is built once, at its first place"
        ));
        return Ok(None);
    }
    Ok(Some(SourceFile {
        path,
        relative,
        seed,
    }))
}

/// The files of one entry, sorted.
fn entry_files(entry: &IncludeDir, root: &Path, mode: SortMode) -> Result<Vec<PathBuf>> {
    let include = glob_set(&entry.include, entry)?;
    let exclude = glob_set(&entry.exclude, entry)?;
    let mut walker = WalkDir::new(&entry.path).follow_links(true).min_depth(1);
    if !entry.recursive {
        walker = walker.max_depth(1);
    }
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for item in walker {
        let item = item.map_err(|e| walk_error(e, root))?;
        if !item.file_type().is_file() {
            continue;
        }
        let within = item
            .path()
            .strip_prefix(&entry.path)
            .expect("walkdir yields paths under its root");
        let within = slash_path(within);
        if exclude.is_match(&within) || !include.is_match(&within) {
            continue;
        }
        found.push((within, item.into_path()));
    }
    found.sort_by(|a, b| compare_paths(mode, &a.0, &b.0));
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

fn glob_set(patterns: &[String], entry: &IncludeDir) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                let mut err = ConfitureError::new(
                    codes::CONFIG_INVALID_VALUE,
                    format!("invalid glob pattern '{pattern}': {}", e.kind()),
                );
                if let Some((location, key)) = &entry.origin {
                    err = ConfitureError::new(
                        codes::CONFIG_INVALID_VALUE,
                        format!("{key}: invalid glob pattern '{pattern}': {}", e.kind()),
                    )
                    .at(location.clone());
                }
                err
            })?;
        builder.add(glob);
    }
    // A set of valid globs always builds.
    Ok(builder.build().unwrap_or_else(|_| GlobSet::empty()))
}

fn walk_error(e: walkdir::Error, root: &Path) -> ConfitureError {
    let path = e.path().map(Path::to_path_buf).unwrap_or_default();
    let shown = relative_path(root, &path);
    if let Some(ancestor) = e.loop_ancestor() {
        return ConfitureError::new(
            codes::BUILD_SYMLINK_LOOP,
            format!(
                "symbolic link loop: {shown} leads back to {}",
                relative_path(root, ancestor)
            ),
        )
        .at(Location::file(&path))
        .with_hint("remove the link, or exclude its directory with exclude_dirs");
    }
    let reason = e
        .io_error()
        .map(|io| io.to_string())
        .unwrap_or_else(|| e.to_string());
    ConfitureError::new(
        codes::BUILD_FILE_UNREADABLE,
        format!("cannot read {shown}: {reason}"),
    )
    .at(Location::file(&path))
    .with_hint("check the permissions, or a dangling symbolic link")
}

fn missing_dir(entry: &IncludeDir, root: &Path) -> ConfitureError {
    let shown = relative_path(root, &entry.path);
    let mut err = ConfitureError::new(
        codes::BUILD_INCLUDE_DIR_MISSING,
        format!("include directory {shown} does not exist"),
    )
    .with_hint(
        "create it, fix the path, or set `auto_discover: true` on the entry to skip it when absent",
    );
    if let Some((location, key)) = &entry.origin {
        err = ConfitureError::new(
            codes::BUILD_INCLUDE_DIR_MISSING,
            format!("{key}: include directory {shown} does not exist"),
        )
        .with_hint(err.hint.clone().unwrap_or_default())
        .at(location.clone());
    }
    err
}

fn empty_selection(env: &Environment) -> ConfitureError {
    let dirs: Vec<String> = env
        .include_dirs
        .iter()
        .map(|d| relative_path(&env.project_dir, &d.path))
        .collect();
    ConfitureError::new(
        codes::BUILD_EMPTY,
        format!("no SQL files selected from include_dirs: {}", dirs.join(", ")),
    )
    .at(Location::file(&env.source))
    .with_hint("add .sql files (e.g. db/schema/00_common/extensions.sql) or check the include/exclude patterns")
}

fn slash_path(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// `path` relative to `root` with `/` separators, lexically (`../shared/x.sql` for a path outside
/// the root), so the same tree gives the same names from any working directory.
pub fn relative_path(root: &Path, path: &Path) -> String {
    if let Ok(within) = path.strip_prefix(root) {
        return slash_path(within);
    }
    let root_parts: Vec<Component> = root.components().collect();
    let path_parts: Vec<Component> = path.components().collect();
    let common = root_parts
        .iter()
        .zip(&path_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".to_string(); root_parts.len() - common];
    parts.extend(
        path_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}
