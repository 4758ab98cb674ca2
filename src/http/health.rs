//! Liveness and readiness probes.

use axum::{extract::State, response::IntoResponse, Json};
use serde::Serialize;
use serde_json::{json, Value};

use super::{
    public::{ErrorEnvelope, PublicError},
    AppState,
};
use crate::database::replicas::ReplicaReport;

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

/// Ready while the primary answers; with read replicas configured, also
/// says how each one is (a replica never makes dompet unready: reads fall
/// back to the primary).
#[derive(Serialize)]
struct Readiness {
    status: &'static str,
    primary: &'static str,
    replicas: Vec<ReplicaReport>,
}

/// Readiness: the process is up and the primary database answers; with
/// read replicas configured, the answer also says how each one is.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, body = Object,
         examples(
             ("Without replicas" = (value = json!({"status": "OK"}))),
             ("With replicas" = (value = json!({"status": "OK", "primary": "up",
                 "replicas": [{"name": "10.0.0.21:5432/dompet", "state": "up", "lag_ms": 12}]}))),
         )),
        (status = 503, body = ErrorEnvelope, description = "The primary database does not answer.",
         example = json!({"status": "ERROR", "message": PublicError::Unavailable.message()})),
    ),
)]
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
