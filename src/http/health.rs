//! Liveness and readiness probes.

use axum::{extract::State, response::IntoResponse, Json};
use serde_json::{json, Value};

use super::{
    public::{ErrorEnvelope, PublicError},
    AppState,
};

/// Liveness: the process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, body = Object, example = json!({"status": "OK"}))),
)]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "OK"}))
}

/// Readiness: the process is up and the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, body = Object, example = json!({"status": "OK"})),
        (status = 503, body = ErrorEnvelope, description = "The database does not answer.",
         example = json!({"status": "ERROR", "message": PublicError::Unavailable.message()})),
    ),
)]
pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, PublicError> {
    match state.dompet.ready().await {
        true => Ok(healthz().await),
        false => Err(PublicError::Unavailable),
    }
}
