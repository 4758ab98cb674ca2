//! A primary failover survived (SPEC §8): dompet is given both servers as
//! candidate primaries, the primary stops under traffic, the standby is
//! promoted, and dompet follows without a restart; every answer on the way is
//! a JSON envelope and no acknowledged money move is lost.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use dompet::{
    config::{Config, Secret},
    database::Database,
};

use reqwest::Method;

use crate::helpers::{Answer, Node, Pair, TestUser, MUTATIONS};

const USERS: usize = 16;
const WORKERS: usize = 8;

#[derive(Default)]
struct Outcomes {
    topups: Vec<String>,
    withdrawals: Vec<i64>,
    failures: Vec<Answer>,
    answered_after_promotion: usize,
    reads_after_promotion: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_standby_takes_over_without_a_restart_and_loses_no_acknowledged_move() {
    // Arrange: dompet on "primary,standby"; users with money.
    let mut pair = Pair::start().await;
    let candidates = format!("{},{}", pair.primary_url(), pair.standby_url());
    let mut config = Config::from_lookup(|_| None).expect("config");
    config.database_url = Some(Secret::new(candidates.clone()));
    config.migrate_database_url = Some(Secret::new(pair.owner_url()));
    let database = Database::open(&config, true)
        .await
        .expect("open on the primary");
    let node = Arc::new(
        Node::start(database.pool.clone(), |c| {
            c.database_url = Some(Secret::new(candidates));
        })
        .await,
    );
    let mut users: Vec<(TestUser, i64)> = Vec::new();
    for _ in 0..USERS {
        users.push(node.funded_user(1_000_000).await);
    }
    let synchronous: String = sqlx::query_scalar("show synchronous_commit")
        .fetch_one(&database.pool)
        .await
        .unwrap();
    assert_eq!(synchronous, "on", "the pair must replicate synchronously");

    // Act: traffic from several workers; the primary stops, the standby is
    // promoted, traffic goes on.
    let promoted = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let users = Arc::new(users);
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (node, users, promoted, stop) =
                (node.clone(), users.clone(), promoted.clone(), stop.clone());
            tokio::spawn(async move { traffic(w, &node, &users, &promoted, &stop).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tokio::task::block_in_place(|| {
        pair.primary.stop();
        pair.standby.promote().expect("promote the standby");
    });
    promoted.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::SeqCst);
    let mut all = Outcomes::default();
    for worker in workers {
        let done = worker
            .await
            .expect("a worker panicked (a hang or a non-JSON answer)");
        all.topups.extend(done.topups);
        all.withdrawals.extend(done.withdrawals);
        all.failures.extend(done.failures);
        all.answered_after_promotion += done.answered_after_promotion;
        all.reads_after_promotion += done.reads_after_promotion;
    }

    // Assert: failures were clean envelopes; writes succeed again; nothing
    // acknowledged is missing on the new primary; the ledger is sound.
    for failure in &all.failures {
        let body = failure.json();
        assert!(
            body["error"]["code"].is_string() || body["status"] == "ERROR",
            "not an envelope: {failure:?}"
        );
        assert!(failure.status.is_server_error(), "{failure:?}");
    }
    assert!(
        all.answered_after_promotion >= 10,
        "too few successes after the promotion: {}",
        all.answered_after_promotion
    );
    assert!(
        all.reads_after_promotion >= 10,
        "too few history reads after the promotion: {}",
        all.reads_after_promotion
    );
    let pool = &database.pool;
    let topups: i64 =
        sqlx::query_scalar("select count(*) from mutations where idempotency_key = any($1)")
            .bind(&all.topups)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        topups as usize,
        all.topups.len(),
        "an acknowledged top-up was lost"
    );
    let withdrawals: i64 =
        sqlx::query_scalar("select count(*) from withdrawals where id = any($1)")
            .bind(&all.withdrawals)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        withdrawals as usize,
        all.withdrawals.len(),
        "an acknowledged withdrawal was lost"
    );
    let writable: bool = sqlx::query_scalar("select not pg_is_in_recovery()")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(writable, "dompet must be on the promoted standby");
    node.assert_ledger_ok().await;
    eprintln!(
        "failover: {} top-ups and {} withdrawals acknowledged, {} clean failures",
        all.topups.len(),
        all.withdrawals.len(),
        all.failures.len()
    );
    database.close().await;
}

/// Top-ups for the worker's users, and each user's one withdrawal of the day
/// along the way, each followed by a read of the user's history, until told
/// to stop.
async fn traffic(
    worker: usize,
    node: &Node,
    users: &[(TestUser, i64)],
    promoted: &AtomicBool,
    stop: &AtomicBool,
) -> Outcomes {
    let mine: Vec<&(TestUser, i64)> = users.iter().skip(worker).step_by(WORKERS).collect();
    let mut outcomes = Outcomes::default();
    let mut withdrawn = vec![false; mine.len()];
    let mut n = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let slot = n % mine.len();
        let (user, account) = mine[slot];
        let after = promoted.load(Ordering::SeqCst);
        let started = Instant::now();
        // Withdrawals spread over the run: a user's turn comes every few rounds.
        let answer = if !withdrawn[slot] && (n / mine.len()) % 4 == slot % 4 {
            let answer = node.withdraw(user, *account, 1_000).await;
            if answer.status == 200 && answer.json()["status"] == "OK" {
                withdrawn[slot] = true;
                outcomes.withdrawals.push(answer.withdrawal_id());
            }
            answer
        } else {
            let key = format!("failover-{worker}-{n}");
            let answer = node.topup(user, 100, &key).await;
            if answer.status == 201 {
                outcomes.topups.push(key);
            }
            answer
        };
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "a request hung"
        );
        if answer.status.is_success() {
            outcomes.answered_after_promotion += usize::from(after);
        } else {
            outcomes.failures.push(answer);
        }
        // And the user's history, on the read pool, which follows the
        // failover as the money pool does.
        let read = node
            .send(
                node.request(Method::GET, &format!("{MUTATIONS}?per_page=10"))
                    .basic_auth(user.id, Some(&user.token)),
            )
            .await;
        if read.status.is_success() {
            outcomes.reads_after_promotion += usize::from(after);
        } else {
            outcomes.failures.push(read);
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    outcomes
}
