//! The combined history `/v2/dompet/history.json` (SPEC §5.2): the balance
//! beside each list, each list paged alike; and what it shares with the v2
//! mutation history: paging fallbacks, empty lists, the seed's 401, and a
//! balance that always agrees with the page.

use std::collections::BTreeSet;

use dompet::domain::WithdrawalId;
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{spawn_app, Answer, TestApp},
    money_support::{mutation_ids, withdrawal_v2_json, ExpectedMutation, V2_HISTORY, V2_MUTATIONS},
};

const UNAUTHORIZED: &str = r#"{"status":"ERROR","message":"Autentikasi gagal."}"#;

/// Moves withdrawal `id` `days` back, so the user may withdraw again today.
async fn move_back(app: &TestApp, id: i64, days: i32) {
    sqlx::query("update withdrawals set local_day = local_day - $2 where id = $1")
        .bind(id)
        .bind(days)
        .execute(&app.pool)
        .await
        .unwrap();
}

fn combined(balance: i64, withdrawals: &[String], mutations: &[String]) -> String {
    format!(
        r#"{{"status":"OK","balance":{balance},"topup_history":[],"withdrawal_history":[{}],"mutation_history":[{}],"message":null}}"#,
        withdrawals.join(","),
        mutations.join(",")
    )
}

#[tokio::test]
async fn the_combined_history_of_the_seed_user_after_a_withdrawal_is_exact() {
    // Arrange: the seed's withdrawal 4 of 25000, stamped at the seed's time.
    let app = spawn_app().await;
    let (user, account) = app.seed_demo_user().await;
    assert_eq!(
        app.withdraw(&user, 25000, account, &user.password)
            .await
            .withdrawal_id(),
        4
    );
    sqlx::query(
        "update withdrawals set created_at = '2013-11-22 16:00:39.25+07', updated_at = '2013-11-22 16:00:39.25+07'
         where id = 4",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let debit = mutation_ids(&app, &user).await[1];
    let debit = ExpectedMutation {
        id: debit,
        kind: "Deposit::Debit",
        action: "withdrawal",
        amount: 25000,
        initial: 30000,
        last: 5000,
        transaction_id: None,
        transaction_no: None,
        note: Some("Pencairan dana #C4"),
    }
    .json(&app.pool)
    .await;
    let remit = r#"{"id":346,"type":"Deposit::Credit","action":"remit","amount":30000,"initial_balance":0,"final_balance":30000,"transaction_id":51938,"transaction_no":null,"note":null,"created_at":"2013-11-25T15:32:47.000+07:00","updated_at":"2013-11-25T15:32:47.000+07:00"}"#;

    // Act
    let answer = app.v2_history(&user, "").await;

    // Assert
    answer.assert(
        200,
        &combined(
            5000,
            &[r#"{"amount":25000,"bank_account_id":41812,"cancelled_at":null,"created_at":"2013-11-22T16:00:39.250+07:00","deposit_id":1,"id":4,"processed_at":null,"state":"pending","updated_at":"2013-11-22T16:00:39.250+07:00"}"#.to_owned()],
            &[debit, remit.to_owned()],
        ),
    );
    assert_eq!(answer.headers["content-type"], "application/json");
}

#[tokio::test]
async fn the_combined_history_pages_each_list_with_the_same_page_and_per_page() {
    // Arrange: three withdrawals on three days (one processed, one cancelled)
    // and the eight mutations around them.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = app
        .withdraw(&user, 1000, account, &user.password)
        .await
        .withdrawal_id();
    move_back(&app, first, 2).await;
    app.dompet
        .process_withdrawal(WithdrawalId::new(first))
        .await
        .unwrap();
    let second = app
        .withdraw(&user, 2000, account, &user.password)
        .await
        .withdrawal_id();
    move_back(&app, second, 1).await;
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(second))
        .await
        .unwrap();
    let third = app
        .withdraw(&user, 3000, account, &user.password)
        .await
        .withdrawal_id();
    for amount in [10, 20, 30] {
        app.credit(&user, amount).await;
    }
    let ids = mutation_ids(&app, &user).await;
    assert_eq!(ids.len(), 8);
    // (kind, action, amount, initial, last, note) oldest first.
    let rows = [
        ("Deposit::Credit", "topup", 100_000, 0, 100_000, None),
        (
            "Deposit::Debit",
            "withdrawal",
            1000,
            100_000,
            99_000,
            Some(format!("Pencairan dana #C{first}")),
        ),
        (
            "Deposit::Debit",
            "withdrawal",
            2000,
            99_000,
            97_000,
            Some(format!("Pencairan dana #C{second}")),
        ),
        (
            "Deposit::Credit",
            "restore",
            2000,
            97_000,
            99_000,
            Some(format!("Pengembalian dana pencairan #C{second}")),
        ),
        (
            "Deposit::Debit",
            "withdrawal",
            3000,
            99_000,
            96_000,
            Some(format!("Pencairan dana #C{third}")),
        ),
        ("Deposit::Credit", "topup", 10, 96_000, 96_010, None),
        ("Deposit::Credit", "topup", 20, 96_010, 96_030, None),
        ("Deposit::Credit", "topup", 30, 96_030, 96_060, None),
    ];
    let mut mutations = Vec::new();
    for (id, (kind, action, amount, initial, last, note)) in ids.iter().zip(rows).rev() {
        let item = ExpectedMutation {
            id: *id,
            kind,
            action,
            amount,
            initial,
            last,
            transaction_id: None,
            transaction_no: None,
            note: note.as_deref(),
        };
        mutations.push(item.json(&app.pool).await);
    }
    let mut withdrawals = Vec::new();
    for id in [third, second, first] {
        withdrawals.push(withdrawal_v2_json(&app.pool, id).await);
    }
    assert!(withdrawals[1].contains(r#""state":"cancelled""#));
    assert!(withdrawals[2].contains(r#""state":"processed""#));

    // Act
    let page1 = app.v2_history(&user, "?page=1&per_page=2").await;
    let page2 = app.v2_history(&user, "?page=2&per_page=2").await;
    let page3 = app.v2_history(&user, "?per_page=2&page=3").await;
    let page5 = app.v2_history(&user, "?page=5&per_page=2").await;
    let all = app.v2_history(&user, "?per_page=abc").await;

    // Assert
    page1.assert(200, &combined(96_060, &withdrawals[0..2], &mutations[0..2]));
    page2.assert(200, &combined(96_060, &withdrawals[2..3], &mutations[2..4]));
    page3.assert(200, &combined(96_060, &[], &mutations[4..6]));
    page5.assert(200, &combined(96_060, &[], &[]));
    all.assert(200, &combined(96_060, &withdrawals, &mutations));
}

#[tokio::test]
async fn odd_page_values_fall_back_and_per_page_caps_at_one_hundred_on_both_endpoints() {
    // Arrange: 105 credits of 1 rupiah.
    let app = spawn_app().await;
    let user = app.create_user().await;
    sqlx::query(
        "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, idempotency_key)
         select $1, $2, 'Deposit::Credit', 'remit', 1, g - 1, g, 'bulk-' || g from generate_series(1, 105) g",
    )
    .bind(user.id)
    .bind(user.deposit_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("update deposits set balance = 105 where user_id = $1")
        .bind(user.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let finals = |answer: &Answer, key: &str| -> Vec<i64> {
        answer.json()[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}: {}", answer.body))
            .iter()
            .map(|m| m["final_balance"].as_i64().unwrap())
            .collect()
    };
    let newest = |n: i64| -> Vec<i64> { (106 - n..=105).rev().collect() };
    let cases: [(&str, Vec<i64>); 7] = [
        ("", newest(10)),
        ("?page=0&per_page=0", newest(10)),
        ("?page=-1&per_page=-5", newest(10)),
        ("?page=x&per_page=1.5", newest(10)),
        ("?page=1&per_page=2147483648", newest(10)),
        ("?per_page=1000", newest(100)),
        ("?page=2&per_page=100", (1..=5).rev().collect()),
    ];

    for (query, expected) in cases {
        // Act
        let v2 = app.v2_mutations(&user, query).await;
        let all = app.v2_history(&user, query).await;

        // Assert
        assert_eq!(finals(&v2, "history"), expected, "{V2_MUTATIONS}{query}");
        assert_eq!(
            finals(&all, "mutation_history"),
            expected,
            "{V2_HISTORY}{query}"
        );
        assert_eq!(v2.json()["balance"], 105, "{query}");
    }
    app.v2_mutations(&user, "?page=12&per_page=10")
        .await
        .assert(
            200,
            r#"{"status":"OK","balance":105,"history":[],"message":null}"#,
        );
}

#[tokio::test]
async fn a_user_without_history_sees_a_zero_balance_and_empty_lists() {
    let app = spawn_app().await;
    let user = app.create_user().await;

    app.v2_mutations(&user, "").await.assert(
        200,
        r#"{"status":"OK","balance":0,"history":[],"message":null}"#,
    );
    app.v2_history(&user, "").await.assert(
        200,
        r#"{"status":"OK","balance":0,"topup_history":[],"withdrawal_history":[],"mutation_history":[],"message":null}"#,
    );
}

#[tokio::test]
async fn both_endpoints_refuse_missing_or_wrong_credentials_with_the_seed_401() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    app.credit(&user, 5000).await;
    let mut wrong = user.clone();
    wrong.token = "wrongwrongwrongwrong".into();

    for path in [V2_MUTATIONS, V2_HISTORY] {
        // Act
        let anonymous = app.send(app.request(Method::GET, path)).await;
        let wrong_token = app.get_as(&wrong, path).await;

        // Assert
        for answer in [anonymous, wrong_token] {
            answer.assert(401, UNAUTHORIZED);
            assert_eq!(
                answer.headers["www-authenticate"],
                r#"Basic realm="dompet""#
            );
        }
        let post = app
            .send(
                app.request(Method::POST, path)
                    .basic_auth(user.id, Some(&user.token)),
            )
            .await;
        post.assert(
            405,
            r#"{"status":"ERROR","message":"Metode tidak diizinkan."}"#,
        );
    }
}

#[tokio::test]
async fn the_balance_always_equals_the_newest_rows_final_balance_while_postings_land() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    app.credit(&user, 1).await;
    let postings = (0..150).map(|i| {
        app.post_mutation(json!({
            "user_id": user.id, "action": "remit", "amount": 1 + i % 7,
            "idempotency_key": format!("race-{i}")
        }))
    });

    // Act: page 1 of both endpoints, read again and again while the credits
    // commit one after another.
    let reads = async {
        let mut seen = Vec::new();
        for round in 0..150 {
            let answer = match round % 2 {
                0 => app.v2_mutations(&user, "?per_page=1").await,
                _ => app.v2_history(&user, "?per_page=1").await,
            };
            seen.push(answer);
        }
        seen
    };
    let (posted, seen) = tokio::join!(join_all(postings), reads);

    // Assert
    assert!(posted.iter().all(|a| a.status == 201), "a posting failed");
    let mut balances = BTreeSet::new();
    for answer in &seen {
        let body = answer.json();
        let newest = match body.get("history") {
            Some(history) => &history[0],
            None => &body["mutation_history"][0],
        };
        assert_eq!(
            body["balance"], newest["final_balance"],
            "balance and page disagree: {}",
            answer.body
        );
        balances.insert(body["balance"].as_i64().unwrap());
    }
    assert!(
        balances.len() > 2,
        "the reads never overlapped the postings: {balances:?}"
    );
    app.assert_ledger_ok().await;
}
