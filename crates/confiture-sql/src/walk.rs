//! The generic walk of a parse tree: every relation (`RangeVar`), type name (`TypeName`),
//! function call (`FuncCall`) and role (`RoleSpec`) anywhere in it; a `%TYPE` names its table,
//! `nextval('seq')`/`currval`/`setval` their sequence; names of `WITH` queries are not relations.
//!
//! The tree has some 270 node types; rather than match them all, the walk drives the tree's
//! `serde::Serialize` implementation (generated for every node) into a serializer that keeps
//! only those three structs' names. It allocates nothing for the rest of the tree, which makes
//! it an order of magnitude faster than going through `serde_json::Value`.

use std::fmt;

use serde::ser::{self, Serialize};

use crate::names::{Kind, ObjectName};

/// `(name, parse location)` of every reference in `tree`.
pub fn references<T: Serialize + ?Sized>(tree: &T) -> Vec<(ObjectName, i64)> {
    let mut walker = Walker::default();
    // The walker never fails: its error type exists only to satisfy the trait.
    let _ = tree.serialize(&mut walker);
    let ctes = std::mem::take(&mut walker.ctes);
    walker
        .found
        .into_iter()
        .filter(|(o, _)| {
            !(o.kind == Kind::Relation && o.schema.is_none() && ctes.contains(&o.name))
        })
        .collect()
}

/// Functions whose first argument names a sequence.
const SEQUENCE_FUNCTIONS: [&str; 3] = ["nextval", "currval", "setval"];

#[derive(Debug)]
pub struct Never;

impl fmt::Display for Never {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("walk error")
    }
}

impl std::error::Error for Never {}

impl ser::Error for Never {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Never
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    RangeVar,
    TypeName,
    FuncCall,
    RoleSpec,
    CommonTableExpr,
    Other,
}

/// A struct being serialized, and what was captured of it.
struct Frame {
    target: Target,
    schema: String,
    name: String,
    parts: Vec<String>,
    location: i64,
    /// `TypeName.pct_type`: `table.column%TYPE`.
    pct_type: bool,
    /// The sequence named by `nextval('…')` and friends.
    sequence: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Descend and look for the target structs.
    Walk,
    /// Collect every string (a `names` list: `[String { sval }, …]`).
    Strings,
    /// Capture one integer (`location`).
    Int,
    /// Capture one boolean (`pct_type`).
    Bool,
}

struct Walker {
    mode: Mode,
    frames: Vec<Frame>,
    strings: Vec<String>,
    int: i64,
    boolean: bool,
    found: Vec<(ObjectName, i64)>,
    ctes: Vec<String>,
}

impl Default for Walker {
    fn default() -> Self {
        Walker {
            mode: Mode::Walk,
            frames: Vec::new(),
            strings: Vec::new(),
            int: -1,
            boolean: false,
            found: Vec::new(),
            ctes: Vec::new(),
        }
    }
}

impl Walker {
    fn capture<T: Serialize + ?Sized>(&mut self, mode: Mode, value: &T) {
        let saved = self.mode;
        self.mode = mode;
        self.strings.clear();
        self.int = -1;
        self.boolean = false;
        let _ = value.serialize(&mut *self);
        self.mode = saved;
    }

    fn int(&mut self, v: i64) -> Result<(), Never> {
        if self.mode == Mode::Int {
            self.int = v;
        }
        Ok(())
    }

    fn finish(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let name = match frame.target {
            Target::Other => return,
            Target::RangeVar => {
                if frame.name.is_empty()
                    || matches!(frame.schema.as_str(), "pg_catalog" | "information_schema")
                {
                    return;
                }
                Some(ObjectName::new(
                    Kind::Relation,
                    Some(&frame.schema),
                    &frame.name,
                ))
            }
            Target::TypeName if frame.pct_type => {
                let table = &frame.parts[..frame.parts.len().saturating_sub(1)];
                ObjectName::from_parts(Kind::Relation, table)
            }
            Target::TypeName => ObjectName::from_parts(Kind::Type, &frame.parts),
            Target::FuncCall => {
                if let Some(sequence) = frame.sequence.as_deref().and_then(regclass_name) {
                    self.found.push((sequence, frame.location));
                }
                ObjectName::from_parts(Kind::Function, &frame.parts)
            }
            Target::RoleSpec => {
                (!frame.name.is_empty()).then(|| ObjectName::new(Kind::Role, None, &frame.name))
            }
            Target::CommonTableExpr => {
                self.ctes.push(frame.name);
                None
            }
        };
        if let Some(name) = name {
            self.found.push((name, frame.location));
        }
    }
}

type R = Result<(), Never>;

impl ser::Serializer for &mut Walker {
    type Ok = ();
    type Error = Never;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> R {
        if self.mode == Mode::Bool {
            self.boolean = v;
        }
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.int(v.into())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.int(v.into())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.int(v.into())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.int(v)
    }
    fn serialize_u8(self, _: u8) -> R {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> R {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> R {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> R {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> R {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> R {
        Ok(())
    }
    fn serialize_char(self, _: char) -> R {
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        if self.mode == Mode::Strings {
            self.strings.push(v.to_string());
        }
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Ok(())
    }
    fn serialize_none(self) -> R {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> R {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Never> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Never> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Never> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Never> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Never> {
        Ok(self)
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Never> {
        let target = match (self.mode, name) {
            (Mode::Walk, "RangeVar") => Target::RangeVar,
            (Mode::Walk, "TypeName") => Target::TypeName,
            (Mode::Walk, "FuncCall") => Target::FuncCall,
            (Mode::Walk, "RoleSpec") => Target::RoleSpec,
            (Mode::Walk, "CommonTableExpr") => Target::CommonTableExpr,
            _ => Target::Other,
        };
        self.frames.push(Frame {
            target,
            schema: String::new(),
            name: String::new(),
            parts: Vec::new(),
            location: -1,
            pct_type: false,
            sequence: None,
        });
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Self, Never> {
        self.serialize_struct(name, len)
    }
}

impl ser::SerializeStruct for &mut Walker {
    type Ok = ();
    type Error = Never;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R {
        let target = self.frames.last().map_or(Target::Other, |f| f.target);
        let names_sequence = target == Target::FuncCall
            && self
                .frames
                .last()
                .and_then(|f| f.parts.last())
                .is_some_and(|f| SEQUENCE_FUNCTIONS.contains(&f.as_str()));
        let capture = match (target, key) {
            (Target::RangeVar, "schemaname" | "relname") => Mode::Strings,
            (Target::TypeName, "names") | (Target::FuncCall, "funcname") => Mode::Strings,
            (Target::RoleSpec, "rolename") | (Target::CommonTableExpr, "ctename") => Mode::Strings,
            (Target::FuncCall, "args") if names_sequence => {
                // Walk the arguments (a subquery may use relations), then read the sequence name.
                value.serialize(&mut **self)?;
                Mode::Strings
            }
            (Target::TypeName, "pct_type") => Mode::Bool,
            (Target::RangeVar | Target::TypeName | Target::FuncCall, "location") => Mode::Int,
            // Descend (inside a capture, strings and integers anywhere below count).
            _ => return value.serialize(&mut **self),
        };
        self.capture(capture, value);
        let strings = std::mem::take(&mut self.strings);
        let (int, boolean) = (self.int, self.boolean);
        let frame = self.frames.last_mut().expect("a field belongs to a struct");
        match key {
            "schemaname" => frame.schema = strings.concat(),
            "relname" | "rolename" | "ctename" => frame.name = strings.concat(),
            "location" => frame.location = int,
            "pct_type" => frame.pct_type = boolean,
            // nextval('app.seq'::regclass): the first string is the sequence.
            "args" => frame.sequence = strings.into_iter().next(),
            _ => frame.parts = strings,
        }
        Ok(())
    }

    fn end(self) -> R {
        if self.mode == Mode::Walk {
            self.finish();
        } else {
            self.frames.pop();
        }
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Walker {
    type Ok = ();
    type Error = Never;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> R {
        ser::SerializeStruct::end(self)
    }
}

/// Sequences and tuples: every element is walked the same way.
macro_rules! walk_elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for &mut Walker {
            type Ok = ();
            type Error = Never;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
                value.serialize(&mut **self)
            }
            fn end(self) -> R {
                Ok(())
            }
        }
    )*};
}

walk_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Walker {
    type Ok = ();
    type Error = Never;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> R {
        value.serialize(&mut **self)
    }
    fn end(self) -> R {
        Ok(())
    }
}

/// A relation name written as text (`'app.t_seq'`, `'"Mixed".s'`), as `regclass` reads it:
/// unquoted parts fold to lower case.
fn regclass_name(text: &str) -> Option<ObjectName> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            parts.push(quoted[..end].to_string());
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find('.').unwrap_or(rest.len());
            parts.push(rest[..end].to_lowercase());
            rest = &rest[end..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    ObjectName::from_parts(Kind::Relation, &parts)
}
