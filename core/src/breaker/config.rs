//! A breaker's configuration: its options read and checked once (names, spellings, units,
//! bounds), the defaults it falls back on, and the rules it turns on.

use crate::defaults;
use crate::error::{fmt_num, Result, SeawallError};
use crate::fleet::FleetConfig;
use crate::options::{nested, spec, Counted, OptionReader, OptionSpec, Options, Spelling, TimeUnit, AT_LEAST_ONE, RATE};
use crate::window::WindowConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Consecutive failures that trip a closed breaker; `None` turns the rule off.
    pub failure_threshold: Option<u32>,
    /// Failure fraction over the window that trips it (once `volume_threshold` calls are in).
    pub failure_rate_threshold: Option<f64>,
    /// A call longer than this is slow.
    pub slow_call_duration_ms: Option<f64>,
    /// Slow fraction over the window that trips it.
    pub slow_call_rate_threshold: Option<f64>,
    pub volume_threshold: u32,
    pub window: WindowConfig,
    pub success_threshold: u32,
    pub half_open_max_calls: u32,
    pub reset_timeout_ms: f64,
    /// Each failed probe multiplies the next open period by this (an open period that backs off).
    pub reset_backoff_multiplier: f64,
    pub max_reset_timeout_ms: f64,
    /// Per-call timeout the shells apply (`timeout`, also spelt `requestTimeout`).
    pub call_timeout_ms: Option<f64>,
    /// Shared with the other replicas (see `fleet.rs`); `None` decides alone.
    pub fleet: Option<FleetConfig>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: Some(defaults::FAILURE_THRESHOLD),
            failure_rate_threshold: None,
            slow_call_duration_ms: None,
            slow_call_rate_threshold: None,
            volume_threshold: defaults::VOLUME_THRESHOLD,
            window: WindowConfig::Time { duration_ms: defaults::WINDOW_DURATION_MS, buckets: defaults::WINDOW_BUCKETS },
            success_threshold: defaults::SUCCESS_THRESHOLD,
            half_open_max_calls: defaults::HALF_OPEN_MAX_CALLS,
            reset_timeout_ms: defaults::RESET_TIMEOUT_MS,
            reset_backoff_multiplier: defaults::RESET_BACKOFF_MULTIPLIER,
            max_reset_timeout_ms: defaults::MAX_RESET_TIMEOUT_MS,
            call_timeout_ms: None,
            fleet: None,
        }
    }
}

pub const BREAKER_OPTIONS: &[OptionSpec] = &[
    spec("failureThreshold", &["consecutiveFailures", "maxFailures"]),
    spec("failureRateThreshold", &["errorRateThreshold"]),
    spec("volumeThreshold", &["minimumThroughput", "minimumNumberOfCalls", "minimumRequests"]),
    spec("windowDuration", &["samplingDuration", "slidingWindowDuration"]),
    spec("windowBuckets", &["rollingCountBuckets"]),
    spec("windowSize", &["slidingWindowSize"]),
    spec("slowCallDurationThreshold", &[]),
    spec("slowCallRateThreshold", &[]),
    spec("successThreshold", &[]),
    spec("halfOpenMaxCalls", &["halfOpenRequests", "permittedCallsInHalfOpenState"]),
    spec("resetTimeout", &["recoveryTimeout", "halfOpenAfter", "openTimeout", "waitDurationInOpenState"]),
    spec("resetBackoffMultiplier", &["openBackoffMultiplier"]),
    spec("maxResetTimeout", &["maxOpenTimeout"]),
    spec("timeout", &["requestTimeout", "callTimeout"]),
    spec("fleet", &[]),
    // Kept by the shells.
    spec("name", &[]),
    spec("onStateChange", &[]),
    spec("onOpen", &[]),
    spec("onClose", &[]),
    spec("onHalfOpen", &[]),
    spec("isFailure", &["shouldCount", "errorFilter"]),
];

pub(super) const MAX_COUNT: u32 = 1_000_000;
/// The ranges of the breaker's whole-number options, each read and checked from this row.
const CALLS: Counted = Counted { min: 1, max: MAX_COUNT };
const BUCKETS: Counted = Counted { min: 1, max: 1000 };
const PROBES: Counted = Counted { min: 1, max: defaults::MAX_SLOTS };

impl BreakerConfig {
    /// Reads breaker options. If a rate threshold is given and `failureThreshold` is not, the
    /// consecutive-failure rule is off (rates alone decide); `failureThreshold: null` turns it
    /// off explicitly.
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, BREAKER_OPTIONS, "a circuit breaker", unit)?;
        Self::from_reader(&r)
    }

    pub(crate) fn from_reader(r: &OptionReader<'_>) -> Result<Self> {
        let d = BreakerConfig::default();
        let failure_rate_threshold = r.ratio("failureRateThreshold")?;
        let slow_call_rate_threshold = r.ratio("slowCallRateThreshold")?;
        let failure_threshold = match r.counted("failureThreshold", CALLS)? {
            Some(n) => Some(n),
            None if r.is_null("failureThreshold") => None,
            None if failure_rate_threshold.is_some() || slow_call_rate_threshold.is_some() => None,
            None => d.failure_threshold,
        };
        let duration = r.duration("windowDuration", false)?;
        let buckets = r.counted("windowBuckets", BUCKETS)?;
        let size = r.counted("windowSize", CALLS)?;
        let window = match (size, duration, buckets) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(SeawallError::wrong_type(
                    r.spelling("windowSize"),
                    fmt_num(size.unwrap_or(0) as f64),
                    "either windowSize (count window) or windowDuration/windowBuckets (time window), not both",
                ))
            }
            (Some(size), None, None) => WindowConfig::Count { size },
            (None, duration, buckets) => WindowConfig::Time {
                duration_ms: duration.unwrap_or(defaults::WINDOW_DURATION_MS),
                buckets: buckets.unwrap_or(defaults::WINDOW_BUCKETS),
            },
        };
        for cb in ["onStateChange", "onOpen", "onClose", "onHalfOpen", "isFailure"] {
            r.callback(cb)?;
        }
        r.text("name")?;
        let reset_timeout_ms = r.duration("resetTimeout", false)?.unwrap_or(d.reset_timeout_ms);
        let cfg = BreakerConfig {
            failure_threshold,
            failure_rate_threshold,
            slow_call_duration_ms: r.duration("slowCallDurationThreshold", false)?,
            slow_call_rate_threshold,
            volume_threshold: r.counted("volumeThreshold", CALLS)?.unwrap_or(d.volume_threshold),
            window,
            success_threshold: r.counted("successThreshold", CALLS)?.unwrap_or(d.success_threshold),
            half_open_max_calls: r.counted("halfOpenMaxCalls", PROBES)?.unwrap_or(d.half_open_max_calls),
            reset_timeout_ms,
            reset_backoff_multiplier: r
                .bounded("resetBackoffMultiplier", AT_LEAST_ONE)?
                .unwrap_or(d.reset_backoff_multiplier),
            max_reset_timeout_ms: r
                .duration("maxResetTimeout", false)?
                .unwrap_or(d.max_reset_timeout_ms.max(reset_timeout_ms)),
            call_timeout_ms: r.duration("timeout", false)?,
            fleet: match r.map("fleet")? {
                Some(opts) => Some(nested(r.spelling("fleet"), FleetConfig::from_options(opts, r.unit()))?),
                None => None,
            },
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    /// Checks values and their relations, naming options and durations as the caller gave them.
    pub fn check(&self, sp: &Spelling) -> Result<()> {
        let count = |opt: &'static str, v: u32, range: Counted| range.check(&sp.name(opt), v);
        let positive = |opt: &'static str, ms: f64| {
            if ms.is_finite() && ms > 0.0 {
                Ok(())
            } else {
                Err(SeawallError::out_of_range(&sp.name(opt), sp.duration(ms), "a finite duration > 0"))
            }
        };
        let ratio = |opt: &'static str, v: f64| RATE.check(&sp.name(opt), v);
        if let Some(n) = self.failure_threshold {
            count("failureThreshold", n, CALLS)?;
        }
        if let Some(x) = self.failure_rate_threshold {
            ratio("failureRateThreshold", x)?;
        }
        if let Some(x) = self.slow_call_rate_threshold {
            ratio("slowCallRateThreshold", x)?;
            if self.slow_call_duration_ms.is_none() {
                return Err(SeawallError::wrong_type(
                    &sp.name("slowCallRateThreshold"),
                    fmt_num(x),
                    "slowCallDurationThreshold to be set as well (which calls are slow?)",
                ));
            }
        }
        if let Some(x) = self.slow_call_duration_ms {
            positive("slowCallDurationThreshold", x)?;
        }
        if self.failure_threshold.is_none() && self.failure_rate_threshold.is_none() && self.slow_call_rate_threshold.is_none() {
            return Err(SeawallError::wrong_type(
                &sp.name("failureThreshold"),
                "null",
                "at least one way to trip: failureThreshold, failureRateThreshold or slowCallRateThreshold",
            ));
        }
        count("volumeThreshold", self.volume_threshold, CALLS)?;
        match self.window {
            WindowConfig::Time { duration_ms, buckets } => {
                positive("windowDuration", duration_ms)?;
                count("windowBuckets", buckets, BUCKETS)?;
            }
            WindowConfig::Count { size } => count("windowSize", size, CALLS)?,
        }
        count("successThreshold", self.success_threshold, CALLS)?;
        count("halfOpenMaxCalls", self.half_open_max_calls, PROBES)?;
        positive("resetTimeout", self.reset_timeout_ms)?;
        AT_LEAST_ONE.check(&sp.name("resetBackoffMultiplier"), self.reset_backoff_multiplier)?;
        positive("maxResetTimeout", self.max_reset_timeout_ms)?;
        if self.max_reset_timeout_ms < self.reset_timeout_ms {
            return Err(SeawallError::out_of_range(
                &sp.name("maxResetTimeout"),
                sp.duration(self.max_reset_timeout_ms),
                &format!("a duration ≥ {} ({})", sp.name("resetTimeout"), sp.duration(self.reset_timeout_ms)),
            ));
        }
        if let Some(t) = self.call_timeout_ms {
            positive("timeout", t)?;
        }
        if let Some(f) = &self.fleet {
            f.check_under(sp)?;
        }
        Ok(())
    }
}
