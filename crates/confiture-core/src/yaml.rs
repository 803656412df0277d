//! A YAML document as a tree of nodes that remember their line and column, so that every
//! configuration error can point at the exact place in the file. Built on `yaml-rust2`'s event
//! parser (a maintained YAML 1.2 parser that reports positions); duplicate keys are rejected here
//! because a silently-overridden key is a classic configuration bug.

use std::path::Path;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::codes;
use crate::error::{ConfitureError, Location, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Node {
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The key text when this node is used as a mapping key.
    pub fn key_text(&self) -> String {
        match &self.value {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::Seq(_) | Value::Map(_) => "<complex key>".into(),
        }
    }
}

/// Parse `text` (already known to be UTF-8) from `file` into a node tree.
/// Returns `Ok(None)` for a document that holds nothing (empty, or only comments).
pub fn parse(text: &str, file: &Path) -> Result<Option<Node>> {
    let mut builder = TreeBuilder {
        file,
        stack: Vec::new(),
        anchors: Vec::new(),
        root: None,
        error: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        let m = e.marker();
        let (line, col) = (m.line().max(1), m.col() + 1);
        return Err(ConfitureError::new(
            codes::CONFIG_YAML_SYNTAX,
            format!("invalid YAML: {}", e.info()),
        )
        .with_hint(
            "fix the YAML syntax at the position shown (indentation, quotes, a ':' after each key)",
        )
        .at(Location::at(file, line, col)));
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root)
}

enum Frame {
    Seq {
        items: Vec<Node>,
        mark: Marker,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        mark: Marker,
        anchor: usize,
    },
}

struct TreeBuilder<'a> {
    file: &'a Path,
    stack: Vec<Frame>,
    anchors: Vec<(usize, Node)>,
    root: Option<Node>,
    error: Option<ConfitureError>,
    documents: usize,
}

fn position(mark: Marker) -> (usize, usize) {
    (mark.line().max(1), mark.col() + 1)
}

impl TreeBuilder<'_> {
    fn fail(&mut self, err: ConfitureError) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => {
                    let key_text = key.key_text();
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.key_text() == key_text)
                    {
                        let first_line = first.line;
                        let err = ConfitureError::new(
                            codes::CONFIG_DUPLICATE_KEY,
                            format!(
                                "duplicate key '{key_text}' (first defined on line {first_line})"
                            ),
                        )
                        .with_hint(
                            "remove one of the two entries: YAML would silently keep only the last",
                        )
                        .at(Location::at(self.file, key.line, key.column));
                        if self.error.is_none() {
                            self.error = Some(err);
                        }
                    }
                    entries.push((key, node));
                }
            },
        }
    }
}

impl MarkedEventReceiver for TreeBuilder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    let (line, column) = position(mark);
                    self.fail(
                        ConfitureError::new(
                            codes::CONFIG_YAML_SYNTAX,
                            "the file holds more than one YAML document",
                        )
                        .with_hint("keep a single document: remove the second '---'")
                        .at(Location::at(self.file, line, column)),
                    );
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let (line, column) = position(mark);
                let forced_string = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == TScalarStyle::Plain && !forced_string {
                    resolve_plain(&text)
                } else {
                    Value::Str(text)
                };
                self.push_node(
                    Node {
                        value,
                        line,
                        column,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                items: Vec::new(),
                mark,
                anchor,
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                entries: Vec::new(),
                pending_key: None,
                mark,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let (value, mark, anchor) = match frame {
                    Frame::Seq {
                        items,
                        mark,
                        anchor,
                    } => (Value::Seq(items), mark, anchor),
                    Frame::Map {
                        entries,
                        mark,
                        anchor,
                        ..
                    } => (Value::Map(entries), mark, anchor),
                };
                // A block mapping's own mark can sit after its first key; its first key is
                // where a person sees it start.
                let (line, column) = match &value {
                    Value::Map(entries) if !entries.is_empty() => {
                        (entries[0].0.line, entries[0].0.column)
                    }
                    _ => position(mark),
                };
                self.push_node(
                    Node {
                        value,
                        line,
                        column,
                    },
                    anchor,
                );
            }
            Event::Alias(id) => {
                let (line, column) = position(mark);
                match self.anchors.iter().rev().find(|(a, _)| *a == id) {
                    Some((_, node)) => {
                        let mut node = node.clone();
                        node.line = line;
                        node.column = column;
                        self.push_node(node, 0);
                    }
                    None => self.fail(
                        ConfitureError::new(codes::CONFIG_YAML_SYNTAX, "unknown YAML alias")
                            .at(Location::at(self.file, line, column)),
                    ),
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// YAML 1.2 core schema resolution of a plain (unquoted) scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Option<Node>> {
        parse(text, Path::new("t.yaml"))
    }

    #[test]
    fn positions_are_one_based() {
        let root = p("a: 1\nbb:\n  c: true\n").unwrap().unwrap();
        let Value::Map(entries) = root.value else {
            panic!()
        };
        assert_eq!((entries[0].0.line, entries[0].0.column), (1, 1));
        assert_eq!(entries[0].1.value, Value::Int(1));
        let Value::Map(inner) = &entries[1].1.value else {
            panic!()
        };
        assert_eq!((inner[0].0.line, inner[0].0.column), (3, 3));
        assert_eq!(inner[0].1.value, Value::Bool(true));
    }

    #[test]
    fn duplicate_keys_are_rejected_at_second_key() {
        let err = p("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_008");
        let loc = err.location.clone().unwrap();
        assert_eq!((loc.line, loc.column), (Some(3), Some(1)));
    }

    #[test]
    fn syntax_error_has_position() {
        let err = p("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_004");
        assert!(err.location.clone().unwrap().line.is_some());
    }

    #[test]
    fn empty_and_comment_only_are_none() {
        assert!(p("").unwrap().is_none());
        assert!(p("# nothing\n").unwrap().is_none());
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let root = p("a: '5'\nb: 5.5\nc: yes\n").unwrap().unwrap();
        let Value::Map(e) = root.value else { panic!() };
        assert_eq!(e[0].1.value, Value::Str("5".into()));
        assert_eq!(e[1].1.value, Value::Float(5.5));
        assert_eq!(e[2].1.value, Value::Str("yes".into()));
    }

    #[test]
    fn aliases_resolve() {
        let root = p("a: &x [1]\nb: *x\n").unwrap().unwrap();
        let Value::Map(e) = root.value else { panic!() };
        assert_eq!(e[1].1.value, e[0].1.value);
    }
}
