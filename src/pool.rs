//! The connection pool of a serving process: every wait bounded below the
//! request timeout. (A connection never returns inside a transaction because
//! every transaction begins through `store::begin`.)

use std::time::Duration;

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

use crate::{config::Config, database::failover::Candidates};

/// How long anything may wait, derived from the request timeout so that a
/// request always has time left to answer with what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// Waiting for a free pooled connection.
    pub acquire: Duration,
    /// Waiting for a row lock (a wallet held by someone else): `lock_timeout`.
    pub lock: Duration,
    /// Any one statement, lock waits included: `statement_timeout`.
    pub statement: Duration,
    /// A transaction left idle (a client of the database that went quiet):
    /// `idle_in_transaction_session_timeout` ends its session.
    pub idle_in_transaction: Duration,
}

impl Waits {
    /// A tenth of the request for a lock (3 s of the default 30: a wallet
    /// is normally held for milliseconds), a quarter for a pooled connection,
    /// half for a statement. A withdrawal may wait for a lock twice (its
    /// wallet's turn in this process, then the row) after its password
    /// check, and still answer what went wrong in time; a connection held by
    /// a lock waiter is back in the pool long before others waiting for one
    /// give up.
    pub fn for_request_timeout(request: Duration) -> Self {
        Self {
            acquire: request / 4,
            lock: request / 10,
            statement: request / 2,
            idle_in_transaction: request,
        }
    }
}

/// The session settings of every serving connection.
pub fn session_settings(config: &Config) -> Vec<(&'static str, String)> {
    let waits = Waits::for_request_timeout(config.request_timeout);
    let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
    vec![
        ("lock_timeout", ms(waits.lock)),
        ("statement_timeout", ms(waits.statement)),
        (
            "idle_in_transaction_session_timeout",
            ms(waits.idle_in_transaction),
        ),
    ]
}

/// The pool `dompet serve` answers requests over: at most
/// `DOMPET_DB_MAX_CONNECTIONS` connections to `options`, each with the
/// session timeouts of [`Waits`]. Behind PgBouncer, which refuses session
/// settings at connection time (unless told to ignore them), the pool opens
/// without them and says so: the timeouts then belong on the database role
/// (see the README).
pub async fn serving(options: PgConnectOptions, config: &Config) -> Result<PgPool, sqlx::Error> {
    let with_settings = options.clone().options(session_settings(config));
    match pool_options(config).connect_with(with_settings).await {
        Err(e) if refuses_session_settings(&e) => {
            tracing::warn!(
                "the database refuses session settings at connection time (PgBouncer?): \
                 set lock_timeout, statement_timeout and idle_in_transaction_session_timeout \
                 on the role instead"
            );
            pool_options(config).connect_with(options).await
        }
        pool => pool,
    }
}

/// The serving pool on whichever of several candidate primaries accepts
/// writes (`DATABASE_URL` with several URLs), refusing standbys.
pub async fn serving_on_candidates(
    candidates: Candidates,
    config: &Config,
) -> Result<PgPool, sqlx::Error> {
    candidates
        .with_session(&session_settings(config))
        .connect(pool_options(config))
        .await
}

/// PgBouncer answers an unknown startup parameter with a protocol
/// violation (08P01); PostgreSQL itself accepts the settings.
fn refuses_session_settings(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "08P01")
}

fn pool_options(config: &Config) -> PgPoolOptions {
    let waits = Waits::for_request_timeout(config.request_timeout);
    crate::database::pool_options(config.db_max_connections).acquire_timeout(waits.acquire)
}
