//! A retry budget: a token bucket shared by every call of a client, so that retries cannot
//! multiply load during an outage (gRPC retry throttling, Finagle's RetryBudget).
//!
//! Successes deposit `ratio` tokens, each retry withdraws one, and the bucket also earns
//! `min_retries_per_second` tokens per second of time passing, capped at `max_tokens` (which is
//! also the starting balance). With no successes, retries are limited to the starting balance
//! plus the trickle; in steady state, to about `ratio` retries per success.
//!
//! With a `fleet`, the replicas of a service share one budget: the trickle and the cap are the
//! fleet's, not each replica's. Each replica earns its *share* of `min_retries_per_second` (taken
//! through the store as a rate limiter takes its share of a limit, `fleet_quota.rs`: max-min fair
//! over the replicas' retry demand, the shares never adding up to more) and holds at most the
//! same part of `max_tokens`, at least one token, so that its own successes' deposits still buy
//! a retry. Deposits stay local: `ratio` retries per success, summed over the fleet, is already
//! the fleet's ratio. So with no successes the whole fleet retries at most
//! `max_tokens + replicas + t × min_retries_per_second` times over a stretch `t`, where lone
//! budgets would allow `replicas ×` that. A fleet budget starts empty and fills to its part at
//! the store's first answer (or, the store lost, at `1 ÷` the replicas last seen).
//!
//! Driver call order: `record_success(now)` after each successful call; `try_withdraw(now)`
//! before each retry, and skip the retry when it answers `false`. With a fleet, per sync:
//! `fleet_report(now)`, the store's `quota` script, `fleet_sync(now, …)`; `fleet_alone(now)`
//! when the store does not answer in time.

use crate::clock::Latest;
use crate::defaults;
use crate::error::{fmt_num, Result, SeawallError};
use crate::fleet::FleetConfig;
use crate::fleet_quota::{FleetQuota, QuotaReport};
use crate::json::Json;
use crate::options::{check_value, spec, Bound, Kind, OptionReader, OptionSpec, Options, Spelling, TimeUnit};

/// The bounds of a budget's numbers, read and checked from these rows alike.
const RATIO: Bound = Bound { expected: "a number from 0 to 1000", holds: |x| (0.0..=1000.0).contains(&x) };
const TRICKLE: Bound = Bound { expected: "a finite number ≥ 0", holds: |x| x >= 0.0 };
const TOKENS: Bound = Bound { expected: "a finite number ≥ 1", holds: |x| x >= 1.0 };

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetConfig {
    pub ratio: f64,
    pub min_retries_per_second: f64,
    pub max_tokens: f64,
    /// Shared with the other replicas of that name; `None`: this process alone.
    pub fleet: Option<FleetConfig>,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            ratio: defaults::BUDGET_RATIO,
            min_retries_per_second: defaults::BUDGET_MIN_RETRIES_PER_SECOND,
            max_tokens: defaults::BUDGET_MAX_TOKENS,
            fleet: None,
        }
    }
}

pub const BUDGET_OPTIONS: &[OptionSpec] = &[
    spec("ratio", &["budgetRatio", "percentCanRetry", "tokenRatio"], Kind::Number(RATIO)).or(defaults::BUDGET_RATIO),
    spec("minRetriesPerSecond", &["minRetriesPerSec"], Kind::Number(TRICKLE)).or(defaults::BUDGET_MIN_RETRIES_PER_SECOND),
    spec("maxTokens", &["capacity"], Kind::Number(TOKENS)).or(defaults::BUDGET_MAX_TOKENS),
    spec("name", &[], Kind::Text),
    spec("fleet", &[], Kind::Map),
];

impl BudgetConfig {
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[BUDGET_OPTIONS], "a retry budget", unit)?;
        let named = r.word("name").is_some_and(|n| !n.is_empty());
        let d = BudgetConfig::default();
        let cfg = BudgetConfig {
            ratio: r.number("ratio").unwrap_or(d.ratio),
            min_retries_per_second: r.number("minRetriesPerSecond").unwrap_or(d.min_retries_per_second),
            max_tokens: r.number("maxTokens").unwrap_or(d.max_tokens),
            fleet: crate::fleet::fleet_option(&r, "a retry budget's fleet", |o| FleetConfig::from_quota_options(o, r.unit(), "a retry budget's fleet"))?,
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        if cfg.fleet.is_some() && !named {
            // The name is the budget's key in the shared store: replicas share a budget by name.
            return Err(SeawallError::wrong_type("name", "undefined", "a name for a retry budget with a fleet (its key in the shared store)"));
        }
        Ok(cfg)
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        for (opt, x) in [("ratio", self.ratio), ("minRetriesPerSecond", self.min_retries_per_second), ("maxTokens", self.max_tokens)] {
            check_value(BUDGET_OPTIONS, opt, sp, x)?;
        }
        if let Some(f) = &self.fleet {
            if self.min_retries_per_second == 0.0 {
                // The replicas' parts of the budget are parts of its trickle: none, nothing to share.
                return Err(SeawallError::out_of_range(
                    &sp.name("minRetriesPerSecond"),
                    fmt_num(self.min_retries_per_second),
                    "a finite number > 0 for a retry budget with a fleet (the replicas share its trickle)",
                ));
            }
            f.check_under(sp)?;
        }
        Ok(())
    }

    pub fn to_json(&self) -> Json {
        let mut out = Json::obj(vec![
            ("ratio", Json::Num(self.ratio)),
            ("minRetriesPerSecond", Json::Num(self.min_retries_per_second)),
            ("maxTokens", Json::Num(self.max_tokens)),
        ]);
        if let (Json::Obj(o), Some(f)) = (&mut out, &self.fleet) {
            o.push(("fleet".into(), f.times_json()));
        }
        out
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
    /// The trickle (tokens per second) and the cap in force: the config's, or with a fleet this
    /// replica's part of them.
    rate: f64,
    cap: f64,
    fleet: Option<FleetQuota>,
    /// Whether the fleet gave a first part yet (the budget fills to it then).
    filled: bool,
}

impl RetryBudget {
    /// A full bucket at time `now`; with a fleet, an empty one until its first part.
    pub fn new(config: BudgetConfig, now: f64) -> Self {
        let mut last = Latest::start();
        last.tick(now);
        let fleet = config.fleet.map(|f| FleetQuota::new(f, now));
        let (tokens, rate, cap) = if fleet.is_some() { (0.0, 0.0, 1.0) } else { (config.max_tokens, config.min_retries_per_second, config.max_tokens) };
        RetryBudget { config, tokens, last, withdrawn: 0, refused: 0, rate, cap, filled: fleet.is_none(), fleet }
    }

    fn refill(&mut self, now: f64) {
        let before = self.last.get();
        let now = self.last.tick(now);
        if now > before {
            let earned = (now - before) / 1000.0 * self.rate;
            self.tokens = (self.tokens + earned).min(self.cap);
        }
    }

    pub fn record_success(&mut self, now: f64) {
        self.record_successes(1, now);
    }

    /// `n` successes at once: as `n` calls of [`RetryBudget::record_success`] at `now` (added one
    /// by one: the same sums to the last bit).
    pub fn record_successes(&mut self, n: u32, now: f64) {
        self.refill(now);
        for _ in 0..n {
            self.tokens = (self.tokens + self.config.ratio).min(self.cap);
        }
    }

    /// Takes one token for a retry; `false` (and nothing taken) when fewer than one is left.
    pub fn try_withdraw(&mut self, now: f64) -> bool {
        self.refill(now);
        if let Some(q) = &mut self.fleet {
            // Refused retries are demand too: a replica starved of its part asks for more.
            q.arrived();
        }
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

    // ---- the fleet (shares decided in fleet_quota.rs) --------------------------------------

    /// What this replica tells the store at a sync (`{demand, want}`, in retries per second);
    /// `None` without a fleet.
    pub fn fleet_report(&mut self, now: f64) -> Option<Json> {
        self.refill(now);
        let (now, trickle) = (self.last.get(), self.config.min_retries_per_second);
        self.fleet.as_mut().map(|q| q.report(now, trickle, 1000.0))
    }

    /// The store answered: the part of the trickle it granted and the other replicas' reports;
    /// `false` without a fleet.
    pub fn fleet_sync(&mut self, now: f64, granted: f64, reports: &[QuotaReport]) -> bool {
        // What was earned so far was earned at the part in force until now.
        self.refill(now);
        let (now, trickle) = (self.last.get(), self.config.min_retries_per_second);
        let Some(share) = self.fleet.as_mut().map(|q| q.sync(now, granted, reports, trickle)) else { return false };
        self.set_share(share);
        true
    }

    /// The store did not answer in time: an equal part per replica last seen until it does;
    /// `false` without a fleet.
    pub fn fleet_alone(&mut self, now: f64) -> bool {
        self.refill(now);
        let trickle = self.config.min_retries_per_second;
        let Some(share) = self.fleet.as_mut().map(|q| q.alone(trickle)) else { return false };
        self.set_share(share);
        true
    }

    /// Runs at `share` tokens per second with the same part of `max_tokens` (at least one).
    fn set_share(&mut self, share: f64) {
        self.rate = share;
        self.cap = (self.config.max_tokens * share / self.config.min_retries_per_second).max(1.0);
        self.tokens = if self.filled { self.tokens.min(self.cap) } else { self.cap };
        self.filled = true;
    }

    /// `{ratio, minRetriesPerSecond, maxTokens, tokens, withdrawn, refused}`, and with a fleet
    /// `fleet: {syncInterval, staleAfter, mode, replicas, fresh, share, cap}` (this replica's
    /// part: tokens per second and most tokens held): the config, then the counters.
    pub fn stats_json(&mut self, now: f64) -> Json {
        self.refill(now);
        let mut out = self.config.to_json();
        if let Some(q) = &self.fleet {
            q.add_state(self.last.get(), &mut out, &[("share", self.rate), ("cap", self.cap)]);
        }
        if let Json::Obj(o) = &mut out {
            o.extend([
                ("tokens".into(), Json::Num(self.tokens)),
                ("withdrawn".into(), Json::from(self.withdrawn)),
                ("refused".into(), Json::from(self.refused)),
            ]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet_quota::model::{run_four, Store};

    #[test]
    fn exhausts_then_refills_by_successes_and_time() {
        let cfg = BudgetConfig { ratio: 0.5, min_retries_per_second: 1.0, max_tokens: 2.0, fleet: None };
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
        let cfg = BudgetConfig { ratio: 0.0, min_retries_per_second: 10.0, max_tokens: 100.0, fleet: None };
        let mut b = RetryBudget::new(cfg, 5000.0);
        while b.try_withdraw(5000.0) {}
        assert_eq!(b.tokens(5500.0), 5.0);
        assert_eq!(b.config(), &cfg);
    }

    #[test]
    fn config_checks_hold_at_their_bounds() {
        let id = Spelling::canonical();
        let ok = |c: BudgetConfig| c.check(&id).is_ok();
        let base = BudgetConfig { ratio: 0.1, min_retries_per_second: 1.0, max_tokens: 10.0, fleet: None };
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
        let mut b = RetryBudget::new(BudgetConfig { ratio: 0.0, min_retries_per_second: 1000.0, max_tokens: 1.0, fleet: None }, 100.0);
        assert!(b.try_withdraw(100.0));
        assert!(!b.try_withdraw(50.0));
        assert!(!b.try_withdraw(f64::NAN));
        assert!(b.try_withdraw(101.0));
    }

    fn fleet_budget(trickle: f64, max_tokens: f64) -> RetryBudget {
        RetryBudget::new(BudgetConfig { ratio: 0.5, min_retries_per_second: trickle, max_tokens, fleet: Some(FleetConfig::default()) }, 0.0)
    }

    #[test]
    fn a_fleet_budget_runs_on_its_part_of_the_trickle_and_of_the_tokens() {
        let mut b = fleet_budget(10.0, 20.0);
        assert!(!b.try_withdraw(0.0), "empty before the store's first answer");
        assert_eq!(b.tokens(0.0), 0.0);
        let report = b.fleet_report(100.0).unwrap();
        assert_eq!(report.to_string(), r#"{"demand":10.0,"want":10.0}"#, "one retry asked in 100 ms: 10 per second");
        b.fleet_sync(100.0, 2.5, &[QuotaReport { demand: 30.0, age_ms: 0.0 }]);
        assert_eq!(b.tokens(100.0), 5.0, "filled to its part: a quarter of the trickle, a quarter of the tokens");
        assert_eq!(b.tokens(500.0), 5.0, "never above its part");
        while b.try_withdraw(500.0) {}
        assert_eq!(b.tokens(900.0), 1.0, "2.5 per second");
        b.fleet_sync(900.0, 0.0, &[QuotaReport { demand: 30.0, age_ms: 0.0 }]);
        assert_eq!(b.tokens(900.0), 1.0, "no part: one token, so its own successes still buy a retry");
        assert_eq!(b.tokens(5000.0), 1.0);
        b.record_success(5000.0);
        assert_eq!(b.tokens(5000.0), 1.0);
        b.fleet_sync(5000.0, 1e9, &[]);
        assert_eq!(b.tokens(7000.0), 20.0, "never more than the whole budget");
        b.fleet_sync(7000.0, 5.0, &[QuotaReport { demand: 1.0, age_ms: 0.0 }, QuotaReport { demand: 1.0, age_ms: 0.0 }]);
        assert_eq!(b.tokens(7000.0), 10.0, "a smaller part takes the tokens above it away");
        b.fleet_alone(7000.0);
        let stats = b.stats_json(7000.0).to_string();
        assert_eq!(
            stats,
            r#"{"ratio":0.5,"minRetriesPerSecond":10.0,"maxTokens":20.0,"fleet":{"syncInterval":250.0,"staleAfter":1000.0,"mode":"local","replicas":3,"fresh":false,"share":3.3333333333333335,"cap":6.666666666666667},"tokens":6.666666666666667,"withdrawn":5,"refused":2}"#
        );
        let mut lone = RetryBudget::new(BudgetConfig::default(), 0.0);
        assert!(lone.fleet_report(0.0).is_none());
        lone.fleet_sync(0.0, 1.0, &[]);
        lone.fleet_alone(0.0);
        assert_eq!(lone.tokens(0.0), BudgetConfig::default().max_tokens, "no fleet: nothing changes");
        assert!(!lone.stats_json(0.0).to_string().contains("fleet"));
    }

    #[test]
    fn a_fleet_budget_alone_from_the_start_is_a_whole_budget() {
        let mut b = fleet_budget(2.0, 8.0);
        b.fleet_alone(0.0);
        assert_eq!(b.tokens(0.0), 8.0, "the store never answered: itself alone");
    }

    #[test]
    fn a_fleet_budget_needs_a_name_and_a_trickle() {
        let read = |text: &str| BudgetConfig::from_options(&crate::engine::parse_options(text).unwrap(), TimeUnit::Millis);
        let ok = read(r#"{"name":"openai","minRetriesPerSecond":5,"fleet":{"redis":"<object>","syncInterval":100}}"#).unwrap();
        assert_eq!(ok.fleet.map(|f| (f.sync_interval_ms, f.stale_after_ms)), Some((100.0, 400.0)));
        for (text, option, message) in [
            (r#"{"fleet":{"redis":"<object>"}}"#, "name", "invalid option name: expected a name for a retry budget with a fleet (its key in the shared store), got undefined"),
            (r#"{"name":"a","minRetriesPerSecond":0,"fleet":{"redis":"<object>"}}"#, "minRetriesPerSecond", "invalid option minRetriesPerSecond: expected a finite number > 0 for a retry budget with a fleet (the replicas share its trickle), got 0"),
            (r#"{"name":"a","fleet":{}}"#, "fleet.redis", "invalid option fleet.redis: expected a Redis client, got undefined"),
            (r#"{"name":"a","fleet":{"redis":"<object>","minReplicas":2}}"#, "fleet.minReplicas", ""),
            (r#"{"name":"a","fleet":{"redis":"<object>","syncInterval":0}}"#, "fleet.syncInterval", ""),
        ] {
            let e = read(text).unwrap_err();
            assert_eq!(e.option.as_deref(), Some(option), "{text}: {}", e.message);
            assert!(message.is_empty() || e.message == message, "{text}: {}", e.message);
        }
    }

    #[test]
    fn replicas_sharing_a_budget_retry_at_most_it_while_nothing_succeeds() {
        // An outage: nothing succeeds. Four replicas share 10 retries per second and 20 tokens;
        // they try to retry 50, 20, 2 and (from 5 s) 100 times a second; each syncs every
        // 250 ms at its own phase. Lone budgets of the same size would allow each the whole.
        let (trickle, max_tokens, n) = (10.0, 20.0, 4usize);
        let mut store = Store::new(trickle, n);
        let mut replicas: Vec<RetryBudget> = (0..n).map(|_| fleet_budget(trickle, max_tokens)).collect();
        let mut retries: Vec<(f64, usize)> = Vec::new();
        run_four(
            [0.0, 60.0, 120.0, 5000.0],
            [0.0, 3.0, 7.0, 5000.0],
            [20.0, 50.0, 500.0, 10.0],
            20_000.0,
            |i, t, is_sync| {
                if is_sync {
                    let (grant, reports) = store.answer(i, &replicas[i].fleet_report(t).unwrap(), t);
                    replicas[i].fleet_sync(t, grant, &reports);
                } else if replicas[i].try_withdraw(t) {
                    retries.push((t, i));
                }
            },
        );
        // The bound: what the parts hold (at most the tokens, plus one per replica) and the trickle.
        let bound = |secs: f64| max_tokens + n as f64 + secs * trickle;
        assert!(retries.len() as f64 <= bound(20.0), "{} retries in 20 s", retries.len());
        for (k, &(a, _)) in retries.iter().enumerate() {
            let m = retries[k..].iter().take_while(|(b, _)| *b < a + 1000.0).count();
            assert!(m as f64 <= bound(1.0), "{m} retries in the second from {a}");
        }
        // The trickle is used and shared max-min fairly once settled: the 2 per second are met,
        // the others split the rest. (One retry every other sync reads as a bursty demand of
        // about 3.4 per second, held between its retries, so the split is about even: 2.5 each.)
        let rate = |i: usize| retries.iter().filter(|(t, j)| *j == i && *t >= 10_000.0).count() as f64 / 10.0;
        let rates: Vec<f64> = (0..n).map(rate).collect();
        assert!(rates.iter().sum::<f64>() >= 9.4, "{rates:?} per second");
        assert!((rates[2] - 2.0).abs() <= 0.2, "{rates:?}");
        for i in [0, 1, 3] {
            assert!((2.4..=8.0 / 3.0 + 0.2).contains(&rates[i]), "replica {i}: {rates:?}");
        }
    }
}
