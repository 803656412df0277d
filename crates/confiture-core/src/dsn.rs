//! PostgreSQL connection strings, parsed the way libpq does: URL form
//! (`postgresql://user:pass@host:port/db?param=value`, percent-encoded, several hosts,
//! `[::1]`, `%2Fsocket%2Fdir` or `?host=/dir` for unix sockets) and keyword/value form
//! (`host=h port=5432 dbname=d`). Pure: environment fallbacks and `.pgpass` are applied by the
//! database layer.

use std::collections::BTreeMap;

use crate::codes;
use crate::error::{ConfitureError, Result};
use crate::redact::redact_dsn;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnParams {
    /// Host names, IP addresses or unix-socket directories (starting with `/`).
    pub hosts: Vec<String>,
    pub ports: Vec<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub dbname: Option<String>,
    /// Every other parameter (`sslmode`, `connect_timeout`, `application_name`, ...).
    pub options: BTreeMap<String, String>,
}

impl ConnParams {
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options.get(key).map(String::as_str)
    }
}

fn invalid(dsn: &str, why: impl std::fmt::Display) -> ConfitureError {
    ConfitureError::new(
        codes::INPUT_INVALID_DSN,
        format!("invalid database URL '{}': {why}", redact_dsn(dsn)),
    )
    .with_hint("use postgresql://user@host:5432/dbname or 'host=... dbname=...'")
}

/// Parse a connection string. The empty string is valid and means "all defaults".
pub fn parse(dsn: &str) -> Result<ConnParams> {
    let trimmed = dsn.trim();
    if trimmed.starts_with("postgresql://") || trimmed.starts_with("postgres://") {
        parse_url(trimmed)
    } else {
        parse_keyvalue(trimmed)
    }
}

fn set_param(params: &mut ConnParams, key: &str, value: String, dsn: &str) -> Result<()> {
    match key {
        "host" | "hostaddr" if key == "host" || params.hosts.is_empty() => {
            params.hosts = value.split(',').map(str::to_string).collect();
        }
        "port" => {
            params.ports = value
                .split(',')
                .map(|p| {
                    p.trim()
                        .parse::<u16>()
                        .map_err(|_| invalid(dsn, format!("port '{p}' is not a number")))
                })
                .collect::<Result<_>>()?;
        }
        "user" => params.user = Some(value),
        "password" => params.password = Some(value),
        "dbname" => params.dbname = Some(value),
        _ => {
            params.options.insert(key.to_string(), value);
        }
    }
    Ok(())
}

fn parse_url(dsn: &str) -> Result<ConnParams> {
    let rest = &dsn[dsn.find("://").unwrap() + 3..];
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let rest = rest.split('#').next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let mut params = ConnParams::default();
    let hostlist = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            match userinfo.split_once(':') {
                Some((u, p)) => {
                    params.user = Some(percent_decode(u, dsn)?);
                    params.password = Some(percent_decode(p, dsn)?);
                }
                None => params.user = Some(percent_decode(userinfo, dsn)?),
            }
            &authority[at + 1..]
        }
        None => authority,
    };
    for spec in hostlist.split(',').filter(|s| !s.is_empty()) {
        let (host, port) = if let Some(inner) = spec.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| invalid(dsn, "unclosed '[' in IPv6 host"))?;
            let port = inner[close + 1..].strip_prefix(':');
            (inner[..close].to_string(), port)
        } else {
            match spec.rsplit_once(':') {
                Some((h, p)) => (percent_decode(h, dsn)?, Some(p)),
                None => (percent_decode(spec, dsn)?, None),
            }
        };
        if !host.is_empty() {
            params.hosts.push(host);
        }
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            params.ports.push(
                p.parse()
                    .map_err(|_| invalid(dsn, format!("port '{p}' is not a number")))?,
            );
        }
    }
    if !path.is_empty() {
        params.dbname = Some(percent_decode(path, dsn)?);
    }
    if let Some(query) = query {
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| invalid(dsn, format!("query parameter '{pair}' has no '='")))?;
            let k = percent_decode(k, dsn)?;
            set_param(&mut params, &k, percent_decode(v, dsn)?, dsn)?;
        }
    }
    Ok(params)
}

fn percent_decode(s: &str, dsn: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(dsn, "bad percent-encoding"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(dsn, "percent-encoding is not UTF-8"))
}

fn parse_keyvalue(dsn: &str) -> Result<ConnParams> {
    let mut params = ConnParams::default();
    let chars: Vec<char> = dsn.chars().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= chars.len() {
            break;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        skip_ws(&mut i);
        if i >= chars.len() || chars[i] != '=' {
            return Err(invalid(dsn, format!("missing '=' after '{key}'")));
        }
        i += 1;
        skip_ws(&mut i);
        let mut value = String::new();
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(invalid(dsn, "unterminated quoted value")),
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        if let Some(c) = chars.get(i + 1) {
                            value.push(*c);
                        }
                        i += 2;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                value.push(chars[i]);
                i += 1;
            }
        }
        set_param(&mut params, &key, value, dsn)?;
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_full() {
        let p = parse(
            "postgresql://app:p%40ss@db1:5433,db2/my%20db?sslmode=verify-full&application_name=x",
        )
        .unwrap();
        assert_eq!(p.hosts, vec!["db1", "db2"]);
        assert_eq!(p.ports, vec![5433]);
        assert_eq!(p.user.as_deref(), Some("app"));
        assert_eq!(p.password.as_deref(), Some("p@ss"));
        assert_eq!(p.dbname.as_deref(), Some("my db"));
        assert_eq!(p.option("sslmode"), Some("verify-full"));
    }

    #[test]
    fn url_socket_and_ipv6() {
        let p = parse("postgresql://%2Ftmp%2Fpg:5999/db").unwrap();
        assert_eq!(p.hosts, vec!["/tmp/pg"]);
        assert_eq!(p.ports, vec![5999]);
        let p = parse("postgresql:///db?host=/var/run/postgresql").unwrap();
        assert_eq!(p.hosts, vec!["/var/run/postgresql"]);
        let p = parse("postgres://[::1]:6000/db").unwrap();
        assert_eq!(p.hosts, vec!["::1"]);
        assert_eq!(p.ports, vec![6000]);
    }

    #[test]
    fn keyvalue() {
        let p = parse("host=/tmp port=5432 user=u password='a b\\'c' dbname=d connect_timeout=3")
            .unwrap();
        assert_eq!(p.hosts, vec!["/tmp"]);
        assert_eq!(p.password.as_deref(), Some("a b'c"));
        assert_eq!(p.option("connect_timeout"), Some("3"));
        assert_eq!(parse("").unwrap(), ConnParams::default());
    }

    #[test]
    fn errors_never_show_password() {
        let err = parse("postgresql://u:hunter2@h:notaport/db").unwrap_err();
        assert_eq!(err.code.exit.code(), 5);
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        let err = parse("host=h password=hunter2 bogus").unwrap_err();
        assert!(!err.message.contains("hunter2"), "{}", err.message);
    }
}
