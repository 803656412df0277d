//! What a rule is: an id, a category, a default severity, an explanation, and a check over one
//! kind of input.

use std::collections::BTreeSet;

use confiture_core::config::linting::LintingConfig;
use serde::Serialize;

use crate::finding::Finding;
use crate::inputs::{MigrationInput, SchemaInput, Stats};
use crate::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Naming,
    Structure,
    MultiTenancy,
    Security,
    Convention,
    Migration,
    Compliance,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Naming,
        Category::Structure,
        Category::MultiTenancy,
        Category::Security,
        Category::Convention,
        Category::Migration,
        Category::Compliance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Naming => "naming",
            Category::Structure => "structure",
            Category::MultiTenancy => "multi-tenancy",
            Category::Security => "security",
            Category::Convention => "convention",
            Category::Migration => "migration",
            Category::Compliance => "compliance",
        }
    }
}

/// What every check sees besides its input.
pub struct Context<'a> {
    pub config: &'a LintingConfig,
    /// The environment linted (`production` makes UNLOGGED tables findings, …).
    pub environment: &'a str,
    /// Table sizes from a live database (size-aware migration rules), when one was given.
    pub stats: Option<&'a Stats>,
    /// Columns (`schema.table.column`) covered by an anonymization profile, when one was given
    /// (compliance bundles).
    pub anonymized: Option<&'a BTreeSet<String>>,
}

pub enum Check {
    Schema(fn(&SchemaInput, &Context, &mut Vec<Finding>)),
    Migration(fn(&MigrationInput, &Context, &mut Vec<Finding>)),
}

pub struct Rule {
    /// Stable, kebab-case: `require-primary-key`.
    pub id: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// `confiture lint --explain`: why it matters and how to fix it (a few short paragraphs).
    pub explanation: &'static str,
    /// A compliance bundle (`gdpr`, `hipaa`, `pci-dss`, `sox`): the rule runs only when its
    /// bundle is enabled in `linting.compliance` (or the rule is selected by id).
    pub bundle: Option<&'static str>,
    pub check: Check,
}

impl Rule {
    pub fn input(&self) -> &'static str {
        match self.check {
            Check::Schema(_) => "schema",
            Check::Migration(_) => "migration",
        }
    }
}
