//! Ready-made policies from the seeds, as options (so shells can hand them to users as plain
//! objects that can be spread and edited, e.g. `{ ...ResiliencePolicies.api(), fallback }`),
//! and [`PolicyConfig`], the checked form of a combined policy.
//!
//! Presets are written in canonical names and milliseconds; [`Style`] renders them in a
//! binding's spelling (snake_case keys, seconds for Python).

use crate::breaker::BreakerConfig;
use crate::bulkhead::BulkheadConfig;
use crate::error::Result;
use crate::options::{nested, spec, Kind, OptionReader, OptionSpec, OptionValue, Options, TimeUnit};
use crate::retry::RetryConfig;
use crate::timeout::TimeoutConfig;

/// How a binding spells options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub unit: TimeUnit,
    pub snake_case: bool,
}

impl Style {
    pub const JS: Style = Style { unit: TimeUnit::Millis, snake_case: false };
    pub const PYTHON: Style = Style { unit: TimeUnit::Seconds, snake_case: true };

    fn key(self, canonical: &str) -> String {
        if !self.snake_case {
            return canonical.to_string();
        }
        let mut out = String::with_capacity(canonical.len() + 4);
        for c in canonical.chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Builds one options object in a style.
struct Builder {
    style: Style,
    out: Options,
}

impl Builder {
    fn new(style: Style) -> Self {
        Builder { style, out: Vec::new() }
    }
    fn num(mut self, k: &str, v: f64) -> Self {
        self.out.push((self.style.key(k), OptionValue::Number(v)));
        self
    }
    fn dur(mut self, k: &str, ms: f64) -> Self {
        let v = match self.style.unit {
            TimeUnit::Millis => ms,
            TimeUnit::Seconds => ms / 1000.0,
        };
        self.out.push((self.style.key(k), OptionValue::Number(v)));
        self
    }
    fn word(mut self, k: &str, v: &str) -> Self {
        self.out.push((self.style.key(k), OptionValue::Str(v.to_string())));
        self
    }
    fn flag(mut self, k: &str, v: bool) -> Self {
        self.out.push((self.style.key(k), OptionValue::Bool(v)));
        self
    }
    fn list(mut self, k: &str, v: &[&str]) -> Self {
        let mut items = Vec::new();
        for s in v {
            items.push(OptionValue::Str(s.to_string()));
        }
        self.out.push((self.style.key(k), OptionValue::List(items)));
        self
    }
    fn map(mut self, k: &str, v: Options) -> Self {
        self.out.push((self.style.key(k), OptionValue::Map(v)));
        self
    }
    fn done(self) -> Options {
        self.out
    }
}

/// Error identifiers `RetryPolicies.network()` retries: Node/undici socket codes and the
/// generic codes the shells give network failures and timeouts.
pub const NETWORK_ERRORS: &[&str] = &[
    "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EPIPE",
    "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "NETWORK_ERROR", "TIMEOUT",
];

/// Error identifiers `RetryPolicies.apiRateLimit()` retries.
pub const RATE_LIMIT_ERRORS: &[&str] =
    &["429", "503", "RATE_LIMIT", "RATE_LIMITED", "TOO_MANY_REQUESTS", "RateLimitError"];

/// `RetryPolicies.fixed(n, delay)`: n attempts, a constant delay, no jitter.
pub fn retry_fixed(style: Style, attempts: f64, delay_ms: f64) -> Options {
    Builder::new(style).num("maxAttempts", attempts).word("backoff", "constant").dur("baseDelay", delay_ms).flag("jitter", false).done()
}

/// `RetryPolicies.exponential(n = 3, initial = 100 ms, max = 30 s)`, doubling, default jitter.
pub fn retry_exponential(style: Style, attempts: Option<f64>, initial_ms: Option<f64>, max_ms: Option<f64>) -> Options {
    Builder::new(style)
        .num("maxAttempts", attempts.unwrap_or(3.0))
        .word("backoff", "exponential")
        .dur("baseDelay", initial_ms.unwrap_or(100.0))
        .dur("maxDelay", max_ms.unwrap_or(30_000.0))
        .num("backoffMultiplier", 2.0)
        .flag("jitter", true)
        .done()
}

/// `RetryPolicies.apiRateLimit()`: 5 attempts, 1 s doubling to 60 s with full jitter, honours
/// Retry-After up to 2 minutes, retries only throttling errors.
pub fn retry_api_rate_limit(style: Style) -> Options {
    Builder::new(style)
        .num("maxAttempts", 5.0)
        .word("backoff", "exponential")
        .dur("baseDelay", 1000.0)
        .dur("maxDelay", 60_000.0)
        .num("backoffMultiplier", 2.0)
        .word("jitter", "full")
        .dur("maxRetryAfter", 120_000.0)
        .list("retryableErrors", RATE_LIMIT_ERRORS)
        .done()
}

/// `RetryPolicies.network()`: 3 attempts, 500 ms doubling to 10 s, retries network errors only.
pub fn retry_network(style: Style) -> Options {
    Builder::new(style)
        .num("maxAttempts", 3.0)
        .word("backoff", "exponential")
        .dur("baseDelay", 500.0)
        .dur("maxDelay", 10_000.0)
        .num("backoffMultiplier", 2.0)
        .flag("jitter", true)
        .list("retryableErrors", NETWORK_ERRORS)
        .done()
}

fn breaker(style: Style, failures: f64, reset_ms: f64) -> Options {
    Builder::new(style).num("failureThreshold", failures).dur("resetTimeout", reset_ms).done()
}

fn bulkhead(style: Style, concurrent: f64, queue: f64) -> Options {
    Builder::new(style).num("maxConcurrent", concurrent).num("maxQueueSize", queue).done()
}

/// The names of `ResiliencePolicies`.
pub const POLICY_NAMES: &[&str] = &["api", "ai", "database", "external", "critical"];

/// `ResiliencePolicies.<name>()` (api, ai, database, external, critical); `None` for an unknown name.
pub fn policy(style: Style, name: &str) -> Option<Options> {
    let b = Builder::new(style);
    let p = match name {
        "api" => b
            .map("circuitBreaker", breaker(style, 5.0, 60_000.0))
            .map("retry", retry_exponential(style, Some(3.0), None, None))
            .dur("timeout", 30_000.0)
            .map("bulkhead", bulkhead(style, 50.0, 100.0)),
        "ai" => {
            let mut retry = retry_api_rate_limit(style);
            retry[0].1 = OptionValue::Number(3.0);
            b.map("circuitBreaker", breaker(style, 3.0, 120_000.0))
                .map("retry", retry)
                .dur("timeout", 120_000.0)
                .map("bulkhead", bulkhead(style, 10.0, 50.0))
        }
        "database" => b
            .map("circuitBreaker", breaker(style, 10.0, 30_000.0))
            .map("retry", retry_exponential(style, Some(3.0), None, None))
            .dur("timeout", 30_000.0)
            .map("bulkhead", bulkhead(style, 100.0, 200.0)),
        "external" => b
            .map("circuitBreaker", breaker(style, 5.0, 60_000.0))
            .map("retry", retry_network(style))
            .dur("timeout", 15_000.0)
            .map("bulkhead", bulkhead(style, 20.0, 50.0)),
        "critical" => b
            .map("retry", retry_exponential(style, Some(5.0), None, None))
            .dur("timeout", 60_000.0)
            .map("bulkhead", bulkhead(style, 5.0, 10.0)),
        _ => return None,
    };
    Some(p.done())
}

/// The ready-made named circuits (openai, stripe, dataService): (name, failure threshold, reset timeout ms).
pub const NAMED_CIRCUITS: &[(&str, u32, f64)] =
    &[("openai", 3, 60_000.0), ("stripe", 3, 30_000.0), ("dataService", 5, 15_000.0)];

/// Breaker options of a named circuit (`openaiCircuit`, `stripe_circuit`, …).
pub fn named_circuit(style: Style, name: &str) -> Option<Options> {
    NAMED_CIRCUITS
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, failures, reset)| breaker(style, *failures as f64, *reset))
}

/// The order in which a combined policy wraps a call, outermost first. Fallback sees every
/// failure; the bulkhead bounds whole operations (retries do not take extra slots); retry
/// sits outside the breaker so that each attempt is one breaker call and an open breaker
/// stops the retries; the timeout bounds each attempt.
pub const WRAP_ORDER: &[&str] = &["fallback", "bulkhead", "retry", "circuitBreaker", "timeout"];

/// A combined policy (`resilienceManager.execute(name, fn, policy)`), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyConfig {
    pub circuit_breaker: Option<BreakerConfig>,
    pub retry: Option<RetryConfig>,
    pub timeout_ms: Option<f64>,
    pub bulkhead: Option<BulkheadConfig>,
    pub has_fallback: bool,
}

pub const POLICY_OPTIONS: &[OptionSpec] = &[
    spec("circuitBreaker", &["breaker", "circuit"], Kind::Part),
    spec("retry", &[], Kind::Part),
    // A duration, a timeout's options, or `false`.
    spec("timeout", &[], Kind::Custom),
    spec("bulkhead", &[], Kind::Part),
    spec("fallback", &[], Kind::Host("a function")),
    spec("name", &[], Kind::Text),
];

impl PolicyConfig {
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[POLICY_OPTIONS], "a resilience policy", unit)?;
        // `false` switches a part off (e.g. `circuitBreaker: false` on a preset): no map.
        let circuit_breaker = match r.map("circuitBreaker") {
            Some(m) => Some(nested(r.spelling("circuitBreaker"), BreakerConfig::from_options(m, unit))?),
            None => None,
        };
        let retry = match r.map("retry") {
            Some(m) => Some(nested(r.spelling("retry"), RetryConfig::from_options(m, unit))?),
            None => None,
        };
        let bulkhead = match r.map("bulkhead") {
            Some(m) => Some(nested(r.spelling("bulkhead"), BulkheadConfig::from_options(m, unit))?),
            None => None,
        };
        let timeout_ms = match r.get("timeout") {
            None | Some((_, OptionValue::Null | OptionValue::Bool(false))) => None,
            Some((_, OptionValue::Map(m))) => Some(nested(r.spelling("timeout"), TimeoutConfig::from_options(m, unit))?.timeout_ms),
            // A bare duration: read as a timeout's own option, under the caller's spelling.
            Some((k, v)) => Some(TimeoutConfig::from_options(&vec![(k.to_string(), v.clone())], unit)?.timeout_ms),
        };
        let has_fallback = r.given("fallback");
        Ok(PolicyConfig { circuit_breaker, retry, timeout_ms, bulkhead, has_fallback })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_in_both_styles() {
        for name in POLICY_NAMES {
            for style in [Style::JS, Style::PYTHON] {
                let p = PolicyConfig::from_options(&policy(style, name).unwrap(), style.unit).unwrap();
                assert!(p.retry.is_some() && p.bulkhead.is_some() && p.timeout_ms.is_some(), "{name}");
                assert_eq!(p.circuit_breaker.is_none(), *name == "critical");
            }
        }
        let api = PolicyConfig::from_options(&policy(Style::PYTHON, "api").unwrap(), TimeUnit::Seconds).unwrap();
        assert_eq!(api.circuit_breaker.unwrap().reset_timeout_ms, 60_000.0);
        assert_eq!(api.timeout_ms, Some(30_000.0));
        let ai = PolicyConfig::from_options(&policy(Style::JS, "ai").unwrap(), TimeUnit::Millis).unwrap();
        assert_eq!(ai.retry.unwrap().max_attempts, 3);
        assert!(policy(Style::JS, "nope").is_none());
    }

    #[test]
    fn snake_case_keys() {
        let o = named_circuit(Style::PYTHON, "dataservice").unwrap();
        assert_eq!(o[1], ("reset_timeout".to_string(), OptionValue::Number(15.0)));
        let c = BreakerConfig::from_options(&named_circuit(Style::JS, "openai").unwrap(), TimeUnit::Millis).unwrap();
        assert_eq!((c.failure_threshold, c.reset_timeout_ms), (Some(3), 60_000.0));
    }

    #[test]
    fn nested_errors_name_the_path() {
        let o = vec![("retry".to_string(), OptionValue::Map(vec![("maxAttempts".into(), OptionValue::Number(0.0))]))];
        let e = PolicyConfig::from_options(&o, TimeUnit::Millis).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("retry.maxAttempts"));
        assert!(e.message.contains("retry.maxAttempts"), "{}", e.message);
    }

    #[test]
    fn retry_presets_match_seed_003() {
        let f = RetryConfig::from_options(&retry_fixed(Style::JS, 3.0, 1000.0), TimeUnit::Millis).unwrap();
        assert_eq!((f.max_attempts, f.backoff.scheduled(5)), (3, 1000.0));
        let e = RetryConfig::from_options(&retry_exponential(Style::JS, Some(5.0), Some(100.0), Some(30_000.0)), TimeUnit::Millis).unwrap();
        assert_eq!((e.max_attempts, e.backoff.scheduled(1), e.backoff.scheduled(20)), (5, 100.0, 30_000.0));
        let n = RetryConfig::from_options(&retry_network(Style::JS), TimeUnit::Millis).unwrap();
        assert!(n.is_retryable(&["ECONNRESET"]) && !n.is_retryable(&["400"]));
    }
}
