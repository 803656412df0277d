//! `confiture diff --from A --to B [--sql]`.

use confiture_core::schema::diff::{diff_with, Change, DiffOptions, Risk};
use serde::Serialize;

use super::Loaded;

#[derive(Debug, Serialize)]
pub struct DiffReport {
    pub from: Loaded,
    pub to: Loaded,
    pub identical: bool,
    /// Changes per risk tier.
    pub summary: Summary,
    pub changes: Vec<Change>,
    /// The migration from `from` to `to`, in dependency order.
    pub sql: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub additive: usize,
    pub reversible: usize,
    pub lock_risky: usize,
    pub destructive: usize,
    pub irreversible: usize,
    pub max_risk: Option<Risk>,
}

pub fn report(from: Loaded, to: Loaded) -> DiffReport {
    report_with(from, to, DiffOptions { owners: true })
}

/// [`report`] of schema files against a database: owners left out (files do not say them).
pub fn report_files(from: Loaded, to: Loaded) -> DiffReport {
    report_with(from, to, DiffOptions { owners: false })
}

fn report_with(from: Loaded, to: Loaded, options: DiffOptions) -> DiffReport {
    let d = diff_with(&from.schema, &to.schema, options);
    let mut summary = Summary::default();
    for c in &d.changes {
        match c.risk {
            Risk::Additive => summary.additive += 1,
            Risk::Reversible => summary.reversible += 1,
            Risk::LockRisky => summary.lock_risky += 1,
            Risk::Destructive => summary.destructive += 1,
            Risk::Irreversible => summary.irreversible += 1,
        }
    }
    summary.max_risk = d.max_risk();
    DiffReport {
        identical: d.is_empty(),
        sql: d.script(),
        summary,
        changes: d.changes,
        from,
        to,
    }
}
