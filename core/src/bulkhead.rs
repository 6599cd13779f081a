//! The bulkhead: at most `max_concurrent` calls at once, at most `max_queue` waiting, and an
//! optional limit on how long a call may wait.
//!
//! # Driver contract
//! - `try_acquire(now)` → [`Admission::Run`] (start now, holding the permit),
//!   [`Admission::Queued`] (wait for the ticket to be named), or [`Admission::Rejected`].
//! - `release(now, permit)` when a running call ends, however it ends. It answers the queued
//!   ticket that starts next, with the permit it now holds, if any.
//! - `cancel(ticket)` when a queued caller gives up (abort, task cancelled).
//! - Timers: `poll_timeout()` is the earliest queue deadline; `handle_timeout(now)` moves
//!   expired tickets to the outbox, and `poll_expired()` drains it (each such caller fails with
//!   `BULKHEAD_QUEUE_TIMEOUT`). `try_acquire` and `release` expire due tickets first, so an
//!   expired ticket is never started.
//!
//! Every permit comes back exactly once (a second `release` is refused with `INVALID_PERMIT`),
//! and every queued ticket ends exactly once: started by `release`, expired, or cancelled.
//!
//! With `lifo`, the newest waiting call starts first (deadlines still expire oldest first).
//!
//! With `adaptive` (an algorithm's name, or an adaptive limit's options: core/src/adaptive.rs),
//! the limit is not fixed: each call's round-trip time from its start to its `release` moves it
//! within the adaptive limit's bounds (a call slower than its `timeout` counts as dropped). A
//! lower limit admits no one until enough calls have ended; a higher one starts queued calls as
//! running ones end.

use std::collections::VecDeque;

use crate::json::Json;

use crate::clock::Latest;
use crate::defaults;
use crate::error::{ErrorCode, Result};
use crate::options::{check_value, spec, Counted, Kind, OptionReader, OptionSpec, Options, Spelling, TimeUnit};
#[cfg(feature = "full")]
use crate::adaptive::{AdaptiveConfig, AdaptiveLimiter, LimitOutcome};
use crate::error::SeawallError;
#[cfg(feature = "full")]
use crate::options::nested;
use crate::options::OptionValue;
use crate::permit::{SlotTable, SlotToken};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BulkheadConfig {
    pub max_concurrent: u32,
    pub max_queue: u32,
    pub queue_timeout_ms: Option<f64>,
    /// The newest waiting call starts first (under overload the callers still waiting are the
    /// ones that have not given up yet; the oldest are the likeliest gone).
    pub lifo: bool,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadConfig {
            max_concurrent: defaults::BULKHEAD_MAX_CONCURRENT,
            max_queue: defaults::BULKHEAD_MAX_QUEUE,
            queue_timeout_ms: None,
            lifo: false,
        }
    }
}

pub const BULKHEAD_OPTIONS: &[OptionSpec] = &[
    spec("maxConcurrent", &["maxConcurrentCalls", "limit", "maxParallelization"], Kind::Count(Counted { min: 1, max: defaults::MAX_SLOTS }))
        .or(defaults::BULKHEAD_MAX_CONCURRENT as f64),
    spec("maxQueueSize", &["maxQueue", "queueSize", "maxQueuingActions"], Kind::Count(Counted { min: 0, max: MAX_QUEUE_LIMIT }))
        .or(defaults::BULKHEAD_MAX_QUEUE as f64),
    // `timeout` inside a bulkhead's options is its queue timeout (a spelling users write).
    spec("queueTimeout", &["timeout", "maxWait", "maxWaitDuration"], Kind::Duration { zero: false }),
    spec("name", &[], Kind::Text),
    spec("onReject", &[], Kind::Callback),
    spec("lifo", &[], Kind::Bool),
    // An algorithm's name or an adaptive limit's options (read by `Bulkhead::from_options`).
    spec("adaptive", &[], Kind::Custom),
];

/// Queue places a bulkhead may have.
pub const MAX_QUEUE_LIMIT: u32 = 10_000_000;

impl BulkheadConfig {
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[BULKHEAD_OPTIONS], "a bulkhead", unit)?;
        let d = BulkheadConfig::default();
        let cfg = BulkheadConfig {
            max_concurrent: r.count("maxConcurrent").unwrap_or(d.max_concurrent),
            max_queue: r.count("maxQueueSize").unwrap_or(d.max_queue),
            queue_timeout_ms: r.duration("queueTimeout"),
            lifo: r.boolean("lifo").unwrap_or(false),
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        let value = |opt: &'static str, x: f64| check_value(BULKHEAD_OPTIONS, opt, sp, x);
        value("maxConcurrent", f64::from(self.max_concurrent))?;
        value("maxQueueSize", f64::from(self.max_queue))?;
        match self.queue_timeout_ms {
            Some(t) => value("queueTimeout", t),
            None => Ok(()),
        }
    }
}

/// A running call's hold on a slot; crosses FFI as its raw number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadPermit(pub SlotToken);

/// A queued call's place; ids count up from 1 and are never reused.
pub type Ticket = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// Every slot busy and no queue.
    Full,
    /// Every slot busy and the queue full.
    QueueFull,
}

impl RejectReason {
    /// One code for both (callers check only `BULKHEAD_QUEUE_FULL`); the reason tells them apart.
    pub fn code(self) -> ErrorCode {
        match self {
            RejectReason::Full | RejectReason::QueueFull => ErrorCode::BulkheadQueueFull,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Run(BulkheadPermit),
    /// Wait; `position` is 1 for the head of the queue.
    Queued { ticket: Ticket, position: u32 },
    Rejected(RejectReason),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkheadMetrics {
    pub active: u32,
    pub queued: u32,
    pub available: u32,
    pub max_concurrent: u32,
    pub max_queue_size: u32,
    /// Calls that started at once.
    pub executed: u64,
    /// Calls that had to queue (and may have started later).
    pub enqueued: u64,
    pub completed: u64,
    pub rejected: u64,
    pub timed_out: u64,
    pub cancelled: u64,
}

impl BulkheadMetrics {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("active", Json::from(self.active)),
            ("queued", Json::from(self.queued)),
            ("available", Json::from(self.available)),
            ("maxConcurrent", Json::from(self.max_concurrent)),
            ("maxQueueSize", Json::from(self.max_queue_size)),
            ("executed", Json::from(self.executed)),
            ("enqueued", Json::from(self.enqueued)),
            ("completed", Json::from(self.completed)),
            ("rejected", Json::from(self.rejected)),
            ("timedOut", Json::from(self.timed_out)),
            ("cancelled", Json::from(self.cancelled)),
        ])
    }
}

/// An adaptive bulkhead's limiter and, per slot, when its call started and the calls running then.
/// (The browser's lean module has no adaptive limits: there an adaptive bulkhead is refused.)
#[cfg(feature = "full")]
#[derive(Debug, Clone)]
struct Adapting {
    limiter: AdaptiveLimiter,
    started: Vec<(f64, u32)>,
}

#[derive(Debug, Clone)]
pub struct Bulkhead {
    config: BulkheadConfig,
    /// Calls that may run at once now: `max_concurrent`, or the adaptive limit.
    limit: u32,
    #[cfg(feature = "full")]
    adapting: Option<Box<Adapting>>,
    slots: SlotTable,
    queue: VecDeque<(Ticket, f64)>,
    expired: VecDeque<Ticket>,
    next_ticket: Ticket,
    now: Latest,
    metrics: BulkheadMetrics,
}

impl Bulkhead {
    pub fn new(config: BulkheadConfig) -> Result<Self> {
        config.check(&Spelling::canonical())?;
        // The queue grows on demand (a bound of millions should not be allocated up front).
        Ok(Bulkhead {
            limit: config.max_concurrent,
            #[cfg(feature = "full")]
            adapting: None,
            slots: SlotTable::new(config.max_concurrent),
            queue: VecDeque::with_capacity(config.max_queue.min(1024) as usize),
            expired: VecDeque::new(),
            next_ticket: 1,
            now: Latest::start(),
            metrics: BulkheadMetrics { max_concurrent: config.max_concurrent, max_queue_size: config.max_queue, ..Default::default() },
            config,
        })
    }

    /// A bulkhead from options; with `adaptive`, its limit adapts (`maxConcurrent` is then the
    /// adaptive limit's to set: giving both is an error).
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let config = BulkheadConfig::from_options(opts, unit)?;
        let r = OptionReader::new(opts, &[BULKHEAD_OPTIONS], "a bulkhead", unit)?;
        if matches!(r.get("adaptive"), None | Some((_, OptionValue::Null | OptionValue::Bool(false)))) {
            return Self::new(config);
        }
        #[cfg(not(feature = "full"))]
        {
            Err(SeawallError::not_in_module("an adaptive bulkhead", crate::error::IN_FULL))
        }
        #[cfg(feature = "full")]
        Self::adaptive(config, &r, unit)
    }

    #[cfg(feature = "full")]
    fn adaptive(config: BulkheadConfig, r: &OptionReader<'_>, unit: TimeUnit) -> Result<Self> {
        let adaptive = match r.get("adaptive") {
            Some((key, OptionValue::Str(word))) => {
                let o = vec![("algorithm".to_string(), OptionValue::Str(word.clone()))];
                nested(key, AdaptiveConfig::from_options(&o, unit))?
            }
            Some((key, OptionValue::Map(o))) => nested(key, AdaptiveConfig::from_options(o, unit))?,
            Some((key, other)) => {
                return Err(SeawallError::wrong_type(key, crate::options::describe(other), "an algorithm (gradient2, vegas or aimd) or an adaptive limit's options"))
            }
            None => return Self::new(config),
        };
        if let Some((key, _)) = r.get("maxConcurrent") {
            return Err(SeawallError::wrong_type(key, format!("{}", config.max_concurrent), "nothing with adaptive (the adaptive limit's minLimit and maxLimit bound it)"));
        }
        let capacity = adaptive.max_limit.min(defaults::MAX_SLOTS);
        let mut b = Self::new(BulkheadConfig { max_concurrent: capacity, ..config })?;
        b.limit = adaptive.initial_limit.min(capacity);
        b.adapting = Some(Box::new(Adapting { limiter: AdaptiveLimiter::new(adaptive, 0), started: vec![(0.0, 0); capacity as usize] }));
        Ok(b)
    }

    pub fn config(&self) -> &BulkheadConfig {
        &self.config
    }

    fn tick(&mut self, now: f64) -> f64 {
        self.now.tick(now)
    }

    pub fn try_acquire(&mut self, now: f64) -> Admission {
        self.handle_timeout(now);
        let now = self.tick(now);
        // Queued callers go first: a free slot with a queue can only be a moment before
        // `release` hands it over, and new arrivals must not overtake.
        if self.queue.is_empty() && self.slots.in_use() < self.limit {
            if let Some(token) = self.slots.take() {
                self.metrics.executed += 1;
                self.started(token, now);
                return Admission::Run(BulkheadPermit(token));
            }
        }
        if (self.queue.len() as u32) < self.config.max_queue {
            let ticket = self.next_ticket;
            self.next_ticket += 1;
            let deadline = self.config.queue_timeout_ms.map_or(f64::INFINITY, |t| now + t);
            self.queue.push_back((ticket, deadline));
            self.metrics.enqueued += 1;
            return Admission::Queued { ticket, position: self.queue.len() as u32 };
        }
        self.metrics.rejected += 1;
        Admission::Rejected(if self.config.max_queue == 0 { RejectReason::Full } else { RejectReason::QueueFull })
    }

    /// Ends a running call. Returns the ticket that starts now in its place, with its permit.
    pub fn release(&mut self, now: f64, permit: BulkheadPermit) -> Result<Option<(Ticket, BulkheadPermit)>> {
        self.slots.give_back(permit.0, "bulkhead permit")?;
        self.metrics.completed += 1;
        self.handle_timeout(now);
        #[cfg(feature = "full")]
        if let Some(a) = &mut self.adapting {
            // The call's time in the bulkhead is its sample; the limit moves as the limiter says.
            let now = self.now.get();
            let (started, in_flight) = a.started[(permit.0 & 0xF_FFFF) as usize];
            a.limiter.observe(now, now - started, in_flight, LimitOutcome::Success);
            self.limit = a.limiter.limit().min(self.config.max_concurrent);
        }
        Ok(self.start_next())
    }

    /// Records when an admitted call started (an adaptive bulkhead's sample).
    #[cfg_attr(not(feature = "full"), allow(unused_variables))]
    fn started(&mut self, token: SlotToken, now: f64) {
        #[cfg(feature = "full")]
        {
            let in_use = self.slots.in_use();
            if let Some(a) = &mut self.adapting {
                a.started[(token & 0xF_FFFF) as usize] = (now, in_use);
            }
        }
    }

    fn start_next(&mut self) -> Option<(Ticket, BulkheadPermit)> {
        if self.queue.is_empty() || self.slots.in_use() >= self.limit {
            return None;
        }
        let token = self.slots.take()?;
        let (ticket, _) = if self.config.lifo { self.queue.pop_back()? } else { self.queue.pop_front()? };
        let now = self.now.get();
        self.started(token, now);
        Some((ticket, BulkheadPermit(token)))
    }

    /// Removes a queued ticket (its caller gave up); `false` if it is not queued.
    pub fn cancel(&mut self, ticket: Ticket) -> bool {
        match self.queue.iter().position(|(t, _)| *t == ticket) {
            Some(i) => {
                self.queue.remove(i);
                self.metrics.cancelled += 1;
                true
            }
            None => false,
        }
    }

    pub fn poll_timeout(&self) -> Option<f64> {
        // Deadlines are `enqueue time + the same timeout`, so the head's is the earliest.
        self.queue.front().map(|(_, d)| *d).filter(|d| d.is_finite())
    }

    pub fn handle_timeout(&mut self, now: f64) {
        let now = self.tick(now);
        while let Some(&(ticket, deadline)) = self.queue.front() {
            if deadline > now {
                break;
            }
            self.queue.pop_front();
            self.expired.push_back(ticket);
            self.metrics.timed_out += 1;
        }
    }

    /// The next ticket that waited too long; its caller fails with `BULKHEAD_QUEUE_TIMEOUT`.
    pub fn poll_expired(&mut self) -> Option<Ticket> {
        self.expired.pop_front()
    }

    pub fn metrics(&self) -> BulkheadMetrics {
        BulkheadMetrics {
            active: self.slots.in_use(),
            queued: self.queue.len() as u32,
            available: self.limit.saturating_sub(self.slots.in_use()),
            max_concurrent: self.limit,
            ..self.metrics
        }
    }

    /// Calls that may run at once now (the adaptive limit, for an adaptive bulkhead).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn active(&self) -> u32 {
        self.slots.in_use()
    }

    pub fn queued(&self) -> u32 {
        self.queue.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_checks_hold_at_their_bounds() {
        let id = Spelling::canonical();
        let ok = |c: BulkheadConfig| c.check(&id).is_ok();
        let base = BulkheadConfig { max_concurrent: 2, max_queue: 0, queue_timeout_ms: None, lifo: false };
        assert!(ok(BulkheadConfig { max_concurrent: defaults::MAX_SLOTS, ..base }));
        assert!(!ok(BulkheadConfig { max_concurrent: defaults::MAX_SLOTS + 1, ..base }));
        assert!(!ok(BulkheadConfig { max_concurrent: 0, ..base }));
        assert!(ok(BulkheadConfig { max_queue: MAX_QUEUE_LIMIT, ..base }));
        assert!(!ok(BulkheadConfig { max_queue: MAX_QUEUE_LIMIT + 1, ..base }));
        assert!(ok(BulkheadConfig { queue_timeout_ms: Some(0.5), ..base }));
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            assert!(!ok(BulkheadConfig { queue_timeout_ms: Some(bad), ..base }), "{bad}");
        }
        // The slot limit is what permit encoding allows: 2^20 - 2.
        assert_eq!(defaults::MAX_SLOTS, 1_048_574);
        assert_eq!(Bulkhead::new(base).unwrap().config(), &base);
    }

    fn bh(c: u32, q: u32, t: Option<f64>) -> Bulkhead {
        Bulkhead::new(BulkheadConfig { max_concurrent: c, max_queue: q, queue_timeout_ms: t, lifo: false }).unwrap()
    }

    #[test]
    fn runs_queues_rejects_and_hands_over() {
        let mut b = bh(1, 1, None);
        let Admission::Run(p) = b.try_acquire(0.0) else { panic!() };
        let Admission::Queued { ticket, position: 1 } = b.try_acquire(0.0) else { panic!() };
        assert_eq!(b.try_acquire(0.0), Admission::Rejected(RejectReason::QueueFull));
        let (next, p2) = b.release(5.0, p).unwrap().unwrap();
        assert_eq!(next, ticket);
        assert!(b.release(5.0, p).is_err(), "released twice");
        assert_eq!(b.release(6.0, p2).unwrap(), None);
        let m = b.metrics();
        assert_eq!((m.active, m.queued, m.completed, m.rejected, m.executed, m.enqueued), (0, 0, 2, 1, 1, 1));
    }

    #[test]
    fn queue_timeouts_expire_in_order() {
        let mut b = bh(1, 5, Some(100.0));
        let Admission::Run(p) = b.try_acquire(0.0) else { panic!() };
        let Admission::Queued { ticket: t1, .. } = b.try_acquire(0.0) else { panic!() };
        let Admission::Queued { ticket: t2, .. } = b.try_acquire(50.0) else { panic!() };
        assert_eq!(b.poll_timeout(), Some(100.0));
        b.handle_timeout(100.0);
        assert_eq!(b.poll_expired(), Some(t1));
        assert_eq!(b.poll_expired(), None);
        assert!(b.cancel(t2));
        assert!(!b.cancel(t2));
        assert_eq!(b.release(200.0, p).unwrap(), None);
        assert_eq!(b.metrics().timed_out, 1);
    }

    #[test]
    fn no_queue_means_full() {
        let mut b = bh(1, 0, None);
        assert!(matches!(b.try_acquire(0.0), Admission::Run(_)));
        assert_eq!(b.try_acquire(0.0), Admission::Rejected(RejectReason::Full));
        assert_eq!(RejectReason::Full.code().as_str(), "BULKHEAD_QUEUE_FULL");
    }
}
