//! `--order dependencies`: parse every statement with the PostgreSQL grammar, build the graph of
//! the objects they define and use, and order them (see `graph`). Parsing runs on every core.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use confiture_core::build::plan::{OrderMode, Plan, StatementId, Step};
use confiture_core::build::source::LoadedFile;
use confiture_core::codes;
use confiture_core::error::{ConfitureError, Location, Result};
use pg_query::protobuf::node::Node as N;

use crate::facts::{analyze, Facts};
use crate::graph::{Cycle, Graph, Reason, SearchPath};
use crate::rewrite::split_foreign_keys;

/// The plan, and what ordering had to change to get it.
#[derive(Debug, Clone)]
pub struct DependencyOrder {
    pub plan: Plan,
    /// One line per foreign key moved to the end and per seed ordering dropped.
    pub notes: Vec<String>,
}

struct Parsed {
    /// The parse tree, kept only for `CREATE TABLE` statements with foreign keys.
    stmt: Option<N>,
    facts: Facts,
}

pub fn order_by_dependencies(files: &[LoadedFile]) -> Result<DependencyOrder> {
    let ids: Vec<StatementId> = files
        .iter()
        .enumerate()
        .flat_map(|(file, f)| (0..f.statements.len()).map(move |index| StatementId { file, index }))
        .collect();
    let (mut parsed, version) = parse_all(files, &ids)?;
    let facts: Vec<Facts> = parsed
        .iter_mut()
        .map(|p| std::mem::take(&mut p.facts))
        .collect();
    let paths = search_paths(&facts);
    let ordered = Graph::build(&facts, &paths)
        .order()
        .map_err(|c| cycle_error(files, &ids, &c))?;

    let mut notes = Vec::new();
    let mut moved: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(node, fk) in &ordered.deferred_foreign_keys {
        moved.entry(node).or_default().push(fk);
    }
    let mut rewritten = BTreeMap::new();
    let mut added = Vec::new();
    for (&node, fks) in &moved {
        let Some(N::CreateStmt(create)) = &parsed[node].stmt else {
            unreachable!("only CREATE TABLE foreign keys are moved");
        };
        let moved_fks: Vec<_> = fks.iter().map(|&i| &facts[node].foreign_keys[i]).collect();
        let split = split_foreign_keys(create, &moved_fks, version).map_err(|e| {
            at(
                files,
                ids[node],
                codes::INTERNAL,
                format!("cannot rewrite the foreign keys of this table: {e}"),
            )
        })?;
        let targets: Vec<String> = moved_fks.iter().map(|fk| fk.target.to_string()).collect();
        let note = format!(
            "foreign key(s) to {} moved to an ALTER TABLE at the end to break a dependency cycle",
            targets.join(", ")
        );
        notes.push(format!("{}: {note}", where_is(files, ids[node])));
        rewritten.insert(node, (split.create, note.clone()));
        for alter in split.alters {
            added.push((
                node,
                Step::Added {
                    id: ids[node],
                    sql: alter,
                    note: note.clone(),
                },
            ));
        }
    }
    for edge in &ordered.dropped_seed_edges {
        notes.push(format!(
            "{}: seed ordering after {} dropped to break a cycle between seeds; file order kept",
            where_is(files, ids[edge.to]),
            edge.object
        ));
    }
    let mut steps: Vec<(usize, Step)> = ordered
        .order
        .iter()
        .map(|&node| match rewritten.remove(&node) {
            Some((sql, note)) => (
                node,
                Step::Rewritten {
                    id: ids[node],
                    sql,
                    note,
                },
            ),
            None => (node, Step::Original(ids[node])),
        })
        .collect();
    steps.extend(added);
    let steps = with_search_paths(steps, &facts, &paths, &ids);
    Ok(DependencyOrder {
        plan: Plan {
            mode: OrderMode::Dependencies,
            steps,
        },
        notes,
    })
}

/// Parse and analyze every statement, in parallel over the available cores (the grammar keeps
/// its state per thread). Threads take small batches in turn, since statement costs vary a lot
/// (a big `CREATE TABLE` or seed `INSERT` costs ten times a `COMMENT`).
fn parse_all(files: &[LoadedFile], ids: &[StatementId]) -> Result<(Vec<Parsed>, i32)> {
    const BATCH: usize = 16;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done: Vec<(usize, Result<(Parsed, i32)>)> = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            if start >= ids.len() {
                return done;
            }
            for (i, &id) in ids.iter().enumerate().skip(start).take(BATCH) {
                done.push((i, parse_one(files, id)));
            }
        }
    };
    let mut results: Vec<(usize, Result<(Parsed, i32)>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a parser thread panicked"))
            .collect()
    });
    // Statement order, so the first bad statement in the files is the one reported.
    results.sort_unstable_by_key(|(i, _)| *i);
    let mut parsed = Vec::with_capacity(ids.len());
    let mut version = 0;
    for (_, result) in results {
        let (one, v) = result?;
        parsed.push(one);
        version = version.max(v);
    }
    Ok((parsed, version))
}

fn parse_one(files: &[LoadedFile], id: StatementId) -> Result<(Parsed, i32)> {
    let sql = files[id.file].statement_text(id.index);
    let result = pg_query::parse(sql, 0).map_err(|e| {
        let message = match e {
            pg_query::Error::Parse(m) => m,
            other => other.to_string(),
        };
        at(
            files,
            id,
            codes::BUILD_PARSE,
            format!("the PostgreSQL grammar rejects this statement: {message}"),
        )
        .with_hint(
            "fix the statement, or build without --order dependencies to let the server report it",
        )
    })?;
    let version = result.protobuf.version;
    let stmt = result
        .protobuf
        .stmts
        .into_iter()
        .next()
        .and_then(|raw| raw.stmt)
        .and_then(|node| node.node);
    let facts = stmt.as_ref().map(analyze).unwrap_or_default();
    // Only a CREATE TABLE with foreign keys may need its tree again (to move one out); other
    // trees are freed here, in the worker, while memory is hot.
    let stmt = stmt.filter(|_| !facts.foreign_keys.is_empty());
    Ok((Parsed { stmt, facts }, version))
}

fn where_is(files: &[LoadedFile], id: StatementId) -> String {
    let file = &files[id.file];
    format!(
        "{}:{}",
        file.source.relative, file.statements[id.index].line
    )
}

fn at(
    files: &[LoadedFile],
    id: StatementId,
    code: codes::ErrorCode,
    message: String,
) -> ConfitureError {
    let file = &files[id.file];
    let statement = &file.statements[id.index];
    let column = confiture_core::build::scan::column_of(&file.text, statement.start);
    ConfitureError::new(code, message).at(Location::at(&file.source.path, statement.line, column))
}

fn cycle_error(files: &[LoadedFile], ids: &[StatementId], cycle: &Cycle) -> ConfitureError {
    let links: Vec<String> = cycle
        .edges
        .iter()
        .map(|e| {
            let how = match e.reason {
                Reason::ForeignKey(_) => "references (foreign key)",
                Reason::SeedOrder => "writes rows after",
                Reason::Reference => "uses",
            };
            format!(
                "{} {how} {} defined at {}",
                where_is(files, ids[e.to]),
                e.object,
                where_is(files, ids[e.from])
            )
        })
        .collect();
    let first = cycle.edges.first().map_or(ids[0], |e| ids[e.to]);
    at(
        files,
        first,
        codes::BUILD_CYCLE,
        format!("dependency cycle that no foreign key can break:\n  {}", links.join("\n  ")),
    )
    .with_details(serde_json::json!({ "cycle": links }))
    .with_hint("split one of these objects (e.g. create a view or function first with a stub body, then replace it)")
}

/// The `search_path` each statement runs with in file order: the last `SET search_path` before
/// it (files run one after the other in one session, so a setting carries over).
fn search_paths(facts: &[Facts]) -> Vec<SearchPath> {
    let mut current: SearchPath = None;
    facts
        .iter()
        .map(|f| {
            if let Some(new) = &f.sets_search_path {
                current = new.clone().map(Arc::new);
            }
            current.clone()
        })
        .collect()
}

/// Reordering moves statements away from the `SET search_path` before them: drop those
/// statements and set, before each statement, the path it had in file order when it differs
/// from the session's.
fn with_search_paths(
    steps: Vec<(usize, Step)>,
    facts: &[Facts],
    paths: &[SearchPath],
    ids: &[StatementId],
) -> Vec<Step> {
    if facts.iter().all(|f| f.sets_search_path.is_none()) {
        return steps.into_iter().map(|(_, s)| s).collect();
    }
    let mut session: SearchPath = None;
    let mut out = Vec::with_capacity(steps.len());
    for (node, step) in steps {
        if facts[node].sets_search_path.is_some() && matches!(step, Step::Original(_)) {
            continue;
        }
        if paths[node] != session {
            session = paths[node].clone();
            out.push(Step::Inserted {
                id: ids[node],
                sql: set_search_path(&session),
                note: "the search_path the files set for the next statement".into(),
            });
        }
        out.push(step);
    }
    out
}

fn set_search_path(path: &SearchPath) -> String {
    match path {
        None => "RESET search_path;".into(),
        Some(schemas) if schemas.is_empty() => "SET search_path = '';".into(),
        Some(schemas) => {
            let quoted: Vec<String> = schemas.iter().map(|s| quote_ident(s)).collect();
            format!("SET search_path = {};", quoted.join(", "))
        }
    }
}

fn quote_ident(ident: &str) -> String {
    let plain = !ident.is_empty()
        && ident
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_lowercase() || b == b'_' || (i > 0 && b.is_ascii_digit()));
    if plain {
        ident.to_string()
    } else {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }
}
