//! Lenient request parsing for the public endpoints: pagination and the
//! history cursor that fall back instead of failing, and withdraw parameters
//! from a form body, a JSON body or the query string.

use std::convert::Infallible;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts, HeaderMap, StatusCode},
};
use serde_json::{Map, Value};

use super::PublicError;
use crate::service::{Cursor, Page, WithdrawRequest};

/// `page` and `per_page`, with the SPEC's fallbacks applied.
pub struct Pagination(pub Page);

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut page = None;
        let mut per_page = None;
        for (name, value) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            match name.as_ref() {
                "page" => page = Some(value),
                "per_page" => per_page = Some(value),
                _ => {}
            }
        }
        let number = |v: Option<std::borrow::Cow<'_, str>>| v.as_deref().and_then(page_number);
        Ok(Self(Page::new(number(page), number(per_page))))
    }
}

/// How `page` and `per_page` read in the OpenAPI document; [`Pagination`]
/// is what applies them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct PageQuery {
    /// Page number, default 1. A value that is not a whole number from 1 to
    /// 2147483647 falls back to the default; past the end the history is `[]`.
    #[param(minimum = 1, maximum = 2147483647, example = 1)]
    page: Option<i64>,
    /// Records per page, default 10, at most 100 (a larger value is taken as
    /// 100). A value that is not a whole number from 1 to 2147483647 falls
    /// back to the default.
    #[param(minimum = 1, maximum = 2147483647, example = 10)]
    per_page: Option<i64>,
}

/// `before_id`, the history cursor; anything but a whole number from 1 to
/// 9223372036854775807 is no cursor, as odd paging values fall back.
pub struct BeforeId(pub Option<Cursor>);

impl<S: Send + Sync> FromRequestParts<S> for BeforeId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("").as_bytes();
        // The last one wins, as for `page` and `per_page`.
        let before_id = form_urlencoded::parse(query)
            .filter(|(name, _)| name == "before_id")
            .last()
            .and_then(|(_, value)| whole_number(&value, i64::MAX));
        Ok(Self(before_id.and_then(Cursor::before)))
    }
}

/// How `before_id` reads in the OpenAPI document; [`BeforeId`] is what
/// applies it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct CursorQuery {
    /// Cursor for walking a long history: only rows whose `id` is smaller
    /// than this are listed, newest first, and `page`/`per_page` count from
    /// there. Walk with `before_id=<id of the last row received>&page=1`:
    /// every step costs what page 1 costs, however deep. A value that is not
    /// a whole number from 1 to 9223372036854775807 is ignored (no cursor);
    /// past the oldest row the history is `[]`.
    #[param(minimum = 1, maximum = 9223372036854775807_i64, example = 346)]
    before_id: Option<i64>,
}

/// A whole number from 1 to 2147483647 in plain ASCII digits (leading zeros
/// allowed: `0001` is 1), or nothing.
fn page_number(text: &str) -> Option<i64> {
    whole_number(text, i64::from(i32::MAX))
}

/// A whole number from 1 to `max` in plain ASCII digits (leading zeros
/// allowed), or nothing.
fn whole_number(text: &str, max: i64) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = text.trim_start_matches('0');
    // More digits than i64::MAX has: too large, whatever they are.
    if significant.len() > 19 {
        return None;
    }
    significant
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
}

/// Reads the three `deposit_withdrawal[…]` fields of a form (or query).
fn withdraw_from_form(bytes: &[u8]) -> WithdrawRequest {
    let [amount, bank_account_id, password] = form_fields(
        bytes,
        [
            "deposit_withdrawal[amount]",
            "deposit_withdrawal[bank_account_id]",
            "deposit_withdrawal[password]",
        ],
    );
    WithdrawRequest {
        amount,
        bank_account_id,
        password,
    }
}

/// Reads `{"deposit_withdrawal":{…}}`; numbers keep their JSON spelling, so
/// 25000 passes rule 1 and 25000.0 does not.
fn withdraw_from_json(bytes: &[u8]) -> Result<WithdrawRequest, PublicError> {
    let body = json_object(bytes)?;
    let inner = match body.get("deposit_withdrawal") {
        None | Some(Value::Null) => return Ok(WithdrawRequest::default()),
        Some(Value::Object(inner)) => inner,
        Some(_) => return Err(PublicError::BadRequest),
    };
    Ok(WithdrawRequest {
        amount: json_text(inner, "amount")?,
        bank_account_id: json_text(inner, "bank_account_id")?,
        password: json_text(inner, "password")?,
    })
}

impl FormOrJson for WithdrawRequest {
    fn from_form(bytes: &[u8]) -> Self {
        withdraw_from_form(bytes)
    }

    fn from_json(bytes: &[u8]) -> Result<Self, PublicError> {
        withdraw_from_json(bytes)
    }

    fn or(self, fallback: Self) -> Self {
        WithdrawRequest::or(self, fallback)
    }
}

/// The seed's form body, as the OpenAPI document shows it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct WithdrawForm {
    /// Whole rupiah in ASCII digits, at least 1 (rule 1).
    #[schema(rename = "deposit_withdrawal[amount]", examples("25000"))]
    amount: Option<String>,
    /// One of the user's own bank accounts (rule 2).
    #[schema(rename = "deposit_withdrawal[bank_account_id]", examples("41812"))]
    bank_account_id: Option<String>,
    /// The user's password (rule 4).
    #[schema(rename = "deposit_withdrawal[password]", format = Password, examples("testing1234"))]
    password: Option<String>,
}

/// The JSON body: the same three fields under `deposit_withdrawal`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct WithdrawJson {
    deposit_withdrawal: Option<WithdrawJsonFields>,
}

/// Numbers may be JSON strings or JSON integers (`25000.0` fails rule 1).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // read only by the OpenAPI derive
pub struct WithdrawJsonFields {
    #[schema(schema_with = digits_or_integer, examples("25000"))]
    amount: Option<String>,
    #[schema(schema_with = digits_or_integer, examples("41812"))]
    bank_account_id: Option<String>,
    #[schema(format = Password, examples("testing1234"))]
    password: Option<String>,
}

/// A JSON string or integer (or null), as a parameter's schema.
pub(super) fn digits_or_integer() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::String,
            Type::Integer,
            Type::Null,
        ]))
        .build()
}

/// Withdraw parameters merged from the body and the query string.
pub struct WithdrawParams(pub WithdrawRequest);

impl<S: Send + Sync> FromRequest<S> for WithdrawParams {
    type Rejection = PublicError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        body_over_query(req, state).await.map(Self)
    }
}

/// Parameters that a form body, a JSON body or the query string may carry,
/// read alike for withdraw and top-up.
pub(super) trait FormOrJson: Sized {
    /// Reads a form body or a query string.
    fn from_form(bytes: &[u8]) -> Self;
    /// Reads a JSON body.
    fn from_json(bytes: &[u8]) -> Result<Self, PublicError>;
    /// Field by field, `self` wins over `fallback`.
    fn or(self, fallback: Self) -> Self;
}

/// `P` from the body, whose fields win one by one over the query string's.
pub(super) async fn body_over_query<P: FormOrJson, S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<P, PublicError> {
    let query = P::from_form(req.uri().query().unwrap_or("").as_bytes());
    let media_type = media_type(req.headers())?;
    let body =
        Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => PublicError::PayloadTooLarge,
                _ => PublicError::BadRequest,
            })?;
    if body.is_empty() {
        return Ok(query);
    }
    let from_body = match media_type.as_deref() {
        // No content type: read it as the seed's curl sends it.
        None | Some("application/x-www-form-urlencoded") => P::from_form(&body),
        Some(t) if t == "application/json" || t.ends_with("+json") => P::from_json(&body)?,
        Some(_) => return Err(PublicError::BadRequest),
    };
    Ok(from_body.or(query))
}

/// The values of the fields `names` in a form (or query string), in that
/// order; a name given twice keeps its last value, other names are ignored.
pub(super) fn form_fields<const N: usize>(bytes: &[u8], names: [&str; N]) -> [Option<String>; N] {
    let mut values = std::array::from_fn(|_| None);
    for (name, value) in form_urlencoded::parse(bytes) {
        if let Some(i) = names.iter().position(|wanted| *wanted == name) {
            values[i] = Some(value.into_owned());
        }
    }
    values
}

/// A JSON body that must be an object.
pub(super) fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, PublicError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(PublicError::BadRequest),
    }
}

/// A field as text: a string as it is, a number in its JSON spelling; absent
/// or null is nothing, anything else a 400.
pub(super) fn json_text(
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, PublicError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(PublicError::BadRequest),
    }
}

fn media_type(headers: &HeaderMap) -> Result<Option<String>, PublicError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| PublicError::BadRequest)?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    Ok(Some(essence))
}

/// `Idempotency-Key`: 1 to 255 visible ASCII characters, or absent.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = PublicError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let bytes = value.as_bytes();
        if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| b.is_ascii_graphic()) {
            return Err(PublicError::BadRequest);
        }
        Ok(Self(Some(String::from_utf8_lossy(bytes).into_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_fall_back_on_anything_odd() {
        assert_eq!(page_number("3"), Some(3));
        assert_eq!(page_number("2147483647"), Some(2147483647));
        assert_eq!(page_number("00000000001"), Some(1));
        assert_eq!(page_number("0002147483647"), Some(2147483647));
        for bad in [
            "",
            "0",
            "0000000000000",
            "0002147483648",
            "-1",
            "+1",
            "1.5",
            "abc",
            "2147483648",
            "99999999999",
            " 1",
        ] {
            assert_eq!(page_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cursor_ids_fall_back_on_anything_odd() {
        let max = i64::MAX;
        assert_eq!(whole_number("1", max), Some(1));
        assert_eq!(whole_number("9223372036854775807", max), Some(i64::MAX));
        assert_eq!(whole_number("0009223372036854775807", max), Some(i64::MAX));
        assert_eq!(whole_number("0042", max), Some(42));
        for bad in [
            "",
            "0",
            "000",
            "-1",
            "+1",
            "1e3",
            "4.0",
            "abc",
            " 7",
            "7 ",
            "9223372036854775808",
            "18446744073709551616",
            "99999999999999999999999",
        ] {
            assert_eq!(whole_number(bad, max), None, "{bad:?}");
        }
    }

    #[test]
    fn body_fields_win_over_query_fields_one_by_one() {
        let body = withdraw_from_form(b"deposit_withdrawal%5Bamount%5D=100");
        let query =
            withdraw_from_form(b"deposit_withdrawal[amount]=5&deposit_withdrawal[password]=pw");
        let merged = body.or(query);
        assert_eq!(merged.amount.as_deref(), Some("100"));
        assert_eq!(merged.password.as_deref(), Some("pw"));
        assert_eq!(merged.bank_account_id, None);
    }

    #[test]
    fn json_numbers_keep_their_spelling_and_odd_shapes_are_refused() {
        let fields = withdraw_from_json(
            br#"{"deposit_withdrawal":{"amount":25000,"bank_account_id":"41812","password":"x"}}"#,
        )
        .unwrap();
        assert_eq!(fields.amount.as_deref(), Some("25000"));
        let float = withdraw_from_json(br#"{"deposit_withdrawal":{"amount":25000.0}}"#).unwrap();
        assert_eq!(float.amount.as_deref(), Some("25000.0"));
        for bad in [
            &br#"[1]"#[..],
            br#"{"deposit_withdrawal":[]}"#,
            br#"{"deposit_withdrawal":{"amount":true}}"#,
            b"{",
        ] {
            assert_eq!(withdraw_from_json(bad), Err(PublicError::BadRequest));
        }
    }
}
