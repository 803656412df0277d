//! What a sync will copy: the tables chosen by `--tables`/`--exclude` and the profile, checked
//! against the target, grouped into load units in foreign-key order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use confiture_core::anonymize::profile::{ColumnRule, Profile};
use confiture_core::anonymize::Strategy;
use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_pg::copy::encode::BinaryType;
use confiture_pg::copy::Format;
use confiture_pg::tables::TableInfo;
use globset::{Glob, GlobMatcher};

/// One table to copy, with the rules of its anonymized columns.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub info: TableInfo,
    /// `skip_table` in the profile: emptied in the target, nothing copied.
    pub skip: bool,
    /// Rules by copied-column position (only columns with a rule that changes data).
    pub rules: Vec<(usize, ColumnRule)>,
    /// Columns the rules read besides their own (conditional strategies).
    pub context: Vec<String>,
    pub format: Format,
    /// A single-column integer primary key: a large table is read in ranges of it, in parallel.
    pub split_column: Option<String>,
}

impl TablePlan {
    pub fn qualified(&self) -> String {
        self.info.qualified()
    }

    /// Whether any rule is evaluated by the target (`sql_expression`).
    pub fn has_sql_expressions(&self) -> bool {
        self.rules
            .iter()
            .any(|(_, r)| r.strategy.sql_expression().is_some())
    }
}

/// Tables loaded together in one transaction: one table, or a cycle of foreign keys.
#[derive(Debug, Clone)]
pub struct Unit {
    pub tables: Vec<usize>,
    /// Units that must be complete before this one starts.
    pub after: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub tables: Vec<Arc<TablePlan>>,
    pub units: Vec<Unit>,
}

/// `--tables` / `--exclude` patterns: `schema.table` globs, or a bare table name (any schema).
pub struct Selection {
    include: Vec<(String, GlobMatcher)>,
    exclude: Vec<(String, GlobMatcher)>,
}

impl Selection {
    pub fn new(tables: &[String], exclude: &[String]) -> Result<Selection> {
        Ok(Selection {
            include: globs(tables, "--tables")?,
            exclude: globs(exclude, "--exclude")?,
        })
    }

    fn matches(g: &GlobMatcher, t: &TableInfo) -> bool {
        g.is_match(t.qualified()) || g.is_match(&t.name)
    }

    pub fn wants(&self, t: &TableInfo) -> bool {
        (self.include.is_empty() || self.include.iter().any(|(_, g)| Self::matches(g, t)))
            && !self.exclude.iter().any(|(_, g)| Self::matches(g, t))
    }

    /// An include pattern that matches no table: almost certainly a typo.
    pub fn unmatched(&self, tables: &[TableInfo]) -> Option<String> {
        self.include
            .iter()
            .find(|(_, g)| !tables.iter().any(|t| Self::matches(g, t)))
            .map(|(p, _)| p.clone())
    }
}

fn globs(patterns: &[String], flag: &str) -> Result<Vec<(String, GlobMatcher)>> {
    patterns
        .iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            Glob::new(p)
                .map(|g| (p.to_string(), g.compile_matcher()))
                .map_err(|e| {
                    ConfitureError::new(
                        codes::INPUT_INVALID_ARGUMENT,
                        format!("{flag}: bad pattern '{p}': {e}"),
                    )
                })
        })
        .collect()
}

/// Build the plan. `source` and `target` are both databases' tables; `tracking` the migration
/// tracking table (`schema.table`), which stays the target's own.
pub fn plan(
    source: &[TableInfo],
    target: &[TableInfo],
    selection: &Selection,
    profile: Option<&Profile>,
    tracking: &str,
) -> Result<Plan> {
    let by_name: HashMap<String, &TableInfo> = target.iter().map(|t| (t.qualified(), t)).collect();
    let mut tables = Vec::new();
    let mut mismatches = Vec::new();
    for t in source {
        if t.qualified() == tracking || !selection.wants(t) {
            continue;
        }
        let rule = profile.and_then(|p| p.table(&t.schema, &t.name));
        let skip = rule.is_some_and(|r| r.skip);
        match by_name.get(&t.qualified()) {
            None => mismatches.push(format!("table {} is missing", t.qualified())),
            Some(tt) if !skip => {
                for c in t.copied_columns() {
                    match tt.column(&c.name) {
                        None => mismatches.push(format!(
                            "column {}.{} is missing",
                            t.qualified(),
                            c.name
                        )),
                        Some(tc) if tc.type_name != c.type_name => mismatches.push(format!(
                            "column {}.{} is {} in the target, {} in the source",
                            t.qualified(),
                            c.name,
                            tc.type_name,
                            c.type_name
                        )),
                        Some(tc) if tc.generated => mismatches.push(format!(
                            "column {}.{} is generated in the target only",
                            t.qualified(),
                            c.name
                        )),
                        _ => {}
                    }
                }
            }
            Some(_) => {}
        }
        let mut rules = Vec::new();
        let mut context = BTreeSet::new();
        if let Some(r) = rule.filter(|r| !r.skip) {
            for c in &r.columns {
                let Some(pos) = t.copied_columns().position(|x| x.name == c.column) else {
                    return Err(ConfitureError::new(
                        codes::ANON_PROFILE_MISMATCH,
                        format!(
                            "the profile has a rule for column {}.{}, which the source lacks \
                             (or which is generated)",
                            t.qualified(),
                            c.column
                        ),
                    )
                    .at(confiture_core::error::Location::at(
                        &profile.expect("a rule comes from a profile").file,
                        c.line,
                        1,
                    )));
                };
                for col in c.context_columns() {
                    if t.column(&col).is_none() {
                        return Err(ConfitureError::new(
                            codes::ANON_PROFILE_MISMATCH,
                            format!(
                                "the rule for {}.{} reads row.{col}, which the table lacks",
                                t.qualified(),
                                c.column
                            ),
                        ));
                    }
                    context.insert(col);
                }
                if !keeps_values(&c.strategy) {
                    rules.push((pos, c.clone()));
                }
            }
        }
        let copied: Vec<_> = t.copied_columns().collect();
        let binary = rules
            .iter()
            .filter(|(_, r)| r.strategy.sql_expression().is_none())
            .all(|(pos, _)| BinaryType::of(&copied[*pos].wire_type).is_some());
        tables.push(Arc::new(TablePlan {
            info: t.clone(),
            skip,
            rules,
            context: context.into_iter().collect(),
            format: if binary { Format::Binary } else { Format::Text },
            split_column: match t.primary_key.as_slice() {
                [pk] if t.column(pk).is_some_and(|c| {
                    matches!(c.wire_type.as_str(), "smallint" | "integer" | "bigint")
                }) =>
                {
                    Some(pk.clone())
                }
                _ => None,
            },
        }));
    }
    if !mismatches.is_empty() {
        return Err(ConfitureError::new(
            codes::SYNC_TARGET_MISMATCH,
            format!(
                "the target does not match the source: {}",
                mismatches.join("; ")
            ),
        )
        .with_hint("bring the target to the source's schema first (`confiture build --apply` or `confiture migrate up` on it), or leave those tables out with --exclude"));
    }
    check_outside_references(&tables, target)?;
    let units = units(&tables);
    Ok(Plan { tables, units })
}

/// `preserve` (possibly under a key of its own): the column travels untouched.
fn keeps_values(s: &Strategy) -> bool {
    match s {
        Strategy::Preserve => true,
        Strategy::Keyed(k) => keeps_values(&k.strategy),
        _ => false,
    }
}

/// A target table left out of the sync that references a replaced table would block its
/// TRUNCATE (and keep pointing at rows that are about to change).
fn check_outside_references(tables: &[Arc<TablePlan>], target: &[TableInfo]) -> Result<()> {
    let chosen: BTreeSet<String> = tables.iter().map(|t| t.qualified()).collect();
    let mut blocked = Vec::new();
    for t in target {
        if chosen.contains(&t.qualified()) {
            continue;
        }
        for (s, n) in &t.references {
            let referenced = format!("{s}.{n}");
            if chosen.contains(&referenced) {
                blocked.push(format!("{} references {referenced}", t.qualified()));
            }
        }
    }
    if blocked.is_empty() {
        return Ok(());
    }
    Err(ConfitureError::new(
        codes::SYNC_UNSAFE_PLAN,
        format!(
            "tables left out of the sync reference tables it replaces: {}",
            blocked.join("; ")
        ),
    )
    .with_hint("include the referencing tables too (or skip_table them in the profile), or exclude the referenced ones"))
}

/// Group tables into units (strongly connected components of the foreign-key graph, Tarjan's
/// algorithm) and record which units each one waits for.
fn units(tables: &[Arc<TablePlan>]) -> Vec<Unit> {
    let index: HashMap<String, usize> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.qualified(), i))
        .collect();
    let edges: Vec<Vec<usize>> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.info
                .references
                .iter()
                .filter_map(|(s, n)| index.get(&format!("{s}.{n}")).copied())
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    let components = tarjan(&edges);
    let mut unit_of = vec![0; tables.len()];
    for (u, comp) in components.iter().enumerate() {
        for &t in comp {
            unit_of[t] = u;
        }
    }
    components
        .iter()
        .enumerate()
        .map(|(u, comp)| {
            let after: BTreeMap<usize, ()> = comp
                .iter()
                .flat_map(|&t| edges[t].iter().map(|&j| unit_of[j]))
                .filter(|&v| v != u)
                .map(|v| (v, ()))
                .collect();
            let mut tables = comp.clone();
            tables.sort_unstable();
            Unit {
                tables,
                after: after.into_keys().collect(),
            }
        })
        .collect()
}

/// Strongly connected components, each listed once (iterative, so deep chains cannot overflow
/// the stack).
fn tarjan(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next child to look at)
        let mut work = vec![(root, 0usize)];
        while let Some(&(v, child)) = work.last() {
            if index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = edges[v].get(child) {
                work.last_mut().expect("not empty").1 += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if low[v] == index[v] {
                let mut comp = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(comp);
            }
            if let Some(&(u, _)) = work.last() {
                low[u] = low[u].min(low[v]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tarjan;

    fn sorted(mut c: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
        for x in &mut c {
            x.sort_unstable();
        }
        c.sort();
        c
    }

    #[test]
    fn components_of_a_chain_a_cycle_and_a_loner() {
        // 0 -> 1 -> 2 -> 1 (cycle 1,2), 3 alone, 4 -> 0
        let edges = vec![vec![1], vec![2], vec![1], vec![], vec![0]];
        assert_eq!(
            sorted(tarjan(&edges)),
            vec![vec![0], vec![1, 2], vec![3], vec![4]]
        );
    }

    #[test]
    fn a_deep_chain_does_not_overflow() {
        let n = 100_000;
        let edges: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        assert_eq!(tarjan(&edges).len(), n);
    }
}
