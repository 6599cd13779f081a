//! A breaker's configuration: its options read and checked once (names, spellings, units,
//! bounds), the defaults it falls back on, and the rules it turns on.

use crate::defaults;
use crate::error::{fmt_num, Result, SeawallError};
use crate::fleet::FleetConfig;
use crate::options::{check_value, spec, Counted, Kind, OptionReader, OptionSpec, Options, Spelling, TimeUnit, AT_LEAST_ONE, RATE};
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

pub(super) const MAX_COUNT: u32 = 1_000_000;
/// The ranges of the breaker's whole-number options.
const CALLS: Kind = Kind::Count(Counted { min: 1, max: MAX_COUNT });
const BUCKETS: Kind = Kind::Count(Counted { min: 1, max: 1000 });
const PROBES: Kind = Kind::Count(Counted { min: 1, max: defaults::MAX_SLOTS });
const POSITIVE: Kind = Kind::Duration { zero: false };

pub const BREAKER_OPTIONS: &[OptionSpec] = &[
    spec("failureThreshold", &["consecutiveFailures", "maxFailures"], CALLS).or(defaults::FAILURE_THRESHOLD as f64),
    spec("failureRateThreshold", &["errorRateThreshold"], Kind::Number(RATE)),
    spec("volumeThreshold", &["minimumThroughput", "minimumNumberOfCalls", "minimumRequests"], CALLS).or(defaults::VOLUME_THRESHOLD as f64),
    spec("windowDuration", &["samplingDuration", "slidingWindowDuration"], POSITIVE).or(defaults::WINDOW_DURATION_MS),
    spec("windowBuckets", &["rollingCountBuckets"], BUCKETS).or(defaults::WINDOW_BUCKETS as f64),
    spec("windowSize", &["slidingWindowSize"], CALLS),
    spec("slowCallDurationThreshold", &[], POSITIVE),
    spec("slowCallRateThreshold", &[], Kind::Number(RATE)),
    spec("successThreshold", &[], CALLS).or(defaults::SUCCESS_THRESHOLD as f64),
    spec("halfOpenMaxCalls", &["halfOpenRequests", "permittedCallsInHalfOpenState"], PROBES).or(defaults::HALF_OPEN_MAX_CALLS as f64),
    spec("resetTimeout", &["recoveryTimeout", "halfOpenAfter", "openTimeout", "waitDurationInOpenState"], POSITIVE).or(defaults::RESET_TIMEOUT_MS),
    spec("resetBackoffMultiplier", &["openBackoffMultiplier"], Kind::Number(AT_LEAST_ONE)).or(defaults::RESET_BACKOFF_MULTIPLIER),
    spec("maxResetTimeout", &["maxOpenTimeout"], POSITIVE).or(defaults::MAX_RESET_TIMEOUT_MS),
    spec("timeout", &["requestTimeout", "callTimeout"], POSITIVE),
    spec("fleet", &[], Kind::Map),
    // Kept by the shells.
    spec("name", &[], Kind::Text),
    spec("onStateChange", &[], Kind::Callback),
    spec("onOpen", &[], Kind::Callback),
    spec("onClose", &[], Kind::Callback),
    spec("onHalfOpen", &[], Kind::Callback),
    spec("isFailure", &[], Kind::Callback),
    // A returned value it answers true for counts as a failure (the value is still answered).
    spec("isFailureResult", &[], Kind::Callback),
];

impl BreakerConfig {
    /// Reads breaker options. If a rate threshold is given and `failureThreshold` is not, the
    /// consecutive-failure rule is off (rates alone decide); `failureThreshold: null` turns it
    /// off explicitly.
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[BREAKER_OPTIONS], "a circuit breaker", unit)?;
        Self::from_reader(&r)
    }

    pub(crate) fn from_reader(r: &OptionReader<'_>) -> Result<Self> {
        let d = BreakerConfig::default();
        let failure_rate_threshold = r.number("failureRateThreshold");
        let slow_call_rate_threshold = r.number("slowCallRateThreshold");
        let failure_threshold = match r.count("failureThreshold") {
            Some(n) => Some(n),
            None if r.is_null("failureThreshold") => None,
            None if failure_rate_threshold.is_some() || slow_call_rate_threshold.is_some() => None,
            None => d.failure_threshold,
        };
        let duration = r.duration("windowDuration");
        let buckets = r.count("windowBuckets");
        let size = r.count("windowSize");
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
        let reset_timeout_ms = r.duration("resetTimeout").unwrap_or(d.reset_timeout_ms);
        let cfg = BreakerConfig {
            failure_threshold,
            failure_rate_threshold,
            slow_call_duration_ms: r.duration("slowCallDurationThreshold"),
            slow_call_rate_threshold,
            volume_threshold: r.count("volumeThreshold").unwrap_or(d.volume_threshold),
            window,
            success_threshold: r.count("successThreshold").unwrap_or(d.success_threshold),
            half_open_max_calls: r.count("halfOpenMaxCalls").unwrap_or(d.half_open_max_calls),
            reset_timeout_ms,
            reset_backoff_multiplier: r.number("resetBackoffMultiplier").unwrap_or(d.reset_backoff_multiplier),
            max_reset_timeout_ms: r.duration("maxResetTimeout").unwrap_or(d.max_reset_timeout_ms.max(reset_timeout_ms)),
            call_timeout_ms: r.duration("timeout"),
            fleet: crate::fleet::fleet_option(r, "a breaker's fleet", |o| FleetConfig::from_options(o, r.unit()))?,
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    /// Checks values and their relations, naming options and durations as the caller gave them.
    pub fn check(&self, sp: &Spelling) -> Result<()> {
        let value = |opt: &'static str, x: f64| check_value(BREAKER_OPTIONS, opt, sp, x);
        let count = |opt: &'static str, n: u32| value(opt, f64::from(n));
        if let Some(n) = self.failure_threshold {
            count("failureThreshold", n)?;
        }
        if let Some(x) = self.failure_rate_threshold {
            value("failureRateThreshold", x)?;
        }
        if let Some(x) = self.slow_call_rate_threshold {
            value("slowCallRateThreshold", x)?;
            if self.slow_call_duration_ms.is_none() {
                return Err(SeawallError::wrong_type(
                    &sp.name("slowCallRateThreshold"),
                    fmt_num(x),
                    "slowCallDurationThreshold to be set as well (which calls are slow?)",
                ));
            }
        }
        if let Some(x) = self.slow_call_duration_ms {
            value("slowCallDurationThreshold", x)?;
        }
        if self.failure_threshold.is_none() && self.failure_rate_threshold.is_none() && self.slow_call_rate_threshold.is_none() {
            return Err(SeawallError::wrong_type(
                &sp.name("failureThreshold"),
                "null",
                "at least one way to trip: failureThreshold, failureRateThreshold or slowCallRateThreshold",
            ));
        }
        count("volumeThreshold", self.volume_threshold)?;
        match self.window {
            WindowConfig::Time { duration_ms, buckets } => {
                value("windowDuration", duration_ms)?;
                count("windowBuckets", buckets)?;
            }
            WindowConfig::Count { size } => count("windowSize", size)?,
        }
        count("successThreshold", self.success_threshold)?;
        count("halfOpenMaxCalls", self.half_open_max_calls)?;
        value("resetTimeout", self.reset_timeout_ms)?;
        value("resetBackoffMultiplier", self.reset_backoff_multiplier)?;
        value("maxResetTimeout", self.max_reset_timeout_ms)?;
        if self.max_reset_timeout_ms < self.reset_timeout_ms {
            return Err(SeawallError::out_of_range(
                &sp.name("maxResetTimeout"),
                sp.duration(self.max_reset_timeout_ms),
                &format!("a duration ≥ {} ({})", sp.name("resetTimeout"), sp.duration(self.reset_timeout_ms)),
            ));
        }
        if let Some(t) = self.call_timeout_ms {
            value("timeout", t)?;
        }
        if let Some(f) = &self.fleet {
            f.check_under(sp)?;
        }
        Ok(())
    }
}
