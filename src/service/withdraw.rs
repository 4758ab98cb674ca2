//! The public withdrawal request: rules 1–6 of SPEC §1, in order.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{postgres::types::PgInterval, PgConnection};

use super::{
    auth::parse_id,
    wallet::{apply_in_tx, Origin},
    Dompet, ServiceError,
};
use crate::{
    domain::{Action, Amount},
    store::{
        attempts, bank_accounts,
        idempotency::{self, StoredAnswer},
        users,
        wallets::{self, Wallet},
        withdrawals::{self, NewWithdrawal},
    },
};

const LOCKOUT_FAILURES: i64 = 5;
const LOCKOUT_MINUTES: i64 = 30;

/// A withdrawal rule that can fail, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Amount,
    BankAccount,
    OncePerDay,
    Password,
    Balance,
    BalanceWithFee,
}

impl Rule {
    pub fn message(self) -> &'static str {
        match self {
            Self::Amount => "Jumlah pencairan tidak valid.",
            Self::BankAccount => "Rekening pencairan harus milik Anda.",
            Self::OncePerDay => "Pencairan hanya bisa dilakukan satu kali sehari.",
            Self::Password => "Password tidak valid.",
            Self::Balance => "Pencairan dana maksimal sejumlah saldo yang dimiliki.",
            Self::BalanceWithFee => "Jumlah pencairan dan biaya transfer lebih besar dari saldo.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawOutcome {
    Accepted {
        withdrawal_id: i64,
    },
    /// Every failed rule, in rule order.
    Rejected {
        rules: Vec<Rule>,
    },
    /// Too many wrong passwords; nothing was checked.
    LockedOut,
}

/// The request's parameters as the client sent them (strings, unparsed).
#[derive(Clone, Default)]
pub struct WithdrawRequest {
    pub amount: Option<String>,
    pub bank_account_id: Option<String>,
    pub password: Option<String>,
    pub idempotency_key: Option<String>,
}

impl std::fmt::Debug for WithdrawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithdrawRequest")
            .field("amount", &self.amount)
            .field("bank_account_id", &self.bank_account_id)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .field("idempotency_key", &self.idempotency_key)
            .finish()
    }
}

impl WithdrawRequest {
    /// What makes two requests "the same" for an Idempotency-Key: the amount,
    /// the bank account and whether the password was right. The password
    /// itself is never stored in any form but its argon2 hash.
    fn fingerprint(&self, password_ok: bool) -> String {
        let mut hasher = Sha256::new();
        for field in [&self.amount, &self.bank_account_id] {
            match field {
                Some(value) => {
                    hasher.update([1]);
                    hasher.update((value.len() as u64).to_be_bytes());
                    hasher.update(value.as_bytes());
                }
                None => hasher.update([0]),
            }
        }
        hasher.update([u8::from(password_ok)]);
        hex::encode(hasher.finalize())
    }
}

enum Decision {
    Fresh(WithdrawOutcome),
    /// The key already has an answer; replay it (or refuse a mismatch).
    Replay(StoredAnswer),
    /// The key was claimed by a twin between our check and our save: roll
    /// back everything this request wrote and replay the twin's answer.
    Raced,
}

fn replay(stored: StoredAnswer, fingerprint: &str) -> Result<WithdrawOutcome, ServiceError> {
    if stored.fingerprint != fingerprint {
        return Err(ServiceError::IdempotencyMismatch);
    }
    serde_json::from_str(&stored.outcome)
        .map_err(|e| ServiceError::Internal(format!("stored idempotent answer unreadable: {e}")))
}

fn minutes(n: i64) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: n * 60 * 1_000_000,
    }
}

impl Dompet {
    #[tracing::instrument(name = "service.request_withdrawal", skip_all, fields(user_id = user_id))]
    pub async fn request_withdrawal(
        &self,
        user_id: i64,
        request: WithdrawRequest,
    ) -> Result<WithdrawOutcome, ServiceError> {
        let mut conn = self.pool.acquire().await?;
        // A locked-out user costs no argon2 run.
        if attempts::is_locked(&mut conn, user_id).await? {
            return Ok(WithdrawOutcome::LockedOut);
        }
        let hash = users::password_hash(&mut conn, user_id)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        drop(conn);
        // Hashing is slow: done before any lock is taken, folded in later.
        let password_ok = match request.password.clone() {
            Some(password) if !password.is_empty() => self.passwords.verify(password, hash).await?,
            _ => false,
        };
        let fingerprint = request.fingerprint(password_ok);

        let mut tx = self.pool.begin().await?;
        let decision = self
            .withdraw_in_tx(&mut tx, user_id, &request, &fingerprint, password_ok)
            .await;
        match decision {
            Ok(Decision::Fresh(outcome)) => {
                tx.commit().await?;
                Ok(outcome)
            }
            Ok(Decision::Replay(stored)) => {
                tx.commit().await?;
                replay(stored, &fingerprint)
            }
            Ok(Decision::Raced) => {
                tx.rollback().await?;
                let mut conn = self.pool.acquire().await?;
                let key = request.idempotency_key.as_deref().unwrap_or_default();
                let stored = idempotency::find(&mut conn, user_id, key)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Internal("idempotency key vanished after a race".into())
                    })?;
                replay(stored, &fingerprint)
            }
            // The schema's backstop for rule 3. The wallet lock makes it
            // unreachable, so reaching it means a writer skipped the lock.
            Err(e) if e.constraint() == Some("withdrawals_one_per_day") => {
                tracing::error!("withdrawals_one_per_day fired: a writer skipped the wallet lock");
                Ok(WithdrawOutcome::Rejected {
                    rules: vec![Rule::OncePerDay],
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn withdraw_in_tx(
        &self,
        conn: &mut PgConnection,
        user_id: i64,
        request: &WithdrawRequest,
        fingerprint: &str,
        password_ok: bool,
    ) -> Result<Decision, ServiceError> {
        let mut wallet = wallets::lock(conn, user_id)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        // Failures of twins that queued ahead of us may have locked the user.
        if attempts::is_locked(conn, user_id).await? {
            return Ok(Decision::Fresh(WithdrawOutcome::LockedOut));
        }
        // Every request that reaches the password rule counts, replays too:
        // otherwise a replayed key would be an unmetered password oracle.
        if password_ok {
            attempts::reset(conn, user_id).await?;
        } else {
            attempts::record_failure(conn, user_id, LOCKOUT_FAILURES, minutes(LOCKOUT_MINUTES))
                .await?;
        }
        let key = request.idempotency_key.as_deref();
        if let Some(key) = key {
            if let Some(stored) = idempotency::find(conn, user_id, key).await? {
                return Ok(Decision::Replay(stored));
            }
        }
        let amount = request.amount.as_deref().and_then(Amount::parse_digits);
        let bank_account_id = request.bank_account_id.as_deref().and_then(parse_id);
        // One clock for every node: the database's, read once per request.
        let today = withdrawals::local_today(conn, self.timezone.name()).await?;
        let failed = self
            .failed_rules(conn, &wallet, today, amount, bank_account_id, password_ok)
            .await?;
        let outcome = match (failed.is_empty(), amount, bank_account_id) {
            (true, Some(amount), Some(bank_account_id)) => WithdrawOutcome::Accepted {
                withdrawal_id: self
                    .debit_withdrawal(conn, &mut wallet, today, amount, bank_account_id)
                    .await?,
            },
            _ => WithdrawOutcome::Rejected { rules: failed },
        };
        if let Some(key) = key {
            let serialized = serde_json::to_string(&outcome)
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            if !idempotency::save(conn, user_id, key, fingerprint, &serialized).await? {
                return Ok(Decision::Raced);
            }
        }
        Ok(Decision::Fresh(outcome))
    }

    /// Rules 1–6 in order; 5 only when 1 passed, 6 only when 5 passed.
    async fn failed_rules(
        &self,
        conn: &mut PgConnection,
        wallet: &Wallet,
        today: NaiveDate,
        amount: Option<Amount>,
        bank_account_id: Option<i64>,
        password_ok: bool,
    ) -> Result<Vec<Rule>, ServiceError> {
        let mut failed = Vec::new();
        if amount.is_none() {
            failed.push(Rule::Amount);
        }
        let owns_account = match bank_account_id {
            Some(id) => bank_accounts::belongs_to(conn, id, wallet.user_id).await?,
            None => false,
        };
        if !owns_account {
            failed.push(Rule::BankAccount);
        }
        if withdrawals::exists_on(conn, wallet.user_id, today).await? {
            failed.push(Rule::OncePerDay);
        }
        if !password_ok {
            failed.push(Rule::Password);
        }
        if let Some(amount) = amount {
            if amount.get() > wallet.balance {
                failed.push(Rule::Balance);
            } else if amount
                .get()
                .checked_add(self.withdrawal_fee)
                .is_none_or(|total| total > wallet.balance)
            {
                failed.push(Rule::BalanceWithFee);
            }
        }
        Ok(failed)
    }

    /// The pending withdrawal and its `withdrawal` debit of amount + fee.
    async fn debit_withdrawal(
        &self,
        conn: &mut PgConnection,
        wallet: &mut Wallet,
        today: NaiveDate,
        amount: Amount,
        bank_account_id: i64,
    ) -> Result<i64, ServiceError> {
        let withdrawal = withdrawals::insert(
            conn,
            NewWithdrawal {
                user_id: wallet.user_id,
                deposit_id: wallet.id,
                bank_account_id,
                amount: amount.get(),
                fee: self.withdrawal_fee,
                local_day: today,
            },
        )
        .await?;
        let total = amount.get() + self.withdrawal_fee;
        apply_in_tx(
            conn,
            wallet,
            Action::Withdrawal,
            total,
            Origin::Withdrawal(withdrawal.id),
        )
        .await?;
        tracing::info!(
            user_id = wallet.user_id,
            withdrawal_id = withdrawal.id,
            "withdrawal requested"
        );
        Ok(withdrawal.id)
    }
}
