//! Expected bodies, byte for byte: the public envelopes and the seed's
//! Indonesian texts, the operator's error bodies and the ledger report.
//! Each answer has one name here, so no two tests spell it differently.

// ---------------------------------------------------------------- public

pub const NOT_FOUND: &str = r#"{"status":"ERROR","message":"Tidak ditemukan."}"#;
pub const NOT_ALLOWED: &str = r#"{"status":"ERROR","message":"Metode tidak diizinkan."}"#;
pub const PUBLIC_UNAUTHORIZED: &str = r#"{"status":"ERROR","message":"Autentikasi gagal."}"#;
pub const BAD_REQUEST: &str = r#"{"status":"ERROR","message":"Format permintaan tidak valid."}"#;
pub const TOO_LARGE: &str = r#"{"status":"ERROR","message":"Permintaan terlalu besar."}"#;
pub const EMPTY_HISTORY: &str = r#"{"status":"OK","history":[],"message":null}"#;

/// The message of an accepted withdrawal.
pub const ACCEPTED: &str = "Pencairan akan diproses oleh tim Bukalapak. Dana akan ditransfer ke rekening Anda dalam waktu 1x24 jam.";

// The six withdraw rules' messages: parts of a rejection's message, which
// `rejected` joins in rule order.

/// Rule 1: the amount is a whole number of at least 1.
pub const RULE_AMOUNT: &str = "Jumlah pencairan tidak valid.";
/// Rule 2: the bank account is the user's own.
pub const RULE_ACCOUNT: &str = "Rekening pencairan harus milik Anda.";
/// Rule 3: one withdrawal a calendar day.
pub const RULE_ONCE_A_DAY: &str = "Pencairan hanya bisa dilakukan satu kali sehari.";
/// Rule 4: the right password.
pub const RULE_PASSWORD: &str = "Password tidak valid.";
/// Rule 5: no more than the balance.
pub const RULE_BALANCE: &str = "Pencairan dana maksimal sejumlah saldo yang dimiliki.";
/// Rule 6: the amount and the transfer fee within the balance.
pub const RULE_FEE: &str = "Jumlah pencairan dan biaya transfer lebih besar dari saldo.";

/// A withdraw refused without a look at the rules: too many wrong passwords.
pub const LOCKED_OUT: &str = r#"{"status":"ERROR","withdrawal_id":null,"message":"Terlalu banyak percobaan password. Coba lagi nanti."}"#;
/// A withdraw `Idempotency-Key` sent again with other parameters (422).
pub const WITHDRAW_KEY_REUSED: &str = r#"{"status":"ERROR","withdrawal_id":null,"message":"Idempotency-Key sudah dipakai untuk permintaan lain."}"#;

/// Work shed at once (503, with `Retry-After`): the public envelope…
pub const BUSY: &str = r#"{"status":"ERROR","message":"Server sedang sibuk. Coba lagi nanti."}"#;
/// …and the withdraw endpoint's.
pub const WITHDRAW_BUSY: &str =
    r#"{"status":"ERROR","withdrawal_id":null,"message":"Server sedang sibuk. Coba lagi nanti."}"#;

/// The body of an accepted withdrawal.
pub fn accepted(withdrawal_id: i64) -> String {
    format!(r#"{{"status":"OK","withdrawal_id":{withdrawal_id},"message":"{ACCEPTED}"}}"#)
}

/// The rejection body for these failed rules, in the order given.
pub fn rejected(rules: &[&str]) -> String {
    format!(
        r#"{{"status":"ERROR","withdrawal_id":null,"message":"{}"}}"#,
        rules.join(", ")
    )
}

// ---------------------------------------------------------------- operator

pub const OPERATOR_UNAUTHORIZED: &str =
    r#"{"error":{"code":"unauthorized","message":"a valid bearer token is required"}}"#;
pub const USER_NOT_FOUND: &str =
    r#"{"error":{"code":"user_not_found","message":"user not found"}}"#;
pub const WITHDRAWAL_NOT_FOUND: &str =
    r#"{"error":{"code":"withdrawal_not_found","message":"withdrawal not found"}}"#;
pub const NOT_PENDING_PROCESSED: &str = r#"{"error":{"code":"withdrawal_not_pending","message":"the withdrawal is processed, not pending"}}"#;
pub const NOT_PENDING_CANCELLED: &str = r#"{"error":{"code":"withdrawal_not_pending","message":"the withdrawal is cancelled, not pending"}}"#;
/// A 400 for a request the operator surface cannot read, with its reason.
pub fn invalid_request(message: &str) -> String {
    format!(r#"{{"error":{{"code":"invalid_request","message":"{message}"}}}}"#)
}
/// A posting's `idempotency_key` sent again with other fields (409).
pub const POSTING_KEY_REUSED: &str = r#"{"error":{"code":"idempotency_key_reused","message":"the idempotency key was already used for a different request"}}"#;

/// One entry of the ledger report, in the contract's key order.
pub fn violation(
    check: &str,
    user_id: i64,
    mutation_id: Option<i64>,
    withdrawal_id: Option<i64>,
    detail: &str,
) -> String {
    let id = |v: Option<i64>| v.map_or("null".to_owned(), |v| v.to_string());
    format!(
        r#"{{"check":"{check}","user_id":{user_id},"mutation_id":{},"withdrawal_id":{},"detail":"{detail}"}}"#,
        id(mutation_id),
        id(withdrawal_id)
    )
}

/// The ledger report: `ok` exactly when there are no violations.
pub fn report(users_checked: i64, violations: &[String]) -> String {
    format!(
        r#"{{"ok":{},"users_checked":{users_checked},"violations":[{}]}}"#,
        violations.is_empty(),
        violations.join(",")
    )
}

// ---------------------------------------------------------------- login

/// Every failed login: no user, a wrong password, no usable header.
pub const LOGIN_INVALID: &str = r#"{"status":"ERROR","user_id":null,"user_name":null,"confirmed":false,"token":null,"email":null,"omnikey":null,"message":"Username atau password tidak valid"}"#;
pub const LOGIN_THROTTLED: &str = r#"{"status":"ERROR","user_id":null,"user_name":null,"confirmed":false,"token":null,"email":null,"omnikey":null,"message":"Terlalu banyak percobaan login. Coba lagi nanti."}"#;

/// The success body of SPEC §5.1; `user_id` is a JSON string.
pub fn logged_in(user_id: i64, user_name: &str, token: &str, email: &str, omnikey: &str) -> String {
    format!(
        r#"{{"status":"OK","user_id":"{user_id}","user_name":"{user_name}","confirmed":true,"token":"{token}","email":"{email}","omnikey":"{omnikey}","message":null}}"#
    )
}

pub const TOKEN_NOT_FOUND: &str =
    r#"{"error":{"code":"token_not_found","message":"token not found"}}"#;

/// What a revocation or a password reset answers.
pub fn revoked(user_id: i64, revoked: u64) -> String {
    format!(r#"{{"user_id":{user_id},"revoked":{revoked}}}"#)
}
