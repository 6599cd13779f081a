//! Retry decisions: after a failed attempt, retry (after how long) or give up (why).
//!
//! [`RetryConfig`] is the immutable policy; [`RetryState`] is one call's progress, small and
//! `Copy` so a shell can keep one per call without allocating. Driver call order:
//!
//! 1. `RetryState::start(&config, now)` before the first attempt.
//! 2. Run the attempt. On success, stop (and `budget.record_success(now)` if there is a budget).
//! 3. On failure, classify it ([`FailureClass`]; Retry-After already parsed into milliseconds)
//!    and call `on_failure(&config, now, class, rng, budget)`. On [`RetryDecision::Retry`],
//!    sleep `delay_ms` and go to 2; on [`RetryDecision::GiveUp`], surface the failure.
//!
//! Attempts count calls: `max_attempts = 3` means the first call and two retries
//! (`maxRetries: 2` is the same policy spelled the other way; see [`RetryConfig::from_options`]).

use crate::backoff::{Backoff, BackoffConfig, BACKOFF_OPTIONS};
use crate::budget::RetryBudget;
use crate::defaults;
use crate::error::{fmt_num, ErrorCode, Result, SeawallError};
use crate::options::{check_value, spec, Counted, Kind, OptionReader, OptionSpec, Options, Spelling, StringsOrCallback, TimeUnit};
use crate::rng::SeededRng;

/// The most attempts a policy may allow.
pub const MAX_ATTEMPTS_LIMIT: u32 = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Total calls, the first included (≥ 1).
    pub max_attempts: u32,
    pub backoff: BackoffConfig,
    /// Give up rather than start an attempt later than this long after the first one began.
    pub max_elapsed_ms: Option<f64>,
    /// The longest server-requested delay to honour; a longer Retry-After gives up at once.
    pub max_retry_after_ms: f64,
    /// Error identifiers (codes, names, HTTP statuses as text) that are retryable; `None`
    /// means every failure is, unless the shell's predicate or classification says otherwise.
    pub retryable: Option<Vec<String>>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: defaults::MAX_ATTEMPTS,
            backoff: BackoffConfig::default(),
            max_elapsed_ms: None,
            max_retry_after_ms: defaults::MAX_RETRY_AFTER_MS,
            retryable: None,
        }
    }
}

const OWN_OPTIONS: &[OptionSpec] = &[
    spec("maxAttempts", &["attempts", "stopAfterAttempt"], Kind::Count(Counted { min: 1, max: MAX_ATTEMPTS_LIMIT })).or(defaults::MAX_ATTEMPTS as f64),
    spec("maxRetries", &["retries"], Kind::Count(Counted { min: 0, max: MAX_ATTEMPTS_LIMIT - 1 })),
    spec("maxElapsed", &["maxElapsedTime", "totalTimeout", "maxDuration", "deadline"], Kind::Duration { zero: false }),
    spec("maxRetryAfter", &["maxServerDelay", "retryAfterCap"], Kind::Duration { zero: true }).or(defaults::MAX_RETRY_AFTER_MS),
    spec("retryableErrors", &["retryOn", "retryableStatuses"], Kind::StringsOrCallback),
    // Kept by the shells: a returned value it answers true for is a failure, retried. No
    // aliases: a shell reads a callback by its one name, so another spelling would be ignored.
    spec("retryOnResult", &[], Kind::Callback),
    // Kept by the shells; checked here so that a typo or a wrong type is caught once.
    spec("onRetry", &[], Kind::Callback),
    spec("onGiveUp", &[], Kind::Callback),
    spec("signal", &[], Kind::Host("an AbortSignal")),
    spec("budget", &[], Kind::Host("a RetryBudget")),
    spec("circuitBreaker", &[], Kind::Host("a CircuitBreaker")),
    spec("name", &[], Kind::Text),
    spec("retryNonIdempotent", &["retryUnsafeMethods"], Kind::Bool),
];

/// Every option a retry policy understands: its own and its backoff's.
pub const RETRY_OPTIONS: &[&[OptionSpec]] = &[OWN_OPTIONS, BACKOFF_OPTIONS];

impl RetryConfig {
    /// Reads a retry policy from options. `maxAttempts` counts calls; `maxRetries` counts
    /// retries (`maxAttempts = maxRetries + 1`); giving both requires them to agree.
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, RETRY_OPTIONS, "a retry policy", unit)?;
        Self::from_reader(&r)
    }

    pub(crate) fn from_reader(r: &OptionReader<'_>) -> Result<Self> {
        let attempts = r.count("maxAttempts");
        let retries = r.count("maxRetries");
        let max_attempts = match (attempts, retries) {
            (Some(a), Some(n)) if a != n + 1 => {
                return Err(SeawallError::out_of_range(
                    r.spelling("maxRetries"),
                    fmt_num(n as f64),
                    &format!("{} (maxAttempts {a} means {} retries)", a - 1, a - 1),
                ))
            }
            (Some(a), _) => a,
            (None, Some(n)) => n + 1,
            (None, None) => defaults::MAX_ATTEMPTS,
        };
        let retryable = match r.strings_or_callback("retryableErrors") {
            Some(StringsOrCallback::Strings(list)) => Some(list),
            _ => None,
        };
        let cfg = RetryConfig {
            max_attempts,
            backoff: BackoffConfig::from_reader(r)?,
            max_elapsed_ms: r.duration("maxElapsed"),
            max_retry_after_ms: r.duration("maxRetryAfter").unwrap_or(defaults::MAX_RETRY_AFTER_MS),
            retryable,
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        let value = |opt: &'static str, x: f64| check_value(OWN_OPTIONS, opt, sp, x);
        value("maxAttempts", f64::from(self.max_attempts))?;
        if let Some(e) = self.max_elapsed_ms {
            value("maxElapsed", e)?;
        }
        value("maxRetryAfter", self.max_retry_after_ms)?;
        self.backoff.check(sp)
    }

    /// Whether an error with these identifiers (code, name, status as text, …) is in the
    /// retryable list; `true` when the policy has no list.
    pub fn is_retryable(&self, ids: &[&str]) -> bool {
        match &self.retryable {
            None => true,
            Some(list) => ids.iter().any(|id| list.iter().any(|r| r == id)),
        }
    }
}

/// How the shell classified a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FailureClass {
    Retryable,
    NotRetryable,
    /// Throttled (HTTP 429, or 503 with Retry-After); the server's delay, if it gave one.
    RateLimited { retry_after_ms: Option<f64> },
}

/// Why a retry loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    NotRetryable,
    AttemptsExhausted,
    DeadlineExceeded,
    BudgetExhausted,
    RetryAfterTooLong,
}

impl GiveUpReason {
    pub fn as_str(self) -> &'static str {
        match self {
            GiveUpReason::NotRetryable => "NOT_RETRYABLE",
            GiveUpReason::AttemptsExhausted => "ATTEMPTS_EXHAUSTED",
            GiveUpReason::DeadlineExceeded => "DEADLINE_EXCEEDED",
            GiveUpReason::BudgetExhausted => "BUDGET_EXHAUSTED",
            GiveUpReason::RetryAfterTooLong => "RETRY_AFTER_TOO_LONG",
        }
    }

    /// The error code a shell uses when it wraps the last failure (most shells rethrow the
    /// last error itself and attach this).
    pub fn code(self) -> ErrorCode {
        match self {
            GiveUpReason::BudgetExhausted => ErrorCode::RetryBudgetExhausted,
            _ => ErrorCode::RetriesExhausted,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryDecision {
    /// Sleep `delay_ms`, then make attempt number `attempt`.
    Retry { attempt: u32, delay_ms: f64, from_server: bool },
    /// Stop after `attempts` calls.
    GiveUp { reason: GiveUpReason, attempts: u32 },
}

/// One call's retry progress.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryState {
    attempt: u32,
    started_at: f64,
    backoff: Backoff,
}

impl RetryState {
    /// Called before the first attempt.
    pub fn start(config: &RetryConfig, now: f64) -> Self {
        RetryState { attempt: 1, started_at: now, backoff: Backoff::new(config.backoff) }
    }

    /// The number of the attempt running now (1 for the first call).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn started_at(&self) -> f64 {
        self.started_at
    }

    /// Decides what follows a failed attempt. The checks run in a fixed order (class, attempts,
    /// delay, Retry-After cap, deadline, budget) so that every runner draws the same random
    /// numbers; a budget token is taken only when the answer is `Retry`.
    pub fn on_failure(
        &mut self,
        config: &RetryConfig,
        now: f64,
        class: FailureClass,
        rng: &mut SeededRng,
        budget: Option<&mut RetryBudget>,
    ) -> RetryDecision {
        let give_up = |reason, attempts| RetryDecision::GiveUp { reason, attempts };
        if class == FailureClass::NotRetryable {
            return give_up(GiveUpReason::NotRetryable, self.attempt);
        }
        if self.attempt >= config.max_attempts {
            return give_up(GiveUpReason::AttemptsExhausted, self.attempt);
        }
        let server = match class {
            FailureClass::RateLimited { retry_after_ms: Some(d) } if d.is_finite() && d >= 0.0 => Some(d),
            _ => None,
        };
        let delay = match server {
            Some(d) if d > config.max_retry_after_ms => {
                return give_up(GiveUpReason::RetryAfterTooLong, self.attempt);
            }
            Some(d) => d,
            None => self.backoff.next_delay(self.attempt, rng),
        };
        if let Some(limit) = config.max_elapsed_ms {
            // NaN (a broken clock reading) compares false and so never gives up on its own.
            if now - self.started_at + delay > limit {
                return give_up(GiveUpReason::DeadlineExceeded, self.attempt);
            }
        }
        if let Some(b) = budget {
            if !b.try_withdraw(now) {
                return give_up(GiveUpReason::BudgetExhausted, self.attempt);
            }
        }
        self.attempt += 1;
        RetryDecision::Retry { attempt: self.attempt, delay_ms: delay, from_server: server.is_some() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::{BackoffKind, Jitter};
    use crate::budget::BudgetConfig;
    use crate::options::OptionValue;

    fn plain(attempts: u32) -> RetryConfig {
        RetryConfig {
            max_attempts: attempts,
            backoff: BackoffConfig { kind: BackoffKind::Exponential { multiplier: 2.0 }, base_ms: 100.0, max_ms: 1000.0, jitter: Jitter::None },
            ..Default::default()
        }
    }

    #[test]
    fn retries_until_attempts_run_out() {
        let cfg = plain(3);
        let mut rng = SeededRng::new(0);
        let mut s = RetryState::start(&cfg, 0.0);
        assert_eq!(s.on_failure(&cfg, 0.0, FailureClass::Retryable, &mut rng, None), RetryDecision::Retry { attempt: 2, delay_ms: 100.0, from_server: false });
        assert_eq!(s.on_failure(&cfg, 100.0, FailureClass::Retryable, &mut rng, None), RetryDecision::Retry { attempt: 3, delay_ms: 200.0, from_server: false });
        assert_eq!(s.on_failure(&cfg, 300.0, FailureClass::Retryable, &mut rng, None), RetryDecision::GiveUp { reason: GiveUpReason::AttemptsExhausted, attempts: 3 });
    }

    #[test]
    fn server_delay_honoured_capped_and_deadline_checked() {
        let mut cfg = plain(5);
        cfg.max_retry_after_ms = 5000.0;
        cfg.max_elapsed_ms = Some(3000.0);
        let mut rng = SeededRng::new(0);
        let mut s = RetryState::start(&cfg, 0.0);
        let rl = |d| FailureClass::RateLimited { retry_after_ms: Some(d) };
        assert_eq!(s.on_failure(&cfg, 0.0, rl(2000.0), &mut rng, None), RetryDecision::Retry { attempt: 2, delay_ms: 2000.0, from_server: true });
        assert_eq!(s.on_failure(&cfg, 2000.0, rl(6000.0), &mut rng, None), RetryDecision::GiveUp { reason: GiveUpReason::RetryAfterTooLong, attempts: 2 });
        assert_eq!(s.on_failure(&cfg, 2000.0, rl(1500.0), &mut rng, None), RetryDecision::GiveUp { reason: GiveUpReason::DeadlineExceeded, attempts: 2 });
        assert_eq!(s.on_failure(&cfg, 2000.0, FailureClass::NotRetryable, &mut rng, None), RetryDecision::GiveUp { reason: GiveUpReason::NotRetryable, attempts: 2 });
    }

    #[test]
    fn budget_refusal_takes_no_attempt() {
        let cfg = plain(10);
        let mut rng = SeededRng::new(0);
        let mut budget = RetryBudget::new(BudgetConfig { ratio: 0.1, min_retries_per_second: 0.0, max_tokens: 1.0, fleet: None }, 0.0);
        let mut s = RetryState::start(&cfg, 0.0);
        assert!(matches!(s.on_failure(&cfg, 0.0, FailureClass::Retryable, &mut rng, Some(&mut budget)), RetryDecision::Retry { attempt: 2, .. }));
        assert_eq!(s.on_failure(&cfg, 0.0, FailureClass::Retryable, &mut rng, Some(&mut budget)), RetryDecision::GiveUp { reason: GiveUpReason::BudgetExhausted, attempts: 2 });
    }

    #[test]
    fn attempts_and_retries_spellings() {
        let o = |pairs: &[(&str, f64)]| -> Options { pairs.iter().map(|(k, v)| (k.to_string(), OptionValue::Number(*v))).collect() };
        assert_eq!(RetryConfig::from_options(&o(&[("maxRetries", 3.0)]), TimeUnit::Millis).unwrap().max_attempts, 4);
        assert_eq!(RetryConfig::from_options(&o(&[("max_attempts", 3.0)]), TimeUnit::Seconds).unwrap().max_attempts, 3);
        assert!(RetryConfig::from_options(&o(&[("maxAttempts", 3.0), ("maxRetries", 2.0)]), TimeUnit::Millis).is_ok());
        let e = RetryConfig::from_options(&o(&[("maxAttempts", 3.0), ("maxRetries", 3.0)]), TimeUnit::Millis).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("maxRetries"));
        let e = RetryConfig::from_options(&o(&[("baseDelay", 1000.0), ("maxDelay", 10.0)]), TimeUnit::Millis).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("maxDelay"));
        let c = RetryConfig::from_options(&o(&[("base_delay", 0.5), ("max_delay", 4.0)]), TimeUnit::Seconds).unwrap();
        assert_eq!((c.backoff.base_ms, c.backoff.max_ms), (500.0, 4000.0));
    }

    #[test]
    fn retryable_lists_match_any_identifier() {
        let mut cfg = plain(3);
        assert!(cfg.is_retryable(&["anything"]));
        cfg.retryable = Some(vec!["TIMEOUT".into(), "503".into()]);
        assert!(cfg.is_retryable(&["Error", "503"]));
        assert!(!cfg.is_retryable(&["Error", "404"]));
    }

    #[test]
    fn retries_that_disagree_with_attempts_name_the_retries_the_attempts_mean() {
        let o = |pairs: &[(&str, f64)]| -> Options { pairs.iter().map(|(k, v)| (k.to_string(), OptionValue::Number(*v))).collect() };
        assert_eq!(RetryConfig::from_options(&o(&[("maxAttempts", 1.0), ("maxRetries", 0.0)]), TimeUnit::Millis).unwrap().max_attempts, 1);
        let e = RetryConfig::from_options(&o(&[("maxAttempts", 4.0), ("max_retries", 1.0)]), TimeUnit::Millis).unwrap_err();
        assert_eq!(e.message, "invalid option max_retries: expected 3 (maxAttempts 4 means 3 retries), got 1");
        assert_eq!(RetryConfig::from_options(&o(&[]), TimeUnit::Millis).unwrap().max_attempts, defaults::MAX_ATTEMPTS);
        // Retries are bounded so that attempts (retries + 1) stay within their own limit.
        let most = (MAX_ATTEMPTS_LIMIT - 1) as f64;
        assert_eq!(RetryConfig::from_options(&o(&[("maxRetries", most)]), TimeUnit::Millis).unwrap().max_attempts, MAX_ATTEMPTS_LIMIT);
        let e = RetryConfig::from_options(&o(&[("maxRetries", most + 1.0)]), TimeUnit::Millis).unwrap_err();
        assert_eq!(e.message, "invalid option maxRetries: expected a whole number from 0 to 999999, got 1000000");
    }

    #[test]
    fn the_config_check_refuses_what_options_cannot_say() {
        let ok = |c: &RetryConfig| c.check(&Spelling::canonical()).map_err(|e| e.option.clone().unwrap_or_default());
        let with = |f: &dyn Fn(&mut RetryConfig)| {
            let mut c = plain(3);
            f(&mut c);
            c
        };
        assert_eq!(ok(&plain(3)), Ok(()));
        assert_eq!(ok(&plain(MAX_ATTEMPTS_LIMIT)), Ok(()));
        assert_eq!(ok(&plain(0)), Err("maxAttempts".into()));
        assert_eq!(ok(&plain(MAX_ATTEMPTS_LIMIT + 1)), Err("maxAttempts".into()));
        assert_eq!(ok(&with(&|c| c.max_elapsed_ms = Some(1.0))), Ok(()));
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            assert_eq!(ok(&with(&|c| c.max_elapsed_ms = Some(bad))), Err("maxElapsed".into()), "{bad}");
        }
        assert_eq!(ok(&with(&|c| c.max_retry_after_ms = 0.0)), Ok(()));
        for bad in [-1.0, f64::INFINITY, f64::NAN] {
            assert_eq!(ok(&with(&|c| c.max_retry_after_ms = bad)), Err("maxRetryAfter".into()), "{bad}");
        }
        assert_eq!(ok(&with(&|c| c.backoff.max_ms = 10.0)), Err("maxDelay".into()), "the backoff is checked too");
    }

    #[test]
    fn server_delays_at_the_limits() {
        let mut cfg = plain(5);
        cfg.max_retry_after_ms = 1000.0;
        cfg.max_elapsed_ms = Some(1500.0);
        let mut rng = SeededRng::new(0);
        let mut s = RetryState::start(&cfg, 100.0);
        assert_eq!(s.started_at(), 100.0);
        let rl = |d| FailureClass::RateLimited { retry_after_ms: Some(d) };
        // A zero delay is the server's; a delay equal to the cap is taken, and so is a wait
        // that ends exactly at the deadline.
        assert_eq!(s.on_failure(&cfg, 100.0, rl(0.0), &mut rng, None), RetryDecision::Retry { attempt: 2, delay_ms: 0.0, from_server: true });
        assert_eq!(s.on_failure(&cfg, 600.0, rl(1000.0), &mut rng, None), RetryDecision::Retry { attempt: 3, delay_ms: 1000.0, from_server: true });
        // Garbage from the server (negative, infinite, NaN, none) falls back to the backoff.
        for d in [-5.0, f64::INFINITY, f64::NAN] {
            let mut s = RetryState::start(&cfg, 0.0);
            assert_eq!(s.on_failure(&cfg, 0.0, rl(d), &mut rng, None), RetryDecision::Retry { attempt: 2, delay_ms: 100.0, from_server: false }, "{d}");
        }
        let mut s = RetryState::start(&cfg, 0.0);
        assert_eq!(s.on_failure(&cfg, 0.0, FailureClass::RateLimited { retry_after_ms: None }, &mut rng, None), RetryDecision::Retry { attempt: 2, delay_ms: 100.0, from_server: false });
        assert_eq!(s.on_failure(&cfg, 1000.0, rl(1000.0), &mut rng, None), RetryDecision::GiveUp { reason: GiveUpReason::DeadlineExceeded, attempts: 2 });
        assert_eq!(s.on_failure(&cfg, 500.0, rl(1000.0), &mut rng, None), RetryDecision::Retry { attempt: 3, delay_ms: 1000.0, from_server: true });
    }
}
