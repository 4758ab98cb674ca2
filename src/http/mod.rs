//! The HTTP surface: routers, the middleware stack and the answers of last
//! resort, so that nothing ever leaves as HTML or an empty body.

mod health;
pub mod openapi;
mod operator;
mod public;
mod telemetry;

use std::{any::Any, future::Future, sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Request},
    http::{header, HeaderValue, Response, StatusCode},
    middleware::{self, Next},
    response::IntoResponse,
    routing::get,
    Router,
};
use metrics_exporter_prometheus::PrometheusHandle;
use sha2::{Digest, Sha256};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
};
use tracing::Instrument;
use utoipa_axum::{router::OpenApiRouter, routes};

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
    /// Set: `/metrics` is served on the public listener.
    metrics: Option<PrometheusHandle>,
    /// `DOMPET_ACCESS_LOG`: one log line per request.
    access_log: bool,
    /// The OpenAPI document as served, rendered once.
    document: Arc<str>,
}

impl AppState {
    pub fn new(dompet: Dompet, operator_token: Option<&Secret>) -> Self {
        Self {
            dompet,
            operator_token_sha256: operator_token
                .map(|t| Sha256::digest(t.expose().as_bytes()).into()),
            metrics: None,
            access_log: false,
            document: Arc::from("{}"),
        }
    }

    /// Serves `/metrics` on the public listener with this recorder.
    pub fn with_public_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    pub fn with_access_log(mut self, on: bool) -> Self {
        self.access_log = on;
        self
    }
}

/// Every route the public listener serves but the reference's own assets,
/// with its OpenAPI description: the document is made from this definition,
/// so it lists exactly what is routed.
pub fn api(state: &AppState) -> OpenApiRouter<AppState> {
    let mut api = OpenApiRouter::with_openapi(openapi::base()).merge(public::router());
    if state.operator_token_sha256.is_some() {
        api = api.nest("/internal/v1", operator::router());
    }
    api = api
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi::document));
    if state.metrics.is_some() {
        api = api.routes(routes!(telemetry::metrics));
    }
    api
}

pub fn router(mut state: AppState, request_timeout: Duration) -> Router {
    let (routes, document) = api(&state).split_for_parts();
    state.document = openapi::render(&document);
    let app = routes.merge(openapi::reference());
    let access_log = state.access_log;
    let request_id = header::HeaderName::from_static("x-request-id");
    app.fallback(|| async { PublicError::NotFound })
        .method_not_allowed_fallback(|| async { PublicError::MethodNotAllowed })
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), RandomRequestId))
                .layer(middleware::from_fn(move |request: Request, next: Next| {
                    telemetry::observe(access_log, request, next)
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(json_errors_only))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    request_timeout,
                ))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .with_state(state)
}

/// `/metrics` alone, for the listener of `DOMPET_METRICS_ADDR`.
pub fn metrics_router(state: AppState, handle: PrometheusHandle) -> Router {
    Router::new()
        .route("/metrics", get(telemetry::metrics))
        .fallback(|| async { PublicError::NotFound })
        .with_state(state.with_public_metrics(handle))
}

/// The `x-request-id` of a request that came without one: a random UUID v4,
/// as tower-http's `MakeRequestUuid` makes, drawn from the thread's CSPRNG
/// instead of a `getrandom` system call and two allocations per request.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// A bare 500: `json_errors_only`, outside, gives it the envelope of the
/// surface the request was for.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "request handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// Any error answer not already JSON (axum's own rejections, the timeout
/// layer's bare 408, a caught panic) is given the envelope of its surface for
/// its status: the operator's under `/internal/`, the SPEC's elsewhere.
async fn json_errors_only(request: Request, next: Next) -> Response<Body> {
    let operator = request.uri().path().starts_with("/internal/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    if status.is_server_error() {
        tracing::error!(%status, "an error answer without a JSON body was replaced");
    }
    let (mut parts, _) = response.into_parts();
    let mut fresh = if operator {
        OperatorError::for_status(status).into_response()
    } else {
        PublicError::for_status(status).into_response()
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_fresh_v4_uuids_as_tower_http_writes_them() {
        let request = axum::http::Request::new(());
        let mut make = RandomRequestId;
        let ids: Vec<String> = (0..1000)
            .map(|_| {
                let id = make.make_request_id(&request).unwrap();
                id.header_value().to_str().unwrap().to_owned()
            })
            .collect();
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
            assert_eq!(*id, parsed.to_string(), "lowercase, hyphenated: {id}");
        }
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
