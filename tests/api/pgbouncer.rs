//! dompet behind PgBouncer in transaction pooling mode (SPEC §8), with
//! Debian's PgBouncer (1.18: no protocol-level prepared statements). dompet
//! runs with `DOMPET_DB_STATEMENT_CACHE=0`; PgBouncer discards every server
//! connection's prepared statements when a transaction hands it back. Fewer
//! server connections than clients, so backends are really shared.

use std::{
    fs,
    os::unix::{fs::chown, process::CommandExt},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use dompet::{
    config::{Config, Secret},
    database::Database,
};
use futures::future::join_all;

use crate::helpers::{random, Node, TestDb};

/// A PgBouncer in front of one database of the test server.
struct PgBouncer {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl PgBouncer {
    fn start(db: &TestDb) -> Self {
        let binary = find_pgbouncer();
        let dir = std::env::temp_dir().join(format!("dompet-pgbouncer-{}", random(10)));
        fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // dompet reaches the database through PgBouncer as its runtime role.
        let options = &db.runtime_options;
        let password = db
            .url()
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .and_then(|(auth, _)| auth.split_once(':'))
            .map(|(_, password)| password.to_owned())
            .unwrap_or_default();
        let ini = format!(
            "[databases]\n\
             dompet = host={} port={} dbname={} user={} password={password}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = any\n\
             pool_mode = transaction\n\
             default_pool_size = 4\n\
             max_client_conn = 200\n\
             server_reset_query = DEALLOCATE ALL\n\
             server_reset_query_always = 1\n\
             ignore_startup_parameters = extra_float_digits,search_path\n\
             logfile = {}\n",
            options.get_host(),
            options.get_port(),
            db.name,
            options.get_username(),
            dir.join("pgbouncer.log").display(),
        );
        fs::write(dir.join("pgbouncer.ini"), ini).unwrap();
        let mut command = Command::new(binary);
        command
            .arg(dir.join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // PgBouncer refuses to run as root.
        if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name("postgres").unwrap().unwrap();
            for path in [dir.clone(), dir.join("pgbouncer.ini")] {
                chown(&path, Some(user.uid.as_raw()), Some(user.gid.as_raw())).unwrap();
            }
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
        let child = command.spawn().expect("start pgbouncer");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not start: {}",
                log(&dir)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, dir, port }
    }

    fn url(&self) -> String {
        format!("postgres://dompet@127.0.0.1:{}/dompet", self.port)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn log(dir: &Path) -> String {
    fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
}

/// Debian's pgbouncer; `.ci/run` installs it (`apt-get install pgbouncer`).
fn find_pgbouncer() -> PathBuf {
    [
        "/usr/sbin/pgbouncer",
        "/usr/bin/pgbouncer",
        "/usr/local/bin/pgbouncer",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .expect("pgbouncer is not installed: apt-get install pgbouncer (.ci/run does)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawals_postings_and_history_work_through_pgbouncer_in_transaction_mode() {
    // Arrange: the schema migrated directly (migrations take session-level
    // advisory locks, which transaction pooling cannot keep), then dompet
    // on PgBouncer only, statement cache off.
    let db = TestDb::create().await;
    db.migrate().await;
    let bouncer = PgBouncer::start(&db);
    let mut config = Config::from_lookup(|_| None).expect("config");
    config.database_url = Some(Secret::new(bouncer.url()));
    config.db_statement_cache = 0;
    config.db_transaction_pooler = true;
    let database = Database::open(&config, false)
        .await
        .expect("open through pgbouncer");
    let node = Node::start(database.pool.clone(), |c| {
        c.db_statement_cache = 0;
        c.db_transaction_pooler = true;
    })
    .await;
    let mut users = Vec::new();
    for _ in 0..8 {
        users.push(node.funded_user(100_000).await);
    }

    // Act: concurrent withdrawals, top-ups and history reads; one user
    // racing ten withdrawals at once.
    let work = users.iter().enumerate().map(|(i, (user, account))| {
        let node = &node;
        async move {
            let withdrawn = node.withdraw(user, *account, 10_000).await;
            let topup = node.topup(user, 500, &format!("bouncer-{i}")).await;
            let history = node.mutations(user).await;
            (withdrawn, topup, history)
        }
    });
    let results = join_all(work).await;
    let (racer, account) = node.funded_user(100_000).await;
    let races = join_all((0..10).map(|_| node.withdraw(&racer, account, 1_000))).await;

    // Assert: every request did what it should, nothing twice.
    for (withdrawn, topup, history) in &results {
        assert_eq!(withdrawn.json()["status"], "OK", "{withdrawn:?}");
        assert_eq!(topup.status, 201, "{topup:?}");
        let rows = history["history"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{history}");
        assert_eq!(rows[0]["final_balance"], 90_500, "{history}");
    }
    let accepted = races.iter().filter(|a| a.json()["status"] == "OK").count();
    assert_eq!(accepted, 1, "one withdrawal a day: {races:?}");
    assert!(races.iter().all(|a| a.status == 200), "{races:?}");
    node.assert_ledger_ok().await;
    assert!(
        !log(&bouncer.dir).contains("prepared statement"),
        "{}",
        log(&bouncer.dir)
    );
    database.close().await;
}

#[tokio::test]
async fn the_serving_pool_opens_through_pgbouncer_without_session_settings() {
    // Arrange: PgBouncer refuses startup parameters it does not know, and
    // the serving pool's timeouts are such parameters.
    let db = TestDb::create().await;
    db.migrate().await;
    let bouncer = PgBouncer::start(&db);
    let mut config = Config::from_lookup(|_| None).expect("config");
    config.db_statement_cache = 0;
    let options: sqlx::postgres::PgConnectOptions = bouncer.url().parse().unwrap();

    // Act
    let pool = dompet::pool::serving(options.statement_cache_capacity(0), &config)
        .await
        .expect("the serving pool opens all the same");

    // Assert: it works, without the settings (they belong on the role).
    let mut tx = dompet::store::begin(&pool).await.unwrap();
    let timeout: String = sqlx::query_scalar("show lock_timeout")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(timeout, "0");
    pool.close().await;
}
