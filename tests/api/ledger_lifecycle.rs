//! A withdrawal's life on the operator surface: the queue, processing,
//! cancelling (which restores the debit) and nothing after either.

use reqwest::Method;

use crate::helpers::{
    exec, mutation_json, rejected, scalar, spawn_app, spawn_app_with, withdrawal_list_json,
    withdrawal_row, NOT_PENDING_CANCELLED, NOT_PENDING_PROCESSED, RULE_ONCE_A_DAY,
};

#[tokio::test]
async fn the_withdrawal_queue_lists_by_state_oldest_first_in_pages() {
    // Arrange: four withdrawals; the second processed, the third cancelled.
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for amount in [1_000, 2_000, 3_000, 4_000] {
        ids.push(app.user_with_withdrawal(amount, 0).await.1);
    }
    let [w1, w2, w3, w4] = ids[..] else {
        unreachable!()
    };
    assert_eq!(app.admin_process_withdrawal(w2).await.status, 200);
    assert_eq!(app.admin_cancel_withdrawal(w3).await.status, 200);
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
    let (user, id) = app.user_with_withdrawal(20_000, 5_000).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let answer = app.admin_process_withdrawal(id).await;

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
    let (user, id) = app.user_with_withdrawal(20_000, 10_000).await;
    assert_eq!(app.balance(&user).await, 9_500);

    // Act
    let answer = app.admin_cancel_withdrawal(id).await;

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
        .assert(200, &rejected(&[RULE_ONCE_A_DAY]));

    // Act
    assert_eq!(app.admin_cancel_withdrawal(first_id).await.status, 200);
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
        .assert(200, &rejected(&[RULE_ONCE_A_DAY]));
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
        let (user, id) = app.user_with_withdrawal(10_000, 1_000).await;
        let step = |action: &'static str| {
            let app = &app;
            async move {
                match action {
                    "process" => app.admin_process_withdrawal(id).await,
                    _ => app.admin_cancel_withdrawal(id).await,
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
