//! Credits and debits: where mutation rows are written (a withdrawal's own
//! debit is written with the withdrawal, from the balance decided here).

use sqlx::PgConnection;

use super::{text, Dompet, ServiceError};
use crate::{
    database::money_tx::MoneyTx,
    domain::{
        Action, Amount, Mutation, MutationType, Note, TopupId, TransactionNo, UserId, Wallet,
        WithdrawalId,
    },
    store::{
        mutations::{self, NewMutation},
        wallets,
    },
};

/// A back-office credit or debit.
#[derive(Debug, Clone)]
pub struct Posting {
    pub user_id: UserId,
    pub action: Action,
    pub amount: Amount,
    pub transaction_id: Option<i64>,
    /// The marketplace's transaction number (SPEC §5.2).
    pub transaction_no: Option<TransactionNo>,
    pub note: Option<Note>,
    pub idempotency_key: String,
}

#[derive(Debug, Clone)]
pub enum Posted {
    Created(Mutation),
    /// The key was seen before with the same fields: the first result.
    Replayed(Mutation),
}

impl Posting {
    fn matches(&self, row: &Mutation) -> bool {
        row.user_id == self.user_id
            && row.action == self.action
            && row.amount == self.amount.get()
            && row.transaction_id == self.transaction_id
            && row.transaction_no.as_deref() == self.transaction_no.as_ref().map(|t| t.as_str())
            && row.note.as_deref() == self.note.as_ref().map(|n| n.as_str())
    }
}

/// How a mutation relates to the rest of the ledger.
pub(crate) enum Origin<'a> {
    Posting {
        transaction_id: Option<i64>,
        transaction_no: Option<&'a TransactionNo>,
        note: Option<&'a Note>,
        idempotency_key: &'a str,
    },
    /// A withdrawal's debit or the restore of a cancelled one: dompet writes
    /// the note, naming the withdrawal.
    Withdrawal(WithdrawalId),
    /// The credit of a confirmed top-up, named in dompet's note.
    Topup(TopupId),
}

/// The columns that tie a mutation to where it came from.
#[derive(Default)]
struct Links<'a> {
    transaction_id: Option<i64>,
    transaction_no: Option<&'a TransactionNo>,
    idempotency_key: Option<&'a str>,
    withdrawal_id: Option<WithdrawalId>,
    topup_id: Option<TopupId>,
    note: Option<Note>,
}

impl<'a> Origin<'a> {
    /// dompet writes its own note, naming the ticket, on the movements it
    /// makes; a posting carries the back office's.
    fn links(self, action: Action) -> Links<'a> {
        match self {
            Origin::Posting {
                transaction_id,
                transaction_no,
                note,
                idempotency_key,
            } => Links {
                transaction_id,
                transaction_no,
                idempotency_key: Some(idempotency_key),
                note: note.cloned(),
                ..Links::default()
            },
            Origin::Withdrawal(id) => Links {
                withdrawal_id: Some(id),
                note: Some(match action {
                    Action::Restore => Note::restore(id),
                    _ => Note::withdrawal(id),
                }),
                ..Links::default()
            },
            Origin::Topup(id) => Links {
                topup_id: Some(id),
                note: Some(Note::topup(id)),
                ..Links::default()
            },
        }
    }
}

/// The wallet's balance after `action` of `amount`. Refuses to overdraw or
/// overflow. Every mutation's final balance is decided here.
pub(crate) fn balance_after(
    wallet: &Wallet,
    action: Action,
    amount: Amount,
) -> Result<i64, ServiceError> {
    match action.mutation_type() {
        MutationType::Credit => wallet
            .balance
            .checked_add(amount.get())
            .ok_or(ServiceError::BalanceOverflow),
        MutationType::Debit if amount.get() > wallet.balance => {
            Err(ServiceError::InsufficientBalance {
                balance: wallet.balance,
                amount: amount.get(),
            })
        }
        MutationType::Debit => Ok(wallet.balance - amount.get()),
    }
}

/// Appends one mutation to a wallet locked by the caller's transaction and
/// moves its balance. Refuses to overdraw or overflow. (A withdrawal's own
/// debit is written with the withdrawal, `withdrawals::insert_debited`.)
pub(crate) async fn apply_in_tx(
    conn: &mut PgConnection,
    wallet: &mut Wallet,
    action: Action,
    amount: Amount,
    origin: Origin<'_>,
) -> Result<Mutation, ServiceError> {
    let final_balance = balance_after(wallet, action, amount)?;
    let links = origin.links(action);
    // The mutation, the balance and the user's write mark (read-your-writes
    // on replicas: the history may only come from a replica that has
    // replayed this row too) in one statement.
    let row = mutations::append_moving_balance(
        &mut *conn,
        NewMutation {
            user_id: wallet.user_id,
            deposit_id: wallet.id,
            action,
            amount,
            initial_balance: wallet.balance,
            final_balance,
            transaction_id: links.transaction_id,
            transaction_no: links.transaction_no.map(TransactionNo::as_str),
            note: links.note.as_ref().map(Note::as_str),
            withdrawal_id: links.withdrawal_id,
            topup_id: links.topup_id,
            idempotency_key: links.idempotency_key,
        },
    )
    .await?;
    wallet.balance = final_balance;
    Ok(row)
}

impl Dompet {
    /// Posts a back-office credit (`remit`, `topup`, `refund`) or debit
    /// (`payment`) exactly once per idempotency key.
    #[tracing::instrument(name = "service.post_mutation", skip_all, fields(user_id = %posting.user_id))]
    pub async fn post_mutation(&self, posting: Posting) -> Result<Posted, ServiceError> {
        if !posting.action.is_postable() {
            return Err(ServiceError::Invalid(format!(
                "{} mutations come only from the withdrawal lifecycle",
                posting.action.as_str()
            )));
        }
        let key = text::required(
            "idempotency_key",
            &posting.idempotency_key,
            text::limits::IDEMPOTENCY_KEY,
        )?;
        let mut tx = MoneyTx::begin(&self.postings).await?;
        let posted = post_in_tx(&mut tx, &posting, key).await;
        let row = match posted {
            Ok(Posted::Created(row)) => {
                tx.commit().await?;
                row
            }
            Ok(replayed) => {
                tx.rollback().await?;
                return Ok(replayed);
            }
            Err(e) => {
                // The answer is `e` either way; a rollback that fails
                // closes the connection instead of handing it back.
                let _ = tx.rollback().await;
                return Err(e);
            }
        };
        tracing::info!(
            user_id = %posting.user_id,
            mutation_id = %row.id,
            action = row.action.as_str(),
            "mutation posted"
        );
        Ok(Posted::Created(row))
    }
}

/// The posting under the wallet lock: a replay of the key's first answer,
/// or the new mutation (not yet committed).
async fn post_in_tx(
    tx: &mut PgConnection,
    posting: &Posting,
    key: &str,
) -> Result<Posted, ServiceError> {
    let mut wallet = wallets::lock(tx, posting.user_id)
        .await?
        .ok_or(ServiceError::UserNotFound)?;
    if let Some(first) = mutations::find_by_idempotency_key(tx, key).await? {
        return match posting.matches(&first) {
            true => Ok(Posted::Replayed(first)),
            false => Err(ServiceError::IdempotencyMismatch),
        };
    }
    let origin = Origin::Posting {
        transaction_id: posting.transaction_id,
        transaction_no: posting.transaction_no.as_ref(),
        note: posting.note.as_ref(),
        idempotency_key: key,
    };
    let row = apply_in_tx(tx, &mut wallet, posting.action, posting.amount, origin)
        .await
        .map_err(|e| match e.constraint() {
            // The same key raced in for another user's wallet (same-user
            // twins queue on the wallet lock and replay above).
            Some("mutations_idempotency_key") => ServiceError::IdempotencyMismatch,
            _ => e,
        })?;
    Ok(Posted::Created(row))
}
