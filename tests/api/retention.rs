//! Retention (SPEC §7): Idempotency-Keys (withdraw and top-up) are kept 30
//! days, password failures until they leave their window, lockouts until
//! they end, login throttle rows until their `forget_after`; expired
//! top-ups get their state written. All in the server's background, batch
//! by batch.

use std::time::{Duration, Instant};

use dompet::service::retention::{PruneJob, Pruning};

use crate::helpers::{exec, spawn_app, spawn_app_with, TestApp, TestUser};

/// Runs several statements at once.
async fn script(pool: &sqlx::PgPool, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Old and young rows of every kind the pruner looks after.
async fn plant_old_and_young_rows(app: &TestApp) -> (TestUser, TestUser) {
    let (alice, bob) = (app.create_user().await, app.create_user().await);
    let (a, b) = (alice.id, bob.id);
    let (wallet, account) = (alice.deposit_id, app.add_bank_account(&alice).await);
    script(
        &app.pool,
        &format!(
            "insert into withdraw_idempotency (user_id, key, fingerprint, outcome, created_at)
             select {a}, 'old-' || n, 'f', '\"LockedOut\"', now() - interval '31 days' - n * interval '1 hour'
             from generate_series(1, 5) n;
             insert into withdraw_idempotency (user_id, key, fingerprint, outcome, created_at) values
                 ({a}, 'young-29-days', 'f', '\"LockedOut\"', now() - interval '29 days'),
                 ({b}, 'young-today', 'f', '\"LockedOut\"', now());
             insert into password_failures (user_id, failed_at) values
                 ({a}, now() - interval '45 minutes'), ({a}, now() - interval '31 minutes'),
                 ({a}, now() - interval '10 minutes'), ({b}, now());
             insert into password_lockouts (user_id, locked_until) values
                 ({a}, now() - interval '1 minute'), ({b}, now() + interval '20 minutes');
             insert into login_throttle (login_sha256, forget_after) values
                 (sha256('forgotten'), now() - interval '1 minute'),
                 (sha256('remembered'), now() + interval '20 minutes');
             insert into topup_idempotency (user_id, key, fingerprint, outcome, created_at) values
                 ({a}, 'topup-old', 'f', '{{}}', now() - interval '31 days'),
                 ({a}, 'topup-young', 'f', '{{}}', now() - interval '29 days');
             insert into topups (user_id, deposit_id, bank_account_id, amount, unique_code, total,
                                 created_at, expires_at) values
                 ({a}, {wallet}, {account}, 10000, 1, 10001, now() - interval '3 days',
                  now() - interval '1 day'),
                 ({a}, {wallet}, {account}, 10000, 2, 10002, now(), now() + interval '2 days');"
        ),
    )
    .await;
    (alice, bob)
}

/// What is left, in a fixed order: idempotency keys (withdraw and top-up),
/// password failures (minutes old), lockouts (user ids), login throttle rows
/// (1 when only the young one), and the top-ups' states by total.
async fn remaining(app: &TestApp) -> (Vec<String>, Vec<i64>, Vec<i64>, i64, Vec<String>) {
    let keys = sqlx::query_scalar(
        "select key from withdraw_idempotency union all select key from topup_idempotency
         order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let failures = sqlx::query_scalar(
        "select (extract(epoch from now() - failed_at) / 60)::bigint from password_failures order by failed_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let lockouts = sqlx::query_scalar("select user_id from password_lockouts")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let throttled = sqlx::query_scalar(
        "select count(*) from login_throttle where login_sha256 = sha256('remembered')
         having count(*) = (select count(*) from login_throttle)",
    )
    .fetch_optional(&app.pool)
    .await
    .unwrap()
    .unwrap_or(-1);
    let topups = sqlx::query_scalar("select total || ' ' || state from topups order by total")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    (keys, failures, lockouts, throttled, topups)
}

/// What `remaining` finds once every old row went.
fn only_young(bob: &TestUser) -> (Vec<String>, Vec<i64>, Vec<i64>, i64, Vec<String>) {
    (
        ["topup-young", "young-29-days", "young-today"]
            .map(String::from)
            .to_vec(),
        vec![10, 0],
        vec![bob.id],
        1,
        vec!["10001 expired".to_owned(), "10002 pending".to_owned()],
    )
}

#[tokio::test]
async fn one_pruning_pass_removes_exactly_the_rows_past_their_time() {
    // Arrange
    let app = spawn_app().await;
    let (_, bob) = plant_old_and_young_rows(&app).await;

    // Act: batches of 2, so the five old keys take three statements.
    let report = app
        .dompet
        .prune_once(&Pruning {
            batch_size: 2,
            pause: Duration::ZERO,
        })
        .await
        .expect("a pruning pass");

    // Assert
    assert_eq!(
        [
            report.removed(PruneJob::IdempotencyKeys),
            report.removed(PruneJob::PasswordFailures),
            report.removed(PruneJob::EndedLockouts),
            report.removed(PruneJob::LoginThrottle),
            report.removed(PruneJob::TopupIdempotencyKeys),
            report.removed(PruneJob::ExpiredTopups),
        ],
        [5, 2, 1, 1, 1, 1]
    );
    assert_eq!(remaining(&app).await, only_young(&bob));
    assert_eq!(
        app.dompet
            .prune_once(&Pruning::default())
            .await
            .unwrap()
            .total(),
        0,
        "a second pass finds nothing"
    );
}

#[tokio::test]
async fn a_pruned_key_no_longer_replays_but_a_young_one_still_does() {
    // Arrange: two accepted withdrawals under keys, one made 31 days ago.
    let app = spawn_app().await;
    let (user, account) = app.funded_user(50_000).await;
    let first = app
        .withdraw_with_key(&user, "payout-old", 10_000, account)
        .await;
    let first_id = first.withdrawal_id();
    exec(
        &app.pool,
        &format!(
            "update withdraw_idempotency set created_at = now() - interval '31 days' where user_id = {}",
            user.id
        ),
    )
    .await;
    app.admin_cancel_withdrawal(first_id).await;
    let second = app
        .withdraw_with_key(&user, "payout-young", 10_000, account)
        .await;

    // Act
    app.dompet.prune_once(&Pruning::default()).await.unwrap();

    // Assert: the young key replays its answer; the old one is a new request,
    // judged by the rules today (one withdrawal a day).
    let replay = app
        .withdraw_with_key(&user, "payout-young", 10_000, account)
        .await;
    assert_eq!(replay.body, second.body);
    let old = app
        .withdraw_with_key(&user, "payout-old", 10_000, account)
        .await;
    old.assert(
        200,
        r#"{"status":"ERROR","withdrawal_id":null,"message":"Pencairan hanya bisa dilakukan satu kali sehari."}"#,
    );
}

#[tokio::test]
async fn the_server_prunes_in_the_background_at_its_interval() {
    // Arrange
    let app = spawn_app_with(|c| c.prune_interval = Duration::from_secs(1)).await;
    let (_, bob) = plant_old_and_young_rows(&app).await;

    // Act: wait for the server's own pass.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut left = remaining(&app).await;
    while left != only_young(&bob) {
        assert!(Instant::now() < deadline, "no pruning happened: {left:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        left = remaining(&app).await;
    }

    // Assert: the loop above ended, so only young rows are left; and the
    // server, asked again, still answers.
    assert_eq!(app.mutations(&bob, "").await.status, 200);
}
