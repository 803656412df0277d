//! Function bodies as PostgreSQL's parser sees them, so that layout and comments never count
//! as a difference (drift) while any change of meaning does — unlike a text comparison, and
//! unlike `pg_query::fingerprint`, which ignores constants.
//!
//! The fingerprint is the parse tree (SQL bodies, `BEGIN ATOMIC` bodies) or the PL/pgSQL tree
//! (PostgreSQL's own PL/pgSQL parser, in `pg_query`) with every source position removed.

use serde_json::Value;

/// The fingerprint of `definition` (a whole `CREATE FUNCTION`, as `pg_get_functiondef` writes
/// it) in `language`. `None` when it cannot be parsed: compare the text instead.
pub fn function_fingerprint(definition: &str, language: &str) -> Option<String> {
    if definition.trim().is_empty() {
        return None;
    }
    let mut tree = match language {
        "plpgsql" => {
            let mut tree = pg_query::parse_plpgsql(definition).ok()?;
            normalize_plpgsql_queries(&mut tree);
            tree
        }
        _ => {
            let parsed = pg_query::parse(definition, 0).ok()?;
            let mut tree = serde_json::to_value(&parsed.protobuf).ok()?;
            if language == "sql" {
                replace_sql_body(&mut tree);
            }
            tree
        }
    };
    strip_positions(&mut tree);
    serde_json::to_string(&tree).ok()
}

/// A `LANGUAGE sql` body given as a string (`AS $$ … $$`): swap the string for its parse tree.
fn replace_sql_body(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let is_as = map.get("defname").and_then(Value::as_str) == Some("as");
            if is_as {
                if let Some(arg) = map.get_mut("arg") {
                    if let Some(body) = first_string(arg) {
                        if let Ok(parsed) = pg_query::parse(&body, 0) {
                            if let Ok(tree) = serde_json::to_value(&parsed.protobuf) {
                                *arg = tree;
                                return;
                            }
                        }
                    }
                }
            }
            for value in map.values_mut() {
                replace_sql_body(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(replace_sql_body),
        _ => {}
    }
}

/// PL/pgSQL keeps each embedded expression or statement as text (`a*2`, `x := a + 1`):
/// replace it with its SQL parse tree, so its layout does not count either.
fn normalize_plpgsql_queries(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(query)) = map.get("query") {
                let tree = sql_tree(query);
                map.insert("query".into(), tree);
            }
            for (k, value) in map.iter_mut() {
                if k != "query" {
                    normalize_plpgsql_queries(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_plpgsql_queries),
        _ => {}
    }
}

/// A statement, an expression (`SELECT` prefixed) or an assignment's target and expression.
fn sql_tree(text: &str) -> Value {
    let parse = |sql: &str| {
        pg_query::parse(sql, 0)
            .ok()
            .and_then(|p| serde_json::to_value(&p.protobuf).ok())
    };
    if let Some(tree) = parse(text).or_else(|| parse(&format!("SELECT {text}"))) {
        return tree;
    }
    if let Some((target, expr)) = text.split_once(":=").or_else(|| text.split_once('=')) {
        if let Some(tree) = parse(&format!("SELECT {expr}")) {
            return serde_json::json!({ "assign": target.split_whitespace().collect::<Vec<_>>().join(" "), "expr": tree });
        }
    }
    Value::String(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn first_string(v: &Value) -> Option<String> {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get("sval") {
                return Some(s.clone());
            }
            map.values().find_map(first_string)
        }
        Value::Array(items) => items.iter().find_map(first_string),
        _ => None,
    }
}

fn strip_positions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| {
                k != "location" && k != "lineno" && k != "stmt_location" && k != "stmt_len"
            });
            for value in map.values_mut() {
                strip_positions(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_positions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "CREATE OR REPLACE FUNCTION public.f(a integer)\n RETURNS integer\n LANGUAGE plpgsql\nAS $function$\nBEGIN\n  -- double it\n  RETURN a * 2;\nEND;\n$function$\n";
    const B: &str = "CREATE OR REPLACE FUNCTION public.f(a integer)\n RETURNS integer\n LANGUAGE plpgsql\nAS $function$\nbegin return a*2;   end\n$function$\n";
    const C: &str = "CREATE OR REPLACE FUNCTION public.f(a integer)\n RETURNS integer\n LANGUAGE plpgsql\nAS $function$\nBEGIN RETURN a * 3; END;\n$function$\n";

    #[test]
    fn plpgsql_layout_and_comments_do_not_count_constants_do() {
        let (a, b, c) = (
            function_fingerprint(A, "plpgsql").unwrap(),
            function_fingerprint(B, "plpgsql").unwrap(),
            function_fingerprint(C, "plpgsql").unwrap(),
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn sql_bodies_compare_by_parse_tree() {
        let f = |body: &str| {
            function_fingerprint(
                &format!("CREATE OR REPLACE FUNCTION public.g()\n RETURNS bigint\n LANGUAGE sql\nAS $function${body}$function$\n"),
                "sql",
            )
            .unwrap()
        };
        assert_eq!(
            f("SELECT count(*) FROM t"),
            f("select   count(*)\n  from t -- all")
        );
        assert_ne!(f("SELECT count(*) FROM t"), f("SELECT count(*) FROM u"));
    }
}
