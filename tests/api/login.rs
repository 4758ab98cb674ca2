//! `POST /v2/authenticate.json` (SPEC §5.1): the exact bodies, a token per
//! login that works everywhere, the ten-token limit, the timing of failures.

use std::time::{Duration, Instant};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{
    logged_in, spawn_app, Answer, TestUser, EMPTY_HISTORY, LOGIN_INVALID, NOT_ALLOWED,
    USER_PASSWORD,
};

fn is_login_token(token: &str) -> bool {
    token.len() == 20 && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[tokio::test]
async fn a_login_answers_the_documented_body_with_a_new_token_that_works_on_every_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let profile = app.profile(user.id).await;

    // Act
    let answer = app.login(&profile.username, USER_PASSWORD).await;

    // Assert: the exact body, keys in order, user_id a string.
    let token = answer.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    answer.assert(
        200,
        &logged_in(
            user.id,
            &profile.username,
            &token,
            &profile.email,
            &profile.omnikey,
        ),
    );
    assert!(is_login_token(&token), "token {token:?}");
    assert_ne!(token, user.token);

    // The new token opens all three seed endpoints.
    let device = TestUser {
        token: token.clone(),
        ..user.clone()
    };
    let mutations = app.mutations(&device, "").await;
    assert_eq!(mutations.status, 200, "{}", mutations.body);
    assert_eq!(mutations.json()["history"][0]["amount"], 50_000);
    app.withdrawals(&device, "")
        .await
        .assert(200, EMPTY_HISTORY);
    let withdraw = app.withdraw(&device, 1_000, account, USER_PASSWORD).await;
    assert_eq!(withdraw.json()["status"], "OK", "{}", withdraw.body);
    assert_eq!(app.balance(&user).await, 49_000);
    // The token made at creation still works beside it.
    assert!(app.token_works(user.id, &user.token).await);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn an_email_logs_in_without_regard_to_case_a_username_only_as_written() {
    let app = spawn_app().await;
    let user = app.create_user().await;
    let profile = app.profile(user.id).await;

    for login in [profile.email.clone(), profile.email.to_uppercase()] {
        let answer = app.login(&login, USER_PASSWORD).await;
        let token = answer.json()["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        answer.assert(
            200,
            &logged_in(
                user.id,
                &profile.username,
                &token,
                &profile.email,
                &profile.omnikey,
            ),
        );
        assert!(app.token_works(user.id, &token).await);
    }
    // Usernames are compared as written.
    app.login(&profile.username.to_uppercase(), USER_PASSWORD)
        .await
        .assert(200, LOGIN_INVALID);
}

#[tokio::test]
async fn user_name_is_the_name_an_operator_set_and_the_omnikey_is_stable() {
    // Arrange: a user created with a display name over the operator API.
    let app = spawn_app().await;
    let created = app
        .admin(
            Method::POST,
            "/users",
            Some(json!({"username":"siti","email":"siti@example.com","password":USER_PASSWORD,"name":"Siti Rahma"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().expect("id");
    let omnikey = app.profile(id).await.omnikey;

    // Act: two logins.
    let first = app.login("siti", USER_PASSWORD).await;
    let second = app.login("siti@example.com", USER_PASSWORD).await;

    // Assert
    for answer in [&first, &second] {
        let token = answer.json()["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        answer.assert(
            200,
            &logged_in(id, "Siti Rahma", &token, "siti@example.com", &omnikey),
        );
    }
    assert_eq!(omnikey.len(), 32);
    assert!(omnikey
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    // Each user has its own.
    let other = app.create_user().await;
    assert_ne!(app.profile(other.id).await.omnikey, omnikey);
}

#[tokio::test]
async fn the_demo_user_logs_in_and_its_seed_token_keeps_working() {
    // Arrange: the embedded default's demo data.
    let app = spawn_app().await;
    assert!(app.dompet.seed_demo().await.expect("seed"));
    let omnikey = app.profile(204254).await.omnikey;

    // Act
    let answer = app.login("demo", "testing1234").await;

    // Assert
    let token = answer.json()["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    answer.assert(
        200,
        &logged_in(204254, "demo", &token, "demo@dompet.invalid", &omnikey),
    );
    assert!(app.token_works(204254, &token).await);
    assert!(app.token_works(204254, "Sy7PRGGr4foUk22uzjMu").await);
}

#[tokio::test]
async fn every_failure_answers_one_identical_body_and_issues_nothing() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let profile = app.profile(user.id).await;
    let basic = |raw: &[u8]| format!("Basic {}", STANDARD.encode(raw));
    let long_name = format!("{}:{USER_PASSWORD}", "a".repeat(300));
    let headers: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("another scheme", Some(format!("Bearer {}", user.token))),
        ("Basic without credentials", Some("Basic".to_owned())),
        ("not base64", Some("Basic !!!".to_owned())),
        ("no colon", Some(basic(profile.username.as_bytes()))),
        ("not UTF-8", Some(basic(b"\xff\xfe:x"))),
        (
            "empty login",
            Some(basic(format!(":{USER_PASSWORD}").as_bytes())),
        ),
        (
            "unknown login",
            Some(basic(format!("nobody:{USER_PASSWORD}").as_bytes())),
        ),
        (
            "unknown email",
            Some(basic(
                format!("nobody@example.com:{USER_PASSWORD}").as_bytes(),
            )),
        ),
        (
            "NUL in the login",
            Some(basic(format!("a\0b:{USER_PASSWORD}").as_bytes())),
        ),
        ("a 300-character login", Some(basic(long_name.as_bytes()))),
        (
            "wrong password",
            Some(basic(
                format!("{}:wrong-password", profile.username).as_bytes(),
            )),
        ),
        (
            "empty password",
            Some(basic(format!("{}:", profile.username).as_bytes())),
        ),
        (
            "the API token as the password",
            Some(basic(
                format!("{}:{}", profile.username, user.token).as_bytes(),
            )),
        ),
        (
            "the user id as the login",
            Some(basic(format!("{}:{USER_PASSWORD}", user.id).as_bytes())),
        ),
    ];

    for (case, header) in headers {
        // Act
        let answer = app.login_with_header(header.as_deref()).await;

        // Assert
        assert_eq!(
            (answer.status.as_u16(), answer.body.as_str()),
            (200, LOGIN_INVALID),
            "{case}"
        );
    }
    assert_eq!(app.token_count(user.id).await, 1);
    // A body is ignored, whatever it holds.
    let with_body = app
        .send(
            app.request(Method::POST, "/v2/authenticate.json")
                .basic_auth(&profile.username, Some(USER_PASSWORD))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(with_body.json()["status"], "OK", "{}", with_body.body);
    // Only POST.
    app.send(
        app.request(Method::GET, "/v2/authenticate.json")
            .basic_auth(&profile.username, Some(USER_PASSWORD)),
    )
    .await
    .assert(405, NOT_ALLOWED);
}

#[tokio::test]
async fn two_logins_give_two_tokens_that_both_work() {
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;

    let phone = app.login_token(&name, USER_PASSWORD).await;
    let laptop = app.login_token(&name, USER_PASSWORD).await;

    assert_ne!(phone, laptop);
    assert!(app.token_works(user.id, &phone).await);
    assert!(app.token_works(user.id, &laptop).await);
    assert!(app.token_works(user.id, &user.token).await);
    assert_eq!(app.token_count(user.id).await, 3);
    // A token is the user's own: another user's id with it is refused.
    let other = app.create_user().await;
    assert!(!app.token_works(other.id, &phone).await);
}

#[tokio::test]
async fn the_eleventh_login_revokes_the_oldest_token() {
    // Arrange: the token made at creation, then ten logins fill the ten slots.
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;
    let mut tokens = Vec::new();
    for _ in 0..10 {
        tokens.push(app.login_token(&name, USER_PASSWORD).await);
    }
    assert!(
        !app.token_works(user.id, &user.token).await,
        "the 10th login revoked the creation token"
    );
    assert!(app.token_works(user.id, &tokens[0]).await);

    // Act: the 11th login.
    tokens.push(app.login_token(&name, USER_PASSWORD).await);

    // Assert: the first login's token went; the ten newest work.
    assert!(!app.token_works(user.id, &tokens[0]).await);
    for token in &tokens[1..] {
        assert!(app.token_works(user.id, token).await);
    }
    assert_eq!(app.token_count(user.id).await, 10);
}

#[tokio::test]
async fn twenty_concurrent_logins_all_succeed_and_leave_ten_tokens() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;

    // Act
    let answers = join_all((0..20).map(|_| app.login(&name, USER_PASSWORD))).await;

    // Assert: every login succeeded with its own token…
    let mut tokens: Vec<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(
                (a.status.as_u16(), &a.json()["status"]),
                (200, &json!("OK")),
                "{}",
                a.body
            );
            a.json()["token"].as_str().expect("token").to_owned()
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 20);
    // …and exactly ten tokens remain, all from these logins.
    assert_eq!(app.token_count(user.id).await, 10);
    let mut working = 0;
    for token in &tokens {
        working += usize::from(app.token_works(user.id, token).await);
    }
    assert_eq!(working, 10);
    assert!(!app.token_works(user.id, &user.token).await);
}

/// The median of some durations.
fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn timed(answer: impl std::future::Future<Output = Answer>) -> (Duration, Answer) {
    let started = Instant::now();
    let answer = answer.await;
    (started.elapsed(), answer)
}

#[tokio::test]
async fn an_unknown_login_takes_about_as_long_as_a_wrong_password() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;
    // Warm up the pool and the hashing threads.
    app.login(&name, USER_PASSWORD).await;
    let (mut unknown, mut wrong, mut missing) = (Vec::new(), Vec::new(), Vec::new());

    // Act: alternate the cases, so load on the machine hits them alike.
    for round in 0..15 {
        let (time, answer) = timed(app.login(&format!("nobody-{round}"), "wrong-password")).await;
        answer.assert(200, LOGIN_INVALID);
        unknown.push(time);
        let (time, answer) = timed(app.login(&name, "wrong-password")).await;
        answer.assert(200, LOGIN_INVALID);
        wrong.push(time);
        let (time, answer) = timed(app.login_with_header(None)).await;
        answer.assert(200, LOGIN_INVALID);
        missing.push(time);
        // Stay under the throttle: this test is about timing only.
        sqlx::query("delete from login_throttle")
            .execute(&app.pool)
            .await
            .unwrap();
    }

    // Assert: the medians, compared.
    let fastest = |times: &[Duration]| times.iter().min().copied().unwrap_or_default();
    println!(
        "login timing, fastest: unknown login {:?}, wrong password {:?}, no header {:?}",
        fastest(&unknown),
        fastest(&wrong),
        fastest(&missing)
    );
    let (unknown, wrong, missing) = (median(unknown), median(wrong), median(missing));
    println!("login timing, medians: unknown login {unknown:?}, wrong password {wrong:?}, no header {missing:?}");
    // The two a guesser can tell apart only by timing: a generous factor 2.
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "an unknown login took {unknown:?}, a wrong password {wrong:?} (ratio {ratio:.2})"
    );
    // A missing header skips the database but still pays argon2.
    let ratio = missing.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.33..3.0).contains(&ratio),
        "no header took {missing:?}, a wrong password {wrong:?} (ratio {ratio:.2})"
    );
}
