//! Names longer than 63 bytes, as the files write them.
//!
//! PostgreSQL's scanner (and so pg_query's) truncates identifiers to 63 bytes before the
//! grammar sees them. A database holds the truncated names; the schema files hold the long
//! ones, and showing them is what a static model is for (`identifier-too-long`). The
//! statements' text gives the long identifiers; once the model is built, every name that is
//! the truncation of one of them is given back its full spelling.

use std::collections::BTreeMap;

use super::names::{clip, MAX_IDENT};
use super::{FastMap, State};

/// Note the identifiers of `sql` longer than 63 bytes: truncated form → as written (bare
/// ones folded to lower case, as PostgreSQL folds them).
pub(crate) fn collect(sql: &str, out: &mut FastMap<String, String>) {
    let bytes = sql.as_bytes();
    // Most statements have no word that long: one pass to find out.
    let mut run = 0;
    let mut any = false;
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 || b == b'"' {
            run += 1;
            if run > MAX_IDENT {
                any = true;
                break;
            }
        } else {
            run = 0;
        }
    }
    if !any {
        return;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' {
            // A string literal: not a name.
            i += 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
        } else if b == b'"' {
            let mut name = String::new();
            i += 1;
            let start = i;
            let mut from = start;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    name.push_str(&sql[from..i]);
                    if bytes.get(i + 1) == Some(&b'"') {
                        name.push('"');
                        i += 2;
                        from = i;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            note(name, out);
        } else if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric()
                    || bytes[i] == b'_'
                    || bytes[i] == b'$'
                    || bytes[i] >= 0x80)
            {
                i += 1;
            }
            note(sql[start..i].to_ascii_lowercase(), out);
        } else {
            i += 1;
        }
    }
}

fn note(name: String, out: &mut FastMap<String, String>) {
    if name.len() > MAX_IDENT {
        out.entry(clip(&name, MAX_IDENT).to_string())
            .or_insert(name);
    }
}

/// Give the model's truncated names their full spelling back.
pub(crate) fn lengthen(st: &mut State) {
    let map = std::mem::take(&mut st.long_names);
    if map.is_empty() {
        return;
    }
    let name = |n: &mut String| {
        if let Some(full) = map.get(n.as_str()) {
            *n = full.clone();
        }
    };
    // `schema.table.column` keys, part by part.
    let key = |k: &str| -> String {
        if k.len() <= MAX_IDENT || !k.split('.').any(|p| map.contains_key(p)) {
            return k.to_string();
        }
        k.split('.')
            .map(|p| map.get(p).map_or(p, String::as_str))
            .collect::<Vec<_>>()
            .join(".")
    };
    // Function keys: `schema.name(arguments)`.
    let function_key = |k: &str| -> String {
        match k.split_once('(') {
            Some((head, rest)) => format!("{}({rest}", key(head)),
            None => key(k),
        }
    };
    fn rekey<V>(m: &mut BTreeMap<String, V>, f: impl Fn(&str) -> String) {
        let old = std::mem::take(m);
        *m = old.into_iter().map(|(k, v)| (f(&k), v)).collect();
    }

    let model = &mut st.model;
    rekey(&mut model.schemas, key);
    for n in model.schemas.values_mut() {
        name(&mut n.name);
    }
    rekey(&mut model.types, key);
    for t in model.types.values_mut() {
        name(&mut t.schema);
        name(&mut t.name);
    }
    rekey(&mut model.sequences, key);
    for s in model.sequences.values_mut() {
        name(&mut s.schema);
        name(&mut s.name);
        if let Some(o) = s.owned_by.as_mut() {
            *o = key(o);
        }
    }
    rekey(&mut model.tables, key);
    for t in model.tables.values_mut() {
        name(&mut t.schema);
        name(&mut t.name);
        for c in t.columns.iter_mut() {
            name(&mut c.name);
        }
        rekey(&mut t.constraints, key);
        for c in t.constraints.values_mut() {
            name(&mut c.name);
            if let Some(r) = c.references.as_mut() {
                *r = key(r);
            }
        }
        rekey(&mut t.indexes, key);
        for i in t.indexes.values_mut() {
            name(&mut i.name);
        }
        rekey(&mut t.triggers, key);
        for g in t.triggers.values_mut() {
            name(&mut g.name);
        }
        rekey(&mut t.policies, key);
        for p in t.policies.values_mut() {
            name(&mut p.name);
        }
        if let Some(p) = t.partition_of.as_mut() {
            p.parent = key(&p.parent);
        }
        for p in t.inherits.iter_mut() {
            *p = key(p);
        }
    }
    rekey(&mut model.views, key);
    for v in model.views.values_mut() {
        name(&mut v.schema);
        name(&mut v.name);
        for c in v.columns.iter_mut() {
            name(c);
        }
        rekey(&mut v.indexes, key);
        for i in v.indexes.values_mut() {
            name(&mut i.name);
        }
    }
    rekey(&mut model.functions, function_key);
    for f in model.functions.values_mut() {
        name(&mut f.schema);
        name(&mut f.name);
    }
    let objects = std::mem::take(&mut st.locs.objects);
    st.locs.objects = objects
        .into_iter()
        .map(|(k, loc)| match k.split_once(':') {
            Some(("function", rest)) => (format!("function:{}", function_key(rest)), loc),
            Some((kind, rest)) => (format!("{kind}:{}", key(rest)), loc),
            None => (k, loc),
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_identifiers_are_found_outside_strings() {
        let long = "c".repeat(70);
        let mut out = FastMap::default();
        collect(
            &format!(
                "CREATE TABLE T (\"Q{long}\" int, {} int, x text DEFAULT '{long}x')",
                long.to_uppercase()
            ),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[&format!("Q{}", &long[..62])], format!("Q{long}"));
        assert_eq!(out[&long[..63]], long);
    }
}
