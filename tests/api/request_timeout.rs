//! A request that outlives `DOMPET_REQUEST_TIMEOUT_SECS` answers 408 in the
//! envelope of its surface and changes nothing.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app_with, TestApp, ADMIN_TOKEN};

/// Sends `head` and the start of a body announced as 100 bytes that never
/// arrives in full, and returns the whole raw HTTP answer.
async fn send_unfinished(app: &TestApp, head: &str, body_start: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(format!("{head}Content-Length: 100\r\n\r\n{body_start}").as_bytes())
        .await
        .unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut response))
        .await
        .expect("the server answers within its timeout")
        .unwrap();
    String::from_utf8(response).unwrap()
}

#[track_caller]
fn assert_json_408(response: &str, body: &str) {
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.contains("content-type: application/json"),
        "{response}"
    );
    assert!(response.ends_with(body), "{response}");
}

#[tokio::test]
async fn a_request_that_outlives_the_timeout_is_a_json_408_and_changes_nothing() {
    // Arrange: a withdraw whose body never finishes arriving.
    let app = spawn_app_with(|c| c.request_timeout = Duration::from_secs(1)).await;
    let (user, _) = app.funded_user(10_000).await;
    let before = app.ledger_fingerprint().await;
    let credentials = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", user.id, user.token),
    );

    // Act
    let response = send_unfinished(
        &app,
        &format!(
            "POST /v2/dompet/withdraw.json HTTP/1.1\r\nHost: dompet\r\n\
             Authorization: Basic {credentials}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n"
        ),
        "deposit_withdrawal[amount]=1",
    )
    .await;

    // Assert
    assert_json_408(
        &response,
        r#"{"status":"ERROR","message":"Waktu permintaan habis."}"#,
    );
    assert_eq!(app.ledger_fingerprint().await, before);
}

#[tokio::test]
async fn an_operator_request_that_outlives_the_timeout_is_the_operators_408_and_changes_nothing() {
    // Arrange: a posting whose body never finishes arriving.
    let app = spawn_app_with(|c| c.request_timeout = Duration::from_secs(1)).await;
    let (user, _) = app.funded_user(10_000).await;
    let before = app.ledger_fingerprint().await;

    // Act
    let response = send_unfinished(
        &app,
        &format!(
            "POST /internal/v1/mutations HTTP/1.1\r\nHost: dompet\r\n\
             Authorization: Bearer {ADMIN_TOKEN}\r\n\
             Content-Type: application/json\r\n"
        ),
        &format!("{{\"user_id\":{}", user.id),
    )
    .await;

    // Assert: the operator's envelope, not the public one.
    assert_json_408(
        &response,
        r#"{"error":{"code":"timeout","message":"the request ran out of time; a write may still have been applied: retry with the same Idempotency-Key"}}"#,
    );
    assert_eq!(app.ledger_fingerprint().await, before);
}
