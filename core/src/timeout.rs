//! Per-call deadlines for the shells: when a call must be abandoned, given its own timeout and
//! any deadline it runs under (a retry loop's `maxElapsed`, an outer policy's timeout).
//!
//! Driver call order: `TimeoutConfig::from_options` once; per call, `Deadline::after(now,
//! timeout, outer)`, arm a timer for `remaining(now)`, and on expiry fail the call with
//! `TIMEOUT` (reporting `elapsed`) and tell the breaker it failed.

use crate::error::{fmt_num, Result, SeawallError};
use crate::options::{spec, Kind, OptionReader, OptionSpec, OptionValue, Options, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeoutConfig {
    pub timeout_ms: f64,
    /// The shell has a fallback value to use on timeout.
    pub has_fallback: bool,
}

pub const TIMEOUT_OPTIONS: &[OptionSpec] = &[
    spec("timeout", &["duration", "ms", "timeoutMs"], Kind::Duration { zero: false }),
    // Any value: what a timed-out call answers instead.
    spec("fallback", &[], Kind::Custom),
    spec("onTimeout", &[], Kind::Callback),
    spec("name", &[], Kind::Text),
    // The caller's cancellation (JavaScript): it ends the call at once, with its reason.
    spec("signal", &[], Kind::Host("an AbortSignal")),
];

impl TimeoutConfig {
    /// Reads `{ timeout, fallback, onTimeout }`.
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[TIMEOUT_OPTIONS], "a timeout", unit)?;
        let timeout_ms = r.duration("timeout").ok_or_else(|| {
            SeawallError::wrong_type("timeout", "undefined", &format!("a finite number of {} > 0", unit.word()))
        })?;
        Ok(TimeoutConfig { timeout_ms, has_fallback: r.get("fallback").is_some_and(|(_, v)| *v != OptionValue::Null) })
    }

    /// Reads a bare number (`withTimeout(fn, 5000)`).
    pub fn from_number(value: f64, unit: TimeUnit) -> Result<Self> {
        let opts = vec![("timeout".to_string(), OptionValue::Number(value))];
        Self::from_options(&opts, unit)
    }
}

/// An absolute moment a call must finish by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deadline {
    pub started_at: f64,
    pub at: f64,
}

impl Deadline {
    /// `now + timeout`, or the outer deadline if that comes first.
    pub fn after(now: f64, timeout_ms: f64, outer: Option<f64>) -> Deadline {
        let own = now + timeout_ms;
        let at = match outer {
            Some(o) if o < own => o,
            _ => own,
        };
        Deadline { started_at: now, at }
    }

    pub fn remaining(&self, now: f64) -> f64 {
        (self.at - now).max(0.0)
    }

    pub fn expired(&self, now: f64) -> bool {
        now >= self.at
    }

    /// How long the call ran when it timed out (reported as `TimeoutError.duration`).
    pub fn elapsed(&self, now: f64) -> f64 {
        (now - self.started_at).max(0.0)
    }
}

/// Checks a timeout given as a number (used by policies). `option` is the caller's spelling.
pub fn check_timeout(option: &str, ms: f64) -> Result<f64> {
    if ms.is_finite() && ms > 0.0 {
        Ok(ms)
    } else {
        Err(SeawallError::out_of_range(option, fmt_num(ms), "a finite duration > 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_takes_the_earlier_bound() {
        let d = Deadline::after(100.0, 50.0, None);
        assert_eq!((d.at, d.remaining(120.0), d.expired(149.0), d.expired(150.0)), (150.0, 30.0, false, true));
        assert_eq!(Deadline::after(100.0, 50.0, Some(130.0)).at, 130.0);
        assert_eq!(Deadline::after(100.0, 50.0, Some(500.0)).at, 150.0);
    }

    #[test]
    fn timeout_options_are_checked() {
        assert_eq!(TimeoutConfig::from_number(2.0, TimeUnit::Seconds).unwrap().timeout_ms, 2000.0);
        assert!(TimeoutConfig::from_number(0.0, TimeUnit::Millis).is_err());
        assert!(TimeoutConfig::from_number(f64::INFINITY, TimeUnit::Millis).is_err());
        let opts = vec![("timeout".into(), OptionValue::Number(5.0)), ("fallback".into(), OptionValue::Callback)];
        assert!(TimeoutConfig::from_options(&opts, TimeUnit::Millis).unwrap().has_fallback);
    }

    #[test]
    fn a_missing_timeout_names_the_callers_unit() {
        for (unit, word) in [(TimeUnit::Millis, "milliseconds"), (TimeUnit::Seconds, "seconds")] {
            let e = TimeoutConfig::from_options(&vec![("onTimeout".into(), OptionValue::Callback)], unit).unwrap_err();
            assert_eq!((e.option.as_deref(), e.message.clone()), (Some("timeout"), format!("invalid option timeout: expected a finite number of {word} > 0, got undefined")));
        }
        let no_fallback = vec![("timeout".into(), OptionValue::Number(5.0)), ("fallback".into(), OptionValue::Null)];
        assert!(!TimeoutConfig::from_options(&no_fallback, TimeUnit::Millis).unwrap().has_fallback);
        assert!(!TimeoutConfig::from_number(5.0, TimeUnit::Millis).unwrap().has_fallback);
    }

    #[test]
    fn elapsed_time_and_numeric_timeouts() {
        let d = Deadline::after(100.0, 50.0, Some(120.0));
        assert_eq!((d.started_at, d.elapsed(130.0), d.elapsed(90.0), d.remaining(200.0)), (100.0, 30.0, 0.0, 0.0));
        assert_eq!(check_timeout("ms", 5.0).unwrap(), 5.0);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = check_timeout("timeoutMs", bad).unwrap_err();
            assert_eq!((e.option.as_deref(), e.value.clone()), (Some("timeoutMs"), Some(fmt_num(bad))), "{bad}");
        }
    }
}
