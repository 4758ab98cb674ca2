//! Everything the public API says: the Indonesian texts and the envelopes
//! they travel in. Key order is the seed's (serde writes declaration order).

use serde::Serialize;
use utoipa::ToSchema;

use super::PublicError;
use crate::{
    domain::WithdrawalId,
    service::{Rule, WithdrawOutcome},
    wire::schema,
};

pub const WITHDRAW_ACCEPTED: &str =
    "Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam.";
pub const LOCKED_OUT: &str = "Terlalu banyak percobaan password. Coba lagi nanti.";

/// The text of each error answer.
pub fn error_message(error: PublicError) -> &'static str {
    match error {
        PublicError::Unauthorized => "Autentikasi gagal.",
        PublicError::NotFound => "Tidak ditemukan.",
        PublicError::MethodNotAllowed => "Metode tidak diizinkan.",
        PublicError::BadRequest => "Format permintaan tidak valid.",
        PublicError::Timeout => "Waktu permintaan habis.",
        PublicError::PayloadTooLarge => "Permintaan terlalu besar.",
        PublicError::IdempotencyMismatch => "Idempotency-Key sudah dipakai untuk permintaan lain.",
        PublicError::Unavailable => "Database tidak tersedia.",
        PublicError::Internal => "Terjadi kesalahan pada server.",
    }
}

/// The seed's message for each withdrawal rule.
pub fn rule_message(rule: Rule) -> &'static str {
    match rule {
        Rule::Amount => "Jumlah pencairan tidak valid.",
        Rule::BankAccount => "Rekening pencairan harus milik Anda.",
        Rule::OncePerDay => "Pencairan hanya bisa dilakukan satu kali sehari.",
        Rule::Password => "Password tidak valid.",
        Rule::Balance => "Pencairan dana maksimal sejumlah saldo yang dimiliki.",
        Rule::BalanceWithFee => "Jumlah pencairan dan biaya transfer lebih besar dari saldo.",
    }
}

/// `{"status":"OK","history":[…],"message":null}`, newest first.
#[derive(Serialize, ToSchema)]
pub struct History<T> {
    #[schema(schema_with = schema::status_ok)]
    status: &'static str,
    history: Vec<T>,
    #[schema(schema_with = schema::always_null, required = true)]
    message: Option<&'static str>,
}

impl<T> History<T> {
    pub fn ok(history: Vec<T>) -> Self {
        Self {
            status: "OK",
            history,
            message: None,
        }
    }
}

/// `{"status","withdrawal_id","message"}`: every answer of the withdraw
/// endpoint, errors included.
#[derive(Serialize, ToSchema)]
pub struct WithdrawAnswer {
    #[schema(schema_with = schema::status)]
    status: &'static str,
    /// The new withdrawal's id when `status` is `OK`, else `null`.
    #[schema(value_type = Option<i64>, minimum = 1, required = true)]
    withdrawal_id: Option<WithdrawalId>,
    /// The acceptance text, or every failed rule's message joined with `", "`.
    message: String,
}

impl WithdrawAnswer {
    pub fn error(message: &'static str) -> Self {
        Self {
            status: "ERROR",
            withdrawal_id: None,
            message: message.to_owned(),
        }
    }
}

impl From<WithdrawOutcome> for WithdrawAnswer {
    fn from(outcome: WithdrawOutcome) -> Self {
        match outcome {
            WithdrawOutcome::Accepted { withdrawal_id } => Self {
                status: "OK",
                withdrawal_id: Some(withdrawal_id),
                message: WITHDRAW_ACCEPTED.to_owned(),
            },
            WithdrawOutcome::Rejected { rules } => Self {
                status: "ERROR",
                withdrawal_id: None,
                message: rules
                    .iter()
                    .map(|&rule| rule_message(rule))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            WithdrawOutcome::LockedOut => Self::error(LOCKED_OUT),
        }
    }
}

/// `{"status":"ERROR","message":…}`: every other error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    #[schema(schema_with = schema::status_error)]
    status: &'static str,
    message: &'static str,
}

impl ErrorEnvelope {
    pub fn new(message: &'static str) -> Self {
        Self {
            status: "ERROR",
            message,
        }
    }
}
