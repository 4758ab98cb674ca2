//! Back-office postings run on a ping-free pool of their own
//! (`database::money_tx`): a connection goes back only after its `COMMIT`
//! or `ROLLBACK` answered, and is closed when a posting is cut short, so no
//! request ever inherits another's open transaction.

use std::time::Duration;

use dompet::{
    domain::{Action, Amount, UserId},
    service::Posting,
};
use serde_json::json;

use crate::helpers::{spawn_app, TestApp};

/// Sessions of the app's database left inside a transaction.
async fn open_transactions(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and state like 'idle in transaction%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// The postings pool's connections: (in use, idle).
fn postings_pool(app: &TestApp) -> (usize, usize) {
    app.dompet
        .postings()
        .pool()
        .expect("a pool of its own")
        .counts()
}

#[tokio::test]
async fn every_answer_of_a_posting_hands_its_connection_back_outside_a_transaction() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.funded_user(10_000).await;
    let post = |action: &str, amount: i64, key: &str, user_id: i64| {
        app.admin_post_mutation(
            json!({"user_id":user_id,"action":action,"amount":amount,"idempotency_key":key}),
        )
    };
    let answers = [
        (post("remit", 1_000, "k1", user.id), 201),
        (post("remit", 1_000, "k1", user.id), 200),
        (post("remit", 2_000, "k1", user.id), 409),
        (post("payment", 1_000_000, "k2", user.id), 422),
        (post("remit", 1_000, "k3", user.id + 1_000_000), 404),
    ];

    for (answer, status) in answers {
        // Act
        let answer = answer.await;

        // Assert: back in the pool, idle, no transaction left open.
        assert_eq!(answer.status, status, "{answer:?}");
        assert_eq!(postings_pool(&app), (0, 1), "after the {status}");
        assert_eq!(open_transactions(&app).await, 0, "after the {status}");
    }
    assert_eq!(app.balance(&user).await, 11_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_posting_cut_short_while_it_waits_for_the_wallet_writes_nothing_and_its_connection_is_closed(
) {
    // Arrange: another session holds the wallet, so the posting waits on
    // its lock statement, inside its transaction.
    let app = spawn_app().await;
    let (user, _) = app.funded_user(10_000).await;
    let before = app.ledger_fingerprint().await;
    let holder = app.hold_wallet(&user).await;
    let dompet = app.dompet.clone();
    let posting = Posting {
        user_id: UserId::new(user.id),
        action: Action::Remit,
        amount: Amount::new(5_000).unwrap(),
        transaction_id: None,
        transaction_no: None,
        note: None,
        idempotency_key: "cut-short".to_owned(),
    };
    let waiting = tokio::spawn(async move { dompet.post_mutation(posting).await });
    app.wait_for_lock_waiters(1).await;

    // Act: the request goes away (its client gone, its time up), then the
    // wallet is let go.
    waiting.abort();
    assert!(waiting.await.unwrap_err().is_cancelled());
    holder.rollback().await.unwrap();

    // Assert: nothing written, no session left in a transaction, and the
    // connection was not handed back.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_transactions(&app).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a transaction is still open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(postings_pool(&app), (0, 0));
    assert_eq!(app.balance(&user).await, 10_000);
    // The same key is still free, and the next posting works.
    let answer = app
        .admin_post_mutation(json!({"user_id":user.id,"action":"remit","amount":5_000,"idempotency_key":"cut-short"}))
        .await;
    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(app.balance(&user).await, 15_000);
    app.assert_ledger_ok().await;
}
