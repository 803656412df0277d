//! Test harness: one real PostgreSQL cluster per test process, a fresh database per test.
//!
//! The cluster is created in a temporary directory from the machine's PostgreSQL binaries
//! (as the `postgres` OS user when the tests run as root) with durability off. A small watcher
//! process stops the server and deletes the directory when the test process exits, however it
//! exits: normally, on panic, or killed.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use confiture_pg::cluster::{os_user, Cluster, ClusterOptions, PgBinaries};
use confiture_pg::ident::quote_ident;
use confiture_pg::{ConnEnv, ConnTarget};

pub struct TestCluster {
    pub cluster: Cluster,
    pub port: u16,
    /// The CA that signed the server certificate (CN and SAN `localhost`): TLS is on, so
    /// tests can connect with any sslmode.
    pub ca_cert: PathBuf,
}

static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// The cluster of this test process, started on first use.
pub fn cluster() -> &'static TestCluster {
    CLUSTER.get_or_init(|| {
        let bins =
            PgBinaries::locate(&env_var).expect("PostgreSQL binaries (set CONFITURE_PG_BIN)");
        let user = os_user::server_user(&env_var).expect("an OS user for PostgreSQL");
        let dir = tempfile::Builder::new()
            .prefix("confiture-test-")
            .tempdir()
            .expect("temp dir")
            .keep();
        if let Some(u) = user {
            os_user::chown(&dir, u).expect("chown test cluster dir");
        }
        let cluster = Cluster::new(dir.join("c"), bins, user);
        cluster
            .init(&ClusterOptions {
                durability_off: true,
            })
            .expect("initdb");
        let ca_cert = enable_tls(&cluster, &dir, user);
        let port = cluster.start(None).expect("start test cluster");
        spawn_reaper(&cluster, &dir, user);
        TestCluster {
            cluster,
            port,
            ca_cert,
        }
    })
}

/// Make a CA and a server certificate for `localhost` with the openssl CLI, install them in
/// the cluster and turn `ssl` on. Returns the CA certificate path.
fn enable_tls(cluster: &Cluster, dir: &Path, user: Option<os_user::OsUser>) -> PathBuf {
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).expect("tls dir");
    std::fs::write(
        tls.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext file");
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "30",
            "-subj",
            "/CN=Confiture Test CA",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "30",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&tls)
            .output()
            .expect("openssl (apt-get install openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let data = cluster.data_dir();
    for name in ["server.crt", "server.key"] {
        let dest = data.join(name);
        std::fs::copy(tls.join(name), &dest).expect("install certificate");
        std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod");
        if let Some(u) = user {
            os_user::chown(&dest, u).expect("chown certificate");
        }
    }
    let conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).expect("postgresql.conf");
    text.push_str("ssl = on\n");
    std::fs::write(&conf, text).expect("write postgresql.conf");
    tls.join("ca.crt")
}

/// Stop the server and remove `dir` once this process is gone.
fn spawn_reaper(cluster: &Cluster, dir: &Path, user: Option<os_user::OsUser>) {
    let script = format!(
        "while [ -d /proc/{pid} ]; do sleep 0.3; done; '{pg_ctl}' stop -D '{data}' -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        pg_ctl = cluster.bins.tool("pg_ctl").display(),
        data = cluster.data_dir().display(),
        dir = dir.display(),
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some(u) = user {
        cmd.uid(u.uid).gid(u.gid);
    }
    // Deliberately never waited for: it must outlive this process (it is re-parented to init).
    #[allow(clippy::zombie_processes)]
    cmd.spawn().expect("spawn cluster reaper");
}

/// A database created for one test and dropped when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A new, empty database on the test cluster.
    pub fn new() -> TestDb {
        let c = cluster();
        let name = format!(
            "t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin_exec(&format!("CREATE DATABASE {}", quote_ident(&name)));
        TestDb {
            url: c.cluster.url(c.port, &name),
            name,
        }
    }

    /// A connected client (spawns its connection task on the current runtime).
    pub async fn client(&self) -> tokio_postgres::Client {
        target(&self.url)
            .connect()
            .await
            .expect("connect to test db")
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        admin_exec(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        ));
    }
}

/// The URL of database `name` on the test cluster.
pub fn url_for(name: &str) -> String {
    let c = cluster();
    c.cluster.url(c.port, name)
}

fn target(url: &str) -> ConnTarget {
    let env = ConnEnv {
        var: &|_| None,
        home: None,
        os_user: None,
    };
    ConnTarget::resolve(url, &env).expect("test url")
}

/// Run SQL on the cluster's `postgres` database, on a private runtime (safe to call from
/// `Drop` and from inside async tests).
pub fn admin_exec(sql: &str) {
    let url = url_for("postgres");
    let sql = sql.to_string();
    on_private_runtime(async move {
        let client = target(&url).connect().await.expect("admin connect");
        client.batch_execute(&sql).await.expect("admin sql");
    });
}

/// Run `work` to completion on a new thread with its own runtime, so that synchronous tests,
/// `Drop` implementations and async tests can all call it.
fn on_private_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work)
    })
    .join()
    .expect("private runtime thread")
}

/// Run `sql` on database `url` (simple protocol) and return every row as text values, on a
/// private runtime (callable from synchronous tests).
pub fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let url = url.to_string();
    let sql = sql.to_string();
    on_private_runtime(async move {
        let client = target(&url).connect().await.expect("connect");
        let messages = client.simple_query(&sql).await.expect("query");
        messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    })
}

/// The single value of a one-row, one-column query.
pub fn query_one(url: &str, sql: &str) -> Option<String> {
    let rows = query(url, sql);
    assert_eq!(rows.len(), 1, "expected one row from {sql}, got {rows:?}");
    rows[0][0].clone()
}

/// Whether database `name` exists on the test cluster.
pub fn database_exists(name: &str) -> bool {
    query_one(
        &url_for("postgres"),
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname = {}",
            confiture_pg::ident::quote_literal(name)
        ),
    )
    .as_deref()
        == Some("1")
}

/// A database name not yet created on the test cluster; dropped (if a test created it) when
/// the value is dropped.
pub struct FreshDatabase {
    pub name: String,
    pub url: String,
}

impl FreshDatabase {
    pub fn new() -> FreshDatabase {
        let name = format!(
            "f{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        FreshDatabase {
            url: url_for(&name),
            name,
        }
    }
}

impl Default for FreshDatabase {
    fn default() -> Self {
        FreshDatabase::new()
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        admin_exec(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&self.name)
        ));
    }
}

/// Run `sql` (e.g. `BEGIN; LOCK TABLE t`) in a session of its own, keep that session open for
/// `hold`, then end it (its transaction is committed). Returns once `sql` has run; join the
/// handle to wait for the end.
pub fn hold_session(
    url: &str,
    sql: &str,
    hold: std::time::Duration,
) -> std::thread::JoinHandle<()> {
    let url = url.to_string();
    let sql = sql.to_string();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async move {
                let client = target(&url).connect().await.expect("connect");
                client.batch_execute(&sql).await.expect("hold sql");
                ready_tx.send(()).expect("signal");
                tokio::time::sleep(hold).await;
                let _ = client.batch_execute("COMMIT").await;
            })
    });
    ready_rx.recv().expect("the holding session started");
    handle
}
