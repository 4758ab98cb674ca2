//! Building and running the app: the database (embedded or given), the pool,
//! migrations, and an HTTP listener that tests can bind to port 0.

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::Router;
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, PgPool};
use tokio::net::TcpListener;

use crate::{
    config::Config,
    http::{router, AppState},
    pgcluster::{Cluster, ClusterError, Lifetime},
    service::{Dompet, ServiceError},
    MIGRATOR,
};

/// The database of the embedded default, inside its private cluster.
const EMBEDDED_DATABASE: &str = "dompet";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("cannot reach the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Service(#[from] ServiceError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the embedded cluster task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The ledger this process works on, and the cluster it started, if any.
pub struct Ledger {
    pub pool: PgPool,
    cluster: Option<Cluster>,
}

impl Ledger {
    /// `DATABASE_URL` when set (migrated when `migrate`), else the embedded
    /// cluster under `data_dir`: started, migrated and seeded with the demo.
    /// Either way the server must know the configured time zone.
    pub async fn open(config: &Config, migrate: bool) -> Result<Self, StartupError> {
        let ledger = Self::connect(config, migrate).await?;
        let dompet = Dompet::new(ledger.pool.clone(), config.timezone, config.withdrawal_fee);
        if let Err(e) = dompet.check_timezone().await {
            ledger.close().await;
            return Err(e.into());
        }
        Ok(ledger)
    }

    async fn connect(config: &Config, migrate: bool) -> Result<Self, StartupError> {
        if let Some(url) = &config.database_url {
            let pool = pool(url.expose(), config.db_max_connections).await?;
            if migrate {
                MIGRATOR.run(&pool).await?;
            }
            return Ok(Self {
                pool,
                cluster: None,
            });
        }
        let root = config.data_dir.clone();
        let cluster =
            tokio::task::spawn_blocking(move || Cluster::start(&root, Lifetime::Persistent))
                .await??;
        create_database_if_missing(&cluster.url("postgres"), EMBEDDED_DATABASE).await?;
        let pool = pool(&cluster.url(EMBEDDED_DATABASE), config.db_max_connections).await?;
        MIGRATOR.run(&pool).await?;
        Dompet::new(pool.clone(), config.timezone, config.withdrawal_fee)
            .seed_demo()
            .await?;
        Ok(Self {
            pool,
            cluster: Some(cluster),
        })
    }

    /// Closes the pool, then stops the cluster this process started.
    pub async fn close(mut self) {
        self.pool.close().await;
        if let Some(mut cluster) = self.cluster.take() {
            let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
        }
    }
}

pub async fn pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
}

/// Creates `name` on the server `admin_url` points at, unless it exists.
pub async fn create_database_if_missing(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(admin_url).await?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query(&format!(
            "create database \"{}\"",
            name.replace('"', "\"\"")
        ))
        .execute(&mut conn)
        .await?;
    }
    conn.close().await
}

/// A bound listener and the app it will serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(config: &Config, pool: PgPool) -> Result<Self, StartupError> {
        let dompet = Dompet::new(pool, config.timezone, config.withdrawal_fee);
        let state = AppState::new(dompet, config.admin_token.as_ref());
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        Ok(Self {
            listener,
            router: router(state, config.request_timeout),
        })
    }

    /// The bound address (the real port when built with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
