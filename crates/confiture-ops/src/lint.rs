//! `confiture lint`: gather the inputs (the DDL tree built statically, or a live database's
//! model and table sizes; migration files), run `confiture-lint`, return its report.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use confiture_core::anonymize::profile::Profile;
use confiture_core::anonymize::Strategy;
use confiture_core::build::discover::{discover, relative_path};
use confiture_core::build::source::unterminated_error;
use confiture_core::codes;
use confiture_core::config::{Environment, Project, TargetArgs};
use confiture_core::error::{ConfitureError, Location, Result};
use confiture_core::migrate::{files as migration_files, sidecar};
use confiture_lint::engine::{self, Selection};
use confiture_lint::inputs::{
    grammar_error, parse_migration, tree_unused, Locations, MigrationInput, Stats, TableSize,
};
use confiture_lint::report::{Counts, LintReport};
use confiture_lint::static_model::{self, SourceText};
use confiture_lint::suppress::Suppressions;
use confiture_lint::{Context, Finding, Rule, SchemaInput};
use confiture_sql::autocommit::{classify, TxNeed};

use crate::migrate::migrations_dir;
use crate::schema::introspect::{read_client, without_tracking_table};
use crate::target::connect_target;

/// What to lint.
pub struct LintRequest<'a> {
    pub project: &'a Project,
    pub environment: &'a Environment,
    /// Lint these files only: files under `db/migrations` (or all, with `migrations`) as
    /// migrations, the others as DDL.
    pub files: Vec<PathBuf>,
    /// Lint the migration files (`db/migrations/*.up.sql`).
    pub migrations: bool,
    /// Lint the environment's live database (its model; table sizes for migration rules).
    pub live: Option<TargetArgs>,
    pub selection: Selection,
    /// Columns covered by this profile count as anonymized (compliance bundles).
    pub profile: Option<&'a Profile>,
}

/// The report and the findings' safe fixes.
pub struct Linted {
    pub report: LintReport,
    pub notices: Vec<String>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfitureError::new(
            codes::BUILD_FILE_UNREADABLE,
            format!("cannot read {}: {e}", path.display()),
        )
        .at(Location::file(path))
    })
}

pub async fn lint(req: LintRequest<'_>) -> Result<Linted> {
    let started = Instant::now();
    let root = &req.project.root;
    let config = &req.environment.linting;
    let mut inputs = Vec::new();
    let mut notices = Vec::new();
    let mut suppressions = Suppressions::default();

    // Migration files, and DDL files, to read.
    let mig_dir = migrations_dir(root);
    let mut migration_paths: Vec<PathBuf> = Vec::new();
    let mut ddl: Vec<SourceText> = Vec::new();
    if req.files.is_empty() {
        if req.migrations {
            migration_paths = migration_files::discover(&mig_dir)?
                .into_iter()
                .map(|m| m.up)
                .collect();
        }
        if req.live.is_none() && !req.migrations {
            let selection = discover(req.environment, true)?;
            for f in selection.files {
                ddl.push(SourceText {
                    text: read(&f.path)?,
                    path: PathBuf::from(f.relative),
                });
            }
            inputs.push(format!(
                "{} ({} files)",
                schema_dirs(req.environment, root),
                ddl.len()
            ));
        }
    } else {
        for f in &req.files {
            let path = if f.is_absolute() {
                f.clone()
            } else {
                root.join(f)
            };
            let as_migration = req.migrations || path.starts_with(&mig_dir);
            if as_migration {
                migration_paths.push(path);
            } else {
                ddl.push(SourceText {
                    text: read(&path)?,
                    path: PathBuf::from(relative_path(root, &path)),
                });
            }
        }
        if !ddl.is_empty() {
            inputs.push(format!("{} DDL file(s)", ddl.len()));
        }
    }
    for d in &ddl {
        suppressions.scan(&d.path, &d.text);
    }

    // The schema model: live, or built from the DDL files.
    let mut stats = None;
    let (model, locations, live) = if let Some(args) = &req.live {
        let conn = connect_target(req.project, args, true).await?;
        notices.extend(conn.notices.iter().cloned());
        let client = conn.conn.connect().await?;
        let tracking = req.environment.migration.tracking_table.clone();
        let (schema, tables) = tokio::try_join!(read_client(&client, &conn.conn), async {
            confiture_pg::tables::read_tables(&client)
                .await
                .map_err(|e| conn.conn.classify(&e))
        })?;
        let mut schema = schema;
        without_tracking_table(&mut schema, &tracking);
        stats = Some(Stats {
            tables: tables
                .iter()
                .map(|t| {
                    (
                        t.qualified(),
                        TableSize {
                            rows: t.estimated_rows.max(0),
                            bytes: t.bytes,
                        },
                    )
                })
                .collect(),
        });
        inputs.push(format!("database {}", conn.conn.display()));
        (Some(schema), Locations::default(), true)
    } else if !ddl.is_empty() {
        let (schema, locations, unreadable) = static_model::build(&ddl);
        for u in unreadable {
            notices.push(format!(
                "{}:{}: skipped: {}",
                u.file.display(),
                u.line,
                u.message
            ));
        }
        (Some(schema), locations, false)
    } else {
        (None, Locations::default(), false)
    };

    let files: Vec<MigrationFile> = migration_paths
        .iter()
        .map(|path| MigrationFile {
            path,
            relative: PathBuf::from(relative_path(root, path)),
        })
        .collect();
    if !files.is_empty() {
        inputs.push(format!("{} migration(s)", files.len()));
    }

    let anonymized = req.profile.map(covered_columns);
    let ctx = Context {
        config,
        environment: &req.environment.name,
        stats: stats.as_ref(),
        anonymized: anonymized.as_ref(),
    };
    let rules = engine::selected(config, &req.selection);
    let mut raw = Vec::new();
    if let Some(m) = model.as_ref() {
        let schema_input = SchemaInput {
            model: m,
            locations: &locations,
            live,
        };
        engine::check_schema(&rules, &schema_input, &ctx, &mut raw);
    }
    for checked in lint_migrations(&files, &rules, &ctx) {
        let checked = checked?;
        raw.extend(checked.findings);
        notices.extend(checked.unreadable);
        suppressions.extend(checked.suppressions);
    }
    // Rule ids in the configuration, the selection and every suppression comment.
    engine::check_names(config, &req.selection, &suppressions)?;
    let rules_run = rules.len();
    let findings = engine::finish(raw, config, &req.selection, &suppressions);
    let failed = engine::fails(&findings, config.fail_on_severity);
    Ok(Linted {
        report: LintReport {
            inputs,
            rules_run,
            fail_on_severity: config.fail_on_severity,
            failed,
            counts: Counts::of(&findings),
            findings,
            duration_ms: started.elapsed().as_millis() as u64,
        },
        notices,
    })
}

/// A migration file to lint.
struct MigrationFile<'a> {
    path: &'a Path,
    /// Relative to the project root, as findings name it.
    relative: PathBuf,
}

/// Each migration checked, in file order. Files are read, split, parsed and checked on up to
/// as many threads as there are cores (reading and parsing are most of a migration lint's
/// time), and each file's parse trees are dropped once it is checked, so memory stays that of
/// a few files.
fn lint_migrations(
    files: &[MigrationFile],
    rules: &[&Rule],
    ctx: &Context,
) -> Vec<Result<Checked>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len())
        .max(1);
    if threads == 1 {
        return files
            .iter()
            .map(|f| lint_migration(f, rules, ctx))
            .collect();
    }
    // Files interleaved across threads, so that long and short files share the work.
    let parts: Vec<Vec<(usize, Result<Checked>)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|k| {
                scope.spawn(move || {
                    files
                        .iter()
                        .enumerate()
                        .skip(k)
                        .step_by(threads)
                        .map(|(i, f)| (i, lint_migration(f, rules, ctx)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a migration lint thread panicked"))
            .collect()
    });
    let mut all: Vec<_> = parts.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// One migration, checked.
struct Checked {
    /// Raw findings (settled with the others by `engine::finish`).
    findings: Vec<Finding>,
    /// A notice for each statement the grammar rejects (no rule can read it; `migrate up`
    /// would stop there).
    unreadable: Vec<String>,
    /// Its `lint-ignore` comments.
    suppressions: Suppressions,
}

/// One migration: read, split, parsed, its transaction mode read, checked.
fn lint_migration(f: &MigrationFile, rules: &[&Rule], ctx: &Context) -> Result<Checked> {
    let text = read(f.path)?;
    let mut suppressions = Suppressions::default();
    suppressions.scan(&f.relative, &text);
    let statements = parse_migration(&text).map_err(|u| unterminated_error(f.path, &u))?;
    let migration = MigrationInput {
        file: &f.relative,
        statements: &statements,
        transactional: transactional(f.path, &statements)?,
    };
    let mut found = Vec::new();
    engine::check_migration(rules, &migration, ctx, &mut found);
    let unreadable = statements
        .iter()
        .filter(|st| st.node.is_none() && !tree_unused(&st.sql))
        .filter_map(|st| {
            grammar_error(&st.sql)
                .map(|message| format!("{}:{}: skipped: {message}", f.relative.display(), st.line))
        })
        .collect();
    Ok(Checked {
        findings: found,
        unreadable,
        suppressions,
    })
}

fn schema_dirs(env: &Environment, root: &Path) -> String {
    let dirs: Vec<String> = env
        .include_dirs
        .iter()
        .map(|d| relative_path(root, &d.path))
        .collect();
    if dirs.is_empty() {
        "db/schema".into()
    } else {
        dirs.join(", ")
    }
}

/// Whether `confiture migrate` would run this migration in one transaction: not with
/// `transactional: false` in its sidecar, nor when it is a single statement PostgreSQL refuses
/// in a transaction (run in autocommit automatically).
fn transactional(up: &Path, statements: &[confiture_lint::Statement]) -> Result<bool> {
    let name = up.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let stem = name.strip_suffix(".up.sql").unwrap_or(name);
    for ext in ["yaml", "yml"] {
        let side = up.with_file_name(format!("{stem}.{ext}"));
        if side.is_file() {
            let var = |k: &str| std::env::var(k).ok();
            if sidecar::load(&side, &var)?.transactional == Some(false) {
                return Ok(false);
            }
        }
    }
    if let [only] = statements {
        if matches!(classify(&only.sql), TxNeed::Autocommit { .. }) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `schema.table.column` of every column a profile anonymizes (`none` rules do not count;
/// skipped tables count for all their columns, written `schema.table.*`).
fn covered_columns(p: &Profile) -> BTreeSet<String> {
    fn keeps(s: &Strategy) -> bool {
        match s {
            Strategy::Preserve => true,
            Strategy::Keyed(k) => keeps(&k.strategy),
            _ => false,
        }
    }
    let mut out = BTreeSet::new();
    for t in &p.tables {
        if t.skip {
            out.insert(format!("{}.{}.*", t.schema, t.table));
        }
        for c in &t.columns {
            if !keeps(&c.strategy) {
                out.insert(format!("{}.{}.{}", t.schema, t.table, c.column));
            }
        }
    }
    out
}

/// The safe fixes of `findings`, as the body of a migration (`--fix`), or `None` when there are
/// none. Statements that PostgreSQL refuses in a transaction (`CREATE INDEX CONCURRENTLY`) come
/// back apart: they need a migration of their own.
pub fn fixes(findings: &[Finding]) -> (Vec<String>, Vec<String>) {
    let mut seen = BTreeSet::new();
    let (mut transactional, mut autocommit) = (Vec::new(), Vec::new());
    for f in findings {
        let Some(sql) = &f.fix_sql else { continue };
        if !seen.insert(sql.clone()) {
            continue;
        }
        let line = format!("-- {} ({})\n{}", f.message, f.rule, sql.trim_end());
        if matches!(classify(sql), TxNeed::Autocommit { .. }) {
            autocommit.push(line);
        } else {
            transactional.push(line);
        }
    }
    (transactional, autocommit)
}

/// The statement that undoes a safe fix, for the `.down.sql` of `--fix` (a comment when there is
/// no exact undo).
pub fn undo(fix: &str) -> String {
    let sql = fix.trim().trim_end_matches(';');
    let upper = sql.to_ascii_uppercase();
    if upper.starts_with("CREATE INDEX CONCURRENTLY IF NOT EXISTS ") {
        let rest = &sql["CREATE INDEX CONCURRENTLY IF NOT EXISTS ".len()..];
        let name = rest.split_whitespace().next().unwrap_or_default();
        // The index lives in its table's schema.
        let schema = rest
            .split_once(" ON ")
            .and_then(|(_, t)| t.split_whitespace().next())
            .and_then(|t| t.rsplit_once('.'))
            .map(|(s, _)| format!("{s}."))
            .unwrap_or_default();
        return format!("DROP INDEX CONCURRENTLY IF EXISTS {schema}{name};");
    }
    if upper.starts_with("ALTER FUNCTION ") {
        if let Some(at) = upper.find(" SET SEARCH_PATH") {
            return format!("{} RESET search_path;", &sql[..at]);
        }
    }
    if upper.starts_with("COMMENT ON ") {
        if let Some(at) = upper.rfind(" IS ") {
            return format!("{} IS NULL;", &sql[..at]);
        }
    }
    if upper.starts_with("ALTER TABLE ") && upper.ends_with(" ENABLE ROW LEVEL SECURITY") {
        return format!(
            "{} DISABLE ROW LEVEL SECURITY;",
            &sql[..sql.len() - " ENABLE ROW LEVEL SECURITY".len()]
        );
    }
    format!("-- no automatic undo for: {sql};")
}

#[cfg(test)]
mod tests {
    use super::undo;

    #[test]
    fn undo_of_each_fix_kind() {
        assert_eq!(
            undo("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_idx ON app.orders (user_id);"),
            "DROP INDEX CONCURRENTLY IF EXISTS app.orders_user_id_idx;"
        );
        assert_eq!(
            undo("ALTER FUNCTION app.f(integer) SET search_path = pg_catalog, pg_temp;"),
            "ALTER FUNCTION app.f(integer) RESET search_path;"
        );
        assert_eq!(
            undo("COMMENT ON TABLE app.t IS 'TODO: describe';"),
            "COMMENT ON TABLE app.t IS NULL;"
        );
        assert_eq!(
            undo("ALTER TABLE app.t ENABLE ROW LEVEL SECURITY;"),
            "ALTER TABLE app.t DISABLE ROW LEVEL SECURITY;"
        );
        assert!(undo("REVOKE ALL ON app.t FROM PUBLIC;").starts_with("-- no automatic undo"));
    }
}
