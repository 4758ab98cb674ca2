//! Top-ups and the finance team's batches on the wire (SPEC §5.3, §5.4):
//! TOPUP in the contract's key order, the reconciliation report, batch
//! results and the bulk-transfer CSV.

use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::schema::*;

use super::OperatorWithdrawalJson;
use crate::{
    domain::{BankAccountId, Payout, Topup, TopupId, UserId, WireTimeMillis, WithdrawalId},
    service::ReconcileReport,
};

/// TOPUP: `id, amount, unique_code, total, bank_account_id, state,
/// created_at, updated_at, confirmed_at, expires_at`, with milliseconds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Topup)]
pub struct TopupJson {
    #[schema(value_type = i64, examples(12))]
    pub id: TopupId,
    #[schema(minimum = 10000, maximum = 100000000, examples(25000))]
    pub amount: i64,
    #[schema(minimum = 1, maximum = 999, examples(213))]
    pub unique_code: i32,
    /// `amount + unique_code`: the exact sum to transfer.
    #[schema(examples(25213))]
    pub total: i64,
    #[schema(value_type = i64, examples(41812))]
    pub bank_account_id: BankAccountId,
    #[schema(schema_with = topup_state)]
    pub state: &'static str,
    #[schema(schema_with = wire_time_millis)]
    pub created_at: WireTimeMillis,
    #[schema(schema_with = wire_time_millis)]
    pub updated_at: WireTimeMillis,
    #[schema(schema_with = wire_time_millis_or_null, required = true)]
    pub confirmed_at: Option<WireTimeMillis>,
    #[schema(schema_with = wire_time_millis)]
    pub expires_at: WireTimeMillis,
}

impl TopupJson {
    pub fn new(row: &Topup, tz: Tz) -> Self {
        Self {
            id: row.id,
            amount: row.amount,
            unique_code: row.unique_code,
            total: row.total,
            bank_account_id: row.bank_account_id,
            state: row.state.as_str(),
            created_at: WireTimeMillis::new(row.created_at, tz),
            updated_at: WireTimeMillis::new(row.updated_at, tz),
            confirmed_at: WireTimeMillis::opt(row.confirmed_at, tz),
            expires_at: WireTimeMillis::new(row.expires_at, tz),
        }
    }
}

/// TOPUP plus its owner, for the operator surface.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OperatorTopup)]
pub struct OperatorTopupJson {
    #[serde(flatten)]
    pub topup: TopupJson,
    #[schema(value_type = i64, examples(204254))]
    pub user_id: UserId,
}

impl OperatorTopupJson {
    pub fn new(row: &Topup, tz: Tz) -> Self {
        Self {
            topup: TopupJson::new(row, tz),
            user_id: row.user_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TopupList)]
pub struct TopupListJson {
    pub topups: Vec<OperatorTopupJson>,
}

impl TopupListJson {
    pub fn new(rows: &[Topup], tz: Tz) -> Self {
        Self {
            topups: rows.iter().map(|t| OperatorTopupJson::new(t, tz)).collect(),
        }
    }
}

/// The reconciliation report: every data line of the statement lands in
/// exactly one list, each entry naming its line number and reference.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReconcileReport)]
pub struct ReconcileReportJson<'a> {
    pub dry_run: bool,
    pub matched: Vec<MatchedJson<'a>>,
    pub unmatched: Vec<UnmatchedJson<'a>>,
    pub ambiguous: Vec<AmbiguousJson<'a>>,
    pub duplicate: Vec<DuplicateJson<'a>>,
    pub invalid: Vec<InvalidJson<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReconcileMatched)]
pub struct MatchedJson<'a> {
    pub line: u64,
    pub reference: &'a str,
    pub amount: i64,
    #[schema(value_type = i64)]
    pub topup_id: TopupId,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReconcileUnmatched)]
pub struct UnmatchedJson<'a> {
    pub line: u64,
    pub reference: &'a str,
    pub amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReconcileAmbiguous)]
pub struct AmbiguousJson<'a> {
    pub line: u64,
    pub reference: &'a str,
    pub amount: i64,
    #[schema(value_type = Vec<i64>)]
    pub topup_ids: &'a [TopupId],
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReconcileDuplicate)]
pub struct DuplicateJson<'a> {
    pub line: u64,
    pub reference: &'a str,
    #[schema(value_type = Option<i64>, required = true)]
    pub topup_id: Option<TopupId>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReconcileInvalid)]
pub struct InvalidJson<'a> {
    pub line: u64,
    #[schema(required = true)]
    pub reference: Option<&'a str>,
    pub reason: &'a str,
}

impl<'a> From<&'a ReconcileReport> for ReconcileReportJson<'a> {
    fn from(r: &'a ReconcileReport) -> Self {
        Self {
            dry_run: r.dry_run,
            matched: r
                .matched
                .iter()
                .map(|m| MatchedJson {
                    line: m.line,
                    reference: &m.reference,
                    amount: m.amount,
                    topup_id: m.topup_id,
                })
                .collect(),
            unmatched: r
                .unmatched
                .iter()
                .map(|u| UnmatchedJson {
                    line: u.line,
                    reference: &u.reference,
                    amount: u.amount,
                })
                .collect(),
            ambiguous: r
                .ambiguous
                .iter()
                .map(|a| AmbiguousJson {
                    line: a.line,
                    reference: &a.reference,
                    amount: a.amount,
                    topup_ids: &a.topup_ids,
                })
                .collect(),
            duplicate: r
                .duplicate
                .iter()
                .map(|d| DuplicateJson {
                    line: d.line,
                    reference: &d.reference,
                    topup_id: d.topup_id,
                })
                .collect(),
            invalid: r
                .invalid
                .iter()
                .map(|i| InvalidJson {
                    line: i.line,
                    reference: i.reference.as_deref(),
                    reason: &i.reason,
                })
                .collect(),
        }
    }
}

/// A batch's answer: what succeeded, and why each of the others did not.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BatchResult)]
pub struct SettledJson<'a> {
    pub succeeded: Vec<OperatorWithdrawalJson>,
    pub failed: Vec<FailedJson<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BatchFailed)]
pub struct FailedJson<'a> {
    #[schema(value_type = i64)]
    pub id: WithdrawalId,
    pub error: ErrorDetailJson<'a>,
}

/// `{"code","message"}`, as inside the operator error envelope.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ErrorDetail)]
pub struct ErrorDetailJson<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

/// The bulk-transfer file: a header line, then one line per payout with the
/// ticket `#C<id>` as its reference. Fields are quoted whenever they hold a
/// comma, a quote or a line break, so any account name survives.
pub fn payout_csv(rows: &[Payout]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "reference",
        "bank_name",
        "account_number",
        "account_name",
        "amount",
    ])?;
    for row in rows {
        writer.write_record([
            format!("#C{}", row.withdrawal_id).as_str(),
            &row.bank_name,
            &row.account_number,
            &row.account_name,
            &row.amount.to_string(),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}
