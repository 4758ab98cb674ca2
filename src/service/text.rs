//! The one check every client or operator text passes before it can reach
//! PostgreSQL: no NUL byte (a `text` column cannot hold one, and the driver
//! would answer with an error that looks like a server bug), no other
//! control character in one-line fields, and a bounded length.

use super::ServiceError;

/// How long each kind of text may be, in characters.
pub mod limits {
    pub const USERNAME: usize = 100;
    /// RFC 5321's longest path.
    pub const EMAIL: usize = 254;
    pub const PASSWORD_MIN: usize = 8;
    pub const PASSWORD: usize = 1024;
    pub const BANK_FIELD: usize = 200;
    pub const IDEMPOTENCY_KEY: usize = 255;
}

/// `value` when it is one line of at most `max_chars` characters without
/// control characters; else an `Invalid` error naming `field`.
pub fn checked<'a>(field: &str, value: &'a str, max_chars: usize) -> Result<&'a str, ServiceError> {
    check(field, value, max_chars, |c| c.is_control())
}

/// As [`checked`], but tabs and line breaks are allowed (free text).
pub fn checked_multiline<'a>(
    field: &str,
    value: &'a str,
    max_chars: usize,
) -> Result<&'a str, ServiceError> {
    check(field, value, max_chars, |c| {
        c.is_control() && !matches!(c, '\n' | '\r' | '\t')
    })
}

/// A secret (a password): anything but NUL, at most `max_chars`.
pub fn checked_secret<'a>(
    field: &str,
    value: &'a str,
    max_chars: usize,
) -> Result<&'a str, ServiceError> {
    check(field, value, max_chars, |_| false)
}

/// As [`checked`], and not empty or only blanks.
pub fn required<'a>(
    field: &str,
    value: &'a str,
    max_chars: usize,
) -> Result<&'a str, ServiceError> {
    let value = checked(field, value, max_chars)?;
    if value.trim().is_empty() {
        return Err(invalid(field, max_chars));
    }
    Ok(value)
}

fn check<'a>(
    field: &str,
    value: &'a str,
    max_chars: usize,
    refused: impl Fn(char) -> bool,
) -> Result<&'a str, ServiceError> {
    // Counting stops one past the limit: a 16 KiB value costs no more than
    // a short one.
    let too_long = value.chars().nth(max_chars).is_some();
    if too_long || value.chars().any(|c| c == '\0' || refused(c)) {
        return Err(invalid(field, max_chars));
    }
    Ok(value)
}

fn invalid(field: &str, max_chars: usize) -> ServiceError {
    ServiceError::Invalid(format!(
        "{field} must be 1 to {max_chars} characters without control characters"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_nul_control_characters_and_long_text() {
        assert_eq!(checked("f", "Siti Rahma", 10).unwrap(), "Siti Rahma");
        assert_eq!(checked("f", "ąćęłńóśźż", 9).unwrap(), "ąćęłńóśźż");
        assert!(checked("f", "", 10).is_ok());
        for bad in [
            "a\0b",
            "\0",
            "line\nbreak",
            "tab\t",
            "esc\u{1b}[31m",
            "c1\u{85}",
            "elevenchars",
        ] {
            let err = checked("field", bad, 10).unwrap_err();
            assert!(
                matches!(&err, ServiceError::Invalid(m) if m.starts_with("field must be")),
                "{bad:?}: {err}"
            );
        }
    }

    #[test]
    fn multiline_allows_line_breaks_but_never_nul() {
        assert!(checked_multiline("note", "a\r\nb\tc", 10).is_ok());
        assert!(checked_multiline("note", "a\0b", 10).is_err());
        assert!(checked_multiline("note", "bell\u{7}", 10).is_err());
    }

    #[test]
    fn secrets_may_hold_anything_but_nul() {
        assert!(checked_secret("password", "tab\there\u{1b}", 20).is_ok());
        assert!(checked_secret("password", "nul\0", 20).is_err());
    }

    #[test]
    fn required_refuses_blank() {
        assert!(required("f", "  ", 10).is_err());
        assert!(required("f", "", 10).is_err());
        assert!(required("f", "x", 10).is_ok());
    }
}
