//! The migration context that hooks read: which migration, which database, whether this is a
//! dry-run, and every earlier hook's result by id. `command` hooks receive it as JSON on stdin,
//! `notify` posts it, `verify_consistency` compares against the statistics captured in it.

use serde::Serialize;
use serde_json::{json, Map, Value};

use confiture_core::migrate::hook_decl::Phase;

/// One hook's result, as recorded in the context and the run report.
#[derive(Debug, Clone, Serialize)]
pub struct HookResult {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub phase: Phase,
    pub duration_ms: f64,
    /// `ok`, `failed`, `skipped (dry-run)`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub values: Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What a migration's hooks share.
#[derive(Debug, Clone)]
pub struct Context {
    value: Value,
}

pub struct MigrationInfo<'a> {
    pub version: &'a str,
    pub name: &'a str,
    pub direction: &'a str,
    pub file: &'a str,
    pub database: &'a str,
    pub environment: &'a str,
    pub dry_run: bool,
}

impl Context {
    pub fn new(m: &MigrationInfo<'_>) -> Context {
        Context {
            value: json!({
                "migration": {
                    "version": m.version,
                    "name": m.name,
                    "direction": m.direction,
                    "file": m.file,
                },
                "database": m.database,
                "environment": m.environment,
                "dry_run": m.dry_run,
                "phase": Value::Null,
                "hook": Value::Null,
                "results": Map::new(),
            }),
        }
    }

    /// The context as a hook in `phase` sees it.
    pub fn for_hook(&mut self, phase: Phase, id: &str, kind: &str) -> &Value {
        self.value["phase"] = json!(phase.name());
        self.value["hook"] = json!({ "id": id, "type": kind });
        &self.value
    }

    pub fn record(&mut self, result: &HookResult) {
        if let Some(results) = self.value["results"].as_object_mut() {
            results.insert(
                result.id.clone(),
                serde_json::to_value(result).unwrap_or(Value::Null),
            );
        }
    }

    /// What `on_error` hooks see: the failure.
    pub fn set_error(&mut self, phase: Option<Phase>, hook: Option<&str>, message: &str) {
        self.value["error"] = json!({
            "phase": phase.map(Phase::name),
            "hook": hook,
            "message": message,
        });
    }

    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// A value captured by an earlier hook: `results.<id>.values.<path…>`.
pub fn captured<'v>(context: &'v Value, id: &str, path: &[&str]) -> Option<&'v Value> {
    let mut v = context.get("results")?.get(id)?.get("values")?;
    for p in path {
        v = v.get(*p)?;
    }
    Some(v)
}
