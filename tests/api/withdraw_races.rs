//! Withdrawals under concurrency: the database, not luck, keeps one
//! withdrawal a day, one effect per Idempotency-Key and no overdraft.

use dompet::{
    domain::{Action, Amount, UserId},
    service::{Posted, Posting, ServiceError},
};
use futures::future::join_all;

use crate::helpers::{
    accepted, random, rejected, spawn_app, spawn_app_with, LOCKED_OUT, RULE_BALANCE,
    RULE_ONCE_A_DAY, RULE_PASSWORD, WITHDRAW,
};

const RACERS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_simultaneous_withdrawals_by_one_user_make_exactly_one() {
    // Arrange: enough money for every request, so only rule 3 can refuse.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(1_000_000).await;

    // Act
    let answers =
        join_all((0..RACERS).map(|_| app.withdraw(&user, 10_000, account, &user.password))).await;

    // Assert
    let winners: Vec<_> = answers
        .iter()
        .filter(|a| a.json()["status"] == "OK")
        .collect();
    assert_eq!(winners.len(), 1, "{answers:#?}");
    winners[0].assert(200, &accepted(winners[0].withdrawal_id()));
    let once_a_day = rejected(&[RULE_ONCE_A_DAY]);
    for loser in answers.iter().filter(|a| a.json()["status"] != "OK") {
        loser.assert(200, &once_a_day);
    }
    assert_eq!(app.balance(&user).await, 990_000);
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_retries_with_one_idempotency_key_act_once_and_answer_alike() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;

    // Act
    let answers =
        join_all((0..RACERS).map(|_| app.withdraw_with_key(&user, "one-click", 25_000, account)))
            .await;

    // Assert
    let first = &answers[0];
    first.assert(200, &accepted(first.withdrawal_id()));
    for answer in &answers {
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (first.status, first.body.as_str())
        );
    }
    assert_eq!(app.withdrawal_counts(&user).await, (1, 1));
    assert_eq!(app.balance(&user).await, 75_000);
    let stored: i64 =
        sqlx::query_scalar("select count(*) from withdraw_idempotency where user_id = $1")
            .bind(user.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, 1);
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_withdrawals_of_different_users_all_succeed() {
    // Arrange
    let app = spawn_app().await;
    let mut users = Vec::new();
    for _ in 0..12 {
        users.push(app.funded_user(50_000).await);
    }

    // Act
    let answers = join_all(
        users
            .iter()
            .map(|(user, account)| app.withdraw(user, 20_000, *account, &user.password)),
    )
    .await;

    // Assert
    for ((user, _), answer) in users.iter().zip(&answers) {
        answer.assert(200, &accepted(answer.withdrawal_id()));
        assert_eq!(app.balance(user).await, 30_000);
        assert_eq!(app.withdrawal_counts(user).await, (1, 1));
    }
    app.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_withdrawal_racing_payment_debits_never_overdraws_the_wallet() {
    let app = spawn_app_with(|config| config.withdrawal_fee = 500).await;
    for round in 0..8 {
        // Arrange: a withdrawal of 60 000 (+500 fee) and ten payments of
        // 15 000 against 100 000 — they cannot all fit.
        let initial = 100_000;
        let (user, account) = app.funded_user(initial).await;
        // Staggered over the time the withdrawal spends checking the password
        // and inside its transaction.
        let payments = (0..10i64).map(|i| {
            let dompet = app.dompet.clone();
            let user_id = user.id;
            let key = format!("race-{round}-{i}-{}", random(8));
            let delay = std::time::Duration::from_millis((i * 8 + round * 3) as u64);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                dompet
                    .post_mutation(Posting {
                        user_id: UserId::new(user_id),
                        action: Action::Payment,
                        amount: Amount::new(15_000).unwrap(),
                        transaction_id: Some(i),
                        transaction_no: None,
                        note: None,
                        idempotency_key: key,
                    })
                    .await
            })
        });
        let payments: Vec<_> = payments.collect();

        // Act
        let withdrawal = app.withdraw(&user, 60_000, account, &user.password).await;
        let payments = join_all(payments).await;

        // Assert
        let mut debited = 0;
        for payment in payments {
            match payment.expect("payment task") {
                Ok(Posted::Created(row)) => debited += row.amount,
                Err(ServiceError::InsufficientBalance { .. }) => {}
                other => panic!("round {round}: unexpected payment result {other:?}"),
            }
        }
        match withdrawal.json()["status"].as_str() {
            Some("OK") => {
                withdrawal.assert(200, &accepted(withdrawal.withdrawal_id()));
                debited += 60_500;
            }
            _ => withdrawal.assert(200, &rejected(&[RULE_BALANCE])),
        }
        let balance = app.balance(&user).await;
        assert!(balance >= 0, "round {round}: negative balance {balance}");
        assert_eq!(
            initial,
            balance + debited,
            "round {round}: money does not add up"
        );
        let lowest: i64 =
            sqlx::query_scalar("select min(final_balance) from mutations where user_id = $1")
                .bind(user.id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert!(lowest >= 0, "round {round}: a mutation left {lowest}");
        app.assert_ledger_ok().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_wrong_passwords_get_no_more_than_five_answers() {
    // Arrange
    let app = spawn_app().await;
    let (user, account) = app.funded_user(100_000).await;

    let guesses: Vec<String> = (0..20).map(|i| format!("guess-{i}")).collect();

    // Act: twenty guesses at once.
    let answers = join_all(
        guesses
            .iter()
            .map(|guess| app.withdraw(&user, 1000, account, guess)),
    )
    .await;

    // Assert: five told the password is wrong, the rest locked out.
    let wrong = rejected(&[RULE_PASSWORD]);
    let told_wrong = answers.iter().filter(|a| a.body == wrong).count();
    let locked = answers.iter().filter(|a| a.body == LOCKED_OUT).count();
    assert_eq!((told_wrong, locked), (5, 15), "{answers:#?}");
    app.withdraw(&user, 1000, account, &user.password)
        .await
        .assert(200, LOCKED_OUT);
    assert_eq!(app.withdrawal_counts(&user).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_writer_that_skips_the_wallet_lock_is_stopped_by_the_unique_index_not_a_500() {
    // Arrange: an intruder holds today's slot in an uncommitted transaction
    // without locking the wallet, so the request sees a free day, passes
    // every rule and blocks on the one-per-day index entry.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let mut intruder = dompet::store::begin(&app.pool).await.unwrap();
    sqlx::query(
        "insert into withdrawals (user_id, deposit_id, bank_account_id, amount, local_day)
         values ($1, $2, $3, 1000, (now() at time zone 'Asia/Jakarta')::date)",
    )
    .bind(user.id)
    .bind(user.deposit_id)
    .bind(account)
    .execute(&mut *intruder)
    .await
    .unwrap();
    let request = app
        .client
        .post(app.url(WITHDRAW))
        .basic_auth(user.id, Some(&user.token))
        .form(&[
            ("deposit_withdrawal[amount]", "5000".to_owned()),
            ("deposit_withdrawal[bank_account_id]", account.to_string()),
            ("deposit_withdrawal[password]", user.password.clone()),
        ])
        .send();
    let pending = tokio::spawn(request);
    app.wait_for_lock_waiters(1).await;

    // Act
    intruder.commit().await.unwrap();
    let response = pending.await.unwrap().unwrap();

    // Assert: rule 3's answer, and no money moved for it.
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), rejected(&[RULE_ONCE_A_DAY]));
    assert_eq!(app.balance(&user).await, 50_000);
    assert_eq!(app.withdrawal_counts(&user).await, (1, 0));
}
