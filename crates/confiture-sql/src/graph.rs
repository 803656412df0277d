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

fn key(o: &ObjectName) -> Key {
    (
        o.kind,
        o.schema.clone().unwrap_or_else(|| "public".into()),
        o.name.clone(),
    )
}

impl Index {
    fn build(facts: &[Facts]) -> Index {
        let mut index = Index::default();
        for (i, f) in facts.iter().enumerate() {
            for o in &f.defines {
                index.definers.entry(key(o)).or_default().push(i);
                index
                    .definers_by_name
                    .entry((o.kind, o.name.clone()))
                    .or_default()
                    .push(i);
                let schema = o.schema.clone().unwrap_or_else(|| "public".into());
                index
                    .definers_by_schema
                    .entry((o.kind, schema))
                    .or_default()
                    .push(i);
            }
            for o in &f.modifies {
                index.modifiers.entry(key(o)).or_default().push(i);
                index
                    .modifiers_by_name
                    .entry((o.kind, o.name.clone()))
                    .or_default()
                    .push(i);
            }
        }
        index
    }

    /// Statements that define `o`. An unqualified name is looked up in `public`, then in every
    /// schema (the search path is not known statically).
    fn definers(&self, o: &ObjectName) -> &[usize] {
        lookup(&self.definers, &self.definers_by_name, o)
    }

    fn modifiers(&self, o: &ObjectName) -> &[usize] {
        lookup(&self.modifiers, &self.modifiers_by_name, o)
    }
}

fn lookup<'a>(
    exact: &'a HashMap<Key, Vec<usize>>,
    by_name: &'a HashMap<(Kind, String), Vec<usize>>,
    o: &ObjectName,
) -> &'a [usize] {
    if let Some(found) = exact.get(&key(o)) {
        return found;
    }
    if o.schema.is_none() {
        if let Some(found) = by_name.get(&(o.kind, o.name.clone())) {
            return found;
        }
    }
    &[]
}

pub struct Graph {
    edges: Vec<Edge>,
    incoming: Vec<Vec<usize>>,
    outgoing: Vec<Vec<usize>>,
}

impl Graph {
    pub fn build(facts: &[Facts]) -> Graph {
        let index = Index::build(facts);
        let mut graph = Graph {
            edges: Vec::new(),
            incoming: vec![Vec::new(); facts.len()],
            outgoing: vec![Vec::new(); facts.len()],
        };
        for (to, f) in facts.iter().enumerate() {
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
                    } else {
                        earlier_if_any(index.definers(&object), to)
                    };
                    for from in definers {
                        graph.add(from, to, &req.object, reason);
                    }
                    // Changes made before this statement in file order stay before it.
                    for &from in index.modifiers(&object) {
                        if from < to {
                            graph.add(from, to, &req.object, Reason::Reference);
                        }
                    }
                }
            }
        }
        graph.add_seed_order(facts, &index);
        graph
    }

    /// Rows of a referencing table are written after the rows of the tables it references.
    fn add_seed_order(&mut self, facts: &[Facts], index: &Index) {
        let mut references: HashMap<Key, Vec<ObjectName>> = HashMap::new();
        for f in facts {
            for (table, target) in &f.references {
                references
                    .entry(key(table))
                    .or_default()
                    .push(target.clone());
            }
        }
        for (to, f) in facts.iter().enumerate() {
            let Some(table) = &f.writes_rows_of else {
                continue;
            };
            let Some(targets) = references.get(&key(table)) else {
                continue;
            };
            for target in targets {
                if key(target) == key(table) {
                    continue;
                }
                let data = target.with_kind(Kind::Data);
                for &from in index.modifiers(&data) {
                    self.add(from, to, &data, Reason::SeedOrder);
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
