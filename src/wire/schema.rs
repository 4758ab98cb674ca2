//! OpenAPI schemas of wire values whose Rust type says less than the
//! contract does: fixed words, enumerations, and the seed's time format.

use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};

use crate::domain::{Action, MutationType, TopupState, WithdrawalState};

fn words(values: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

/// `"OK"` or `"ERROR"`: what clients of the seed read first.
pub fn status() -> Object {
    words(["OK", "ERROR"]).build()
}

pub fn status_ok() -> Object {
    words(["OK"]).build()
}

pub fn status_error() -> Object {
    words(["ERROR"]).build()
}

/// Always `null` on this answer; kept because the seed's clients expect the key.
pub fn always_null() -> Object {
    ObjectBuilder::new().schema_type(Type::Null).build()
}

pub fn mutation_type() -> Object {
    words([MutationType::Credit, MutationType::Debit].map(MutationType::as_str))
        .examples(["Deposit::Credit"])
        .build()
}

pub fn action() -> Object {
    use Action::*;
    words([Remit, Topup, Refund, Payment, Withdrawal, Restore].map(Action::as_str))
        .examples(["remit"])
        .build()
}

pub fn withdrawal_state() -> Object {
    use WithdrawalState::*;
    words([Pending, Processed, Cancelled].map(WithdrawalState::as_str))
        .examples(["pending"])
        .build()
}

pub fn topup_state() -> Object {
    use TopupState::*;
    words([Pending, Confirmed, Cancelled, Expired].map(TopupState::as_str))
        .examples(["pending"])
        .build()
}

fn time(nullable: bool, millis: bool) -> Object {
    let kind = match nullable {
        true => SchemaType::from_iter([Type::String, Type::Null]),
        false => SchemaType::Type(Type::String),
    };
    let (pattern, description, example) = match millis {
        false => (
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$",
            "Seconds, no fraction, with the offset of the service time zone (Asia/Jakarta: +07:00).",
            "2013-11-25T15:32:47+07:00",
        ),
        true => (
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}$",
            "Milliseconds, with the offset of the service time zone (Asia/Jakarta: +07:00).",
            "2016-01-08T11:34:18.000+07:00",
        ),
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .pattern(Some(pattern))
        .description(Some(description))
        .examples([example])
        .build()
}

/// `2013-11-25T15:32:47+07:00`.
pub fn wire_time() -> Object {
    time(false, false)
}

/// `2013-11-25T15:32:47+07:00` or `null` where unset.
pub fn wire_time_or_null() -> Object {
    time(true, false)
}

/// `2016-01-08T11:34:18.000+07:00` (the later API).
pub fn wire_time_millis() -> Object {
    time(false, true)
}

/// `2016-01-08T11:34:18.000+07:00` or `null` where unset.
pub fn wire_time_millis_or_null() -> Object {
    time(true, true)
}
