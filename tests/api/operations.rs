//! Operations (SPEC §6): the OpenAPI document against the router, the
//! interactive reference in a real browser, and the Prometheus metrics.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    process::Command,
    time::{Duration, Instant},
};

use dompet::{
    config::Secret,
    http::{router, AppState},
};
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{
    spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN, MUTATIONS, WITHDRAW, WITHDRAWALS,
};

/// Routes of the reference's own assets: served, not API operations.
const REFERENCE_ROUTES: [&str; 3] = ["/docs", "/docs/", "/docs/{*rest}"];

/// `(METHOD, path)` of every route in a router, read from its `Debug` text
/// (axum has no other way to list them): the `paths` map names each route
/// id's path, and each id's `allow_header` names its methods.
fn served_routes(router: &axum::Router) -> BTreeSet<(String, String)> {
    let text = format!("{router:?}");
    let text = text
        .split("fallback_router:")
        .next()
        .expect("a path router");
    let (routes, paths) = text.split_once("paths: {").expect("a paths map");
    let mut served = BTreeSet::new();
    for entry in paths.split("RouteId(").skip(1) {
        let (id, rest) = entry.split_once("):").expect("RouteId(n): path");
        let path = rest.trim().trim_start_matches('"');
        let path = &path[..path.find('"').expect("a quoted path")];
        let methods = routes
            .split_once(&format!("RouteId({id}): MethodRouter("))
            .and_then(|(_, r)| r.split_once("allow_header: Bytes(b\""))
            .and_then(|(_, r)| r.split_once('"'))
            .map_or("", |(methods, _)| methods);
        for method in methods.split(',').filter(|m| !m.is_empty() && *m != "HEAD") {
            served.insert((method.to_owned(), path.to_owned()));
        }
    }
    served
}

/// `(METHOD, path)` of every operation in an OpenAPI document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

async fn document(app: &TestApp) -> Value {
    let answer = app.send(app.request(Method::GET, "/openapi.json")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.headers["content-type"], "application/json");
    answer.json()
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_router_serves() {
    // Arrange: every optional surface on, as the app under test has it.
    let app = spawn_app_with(|c| c.metrics_public = true).await;
    let handle = dompet::metrics::install().expect("metrics recorder");
    let state = AppState::new(app.dompet.clone(), Some(&Secret::new(ADMIN_TOKEN)))
        .with_public_metrics(handle);

    // Act
    let mut served = served_routes(&router(state, Duration::from_secs(30)));
    let doc = document(&app).await;

    // Assert
    for path in REFERENCE_ROUTES {
        assert!(served.remove(&("GET".into(), path.into())), "{path} served");
    }
    assert!(
        served.len() >= 14,
        "the router walk found too little: {served:?}"
    );
    assert_eq!(served, documented(&doc));
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_its_own_route() {
    let app = spawn_app_with(|c| c.metrics_public = true).await;
    let doc = document(&app).await;
    let fallbacks = [
        r#"{"status":"ERROR","message":"Tidak ditemukan."}"#,
        r#"{"status":"ERROR","message":"Metode tidak diizinkan."}"#,
    ];
    for (method, path) in documented(&doc) {
        let path = path.replace("{id}", "1");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let answer = app.send(app.request(method.clone(), &path)).await;
        assert!(
            !fallbacks.contains(&answer.body.as_str()),
            "{method} {path} fell through to the router's fallback: {answer:?}"
        );
    }
}

#[tokio::test]
async fn without_an_admin_token_or_metrics_the_document_leaves_them_out() {
    let app = spawn_app_with(|c| c.operator_token = None).await;
    let doc = document(&app).await;
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert_eq!(
        paths,
        [
            "/v1/dompet/history/mutations.json",
            "/v2/dompet/history/withdrawals.json",
            "/v2/dompet/withdraw.json",
            "/v2/dompet/history/mutations.json",
            "/v2/dompet/history.json",
            "/v2/dompet/topup.json",
            "/v2/authenticate.json",
            "/healthz",
            "/readyz",
            "/openapi.json"
        ]
    );
}

/// The example of `status` at `pointer` inside the document, as compact
/// JSON in document key order.
#[track_caller]
fn example(doc: &Value, pointer: &str) -> String {
    let value = doc
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the document"));
    serde_json::to_string(value).unwrap()
}

#[tokio::test]
async fn the_document_carries_the_seeds_examples_word_for_word_and_they_are_true() {
    // Arrange: the demo user as the embedded default seeds it.
    let app = spawn_app().await;
    let (demo, account) = app.seed_demo_user().await;
    let doc = document(&app).await;
    let ok = |path: &str, method: &str| {
        format!(
            "/paths/{}/{method}/responses/200/content/application~1json",
            path.replace('/', "~1")
        )
    };

    // Assert: the seed's bodies, in the seed's key order…
    let mutations = example(&doc, &format!("{}/example", ok(MUTATIONS, "get")));
    assert_eq!(
        mutations,
        r#"{"status":"OK","history":[{"id":346,"type":"Deposit::Credit","action":"remit","amount":30000,"initial_balance":0,"final_balance":30000,"transaction_id":51938,"created_at":"2013-11-25T15:32:47+07:00","updated_at":"2013-11-25T15:32:47+07:00"}],"message":null}"#
    );
    assert_eq!(
        example(&doc, &format!("{}/example", ok(WITHDRAWALS, "get"))),
        r#"{"status":"OK","history":[{"amount":25000,"bank_account_id":41812,"cancelled_at":null,"created_at":"2013-11-22T16:00:39+07:00","deposit_id":1,"id":4,"processed_at":null,"state":"pending","updated_at":"2013-11-22T16:00:39+07:00"}],"message":null}"#
    );
    let withdraw = format!("{}/examples", ok(WITHDRAW, "post"));
    for (name, body) in [
        (
            "Success",
            r#"{"status":"OK","withdrawal_id":4,"message":"Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam."}"#,
        ),
        (
            "Invalid account ID",
            r#"{"status":"ERROR","withdrawal_id":null,"message":"Rekening pencairan harus milik Anda."}"#,
        ),
        (
            "Invalid password",
            r#"{"status":"ERROR","withdrawal_id":null,"message":"Password tidak valid."}"#,
        ),
        (
            ">1 withdraw request in a day",
            r#"{"status":"ERROR","withdrawal_id":null,"message":"Pencairan hanya bisa dilakukan satu kali sehari."}"#,
        ),
        (
            ">1 withdraw request in a day and invalid password",
            r#"{"status":"ERROR","withdrawal_id":null,"message":"Pencairan hanya bisa dilakukan satu kali sehari., Password tidak valid."}"#,
        ),
    ] {
        assert_eq!(
            example(&doc, &format!("{withdraw}/{name}/value")),
            body,
            "{name}"
        );
    }

    // …and what the server really answers to the seed's requests.
    app.mutations(&demo, "?page=1&per_page=1")
        .await
        .assert(200, &mutations);
    let accepted = app.withdraw(&demo, 25000, account, &demo.password).await;
    accepted.assert(200, &example(&doc, &format!("{withdraw}/Success/value")));
}

#[tokio::test]
async fn the_document_describes_both_auth_schemes_and_every_error_envelope() {
    let app = spawn_app().await;
    let doc = document(&app).await;

    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        example(&doc, "/components/securitySchemes/basic/scheme"),
        r#""basic""#
    );
    assert_eq!(
        example(&doc, "/components/securitySchemes/bearer/scheme"),
        r#""bearer""#
    );
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let pointer = format!("/paths/{}/{method}/responses", path.replace('/', "~1"));
        doc.pointer(&pointer)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        statuses(MUTATIONS, "get"),
        ["200", "401", "408", "500", "503"]
    );
    assert_eq!(
        statuses(WITHDRAW, "post"),
        ["200", "400", "401", "408", "413", "422", "500", "503"]
    );
    assert_eq!(
        statuses("/internal/v1/mutations", "post"),
        ["200", "201", "400", "401", "404", "408", "409", "413", "422", "500", "503"]
    );
    let error = |path: &str, method: &str, status: &str| {
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}/content/application~1json/example",
            path.replace('/', "~1")
        );
        example(&doc, &pointer)
    };
    assert_eq!(
        error(MUTATIONS, "get", "401"),
        r#"{"status":"ERROR","message":"Autentikasi gagal."}"#
    );
    assert_eq!(
        error(WITHDRAW, "post", "413"),
        r#"{"status":"ERROR","message":"Permintaan terlalu besar."}"#
    );
    assert_eq!(
        error(WITHDRAW, "post", "422"),
        r#"{"status":"ERROR","withdrawal_id":null,"message":"Idempotency-Key sudah dipakai untuk permintaan lain."}"#
    );
    assert_eq!(
        error("/internal/v1/users/{id}", "get", "404"),
        r#"{"error":{"code":"user_not_found","message":"user not found"}}"#
    );
    assert_eq!(
        error("/internal/v1/mutations", "post", "422"),
        r#"{"error":{"code":"insufficient_balance","message":"the balance 30000 is less than the debit of 50000"}}"#
    );
    // The answers outside any operation are described up front.
    let description = doc["info"]["description"].as_str().unwrap();
    for text in [
        r#"404 `{"status":"ERROR","message":"Tidak ditemukan."}`"#,
        r#"405 `{"status":"ERROR","message":"Metode tidak diizinkan."}`"#,
    ] {
        assert!(description.contains(text), "{text} in {description}");
    }
}

/// `/usr/bin/chromium` or `chromium` on PATH; installed with apt-get when
/// missing and we are root (as `.ci/run` does).
fn chromium() -> Option<String> {
    let find = || {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).is_file())
            .map(str::to_owned)
    };
    if let Some(found) = find() {
        return Some(found);
    }
    if nix::unistd::geteuid().is_root() {
        eprintln!("chromium is missing: installing it with apt-get");
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
    }
    find()
}

/// The page's DOM after its scripts ran, with every host but loopback
/// unresolvable: anything the page needed from a CDN would be missing.
fn rendered_dom(browser: &str, url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_reference_page_lists_the_seed_endpoints_in_a_real_browser_without_a_cdn() {
    let Some(browser) = tokio::task::spawn_blocking(chromium).await.unwrap() else {
        eprintln!("SKIPPED: chromium is not installed and cannot be installed here");
        return;
    };
    let app = spawn_app().await;

    // The page and its initializer name no host: every asset is ours.
    let page = app.send(app.request(Method::GET, "/docs/")).await;
    assert_eq!(page.status, 200);
    let initializer = app
        .send(app.request(Method::GET, "/docs/swagger-initializer.js"))
        .await;
    for text in [&page.body, &initializer.body] {
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{text}"
        );
    }
    assert!(initializer.body.contains("/openapi.json"));
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.headers()["location"], "/docs/");

    // Act
    let url = app.url("/docs/");
    let dom = tokio::task::spawn_blocking(move || rendered_dom(&browser, &url))
        .await
        .unwrap();

    // Assert: Swagger UI rendered each operation from /openapi.json.
    for path in [MUTATIONS, WITHDRAWALS, WITHDRAW] {
        assert!(
            dom.contains(&format!("data-path=\"{path}\"")),
            "{path} is not on the rendered page:\n{dom}"
        );
    }
}

/// The value of the sample `name{labels…}` in a scrape (0 when absent).
#[track_caller]
fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(series, _)| {
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().expect("a number"))
        .sum()
}

async fn scrape(app: &TestApp, at: Option<SocketAddr>) -> String {
    let url = format!("http://{}/metrics", at.unwrap_or(app.addr));
    let response = app.client.get(url).send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_money_by_outcome() {
    // Arrange
    let app = spawn_app_with(|c| c.metrics_public = true).await;
    let (user, account) = app.funded_user(100_000).await;
    let before = scrape(&app, None).await;
    let requests = |scrape: &str, route: &str, method: &str, status: &str| {
        sample(
            scrape,
            "dompet_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };

    // Act: reads, a rejected and an accepted withdrawal, a lockout, an
    // operator read of a user, and a path that matches nothing.
    app.mutations(&user, "").await;
    app.mutations(&user, "?page=2").await;
    app.withdraw(&user, 1000, account, "wrong-password").await;
    app.withdraw(&user, 1000, account, &user.password).await;
    let (victim, victim_account) = app.funded_user(100_000).await;
    for _ in 0..5 {
        app.withdraw(&victim, 1000, victim_account, "wrong").await;
    }
    app.admin(Method::GET, &format!("/users/{}", user.id), None)
        .await;
    app.send(app.request(Method::GET, "/no/such/path/987654321"))
        .await;
    for amount in ["25000", "5"] {
        let form = format!("amount={amount}&bank_account_id={account}");
        app.send(
            app.request(Method::POST, "/v2/dompet/topup.json")
                .basic_auth(user.id, Some(&user.token))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form),
        )
        .await;
    }
    let (demo, _) = app.seed_demo_user().await;
    app.login_token("demo", &demo.password).await;
    app.login("demo", "wrong-password").await;
    let name = format!("nobody-{}", user.id);
    for _ in 0..5 {
        app.login(&name, "wrong-password").await;
    }
    let after = scrape(&app, None).await;

    // Assert: counters moved, under route templates only.
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    assert!(
        requests(&after, MUTATIONS, "GET", "200") - requests(&before, MUTATIONS, "GET", "200")
            >= 2.0
    );
    assert!(requests(&after, "/internal/v1/users/{id}", "GET", "200") >= 1.0);
    assert!(requests(&after, "unmatched", "GET", "404") >= 1.0);
    assert!(
        moved(
            "dompet_http_request_duration_seconds_count",
            &[("route", WITHDRAW)]
        ) >= 7.0
    );
    assert!(moved("dompet_withdrawals_total", &[("outcome", "accepted")]) >= 1.0);
    assert!(moved("dompet_withdrawals_total", &[("outcome", "rejected")]) >= 6.0);
    assert!(moved("dompet_lockouts_total", &[("kind", "withdraw_password")]) >= 1.0);
    assert!(moved("dompet_topups_total", &[("outcome", "requested")]) >= 1.0);
    assert!(moved("dompet_topups_total", &[("outcome", "rejected")]) >= 1.0);
    assert!(moved("dompet_logins_total", &[("outcome", "ok")]) >= 1.0);
    assert!(moved("dompet_logins_total", &[("outcome", "failed")]) >= 6.0);
    assert!(moved("dompet_lockouts_total", &[("kind", "login")]) >= 1.0);
    assert!(moved("dompet_password_hash_wait_seconds_count", &[]) >= 7.0);
    assert!(after.contains("dompet_http_request_duration_seconds_bucket{"));
    for pool in ["money", "reads", "postings"] {
        for state in ["idle", "in_use"] {
            let series = format!("dompet_db_pool_connections{{pool=\"{pool}\",state=\"{state}\"}}");
            assert!(after.contains(&series), "{series} missing");
        }
        let max = format!("dompet_db_pool_max_connections{{pool=\"{pool}\"}}");
        assert!(after.contains(&max), "{max} missing");
    }
    assert!(after.contains("dompet_password_hash_queue_depth"));
    for raw in [
        format!("/internal/v1/users/{}", user.id),
        "987654321".into(),
    ] {
        assert!(
            !after.contains(&raw),
            "a raw path leaked into the labels: {raw}"
        );
    }
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own_and_are_off_by_default() {
    let app =
        spawn_app_with(|c| c.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)))).await;
    let (user, _) = app.funded_user(0).await;
    app.mutations(&user, "").await;

    let own = scrape(&app, app.metrics_addr).await;
    assert!(own.contains("dompet_http_requests_total{"));
    app.send(app.request(Method::GET, "/metrics"))
        .await
        .assert(404, r#"{"status":"ERROR","message":"Tidak ditemukan."}"#);

    let plain = spawn_app().await;
    assert_eq!(plain.metrics_addr, None);
    plain
        .send(plain.request(Method::GET, "/metrics"))
        .await
        .assert(404, r#"{"status":"ERROR","message":"Tidak ditemukan."}"#);
}

#[tokio::test]
async fn a_scrape_during_traffic_stays_quick() {
    let app = spawn_app_with(|c| c.metrics_public = true).await;
    let (user, _) = app.funded_user(0).await;
    let reads: Vec<_> = (0..50).map(|_| app.mutations(&user, "")).collect();
    futures::future::join_all(reads).await;
    let started = Instant::now();
    let text = scrape(&app, None).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(text.contains("# TYPE dompet_http_requests_total counter"));
}
