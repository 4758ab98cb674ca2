//! Everything the public API says: the Indonesian texts and the envelopes
//! they travel in. Key order is the seed's (serde writes declaration order).

use serde::Serialize;
use utoipa::ToSchema;

use super::PublicError;
use crate::{
    domain::WithdrawalId,
    service::{LoginOutcome, Rule, TopupOutcome, TopupRule, WithdrawOutcome},
    wire::schema,
};

pub const WITHDRAW_ACCEPTED: &str =
    "Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam.";
pub const LOCKED_OUT: &str = "Terlalu banyak percobaan password. Coba lagi nanti.";
pub const TOPUP_ACCEPTED: &str = "Topup berhasil di-request";
/// Every code from 1 to 999 is in use for this amount (not in the document:
/// dompet's own wording, in the document's style).
pub const TOPUP_NO_CODE_FREE: &str =
    "Kode unik untuk nominal ini sedang habis, silakan coba nominal lain atau coba lagi nanti";
/// The later document's login failure, without a final period as there.
pub const LOGIN_INVALID: &str = "Username atau password tidak valid";
pub const LOGIN_THROTTLED: &str = "Terlalu banyak percobaan login. Coba lagi nanti.";

/// The text of each error answer.
pub fn error_message(error: PublicError) -> &'static str {
    match error {
        PublicError::Unauthorized => "Autentikasi gagal.",
        PublicError::NotFound => "Tidak ditemukan.",
        PublicError::MethodNotAllowed => "Metode tidak diizinkan.",
        PublicError::BadRequest => "Format permintaan tidak valid.",
        PublicError::Timeout => "Waktu permintaan habis.",
        PublicError::PayloadTooLarge => "Permintaan terlalu besar.",
        PublicError::IdempotencyMismatch | PublicError::TopupIdempotencyMismatch => {
            "Idempotency-Key sudah dipakai untuk permintaan lain."
        }
        PublicError::Unavailable => "Database tidak tersedia.",
        PublicError::RetryLater
        | PublicError::WithdrawRetryLater
        | PublicError::TopupRetryLater => "Layanan sedang tidak tersedia. Coba lagi nanti.",
        PublicError::Busy | PublicError::WithdrawBusy | PublicError::TopupBusy => {
            "Server sedang sibuk. Coba lagi nanti."
        }
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

/// The later document's message for each top-up rule.
pub fn topup_rule_message(rule: TopupRule) -> &'static str {
    match rule {
        TopupRule::Amount => "Minimal Top Up adalah Rp. 10.000,- dan Maksimal Rp. 100.000.000,-",
        TopupRule::BankAccount => "Id rekening bank tidak terdaftar",
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

/// `{"status","user_id","user_name","confirmed","token","email","omnikey","message"}`:
/// every answer of the login, in the later document's key order; `user_id`
/// is a JSON string there.
#[derive(Serialize, ToSchema)]
pub struct LoginAnswer {
    #[schema(schema_with = schema::status)]
    status: &'static str,
    /// The user's id as a JSON string, as in the later document.
    #[schema(required = true, pattern = "^[0-9]+$", examples("204254"))]
    user_id: Option<String>,
    /// The display name (the username when none is set).
    #[schema(required = true)]
    user_name: Option<String>,
    confirmed: bool,
    /// A new API token for HTTP Basic `user_id:token`: 20 characters of `[A-Za-z0-9]`.
    #[schema(required = true, pattern = "^[A-Za-z0-9]{20}$")]
    token: Option<String>,
    #[schema(required = true)]
    email: Option<String>,
    /// 32 lowercase hex characters, stable for the user.
    #[schema(required = true, pattern = "^[0-9a-f]{32}$")]
    omnikey: Option<String>,
    /// `null` on success; why not, otherwise.
    #[schema(required = true)]
    message: Option<&'static str>,
}

impl LoginAnswer {
    fn error(message: &'static str) -> Self {
        Self {
            status: "ERROR",
            user_id: None,
            user_name: None,
            confirmed: false,
            token: None,
            email: None,
            omnikey: None,
            message: Some(message),
        }
    }
}

impl From<LoginOutcome> for LoginAnswer {
    fn from(outcome: LoginOutcome) -> Self {
        match outcome {
            // The back office vouches for every user it creates.
            LoginOutcome::LoggedIn(session) => Self {
                status: "OK",
                user_id: Some(session.user_id.to_string()),
                user_name: Some(session.user_name),
                confirmed: true,
                token: Some(session.token),
                email: Some(session.email),
                omnikey: Some(session.omnikey),
                message: None,
            },
            LoginOutcome::Invalid => Self::error(LOGIN_INVALID),
            LoginOutcome::Throttled => Self::error(LOGIN_THROTTLED),
        }
    }
}

/// `{"status","unique_code","message"}`: every answer of the top-up
/// endpoint but the generic errors.
#[derive(Serialize, ToSchema)]
pub struct TopupAnswer {
    #[schema(schema_with = schema::status)]
    status: &'static str,
    /// 1 to 999 on success: transfer exactly `amount + unique_code`; else `null`.
    #[schema(required = true, minimum = 1, maximum = 999, examples(213))]
    unique_code: Option<i32>,
    /// `Topup berhasil di-request`, or every failed rule's message joined with `", "`.
    message: String,
}

impl TopupAnswer {
    pub fn error(message: &'static str) -> Self {
        Self {
            status: "ERROR",
            unique_code: None,
            message: message.to_owned(),
        }
    }
}

impl From<TopupOutcome> for TopupAnswer {
    fn from(outcome: TopupOutcome) -> Self {
        match outcome {
            TopupOutcome::Accepted { unique_code, .. } => Self {
                status: "OK",
                unique_code: Some(unique_code),
                message: TOPUP_ACCEPTED.to_owned(),
            },
            TopupOutcome::Rejected { rules } => Self {
                status: "ERROR",
                unique_code: None,
                message: rules
                    .iter()
                    .map(|&rule| topup_rule_message(rule))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            TopupOutcome::NoCodeFree => Self::error(TOPUP_NO_CODE_FREE),
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
