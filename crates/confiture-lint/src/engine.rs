//! Running the rules: which ones (configuration, `--select`, `--ignore`, compliance bundles),
//! over which inputs, then the configuration's severities and exemptions and the inline
//! suppressions.

use std::path::Path;

use confiture_core::codes;
use confiture_core::config::linting::LintingConfig;
use confiture_core::error::{ConfitureError, Result};
use globset::{Glob, GlobMatcher};

use crate::finding::Finding;
use crate::inputs::{MigrationInput, SchemaInput};
use crate::registry;
use crate::rule::{Category, Check, Context, Rule};
use crate::suppress::Suppressions;
use crate::Severity;

/// `--select` and `--ignore`: rule ids, categories (`naming`, `migration`, …) or compliance
/// bundles (`gdpr`, …).
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

fn names(word: &str, rule: &Rule) -> bool {
    word == rule.id || word == rule.category.as_str() || Some(word) == rule.bundle
}

fn known(word: &str) -> bool {
    registry::find(word).is_some()
        || Category::ALL.iter().any(|c| c.as_str() == word)
        || confiture_core::config::linting::COMPLIANCE_BUNDLES.contains(&word)
}

/// Unknown rule ids in the configuration, `--select`/`--ignore` and suppression comments are
/// errors with a suggestion: a misspelt id would silently do nothing.
pub fn check_names(
    config: &LintingConfig,
    selection: &Selection,
    suppressions: &Suppressions,
) -> Result<()> {
    let hint = |id: &str| match registry::suggest(id) {
        Some(s) => format!("did you mean '{s}'? (`confiture lint --list-rules` lists them)"),
        None => "`confiture lint --list-rules` lists the rules".to_string(),
    };
    let custom = |id: &str| config.custom_rules.iter().any(|c| c.name == id);
    for (id, s) in &config.rules {
        if registry::find(id).is_none() && !custom(id) {
            return Err(ConfitureError::new(
                codes::CONFIG_INVALID_VALUE,
                format!("'linting.rules': unknown rule '{id}'"),
            )
            .at(s.location.clone())
            .with_hint(hint(id)));
        }
    }
    for (flag, list) in [
        ("--select", &selection.select),
        ("--ignore", &selection.ignore),
    ] {
        if let Some(w) = list.iter().find(|w| !known(w) && !custom(w)) {
            return Err(ConfitureError::new(
                codes::INPUT_INVALID_ARGUMENT,
                format!("{flag}: unknown rule, category or bundle '{w}'"),
            )
            .with_hint(hint(w)));
        }
    }
    for (file, s) in suppressions.all() {
        if let Some(id) = s
            .rules
            .iter()
            .find(|r| *r != "all" && registry::find(r).is_none() && !custom(r))
        {
            return Err(ConfitureError::new(
                codes::CONFIG_INVALID_VALUE,
                format!("lint-ignore comment: unknown rule '{id}'"),
            )
            .at(confiture_core::error::Location::at(file, s.line, 1))
            .with_hint(hint(id)));
        }
    }
    Ok(())
}

/// The rules that run.
pub fn selected(config: &LintingConfig, selection: &Selection) -> Vec<&'static Rule> {
    registry::all()
        .iter()
        .copied()
        .filter(|r| !config.rules.get(r.id).is_some_and(|s| s.off))
        .filter(|r| {
            // A custom rule's name selects the engine rule that runs the custom rules.
            let custom_named = r.id == "custom-rules"
                && selection
                    .select
                    .iter()
                    .any(|w| config.custom_rules.iter().any(|c| c.name == *w));
            let explicitly = custom_named || selection.select.iter().any(|w| names(w, r));
            let by_default = selection.select.is_empty()
                && r.bundle
                    .is_none_or(|b| config.compliance.iter().any(|(n, _)| n == b));
            explicitly || by_default
        })
        .filter(|r| !selection.ignore.iter().any(|w| names(w, r)))
        .collect()
}

/// The raw findings of the schema rules among `rules` (before [`finish`]).
pub fn check_schema(rules: &[&Rule], schema: &SchemaInput, ctx: &Context, out: &mut Vec<Finding>) {
    for rule in rules {
        if let Check::Schema(check) = rule.check {
            check(schema, ctx, out);
        }
    }
}

/// The raw findings of the migration rules among `rules` on one migration (before
/// [`finish`]). Migrations are independent: a caller may lint them on several threads and drop
/// each one's parse trees as soon as it is checked.
pub fn check_migration(
    rules: &[&Rule],
    migration: &MigrationInput,
    ctx: &Context,
    out: &mut Vec<Finding>,
) {
    for rule in rules {
        if let Check::Migration(check) = rule.check {
            check(migration, ctx, out);
        }
    }
}

/// Raw findings settled: configured severities and `off`, exemptions, `--ignore`, inline
/// suppressions; sorted by file, line and rule.
pub fn finish(
    findings: Vec<Finding>,
    config: &LintingConfig,
    selection: &Selection,
    suppressions: &Suppressions,
) -> Vec<Finding> {
    let exemptions: Vec<(String, Vec<GlobMatcher>)> = config
        .rules
        .iter()
        .map(|(id, s)| {
            (
                id.clone(),
                s.exempt
                    .iter()
                    .filter_map(|g| Glob::new(g).ok().map(|g| g.compile_matcher()))
                    .collect(),
            )
        })
        .collect();
    // Custom rules selected by name: only those of their findings.
    let custom_names: Vec<&str> = config
        .custom_rules
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let picked_custom: Vec<&String> = selection
        .select
        .iter()
        .filter(|w| custom_names.contains(&w.as_str()))
        .collect();
    let whole_custom = selection
        .select
        .iter()
        .any(|w| w == "custom-rules" || w == "convention");
    let mut out: Vec<Finding> = findings
        .into_iter()
        .filter(|f| {
            !custom_names.contains(&f.rule.as_str())
                || picked_custom.is_empty()
                || whole_custom
                || picked_custom.contains(&&f.rule)
        })
        .filter(|f| !selection.ignore.contains(&f.rule))
        .filter(|f| !config.rules.get(&f.rule).is_some_and(|s| s.off))
        .filter(|f| {
            let Some((_, globs)) = exemptions.iter().find(|(id, _)| *id == f.rule) else {
                return true;
            };
            !globs.iter().any(|g| exempted(g, f))
        })
        .filter(|f| !suppressions.covers(f))
        .map(|mut f| {
            if let Some(sev) = config.rules.get(&f.rule).and_then(|s| s.severity) {
                f.severity = sev;
            }
            f
        })
        .collect();
    // Paths compared as bytes: `Path`'s component-wise order costs more than the rules.
    fn file(f: &Finding) -> Option<&std::ffi::OsStr> {
        f.file.as_deref().map(Path::as_os_str)
    }
    out.sort_by(|a, b| {
        (file(a), a.line, &a.rule, &a.object).cmp(&(file(b), b.line, &b.rule, &b.object))
    });
    out.dedup();
    out
}

/// An exemption glob matches the object (`schema.table.column`), its table (`schema.table`),
/// the bare table name, or the file.
fn exempted(g: &GlobMatcher, f: &Finding) -> bool {
    if let Some(o) = &f.object {
        let parts: Vec<&str> = o.splitn(3, '.').collect();
        if g.is_match(o)
            || (parts.len() >= 2 && g.is_match(format!("{}.{}", parts[0], parts[1])))
            || (parts.len() >= 2 && g.is_match(parts[1]))
        {
            return true;
        }
    }
    f.file.as_ref().is_some_and(|p| g.is_match(p))
}

/// Whether the findings fail the run.
pub fn fails(findings: &[Finding], threshold: Severity) -> bool {
    findings.iter().any(|f| f.severity >= threshold)
}
