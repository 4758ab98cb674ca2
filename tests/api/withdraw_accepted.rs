//! What an accepted withdrawal does: a pending withdrawal, a debit of the
//! amount and the fee, and the calendar day it takes (rule 3) until cancelled.

use dompet::domain::WithdrawalId;

use crate::helpers::{
    accepted, rejected, spawn_app, spawn_app_with, TestApp, TestUser, RULE_ONCE_A_DAY,
};

/// Moves all of the user's withdrawals to yesterday.
async fn move_withdrawals_to_yesterday(app: &TestApp, user: &TestUser) {
    sqlx::query("update withdrawals set local_day = local_day - 1 where user_id = $1")
        .bind(user.id)
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_accepted_withdrawal_is_pending_debits_its_amount_and_lowers_the_balance() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;

    // Act
    let answer = app.withdraw(&user, 25_000, account, &user.password).await;

    // Assert
    let id = answer.withdrawal_id();
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
    answer.assert(200, &accepted(answer.withdrawal_id()));
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
        .cancel_withdrawal(WithdrawalId::new(answer.withdrawal_id()))
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
    let first = app
        .withdraw(&user, 30_000, account, &user.password)
        .await
        .withdrawal_id();
    app.dompet
        .cancel_withdrawal(WithdrawalId::new(first))
        .await
        .unwrap();
    assert_eq!(app.balance(&user).await, 50_000);

    // Act
    let second = app.withdraw(&user, 40_000, account, &user.password).await;

    // Assert
    second.assert(200, &accepted(second.withdrawal_id()));
    assert_eq!(app.balance(&user).await, 10_000);
    app.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_processed_withdrawal_still_holds_its_day() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let first = app
        .withdraw(&user, 10_000, account, &user.password)
        .await
        .withdrawal_id();
    app.dompet
        .process_withdrawal(WithdrawalId::new(first))
        .await
        .unwrap();
    let before = app.ledger_fingerprint().await;

    // Act
    let second = app.withdraw(&user, 10_000, account, &user.password).await;

    // Assert
    second.assert(200, &rejected(&[RULE_ONCE_A_DAY]));
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
    today.assert(200, &accepted(today.withdrawal_id()));
    assert_eq!(app.balance(&user).await, 30_000);
    assert_eq!(app.withdrawal_counts(&user).await, (2, 2));
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
        let app = spawn_app_with(|c| c.timezone = zone).await;
        let (user, account) = app.funded_user(50_000).await;

        // Act
        let first = app.withdraw(&user, 10_000, account, &user.password).await;
        let second = app.withdraw(&user, 10_000, account, &user.password).await;

        // Assert
        first.assert(200, &accepted(first.withdrawal_id()));
        let (day, offset): (chrono::NaiveDate, String) = sqlx::query_as(
            "select local_day, to_char(created_at at time zone $2, 'YYYY-MM-DD') from withdrawals where user_id = $1",
        )
        .bind(user.id)
        .bind(zone.name())
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(day.to_string(), offset, "local day in {zone}");
        second.assert(200, &rejected(&[RULE_ONCE_A_DAY]));
    }
}
