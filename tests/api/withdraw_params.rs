//! Where the withdraw parameters come from: form, JSON or the query string,
//! with the body winning field by field.

use reqwest::RequestBuilder;

use crate::helpers::{accepted, form, rejected, spawn_app, TestApp, TestUser, RULE_PASSWORD};

#[tokio::test]
async fn every_encoding_a_client_may_use_is_understood() {
    let app = spawn_app().await;
    type Build = fn(&TestApp, &TestUser, i64) -> RequestBuilder;
    let cases: Vec<(&str, Build)> = vec![
        (
            "the seed's curl (form, no content type)",
            |app, user, account| {
                app.withdraw_request(user, "").body(format!(
                "deposit_withdrawal[amount]=25000&deposit_withdrawal[bank_account_id]={account}&deposit_withdrawal[password]={}",
                user.password
            ))
            },
        ),
        (
            "a form with percent-encoded brackets and a charset",
            |app, user, account| {
                app.withdraw_request(user, "")
                    .header(
                        "content-type",
                        "application/x-www-form-urlencoded; charset=UTF-8",
                    )
                    .body(form("25000", &account.to_string(), &user.password))
            },
        ),
        ("JSON with string fields", |app, user, account| {
            app.withdraw_request(user, "").header("content-type", "application/json").body(format!(
                r#"{{"deposit_withdrawal":{{"amount":"25000","bank_account_id":"{account}","password":"{}"}}}}"#,
                user.password
            ))
        }),
        (
            "JSON with integer fields and a charset",
            |app, user, account| {
                app.withdraw_request(user, "")
                .header("content-type", "application/json; charset=utf-8")
                .body(format!(
                    r#"{{"deposit_withdrawal":{{"amount":25000,"bank_account_id":{account},"password":"{}"}}}}"#,
                    user.password
                ))
            },
        ),
        ("the query string alone", |app, user, account| {
            app.withdraw_request(
                user,
                &format!("?{}", form("25000", &account.to_string(), &user.password)),
            )
        }),
        (
            "the query string with an empty form body",
            |app, user, account| {
                app.withdraw_request(
                    user,
                    &format!("?{}", form("25000", &account.to_string(), &user.password)),
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
        answer.assert(200, &accepted(answer.withdrawal_id()));
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
            app.withdraw_request(&user, &format!("?{query}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;

    // Assert
    answer.assert(200, &accepted(answer.withdrawal_id()));
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
            app.withdraw_request(&user, &format!("?{query}"))
                .header("content-type", "application/json")
                .body(body),
        )
        .await;

    // Assert
    answer.assert(200, &accepted(answer.withdrawal_id()));
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
            app.withdraw_request(
                &user,
                &format!("?deposit_withdrawal[password]={}", user.password),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form("1000", &account.to_string(), "wrong-password")),
        )
        .await;

    // Assert
    answer.assert(200, &rejected(&[RULE_PASSWORD]));
    assert_eq!(app.ledger_fingerprint().await, before);
}
