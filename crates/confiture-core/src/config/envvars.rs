//! `${VAR}` and `${VAR:-default}` expansion in configuration strings.
//! A missing variable without a default is an error (never an empty string): a config that
//! silently connects to the wrong database is worse than one that refuses to load.
//! `$${` is a literal `${`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `${NAME}` where NAME is not set and no default was given.
    Missing { name: String, offset: usize },
    /// A `${` that is not a well-formed reference.
    Malformed { text: String, offset: usize },
}

/// Expand references in `input`, looking variables up with `lookup`.
pub fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    if !input.contains('$') {
        return Ok(input.to_string());
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    let mut offset = 0;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(stripped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = stripped;
            offset += pos + 3;
            continue;
        }
        if !after.starts_with("${") {
            out.push('$');
            rest = &after[1..];
            offset += pos + 1;
            continue;
        }
        let here = offset + pos;
        let Some(close) = after.find('}') else {
            return Err(ExpandError::Malformed {
                text: after.to_string(),
                offset: here,
            });
        };
        let inner = &after[2..close];
        let (name, default) = match inner.find(":-") {
            Some(i) => (&inner[..i], Some(&inner[i + 2..])),
            None => (inner, None),
        };
        if !is_var_name(name) {
            return Err(ExpandError::Malformed {
                text: after[..=close].to_string(),
                offset: here,
            });
        }
        match (lookup(name), default) {
            (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(ExpandError::Missing {
                    name: name.to_string(),
                    offset: here,
                })
            }
        }
        rest = &after[close + 1..];
        offset = here + close + 1;
    }
    out.push_str(rest);
    Ok(out)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.internal".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_variables_and_defaults() {
        assert_eq!(
            expand("postgresql://${HOST}:${PORT:-5432}/app", &env).unwrap(),
            "postgresql://db.internal:5432/app"
        );
        assert_eq!(expand("${EMPTY:-x}", &env).unwrap(), "x");
        assert_eq!(expand("${EMPTY}", &env).unwrap(), "");
        assert_eq!(
            expand("cost $5 and $${HOST}", &env).unwrap(),
            "cost $5 and ${HOST}"
        );
    }

    #[test]
    fn missing_variable_is_an_error_with_offset() {
        assert_eq!(
            expand("ab${NOPE}", &env),
            Err(ExpandError::Missing {
                name: "NOPE".into(),
                offset: 2
            })
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(matches!(
            expand("${HOST", &env),
            Err(ExpandError::Malformed { .. })
        ));
        assert!(matches!(
            expand("${1X}", &env),
            Err(ExpandError::Malformed { .. })
        ));
        assert!(matches!(
            expand("${}", &env),
            Err(ExpandError::Malformed { .. })
        ));
    }
}
