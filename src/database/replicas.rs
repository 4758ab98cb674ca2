//! Streaming replicas for history reads (SPEC §8): the set of read pools, a
//! health checker that measures each replica's lag against the primary, and
//! the routing rule that keeps read-your-writes.
//!
//! Read-your-writes: every money move upserts the user's row in
//! `user_write_lsn` inside its own transaction. A read first looks that row up
//! on the primary, then asks the replica whether its own copy of the row is at
//! least as new; the row becomes visible on a replica exactly when the move
//! does, so a yes means the move is there. A no, a replica that is down or
//! lagging beyond the bound, or any replica error sends the read to the
//! primary instead: a client never sees an error because of a replica.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    str::FromStr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, Weak,
    },
    time::{Duration, Instant},
};

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgConnection, PgPool,
};

use super::reader::Reads;
use crate::{config::Secret, domain::UserId, store::write_marks};

/// How often the health checker looks at the primary and every replica.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// A replica that does not answer a check or a connection within this long
/// counts as down for now.
const REPLICA_TIMEOUT: Duration = Duration::from_secs(1);

/// A read to run on whichever server the rule picks.
pub type ReadFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Serving reads.
    Up,
    /// Reachable, but further behind than `DOMPET_REPLICA_MAX_LAG_SECS`.
    Lagging,
    /// Unreachable, failing, or no longer a standby (promoted).
    Down,
}

impl ReplicaState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Lagging => "lagging",
            Self::Down => "down",
        }
    }
}

/// One replica as `/readyz` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplicaReport {
    pub name: String,
    pub state: &'static str,
    pub lag_ms: Option<u64>,
}

/// The read replicas of this node; cheap to clone, empty when none are set.
#[derive(Clone, Default)]
pub struct Replicas(Arc<Inner>);

#[derive(Default)]
struct Inner {
    replicas: Vec<Replica>,
    max_lag: Duration,
    next: AtomicUsize,
    /// The primary's WAL position at recent checks, oldest first: how long
    /// ago the primary was where a replica is now is that replica's lag.
    samples: Mutex<VecDeque<(Instant, i64)>>,
}

struct Replica {
    name: String,
    /// host:port/database, never the password.
    endpoint: String,
    pool: PgPool,
    health: Mutex<Health>,
}

#[derive(Clone, Copy)]
struct Health {
    state: ReplicaState,
    lag_ms: Option<u64>,
}

impl Replicas {
    /// Pools for `urls` that connect on first use, so a replica that is down
    /// at start-up does not stop dompet. Each starts `down` until the first
    /// health check has seen it.
    pub fn connect_lazy(
        urls: &[Secret],
        max_connections: u32,
        statement_cache: usize,
        max_lag: Duration,
    ) -> Result<Self, sqlx::Error> {
        let mut replicas = Vec::with_capacity(urls.len());
        for (i, url) in urls.iter().enumerate() {
            let options =
                PgConnectOptions::from_str(url.expose())?.statement_cache_capacity(statement_cache);
            let endpoint = format!(
                "{}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or("")
            );
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(REPLICA_TIMEOUT)
                // A failed read falls back to the primary: no ping needed.
                .test_before_acquire(false)
                .connect_lazy_with(options);
            replicas.push(Replica {
                name: format!("replica-{}", i + 1),
                endpoint,
                pool,
                health: Mutex::new(Health {
                    state: ReplicaState::Down,
                    lag_ms: None,
                }),
            });
        }
        Ok(Self(Arc::new(Inner {
            replicas,
            max_lag,
            ..Inner::default()
        })))
    }

    pub fn is_empty(&self) -> bool {
        self.0.replicas.is_empty()
    }

    pub fn report(&self) -> Vec<ReplicaReport> {
        self.0
            .replicas
            .iter()
            .map(|r| {
                let health = r.health();
                ReplicaReport {
                    name: r.name.clone(),
                    state: health.state.as_str(),
                    lag_ms: health.lag_ms,
                }
            })
            .collect()
    }

    /// Runs `read` for `user_id` on a replica that has replayed the user's
    /// last money move, else on the primary.
    pub async fn read<T>(
        &self,
        primary: &Reads,
        user_id: UserId,
        read: impl for<'c> Fn(&'c mut PgConnection) -> ReadFuture<'c, T>,
    ) -> Result<T, sqlx::Error> {
        if let Some(replica) = self.pick() {
            // Behind PgBouncer in transaction mode every statement runs
            // inside a transaction, so that it stays on one server connection.
            let mark = {
                let mut conn = primary.reader().await?;
                let mark = write_marks::find(&mut conn, user_id).await?;
                conn.finish().await?;
                mark
            };
            match replica.try_read(user_id, mark.as_deref(), &read).await {
                Ok(Some(rows)) => return Ok(rows),
                Ok(None) => {
                    tracing::debug!(replica = %replica.name, "behind the user's last write; reading from the primary")
                }
                Err(error) => replica.failed(&error),
            }
        }
        let mut conn = primary.reader().await?;
        let rows = read(&mut conn).await?;
        conn.finish().await?;
        Ok(rows)
    }

    /// The next replica that is up, round robin.
    fn pick(&self) -> Option<&Replica> {
        let replicas = &self.0.replicas;
        let start = self.0.next.fetch_add(1, Ordering::Relaxed);
        (0..replicas.len())
            .map(|i| &replicas[(start + i) % replicas.len()])
            .find(|r| r.health().state == ReplicaState::Up)
    }

    /// Checks every `CHECK_INTERVAL` until this set is dropped.
    pub fn spawn_health_checker(&self, primary: PgPool) {
        if self.is_empty() {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECK_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                Replicas(inner).check_once(&primary).await;
            }
        });
    }

    /// Samples the primary's WAL position, then measures every replica.
    pub async fn check_once(&self, primary: &PgPool) {
        let sampled = tokio::time::timeout(REPLICA_TIMEOUT, async {
            let mut tx = crate::store::begin(primary).await?;
            let position = write_marks::primary_position(&mut tx).await?;
            tx.commit().await.map(|()| position)
        })
        .await;
        if let Ok(Ok(position)) = sampled {
            let mut samples = self.0.samples.lock().unwrap_or_else(|e| e.into_inner());
            samples.push_back((Instant::now(), position));
            let keep = self.0.max_lag + 2 * CHECK_INTERVAL;
            while samples.front().is_some_and(|(at, _)| at.elapsed() > keep) {
                samples.pop_front();
            }
        }
        for replica in &self.0.replicas {
            let health = match replica.position().await {
                Ok(Some(replayed)) => {
                    let lag = self.lag_of(replayed);
                    let state = match lag {
                        Some(lag) if lag <= self.0.max_lag => ReplicaState::Up,
                        Some(_) => ReplicaState::Lagging,
                        // No sample of the primary yet: nothing to compare.
                        None => replica.health().state,
                    };
                    Health {
                        state,
                        lag_ms: lag.map(|l| l.as_millis() as u64),
                    }
                }
                Ok(None) => Health {
                    state: ReplicaState::Down,
                    lag_ms: None,
                },
                Err(_) => Health {
                    state: ReplicaState::Down,
                    lag_ms: None,
                },
            };
            replica.set(health);
        }
    }

    /// How long ago the primary was at the first position the replica has
    /// not replayed: zero when it has everything the newest sample saw.
    fn lag_of(&self, replayed: i64) -> Option<Duration> {
        let samples = self.0.samples.lock().unwrap_or_else(|e| e.into_inner());
        let newest = samples.back()?;
        if replayed >= newest.1 {
            return Some(Duration::ZERO);
        }
        let first_missing = samples
            .iter()
            .find(|(_, position)| *position > replayed)
            .unwrap_or(newest);
        Some(first_missing.0.elapsed())
    }
}

impl Replica {
    fn health(&self) -> Health {
        *self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, health: Health) {
        let before = std::mem::replace(
            &mut *self.health.lock().unwrap_or_else(|e| e.into_inner()),
            health,
        );
        if before.state != health.state {
            tracing::info!(
                replica = %self.name,
                endpoint = %self.endpoint,
                from = before.state.as_str(),
                to = health.state.as_str(),
                lag_ms = ?health.lag_ms,
                "replica state changed"
            );
        }
    }

    /// A read failed here: stop sending reads until a check sees it well.
    fn failed(&self, error: &sqlx::Error) {
        tracing::warn!(replica = %self.name, endpoint = %self.endpoint, %error, "replica read failed; reading from the primary");
        self.set(Health {
            state: ReplicaState::Down,
            lag_ms: None,
        });
    }

    /// How far the replica has replayed; `None` when it is no standby.
    async fn position(&self) -> Result<Option<i64>, sqlx::Error> {
        let checked = tokio::time::timeout(REPLICA_TIMEOUT, async {
            let mut tx = crate::store::begin(&self.pool).await?;
            let position = write_marks::replica_position(&mut tx).await?;
            tx.commit().await.map(|()| position)
        })
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(checked.replayed.filter(|_| checked.in_recovery))
    }

    /// `Ok(None)`: this replica has not replayed the user's last write yet.
    async fn try_read<T>(
        &self,
        user_id: UserId,
        mark: Option<&str>,
        read: &impl for<'c> Fn(&'c mut PgConnection) -> ReadFuture<'c, T>,
    ) -> Result<Option<T>, sqlx::Error> {
        let mut tx = crate::store::begin(&self.pool).await?;
        if let Some(lsn) = mark {
            // Replay only moves forward, so what this statement sees, the
            // read below sees too.
            if !write_marks::replayed(&mut tx, user_id, lsn).await? {
                tx.commit().await?;
                return Ok(None);
            }
        }
        let rows = read(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(rows))
    }
}
