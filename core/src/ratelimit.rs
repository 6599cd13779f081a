//! A rate limiter: at most `limit` calls per `per` milliseconds, in bursts of at most `burst`
//! (GCRA, the generic cell rate algorithm: a token bucket kept as one number, the theoretical
//! arrival time of the next call). Resilience4j's and Polly's rate limiters, for one process;
//! with a `fleet`, each replica runs this at its share of the limit (`fleet_quota.rs`).
//!
//! The guarantee: over any stretch of time `t`, at most `burst + t × limit / per` calls start.
//! A call that would have to wait up to `maxWait` reserves its place and is told how long to
//! wait (the shell sleeps, then runs it); one that would wait longer is refused with the time
//! until a place is free. A waiting caller that gives up hands its place back when no later
//! call has reserved one since (otherwise the place is lost: never more calls than allowed).
//!
//! Driver call order: `try_acquire(now)`; on `After`, sleep `wait_ms`, and call
//! `cancel(ticket)` if the caller gives up before then; `stats(now)` whenever.

use crate::clock::Latest;
use crate::error::{fmt_num, Result, SeawallError};
use crate::fleet::{FleetConfig, FleetHealth};
use crate::fleet_quota::{FleetQuota, QuotaReport};
use crate::json::Json;
use crate::options::{check_value, spec, Counted, Kind, OptionReader, OptionSpec, Options, Spelling, TimeUnit};

const CALLS: Kind = Kind::Count(Counted { min: 1, max: MAX_RATE_LIMIT });

/// Largest `limit` and `burst`: beyond this the spacing between calls is below float precision.
pub const MAX_RATE_LIMIT: u32 = 1_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitConfig {
    pub limit: u32,
    pub per_ms: f64,
    pub burst: u32,
    pub max_wait_ms: f64,
    /// Shared with the other replicas (see `fleet_quota.rs`); `None`: this process alone.
    pub fleet: Option<FleetConfig>,
}

pub const RATE_LIMIT_OPTIONS: &[OptionSpec] = &[
    spec("limit", &["limitForPeriod", "permitLimit", "maxCalls"], CALLS),
    spec("per", &["period", "limitRefreshPeriod", "interval"], Kind::Duration { zero: false }).or(crate::defaults::RATE_LIMIT_PER_MS),
    spec("burst", &["maxBurst"], CALLS),
    spec("maxWait", &["timeoutDuration", "maxQueueWait"], Kind::Duration { zero: true }).or(crate::defaults::RATE_LIMIT_MAX_WAIT_MS),
    spec("name", &[], Kind::Text),
    spec("fleet", &[], Kind::Map),
];

impl RateLimitConfig {
    /// Reads `{ limit, per, burst, maxWait, name }`; `limit` is required, `per` defaults to one
    /// second, `burst` to `limit`, `maxWait` to 0 (refuse at once).
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[RATE_LIMIT_OPTIONS], "a rate limiter", unit)?;
        let named = r.word("name").is_some_and(|n| !n.is_empty());
        let expected = format!("a whole number from 1 to {MAX_RATE_LIMIT}");
        let limit = r.count("limit").ok_or_else(|| SeawallError::wrong_type("limit", "undefined", &expected))?;
        let cfg = RateLimitConfig {
            limit,
            per_ms: r.duration("per").unwrap_or(crate::defaults::RATE_LIMIT_PER_MS),
            burst: r.count("burst").unwrap_or(limit),
            max_wait_ms: r.duration("maxWait").unwrap_or(crate::defaults::RATE_LIMIT_MAX_WAIT_MS),
            fleet: crate::fleet::fleet_option(&r, "a rate limiter's fleet", |o| FleetConfig::from_quota_options(o, r.unit(), "a rate limiter's fleet"))?,
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        if cfg.fleet.is_some() && !named {
            // The name is the limiter's key in the shared store: replicas share a limit by name.
            return Err(SeawallError::wrong_type("name", "undefined", "a name for a rate limiter with a fleet (its key in the shared store)"));
        }
        Ok(cfg)
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        let values = [("limit", f64::from(self.limit)), ("burst", f64::from(self.burst)), ("per", self.per_ms), ("maxWait", self.max_wait_ms)];
        for (opt, x) in values {
            check_value(RATE_LIMIT_OPTIONS, opt, sp, x)?;
        }
        if let Some(f) = &self.fleet {
            f.check_under(sp)?;
        }
        Ok(())
    }

    /// The time between two calls at the full rate.
    pub fn spacing_ms(&self) -> f64 {
        self.per_ms / self.limit as f64
    }

    pub fn to_json(&self) -> Json {
        let mut out = Json::obj(vec![
            ("limit", Json::from(self.limit)),
            ("per", Json::Num(self.per_ms)),
            ("burst", Json::from(self.burst)),
            ("maxWait", Json::Num(self.max_wait_ms)),
        ]);
        if let (Json::Obj(o), Some(f)) = (&mut out, &self.fleet) {
            o.push(("fleet".into(), f.times_json()));
        }
        out
    }
}

/// What a call may do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateAdmission {
    /// Start now.
    Now,
    /// A place is reserved: start after `wait_ms`; `ticket` gives it back (`cancel`).
    After { wait_ms: f64, ticket: f64 },
    /// Refused: a place is free again in `retry_after_ms`.
    Refused { retry_after_ms: f64 },
}

/// The user-facing message of a refusal: says when a place is free, in seconds (to the ms, so
/// that fast limits do not read "0 seconds"), as the breaker's refusal does.
pub fn refusal_message(name: &str, retry_after_ms: f64) -> String {
    let who = if name.is_empty() { String::new() } else { format!(" '{name}'") };
    let secs = (retry_after_ms.max(0.0).ceil() / 1000.0).max(0.001);
    format!("Rate limiter{who} is at its limit; try again in {} seconds", fmt_num(secs))
}

/// Counters since the limiter was made.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateLimitStats {
    pub admitted: u64,
    pub waited: u64,
    pub refused: u64,
    pub cancelled: u64,
    /// Calls that could start now without waiting.
    pub available: u32,
}

impl RateLimitStats {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("admitted", Json::from(self.admitted)),
            ("waited", Json::from(self.waited)),
            ("refused", Json::from(self.refused)),
            ("cancelled", Json::from(self.cancelled)),
            ("available", Json::from(self.available)),
        ])
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RateLimiter {
    config: RateLimitConfig,
    /// The rate this replica runs at (calls per `per`): the limit, or its fleet share.
    rate: f64,
    /// Its burst (the burst, or its part of it, at least one call).
    burst: f64,
    spacing_ms: f64,
    /// How far ahead of `now` the next call's arrival may be and still start at once.
    tolerance_ms: f64,
    /// The theoretical arrival time of the next call (−∞ before the first).
    tat: f64,
    /// What the last reservation added to `tat` (a cancel takes back exactly that, even if the
    /// fleet share changed since).
    last_step: f64,
    clock: Latest,
    stats: RateLimitStats,
    fleet: Option<FleetQuota>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Result<Self> {
        config.check(&Spelling::canonical())?;
        let mut limiter = RateLimiter {
            config,
            rate: 0.0,
            burst: 0.0,
            spacing_ms: 0.0,
            tolerance_ms: 0.0,
            tat: f64::NEG_INFINITY,
            last_step: 0.0,
            clock: Latest::start(),
            stats: RateLimitStats::default(),
            fleet: config.fleet.map(|f| FleetQuota::new(f, 0.0)),
        };
        let rate = limiter.fleet.as_ref().map_or(config.limit as f64, |q| q.share(config.limit as f64));
        limiter.set_rate(rate);
        Ok(limiter)
    }

    /// Runs at `rate` calls per `per` from now on (a fleet share changed); the next call's
    /// theoretical arrival time stays, so nothing reserved is lost.
    fn set_rate(&mut self, rate: f64) {
        let limit = self.config.limit as f64;
        self.rate = rate;
        self.burst = if rate == limit { self.config.burst as f64 } else { (self.config.burst as f64 * rate / limit).max(1.0) };
        self.spacing_ms = self.config.per_ms / rate;
        self.tolerance_ms = (self.burst - 1.0) * self.spacing_ms;
    }

    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Admits, reserves or refuses one call at `now`.
    pub fn try_acquire(&mut self, now: f64) -> RateAdmission {
        let now = self.clock.tick(now);
        if let Some(q) = &mut self.fleet {
            q.arrived();
            if self.rate == 0.0 {
                // No share at all: the next sync may bring one.
                self.stats.refused += 1;
                return RateAdmission::Refused { retry_after_ms: q.config.sync_interval_ms };
            }
        }
        let tat = self.tat.max(now);
        let wait = (tat - self.tolerance_ms - now).max(0.0);
        if wait > self.config.max_wait_ms {
            self.stats.refused += 1;
            return RateAdmission::Refused { retry_after_ms: wait };
        }
        self.tat = tat + self.spacing_ms;
        self.last_step = self.spacing_ms;
        if wait == 0.0 {
            self.stats.admitted += 1;
            RateAdmission::Now
        } else {
            self.stats.waited += 1;
            RateAdmission::After { wait_ms: wait, ticket: self.tat }
        }
    }

    /// A waiting caller gave up: its place comes back if no call reserved one after it.
    /// Answers whether it did.
    pub fn cancel(&mut self, ticket: f64) -> bool {
        self.stats.cancelled += 1;
        if ticket == self.tat {
            self.tat -= self.last_step;
            true
        } else {
            false
        }
    }

    /// Calls that could start at `now` without waiting (at most `burst`).
    pub fn available(&mut self, now: f64) -> u32 {
        let now = self.clock.tick(now);
        let ahead = (self.tat - now).max(0.0);
        if self.rate == 0.0 {
            return 0;
        }
        let free = ((self.tolerance_ms - ahead) / self.spacing_ms).floor() + 1.0;
        // Not `f64::clamp`: its NaN/order assert formats floats, which pulls ~20 KB of float
        // printing into the wasm build (`make build-wasm` checks).
        free.max(0.0).min(self.burst.floor()) as u32
    }

    // ---- the fleet (rules in fleet_quota.rs) -----------------------------------------------

    /// What this replica tells the store at a sync (`{demand, want}`); `None` without a fleet.
    pub fn fleet_report(&mut self, now: f64) -> Option<Json> {
        let now = self.clock.tick(now);
        let (limit, per) = (self.config.limit as f64, self.config.per_ms);
        self.fleet.as_mut().map(|q| q.report(now, limit, per))
    }

    /// The store answered: the share it granted and the other replicas' reports; `false`
    /// without a fleet.
    pub fn fleet_sync(&mut self, now: f64, granted: f64, reports: &[QuotaReport]) -> bool {
        let now = self.clock.tick(now);
        let limit = self.config.limit as f64;
        let Some(share) = self.fleet.as_mut().map(|q| q.sync(now, granted, reports, limit)) else { return false };
        self.set_rate(share);
        true
    }

    /// The store did not answer in time: an equal part of the limit until it does; `false`
    /// without a fleet.
    pub fn fleet_alone(&mut self) -> bool {
        let limit = self.config.limit as f64;
        let Some(share) = self.fleet.as_mut().map(|q| q.alone(limit)) else { return false };
        self.set_rate(share);
        true
    }

    /// `(health, share)`; `None` without a fleet.
    pub fn fleet_health(&mut self, now: f64) -> Option<(FleetHealth, f64)> {
        let now = self.clock.tick(now);
        let rate = self.rate;
        self.fleet.as_ref().map(|q| (q.health(now), rate))
    }

    pub fn stats(&mut self, now: f64) -> RateLimitStats {
        RateLimitStats { available: self.available(now), ..self.stats }
    }

    /// `{limit, per, burst, maxWait, admitted, waited, refused, cancelled, available}` (ms), and
    /// with a fleet `fleet: {syncInterval, staleAfter, mode, replicas, fresh, share}` (the share
    /// in calls per `per`): the config, then the counters, then how the fleet stands.
    pub fn stats_json(&mut self, now: f64) -> Json {
        let mut out = self.config.to_json();
        let stats = self.stats(now).to_json();
        if let (Json::Obj(o), Json::Obj(counters)) = (&mut out, stats) {
            o.extend(counters);
        }
        let now = self.clock.get();
        if let Some(q) = &self.fleet {
            q.add_state(now, &mut out, &[("share", self.rate)]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::OptionValue;
    use crate::fleet_quota::model::{run_four, Store};

    fn limiter(limit: u32, per_ms: f64, burst: u32, max_wait_ms: f64) -> RateLimiter {
        RateLimiter::new(RateLimitConfig { limit, per_ms, burst, max_wait_ms, fleet: None }).unwrap()
    }

    #[test]
    fn a_burst_then_one_call_per_spacing() {
        let mut r = limiter(4, 1000.0, 4, 0.0);
        for _ in 0..4 {
            assert_eq!(r.try_acquire(0.0), RateAdmission::Now);
        }
        assert_eq!(r.try_acquire(0.0), RateAdmission::Refused { retry_after_ms: 250.0 });
        assert_eq!(r.try_acquire(100.0), RateAdmission::Refused { retry_after_ms: 150.0 });
        assert_eq!(r.available(249.0), 0);
        assert_eq!(r.try_acquire(250.0), RateAdmission::Now);
        assert_eq!(r.available(250.0), 0);
        assert_eq!(r.available(750.0), 2, "places come back one per 250 ms");
        assert_eq!(r.available(1250.0), 4, "a full second later the whole burst is back");
        assert_eq!(r.available(1e9), 4, "never more than the burst");
        let s = r.stats(1250.0);
        assert_eq!((s.admitted, s.waited, s.refused, s.cancelled), (5, 0, 2, 0));
    }

    #[test]
    fn never_more_than_burst_plus_rate_over_any_stretch() {
        // Callers arriving every 7 ms against 10 per second, burst 3: count starts per window.
        let mut r = limiter(10, 1000.0, 3, 0.0);
        let mut starts = Vec::new();
        for i in 0..2000 {
            let t = i as f64 * 7.0;
            if r.try_acquire(t) == RateAdmission::Now {
                starts.push(t);
            }
        }
        for (i, &a) in starts.iter().enumerate() {
            for stretch in [0.0, 99.0, 100.0, 500.0, 1000.0] {
                let n = starts[i..].iter().take_while(|&&b| b <= a + stretch).count();
                assert!(n as f64 <= 3.0 + stretch * 10.0 / 1000.0, "{n} calls in {stretch} ms from {a}");
            }
        }
        assert_eq!(starts.len(), 142, "14 s at 10 per second after a burst of 3 (the first counts in both)");
    }

    #[test]
    fn waiting_reserves_a_place_and_giving_up_returns_the_latest() {
        let mut r = limiter(2, 1000.0, 1, 1200.0);
        assert_eq!(r.try_acquire(0.0), RateAdmission::Now);
        let RateAdmission::After { wait_ms: 500.0, ticket: a } = r.try_acquire(0.0) else { panic!() };
        let RateAdmission::After { wait_ms: 1000.0, ticket: b } = r.try_acquire(0.0) else { panic!() };
        assert_eq!(r.try_acquire(0.0), RateAdmission::Refused { retry_after_ms: 1500.0 }, "would wait past maxWait");
        assert!(!r.cancel(a), "a later call has reserved since: the place is lost");
        assert!(r.cancel(b));
        assert!(!r.cancel(b), "only once");
        assert_eq!(r.try_acquire(0.0), RateAdmission::After { wait_ms: 1000.0, ticket: b }, "b's place again");
        let s = r.stats(0.0);
        assert_eq!((s.admitted, s.waited, s.refused, s.cancelled, s.available), (1, 3, 1, 3, 0));
    }

    #[test]
    fn bad_clock_readings_count_as_the_latest() {
        let mut r = limiter(1, 1000.0, 1, 0.0);
        assert_eq!(r.try_acquire(5000.0), RateAdmission::Now);
        for t in [f64::NAN, f64::INFINITY, -1.0, 4000.0] {
            assert_eq!(r.try_acquire(t), RateAdmission::Refused { retry_after_ms: 1000.0 }, "{t}");
        }
    }

    #[test]
    fn options_name_what_is_wrong() {
        let o = |pairs: &[(&str, OptionValue)]| -> Options { pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect() };
        let n = OptionValue::Number;
        let c = RateLimitConfig::from_options(&o(&[("limit", n(500.0)), ("per", n(60.0))]), TimeUnit::Seconds).unwrap();
        assert_eq!(c, RateLimitConfig { limit: 500, per_ms: 60_000.0, burst: 500, max_wait_ms: 0.0, fleet: None });
        assert_eq!(c.spacing_ms(), 120.0);
        let c = RateLimitConfig::from_options(&o(&[("limitForPeriod", n(10.0)), ("limitRefreshPeriod", n(500.0)), ("timeoutDuration", n(25.0)), ("max_burst", n(2.0))]), TimeUnit::Millis).unwrap();
        assert_eq!(c, RateLimitConfig { limit: 10, per_ms: 500.0, burst: 2, max_wait_ms: 25.0, fleet: None });
        for (given, option, message) in [
            (o(&[]), "limit", "invalid option limit: expected a whole number from 1 to 1000000000, got undefined"),
            (o(&[("limit", n(0.0))]), "limit", "invalid option limit: expected a whole number from 1 to 1000000000, got 0"),
            (o(&[("limit", n(2.5))]), "limit", "invalid option limit: expected a whole number from 1 to 1000000000, got 2.5"),
            (o(&[("limit", n(5.0)), ("per", n(0.0))]), "per", "invalid option per: expected a finite number of milliseconds > 0, got 0"),
            (o(&[("limit", n(5.0)), ("burst", n(0.0))]), "burst", "invalid option burst: expected a whole number from 1 to 1000000000, got 0"),
            (o(&[("limit", n(5.0)), ("maxWait", n(-1.0))]), "maxWait", "invalid option maxWait: expected a finite number of milliseconds ≥ 0, got -1"),
            (o(&[("limit", n(5.0)), ("rate", n(1.0))]), "rate", "unknown option rate for a rate limiter"),
        ] {
            let e = RateLimitConfig::from_options(&given, TimeUnit::Millis).unwrap_err();
            assert_eq!((e.option.as_deref(), e.message.as_str()), (Some(option), message));
        }
        let bad = RateLimitConfig { limit: 1, per_ms: 0.0, burst: 1, max_wait_ms: 0.0, fleet: None };
        assert_eq!(RateLimiter::new(bad).unwrap_err().option.as_deref(), Some("per"));
        let bad = RateLimitConfig { limit: 1, per_ms: f64::INFINITY, burst: 1, max_wait_ms: 0.0, fleet: None };
        assert_eq!(RateLimiter::new(bad).unwrap_err().option.as_deref(), Some("per"));
        for wait in [f64::NAN, -1.0, f64::INFINITY] {
            let bad = RateLimitConfig { limit: 1, per_ms: 1.0, burst: 1, max_wait_ms: wait, fleet: None };
            assert_eq!(RateLimiter::new(bad).unwrap_err().option.as_deref(), Some("maxWait"), "{wait}");
        }
        let bad = RateLimitConfig { limit: MAX_RATE_LIMIT + 1, per_ms: 1.0, burst: 1, max_wait_ms: 0.0, fleet: None };
        assert_eq!(RateLimiter::new(bad).unwrap_err().option.as_deref(), Some("limit"));
    }

    fn fleet_limiter(limit: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimitConfig { limit, per_ms: 1000.0, burst, max_wait_ms: 0.0, fleet: Some(FleetConfig::default()) }).unwrap()
    }

    #[test]
    fn a_fleet_share_sets_the_rate_and_the_store_lost_an_equal_part() {
        let mut r = fleet_limiter(100, 20);
        assert_eq!(r.available(0.0), 0, "no share before the store's first answer");
        assert_eq!(r.try_acquire(0.0), RateAdmission::Refused { retry_after_ms: 250.0 });
        r.fleet_sync(0.0, 10.0, &[QuotaReport { demand: 300.0, age_ms: 0.0 }]);
        // 10 per second: one every 100 ms, a burst of 2 (its part of 20).
        assert_eq!(r.available(0.0), 2);
        assert_eq!((r.try_acquire(0.0), r.try_acquire(0.0)), (RateAdmission::Now, RateAdmission::Now));
        assert_eq!(r.try_acquire(0.0), RateAdmission::Refused { retry_after_ms: 100.0 });
        r.fleet_sync(10.0, 0.0, &[]);
        assert_eq!(r.try_acquire(500.0), RateAdmission::Refused { retry_after_ms: 250.0 }, "no share: until the next sync");
        assert_eq!(r.available(500.0), 0);
        r.fleet_sync(600.0, 1e9, &[QuotaReport { demand: 1.0, age_ms: 0.0 }]);
        assert_eq!(r.fleet_health(600.0).unwrap().1, 100.0, "never more than the limit");
        r.fleet_sync(600.0, f64::NAN, &[]);
        assert_eq!(r.fleet_health(600.0).unwrap().1, 0.0, "a garbled grant is none, not the whole limit");
        r.fleet_sync(600.0, 1e9, &[QuotaReport { demand: 1.0, age_ms: 0.0 }]);
        r.fleet_alone();
        let (health, share) = r.fleet_health(600.0).unwrap();
        assert_eq!((health.shared, health.replicas, share), (false, 2, 50.0));
        assert_eq!(r.available(10_000.0), 10);
        let s = r.stats(10_000.0);
        assert_eq!((s.admitted, s.refused), (2, 3));
        assert!(limiter(1, 1000.0, 1, 0.0).fleet_report(0.0).is_none());
        assert!(limiter(1, 1000.0, 1, 0.0).fleet_health(0.0).is_none());
    }

    #[test]
    fn a_cancel_takes_back_what_its_reservation_added_even_after_a_share_change() {
        let mut r = RateLimiter::new(RateLimitConfig { limit: 10, per_ms: 1000.0, burst: 1, max_wait_ms: 10_000.0, fleet: Some(FleetConfig::default()) }).unwrap();
        r.fleet_sync(0.0, 10.0, &[]);
        assert_eq!(r.try_acquire(0.0), RateAdmission::Now);
        let RateAdmission::After { wait_ms: 100.0, ticket } = r.try_acquire(0.0) else { panic!() };
        r.fleet_sync(0.0, 1.0, &[]);
        assert!(r.cancel(ticket));
        // Back to one call at 0 (spacing then 100 ms); the next at 1 per second waits 100 ms.
        assert_eq!(r.try_acquire(0.0), RateAdmission::After { wait_ms: 100.0, ticket: 1100.0 });
    }

    #[test]
    fn replicas_sharing_a_limit_never_start_more_than_it_over_any_second() {
        // Four replicas, 100 per second fleet-wide, burst 10; demands of 200, 60, 20 and 0 per
        // second, the last joining at 5 s with 300; each syncs every 250 ms, at its own phase.
        let (limit, burst) = (100u32, 10u32);
        let mut store = Store::new(f64::from(limit), 4);
        let mut replicas: Vec<RateLimiter> = (0..4).map(|_| fleet_limiter(limit, burst)).collect();
        let mut starts: Vec<(f64, usize)> = Vec::new();
        run_four(
            [0.0, 60.0, 120.0, 5000.0],
            [0.0, 3.0, 7.0, 5000.0],
            [5.0, 1000.0 / 60.0, 50.0, 1000.0 / 300.0],
            20_000.0,
            |i, t, is_sync| {
                if is_sync {
                    let (grant, reports) = store.answer(i, &replicas[i].fleet_report(t).unwrap(), t);
                    replicas[i].fleet_sync(t, grant, &reports);
                } else if replicas[i].try_acquire(t) == RateAdmission::Now {
                    starts.push((t, i));
                }
            },
        );
        // Over any second: at most max(burst, replicas) + the limit.
        for (k, &(a, _)) in starts.iter().enumerate() {
            let n = starts[k..].iter().take_while(|(b, _)| *b < a + 1000.0).count();
            assert!(n <= 10 + 100, "{n} starts in the second from {a}");
        }
        // The limit is used (the demand exceeds it), and shared max-min fairly once settled:
        // from 10 s, the 20 per second are met and 200, 60 and 300 split the other 80 evenly.
        let rate = |i: usize| starts.iter().filter(|(t, j)| *j == i && *t >= 10_000.0).count() as f64 / 10.0;
        let total: f64 = (0..4).map(rate).sum();
        assert!(total > 97.0, "{total} per second");
        assert!((rate(2) - 20.0).abs() <= 1.0, "{}", rate(2));
        for i in [0, 1, 3] {
            assert!((rate(i) - 80.0 / 3.0).abs() <= 1.5, "replica {i}: {}", rate(i));
        }
    }

    #[test]
    fn refusals_say_when_to_come_back() {
        assert_eq!(refusal_message("openai", 120.0), "Rate limiter 'openai' is at its limit; try again in 0.12 seconds");
        assert_eq!(refusal_message("", 0.2), "Rate limiter is at its limit; try again in 0.001 seconds");
        assert_eq!(refusal_message("x", 2500.5), "Rate limiter 'x' is at its limit; try again in 2.501 seconds");
    }
}
