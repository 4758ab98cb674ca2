//! Liveness and readiness probes.

use axum::{extract::State, response::IntoResponse, Json};
use serde_json::{json, Value};

use super::{AppState, PublicError};

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "OK"}))
}

pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, PublicError> {
    match state.dompet.ready().await {
        true => Ok(healthz().await),
        false => Err(PublicError::Unavailable),
    }
}
