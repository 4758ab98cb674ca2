//! No wait is unbounded (SPEC §7): a wallet locked from outside fails its
//! requests cleanly within the request timeout without draining the pool,
//! and a request cut short never leaves a pooled connection inside a
//! transaction, nor its money move half done.

use std::time::{Duration, Instant};

use dompet::config::Config;
use futures::future::join_all;
use reqwest::Method;
use sqlx::{Connection, Executor, PgConnection};

use crate::helpers::*;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Holds `user`'s wallet row as a long transaction in psql would.
async fn lock_wallet(app: &TestApp, user: &TestUser) -> PgConnection {
    let mut holder = app.db.connect().await;
    holder.execute("begin").await.unwrap();
    sqlx::query("select id from deposits where user_id = $1 for update")
        .bind(user.id)
        .execute(&mut holder)
        .await
        .unwrap();
    holder
}

async fn timed<T>(work: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = work.await;
    (out, started.elapsed())
}

#[tokio::test]
async fn a_wallet_locked_from_outside_fails_its_withdrawals_in_time_and_others_keep_answering() {
    // Arrange
    let _turn = load_test_turn().await;
    let app = spawn_app_with(|c| c.request_timeout = REQUEST_TIMEOUT).await;
    let (victim, account) = app.funded_user(50_000).await;
    let (other, _) = app.funded_user(10_000).await;
    let mut holder = lock_wallet(&app, &victim).await;

    // Act: 25 withdrawals for the locked wallet, and meanwhile another
    // user's history every 200 ms.
    let withdrawals =
        join_all((0..25).map(|_| timed(app.withdraw(&victim, 1_000, account, &victim.password))));
    let histories = async {
        let mut answers = Vec::new();
        for _ in 0..20 {
            answers.push(timed(app.mutations(&other, "")).await);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        answers
    };
    let (withdrawals, histories) = tokio::join!(withdrawals, histories);

    // Assert: each withdrawal is shed with the withdraw envelope and a
    // Retry-After, well before the request timeout…
    for (answer, took) in &withdrawals {
        answer.assert(503, WITHDRAW_BUSY);
        assert_eq!(answer.headers["retry-after"], "1");
        assert!(*took < REQUEST_TIMEOUT, "took {took:?}");
    }
    // …and the other user was answered all along.
    for (answer, took) in &histories {
        assert_eq!(answer.status.as_u16(), 200, "{answer:?}");
        assert!(*took < REQUEST_TIMEOUT, "took {took:?}");
    }
    assert_eq!(app.withdrawal_counts(&victim).await, (0, 0));

    // …and after: the lock gone, the pool answers at once and the withdrawal
    // goes through.
    holder.execute("rollback").await.unwrap();
    let (history, took) = timed(app.mutations(&other, "")).await;
    assert_eq!(history.status.as_u16(), 200);
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let answer = app
        .withdraw(&victim, 1_000, account, &victim.password)
        .await;
    answer.assert(200, &accepted(answer.withdrawal_id()));
    assert_eq!(app.balance(&victim).await, 49_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_operator_posting_on_a_locked_wallet_is_503_busy_in_time() {
    let app = spawn_app_with(|c| c.request_timeout = Duration::from_secs(2)).await;
    let (user, _) = app.funded_user(10_000).await;
    let _holder = lock_wallet(&app, &user).await;

    let (answer, took) = timed(app.admin_post_mutation(serde_json::json!({
        "user_id": user.id, "action": "topup", "amount": 100, "idempotency_key": "locked"
    })))
    .await;

    answer.assert(
        503,
        r#"{"error":{"code":"busy","message":"too much work is waiting; nothing was done, try again shortly"}}"#,
    );
    assert_eq!(answer.headers["retry-after"], "1");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn a_transaction_whose_begin_is_cut_short_never_reaches_the_next_borrower() {
    // Arrange: the serving pool with a single connection, and a table whose
    // rows another session can see only once they are committed.
    let db = TestDb::create().await;
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.db_max_connections = 1;
    let pool = dompet::pool::serving(db.options.clone(), &config)
        .await
        .unwrap();
    pool.execute("create table marks (n int)").await.unwrap();
    let mut observer = db.connect().await;
    let backend = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, i32>("select pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let first_backend = backend(pool.clone()).await;

    for n in 0..20 {
        // Act: a request begins a transaction and is dropped (its client
        // gone, its time up) once the pool's only connection is taken for
        // the BEGIN, before the answer to it was read.
        while pool.num_idle() == 0 {
            // The last borrower's connection is still on its way back.
            tokio::task::yield_now().await;
        }
        {
            let begin = dompet::store::begin(&pool);
            futures::pin_mut!(begin);
            while pool.num_idle() > 0 {
                assert!(futures::poll!(begin.as_mut()).is_pending());
                tokio::task::yield_now().await;
            }
        }
        // The next request on the pool's only connection writes a row.
        sqlx::query("insert into marks values ($1)")
            .bind(n)
            .execute(&pool)
            .await
            .unwrap();

        // Assert: it ran on its own, so its row is committed and visible.
        let seen: i64 = sqlx::query_scalar("select count(*) from marks")
            .fetch_one(&mut observer)
            .await
            .unwrap();
        assert_eq!(seen, i64::from(n) + 1, "after {} BEGINs cut short", n + 1);
    }

    // The connection was rolled back, not thrown away and reopened.
    assert_eq!(backend(pool.clone()).await, first_backend);
    observer.close().await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn a_withdrawal_whose_client_went_away_is_still_made_and_its_key_replays_it() {
    // Arrange: the wallet held for a moment, so the request is still waiting
    // when its client gives up.
    let app = spawn_app_with(|c| c.request_timeout = Duration::from_secs(8)).await;
    let (user, account) = app.funded_user(50_000).await;
    let mut holder = lock_wallet(&app, &user).await;
    let request = || {
        app.withdraw_request(&user, "")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("idempotency-key", "gone-away")
            .body(form("1000", &account.to_string(), &user.password))
    };

    // Act: the client hangs up after 300 ms; then the lock goes away.
    let gone = request().timeout(Duration::from_millis(300)).send().await;
    assert!(gone.is_err(), "the client was meant to give up: {gone:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    holder.execute("rollback").await.unwrap();

    // Assert: the withdrawal was made all the same…
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.withdrawal_counts(&user).await != (1, 1) {
        assert!(Instant::now() < deadline, "the withdrawal was never made");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // …and the retry with its key tells the client so.
    let retry = app.send(request()).await;
    retry.assert(200, &accepted(retry.withdrawal_id()));
    assert_eq!(app.balance(&user).await, 49_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn no_session_is_left_idle_in_a_transaction_after_requests_time_out() {
    // Arrange: a request timeout so short that requests behind a locked
    // wallet run out of time.
    let app = spawn_app_with(|c| c.request_timeout = Duration::from_secs(1)).await;
    let (user, account) = app.funded_user(50_000).await;
    let mut holder = lock_wallet(&app, &user).await;

    // Act
    let answers =
        join_all((0..10).map(|_| app.withdraw(&user, 1_000, account, &user.password))).await;
    holder.execute("rollback").await.unwrap();

    // Assert: every answer is a JSON envelope (shed or timed out)…
    for answer in &answers {
        assert!([408, 503].contains(&answer.status.as_u16()), "{answer:?}");
        assert_eq!(answer.json()["status"], "ERROR");
    }
    // …and no session of the app sits inside a transaction for longer than
    // the moments between a transaction's statements, watched until well
    // after the server's own idle timeout (1 s here) would have ended one.
    let watch = Instant::now();
    while watch.elapsed() < Duration::from_millis(1_500) {
        let stuck: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where datname = current_database() and state like 'idle in transaction%'
               and clock_timestamp() - state_change > interval '250 milliseconds'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            stuck,
            0,
            "{:?} after the lock was released",
            watch.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The pool answers, and whatever went through is whole (a request that
    // timed out may still have made its withdrawal: it runs to completion).
    let answer = app
        .send(
            app.request(Method::GET, WITHDRAWALS)
                .basic_auth(user.id, Some(&user.token)),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200, "{answer:?}");
    let (withdrawals, debits) = app.withdrawal_counts(&user).await;
    assert!(withdrawals <= 1 && withdrawals == debits);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn serving_sessions_carry_timeouts_below_the_request_timeout() {
    let db = TestDb::create().await;
    let mut config = Config::from_lookup(|_| None).unwrap();
    config.request_timeout = Duration::from_secs(30);
    let pool = dompet::pool::serving(db.options.clone(), &config)
        .await
        .unwrap();

    let mut settings = Vec::new();
    for name in [
        "lock_timeout",
        "statement_timeout",
        "idle_in_transaction_session_timeout",
    ] {
        let value: String = sqlx::query_scalar(&format!("show {name}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        settings.push(value);
    }

    assert_eq!(settings, ["3s", "15s", "30s"]);
    pool.close().await;
}
