//! Retention (SPEC §7): what dompet forgets, and when. Each job removes rows
//! past their use in small batches, each its own short statement with a
//! pause between, so pruning never holds locks a request waits on for long.
//! A new kind of row that must not grow without bound adds a job here and
//! its statement in `store::retention`.

use std::time::Duration;

use sqlx::{postgres::types::PgInterval, PgConnection};
use tokio::{sync::watch, task::JoinHandle, time::MissedTickBehavior};

use super::{
    withdraw::{minutes, LOCKOUT_WINDOW_MINUTES},
    Dompet, ServiceError,
};
use crate::store::{idempotency::Keys, login_throttle, retention};

/// Idempotency-Keys (withdraw and top-up) are kept this long (SPEC: at least
/// 24 hours to replay, pruned after 30 days).
pub const IDEMPOTENCY_KEY_DAYS: i32 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneJob {
    /// Withdraw Idempotency-Keys older than [`IDEMPOTENCY_KEY_DAYS`].
    IdempotencyKeys,
    /// Top-up Idempotency-Keys older than [`IDEMPOTENCY_KEY_DAYS`].
    TopupIdempotencyKeys,
    /// Password failures outside the lockout window: they no longer count.
    PasswordFailures,
    /// Password lockouts that have ended.
    EndedLockouts,
    /// Login throttle rows past their `forget_after`.
    LoginThrottle,
    /// Pending top-ups past `expires_at`, given their `expired` state.
    ExpiredTopups,
}

impl PruneJob {
    /// Every job, in the order a pass runs them.
    pub const ALL: [Self; 6] = [
        Self::IdempotencyKeys,
        Self::TopupIdempotencyKeys,
        Self::PasswordFailures,
        Self::EndedLockouts,
        Self::LoginThrottle,
        Self::ExpiredTopups,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::IdempotencyKeys => "withdraw idempotency keys",
            Self::TopupIdempotencyKeys => "top-up idempotency keys",
            Self::PasswordFailures => "password failures",
            Self::EndedLockouts => "ended password lockouts",
            Self::LoginThrottle => "login throttle",
            Self::ExpiredTopups => "expired top-ups",
        }
    }

    /// Removes at most `limit` rows; answers how many went.
    async fn batch(self, conn: &mut PgConnection, limit: i64) -> Result<u64, sqlx::Error> {
        match self {
            Self::IdempotencyKeys => {
                retention::prune_idempotency(conn, Keys::Withdraw, key_age(), limit).await
            }
            Self::TopupIdempotencyKeys => {
                retention::prune_idempotency(conn, Keys::Topup, key_age(), limit).await
            }
            Self::PasswordFailures => {
                let window = minutes(LOCKOUT_WINDOW_MINUTES);
                retention::prune_password_failures(conn, window, limit).await
            }
            Self::EndedLockouts => retention::prune_password_lockouts(conn, limit).await,
            // Also pruned a little after each failed login (service::login).
            Self::LoginThrottle => login_throttle::prune(conn, limit).await,
            Self::ExpiredTopups => retention::expire_topups(conn, limit).await,
        }
    }
}

fn key_age() -> PgInterval {
    PgInterval {
        months: 0,
        days: IDEMPOTENCY_KEY_DAYS,
        microseconds: 0,
    }
}

/// How a pass works through the old rows.
#[derive(Debug, Clone, Copy)]
pub struct Pruning {
    /// Rows per statement.
    pub batch_size: i64,
    /// Rest between two statements, leaving the database to requests.
    pub pause: Duration,
}

impl Default for Pruning {
    fn default() -> Self {
        Self {
            batch_size: 500,
            pause: Duration::from_millis(50),
        }
    }
}

/// How many rows each job removed in a pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport(pub Vec<(PruneJob, u64)>);

impl PruneReport {
    pub fn removed(&self, job: PruneJob) -> u64 {
        self.0
            .iter()
            .filter(|(j, _)| *j == job)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

impl Dompet {
    /// One pruning pass: every job, batch after batch, until nothing old is
    /// left.
    pub async fn prune_once(&self, pruning: &Pruning) -> Result<PruneReport, ServiceError> {
        self.prune_until(pruning, || false).await
    }

    /// A pass that ends early, between two batches, once `stopping` says so.
    async fn prune_until(
        &self,
        pruning: &Pruning,
        stopping: impl Fn() -> bool,
    ) -> Result<PruneReport, ServiceError> {
        let mut report = PruneReport::default();
        for job in PruneJob::ALL {
            let mut removed = 0;
            while !stopping() {
                // A short transaction per batch (PgBouncer keeps a statement
                // on one server only inside one); the pool is the requests'
                // between batches.
                let mut tx = crate::store::begin(&self.pool).await?;
                let n = job.batch(&mut tx, pruning.batch_size).await?;
                tx.commit().await?;
                removed += n;
                if n < pruning.batch_size.max(1) as u64 {
                    break;
                }
                tokio::time::sleep(pruning.pause).await;
            }
            report.0.push((job, removed));
        }
        Ok(report)
    }
}

/// Runs a pruning pass every `interval` (the first one `interval` after
/// start) until `stop` turns true or its sender goes; a pass in progress
/// ends after its current batch.
pub fn spawn_pruner(
    dompet: Dompet,
    interval: Duration,
    pruning: Pruning,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            match dompet.prune_until(&pruning, || *stop.borrow()).await {
                Ok(report) => {
                    for (job, removed) in report.0.iter().filter(|(_, n)| *n > 0) {
                        tracing::info!(job = job.name(), removed, "pruned");
                    }
                }
                Err(e) => tracing::warn!(
                    error = %crate::telemetry::error_chain(&e),
                    "pruning failed; trying again at the next interval"
                ),
            }
        }
    })
}
