//! Liveness and readiness probes.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use super::AppState;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "OK"}))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.dompet.ready().await {
        (StatusCode::OK, Json(json!({"status": "OK"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "ERROR", "message": "Database tidak tersedia."})),
        )
    }
}
