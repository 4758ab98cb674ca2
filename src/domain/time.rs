//! Timestamps on the wire: `2013-11-25T15:32:47+07:00`.

use chrono::{DateTime, Utc};
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

impl std::fmt::Display for WireTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.at
            .with_timezone(&self.tz)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .fmt(f)
    }
}

impl Serialize for WireTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
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
        let WireTime { at, tz } = self.0;
        at.with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .fmt(f)
    }
}

impl Serialize for WireTimeMillis {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
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
}
