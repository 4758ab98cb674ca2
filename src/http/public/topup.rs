//! `POST /v2/dompet/topup.json` (SPEC §5.3): parameters from a form, a flat
//! JSON object or the query string, merged field by field as for withdraw.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request, State},
    http::StatusCode,
    Json,
};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::PublicUser,
    extract::{media_type, IdempotencyKey},
    texts::TopupAnswer,
    PublicError,
};
use crate::{
    http::{openapi::TopupErrors, AppState},
    service::TopupRequest,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(topup))
}

/// The top-up parameters as the OpenAPI document shows them, for a form
/// body or a flat JSON object.
#[derive(ToSchema)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct TopupBody {
    /// Whole rupiah in ASCII digits, 10,000 to 100,000,000 (rule 1); a JSON
    /// integer too.
    #[schema(schema_with = digits, examples("25000"))]
    amount: Option<String>,
    /// The user's own bank account the money comes from (rule 2).
    #[schema(schema_with = digits, examples("41812"))]
    bank_account_id: Option<String>,
    /// Accepted and ignored, as are `mandiri`, `bni` and `bri`.
    bca: Option<String>,
}

fn digits() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::String,
            Type::Integer,
            Type::Null,
        ]))
        .build()
}

/// Top-up request: add money by bank transfer. The answer's unique code
/// makes `amount + unique_code` the exact sum to transfer; the request
/// expires after `DOMPET_TOPUP_TTL_HOURS` (48). Parameters from a form, a
/// flat JSON object or the query string, merged as for withdraw. Rules in
/// order, messages joined with `", "`; a rejection is HTTP 200 with
/// `"status":"ERROR"`.
#[utoipa::path(
    post,
    path = "/v2/dompet/topup.json",
    tag = "public",
    security(("basic" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
         pattern = r"^[\x21-\x7E]+$",
         description = "As for withdraw: a retry with the same key and parameters replays the first answer."),
        ("amount" = Option<String>, Query, example = "25000",
         description = "As in the body; a body field wins."),
        ("bank_account_id" = Option<String>, Query, example = "41812",
         description = "As in the body; a body field wins."),
    ),
    request_body(
        description = "`amount` and `bank_account_id` (a missing one fails its rule).",
        content(
            (TopupBody = "application/x-www-form-urlencoded",
             example = json!({"amount": "25000", "bank_account_id": "41812"})),
            (TopupBody = "application/json",
             example = json!({"amount": "25000", "bank_account_id": "41812"})),
        ),
    ),
    responses(
        (status = 200, body = TopupAnswer, description = "Requested (`OK`) or rejected by the rules (`ERROR`).",
         examples(
             ("Success" = (value = json!({"status": "OK", "unique_code": 213,
                                          "message": "Topup berhasil di-request"}))),
             ("Amount out of range" = (value = json!({"status": "ERROR", "unique_code": null,
                 "message": "Minimal Top Up adalah Rp. 10.000,- dan Maksimal Rp. 100.000.000,-"}))),
             ("Unknown bank account" = (value = json!({"status": "ERROR", "unique_code": null,
                 "message": "Id rekening bank tidak terdaftar"}))),
         )),
        TopupErrors,
    ),
)]
async fn topup(
    State(state): State<AppState>,
    PublicUser(user_id): PublicUser,
    IdempotencyKey(key): IdempotencyKey,
    TopupParams(request): TopupParams,
) -> Result<Json<TopupAnswer>, PublicError> {
    let outcome = state
        .dompet
        .request_topup(user_id, request, key)
        .await
        .map_err(|e| PublicError::from(e).for_topup())?;
    Ok(Json(outcome.into()))
}

/// Reads `amount` and `bank_account_id` of a form (or query); `bca`,
/// `mandiri`, `bni`, `bri` and anything else are ignored.
fn topup_from_form(bytes: &[u8]) -> TopupRequest {
    let mut fields = TopupRequest::default();
    for (name, value) in form_urlencoded::parse(bytes) {
        let slot = match name.as_ref() {
            "amount" => &mut fields.amount,
            "bank_account_id" => &mut fields.bank_account_id,
            _ => continue,
        };
        *slot = Some(value.into_owned());
    }
    fields
}

/// Reads `{"amount":"25000","bank_account_id":"41812",…}`; numbers keep
/// their JSON spelling, other keys are ignored whatever their type.
fn topup_from_json(bytes: &[u8]) -> Result<TopupRequest, PublicError> {
    let body: Value = serde_json::from_slice(bytes).map_err(|_| PublicError::BadRequest)?;
    let Value::Object(body) = body else {
        return Err(PublicError::BadRequest);
    };
    let field = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(PublicError::BadRequest),
    };
    Ok(TopupRequest {
        amount: field("amount")?,
        bank_account_id: field("bank_account_id")?,
    })
}

/// Top-up parameters merged from the body and the query string.
pub struct TopupParams(pub TopupRequest);

impl<S: Send + Sync> FromRequest<S> for TopupParams {
    type Rejection = PublicError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = topup_from_form(req.uri().query().unwrap_or("").as_bytes());
        let media_type = media_type(req.headers())?;
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => PublicError::PayloadTooLarge,
                _ => PublicError::BadRequest,
            }
        })?;
        if body.is_empty() {
            return Ok(Self(query));
        }
        let from_body = match media_type.as_deref() {
            // No content type: read it as a form, as for withdraw.
            None | Some("application/x-www-form-urlencoded") => topup_from_form(&body),
            Some(t) if t == "application/json" || t.ends_with("+json") => topup_from_json(&body)?,
            Some(_) => return Err(PublicError::BadRequest),
        };
        Ok(Self(from_body.or(query)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_flat_json_read_the_same_fields_and_ignore_the_banks() {
        let form = topup_from_form(b"amount=25000&bank_account_id=41812&bca=1&mandiri=");
        let json = topup_from_json(
            br#"{"amount":25000,"bank_account_id":"41812","bca":true,"bri":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(form, json);
        assert_eq!(form.amount.as_deref(), Some("25000"));
    }

    #[test]
    fn odd_json_shapes_are_refused() {
        for bad in [
            &b"[1]"[..],
            br#"{"amount":true}"#,
            br#"{"bank_account_id":[1]}"#,
            b"{",
        ] {
            assert_eq!(topup_from_json(bad), Err(PublicError::BadRequest));
        }
        let float = topup_from_json(br#"{"amount":25000.0}"#).unwrap();
        assert_eq!(float.amount.as_deref(), Some("25000.0"));
    }
}
