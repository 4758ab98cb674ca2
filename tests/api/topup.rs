//! The user's top-up request (SPEC §5.3): exact answers, rules in order,
//! parameters from form, JSON or query, Idempotency-Key, unique codes held
//! by the database under concurrency, expiry, and `topup_history`.

use std::collections::HashSet;

use futures::future::join_all;
use reqwest::Method;

use crate::{
    helpers::{spawn_app, spawn_app_with, Answer, TestApp, TestUser, BAD_REQUEST, NOT_ALLOWED},
    money_support::{
        topup_accepted, topup_json, topup_rejected, wire_ms, ExpectedMutation, TOPUP,
        TOPUP_RULE_ACCOUNT, TOPUP_RULE_AMOUNT,
    },
};

const NO_CODE_FREE: &str = r#"{"status":"ERROR","unique_code":null,"message":"Kode unik untuk nominal ini sedang habis, silakan coba nominal lain atau coba lagi nanti"}"#;
const TOPUP_KEY_REUSED: &str = r#"{"status":"ERROR","unique_code":null,"message":"Idempotency-Key sudah dipakai untuk permintaan lain."}"#;

/// `(count, sum of totals)` of top-ups: what "nothing was written" means.
async fn topup_rows(app: &TestApp) -> (i64, i64) {
    sqlx::query_as("select count(*), coalesce(sum(total), 0)::bigint from topups")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn code_of(answer: &Answer) -> i64 {
    answer.json()["unique_code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no unique code: {answer:?}"))
}

async fn send_with_key(app: &TestApp, user: &TestUser, key: &str, form: &str) -> Answer {
    app.send(
        app.request(Method::POST, TOPUP)
            .basic_auth(user.id, Some(&user.token))
            .header("Idempotency-Key", key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned()),
    )
    .await
}

#[tokio::test]
async fn a_request_answers_its_unique_code_and_records_a_pending_top_up_for_48_hours() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;

    // Act
    let answer = app.request_topup(&user, 150_000, account).await;

    // Assert
    let code = code_of(&answer);
    answer.assert(200, &topup_accepted(code));
    assert!((1..=999).contains(&code), "{code}");
    let row: (i64, i32, i64, i64, String, f64) = sqlx::query_as(
        "select amount, unique_code, total, bank_account_id, state,
                extract(epoch from expires_at - created_at)::float8
         from topups where user_id = $1",
    )
    .bind(user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            150_000,
            code as i32,
            150_000 + code,
            account,
            "pending".to_owned(),
            48.0 * 3600.0
        )
    );
    assert_eq!(app.balance(&user).await, 0, "a request moves no money");
}

#[tokio::test]
async fn the_ttl_comes_from_dompet_topup_ttl_hours() {
    let app = spawn_app_with(|config| config.topup_ttl_hours = 2).await;
    let (user, account) = app.funded_user(0).await;

    app.pending_topup(&user, 20_000, account).await;

    let hours: f64 = sqlx::query_scalar(
        "select extract(epoch from expires_at - created_at)::float8 / 3600 from topups",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(hours, 2.0);
}

#[tokio::test]
async fn flat_json_and_the_query_string_work_too_and_the_bank_fields_are_ignored() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let json = format!(
        r#"{{"amount":"25000","bank_account_id":{account},"bca":true,"mandiri":"1","bni":null,"bri":{{"x":1}},"other":[1]}}"#
    );

    // Act
    let from_json = app
        .send(
            app.request(Method::POST, TOPUP)
                .basic_auth(user.id, Some(&user.token))
                .header("content-type", "application/json")
                .body(json),
        )
        .await;
    let from_query = app
        .send(
            app.request(
                Method::POST,
                &format!("{TOPUP}?amount=30000&bank_account_id={account}&bca=1"),
            )
            .basic_auth(user.id, Some(&user.token)),
        )
        .await;
    // The body's amount wins over the query's; the account comes from the query.
    let merged = app
        .send(
            app.request(
                Method::POST,
                &format!("{TOPUP}?amount=5&bank_account_id={account}"),
            )
            .basic_auth(user.id, Some(&user.token))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("amount=40000&bri=on"),
        )
        .await;

    // Assert
    for answer in [&from_json, &from_query, &merged] {
        answer.assert(200, &topup_accepted(code_of(answer)));
    }
    let amounts: Vec<i64> = sqlx::query_scalar("select amount from topups order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(amounts, [25_000, 30_000, 40_000]);
}

#[tokio::test]
async fn the_rules_are_checked_in_order_and_every_failure_is_named_with_nothing_written() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let (stranger, foreign) = app.funded_user(0).await;
    let _ = stranger;
    let both = topup_rejected(&[TOPUP_RULE_AMOUNT, TOPUP_RULE_ACCOUNT]);
    let amount_only = topup_rejected(&[TOPUP_RULE_AMOUNT]);
    let account_only = topup_rejected(&[TOPUP_RULE_ACCOUNT]);
    let cases: Vec<(String, &str)> = vec![
        (
            format!("amount=9999&bank_account_id={account}"),
            &amount_only,
        ),
        (
            format!("amount=100000001&bank_account_id={account}"),
            &amount_only,
        ),
        (
            format!("amount=25.000&bank_account_id={account}"),
            &amount_only,
        ),
        (
            format!("amount=1e5&bank_account_id={account}"),
            &amount_only,
        ),
        (
            format!("amount=-10000&bank_account_id={account}"),
            &amount_only,
        ),
        (
            format!("amount=+10000&bank_account_id={account}"),
            &amount_only,
        ),
        (
            format!("amount=%2010000&bank_account_id={account}"),
            &amount_only,
        ),
        (format!("amount=&bank_account_id={account}"), &amount_only),
        (format!("bank_account_id={account}"), &amount_only),
        (
            format!("amount=25000&bank_account_id={foreign}"),
            &account_only,
        ),
        (
            "amount=25000&bank_account_id=999999999".to_owned(),
            &account_only,
        ),
        ("amount=25000&bank_account_id=abc".to_owned(), &account_only),
        ("amount=25000".to_owned(), &account_only),
        (format!("amount=5&bank_account_id={foreign}"), &both),
        (String::new(), &both),
    ];

    for (form, expected) in cases {
        // Act
        let answer = app.topup_form(&user, &form).await;

        // Assert
        answer.assert(200, expected);
        assert_eq!(topup_rows(&app).await, (0, 0), "{form}");
    }
    for bound in [10_000, 100_000_000] {
        let answer = app.request_topup(&user, bound, account).await;
        answer.assert(200, &topup_accepted(code_of(&answer)));
    }
}

#[tokio::test]
async fn malformed_bodies_credentials_and_methods_get_the_public_envelopes() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.funded_user(0).await;
    let post = |content_type: &'static str, body: &'static str| {
        app.request(Method::POST, TOPUP)
            .basic_auth(user.id, Some(&user.token))
            .header("content-type", content_type)
            .body(body)
    };

    // Act + Assert
    for (content_type, body) in [
        ("application/json", "[1]"),
        ("application/json", r#"{"amount":true}"#),
        ("application/json", "{"),
        ("text/plain", "amount=25000"),
    ] {
        app.send(post(content_type, body))
            .await
            .assert(400, BAD_REQUEST);
    }
    app.send(
        app.request(Method::POST, TOPUP)
            .basic_auth(user.id, Some(&user.token))
            .header("Idempotency-Key", "bad key"),
    )
    .await
    .assert(400, BAD_REQUEST);
    let anonymous = app.send(app.request(Method::POST, TOPUP)).await;
    anonymous.assert(401, r#"{"status":"ERROR","message":"Autentikasi gagal."}"#);
    app.send(
        app.request(Method::GET, TOPUP)
            .basic_auth(user.id, Some(&user.token)),
    )
    .await
    .assert(405, NOT_ALLOWED);
    assert_eq!(topup_rows(&app).await, (0, 0));
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let form = format!("amount=50000&bank_account_id={account}");

    // Act
    let first = send_with_key(&app, &user, "k-1", &form).await;
    let again = send_with_key(&app, &user, "k-1", &form).await;
    let padded = send_with_key(
        &app,
        &user,
        "k-1",
        &format!("amount=050000&bank_account_id={account}"),
    )
    .await;
    let other = send_with_key(
        &app,
        &user,
        "k-1",
        &format!("amount=50001&bank_account_id={account}"),
    )
    .await;
    let rejected = send_with_key(&app, &user, "k-2", "amount=1").await;
    let rejected_again = send_with_key(&app, &user, "k-2", "amount=1").await;

    // Assert
    first.assert(200, &topup_accepted(code_of(&first)));
    again.assert(200, &first.body);
    padded.assert(200, &first.body);
    other.assert(422, TOPUP_KEY_REUSED);
    rejected.assert(
        200,
        &topup_rejected(&[TOPUP_RULE_AMOUNT, TOPUP_RULE_ACCOUNT]),
    );
    rejected_again.assert(200, &rejected.body);
    assert_eq!(topup_rows(&app).await.0, 1, "one top-up for the key");
    // Keys are the user's own: another user's k-1 is a new request.
    let (other_user, other_account) = app.funded_user(0).await;
    let theirs = send_with_key(
        &app,
        &other_user,
        "k-1",
        &format!("amount=50000&bank_account_id={other_account}"),
    )
    .await;
    assert_ne!(code_of(&theirs), code_of(&first));
}

#[tokio::test]
async fn simultaneous_twins_with_one_idempotency_key_make_one_top_up_and_answer_alike() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let form = format!("amount=75000&bank_account_id={account}");

    let answers = join_all((0..20).map(|_| send_with_key(&app, &user, "twin", &form))).await;

    let first = &answers[0];
    assert_eq!(first.status, 200, "{first:?}");
    for answer in &answers {
        answer.assert(200, &first.body);
    }
    assert_eq!(topup_rows(&app).await.0, 1);
}

#[tokio::test]
async fn sixty_simultaneous_requests_for_one_amount_all_get_distinct_codes() {
    // Arrange: three users, twenty requests each, all for the same amount.
    let app = spawn_app().await;
    let mut users = Vec::new();
    for _ in 0..3 {
        users.push(app.funded_user(0).await);
    }

    // Act
    let requests = users
        .iter()
        .flat_map(|(user, account)| (0..20).map(move |_| (user, *account)))
        .map(|(user, account)| app.request_topup(user, 100_000, account));
    let answers = join_all(requests).await;

    // Assert
    let codes: Vec<i64> = answers.iter().map(code_of).collect();
    let distinct: HashSet<i64> = codes.iter().copied().collect();
    assert_eq!(distinct.len(), 60, "codes repeated: {codes:?}");
    let totals: Vec<i64> =
        sqlx::query_scalar("select total from topups where state = 'pending' order by total")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let mut expected: Vec<i64> = codes.iter().map(|c| 100_000 + c).collect();
    expected.sort();
    assert_eq!(totals, expected);
}

#[tokio::test]
async fn the_database_itself_refuses_two_pending_top_ups_with_one_total() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let insert = format!(
        "insert into topups (user_id, deposit_id, bank_account_id, amount, unique_code, total, expires_at)
         values ({}, {}, {account}, $1, $2, $1 + $2, now() + interval '1 hour')",
        user.id, user.deposit_id
    );
    sqlx::query(&insert)
        .bind(20_000_i64)
        .bind(5)
        .execute(&app.pool)
        .await
        .unwrap();

    // A different amount and code with the same sum: still the same transfer.
    let err = sqlx::query(&insert)
        .bind(20_001_i64)
        .bind(4)
        .execute(&app.pool)
        .await
        .unwrap_err();

    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("topups_pending_total")
    );
}

#[tokio::test]
async fn when_every_code_is_taken_the_answer_says_so_and_an_expired_code_is_free_again() {
    // Arrange: 999 pending top-ups of 30000 hold every code (and every
    // total from 30001 to 30999).
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    sqlx::query(
        "insert into topups (user_id, deposit_id, bank_account_id, amount, unique_code, total, expires_at)
         select $1, $2, $3, 30000, c, 30000 + c, now() + interval '1 hour'
         from generate_series(1, 999) c",
    )
    .bind(user.id)
    .bind(user.deposit_id)
    .bind(account)
    .execute(&app.pool)
    .await
    .unwrap();
    let before = topup_rows(&app).await;

    // Act 1
    let full = app.request_topup(&user, 30_000, account).await;
    let keyed = send_with_key(
        &app,
        &user,
        "full",
        &format!("amount=30000&bank_account_id={account}"),
    )
    .await;

    // Assert 1
    full.assert(200, NO_CODE_FREE);
    keyed.assert(200, NO_CODE_FREE);
    assert_eq!(topup_rows(&app).await, before);

    // Act 2: code 417's request expires; the same keyed retry now succeeds.
    let stale: i64 = sqlx::query_scalar("select id from topups where unique_code = 417")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.expire_topup(stale).await;
    let retried = send_with_key(
        &app,
        &user,
        "full",
        &format!("amount=30000&bank_account_id={account}"),
    )
    .await;

    // Assert 2
    retried.assert(200, &topup_accepted(417));
    let states: Vec<(i32, String)> =
        sqlx::query_as("select unique_code, state from topups where unique_code = 417 order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        states,
        [(417, "expired".to_owned()), (417, "pending".to_owned())]
    );
    // Another amount whose totals overlap (29001 + 999 = 30000 is free; 29002
    // + 999 = 30001 is taken) draws only free totals.
    let overlap = app.request_topup(&user, 29_500, account).await;
    assert!(code_of(&overlap) <= 500, "{overlap:?}");
}

#[tokio::test]
async fn the_combined_history_lists_top_ups_newest_first_in_the_topup_key_order() {
    // Arrange: a confirmed top-up, an expired one and a pending one.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    let (confirmed, code) = app.pending_topup(&user, 10_000, account).await;
    app.admin_confirm_topup(confirmed).await;
    let (expired, _) = app.pending_topup(&user, 20_000, account).await;
    app.expire_topup(expired).await;
    let (pending, _) = app.pending_topup(&user, 30_000, account).await;
    let credit: i64 = sqlx::query_scalar("select id from mutations where topup_id = $1")
        .bind(confirmed)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let credit = ExpectedMutation {
        id: credit,
        kind: "Deposit::Credit",
        action: "topup",
        amount: 10_000 + code,
        initial: 0,
        last: 10_000 + code,
        transaction_id: None,
        transaction_no: None,
        note: Some(&format!("Top up saldo #T{confirmed}")),
    }
    .json(&app.pool)
    .await;

    // Act
    let answer = app.v2_history(&user, "").await;
    let page2 = app.v2_history(&user, "?page=2&per_page=2").await;

    // Assert
    let topups = [
        topup_json(&app.pool, pending, "pending").await,
        topup_json(&app.pool, expired, "expired").await,
        topup_json(&app.pool, confirmed, "confirmed").await,
    ];
    assert!(topups[2].contains(r#""confirmed_at":"20"#), "{}", topups[2]);
    answer.assert(
        200,
        &format!(
            r#"{{"status":"OK","balance":{},"topup_history":[{}],"withdrawal_history":[],"mutation_history":[{credit}],"message":null}}"#,
            10_000 + code,
            topups.join(",")
        ),
    );
    page2.assert(
        200,
        &format!(
            r#"{{"status":"OK","balance":{},"topup_history":[{}],"withdrawal_history":[],"mutation_history":[],"message":null}}"#,
            10_000 + code,
            topups[2]
        ),
    );
    let expires_at: String = sqlx::query_scalar(&format!(
        "select {} from topups where id = $1",
        wire_ms("expires_at")
    ))
    .bind(pending)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        expires_at.ends_with("+07:00") && expires_at.len() == 29,
        "{expires_at}"
    );
}
