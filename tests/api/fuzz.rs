//! Random requests over the public and operator APIs (seeded, bounded in
//! count): whatever arrives, the answer is never a 500, never empty and
//! always JSON, and the ledger stays whole.

use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use reqwest::{
    header::{HeaderName, HeaderValue},
    Method,
};
use serde_json::{json, Value};

use crate::helpers::*;

const REQUESTS: usize = 1500;

/// Texts that have broken parsers somewhere: empty, blanks, NUL and other
/// control characters, numbers of every odd shape, long and non-ASCII.
fn nasty_text(rng: &mut StdRng) -> String {
    let pool = [
        "",
        " ",
        "\0",
        "a\0b",
        "\u{1b}[2J",
        "\r\n",
        "0",
        "-1",
        "+5",
        "1e3",
        "25000.5",
        "9223372036854775807",
        "9223372036854775808",
        "99999999999999999999999",
        "٣٤٥",
        "ＡＢＣ",
        "🙂",
        "null",
        "true",
        "%00",
        "%FF",
        "'; drop table mutations; --",
        "\\",
        "\"",
        "41812",
        "1000",
        "rahasia-123",
    ];
    match rng.gen_range(0..4) {
        0 => "x".repeat(rng.gen_range(200..3000)),
        1 => (0..rng.gen_range(1..40))
            .map(|_| char::from_u32(rng.gen_range(0..0x3000)).unwrap_or('?'))
            .collect(),
        _ => pool.choose(rng).unwrap().to_string(),
    }
}

fn nasty_value(rng: &mut StdRng) -> Value {
    match rng.gen_range(0..14) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen::<i64>()),
        3 => json!(rng.gen_range(-5i64..100_000)),
        4 => json!(rng.gen::<f64>() * 1e6),
        5 => json!([nasty_text(rng)]),
        6 => json!({"deep": {"deeper": nasty_text(rng)}}),
        7 => json!(u64::MAX),
        8..=10 => json!(format!("{}\0{}", nasty_text(rng), nasty_text(rng))),
        _ => json!(nasty_text(rng)),
    }
}

/// A JSON object with some of `fields` (and sometimes a stranger), each
/// holding something odd.
fn nasty_object(rng: &mut StdRng, fields: &[&str]) -> Value {
    let mut object = serde_json::Map::new();
    for field in fields {
        if rng.gen_bool(0.8) {
            object.insert((*field).to_owned(), nasty_value(rng));
        }
    }
    if rng.gen_bool(0.1) {
        object.insert(nasty_text(rng), nasty_value(rng));
    }
    Value::Object(object)
}

fn random_path(rng: &mut StdRng, user: &TestUser, withdrawal: i64) -> String {
    let id = match rng.gen_range(0..5) {
        0 => user.id.to_string(),
        1 => withdrawal.to_string(),
        2 => nasty_text(rng),
        3 => "0".to_owned(),
        _ => "99999999999999999999".to_owned(),
    };
    let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let paths = [
        MUTATIONS.to_owned(),
        WITHDRAWALS.to_owned(),
        WITHDRAW.to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/internal/v1/users".to_owned(),
        format!("/internal/v1/users/{id}"),
        format!("/internal/v1/users/{id}/bank_accounts"),
        "/internal/v1/mutations".to_owned(),
        "/internal/v1/withdrawals".to_owned(),
        format!("/internal/v1/withdrawals/{id}/process"),
        format!("/internal/v1/withdrawals/{id}/cancel"),
        "/internal/v1/ledger/verify".to_owned(),
        "/internal/v1".to_owned(),
        "/v2/dompet/".to_owned(),
        format!("/{id}"),
        "/%00".to_owned(),
        "//v1/dompet/history/mutations.json".to_owned(),
        format!("/v1/dompet/history/mutations.json/{id}"),
    ];
    let mut path = paths.choose(rng).unwrap().clone();
    if rng.gen_bool(0.5) {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for name in [
            "page",
            "per_page",
            "state",
            "deposit_withdrawal[amount]",
            "deposit_withdrawal[bank_account_id]",
            "deposit_withdrawal[password]",
        ] {
            if rng.gen_bool(0.4) {
                query.append_pair(name, &nasty_text(rng));
            }
        }
        path = format!("{path}?{}", query.finish());
    }
    path
}

fn random_body(rng: &mut StdRng) -> (Option<&'static str>, Vec<u8>) {
    let content_type = *[
        None,
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/problem+json"),
        Some("garbage/;;;"),
    ]
    .choose(rng)
    .unwrap();
    let body = match rng.gen_range(0..8) {
        0 => Vec::new(),
        1 => (0..rng.gen_range(1..500)).map(|_| rng.gen()).collect(),
        2 => vec![b'x'; 17 * 1024],
        3 => nasty_object(
            rng,
            &["username", "email", "password", "id", "token", "name"],
        )
        .to_string()
        .into_bytes(),
        4 => nasty_object(
            rng,
            &["bank_name", "account_number", "account_name", "id"],
        )
        .to_string()
        .into_bytes(),
        5 => nasty_object(
            rng,
            &[
                "user_id",
                "action",
                "amount",
                "transaction_id",
                "idempotency_key",
            ],
        )
        .to_string()
        .into_bytes(),
        6 => json!({"deposit_withdrawal": nasty_object(rng, &["amount", "bank_account_id", "password"])})
            .to_string()
            .into_bytes(),
        _ => {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for name in [
                "deposit_withdrawal[amount]",
                "deposit_withdrawal[bank_account_id]",
                "deposit_withdrawal[password]",
                "deposit_withdrawal",
            ] {
                if rng.gen_bool(0.7) {
                    form.append_pair(name, &nasty_text(rng));
                }
            }
            form.finish().into_bytes()
        }
    };
    (content_type, body)
}

/// Header bytes HTTP can carry (visible ASCII, spaces, obs-text).
fn header_bytes(rng: &mut StdRng) -> Vec<u8> {
    (0..rng.gen_range(0..300))
        .map(|_| match rng.gen_range(0..3) {
            0 => rng.gen_range(0x80..=0xff),
            _ => rng.gen_range(0x20..0x7f),
        })
        .collect()
}

/// What a request aims at: a route with its method, credentials and body
/// kind, to be sent as is or scrambled.
#[derive(Clone, Copy)]
enum Body {
    User,
    BankAccount,
    Posting,
    Withdraw,
    None,
}

const ROUTES: [(&str, &str, bool, Body); 12] = [
    ("GET", MUTATIONS, false, Body::None),
    ("GET", WITHDRAWALS, false, Body::None),
    ("POST", WITHDRAW, false, Body::Withdraw),
    ("POST", "/internal/v1/users", true, Body::User),
    ("GET", "/internal/v1/users/{id}", true, Body::None),
    (
        "POST",
        "/internal/v1/users/{id}/bank_accounts",
        true,
        Body::BankAccount,
    ),
    ("POST", "/internal/v1/mutations", true, Body::Posting),
    ("GET", "/internal/v1/withdrawals", true, Body::None),
    (
        "POST",
        "/internal/v1/withdrawals/{id}/process",
        true,
        Body::None,
    ),
    (
        "POST",
        "/internal/v1/withdrawals/{id}/cancel",
        true,
        Body::None,
    ),
    ("GET", "/internal/v1/ledger/verify", true, Body::None),
    ("GET", "/readyz", false, Body::None),
];

fn body_of(rng: &mut StdRng, kind: Body, user: &TestUser) -> Vec<u8> {
    let mut object = match kind {
        Body::User => nasty_object(
            rng,
            &["username", "email", "password", "id", "token", "name"],
        ),
        Body::BankAccount => {
            nasty_object(rng, &["bank_name", "account_number", "account_name", "id"])
        }
        Body::Posting => nasty_object(
            rng,
            &[
                "user_id",
                "action",
                "amount",
                "transaction_id",
                "idempotency_key",
            ],
        ),
        Body::Withdraw => {
            json!({"deposit_withdrawal": nasty_object(rng, &["amount", "bank_account_id", "password"])})
        }
        Body::None => return random_body(rng).1,
    };
    // Half the time only one field is odd (or none): the rest would pass, so
    // the odd one reaches as far into the service as it can.
    let roll = rng.gen_range(0..20);
    if roll == 0 {
        return vec![b' '; 17 * 1024];
    }
    if roll < 16 {
        let sane = match kind {
            Body::User => {
                json!({"username": format!("u{}", rng.gen::<u32>()), "email": format!("{}@x.id", rng.gen::<u32>()), "password": USER_PASSWORD})
            }
            Body::BankAccount => {
                json!({"bank_name":"BCA","account_number":"0123","account_name":"Siti"})
            }
            Body::Posting => {
                json!({"user_id": user.id, "action": "topup", "amount": 100, "idempotency_key": format!("k{}", rng.gen::<u32>())})
            }
            _ => {
                json!({"deposit_withdrawal": {"amount": "1000", "bank_account_id": "1", "password": USER_PASSWORD}})
            }
        };
        let target = match kind {
            Body::Withdraw => object["deposit_withdrawal"].clone(),
            _ => object.clone(),
        };
        let mut merged = sane.clone();
        let slot = match kind {
            Body::Withdraw => &mut merged["deposit_withdrawal"],
            _ => &mut merged,
        };
        if roll < 4 {
            return sane.to_string().into_bytes();
        }
        if let (Some(odd), Some(slot)) = (target.as_object(), slot.as_object_mut()) {
            let fields: Vec<_> = odd.iter().collect();
            if let Some((name, value)) = fields.choose(rng) {
                slot.insert((*name).clone(), (*value).clone());
            }
        }
        object = merged;
    }
    object.to_string().into_bytes()
}

#[tokio::test]
async fn random_requests_never_get_a_500_an_empty_body_or_anything_but_json() {
    // Arrange
    let app = spawn_app().await;
    let (user, withdrawal) = app.user_with_withdrawal(1_000, 50_000).await;
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::HEAD,
        Method::from_bytes(b"BREW").unwrap(),
    ];
    let mut rng = StdRng::seed_from_u64(0xd0e7);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();

    for n in 0..REQUESTS {
        // Act: a request aimed at a route (scrambled a little), or anything.
        let (method, path, content_type, body, operator) = if rng.gen_bool(0.8) {
            let (method, route, operator, kind) = *ROUTES.choose(&mut rng).unwrap();
            let id = if rng.gen_bool(0.7) {
                [user.id, withdrawal].choose(&mut rng).unwrap().to_string()
            } else {
                form_urlencoded::byte_serialize(nasty_text(&mut rng).as_bytes()).collect()
            };
            let mut path = route.replace("{id}", &id);
            if rng.gen_bool(0.15) {
                path = random_path(&mut rng, &user, withdrawal);
            }
            let content_type = match kind {
                Body::None => random_body(&mut rng).0,
                Body::Withdraw if rng.gen_bool(0.3) => random_body(&mut rng).0,
                _ => Some("application/json"),
            };
            let method = if rng.gen_bool(0.9) {
                Method::from_bytes(method.as_bytes()).unwrap()
            } else {
                methods.choose(&mut rng).unwrap().clone()
            };
            (
                method,
                path,
                content_type,
                body_of(&mut rng, kind, &user),
                operator,
            )
        } else {
            let (content_type, body) = random_body(&mut rng);
            let method = methods.choose(&mut rng).unwrap().clone();
            (
                method,
                random_path(&mut rng, &user, withdrawal),
                content_type,
                body,
                rng.gen(),
            )
        };
        let mut request = app.request(method.clone(), &path).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request = match rng.gen_range(0..8) {
            0..=4 if operator => request.bearer_auth(ADMIN_TOKEN),
            0..=4 => request.basic_auth(user.id, Some(&user.token)),
            5 => request.basic_auth(nasty_text(&mut rng), Some(nasty_text(&mut rng))),
            6 => request.header(
                "authorization",
                HeaderValue::from_bytes(&header_bytes(&mut rng)).unwrap(),
            ),
            _ => request,
        };
        if rng.gen_bool(0.3) {
            request = request.header(
                "idempotency-key",
                HeaderValue::from_bytes(&header_bytes(&mut rng)).unwrap(),
            );
        }
        if rng.gen_bool(0.1) {
            request = request.header(
                HeaderName::from_static("x-request-id"),
                HeaderValue::from_bytes(&header_bytes(&mut rng)).unwrap(),
            );
        }
        let answer = app.send(request).await;
        *statuses.entry(answer.status.as_u16()).or_default() += 1;

        // Assert
        let what = format!(
            "request #{n}: {method} {path} ({content_type:?}, {} bytes) → {answer:?}",
            body.len()
        );
        assert!(!answer.status.is_server_error(), "{what}");
        if method == Method::HEAD {
            continue;
        }
        assert!(
            answer.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{what}"
        );
        assert!(!answer.body.is_empty(), "{what}");
        serde_json::from_str::<Value>(&answer.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {what}"));
    }
    eprintln!("fuzz answers by status: {statuses:?}");
    // Every kind of answer was reached, successes included.
    for status in [200, 201, 400, 401, 404, 405, 413] {
        assert!(
            statuses.contains_key(&status),
            "no {status} in {statuses:?}"
        );
    }
    app.assert_ledger_ok().await;
}

/// Sends raw bytes and reads until the server closes (or 5 s pass).
async fn raw(app: &TestApp, bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn malformed_http_is_refused_by_status_and_the_server_keeps_serving() {
    // Arrange
    let app = spawn_app().await;
    let many_headers: String = (0..200).map(|n| format!("X-H{n}: v\r\n")).collect();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"GARBAGE\r\n\r\n".to_vec(), "HTTP/1.1 400 "),
        (b"GET / HTTP/9.9\r\n\r\n".to_vec(), "HTTP/1.1 400 "),
        (
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n").into_bytes(),
            "HTTP/1.1 431 ",
        ),
        (
            format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)).into_bytes(),
            "HTTP/1.1 414 ",
        ),
    ];

    for (bytes, status_line) in cases {
        // Act
        let answer = raw(&app, &bytes).await;

        // Assert: hyper answers these itself, before any of dompet's code
        // runs, with the status and an empty body (axum::serve offers no
        // hook to word them; see the README), and closes the connection.
        assert!(answer.starts_with(status_line), "{answer:?}");
        assert!(answer.contains("connection: close"), "{answer:?}");
    }
    let health = app.send(app.request(Method::GET, "/healthz")).await;
    health.assert(200, r#"{"status":"OK"}"#);
}
