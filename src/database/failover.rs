//! Surviving a primary failover without a restart. sqlx 0.8 takes one host
//! per URL (no multi-host URLs, no `target_session_attrs`), so dompet takes a
//! list of candidate primaries (`DATABASE_URL` with several URLs joined by
//! commas), opens its pool on the first that accepts writes, refuses any
//! connection that lands on a standby, and a watcher re-points the pool at
//! whichever candidate accepts writes once the current one stops doing so.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    ConnectOptions, Connection, PgPool,
};

use crate::store::write_marks;

/// How often the watcher asks whether the primary still accepts writes.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// How long one candidate may take to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The servers that may be the primary, in order of preference.
#[derive(Clone)]
pub struct Candidates(Arc<Vec<PgConnectOptions>>);

impl Candidates {
    pub fn parse(urls: &[String], statement_cache: usize) -> Result<Self, sqlx::Error> {
        let options = urls
            .iter()
            .map(|url| {
                PgConnectOptions::from_str(url).map(|o| o.statement_cache_capacity(statement_cache))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(Arc::new(options)))
    }

    /// The same servers, each session with these settings.
    pub fn with_session(self, settings: &[(&'static str, String)]) -> Self {
        let options = self
            .0
            .iter()
            .map(|o| o.clone().options(settings.iter().cloned()))
            .collect();
        Self(Arc::new(options))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first candidate that answers and accepts writes.
    pub async fn find_primary(&self) -> Option<PgConnectOptions> {
        for options in self.0.iter() {
            if probe(options).await {
                return Some(options.clone());
            }
        }
        None
    }

    /// A pool on the current primary. With more than one candidate, every
    /// new connection is checked to accept writes, so a pool never hands out
    /// a connection to a standby, and a watcher follows a failover.
    pub async fn connect(&self, pool: PgPoolOptions) -> Result<PgPool, sqlx::Error> {
        let Some(first) = self.0.first().cloned() else {
            return Err(sqlx::Error::Configuration("no database URL".into()));
        };
        if self.len() == 1 {
            return pool.connect_with(first).await;
        }
        let primary = self.find_primary().await.ok_or_else(|| {
            sqlx::Error::Configuration("none of the DATABASE_URL servers accepts writes".into())
        })?;
        tracing::info!(primary = %endpoint(&primary), "connected to the primary");
        pool.after_connect(|conn, _| {
            Box::pin(async move {
                let mut tx = conn.begin().await?;
                let writable = write_marks::is_writable(&mut tx).await?;
                tx.commit().await?;
                match writable {
                    true => Ok(()),
                    false => Err(sqlx::Error::Configuration(
                        "the server is a standby (read-only); waiting for the primary".into(),
                    )),
                }
            })
        })
        .connect_with(primary)
        .await
    }

    /// Re-points `pool` at the candidate that accepts writes whenever the
    /// current target stops doing so; ends when the pool is closed.
    pub fn spawn_watcher(&self, pool: PgPool) {
        if self.len() < 2 {
            return;
        }
        let candidates = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !pool.is_closed() {
                tick.tick().await;
                let current = pool.connect_options();
                if probe(&current).await {
                    continue;
                }
                tracing::warn!(primary = %endpoint(&current), "the primary does not accept writes; looking for another");
                if let Some(next) = candidates.find_primary().await {
                    tracing::warn!(primary = %endpoint(&next), "switched to a new primary");
                    pool.set_connect_options(with_session_of(&current, next));
                }
            }
        });
    }
}

/// `next` with the session settings (`-c name=value` startup options) the
/// pool's connections had so far: a failover keeps the serving pool's
/// timeouts.
fn with_session_of(current: &PgConnectOptions, next: PgConnectOptions) -> PgConnectOptions {
    let Some(options) = current.get_options() else {
        return next;
    };
    let settings: Vec<(String, String)> = options
        .split_whitespace()
        .filter(|word| *word != "-c")
        .filter_map(|word| word.split_once('='))
        .filter(|(name, _)| !name.starts_with('-'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    next.options(settings)
}

/// Whether the server answers within `PROBE_TIMEOUT` and accepts writes.
async fn probe(options: &PgConnectOptions) -> bool {
    let probed = tokio::time::timeout(PROBE_TIMEOUT, async {
        let mut conn = options.connect().await?;
        let mut tx = conn.begin().await?;
        let writable = write_marks::is_writable(&mut tx).await?;
        tx.commit().await?;
        let _ = conn.close().await;
        Ok::<_, sqlx::Error>(writable)
    })
    .await;
    matches!(probed, Ok(Ok(true)))
}

/// host:port/database, for logs: never the password.
pub fn endpoint(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_keeps_the_session_settings() {
        let current = PgConnectOptions::new()
            .host("old")
            .options([("lock_timeout", "3000ms"), ("statement_timeout", "15000ms")]);

        let next = with_session_of(&current, PgConnectOptions::new().host("new"));

        assert_eq!(next.get_host(), "new");
        assert_eq!(
            next.get_options(),
            Some("-c lock_timeout=3000ms -c statement_timeout=15000ms")
        );
        let plain = with_session_of(&PgConnectOptions::new(), PgConnectOptions::new());
        assert_eq!(plain.get_options(), None);
    }
}
