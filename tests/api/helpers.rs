//! The test harness: a fresh database per test on a shared server, the app
//! on 127.0.0.1:0, and helpers that speak to it over HTTP. Test modules take
//! what they share from here (and its parts), never from each other.

#![allow(dead_code)]

mod arrange;
mod cli;
mod expected;
mod ledger;
mod login;
mod pair;
mod waits;

pub use cli::*;
pub use expected::*;
pub use ledger::*;
pub use pair::*;

use std::{
    net::SocketAddr,
    str::FromStr,
    sync::{Once, OnceLock},
};

use dompet::{
    config::{Config, Secret},
    database::roles,
    domain::UserId,
    pgcluster::{Cluster, Lifetime},
    service::{seed, Dompet},
    startup::Application,
    MIGRATOR,
};
use rand::{distributions::Alphanumeric, Rng};
use reqwest::{header::HeaderMap, Method, RequestBuilder, StatusCode};
use serde_json::Value;
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    ConnectOptions, Connection, PgConnection, PgPool,
};
use tokio::sync::oneshot;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
/// The password of every user `create_user` makes.
pub const USER_PASSWORD: &str = "rahasia-123";

pub const MUTATIONS: &str = "/v1/dompet/history/mutations.json";
pub const WITHDRAWALS: &str = "/v2/dompet/history/withdrawals.json";
pub const WITHDRAW: &str = "/v2/dompet/withdraw.json";

/// The server every test's database lives on.
struct TestServer {
    options: PgConnectOptions,
    /// The same server as a URL, for child processes (the CLI tests).
    url: String,
    /// Kept alive for the whole run; its watchdog removes it when the test
    /// binary exits.
    _cluster: Option<Cluster>,
}

fn test_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => TestServer {
            options: PgConnectOptions::from_str(&url).expect("DATABASE_URL must be a postgres URL"),
            url,
            _cluster: None,
        },
        _ => {
            let root = std::env::temp_dir().join(format!(
                "dompet-test-{}-{}",
                std::process::id(),
                random(8)
            ));
            let cluster = Cluster::start(&root, Lifetime::Throwaway)
                .unwrap_or_else(|e| panic!("cannot start the throwaway PostgreSQL: {e}"));
            TestServer {
                options: PgConnectOptions::from_str(&cluster.url("postgres")).expect("cluster url"),
                url: cluster.url("postgres"),
                _cluster: Some(cluster),
            }
        }
    })
}

fn init_test_tracing() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            dompet::telemetry::init_tracing(
                dompet::config::LogFormat::Human,
                "dompet=debug,tower_http=debug",
                std::io::stdout,
                false,
            );
        }
    });
}

/// Held by tests that load the machine on purpose (floods, timing figures),
/// so two of them never run at once and skew each other's figures.
pub async fn load_test_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

pub fn random(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect::<String>()
        .to_lowercase()
}

/// A fresh database on the test server, with a runtime role of its own that
/// the app connects as (so the whole suite runs least-privileged); migrate
/// it with [`TestDb::migrate`].
pub struct TestDb {
    pub name: String,
    /// The server's own role: owns the schema, migrates, arranges and
    /// inspects (and may break) anything.
    pub options: PgConnectOptions,
    /// The runtime role of this database only (`<name>_app`).
    pub runtime_role: String,
    pub runtime_options: PgConnectOptions,
    runtime_password: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let server = test_server();
        let name = format!("test_{}", random(16));
        let runtime_role = format!("{name}_app");
        let runtime_password = random(24);
        let mut admin = server
            .options
            .connect()
            .await
            .expect("connect to the test server");
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        roles::ensure_runtime_role(&mut admin, &runtime_role, &runtime_password)
            .await
            .expect("create the test database's runtime role");
        admin.close().await.ok();
        Self {
            options: server.options.clone().database(&name),
            runtime_options: server
                .options
                .clone()
                .database(&name)
                .username(&runtime_role)
                .password(&runtime_password),
            name,
            runtime_role,
            runtime_password,
        }
    }

    /// Applies the migrations as the owner, then the runtime role's grants,
    /// exactly as dompet does at start.
    pub async fn migrate(&self) {
        let mut owner = self.connect().await;
        MIGRATOR
            .run(&mut owner)
            .await
            .expect("migrate the test database");
        roles::grant_runtime(&mut owner, &self.runtime_role)
            .await
            .expect("grant the runtime role");
        owner.close().await.ok();
    }

    /// A pool as the owner.
    pub async fn pool(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.options.clone())
            .await
            .expect("connect to the test database")
    }

    /// A pool as the runtime role, with the server's pool settings.
    pub async fn runtime_pool(&self, max_connections: u32) -> PgPool {
        dompet::database::pool_options(max_connections)
            .connect_with(self.runtime_options.clone())
            .await
            .expect("connect to the test database as the runtime role")
    }

    /// A `postgres://` URL of this database as the runtime role, for
    /// `DATABASE_URL` of a `dompet` child process.
    pub fn url(&self) -> String {
        self.url_as(Some((&self.runtime_role, &self.runtime_password)))
    }

    /// The same as another role.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        self.url_as(Some((user, password)))
    }

    /// The same as the owner, for `DOMPET_MIGRATE_DATABASE_URL`.
    pub fn owner_url(&self) -> String {
        self.url_as(None)
    }

    /// The environment of a `dompet` child process on this database: the
    /// runtime role serves, the owner migrates.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("DATABASE_URL", self.url()),
            ("DOMPET_MIGRATE_DATABASE_URL", self.owner_url()),
        ]
    }

    fn url_as(&self, credentials: Option<(&str, &str)>) -> String {
        let base = &test_server().url;
        let (without_query, query) = base
            .split_once('?')
            .map_or((base.as_str(), ""), |(b, q)| (b, q));
        let server = without_query
            .strip_prefix("postgres://")
            .or_else(|| without_query.strip_prefix("postgresql://"))
            .map_or(without_query, |rest| {
                rest.split_once('/').map_or(rest, |(s, _)| s)
            });
        let server = match credentials {
            Some((user, password)) => {
                let host = server.rsplit_once('@').map_or(server, |(_, host)| host);
                format!("{user}:{password}@{host}")
            }
            None => server.to_owned(),
        };
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("postgres://{server}/{}{query}", self.name)
    }

    pub async fn connect(&self) -> PgConnection {
        self.options
            .connect()
            .await
            .expect("connect to the test database")
    }

    /// Drops the database and its role from a thread of its own (Drop
    /// cannot await).
    fn drop_blocking(&self) {
        let server_options = test_server().options.clone();
        let name = self.name.clone();
        let role = self.runtime_role.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = server_options.connect().await {
                    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut admin)
                        .await;
                    let _ = sqlx::query(&format!("drop role if exists {role}"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // A failed test keeps its database for a look (its name is printed).
        if std::thread::panicking() {
            eprintln!("kept test database {}", self.name);
        } else {
            self.drop_blocking();
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The `DOMPET_METRICS_ADDR` listener, when the test asked for one.
    pub metrics_addr: Option<SocketAddr>,
    pub db: TestDb,
    /// The test's own pool, as the owner, for arranging data and inspecting
    /// (or breaking) the ledger.
    pub pool: PgPool,
    /// The app's pool, as the runtime role.
    pub app_pool: PgPool,
    /// The service over the app's pool, for arranging data quickly.
    pub dompet: Dompet,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub token: String,
    pub password: String,
    pub deposit_id: i64,
}

/// An HTTP answer, with the raw body for exact comparisons.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// Sends `request`; any answer is kept, with its raw body.
    pub async fn of(request: RequestBuilder) -> Self {
        let response = request.send().await.expect("request failed");
        Self {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    #[track_caller]
    pub fn assert(&self, status: u16, body: &str) {
        assert_eq!((self.status.as_u16(), self.body.as_str()), (status, body));
    }

    /// The id of an accepted withdrawal; fails the test on anything else.
    #[track_caller]
    pub fn withdrawal_id(&self) -> i64 {
        self.json()["withdrawal_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("not accepted: {}", self.body))
    }
}

/// A withdraw form body of the three fields, each percent-encoded.
pub fn form(amount: &str, bank_account_id: &str, password: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("deposit_withdrawal[amount]", amount)
        .append_pair("deposit_withdrawal[bank_account_id]", bank_account_id)
        .append_pair("deposit_withdrawal[password]", password)
        .finish()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(TestDb::create().await, customize).await
}

/// The app on a database the test prepared (migrated here to the latest).
pub async fn spawn_app_on(db: TestDb, customize: impl FnOnce(&mut Config)) -> TestApp {
    init_test_tracing();
    db.migrate().await;
    let pool = db.pool(30).await;
    let app_pool = db.runtime_pool(30).await;
    let mut config = Config::from_lookup(|_| None).expect("default config");
    config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    config.operator_token = Some(Secret::new(ADMIN_TOKEN));
    customize(&mut config);
    // The app answers over a pool built as `dompet serve` builds its own,
    // as the runtime role.
    let serving = dompet::pool::serving(db.runtime_options.clone(), &config)
        .await
        .expect("the app's pool");
    let app = Application::build(&config, serving)
        .await
        .expect("build the app");
    let addr = app.local_addr().expect("bound address");
    let metrics_addr = app.metrics_addr();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = app
            .run_until(async {
                let _ = stop.await;
            })
            .await;
    });
    TestApp {
        addr,
        metrics_addr,
        dompet: Dompet::new(app_pool.clone(), config.timezone, config.withdrawal_fee),
        pool,
        app_pool,
        db,
        client: reqwest::Client::new(),
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Any request, answered with its raw body.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::of(request).await
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub async fn get_as(&self, user: &TestUser, path: &str) -> Answer {
        self.send(
            self.request(Method::GET, path)
                .basic_auth(user.id, Some(&user.token)),
        )
        .await
    }

    pub async fn mutations(&self, user: &TestUser, query: &str) -> Answer {
        self.get_as(user, &format!("{MUTATIONS}{query}")).await
    }

    pub async fn withdrawals(&self, user: &TestUser, query: &str) -> Answer {
        self.get_as(user, &format!("{WITHDRAWALS}{query}")).await
    }

    /// An authenticated POST to the withdraw endpoint, to be given a body;
    /// `query` is empty or starts with `?`.
    pub fn withdraw_request(&self, user: &TestUser, query: &str) -> RequestBuilder {
        self.request(Method::POST, &format!("{WITHDRAW}{query}"))
            .basic_auth(user.id, Some(&user.token))
    }

    /// POSTs a form body, as the seed's curl does.
    pub async fn withdraw_form(&self, user: &TestUser, form: &str) -> Answer {
        self.send(
            self.withdraw_request(user, "")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_owned()),
        )
        .await
    }

    /// POSTs a JSON body.
    pub async fn withdraw_json(&self, user: &TestUser, json: &str) -> Answer {
        self.send(
            self.withdraw_request(user, "")
                .header("content-type", "application/json")
                .body(json.to_owned()),
        )
        .await
    }

    /// A well-formed withdrawal of `amount` to `bank_account_id`.
    pub async fn withdraw(
        &self,
        user: &TestUser,
        amount: i64,
        bank_account_id: i64,
        password: &str,
    ) -> Answer {
        self.withdraw_form(
            user,
            &format!(
                "deposit_withdrawal[amount]={amount}&deposit_withdrawal[bank_account_id]={bank_account_id}&deposit_withdrawal[password]={password}"
            ),
        )
        .await
    }

    /// A well-formed withdrawal with the user's password, under an
    /// `Idempotency-Key`.
    pub async fn withdraw_with_key(
        &self,
        user: &TestUser,
        key: &str,
        amount: i64,
        bank_account_id: i64,
    ) -> Answer {
        self.send(
            self.withdraw_request(user, "")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("idempotency-key", key)
                .body(form(
                    &amount.to_string(),
                    &bank_account_id.to_string(),
                    &user.password,
                )),
        )
        .await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .request(method, &format!("/internal/v1{path}"))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    pub async fn admin_post_mutation(&self, body: Value) -> Answer {
        self.admin(Method::POST, "/mutations", Some(body)).await
    }

    pub async fn admin_process_withdrawal(&self, id: i64) -> Answer {
        self.admin(Method::POST, &format!("/withdrawals/{id}/process"), None)
            .await
    }

    pub async fn admin_cancel_withdrawal(&self, id: i64) -> Answer {
        self.admin(Method::POST, &format!("/withdrawals/{id}/cancel"), None)
            .await
    }

    pub async fn admin_verify_ledger(&self) -> Answer {
        self.admin(Method::GET, "/ledger/verify", None).await
    }

    /// A user with a known token and password, through the service.
    pub async fn create_user(&self) -> TestUser {
        arrange::create_user(&self.dompet).await
    }

    pub async fn add_bank_account(&self, user: &TestUser) -> i64 {
        arrange::add_bank_account(&self.dompet, user).await
    }

    /// Credits `amount` with a `topup`.
    pub async fn credit(&self, user: &TestUser, amount: i64) {
        arrange::credit(&self.dompet, user, amount).await
    }

    /// A user with a bank account and `balance` in the wallet.
    pub async fn funded_user(&self, balance: i64) -> (TestUser, i64) {
        arrange::funded_user(&self.dompet, balance).await
    }

    /// A user who made a pending withdrawal of `amount` through the public
    /// API, with `left` rupiah still in the wallet afterwards (the fee aside).
    pub async fn user_with_withdrawal(&self, amount: i64, left: i64) -> (TestUser, i64) {
        let (user, account) = self.funded_user(amount + left).await;
        let answer = self.withdraw(&user, amount, account, &user.password).await;
        let id = answer.json()["withdrawal_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("withdrawal refused: {answer:?}"));
        (user, id)
    }

    /// The seed's demo user (id 204254, token `Sy7PRGGr4foUk22uzjMu`, password
    /// `testing1234`, bank account 41812, wallet 1) with its 30000 `remit` of
    /// transaction 51938 as mutation 346, written by the embedded default's own
    /// seeding code into a fresh database; the next withdrawal gets the seed's id 4.
    pub async fn seed_demo_user(&self) -> (TestUser, i64) {
        assert!(
            self.dompet.seed_demo().await.expect("seed the demo"),
            "seeded once"
        );
        assert!(
            !self.dompet.seed_demo().await.expect("seed again"),
            "and only once"
        );
        let user = TestUser {
            id: seed::DEMO_USER_ID.get(),
            token: seed::DEMO_TOKEN.into(),
            password: seed::DEMO_PASSWORD.into(),
            deposit_id: 1,
        };
        (user, seed::DEMO_BANK_ACCOUNT_ID.get())
    }

    pub async fn balance(&self, user: &TestUser) -> i64 {
        self.dompet
            .user(UserId::new(user.id))
            .await
            .expect("user")
            .balance
    }

    /// Row counts and balances: what "nothing changed" is checked against.
    pub async fn ledger_fingerprint(&self) -> (i64, i64, i64, i64) {
        sqlx::query_as(
            "select (select count(*) from mutations), (select count(*) from withdrawals),
                    (select coalesce(sum(balance), 0)::bigint from deposits),
                    (select count(*) from withdraw_idempotency)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("ledger fingerprint")
    }

    /// How many withdrawals and `withdrawal` debits the user has.
    pub async fn withdrawal_counts(&self, user: &TestUser) -> (i64, i64) {
        sqlx::query_as(
            "select (select count(*) from withdrawals where user_id = $1),
                    (select count(*) from mutations where user_id = $1 and action = 'withdrawal')",
        )
        .bind(user.id)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// Runs the operator's audit and fails the test on any violation.
    pub async fn assert_ledger_ok(&self) {
        arrange::assert_ledger_ok(&self.dompet).await
    }
}
