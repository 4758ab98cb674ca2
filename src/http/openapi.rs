//! The OpenAPI 3.1 document. Paths come from the handlers' `#[utoipa::path]`
//! annotations, registered by the same `routes!` calls that route them (so
//! the document and the router cannot drift); schemas come from the wire
//! types. Served as `/openapi.json` and rendered at `/docs` by a Swagger UI
//! whose assets are compiled into the binary.

use std::sync::Arc;

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Router,
};
use serde_json::{json, Value};
use utoipa::{
    openapi::{
        security::{Http, HttpAuthScheme, SecurityScheme},
        OpenApi as Document,
    },
    IntoResponses, Modify, OpenApi,
};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::{
    operator::{OperatorErrorBody, OperatorErrorDetail},
    public::{ErrorEnvelope, PublicError},
    AppState, OperatorError,
};
use crate::service::ServiceError;

/// Where the document and the reference are served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const REFERENCE_PATH: &str = "/docs";

const DESCRIPTION: &str = "\
The Bukalapak Dompet (wallet) API on a PostgreSQL ledger.

**Public API** (tag `public`): HTTP Basic with `user_id:api_token` \
(`curl -u 204254:Sy7PRGGr4foUk22uzjMu`). Every answer is JSON: the seed's \
`{\"status\":\"OK\",…}` bodies, and errors as `{\"status\":\"ERROR\",\"message\":…}` \
(the withdraw endpoint adds `\"withdrawal_id\":null`). Withdrawal rules reject with \
HTTP 200 and `\"status\":\"ERROR\"`: clients read `status`.

**Operator API** (tag `operator`, under `/internal/v1`, served only when \
`DOMPET_ADMIN_TOKEN` is set): `Authorization: Bearer <token>`; errors as \
`{\"error\":{\"code\",\"message\"}}`.

**Any path or method not listed here** answers, whatever the credentials, \
404 `{\"status\":\"ERROR\",\"message\":\"Tidak ditemukan.\"}` or \
405 `{\"status\":\"ERROR\",\"message\":\"Metode tidak diizinkan.\"}` (with `Allow`). \
A request still running after `DOMPET_REQUEST_TIMEOUT_SECS` answers 408 in the public \
envelope on either surface.";

#[derive(OpenApi)]
#[openapi(
    info(title = "dompet", description = DESCRIPTION),
    modifiers(&SecuritySchemes),
    tags(
        (name = "public", description = "The seed's endpoints (HTTP Basic)."),
        (name = "operator", description = "The back office and the finance team (Bearer token)."),
        (name = "operations", description = "Probes, metrics and this document."),
    ),
    components(schemas(ErrorEnvelope, OperatorErrorBody, OperatorErrorDetail)),
)]
struct ApiDoc;

/// The document's skeleton: info, tags, security schemes; the paths are
/// added by the router.
pub fn base() -> Document {
    ApiDoc::openapi()
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some("`user_id:api_token`, as in the seed's curl examples.".into());
        components.add_security_scheme("basic", SecurityScheme::Http(basic));
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("`DOMPET_ADMIN_TOKEN`.".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

/// The document as `/openapi.json` serves it.
pub fn render(document: &Document) -> Arc<str> {
    match document.to_json() {
        Ok(json) => Arc::from(json),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the OpenAPI document");
            Arc::from("{}")
        }
    }
}

/// The interactive reference at `/docs`, reading `/openapi.json`. The Swagger
/// UI is told not to call its online validator, so the page talks to no one
/// but this server.
pub fn reference() -> Router<AppState> {
    let config = Config::new([DOCUMENT_PATH])
        .validator_url("none")
        .try_it_out_enabled(true)
        .display_request_duration(true);
    Router::new().merge(SwaggerUi::new(REFERENCE_PATH).config(config))
}

/// The OpenAPI 3.1 document of this server: every endpoint it serves.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This document.", content_type = "application/json",
               body = Object)),
)]
pub async fn document(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.document.to_string(),
    )
        .into_response()
}

fn public_example(error: PublicError) -> Value {
    json!({"status": "ERROR", "message": error.message()})
}

fn withdraw_example(error: PublicError) -> Value {
    json!({"status": "ERROR", "withdrawal_id": null, "message": error.message()})
}

fn operator_example(error: OperatorError) -> Value {
    json!({"error": {"code": error.code(), "message": error.message()}})
}

/// The error answers of the public history endpoints.
#[derive(IntoResponses)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub enum PublicReadErrors {
    /// Missing, malformed or wrong credentials (the same answer whether the
    /// user exists or not).
    #[response(status = 401, example = json!(public_example(PublicError::Unauthorized)),
               headers(("WWW-Authenticate" = String, description = "`Basic realm=\"dompet\"`")))]
    Unauthorized(ErrorEnvelope),
    /// The request ran past `DOMPET_REQUEST_TIMEOUT_SECS`.
    #[response(status = 408, example = json!(public_example(PublicError::Timeout)))]
    Timeout(ErrorEnvelope),
    /// An unexpected failure; details are only in the server's log.
    #[response(status = 500, example = json!(public_example(PublicError::Internal)))]
    Internal(ErrorEnvelope),
    /// Too much work waiting (shed at once), or the database could not serve
    /// the request: nothing was done; retry after `Retry-After` seconds.
    #[response(status = 503, example = json!(public_example(PublicError::Busy)),
               headers(("Retry-After" = u32, description = "Seconds to wait before retrying.")))]
    Unavailable(ErrorEnvelope),
}

/// The error answers of the withdraw endpoint besides rule rejections.
#[derive(IntoResponses)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub enum WithdrawErrors {
    /// A body that cannot be parsed, a content type that is neither form nor
    /// JSON, or a malformed `Idempotency-Key`.
    #[response(status = 400, example = json!(public_example(PublicError::BadRequest)))]
    BadRequest(ErrorEnvelope),
    #[response(status = 401, example = json!(public_example(PublicError::Unauthorized)),
               headers(("WWW-Authenticate" = String, description = "`Basic realm=\"dompet\"`")))]
    Unauthorized(ErrorEnvelope),
    #[response(status = 408, example = json!(public_example(PublicError::Timeout)))]
    Timeout(ErrorEnvelope),
    /// A body over 16 KiB.
    #[response(status = 413, example = json!(public_example(PublicError::PayloadTooLarge)))]
    PayloadTooLarge(ErrorEnvelope),
    /// The `Idempotency-Key` was used before with other parameters; nothing
    /// was done.
    #[response(status = 422, example = json!(withdraw_example(PublicError::IdempotencyMismatch)))]
    KeyReused(super::public::WithdrawAnswer),
    #[response(status = 500, example = json!(public_example(PublicError::Internal)))]
    Internal(ErrorEnvelope),
    /// Too much work waiting (shed at once), or the database could not serve
    /// the request: nothing was done; retry after `Retry-After` seconds with
    /// the same `Idempotency-Key`.
    #[response(status = 503, example = json!(withdraw_example(PublicError::WithdrawBusy)),
               headers(("Retry-After" = u32, description = "Seconds to wait before retrying.")))]
    Unavailable(super::public::WithdrawAnswer),
}

/// The error answers of the top-up endpoint besides rule rejections.
#[derive(IntoResponses)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub enum TopupErrors {
    /// A body that cannot be parsed, a content type that is neither form nor
    /// JSON, or a malformed `Idempotency-Key`.
    #[response(status = 400, example = json!(public_example(PublicError::BadRequest)))]
    BadRequest(ErrorEnvelope),
    #[response(status = 401, example = json!(public_example(PublicError::Unauthorized)),
               headers(("WWW-Authenticate" = String, description = "`Basic realm=\"dompet\"`")))]
    Unauthorized(ErrorEnvelope),
    #[response(status = 408, example = json!(public_example(PublicError::Timeout)))]
    Timeout(ErrorEnvelope),
    /// A body over 16 KiB.
    #[response(status = 413, example = json!(public_example(PublicError::PayloadTooLarge)))]
    PayloadTooLarge(ErrorEnvelope),
    /// The `Idempotency-Key` was used before with other parameters; nothing
    /// was done.
    #[response(status = 422, example = json!(
        {"status": "ERROR", "unique_code": null, "message": PublicError::TopupIdempotencyMismatch.message()}))]
    KeyReused(super::public::TopupAnswer),
    #[response(status = 500, example = json!(public_example(PublicError::Internal)))]
    Internal(ErrorEnvelope),
    /// Too much work waiting (shed at once), or the database could not serve
    /// the request: nothing was done; retry after `Retry-After` seconds.
    #[response(status = 503, example = json!(
        {"status": "ERROR", "unique_code": null, "message": PublicError::TopupBusy.message()}),
               headers(("Retry-After" = u32, description = "Seconds to wait before retrying.")))]
    Unavailable(super::public::TopupAnswer),
}

/// The error answers of the login besides its own `ERROR` bodies.
#[derive(IntoResponses)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub enum LoginErrors {
    #[response(status = 408, example = json!(public_example(PublicError::Timeout)))]
    Timeout(ErrorEnvelope),
    #[response(status = 500, example = json!(public_example(PublicError::Internal)))]
    Internal(ErrorEnvelope),
    /// Too much work waiting (shed at once), or the database could not serve
    /// the request: retry after `Retry-After` seconds.
    #[response(status = 503, example = json!(public_example(PublicError::Busy)),
               headers(("Retry-After" = u32, description = "Seconds to wait before retrying.")))]
    Unavailable(ErrorEnvelope),
}

/// The error answers every operator endpoint may give.
#[derive(IntoResponses)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub enum OperatorErrors {
    /// A missing or wrong bearer token.
    #[response(status = 401, example = json!(operator_example(OperatorError::unauthorized())))]
    Unauthorized(OperatorErrorBody<'static>),
    /// The request ran past `DOMPET_REQUEST_TIMEOUT_SECS`; a write may still
    /// have been applied (retry with the same Idempotency-Key).
    #[response(status = 408, example = json!(operator_example(OperatorError::timeout())))]
    Timeout(OperatorErrorBody<'static>),
    /// An unexpected failure; details are only in the server's log.
    #[response(status = 500, example = json!(operator_example(OperatorError::internal())))]
    Internal(OperatorErrorBody<'static>),
    /// Too much work waiting (`busy`), or the database could not serve the
    /// request (`unavailable`): nothing was done; retry shortly.
    #[response(status = 503, example = json!(operator_example(OperatorError::busy())),
               headers(("Retry-After" = u32, description = "Seconds to wait before retrying.")))]
    Unavailable(OperatorErrorBody<'static>),
}

/// Examples of operator errors, for the annotations of the operator handlers.
pub mod operator_examples {
    use super::*;

    pub fn invalid() -> Value {
        operator_example(OperatorError::invalid(
            "Failed to deserialize the JSON body into the target type: missing field `email`",
        ))
    }

    pub fn too_large() -> Value {
        operator_example(OperatorError::payload_too_large())
    }

    pub fn user_not_found() -> Value {
        operator_example(OperatorError::user_not_found())
    }

    pub fn token_not_found() -> Value {
        operator_example(OperatorError::token_not_found())
    }

    pub fn withdrawal_not_found() -> Value {
        operator_example(OperatorError::withdrawal_not_found())
    }

    pub fn not_pending() -> Value {
        operator_example(OperatorError::from(ServiceError::NotPending(
            crate::domain::WithdrawalState::Processed,
        )))
    }

    pub fn key_reused() -> Value {
        operator_example(OperatorError::from(ServiceError::IdempotencyMismatch))
    }

    pub fn conflict() -> Value {
        operator_example(OperatorError::from(ServiceError::Conflict(
            "this username is taken".into(),
        )))
    }

    pub fn topup_not_found() -> Value {
        operator_example(OperatorError::topup_not_found())
    }

    pub fn topup_not_pending() -> Value {
        operator_example(OperatorError::from(ServiceError::TopupNotPending(
            crate::domain::TopupState::Confirmed,
        )))
    }

    pub fn balance_overflow() -> Value {
        operator_example(OperatorError::from(ServiceError::BalanceOverflow))
    }

    pub fn statement_too_large() -> Value {
        operator_example(OperatorError::statement_too_large())
    }

    pub fn insufficient_balance() -> Value {
        operator_example(OperatorError::from(ServiceError::InsufficientBalance {
            balance: 30000,
            amount: 50000,
        }))
    }
}
