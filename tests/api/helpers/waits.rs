//! Waiting for the database to reach a state a test arranges, never by
//! sleeping a guessed time.

use std::time::{Duration, Instant};

use super::TestApp;

impl TestApp {
    /// Waits until at least `n` sessions of this database wait for a lock
    /// (requests queued on a row held from elsewhere); fails after 30 s.
    pub async fn wait_for_lock_waiters(&self, n: i64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity
                 where datname = current_database() and wait_event_type = 'Lock'",
            )
            .fetch_one(&self.pool)
            .await
            .expect("count the sessions waiting for a lock");
            if waiting >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{waiting} of {n} sessions wait for a lock after 30 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
