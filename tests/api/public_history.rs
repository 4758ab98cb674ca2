//! The two history endpoints of the seed and the HTTP Basic authentication
//! every public endpoint shares.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dompet::{
    domain::{Action, Amount, UserId, WithdrawalId},
    service::Posting,
};
use reqwest::Method;
use sha2::{Digest, Sha256};

use crate::helpers::{
    spawn_app, spawn_app_with, TestApp, TestUser, EMPTY_HISTORY, MUTATIONS, PUBLIC_UNAUTHORIZED,
    WITHDRAW, WITHDRAWALS,
};

/// A back-office posting through the service.
async fn post(
    app: &TestApp,
    user_id: i64,
    action: Action,
    amount: i64,
    transaction_id: Option<i64>,
) {
    app.dompet
        .post_mutation(Posting {
            user_id: UserId::new(user_id),
            action,
            amount: Amount::new(amount).unwrap(),
            transaction_id,
            transaction_no: None,
            note: None,
            idempotency_key: format!("history-{}", crate::helpers::random(16)),
        })
        .await
        .unwrap();
}

/// An instant as the contract renders it, in `tz`.
fn wire_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn jakarta(at: DateTime<Utc>) -> String {
    wire_time(at, chrono_tz::Asia::Jakarta)
}

/// `(id, created_at, updated_at)` of the user's mutations, oldest first.
async fn mutation_rows(app: &TestApp, user: &TestUser) -> Vec<(i64, DateTime<Utc>, DateTime<Utc>)> {
    sqlx::query_as(
        "select id, created_at, updated_at from mutations where user_id = $1 order by id",
    )
    .bind(user.id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

type WithdrawalTimes = (
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// `(id, created_at, updated_at, processed_at, cancelled_at)`, oldest first.
async fn withdrawal_rows(app: &TestApp, user: &TestUser) -> Vec<WithdrawalTimes> {
    sqlx::query_as(
        "select id, created_at, updated_at, processed_at, cancelled_at
         from withdrawals where user_id = $1 order by id",
    )
    .bind(user.id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// Accepts a withdrawal and moves it to an earlier day, so the user may
/// withdraw again today. Returns its id.
async fn withdraw_on_an_earlier_day(
    app: &TestApp,
    user: &TestUser,
    amount: i64,
    account: i64,
) -> i64 {
    let answer = app.withdraw(user, amount, account, &user.password).await;
    assert_eq!(answer.json()["status"], "OK", "{}", answer.body);
    let id = answer.json()["withdrawal_id"].as_i64().unwrap();
    // The n-th such withdrawal goes n days back, so none share a day.
    sqlx::query(
        "update withdrawals set local_day = local_day - (select count(*)::int from withdrawals where user_id = $2)
         where id = $1",
    )
    .bind(id)
    .bind(user.id)
        .execute(&app.pool)
        .await
        .unwrap();
    id
}

fn amounts(answer: &crate::helpers::Answer) -> Vec<i64> {
    answer.json()["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history list: {}", answer.body))
        .iter()
        .map(|row| row["amount"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_seed_mutation_history_example_is_answered_exactly_like_the_seed() {
    // Arrange
    let app = spawn_app().await;
    let (user, _) = app.seed_demo_user().await;

    // Act
    let answer = app.mutations(&user, "?page=1&per_page=1").await;

    // Assert
    answer.assert(
        200,
        r#"{"status":"OK","history":[{"id":346,"type":"Deposit::Credit","action":"remit","amount":30000,"initial_balance":0,"final_balance":30000,"transaction_id":51938,"created_at":"2013-11-25T15:32:47+07:00","updated_at":"2013-11-25T15:32:47+07:00"}],"message":null}"#,
    );
    assert_eq!(answer.headers["content-type"], "application/json");
}

#[tokio::test]
async fn the_seed_withdrawal_history_example_is_answered_exactly_like_the_seed() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.seed_demo_user().await;
    app.withdraw(&user, 25000, account, "testing1234")
        .await
        .assert(
            200,
            r#"{"status":"OK","withdrawal_id":4,"message":"Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam."}"#,
        );
    sqlx::query(
        "update withdrawals set created_at = '2013-11-22 16:00:39+07', updated_at = '2013-11-22 16:00:39+07'
         where id = 4",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    // Act
    let answer = app.withdrawals(&user, "?page=1&per_page=1").await;

    // Assert
    answer.assert(
        200,
        r#"{"status":"OK","history":[{"amount":25000,"bank_account_id":41812,"cancelled_at":null,"created_at":"2013-11-22T16:00:39+07:00","deposit_id":1,"id":4,"processed_at":null,"state":"pending","updated_at":"2013-11-22T16:00:39+07:00"}],"message":null}"#,
    );
    assert_eq!(answer.headers["content-type"], "application/json");
}

#[tokio::test]
async fn mutation_history_lists_every_action_newest_first_with_its_type_balances_and_transaction() {
    // Arrange: every action there is, oldest first.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;
    post(&app, user.id, Action::Remit, 30000, Some(51938)).await;
    post(&app, user.id, Action::Topup, 5000, None).await;
    post(&app, user.id, Action::Payment, 2000, Some(777)).await;
    post(&app, user.id, Action::Refund, 1500, Some(777)).await;
    let withdrawal = app.withdraw(&user, 10000, account, &user.password).await;
    let withdrawal_id = withdrawal.json()["withdrawal_id"].as_i64().unwrap();
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(withdrawal_id))
        .await
        .unwrap();
    let rows = mutation_rows(&app, &user).await;
    assert_eq!(rows.len(), 6);
    let fields = [
        ("Deposit::Credit", "remit", 30000, 0, 30000, "51938"),
        ("Deposit::Credit", "topup", 5000, 30000, 35000, "null"),
        ("Deposit::Debit", "payment", 2000, 35000, 33000, "777"),
        ("Deposit::Credit", "refund", 1500, 33000, 34500, "777"),
        ("Deposit::Debit", "withdrawal", 10000, 34500, 24500, "null"),
        ("Deposit::Credit", "restore", 10000, 24500, 34500, "null"),
    ];
    let expected: Vec<String> = rows
        .iter()
        .zip(fields)
        .rev()
        .map(|((id, created, updated), (kind, action, amount, initial, last, tx))| {
            format!(
                r#"{{"id":{id},"type":"{kind}","action":"{action}","amount":{amount},"initial_balance":{initial},"final_balance":{last},"transaction_id":{tx},"created_at":"{}","updated_at":"{}"}}"#,
                jakarta(*created),
                jakarta(*updated)
            )
        })
        .collect();

    // Act
    let answer = app.mutations(&user, "").await;

    // Assert
    answer.assert(
        200,
        &format!(
            r#"{{"status":"OK","history":[{}],"message":null}}"#,
            expected.join(",")
        ),
    );
}

#[tokio::test]
async fn withdrawal_history_shows_each_state_newest_first_in_the_seed_key_order() {
    // Arrange: a processed, a cancelled and a pending withdrawal, one a day.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let processed = withdraw_on_an_earlier_day(&app, &user, 10000, account).await;
    app.dompet
        .process_withdrawal(WithdrawalId::new(processed))
        .await
        .unwrap();
    let cancelled = withdraw_on_an_earlier_day(&app, &user, 20000, account).await;
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(cancelled))
        .await
        .unwrap();
    let pending = app.withdraw(&user, 30000, account, &user.password).await;
    assert_eq!(pending.json()["status"], "OK", "{}", pending.body);
    let rows = withdrawal_rows(&app, &user).await;
    let at =
        |t: Option<DateTime<Utc>>| t.map_or("null".to_owned(), |t| format!("\"{}\"", jakarta(t)));
    let states = [
        (10000, "processed"),
        (20000, "cancelled"),
        (30000, "pending"),
    ];
    let expected: Vec<String> = rows
        .iter()
        .zip(states)
        .rev()
        .map(|((id, created, updated, processed_at, cancelled_at), (amount, state))| {
            format!(
                r#"{{"amount":{amount},"bank_account_id":{account},"cancelled_at":{},"created_at":"{}","deposit_id":{},"id":{id},"processed_at":{},"state":"{state}","updated_at":"{}"}}"#,
                at(*cancelled_at),
                jakarta(*created),
                user.deposit_id,
                at(*processed_at),
                jakarta(*updated)
            )
        })
        .collect();
    assert!(rows[0].3.is_some() && rows[1].4.is_some(), "{rows:?}");

    // Act
    let answer = app.withdrawals(&user, "").await;

    // Assert
    answer.assert(
        200,
        &format!(
            r#"{{"status":"OK","history":[{}],"message":null}}"#,
            expected.join(",")
        ),
    );
}

#[tokio::test]
async fn timestamps_are_whole_seconds_with_the_offset_of_the_configured_time_zone() {
    // Arrange
    let app = spawn_app_with(|config| config.timezone = chrono_tz::Asia::Tokyo).await;
    let (user, account) = app.funded_user(50_000).await;
    app.withdraw(&user, 1000, account, &user.password).await;
    let mutation = mutation_rows(&app, &user).await[1];
    let withdrawal = withdrawal_rows(&app, &user).await[0];

    // Act
    let mutations = app.mutations(&user, "?per_page=1").await.json();
    let withdrawals = app.withdrawals(&user, "").await.json();

    // Assert
    let tokyo = |t| wire_time(t, chrono_tz::Asia::Tokyo);
    assert_eq!(mutations["history"][0]["created_at"], tokyo(mutation.1));
    assert_eq!(mutations["history"][0]["updated_at"], tokyo(mutation.2));
    assert_eq!(withdrawals["history"][0]["created_at"], tokyo(withdrawal.1));
    assert_eq!(withdrawals["history"][0]["updated_at"], tokyo(withdrawal.2));
    let shown = mutations["history"][0]["created_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        shown.len() == 25 && shown.ends_with("+09:00"),
        "{shown} is not seconds with the Tokyo offset"
    );
}

#[tokio::test]
async fn a_user_without_history_gets_an_empty_list_on_both_endpoints() {
    let app = spawn_app().await;
    let user = app.create_user().await;

    app.mutations(&user, "").await.assert(200, EMPTY_HISTORY);
    app.withdrawals(&user, "").await.assert(200, EMPTY_HISTORY);
}

#[tokio::test]
async fn odd_page_and_per_page_values_fall_back_to_their_defaults() {
    // Arrange: twelve credits of 1..=12, so the newest has amount 12.
    let app = spawn_app().await;
    let user = app.create_user().await;
    for amount in 1..=12 {
        app.credit(&user, amount).await;
    }
    let newest_ten: Vec<i64> = (3..=12).rev().collect();
    let cases: [(&str, Vec<i64>); 18] = [
        ("", newest_ten.clone()),
        ("?page=1&per_page=10", newest_ten.clone()),
        ("?page=2", vec![2, 1]),
        ("?page=2&per_page=5", vec![7, 6, 5, 4, 3]),
        ("?per_page=3", vec![12, 11, 10]),
        ("?page=&per_page=", newest_ten.clone()),
        ("?page=abc&per_page=ten", newest_ten.clone()),
        ("?page=0&per_page=0", newest_ten.clone()),
        ("?page=-1&per_page=-5", newest_ten.clone()),
        ("?page=1.5&per_page=2.0", newest_ten.clone()),
        ("?page=%2B2&per_page=%203", newest_ten.clone()),
        ("?page=2147483648&per_page=2147483648", newest_ten.clone()),
        (
            "?page=99999999999999999999&per_page=99999999999999999999",
            newest_ten.clone(),
        ),
        ("?page=00000000002&per_page=0000000005", vec![7, 6, 5, 4, 3]),
        ("?page=00000000001", newest_ten.clone()),
        ("?page=2&per_page=abc", vec![2, 1]),
        ("?page=abc&per_page=4", vec![12, 11, 10, 9]),
        ("?page=4&per_page=3", vec![3, 2, 1]),
    ];

    for (query, expected) in cases {
        // Act
        let answer = app.mutations(&user, query).await;

        // Assert
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        assert_eq!(amounts(&answer), expected, "{query}");
    }
}

#[tokio::test]
async fn a_page_past_the_end_is_an_empty_list() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    app.withdraw(&user, 1000, account, &user.password).await;

    for query in [
        "?page=3",
        "?page=2&per_page=10",
        "?page=2147483647&per_page=2147483647",
    ] {
        app.mutations(&user, query).await.assert(200, EMPTY_HISTORY);
        app.withdrawals(&user, query)
            .await
            .assert(200, EMPTY_HISTORY);
    }
    assert_eq!(
        amounts(&app.mutations(&user, "?page=2&per_page=1").await),
        [50_000]
    );
    assert_eq!(
        amounts(&app.withdrawals(&user, "?page=1&per_page=1").await),
        [1000]
    );
}

#[tokio::test]
async fn per_page_above_100_is_taken_as_100() {
    // Arrange: 105 credits of 1..=105.
    let app = spawn_app().await;
    let user = app.create_user().await;
    for amount in 1..=105 {
        app.credit(&user, amount).await;
    }

    for (query, newest, count) in [
        ("?per_page=100", 105, 100),
        ("?per_page=101", 105, 100),
        ("?per_page=2147483647", 105, 100),
        ("?page=2&per_page=500", 5, 5),
    ] {
        // Act
        let answer = app.mutations(&user, query).await;

        // Assert
        let expected: Vec<i64> = (newest - count + 1..=newest).rev().collect();
        assert_eq!(amounts(&answer), expected, "{query}");
    }
}

#[tokio::test]
async fn withdrawal_history_pages_the_same_way() {
    // Arrange: three withdrawals of 1000, 2000 and 3000 on three days.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    withdraw_on_an_earlier_day(&app, &user, 1000, account).await;
    withdraw_on_an_earlier_day(&app, &user, 2000, account).await;
    withdraw_on_an_earlier_day(&app, &user, 3000, account).await;

    for (query, expected) in [
        ("", vec![3000, 2000, 1000]),
        ("?page=1&per_page=1", vec![3000]),
        ("?page=2&per_page=2", vec![1000]),
        ("?page=0&per_page=-1", vec![3000, 2000, 1000]),
        ("?per_page=1000", vec![3000, 2000, 1000]),
    ] {
        // Act
        let answer = app.withdrawals(&user, query).await;

        // Assert
        assert_eq!(amounts(&answer), expected, "{query}");
    }
}

#[tokio::test]
async fn a_user_sees_only_their_own_history() {
    // Arrange
    let app = spawn_app().await;
    let (alice, alice_account) = app.funded_user(40_000).await;
    let (bob, bob_account) = app.funded_user(70_000).await;
    app.withdraw(&alice, 4000, alice_account, &alice.password)
        .await;
    app.withdraw(&bob, 7000, bob_account, &bob.password).await;
    let carol = app.create_user().await;

    // Act
    let alice_mutations = app.mutations(&alice, "?per_page=100").await;
    let bob_mutations = app.mutations(&bob, "?per_page=100").await;
    let alice_withdrawals = app.withdrawals(&alice, "").await;
    let bob_withdrawals = app.withdrawals(&bob, "").await;

    // Assert
    assert_eq!(amounts(&alice_mutations), [4000, 40_000]);
    assert_eq!(amounts(&bob_mutations), [7000, 70_000]);
    assert_eq!(amounts(&alice_withdrawals), [4000]);
    assert_eq!(
        alice_withdrawals.json()["history"][0]["deposit_id"],
        alice.deposit_id
    );
    assert_eq!(amounts(&bob_withdrawals), [7000]);
    assert_eq!(
        bob_withdrawals.json()["history"][0]["bank_account_id"],
        bob_account
    );
    app.mutations(&carol, "").await.assert(200, EMPTY_HISTORY);
    app.withdrawals(&carol, "").await.assert(200, EMPTY_HISTORY);
}

/// Every way an `Authorization` header can be missing, malformed or wrong.
fn bad_credentials(user: &TestUser, other: &TestUser) -> Vec<(&'static str, Option<String>)> {
    let basic = |text: String| Some(format!("Basic {}", STANDARD.encode(text)));
    vec![
        ("no header", None),
        ("another scheme", Some(format!("Bearer {}", user.token))),
        ("Basic without credentials", Some("Basic".into())),
        ("Basic with an empty value", Some("Basic ".into())),
        ("bad base64", Some("Basic !!!not-base64!!!".into())),
        ("no colon", basic(format!("{}{}", user.id, user.token))),
        (
            "unknown user id",
            basic(format!("999999999:{}", user.token)),
        ),
        ("non-numeric user id", basic(format!("abc:{}", user.token))),
        (
            "negative user id",
            basic(format!("-{}:{}", user.id, user.token)),
        ),
        (
            "user id with a space",
            basic(format!(" {}:{}", user.id, user.token)),
        ),
        ("empty user id", basic(format!(":{}", user.token))),
        (
            "user id beyond i64",
            basic(format!("99999999999999999999:{}", user.token)),
        ),
        ("wrong token", basic(format!("{}:wrong-token", user.id))),
        ("empty token", basic(format!("{}:", user.id))),
        (
            "token with a suffix",
            basic(format!("{}:{}x", user.id, user.token)),
        ),
        (
            "another user's token",
            basic(format!("{}:{}", user.id, other.token)),
        ),
        (
            "non-UTF-8 credentials",
            Some(format!("Basic {}", STANDARD.encode(b"\xff\xfe:\xff"))),
        ),
    ]
}

#[tokio::test]
async fn every_bad_credential_gets_the_same_401_on_every_public_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    // Rows on both history pages: a wrong token must not see them.
    app.withdraw(&user, 1000, account, &user.password).await;
    let balance = app.balance(&user).await;
    let other = app.create_user().await;
    let before = app.ledger_fingerprint().await;
    let form = format!(
        "deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={}",
        user.password
    );

    for (case, header) in bad_credentials(&user, &other) {
        for (method, path) in [
            (Method::GET, format!("{MUTATIONS}?page=1&per_page=1")),
            (Method::GET, WITHDRAWALS.to_owned()),
            (Method::POST, WITHDRAW.to_owned()),
        ] {
            let mut request = app
                .request(method, &path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone());
            if let Some(header) = &header {
                request = request.header("authorization", header);
            }

            // Act
            let answer = app.send(request).await;

            // Assert
            assert_eq!(
                (answer.status.as_u16(), answer.body.as_str()),
                (401, PUBLIC_UNAUTHORIZED),
                "{case} on {path}"
            );
            assert_eq!(
                answer.headers["www-authenticate"], r#"Basic realm="dompet""#,
                "{case} on {path}"
            );
            assert_eq!(answer.headers["content-type"], "application/json");
        }
    }
    assert_eq!(
        app.ledger_fingerprint().await,
        before,
        "a refused request moved money"
    );
    assert_eq!(app.balance(&user).await, balance);
}

#[tokio::test]
async fn the_right_credentials_are_accepted_on_every_public_endpoint() {
    // The counterpart of the 401 table: the same user, the right token.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;

    assert_eq!(amounts(&app.mutations(&user, "").await), [50_000]);
    app.withdrawals(&user, "").await.assert(200, EMPTY_HISTORY);
    let answer = app.withdraw(&user, 1000, account, &user.password).await;
    assert_eq!(answer.json()["status"], "OK", "{}", answer.body);
}

#[tokio::test]
async fn page_one_walks_the_user_index_newest_first_without_sorting_or_counting() {
    // Arrange: a long history (a valid chain of 1-rupiah topups) among many
    // other users' histories, so the user's rows are a small share.
    let app = spawn_app().await;
    let user = app.create_user().await;
    sqlx::query(
        "with others as (
             insert into users (username, email, password_hash)
             select 'other' || g, 'other' || g || '@example.com', 'x'
             from generate_series(1, 200) g returning id
         )
         insert into deposits (user_id) select id from others",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, idempotency_key)
         select d.user_id, d.id, 'Deposit::Credit', 'topup', 1, g - 1, g, 'long-' || d.id || '-' || g
         from deposits d, generate_series(1, 200) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("analyze").execute(&app.pool).await.unwrap();

    // Act: the history query's plan (the statement of store::mutations::page_for_user).
    let plan: Vec<String> = sqlx::query_scalar(
        "explain select id, user_id, type as kind, action, amount, initial_balance, final_balance,
                        transaction_id, created_at, updated_at
         from mutations where user_id between $1 and $1 and id <= $2
           and ($5::bytea is null
                or exists (select from tokens where token_sha256 = $5 and user_id = $1))
         order by user_id, id desc limit $3 offset $4",
    )
    .bind(user.id)
    .bind(i64::MAX)
    .bind(10_i64)
    .bind(0_i64)
    .bind(Sha256::digest(user.token.as_bytes()).to_vec())
    .fetch_all(&app.pool)
    .await
    .unwrap();

    // Assert
    let plan = plan.join("\n");
    assert!(
        plan.contains("Index Scan using mutations_user_id_id"),
        "{plan}"
    );
    assert!(
        !plan.contains("Sort") && !plan.contains("Aggregate"),
        "{plan}"
    );
    let answer = app.mutations(&user, "?page=1&per_page=1").await;
    assert_eq!(answer.json()["history"][0]["final_balance"], 200);
}
