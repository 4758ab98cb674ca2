//! Benchmarks of dompet over real HTTP and a real PostgreSQL; every figure
//! is a ratio against a baseline measured in the same run (see README.md).

use std::{
    str::FromStr,
    time::{Duration, Instant},
};

use dompet::{
    config::Config,
    domain::UserId,
    pgcluster::{Cluster, Lifetime},
    service::{Dompet, NewBankAccount, NewUser},
    startup::Application,
    MIGRATOR,
};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    ConnectOptions, PgPool,
};

const TOKEN: &str = "benchtokenbenchtokenbench";
const PASSWORD: &str = "bench-password";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows: i64 = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // Held until the end: dropping it stops the throwaway cluster.
    let (_cluster, server) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => (
            None,
            PgConnectOptions::from_str(&url).expect("DATABASE_URL"),
        ),
        _ => {
            let root = std::env::temp_dir().join(format!("dompet-bench-{}", std::process::id()));
            let cluster = Cluster::start(&root, Lifetime::Throwaway).expect("start PostgreSQL");
            let options = PgConnectOptions::from_str(&cluster.url("postgres")).expect("url");
            (Some(cluster), options)
        }
    };
    runtime.block_on(run(server, rows));
}

async fn run(server: PgConnectOptions, rows: i64) {
    let name = format!("bench_{}", std::process::id());
    let mut admin = server.connect().await.expect("connect");
    sqlx::query(&format!("drop database if exists {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect_with(server.clone().database(&name))
        .await
        .expect("connect bench db");
    MIGRATOR.run(&pool).await.expect("migrate");
    let mut config = Config::from_lookup(|_| None).expect("config");
    config.addr = "127.0.0.1:0".parse().unwrap();
    let dompet = Dompet::new(pool.clone(), config.timezone, config.withdrawal_fee);

    let short = user(&dompet, "short").await;
    let long = user(&dompet, "long").await;
    let tenth = user(&dompet, "tenth").await;
    let started = Instant::now();
    fill(&pool, &short, 100).await;
    fill(&pool, &tenth, rows / 10).await;
    sqlx::query("analyze").execute(&pool).await.unwrap();
    let verify = || async { assert!(dompet.verify_ledger().await.unwrap().ok()) };
    let small = time_once(verify).await;
    fill(&pool, &long, rows).await;
    sqlx::query("analyze").execute(&pool).await.unwrap();
    println!(
        "ledger built: {} mutations in {:.1?}",
        rows + rows / 10 + 100,
        started.elapsed()
    );
    let large = time_once(verify).await;
    report(
        "ledger_verify",
        &format!("{} mutations", rows / 10 + 100),
        small,
        &format!("{} mutations", rows + rows / 10 + 100),
        large,
    );

    let app = Application::build(&config, pool.clone())
        .await
        .expect("app");
    let base = format!("http://{}", app.local_addr().unwrap());
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();

    let page_of = |path: &'static str, (user, token): &(i64, String), page: u32| {
        let request = client
            .get(format!("{base}{path}?page={page}&per_page=10"))
            .basic_auth(user, Some(token));
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap();
        }
    };
    let page = |user, n| page_of("/v1/dompet/history/mutations.json", user, n);
    let baseline = time_median(200, || page(&short, 1)).await;
    let long_page1 = time_median(200, || page(&long, 1)).await;
    report(
        "history_page1",
        "100-row history",
        baseline,
        &format!("{rows}-row history"),
        long_page1,
    );
    let deep = time_median(50, || page(&long, 1000)).await;
    report("history_deep_page", "page 1", long_page1, "page 1000", deep);
    // The v2 pages carry the balance of the same snapshot: still one index
    // walk per list, no count, no round trip that grows with the history.
    for (name, path) in [
        ("v2_mutations_page1", "/v2/dompet/history/mutations.json"),
        ("v2_combined_page1", "/v2/dompet/history.json"),
    ] {
        let short_page1 = time_median(200, || page_of(path, &short, 1)).await;
        let long_page1 = time_median(200, || page_of(path, &long, 1)).await;
        report(
            name,
            "100-row history",
            short_page1,
            &format!("{rows}-row history"),
            long_page1,
        );
    }

    let sequential = withdrawals(&dompet, &pool, &client, &base, 64, 1).await;
    let concurrent = withdrawals(&dompet, &pool, &client, &base, 64, 16).await;
    report(
        "withdraw_throughput",
        "64 one at a time",
        sequential,
        "64 sixteen at a time",
        concurrent,
    );

    pool.close().await;
    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut admin)
        .await;
}

/// A user with its own API token.
async fn user(dompet: &Dompet, name: &str) -> (i64, String) {
    let token = format!("{TOKEN}{name}");
    let created = dompet
        .create_user(NewUser {
            username: name.into(),
            email: format!("{name}@bench.invalid"),
            password: PASSWORD.into(),
            id: None,
            token: Some(token.clone()),
            name: None,
        })
        .await
        .expect("user");
    (created.id.get(), token)
}

/// `n` topups of 1 rupiah forming a valid chain, written in one statement.
async fn fill(pool: &PgPool, (user_id, _): &(i64, String), n: i64) {
    sqlx::query(
        "insert into mutations (user_id, deposit_id, type, action, amount, initial_balance, final_balance, idempotency_key)
         select $1, d.id, 'Deposit::Credit', 'topup', 1, g - 1, g, 'bench-' || $1 || '-' || g
         from deposits d, generate_series(1, $2::bigint) g where d.user_id = $1",
    )
    .bind(user_id)
    .bind(n)
    .execute(pool)
    .await
    .expect("fill");
    sqlx::query("update deposits set balance = $2 where user_id = $1")
        .bind(user_id)
        .bind(n)
        .execute(pool)
        .await
        .unwrap();
}

/// Wall time of `count` withdrawals by distinct funded users, `parallel` at a time.
async fn withdrawals(
    dompet: &Dompet,
    pool: &PgPool,
    client: &reqwest::Client,
    base: &str,
    count: usize,
    parallel: usize,
) -> Duration {
    let mut users = Vec::new();
    for i in 0..count {
        let user = user(dompet, &format!("w{parallel}x{i}")).await;
        let id = user.0;
        let account = dompet
            .add_bank_account(
                UserId::new(id),
                NewBankAccount {
                    bank_name: "BCA".into(),
                    account_number: "1".into(),
                    account_name: "B".into(),
                    id: None,
                },
            )
            .await
            .unwrap()
            .id;
        fill(pool, &user, 1000).await;
        users.push((user, account));
    }
    let started = Instant::now();
    for chunk in users.chunks(parallel) {
        let requests = chunk.iter().map(|((id, token), account)| {
            client
                .post(format!("{base}/v2/dompet/withdraw.json"))
                .basic_auth(id, Some(token))
                .form(&[
                    ("deposit_withdrawal[amount]", "100".to_string()),
                    ("deposit_withdrawal[bank_account_id]", account.to_string()),
                    ("deposit_withdrawal[password]", PASSWORD.to_string()),
                ])
                .send()
        });
        for response in futures::future::join_all(requests).await {
            let body = response.unwrap().text().await.unwrap();
            assert!(body.starts_with(r#"{"status":"OK""#), "{body}");
        }
    }
    started.elapsed()
}

async fn time_median<F, Fut>(n: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..n / 10 {
        f().await;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    samples.sort();
    samples[n / 2]
}

async fn time_once<F, Fut>(f: F) -> Duration
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    f().await;
    started.elapsed()
}

fn report(name: &str, base_label: &str, base: Duration, label: &str, measured: Duration) {
    println!(
        "{name:<20} {label} / {base_label} = {:.2}x   ({measured:.2?} vs {base:.2?})",
        measured.as_secs_f64() / base.as_secs_f64()
    );
}
