//! A database that goes away is not a server bug: lost and refused
//! connections answer 503 with `Retry-After` in each surface's envelope,
//! never a rejection and never the 500 of a real bug, and the server
//! recovers by itself.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::Connection;

use crate::helpers::{
    exec, form, spawn_app, Answer, TestApp, TestUser, ADMIN_TOKEN, MUTATIONS, WITHDRAW,
};

const PUBLIC_503: &str =
    r#"{"status":"ERROR","message":"Layanan sedang tidak tersedia. Coba lagi nanti."}"#;
const WITHDRAW_503: &str = r#"{"status":"ERROR","withdrawal_id":null,"message":"Layanan sedang tidak tersedia. Coba lagi nanti."}"#;
const OPERATOR_503: &str =
    r#"{"error":{"code":"unavailable","message":"the database is unavailable; retry shortly"}}"#;

#[track_caller]
fn assert_retry_later(answer: &Answer, body: &str) {
    answer.assert(503, body);
    assert_eq!(answer.headers["retry-after"], "2", "{answer:?}");
    assert_eq!(answer.headers["content-type"], "application/json");
}

/// The pid of the app's session that waits for a lock, once there is one.
async fn app_session_waiting_for_a_lock(app: &TestApp) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: Option<i32> = sqlx::query_scalar(
            "select pid from pg_stat_activity
             where datname = current_database() and usename = $1 and wait_event_type = 'Lock'",
        )
        .bind(&app.db.runtime_role)
        .fetch_optional(&app.pool)
        .await
        .unwrap();
        if let Some(pid) = waiting {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "the request never waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `request` while the user's wallet is locked from elsewhere, kills
/// the app's session once it waits for that lock, and returns the answer.
async fn lose_the_connection_in_flight(
    app: &TestApp,
    user: &TestUser,
    request: reqwest::RequestBuilder,
) -> Answer {
    let mut holder = app.db.connect().await;
    let mut lock = holder.begin().await.unwrap();
    sqlx::query("select 1 from deposits where user_id = $1 for update")
        .bind(user.id)
        .execute(&mut *lock)
        .await
        .unwrap();
    let in_flight = tokio::spawn(async move {
        let response = request.send().await.expect("request failed");
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    });
    let pid = app_session_waiting_for_a_lock(app).await;
    exec(&app.pool, &format!("select pg_terminate_backend({pid})")).await;
    let answer = in_flight.await.unwrap();
    lock.rollback().await.unwrap();
    holder.close().await.ok();
    answer
}

#[tokio::test]
async fn a_withdrawal_whose_connection_dies_mid_flight_answers_503_and_its_retry_succeeds() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let before = app.ledger_fingerprint().await;
    let keyed = |app: &TestApp| {
        app.withdraw_request(&user, "")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("idempotency-key", "payout-lost-1")
            .body(form("20000", &account.to_string(), &user.password))
    };

    // Act
    let answer = lose_the_connection_in_flight(&app, &user, keyed(&app)).await;

    // Assert: told to retry, nothing written; the retry (same key) acts once.
    assert_retry_later(&answer, WITHDRAW_503);
    assert_eq!(app.ledger_fingerprint().await, before);
    let retried = app.send(keyed(&app)).await;
    assert_eq!(retried.json()["status"], "OK", "{retried:?}");
    assert_eq!(app.balance(&user).await, 30_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_operator_posting_whose_connection_dies_mid_flight_answers_503_and_its_retry_applies_once(
) {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.funded_user(50_000).await;
    let posting = json!({"user_id": user.id, "action": "payment", "amount": 5_000, "idempotency_key": "pay-lost-1"});
    let post = |app: &TestApp| {
        app.request(Method::POST, "/internal/v1/mutations")
            .bearer_auth(ADMIN_TOKEN)
            .json(&posting)
    };

    // Act
    let answer = lose_the_connection_in_flight(&app, &user, post(&app)).await;

    // Assert
    assert_retry_later(&answer, OPERATOR_503);
    assert_eq!(app.balance(&user).await, 50_000);
    assert_eq!(app.send(post(&app)).await.status, 201);
    assert_eq!(app.send(post(&app)).await.status, 200, "a replay");
    assert_eq!(app.balance(&user).await, 45_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_database_refusing_connections_answers_503_on_every_surface_then_recovers_by_itself() {
    // Arrange: the app on a pool that gives up waiting after 2 s (the
    // server's own waits 10 s), and a user with a bank account.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let pool = dompet::database::pool_options(4)
        .acquire_timeout(Duration::from_secs(2))
        .connect_with(app.db.runtime_options.clone())
        .await
        .unwrap();
    let mut config = dompet::config::Config::from_lookup(|_| None).unwrap();
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.operator_token = Some(dompet::config::Secret::new(ADMIN_TOKEN));
    let server = dompet::startup::Application::build(&config, pool)
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run_until(std::future::pending()));
    let requests = |app: &TestApp| {
        [
            app.client
                .get(format!("{base}{MUTATIONS}"))
                .basic_auth(user.id, Some(&user.token)),
            app.client
                .get(format!("{base}/internal/v1/users/{}", user.id))
                .bearer_auth(ADMIN_TOKEN),
            app.client
                .post(format!("{base}{WITHDRAW}"))
                .basic_auth(user.id, Some(&user.token))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("idempotency-key", "payout-refused-1")
                .body(form("20000", &account.to_string(), &user.password)),
        ]
    };
    let [history, operator, withdraw] = requests(&app);
    assert_eq!(app.send(history).await.status, 200, "serving before");

    // Act: no new sessions allowed for the app's role, and its open ones ended.
    exec(
        &app.pool,
        &format!("alter database {} connection limit 0", app.db.name),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "select pg_terminate_backend(pid) from pg_stat_activity
             where datname = current_database() and usename = '{}'",
            app.db.runtime_role
        ),
    )
    .await;
    let [history, _, _] = requests(&app);
    let down =
        futures::future::join_all([app.send(history), app.send(operator), app.send(withdraw)])
            .await;

    // Assert
    assert_retry_later(&down[0], PUBLIC_503);
    assert_retry_later(&down[1], OPERATOR_503);
    assert_retry_later(&down[2], WITHDRAW_503);
    exec(
        &app.pool,
        &format!("alter database {} connection limit -1", app.db.name),
    )
    .await;
    let [history, operator, withdraw] = requests(&app);
    assert_eq!(app.send(history).await.status, 200);
    assert_eq!(app.send(operator).await.status, 200);
    let withdrawn = app.send(withdraw).await;
    assert_eq!(withdrawn.json()["status"], "OK", "{withdrawn:?}");
    app.assert_ledger_ok().await;
}
