//! The later (v2) histories: the balance beside the history (SPEC §5.2).

use super::{Cursor, Dompet, Page, ServiceError};
use crate::{
    domain::{Mutation, Topup, UserId, Withdrawal},
    store::{history_v2, topups, withdrawals},
};

/// A page of mutations and the balance of the same instant.
#[derive(Debug, Clone)]
pub struct BalancedHistory {
    pub balance: i64,
    pub mutations: Vec<Mutation>,
}

/// `GET /v2/dompet/history.json`: one page of every list, one snapshot.
#[derive(Debug, Clone)]
pub struct CombinedHistory {
    pub balance: i64,
    pub topups: Vec<Topup>,
    pub withdrawals: Vec<Withdrawal>,
    pub mutations: Vec<Mutation>,
}

impl Dompet {
    /// One statement, so one snapshot and one round trip whatever the
    /// history's length or the cursor's depth.
    pub async fn balanced_history(
        &self,
        user_id: UserId,
        page: Page,
        cursor: Option<Cursor>,
    ) -> Result<BalancedHistory, ServiceError> {
        let newest = Cursor::newest_id(cursor);
        let mut conn = self.reader().await?;
        let found = history_v2::mutations_with_balance(
            &mut conn,
            user_id,
            newest,
            page.limit(),
            page.offset(),
        )
        .await?;
        conn.finish().await?;
        let (balance, mutations) = found.ok_or(ServiceError::UserNotFound)?;
        Ok(BalancedHistory { balance, mutations })
    }

    /// Every list read inside one repeatable-read, read-only transaction:
    /// a fixed number of statements, each walking its `(user_id, id desc)`
    /// index, all seeing the same snapshot. No cursor: the three lists have
    /// three id sequences, so one `before_id` names no place in all of them;
    /// deep walks use the per-list endpoints.
    pub async fn combined_history(
        &self,
        user_id: UserId,
        page: Page,
    ) -> Result<CombinedHistory, ServiceError> {
        let mut tx = self
            .pool
            .begin_with("begin isolation level repeatable read, read only")
            .await?;
        let newest = Cursor::newest_id(None);
        let (balance, mutations) = history_v2::mutations_with_balance(
            &mut tx,
            user_id,
            newest,
            page.limit(),
            page.offset(),
        )
        .await?
        .ok_or(ServiceError::UserNotFound)?;
        let topups = topups::page_for_user(&mut tx, user_id, page.limit(), page.offset()).await?;
        let withdrawals =
            withdrawals::page_for_user(&mut tx, user_id, None, newest, page.limit(), page.offset())
                .await?;
        tx.commit().await?;
        Ok(CombinedHistory {
            balance,
            topups,
            withdrawals,
            mutations,
        })
    }
}
