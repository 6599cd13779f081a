//! A retry budget: a token bucket shared by every call of a client, so that retries cannot
//! multiply load during an outage (gRPC retry throttling, Finagle's RetryBudget).
//!
//! Successes deposit `ratio` tokens, each retry withdraws one, and the bucket also earns
//! `min_retries_per_second` tokens per second of time passing, capped at `max_tokens` (which is
//! also the starting balance). With no successes, retries are limited to the starting balance
//! plus the trickle; in steady state, to about `ratio` retries per success.
//!
//! Driver call order: `record_success(now)` after each successful call; `try_withdraw(now)`
//! before each retry, and skip the retry when it answers `false`.

use crate::clock::Latest;
use crate::defaults;
use crate::error::{fmt_num, Result, SeawallError};
use crate::options::{spec, OptionReader, OptionSpec, Options, Spelling, TimeUnit};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    pub ratio: f64,
    pub min_retries_per_second: f64,
    pub max_tokens: f64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            ratio: defaults::BUDGET_RATIO,
            min_retries_per_second: defaults::BUDGET_MIN_RETRIES_PER_SECOND,
            max_tokens: defaults::BUDGET_MAX_TOKENS,
        }
    }
}

pub const BUDGET_OPTIONS: &[OptionSpec] = &[
    spec("ratio", &["budgetRatio", "percentCanRetry", "tokenRatio"]),
    spec("minRetriesPerSecond", &["minRetriesPerSec"]),
    spec("maxTokens", &["capacity"]),
];

impl BudgetConfig {
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, BUDGET_OPTIONS, "a retry budget", unit)?;
        let d = BudgetConfig::default();
        let cfg = BudgetConfig {
            ratio: r.number_in("ratio", "a number from 0 to 1000", |x| (0.0..=1000.0).contains(&x))?.unwrap_or(d.ratio),
            min_retries_per_second: r
                .number_in("minRetriesPerSecond", "a finite number ≥ 0", |x| x >= 0.0)?
                .unwrap_or(d.min_retries_per_second),
            max_tokens: r.number_in("maxTokens", "a finite number ≥ 1", |x| x >= 1.0)?.unwrap_or(d.max_tokens),
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        if !(self.ratio.is_finite() && (0.0..=1000.0).contains(&self.ratio)) {
            return Err(SeawallError::out_of_range(&sp.name("ratio"), fmt_num(self.ratio), "a number from 0 to 1000"));
        }
        if !(self.min_retries_per_second.is_finite() && self.min_retries_per_second >= 0.0) {
            return Err(SeawallError::out_of_range(&sp.name("minRetriesPerSecond"), fmt_num(self.min_retries_per_second), "a finite number ≥ 0"));
        }
        if !(self.max_tokens.is_finite() && self.max_tokens >= 1.0) {
            return Err(SeawallError::out_of_range(&sp.name("maxTokens"), fmt_num(self.max_tokens), "a finite number ≥ 1"));
        }
        Ok(())
    }
}

/// The bucket. Time is monotonic milliseconds; an earlier `now` than seen before counts as no
/// time passing.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryBudget {
    config: BudgetConfig,
    tokens: f64,
    /// The time of the last refill.
    last: Latest,
    withdrawn: u64,
    refused: u64,
}

impl RetryBudget {
    /// A full bucket at time `now`.
    pub fn new(config: BudgetConfig, now: f64) -> Self {
        let mut last = Latest::start();
        last.tick(now);
        RetryBudget { config, tokens: config.max_tokens, last, withdrawn: 0, refused: 0 }
    }

    fn refill(&mut self, now: f64) {
        let before = self.last.get();
        let now = self.last.tick(now);
        if now > before {
            let earned = (now - before) / 1000.0 * self.config.min_retries_per_second;
            self.tokens = (self.tokens + earned).min(self.config.max_tokens);
        }
    }

    pub fn record_success(&mut self, now: f64) {
        self.refill(now);
        self.tokens = (self.tokens + self.config.ratio).min(self.config.max_tokens);
    }

    /// Takes one token for a retry; `false` (and nothing taken) when fewer than one is left.
    pub fn try_withdraw(&mut self, now: f64) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.withdrawn += 1;
            true
        } else {
            self.refused += 1;
            false
        }
    }

    pub fn tokens(&mut self, now: f64) -> f64 {
        self.refill(now);
        self.tokens
    }

    pub fn withdrawn(&self) -> u64 {
        self.withdrawn
    }

    pub fn refused(&self) -> u64 {
        self.refused
    }

    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhausts_then_refills_by_successes_and_time() {
        let cfg = BudgetConfig { ratio: 0.5, min_retries_per_second: 1.0, max_tokens: 2.0 };
        let mut b = RetryBudget::new(cfg, 0.0);
        assert!(b.try_withdraw(0.0));
        assert!(b.try_withdraw(0.0));
        assert!(!b.try_withdraw(0.0));
        b.record_success(0.0);
        assert!(!b.try_withdraw(0.0), "half a token is not enough");
        b.record_success(0.0);
        assert!(b.try_withdraw(0.0));
        assert!(!b.try_withdraw(500.0));
        assert!(b.try_withdraw(1000.0), "a second of time earns one token");
        assert!(b.tokens(1_000_000.0) <= 2.0);
        assert_eq!((b.withdrawn(), b.refused()), (4, 3));
    }

    #[test]
    fn time_earns_tokens_at_the_configured_rate_from_the_last_reading() {
        let cfg = BudgetConfig { ratio: 0.0, min_retries_per_second: 10.0, max_tokens: 100.0 };
        let mut b = RetryBudget::new(cfg, 5000.0);
        while b.try_withdraw(5000.0) {}
        assert_eq!(b.tokens(5500.0), 5.0);
        assert_eq!(b.config(), &cfg);
    }

    #[test]
    fn config_checks_hold_at_their_bounds() {
        let id = Spelling::canonical();
        let ok = |c: BudgetConfig| c.check(&id).is_ok();
        let base = BudgetConfig { ratio: 0.1, min_retries_per_second: 1.0, max_tokens: 10.0 };
        assert!(ok(base));
        assert!(ok(BudgetConfig { ratio: 1000.0, ..base }) && ok(BudgetConfig { ratio: 0.0, ..base }));
        assert!(!ok(BudgetConfig { ratio: 1000.5, ..base }) && !ok(BudgetConfig { ratio: -0.1, ..base }) && !ok(BudgetConfig { ratio: f64::NAN, ..base }));
        assert!(ok(BudgetConfig { min_retries_per_second: 0.0, ..base }));
        assert!(!ok(BudgetConfig { min_retries_per_second: -1.0, ..base }) && !ok(BudgetConfig { min_retries_per_second: f64::INFINITY, ..base }));
        assert!(ok(BudgetConfig { max_tokens: 1.0, ..base }));
        assert!(!ok(BudgetConfig { max_tokens: 0.5, ..base }) && !ok(BudgetConfig { max_tokens: f64::INFINITY, ..base }));
    }

    #[test]
    fn time_going_backwards_earns_nothing() {
        let mut b = RetryBudget::new(BudgetConfig { ratio: 0.0, min_retries_per_second: 1000.0, max_tokens: 1.0 }, 100.0);
        assert!(b.try_withdraw(100.0));
        assert!(!b.try_withdraw(50.0));
        assert!(!b.try_withdraw(f64::NAN));
        assert!(b.try_withdraw(101.0));
    }
}
