//! The OS user the server runs as. `initdb` and `postgres` refuse to run as root, so when
//! Confiture runs as root it hands the cluster to an unprivileged user (`postgres` by default,
//! or `CONFITURE_PG_OS_USER`).

use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsUser {
    pub uid: u32,
    pub gid: u32,
}

/// `None` when we are not root (run the server as ourselves), else the user to switch to.
pub fn server_user(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<OsUser>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = var("CONFITURE_PG_OS_USER").unwrap_or_else(|| "postgres".into());
    lookup(&name).map(Some).ok_or_else(|| {
        ConfitureError::new(
            codes::PG_NO_UNPRIVILEGED_USER,
            format!("running as root, and there is no OS user '{name}' to run PostgreSQL as"),
        )
        .with_hint("PostgreSQL refuses to run as root: create the user (useradd --system postgres) or set CONFITURE_PG_OS_USER")
    })
}

fn lookup(name: &str) -> Option<OsUser> {
    let c = CString::new(name).ok()?;
    // SAFETY: getpwnam returns NULL or a pointer to static storage; we copy the ids at once.
    unsafe {
        let pw = libc::getpwnam(c.as_ptr());
        if pw.is_null() {
            return None;
        }
        Some(OsUser {
            uid: (*pw).pw_uid,
            gid: (*pw).pw_gid,
        })
    }
}

/// Give `path` to `user`.
pub fn chown(path: &Path, user: OsUser) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
}

/// Whether `user` can reach `path`: every ancestor must grant it search (x) permission.
pub fn can_traverse(path: &Path, user: OsUser) -> bool {
    path.ancestors().skip(1).all(|dir| {
        let Ok(meta) = std::fs::metadata(dir) else {
            return true;
        };
        let mode = meta.mode();
        if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    })
}
