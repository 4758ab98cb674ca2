//! `POST /v2/dompet/topup.json` (SPEC §5.3): parameters from a form, a flat
//! JSON object or the query string, merged field by field as for withdraw.

use axum::{
    extract::{FromRequest, Request, State},
    Json,
};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::PublicUser,
    extract::{
        body_over_query, digits_or_integer, form_fields, json_object, json_text, FormOrJson,
        IdempotencyKey,
    },
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
    #[schema(schema_with = digits_or_integer, examples("25000"))]
    amount: Option<String>,
    /// The user's own bank account the money comes from (rule 2).
    #[schema(schema_with = digits_or_integer, examples("41812"))]
    bank_account_id: Option<String>,
    /// Accepted and ignored, as are `mandiri`, `bni` and `bri`.
    bca: Option<String>,
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
    let [amount, bank_account_id] = form_fields(bytes, ["amount", "bank_account_id"]);
    TopupRequest {
        amount,
        bank_account_id,
    }
}

/// Reads `{"amount":"25000","bank_account_id":"41812",…}`; numbers keep
/// their JSON spelling, other keys are ignored whatever their type.
fn topup_from_json(bytes: &[u8]) -> Result<TopupRequest, PublicError> {
    let body = json_object(bytes)?;
    Ok(TopupRequest {
        amount: json_text(&body, "amount")?,
        bank_account_id: json_text(&body, "bank_account_id")?,
    })
}

impl FormOrJson for TopupRequest {
    fn from_form(bytes: &[u8]) -> Self {
        topup_from_form(bytes)
    }

    fn from_json(bytes: &[u8]) -> Result<Self, PublicError> {
        topup_from_json(bytes)
    }

    fn or(self, fallback: Self) -> Self {
        TopupRequest::or(self, fallback)
    }
}

/// Top-up parameters merged from the body and the query string.
pub struct TopupParams(pub TopupRequest);

impl<S: Send + Sync> FromRequest<S> for TopupParams {
    type Rejection = PublicError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        body_over_query(req, state).await.map(Self)
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
