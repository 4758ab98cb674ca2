//! The database side of start-up: the embedded cluster or `DATABASE_URL`,
//! the two roles (an owner that migrates, a runtime role that serves), the
//! pool, the migrations and the demo seed.

pub mod failover;
pub mod money_tx;
pub mod read_pool;
pub mod reader;
pub mod replicas;
pub mod roles;

use std::{str::FromStr, time::Duration};

use sqlx::{
    migrate::MigrateError,
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgPool,
};

use crate::{
    config::{split_urls, Config},
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
    Migrate(MigrateError),
    #[error(
        "migrating the database failed: {0} (DATABASE_URL's role may not change the schema: \
         give the owner role's URL in DOMPET_MIGRATE_DATABASE_URL, or set DOMPET_MIGRATE=false)"
    )]
    MigrateDenied(MigrateError),
    #[error(
        "{0}, so it could rewrite the ledger: connect DATABASE_URL as a role that may only read \
         and append mutations, and migrate as the owner through DOMPET_MIGRATE_DATABASE_URL \
         (README, database roles); DOMPET_ALLOW_PRIVILEGED_ROLE=true starts anyway"
    )]
    PrivilegedRole(String),
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

impl From<MigrateError> for DatabaseError {
    fn from(err: MigrateError) -> Self {
        let denied = match &err {
            MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => e
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "42501"),
            _ => false,
        };
        if denied {
            Self::MigrateDenied(err)
        } else {
            Self::Migrate(err)
        }
    }
}

/// The database this process works on, and the cluster it started, if any.
pub struct Database {
    /// Connected as the runtime role.
    pub pool: PgPool,
    cluster: Option<Cluster>,
}

impl Database {
    /// `DATABASE_URL` when set (migrated when `migrate`), else the embedded
    /// cluster under `data_dir`: started, migrated and seeded with the demo.
    /// Either way the server must know the configured time zone, and its role
    /// must not be able to rewrite the ledger.
    pub async fn open(config: &Config, migrate: bool) -> Result<Self, DatabaseError> {
        let database = Self::connect(config, migrate).await?;
        let checked = async {
            database.check_timezone(config).await?;
            database.check_runtime_role(config).await
        };
        if let Err(e) = checked.await {
            database.close().await;
            return Err(e);
        }
        Ok(database)
    }

    /// `dompet migrate`: the migrations and the runtime role's grants, as the
    /// owner, and nothing else.
    pub async fn migrate_only(config: &Config) -> Result<(), DatabaseError> {
        let Some(url) = &config.database_url else {
            Self::open(config, true).await?.close().await;
            return Ok(());
        };
        match &config.migrate_database_url {
            Some(owner) => migrate_as_owner(owner.expose(), Some(url.expose())).await,
            None => migrate_as_owner(url.expose(), None).await,
        }
    }

    async fn connect(config: &Config, migrate: bool) -> Result<Self, DatabaseError> {
        let Some(url) = &config.database_url else {
            return Self::embedded(config).await;
        };
        probe(url.expose()).await?;
        let owner = config.migrate_database_url.as_ref();
        if let (true, Some(owner)) = (migrate, owner) {
            migrate_as_owner(owner.expose(), Some(url.expose())).await?;
        }
        let pool = connect_primary(config).await?;
        if migrate && owner.is_none() {
            // One role for everything: the start-up check below says whether
            // that is allowed.
            MIGRATOR.run(&pool).await?;
        }
        Ok(Self {
            pool,
            cluster: None,
        })
    }

    /// The private cluster: its superuser owns the schema and migrates it;
    /// the server connects as [`roles::EMBEDDED_RUNTIME_ROLE`].
    async fn embedded(config: &Config) -> Result<Self, DatabaseError> {
        let root = config.data_dir.clone();
        let cluster =
            tokio::task::spawn_blocking(move || Cluster::start(&root, Lifetime::Persistent))
                .await??;
        create_database_if_missing(&cluster.url("postgres"), EMBEDDED_DATABASE).await?;
        let mut owner = PgConnection::connect(&cluster.url(EMBEDDED_DATABASE)).await?;
        let role = roles::EMBEDDED_RUNTIME_ROLE;
        roles::ensure_runtime_role(&mut owner, role, cluster.runtime_password()).await?;
        MIGRATOR.run(&mut owner).await?;
        roles::grant_runtime(&mut owner, role).await?;
        owner.close().await?;
        let pool = pool(
            &cluster.runtime_url(EMBEDDED_DATABASE),
            config.db_max_connections,
        )
        .await?;
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
        let mut tx = crate::store::begin(&self.pool).await?;
        withdrawals::local_today(&mut tx, zone)
            .await
            .map_err(|source| DatabaseError::UnknownTimezone { zone, source })?;
        Ok(tx.commit().await?)
    }

    /// Refuses a runtime role that could rewrite the ledger. Refusing (not
    /// warning) because the separation is what stops a compromised or buggy
    /// process from changing history, and a warning scrolls past unread; the
    /// override exists for servers where no second role can be made.
    async fn check_runtime_role(&self, config: &Config) -> Result<(), DatabaseError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        let risk = roles::ledger_rewrite_risk(&mut tx).await?;
        tx.commit().await?;
        let Some(risk) = risk else {
            return Ok(());
        };
        if self.cluster.is_none() && config.allow_privileged_role {
            tracing::error!(
                "{risk}, so it could rewrite the ledger; starting anyway because \
                 DOMPET_ALLOW_PRIVILEGED_ROLE=true"
            );
            return Ok(());
        }
        Err(DatabaseError::PrivilegedRole(risk))
    }

    /// Closes the pool, then stops the cluster this process started.
    pub async fn close(mut self) {
        self.pool.close().await;
        if let Some(mut cluster) = self.cluster.take() {
            let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
        }
    }
}

/// Migrates as the owner role of `owner_url` (one server: the primary),
/// then grants the runtime role of `runtime_urls` (when given; the first of
/// a list of candidate primaries names it) what it needs.
async fn migrate_as_owner(
    owner_url: &str,
    runtime_urls: Option<&str>,
) -> Result<(), DatabaseError> {
    let mut owner = PgConnection::connect(owner_url).await?;
    MIGRATOR.run(&mut owner).await?;
    let runtime_url = runtime_urls.and_then(|list| split_urls(list).into_iter().next());
    if let Some(runtime_url) = runtime_url {
        let role = PgConnectOptions::from_str(&runtime_url)?
            .get_username()
            .to_owned();
        roles::grant_runtime(&mut owner, &role).await?;
    }
    owner.close().await?;
    Ok(())
}

/// The pool settings of the server (the tests use them too).
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    // sqlx's ping before every checkout is a round trip per request. Only a
    // connection that sat idle for a while is pinged: one in steady use has
    // just proven itself, and a connection a restarted server left behind
    // fails its request with a retryable 503 and is closed on its way back
    // (tests/api/database_unavailable.rs).
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// How long a pooled connection may sit idle before it is pinged at checkout
/// (by either pool).
pub(crate) const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// One connection before the pool, so that a server that cannot be reached
/// is named with the real cause (refused, unknown host, wrong password)
/// instead of the pool's "timed out"; the password is never shown. Several
/// candidate primaries are left to the failover search, which names none.
async fn probe(urls: &str) -> Result<(), DatabaseError> {
    let urls = split_urls(urls);
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
        .map(|url| split_urls(url.expose()))
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
