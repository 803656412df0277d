//! Test harness: one real PostgreSQL cluster per test process, a fresh database per test.
//!
//! The cluster is created in a temporary directory from the machine's PostgreSQL binaries
//! (as the `postgres` OS user when the tests run as root) with durability off. A small watcher
//! process stops the server and deletes the directory when the test process exits, however it
//! exits: normally, on panic, or killed.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use confiture_pg::cluster::{os_user, Cluster, ClusterOptions, PgBinaries};
use confiture_pg::{ConnEnv, ConnTarget};

pub struct TestCluster {
    pub cluster: Cluster,
    pub port: u16,
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
        let port = cluster.start(None).expect("start test cluster");
        spawn_reaper(&cluster, &dir, user);
        TestCluster { cluster, port }
    })
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
        admin_exec(&format!("CREATE DATABASE \"{name}\""));
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
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
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
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let client = target(&url).connect().await.expect("admin connect");
            client.batch_execute(&sql).await.expect("admin sql");
        });
    })
    .join()
    .expect("admin thread");
}
