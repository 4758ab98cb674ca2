//! The seed's six withdraw rules: each failing rule's message, alone and
//! together in rule order, starting with the seed's own example.

use crate::helpers::{
    rejected, spawn_app, spawn_app_with, TestApp, RULE_ACCOUNT, RULE_AMOUNT, RULE_BALANCE,
    RULE_FEE, RULE_ONCE_A_DAY, RULE_PASSWORD,
};

#[tokio::test]
async fn the_seed_withdraw_example_and_its_failures_answer_exactly_like_the_seed() {
    // Arrange: the seed's user with enough money for two seed-sized requests.
    let app = spawn_app().await;
    let (user, account) = app.seed_demo_user().await;
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
                expected: &[RULE_AMOUNT],
            },
            RuleCase {
                name: "2 another user's account",
                day_taken: false,
                amount: "1000",
                account: Account::Foreign,
                right_password: true,
                expected: &[RULE_ACCOUNT],
            },
            RuleCase {
                name: "2 an account that does not exist",
                day_taken: false,
                amount: "1000",
                account: Account::Unknown,
                right_password: true,
                expected: &[RULE_ACCOUNT],
            },
            RuleCase {
                name: "2 no account given",
                day_taken: false,
                amount: "1000",
                account: Account::Missing,
                right_password: true,
                expected: &[RULE_ACCOUNT],
            },
            RuleCase {
                name: "3 second of the day",
                day_taken: true,
                amount: "1000",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_ONCE_A_DAY],
            },
            RuleCase {
                name: "4 wrong password",
                day_taken: false,
                amount: "1000",
                account: Account::Own,
                right_password: false,
                expected: &[RULE_PASSWORD],
            },
            RuleCase {
                name: "5 more than the balance",
                day_taken: false,
                amount: "50001",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_BALANCE],
            },
            RuleCase {
                name: "6 the balance but not the fee",
                day_taken: false,
                amount: "50000",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_FEE],
            },
            RuleCase {
                name: "6 one rupiah short",
                day_taken: false,
                amount: "49501",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_FEE],
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
                expected: &[RULE_ONCE_A_DAY, RULE_PASSWORD],
            },
            RuleCase {
                name: "1+2 invalid amount, foreign account",
                day_taken: false,
                amount: "-5",
                account: Account::Foreign,
                right_password: true,
                expected: &[RULE_AMOUNT, RULE_ACCOUNT],
            },
            RuleCase {
                name: "1+4",
                day_taken: false,
                amount: "25.000",
                account: Account::Own,
                right_password: false,
                expected: &[RULE_AMOUNT, RULE_PASSWORD],
            },
            RuleCase {
                name: "1+2+3+4",
                day_taken: true,
                amount: "1e3",
                account: Account::Missing,
                right_password: false,
                expected: &[RULE_AMOUNT, RULE_ACCOUNT, RULE_ONCE_A_DAY, RULE_PASSWORD],
            },
            RuleCase {
                name: "2+5",
                day_taken: false,
                amount: "60000",
                account: Account::Foreign,
                right_password: true,
                expected: &[RULE_ACCOUNT, RULE_BALANCE],
            },
            RuleCase {
                name: "3+5",
                day_taken: true,
                amount: "60000",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_ONCE_A_DAY, RULE_BALANCE],
            },
            RuleCase {
                name: "4+5",
                day_taken: false,
                amount: "60000",
                account: Account::Own,
                right_password: false,
                expected: &[RULE_PASSWORD, RULE_BALANCE],
            },
            RuleCase {
                name: "2+3+4+5",
                day_taken: true,
                amount: "60000",
                account: Account::Unknown,
                right_password: false,
                expected: &[RULE_ACCOUNT, RULE_ONCE_A_DAY, RULE_PASSWORD, RULE_BALANCE],
            },
            RuleCase {
                name: "2+3+4+6",
                day_taken: true,
                amount: "48500",
                account: Account::Foreign,
                right_password: false,
                expected: &[RULE_ACCOUNT, RULE_ONCE_A_DAY, RULE_PASSWORD, RULE_FEE],
            },
            RuleCase {
                name: "2+6",
                day_taken: false,
                amount: "50000",
                account: Account::Foreign,
                right_password: true,
                expected: &[RULE_ACCOUNT, RULE_FEE],
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
                expected: &[RULE_AMOUNT],
            },
            RuleCase {
                name: "a zero amount",
                day_taken: false,
                amount: "0",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_AMOUNT],
            },
            RuleCase {
                name: "no amount and a foreign account",
                day_taken: false,
                amount: "",
                account: Account::Foreign,
                right_password: true,
                expected: &[RULE_AMOUNT, RULE_ACCOUNT],
            },
            // Rule 5 failed: rule 6 is not added on top.
            RuleCase {
                name: "far over the balance",
                day_taken: false,
                amount: "9223372036854775807",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_BALANCE],
            },
            RuleCase {
                name: "one over the balance",
                day_taken: false,
                amount: "50001",
                account: Account::Own,
                right_password: true,
                expected: &[RULE_BALANCE],
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
    answer.assert(200, &rejected(&[RULE_BALANCE]));
    assert_eq!(app.withdrawal_counts(&user).await, (0, 0));
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
    answer.assert(200, &rejected(&[RULE_FEE]));
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(app.balance(&user).await, i64::MAX);
}
