//! The database side of start-up: the embedded cluster or `DATABASE_URL`,
//! the pool, the migrations and the demo seed.

pub mod failover;
pub mod replicas;

use std::{str::FromStr, time::Duration};

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgPool,
};

use crate::{
    config::Config,
    pgcluster::{Cluster, ClusterError, Lifetime},
    service::{Dompet, ServiceError},
    store::withdrawals,
    MIGRATOR,
};

/// The database of the embedded default, inside its private cluster.
const EMBEDDED_DATABASE: &str = "dompet";

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("cannot reach the database: {0}")]
    Connect(#[from] sqlx::Error),
    #[error("invalid DATABASE_URL: {0}")]
    InvalidUrl(sqlx::Error),
    #[error("cannot reach the database at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("PostgreSQL does not know the time zone {zone}: {source}")]
    UnknownTimezone {
        zone: &'static str,
        source: sqlx::Error,
    },
    #[error("seeding the demo user failed: {0}")]
    Seed(#[from] ServiceError),
    #[error("the embedded cluster task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The database this process works on, and the cluster it started, if any.
pub struct Database {
    pub pool: PgPool,
    cluster: Option<Cluster>,
}

impl Database {
    /// `DATABASE_URL` when set (migrated when `migrate`), else the embedded
    /// cluster under `data_dir`: started, migrated and seeded with the demo.
    /// Either way the server must know the configured time zone.
    pub async fn open(config: &Config, migrate: bool) -> Result<Self, DatabaseError> {
        let database = Self::connect(config, migrate).await?;
        if let Err(e) = database.check_timezone(config).await {
            database.close().await;
            return Err(e);
        }
        Ok(database)
    }

    async fn connect(config: &Config, migrate: bool) -> Result<Self, DatabaseError> {
        if let Some(url) = &config.database_url {
            probe(url.expose()).await?;
            let pool = connect_primary(config).await?;
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

    /// The once-per-day rule asks PostgreSQL for the local date, so the
    /// database must know the configured zone too.
    async fn check_timezone(&self, config: &Config) -> Result<(), DatabaseError> {
        let zone = config.timezone.name();
        let mut tx = self.pool.begin().await?;
        withdrawals::local_today(&mut tx, zone)
            .await
            .map_err(|source| DatabaseError::UnknownTimezone { zone, source })?;
        Ok(tx.commit().await?)
    }

    /// Applies the migrations this binary carries.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        Ok(MIGRATOR.run(&self.pool).await?)
    }

    /// Closes the pool, then stops the cluster this process started.
    pub async fn close(mut self) {
        self.pool.close().await;
        if let Some(mut cluster) = self.cluster.take() {
            let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
        }
    }
}

/// One connection before the pool, so that a server that cannot be reached
/// is named with the real cause (refused, unknown host, wrong password)
/// instead of the pool's "timed out"; the password is never shown. Several
/// candidate primaries are left to the failover search, which names none.
async fn probe(urls: &str) -> Result<(), DatabaseError> {
    let urls = crate::config::split_urls(urls);
    let [url] = urls.as_slice() else {
        return Ok(());
    };
    let options = PgConnectOptions::from_str(url).map_err(DatabaseError::InvalidUrl)?;
    let target = failover::endpoint(&options);
    let unreachable = |reason: String| DatabaseError::Unreachable {
        target: target.clone(),
        reason,
    };
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {} seconds",
            PROBE_TIMEOUT.as_secs()
        ))),
    }
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn pool(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    pool_options(max_connections).connect(url).await
}

fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
}

/// A pool on the primary `DATABASE_URL` names (the first candidate that
/// accepts writes), with the configured size and statement cache.
pub async fn connect_primary(config: &Config) -> Result<PgPool, sqlx::Error> {
    primary_candidates(config)?
        .connect(pool_options(config.db_max_connections))
        .await
}

/// The servers `DATABASE_URL` names (one, or several candidate primaries
/// joined by commas), with the configured statement cache.
pub fn primary_candidates(config: &Config) -> Result<failover::Candidates, sqlx::Error> {
    let urls = config
        .database_url
        .as_ref()
        .map(|url| crate::config::split_urls(url.expose()))
        .unwrap_or_default();
    failover::Candidates::parse(&urls, config.db_statement_cache)
}

/// The read replicas of `DOMPET_READ_DATABASE_URL`, checked in the
/// background against `primary`.
pub fn read_replicas(config: &Config, primary: &PgPool) -> Result<replicas::Replicas, sqlx::Error> {
    let replicas = replicas::Replicas::connect_lazy(
        &config.read_database_urls,
        config.db_max_connections,
        config.db_statement_cache,
        config.replica_max_lag,
    )?;
    replicas.spawn_health_checker(primary.clone());
    Ok(replicas)
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
