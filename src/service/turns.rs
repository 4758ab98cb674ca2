//! One withdrawal per wallet at a time inside this process. The wallet lock
//! in PostgreSQL serialises them anyway (across every node); queueing here
//! first means a user's pile of requests waits without holding pooled
//! connections, so one user flooding withdrawals cannot drain the pool that
//! everyone else's requests need. The wait is bounded like a lock wait.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ServiceError;
use crate::domain::UserId;

type Slots = Arc<Mutex<HashMap<UserId, Slot>>>;

/// A user's semaphore of one, and how many requests hold or wait for it.
struct Slot {
    turn: Arc<Semaphore>,
    claims: usize,
}

#[derive(Clone)]
pub(crate) struct WalletTurns {
    slots: Slots,
    wait: Duration,
}

/// The wallet's turn; the next request of the same user goes when it drops.
pub(crate) struct Turn {
    _permit: OwnedSemaphorePermit,
    _ticket: Ticket,
}

/// A claim on a user's slot; the slot is forgotten with its last claim, so
/// the map holds only users with requests in flight.
struct Ticket {
    slots: Slots,
    user_id: UserId,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get_mut(&self.user_id) {
            slot.claims -= 1;
            if slot.claims == 0 {
                slots.remove(&self.user_id);
            }
        }
    }
}

impl WalletTurns {
    pub(crate) fn new(wait: Duration) -> Self {
        Self {
            slots: Arc::default(),
            wait,
        }
    }

    /// Waits for `user_id`'s turn, at most the configured wait (`Busy` after).
    pub(crate) async fn enter(&self, user_id: UserId) -> Result<Turn, ServiceError> {
        let turn = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let slot = slots.entry(user_id).or_insert_with(|| Slot {
                turn: Arc::new(Semaphore::new(1)),
                claims: 0,
            });
            slot.claims += 1;
            slot.turn.clone()
        };
        // Dropped however this ends: granted and done, timed out, cancelled.
        let ticket = Ticket {
            slots: self.slots.clone(),
            user_id,
        };
        match tokio::time::timeout(self.wait, turn.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Turn {
                _permit: permit,
                _ticket: ticket,
            }),
            _ => Err(ServiceError::Busy),
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.slots.lock().map_or(0, |slots| slots.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_user_others_untouched_and_nothing_kept_after() {
        let turns = WalletTurns::new(Duration::from_millis(50));
        let (a, b) = (UserId::new(1), UserId::new(2));

        let first = turns.enter(a).await.unwrap();
        assert!(matches!(turns.enter(a).await, Err(ServiceError::Busy)));
        let other = turns.enter(b).await.unwrap();
        drop(first);
        let again = turns.enter(a).await.unwrap();
        assert_eq!(turns.tracked(), 2);

        drop((other, again));
        assert_eq!(turns.tracked(), 0);
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_nothing_behind() {
        let turns = WalletTurns::new(Duration::from_secs(10));
        let a = UserId::new(1);
        let held = turns.enter(a).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(20), turns.enter(a)).await;
        assert!(waiting.is_err());
        drop(held);
        assert_eq!(turns.tracked(), 0);
    }
}
