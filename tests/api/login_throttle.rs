//! The login throttle of SPEC §5.1: five failures per lower-cased login name
//! within 30 minutes lock the name out for 30 minutes, without argon2.

use std::time::{Duration, Instant};

use dompet::service::{Credentials, LoginOutcome};
use futures::future::join_all;

use crate::helpers::{spawn_app, TestApp, LOGIN_INVALID, LOGIN_THROTTLED, USER_PASSWORD};

impl TestApp {
    /// Five wrong passwords for `login`, each answered as a plain failure.
    async fn fail_five_times(&self, login: &str) {
        for attempt in 1..=5 {
            let answer = self.login(login, "wrong-password").await;
            assert_eq!(answer.body, LOGIN_INVALID, "attempt {attempt}");
        }
    }

    async fn throttle_rows(&self) -> i64 {
        sqlx::query_scalar("select count(*) from login_throttle")
            .fetch_one(&self.pool)
            .await
            .expect("count throttle rows")
    }

    /// Moves every lockout and counted failure `minutes` into the past.
    async fn age_throttle(&self, minutes: i32) {
        sqlx::query(
            "update login_throttle
             set locked_until = locked_until - make_interval(mins => $1),
                 failures = array(select f - make_interval(mins => $1) from unnest(failures) f),
                 forget_after = forget_after - make_interval(mins => $1)",
        )
        .bind(minutes)
        .execute(&self.pool)
        .await
        .expect("age the throttle");
    }
}

#[tokio::test]
async fn five_failures_lock_an_existing_name_even_against_the_right_password() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let profile = app.profile(user.id).await;

    // Act
    app.fail_five_times(&profile.username).await;

    // Assert: refused with the throttle's message, the right password too,
    // in any case of the name; the email is a name of its own.
    app.login(&profile.username, USER_PASSWORD)
        .await
        .assert(200, LOGIN_THROTTLED);
    app.login(&profile.username.to_uppercase(), USER_PASSWORD)
        .await
        .assert(200, LOGIN_THROTTLED);
    assert_eq!(app.token_count(user.id).await, 1);
    let by_email = app.login(&profile.email, USER_PASSWORD).await;
    assert_eq!(by_email.json()["status"], "OK", "{}", by_email.body);
    // Every node agrees: the count lives in PostgreSQL, so another service
    // over the same database refuses too.
    let elsewhere = app
        .dompet
        .login(Some(Credentials {
            login: profile.username.clone(),
            password: USER_PASSWORD.to_owned(),
        }))
        .await
        .expect("login");
    assert!(
        matches!(elsewhere, LoginOutcome::Throttled),
        "{elsewhere:?}"
    );
}

#[tokio::test]
async fn names_that_match_nobody_are_throttled_alike() {
    let app = spawn_app().await;

    app.fail_five_times("Nobody@Example.com").await;

    // The same refusal an existing account gets, for the name in any case.
    app.login("nobody@example.com", "wrong-password")
        .await
        .assert(200, LOGIN_THROTTLED);
    // Other names are not affected.
    app.login("somebody-else", "wrong-password")
        .await
        .assert(200, LOGIN_INVALID);
}

#[tokio::test]
async fn a_locked_name_is_refused_without_running_argon2() {
    // Arrange: one name locked, another counting failures.
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;
    app.fail_five_times("locked-name").await;
    let (mut refused, mut verified) = (Vec::new(), Vec::new());

    // Act: alternate a refusal and an argon2 verify (a wrong password).
    for _ in 0..7 {
        let started = Instant::now();
        app.login("locked-name", USER_PASSWORD)
            .await
            .assert(200, LOGIN_THROTTLED);
        refused.push(started.elapsed());
        let started = Instant::now();
        app.login(&name, "wrong-password")
            .await
            .assert(200, LOGIN_INVALID);
        verified.push(started.elapsed());
        sqlx::query("delete from login_throttle where failures <> '{}'")
            .execute(&app.pool)
            .await
            .unwrap();
    }

    // Assert: the fastest refusal is far faster than the fastest verify
    // (argon2 alone takes tens of milliseconds).
    let (refused, verified): (Duration, Duration) = (
        refused.into_iter().min().unwrap(),
        verified.into_iter().min().unwrap(),
    );
    println!("fastest throttled refusal {refused:?}, fastest wrong password {verified:?}");
    assert!(
        refused * 3 < verified,
        "refusal {refused:?} vs verify {verified:?}"
    );
}

#[tokio::test]
async fn a_success_resets_the_count() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;
    for _ in 0..4 {
        app.login(&name, "wrong-password")
            .await
            .assert(200, LOGIN_INVALID);
    }

    // Act
    app.login_token(&name, USER_PASSWORD).await;

    // Assert: five more failures are needed to lock the name.
    app.fail_five_times(&name).await;
    app.login(&name, USER_PASSWORD)
        .await
        .assert(200, LOGIN_THROTTLED);
}

#[tokio::test]
async fn failures_count_for_30_minutes_and_a_lockout_lasts_30_minutes() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;

    // Four failures 31 minutes ago no longer count: four fresh ones do not lock.
    for _ in 0..4 {
        app.login(&name, "wrong-password")
            .await
            .assert(200, LOGIN_INVALID);
    }
    app.age_throttle(31).await;
    for _ in 0..4 {
        app.login(&name, "wrong-password")
            .await
            .assert(200, LOGIN_INVALID);
    }
    let answer = app.login(&name, USER_PASSWORD).await;
    assert_eq!(answer.json()["status"], "OK", "{}", answer.body);

    // A lockout holds at 29 minutes, refusals do not extend it, and it is
    // over at 31.
    app.fail_five_times(&name).await;
    app.age_throttle(29).await;
    app.login(&name, "wrong-password")
        .await
        .assert(200, LOGIN_THROTTLED);
    app.age_throttle(2).await;
    let answer = app.login(&name, USER_PASSWORD).await;
    assert_eq!(answer.json()["status"], "OK", "{}", answer.body);
}

#[tokio::test]
async fn concurrent_guesses_learn_no_more_than_five_verdicts() {
    // Arrange
    let app = spawn_app().await;
    let user = app.create_user().await;
    let name = app.profile(user.id).await.username;

    // Act: twenty wrong guesses at once, all past the first lock check.
    let guesses: Vec<String> = (0..20).map(|i| format!("guess-{i}")).collect();
    let answers = join_all(guesses.iter().map(|guess| app.login(&name, guess))).await;

    // Assert: five are told "wrong"; the rest, refused, learn nothing.
    let invalid = answers.iter().filter(|a| a.body == LOGIN_INVALID).count();
    let throttled = answers.iter().filter(|a| a.body == LOGIN_THROTTLED).count();
    assert_eq!((invalid, throttled), (5, 15));
    app.login(&name, USER_PASSWORD)
        .await
        .assert(200, LOGIN_THROTTLED);
}

#[tokio::test]
async fn spraying_names_cannot_grow_the_throttle_without_bound() {
    // Arrange: one live lockout, and 250 rows from long ago.
    let app = spawn_app().await;
    app.fail_five_times("locked-name").await;
    sqlx::query(
        "insert into login_throttle (login_sha256, failures, forget_after)
         select sha256(('old-' || g)::bytea), array[now() - interval '2 hours'],
                now() - interval '90 minutes'
         from generate_series(1, 250) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(app.throttle_rows().await, 251);

    // Act and assert: each sprayed name adds its row and prunes up to a
    // hundred stale ones, so the stale rows go and the live ones stay.
    for (name, rows) in [("spray-1", 152), ("spray-2", 53), ("spray-3", 4)] {
        app.login(name, "wrong-password")
            .await
            .assert(200, LOGIN_INVALID);
        assert_eq!(app.throttle_rows().await, rows, "after {name}");
    }
    app.login("locked-name", "wrong-password")
        .await
        .assert(200, LOGIN_THROTTLED);
}
