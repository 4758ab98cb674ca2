//! Operator postings (`POST /mutations`): credits and debits as one chained
//! mutation each, refusals that write nothing, and the idempotency key.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{mutation_json, scalar, spawn_app, POSTING_KEY_REUSED};

#[tokio::test]
async fn credits_raise_and_payments_lower_the_balance_one_chained_mutation_each() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let postings = [
        ("remit", 30_000, Some(51_938), "Deposit::Credit", 0, 30_000),
        ("topup", 5_000, None, "Deposit::Credit", 30_000, 35_000),
        ("refund", 2_500, Some(77), "Deposit::Credit", 35_000, 37_500),
        (
            "payment",
            12_500,
            Some(78),
            "Deposit::Debit",
            37_500,
            25_000,
        ),
        ("payment", 25_000, None, "Deposit::Debit", 25_000, 0),
        ("topup", 1, None, "Deposit::Credit", 0, 1),
    ];
    let mut bodies = Vec::new();

    for (n, (action, amount, transaction_id, kind, initial, last)) in
        postings.into_iter().enumerate()
    {
        // Act
        let answer = app.admin_post_mutation(json!({"user_id":user.id,"action":action,"amount":amount,"transaction_id":transaction_id,"idempotency_key":format!("k-{n}")}),
        )
        .await;

        // Assert
        let id = answer.json()["id"].as_i64().expect("id");
        let expected = mutation_json(
            &app.pool,
            id,
            (kind, action, amount, initial, last, transaction_id),
        )
        .await;
        answer.assert(201, &expected);
        bodies.push(expected);
    }
    let shown = app
        .admin(Method::GET, &format!("/users/{}", user.id), None)
        .await;
    assert_eq!(
        (shown.status.as_u16(), &shown.json()["balance"]),
        (200, &json!(1))
    );
    // The user sees the same rows, newest first, on the public history.
    bodies.reverse();
    app.mutations(&user, "").await.assert(
        200,
        &format!(
            r#"{{"status":"OK","history":[{}],"message":null}}"#,
            bodies.join(",")
        ),
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_payment_over_the_balance_is_422_insufficient_balance_and_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.funded_user(5_000).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let answer = app
        .admin_post_mutation(
            json!({"user_id":user.id,"action":"payment","amount":5_001,"idempotency_key":"pay-1"}),
        )
        .await;

    // Assert
    answer.assert(
        422,
        r#"{"error":{"code":"insufficient_balance","message":"the balance 5000 is less than the debit of 5001"}}"#,
    );
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 5_000);
    // Nothing was recorded under the key either: the exact balance may
    // still be paid with it.
    let paid = app
        .admin_post_mutation(
            json!({"user_id":user.id,"action":"payment","amount":5_000,"idempotency_key":"pay-1"}),
        )
        .await;
    assert_eq!(paid.status, 201, "{paid:?}");
    assert_eq!(paid.json()["final_balance"], 0);
    assert_eq!(app.balance(&user).await, 0);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_credit_that_would_overflow_the_wallet_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let (user, _) = app.funded_user(i64::MAX - 10).await;
    let before = app.ledger_fingerprint().await;

    let answer = app
        .admin_post_mutation(
            json!({"user_id":user.id,"action":"topup","amount":11,"idempotency_key":"too-much"}),
        )
        .await;

    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(answer.json()["error"]["code"], "balance_overflow");
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, i64::MAX - 10);
}

#[tokio::test]
async fn replaying_a_posting_answers_200_with_the_first_body_and_applies_once() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let posting = json!({"user_id":user.id,"action":"topup","amount":10_000,"transaction_id":5,"idempotency_key":"order-5"});
    let first = app.admin_post_mutation(posting.clone()).await;
    assert_eq!(first.status, 201, "{first:?}");
    let later = app.admin_post_mutation(json!({"user_id":user.id,"action":"payment","amount":3_000,"idempotency_key":"order-6"}),
    )
    .await;
    assert_eq!(later.status, 201, "{later:?}");

    for _ in 0..2 {
        // Act
        let replay = app.admin_post_mutation(posting.clone()).await;

        // Assert: the first result, balances as they were then.
        replay.assert(200, &first.body);
    }
    assert_eq!(first.json()["final_balance"], 10_000);
    assert_eq!(
        scalar(
            &app.pool,
            "select count(*) from mutations where idempotency_key = 'order-5'"
        )
        .await,
        1
    );
    assert_eq!(scalar(&app.pool, "select count(*) from mutations").await, 2);
    assert_eq!(app.balance(&user).await, 7_000);
}

#[tokio::test]
async fn reusing_a_key_with_other_fields_is_409_and_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.funded_user(50_000).await;
    let other = app.create_user().await;
    let first = app.admin_post_mutation(json!({"user_id":user.id,"action":"refund","amount":1_000,"transaction_id":9,"idempotency_key":"refund-9"}),
    )
    .await;
    assert_eq!(first.status, 201, "{first:?}");
    let before = app.ledger_fingerprint().await;
    let cases = [
        (
            "another amount",
            json!({"user_id":user.id,"action":"refund","amount":1_001,"transaction_id":9,"idempotency_key":"refund-9"}),
        ),
        (
            "another action",
            json!({"user_id":user.id,"action":"remit","amount":1_000,"transaction_id":9,"idempotency_key":"refund-9"}),
        ),
        (
            "a debit",
            json!({"user_id":user.id,"action":"payment","amount":1_000,"transaction_id":9,"idempotency_key":"refund-9"}),
        ),
        (
            "another transaction",
            json!({"user_id":user.id,"action":"refund","amount":1_000,"transaction_id":10,"idempotency_key":"refund-9"}),
        ),
        (
            "no transaction",
            json!({"user_id":user.id,"action":"refund","amount":1_000,"idempotency_key":"refund-9"}),
        ),
        (
            "another user",
            json!({"user_id":other.id,"action":"refund","amount":1_000,"transaction_id":9,"idempotency_key":"refund-9"}),
        ),
    ];

    for (why, body) in cases {
        // Act
        let answer = app.admin_post_mutation(body).await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (409, POSTING_KEY_REUSED),
            "{why}"
        );
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 51_000);
    assert_eq!(app.balance(&other).await, 0);
}
