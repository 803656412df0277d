//! Secret redaction. Any DSN that can reach output goes through [`redact_dsn`] first; any other
//! text that may quote a DSN (driver error messages) goes through [`redact_text`].

/// The mask that replaces a secret.
pub const MASK: &str = "***";

/// Redact the password of a PostgreSQL connection string, in either URL form
/// (`postgresql://user:secret@host/db?password=secret`) or key/value form
/// (`host=h password=secret`).
pub fn redact_dsn(dsn: &str) -> String {
    let trimmed = dsn.trim_start();
    if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        redact_url(dsn)
    } else {
        redact_keyvalue(dsn)
    }
}

fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    // The authority ends at the first '/', '?' or '#'; userinfo ends at its last '@'.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let host = &authority[at..];
            match userinfo.find(':') {
                Some(colon) => format!("{}:{MASK}{host}", &userinfo[..colon]),
                None => authority.to_string(),
            }
        }
        None => authority.to_string(),
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let redacted: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if is_secret_key(k) => format!("{k}={MASK}"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}{}", redacted.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}{authority}{tail}")
}

fn is_secret_key(key: &str) -> bool {
    matches!(
        key.trim().to_ascii_lowercase().as_str(),
        "password" | "sslpassword" | "pass"
    )
}

/// Key/value DSN: `password=secret`, `password = 'se cret'`.
fn redact_keyvalue(dsn: &str) -> String {
    let mut out = String::with_capacity(dsn.len());
    let chars: Vec<char> = dsn.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // Read a key.
        let key_start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let key: String = chars[key_start..i].iter().collect();
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        if !key.is_empty() && j < chars.len() && chars[j] == '=' {
            out.push_str(&key);
            out.extend(&chars[i..=j]);
            j += 1;
            while j < chars.len() && chars[j].is_whitespace() {
                out.push(chars[j]);
                j += 1;
            }
            // Read the value (quoted or bare).
            let value_start = j;
            if j < chars.len() && chars[j] == '\'' {
                j += 1;
                while j < chars.len() && chars[j] != '\'' {
                    if chars[j] == '\\' {
                        j += 1;
                    }
                    j += 1;
                }
                j = (j + 1).min(chars.len());
            } else {
                while j < chars.len() && !chars[j].is_whitespace() {
                    j += 1;
                }
            }
            if is_secret_key(&key) {
                out.push_str(MASK);
            } else {
                out.extend(&chars[value_start..j]);
            }
            i = j;
        } else {
            out.extend(&chars[key_start..i]);
            if i < chars.len() {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// Replace every occurrence of each known secret in free text (driver messages, stderr of
/// tools) by the mask. Empty secrets are ignored.
pub fn redact_text(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, MASK);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_password_is_masked() {
        assert_eq!(
            redact_dsn("postgresql://app:s3cr%40t@db.example:5432/prod?sslmode=require"),
            "postgresql://app:***@db.example:5432/prod?sslmode=require"
        );
    }

    #[test]
    fn url_password_with_at_sign_is_masked() {
        assert_eq!(
            redact_dsn("postgres://app:p@ss@host/db"),
            "postgres://app:***@host/db"
        );
    }

    #[test]
    fn url_query_password_is_masked() {
        assert_eq!(
            redact_dsn("postgresql://host/db?user=a&password=hunter2&sslmode=disable"),
            "postgresql://host/db?user=a&password=***&sslmode=disable"
        );
    }

    #[test]
    fn url_without_password_is_unchanged() {
        let u = "postgresql://app@host/db";
        assert_eq!(redact_dsn(u), u);
        let u = "postgresql:///db?host=/tmp/sock";
        assert_eq!(redact_dsn(u), u);
    }

    #[test]
    fn keyvalue_password_is_masked() {
        assert_eq!(
            redact_dsn("host=h user=u password=hunter2 dbname=d"),
            "host=h user=u password=*** dbname=d"
        );
        assert_eq!(
            redact_dsn("host=h password = 'a b\\'c' dbname=d"),
            "host=h password = *** dbname=d"
        );
    }

    #[test]
    fn text_redaction() {
        assert_eq!(
            redact_text("failed for hunter2 at x", &["hunter2", ""]),
            "failed for *** at x"
        );
    }
}
