//! The HTTP surface: routers, the middleware stack and the answers of last
//! resort, so that nothing ever leaves as HTML or an empty body.

mod health;
mod operator;
mod public;

use std::{any::Any, future::Future, time::Duration};

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, MatchedPath},
    http::{header, HeaderValue, Request, Response, StatusCode},
    middleware,
    response::IntoResponse,
    routing::get,
    Router,
};
use sha2::{Digest, Sha256};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::{Instrument, Level};

use crate::{
    config::Secret,
    service::{Dompet, ServiceError},
};
pub use operator::OperatorError;
pub use public::PublicError;

/// Largest request body accepted (SPEC §1).
pub const BODY_LIMIT: usize = 16 * 1024;

/// Runs a service call to its end even when the request's future is dropped
/// (a client that disconnects, the request timeout): money work never stops
/// halfway because a client went away, and the database driver never has a
/// future dropped while its `BEGIN` is in flight. The caller learns the
/// outcome by retrying with its Idempotency-Key.
pub(crate) async fn to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, ServiceError>> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::spawn(work.in_current_span())
        .await
        .unwrap_or_else(|e| Err(ServiceError::internal_from("a service task failed", e)))
}

/// `Retry-After` of every 503: shed or timed-out work is worth retrying soon.
pub fn retry_after() -> HeaderValue {
    HeaderValue::from_static("1")
}

#[derive(Clone)]
pub struct AppState {
    pub dompet: Dompet,
    /// SHA-256 of `DOMPET_ADMIN_TOKEN`; `None` keeps the operator API off.
    operator_token_sha256: Option<[u8; 32]>,
}

impl AppState {
    pub fn new(dompet: Dompet, operator_token: Option<&Secret>) -> Self {
        Self {
            dompet,
            operator_token_sha256: operator_token
                .map(|t| Sha256::digest(t.expose().as_bytes()).into()),
        }
    }
}

pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(public::router());
    if state.operator_token_sha256.is_some() {
        app = app.nest("/internal/v1", operator::router());
    }
    let request_id = header::HeaderName::from_static("x-request-id");
    app.fallback(|| async { PublicError::NotFound })
        .method_not_allowed_fallback(|| async { PublicError::MethodNotAllowed })
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(middleware::map_response(json_errors_only))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    request_timeout,
                ))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .with_state(state)
}

/// Method, route and request id; never headers, which carry credentials.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "request handler panicked");
    PublicError::Internal.into_response()
}

/// Any error answer not already JSON (axum's own rejections, the timeout
/// layer's bare 408) is given the SPEC's envelope for its status.
async fn json_errors_only(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let error = PublicError::for_status(status);
    if status.is_server_error() {
        tracing::error!(%status, "an error answer without a JSON body was replaced");
    }
    let (mut parts, _) = response.into_parts();
    let mut fresh = error.into_response();
    // Keep the headers that carry meaning (Allow, WWW-Authenticate, ids).
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in parts.headers.iter() {
        fresh.headers_mut().insert(name.clone(), value.clone());
    }
    *fresh.status_mut() = status;
    fresh
}
