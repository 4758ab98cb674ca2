//! Operator postings and withdrawal steps under concurrency: no overdraft,
//! no lost or doubled credit, one effect per key, one winner per withdrawal.

use futures::future::join_all;
use serde_json::json;

use crate::helpers::{
    scalar, spawn_app, spawn_app_with, withdrawal_row, Answer, NOT_PENDING_CANCELLED,
    NOT_PENDING_PROCESSED,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_payments_never_overdraw_the_wallet() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.funded_user(100_000).await;

    // Act
    let answers = join_all((0..50).map(|n| {
        app.admin_post_mutation(json!({"user_id":user.id,"action":"payment","amount":3_000,"idempotency_key":format!("pay-{n}")}),
        )
    }))
    .await;

    // Assert
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == 422).collect();
    assert_eq!((created.len(), refused.len()), (33, 17), "{answers:#?}");
    assert!(refused
        .iter()
        .all(|a| a.json()["error"]["code"] == "insufficient_balance"));
    // Each success saw the one before it: every balance step appears once.
    let mut finals: Vec<i64> = created
        .iter()
        .map(|a| a.json()["final_balance"].as_i64().unwrap())
        .collect();
    finals.sort_unstable();
    assert_eq!(
        finals,
        (0..33).map(|n| 1_000 + 3_000 * n).collect::<Vec<_>>()
    );
    assert_eq!(app.balance(&user).await, 1_000);
    assert_eq!(
        scalar(
            &app.pool,
            "select count(*) from mutations where action = 'payment'"
        )
        .await,
        33
    );
    app.admin_verify_ledger()
        .await
        .assert(200, r#"{"ok":true,"users_checked":1,"violations":[]}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_hundred_concurrent_credits_to_one_wallet_all_count() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;

    // Act: amounts 1..=400, so a lost or doubled credit shows in the sum.
    let answers = join_all((1..=400).map(|amount| {
        app.admin_post_mutation(json!({"user_id":user.id,"action":"topup","amount":amount,"idempotency_key":format!("topup-{amount}")}),
        )
    }))
    .await;

    // Assert
    let failed: Vec<&Answer> = answers.iter().filter(|a| a.status != 201).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(app.balance(&user).await, 400 * 401 / 2);
    assert_eq!(
        scalar(&app.pool, "select count(*) from mutations").await,
        400
    );
    app.admin_verify_ledger()
        .await
        .assert(200, r#"{"ok":true,"users_checked":1,"violations":[]}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replays_of_one_key_apply_once_and_all_answer_the_first_body() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let posting = json!({"user_id":user.id,"action":"remit","amount":30_000,"transaction_id":51_938,"idempotency_key":"remit-51938"});

    // Act
    let answers = join_all((0..20).map(|_| app.admin_post_mutation(posting.clone()))).await;

    // Assert
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(created.len(), 1, "{answers:#?}");
    for answer in &answers {
        assert!(answer.status == 201 || answer.status == 200, "{answer:?}");
        assert_eq!(answer.body, created[0].body);
    }
    assert_eq!(scalar(&app.pool, "select count(*) from mutations").await, 1);
    assert_eq!(app.balance(&user).await, 30_000);
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_process_racing_a_cancel_of_the_same_withdrawal_has_exactly_one_winner() {
    // Arrange: several withdrawals, so the race is run more than once.
    let app = spawn_app().await;
    let mut withdrawals = Vec::new();
    for _ in 0..8 {
        withdrawals.push(app.user_with_withdrawal(10_000, 2_000).await);
    }

    for (user, id) in withdrawals {
        // Act
        let (processed, cancelled) = tokio::join!(
            app.admin_process_withdrawal(id),
            app.admin_cancel_withdrawal(id)
        );

        // Assert
        let state = withdrawal_row(&app.pool, id).await.state;
        let restores = scalar(
            &app.pool,
            &format!(
                "select count(*) from mutations where action = 'restore' and withdrawal_id = {id}"
            ),
        )
        .await;
        let balance = app.balance(&user).await;
        match (processed.status.as_u16(), cancelled.status.as_u16()) {
            (200, 409) => {
                cancelled.assert(409, NOT_PENDING_PROCESSED);
                assert_eq!((state.as_str(), restores, balance), ("processed", 0, 2_000));
            }
            (409, 200) => {
                processed.assert(409, NOT_PENDING_CANCELLED);
                assert_eq!(
                    (state.as_str(), restores, balance),
                    ("cancelled", 1, 12_000)
                );
            }
            other => panic!(
                "withdrawal {id}: not exactly one winner {other:?}: {processed:?} {cancelled:?}"
            ),
        }
    }
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cancels_restore_a_withdrawal_once() {
    // Arrange
    let app = spawn_app_with(|c| c.withdrawal_fee = 500).await;
    let (user, id) = app.user_with_withdrawal(10_000, 1_000).await;
    assert_eq!(app.balance(&user).await, 500);

    // Act
    let answers = join_all((0..10).map(|_| app.admin_cancel_withdrawal(id))).await;

    // Assert
    let won: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(won.len(), 1, "{answers:#?}");
    for answer in answers.iter().filter(|a| a.status != 200) {
        answer.assert(409, NOT_PENDING_CANCELLED);
    }
    assert_eq!(app.balance(&user).await, 11_000);
    assert_eq!(
        scalar(
            &app.pool,
            "select count(*) from mutations where action = 'restore'"
        )
        .await,
        1
    );
    app.assert_ledger_ok().await;
}
