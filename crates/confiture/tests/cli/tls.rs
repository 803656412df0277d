//! TLS against the real test server (ssl=on, certificate for `localhost` signed by a test CA).

use confiture_pg::{ConnEnv, ConnTarget};
use confiture_testkit::{cluster, TestDb};

use crate::common::*;

fn url(db: &TestDb, host: &str, params: &str) -> String {
    format!(
        "postgresql://postgres@{host}:{}/{}?{params}",
        cluster().port,
        db.name
    )
}

async fn ssl_in_use(url: &str) -> Result<bool, String> {
    let env = ConnEnv {
        var: &|_| None,
        home: None,
        os_user: None,
    };
    let target = ConnTarget::resolve(url, &env).map_err(|e| e.to_string())?;
    let client = target
        .connect()
        .await
        .map_err(|e| format!("{} {}", e.code.id, e.message))?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

#[tokio::test]
async fn sslmodes_encrypt_and_verify() {
    let db = TestDb::new();
    let ca = cluster().ca_cert.display().to_string();
    assert_eq!(
        ssl_in_use(&url(&db, "127.0.0.1", "sslmode=disable")).await,
        Ok(false)
    );
    assert_eq!(
        ssl_in_use(&url(&db, "127.0.0.1", "sslmode=prefer")).await,
        Ok(true)
    );
    assert_eq!(
        ssl_in_use(&url(&db, "127.0.0.1", "sslmode=require")).await,
        Ok(true)
    );
    // verify-ca checks the chain, not the host name.
    let verify_ca = url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    );
    assert_eq!(ssl_in_use(&verify_ca).await, Ok(true));
    // verify-full checks both: the certificate names localhost.
    let full = url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    assert_eq!(ssl_in_use(&full).await, Ok(true));
}

#[tokio::test]
async fn verify_full_rejects_wrong_host_and_unknown_ca() {
    let db = TestDb::new();
    let ca = cluster().ca_cert.display().to_string();
    let wrong_host = url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let err = ssl_in_use(&wrong_host).await.unwrap_err();
    assert!(err.starts_with("CONN_003"), "{err}");

    // A CA that did not sign the server certificate (the system roots).
    let unknown_ca = url(&db, "localhost", "sslmode=verify-full&sslrootcert=system");
    let err = ssl_in_use(&unknown_ca).await.unwrap_err();
    assert!(err.starts_with("CONN_003"), "{err}");

    // verify-full without any root certificate: a clear error, before connecting.
    let no_root = url(&db, "localhost", "sslmode=verify-full");
    let err = ssl_in_use(&no_root).await.unwrap_err();
    assert!(err.contains("needs a root certificate"), "{err}");
}

#[test]
fn doctor_reports_tls_mode_and_exit_3_on_verification_failure() {
    let db = TestDb::new();
    let ca = cluster().ca_cert.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let ok = url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let r = confiture_in(dir.path(), &["doctor", "--database-url", &ok]);
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(r.stdout.contains("sslmode=verify-full"), "{}", r.stdout);
    let bad = url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let r = confiture_in(
        dir.path(),
        &["doctor", "--database-url", &bad, "--format", "json"],
    );
    assert_eq!(r.code, 3, "{}", r.all_output());
    assert!(r.stdout.contains("CONN_003"), "{}", r.stdout);
}

#[test]
fn pgsslmode_and_pgsslrootcert_variables_apply() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let plain = format!(
        "postgresql://postgres@localhost:{}/{}",
        cluster().port,
        db.name
    );
    let r = run(confiture(dir.path())
        .env("PGSSLMODE", "verify-full")
        .env("PGSSLROOTCERT", &cluster().ca_cert)
        .args(["doctor", "--database-url", &plain]));
    assert_eq!(r.code, 0, "{}", r.all_output());
    assert!(r.stdout.contains("sslmode=verify-full"), "{}", r.stdout);
}
