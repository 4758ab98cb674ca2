//! Waiting for the database to reach a state a test arranges, never by
//! sleeping a guessed time.

use std::time::{Duration, Instant};

use sqlx::{Postgres, Transaction};

use super::{TestApp, TestUser};

impl TestApp {
    /// Holds the user's wallet row as a money move of another node would,
    /// until the returned transaction ends.
    pub async fn hold_wallet(&self, user: &TestUser) -> Transaction<'static, Postgres> {
        let mut holder = dompet::store::begin(&self.pool).await.unwrap();
        sqlx::query("select 1 from deposits where user_id = $1 for no key update")
            .bind(user.id)
            .execute(&mut *holder)
            .await
            .unwrap();
        holder
    }

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
