//! The ledger audit (`GET /ledger/verify`): clean on a busy ledger, and each
//! kind of damage reported row by row; the append-only guard on mutations.

use serde_json::{json, Value};

use crate::helpers::{
    exec, plant_broken_chain, report, scalar, scene, spawn_app, spawn_app_with, tamper, violation,
    TestApp, TestUser,
};

#[tokio::test]
async fn ledger_verify_passes_on_a_busy_clean_ledger() {
    // Arrange: postings, a processed, a cancelled and a pending withdrawal,
    // a withdrawal after a cancel, and a user who never had money.
    let app = spawn_app_with(|c| c.withdrawal_fee = 500).await;
    let (alice, _) = app.user_with_withdrawal(10_000, 5_000).await;
    let (bob, bobs_first) = app.user_with_withdrawal(7_000, 3_000).await;
    let (_, carols) = app.user_with_withdrawal(1_000, 500).await;
    let _dave = app.create_user().await;
    for (n, (user, action, amount)) in [
        (&alice, "payment", 2_000),
        (&bob, "refund", 400),
        (&alice, "remit", 9_000),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = app.admin_post_mutation(json!({"user_id":user.id,"action":action,"amount":amount,"idempotency_key":format!("busy-{n}")}),
        )
        .await;
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    assert_eq!(app.admin_cancel_withdrawal(bobs_first).await.status, 200);
    let bobs_account = app.add_bank_account(&bob).await;
    let again = app.withdraw(&bob, 3_000, bobs_account, &bob.password).await;
    assert_eq!(again.json()["status"], "OK", "{again:?}");
    assert_eq!(app.admin_process_withdrawal(carols).await.status, 200);

    // Act
    let answer = app.admin_verify_ledger().await;

    // Assert
    answer.assert(200, r#"{"ok":true,"users_checked":4,"violations":[]}"#);
}

#[tokio::test]
async fn ledger_verify_reports_a_broken_chain_row_by_row() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let expected = plant_broken_chain(&app, &scene).await;

    app.admin_verify_ledger().await.assert(200, &expected);
}

#[tokio::test]
async fn ledger_verify_reports_a_wallet_that_differs_from_its_last_mutation() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let [_, _, m3] = scene.mutations;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 2600 where id = {}",
            scene.alice.deposit_id
        ),
    )
    .await;
    // A wallet holding money without any mutation at all.
    let carol = app.create_user().await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 5 where id = {}",
            carol.deposit_id
        ),
    )
    .await;

    let answer = app.admin_verify_ledger().await;

    answer.assert(
        200,
        &report(
            3,
            &[
                violation(
                    "wallet_balance_mismatch",
                    scene.alice.id,
                    Some(m3),
                    None,
                    &format!(
                        "wallet {} holds 2600 but the last final_balance is 2500",
                        scene.alice.deposit_id
                    ),
                ),
                violation(
                    "wallet_balance_mismatch",
                    carol.id,
                    None,
                    None,
                    &format!(
                        "wallet {} holds 5 but the last final_balance is 0",
                        carol.deposit_id
                    ),
                ),
            ],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_final_balance_that_does_not_follow_from_the_amount() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let [_, _, m3] = scene.mutations;
    exec(
        &app.pool,
        "alter table mutations drop constraint mutations_final_balance_arithmetic",
    )
    .await;
    tamper(
        &app.pool,
        &format!("update mutations set amount = 600 where id = {m3}"),
    )
    .await;

    let answer = app.admin_verify_ledger().await;

    answer.assert(
        200,
        &report(
            2,
            &[violation(
                "final_balance_arithmetic",
                scene.alice.id,
                Some(m3),
                None,
                "Deposit::Debit: initial_balance 3000 and amount 600 cannot give final_balance 2500",
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_restore_that_forgot_the_fee() {
    // Arrange: a cancelled withdrawal whose restore gave back the amount
    // without the 500 fee, the chain and wallet made to agree with it.
    let app = spawn_app_with(|c| c.withdrawal_fee = 500).await;
    scene(&app).await;
    let (carol, id) = app.user_with_withdrawal(20_000, 10_000).await;
    assert_eq!(app.admin_cancel_withdrawal(id).await.status, 200);
    let restore = scalar(
        &app.pool,
        &format!("select id from mutations where action = 'restore' and withdrawal_id = {id}"),
    )
    .await;
    tamper(
        &app.pool,
        &format!("update mutations set amount = 20000, final_balance = 29500 where id = {restore}"),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 29500 where id = {}",
            carol.deposit_id
        ),
    )
    .await;

    // Act
    let answer = app.admin_verify_ledger().await;

    // Assert
    answer.assert(
        200,
        &report(
            3,
            &[violation(
                "restore_mismatch",
                carol.id,
                Some(restore),
                Some(id),
                "restore of 20000 for amount 20000 + fee 500",
            )],
        ),
    );
}

/// Marks a fresh withdrawal cancelled without its restore; returns the user,
/// the withdrawal and the violation `ledger verify` must report.
async fn plant_cancel_without_restore(app: &TestApp) -> (TestUser, i64, String) {
    let (carol, id) = app.user_with_withdrawal(20_000, 1_000).await;
    exec(
        &app.pool,
        &format!(
            "update withdrawals set state = 'cancelled', cancelled_at = now() where id = {id}"
        ),
    )
    .await;
    let expected = violation(
        "restore_mismatch",
        carol.id,
        None,
        Some(id),
        "cancelled withdrawal without a restore",
    );
    (carol, id, expected)
}

#[tokio::test]
async fn ledger_verify_reports_a_cancelled_withdrawal_without_a_restore() {
    let app = spawn_app().await;
    scene(&app).await;
    let (_, _, expected) = plant_cancel_without_restore(&app).await;

    app.admin_verify_ledger()
        .await
        .assert(200, &report(3, &[expected]));
}

#[tokio::test]
async fn ledger_verify_reports_a_restore_on_a_processed_withdrawal() {
    // Arrange: money given back for a withdrawal that was paid out.
    let app = spawn_app().await;
    let (carol, id) = app.user_with_withdrawal(20_000, 1_000).await;
    assert_eq!(app.admin_process_withdrawal(id).await.status, 200);
    let restore: i64 = scalar(
        &app.pool,
        &format!(
            "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, withdrawal_id)
             values ({}, {}, 'Deposit::Credit', 'restore', 20000, 1000, 21000, {id}) returning id",
            carol.id, carol.deposit_id
        ),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 21000 where id = {}",
            carol.deposit_id
        ),
    )
    .await;

    // Act
    let answer = app.admin_verify_ledger().await;

    // Assert
    answer.assert(
        200,
        &report(
            1,
            &[violation(
                "restore_mismatch",
                carol.id,
                Some(restore),
                Some(id),
                "restore on a processed withdrawal",
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_withdrawal_that_never_debited_the_wallet() {
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let account = app.add_bank_account(&scene.bob).await;
    let id: i64 = scalar(
        &app.pool,
        &format!(
            "insert into withdrawals (user_id, deposit_id, bank_account_id, amount, local_day)
             values ({}, {}, {account}, 4000, date '2020-02-02') returning id",
            scene.bob.id, scene.bob.deposit_id
        ),
    )
    .await;

    let answer = app.admin_verify_ledger().await;

    answer.assert(
        200,
        &report(
            2,
            &[violation(
                "withdrawal_debit_mismatch",
                scene.bob.id,
                None,
                Some(id),
                "no withdrawal debit for this withdrawal",
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_lists_violations_by_user_then_mutation() {
    // Two kinds of damage at once, across two users.
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let chain = plant_broken_chain(&app, &scene).await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = 1 where id = {}",
            scene.bob.deposit_id
        ),
    )
    .await;
    let bobs_mutation = scalar(
        &app.pool,
        &format!("select id from mutations where user_id = {}", scene.bob.id),
    )
    .await;

    let answer = app.admin_verify_ledger().await;

    let alice_part = serde_json::from_str::<Value>(&chain).unwrap()["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            // Re-serialise in the contract's key order.
            violation(
                v["check"].as_str().unwrap(),
                v["user_id"].as_i64().unwrap(),
                v["mutation_id"].as_i64(),
                v["withdrawal_id"].as_i64(),
                v["detail"].as_str().unwrap(),
            )
        })
        .collect::<Vec<_>>();
    let bob_part = violation(
        "wallet_balance_mismatch",
        scene.bob.id,
        Some(bobs_mutation),
        None,
        &format!(
            "wallet {} holds 1 but the last final_balance is 7000",
            scene.bob.deposit_id
        ),
    );
    let mut all = alice_part;
    all.push(bob_part);
    answer.assert(200, &report(2, &all));
}

#[tokio::test]
async fn ledger_verify_reports_a_restore_credited_to_another_user() {
    // Arrange: carol's cancelled withdrawal, its restore moved to dave's
    // wallet with both chains and wallets made to agree.
    let app = spawn_app().await;
    let (carol, id) = app.user_with_withdrawal(20_000, 1_000).await;
    assert_eq!(app.admin_cancel_withdrawal(id).await.status, 200);
    let dave = app.create_user().await;
    let restore = scalar(
        &app.pool,
        &format!("select id from mutations where action = 'restore' and withdrawal_id = {id}"),
    )
    .await;
    tamper(
        &app.pool,
        &format!(
            "update mutations set user_id = {}, deposit_id = {}, initial_balance = 0, final_balance = 20000
             where id = {restore}",
            dave.id, dave.deposit_id
        ),
    )
    .await;
    exec(
        &app.pool,
        &format!(
            "update deposits set balance = case user_id when {} then 1000 else 20000 end
             where user_id in ({}, {})",
            carol.id, carol.id, dave.id
        ),
    )
    .await;

    // Act
    let answer = app.admin_verify_ledger().await;

    // Assert
    answer.assert(
        200,
        &report(
            2,
            &[violation(
                "restore_mismatch",
                carol.id,
                Some(restore),
                Some(id),
                &format!("restore credited to user {}", dave.id),
            )],
        ),
    );
}

#[tokio::test]
async fn ledger_verify_reports_a_user_without_a_wallet() {
    let app = spawn_app().await;
    scene(&app).await;
    let erin = app.create_user().await;
    exec(
        &app.pool,
        &format!("delete from deposits where id = {}", erin.deposit_id),
    )
    .await;

    let answer = app.admin_verify_ledger().await;

    answer.assert(
        200,
        &report(
            3,
            &[violation(
                "wallet_missing",
                erin.id,
                None,
                None,
                "the user has no wallet",
            )],
        ),
    );
}

#[tokio::test]
async fn the_database_refuses_to_rewrite_or_erase_a_mutation() {
    // Arrange
    let app = spawn_app().await;
    let scene = scene(&app).await;
    let [m1, ..] = scene.mutations;
    let before = app.ledger_fingerprint().await;

    for sql in [
        format!("update mutations set transaction_id = 1 where id = {m1}"),
        format!("delete from mutations where id = {m1}"),
        "truncate mutations cascade".to_owned(),
    ] {
        // Act
        let refused = sqlx::query(&sql).execute(&app.pool).await;

        // Assert: refused by the ledger's own guard (a raised exception),
        // not by some unrelated constraint.
        let err = refused.expect_err(&sql);
        let code = err.as_database_error().and_then(|e| e.code());
        assert_eq!(code.as_deref(), Some("P0001"), "{sql}: {err}");
    }
    assert_eq!(app.ledger_fingerprint().await, before);
    app.assert_ledger_ok().await;
}
