//! The operator surface under /internal/v1: bearer auth, users, bank
//! accounts, request validation and not-found answers (SPEC §3).

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{
    spawn_app, spawn_app_with, Answer, TestApp, TestUser, ADMIN_TOKEN, EMPTY_HISTORY, NOT_FOUND,
    OPERATOR_UNAUTHORIZED, USER_NOT_FOUND, USER_PASSWORD, WITHDRAWAL_NOT_FOUND,
};

/// A raw body with a content type, under the admin bearer.
async fn admin_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: &str,
) -> Answer {
    app.send(
        app.request(method, &format!("/internal/v1{path}"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", content_type)
            .body(body.to_owned()),
    )
    .await
}

/// The `error.code` of an operator error answer.
fn error_code(answer: &Answer) -> String {
    answer.json()["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an operator error: {answer:?}"))
        .to_owned()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// What an operator request could have written: users, wallets, bank
/// accounts, plus the ledger fingerprint.
async fn everything(app: &TestApp) -> (i64, i64, i64, (i64, i64, i64, i64)) {
    (
        count(app, "users").await,
        count(app, "deposits").await,
        count(app, "bank_accounts").await,
        app.ledger_fingerprint().await,
    )
}

/// Every operator route, with a body that would succeed.
async fn every_route(app: &TestApp) -> Vec<(Method, String, Option<Value>)> {
    let (user, to_process) = app.user_with_withdrawal(1_000, 1_000).await;
    let (_, to_cancel) = app.user_with_withdrawal(1_000, 1_000).await;
    vec![
        (
            Method::POST,
            "/users".to_owned(),
            Some(
                json!({"username":"intruder","email":"intruder@example.com","password":"rahasia-123"}),
            ),
        ),
        (Method::GET, format!("/users/{}", user.id), None),
        (
            Method::POST,
            format!("/users/{}/bank_accounts", user.id),
            Some(json!({"bank_name":"BCA","account_number":"1","account_name":"X"})),
        ),
        (
            Method::POST,
            "/mutations".to_owned(),
            Some(json!({"user_id":user.id,"action":"topup","amount":5,"idempotency_key":"auth-k"})),
        ),
        (Method::GET, "/withdrawals?state=pending".to_owned(), None),
        (
            Method::POST,
            format!("/withdrawals/{to_process}/process"),
            None,
        ),
        (
            Method::POST,
            format!("/withdrawals/{to_cancel}/cancel"),
            None,
        ),
        (Method::GET, "/ledger/verify".to_owned(), None),
    ]
}

#[tokio::test]
async fn every_operator_route_refuses_a_missing_wrong_or_non_bearer_credential_with_401() {
    // Arrange
    let app = spawn_app().await;
    let routes = every_route(&app).await;
    let before = everything(&app).await;
    let credentials: [(&str, Option<String>); 7] = [
        ("no Authorization header", None),
        (
            "a wrong bearer token",
            Some("Bearer wrong-token".to_owned()),
        ),
        ("an empty bearer token", Some("Bearer ".to_owned())),
        (
            "the token with a suffix",
            Some(format!("Bearer {ADMIN_TOKEN}x")),
        ),
        (
            "a prefix of the token",
            Some(format!("Bearer {}", &ADMIN_TOKEN[..10])),
        ),
        ("the token without a scheme", Some(ADMIN_TOKEN.to_owned())),
        (
            "the token as Basic credentials",
            Some(format!("Basic {ADMIN_TOKEN}")),
        ),
    ];

    for (method, path, body) in &routes {
        for (why, header) in &credentials {
            // Act
            let mut request = app.request(method.clone(), &format!("/internal/v1{path}"));
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = app.send(request).await;

            // Assert
            assert_eq!(
                (answer.status.as_u16(), answer.body.as_str()),
                (401, OPERATOR_UNAUTHORIZED),
                "{method} {path} with {why}"
            );
            assert_eq!(answer.headers["content-type"], "application/json");
        }
    }
    assert_eq!(everything(&app).await, before, "a refused request wrote");

    // The same requests with the right token go through, so the 401s above
    // were about the credential and nothing else.
    for (method, path, body) in routes {
        let answer = app.admin(method.clone(), &path, body).await;
        assert!(
            answer.status.is_success(),
            "{method} {path} with the admin token: {answer:?}"
        );
    }
}

#[tokio::test]
async fn the_bearer_scheme_name_is_case_insensitive() {
    // RFC 9110 §11.1: the authentication scheme is a case-insensitive token.
    let app = spawn_app().await;

    for scheme in ["bearer", "BEARER"] {
        let answer = app
            .send(
                app.request(Method::GET, "/internal/v1/ledger/verify")
                    .header("authorization", format!("{scheme} {ADMIN_TOKEN}")),
            )
            .await;

        answer.assert(200, r#"{"ok":true,"users_checked":0,"violations":[]}"#);
    }
}

#[tokio::test]
async fn without_an_admin_token_the_internal_api_does_not_exist() {
    // Arrange: no token at all, and a blank one from the environment.
    let blank = dompet::config::Config::from_lookup(|name| {
        (name == "DOMPET_ADMIN_TOKEN").then(|| "   ".to_owned())
    })
    .unwrap()
    .operator_token;
    for admin_token in [None, blank] {
        let app = spawn_app_with(|c| c.operator_token = admin_token).await;
        let routes = every_route(&app).await;
        let before = everything(&app).await;

        for (method, path, body) in routes {
            // Act: even the would-be token, and an empty bearer.
            for bearer in [ADMIN_TOKEN, ""] {
                let mut request = app
                    .request(method.clone(), &format!("/internal/v1{path}"))
                    .header("authorization", format!("Bearer {bearer}"));
                if let Some(body) = &body {
                    request = request.json(body);
                }
                let answer = app.send(request).await;

                // Assert
                assert_eq!(
                    (answer.status.as_u16(), answer.body.as_str()),
                    (404, NOT_FOUND),
                    "{method} {path} with bearer {bearer:?}"
                );
            }
        }
        assert_eq!(everything(&app).await, before);
    }
}

#[tokio::test]
async fn creating_a_user_shows_its_token_once_and_stores_only_digests() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answer = app
        .admin(
            Method::POST,
            "/users",
            Some(json!({"username":"budi","email":"budi@example.com","password":USER_PASSWORD})),
        )
        .await;

    // Assert: the 201 body, in the contract's key order.
    let created = answer.json();
    let id = created["id"].as_i64().expect("id");
    let deposit_id = created["deposit_id"].as_i64().expect("deposit_id");
    let token = created["token"].as_str().expect("token").to_owned();
    answer.assert(
        201,
        &format!(
            r#"{{"id":{id},"username":"budi","email":"budi@example.com","deposit_id":{deposit_id},"token":"{token}"}}"#
        ),
    );
    assert!(
        token.len() >= 20 && token.bytes().all(|b| b.is_ascii_alphanumeric()),
        "token {token:?} is not 20+ characters of [A-Za-z0-9]"
    );

    // Shown only at creation.
    let shown = app.admin(Method::GET, &format!("/users/{id}"), None).await;
    shown.assert(
        200,
        &format!(
            r#"{{"id":{id},"username":"budi","email":"budi@example.com","deposit_id":{deposit_id},"balance":0}}"#
        ),
    );

    // The database holds the token's SHA-256 and an argon2id hash only.
    let (digest, password_hash): (Vec<u8>, String) = sqlx::query_as(
        "select t.token_sha256, u.password_hash from users u join tokens t on t.user_id = u.id
             where u.id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(digest.len(), 32);
    assert_ne!(digest, token.as_bytes());
    assert_eq!(digest, Sha256::digest(token.as_bytes()).to_vec());
    assert!(
        password_hash.starts_with("$argon2id$") && !password_hash.contains(USER_PASSWORD),
        "password stored as {password_hash:?}"
    );

    // Exactly one wallet, empty, and it is the deposit_id shown.
    let wallets: Vec<(i64, i64)> =
        sqlx::query_as("select id, balance from deposits where user_id = $1")
            .bind(id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(wallets, [(deposit_id, 0)]);

    // The token is the user's public API credential.
    let user = TestUser {
        id,
        token: token.clone(),
        password: USER_PASSWORD.to_owned(),
        deposit_id,
    };
    app.mutations(&user, "").await.assert(200, EMPTY_HISTORY);
}

#[tokio::test]
async fn each_created_user_gets_its_own_token_and_wallet() {
    let app = spawn_app().await;
    let mut seen = Vec::new();

    for n in 0..3 {
        let answer = app
            .admin(
                Method::POST,
                "/users",
                Some(json!({"username":format!("u{n}"),"email":format!("u{n}@example.com"),"password":USER_PASSWORD})),
            )
            .await;
        assert_eq!(answer.status, 201, "{answer:?}");
        let body = answer.json();
        seen.push((
            body["id"].as_i64().unwrap(),
            body["deposit_id"].as_i64().unwrap(),
            body["token"].as_str().unwrap().to_owned(),
        ));
    }

    for (i, a) in seen.iter().enumerate() {
        for b in &seen[i + 1..] {
            assert!(
                a.0 != b.0 && a.1 != b.1 && a.2 != b.2,
                "{a:?} and {b:?} share something"
            );
        }
    }
    let per_user: Vec<i64> = sqlx::query_scalar(
        "select count(d.id) from users u left join deposits d on d.user_id = u.id group by u.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(per_user, [1, 1, 1]);
}

#[tokio::test]
async fn an_imported_user_keeps_its_id_and_token_and_new_ids_do_not_collide() {
    // Arrange: the seed's user, as an operator migrating from the original.
    let app = spawn_app().await;

    // Act
    let answer = app
        .admin(
            Method::POST,
            "/users",
            Some(json!({
                "username":"seed","email":"seed@example.com","password":"testing1234",
                "id":204254,"token":"Sy7PRGGr4foUk22uzjMu"
            })),
        )
        .await;

    // Assert
    let deposit_id = answer.json()["deposit_id"].as_i64().expect("deposit_id");
    answer.assert(
        201,
        &format!(
            r#"{{"id":204254,"username":"seed","email":"seed@example.com","deposit_id":{deposit_id},"token":"Sy7PRGGr4foUk22uzjMu"}}"#
        ),
    );
    let seed = TestUser {
        id: 204254,
        token: "Sy7PRGGr4foUk22uzjMu".into(),
        password: "testing1234".into(),
        deposit_id,
    };
    app.mutations(&seed, "").await.assert(200, EMPTY_HISTORY);
    let wrong = TestUser {
        token: "Sy7PRGGr4foUk22uzjMv".into(),
        ..seed.clone()
    };
    app.mutations(&wrong, "")
        .await
        .assert(401, r#"{"status":"ERROR","message":"Autentikasi gagal."}"#);

    // A user created afterwards gets a fresh id, not a conflict.
    let next = app
        .admin(
            Method::POST,
            "/users",
            Some(json!({"username":"next","email":"next@example.com","password":USER_PASSWORD})),
        )
        .await;
    assert_eq!(next.status, 201, "{next:?}");
    assert!(next.json()["id"].as_i64().unwrap() > 204254);
}

#[tokio::test]
async fn a_duplicate_user_is_409_and_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let first = app
        .admin(
            Method::POST,
            "/users",
            Some(json!({
                "username":"budi","email":"budi@example.com","password":USER_PASSWORD,
                "id":500,"token":"AAAAAAAAAAAAAAAAAAAAAAAA"
            })),
        )
        .await;
    assert_eq!(first.status, 201, "{first:?}");
    let before = everything(&app).await;
    let cases = [
        (
            json!({"username":"budi","email":"other@example.com","password":USER_PASSWORD}),
            "this username is taken",
        ),
        (
            json!({"username":"other","email":"budi@example.com","password":USER_PASSWORD}),
            "this email is taken",
        ),
        (
            json!({"username":"other","email":"other@example.com","password":USER_PASSWORD,"id":500}),
            "a user with this id already exists",
        ),
        (
            json!({"username":"other","email":"other@example.com","password":USER_PASSWORD,"token":"AAAAAAAAAAAAAAAAAAAAAAAA"}),
            "this token belongs to another user",
        ),
    ];

    for (body, message) in cases {
        // Act
        let answer = app.admin(Method::POST, "/users", Some(body.clone())).await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.clone()),
            (
                409,
                format!(r#"{{"error":{{"code":"conflict","message":"{message}"}}}}"#)
            ),
            "{body}"
        );
    }
    assert_eq!(everything(&app).await, before);
}

#[tokio::test]
async fn a_malformed_user_is_400_invalid_request_and_writes_nothing() {
    let app = spawn_app().await;
    let before = everything(&app).await;
    let long_token = "a".repeat(129);
    let cases: Vec<(&str, String)> = vec![
        ("empty username", json!({"username":"","email":"a@b.c","password":USER_PASSWORD}).to_string()),
        ("blank username", json!({"username":"   ","email":"a@b.c","password":USER_PASSWORD}).to_string()),
        ("email without @", json!({"username":"a","email":"not-an-email","password":USER_PASSWORD}).to_string()),
        ("short password", json!({"username":"a","email":"a@b.c","password":"1234567"}).to_string()),
        ("id zero", json!({"username":"a","email":"a@b.c","password":USER_PASSWORD,"id":0}).to_string()),
        ("negative id", json!({"username":"a","email":"a@b.c","password":USER_PASSWORD,"id":-5}).to_string()),
        ("id as a string", json!({"username":"a","email":"a@b.c","password":USER_PASSWORD,"id":"12"}).to_string()),
        ("short token", json!({"username":"a","email":"a@b.c","password":USER_PASSWORD,"token":"abc123"}).to_string()),
        ("token with symbols", json!({"username":"a","email":"a@b.c","password":USER_PASSWORD,"token":"abcdefghij-klmnopqrst"}).to_string()),
        ("token too long", json!({"username":"a","email":"a@b.c","password":USER_PASSWORD,"token":long_token}).to_string()),
        ("missing password", json!({"username":"a","email":"a@b.c"}).to_string()),
        ("unknown field", json!({"username":"a","email":"a@b.c","password":USER_PASSWORD,"role":"admin"}).to_string()),
        ("not JSON", "{\"username\":".to_owned()),
        ("a JSON array", "[]".to_owned()),
    ];

    for (why, body) in cases {
        let answer = admin_raw(&app, Method::POST, "/users", "application/json", &body).await;

        assert_eq!(
            (answer.status.as_u16(), error_code(&answer)),
            (400, "invalid_request".to_owned()),
            "{why}: {answer:?}"
        );
    }
    let answer = admin_raw(
        &app,
        Method::POST,
        "/users",
        "text/plain",
        &json!({"username":"a","email":"a@b.c","password":USER_PASSWORD}).to_string(),
    )
    .await;
    assert_eq!(
        (answer.status.as_u16(), error_code(&answer)),
        (400, "invalid_request".to_owned()),
        "a body that is not declared JSON"
    );
    assert_eq!(everything(&app).await, before);
}

#[tokio::test]
async fn adding_a_bank_account_answers_201_and_the_user_can_withdraw_to_it() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    app.credit(&user, 10_000).await;

    // Act
    let answer = app
        .admin(
            Method::POST,
            &format!("/users/{}/bank_accounts", user.id),
            Some(json!({"bank_name":"BCA","account_number":"0012345678","account_name":"Budi Santoso"})),
        )
        .await;

    // Assert: leading zeros of the account number survive.
    let id = answer.json()["id"].as_i64().expect("id");
    answer.assert(
        201,
        &format!(
            r#"{{"id":{id},"user_id":{},"bank_name":"BCA","account_number":"0012345678","account_name":"Budi Santoso"}}"#,
            user.id
        ),
    );
    let withdrawn = app.withdraw(&user, 4_000, id, &user.password).await;
    assert_eq!(withdrawn.json()["status"], "OK", "{withdrawn:?}");
    assert_eq!(app.balance(&user).await, 6_000);
}

#[tokio::test]
async fn a_bank_account_imported_with_its_id_keeps_it_and_new_ids_do_not_collide() {
    let app = spawn_app().await;
    let user = app.create_user().await;
    let path = format!("/users/{}/bank_accounts", user.id);

    let answer = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"bank_name":"Mandiri","account_number":"987","account_name":"Siti","id":41812})),
        )
        .await;

    answer.assert(
        201,
        &format!(
            r#"{{"id":41812,"user_id":{},"bank_name":"Mandiri","account_number":"987","account_name":"Siti"}}"#,
            user.id
        ),
    );
    let again = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"bank_name":"BNI","account_number":"1","account_name":"Siti","id":41812})),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), error_code(&again)),
        (409, "conflict".to_owned()),
        "{again:?}"
    );
    let next = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"bank_name":"BNI","account_number":"1","account_name":"Siti"})),
        )
        .await;
    assert_eq!(next.status, 201, "{next:?}");
    assert!(next.json()["id"].as_i64().unwrap() > 41812);
    assert_eq!(count(&app, "bank_accounts").await, 2);
}

#[tokio::test]
async fn a_malformed_bank_account_is_400_and_writes_nothing() {
    let app = spawn_app().await;
    let user = app.create_user().await;
    let before = everything(&app).await;
    let cases = [
        (
            "empty bank_name",
            json!({"bank_name":"","account_number":"1","account_name":"X"}),
        ),
        (
            "blank account_number",
            json!({"bank_name":"BCA","account_number":"  ","account_name":"X"}),
        ),
        (
            "missing account_name",
            json!({"bank_name":"BCA","account_number":"1"}),
        ),
        (
            "id zero",
            json!({"bank_name":"BCA","account_number":"1","account_name":"X","id":0}),
        ),
        (
            "unknown field",
            json!({"bank_name":"BCA","account_number":"1","account_name":"X","iban":"x"}),
        ),
        (
            "number instead of text",
            json!({"bank_name":"BCA","account_number":1,"account_name":"X"}),
        ),
    ];

    for (why, body) in cases {
        let answer = app
            .admin(
                Method::POST,
                &format!("/users/{}/bank_accounts", user.id),
                Some(body),
            )
            .await;

        assert_eq!(
            (answer.status.as_u16(), error_code(&answer)),
            (400, "invalid_request".to_owned()),
            "{why}: {answer:?}"
        );
    }
    assert_eq!(everything(&app).await, before);
}

#[tokio::test]
async fn a_malformed_posting_is_400_invalid_request_and_moves_no_money() {
    let app = spawn_app().await;
    let (user, _) = app.funded_user(50_000).await;
    let before = everything(&app).await;
    let id = user.id;
    let cases: Vec<(&str, String)> = vec![
        (
            "action withdrawal",
            json!({"user_id":id,"action":"withdrawal","amount":100,"idempotency_key":"k"})
                .to_string(),
        ),
        (
            "action restore",
            json!({"user_id":id,"action":"restore","amount":100,"idempotency_key":"k"}).to_string(),
        ),
        (
            "unknown action",
            json!({"user_id":id,"action":"gift","amount":100,"idempotency_key":"k"}).to_string(),
        ),
        (
            "action in capitals",
            json!({"user_id":id,"action":"TOPUP","amount":100,"idempotency_key":"k"}).to_string(),
        ),
        (
            "amount zero",
            json!({"user_id":id,"action":"topup","amount":0,"idempotency_key":"k"}).to_string(),
        ),
        (
            "negative amount",
            json!({"user_id":id,"action":"payment","amount":-100,"idempotency_key":"k"})
                .to_string(),
        ),
        (
            "fractional amount",
            json!({"user_id":id,"action":"topup","amount":100.5,"idempotency_key":"k"}).to_string(),
        ),
        (
            "amount as a string",
            json!({"user_id":id,"action":"topup","amount":"100","idempotency_key":"k"}).to_string(),
        ),
        (
            "missing idempotency_key",
            json!({"user_id":id,"action":"topup","amount":100}).to_string(),
        ),
        (
            "empty idempotency_key",
            json!({"user_id":id,"action":"topup","amount":100,"idempotency_key":""}).to_string(),
        ),
        (
            "idempotency_key over 255 bytes",
            json!({"user_id":id,"action":"topup","amount":100,"idempotency_key":"k".repeat(256)})
                .to_string(),
        ),
        (
            "unknown field",
            json!({"user_id":id,"action":"topup","amount":100,"idempotency_key":"k","memo":"x"})
                .to_string(),
        ),
        ("not JSON", "{\"user_id\":".to_owned()),
    ];

    for (why, body) in cases {
        let answer = admin_raw(&app, Method::POST, "/mutations", "application/json", &body).await;

        assert_eq!(
            (answer.status.as_u16(), error_code(&answer)),
            (400, "invalid_request".to_owned()),
            "{why}: {answer:?}"
        );
    }
    assert_eq!(everything(&app).await, before);
    assert_eq!(app.balance(&user).await, 50_000);
}

#[tokio::test]
async fn unknown_users_and_withdrawals_are_404_with_their_code() {
    let app = spawn_app().await;
    let (user, withdrawal) = app.user_with_withdrawal(1_000, 1_000).await;
    let before = everything(&app).await;
    let missing_user = user.id + 1000;
    let missing_withdrawal = withdrawal + 1000;
    let account = json!({"bank_name":"BCA","account_number":"1","account_name":"X"});
    let cases = [
        (
            Method::GET,
            format!("/users/{missing_user}"),
            None,
            USER_NOT_FOUND,
        ),
        (Method::GET, "/users/abc".to_owned(), None, USER_NOT_FOUND),
        (Method::GET, "/users/-1".to_owned(), None, USER_NOT_FOUND),
        (
            Method::GET,
            "/users/99999999999999999999".to_owned(),
            None,
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/users/{missing_user}/bank_accounts"),
            Some(account.clone()),
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            "/users/x1/bank_accounts".to_owned(),
            Some(account),
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            "/mutations".to_owned(),
            Some(
                json!({"user_id":missing_user,"action":"topup","amount":100,"idempotency_key":"k"}),
            ),
            USER_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/withdrawals/{missing_withdrawal}/process"),
            None,
            WITHDRAWAL_NOT_FOUND,
        ),
        (
            Method::POST,
            format!("/withdrawals/{missing_withdrawal}/cancel"),
            None,
            WITHDRAWAL_NOT_FOUND,
        ),
        (
            Method::POST,
            "/withdrawals/abc/process".to_owned(),
            None,
            WITHDRAWAL_NOT_FOUND,
        ),
        (
            Method::POST,
            "/withdrawals/1.0/cancel".to_owned(),
            None,
            WITHDRAWAL_NOT_FOUND,
        ),
    ];

    for (method, path, body, expected) in cases {
        let answer = app.admin(method.clone(), &path, body).await;

        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (404, expected),
            "{method} {path}"
        );
    }
    assert_eq!(everything(&app).await, before);
}

#[tokio::test]
async fn listing_withdrawals_in_an_unknown_state_is_400() {
    let app = spawn_app().await;
    app.user_with_withdrawal(1_000, 1_000).await;

    for state in ["paid", "PENDING", "pending,processed"] {
        let answer = app
            .admin(Method::GET, &format!("/withdrawals?state={state}"), None)
            .await;

        assert_eq!(
            (answer.status.as_u16(), error_code(&answer)),
            (400, "invalid_request".to_owned()),
            "state={state}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn an_operator_body_over_16_kib_is_413_payload_too_large_and_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let before = everything(&app).await;
    let body = json!({
        "username": "x".repeat(17 * 1024),
        "email": "big@example.com",
        "password": USER_PASSWORD,
    });

    // Act
    let answer = app.admin(Method::POST, "/users", Some(body)).await;

    // Assert
    answer.assert(
        413,
        r#"{"error":{"code":"payload_too_large","message":"the body is over 16 KiB"}}"#,
    );
    assert_eq!(everything(&app).await, before);
}
