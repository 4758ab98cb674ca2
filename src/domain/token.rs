//! A user's API token as the service hands it around: never the token.

use chrono::{DateTime, Utc};

use super::{TokenId, UserId};

/// One device's credential: its id and when it was issued. The token itself
/// exists only in the answer that issued it; the database keeps its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: TokenId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
}
