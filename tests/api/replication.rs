//! History reads on a real streaming replica (SPEC §8): served by the
//! replica, yet a user always sees their own writes whichever node serves
//! them; a lagging or dead replica is skipped without a client noticing and
//! taken back when well.

use std::time::Duration;

use crate::helpers::{Node, Pair};

#[tokio::test]
async fn history_comes_from_the_replica_but_a_user_always_sees_their_own_writes() {
    // Arrange: two nodes over one primary and its standby; a withdrawal
    // processed by finance while the standby's replay is paused.
    let pair = Pair::start().await;
    let replicas = [pair.standby_url()];
    let node_a = Node::with_replicas(pair.primary_pool().await, &replicas, 60).await;
    let node_b = Node::with_replicas(pair.primary_pool().await, &replicas, 60).await;
    let (user, account) = node_a.funded_user(100_000).await;
    let withdrawal = node_a
        .withdraw(&user, account, 30_000)
        .await
        .withdrawal_id();
    node_a.wait_for_replica("up").await;
    node_b.wait_for_replica("up").await;
    // The replica must have the withdrawal before replay stops.
    assert_eq!(
        node_b.withdrawals(&user).await["history"][0]["id"],
        withdrawal
    );
    pair.pause_replay(true).await;
    node_a
        .dompet
        .process_withdrawal(dompet::domain::WithdrawalId::new(withdrawal))
        .await
        .expect("process");

    // Act & assert: finance's write is not the user's own, so the replica
    // (still "pending") serves the read — proof the read went there.
    let served = node_b.withdrawals(&user).await;
    assert_eq!(served["history"][0]["state"], "pending", "{served}");

    // The user's own top-up through node A shows at once on node B, with
    // everything before it: the replica is behind that write, so the primary
    // answers.
    let topup = node_a.topup(&user, 5_000, "own-write-1").await;
    assert_eq!(topup.status, 201, "{topup:?}");
    let mutations = node_b.mutations(&user).await;
    assert_eq!(mutations["history"][0]["id"], topup.json()["id"]);
    assert_eq!(mutations["history"][0]["final_balance"], 75_000);
    let withdrawals = node_b.withdrawals(&user).await;
    assert_eq!(withdrawals["history"][0]["state"], "processed");

    // Once replay resumes, the replica catches up and serves the same page.
    pair.pause_replay(false).await;
    let caught_up = wait_until(|| async {
        let mut conn = pair.standby_conn().await;
        sqlx::query_scalar::<_, bool>("select state = 'processed' from withdrawals where id = $1")
            .bind(withdrawal)
            .fetch_one(&mut conn)
            .await
            .unwrap_or(false)
    })
    .await;
    assert!(caught_up, "the standby never replayed the processing");
    assert_eq!(node_b.mutations(&user).await, mutations);
    node_a.assert_ledger_ok().await;
}

#[tokio::test]
async fn a_write_on_one_node_is_in_the_next_read_on_another_every_time() {
    // Arrange: replay running, so the replica is sometimes just behind.
    let pair = Pair::start().await;
    let replicas = [pair.standby_url()];
    let writer = Node::with_replicas(pair.primary_pool().await, &replicas, 60).await;
    let reader = Node::with_replicas(pair.primary_pool().await, &replicas, 60).await;
    let (user, account) = writer.funded_user(1_000).await;
    reader.wait_for_replica("up").await;

    // Act & assert: each acknowledged write is on the very next read.
    for i in 0..40 {
        let topup = writer.topup(&user, 1_000 + i, &format!("ryw-{i}")).await;
        assert_eq!(topup.status, 201, "{topup:?}");
        let first = &reader.mutations(&user).await["history"][0];
        assert_eq!(first["id"], topup.json()["id"], "write {i} not seen");
    }
    let id = writer.withdraw(&user, account, 500).await.withdrawal_id();
    assert_eq!(reader.withdrawals(&user).await["history"][0]["id"], id);
    writer.assert_ledger_ok().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_or_dead_replica_is_skipped_and_taken_back_when_well() {
    // Arrange: a bound of one second of lag.
    let pair = Pair::start().await;
    let node = Node::with_replicas(pair.primary_pool().await, &[pair.standby_url()], 1).await;
    let (user, account) = node.funded_user(100_000).await;
    let withdrawal = node.withdraw(&user, account, 30_000).await.withdrawal_id();
    node.wait_for_replica("up").await;

    // Lagging: replay stops while the primary keeps moving.
    pair.pause_replay(true).await;
    node.dompet
        .process_withdrawal(dompet::domain::WithdrawalId::new(withdrawal))
        .await
        .expect("process");
    let (other, _) = node.funded_user(10).await;
    let ready = node.wait_for_replica("lagging").await;
    assert!(
        ready["replicas"][0]["lag_ms"].as_u64().unwrap() >= 1_000,
        "{ready}"
    );
    assert_eq!(
        (ready["status"].as_str(), ready["primary"].as_str()),
        (Some("OK"), Some("up"))
    );
    // Skipped: the read reflects finance's write, which the replica lacks.
    assert_eq!(
        node.withdrawals(&user).await["history"][0]["state"],
        "processed"
    );
    assert_eq!(
        node.mutations(&other).await["history"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Taken back once it has caught up.
    pair.pause_replay(false).await;
    let ready = node.wait_for_replica("up").await;
    assert!(
        ready["replicas"][0]["lag_ms"].as_u64().unwrap() < 1_000,
        "{ready}"
    );

    // Dead: reads go on from the primary, even before a check has noticed.
    let mut pair = pair;
    tokio::task::block_in_place(|| pair.standby.pause_server());
    assert_eq!(
        node.withdrawals(&user).await["history"][0]["state"],
        "processed"
    );
    let ready = node.wait_for_replica("down").await;
    assert!(ready["replicas"][0]["lag_ms"].is_null(), "{ready}");
    for _ in 0..5 {
        assert_eq!(
            node.mutations(&user).await["history"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    // Back: the restarted standby is used again.
    tokio::task::block_in_place(|| pair.standby.restart()).expect("restart the standby");
    node.wait_for_replica("up").await;
    assert_eq!(
        node.withdrawals(&user).await["history"][0]["state"],
        "processed"
    );
    node.assert_ledger_ok().await;
}

/// Polls `check` every 50 ms for up to 10 s.
async fn wait_until<F, Fut>(check: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
