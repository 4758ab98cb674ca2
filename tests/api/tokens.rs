//! Operators and a user's tokens (SPEC §5.1): list, revoke one or all,
//! reset the password, over `/internal/v1` and the command line; and users
//! made before the tokens table keep their token and password.

use chrono::{DateTime, Utc};
use dompet::{
    domain::WireTime,
    service::{Lane, Passwords},
};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::helpers::{
    dompet, dompet_with, revoked, spawn_app, spawn_app_on, TestApp, TestDb, TestUser,
    LOGIN_INVALID, OPERATOR_UNAUTHORIZED, TOKEN_NOT_FOUND, USER_NOT_FOUND, USER_PASSWORD,
};

impl TestApp {
    /// The user's token rows (id, created_at), oldest first.
    async fn token_rows(&self, user_id: i64) -> Vec<(i64, DateTime<Utc>)> {
        sqlx::query_as("select id, created_at from tokens where user_id = $1 order by id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .expect("token rows")
    }

    /// `{"tokens":[…]}` as the operator surface must render these rows.
    async fn token_list_json(&self, user_id: i64) -> String {
        let items: Vec<String> = self
            .token_rows(user_id)
            .await
            .into_iter()
            .map(|(id, at)| {
                let at = WireTime::new(at, chrono_tz::Asia::Jakarta);
                format!(r#"{{"id":{id},"created_at":"{at}"}}"#)
            })
            .collect();
        format!(r#"{{"tokens":[{}]}}"#, items.join(","))
    }

    /// A user and two more tokens from logins: (user, [creation, phone, laptop]).
    async fn user_with_three_tokens(&self) -> (TestUser, Vec<String>) {
        let user = self.create_user().await;
        let name = self.profile(user.id).await.username;
        let phone = self.login_token(&name, USER_PASSWORD).await;
        let laptop = self.login_token(&name, USER_PASSWORD).await;
        (user.clone(), vec![user.token, phone, laptop])
    }
}

#[tokio::test]
async fn operators_list_tokens_by_id_and_time_never_the_token() {
    // Arrange
    let app = spawn_app().await;
    let (user, tokens) = app.user_with_three_tokens().await;

    // Act
    let answer = app
        .admin(Method::GET, &format!("/users/{}/tokens", user.id), None)
        .await;

    // Assert
    answer.assert(200, &app.token_list_json(user.id).await);
    assert_eq!(answer.json()["tokens"].as_array().map(Vec::len), Some(3));
    for token in &tokens {
        assert!(!answer.body.contains(token.as_str()));
    }
    // No tokens: an empty list; no user: 404.
    sqlx::query("delete from tokens")
        .execute(&app.pool)
        .await
        .unwrap();
    app.admin(Method::GET, &format!("/users/{}/tokens", user.id), None)
        .await
        .assert(200, r#"{"tokens":[]}"#);
    for missing in ["999999", "abc", "-1"] {
        app.admin(Method::GET, &format!("/users/{missing}/tokens"), None)
            .await
            .assert(404, USER_NOT_FOUND);
    }
}

#[tokio::test]
async fn revoking_one_token_locks_out_only_that_device() {
    // Arrange
    let app = spawn_app().await;
    let (user, tokens) = app.user_with_three_tokens().await;
    let phone_id = app.token_rows(user.id).await[1].0;

    // Act
    let answer = app
        .admin(
            Method::DELETE,
            &format!("/users/{}/tokens/{phone_id}", user.id),
            None,
        )
        .await;

    // Assert
    answer.assert(200, &revoked(user.id, 1));
    assert!(app.token_works(user.id, &tokens[0]).await);
    assert!(!app.token_works(user.id, &tokens[1]).await);
    assert!(app.token_works(user.id, &tokens[2]).await);
    // Gone is gone; another user's token cannot be revoked through this one.
    app.admin(
        Method::DELETE,
        &format!("/users/{}/tokens/{phone_id}", user.id),
        None,
    )
    .await
    .assert(404, TOKEN_NOT_FOUND);
    let other = app.create_user().await;
    let others_token = app.token_rows(other.id).await[0].0;
    app.admin(
        Method::DELETE,
        &format!("/users/{}/tokens/{others_token}", user.id),
        None,
    )
    .await
    .assert(404, TOKEN_NOT_FOUND);
    assert!(app.token_works(other.id, &other.token).await);
    app.admin(
        Method::DELETE,
        &format!("/users/{}/tokens/x1", user.id),
        None,
    )
    .await
    .assert(404, TOKEN_NOT_FOUND);
    app.admin(
        Method::DELETE,
        &format!("/users/999999/tokens/{others_token}"),
        None,
    )
    .await
    .assert(404, USER_NOT_FOUND);
}

#[tokio::test]
async fn revoking_all_tokens_signs_out_every_device_but_not_the_password() {
    // Arrange
    let app = spawn_app().await;
    let (user, tokens) = app.user_with_three_tokens().await;
    let other = app.create_user().await;

    // Act
    let answer = app
        .admin(Method::DELETE, &format!("/users/{}/tokens", user.id), None)
        .await;

    // Assert
    answer.assert(200, &revoked(user.id, 3));
    for token in &tokens {
        assert!(!app.token_works(user.id, token).await);
    }
    assert!(app.token_works(other.id, &other.token).await);
    let name = app.profile(user.id).await.username;
    let fresh = app.login_token(&name, USER_PASSWORD).await;
    assert!(app.token_works(user.id, &fresh).await);
}

#[tokio::test]
async fn a_password_reset_revokes_every_token_and_only_the_new_password_logs_in() {
    // Arrange
    let app = spawn_app().await;
    let (user, tokens) = app.user_with_three_tokens().await;
    let account = app.add_bank_account(&user).await;
    app.credit(&user, 10_000).await;
    let name = app.profile(user.id).await.username;
    // The user had been guessing: its name is locked out.
    for _ in 0..5 {
        app.login(&name, "forgotten")
            .await
            .assert(200, LOGIN_INVALID);
    }

    // Act
    let answer = app
        .admin(
            Method::POST,
            &format!("/users/{}/password", user.id),
            Some(json!({"password":"baru-rahasia-456"})),
        )
        .await;

    // Assert
    answer.assert(200, &revoked(user.id, 3));
    for token in &tokens {
        assert!(!app.token_works(user.id, token).await);
    }
    app.login(&name, USER_PASSWORD)
        .await
        .assert(200, LOGIN_INVALID);
    let token = app.login_token(&name, "baru-rahasia-456").await;
    // The new password is the withdraw password too.
    let device = TestUser {
        token,
        ..user.clone()
    };
    let withdraw = app
        .withdraw(&device, 1_000, account, "baru-rahasia-456")
        .await;
    assert_eq!(withdraw.json()["status"], "OK", "{}", withdraw.body);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_password_reset_racing_logins_leaves_no_token_of_the_old_password() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let profile = app.profile(user.id).await;

    // Act: ten logins with the old password while an operator resets it.
    let logins = join_all((0..10).map(|_| app.login(&profile.username, USER_PASSWORD)));
    let path = format!("/users/{}/password", user.id);
    let reset = app.admin(
        Method::POST,
        &path,
        Some(json!({"password":"baru-rahasia-456"})),
    );
    let (answers, reset) = tokio::join!(logins, reset);

    // Assert: whichever logins got in before the reset lost their token to
    // it; none after it got one.
    assert_eq!(reset.status, 200, "{}", reset.body);
    for answer in &answers {
        if let Some(token) = answer.json()["token"].as_str() {
            assert!(!app.token_works(user.id, token).await, "{}", answer.body);
        }
    }
    assert_eq!(app.token_count(user.id).await, 0);
    app.login(&profile.email, USER_PASSWORD)
        .await
        .assert(200, LOGIN_INVALID);
    app.login_token(&profile.email, "baru-rahasia-456").await;
}

#[tokio::test]
async fn a_bad_password_reset_changes_nothing() {
    let app = spawn_app().await;
    let (user, tokens) = app.user_with_three_tokens().await;
    let path = format!("/users/{}/password", user.id);
    let invalid = |message: &str| {
        format!(r#"{{"error":{{"code":"invalid_request","message":"{message}"}}}}"#)
    };

    app.admin(Method::POST, &path, Some(json!({"password":"short"})))
        .await
        .assert(400, &invalid("password must be 8 to 1024 characters"));
    let answer = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"password":"baru-rahasia-456","x":1})),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let answer = app.admin(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    app.admin(
        Method::POST,
        "/users/999999/password",
        Some(json!({"password":"baru-rahasia-456"})),
    )
    .await
    .assert(404, USER_NOT_FOUND);

    for token in &tokens {
        assert!(app.token_works(user.id, token).await);
    }
    let name = app.profile(user.id).await.username;
    app.login_token(&name, USER_PASSWORD).await;
}

#[tokio::test]
async fn the_token_routes_need_the_operator_token() {
    let app = spawn_app().await;
    let (user, tokens) = app.user_with_three_tokens().await;
    let token_id = app.token_rows(user.id).await[0].0;
    let id = user.id;
    let routes = [
        (Method::GET, format!("/internal/v1/users/{id}/tokens")),
        (Method::DELETE, format!("/internal/v1/users/{id}/tokens")),
        (
            Method::DELETE,
            format!("/internal/v1/users/{id}/tokens/{token_id}"),
        ),
        (Method::POST, format!("/internal/v1/users/{id}/password")),
    ];
    for (method, path) in routes {
        for bearer in [None, Some("wrong-token-0123456789")] {
            let mut request = app
                .request(method.clone(), &path)
                .json(&json!({"password":"baru-rahasia-456"}));
            if let Some(bearer) = bearer {
                request = request.bearer_auth(bearer);
            }
            app.send(request).await.assert(401, OPERATOR_UNAUTHORIZED);
        }
        // A user's own Basic token is no operator credential either.
        app.send(
            app.request(method.clone(), &path)
                .basic_auth(user.id, Some(&user.token)),
        )
        .await
        .assert(401, OPERATOR_UNAUTHORIZED);
    }
    for token in &tokens {
        assert!(app.token_works(user.id, token).await);
    }
}

#[tokio::test]
async fn a_display_name_must_be_sensible() {
    let app = spawn_app().await;
    let invalid = r#"{"error":{"code":"invalid_request","message":"name must be 1 to 100 characters without control characters"}}"#;
    for name in [
        json!(""),
        json!("   "),
        json!("x".repeat(101)),
        json!("a\u{0}b"),
    ] {
        app.admin(
            Method::POST,
            "/users",
            Some(json!({"username":"siti","email":"siti@example.com","password":USER_PASSWORD,"name":name})),
        )
        .await
        .assert(400, invalid);
    }
    let count: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn emails_differing_only_in_case_are_one_email() {
    let app = spawn_app().await;
    let first = app
        .admin(
            Method::POST,
            "/users",
            Some(json!({"username":"siti","email":"siti@example.com","password":USER_PASSWORD})),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);

    app.admin(
        Method::POST,
        "/users",
        Some(json!({"username":"siti2","email":"Siti@Example.COM","password":USER_PASSWORD})),
    )
    .await
    .assert(
        409,
        r#"{"error":{"code":"conflict","message":"this email is taken"}}"#,
    );
}

#[tokio::test]
async fn the_command_line_lists_and_revokes_tokens_and_resets_passwords() {
    // Arrange
    let app = spawn_app().await;
    let (user, tokens) = app.user_with_three_tokens().await;
    let uid = user.id.to_string();
    let rows = app.token_rows(user.id).await;

    // list
    dompet(&app, &["token", "list", &uid])
        .await
        .assert_json(&app.token_list_json(user.id).await);

    // revoke one
    let phone = rows[1].0.to_string();
    dompet(&app, &["token", "revoke", &uid, &phone])
        .await
        .assert_json(&revoked(user.id, 1));
    assert!(!app.token_works(user.id, &tokens[1]).await);
    assert!(app.token_works(user.id, &tokens[2]).await);
    dompet(&app, &["token", "revoke", &uid, &phone])
        .await
        .assert_error(1, "error: token not found");

    // revoke all
    dompet(&app, &["token", "revoke", &uid, "--all"])
        .await
        .assert_json(&revoked(user.id, 2));
    assert!(!app.token_works(user.id, &tokens[0]).await);
    assert!(!app.token_works(user.id, &tokens[2]).await);

    // set-password, from the environment so it stays off the command line
    let name = app.profile(user.id).await.username;
    let laptop = app.login_token(&name, USER_PASSWORD).await;
    dompet_with(
        Some(&app.db),
        &["user", "set-password", &uid],
        &[("DOMPET_USER_PASSWORD", "baru-rahasia-456")],
    )
    .await
    .assert_json(&revoked(user.id, 1));
    assert!(!app.token_works(user.id, &laptop).await);
    app.login(&name, USER_PASSWORD)
        .await
        .assert(200, LOGIN_INVALID);
    app.login_token(&name, "baru-rahasia-456").await;
}

#[tokio::test]
async fn the_token_commands_refuse_bad_input_clearly() {
    let app = spawn_app().await;
    let user = app.create_user().await;
    let uid = user.id.to_string();

    // Operator errors: exit 1 and one line.
    dompet(&app, &["token", "list", "999999"])
        .await
        .assert_error(1, "error: user not found");
    dompet(&app, &["token", "revoke", "999999", "--all"])
        .await
        .assert_error(1, "error: user not found");
    dompet(&app, &["token", "revoke", &uid, "999999"])
        .await
        .assert_error(1, "error: token not found");
    dompet(
        &app,
        &[
            "user",
            "set-password",
            "999999",
            "--password",
            "baru-rahasia-456",
        ],
    )
    .await
    .assert_error(1, "error: user not found");
    dompet(&app, &["user", "set-password", &uid, "--password", "short"])
        .await
        .assert_error(1, "error: password must be 8 to 1024 characters");
    dompet(
        &app,
        &[
            "user",
            "create",
            "--username",
            "a",
            "--email",
            "a@example.com",
            "--password",
            USER_PASSWORD,
            "--name",
            "",
        ],
    )
    .await
    .assert_error(
        1,
        "error: name must be 1 to 100 characters without control characters",
    );

    // Bad usage: exit 2.
    for args in [
        &["token", "revoke", uid.as_str()][..],
        &["token", "revoke", &uid, "5", "--all"],
        &["token", "list", "abc"],
        &["token", "list"],
        &["user", "set-password", &uid],
    ] {
        let run = dompet(&app, args).await;
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (Some(2), ""),
            "dompet {args:?}: {run:#?}"
        );
    }
    assert!(app.token_works(user.id, &user.token).await);
}

#[tokio::test]
async fn the_token_commands_have_help() {
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--help"], &["token"]),
        (
            &["token", "--help"],
            &["Usage: dompet token", "list", "revoke"],
        ),
        (
            &["token", "list", "--help"],
            &["Usage: dompet token list", "<USER_ID>"],
        ),
        (
            &["token", "revoke", "--help"],
            &[
                "Usage: dompet token revoke",
                "<USER_ID>",
                "[TOKEN_ID]",
                "--all",
            ],
        ),
        (
            &["user", "set-password", "--help"],
            &[
                "Usage: dompet user set-password",
                "<ID>",
                "--password",
                "DOMPET_USER_PASSWORD",
            ],
        ),
    ];
    for (args, names) in cases {
        let run = dompet_with(None, args, &[]).await;
        assert_eq!(run.code, Some(0), "dompet {args:?}: {run:#?}");
        for name in names {
            assert!(
                run.stdout.contains(name),
                "dompet {args:?} lacks {name}:\n{}",
                run.stdout
            );
        }
    }
}

#[tokio::test]
async fn a_user_made_before_the_tokens_table_keeps_its_token_and_logs_in() {
    // Arrange: a database at the first migration, with a user as it was
    // stored then (its token digest on the users row).
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/0001_ledger.sql"),
        dir.path().join("0001_ledger.sql"),
    )
    .unwrap();
    let pool = db.pool(2).await;
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let hash = Passwords::new()
        .hash(Lane::Anonymous, USER_PASSWORD.to_owned())
        .await
        .unwrap();
    let token = "LegacyToken0123456789";
    for (id, name, token) in [(7_i64, "lama", token), (8, "lain", "OtherLegacyToken98765")] {
        sqlx::query(
            "insert into users (id, username, email, password_hash, token_sha256, created_at)
             values ($1, $2, $2 || '@example.com', $3, $4, '2020-01-02T03:04:05Z')",
        )
        .bind(id)
        .bind(name)
        .bind(&hash)
        .bind(Sha256::digest(token.as_bytes()).to_vec())
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("insert into deposits (user_id) values ($1)")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;

    // Act: the app migrates the database to the latest schema.
    let app = spawn_app_on(db, |_| {}).await;

    // Assert: the old token works and is listed with the user's creation
    // time; the password logs in; each user got its own omnikey.
    assert!(app.token_works(7, token).await);
    assert!(app.token_works(8, "OtherLegacyToken98765").await);
    assert!(!app.token_works(7, "OtherLegacyToken98765").await);
    app.admin(Method::GET, "/users/7/tokens", None)
        .await
        .assert(
            200,
            &format!(
                r#"{{"tokens":[{{"id":{},"created_at":"2020-01-02T10:04:05+07:00"}}]}}"#,
                app.token_rows(7).await[0].0
            ),
        );
    let fresh = app.login_token("lama", USER_PASSWORD).await;
    assert!(app.token_works(7, &fresh).await);
    let (a, b) = (app.profile(7).await.omnikey, app.profile(8).await.omnikey);
    assert_ne!(a, b);
    assert!(
        a.len() == 32
            && a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let columns: Vec<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.columns where table_name = 'users'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(!columns.contains(&"token_sha256".to_owned()), "{columns:?}");
}
