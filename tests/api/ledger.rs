//! Money on the operator surface: postings, the withdrawal lifecycle, the
//! ledger audit and races between them (SPEC §2 and §3).

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{spawn_app, spawn_app_with, Answer, TestApp, TestUser};

const NOT_PENDING_PROCESSED: &str = r#"{"error":{"code":"withdrawal_not_pending","message":"the withdrawal is processed, not pending"}}"#;
const NOT_PENDING_CANCELLED: &str = r#"{"error":{"code":"withdrawal_not_pending","message":"the withdrawal is cancelled, not pending"}}"#;
const KEY_REUSED: &str = r#"{"error":{"code":"idempotency_key_reused","message":"the idempotency key was already used for a different request"}}"#;
const ONCE_A_DAY: &str = r#"{"status":"ERROR","withdrawal_id":null,"message":"Pencairan hanya bisa dilakukan satu kali sehari."}"#;

/// SQL rendering a timestamptz as the wire does in Asia/Jakarta.
fn wire_time(column: &str) -> String {
    format!(r#"to_char({column} at time zone 'Asia/Jakarta', 'YYYY-MM-DD"T"HH24:MI:SS"+07:00"')"#)
}

/// `created_at` and `updated_at` of a mutation as the wire shows them.
pub(crate) async fn mutation_stamps(pool: &PgPool, id: i64) -> (String, String) {
    sqlx::query_as(&format!(
        "select {}, {} from mutations where id = $1",
        wire_time("created_at"),
        wire_time("updated_at")
    ))
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("mutation {id}: {e}"))
}

/// A withdrawal as the database holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct WithdrawalRow {
    pub id: i64,
    pub user_id: i64,
    pub deposit_id: i64,
    pub bank_account_id: i64,
    pub amount: i64,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub processed_at: Option<String>,
    pub cancelled_at: Option<String>,
}

impl WithdrawalRow {
    /// WITHDRAWAL plus `user_id`, in the contract's key order.
    pub(crate) fn json(&self) -> String {
        let time =
            |t: &Option<String>| t.as_ref().map_or("null".to_owned(), |t| format!("\"{t}\""));
        format!(
            r#"{{"amount":{},"bank_account_id":{},"cancelled_at":{},"created_at":"{}","deposit_id":{},"id":{},"processed_at":{},"state":"{}","updated_at":"{}","user_id":{}}}"#,
            self.amount,
            self.bank_account_id,
            time(&self.cancelled_at),
            self.created_at,
            self.deposit_id,
            self.id,
            time(&self.processed_at),
            self.state,
            self.updated_at,
            self.user_id
        )
    }
}

pub(crate) async fn withdrawal_row(pool: &PgPool, id: i64) -> WithdrawalRow {
    sqlx::query_as(&format!(
        "select id, user_id, deposit_id, bank_account_id, amount, state,
                {} as created_at, {} as updated_at, {} as processed_at, {} as cancelled_at
         from withdrawals where id = $1",
        wire_time("created_at"),
        wire_time("updated_at"),
        wire_time("processed_at"),
        wire_time("cancelled_at")
    ))
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap_or_else(|e| panic!("withdrawal {id}: {e}"))
}

/// `{"withdrawals":[…]}` for these ids, in this order.
pub(crate) async fn withdrawal_list_json(pool: &PgPool, ids: &[i64]) -> String {
    let mut items = Vec::new();
    for id in ids {
        items.push(withdrawal_row(pool, *id).await.json());
    }
    format!(r#"{{"withdrawals":[{}]}}"#, items.join(","))
}

/// A user who made a pending withdrawal of `amount` through the public API,
/// with `left` rupiah still in the wallet afterwards (the fee aside).
pub(crate) async fn user_with_withdrawal(app: &TestApp, amount: i64, left: i64) -> (TestUser, i64) {
    let (user, account) = app.funded_user(amount + left).await;
    let answer = app.withdraw(&user, amount, account, &user.password).await;
    let id = answer.json()["withdrawal_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("withdrawal refused: {answer:?}"));
    (user, id)
}

async fn post(app: &TestApp, body: Value) -> Answer {
    app.admin(Method::POST, "/mutations", Some(body)).await
}

async fn process(app: &TestApp, id: i64) -> Answer {
    app.admin(Method::POST, &format!("/withdrawals/{id}/process"), None)
        .await
}

async fn cancel(app: &TestApp, id: i64) -> Answer {
    app.admin(Method::POST, &format!("/withdrawals/{id}/cancel"), None)
        .await
}

async fn verify(app: &TestApp) -> Answer {
    app.admin(Method::GET, "/ledger/verify", None).await
}

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn exec(pool: &PgPool, sql: &str) {
    sqlx::query(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Rewrites ledger rows by hand, as only a bug or an intruder would: the
/// append-only guard on `mutations` is lifted for `sql` and put back.
async fn tamper(pool: &PgPool, sql: &str) {
    exec(pool, "alter table mutations disable trigger user").await;
    exec(pool, sql).await;
    exec(pool, "alter table mutations enable trigger user").await;
}

/// The MUTATION body the database holds for `id`, with the values the test
/// expects spelled out.
async fn mutation_json(
    pool: &PgPool,
    id: i64,
    (kind, action, amount, initial, last, transaction_id): (&str, &str, i64, i64, i64, Option<i64>),
) -> String {
    let (created, updated) = mutation_stamps(pool, id).await;
    let transaction_id = transaction_id.map_or("null".to_owned(), |t| t.to_string());
    format!(
        r#"{{"id":{id},"type":"{kind}","action":"{action}","amount":{amount},"initial_balance":{initial},"final_balance":{last},"transaction_id":{transaction_id},"created_at":"{created}","updated_at":"{updated}"}}"#
    )
}

// ---------------------------------------------------------------- postings

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
        let answer = post(
            &app,
            json!({"user_id":user.id,"action":action,"amount":amount,"transaction_id":transaction_id,"idempotency_key":format!("k-{n}")}),
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
    let answer = post(
        &app,
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
    let paid = post(
        &app,
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

    let answer = post(
        &app,
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
    let first = post(&app, posting.clone()).await;
    assert_eq!(first.status, 201, "{first:?}");
    let later = post(
        &app,
        json!({"user_id":user.id,"action":"payment","amount":3_000,"idempotency_key":"order-6"}),
    )
    .await;
    assert_eq!(later.status, 201, "{later:?}");

    for _ in 0..2 {
        // Act
        let replay = post(&app, posting.clone()).await;

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
    let first = post(
        &app,
        json!({"user_id":user.id,"action":"refund","amount":1_000,"transaction_id":9,"idempotency_key":"refund-9"}),
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
        let answer = post(&app, body).await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (409, KEY_REUSED),
            "{why}"
        );
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 51_000);
    assert_eq!(app.balance(&other).await, 0);
}

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn the_withdrawal_queue_lists_by_state_oldest_first_in_pages() {
    // Arrange: four withdrawals; the second processed, the third cancelled.
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for amount in [1_000, 2_000, 3_000, 4_000] {
        ids.push(user_with_withdrawal(&app, amount, 0).await.1);
    }
    let [w1, w2, w3, w4] = ids[..] else {
        unreachable!()
    };
    assert_eq!(process(&app, w2).await.status, 200);
    assert_eq!(cancel(&app, w3).await.status, 200);
    let cases: [(&str, &[i64]); 12] = [
        ("", &[w1, w2, w3, w4]),
        ("?state=", &[w1, w2, w3, w4]),
        ("?state=pending", &[w1, w4]),
        ("?state=processed", &[w2]),
        ("?state=cancelled", &[w3]),
        ("?per_page=2", &[w1, w2]),
        ("?per_page=2&page=2", &[w3, w4]),
        ("?per_page=2&page=3", &[]),
        ("?state=pending&per_page=1&page=2", &[w4]),
        ("?state=pending&page=2", &[]),
        ("?page=abc&per_page=zero", &[w1, w2, w3, w4]),
        ("?page=0&per_page=-3", &[w1, w2, w3, w4]),
    ];

    for (query, expected) in cases {
        // Act
        let answer = app
            .admin(Method::GET, &format!("/withdrawals{query}"), None)
            .await;

        // Assert
        let body = withdrawal_list_json(&app.pool, expected).await;
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, body.as_str()),
            "GET /withdrawals{query}"
        );
    }
}

#[tokio::test]
async fn the_withdrawal_queue_pages_default_to_ten_and_cap_at_one_hundred() {
    // Arrange: withdrawals planted by SQL on distinct days (one per user
    // and day is the rule), each with its debit so the ledger stays sound.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(200_000).await;
    exec(
        &app.pool,
        &format!(
            "with w as (
                 insert into withdrawals (user_id, deposit_id, bank_account_id, amount, local_day)
                 select {u}, {d}, {account}, 1000, date '2020-01-01' + n from generate_series(1, 105) n
                 returning id)
             insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, withdrawal_id)
             select {u}, {d}, 'Deposit::Debit', 'withdrawal', 1000,
                    200000 - 1000 * (row_number() over (order by id) - 1),
                    200000 - 1000 * row_number() over (order by id), id
             from w order by id",
            u = user.id,
            d = user.deposit_id
        ),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 95000 where id = {}",
            user.deposit_id
        ),
    )
    .await;
    app.assert_ledger_ok().await;
    let first: i64 = scalar(&app.pool, "select min(id) from withdrawals").await;

    for (query, expected_ids) in [
        ("", (first..first + 10).collect::<Vec<_>>()),
        ("?page=2", (first + 10..first + 20).collect()),
        ("?per_page=1000", (first..first + 100).collect()),
        ("?per_page=100&page=2", (first + 100..first + 105).collect()),
    ] {
        let answer = app
            .admin(Method::GET, &format!("/withdrawals{query}"), None)
            .await;

        let ids: Vec<i64> = answer.json()["withdrawals"]
            .as_array()
            .expect("withdrawals")
            .iter()
            .map(|w| w["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, expected_ids, "GET /withdrawals{query}");
    }
}

#[tokio::test]
async fn processing_a_pending_withdrawal_stamps_it_processed_and_moves_no_money() {
    // Arrange
    let app = spawn_app().await;
    let (user, id) = user_with_withdrawal(&app, 20_000, 5_000).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let answer = process(&app, id).await;

    // Assert
    let row = withdrawal_row(&app.pool, id).await;
    assert_eq!(
        (row.state.as_str(), row.amount, row.user_id),
        ("processed", 20_000, user.id)
    );
    assert!(
        row.processed_at.is_some() && row.cancelled_at.is_none(),
        "{row:?}"
    );
    answer.assert(200, &row.json());
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 5_000);
    // The user sees the new state on the public history.
    let history = app.withdrawals(&user, "").await.json();
    assert_eq!(history["history"][0]["state"], "processed");
    assert_eq!(
        history["history"][0]["processed_at"],
        row.processed_at.unwrap().as_str()
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn cancelling_a_withdrawal_restores_exactly_its_debit_fee_included() {
    // Arrange: a 500 transfer fee, so the debit is amount + fee.
    let app = spawn_app_with(|c| c.withdrawal_fee = 500).await;
    let (user, id) = user_with_withdrawal(&app, 20_000, 10_000).await;
    assert_eq!(app.balance(&user).await, 9_500);

    // Act
    let answer = cancel(&app, id).await;

    // Assert
    let row = withdrawal_row(&app.pool, id).await;
    assert_eq!((row.state.as_str(), row.amount), ("cancelled", 20_000));
    assert!(
        row.cancelled_at.is_some() && row.processed_at.is_none(),
        "{row:?}"
    );
    answer.assert(200, &row.json());
    assert_eq!(app.balance(&user).await, 30_000);
    let restore: i64 = scalar(
        &app.pool,
        &format!("select id from mutations where action = 'restore' and withdrawal_id = {id}"),
    )
    .await;
    let expected = mutation_json(
        &app.pool,
        restore,
        ("Deposit::Credit", "restore", 20_500, 9_500, 30_000, None),
    )
    .await;
    let history = app.mutations(&user, "?per_page=1").await;
    history.assert(
        200,
        &format!(r#"{{"status":"OK","history":[{expected}],"message":null}}"#),
    );
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_cancelled_withdrawal_frees_the_day_for_another_one() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(30_000).await;
    let first = app.withdraw(&user, 10_000, account, &user.password).await;
    let first_id = first.json()["withdrawal_id"].as_i64().expect("accepted");
    app.withdraw(&user, 5_000, account, &user.password)
        .await
        .assert(200, ONCE_A_DAY);

    // Act
    assert_eq!(cancel(&app, first_id).await.status, 200);
    let again = app.withdraw(&user, 5_000, account, &user.password).await;

    // Assert
    let again_id = again.json()["withdrawal_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{again:?}"));
    assert_ne!(again_id, first_id);
    assert_eq!(again.json()["status"], "OK");
    assert_eq!(app.balance(&user).await, 25_000);
    // The day is taken again by the new one.
    app.withdraw(&user, 1_000, account, &user.password)
        .await
        .assert(200, ONCE_A_DAY);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn only_a_pending_withdrawal_can_be_processed_or_cancelled() {
    let app = spawn_app().await;
    // (first step, second step, the 409 body of the second)
    let cases = [
        ("process", "process", NOT_PENDING_PROCESSED),
        ("process", "cancel", NOT_PENDING_PROCESSED),
        ("cancel", "cancel", NOT_PENDING_CANCELLED),
        ("cancel", "process", NOT_PENDING_CANCELLED),
    ];

    for (first, second, refusal) in cases {
        // Arrange
        let (user, id) = user_with_withdrawal(&app, 10_000, 1_000).await;
        let step = |action: &'static str| {
            let app = &app;
            async move {
                match action {
                    "process" => process(app, id).await,
                    _ => cancel(app, id).await,
                }
            }
        };
        assert_eq!(step(first).await.status, 200, "{first}");
        let settled = withdrawal_row(&app.pool, id).await;
        let balance = app.balance(&user).await;
        let before = app.ledger_fingerprint().await;

        // Act
        let answer = step(second).await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (409, refusal),
            "{second} after {first}"
        );
        assert_eq!(withdrawal_row(&app.pool, id).await.json(), settled.json());
        assert_eq!(app.ledger_fingerprint().await, before);
        assert_eq!(app.balance(&user).await, balance);
    }
    app.assert_ledger_ok().await;
}

// ---------------------------------------------------------------- races

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_payments_never_overdraw_the_wallet() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.funded_user(100_000).await;

    // Act
    let answers = join_all((0..50).map(|n| {
        post(
            &app,
            json!({"user_id":user.id,"action":"payment","amount":3_000,"idempotency_key":format!("pay-{n}")}),
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
    verify(&app)
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
        post(
            &app,
            json!({"user_id":user.id,"action":"topup","amount":amount,"idempotency_key":format!("topup-{amount}")}),
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
    verify(&app)
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
    let answers = join_all((0..20).map(|_| post(&app, posting.clone()))).await;

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
        withdrawals.push(user_with_withdrawal(&app, 10_000, 2_000).await);
    }

    for (user, id) in withdrawals {
        // Act
        let (processed, cancelled) = tokio::join!(process(&app, id), cancel(&app, id));

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
    let (user, id) = user_with_withdrawal(&app, 10_000, 1_000).await;
    assert_eq!(app.balance(&user).await, 500);

    // Act
    let answers = join_all((0..10).map(|_| cancel(&app, id))).await;

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

// ---------------------------------------------------------------- verify

#[tokio::test]
async fn ledger_verify_passes_on_a_busy_clean_ledger() {
    // Arrange: postings, a processed, a cancelled and a pending withdrawal,
    // a withdrawal after a cancel, and a user who never had money.
    let app = spawn_app_with(|c| c.withdrawal_fee = 500).await;
    let (alice, _) = user_with_withdrawal(&app, 10_000, 5_000).await;
    let (bob, bobs_first) = user_with_withdrawal(&app, 7_000, 3_000).await;
    let (_, carols) = user_with_withdrawal(&app, 1_000, 500).await;
    let _dave = app.create_user().await;
    for (n, (user, action, amount)) in [
        (&alice, "payment", 2_000),
        (&bob, "refund", 400),
        (&alice, "remit", 9_000),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = post(
            &app,
            json!({"user_id":user.id,"action":action,"amount":amount,"idempotency_key":format!("busy-{n}")}),
        )
        .await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    assert_eq!(cancel(&app, bobs_first).await.status, 200);
    let bobs_account = app.add_bank_account(&bob).await;
    let again = app.withdraw(&bob, 3_000, bobs_account, &bob.password).await;
    assert_eq!(again.json()["status"], "OK", "{again:?}");
    assert_eq!(process(&app, carols).await.status, 200);

    // Act
    let answer = verify(&app).await;

    // Assert
    answer.assert(200, r#"{"ok":true,"users_checked":4,"violations":[]}"#);
}

/// A small ledger to damage: alice has topup 1000, topup 2000, payment 500
/// (balance 2500); bob, a bystander who must not be reported, has 7000.
pub(crate) struct Scene {
    pub alice: TestUser,
    pub mutations: [i64; 3],
    pub bob: TestUser,
}

pub(crate) async fn scene(app: &TestApp) -> Scene {
    let alice = app.create_user().await;
    let mut mutations = [0; 3];
    for (n, (action, amount)) in [("topup", 1_000), ("topup", 2_000), ("payment", 500)]
        .into_iter()
        .enumerate()
    {
        let answer = post(
            app,
            json!({"user_id":alice.id,"action":action,"amount":amount,"idempotency_key":format!("scene-{n}")}),
        )
        .await;
        mutations[n] = answer.json()["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{answer:?}"));
    }
    let bob = app.create_user().await;
    app.credit(&bob, 7_000).await;
    app.assert_ledger_ok().await;
    Scene {
        alice,
        mutations,
        bob,
    }
}

fn violation(
    check: &str,
    user_id: i64,
    mutation_id: Option<i64>,
    withdrawal_id: Option<i64>,
    detail: &str,
) -> String {
    let id = |v: Option<i64>| v.map_or("null".to_owned(), |v| v.to_string());
    format!(
        r#"{{"check":"{check}","user_id":{user_id},"mutation_id":{},"withdrawal_id":{},"detail":"{detail}"}}"#,
        id(mutation_id),
        id(withdrawal_id)
    )
}

pub(crate) fn report(users_checked: i64, violations: &[String]) -> String {
    format!(
        r#"{{"ok":{},"users_checked":{users_checked},"violations":[{}]}}"#,
        violations.is_empty(),
        violations.join(",")
    )
}

/// Plants a broken chain in alice's middle row (arithmetic kept, so no
/// CHECK objects) and returns the report `ledger verify` must give.
pub(crate) async fn plant_broken_chain(app: &TestApp, scene: &Scene) -> String {
    let [_, m2, m3] = scene.mutations;
    tamper(
        &app.pool,
        &format!(
            "update mutations set initial_balance = 1500, final_balance = 3500 where id = {m2}"
        ),
    )
    .await;
    report(
        2,
        &[
            violation(
                "chain_broken",
                scene.alice.id,
                Some(m2),
                None,
                "initial_balance 1500 does not equal the previous final_balance 1000",
            ),
            violation(
                "chain_broken",
                scene.alice.id,
                Some(m3),
                None,
                "initial_balance 3000 does not equal the previous final_balance 3500",
            ),
        ],
    )
}

#[tokio::test]
async fn ledger_verify_reports_a_broken_chain_row_by_row() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let expected = plant_broken_chain(&app, &scene).await;

    verify(&app).await.assert(200, &expected);
}

#[tokio::test]
async fn ledger_verify_reports_a_wallet_that_differs_from_its_last_mutation() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let [_, _, m3] = scene.mutations;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 2600 where id = {}",
            scene.alice.deposit_id
        ),
    )
    .await;
    // A wallet holding money without any mutation at all.
    let carol = app.create_user().await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 5 where id = {}",
            carol.deposit_id
        ),
    )
    .await;

    let answer = verify(&app).await;

    answer.assert(
        200,
        &report(
            3,
            &[
                violation(
                    "wallet_balance_mismatch",
                    scene.alice.id,
                    Some(m3),
                    None,
                    &format!(
                        "wallet {} holds 2600 but the last final_balance is 2500",
                        scene.alice.deposit_id
                    ),
                ),
                violation(
                    "wallet_balance_mismatch",
                    carol.id,
                    None,
                    None,
                    &format!(
                        "wallet {} holds 5 but the last final_balance is 0",
                        carol.deposit_id
                    ),
                ),
            ],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_final_balance_that_does_not_follow_from_the_amount() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let [_, _, m3] = scene.mutations;
    exec(
        &app.pool,
        "alter table mutations drop constraint mutations_final_balance_arithmetic",
    )
    .await;
    tamper(
        &app.pool,
        &format!("update mutations set amount = 600 where id = {m3}"),
    )
    .await;

    let answer = verify(&app).await;

    answer.assert(
        200,
        &report(
            2,
            &[violation(
                "final_balance_arithmetic",
                scene.alice.id,
                Some(m3),
                None,
                "Deposit::Debit: initial_balance 3000 and amount 600 cannot give final_balance 2500",
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_restore_that_forgot_the_fee() {
    // Arrange: a cancelled withdrawal whose restore gave back the amount
    // without the 500 fee, the chain and wallet made to agree with it.
    let app = spawn_app_with(|c| c.withdrawal_fee = 500).await;
    scene(&app).await;
    let (carol, id) = user_with_withdrawal(&app, 20_000, 10_000).await;
    assert_eq!(cancel(&app, id).await.status, 200);
    let restore = scalar(
        &app.pool,
        &format!("select id from mutations where action = 'restore' and withdrawal_id = {id}"),
    )
    .await;
    tamper(
        &app.pool,
        &format!("update mutations set amount = 20000, final_balance = 29500 where id = {restore}"),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 29500 where id = {}",
            carol.deposit_id
        ),
    )
    .await;

    // Act
    let answer = verify(&app).await;

    // Assert
    answer.assert(
        200,
        &report(
            3,
            &[violation(
                "restore_mismatch",
                carol.id,
                Some(restore),
                Some(id),
                "restore of 20000 for amount 20000 + fee 500",
            )],
        ),
    );
}

pub(crate) async fn plant_cancel_without_restore(app: &TestApp) -> (TestUser, i64, String) {
    let (carol, id) = user_with_withdrawal(app, 20_000, 1_000).await;
    exec(
        &app.pool,
        &format!(
            "update withdrawals set state = 'cancelled', cancelled_at = now() where id = {id}"
        ),
    )
    .await;
    let expected = violation(
        "restore_mismatch",
        carol.id,
        None,
        Some(id),
        "cancelled withdrawal without a restore",
    );
    (carol, id, expected)
}

#[tokio::test]
async fn ledger_verify_reports_a_cancelled_withdrawal_without_a_restore() {
    let app = spawn_app().await;
    scene(&app).await;
    let (_, _, expected) = plant_cancel_without_restore(&app).await;

    verify(&app).await.assert(200, &report(3, &[expected]));
}

#[tokio::test]
async fn ledger_verify_reports_a_restore_on_a_processed_withdrawal() {
    // Arrange: money given back for a withdrawal that was paid out.
    let app = spawn_app().await;
    let (carol, id) = user_with_withdrawal(&app, 20_000, 1_000).await;
    assert_eq!(process(&app, id).await.status, 200);
    let restore: i64 = scalar(
        &app.pool,
        &format!(
            "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, withdrawal_id)
             values ({}, {}, 'Deposit::Credit', 'restore', 20000, 1000, 21000, {id}) returning id",
            carol.id, carol.deposit_id
        ),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 21000 where id = {}",
            carol.deposit_id
        ),
    )
    .await;

    // Act
    let answer = verify(&app).await;

    // Assert
    answer.assert(
        200,
        &report(
            1,
            &[violation(
                "restore_mismatch",
                carol.id,
                Some(restore),
                Some(id),
                "restore on a processed withdrawal",
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_withdrawal_that_never_debited_the_wallet() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let account = app.add_bank_account(&scene.bob).await;
    let id: i64 = scalar(
        &app.pool,
        &format!(
            "insert into withdrawals (user_id, deposit_id, bank_account_id, amount, local_day)
             values ({}, {}, {account}, 4000, date '2020-02-02') returning id",
            scene.bob.id, scene.bob.deposit_id
        ),
    )
    .await;

    let answer = verify(&app).await;

    answer.assert(
        200,
        &report(
            2,
            &[violation(
                "withdrawal_debit_mismatch",
                scene.bob.id,
                None,
                Some(id),
                "no withdrawal debit for this withdrawal",
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_lists_violations_by_user_then_mutation() {
    // Two kinds of damage at once, across two users.
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let chain = plant_broken_chain(&app, &scene).await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 1 where id = {}",
            scene.bob.deposit_id
        ),
    )
    .await;
    let bobs_mutation = scalar(
        &app.pool,
        &format!("select id from mutations where user_id = {}", scene.bob.id),
    )
    .await;

    let answer = verify(&app).await;

    let alice_part = serde_json::from_str::<Value>(&chain).unwrap()["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            // Re-serialise in the contract's key order.
            violation(
                v["check"].as_str().unwrap(),
                v["user_id"].as_i64().unwrap(),
                v["mutation_id"].as_i64(),
                v["withdrawal_id"].as_i64(),
                v["detail"].as_str().unwrap(),
            )
        })
        .collect::<Vec<_>>();
    let bob_part = violation(
        "wallet_balance_mismatch",
        scene.bob.id,
        Some(bobs_mutation),
        None,
        &format!(
            "wallet {} holds 1 but the last final_balance is 7000",
            scene.bob.deposit_id
        ),
    );
    let mut all = alice_part;
    all.push(bob_part);
    answer.assert(200, &report(2, &all));
}

#[tokio::test]
async fn ledger_verify_reports_a_restore_credited_to_another_user() {
    // Arrange: carol's cancelled withdrawal, its restore moved to dave's
    // wallet with both chains and wallets made to agree.
    let app = spawn_app().await;
    let (carol, id) = user_with_withdrawal(&app, 20_000, 1_000).await;
    assert_eq!(cancel(&app, id).await.status, 200);
    let dave = app.create_user().await;
    let restore = scalar(
        &app.pool,
        &format!("select id from mutations where action = 'restore' and withdrawal_id = {id}"),
    )
    .await;
    tamper(
        &app.pool,
        &format!(
            "update mutations set user_id = {}, deposit_id = {}, initial_balance = 0, final_balance = 20000
             where id = {restore}",
            dave.id, dave.deposit_id
        ),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = case user_id when {} then 1000 else 20000 end
             where user_id in ({}, {})",
            carol.id, carol.id, dave.id
        ),
    )
    .await;

    // Act
    let answer = verify(&app).await;

    // Assert
    answer.assert(
        200,
        &report(
            2,
            &[violation(
                "restore_mismatch",
                carol.id,
                Some(restore),
                Some(id),
                &format!("restore credited to user {}", dave.id),
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_user_without_a_wallet() {
    let app = spawn_app().await;
    scene(&app).await;
    let erin = app.create_user().await;
    exec(
        &app.pool,
        &format!("delete from deposits where id = {}", erin.deposit_id),
    )
    .await;

    let answer = verify(&app).await;

    answer.assert(
        200,
        &report(
            3,
            &[violation(
                "wallet_missing",
                erin.id,
                None,
                None,
                "the user has no wallet",
            )],
        ),
    );
}

#[tokio::test]
async fn the_database_refuses_to_rewrite_or_erase_a_mutation() {
    // Arrange
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let [m1, ..] = scene.mutations;
    let before = app.ledger_fingerprint().await;

    for sql in [
        format!("update mutations set transaction_id = 1 where id = {m1}"),
        format!("delete from mutations where id = {m1}"),
        "truncate mutations cascade".to_owned(),
    ] {
        // Act
        let refused = sqlx::query(&sql).execute(&app.pool).await;

        // Assert: refused by the ledger's own guard (a raised exception),
        // not by some unrelated constraint.
        let err = refused.expect_err(&sql);
        let code = err.as_database_error().and_then(|e| e.code());
        assert_eq!(code.as_deref(), Some("P0001"), "{sql}: {err}");
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    app.assert_ledger_ok().await;
}
