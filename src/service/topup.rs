//! Top-ups by bank transfer: the user's request with its unique code (SPEC
//! §5.3), and the finance team's list, confirm and cancel (§5.4).

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::{
    wallet::{apply_in_tx, Origin},
    Dompet, Page, ServiceError,
};
use crate::{
    domain::{Action, Amount, BankAccountId, Topup, TopupId, TopupState, UserId, Wallet},
    store::{
        bank_accounts,
        idempotency::{self, Keys, StoredAnswer},
        topups::{self, NewTopup},
        wallets,
    },
};

/// The smallest and largest top-up (rule 1).
pub const MIN_TOPUP: i64 = 10_000;
pub const MAX_TOPUP: i64 = 100_000_000;
/// Codes are drawn at random among the free ones; a draw loses only to a
/// concurrent request that drew the same code, so a few tries always do.
const CODE_DRAWS: usize = 20;

/// A top-up rule that can fail, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopupRule {
    Amount,
    BankAccount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopupOutcome {
    Accepted {
        topup_id: TopupId,
        unique_code: i32,
    },
    /// Every failed rule, in rule order.
    Rejected {
        rules: Vec<TopupRule>,
    },
    /// Every code from 1 to 999 is taken by a pending top-up of this amount.
    NoCodeFree,
}

/// The request's parameters as the client sent them (strings, unparsed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopupRequest {
    pub amount: Option<String>,
    pub bank_account_id: Option<String>,
}

impl TopupRequest {
    /// Field by field, `self` wins over `fallback`.
    pub fn or(self, fallback: Self) -> Self {
        Self {
            amount: self.amount.or(fallback.amount),
            bank_account_id: self.bank_account_id.or(fallback.bank_account_id),
        }
    }

    /// Rule 1: ASCII digits from 10,000 to 100,000,000.
    fn amount(&self) -> Option<Amount> {
        let amount = Amount::parse_digits(self.amount.as_deref()?)?;
        (MIN_TOPUP..=MAX_TOPUP)
            .contains(&amount.get())
            .then_some(amount)
    }

    fn bank_account_id(&self) -> Option<BankAccountId> {
        self.bank_account_id.as_deref()?.parse().ok()
    }

    /// What makes two requests "the same" for an Idempotency-Key: numbers
    /// compared as numbers (`"025000"` is `"25000"`), anything else by text.
    fn fingerprint(&self) -> String {
        let part = |number: Option<i64>, text: Option<&str>| match (number, text) {
            (Some(n), _) => format!("n:{n}"),
            (None, Some(text)) => format!("t:{text}"),
            (None, None) => "-".to_owned(),
        };
        let amount = self.amount.as_deref();
        let account = self.bank_account_id.as_deref();
        let parts = [
            part(
                amount.and_then(Amount::parse_digits).map(Amount::get),
                amount,
            ),
            part(self.bank_account_id().map(BankAccountId::get), account),
        ];
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

enum Decision {
    Fresh(TopupOutcome),
    /// The key already has an answer; replay it (or refuse a mismatch).
    Replay(StoredAnswer),
    /// A twin with the same key saved its answer first: roll back what this
    /// request wrote and replay the twin's.
    Raced,
}

fn replay<T: DeserializeOwned>(stored: StoredAnswer, fingerprint: &str) -> Result<T, ServiceError> {
    if stored.fingerprint != fingerprint {
        return Err(ServiceError::IdempotencyMismatch);
    }
    serde_json::from_str(&stored.outcome)
        .map_err(|e| ServiceError::internal_from("stored idempotent answer unreadable", e))
}

/// Whether an answer came from an earlier request's key.
struct Replayed(bool);

impl Dompet {
    /// A user's top-up request: rules 1–2, then a pending top-up whose total
    /// no other pending top-up has. Once per Idempotency-Key.
    #[tracing::instrument(name = "service.request_topup", skip_all, fields(user_id = %user_id))]
    pub async fn request_topup(
        &self,
        user_id: UserId,
        request: TopupRequest,
        idempotency_key: Option<String>,
    ) -> Result<TopupOutcome, ServiceError> {
        let answer = self.answer_topup(user_id, request, idempotency_key).await;
        crate::metrics::topup(match &answer {
            Ok((_, Replayed(true))) => "replayed",
            Ok((TopupOutcome::Accepted { .. }, _)) => "requested",
            Ok((TopupOutcome::Rejected { .. }, _)) => "rejected",
            Ok((TopupOutcome::NoCodeFree, _)) => "no_code_free",
            Err(ServiceError::IdempotencyMismatch) => "key_reused",
            Err(_) => "error",
        });
        answer.map(|(outcome, _)| outcome)
    }

    /// The outcome, and whether it was replayed from its key.
    async fn answer_topup(
        &self,
        user_id: UserId,
        request: TopupRequest,
        idempotency_key: Option<String>,
    ) -> Result<(TopupOutcome, Replayed), ServiceError> {
        let fingerprint = request.fingerprint();
        let key = idempotency_key.as_deref();
        let mut tx = crate::store::begin(&self.pool).await?;
        match self
            .topup_in_tx(&mut tx, user_id, &request, key, &fingerprint)
            .await?
        {
            Decision::Fresh(outcome) => {
                tx.commit().await?;
                Ok((outcome, Replayed(false)))
            }
            Decision::Replay(stored) => {
                tx.commit().await?;
                replay(stored, &fingerprint).map(|outcome| (outcome, Replayed(true)))
            }
            Decision::Raced => {
                tx.rollback().await?;
                let mut conn = self.pool.acquire().await?;
                let stored =
                    idempotency::find(&mut conn, Keys::Topup, user_id, key.unwrap_or_default())
                        .await?
                        .ok_or(ServiceError::internal(
                            "idempotency key vanished after a race",
                        ))?;
                replay(stored, &fingerprint).map(|outcome| (outcome, Replayed(true)))
            }
        }
    }

    async fn topup_in_tx(
        &self,
        conn: &mut PgConnection,
        user_id: UserId,
        request: &TopupRequest,
        key: Option<&str>,
        fingerprint: &str,
    ) -> Result<Decision, ServiceError> {
        if let Some(key) = key {
            if let Some(stored) = idempotency::find(conn, Keys::Topup, user_id, key).await? {
                return Ok(Decision::Replay(stored));
            }
        }
        let amount = request.amount();
        let bank_account_id = request.bank_account_id();
        let mut failed = Vec::new();
        if amount.is_none() {
            failed.push(TopupRule::Amount);
        }
        let owns_account = match bank_account_id {
            Some(id) => bank_accounts::belongs_to(conn, id, user_id).await?,
            None => false,
        };
        if !owns_account {
            failed.push(TopupRule::BankAccount);
        }
        let outcome = match (failed.is_empty(), amount, bank_account_id) {
            (true, Some(amount), Some(account)) => {
                self.open_topup(conn, user_id, amount, account).await?
            }
            _ => TopupOutcome::Rejected { rules: failed },
        };
        // "No code free" passes: a retry with the same key may find one.
        if let (Some(key), false) = (key, outcome == TopupOutcome::NoCodeFree) {
            let serialized = serde_json::to_string(&outcome)
                .map_err(|e| ServiceError::internal_from("cannot store the answer", e))?;
            if !idempotency::save(conn, Keys::Topup, user_id, key, fingerprint, &serialized).await?
            {
                return Ok(Decision::Raced);
            }
        }
        Ok(Decision::Fresh(outcome))
    }

    /// Frees the codes of expired requests for this amount, then draws a
    /// free code and inserts; the unique index on pending totals is the
    /// judge, so a draw that lost to a concurrent request is simply redrawn.
    async fn open_topup(
        &self,
        conn: &mut PgConnection,
        user_id: UserId,
        amount: Amount,
        bank_account_id: BankAccountId,
    ) -> Result<TopupOutcome, ServiceError> {
        let amount = amount.get();
        topups::expire_stale(conn, amount + 1, amount + 999).await?;
        for _ in 0..CODE_DRAWS {
            let Some(unique_code) = topups::free_code(conn, amount).await? else {
                break;
            };
            let new = NewTopup {
                user_id,
                bank_account_id,
                amount,
                unique_code,
                ttl_hours: self.topup_ttl_hours,
            };
            if let Some(topup) = topups::insert(conn, new).await? {
                tracing::info!(user_id = %user_id, topup_id = %topup.id, "top-up requested");
                return Ok(TopupOutcome::Accepted {
                    topup_id: topup.id,
                    unique_code,
                });
            }
        }
        tracing::warn!(user_id = %user_id, amount, "no unique code free for a top-up");
        Ok(TopupOutcome::NoCodeFree)
    }

    /// Top-ups oldest first, optionally in one state (as of now).
    pub async fn list_topups(
        &self,
        state: Option<TopupState>,
        page: Page,
    ) -> Result<Vec<Topup>, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        Ok(topups::page_by_state(&mut conn, state, page.limit(), page.offset()).await?)
    }

    /// Confirms a pending, unexpired top-up and credits its total, in one
    /// transaction under the wallet lock.
    #[tracing::instrument(name = "service.confirm_topup", skip_all, fields(topup_id = %id))]
    pub async fn confirm_topup(&self, id: TopupId) -> Result<Topup, ServiceError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        let found = topups::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::TopupNotFound)?;
        let mut wallet = wallets::lock(&mut tx, found.user_id)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        let Some(done) = topups::confirm(&mut tx, id).await? else {
            return Err(not_pending(&mut tx, &found).await);
        };
        credit_topup(&mut tx, &mut wallet, &done).await?;
        tx.commit().await?;
        tracing::info!(topup_id = %id, "top-up confirmed");
        Ok(done)
    }

    /// Cancels a pending, unexpired top-up; no money has moved for it.
    #[tracing::instrument(name = "service.cancel_topup", skip_all, fields(topup_id = %id))]
    pub async fn cancel_topup(&self, id: TopupId) -> Result<Topup, ServiceError> {
        let mut tx = crate::store::begin(&self.pool).await?;
        let found = topups::find(&mut tx, id)
            .await?
            .ok_or(ServiceError::TopupNotFound)?;
        let Some(done) = topups::cancel(&mut tx, id).await? else {
            return Err(not_pending(&mut tx, &found).await);
        };
        tx.commit().await?;
        tracing::info!(topup_id = %id, "top-up cancelled");
        Ok(done)
    }
}

/// The refusal for a top-up that was not pending: its state as it reads now.
async fn not_pending(conn: &mut PgConnection, found: &Topup) -> ServiceError {
    match topups::find(conn, found.id).await {
        Ok(now) => ServiceError::TopupNotPending(now.map_or(found.state, |t| t.state)),
        Err(e) => e.into(),
    }
}

/// The `topup` credit of a just-confirmed top-up's total, on its owner's
/// wallet, which the caller holds locked.
pub(crate) async fn credit_topup(
    conn: &mut PgConnection,
    wallet: &mut Wallet,
    topup: &Topup,
) -> Result<(), ServiceError> {
    let total = Amount::new(topup.total).ok_or(ServiceError::internal("a top-up of nothing"))?;
    apply_in_tx(conn, wallet, Action::Topup, total, Origin::Topup(topup.id)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer saved under an `Idempotency-Key` is this JSON in
    /// `topup_idempotency.outcome`, kept for good: renaming a variant, a
    /// field or a rule would make every stored replay unreadable.
    #[test]
    fn stored_answers_keep_the_form_they_were_saved_in() {
        let cases = [
            (
                TopupOutcome::Accepted {
                    topup_id: TopupId::new(7),
                    unique_code: 545,
                },
                r#"{"accepted":{"topup_id":7,"unique_code":545}}"#,
            ),
            (
                TopupOutcome::Rejected {
                    rules: vec![TopupRule::Amount, TopupRule::BankAccount],
                },
                r#"{"rejected":{"rules":["amount","bank_account"]}}"#,
            ),
            (TopupOutcome::NoCodeFree, r#""no_code_free""#),
        ];
        for (outcome, stored) in cases {
            assert_eq!(serde_json::to_string(&outcome).unwrap(), stored);
            let answer = StoredAnswer {
                fingerprint: "f".to_owned(),
                outcome: stored.to_owned(),
            };
            let read: TopupOutcome = replay(answer, "f").unwrap();
            assert_eq!(read, outcome, "{stored}");
        }
    }

    fn request(amount: &str, account: &str) -> TopupRequest {
        TopupRequest {
            amount: Some(amount.into()),
            bank_account_id: Some(account.into()),
        }
    }

    #[test]
    fn rule_one_takes_digits_from_ten_thousand_to_a_hundred_million() {
        for good in ["10000", "100000000", "0025000"] {
            assert!(request(good, "1").amount().is_some(), "{good}");
        }
        for bad in ["9999", "100000001", "25.000", "-10000", "1e5", " 10000", ""] {
            assert!(request(bad, "1").amount().is_none(), "{bad}");
        }
    }

    #[test]
    fn fingerprints_compare_numbers_as_numbers() {
        let plain = request("25000", "41812").fingerprint();
        assert_eq!(request("025000", "041812").fingerprint(), plain);
        assert_ne!(request("25001", "41812").fingerprint(), plain);
        assert_ne!(TopupRequest::default().fingerprint(), plain);
        assert_ne!(
            request("abc", "1").fingerprint(),
            request("abd", "1").fingerprint()
        );
    }
}
