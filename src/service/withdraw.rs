//! The public withdrawal request: rules 1–6 of SPEC §1, in order.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{postgres::types::PgInterval, PgConnection};

use super::{
    auth::{digest_matches, ApiToken},
    text,
    wallet::balance_after,
    Admission, Dompet, Lane, ServiceError,
};
use crate::{
    database::reader::Reader,
    domain::{Action, Amount, BankAccountId, Note, UserId, Wallet, WithdrawalId},
    store::{
        attempts,
        idempotency::{self, Keys, StoredAnswer},
        users::{self, PasswordGate},
        wallets,
        withdrawals::{self, Debit, Facts, NewWithdrawal},
    },
};

/// Wrong passwords within [`LOCKOUT_WINDOW_MINUTES`] that lock a user out…
const LOCKOUT_FAILURES: i64 = 5;
/// …for this long, counted from the last of them.
pub(super) const LOCKOUT_WINDOW_MINUTES: i64 = 30;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawOutcome {
    Accepted {
        withdrawal_id: WithdrawalId,
    },
    /// Every failed rule, in rule order.
    Rejected {
        rules: Vec<Rule>,
    },
    /// Too many wrong passwords; nothing was checked.
    LockedOut,
}

/// The request's parameters as the client sent them (strings, unparsed: the
/// rules themselves judge them).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WithdrawRequest {
    pub amount: Option<String>,
    pub bank_account_id: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for WithdrawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithdrawRequest")
            .field("amount", &self.amount)
            .field("bank_account_id", &self.bank_account_id)
            .field("password", &self.password.as_ref().map(|_| "…"))
            .finish()
    }
}

impl WithdrawRequest {
    /// Field by field, `self` wins over `fallback`.
    pub fn or(self, fallback: Self) -> Self {
        Self {
            amount: self.amount.or(fallback.amount),
            bank_account_id: self.bank_account_id.or(fallback.bank_account_id),
            password: self.password.or(fallback.password),
        }
    }

    fn amount(&self) -> Option<Amount> {
        self.amount.as_deref().and_then(Amount::parse_digits)
    }

    fn bank_account_id(&self) -> Option<BankAccountId> {
        self.bank_account_id.as_deref()?.parse().ok()
    }

    /// What makes two requests "the same" for an Idempotency-Key: the amount,
    /// the bank account and whether the password was right. Values the rules
    /// accept are taken as numbers (`"025000"` is `"25000"`); others by their
    /// text. The password itself is never stored in any form but its hash.
    fn fingerprint(&self, password_ok: bool) -> String {
        let amount = match self.amount() {
            Some(amount) => format!("n:{amount}"),
            None => text_part(self.amount.as_deref()),
        };
        let bank_account = match self.bank_account_id() {
            Some(id) => format!("n:{id}"),
            None => text_part(self.bank_account_id.as_deref()),
        };
        let mut hasher = Sha256::new();
        for part in [amount, bank_account] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.update([u8::from(password_ok)]);
        hex::encode(hasher.finalize())
    }
}

impl WithdrawRequest {
    /// Whether a stored fingerprint was made from this amount and bank
    /// account, whatever the password verdict was: both verdicts are tried,
    /// so no password is needed to tell.
    fn same_apart_from_password(&self, fingerprint: &str) -> bool {
        [true, false]
            .into_iter()
            .any(|password_ok| self.fingerprint(password_ok) == fingerprint)
    }
}

fn text_part(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), |text| format!("t:{text}"))
}

enum Decision {
    Fresh(WithdrawOutcome),
    /// The key already has an answer; replay it (or refuse a mismatch).
    Replay(StoredAnswer),
    /// The key was claimed by a twin between our check and our save: roll
    /// back everything this request wrote and replay the twin's answer.
    Raced,
}

/// An outcome, and whether it was decided now or replayed from its key.
enum Answered {
    Fresh(WithdrawOutcome),
    Replayed(WithdrawOutcome),
}

impl Answered {
    fn metric(answer: &Result<Self, ServiceError>) -> &'static str {
        match answer {
            Ok(Self::Replayed(_)) => "replayed",
            Ok(Self::Fresh(WithdrawOutcome::Accepted { .. })) => "accepted",
            Ok(Self::Fresh(WithdrawOutcome::Rejected { .. })) => "rejected",
            Ok(Self::Fresh(WithdrawOutcome::LockedOut)) => "locked_out",
            Err(ServiceError::IdempotencyMismatch) => "key_reused",
            Err(_) => "error",
        }
    }

    fn into_outcome(self) -> WithdrawOutcome {
        match self {
            Self::Fresh(outcome) | Self::Replayed(outcome) => outcome,
        }
    }
}

fn replay(stored: StoredAnswer, fingerprint: &str) -> Result<WithdrawOutcome, ServiceError> {
    if stored.fingerprint != fingerprint {
        return Err(ServiceError::IdempotencyMismatch);
    }
    stored_outcome(&stored)
}

fn stored_outcome(stored: &StoredAnswer) -> Result<WithdrawOutcome, ServiceError> {
    serde_json::from_str(&stored.outcome)
        .map_err(|e| ServiceError::internal_from("stored idempotent answer unreadable", e))
}

/// The answer while the user is locked out: a retry of a stored key with the
/// same amount and bank account replays its first answer (an accepted
/// withdrawal is never hidden), judged without the password, so the answer
/// is the same whatever password came with it and teaches a guesser nothing;
/// a key stored with another amount or account is the usual mismatch.
/// Anything else is refused, and nothing is counted. `stored` is the key's
/// stored answer (`None` without a key).
fn answer_locked_out(
    request: &WithdrawRequest,
    stored: Option<StoredAnswer>,
) -> Result<WithdrawOutcome, ServiceError> {
    match stored {
        None => Ok(WithdrawOutcome::LockedOut),
        Some(stored) if request.same_apart_from_password(&stored.fingerprint) => {
            stored_outcome(&stored)
        }
        Some(_) => Err(ServiceError::IdempotencyMismatch),
    }
}

pub(super) fn minutes(n: i64) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: n * 60 * 1_000_000,
    }
}

/// Who asks for a withdrawal.
enum Caller<'a> {
    /// A user the caller already knows to be authenticated.
    User(UserId),
    /// The holder of these API credentials: checked in the statement that
    /// reads the lockout and the hash (the public endpoint).
    Token(&'a ApiToken),
}

impl Dompet {
    /// A withdrawal request by an authenticated user.
    pub async fn request_withdrawal(
        &self,
        user_id: UserId,
        request: WithdrawRequest,
        idempotency_key: Option<String>,
    ) -> Result<WithdrawOutcome, ServiceError> {
        self.withdraw(Caller::User(user_id), request, idempotency_key)
            .await?
            .ok_or(ServiceError::internal(
                "an authenticated caller was refused",
            ))
    }

    /// A withdrawal request by the holder of `credentials`; `None` (nothing
    /// done, nothing counted) when they do not match, as `authenticate`
    /// decides it: the same probe of the token digest, the same
    /// constant-time comparison, before anything else is looked at.
    pub async fn request_withdrawal_with_token(
        &self,
        credentials: &ApiToken,
        request: WithdrawRequest,
        idempotency_key: Option<String>,
    ) -> Result<Option<WithdrawOutcome>, ServiceError> {
        self.withdraw(Caller::Token(credentials), request, idempotency_key)
            .await
    }

    /// The credentials, the lockout and the hash: one autocommit read
    /// (nothing here needs a transaction), run in the request's span as the
    /// token check always was.
    async fn withdraw(
        &self,
        caller: Caller<'_>,
        request: WithdrawRequest,
        idempotency_key: Option<String>,
    ) -> Result<Option<WithdrawOutcome>, ServiceError> {
        let (user_id, given) = match caller {
            Caller::User(id) => (id, None),
            Caller::Token(credentials) => match credentials.parts() {
                (Some(id), given) => (id, Some(given)),
                (None, given) => {
                    let _ = digest_matches(&given, None);
                    return Ok(None);
                }
            },
        };
        let mut conn = self.reader().await?;
        let gate =
            users::password_gate(&mut conn, user_id, given.as_ref().map(<[u8; 32]>::as_slice))
                .await?;
        if let Some(given) = &given {
            let stored = gate.as_ref().and_then(|gate| gate.token_sha256.as_deref());
            if !digest_matches(given, stored) {
                conn.finish().await?;
                return Ok(None);
            }
        }
        self.withdraw_checked(user_id, conn, gate, request, idempotency_key)
            .await
            .map(Some)
    }

    /// Rules 1–6 for an authenticated user whose lockout and hash were read
    /// on `conn`.
    #[tracing::instrument(name = "service.request_withdrawal", skip_all, fields(user_id = %user_id))]
    async fn withdraw_checked(
        &self,
        user_id: UserId,
        mut conn: Reader,
        gate: Option<PasswordGate>,
        request: WithdrawRequest,
        idempotency_key: Option<String>,
    ) -> Result<WithdrawOutcome, ServiceError> {
        // The connection goes back whole whatever the answer.
        let admission = match self.admit(user_id, &request, idempotency_key.as_deref()) {
            Ok(admission) => admission,
            Err(e) => {
                conn.finish().await?;
                return Err(e);
            }
        };
        // A locked-out user costs no argon2 run.
        if gate.as_ref().is_some_and(|gate| gate.locked) {
            let outcome = match idempotency_key.as_deref() {
                Some(key) => idempotency::find(&mut conn, Keys::Withdraw, user_id, key)
                    .await
                    .map_err(ServiceError::from)
                    .and_then(|stored| answer_locked_out(&request, stored)),
                None => Ok(WithdrawOutcome::LockedOut),
            };
            conn.finish().await?;
            crate::metrics::withdrawal(match &outcome {
                Ok(WithdrawOutcome::LockedOut) => "locked_out",
                Ok(_) => "replayed",
                Err(ServiceError::IdempotencyMismatch) => "key_reused",
                Err(_) => "error",
            });
            return outcome;
        }
        conn.finish().await?;
        let hash = gate.ok_or(ServiceError::UserNotFound)?.password_hash;
        // Hashing is slow: done before any lock is taken, folded in later,
        // in the user's own lane so a flood by one user waits behind itself.
        let password_ok = match (admission, request.password.clone()) {
            (Some(admission), Some(password)) => admission.verify(password, hash).await?,
            _ => false,
        };
        let fingerprint = request.fingerprint(password_ok);

        // The user's earlier requests go first, without holding connections.
        let _turn = self.turns.enter(user_id).await?;
        let mut tx = crate::store::begin(&self.pool).await?;
        let decision = self
            .withdraw_in_tx(
                &mut tx,
                user_id,
                &request,
                idempotency_key.as_deref(),
                &fingerprint,
                password_ok,
            )
            .await;
        let answer = match decision {
            Ok(Decision::Fresh(outcome)) => {
                tx.commit().await?;
                Ok(Answered::Fresh(outcome))
            }
            Ok(Decision::Replay(stored)) => {
                tx.commit().await?;
                replay(stored, &fingerprint).map(Answered::Replayed)
            }
            Ok(Decision::Raced) => {
                tx.rollback().await?;
                let mut conn = crate::store::begin(&self.pool).await?;
                let key = idempotency_key.as_deref().unwrap_or_default();
                let stored = idempotency::find(&mut conn, Keys::Withdraw, user_id, key).await?;
                conn.commit().await?;
                let stored = stored.ok_or(ServiceError::internal(
                    "idempotency key vanished after a race",
                ))?;
                replay(stored, &fingerprint).map(Answered::Replayed)
            }
            // The schema's backstop for rule 3. The wallet lock makes it
            // unreachable, so reaching it means a writer skipped the lock.
            Err(e) if e.constraint() == Some("withdrawals_one_per_day") => {
                tracing::error!("withdrawals_one_per_day fired: a writer skipped the wallet lock");
                Ok(Answered::Fresh(WithdrawOutcome::Rejected {
                    rules: vec![Rule::OncePerDay],
                }))
            }
            Err(e) => Err(e),
        };
        crate::metrics::withdrawal(Answered::metric(&answer));
        answer.map(Answered::into_outcome)
    }

    /// Checks the key's text, then sheds a flood by this user here, before
    /// it costs anything more; a password to check gets its admission.
    fn admit(
        &self,
        user_id: UserId,
        request: &WithdrawRequest,
        key: Option<&str>,
    ) -> Result<Option<Admission>, ServiceError> {
        if let Some(key) = key {
            text::required("Idempotency-Key", key, text::limits::IDEMPOTENCY_KEY)?;
        }
        Ok(match &request.password {
            Some(password) if !password.is_empty() => {
                Some(self.passwords.admit(Lane::User(user_id))?)
            }
            _ => None,
        })
    }

    /// The money transaction: the wallet's lock, one read of everything the
    /// rules need, then the writes (an accepted withdrawal's in one
    /// statement).
    async fn withdraw_in_tx(
        &self,
        conn: &mut PgConnection,
        user_id: UserId,
        request: &WithdrawRequest,
        key: Option<&str>,
        fingerprint: &str,
        password_ok: bool,
    ) -> Result<Decision, ServiceError> {
        let wallet = wallets::lock(conn, user_id)
            .await?
            .ok_or(ServiceError::UserNotFound)?;
        let amount = request.amount();
        let bank_account_id = request.bank_account_id();
        // A statement of its own after the lock, so it sees what twins that
        // queued ahead of us committed. One clock for every node: the
        // database's, read once per request.
        let mut facts = withdrawals::facts_under_lock(
            conn,
            user_id,
            self.timezone.name(),
            bank_account_id,
            key,
            minutes(LOCKOUT_WINDOW_MINUTES),
        )
        .await?;
        let stored = facts
            .key_fingerprint
            .take()
            .zip(facts.key_outcome.take())
            .map(|(fingerprint, outcome)| StoredAnswer {
                fingerprint,
                outcome,
            });
        // Failures of twins that queued ahead of us may have locked the user.
        if facts.locked {
            return answer_locked_out(request, stored).map(Decision::Fresh);
        }
        let failed = self.failed_rules(&wallet, &facts, amount, password_ok);
        let outcome = match (stored, failed.is_empty(), amount, bank_account_id) {
            // Every request that reaches the password rule counts, replays
            // too: otherwise a replayed key would be an unmetered password
            // oracle.
            (Some(stored), ..) => {
                count_password(conn, user_id, password_ok, facts.failures).await?;
                return Ok(Decision::Replay(stored));
            }
            // Accepted, so the password was right: its reset of the count
            // is one of the withdrawal's writes.
            (None, true, Some(amount), Some(bank_account_id)) => WithdrawOutcome::Accepted {
                withdrawal_id: self
                    .debit_withdrawal(conn, &wallet, facts.today, amount, bank_account_id)
                    .await?,
            },
            _ => {
                count_password(conn, user_id, password_ok, facts.failures).await?;
                WithdrawOutcome::Rejected { rules: failed }
            }
        };
        if let Some(key) = key {
            let serialized = serde_json::to_string(&outcome)
                .map_err(|e| ServiceError::internal_from("cannot store the answer", e))?;
            if !idempotency::save(conn, Keys::Withdraw, user_id, key, fingerprint, &serialized)
                .await?
            {
                return Ok(Decision::Raced);
            }
        }
        Ok(Decision::Fresh(outcome))
    }

    /// Rules 1–6 in order; 5 only when 1 passed, 6 only when 5 passed.
    fn failed_rules(
        &self,
        wallet: &Wallet,
        facts: &Facts,
        amount: Option<Amount>,
        password_ok: bool,
    ) -> Vec<Rule> {
        let mut failed = Vec::new();
        if amount.is_none() {
            failed.push(Rule::Amount);
        }
        if !facts.owns_account {
            failed.push(Rule::BankAccount);
        }
        if facts.withdrawn_today {
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
        failed
    }

    /// The pending withdrawal, its `withdrawal` debit of amount + fee and the
    /// reset of the user's wrong-password count, in one statement.
    async fn debit_withdrawal(
        &self,
        conn: &mut PgConnection,
        wallet: &Wallet,
        today: NaiveDate,
        amount: Amount,
        bank_account_id: BankAccountId,
    ) -> Result<WithdrawalId, ServiceError> {
        let total = amount
            .get()
            .checked_add(self.withdrawal_fee)
            .and_then(Amount::new)
            .ok_or(ServiceError::BalanceOverflow)?;
        let final_balance = balance_after(wallet, Action::Withdrawal, total)?;
        let withdrawal_id = withdrawals::insert_debited(
            conn,
            NewWithdrawal {
                user_id: wallet.user_id,
                deposit_id: wallet.id,
                bank_account_id,
                amount,
                fee: self.withdrawal_fee,
                local_day: today,
            },
            Debit {
                action: Action::Withdrawal,
                total,
                initial_balance: wallet.balance,
                final_balance,
                note_prefix: Note::WITHDRAWAL_PREFIX,
            },
        )
        .await?;
        tracing::info!(
            user_id = %wallet.user_id,
            withdrawal_id = %withdrawal_id,
            "withdrawal requested"
        );
        Ok(withdrawal_id)
    }
}

/// Counts a password check that is not followed by a withdrawal: a right
/// password forgets the counted failures; a wrong one is counted, and the
/// one that completes [`LOCKOUT_FAILURES`] within the window (`failures`
/// were counted before it, under the wallet's lock, which every writer of
/// the count holds) locks the user out for the window and starts the count
/// afresh.
async fn count_password(
    conn: &mut PgConnection,
    user_id: UserId,
    password_ok: bool,
    failures: i64,
) -> Result<(), ServiceError> {
    let window = minutes(LOCKOUT_WINDOW_MINUTES);
    if password_ok {
        attempts::reset(conn, user_id).await?;
    } else if failures + 1 >= LOCKOUT_FAILURES {
        attempts::lock_for(conn, user_id, window).await?;
        crate::metrics::lockout("withdraw_password");
    } else {
        attempts::record_failure(conn, user_id, window).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer saved under an `Idempotency-Key` is this JSON in
    /// `withdraw_idempotency.outcome`, kept for good: renaming a variant, a
    /// field or a rule would make every stored replay unreadable (a 500 on
    /// the client's retry instead of its first answer).
    #[test]
    fn stored_answers_keep_the_form_they_were_saved_in() {
        let cases = [
            (
                WithdrawOutcome::Accepted {
                    withdrawal_id: WithdrawalId::new(4),
                },
                r#"{"accepted":{"withdrawal_id":4}}"#,
            ),
            (
                WithdrawOutcome::Rejected {
                    rules: vec![
                        Rule::Amount,
                        Rule::BankAccount,
                        Rule::OncePerDay,
                        Rule::Password,
                        Rule::Balance,
                        Rule::BalanceWithFee,
                    ],
                },
                r#"{"rejected":{"rules":["amount","bank_account","once_per_day","password","balance","balance_with_fee"]}}"#,
            ),
            (WithdrawOutcome::LockedOut, r#""locked_out""#),
        ];
        for (outcome, stored) in cases {
            assert_eq!(serde_json::to_string(&outcome).unwrap(), stored);
            let read = stored_outcome(&StoredAnswer {
                fingerprint: String::new(),
                outcome: stored.to_owned(),
            });
            assert_eq!(read.unwrap(), outcome, "{stored}");
        }
    }
}
