//! Typed row ids, so a user id can never be passed where a withdrawal id is
//! meant. Plain `bigint` in SQL; the newtype lives only on the Rust side.

use std::{fmt, str::FromStr};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = NotAnId;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_id(text).map(Self).ok_or(NotAnId)
            }
        }
    };
}

id_type!(
    /// A user (and the owner of everything else).
    UserId
);
id_type!(
    /// A wallet: the seed's `deposit_id`, one per user.
    WalletId
);
id_type!(WithdrawalId);
id_type!(BankAccountId);
id_type!(MutationId);
id_type!(
    /// A top-up request; its ticket is `#T<id>`.
    TopupId
);
id_type!(
    /// One of a user's API tokens (never the token itself).
    TokenId
);

/// Text that cannot name a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected an id: ASCII digits of a number that fits 64 bits")]
pub struct NotAnId;

/// ASCII digits that fit i64; a sign, a space or anything else names no one.
fn parse_id(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_digits_only() {
        assert_eq!("204254".parse(), Ok(UserId::new(204254)));
        assert_eq!("007".parse(), Ok(UserId::new(7)));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.0",
            "9223372036854775808",
            "٣",
        ] {
            assert_eq!(bad.parse::<UserId>(), Err(NotAnId), "{bad:?}");
        }
    }
}
