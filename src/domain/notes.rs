//! What a mutation says about itself beyond the money (SPEC §5.2): the
//! marketplace's transaction number, a note, and dompet's own notes.

use super::{TopupId, WithdrawalId};

/// The marketplace's transaction number: 1 to 32 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionNo(String);

impl TransactionNo {
    pub const MAX_LEN: usize = 32;

    pub fn parse(text: String) -> Result<Self, &'static str> {
        let visible = text.bytes().all(|b| b.is_ascii_graphic());
        match (1..=Self::MAX_LEN).contains(&text.len()) && visible {
            true => Ok(Self(text)),
            false => Err("transaction_no must be 1 to 32 visible ASCII characters"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A note on a mutation: 1 to 500 characters of free text, lines and tabs
/// allowed, no other control character (and so no NUL, which PostgreSQL
/// text cannot hold).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(text: String) -> Result<Self, &'static str> {
        let chars = text.chars().count();
        let control = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        match (1..=Self::MAX_CHARS).contains(&chars) && !text.chars().any(control) {
            true => Ok(Self(text)),
            false => Err("note must be 1 to 500 characters without control characters"),
        }
    }

    /// dompet's note on the debit of a withdrawal is this followed by its id
    /// (the withdrawal statement appends the id it draws in SQL).
    pub const WITHDRAWAL_PREFIX: &'static str = "Pencairan dana #C";

    /// dompet's note on the debit of withdrawal `id`.
    pub fn withdrawal(id: WithdrawalId) -> Self {
        Self(format!("{}{id}", Self::WITHDRAWAL_PREFIX))
    }

    /// dompet's note on the restore of cancelled withdrawal `id`.
    pub fn restore(id: WithdrawalId) -> Self {
        Self(format!("Pengembalian dana pencairan #C{id}"))
    }

    /// dompet's note on the credit of confirmed top-up `id`.
    pub fn topup(id: TopupId) -> Self {
        Self(format!("Top up saldo #T{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_numbers_are_short_visible_ascii() {
        for good in ["INV/2016/01/0001", "x", &"9".repeat(32)] {
            assert!(TransactionNo::parse(good.to_owned()).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            " ",
            "INV 1",
            "nomor\u{e9}",
            "a\0b",
            "\t1",
            &"9".repeat(33),
        ] {
            assert!(TransactionNo::parse(bad.to_owned()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn notes_count_characters_not_bytes_and_refuse_control_characters() {
        assert!(Note::parse("é".repeat(500)).is_ok());
        assert!(Note::parse("Pembayaran\r\n\ttagihan".to_owned()).is_ok());
        for bad in [
            String::new(),
            "é".repeat(501),
            "a\0".to_owned(),
            "a\u{1b}[31m".to_owned(),
        ] {
            assert!(Note::parse(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dompet_names_its_tickets() {
        assert_eq!(
            Note::withdrawal(WithdrawalId::new(4)).as_str(),
            "Pencairan dana #C4"
        );
        assert_eq!(
            Note::restore(WithdrawalId::new(4)).as_str(),
            "Pengembalian dana pencairan #C4"
        );
        assert_eq!(Note::topup(TopupId::new(12)).as_str(), "Top up saldo #T12");
    }
}
