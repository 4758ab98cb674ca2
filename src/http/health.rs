//! Liveness and readiness probes.

use axum::{extract::State, response::IntoResponse, Json};
use serde::Serialize;
use serde_json::{json, Value};

use super::{AppState, PublicError};
use crate::database::replicas::ReplicaReport;

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "OK"}))
}

/// Ready while the primary answers; with read replicas configured, also
/// says how each one is (a replica never makes dompet unready: reads fall
/// back to the primary).
#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    primary: &'static str,
    replicas: Vec<ReplicaReport>,
}

pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, PublicError> {
    if !state.dompet.ready().await {
        return Err(PublicError::Unavailable);
    }
    let replicas = state.dompet.replicas();
    Ok(match replicas.is_empty() {
        true => healthz().await.into_response(),
        false => Json(Readiness {
            status: "OK",
            primary: "up",
            replicas: replicas.report(),
        })
        .into_response(),
    })
}
