//! Every default Seawall uses, defined once. The options' rows (`OptionSpec::or`) carry them and
//! [`table`] reads them from there for `defaults()` and the README's check; machines built in
//! code fall back on the same constants.
//!
//! Durations are milliseconds.

/// Total calls a retrying operation may make (the first call plus two retries).
pub const MAX_ATTEMPTS: u32 = 3;
/// Delay before the first retry.
pub const BASE_DELAY_MS: f64 = 500.0;
/// Cap on any single backoff delay.
pub const MAX_DELAY_MS: f64 = 4_000.0;
/// Growth factor of exponential backoff.
pub const BACKOFF_MULTIPLIER: f64 = 2.0;
/// Proportional jitter: each delay moves by up to ±10%.
pub const JITTER_FACTOR: f64 = 0.1;
/// Additive jitter (`jitter: "additive"` without `jitterMax`): up to a second added to each delay.
pub const JITTER_MAX_MS: f64 = 1_000.0;
/// Longest server-requested delay (Retry-After) a retry will honour before giving up.
pub const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

/// Consecutive failures that open a closed breaker.
pub const FAILURE_THRESHOLD: u32 = 5;
/// How long a breaker stays open before it lets a probe through.
pub const RESET_TIMEOUT_MS: f64 = 30_000.0;
/// Probes allowed at once while half-open.
pub const HALF_OPEN_MAX_CALLS: u32 = 3;
/// Successful probes needed to close a half-open breaker.
pub const SUCCESS_THRESHOLD: u32 = 1;
/// Calls a rate window must hold before failure or slow-call rates are judged.
pub const VOLUME_THRESHOLD: u32 = 10;
/// Length of the time-based window that rates are computed over.
pub const WINDOW_DURATION_MS: f64 = 60_000.0;
/// Buckets in the time-based window (each `WINDOW_DURATION_MS / WINDOW_BUCKETS` long).
pub const WINDOW_BUCKETS: u32 = 10;
/// Growth of the open duration after each failed probe (1 = no growth).
pub const RESET_BACKOFF_MULTIPLIER: f64 = 1.0;
/// Cap on the open duration when it grows; never below the breaker's own reset timeout.
pub const MAX_RESET_TIMEOUT_MS: f64 = 600_000.0;

/// Slots of a bulkhead.
pub const BULKHEAD_MAX_CONCURRENT: u32 = 10;
/// Queue places of a bulkhead (0: reject as soon as every slot is busy).
pub const BULKHEAD_MAX_QUEUE: u32 = 0;

/// Tokens a success deposits into a retry budget (20%: at most one retry per five successes).
pub const BUDGET_RATIO: f64 = 0.2;
/// Tokens per second a retry budget earns with no traffic at all, so a quiet client can retry.
pub const BUDGET_MIN_RETRIES_PER_SECOND: f64 = 1.0;
/// Most tokens a retry budget holds (also its starting balance).
pub const BUDGET_MAX_TOKENS: f64 = 10.0;

/// Hedged attempts at most, the first included (Polly's one hedged action).
pub const HEDGE_MAX_ATTEMPTS: u32 = 2;
/// Wait before the next hedged attempt (Polly's default).
pub const HEDGE_DELAY_MS: f64 = 2_000.0;
/// The recent latencies a percentile delay is taken from (Finagle's window).
pub const HEDGE_WINDOW_MS: f64 = 30_000.0;
/// Hedging's throttle (gRPC's retry throttling): tokens, and what a good call gives back.
pub const HEDGE_THROTTLE_MAX_TOKENS: f64 = 10.0;
pub const HEDGE_THROTTLE_TOKEN_RATIO: f64 = 0.1;

/// The period a rate limiter's `limit` counts over when `per` is not given.
pub const RATE_LIMIT_PER_MS: f64 = 1_000.0;
/// How long a call may wait for a rate limiter's place (0: refused at once when none is free).
pub const RATE_LIMIT_MAX_WAIT_MS: f64 = 0.0;

/// Replicas that must see failures before a fleet's breaker opens (one sick replica alone never
/// opens the others').
pub const FLEET_MIN_REPLICAS: u32 = 2;
/// How often each replica of a fleet syncs with the shared store.
pub const FLEET_SYNC_INTERVAL_MS: f64 = 250.0;
/// Sync intervals after which a replica's report counts as gone.
pub const FLEET_STALE_SYNCS: f64 = 4.0;

/// Largest number of probes or bulkhead slots one machine tracks (permit slots are 20 bits).
pub const MAX_SLOTS: u32 = (1 << 20) - 2;

/// Every option that has a default, as (canonical name, value) pairs, for bindings and docs:
/// read from the options' own rows, the ones their configs read and check.
pub fn table() -> Vec<(&'static str, f64)> {
    use crate::{breaker, budget, bulkhead, fleet, ratelimit, retry};
    let others: [&[crate::options::OptionSpec]; 5] =
        [breaker::BREAKER_OPTIONS, bulkhead::BULKHEAD_OPTIONS, budget::BUDGET_OPTIONS, ratelimit::RATE_LIMIT_OPTIONS, fleet::FLEET_OPTIONS];
    let mut out = Vec::new();
    for spec in retry::RETRY_OPTIONS.iter().chain(others.iter()).flat_map(|t| t.iter()) {
        if let Some(v) = spec.default {
            out.push((spec.canonical, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::options::{OptionSpec, OptionValue, Options, TimeUnit};
    use crate::{breaker, budget, bulkhead, fleet, ratelimit, retry};

    /// Each table with the options it needs besides (a limit, a store) and its config, read.
    type Reads = fn(&Options, TimeUnit) -> String;

    fn with(base: &[(&str, OptionValue)], extra: &Options) -> Options {
        let mut o: Options = base.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        o.extend(extra.iter().cloned());
        o
    }

    /// A row's default is what its config reads when the option is not given: giving the
    /// default explicitly changes nothing, in either unit.
    #[test]
    fn every_rows_default_is_what_its_config_falls_back_on() {
        let tables: [(&[OptionSpec], Reads); 7] = [
            (retry::RETRY_OPTIONS[0], |o, u| format!("{:?}", retry::RetryConfig::from_options(o, u))),
            (retry::RETRY_OPTIONS[1], |o, u| format!("{:?}", retry::RetryConfig::from_options(o, u))),
            (breaker::BREAKER_OPTIONS, |o, u| format!("{:?}", breaker::BreakerConfig::from_options(o, u))),
            (bulkhead::BULKHEAD_OPTIONS, |o, u| format!("{:?}", bulkhead::BulkheadConfig::from_options(o, u))),
            (budget::BUDGET_OPTIONS, |o, u| format!("{:?}", budget::BudgetConfig::from_options(o, u))),
            (ratelimit::RATE_LIMIT_OPTIONS, |o, u| format!("{:?}", ratelimit::RateLimitConfig::from_options(&with(&[("limit", OptionValue::Number(5.0))], o), u))),
            (fleet::FLEET_OPTIONS, |o, u| format!("{:?}", fleet::FleetConfig::from_options(&with(&[("redis", OptionValue::Opaque)], o), u))),
        ];
        // A hedging policy's and an adaptive limit's rows: their defaults are their own (a
        // hedge's `maxAttempts` is not a retry's), so they are not in the shared table.
        let hedge: [(&[OptionSpec], Reads); 3] = [
            (crate::adaptive::ADAPTIVE_OPTIONS, |o, u| format!("{:?}", crate::adaptive::AdaptiveConfig::from_options(o, u))),
            (crate::hedge::HEDGE_OPTIONS, |o, u| format!("{:?}", crate::hedge::HedgeConfig::from_options(o, u))),
            (crate::hedge::THROTTLE_OPTIONS, |o, u| format!("{:?}", crate::hedge::HedgeConfig::from_options(&with(&[], &vec![("throttle".to_string(), OptionValue::Map(o.clone()))]), u))),
        ];
        let mut seen = 0;
        let mut hedge_rows = 0;
        for (i, (table, read)) in tables.into_iter().chain(hedge).enumerate() {
            for spec in table {
                let Some(d) = spec.default else { continue };
                for unit in [TimeUnit::Millis, TimeUnit::Seconds] {
                    let given = match (spec.kind, unit) {
                        (crate::options::Kind::Duration { .. }, TimeUnit::Seconds) => d / 1000.0,
                        _ => d,
                    };
                    // Additive jitter's size is its default only where additive jitter is asked
                    // for (given alone, `jitterMax` asks for it).
                    let context = match spec.canonical {
                        "jitterMax" => vec![("jitter".to_string(), OptionValue::Str("additive".into()))],
                        _ => Vec::new(),
                    };
                    let explicit = read(&with(&[(spec.canonical, OptionValue::Number(given))], &context), unit);
                    assert!(explicit.starts_with("Ok("), "{}: {explicit}", spec.canonical);
                    assert_eq!(explicit, read(&context, unit), "{}", spec.canonical);
                }
                if i < 7 {
                    seen += 1;
                } else {
                    hedge_rows += 1;
                }
            }
        }
        assert_eq!(seen, super::table().len(), "every default in the table is a row's");
        assert_eq!(hedge_rows, 16, "a hedging policy's defaults (maxAttempts, delay, window, throttle's two) and an adaptive limit's eleven");
    }

    /// An option the shells keep (a callback, a host object) has one name: a shell reads it by
    /// that name, so an alias the core accepted would be silently ignored.
    #[test]
    fn options_the_shells_keep_have_no_aliases() {
        use crate::options::Kind;
        let tables: [&[OptionSpec]; 12] = [
            crate::adaptive::ADAPTIVE_OPTIONS,
            crate::hedge::HEDGE_OPTIONS,
            crate::hedge::THROTTLE_OPTIONS,
            retry::RETRY_OPTIONS[0],
            retry::RETRY_OPTIONS[1],
            breaker::BREAKER_OPTIONS,
            bulkhead::BULKHEAD_OPTIONS,
            budget::BUDGET_OPTIONS,
            ratelimit::RATE_LIMIT_OPTIONS,
            fleet::FLEET_OPTIONS,
            crate::timeout::TIMEOUT_OPTIONS,
            crate::presets::POLICY_OPTIONS,
        ];
        for spec in tables.iter().flat_map(|t| t.iter()) {
            if matches!(spec.kind, Kind::Callback | Kind::Host(_)) {
                assert!(spec.aliases.is_empty(), "{} has aliases {:?}", spec.canonical, spec.aliases);
            }
        }
    }
}
