//! What each request leaves behind: its span, its access line (when
//! `DOMPET_ACCESS_LOG` asks for one), an error line when it failed, and its
//! metrics — all keyed by the route template, never the raw path. Also the
//! Prometheus scrape endpoint.
//!
//! With the access log off, the request span is at `debug` level, so at the
//! default filter a request costs no tracing work beyond a level check.

use std::time::Instant;

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use super::AppState;

/// Route label of requests no route matched (404s, mostly).
const UNMATCHED: &str = "unmatched";

pub async fn observe(access_log: bool, request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Both clones are reference counts, not copies.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let id = request.headers().get("x-request-id").cloned();
    let request_id = || request_id(id.as_ref());
    let method = method_label(request.method());
    // Field values are only evaluated when the span is enabled.
    let span = if access_log {
        tracing::info_span!("request", method, route, request_id = %request_id())
    } else {
        tracing::debug_span!("request", method, route, request_id = %request_id())
    };
    let response = next.run(request).instrument(span).await;
    let latency = started.elapsed();
    let status = response.status();
    crate::metrics::http_request(route, method, status.as_u16(), latency);
    // 503 is load shed on purpose, not a failure: it goes to the access log only.
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(target: "dompet::access", method, route, status = status.as_u16(),
            latency_ms = latency_ms(latency), request_id = %request_id(),
            "request failed");
    } else if access_log {
        tracing::info!(target: "dompet::access", method, route, status = status.as_u16(),
            latency_ms = latency_ms(latency), request_id = %request_id(),
            "request");
    }
    response
}

/// The standard methods by name; anything else is one label, so a client
/// cannot mint label values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// The `x-request-id` set (or passed through) by the layer outside this one;
/// at most 64 characters of it reach the log.
fn request_id(value: Option<&HeaderValue>) -> &str {
    let id = value.and_then(|v| v.to_str().ok()).unwrap_or("-");
    match id.char_indices().nth(64) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

/// Prometheus text: requests by route template, method and status with
/// latency histograms; database pool connections; the password-hash queue;
/// withdrawals, top-ups and logins by outcome; lockouts.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4.",
               content_type = "text/plain; version=0.0.4", body = String)),
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = state.metrics.as_ref() else {
        return super::PublicError::NotFound.into_response();
    };
    let dompet = &state.dompet;
    let text = crate::metrics::render(
        handle,
        dompet.pool(),
        dompet.reads().pool(),
        dompet.postings().pool(),
    );
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        Body::from(text),
    )
        .into_response()
}

/// Milliseconds to the microsecond: `12.042`, not `12.042430999999999`.
fn latency_ms(latency: std::time::Duration) -> f64 {
    latency.as_micros() as f64 / 1000.0
}
