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
        "plpgsql" => match pg_query::parse_plpgsql(definition) {
            Ok(mut tree) => {
                normalize_plpgsql_queries(&mut tree);
                strip_positions(&mut tree);
                // libpg_query leaves out which variable a bare `RETURN x` returns: then the
                // body's tokens must count too, or `RETURN a` → `RETURN b` would go unseen.
                let text = serde_json::to_string(&tree).ok()?;
                if text.contains("\"PLpgSQL_stmt_return\":{}") {
                    serde_json::json!({ "tree": tree, "tokens": body_tokens(definition)? })
                } else {
                    tree
                }
            }
            // libpg_query cannot render some PL/pgSQL trees (trigger functions' NEW/OLD) as
            // JSON: compare the body's tokens instead, which still ignores layout and comments.
            Err(_) => body_tokens(definition)?,
        },
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

/// The tokens of the dollar-quoted body of `definition` (comments dropped, unquoted words
/// folded to lower case as PostgreSQL folds them), as a JSON array.
fn body_tokens(definition: &str) -> Option<Value> {
    let at = definition.find("\nAS $")? + 4;
    let tag_end = definition[at + 1..].find('$')? + at + 2;
    let tag = &definition[at..tag_end];
    let end = definition[tag_end..].find(tag)? + tag_end;
    let body = &definition[tag_end..end];
    let scanned = pg_query::scan(body).ok()?;
    let mut tokens = Vec::new();
    for t in &scanned.tokens {
        let kind = pg_query::protobuf::Token::try_from(t.token).ok();
        if matches!(
            kind,
            Some(pg_query::protobuf::Token::SqlComment | pg_query::protobuf::Token::CComment)
        ) {
            continue;
        }
        let text = body.get(t.start as usize..t.end as usize)?;
        let folded = if text.starts_with(['"', '\'', '$']) || text.starts_with("E'") {
            text.to_string()
        } else if text == ":=" {
            // PL/pgSQL assigns with `:=` or `=` alike.
            "=".to_string()
        } else {
            text.to_lowercase()
        };
        tokens.push(Value::String(folded));
    }
    // `END;` or `END` to close the body.
    if tokens.last() == Some(&Value::String(";".into())) {
        tokens.pop();
    }
    Some(Value::Array(tokens))
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
                // parseMode 3..=5: an assignment (`target := expr`, or `target = expr`).
                let assignment = map
                    .get("parseMode")
                    .and_then(Value::as_i64)
                    .is_some_and(|m| (3..=5).contains(&m));
                let tree = if assignment {
                    assignment_tree(query)
                } else {
                    sql_tree(query)
                };
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

/// `target := expr` or `target = expr`: the target folded as PostgreSQL folds unquoted names,
/// the expression as a parse tree.
fn assignment_tree(text: &str) -> Value {
    let split = text.split_once(":=").or_else(|| text.split_once('='));
    let Some((target, expr)) = split else {
        return sql_tree(text);
    };
    let target: String = target
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("")
        .split('.')
        .map(|part| {
            if part.starts_with('"') {
                part.to_string()
            } else {
                part.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(".");
    serde_json::json!({ "assign": target, "expr": sql_tree(&format!("SELECT {expr}")) })
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
    fn assignments_compare_by_meaning() {
        let f = |body: &str| {
            function_fingerprint(
                &format!("CREATE OR REPLACE FUNCTION public.t()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN {body} RETURN NEW; END\n$function$\n"),
                "plpgsql",
            )
            .unwrap()
        };
        assert_eq!(f("NEW.updated_at := now();"), f("new.updated_at = now( );"));
        assert_ne!(f("NEW.updated_at := now();"), f("NEW.created_at := now();"));
    }

    #[test]
    fn returning_another_variable_is_a_change() {
        let f = |v: &str| {
            function_fingerprint(
                &format!("CREATE OR REPLACE FUNCTION public.r()\n RETURNS integer\n LANGUAGE plpgsql\nAS $function$\nDECLARE a int := 1; b int := 2; BEGIN RETURN {v}; END\n$function$\n"),
                "plpgsql",
            )
            .unwrap()
        };
        assert_ne!(f("a"), f("b"));
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
