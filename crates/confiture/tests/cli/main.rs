//! Integration tests of the `confiture` binary against a real PostgreSQL (confiture-testkit).

mod common;

mod build;
mod build_scan;
mod cli_basics;
mod config_errors;
mod db_cluster;
mod doctor;
mod dry_run;
mod hooks;
mod lint;
mod migrate;
mod redaction;
mod schema;
mod sync;
mod tls;
