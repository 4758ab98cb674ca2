//! Rupiah amounts: whole units, never a float.

use std::fmt;

/// A strictly positive number of rupiah. Built only through [`Amount::new`] or
/// [`Amount::parse_digits`], so holding one means the value was validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    pub fn new(value: i64) -> Option<Self> {
        (value >= 1).then_some(Self(value))
    }

    /// Parses the seed's amount format: ASCII digits only (no sign, space,
    /// separator, decimal point or exponent) whose value is ≥ 1 and fits i64.
    pub fn parse_digits(text: &str) -> Option<Self> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<i64>().ok().and_then(Self::new)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::Amount;

    #[test]
    fn accepts_plain_digits() {
        assert_eq!(Amount::parse_digits("25000").map(Amount::get), Some(25000));
        assert_eq!(
            Amount::parse_digits("0025000").map(Amount::get),
            Some(25000)
        );
        assert_eq!(
            Amount::parse_digits("9223372036854775807").map(Amount::get),
            Some(i64::MAX)
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "0",
            "000",
            "-5",
            "+5",
            " 25000",
            "25000 ",
            "25.000",
            "25000.5",
            "25000.0",
            "1e3",
            "9223372036854775808",
            "٢٥٠٠٠",
            "２５０００",
            "abc",
        ] {
            assert_eq!(Amount::parse_digits(bad), None, "{bad:?} must be rejected");
        }
    }
}
