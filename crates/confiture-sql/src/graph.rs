//! The dependency graph of a build and its order.
//!
//! Nodes are statements, numbered in file order. An edge `a → b` means `b` uses something `a`
//! defines (or changes earlier in file order). The order is the topological order that always
//! takes the ready statement that comes first in the files, so the files' order is kept
//! wherever the graph allows. When no statement is ready, the graph has a cycle: a foreign key
//! of a `CREATE TABLE` in it is moved out (to an `ALTER TABLE … ADD CONSTRAINT` at the end), an
//! ordering between seeds is dropped, or else the cycle is reported.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use crate::facts::{Facts, Via};
use crate::names::{Kind, ObjectName};

#[derive(Debug, Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub object: ObjectName,
    pub reason: Reason,
    active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Reference,
    /// The `i`-th foreign key of the `to` statement's `CREATE TABLE`.
    ForeignKey(usize),
    /// Seeds of a referencing table after seeds of the referenced one.
    SeedOrder,
}

/// The outcome: statement indices in order, foreign keys moved out, seed orderings dropped.
#[derive(Debug, Clone, Default)]
pub struct Ordered {
    pub order: Vec<usize>,
    /// `(statement, foreign key index)`.
    pub deferred_foreign_keys: Vec<(usize, usize)>,
    pub dropped_seed_edges: Vec<Edge>,
}

/// A cycle no rule can break: the statements and the objects that link them, in cycle order.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub edges: Vec<Edge>,
}

type Key = (Kind, String, String);

/// Where each object is defined and changed.
#[derive(Default)]
struct Index {
    definers: HashMap<Key, Vec<usize>>,
    definers_by_name: HashMap<(Kind, String), Vec<usize>>,
    definers_by_schema: HashMap<(Kind, String), Vec<usize>>,
    modifiers: HashMap<Key, Vec<usize>>,
    modifiers_by_name: HashMap<(Kind, String), Vec<usize>>,
}

/// The effective `search_path` of a statement (`None`: the default, `"$user", public`).
pub type SearchPath = Option<Arc<Vec<String>>>;

/// The schemas an unqualified name is looked up in, in order.
fn schemas(path: &SearchPath) -> Vec<&str> {
    let mut list: Vec<&str> = match path {
        Some(p) => p
            .iter()
            .map(String::as_str)
            .filter(|s| *s != "$user")
            .collect(),
        None => Vec::new(),
    };
    if path.is_none() || list.is_empty() {
        list.push("public");
    }
    list
}

/// Where an object a statement defines lands: its schema, or the first of the search path.
fn key(o: &ObjectName, path: &SearchPath) -> Key {
    let schema = match &o.schema {
        Some(s) => s.clone(),
        None => schemas(path)[0].to_string(),
    };
    (o.kind, schema, o.name.clone())
}

impl Index {
    fn build(facts: &[Facts], paths: &[SearchPath]) -> Index {
        let mut index = Index::default();
        for (i, f) in facts.iter().enumerate() {
            for o in &f.defines {
                let k = key(o, &paths[i]);
                index
                    .definers_by_schema
                    .entry((o.kind, k.1.clone()))
                    .or_default()
                    .push(i);
                index.definers.entry(k).or_default().push(i);
                index
                    .definers_by_name
                    .entry((o.kind, o.name.clone()))
                    .or_default()
                    .push(i);
            }
            for o in &f.modifies {
                index
                    .modifiers
                    .entry(key(o, &paths[i]))
                    .or_default()
                    .push(i);
                index
                    .modifiers_by_name
                    .entry((o.kind, o.name.clone()))
                    .or_default()
                    .push(i);
            }
        }
        index
    }

    /// Statements that define `o`, used by a statement with search path `path`: a qualified
    /// name in its schema; an unqualified one in each schema of the path, then in any schema.
    fn definers(&self, o: &ObjectName, path: &SearchPath) -> &[usize] {
        lookup(&self.definers, &self.definers_by_name, o, path)
    }

    fn modifiers(&self, o: &ObjectName, path: &SearchPath) -> &[usize] {
        lookup(&self.modifiers, &self.modifiers_by_name, o, path)
    }
}

fn lookup<'a>(
    exact: &'a HashMap<Key, Vec<usize>>,
    by_name: &'a HashMap<(Kind, String), Vec<usize>>,
    o: &ObjectName,
    path: &SearchPath,
) -> &'a [usize] {
    if o.schema.is_some() {
        return exact.get(&key(o, path)).map_or(&[], Vec::as_slice);
    }
    for schema in schemas(path) {
        if let Some(found) = exact.get(&(o.kind, schema.to_string(), o.name.clone())) {
            return found;
        }
    }
    by_name
        .get(&(o.kind, o.name.clone()))
        .map_or(&[], Vec::as_slice)
}

pub struct Graph {
    edges: Vec<Edge>,
    incoming: Vec<Vec<usize>>,
    outgoing: Vec<Vec<usize>>,
}

impl Graph {
    pub fn build(facts: &[Facts], paths: &[SearchPath]) -> Graph {
        let index = Index::build(facts, paths);
        let mut graph = Graph {
            edges: Vec::new(),
            incoming: vec![Vec::new(); facts.len()],
            outgoing: vec![Vec::new(); facts.len()],
        };
        graph.add_redefinitions(&index);
        graph.add_barriers(facts);
        for (to, f) in facts.iter().enumerate() {
            let path = &paths[to];
            for req in &f.requires {
                let reason = match req.via {
                    Via::ForeignKey(i) => Reason::ForeignKey(i),
                    _ => Reason::Reference,
                };
                let kinds: &[Kind] = match req.object.kind {
                    Kind::Type => &[Kind::Type, Kind::Relation],
                    _ => std::slice::from_ref(&req.object.kind),
                };
                for &kind in kinds {
                    let object = req.object.with_kind(kind);
                    let definers: Vec<usize> = if req.via == Via::AllInSchema {
                        let schema = object.schema.clone().unwrap_or_default();
                        index
                            .definers_by_schema
                            .get(&(kind, schema))
                            .cloned()
                            .unwrap_or_default()
                    } else if kind == Kind::Keys {
                        // Every unique key of the table, wherever it is declared.
                        index.definers(&object, path).to_vec()
                    } else {
                        earlier_if_any(index.definers(&object, path), to)
                    };
                    let first_definer = definers.iter().min().copied();
                    for from in definers {
                        graph.add(from, to, &req.object, reason);
                    }
                    // Changes made before this statement in file order stay before it — those
                    // written after the object's definition (an ALTER filed before its CREATE
                    // is a misplacement ordering should repair, not a constraint).
                    for &from in index.modifiers(&object, path) {
                        if from < to && first_definer.is_none_or(|d| from > d) {
                            graph.add(from, to, &req.object, Reason::Reference);
                        }
                    }
                }
            }
        }
        graph.add_seed_order(facts, &index, paths);
        graph
    }

    /// Rows of a referencing table are written after the rows of the tables it references.
    fn add_seed_order(&mut self, facts: &[Facts], index: &Index, paths: &[SearchPath]) {
        let mut references: HashMap<Key, Vec<(ObjectName, usize)>> = HashMap::new();
        for (i, f) in facts.iter().enumerate() {
            for (table, target) in &f.references {
                references
                    .entry(key(table, &paths[i]))
                    .or_default()
                    .push((target.clone(), i));
            }
        }
        for (to, f) in facts.iter().enumerate() {
            let Some(table) = &f.writes_rows_of else {
                continue;
            };
            let Some(targets) = references.get(&key(table, &paths[to])) else {
                continue;
            };
            for (target, declared_at) in targets {
                if key(target, &paths[*declared_at]) == key(table, &paths[to]) {
                    continue;
                }
                let data = target.with_kind(Kind::Data);
                for &from in index.modifiers(&data, &paths[*declared_at]) {
                    self.add(from, to, &data, Reason::SeedOrder);
                }
            }
        }
    }

    /// A later `CREATE OR REPLACE` of an object stays after the earlier one.
    fn add_redefinitions(&mut self, index: &Index) {
        let mut chains: Vec<(&Key, &Vec<usize>)> = index
            .definers
            .iter()
            .filter(|(k, d)| k.0 != Kind::Keys && d.len() > 1)
            .collect();
        chains.sort();
        for ((kind, schema, name), definers) in chains {
            let object = ObjectName::new(*kind, Some(schema), name);
            for pair in definers.windows(2) {
                self.add(pair[0], pair[1], &object, Reason::Reference);
            }
        }
    }

    /// Nothing moves across a statement whose effects cannot be seen (a `DO` block).
    fn add_barriers(&mut self, facts: &[Facts]) {
        let barrier = ObjectName::new(Kind::Data, None, "(DO block)");
        for (b, f) in facts.iter().enumerate() {
            if !f.barrier {
                continue;
            }
            for other in 0..facts.len() {
                match other.cmp(&b) {
                    std::cmp::Ordering::Less => self.add(other, b, &barrier, Reason::Reference),
                    std::cmp::Ordering::Greater => self.add(b, other, &barrier, Reason::Reference),
                    std::cmp::Ordering::Equal => {}
                }
            }
        }
    }

    fn add(&mut self, from: usize, to: usize, object: &ObjectName, reason: Reason) {
        if from == to {
            return;
        }
        let id = self.edges.len();
        self.edges.push(Edge {
            from,
            to,
            object: object.clone(),
            reason,
            active: true,
        });
        self.incoming[to].push(id);
        self.outgoing[from].push(id);
    }

    /// The order: Kahn's algorithm taking the smallest ready index first.
    pub fn order(mut self) -> Result<Ordered, Cycle> {
        let n = self.incoming.len();
        let mut pending: Vec<usize> = (0..n).map(|i| self.incoming[i].len()).collect();
        let mut done = vec![false; n];
        let mut ready: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&i| pending[i] == 0).map(Reverse).collect();
        let mut out = Ordered::default();
        while out.order.len() < n {
            let Some(Reverse(next)) = ready.pop() else {
                self.break_cycle(&done, &mut pending, &mut ready, &mut out)?;
                continue;
            };
            done[next] = true;
            out.order.push(next);
            for &e in &self.outgoing[next] {
                let edge = &self.edges[e];
                if edge.active {
                    pending[edge.to] -= 1;
                    if pending[edge.to] == 0 {
                        ready.push(Reverse(edge.to));
                    }
                }
            }
        }
        Ok(out)
    }

    fn break_cycle(
        &mut self,
        done: &[bool],
        pending: &mut [usize],
        ready: &mut BinaryHeap<Reverse<usize>>,
        out: &mut Ordered,
    ) -> Result<(), Cycle> {
        let cycle = self.find_cycle(done);
        // Prefer moving the foreign key of the table that comes first in the files.
        let fk = cycle
            .iter()
            .copied()
            .filter(|&e| matches!(self.edges[e].reason, Reason::ForeignKey(_)))
            .min_by_key(|&e| self.edges[e].to);
        if let Some(e) = fk {
            let (to, reason) = (self.edges[e].to, self.edges[e].reason);
            let Reason::ForeignKey(fk_index) = reason else {
                unreachable!()
            };
            for &id in &self.incoming[to] {
                let edge = &mut self.edges[id];
                if edge.active && edge.reason == reason {
                    edge.active = false;
                    if !done[edge.from] {
                        pending[to] -= 1;
                    }
                }
            }
            out.deferred_foreign_keys.push((to, fk_index));
            if pending[to] == 0 {
                ready.push(Reverse(to));
            }
            return Ok(());
        }
        if let Some(&e) = cycle
            .iter()
            .find(|&&e| self.edges[e].reason == Reason::SeedOrder)
        {
            let edge = &mut self.edges[e];
            edge.active = false;
            pending[edge.to] -= 1;
            if pending[edge.to] == 0 {
                ready.push(Reverse(edge.to));
            }
            out.dropped_seed_edges.push(edge.clone());
            return Ok(());
        }
        Err(Cycle {
            edges: cycle.iter().map(|&e| self.edges[e].clone()).collect(),
        })
    }

    /// A cycle among the statements not yet ordered, as edge ids in dependency order. Every
    /// pending statement has an active edge from another pending one, so walking backwards
    /// from any of them must revisit a statement.
    fn find_cycle(&self, done: &[bool]) -> Vec<usize> {
        let start = (0..done.len())
            .find(|&i| !done[i])
            .expect("a stalled order has pending statements");
        let mut position: HashMap<usize, usize> = HashMap::new();
        let mut path = vec![start];
        let mut via: Vec<usize> = Vec::new();
        position.insert(start, 0);
        let mut current = start;
        loop {
            let e = *self.incoming[current]
                .iter()
                .find(|&&e| self.edges[e].active && !done[self.edges[e].from])
                .expect("a pending statement has a pending predecessor");
            let from = self.edges[e].from;
            via.push(e);
            if let Some(&at) = position.get(&from) {
                // path[at] … path[last] ← from: the edges via[at..] form the cycle.
                let mut cycle: Vec<usize> = via[at..].to_vec();
                cycle.reverse();
                return cycle;
            }
            position.insert(from, path.len());
            path.push(from);
            current = from;
        }
    }
}

/// Definers before `to` in file order when there are any (a later `CREATE OR REPLACE` does not
/// pull its users after it), else all of them.
fn earlier_if_any(definers: &[usize], to: usize) -> Vec<usize> {
    let earlier: Vec<usize> = definers.iter().copied().filter(|&d| d < to).collect();
    if earlier.is_empty() {
        definers.to_vec()
    } else {
        earlier
    }
}
