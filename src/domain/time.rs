//! Timestamps on the wire: `2013-11-25T15:32:47+07:00`.

use std::fmt::Display;

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

/// An instant rendered in the service time zone, to the second, with its
/// numeric offset — the seed's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireTime {
    at: DateTime<Utc>,
    tz: Tz,
}

impl WireTime {
    pub fn new(at: DateTime<Utc>, tz: Tz) -> Self {
        Self { at, tz }
    }

    pub fn opt(at: Option<DateTime<Utc>>, tz: Tz) -> Option<Self> {
        at.map(|at| Self::new(at, tz))
    }
}

/// chrono's pattern for the seed's format; [`Rendered`] writes the same
/// bytes without parsing it for every timestamp (a history page has 20).
const SECONDS: &str = "%Y-%m-%dT%H:%M:%S%:z";
const MILLIS: &str = "%Y-%m-%dT%H:%M:%S%.3f%:z";

/// The longest text the fast path writes: `2013-11-25T15:32:47.123+07:00`.
const LONGEST: usize = 29;

/// An instant formatted into a stack buffer.
struct Rendered {
    bytes: [u8; LONGEST],
    len: usize,
}

impl Rendered {
    /// The text chrono's `format(SECONDS or MILLIS)` gives, or `None` where
    /// its rules are more than digits (a year outside 0–9999, an offset that
    /// is not whole minutes, a leap second): the caller lets chrono do those.
    fn new(at: DateTime<Utc>, tz: Tz, millis: bool) -> Option<Self> {
        let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
        let seconds = offset.local_minus_utc();
        let local = at.naive_utc().checked_add_offset(offset)?;
        let year = local.year();
        let nanos = local.nanosecond();
        if !(0..=9999).contains(&year) || seconds % 60 != 0 || nanos >= 1_000_000_000 {
            return None;
        }
        let mut r = Self {
            bytes: [0; LONGEST],
            len: 0,
        };
        r.digits(year as u32, 4);
        r.push(b'-');
        r.digits(local.month(), 2);
        r.push(b'-');
        r.digits(local.day(), 2);
        r.push(b'T');
        r.digits(local.hour(), 2);
        r.push(b':');
        r.digits(local.minute(), 2);
        r.push(b':');
        r.digits(local.second(), 2);
        if millis {
            r.push(b'.');
            r.digits(nanos / 1_000_000, 3);
        }
        let minutes = seconds.unsigned_abs() / 60;
        r.push(if seconds < 0 { b'-' } else { b'+' });
        r.digits(minutes / 60, 2);
        r.push(b':');
        r.digits(minutes % 60, 2);
        Some(r)
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    /// `value` in exactly `width` decimal digits (it always fits here).
    fn digits(&mut self, mut value: u32, width: usize) {
        for i in (0..width).rev() {
            self.bytes[self.len + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += width;
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

fn write(
    f: &mut std::fmt::Formatter<'_>,
    at: DateTime<Utc>,
    tz: Tz,
    millis: bool,
) -> std::fmt::Result {
    match Rendered::new(at, tz, millis) {
        Some(text) => f.pad(text.as_str()),
        None => at
            .with_timezone(&tz)
            .format(if millis { MILLIS } else { SECONDS })
            .fmt(f),
    }
}

fn serialize<S: Serializer>(
    serializer: S,
    at: DateTime<Utc>,
    tz: Tz,
    millis: bool,
) -> Result<S::Ok, S::Error> {
    match Rendered::new(at, tz, millis) {
        Some(text) => serializer.serialize_str(text.as_str()),
        None => serializer.collect_str(&at.with_timezone(&tz).format(if millis {
            MILLIS
        } else {
            SECONDS
        })),
    }
}

impl std::fmt::Display for WireTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write(f, self.at, self.tz, false)
    }
}

impl Serialize for WireTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(serializer, self.at, self.tz, false)
    }
}

/// The later (v2) API's format: the same instant with milliseconds,
/// `2016-01-08T11:34:18.000+07:00` (truncated, never rounded up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireTimeMillis(WireTime);

impl WireTimeMillis {
    pub fn new(at: DateTime<Utc>, tz: Tz) -> Self {
        Self(WireTime::new(at, tz))
    }

    pub fn opt(at: Option<DateTime<Utc>>, tz: Tz) -> Option<Self> {
        at.map(|at| Self::new(at, tz))
    }
}

impl std::fmt::Display for WireTimeMillis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write(f, self.0.at, self.0.tz, true)
    }
}

impl Serialize for WireTimeMillis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(serializer, self.0.at, self.0.tz, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn renders_the_seed_format_in_jakarta() {
        let at = Utc.with_ymd_and_hms(2013, 11, 25, 8, 32, 47).unwrap()
            + chrono::Duration::milliseconds(999);
        let wire = WireTime::new(at, chrono_tz::Asia::Jakarta);
        assert_eq!(wire.to_string(), "2013-11-25T15:32:47+07:00");
        assert_eq!(
            serde_json::to_string(&wire).unwrap(),
            "\"2013-11-25T15:32:47+07:00\""
        );
    }

    #[test]
    fn renders_the_later_format_with_milliseconds() {
        let at = Utc.with_ymd_and_hms(2016, 1, 8, 4, 34, 18).unwrap();
        let jakarta = chrono_tz::Asia::Jakarta;
        assert_eq!(
            WireTimeMillis::new(at, jakarta).to_string(),
            "2016-01-08T11:34:18.000+07:00"
        );
        let later = at + chrono::Duration::microseconds(999_999);
        assert_eq!(
            serde_json::to_string(&WireTimeMillis::new(later, jakarta)).unwrap(),
            "\"2016-01-08T11:34:18.999+07:00\""
        );
    }

    /// The fast path must write what chrono's own formatting writes, for
    /// every zone and instant, including the cases it hands back to chrono
    /// (a local-mean-time offset with seconds, years outside 0–9999, the
    /// ends of chrono's range).
    #[test]
    fn writes_exactly_what_chrono_writes() {
        let zones = [
            chrono_tz::Asia::Jakarta,
            chrono_tz::UTC,
            chrono_tz::America::St_Johns,
            chrono_tz::America::Caracas,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Pacific::Pago_Pago,
            chrono_tz::Europe::Amsterdam,
            chrono_tz::Africa::Monrovia,
        ];
        let mut instants = vec![
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap(),
        ];
        // A spread from year -300 to 12000 at odd steps, nanoseconds included.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % 388_000_000_000) as i64 - 72_000_000_000;
            let nanos = ((x >> 40) % 1_000_000_000) as u32;
            instants.extend(DateTime::from_timestamp(secs, nanos));
        }
        for tz in zones {
            for &at in &instants {
                let local = at.with_timezone(&tz);
                let seconds = local.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
                let millis = local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
                assert_eq!(WireTime::new(at, tz).to_string(), seconds, "{at:?} {tz}");
                assert_eq!(
                    serde_json::to_string(&WireTime::new(at, tz)).unwrap(),
                    format!("\"{seconds}\""),
                    "{at:?} {tz}"
                );
                assert_eq!(
                    WireTimeMillis::new(at, tz).to_string(),
                    millis,
                    "{at:?} {tz}"
                );
                assert_eq!(
                    serde_json::to_string(&WireTimeMillis::new(at, tz)).unwrap(),
                    format!("\"{millis}\""),
                    "{at:?} {tz}"
                );
            }
        }
    }
}
