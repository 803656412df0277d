//! Command-line arguments (clap derive). Global options apply to every command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "confiture",
    version,
    about = "PostgreSQL schema governance: build, migrate, lint, sync",
    long_about = "Confiture builds PostgreSQL databases from DDL files, runs migrations, lints schemas \
and syncs anonymized data. Exit codes are a contract: see `confiture exit-codes`."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Disable colors (also: NO_COLOR environment variable)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Project root (default: the nearest directory above the current one with db/environments/)
    #[arg(short = 'C', long, global = true, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
    /// Environment name (db/environments/<ENV>.yaml)
    #[arg(short, long, global = true, value_name = "ENV")]
    pub env: Option<String>,
    /// Environment file to use instead of db/environments/<ENV>.yaml
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "env")]
    pub config: Option<PathBuf>,
    /// Database URL; overrides every other source
    #[arg(long, global = true, value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new Confiture project (db/schema, db/seeds, db/migrations, db/environments)
    Init(InitArgs),
    /// Manage the project's embedded PostgreSQL cluster (.confiture/postgres)
    #[command(subcommand)]
    Db(DbCommand),
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Build the schema from the DDL tree: one SQL file, or a database with --apply
    Build(BuildArgs),
    /// Incremental migrations (db/migrations), tracked in tb_confiture
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Check configuration, binaries, connection, server version, privileges, tracking table
    Doctor,
    /// Read a database (the environment's, or --database-url) into the schema model, as JSON
    Introspect,
    /// Compare two schemas: environments, DSNs or DDL directories (built into a scratch database)
    Diff(DiffArgs),
    /// Compare the environment's database with its schema files; exit 7 when they differ
    Drift(DiffOutputArgs),
    /// Lint the schema (DDL tree or live database) and migrations: lock safety, naming,
    /// structure, multi-tenancy, security, conventions, compliance
    Lint(LintArgs),
    /// Copy a database's data into another, anonymizing personal data in flight
    Sync(SyncArgs),
    /// Anonymization profiles: check one against the source, or try it on sampled rows
    #[command(subcommand)]
    Anonymize(AnonymizeCommand),
    /// Print the exit-code contract
    ExitCodes,
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the project in (default: current directory)
    pub dir: Option<PathBuf>,
    /// Add missing files to an existing project (never overwrites)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create (first time) and start the cluster; idempotent
    Start,
    /// Stop the cluster; says so if it was not running
    Stop,
    /// Show whether the cluster exists and runs
    Status,
    /// Print the connection URL of the environment's database
    Url,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate and print the environment as Confiture reads it (passwords masked)
    Show,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Output file; `-` for stdout. Default: db/generated/schema_<env>.sql.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Leave the seed files (db/seeds/) out.
    #[arg(long)]
    pub schema_only: bool,
    /// Statement order: as the files come (`files`), or by the objects statements define and
    /// use (`dependencies`). Default: the environment's `build.order`.
    #[arg(long, value_enum, value_name = "ORDER")]
    pub order: Option<OrderArg>,
    /// Print the source hash (SHA-256 over each file's relative path and content) and write nothing.
    #[arg(long, conflicts_with_all = ["output", "apply"])]
    pub show_hash: bool,
    /// Put the generation time in the header (the output is then not reproducible).
    #[arg(long)]
    pub timestamp: bool,
    /// Also apply the build to the environment's database, in one transaction (created if missing).
    #[arg(long)]
    pub apply: bool,
    /// With --apply: drop and recreate the database (only for local/test/ci without --force).
    #[arg(long, requires = "apply")]
    pub recreate: bool,
    /// With --recreate: allow it for any environment.
    #[arg(long, requires = "recreate")]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    Files,
    Dependencies,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Apply pending migrations, each in its own transaction with its tracking row
    Up(MigrateUpArgs),
    /// Roll back the newest applied migrations (default: one)
    Down {
        #[arg(long, default_value_t = 1)]
        steps: usize,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        trial: TrialArgs,
    },
    /// Roll back every applied migration newer than VERSION
    DownTo {
        version: String,
        #[command(flatten)]
        lock: LockArgs,
        #[command(flatten)]
        trial: TrialArgs,
    },
    /// Applied, pending, missing, changed and out-of-order migrations
    Status,
    /// The most recently applied migration
    Current,
    /// Record migrations up to VERSION as applied without running them
    Baseline {
        #[arg(long, value_name = "VERSION")]
        through: String,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Create a timestamped NAME.up.sql / NAME.down.sql pair in db/migrations
    Generate {
        name: String,
        /// Fill them from a diff: FROM:TO, each an environment, a DSN or a DDL directory
        /// (the .up.sql goes from FROM to TO, the .down.sql back)
        #[arg(long, value_name = "FROM:TO")]
        from_diff: Option<String>,
    },
    /// Static checks, then the pending migrations replayed in a rolled-back transaction and the
    /// result compared with the schema files; exit 7 when anything is wrong
    Preflight {
        /// Replay on this database (the migrations not applied there); default: every migration
        /// on an empty scratch database on the embedded cluster
        #[arg(long, value_name = "DSN")]
        against: Option<String>,
    },
    /// Compare applied migrations' checksums with their files
    VerifyChecksums {
        /// Record the files' current checksums
        #[arg(long)]
        fix: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Run each applied migration's .verify.sql (must return true)
    Verify,
}

#[derive(Debug, Args)]
pub struct MigrateUpArgs {
    /// Apply pending migrations up to and including this version
    #[arg(long, value_name = "VERSION", conflicts_with = "steps")]
    pub target: Option<String>,
    /// Apply at most N pending migrations
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// When an applied migration's file changed since it was applied
    #[arg(long, value_enum, default_value_t = ChecksumArg::Fail)]
    pub on_checksum_mismatch: ChecksumArg,
    /// Apply pending migrations older than the newest applied one
    #[arg(long)]
    pub allow_out_of_order: bool,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub trial: TrialArgs,
}

/// Trying migrations without keeping anything.
#[derive(Debug, Args)]
pub struct TrialArgs {
    /// Run the migrations and their hooks in a transaction, measure what they do (rows, locks,
    /// rewrites, objects, WAL, time), then roll back. The tracking table is not touched.
    #[arg(long, conflicts_with = "preview")]
    pub dry_run: bool,
    /// With --dry-run: show up to N rows of each written table as they were and as they became
    #[arg(long, value_name = "N", requires = "dry_run")]
    pub show_sample_rows: Option<usize>,
    /// Print the SQL the command would run (migrations, SQL hooks, tracking table), in order,
    /// without running anything
    #[arg(long)]
    pub preview: bool,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// How long to wait for the migration lock held by another run (e.g. 30s, 500ms; a bare
    /// number is milliseconds). Default: migration.locking.timeout_ms.
    #[arg(long, value_name = "DURATION")]
    pub lock_timeout: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecksumArg {
    Fail,
    Warn,
    Ignore,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The schema to start from: an environment name, a DSN or a directory of DDL
    #[arg(long, value_name = "SOURCE")]
    pub from: String,
    /// The schema to reach
    #[arg(long, value_name = "SOURCE")]
    pub to: String,
    #[command(flatten)]
    pub output: DiffOutputArgs,
}

#[derive(Debug, Args)]
pub struct DiffOutputArgs {
    /// Print the SQL that makes FROM into TO (dependency order, destructive statements flagged)
    #[arg(long)]
    pub sql: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Source: an environment name or a DSN. Read in one read-only snapshot, never written.
    #[arg(long, alias = "source", value_name = "ENV|DSN")]
    pub from: String,
    /// Target: an environment name or a DSN. Its copied tables are replaced.
    #[arg(long, alias = "target", value_name = "ENV|DSN")]
    pub to: String,
    /// Anonymization profile: a YAML file, or NAME for db/anonymization/NAME.yaml
    #[arg(long, alias = "anonymization-profile", value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Only these tables (`schema.table` or `table`, globs allowed; comma-separated or repeated)
    #[arg(long, value_delimiter = ',', value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Leave these tables out (same patterns as --tables); the target keeps their rows
    #[arg(long, value_delimiter = ',', value_name = "TABLE")]
    pub exclude: Vec<String>,
    /// Tables copied in parallel
    #[arg(short, long, default_value_t = 2, value_name = "N")]
    pub jobs: usize,
    /// Resume an interrupted sync: tables recorded as complete in the checkpoint are kept
    #[arg(long)]
    pub resume: bool,
    /// Checkpoint file (default: .confiture/sync-checkpoint.json in the project)
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Copy columns that look like personal data but have no rule, instead of stopping
    #[arg(long)]
    pub no_strict: bool,
    /// Read tables larger than this many MiB (with a single integer primary key) by --jobs
    /// readers in parallel, one primary-key range each, still loaded in one transaction. Off by
    /// default: the target's single COPY is the bottleneck, and on two cores the extra readers
    /// only compete with it
    #[arg(long, value_name = "MIB")]
    pub split_above: Option<u64>,
    /// Build the target from the schema files first (drops and recreates the target database)
    #[arg(long)]
    pub build: bool,
    /// With --build: allow recreating a database whose environment is not local, test or ci
    #[arg(long, requires = "build")]
    pub force: bool,
    /// The Python tool's switch: use its rules file (--anonymization-config)
    #[arg(long, conflicts_with = "profile")]
    pub anonymize: bool,
    /// The Python tool's rules file (default: db/sync/anonymization.yaml), with --anonymize
    #[arg(long, value_name = "FILE", requires = "anonymize")]
    pub anonymization_config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AnonymizeCommand {
    /// Check a profile: structure, and tables, columns and types against the source (--env)
    Validate(AnonymizeArgs),
    /// Apply a profile to sampled rows of the source (--env) and check the result
    Verify(AnonymizeVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AnonymizeArgs {
    /// A YAML file, or NAME for db/anonymization/NAME.yaml
    pub profile: String,
}

#[derive(Debug, Args)]
pub struct AnonymizeVerifyArgs {
    /// A YAML file, or NAME for db/anonymization/NAME.yaml
    pub profile: String,
    /// Rows sampled per table
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub sample: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintReportFormat {
    Text,
    Json,
    Sarif,
    Html,
    Csv,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Lint these SQL files only (files under db/migrations as migrations, others as DDL)
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Lint the migration files (db/migrations/*.up.sql)
    #[arg(long)]
    pub migrations: bool,
    /// Lint the environment's database instead of the DDL tree; migration findings then scale
    /// with the sizes of the tables they touch
    #[arg(long)]
    pub live: bool,
    /// Only these rules, categories or compliance bundles (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,
    /// Leave out these rules, categories or bundles (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Report format (default: --format): text, json, sarif (code scanning), html, csv
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub report: Option<LintReportFormat>,
    /// Write the report to this file (the summary still goes to the terminal)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the safe fixes into a new migration (never runs them)
    #[arg(long)]
    pub fix: bool,
    /// Anonymization profile whose columns count as anonymized (compliance bundles)
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// List the rules (with --format json for tools)
    #[arg(long)]
    pub list_rules: bool,
    /// Explain a rule: why it matters and how to fix it
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
}
