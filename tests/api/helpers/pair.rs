//! A primary with a synchronous streaming standby (`pg_basebackup -R`, the
//! same binaries as the embedded default), and dompet nodes over it: what
//! the replication, failover and PgBouncer tests run on. Each test gets a
//! pair of its own, so stopping or pausing a server touches no other test.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use dompet::{
    config::{Config, Secret},
    database::roles::{self, EMBEDDED_RUNTIME_ROLE as RUNTIME_ROLE},
    pgcluster::Cluster,
    service::Dompet,
    startup::Application,
    MIGRATOR,
};
use reqwest::Method;
use serde_json::Value;
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, PgPool};
use tokio::sync::oneshot;

use super::{random, Answer, TestUser, ADMIN_TOKEN, MUTATIONS, WITHDRAWALS};

pub struct Pair {
    pub primary: Cluster,
    pub standby: Cluster,
    /// The test's database, on both servers.
    pub database: String,
}

impl Pair {
    /// A fresh pair with one migrated database, already on the standby.
    pub async fn start() -> Self {
        let base = std::env::temp_dir().join(format!("dompet-pair-{}", random(10)));
        let (primary, standby) = tokio::task::spawn_blocking(move || {
            let primary = Cluster::start_replicated_primary(&base.join("primary"))
                .unwrap_or_else(|e| panic!("cannot start the primary: {e}"));
            let standby = primary
                .start_standby(&base.join("standby"), "dompet_standby")
                .unwrap_or_else(|e| panic!("cannot start the standby: {e}"));
            (primary, standby)
        })
        .await
        .expect("start the pair");
        let database = format!("test_{}", random(12));
        let mut admin = PgConnection::connect(&primary.url("postgres"))
            .await
            .expect("connect to the primary");
        sqlx::query(&format!("create database {database}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        // Roles live in the cluster, so the standby has it too.
        roles::ensure_runtime_role(&mut admin, RUNTIME_ROLE, primary.runtime_password())
            .await
            .expect("create the runtime role");
        let pair = Self {
            primary,
            standby,
            database,
        };
        let mut owner = PgConnection::connect(&pair.owner_url())
            .await
            .expect("connect to the primary as the owner");
        MIGRATOR.run(&mut owner).await.expect("migrate");
        roles::grant_runtime(&mut owner, RUNTIME_ROLE)
            .await
            .expect("grant the runtime role");
        pair
    }

    /// The primary as the runtime role, which dompet nodes use.
    pub fn primary_url(&self) -> String {
        self.primary.runtime_url(&self.database)
    }

    /// The standby as the runtime role.
    pub fn standby_url(&self) -> String {
        self.standby.runtime_url(&self.database)
    }

    /// The primary as the owner, which migrates.
    pub fn owner_url(&self) -> String {
        self.primary.url(&self.database)
    }

    /// A pool on the primary as the runtime role.
    pub async fn primary_pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(20)
            .connect(&self.primary_url())
            .await
            .expect("connect to the primary")
    }

    /// The standby as its superuser (replay control needs one).
    pub async fn standby_conn(&self) -> PgConnection {
        PgConnection::connect(&self.standby.url(&self.database))
            .await
            .expect("connect to the standby")
    }

    /// Stops (or restarts) the standby's WAL replay; it keeps receiving.
    pub async fn pause_replay(&self, paused: bool) {
        let call = match paused {
            true => "select pg_wal_replay_pause()",
            false => "select pg_wal_replay_resume()",
        };
        let mut conn = self.standby_conn().await;
        sqlx::query(call).execute(&mut conn).await.expect(call);
    }
}

/// One dompet node serving on loopback, over `pool` and configured by
/// `customize`.
pub struct Node {
    pub addr: SocketAddr,
    pub dompet: Dompet,
    pub client: reqwest::Client,
    _shutdown: oneshot::Sender<()>,
}

impl Node {
    pub async fn start(pool: PgPool, customize: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::from_lookup(|_| None).expect("default config");
        config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.operator_token = Some(Secret::new(ADMIN_TOKEN));
        customize(&mut config);
        let app = Application::build(&config, pool.clone())
            .await
            .expect("build the app");
        let addr = app.local_addr().expect("bound address");
        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = stop.await;
        }));
        Self {
            addr,
            dompet: Dompet::new(pool, config.timezone, config.withdrawal_fee),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            _shutdown: shutdown,
        }
    }

    /// A node reading from `replicas` (`DOMPET_READ_DATABASE_URL`).
    pub async fn with_replicas(pool: PgPool, replicas: &[String], max_lag_secs: u64) -> Self {
        Self::start(pool, |config| {
            config.read_database_urls = replicas.iter().map(Secret::new).collect();
            config.replica_max_lag = Duration::from_secs(max_lag_secs);
        })
        .await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        Answer::of(request).await
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("http://{}{path}", self.addr))
    }

    pub async fn mutations(&self, user: &TestUser) -> Value {
        self.history(user, MUTATIONS).await
    }

    pub async fn withdrawals(&self, user: &TestUser) -> Value {
        self.history(user, WITHDRAWALS).await
    }

    async fn history(&self, user: &TestUser, path: &str) -> Value {
        let answer = self
            .send(
                self.request(Method::GET, &format!("{path}?per_page=100"))
                    .basic_auth(user.id, Some(&user.token)),
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let body = answer.json();
        assert_eq!(body["status"], "OK", "{answer:?}");
        body
    }

    pub async fn withdraw(&self, user: &TestUser, account: i64, amount: i64) -> Answer {
        self.send(
            self.request(Method::POST, super::WITHDRAW)
                .basic_auth(user.id, Some(&user.token))
                .form(&[
                    ("deposit_withdrawal[amount]", amount.to_string()),
                    ("deposit_withdrawal[bank_account_id]", account.to_string()),
                    ("deposit_withdrawal[password]", user.password.clone()),
                ]),
        )
        .await
    }

    /// A `topup` through the operator API under `key`.
    pub async fn topup(&self, user: &TestUser, amount: i64, key: &str) -> Answer {
        self.send(
            self.request(Method::POST, "/internal/v1/mutations")
                .bearer_auth(ADMIN_TOKEN)
                .json(&serde_json::json!({
                    "user_id": user.id, "action": "topup", "amount": amount,
                    "idempotency_key": key,
                })),
        )
        .await
    }

    pub async fn readyz(&self) -> Answer {
        self.send(self.request(Method::GET, "/readyz")).await
    }

    /// Waits (up to 15 s) until `/readyz` shows the first replica in `state`.
    pub async fn wait_for_replica(&self, state: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let answer = self.readyz().await;
            assert_eq!(answer.status, 200, "readyz must stay 200: {answer:?}");
            let body = answer.json();
            if body["replicas"][0]["state"] == state {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "replica never became {state}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A user with a bank account and `balance`, made through the service.
    pub async fn funded_user(&self, balance: i64) -> (TestUser, i64) {
        super::arrange::funded_user(&self.dompet, balance).await
    }

    pub async fn assert_ledger_ok(&self) {
        super::arrange::assert_ledger_ok(&self.dompet).await
    }
}
