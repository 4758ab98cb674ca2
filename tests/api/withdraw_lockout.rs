//! The password lockout: five wrong passwords within thirty minutes lock
//! the user's withdrawals for thirty minutes, before any rule is looked at.

use crate::helpers::{
    accepted, form, rejected, spawn_app, Answer, TestApp, TestUser, LOCKED_OUT,
    PUBLIC_UNAUTHORIZED, RULE_BALANCE, RULE_ONCE_A_DAY, RULE_PASSWORD, WITHDRAW,
    WITHDRAW_KEY_REUSED,
};

/// A well-formed withdrawal with a wrong password.
async fn wrong_password(app: &TestApp, user: &TestUser, account: i64) -> Answer {
    app.withdraw(user, 1000, account, "not-my-password").await
}

/// Five wrong passwords in a row: the user is locked out.
async fn lock_out(app: &TestApp, user: &TestUser, account: i64) {
    for attempt in 1..=5 {
        let answer = wrong_password(app, user, account).await;
        assert_eq!(
            answer.body,
            rejected(&[RULE_PASSWORD]),
            "wrong password #{attempt}"
        );
    }
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
        .assert(200, &rejected(&[RULE_PASSWORD]));
    age_recent_failures(app, user, 31).await;
    for _ in 0..3 {
        wrong_password(app, user, account)
            .await
            .assert(200, &rejected(&[RULE_PASSWORD]));
    }
    age_recent_failures(app, user, 20).await;
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
    let via_json = app.withdraw_json(&user,
        &format!(r#"{{"deposit_withdrawal":{{"amount":1000,"bank_account_id":{account},"password":"{}"}}}}"#, user.password),
    )
    .await;

    // Assert
    right.assert(200, LOCKED_OUT);
    wrong_everything.assert(200, LOCKED_OUT);
    via_json.assert(200, LOCKED_OUT);
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
            .assert(200, LOCKED_OUT);
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
            .assert(200, &rejected(&[RULE_PASSWORD]));
    }
    let right = app.withdraw(&user, 1000, account, &user.password).await;
    right.assert(200, &accepted(right.withdrawal_id()));
}

#[tokio::test]
async fn a_right_password_resets_the_count_of_wrong_ones() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    for _ in 0..4 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[RULE_PASSWORD]));
    }
    // Right password, refused by another rule: the count starts over.
    app.withdraw(&user, 200_000, account, &user.password)
        .await
        .assert(200, &rejected(&[RULE_BALANCE]));

    // Act
    for _ in 0..4 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[RULE_PASSWORD]));
    }
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, &accepted(right.withdrawal_id()));
}

#[tokio::test]
async fn wrong_passwords_older_than_thirty_minutes_are_forgotten() {
    // Arrange: of five failures, only four are within the last 30 minutes.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    fail_31_and_20_minutes_ago(&app, &user, account).await;
    wrong_password(&app, &user, account)
        .await
        .assert(200, &rejected(&[RULE_PASSWORD]));

    // Act
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, &accepted(right.withdrawal_id()));
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
            .assert(200, &rejected(&[RULE_PASSWORD]));
    }

    // Act
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, LOCKED_OUT);
}

/// When the lock ends and how many failures are counted: what a refusal
/// must leave as it found it.
async fn lockout_state(app: &TestApp, user: &TestUser) -> (Option<String>, i64) {
    sqlx::query_as(
        "select (select locked_until::text from password_lockouts where user_id = $1),
                (select count(*) from password_failures where user_id = $1)",
    )
    .bind(user.id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// A keyed withdrawal of 1000 to `account` with `password`.
async fn keyed(app: &TestApp, user: &TestUser, key: &str, account: i64, password: &str) -> Answer {
    app.send(
        app.withdraw_request(user, "")
            .header("idempotency-key", key)
            .body(form("1000", &account.to_string(), password)),
    )
    .await
}

#[tokio::test]
async fn during_a_lockout_a_retry_of_a_stored_key_replays_its_first_answer_whatever_the_password() {
    // Arrange: an accepted withdrawal and a rejection under keys, then a
    // lockout (as a client told to retry a 408 would find it).
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let first = keyed(&app, &user, "before-the-lock", account, &user.password).await;
    first.assert(200, &accepted(first.withdrawal_id()));
    let refused = keyed(&app, &user, "refused-before", account, "not-my-password").await;
    refused.assert(200, &rejected(&[RULE_ONCE_A_DAY, RULE_PASSWORD]));
    for _ in 0..4 {
        wrong_password(&app, &user, account)
            .await
            .assert(200, &rejected(&[RULE_ONCE_A_DAY, RULE_PASSWORD]));
    }
    let locked = lockout_state(&app, &user).await;
    let before = app.ledger_fingerprint().await;

    for password in [user.password.as_str(), "not-my-password", ""] {
        // Act
        let retry = keyed(&app, &user, "before-the-lock", account, password).await;
        let refused_again = keyed(&app, &user, "refused-before", account, password).await;

        // Assert: the first answers, byte for byte, whatever the password:
        // the answer teaches a password guesser nothing.
        retry.assert(200, &first.body);
        refused_again.assert(200, &refused.body);
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    assert_eq!(lockout_state(&app, &user).await, locked, "nothing counted");
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
}

#[tokio::test]
async fn during_a_lockout_a_stored_key_with_other_parameters_is_422_and_a_new_key_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let other_account = app.add_bank_account(&user).await;
    let first = keyed(&app, &user, "before-the-lock", account, &user.password).await;
    first.assert(200, &accepted(first.withdrawal_id()));
    for _ in 0..5 {
        wrong_password(&app, &user, account).await;
    }
    let locked = lockout_state(&app, &user).await;

    // Act
    let other_amount = app
        .send(
            app.withdraw_request(&user, "")
                .header("idempotency-key", "before-the-lock")
                .body(form("2000", &account.to_string(), &user.password)),
        )
        .await;
    let other_account = keyed(
        &app,
        &user,
        "before-the-lock",
        other_account,
        &user.password,
    )
    .await;
    let new_key = keyed(&app, &user, "after-the-lock", account, &user.password).await;

    // Assert
    other_amount.assert(422, WITHDRAW_KEY_REUSED);
    other_account.assert(422, WITHDRAW_KEY_REUSED);
    new_key.assert(200, LOCKED_OUT);
    assert_eq!(lockout_state(&app, &user).await, locked, "nothing counted");
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
}

#[tokio::test]
async fn replays_with_a_wrong_password_count_toward_the_lockout() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let keyed_wrong_password = || {
        app.send(
            app.withdraw_request(&user, "")
                .header("idempotency-key", "guessing")
                .body(form("1000", &account.to_string(), "not-my-password")),
        )
    };

    // Act: one fresh answer and four replays of it.
    for _ in 0..5 {
        keyed_wrong_password()
            .await
            .assert(200, &rejected(&[RULE_PASSWORD]));
    }
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, LOCKED_OUT);
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
        .assert(200, &rejected(&[RULE_PASSWORD]));
    }

    // Act
    let right = app.withdraw(&user, 1000, account, &user.password).await;

    // Assert
    right.assert(200, LOCKED_OUT);
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
    answer.assert(200, &accepted(answer.withdrawal_id()));
    app.withdraw(&locked, 1000, locked_account, &locked.password)
        .await
        .assert(200, LOCKED_OUT);
}

/// `keyed`, with `token` (another user's, or none that exists) under
/// `user`'s id.
async fn keyed_as(
    app: &TestApp,
    user: &TestUser,
    token: &str,
    key: &str,
    account: i64,
    password: &str,
) -> Answer {
    app.send(
        app.request(reqwest::Method::POST, WITHDRAW)
            .basic_auth(user.id, Some(token))
            .header("idempotency-key", key)
            .body(form("1000", &account.to_string(), password)),
    )
    .await
}

#[tokio::test]
async fn bad_credentials_are_refused_before_the_lockout_the_key_or_the_password_are_looked_at() {
    // Arrange: a stored key, and a user one wrong password from a lockout.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;
    let other = app.create_user().await;
    let first = keyed(&app, &user, "stored", account, &user.password).await;
    first.assert(200, &accepted(first.withdrawal_id()));
    for _ in 0..4 {
        wrong_password(&app, &user, account).await;
    }
    let counted = lockout_state(&app, &user).await;

    // Act + Assert: wrong passwords with bad credentials are 401 and not
    // counted; the stored key is not replayed to them.
    for token in ["not-a-token", other.token.as_str()] {
        for _ in 0..3 {
            keyed_as(&app, &user, token, "guess", account, "not-my-password")
                .await
                .assert(401, PUBLIC_UNAUTHORIZED);
        }
        keyed_as(&app, &user, token, "stored", account, &user.password)
            .await
            .assert(401, PUBLIC_UNAUTHORIZED);
    }
    assert_eq!(lockout_state(&app, &user).await, counted, "nothing counted");

    // …and, once the user is locked out, they still get the 401, not the
    // lockout's answer nor the key's.
    wrong_password(&app, &user, account)
        .await
        .assert(200, &rejected(&[RULE_ONCE_A_DAY, RULE_PASSWORD]));
    keyed(&app, &user, "other", account, &user.password)
        .await
        .assert(200, LOCKED_OUT);
    for token in ["not-a-token", other.token.as_str()] {
        keyed_as(&app, &user, token, "stored", account, &user.password)
            .await
            .assert(401, PUBLIC_UNAUTHORIZED);
        keyed_as(&app, &user, token, "other", account, &user.password)
            .await
            .assert(401, PUBLIC_UNAUTHORIZED);
    }
    keyed(&app, &user, "stored", account, &user.password)
        .await
        .assert(200, &first.body);
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
}
