//! The pool that serves reads on the primary: plain `PgConnection`s, handed
//! out newest-idle first, and never pinged on the way back.
//!
//! Why not sqlx's pool: sqlx 0.8 sends a `Sync` round trip every time a
//! connection goes back to its pool (unconditionally, from a task it spawns
//! per release), and hands out idle connections oldest first. A history
//! page is two short statements, so that ping is a third of its round trips,
//! and the rotation spreads a light load over every backend (colder caches,
//! more PostgreSQL CPU per request: `bench/DIAGNOSIS.md` §2, §7).
//!
//! What makes skipping the ping safe: a connection goes back only through
//! [`ReadConn::release`], which the reader calls after its statements
//! answered in full. A connection dropped any other way — an error, a
//! cancelled request with a statement in flight — is closed, never reused,
//! so no one ever inherits a half-read answer. A connection idle for a
//! while is pinged before it is handed out (the server may have gone since).
//!
//! It follows the money pool: its acquire timeout and its connect options,
//! read at each new connection, so a failover that re-points the money pool
//! (`failover::Candidates::spawn_watcher`) re-points reads too, and
//! connections made for the old primary are closed at their next turn.

use std::{
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use sqlx::{postgres::PgConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::PING_AFTER_IDLE;

/// Idle connections beyond this are closed (as sqlx's default idle timeout).
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// No connection lives longer (as sqlx's default max lifetime): a server
/// restarted behind a proxy, or a session's memory, does not linger.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// New connections being opened at once, at most.
const CONNECTING_AT_ONCE: usize = 2;

/// Cheap to clone; every clone shares the connections.
#[derive(Clone)]
pub struct ReadPool(Arc<Shared>);

struct Shared {
    /// The money pool this one follows (options, size, timeout, closing).
    primary: PgPool,
    size: usize,
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
    /// Most recently released last: handed out from the end.
    idle: Mutex<Vec<Idle>>,
    /// Signalled each time a connection goes back to `idle`.
    released: Notify,
    /// Readers opening a connection now, at most [`CONNECTING_AT_ONCE`].
    connecting: Semaphore,
}

struct Idle {
    live: Live,
    since: Instant,
}

struct Live {
    conn: PgConnection,
    opened: Instant,
    /// The connect options it was opened with; a failover replaces them.
    target: Arc<PgConnectOptions>,
}

impl ReadPool {
    /// A pool of at most `size` connections beside `primary`, with its
    /// acquire timeout; connects on first use.
    pub fn beside(primary: &PgPool, size: usize) -> Self {
        let size = size.clamp(1, Semaphore::MAX_PERMITS);
        Self(Arc::new(Shared {
            primary: primary.clone(),
            size,
            permits: Arc::new(Semaphore::new(size)),
            acquire_timeout: primary.options().get_acquire_timeout(),
            idle: Mutex::new(Vec::new()),
            released: Notify::new(),
            connecting: Semaphore::new(CONNECTING_AT_ONCE),
        }))
    }

    /// A connection for one read: an idle one if there is one, else a new
    /// one. Waits at most the acquire timeout in all (`PoolTimedOut`).
    pub async fn acquire(&self) -> Result<ReadConn, sqlx::Error> {
        let shared = &self.0;
        if shared.primary.is_closed() {
            return Err(sqlx::Error::PoolClosed);
        }
        let deadline = tokio::time::Instant::now() + shared.acquire_timeout;
        let permit = tokio::time::timeout_at(deadline, shared.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let target = shared.primary.connect_options();
        let live = tokio::time::timeout_at(deadline, shared.checkout(target, deadline))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(ReadConn::new(live, permit, shared))
    }

    /// Connections open now: (in use, idle).
    pub fn counts(&self) -> (usize, usize) {
        let capacity = self.0.capacity();
        let in_use = capacity.saturating_sub(self.0.permits.available_permits());
        (in_use, self.0.lock_idle().len())
    }

    pub fn max_connections(&self) -> usize {
        self.0.capacity()
    }
}

/// A new connection to `primary`'s current target, retried as sqlx's pool
/// retries: while the server refuses connections (starting up, or gone in a
/// failover) or says it is full, with doubling pauses, until `deadline`.
/// Each try reads the target afresh, so a retry that began on a primary that
/// went away lands on the one the failover watcher found meanwhile.
async fn connect(
    primary: &PgPool,
    deadline: tokio::time::Instant,
) -> Result<(PgConnection, Arc<PgConnectOptions>), sqlx::Error> {
    let mut pause = Duration::from_millis(10);
    loop {
        let target = primary.connect_options();
        match tokio::time::timeout_at(deadline, PgConnection::connect_with(&target)).await {
            Ok(Ok(conn)) => return Ok((conn, target)),
            Ok(Err(sqlx::Error::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
            Ok(Err(sqlx::Error::Database(e))) if e.is_transient_in_connect_phase() => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(sqlx::Error::PoolTimedOut),
        }
        if tokio::time::Instant::now() + pause >= deadline {
            return Err(sqlx::Error::PoolTimedOut);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

impl Shared {
    /// An idle connection to `target`, else whichever comes first: one
    /// released by another reader, or a new one. At most
    /// [`CONNECTING_AT_ONCE`] readers connect at a time, so a burst of
    /// requests on a cold pool opens the few connections it needs, not one
    /// per request (each costs PostgreSQL a process and an authentication).
    async fn checkout(
        &self,
        target: Arc<PgConnectOptions>,
        deadline: tokio::time::Instant,
    ) -> Result<Live, sqlx::Error> {
        loop {
            // Registered before looking, so a release in between wakes us.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            while let Some(Idle { mut live, since }) = self.pop_idle() {
                let current = Arc::ptr_eq(&live.target, &target);
                if !current || live.opened.elapsed() >= MAX_LIFETIME {
                    continue;
                }
                if since.elapsed() >= PING_AFTER_IDLE && live.conn.ping().await.is_err() {
                    continue;
                }
                return Ok(live);
            }
            tokio::select! {
                biased;
                () = &mut released => {}
                slot = self.connecting.acquire() => {
                    let _slot = slot.map_err(|_| sqlx::Error::PoolClosed)?;
                    let (conn, target) = connect(&self.primary, deadline).await?;
                    return Ok(Live {
                        conn,
                        opened: Instant::now(),
                        target,
                    });
                }
            }
        }
    }

    fn capacity(&self) -> usize {
        self.size
    }

    /// The lock only guards a `Vec`; a panic elsewhere cannot leave it torn.
    fn lock_idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn pop_idle(&self) -> Option<Idle> {
        self.lock_idle().pop()
    }

    fn push_idle(&self, live: Live) {
        if self.primary.is_closed() || live.opened.elapsed() >= MAX_LIFETIME {
            return;
        }
        let mut idle = self.lock_idle();
        // The longest idle sit at the front: close those past the timeout.
        let expired = idle
            .iter()
            .take_while(|i| i.since.elapsed() >= IDLE_TIMEOUT)
            .count();
        idle.drain(..expired);
        idle.push(Idle {
            live,
            since: Instant::now(),
        });
        drop(idle);
        self.released.notify_one();
    }
}

/// A connection checked out of a [`ReadPool`]. Give it back with
/// [`ReadConn::release`] once its statements have answered; dropped
/// otherwise, it is closed.
pub struct ReadConn {
    live: Live,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
}

impl ReadConn {
    fn new(live: Live, permit: OwnedSemaphorePermit, shared: &Arc<Shared>) -> Self {
        Self {
            live,
            shared: shared.clone(),
            permit,
        }
    }

    /// Back to the pool for the next read, no round trip. The permit goes
    /// after the connection is idle, so whoever it wakes finds it there.
    pub fn release(self) {
        let Self {
            live,
            shared,
            permit,
        } = self;
        shared.push_idle(live);
        drop(permit);
    }
}

impl Deref for ReadConn {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.live.conn
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.live.conn
    }
}
