//! Every text a client or operator sends is checked before it can reach
//! PostgreSQL: a NUL byte, a control character in a one-line field or an
//! over-long value is a 400 that writes nothing, never a 500.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// The `error.code` and status of an operator answer.
fn code_of(answer: &Answer) -> (u16, String) {
    (
        answer.status.as_u16(),
        answer.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an operator error: {answer:?}"))
            .to_owned(),
    )
}

async fn rows(app: &TestApp) -> (i64, i64, (i64, i64, i64, i64)) {
    let (users, accounts): (i64, i64) =
        sqlx::query_as("select (select count(*) from users), (select count(*) from bank_accounts)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    (users, accounts, app.ledger_fingerprint().await)
}

fn user_with(field: &str, value: &str) -> Value {
    let mut body = json!({"username":"siti","email":"siti@example.com","password":USER_PASSWORD});
    body[field] = json!(value);
    body
}

fn account_with(field: &str, value: &str) -> Value {
    let mut body = json!({"bank_name":"BCA","account_number":"0123456789","account_name":"Siti"});
    body[field] = json!(value);
    body
}

#[tokio::test]
async fn nul_bytes_control_characters_and_long_text_are_400_on_the_operator_api() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let before = rows(&app).await;
    let accounts = format!("/users/{}/bank_accounts", user.id);
    let posting =
        |key: &str| json!({"user_id":user.id,"action":"topup","amount":100,"idempotency_key":key});
    let cases: Vec<(&str, &str, Value)> = vec![
        ("NUL in username", "/users", user_with("username", "si\0ti")),
        (
            "NUL in email",
            "/users",
            user_with("email", "siti\0@example.com"),
        ),
        (
            "NUL in password",
            "/users",
            user_with("password", "rahasia\u{0}123"),
        ),
        (
            "line break in username",
            "/users",
            user_with("username", "siti\nadmin"),
        ),
        (
            "escape in email",
            "/users",
            user_with("email", "\u{1b}[2Jsiti@example.com"),
        ),
        (
            "username of 101",
            "/users",
            user_with("username", &"s".repeat(101)),
        ),
        (
            "email of 255",
            "/users",
            user_with("email", &format!("{}@x.id", "e".repeat(250))),
        ),
        (
            "password of 1025",
            "/users",
            user_with("password", &"p".repeat(1025)),
        ),
        (
            "NUL in bank_name",
            &accounts,
            account_with("bank_name", "B\0CA"),
        ),
        (
            "NUL in account_number",
            &accounts,
            account_with("account_number", "0123\0"),
        ),
        (
            "NUL in account_name",
            &accounts,
            account_with("account_name", "\0"),
        ),
        (
            "tab in account_name",
            &accounts,
            account_with("account_name", "Siti\tRahma"),
        ),
        (
            "account_name of 201",
            &accounts,
            account_with("account_name", &"n".repeat(201)),
        ),
        ("NUL in idempotency_key", "/mutations", posting("key\0")),
        (
            "line break in idempotency_key",
            "/mutations",
            posting("key\r\n"),
        ),
        ("blank idempotency_key", "/mutations", posting("   ")),
        (
            "idempotency_key of 256",
            "/mutations",
            posting(&"k".repeat(256)),
        ),
    ];

    for (why, path, body) in cases {
        // Act
        let answer = app.admin(Method::POST, path, Some(body)).await;

        // Assert
        assert_eq!(
            code_of(&answer),
            (400, "invalid_request".to_owned()),
            "{why}: {answer:?}"
        );
    }
    assert_eq!(rows(&app).await, before, "nothing was written");
}

#[tokio::test]
async fn text_at_its_limits_is_accepted_by_the_operator_api() {
    let app = spawn_app().await;

    let created = app
        .admin(
            Method::POST,
            "/users",
            Some(json!({
                "username": "ś".repeat(100),
                "email": format!("{}@x.id", "e".repeat(249)),
                "password": "p".repeat(1024),
            })),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{created:?}");
    let id = created.json()["id"].as_i64().unwrap();
    let account = app
        .admin(
            Method::POST,
            &format!("/users/{id}/bank_accounts"),
            Some(json!({"bank_name":"B".repeat(200),"account_number":"0".repeat(200),"account_name":"ń".repeat(200)})),
        )
        .await;
    assert_eq!(account.status.as_u16(), 201, "{account:?}");
    let posted = app
        .admin_post_mutation(
            json!({"user_id":id,"action":"topup","amount":100,"idempotency_key":"ü".repeat(255)}),
        )
        .await;
    assert_eq!(posted.status.as_u16(), 201, "{posted:?}");
}

#[tokio::test]
async fn nul_bytes_in_public_withdraw_fields_get_rule_answers_not_500() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let account = account.to_string();
    let before = app.ledger_fingerprint().await;
    let cases = [
        ("25\u{0}000", account.as_str(), USER_PASSWORD),
        ("25000", "\u{0}", USER_PASSWORD),
        ("\u{0}", "\u{0}", "\u{0}"),
    ];

    for (amount, bank_account_id, password) in cases {
        // Act: as a form and as JSON
        let by_form = app
            .withdraw_form(&user, &form(amount, bank_account_id, password))
            .await;
        let by_json = app
            .withdraw_json(
                &user,
                &json!({"deposit_withdrawal":{"amount":amount,"bank_account_id":bank_account_id,"password":password}})
                    .to_string(),
            )
            .await;

        // Assert: the rules judge them (rule answers are 200 ERROR)
        for answer in [by_form, by_json] {
            assert_eq!(answer.status.as_u16(), 200, "{answer:?}");
            assert_eq!(answer.json()["status"], "ERROR", "{answer:?}");
        }
    }
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn a_withdraw_password_with_a_nul_byte_is_just_a_wrong_password() {
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;

    let answer = app
        .withdraw_form(
            &user,
            &form("1000", &account.to_string(), "rahasia\u{0}123"),
        )
        .await;

    answer.assert(200, &rejected(&[RULE_PASSWORD]));
}
