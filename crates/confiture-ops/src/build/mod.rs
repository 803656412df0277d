//! `confiture build`: select the files, check and split them, order the statements, render and
//! write the output, and (with `--apply`) run it into a database (`apply`).

pub mod apply;

use std::path::{Path, PathBuf};
use std::time::Instant;

use confiture_core::build::discover::{discover, relative_path};
use confiture_core::build::hash::source_hash;
use confiture_core::build::plan::{OrderMode, Plan};
use confiture_core::build::render::{render, Header};
use confiture_core::build::source::{load, LoadedFile};
use confiture_core::codes;
use confiture_core::config::environment::BuildOrder;
use confiture_core::config::Environment;
use confiture_core::error::{ConfitureError, Location, Result};
use confiture_core::migrate::generate::civil_from_days;
use serde::Serialize;

/// Where the rendered SQL goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTarget {
    /// `db/generated/schema_<env>.sql` under the project.
    Default,
    File(PathBuf),
    Stdout,
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub schema_only: bool,
    /// `None`: the environment's `build.order`.
    pub order: Option<OrderMode>,
    pub output: OutputTarget,
    /// Put the generation time in the header (breaks byte-for-byte reproducibility).
    pub timestamp: bool,
}

/// A build made in memory: the files, the plan, the rendered SQL and what it took.
pub struct Built {
    pub files: Vec<LoadedFile>,
    pub plan: Plan,
    pub sql: String,
    pub report: BuildReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub environment: String,
    pub order: OrderMode,
    pub schema_only: bool,
    pub hash: String,
    pub file_count: usize,
    pub bytes: usize,
    pub statements: usize,
    /// The rendered output's size.
    pub output_bytes: usize,
    /// Where the output was written (`-` for stdout).
    pub output: Option<String>,
    pub files: Vec<FileReport>,
    /// What dependency ordering changed (foreign keys moved, seed orderings dropped).
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    pub timings_ms: Timings,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<apply::ApplyReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub bytes: usize,
    pub statements: usize,
    pub seed: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub discover: f64,
    pub read_and_validate: f64,
    pub order: f64,
    pub render: f64,
    pub write: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<f64>,
    pub total: f64,
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// Discover, read, check, order and render. Nothing is written.
pub fn build(env: &Environment, options: &BuildOptions) -> Result<Built> {
    let total = Instant::now();
    let mut timings = Timings::default();

    let started = Instant::now();
    let selection = discover(env, options.schema_only)?;
    timings.discover = ms(started);

    let started = Instant::now();
    let files = load(selection.files)?;
    timings.read_and_validate = ms(started);

    let started = Instant::now();
    let mode = options.order.unwrap_or(match env.build.order {
        BuildOrder::Files => OrderMode::Files,
        BuildOrder::Dependencies => OrderMode::Dependencies,
    });
    let (plan, notes) = match mode {
        OrderMode::Files => (
            Plan::in_file_order(files.iter().map(|f| f.statements.len())),
            Vec::new(),
        ),
        OrderMode::Dependencies => {
            let ordered = confiture_sql::order_by_dependencies(&files)?;
            (ordered.plan, ordered.notes)
        }
    };
    timings.order = ms(started);

    let started = Instant::now();
    let hash = source_hash(&files);
    let sql = render(
        &files,
        &plan,
        &Header {
            environment: &env.name,
            source_hash: &hash,
            generated_at: options.timestamp.then(now_utc),
        },
    );
    timings.render = ms(started);
    timings.total = ms(total);

    let report = BuildReport {
        environment: env.name.clone(),
        order: mode,
        schema_only: options.schema_only,
        hash,
        file_count: files.len(),
        bytes: files.iter().map(|f| f.text.len()).sum(),
        statements: files.iter().map(|f| f.statements.len()).sum(),
        output_bytes: sql.len(),
        output: None,
        files: files
            .iter()
            .map(|f| FileReport {
                path: f.source.relative.clone(),
                bytes: f.text.len(),
                statements: f.statements.len(),
                seed: f.source.seed,
            })
            .collect(),
        notes,
        warnings: selection
            .warnings
            .into_iter()
            .chain(meta_command_warnings(&files))
            .collect(),
        timings_ms: timings,
        apply: None,
    };
    Ok(Built {
        files,
        plan,
        sql,
        report,
    })
}

/// psql meta-commands (`\set`, `\i`, `\restrict` …) stay in the output for psql, but the
/// statement runner of --apply does not run them.
fn meta_command_warnings(files: &[LoadedFile]) -> Vec<String> {
    files
        .iter()
        .flat_map(|f| {
            f.meta_commands.iter().map(move |m| {
                format!(
                    "{}:{}: psql meta-command `{}` is kept in the output but not run by --apply",
                    f.source.relative, m.line, m.text
                )
            })
        })
        .collect()
}

/// The default output path: `db/generated/schema_<env>.sql`.
pub fn default_output(env: &Environment) -> PathBuf {
    env.project_dir
        .join("db")
        .join("generated")
        .join(format!("schema_{}.sql", env.name))
}

/// Write the output to `path` atomically (a temporary file renamed over it), so a failure never
/// leaves a half-written schema behind.
pub fn write_output(env: &Environment, built: &mut Built, path: &Path) -> Result<()> {
    let started = Instant::now();
    let shown = relative_path(&env.project_dir, path);
    let io_error = |what: &str, e: std::io::Error| {
        ConfitureError::new(codes::IO_FAILED, format!("cannot {what} {shown}: {e}"))
            .at(Location::file(path))
            .with_hint("check that the directory is writable, or choose another path with -o")
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io_error("create the directory of", e))?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "schema.sql".into());
    let temp = path.with_file_name(format!(".{file_name}.confiture-tmp"));
    std::fs::write(&temp, built.sql.as_bytes()).map_err(|e| io_error("write", e))?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        io_error("write", e)
    })?;
    built.report.timings_ms.write = ms(started);
    built.report.timings_ms.total += built.report.timings_ms.write;
    built.report.output = Some(shown);
    Ok(())
}

/// UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
