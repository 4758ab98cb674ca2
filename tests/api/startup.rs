//! The real binary at start-up and in its logs: each way it cannot start is
//! one clear line and a non-zero exit, never a panic or a backtrace (SPEC
//! §6); logs fit a file or a collector.

use std::{
    io::Read,
    net::{SocketAddr, TcpListener},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::helpers::{TestDb, MUTATIONS};

/// `dompet serve` in an empty directory (no stray .env) with only PATH,
/// `RUST_BACKTRACE=1` (a panic would show its backtrace) and `env`.
fn serve(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dompet"));
    command
        .arg("serve")
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_BACKTRACE", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs a `dompet serve` that must fail, and answers its stderr.
#[track_caller]
fn failed_start(env: &[(&str, &str)]) -> String {
    let output = serve(env).output().expect("run dompet");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 stderr");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(output.stdout, b"");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    stderr.trim_end().to_owned()
}

/// A loopback port nothing listens on (bound, then let go).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[test]
fn a_bad_configuration_value_is_one_line_naming_the_variable() {
    assert_eq!(
        failed_start(&[("DOMPET_ADDR", "nonsense")]),
        r#"error: invalid DOMPET_ADDR="nonsense": expected host:port, e.g. 127.0.0.1:8080"#
    );
    assert_eq!(
        failed_start(&[("DOMPET_METRICS", "maybe")]),
        r#"error: invalid DOMPET_METRICS="maybe": expected true or false"#
    );
}

#[test]
fn an_unreachable_database_is_one_line_naming_the_server_and_the_cause() {
    let port = free_port();
    let url = format!("postgres://dompet:secret-pw@127.0.0.1:{port}/ledger");
    let started = Instant::now();

    let line = failed_start(&[("DATABASE_URL", &url)]);

    let expected = format!("error: cannot reach the database at 127.0.0.1:{port}/ledger: ");
    assert!(line.starts_with(&expected), "{line}");
    assert!(line.contains("refused"), "{line}");
    assert!(!line.contains("secret-pw"), "the password leaked: {line}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered at once"
    );
}

#[tokio::test]
async fn a_port_in_use_is_one_line_naming_the_address() {
    let db = TestDb::create().await;
    let [(url_name, url), (owner_name, owner)] = db.env();
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().unwrap().to_string();
    let lines = tokio::task::spawn_blocking(move || {
        let database = [(url_name, url.as_str()), (owner_name, owner.as_str())];
        let public = failed_start(&[database[0], database[1], ("DOMPET_ADDR", &addr)]);
        let metrics = failed_start(&[
            database[0],
            database[1],
            ("DOMPET_ADDR", "127.0.0.1:0"),
            ("DOMPET_METRICS_ADDR", &addr),
        ]);
        (addr, public, metrics)
    })
    .await
    .unwrap();
    let (addr, public, metrics) = lines;
    let expected = format!("error: cannot listen on {addr}: Address already in use (os error 98)");
    assert_eq!(public, expected);
    assert_eq!(metrics, expected);
    drop(taken);
}

#[test]
fn missing_postgresql_binaries_are_one_line_saying_what_to_install() {
    let empty = tempfile::tempdir().expect("temp dir");
    let data = tempfile::tempdir().expect("temp dir");
    let line = failed_start(&[
        ("DOMPET_PG_BIN", empty.path().to_str().unwrap()),
        (
            "DOMPET_DATA_DIR",
            data.path().join("data").to_str().unwrap(),
        ),
    ]);
    assert_eq!(
        line,
        "error: PostgreSQL server binaries (initdb, postgres) were not found in DOMPET_PG_BIN, \
         on PATH or under /usr/lib/postgresql/*/bin: install them (Debian: apt-get install \
         postgresql) or set DATABASE_URL to use an existing server"
    );
}

/// A running `dompet serve` on the test's database, stopped with SIGTERM by
/// [`Server::stop`], which answers everything it logged.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    async fn start(db: &TestDb, env: &[(&str, &str)]) -> Self {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut env = env.to_vec();
        let [(url_name, url), (owner_name, owner)] = db.env();
        let addr_text = addr.to_string();
        env.extend([
            (url_name, url.as_str()),
            (owner_name, owner.as_str()),
            ("DOMPET_ADDR", addr_text.as_str()),
        ]);
        let child = serve(&env)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dompet");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "dompet did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, addr }
    }

    fn stop(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut log).expect("read the log");
        }
        let status = self.child.wait().expect("dompet exits");
        assert!(status.success(), "{status:?}\n{log}");
        log
    }
}

async fn unauthenticated_read(server: &Server, request_id: &str) {
    let status = reqwest::Client::new()
        .get(format!("http://{}{MUTATIONS}?page=1", server.addr))
        .header("x-request-id", request_id)
        .send()
        .await
        .expect("request")
        .status();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_with_its_id_route_status_and_latency() {
    let db = TestDb::create().await;
    let server = Server::start(
        &db,
        &[("DOMPET_LOG_FORMAT", "json"), ("DOMPET_ACCESS_LOG", "true")],
    )
    .await;

    unauthenticated_read(&server, "req-4242").await;
    let log = tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();

    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["request_id"] == "req-4242" && l["message"] == "request")
        .collect();
    assert_eq!(access.len(), 1, "{log}");
    let line = access[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], MUTATIONS);
    assert_eq!(line["status"], 401);
    assert!(
        line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{line}"
    );
    assert!(!log.contains("Authorization") && !log.contains("authorization"));
}

#[tokio::test]
async fn human_logs_to_a_file_have_no_colour_codes_and_no_line_per_request_by_default() {
    let db = TestDb::create().await;
    let server = Server::start(&db, &[]).await;

    unauthenticated_read(&server, "req-quiet").await;
    let log = tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();

    assert!(log.contains("dompet is serving"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a file: {log:?}");
    assert!(
        !log.contains("req-quiet"),
        "a request line by default: {log}"
    );
}
