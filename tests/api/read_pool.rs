//! The read pool (history, balances, token checks) skips sqlx's ping on
//! every release, so what it must guarantee instead is tested here against a
//! real server: a reader never inherits a connection with someone else's
//! answer still in flight, a connection the server ended is replaced, and a
//! light load keeps to one backend.

use std::time::{Duration, Instant};

use dompet::database::read_pool::ReadPool;
use sqlx::PgPool;

use crate::helpers::*;

/// A money pool and a read pool of `size` connections each, on the app's
/// runtime role.
async fn pools(app: &TestApp, size: u32) -> (PgPool, ReadPool) {
    let money = dompet::database::pool_options(size)
        .acquire_timeout(Duration::from_millis(500))
        .connect_with(app.db.runtime_options.clone())
        .await
        .unwrap();
    let reads = ReadPool::beside(&money, size as usize);
    (money, reads)
}

/// The server process behind `conn`.
async fn pid_of(conn: &mut sqlx::PgConnection) -> i32 {
    sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(conn)
        .await
        .unwrap()
}

/// The server process behind the connection a read gets now.
async fn backend_pid(reads: &ReadPool) -> i32 {
    let mut conn = reads.acquire().await.unwrap();
    let pid = pid_of(&mut conn).await;
    conn.release();
    pid
}

#[tokio::test]
async fn a_read_cancelled_mid_statement_never_leaves_its_answer_to_the_next_reader() {
    // Arrange: one connection, busy with a five-second statement.
    let app = spawn_app().await;
    let (_money, reads) = pools(&app, 1).await;
    let first_pid = backend_pid(&reads).await;
    let mut conn = reads.acquire().await.unwrap();
    let slow = sqlx::query_scalar::<_, i32>("select 7 from pg_sleep(5)").fetch_one(&mut *conn);

    // Act: the request is cut short while its statement runs.
    let cut = tokio::time::timeout(Duration::from_millis(200), slow).await;
    drop(conn);
    let started = Instant::now();
    let mut next = reads.acquire().await.unwrap();
    let answer: i32 = sqlx::query_scalar("select 42")
        .fetch_one(&mut *next)
        .await
        .unwrap();
    let pid = pid_of(&mut next).await;

    // Assert: the next reader gets its own answer at once, on a fresh
    // session, not the cancelled one's after its sleep.
    assert!(cut.is_err(), "the slow statement was not cut short");
    assert_eq!(answer, 42);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited {:?} for the cancelled statement",
        started.elapsed()
    );
    assert_ne!(pid, first_pid, "the cancelled session was handed out again");
}

#[tokio::test]
async fn a_read_that_failed_closes_its_connection_and_the_next_read_works() {
    // Arrange
    let app = spawn_app().await;
    let (_money, reads) = pools(&app, 1).await;
    let first_pid = backend_pid(&reads).await;

    // Act: a statement that fails, then the connection dropped unreleased
    // (what `?` on a failed read does).
    let mut conn = reads.acquire().await.unwrap();
    let failed = sqlx::query("select 1/0").execute(&mut *conn).await;
    drop(conn);
    let pid = backend_pid(&reads).await;

    // Assert
    assert!(failed.is_err());
    assert_ne!(pid, first_pid);
}

#[tokio::test]
async fn a_light_load_keeps_to_the_most_recently_used_backend() {
    // Arrange: three connections opened by three overlapping reads.
    let app = spawn_app().await;
    let (_money, reads) = pools(&app, 4).await;
    let (a, b, c) = (
        reads.acquire().await.unwrap(),
        reads.acquire().await.unwrap(),
        reads.acquire().await.unwrap(),
    );
    a.release();
    b.release();
    let mut last = c;
    let last_pid = pid_of(&mut last).await;
    last.release();

    // Act: twenty reads one after another.
    let mut pids = Vec::new();
    for _ in 0..20 {
        pids.push(backend_pid(&reads).await);
    }

    // Assert: all on the connection released last; the other two stay idle.
    assert!(pids.iter().all(|pid| *pid == last_pid), "{pids:?}");
    assert_eq!(reads.counts(), (0, 3));
}

#[tokio::test]
async fn a_connection_the_server_ended_while_idle_is_replaced_at_checkout() {
    // Arrange
    let app = spawn_app().await;
    let (_money, reads) = pools(&app, 2).await;
    let ended = backend_pid(&reads).await;
    exec(&app.pool, &format!("select pg_terminate_backend({ended})")).await;

    // Act: the next read after the idle connection's ping interval.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let pid = backend_pid(&reads).await;

    // Assert
    assert_ne!(pid, ended);
}

#[tokio::test]
async fn a_full_read_pool_gives_up_after_its_acquire_timeout() {
    // Arrange: the only connection held.
    let app = spawn_app().await;
    let (_money, reads) = pools(&app, 1).await;
    let held = reads.acquire().await.unwrap();

    // Act
    let started = Instant::now();
    let waited = reads.acquire().await;
    let took = started.elapsed();
    held.release();

    // Assert: the money pool's acquire timeout (500 ms), then `PoolTimedOut`
    // (which the surfaces answer with 503); afterwards it serves again.
    assert!(
        matches!(waited, Err(sqlx::Error::PoolTimedOut)),
        "{:?}",
        waited.err()
    );
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    backend_pid(&reads).await;
}

#[tokio::test]
async fn history_reads_answer_while_every_money_connection_waits_on_a_locked_wallet() {
    // Arrange: a server with a money pool of 2, both connections stuck in
    // withdrawals behind wallets locked from outside.
    let app = spawn_app_with(|c| c.db_max_connections = 2).await;
    let (reader, _) = app.funded_user(10_000).await;
    let mut holder = app.db.connect().await;
    let mut lock = sqlx::Connection::begin(&mut holder).await.unwrap();
    let mut victims = Vec::new();
    for _ in 0..2 {
        let (victim, account) = app.funded_user(50_000).await;
        sqlx::query("select 1 from deposits where user_id = $1 for update")
            .bind(victim.id)
            .execute(&mut *lock)
            .await
            .unwrap();
        victims.push((victim, account));
    }
    let stuck = futures::future::join_all(
        victims
            .iter()
            .map(|(victim, account)| app.withdraw(victim, 1_000, *account, &victim.password)),
    );
    let probe = async {
        // Both withdrawals hold their connections, waiting for the rows.
        app.wait_for_lock_waiters(2).await;
        let started = Instant::now();
        let history = app.mutations(&reader, "").await;
        (history, started.elapsed())
    };
    let ((history, took), _) = tokio::join!(probe, stuck);
    lock.rollback().await.unwrap();

    // Assert: the read did not queue behind the money moves.
    assert_eq!(history.status, 200, "{history:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_burst_on_a_cold_pool_opens_only_the_connections_it_needs() {
    // Arrange: a cold read pool of 12.
    let app = spawn_app().await;
    let (_money, reads) = pools(&app, 12).await;

    // Act: 60 short reads at once.
    let answers = futures::future::join_all((0..60).map(|i| {
        let reads = reads.clone();
        async move {
            let mut conn = reads.acquire().await?;
            let answer: i64 = sqlx::query_scalar("select $1::int8")
                .bind(i)
                .fetch_one(&mut *conn)
                .await?;
            conn.release();
            Ok::<_, sqlx::Error>(answer)
        }
    }))
    .await;

    // Assert: every read answered its own question, over fewer sessions than
    // one per concurrent reader (a new session costs PostgreSQL a process).
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.unwrap(), i as i64);
    }
    let (in_use, idle) = reads.counts();
    assert_eq!(in_use, 0);
    assert!((1..12).contains(&idle), "{idle} sessions opened");
}
