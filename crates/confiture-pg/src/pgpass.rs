//! `~/.pgpass` (or `PGPASSFILE`) lookup, following libpq: lines of
//! `hostname:port:database:username:password`, `*` matches anything, `\:` and `\\` escape,
//! and a unix-socket connection matches the host name `localhost`. Like libpq, a file that
//! group or others can read is ignored.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub struct PgpassQuery<'a> {
    pub host: &'a str,
    pub port: u16,
    pub dbname: &'a str,
    pub user: &'a str,
}

/// The password for `query` from the file at `path`, if any line matches.
pub fn lookup(path: &Path, query: &PgpassQuery<'_>) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    find_in(&text, query)
}

fn find_in(text: &str, q: &PgpassQuery<'_>) -> Option<String> {
    let host = if q.host.starts_with('/') || q.host.is_empty() {
        "localhost"
    } else {
        q.host
    };
    let port = q.port.to_string();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_fields(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if matches(&fields[0], host)
            && matches(&fields[1], &port)
            && matches(&fields[2], q.dbname)
            && matches(&fields[3], q.user)
        {
            return Some(fields[4..].join(":"));
        }
    }
    None
}

fn split_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().unwrap().push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_rules() {
        let text = "# comment\ndb.example:5432:prod:app:s3\\:cret\n*:*:*:postgres:pw2\nlocalhost:6000:*:*:sock\n";
        let q = |host, port, user| PgpassQuery {
            host,
            port,
            dbname: "prod",
            user,
        };
        assert_eq!(
            find_in(text, &q("db.example", 5432, "app")).as_deref(),
            Some("s3:cret")
        );
        assert_eq!(
            find_in(text, &q("other", 1, "postgres")).as_deref(),
            Some("pw2")
        );
        assert_eq!(
            find_in(text, &q("/tmp/sock", 6000, "x")).as_deref(),
            Some("sock")
        );
        assert_eq!(find_in(text, &q("other", 1, "nobody")), None);
    }

    #[test]
    fn world_readable_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pgpass");
        std::fs::write(&p, "*:*:*:*:pw\n").unwrap();
        let q = PgpassQuery {
            host: "h",
            port: 1,
            dbname: "d",
            user: "u",
        };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(lookup(&p, &q), None);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&p, &q).as_deref(), Some("pw"));
    }
}
