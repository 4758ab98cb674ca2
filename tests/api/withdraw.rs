//! The withdraw endpoint: the seed's rules and messages, where parameters
//! come from, bad input, `Idempotency-Key` and the password lockout.

use dompet::domain::WithdrawalId;
use reqwest::{Method, RequestBuilder};

use crate::{
    helpers::{spawn_app, spawn_app_with, Answer, TestApp, TestUser},
    public_history::seed_demo_user,
};

pub(crate) const WITHDRAW: &str = "/v2/dompet/withdraw.json";
pub(crate) const ACCEPTED: &str = "Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam.";
pub(crate) const AMOUNT: &str = "Jumlah pencairan tidak valid.";
pub(crate) const ACCOUNT: &str = "Rekening pencairan harus milik Anda.";
pub(crate) const ONCE_A_DAY: &str = "Pencairan hanya bisa dilakukan satu kali sehari.";
pub(crate) const PASSWORD: &str = "Password tidak valid.";
pub(crate) const BALANCE: &str = "Pencairan dana maksimal sejumlah saldo yang dimiliki.";
pub(crate) const FEE: &str = "Jumlah pencairan dan biaya transfer lebih besar dari saldo.";
pub(crate) const LOCKED: &str = r#"{"status":"ERROR","withdrawal_id":null,"message":"Terlalu banyak percobaan password. Coba lagi nanti."}"#;
const KEY_REUSED: &str = r#"{"status":"ERROR","withdrawal_id":null,"message":"Idempotency-Key sudah dipakai untuk permintaan lain."}"#;
const BAD_REQUEST: &str = r#"{"status":"ERROR","message":"Format permintaan tidak valid."}"#;
const TOO_LARGE: &str = r#"{"status":"ERROR","message":"Permintaan terlalu besar."}"#;

pub(crate) fn accepted(withdrawal_id: i64) -> String {
    format!(r#"{{"status":"OK","withdrawal_id":{withdrawal_id},"message":"{ACCEPTED}"}}"#)
}

/// The rejection body for these failed rules, in the order given.
pub(crate) fn rejected(messages: &[&str]) -> String {
    format!(
        r#"{{"status":"ERROR","withdrawal_id":null,"message":"{}"}}"#,
        messages.join(", ")
    )
}

/// A form body of the three fields, each percent-encoded.
pub(crate) fn form(amount: &str, bank_account_id: &str, password: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("deposit_withdrawal[amount]", amount)
        .append_pair("deposit_withdrawal[bank_account_id]", bank_account_id)
        .append_pair("deposit_withdrawal[password]", password)
        .finish()
}

/// An authenticated POST to the withdraw endpoint (path may carry a query).
pub(crate) fn post(app: &TestApp, user: &TestUser, path: &str) -> RequestBuilder {
    app.request(Method::POST, path)
        .basic_auth(user.id, Some(&user.token))
}

async fn post_json(app: &TestApp, user: &TestUser, json: &str) -> Answer {
    app.send(
        post(app, user, WITHDRAW)
            .header("content-type", "application/json")
            .body(json.to_owned()),
    )
    .await
}

/// A form POST carrying an `Idempotency-Key`.
pub(crate) async fn withdraw_with_key(
    app: &TestApp,
    user: &TestUser,
    key: &str,
    amount: i64,
    account: i64,
) -> Answer {
    app.send(
        post(app, user, WITHDRAW)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("idempotency-key", key)
            .body(form(
                &amount.to_string(),
                &account.to_string(),
                &user.password,
            )),
    )
    .await
}

pub(crate) fn withdrawal_id(answer: &Answer) -> i64 {
    answer.json()["withdrawal_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("not accepted: {}", answer.body))
}

/// How many withdrawals and `withdrawal` debits the user has.
pub(crate) async fn withdrawal_counts(app: &TestApp, user: &TestUser) -> (i64, i64) {
    sqlx::query_as(
        "select (select count(*) from withdrawals where user_id = $1),
                (select count(*) from mutations where user_id = $1 and action = 'withdrawal')",
    )
    .bind(user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Moves all of the user's withdrawals to yesterday.
async fn move_withdrawals_to_yesterday(app: &TestApp, user: &TestUser) {
    sqlx::query("update withdrawals set local_day = local_day - 1 where user_id = $1")
        .bind(user.id)
        .execute(&app.pool)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------
// The seed's example and what a withdrawal does

#[tokio::test]
async fn the_seed_withdraw_example_and_its_failures_answer_exactly_like_the_seed() {
    // Arrange: the seed's user with enough money for two seed-sized requests.
    let app = spawn_app().await;
    let (user, account) = seed_demo_user(&app).await;
    app.credit(&user, 50_000).await;
    let (_, foreign_account) = app.funded_user(0).await;
    let seed_form = |account: i64, password: &str| {
        format!("deposit_withdrawal[amount]=25000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={password}")
    };

    // Act + Assert: each of the seed's answers, in the seed's words.
    app.withdraw_form(&user, &seed_form(foreign_account, "testing1234"))
        .await
        .assert(200, r#"{"status":"ERROR","withdrawal_id":null,"message":"Rekening pencairan harus milik Anda."}"#);
    app.withdraw_form(&user, &seed_form(account, "wrong-password"))
        .await
        .assert(
            200,
            r#"{"status":"ERROR","withdrawal_id":null,"message":"Password tidak valid."}"#,
        );
    app.withdraw_form(&user, &seed_form(account, "testing1234"))
        .await
        .assert(200, r#"{"status":"OK","withdrawal_id":4,"message":"Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam."}"#);
    app.withdraw_form(&user, &seed_form(account, "testing1234"))
        .await
        .assert(200, r#"{"status":"ERROR","withdrawal_id":null,"message":"Pencairan hanya bisa dilakukan satu kali sehari."}"#);
    app.withdraw_form(&user, &seed_form(account, "wrong-password"))
        .await
        .assert(200, r#"{"status":"ERROR","withdrawal_id":null,"message":"Pencairan hanya bisa dilakukan satu kali sehari., Password tidak valid."}"#);
    assert_eq!(app.balance(&user).await, 80_000 - 25_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_accepted_withdrawal_is_pending_debits_its_amount_and_lowers_the_balance() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;

    // Act
    let answer = app.withdraw(&user, 25_000, account, &user.password).await;

    // Assert
    let id = withdrawal_id(&answer);
    answer.assert(200, &accepted(id));
    assert_eq!(app.balance(&user).await, 75_000);
    let debit = app.mutations(&user, "?page=1&per_page=1").await.json()["history"][0].clone();
    assert_eq!(debit["type"], "Deposit::Debit");
    assert_eq!(debit["action"], "withdrawal");
    assert_eq!(debit["amount"], 25_000);
    assert_eq!(debit["initial_balance"], 100_000);
    assert_eq!(debit["final_balance"], 75_000);
    assert_eq!(debit["transaction_id"], serde_json::Value::Null);
    let withdrawal = app.withdrawals(&user, "").await.json()["history"].clone();
    assert_eq!(withdrawal.as_array().unwrap().len(), 1);
    assert_eq!(withdrawal[0]["id"], id);
    assert_eq!(withdrawal[0]["amount"], 25_000);
    assert_eq!(withdrawal[0]["bank_account_id"], account);
    assert_eq!(withdrawal[0]["deposit_id"], user.deposit_id);
    assert_eq!(withdrawal[0]["state"], "pending");
    assert_eq!(withdrawal[0]["processed_at"], serde_json::Value::Null);
    assert_eq!(withdrawal[0]["cancelled_at"], serde_json::Value::Null);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn the_transfer_fee_is_debited_with_the_amount_but_the_withdrawal_shows_the_amount() {
    // Arrange
    let app = spawn_app_with(|config| config.withdrawal_fee = 500).await;
    let (user, account) = app.funded_user(25_000).await;

    // Act: the whole balance, fee included.
    let answer = app.withdraw(&user, 24_500, account, &user.password).await;

    // Assert
    answer.assert(200, &accepted(withdrawal_id(&answer)));
    assert_eq!(app.balance(&user).await, 0);
    let debit = app.mutations(&user, "?per_page=1").await.json()["history"][0].clone();
    assert_eq!(
        (debit["action"].as_str(), debit["amount"].as_i64()),
        (Some("withdrawal"), Some(25_000))
    );
    assert_eq!(debit["final_balance"], 0);
    assert_eq!(
        app.withdrawals(&user, "").await.json()["history"][0]["amount"],
        24_500
    );
    // Cancelling gives the fee back too.
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(withdrawal_id(&answer)))
        .await
        .unwrap();
    assert_eq!(app.balance(&user).await, 25_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn cancelling_a_withdrawal_restores_the_money_and_frees_the_day() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let first = withdrawal_id(&app.withdraw(&user, 30_000, account, &user.password).await);
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(first))
        .await
        .unwrap();
    assert_eq!(app.balance(&user).await, 50_000);

    // Act
    let second = app.withdraw(&user, 40_000, account, &user.password).await;

    // Assert
    second.assert(200, &accepted(withdrawal_id(&second)));
    assert_eq!(app.balance(&user).await, 10_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_processed_withdrawal_still_holds_its_day() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let first = withdrawal_id(&app.withdraw(&user, 10_000, account, &user.password).await);
    app.dompet
        .process_withdrawal(WithdrawalId::new(first))
        .await
        .unwrap();
    let before = app.ledger_fingerprint().await;

    // Act
    let second = app.withdraw(&user, 10_000, account, &user.password).await;

    // Assert
    second.assert(200, &rejected(&[ONCE_A_DAY]));
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn yesterdays_withdrawal_does_not_block_today() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    app.withdraw(&user, 10_000, account, &user.password).await;
    move_withdrawals_to_yesterday(&app, &user).await;

    // Act
    let today = app.withdraw(&user, 10_000, account, &user.password).await;

    // Assert
    today.assert(200, &accepted(withdrawal_id(&today)));
    assert_eq!(app.balance(&user).await, 30_000);
    assert_eq!(withdrawal_counts(&app, &user).await, (2, 2));
}

#[tokio::test]
async fn the_day_a_withdrawal_uses_up_is_the_calendar_day_of_the_configured_time_zone() {
    // Kiritimati (+14) and Pago Pago (-11) are on different dates for 23 of
    // every 24 hours, so a server-side date or a UTC date would show here.
    for zone in [
        chrono_tz::Pacific::Kiritimati,
        chrono_tz::Pacific::Pago_Pago,
        chrono_tz::Asia::Jakarta,
    ] {
        // Arrange
        let app = crate::helpers::spawn_app_with(|c| c.timezone = zone).await;
        let (user, account) = app.funded_user(50_000).await;

        // Act
        let first = app.withdraw(&user, 10_000, account, &user.password).await;
        let second = app.withdraw(&user, 10_000, account, &user.password).await;

        // Assert
        first.assert(200, &accepted(withdrawal_id(&first)));
        let (day, offset): (chrono::NaiveDate, String) = sqlx::query_as(
            "select local_day, to_char(created_at at time zone $2, 'YYYY-MM-DD') from withdrawals where user_id = $1",
        )
        .bind(user.id)
        .bind(zone.name())
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(day.to_string(), offset, "local day in {zone}");
        second.assert(200, &rejected(&[ONCE_A_DAY]));
    }
}

// ---------------------------------------------------------------------------
// The rules and their messages

#[derive(Clone, Copy, Debug)]
enum Account {
    Own,
    Foreign,
    Unknown,
    Missing,
}

/// One request against a fresh user with a balance of 50 000 (and, when
/// `day_taken`, an accepted withdrawal of 1 000 earlier today).
struct RuleCase {
    name: &'static str,
    day_taken: bool,
    amount: &'static str,
    account: Account,
    right_password: bool,
    expected: &'static [&'static str],
}

async fn run_rule_cases(app: &TestApp, cases: &[RuleCase]) {
    for case in cases {
        // Arrange
        let (user, own) = app.funded_user(50_000).await;
        let (_, foreign) = app.funded_user(0).await;
        if case.day_taken {
            let earlier = app.withdraw(&user, 1000, own, &user.password).await;
            assert_eq!(
                earlier.json()["status"],
                "OK",
                "{}: {}",
                case.name,
                earlier.body
            );
        }
        let mut fields = vec![("deposit_withdrawal[amount]", case.amount.to_owned())];
        match case.account {
            Account::Own => fields.push(("deposit_withdrawal[bank_account_id]", own.to_string())),
            Account::Foreign => {
                fields.push(("deposit_withdrawal[bank_account_id]", foreign.to_string()))
            }
            Account::Unknown => fields.push((
                "deposit_withdrawal[bank_account_id]",
                "987654321".to_owned(),
            )),
            Account::Missing => {}
        }
        let password = if case.right_password {
            user.password.as_str()
        } else {
            "not-my-password"
        };
        fields.push(("deposit_withdrawal[password]", password.to_owned()));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let before = app.ledger_fingerprint().await;
        let balance = app.balance(&user).await;

        // Act
        let answer = app.withdraw_form(&user, &body).await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(case.expected).as_str()),
            "{}",
            case.name
        );
        assert_eq!(app.ledger_fingerprint().await, before, "{}", case.name);
        assert_eq!(app.balance(&user).await, balance, "{}", case.name);
    }
}

#[tokio::test]
async fn each_failing_rule_alone_answers_exactly_its_message() {
    let app = spawn_app_with(|config| config.withdrawal_fee = 500).await;
    run_rule_cases(
        &app,
        &[
            RuleCase {
                name: "1 not a number",
                day_taken: false,
                amount: "abc",
                account: Account::Own,
                right_password: true,
                expected: &[AMOUNT],
            },
            RuleCase {
                name: "2 another user's account",
                day_taken: false,
                amount: "1000",
                account: Account::Foreign,
                right_password: true,
                expected: &[ACCOUNT],
            },
            RuleCase {
                name: "2 an account that does not exist",
                day_taken: false,
                amount: "1000",
                account: Account::Unknown,
                right_password: true,
                expected: &[ACCOUNT],
            },
            RuleCase {
                name: "2 no account given",
                day_taken: false,
                amount: "1000",
                account: Account::Missing,
                right_password: true,
                expected: &[ACCOUNT],
            },
            RuleCase {
                name: "3 second of the day",
                day_taken: true,
                amount: "1000",
                account: Account::Own,
                right_password: true,
                expected: &[ONCE_A_DAY],
            },
            RuleCase {
                name: "4 wrong password",
                day_taken: false,
                amount: "1000",
                account: Account::Own,
                right_password: false,
                expected: &[PASSWORD],
            },
            RuleCase {
                name: "5 more than the balance",
                day_taken: false,
                amount: "50001",
                account: Account::Own,
                right_password: true,
                expected: &[BALANCE],
            },
            RuleCase {
                name: "6 the balance but not the fee",
                day_taken: false,
                amount: "50000",
                account: Account::Own,
                right_password: true,
                expected: &[FEE],
            },
            RuleCase {
                name: "6 one rupiah short",
                day_taken: false,
                amount: "49501",
                account: Account::Own,
                right_password: true,
                expected: &[FEE],
            },
        ],
    )
    .await;
}

#[tokio::test]
async fn every_failing_rule_is_reported_in_rule_order_joined_by_commas() {
    let app = spawn_app_with(|config| config.withdrawal_fee = 500).await;
    run_rule_cases(
        &app,
        &[
            RuleCase {
                name: "the seed's 3+4",
                day_taken: true,
                amount: "1000",
                account: Account::Own,
                right_password: false,
                expected: &[ONCE_A_DAY, PASSWORD],
            },
            RuleCase {
                name: "1+2 invalid amount, foreign account",
                day_taken: false,
                amount: "-5",
                account: Account::Foreign,
                right_password: true,
                expected: &[AMOUNT, ACCOUNT],
            },
            RuleCase {
                name: "1+4",
                day_taken: false,
                amount: "25.000",
                account: Account::Own,
                right_password: false,
                expected: &[AMOUNT, PASSWORD],
            },
            RuleCase {
                name: "1+2+3+4",
                day_taken: true,
                amount: "1e3",
                account: Account::Missing,
                right_password: false,
                expected: &[AMOUNT, ACCOUNT, ONCE_A_DAY, PASSWORD],
            },
            RuleCase {
                name: "2+5",
                day_taken: false,
                amount: "60000",
                account: Account::Foreign,
                right_password: true,
                expected: &[ACCOUNT, BALANCE],
            },
            RuleCase {
                name: "3+5",
                day_taken: true,
                amount: "60000",
                account: Account::Own,
                right_password: true,
                expected: &[ONCE_A_DAY, BALANCE],
            },
            RuleCase {
                name: "4+5",
                day_taken: false,
                amount: "60000",
                account: Account::Own,
                right_password: false,
                expected: &[PASSWORD, BALANCE],
            },
            RuleCase {
                name: "2+3+4+5",
                day_taken: true,
                amount: "60000",
                account: Account::Unknown,
                right_password: false,
                expected: &[ACCOUNT, ONCE_A_DAY, PASSWORD, BALANCE],
            },
            RuleCase {
                name: "2+3+4+6",
                day_taken: true,
                amount: "48500",
                account: Account::Foreign,
                right_password: false,
                expected: &[ACCOUNT, ONCE_A_DAY, PASSWORD, FEE],
            },
            RuleCase {
                name: "2+6",
                day_taken: false,
                amount: "50000",
                account: Account::Foreign,
                right_password: true,
                expected: &[ACCOUNT, FEE],
            },
        ],
    )
    .await;
}

#[tokio::test]
async fn the_balance_rules_wait_for_the_rules_they_depend_on() {
    let app = spawn_app_with(|config| config.withdrawal_fee = 500).await;
    run_rule_cases(
        &app,
        &[
            // Rule 1 failed: no amount to compare with the balance (5 and 6 silent).
            RuleCase {
                name: "an amount too large for i64",
                day_taken: false,
                amount: "99999999999999999999",
                account: Account::Own,
                right_password: true,
                expected: &[AMOUNT],
            },
            RuleCase {
                name: "a zero amount",
                day_taken: false,
                amount: "0",
                account: Account::Own,
                right_password: true,
                expected: &[AMOUNT],
            },
            RuleCase {
                name: "no amount and a foreign account",
                day_taken: false,
                amount: "",
                account: Account::Foreign,
                right_password: true,
                expected: &[AMOUNT, ACCOUNT],
            },
            // Rule 5 failed: rule 6 is not added on top.
            RuleCase {
                name: "far over the balance",
                day_taken: false,
                amount: "9223372036854775807",
                account: Account::Own,
                right_password: true,
                expected: &[BALANCE],
            },
            RuleCase {
                name: "one over the balance",
                day_taken: false,
                amount: "50001",
                account: Account::Own,
                right_password: true,
                expected: &[BALANCE],
            },
        ],
    )
    .await;
}

#[tokio::test]
async fn an_empty_wallet_refuses_any_amount_as_over_the_balance() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(0).await;

    // Act
    let answer = app.withdraw(&user, 1, account, &user.password).await;

    // Assert
    answer.assert(200, &rejected(&[BALANCE]));
    assert_eq!(withdrawal_counts(&app, &user).await, (0, 0));
}

#[tokio::test]
async fn an_amount_plus_fee_beyond_i64_is_refused_as_more_than_the_balance() {
    // Arrange: the largest balance the ledger can hold.
    let app = spawn_app_with(|config| config.withdrawal_fee = 500).await;
    let (user, account) = app.funded_user(i64::MAX).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let answer = app.withdraw(&user, i64::MAX, account, &user.password).await;

    // Assert
    answer.assert(200, &rejected(&[FEE]));
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, i64::MAX);
}

// ---------------------------------------------------------------------------
// Where the parameters come from

#[tokio::test]
async fn every_encoding_a_client_may_use_is_understood() {
    let app = spawn_app().await;
    type Build = fn(&TestApp, &TestUser, i64) -> RequestBuilder;
    let cases: Vec<(&str, Build)> = vec![
        (
            "the seed's curl (form, no content type)",
            |app, user, account| {
                post(app, user, WITHDRAW).body(format!(
                "deposit_withdrawal[amount]=25000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={}",
                user.password
            ))
            },
        ),
        (
            "a form with percent-encoded brackets and a charset",
            |app, user, account| {
                post(app, user, WITHDRAW)
                    .header(
                        "content-type",
                        "application/x-www-form-urlencoded; charset=UTF-8",
                    )
                    .body(form("25000", &account.to_string(), &user.password))
            },
        ),
        ("JSON with string fields", |app, user, account| {
            post(app, user, WITHDRAW).header("content-type", "application/json").body(format!(
                r#"{{"deposit_withdrawal":{{"amount":"25000","bank_account_id":"{account}","password":"{}"}}}}"#,
                user.password
            ))
        }),
        (
            "JSON with integer fields and a charset",
            |app, user, account| {
                post(app, user, WITHDRAW)
                .header("content-type", "application/json; charset=utf-8")
                .body(format!(
                    r#"{{"deposit_withdrawal":{{"amount":25000,"bank_account_id":{account},"password":"{}"}}}}"#,
                    user.password
                ))
            },
        ),
        ("the query string alone", |app, user, account| {
            post(
                app,
                user,
                &format!(
                    "{WITHDRAW}?{}",
                    form("25000", &account.to_string(), &user.password)
                ),
            )
        }),
        (
            "the query string with an empty form body",
            |app, user, account| {
                post(
                    app,
                    user,
                    &format!(
                        "{WITHDRAW}?{}",
                        form("25000", &account.to_string(), &user.password)
                    ),
                )
                .header("content-type", "application/x-www-form-urlencoded")
            },
        ),
    ];

    for (case, build) in cases {
        // Arrange
        let (user, account) = app.funded_user(100_000).await;

        // Act
        let answer = app.send(build(&app, &user, account)).await;

        // Assert
        assert_eq!(answer.json()["status"], "OK", "{case}: {}", answer.body);
        answer.assert(200, &accepted(withdrawal_id(&answer)));
        assert_eq!(app.balance(&user).await, 75_000, "{case}");
        let shown = app.withdrawals(&user, "").await.json()["history"][0].clone();
        assert_eq!(
            (shown["amount"].as_i64(), shown["bank_account_id"].as_i64()),
            (Some(25_000), Some(account)),
            "{case}"
        );
    }
}

#[tokio::test]
async fn a_form_body_wins_over_the_query_field_by_field() {
    // Arrange: the query's amount would fail rule 5; the password is only there.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let query = format!(
        "deposit_withdrawal[amount]=999999&deposit_withdrawal[bank_account_id]=1&deposit_withdrawal[password]={}",
        user.password
    );
    let body =
        format!("deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}");

    // Act
    let answer = app
        .send(
            post(&app, &user, &format!("{WITHDRAW}?{query}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;

    // Assert
    answer.assert(200, &accepted(withdrawal_id(&answer)));
    assert_eq!(app.balance(&user).await, 99_000);
}

#[tokio::test]
async fn a_json_body_wins_over_the_query_field_by_field() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let query = format!(
        "deposit_withdrawal[amount]=5&deposit_withdrawal[password]={}",
        user.password
    );
    let body = format!(r#"{{"deposit_withdrawal":{{"amount":2000,"bank_account_id":{account}}}}}"#);

    // Act
    let answer = app
        .send(
            post(&app, &user, &format!("{WITHDRAW}?{query}"))
                .header("content-type", "application/json")
                .body(body),
        )
        .await;

    // Assert
    answer.assert(200, &accepted(withdrawal_id(&answer)));
    assert_eq!(app.balance(&user).await, 98_000);
}

#[tokio::test]
async fn a_wrong_password_in_the_body_is_not_rescued_by_the_right_one_in_the_query() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let answer = app
        .send(
            post(
                &app,
                &user,
                &format!("{WITHDRAW}?deposit_withdrawal[password]={}", user.password),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form("1000", &account.to_string(), "wrong-password")),
        )
        .await;

    // Assert
    answer.assert(200, &rejected(&[PASSWORD]));
    assert_eq!(app.ledger_fingerprint().await, before);
}

// ---------------------------------------------------------------------------
// Bad input: always a clear JSON answer, never a 500, never money moved

#[tokio::test]
async fn malformed_amounts_are_refused_as_invalid_and_move_no_money() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let form_amounts = [
        "",
        "abc",
        "-5",
        "-0",
        "0",
        "000",
        "25000.5",
        "25000.0",
        "25.000",
        "25,000",
        "1e3",
        "+5",
        " 25000",
        "25000 ",
        "2 5000",
        "0x10",
        "99999999999999999999",
        "9223372036854775808",
        "٢٥٠٠٠",
        "２５０００",
        "25000\0",
        "NaN",
        "Infinity",
    ];
    let json_amounts = [
        "25000.0",
        "2.5e4",
        "1e3",
        "-5",
        "0",
        "99999999999999999999",
        "\"25000.5\"",
        "\" 25000\"",
        "\"+5\"",
        "\"\"",
        "-9223372036854775808",
        "9223372036854775808",
        "18446744073709551615",
        "25000e0",
    ];

    for amount in form_amounts {
        // Act
        let answer = app
            .withdraw_form(&user, &form(amount, &account.to_string(), &user.password))
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(&[AMOUNT]).as_str()),
            "form amount {amount:?}"
        );
    }
    for amount in json_amounts {
        // Act
        let answer = post_json(
            &app,
            &user,
            &format!(
                r#"{{"deposit_withdrawal":{{"amount":{amount},"bank_account_id":{account},"password":"{}"}}}}"#,
                user.password
            ),
        )
        .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(&[AMOUNT]).as_str()),
            "JSON amount {amount}"
        );
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
    // The same user can still withdraw: nothing above took the day.
    let answer = app.withdraw(&user, 25_000, account, &user.password).await;
    answer.assert(200, &accepted(withdrawal_id(&answer)));
}

#[tokio::test]
async fn malformed_bank_account_ids_are_refused_as_not_the_users_own() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let ids = [
        String::new(),
        "abc".into(),
        "-1".into(),
        "0".into(),
        format!("{account}.0"),
        format!(" {account}"),
        format!("{account}abc"),
        format!("+{account}"),
        "99999999999999999999".into(),
        "1 OR 1=1".into(),
    ];

    for id in &ids {
        // Act
        let answer = app
            .withdraw_form(&user, &form("1000", id, &user.password))
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(&[ACCOUNT]).as_str()),
            "bank account id {id:?}"
        );
    }
    for id in ["1.5", "-1", "true"] {
        let answer = post_json(
            &app,
            &user,
            &format!(
                r#"{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":{id},"password":"{}"}}}}"#,
                user.password
            ),
        )
        .await;
        if id == "true" {
            answer.assert(400, BAD_REQUEST);
        } else {
            answer.assert(200, &rejected(&[ACCOUNT]));
        }
    }
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn missing_fields_are_reported_by_the_rules_they_fail() {
    let app = spawn_app().await;
    /// A form body from the user's own account id and password.
    type Body = fn(i64, &str) -> String;
    let cases: [(&str, Body, &[&str]); 7] = [
        (
            "no amount",
            |account, password| {
                format!("deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={password}")
            },
            &[AMOUNT],
        ),
        (
            "no bank account",
            |_, password| {
                format!("deposit_withdrawal[amount]=1000&deposit_withdrawal[password]={password}")
            },
            &[ACCOUNT],
        ),
        (
            "no password",
            |account, _| {
                format!(
                    "deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}"
                )
            },
            &[PASSWORD],
        ),
        (
            "an empty password",
            |account, _| {
                format!("deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]=")
            },
            &[PASSWORD],
        ),
        (
            "an empty body",
            |_, _| String::new(),
            &[AMOUNT, ACCOUNT, PASSWORD],
        ),
        (
            "only unknown fields",
            |_, _| "amount=1000&password=x&deposit_withdrawal=1".into(),
            &[AMOUNT, ACCOUNT, PASSWORD],
        ),
        (
            "fields without the deposit_withdrawal prefix",
            |account, password| {
                format!("amount=1000&bank_account_id={account}&password={password}")
            },
            &[AMOUNT, ACCOUNT, PASSWORD],
        ),
    ];

    for (case, body, expected) in cases {
        // Arrange: a fresh user each, so missing passwords never add up to a lockout.
        let (user, account) = app.funded_user(100_000).await;
        let before = app.ledger_fingerprint().await;

        // Act
        let answer = app
            .withdraw_form(&user, &body(account, &user.password))
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(expected).as_str()),
            "{case}"
        );
        assert_eq!(app.ledger_fingerprint().await, before, "{case}");
    }
    // JSON: an empty object and a null deposit_withdrawal carry no fields either.
    for json in [
        "{}",
        r#"{"deposit_withdrawal":null}"#,
        r#"{"deposit_withdrawal":{}}"#,
    ] {
        let (user, _) = app.funded_user(100_000).await;
        post_json(&app, &user, json)
            .await
            .assert(200, &rejected(&[AMOUNT, ACCOUNT, PASSWORD]));
    }
}

#[tokio::test]
async fn unparseable_or_wrongly_shaped_bodies_are_a_400_and_move_no_money() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let password = &user.password;
    let before = app.ledger_fingerprint().await;
    let json = |body: String| ("application/json", body.into_bytes());
    let cases: Vec<(&str, (&str, Vec<u8>))> = vec![
        ("truncated JSON", json(r#"{"deposit_withdrawal":{"amount":"1000""#.into())),
        ("not JSON at all", json(format!("deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={password}"))),
        ("an array body", json(format!(r#"[{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":"{account}","password":"{password}"}}}}]"#))),
        ("a string body", json(r#""deposit_withdrawal""#.into())),
        ("a number body", json("25000".into())),
        ("deposit_withdrawal as an array", json(format!(r#"{{"deposit_withdrawal":["1000","{account}","{password}"]}}"#))),
        ("deposit_withdrawal as a string", json(r#"{"deposit_withdrawal":"amount=1000"}"#.into())),
        ("a boolean amount", json(format!(r#"{{"deposit_withdrawal":{{"amount":true,"bank_account_id":"{account}","password":"{password}"}}}}"#))),
        ("an object password", json(format!(r#"{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":"{account}","password":{{"$ne":""}}}}}}"#))),
        ("an array bank account", json(format!(r#"{{"deposit_withdrawal":{{"amount":"1000","bank_account_id":[{account}],"password":"{password}"}}}}"#))),
        ("non-UTF-8 inside a JSON string", ("application/json", [&br#"{"deposit_withdrawal":{"amount":"1000","password":""#[..], b"\xff\xfe", br#""}}"#].concat())),
        ("plain text", ("text/plain", form("1000", &account.to_string(), password).into_bytes())),
        ("XML", ("application/xml", b"<deposit_withdrawal><amount>1000</amount></deposit_withdrawal>".to_vec())),
    ];

    for (case, (content_type, body)) in cases {
        // Act
        let answer = app
            .send(
                post(&app, &user, WITHDRAW)
                    .header("content-type", content_type)
                    .body(body),
            )
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (400, BAD_REQUEST),
            "{case}"
        );
        assert_eq!(answer.headers["content-type"], "application/json", "{case}");
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
}

#[tokio::test]
async fn non_utf8_bytes_in_a_form_body_are_refused_by_the_rules_not_with_a_server_error() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let field = |name: &str, value: &[u8]| {
        [format!("deposit_withdrawal[{name}]=").as_bytes(), value].concat()
    };
    let amount = field("amount", b"1000");
    let bank = field("bank_account_id", account.to_string().as_bytes());
    let password = field("password", user.password.as_bytes());
    let join = |parts: [Vec<u8>; 3]| parts.join(&b'&');
    let cases: [(&str, Vec<u8>, &[&str]); 4] = [
        (
            "raw bytes in the amount",
            join([field("amount", b"10\xff00"), bank.clone(), password.clone()]),
            &[AMOUNT],
        ),
        (
            "percent-encoded bytes in the amount",
            join([field("amount", b"%FF%FE"), bank.clone(), password.clone()]),
            &[AMOUNT],
        ),
        (
            "raw bytes in the bank account",
            join([
                amount.clone(),
                field("bank_account_id", b"\xc3\x28"),
                password.clone(),
            ]),
            &[ACCOUNT],
        ),
        (
            "raw bytes in the password",
            join([
                amount.clone(),
                bank.clone(),
                field("password", b"rahasia-123\xff"),
            ]),
            &[PASSWORD],
        ),
    ];

    for (case, body, expected) in cases {
        // Act
        let answer = app
            .send(
                post(&app, &user, WITHDRAW)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body),
            )
            .await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, rejected(expected).as_str()),
            "{case}"
        );
    }
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn sql_in_every_field_is_only_invalid_input() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let amount = "1000; update deposits set balance = 999999999; --";
    let bank = "1 OR 1=1; drop table withdrawals; --";
    let password = "' OR '1'='1' --";

    // Act
    let as_form = app
        .withdraw_form(&user, &form(amount, bank, password))
        .await;
    let as_json = post_json(
        &app,
        &user,
        &serde_json::json!({"deposit_withdrawal": {"amount": amount, "bank_account_id": bank, "password": password}})
            .to_string(),
    )
    .await;
    let as_query = app
        .send(post(
            &app,
            &user,
            &format!("{WITHDRAW}?{}", form(amount, bank, password)),
        ))
        .await;

    // Assert
    for answer in [as_form, as_json, as_query] {
        answer.assert(200, &rejected(&[AMOUNT, ACCOUNT, PASSWORD]));
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    app.assert_ledger_ok().await;
    // The tables are intact and the right password still works after 3 failures.
    let answer = app.withdraw(&user, 1000, account, &user.password).await;
    answer.assert(200, &accepted(withdrawal_id(&answer)));
}

#[tokio::test]
async fn sql_in_the_idempotency_key_is_just_a_key() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let key = "k';drop/**/table/**/withdraw_idempotency;--";

    // Act
    let first = withdraw_with_key(&app, &user, key, 1000, account).await;
    let again = withdraw_with_key(&app, &user, key, 1000, account).await;

    // Assert
    first.assert(200, &accepted(withdrawal_id(&first)));
    again.assert(200, &first.body);
    assert_eq!(withdrawal_counts(&app, &user).await, (1, 1));
}

#[tokio::test]
async fn a_very_long_unicode_password_is_only_a_wrong_password() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let long = "密".repeat(2000);

    // Act
    let answer = post_json(
        &app,
        &user,
        &serde_json::json!({"deposit_withdrawal": {"amount": "1000", "bank_account_id": account, "password": long}})
            .to_string(),
    )
    .await;
    let ascii = app
        .withdraw(&user, 1000, account, &"x".repeat(15_000))
        .await;

    // Assert
    answer.assert(200, &rejected(&[PASSWORD]));
    ascii.assert(200, &rejected(&[PASSWORD]));
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn an_oversized_body_is_a_413_and_moves_no_money() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let before = app.ledger_fingerprint().await;
    let padding = "密".repeat(6000);
    let json = serde_json::json!({"deposit_withdrawal": {"amount": "1000", "bank_account_id": account, "password": user.password}, "padding": padding})
        .to_string();
    assert!(json.len() > 16 * 1024);

    // Act
    let as_json = post_json(&app, &user, &json).await;
    let as_form = app
        .withdraw_form(
            &user,
            &format!(
                "{}&pad={}",
                form("1000", &account.to_string(), &user.password),
                "x".repeat(16 * 1024)
            ),
        )
        .await;

    // Assert
    as_json.assert(413, TOO_LARGE);
    as_form.assert(413, TOO_LARGE);
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
}

// ---------------------------------------------------------------------------
// Idempotency-Key

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_success_without_a_second_withdrawal() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = withdraw_with_key(&app, &user, "retry-1", 25_000, account).await;
    first.assert(200, &accepted(withdrawal_id(&first)));

    // Act
    let retries = [
        withdraw_with_key(&app, &user, "retry-1", 25_000, account).await,
        withdraw_with_key(&app, &user, "retry-1", 25_000, account).await,
    ];

    // Assert
    for retry in retries {
        assert_eq!(
            (retry.status, retry.body.as_str()),
            (first.status, first.body.as_str())
        );
    }
    assert_eq!(withdrawal_counts(&app, &user).await, (1, 1));
    assert_eq!(app.balance(&user).await, 75_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_replay_is_the_first_answer_even_after_the_withdrawal_was_cancelled() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = withdraw_with_key(&app, &user, "cancel-me", 25_000, account).await;
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(withdrawal_id(&first)))
        .await
        .unwrap();
    let before = app.ledger_fingerprint().await;

    // Act: the day is free again, but the key has been answered.
    let retry = withdraw_with_key(&app, &user, "cancel-me", 25_000, account).await;

    // Assert
    retry.assert(200, &first.body);
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
    assert_eq!(withdrawal_counts(&app, &user).await, (1, 1));
}

#[tokio::test]
async fn a_rejection_is_replayed_even_when_the_request_would_now_pass() {
    // Arrange: too little money at first.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(10_000).await;
    let first = withdraw_with_key(&app, &user, "too-early", 25_000, account).await;
    first.assert(200, &rejected(&[BALANCE]));
    app.credit(&user, 50_000).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let retry = withdraw_with_key(&app, &user, "too-early", 25_000, account).await;
    let fresh = withdraw_with_key(&app, &user, "second-try", 25_000, account).await;

    // Assert
    retry.assert(200, &first.body);
    assert_eq!(
        withdrawal_counts(&app, &user).await,
        (1, 1),
        "only the fresh key acted"
    );
    fresh.assert(200, &accepted(withdrawal_id(&fresh)));
    assert_eq!(app.ledger_fingerprint().await.0, before.0 + 1);
    assert_eq!(app.balance(&user).await, 35_000);
}

#[tokio::test]
async fn the_same_key_with_other_parameters_is_a_422_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let second_account = app.add_bank_account(&user).await;
    let first = withdraw_with_key(&app, &user, "k-1", 25_000, account).await;
    first.assert(200, &accepted(withdrawal_id(&first)));
    let rejected_first = withdraw_with_key(&app, &user, "k-2", 999_999, account).await;
    rejected_first.assert(200, &rejected(&[ONCE_A_DAY, BALANCE]));
    let before = app.ledger_fingerprint().await;

    // Act
    let other_amount = withdraw_with_key(&app, &user, "k-1", 30_000, account).await;
    let other_account = withdraw_with_key(&app, &user, "k-1", 25_000, second_account).await;
    let after_a_rejection = withdraw_with_key(&app, &user, "k-2", 1000, account).await;

    // Assert
    other_amount.assert(422, KEY_REUSED);
    other_account.assert(422, KEY_REUSED);
    after_a_rejection.assert(422, KEY_REUSED);
    assert_eq!(app.ledger_fingerprint().await, before);
    // The key still replays its first answer for its own parameters.
    withdraw_with_key(&app, &user, "k-1", 25_000, account)
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
            post(&app, &user, WITHDRAW)
                .header("idempotency-key", "typo")
                .body(form("1000", &account.to_string(), "rahasia-12")),
        )
        .await;
    typo.assert(200, &rejected(&[PASSWORD]));
    let before = app.ledger_fingerprint().await;

    // Act: the same key, the right password (another parameter value).
    let retry = withdraw_with_key(&app, &user, "typo", 1000, account).await;

    // Assert: SPEC §1 — the same key with other parameters is a 422.
    retry.assert(422, KEY_REUSED);
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn idempotency_keys_belong_to_one_user() {
    // Arrange
    let app = spawn_app().await;
    let (alice, alice_account) = app.funded_user(100_000).await;
    let (bob, bob_account) = app.funded_user(100_000).await;
    let alices = withdraw_with_key(&app, &alice, "shared-key", 10_000, alice_account).await;

    // Act: other parameters under the same key, but another user.
    let bobs = withdraw_with_key(&app, &bob, "shared-key", 30_000, bob_account).await;

    // Assert
    bobs.assert(200, &accepted(withdrawal_id(&bobs)));
    assert_ne!(withdrawal_id(&bobs), withdrawal_id(&alices));
    assert_eq!(app.balance(&bob).await, 70_000);
    assert_eq!(app.balance(&alice).await, 90_000);
    withdraw_with_key(&app, &alice, "shared-key", 10_000, alice_account)
        .await
        .assert(200, &alices.body);
    withdraw_with_key(&app, &bob, "shared-key", 30_000, bob_account)
        .await
        .assert(200, &bobs.body);
}

#[tokio::test]
async fn without_a_key_a_repeated_request_is_a_new_request() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = app.withdraw(&user, 10_000, account, &user.password).await;
    first.assert(200, &accepted(withdrawal_id(&first)));

    // Act
    let again = app.withdraw(&user, 10_000, account, &user.password).await;

    // Assert
    again.assert(200, &rejected(&[ONCE_A_DAY]));
    assert_eq!(withdrawal_counts(&app, &user).await, (1, 1));
}

// ---------------------------------------------------------------------------
// Password lockout

async fn wrong_password(app: &TestApp, user: &TestUser, account: i64) -> Answer {
    app.withdraw(user, 1000, account, "not-my-password").await
}

async fn lock_out(app: &TestApp, user: &TestUser, account: i64) {
    for attempt in 1..=5 {
        let answer = wrong_password(app, user, account).await;
        assert_eq!(
            answer.body,
            rejected(&[PASSWORD]),
            "wrong password #{attempt}"
        );
    }
}

#[tokio::test]
async fn five_wrong_passwords_lock_out_even_the_right_password() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    lock_out(&app, &user, account).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let right = app.withdraw(&user, 1000, account, &user.password).await;
    let wrong_everything = app
        .withdraw_form(&user, &form("abc", "0", "still-wrong"))
        .await;
    let via_json = post_json(
        &app,
        &user,
        &format!(r#"{{"deposit_withdrawal":{{"amount":1000,"bank_account_id":{account},"password":"{}"}}}}"#, user.password),
    )
    .await;

    // Assert
    right.assert(200, LOCKED);
    wrong_everything.assert(200, LOCKED);
    via_json.assert(200, LOCKED);
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, 100_000);
}

#[tokio::test]
async fn the_lockout_lasts_thirty_minutes_and_refusals_during_it_are_not_counted() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    lock_out(&app, &user, account).await;
    let lock_state = || async {
        sqlx::query_as::<_, (chrono::DateTime<chrono::Utc>, i64)>(
            "select locked_until, (select count(*) from password_failures where user_id = $1)
             from password_lockouts where user_id = $1",
        )
        .bind(user.id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let locked = lock_state().await;
    for _ in 0..5 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, LOCKED);
    }
    assert_eq!(
        lock_state().await,
        locked,
        "refusals neither extend the lock nor count as failures"
    );
    assert_eq!(locked.1, 0, "the lock starts the count afresh");
    let (lasts_29, lasts_31): (bool, bool) = sqlx::query_as(
        "select locked_until > now() + interval '29 minutes', locked_until > now() + interval '31 minutes'
         from password_lockouts where user_id = $1",
    )
    .bind(user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (lasts_29, lasts_31),
        (true, false),
        "the lock should last 30 minutes"
    );

    // Act: thirty minutes pass.
    sqlx::query("update password_lockouts set locked_until = now() - interval '1 second' where user_id = $1")
        .bind(user.id)
        .execute(&app.pool)
        .await
        .unwrap();

    // Assert: four fresh guesses are answered normally, then the right password works.
    for _ in 0..4 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[PASSWORD]));
    }
    let right = app.withdraw(&user, 1000, account, &user.password).await;
    right.assert(200, &accepted(withdrawal_id(&right)));
}

#[tokio::test]
async fn a_right_password_resets_the_count_of_wrong_ones() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    for _ in 0..4 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[PASSWORD]));
    }
    // Right password, refused by another rule: the count starts over.
    app.withdraw(&user, 200_000, account, &user.password)
        .await
        .assert(200, &rejected(&[BALANCE]));

    // Act
    for _ in 0..4 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[PASSWORD]));
    }
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, &accepted(withdrawal_id(&right)));
}

/// Dates the user's failures of the last minute `minutes` minutes back.
async fn age_recent_failures(app: &TestApp, user: &TestUser, minutes: i32) {
    sqlx::query(
        "update password_failures set failed_at = now() - make_interval(mins => $2)
         where user_id = $1 and failed_at > now() - interval '1 minute'",
    )
    .bind(user.id)
    .bind(minutes)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// One wrong password 31 minutes ago and three 20 minutes ago.
async fn fail_31_and_20_minutes_ago(app: &TestApp, user: &TestUser, account: i64) {
    wrong_password(app, user, account)
        .await
        .assert(200, &rejected(&[PASSWORD]));
    age_recent_failures(app, user, 31).await;
    for _ in 0..3 {
        wrong_password(app, user, account)
            .await
            .assert(200, &rejected(&[PASSWORD]));
    }
    age_recent_failures(app, user, 20).await;
}

#[tokio::test]
async fn wrong_passwords_older_than_thirty_minutes_are_forgotten() {
    // Arrange: of five failures, only four are within the last 30 minutes.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    fail_31_and_20_minutes_ago(&app, &user, account).await;
    wrong_password(&app, &user, account)
        .await
        .assert(200, &rejected(&[PASSWORD]));

    // Act
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, &accepted(withdrawal_id(&right)));
}

#[tokio::test]
async fn five_wrong_passwords_within_any_thirty_minutes_lock_whenever_the_first_was() {
    // Arrange: three failures 20 minutes ago and two now are five within 30
    // minutes, although the first failure of the series is older.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    fail_31_and_20_minutes_ago(&app, &user, account).await;
    for _ in 0..2 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[PASSWORD]));
    }

    // Act
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, LOCKED);
}

#[tokio::test]
async fn a_locked_out_user_gets_no_replay_either() {
    // Arrange: an accepted withdrawal under a key, then a lockout.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = withdraw_with_key(&app, &user, "before-the-lock", 1000, account).await;
    first.assert(200, &accepted(withdrawal_id(&first)));
    for _ in 0..5 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[ONCE_A_DAY, PASSWORD]));
    }

    // Act
    let retry = withdraw_with_key(&app, &user, "before-the-lock", 1000, account).await;

    // Assert
    retry.assert(200, LOCKED);
    assert_eq!(withdrawal_counts(&app, &user).await, (1, 1));
}

#[tokio::test]
async fn replays_with_a_wrong_password_count_toward_the_lockout() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let keyed_wrong_password = || {
        app.send(
            post(&app, &user, WITHDRAW)
                .header("idempotency-key", "guessing")
                .body(form("1000", &account.to_string(), "not-my-password")),
        )
    };

    // Act: one fresh answer and four replays of it.
    for _ in 0..5 {
        keyed_wrong_password()
            .await
            .assert(200, &rejected(&[PASSWORD]));
    }
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, LOCKED);
}

#[tokio::test]
async fn missing_passwords_count_toward_the_lockout() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    for _ in 0..5 {
        app.withdraw_form(
            &user,
            &format!(
                "deposit_withdrawal[amount]=1000&deposit_withdrawal[bank_account_id]={account}"
            ),
        )
        .await
        .assert(200, &rejected(&[PASSWORD]));
    }

    // Act
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, LOCKED);
}

#[tokio::test]
async fn a_lockout_holds_only_for_its_own_user() {
    // Arrange
    let app = spawn_app().await;
    let (locked, locked_account) = app.funded_user(100_000).await;
    let (other, other_account) = app.funded_user(100_000).await;
    lock_out(&app, &locked, locked_account).await;

    // Act
    let answer = app
        .withdraw(&other, 1000, other_account, &other.password)
        .await;

    // Assert
    answer.assert(200, &accepted(withdrawal_id(&answer)));
    app.withdraw(&locked, 1000, locked_account, &locked.password)
        .await
        .assert(200, LOCKED);
}
