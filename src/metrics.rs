//! Prometheus metrics: the recorder, the scrape text, and one small function
//! per thing worth counting, so that the code being measured says what
//! happened and never how it is exported.
//!
//! Until [`install`] runs (it does only when metrics are served), every hook
//! returns after one atomic load: a server without metrics pays nothing.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        OnceLock,
    },
    time::{Duration, Instant},
};

use ::metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

use crate::database::read_pool::ReadPool;

const HTTP_REQUESTS: &str = "dompet_http_requests_total";
const HTTP_DURATION: &str = "dompet_http_request_duration_seconds";
const POOL_CONNECTIONS: &str = "dompet_db_pool_connections";
const POOL_MAX: &str = "dompet_db_pool_max_connections";
const HASH_QUEUE: &str = "dompet_password_hash_queue_depth";
const HASH_WAIT: &str = "dompet_password_hash_wait_seconds";
const HASH_SHED: &str = "dompet_password_hash_shed_total";
const WITHDRAWALS: &str = "dompet_withdrawals_total";
const TOPUPS: &str = "dompet_topups_total";
const LOGINS: &str = "dompet_logins_total";
const LOCKOUTS: &str = "dompet_lockouts_total";

/// Request latencies from 1 ms to 30 s (the default request timeout).
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static ENABLED: AtomicBool = AtomicBool::new(false);
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
#[error("cannot install the metrics recorder: {0}")]
pub struct MetricsError(String);

/// Installs the process-wide recorder (once; later calls return the same
/// handle) and switches the hooks on.
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .map_err(|e| MetricsError(e.to_string()))?
        .build_recorder();
    let handle = recorder.handle();
    // Losing a race to another caller is fine: theirs is installed.
    if ::metrics::set_global_recorder(recorder).is_ok() {
        describe();
        let _ = HANDLE.set(handle);
    }
    ENABLED.store(true, Ordering::Relaxed);
    HANDLE
        .get()
        .cloned()
        .ok_or_else(|| MetricsError("another metrics recorder is installed".into()))
}

/// The recorder's handle, once [`install`] has run.
pub fn handle() -> Option<PrometheusHandle> {
    HANDLE.get().cloned()
}

fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by route template, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        ::metrics::Unit::Seconds,
        "HTTP request latency by route template, method and status"
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "database connections by pool (money, reads) and state (in_use, idle)"
    );
    describe_gauge!(POOL_MAX, "each database pool's connection limit");
    describe_gauge!(HASH_QUEUE, "password checks waiting for a hashing slot");
    describe_histogram!(
        HASH_WAIT,
        ::metrics::Unit::Seconds,
        "time a password check waited for a hashing slot"
    );
    describe_counter!(
        HASH_SHED,
        "password checks refused because the queue was full"
    );
    describe_counter!(WITHDRAWALS, "withdraw requests by outcome");
    describe_counter!(TOPUPS, "top-up requests by outcome");
    describe_counter!(LOGINS, "logins by outcome");
    describe_counter!(
        LOCKOUTS,
        "lockouts started, by kind (withdraw_password, login)"
    );
}

/// The scrape text, with the pool gauges read now: the money pool (sqlx's)
/// and, unless a transaction-mode pooler is in front, the pools of the reads
/// and of the back-office postings.
pub fn render(
    handle: &PrometheusHandle,
    pool: &PgPool,
    reads: Option<&ReadPool>,
    postings: Option<&ReadPool>,
) -> String {
    let size = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(size);
    pool_gauges(
        "money",
        size - idle,
        idle,
        pool.options().get_max_connections(),
    );
    for (name, own) in [("reads", reads), ("postings", postings)] {
        if let Some(own) = own {
            let (in_use, idle) = own.counts();
            let as_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            pool_gauges(
                name,
                as_u32(in_use),
                as_u32(idle),
                as_u32(own.max_connections()),
            );
        }
    }
    handle.run_upkeep();
    handle.render()
}

fn pool_gauges(pool: &'static str, in_use: u32, idle: u32, max: u32) {
    gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "in_use").set(f64::from(in_use));
    gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "idle").set(f64::from(idle));
    gauge!(POOL_MAX, "pool" => pool).set(f64::from(max));
}

/// One answered HTTP request. `route` is the route template (or
/// `unmatched`), never the raw path: user ids must not become labels.
pub fn http_request(route: &str, method: &str, status: u16, latency: Duration) {
    if !enabled() {
        return;
    }
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_string()),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    histogram!(HTTP_DURATION, &labels).record(latency.as_secs_f64());
}

/// A password check waiting for a hashing slot. Dropping it — the slot was
/// obtained, or the wait abandoned (a timeout, a disconnect) — takes it off
/// the queue gauge and records how long it waited.
#[must_use = "the wait ends when this is dropped"]
pub struct HashWait {
    since: Instant,
    counted: bool,
}

/// A password check joins the queue for a hashing slot.
pub fn hash_wait() -> HashWait {
    let counted = enabled();
    if counted {
        gauge!(HASH_QUEUE).increment(1.0);
    }
    HashWait {
        since: Instant::now(),
        counted,
    }
}

impl Drop for HashWait {
    fn drop(&mut self) {
        if self.counted {
            gauge!(HASH_QUEUE).decrement(1.0);
            histogram!(HASH_WAIT).record(self.since.elapsed().as_secs_f64());
        }
    }
}

/// A password check refused at once because the queue was full.
pub fn hash_shed() {
    if enabled() {
        counter!(HASH_SHED).increment(1);
    }
}

/// A withdraw request's outcome: `accepted`, `rejected`, `locked_out`,
/// `replayed`, `key_reused` or `error`.
pub fn withdrawal(outcome: &'static str) {
    if enabled() {
        counter!(WITHDRAWALS, "outcome" => outcome).increment(1);
    }
}

/// A top-up request's outcome (e.g. `requested`, `rejected`, `replayed`,
/// `key_reused`, `error`).
pub fn topup(outcome: &'static str) {
    if enabled() {
        counter!(TOPUPS, "outcome" => outcome).increment(1);
    }
}

/// A login's outcome (e.g. `ok`, `failed`, `throttled`, `error`).
pub fn login(outcome: &'static str) {
    if enabled() {
        counter!(LOGINS, "outcome" => outcome).increment(1);
    }
}

/// A lockout began: `withdraw_password` or `login`.
pub fn lockout(kind: &'static str) {
    if enabled() {
        counter!(LOCKOUTS, "kind" => kind).increment(1);
    }
}
