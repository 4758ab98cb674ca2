//! Twins of one user on two nodes, queued on the wallet's row lock in the
//! database: the one behind must judge its request on what the one ahead
//! committed (its withdrawal, its lockout, its Idempotency-Key's answer),
//! which a check read before the lock wait would miss. Node A is the app
//! over HTTP; node B is a second service over the same database, with its
//! own in-process turns, so the two meet only at the row lock.

use dompet::{
    domain::UserId,
    service::{Rule, ServiceError, WithdrawOutcome, WithdrawRequest},
};
use sqlx::{Postgres, Transaction};
use tokio::task::JoinHandle;

use crate::helpers::{
    accepted, form, rejected, spawn_app, Answer, TestApp, TestUser, LOCKED_OUT, RULE_ONCE_A_DAY,
    RULE_PASSWORD,
};

/// A withdrawal through node B.
fn on_node_b(
    app: &TestApp,
    user: &TestUser,
    key: Option<&str>,
    account: i64,
    password: &str,
) -> JoinHandle<Result<WithdrawOutcome, ServiceError>> {
    let dompet = app.dompet.clone();
    let user_id = UserId::new(user.id);
    let request = WithdrawRequest {
        amount: Some("25000".to_owned()),
        bank_account_id: Some(account.to_string()),
        password: Some(password.to_owned()),
    };
    let key = key.map(str::to_owned);
    tokio::spawn(async move { dompet.request_withdrawal(user_id, request, key).await })
}

/// The same withdrawal through node A, over HTTP.
fn on_node_a(
    app: &TestApp,
    user: &TestUser,
    key: Option<&str>,
    account: i64,
    password: &str,
) -> JoinHandle<Answer> {
    let mut request = app
        .withdraw_request(user, "")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form("25000", &account.to_string(), password));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    tokio::spawn(Answer::of(request))
}

/// B queues on the held wallet first, then A behind it; then the wallet
/// is let go.
async fn b_then_a(
    app: &TestApp,
    b: JoinHandle<Result<WithdrawOutcome, ServiceError>>,
    a: impl FnOnce() -> JoinHandle<Answer>,
    holder: Transaction<'static, Postgres>,
) -> (WithdrawOutcome, Answer) {
    app.wait_for_lock_waiters(1).await;
    let a = a();
    app.wait_for_lock_waiters(2).await;
    holder.rollback().await.unwrap();
    let b = b.await.unwrap().expect("node B's answer");
    let a = a.await.unwrap();
    (b, a)
}

async fn stored_keys(app: &TestApp, user: &TestUser) -> i64 {
    sqlx::query_scalar("select count(*) from withdraw_idempotency where user_id = $1")
        .bind(user.id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_twin_with_the_same_key_queued_behind_on_the_wallet_replays_the_first_answer() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let holder = app.hold_wallet(&user).await;

    // Act
    let b = on_node_b(&app, &user, Some("one-click"), account, &user.password);
    let (b, a) = b_then_a(
        &app,
        b,
        || on_node_a(&app, &user, Some("one-click"), account, &user.password),
        holder,
    )
    .await;

    // Assert: one withdrawal, and both nodes answer it.
    let WithdrawOutcome::Accepted { withdrawal_id } = b else {
        panic!("node B: {b:?}");
    };
    a.assert(200, &accepted(withdrawal_id.get()));
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
    assert_eq!(app.balance(&user).await, 75_000);
    assert_eq!(stored_keys(&app, &user).await, 1);
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twins_with_different_keys_make_one_withdrawal_and_each_key_keeps_its_own_answer() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let holder = app.hold_wallet(&user).await;

    // Act
    let b = on_node_b(&app, &user, Some("key-b"), account, &user.password);
    let (b, a) = b_then_a(
        &app,
        b,
        || on_node_a(&app, &user, Some("key-a"), account, &user.password),
        holder,
    )
    .await;

    // Assert: the one behind failed rule 3 as a rule (its answer stored
    // under its key), not at the schema's backstop (which stores nothing).
    let WithdrawOutcome::Accepted { withdrawal_id } = b else {
        panic!("node B: {b:?}");
    };
    let once_a_day = rejected(&[RULE_ONCE_A_DAY]);
    a.assert(200, &once_a_day);
    assert_eq!(stored_keys(&app, &user).await, 2);
    app.withdraw_with_key(&user, "key-a", 25_000, account)
        .await
        .assert(200, &once_a_day);
    app.withdraw_with_key(&user, "key-b", 25_000, account)
        .await
        .assert(200, &accepted(withdrawal_id.get()));
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
    assert_eq!(app.balance(&user).await, 75_000);
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_withdrawal_of_a_twin_ahead_on_the_wallet_fails_rule_3_behind_it() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let holder = app.hold_wallet(&user).await;

    // Act: the one behind has a wrong password too, so its answer shows
    // which rules it judged, not the backstop's.
    let b = on_node_b(&app, &user, None, account, &user.password);
    let (b, a) = b_then_a(
        &app,
        b,
        || on_node_a(&app, &user, None, account, "not-my-password"),
        holder,
    )
    .await;

    // Assert
    assert!(
        matches!(b, WithdrawOutcome::Accepted { .. }),
        "node B: {b:?}"
    );
    a.assert(200, &rejected(&[RULE_ONCE_A_DAY, RULE_PASSWORD]));
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
    assert_eq!(app.balance(&user).await, 75_000);
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lockout_by_a_twin_ahead_on_the_wallet_refuses_the_right_password_behind_it() {
    // Arrange: four wrong passwords; the fifth will lock the user out.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    for _ in 0..4 {
        app.withdraw(&user, 1000, account, "not-my-password")
            .await
            .assert(200, &rejected(&[RULE_PASSWORD]));
    }
    let holder = app.hold_wallet(&user).await;

    // Act: the fifth wrong password on B, the right one queued behind it
    // on A (past the lockout check before argon2: nothing was locked yet).
    let b = on_node_b(&app, &user, None, account, "not-my-password");
    let (b, a) = b_then_a(
        &app,
        b,
        || on_node_a(&app, &user, None, account, &user.password),
        holder,
    )
    .await;

    // Assert
    assert_eq!(
        b,
        WithdrawOutcome::Rejected {
            rules: vec![Rule::Password]
        }
    );
    a.assert(200, LOCKED_OUT);
    assert_eq!(app.withdrawal_counts(&user).await, (0, 0));
    assert_eq!(app.balance(&user).await, 100_000);
    app.withdraw(&user, 1000, account, &user.password)
        .await
        .assert(200, LOCKED_OUT);
    app.assert_ledger_ok().await;
}
