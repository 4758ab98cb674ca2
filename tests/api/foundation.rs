//! The skeleton: probes, error envelopes, migrations, constraints, and the
//! embedded PostgreSQL's life cycle.

use std::{
    io::Read,
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use dompet::{
    pgcluster::{Cluster, Lifetime},
    MIGRATOR,
};
use reqwest::Method;
use sqlx::{postgres::PgPoolOptions, Connection};

use crate::helpers::{spawn_app, TestDb, NOT_ALLOWED, NOT_FOUND};

#[tokio::test]
async fn healthz_and_readyz_answer_ok() {
    let app = spawn_app().await;
    app.send(app.request(Method::GET, "/healthz"))
        .await
        .assert(200, r#"{"status":"OK"}"#);
    app.send(app.request(Method::GET, "/readyz"))
        .await
        .assert(200, r#"{"status":"OK"}"#);
}

#[tokio::test]
async fn readyz_says_so_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    let dead = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy("postgres://nobody:nothing@127.0.0.1:1/none")
        .expect("lazy pool");
    let mut config = dompet::config::Config::from_lookup(|_| None).unwrap();
    config.addr = "127.0.0.1:0".parse().unwrap();
    let broken = dompet::startup::Application::build(&config, dead)
        .await
        .unwrap();
    let addr = broken.local_addr().unwrap();
    tokio::spawn(broken.run_until(std::future::pending()));

    let answer = app
        .send(app.client.get(format!("http://{addr}/readyz")))
        .await;

    answer.assert(
        503,
        r#"{"status":"ERROR","message":"Database tidak tersedia."}"#,
    );
}

#[tokio::test]
async fn unknown_paths_are_a_json_404_whatever_the_credentials() {
    let app = spawn_app().await;
    for request in [
        app.request(Method::GET, "/nope"),
        app.request(Method::GET, "/v1/dompet/history/mutations"),
        app.request(Method::POST, "/v3/dompet/withdraw.json")
            .basic_auth("1", Some("x")),
        app.request(Method::GET, "/internal/v1/nope")
            .bearer_auth("wrong"),
    ] {
        let answer = app.send(request).await;
        answer.assert(404, NOT_FOUND);
        assert_eq!(answer.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn wrong_methods_are_a_json_405_whatever_the_credentials() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::DELETE, "/healthz"),
        (Method::POST, "/v1/dompet/history/mutations.json"),
        (Method::GET, "/v2/dompet/withdraw.json"),
        (Method::PUT, "/v2/dompet/history/withdrawals.json"),
    ] {
        let answer = app
            .send(app.request(method, path).basic_auth("1", Some("x")))
            .await;
        answer.assert(405, NOT_ALLOWED);
        assert!(answer.headers.contains_key("allow"));
    }
}

#[tokio::test]
async fn a_body_over_16_kib_is_a_json_413_and_changes_nothing() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let before = app.ledger_fingerprint().await;
    let padding = "x".repeat(17 * 1024);
    let form = format!(
        "deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={}&pad={padding}",
        user.password
    );

    let answer = app.withdraw_form(&user, &form).await;

    answer.assert(
        413,
        r#"{"status":"ERROR","message":"Permintaan terlalu besar."}"#,
    );
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn an_unexpected_database_failure_is_the_generic_500_envelope() {
    let app = spawn_app().await;
    let user = app.create_user().await;
    sqlx::query("alter table mutations rename column amount to amount_gone")
        .execute(&app.pool)
        .await
        .unwrap();

    let answer = app.mutations(&user, "").await;

    answer.assert(
        500,
        r#"{"status":"ERROR","message":"Terjadi kesalahan pada server."}"#,
    );
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_are_idempotent() {
    let db = TestDb::create().await;
    let pool = db.pool(2).await;

    MIGRATOR.run(&pool).await.expect("first run");
    MIGRATOR
        .run(&pool)
        .await
        .expect("second run changes nothing");

    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_name not like '\\_sqlx%' order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "bank_accounts",
            "deposits",
            "login_throttle",
            "mutations",
            "password_failures",
            "password_lockouts",
            "statement_lines",
            "tokens",
            "topup_idempotency",
            "topups",
            "user_write_lsn",
            "users",
            "withdraw_idempotency",
            "withdrawals"
        ]
    );
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, MIGRATOR.iter().count() as i64);
}

/// Runs `sql` and returns the name of the constraint it violated.
async fn violated(pool: &sqlx::PgPool, sql: &str) -> String {
    let err = sqlx::query(sql).execute(pool).await.expect_err(sql);
    err.as_database_error()
        .and_then(|e| e.constraint())
        .unwrap_or_else(|| panic!("no constraint named in {err}"))
        .to_owned()
}

#[tokio::test]
async fn the_schema_rejects_hand_written_bad_rows() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(10_000).await;
    let (id, deposit) = (user.id, user.deposit_id);
    let pool = &app.pool;

    assert_eq!(
        violated(
            pool,
            &format!("update deposits set balance = -1 where id = {deposit}")
        )
        .await,
        "deposits_balance_nonnegative"
    );
    for (row, constraint) in [
        (
            "'Deposit::Credit', 'topup', 100, 10000, 10200, 'k1'",
            "mutations_final_balance_arithmetic",
        ),
        (
            "'Deposit::Debit', 'payment', 20000, 10000, -10000, 'k2'",
            "mutations_final_balance_nonnegative",
        ),
        (
            "'Deposit::Credit', 'topup', 0, 10000, 10000, 'k3'",
            "mutations_amount_positive",
        ),
        (
            "'Deposit::Debit', 'topup', 100, 10000, 9900, 'k4'",
            "mutations_type_matches_action",
        ),
        (
            "'Deposit::Credit', 'restore', 100, 10000, 10100, null",
            "mutations_withdrawal_link",
        ),
    ] {
        let insert = format!(
            "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, idempotency_key)
             values ({id}, {deposit}, {row})"
        );
        assert_eq!(violated(pool, &insert).await, constraint, "{row}");
    }
    let withdrawal = format!(
        "insert into withdrawals (user_id, deposit_id, bank_account_id, amount, local_day)
         values ({id}, {deposit}, {account}, 1000, date '2026-01-02')"
    );
    sqlx::query(&withdrawal)
        .execute(pool)
        .await
        .expect("first withdrawal of the day");
    assert_eq!(violated(pool, &withdrawal).await, "withdrawals_one_per_day");
    let other = app.create_user().await;
    assert_eq!(
        violated(
            pool,
            &format!(
                "insert into withdrawals (user_id, deposit_id, bank_account_id, amount, local_day)
             values ({}, {}, {account}, 1000, date '2026-01-03')",
                other.id, other.deposit_id
            )
        )
        .await,
        "withdrawals_bank_account_fkey"
    );
}

#[tokio::test]
async fn the_schema_lets_a_cancelled_withdrawal_free_its_day() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(10_000).await;
    let insert = format!(
        "insert into withdrawals (user_id, deposit_id, bank_account_id, amount, local_day, state, cancelled_at)
         values ({}, {}, {account}, 1000, date '2026-01-02', 'cancelled', now())",
        user.id, user.deposit_id
    );
    sqlx::query(&insert).execute(&app.pool).await.unwrap();
    sqlx::query(&insert.replace("'cancelled', now()", "'pending', null"))
        .execute(&app.pool)
        .await
        .expect("a cancelled withdrawal does not hold the day");
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(cmdline);
            }
        }
    }
    found
}

#[tokio::test]
async fn the_embedded_cluster_starts_stops_cleanly_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cluster");
    let root2 = root.clone();
    let (pid, url) = tokio::task::spawn_blocking(move || {
        let cluster = Cluster::start(&root2, Lifetime::Persistent).expect("start");
        (
            cluster.server_pid().expect("started here"),
            cluster.url("postgres"),
        )
    })
    .await
    .unwrap();
    // Dropping the cluster at the end of the closure stopped it.
    assert!(!pid_alive(pid), "postgres {pid} outlived its Cluster");
    assert!(processes_mentioning(&root.display().to_string()).is_empty());
    assert!(sqlx::PgPool::connect(&url).await.is_err());

    let root2 = root.clone();
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(&root2, Lifetime::Persistent))
        .await
        .unwrap()
        .expect("restart on the same data");
    let pool = sqlx::PgPool::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    sqlx::query("create table kept (v int)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let pid = cluster.server_pid().unwrap();
    drop(cluster);
    assert!(!pid_alive(pid));

    let root2 = root.clone();
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(&root2, Lifetime::Persistent))
        .await
        .unwrap()
        .unwrap();
    let pool = sqlx::PgPool::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    let kept: i64 = sqlx::query_scalar("select count(*) from kept")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 0, "the table made before the restart is still there");
    pool.close().await;
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_binary_serves_the_seed_on_its_embedded_default_and_sigint_leaves_no_postgres() {
    serve_the_seed_then_stop_with(nix::sys::signal::Signal::SIGINT).await;
}

#[tokio::test]
async fn sigterm_stops_the_binary_and_its_postgres_too() {
    serve_the_seed_then_stop_with(nix::sys::signal::Signal::SIGTERM).await;
}

#[test]
fn without_postgresql_binaries_the_embedded_default_exits_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_dompet"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("DOMPET_PG_BIN", dir.path())
        .env("DOMPET_ADDR", "127.0.0.1:0")
        .output()
        .expect("run dompet");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: PostgreSQL server binaries")
            && stderr.contains("apt-get install postgresql")
            && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
    assert!(!dir.path().join(".dompet").exists(), "nothing was created");
}

/// Waits for a `dompet` child process to answer `/healthz`, failing the test
/// if it exits first or takes longer than a cold embedded start may.
async fn wait_until_serving(client: &reqwest::Client, addr: &str, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "dompet did not come up");
        assert!(child.try_wait().unwrap().is_none(), "dompet exited early");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(request: reqwest::RequestBuilder) -> String {
    request.send().await.unwrap().text().await.unwrap()
}

/// The roles of the sessions open on the embedded default's database,
/// asked as its superuser (whose password sits beside the cluster's data).
async fn embedded_session_roles(data_dir: &std::path::Path, pidfile: &str) -> Vec<String> {
    let pgdata = std::fs::canonicalize(data_dir.join("data")).unwrap();
    let password = std::fs::read_to_string(pgdata.parent().unwrap().join("password")).unwrap();
    let port = pidfile.lines().nth(3).unwrap().trim();
    let url = format!(
        "postgres://dompet:{}@127.0.0.1:{port}/dompet",
        password.trim()
    );
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let roles = sqlx::query_scalar(
        "select distinct usename::text from pg_stat_activity
         where datname = 'dompet' and pid <> pg_backend_pid() and usename is not null",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    roles
}

/// Runs `dompet` on its embedded default in a fresh directory, checks the
/// seed answers, stops it with `signal` and checks no postgres is left.
async fn serve_the_seed_then_stop_with(signal: nix::sys::signal::Signal) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join(".dompet");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dompet"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("DOMPET_DATA_DIR", &data_dir)
        .env("DOMPET_ADDR", &addr)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dompet");
    let client = reqwest::Client::new();
    wait_until_serving(&client, &addr, &mut child).await;

    let seed = text(
        client
            .get(format!(
                "http://{addr}/v1/dompet/history/mutations.json?page=1&per_page=1"
            ))
            .basic_auth("204254", Some("Sy7PRGGr4foUk22uzjMu")),
    )
    .await;
    assert_eq!(
        seed,
        r#"{"status":"OK","history":[{"id":346,"type":"Deposit::Credit","action":"remit","amount":30000,"initial_balance":0,"final_balance":30000,"transaction_id":51938,"created_at":"2013-11-25T15:32:47+07:00","updated_at":"2013-11-25T15:32:47+07:00"}],"message":null}"#
    );
    let withdraw = text(
        client
            .post(format!("http://{addr}/v2/dompet/withdraw.json"))
            .basic_auth("204254", Some("Sy7PRGGr4foUk22uzjMu"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("deposit_withdrawal[amount]=25000&deposit_withdrawal[bank_account_id]=41812&deposit_withdrawal[password]=testing1234"),
    )
    .await;
    assert_eq!(
        withdraw,
        r#"{"status":"OK","withdrawal_id":4,"message":"Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam."}"#
    );
    let pidfile = std::fs::read_to_string(data_dir.join("data/postmaster.pid")).unwrap();
    let postgres_pid: u32 = pidfile.lines().next().unwrap().trim().parse().unwrap();
    assert!(pid_alive(postgres_pid));
    assert_eq!(
        embedded_session_roles(&data_dir, &pidfile).await,
        ["dompet_app"],
        "the server connects as the runtime role, not the superuser"
    );

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();

    let mut log = String::new();
    status.stderr.as_slice().read_to_string(&mut log).unwrap();
    assert!(
        status.status.success(),
        "dompet exited with {:?}: {log}",
        status.status
    );
    assert!(!pid_alive(postgres_pid), "postgres survived dompet: {log}");
    assert!(processes_mentioning(&data_dir.display().to_string()).is_empty());
}

#[tokio::test]
async fn json_logs_at_debug_level_never_contain_passwords_or_tokens() {
    // Arrange: the real binary on a fresh database, logging everything.
    let db = TestDb::create().await;
    let admin_token = "operator-secret-4f1d9c";
    let password = "kata-sandi-rahasia-77";
    let addr = format!("127.0.0.1:{}", free_port());
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dompet"))
        .current_dir(dir.path())
        .envs(db.env())
        .env("DOMPET_ADDR", &addr)
        .env("DOMPET_ADMIN_TOKEN", admin_token)
        .env("DOMPET_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dompet");
    // Read as it comes: a full pipe would block dompet's logging, and so
    // dompet, with a request in flight.
    let mut stderr = child.stderr.take().unwrap();
    let drained = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).map(|_| log)
    });
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    wait_until_serving(&client, &addr, &mut child).await;

    // Act: every kind of secret crosses the wire.
    let created: serde_json::Value = client
        .post(format!("{base}/internal/v1/users"))
        .bearer_auth(admin_token)
        .json(&serde_json::json!({"username": "logs", "email": "logs@example.com", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (
        created["id"].as_i64().unwrap(),
        created["token"].as_str().unwrap().to_owned(),
    );
    for attempt in [password, "a-wrong-password-93"] {
        let answer = client
            .post(format!("{base}/v2/dompet/withdraw.json"))
            .basic_auth(id, Some(&token))
            .form(&[
                ("deposit_withdrawal[amount]", "1000"),
                ("deposit_withdrawal[password]", attempt),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    client
        .get(format!("{base}/v1/dompet/history/mutations.json"))
        .basic_auth(id, Some("a-wrong-token"))
        .send()
        .await
        .unwrap();
    let mut login_tokens = Vec::new();
    for attempt in [password, "a-wrong-password-93"] {
        let answer: serde_json::Value = client
            .post(format!("{base}/v2/authenticate.json"))
            .basic_auth("logs", Some(attempt))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login_tokens.extend(answer["token"].as_str().map(str::to_owned));
    }
    assert_eq!(login_tokens.len(), 1, "the right password logged in");
    client
        .post(format!("{base}/internal/v1/users/{id}/password"))
        .bearer_auth(admin_token)
        .json(&serde_json::json!({"password": "a-new-password-61"}))
        .send()
        .await
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let log = drained.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());

    // Assert
    assert!(log.contains("withdraw.json"), "requests were logged: {log}");
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
    }
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{id}:{token}"),
    );
    let login_basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("logs:{password}"),
    );
    for secret in [
        password,
        "a-wrong-password-93",
        &token,
        admin_token,
        &basic,
        "a-wrong-token",
        &login_tokens[0],
        &login_basic,
        "a-new-password-61",
    ] {
        assert!(!log.contains(secret), "the log leaks {secret:?}");
    }
}
