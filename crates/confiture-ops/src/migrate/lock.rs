//! The migration lock: a session advisory lock per database, the same key the Python tool uses
//! (namespace 1751936052, id = first 4 bytes of SHA-256 of the database name), so the two tools
//! also exclude each other. Waiting is bounded by `lock_timeout`; on timeout the holder is named.

use std::time::Duration;

use confiture_core::codes;
use confiture_core::error::{ConfitureError, Result};
use confiture_pg::ConnTarget;
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::ledger::sql_error;

pub const LOCK_NAMESPACE: i32 = 1_751_936_052;

/// The lock id of database `name`.
pub fn lock_id(database: &str) -> i32 {
    let digest = Sha256::digest(database.as_bytes());
    (u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7FFF_FFFF) as i32
}

/// Who holds the lock.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Holder {
    pub pid: i32,
    pub host: String,
    pub command: String,
    pub since: String,
}

/// Take the lock, waiting at most `wait`. The lock is released when the session ends.
pub async fn acquire(client: &Client, target: &ConnTarget, wait: Duration) -> Result<()> {
    // The server's name for the database (a pooler may alias it), as the Python tool hashes it.
    let database: String = client
        .query_one("SELECT current_database()::text", &[])
        .await
        .map_err(|e| sql_error(target, "read the database name", &e))?
        .get(0);
    let id = lock_id(&database);
    let timeout_ms = wait.as_millis().max(1);
    let sql = format!(
        "SET lock_timeout = '{timeout_ms}ms'; SELECT pg_advisory_lock({LOCK_NAMESPACE}, {id}); RESET lock_timeout"
    );
    match client.batch_execute(&sql).await {
        Ok(()) => Ok(()),
        Err(e) if e.code().map(|c| c.code()) == Some("55P03") => {
            let _ = client.batch_execute("RESET lock_timeout").await;
            let holder = holder(client, id).await;
            let who = match &holder {
                Some(h) => format!(
                    "held by PostgreSQL backend pid {} from {} ({}) since {}",
                    h.pid, h.host, h.command, h.since
                ),
                None => "its holder has just released it or cannot be seen by this role".into(),
            };
            Err(ConfitureError::new(
                codes::MIGRATE_LOCKED,
                format!(
                    "another process holds the migration lock of {} (waited {:.1}s): {who}",
                    target.dbname,
                    wait.as_secs_f64()
                ),
            )
            .with_details(serde_json::json!({ "holder": holder }))
            .with_hint("wait for it to finish, or raise --lock-timeout; a killed process releases the lock when the server notices its connection is gone"))
        }
        Err(e) => Err(sql_error(target, "take the migration lock", &e)),
    }
}

async fn holder(client: &Client, id: i32) -> Option<Holder> {
    let row = client
        .query_opt(
            "SELECT a.pid,
                    CASE WHEN a.backend_start IS NULL THEN 'a host not visible to this role'
                         ELSE coalesce(a.client_hostname, host(a.client_addr), 'a local socket') END,
                    coalesce(nullif(a.application_name, ''), 'no application_name') || ', role ' || coalesce(a.usename::text, '?'),
                    coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'a time not visible to this role')
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted
               AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2
             LIMIT 1",
            &[&LOCK_NAMESPACE, &id],
        )
        .await
        .ok()??;
    // Another role's session details can be hidden (NULL) without pg_read_all_stats.
    let text = |i: usize| {
        row.try_get::<_, Option<String>>(i)
            .ok()
            .flatten()
            .unwrap_or_else(|| "?".into())
    };
    Some(Holder {
        pid: row.try_get(0).unwrap_or_default(),
        host: text(1),
        command: text(2),
        since: text(3),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_id_matches_the_python_tool() {
        // Python: int.from_bytes(hashlib.sha256(b"app_local").digest()[:4], "big") & 0x7FFFFFFF
        assert_eq!(lock_id("app_local"), 484_801_663);
        assert!(lock_id("x") >= 0);
    }
}
