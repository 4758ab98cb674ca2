//! The withdraw `Idempotency-Key`: a retry replays the first answer, other
//! parameters under the same key are a 422, keys belong to one user.

use dompet::domain::WithdrawalId;

use crate::helpers::{
    accepted, form, rejected, spawn_app, RULE_BALANCE, RULE_ONCE_A_DAY, RULE_PASSWORD,
    WITHDRAW_KEY_REUSED,
};

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_success_without_a_second_withdrawal() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = app
        .withdraw_with_key(&user, "retry-1", 25_000, account)
        .await;
    first.assert(200, &accepted(first.withdrawal_id()));

    // Act
    let retries = [
        app.withdraw_with_key(&user, "retry-1", 25_000, account)
            .await,
        app.withdraw_with_key(&user, "retry-1", 25_000, account)
            .await,
    ];

    // Assert
    for retry in retries {
        assert_eq!(
            (retry.status, retry.body.as_str()),
            (first.status, first.body.as_str())
        );
    }
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
    assert_eq!(app.balance(&user).await, 75_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_replay_is_the_first_answer_even_after_the_withdrawal_was_cancelled() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = app
        .withdraw_with_key(&user, "cancel-me", 25_000, account)
        .await;
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(first.withdrawal_id()))
        .await
        .unwrap();
    let before = app.ledger_fingerprint().await;

    // Act: the day is free again, but the key has been answered.
    let retry = app
        .withdraw_with_key(&user, "cancel-me", 25_000, account)
        .await;

    // Assert
    retry.assert(200, &first.body);
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
}

#[tokio::test]
async fn a_rejection_is_replayed_even_when_the_request_would_now_pass() {
    // Arrange: too little money at first.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(10_000).await;
    let first = app
        .withdraw_with_key(&user, "too-early", 25_000, account)
        .await;
    first.assert(200, &rejected(&[RULE_BALANCE]));
    app.credit(&user, 50_000).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let retry = app
        .withdraw_with_key(&user, "too-early", 25_000, account)
        .await;
    let fresh = app
        .withdraw_with_key(&user, "second-try", 25_000, account)
        .await;

    // Assert
    retry.assert(200, &first.body);
    assert_eq!(
        app.withdrawal_counts(&user).await,
        (1, 1),
        "only the fresh key acted"
    );
    fresh.assert(200, &accepted(fresh.withdrawal_id()));
    assert_eq!(app.ledger_fingerprint().await.0, before.0 + 1);
    assert_eq!(app.balance(&user).await, 35_000);
}

#[tokio::test]
async fn the_same_key_with_other_parameters_is_a_422_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let second_account = app.add_bank_account(&user).await;
    let first = app.withdraw_with_key(&user, "k-1", 25_000, account).await;
    first.assert(200, &accepted(first.withdrawal_id()));
    let rejected_first = app.withdraw_with_key(&user, "k-2", 999_999, account).await;
    rejected_first.assert(200, &rejected(&[RULE_ONCE_A_DAY, RULE_BALANCE]));
    let before = app.ledger_fingerprint().await;

    // Act
    let other_amount = app.withdraw_with_key(&user, "k-1", 30_000, account).await;
    let other_account = app
        .withdraw_with_key(&user, "k-1", 25_000, second_account)
        .await;
    let after_a_rejection = app.withdraw_with_key(&user, "k-2", 1000, account).await;

    // Assert
    other_amount.assert(422, WITHDRAW_KEY_REUSED);
    other_account.assert(422, WITHDRAW_KEY_REUSED);
    after_a_rejection.assert(422, WITHDRAW_KEY_REUSED);
    assert_eq!(app.ledger_fingerprint().await, before);
    // The key still replays its first answer for its own parameters.
    app.withdraw_with_key(&user, "k-1", 25_000, account)
        .await
        .assert(200, &first.body);
}

#[tokio::test]
async fn the_same_key_with_another_password_is_a_422_not_a_replay() {
    // Arrange: a mistyped password under key "typo".
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let typo = app
        .send(
            app.withdraw_request(&user, "")
                .header("idempotency-key", "typo")
                .body(form("1000", &account.to_string(), "rahasia-12")),
        )
        .await;
    typo.assert(200, &rejected(&[RULE_PASSWORD]));
    let before = app.ledger_fingerprint().await;

    // Act: the same key, the right password (another parameter value).
    let retry = app.withdraw_with_key(&user, "typo", 1000, account).await;

    // Assert: SPEC §1 — the same key with other parameters is a 422.
    retry.assert(422, WITHDRAW_KEY_REUSED);
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn idempotency_keys_belong_to_one_user() {
    // Arrange
    let app = spawn_app().await;
    let (alice, alice_account) = app.funded_user(100_000).await;
    let (bob, bob_account) = app.funded_user(100_000).await;
    let alices = app
        .withdraw_with_key(&alice, "shared-key", 10_000, alice_account)
        .await;

    // Act: other parameters under the same key, but another user.
    let bobs = app
        .withdraw_with_key(&bob, "shared-key", 30_000, bob_account)
        .await;

    // Assert
    bobs.assert(200, &accepted(bobs.withdrawal_id()));
    assert_ne!(bobs.withdrawal_id(), alices.withdrawal_id());
    assert_eq!(app.balance(&bob).await, 70_000);
    assert_eq!(app.balance(&alice).await, 90_000);
    app.withdraw_with_key(&alice, "shared-key", 10_000, alice_account)
        .await
        .assert(200, &alices.body);
    app.withdraw_with_key(&bob, "shared-key", 30_000, bob_account)
        .await
        .assert(200, &bobs.body);
}

#[tokio::test]
async fn without_a_key_a_repeated_request_is_a_new_request() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = app.withdraw(&user, 10_000, account, &user.password).await;
    first.assert(200, &accepted(first.withdrawal_id()));

    // Act
    let again = app.withdraw(&user, 10_000, account, &user.password).await;

    // Assert
    again.assert(200, &rejected(&[RULE_ONCE_A_DAY]));
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
}

#[tokio::test]
async fn the_same_numbers_spelled_with_leading_zeros_are_the_same_request() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = app.withdraw_with_key(&user, "zeros", 25_000, account).await;
    first.assert(200, &accepted(first.withdrawal_id()));
    let before = app.ledger_fingerprint().await;

    // Act: a client that pads its numbers retries under the same key.
    let retry = app
        .send(
            app.withdraw_request(&user, "")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("idempotency-key", "zeros")
                .body(form("025000", &format!("00{account}"), &user.password)),
        )
        .await;

    // Assert: replayed, not refused as another request, and nothing moved.
    retry.assert(200, &first.body);
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 75_000);
}
