//! An adaptive concurrency limit (Netflix's concurrency-limits: AIMD, Gradient2 and Vegas, in
//! their semantics): how many calls may run at once, moved by the round-trip times and drops the
//! calls report, so that admitted calls keep near the no-load latency when the service slows.
//!
//! Driver call order: `try_acquire(now, partition)` before a call (refused: shed it, 503);
//! `release(now, permit, outcome)` when it ends — `Success` with its RTT, `Dropped` (it timed
//! out, or the work was shed downstream), `Ignored` (it says nothing about capacity: the
//! caller's cancellation, a client error). Samples are gathered in windows (Netflix's
//! `WindowedLimit`: at least `windowSize` samples, over `minWindow`–`maxWindow`, twice the
//! window's smallest RTT) and each full window moves the limit once.
//!
//! Where this departs from Netflix's code, each for a known pathology (vectors `adaptive_*`):
//! - A drop's RTT is not a sample (#176): a request shed or failed fast takes almost no time, and
//!   averaging it in makes a struggling service look fast. A drop only marks its window.
//! - A window with drops lowers the limit in every algorithm, and a call slower than `timeout`
//!   counts as dropped (#137): Gradient2 ignored drops, so when every call timed out at the same
//!   RTT it saw no gradient and climbed to its maximum.
//! - Gradient2 adds its queue headroom only while there is no queuing (gradient 1) (#134): added
//!   under a steady gradient below 1, it held the limit up at `queueSize ÷ (1 − gradient)` (20
//!   at 0.8), a creep above what the latency asked for.
//! - Partitions (Netflix's partitioned limiter): each has a guaranteed share of the limit and
//!   may use spare capacity; a call is refused only when the limit is reached and its partition
//!   is at or over its share.

use crate::clock::Latest;
use crate::error::{fmt_num, Result, SeawallError};
use crate::json::Json;
use crate::options::{check_value, spec, Bound, Counted, Kind, OptionReader, OptionSpec, Options, Spelling, TimeUnit};
use crate::permit::{SlotTable, SlotToken};
use crate::rng::SeededRng;

/// The largest limit a limiter may reach.
pub const MAX_ADAPTIVE_LIMIT: u32 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Aimd,
    Gradient2,
    Vegas,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aimd => "aimd",
            Algorithm::Gradient2 => "gradient2",
            Algorithm::Vegas => "vegas",
        }
    }

    /// Netflix's defaults: (min, max) limit and smoothing.
    fn defaults(self) -> (u32, u32, f64) {
        match self {
            Algorithm::Aimd => (20, 200, 1.0),
            Algorithm::Gradient2 => (20, 200, 0.2),
            Algorithm::Vegas => (1, 1000, 1.0),
        }
    }
}

const LIMIT: Kind = Kind::Count(Counted { min: 1, max: MAX_ADAPTIVE_LIMIT });
const BACKOFF: Bound = Bound { expected: "a number from 0.5 to less than 1", holds: |x| (0.5..1.0).contains(&x) };
const TOLERANCE: Bound = Bound { expected: "a number ≥ 1", holds: |x| x >= 1.0 };
const SMOOTHING: Bound = Bound { expected: "a fraction greater than 0 and at most 1", holds: |x| x > 0.0 && x <= 1.0 };

pub const ADAPTIVE_OPTIONS: &[OptionSpec] = &[
    spec("algorithm", &["adaptive", "limit"], Kind::Words(&["aimd", "gradient2", "vegas"])),
    spec("initialLimit", &[], LIMIT).or(20.0),
    spec("minLimit", &[], LIMIT),
    spec("maxLimit", &["maxConcurrency"], LIMIT),
    spec("smoothing", &[], Kind::Number(SMOOTHING)),
    spec("minWindow", &["minWindowTime"], Kind::Duration { zero: false }).or(1_000.0),
    spec("maxWindow", &["maxWindowTime"], Kind::Duration { zero: false }).or(1_000.0),
    spec("windowSize", &[], Kind::Count(Counted { min: 1, max: 1_000_000 })).or(10.0),
    spec("minRtt", &["minRttThreshold"], Kind::Duration { zero: true }).or(0.1),
    spec("backoffRatio", &[], Kind::Number(BACKOFF)).or(0.9),
    spec("timeout", &[], Kind::Duration { zero: false }).or(5_000.0),
    spec("rttTolerance", &[], Kind::Number(TOLERANCE)).or(1.5),
    spec("longWindow", &[], Kind::Count(Counted { min: 1, max: 1_000_000 })).or(600.0),
    spec("queueSize", &[], Kind::Count(Counted { min: 0, max: MAX_ADAPTIVE_LIMIT })).or(4.0),
    spec("probeMultiplier", &[], Kind::Count(Counted { min: 1, max: 1_000_000 })).or(30.0),
    spec("partitions", &[], Kind::Map),
    spec("name", &[], Kind::Text),
];

#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveConfig {
    pub algorithm: Algorithm,
    pub initial_limit: u32,
    pub min_limit: u32,
    pub max_limit: u32,
    pub smoothing: f64,
    pub min_window_ms: f64,
    pub max_window_ms: f64,
    pub window_size: u32,
    /// Samples faster than this are not samples (a cache hit says nothing of capacity).
    pub min_rtt_ms: f64,
    pub backoff_ratio: f64,
    /// A call slower than this counts as dropped.
    pub timeout_ms: f64,
    pub rtt_tolerance: f64,
    pub long_window: u32,
    pub queue_size: u32,
    pub probe_multiplier: u32,
    /// Partitions by name with their guaranteed shares (fractions adding up to at most 1).
    pub partitions: Vec<(String, f64)>,
}

impl AdaptiveConfig {
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[ADAPTIVE_OPTIONS], "an adaptive limit", unit)?;
        let algorithm = match r.word("algorithm") {
            Some("aimd") => Algorithm::Aimd,
            Some("vegas") => Algorithm::Vegas,
            _ => Algorithm::Gradient2,
        };
        let (min, max, smoothing) = algorithm.defaults();
        let mut partitions = Vec::new();
        if let Some(map) = r.map("partitions") {
            let mut total = 0.0;
            for (name, share) in map {
                let key = format!("partitions.{name}");
                let x = match share {
                    crate::options::OptionValue::Number(x) if (0.0..=1.0).contains(x) => *x,
                    other => return Err(SeawallError::out_of_range(&key, crate::options::describe(other), "a share from 0 to 1")),
                };
                total += x;
                partitions.push((name.clone(), x));
            }
            if total > 1.0 + 1e-9 {
                return Err(SeawallError::out_of_range("partitions", fmt_num(total), "shares adding up to at most 1"));
            }
        }
        let cfg = AdaptiveConfig {
            algorithm,
            initial_limit: r.count("initialLimit").unwrap_or(20),
            min_limit: r.count("minLimit").unwrap_or(min),
            max_limit: r.count("maxLimit").unwrap_or(max),
            smoothing: r.number("smoothing").unwrap_or(smoothing),
            min_window_ms: r.duration("minWindow").unwrap_or(1_000.0),
            max_window_ms: r.duration("maxWindow").unwrap_or(1_000.0),
            window_size: r.count("windowSize").unwrap_or(10),
            min_rtt_ms: r.duration("minRtt").unwrap_or(0.1),
            backoff_ratio: r.number("backoffRatio").unwrap_or(0.9),
            timeout_ms: r.duration("timeout").unwrap_or(5_000.0),
            rtt_tolerance: r.number("rttTolerance").unwrap_or(1.5),
            long_window: r.count("longWindow").unwrap_or(600),
            queue_size: r.count("queueSize").unwrap_or(4),
            probe_multiplier: r.count("probeMultiplier").unwrap_or(30),
            partitions,
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        for (opt, x) in [("initialLimit", self.initial_limit), ("minLimit", self.min_limit), ("maxLimit", self.max_limit)] {
            check_value(ADAPTIVE_OPTIONS, opt, sp, f64::from(x))?;
        }
        if self.min_limit > self.max_limit {
            return Err(SeawallError::out_of_range(&sp.name("minLimit"), fmt_num(f64::from(self.min_limit)), &format!("at most maxLimit ({})", self.max_limit)));
        }
        if self.initial_limit < self.min_limit || self.initial_limit > self.max_limit {
            let expected = format!("from minLimit to maxLimit ({} to {})", self.min_limit, self.max_limit);
            return Err(SeawallError::out_of_range(&sp.name("initialLimit"), fmt_num(f64::from(self.initial_limit)), &expected));
        }
        if self.min_window_ms > self.max_window_ms {
            let expected = format!("at most maxWindow ({})", sp.duration(self.max_window_ms));
            return Err(SeawallError::out_of_range(&sp.name("minWindow"), sp.duration(self.min_window_ms), &expected));
        }
        Ok(())
    }
}

/// How a call ended, for the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitOutcome {
    Success,
    /// Timed out, or shed downstream: the service is over its capacity.
    Dropped,
    /// Says nothing about capacity (the caller's cancellation, a client error).
    Ignored,
}

impl LimitOutcome {
    /// The code every binding passes: 0 success, 1 dropped, 2 ignored.
    pub fn from_code(code: u32) -> Option<Self> {
        [LimitOutcome::Success, LimitOutcome::Dropped, LimitOutcome::Ignored].get(code as usize).copied()
    }
}

/// The samples of one window (Netflix's average sample window; drops mark it, add no RTT).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Window {
    min_rtt: f64,
    sum: f64,
    rtts: u32,
    samples: u32,
    max_in_flight: u32,
    dropped: bool,
}

impl Window {
    const EMPTY: Window = Window { min_rtt: f64::INFINITY, sum: 0.0, rtts: 0, samples: 0, max_in_flight: 0, dropped: false };
}

/// An exponential average with a warm-up (Netflix's `ExpAvgMeasurement`): the plain mean of the
/// first `warmup` samples, then each sample weighs `2 ÷ (window + 1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ExpAvg {
    value: f64,
    sum: f64,
    count: u32,
    window: u32,
}

impl ExpAvg {
    const WARMUP: u32 = 10;

    fn add(&mut self, x: f64) -> f64 {
        if self.count < Self::WARMUP {
            self.count += 1;
            self.sum += x;
            self.value = self.sum / f64::from(self.count);
        } else {
            let factor = 2.0 / (f64::from(self.window) + 1.0);
            self.value = self.value * (1.0 - factor) + x * factor;
        }
        self.value
    }
}

/// `max(1, ⌊log10 n⌋)` by integer division (the same on every platform).
fn log10_floor(n: f64) -> f64 {
    let mut n = n.max(0.0) as u64;
    let mut digits = 0u32;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    f64::from(digits.max(1))
}

/// A call admitted: its slot, start, the in-flight count it saw and its partition.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Running {
    started: f64,
    in_flight: u32,
    partition: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct AdaptiveLimiter {
    config: AdaptiveConfig,
    limit: f64,
    /// Per partition: calls in flight (all of them: the permits out, `slots.in_use()`).
    partition_in_flight: Vec<u32>,
    slots: SlotTable,
    running: Vec<Option<Running>>,
    window: Window,
    /// When the open window closes (NaN: at the first sample).
    next_update: f64,
    clock: Latest,
    long_rtt: ExpAvg,
    rtt_noload: f64,
    probe_count: u32,
    probe_jitter: f64,
    rng: SeededRng,
    admitted: u64,
    rejected: u64,
    dropped: u64,
    ignored: u64,
    windows: u64,
}

impl AdaptiveLimiter {
    pub fn new(config: AdaptiveConfig, seed: u64) -> Self {
        // Room for the limit at its largest, and the partitions' guaranteed calls beyond it.
        let capacity = config.max_limit.saturating_mul(2).min(crate::defaults::MAX_SLOTS);
        let mut rng = SeededRng::new(seed);
        let probe_jitter = rng.uniform(0.5, 1.0);
        AdaptiveLimiter {
            limit: f64::from(config.initial_limit),
            partition_in_flight: vec![0; config.partitions.len()],
            slots: SlotTable::new(capacity),
            running: vec![None; capacity as usize],
            window: Window::EMPTY,
            next_update: f64::NAN,
            clock: Latest::start(),
            long_rtt: ExpAvg { value: 0.0, sum: 0.0, count: 0, window: config.long_window },
            rtt_noload: 0.0,
            probe_count: 0,
            probe_jitter,
            rng,
            admitted: 0,
            rejected: 0,
            dropped: 0,
            ignored: 0,
            windows: 0,
            config,
        }
    }

    /// The limit in force (whole calls).
    pub fn limit(&self) -> u32 {
        self.limit as u32
    }

    pub fn in_flight(&self) -> u32 {
        self.slots.in_use()
    }

    /// The partition named `name`, if the config has it.
    pub fn partition(&self, name: &str) -> Option<usize> {
        self.config.partitions.iter().position(|(n, _)| n == name)
    }

    /// A partition's guaranteed calls: its share of the limit, at least one.
    fn share(&self, p: usize) -> u32 {
        ((self.limit.floor() * self.config.partitions[p].1).ceil() as u32).max(1)
    }

    /// Admits a call (a permit to give back with `release`), or refuses it: the limit is reached
    /// (and, with partitions, the call's partition is at or over its share).
    pub fn try_acquire(&mut self, now: f64, partition: Option<usize>) -> Option<SlotToken> {
        let now = self.clock.tick(now);
        let partition = partition.filter(|p| *p < self.config.partitions.len());
        let full = self.in_flight() >= self.limit();
        let refused = match partition {
            Some(p) => full && self.partition_in_flight[p] >= self.share(p),
            None => full,
        };
        let token = if refused { None } else { self.slots.take() };
        let Some(token) = token else {
            self.rejected += 1;
            return None;
        };
        if let Some(p) = partition {
            self.partition_in_flight[p] += 1;
        }
        self.admitted += 1;
        self.running[(token & 0xF_FFFF) as usize] = Some(Running { started: now, in_flight: self.in_flight(), partition });
        Some(token)
    }

    /// A call ended; its permit comes back once (again: `INVALID_PERMIT`, nothing changes).
    pub fn release(&mut self, now: f64, token: SlotToken, outcome: LimitOutcome) -> Result<()> {
        self.slots.give_back(token, "adaptive limit permit")?;
        let now = self.clock.tick(now);
        let Some(run) = self.running[(token & 0xF_FFFF) as usize].take() else { return Ok(()) };
        if let Some(p) = run.partition {
            self.partition_in_flight[p] -= 1;
        }
        self.observe(now, now - run.started, run.in_flight, outcome);
        Ok(())
    }

    /// A call's end reported without a permit of this limiter's (a bulkhead that adapts keeps
    /// its own): its round-trip time, the calls in flight when it started, how it ended.
    pub fn observe(&mut self, now: f64, rtt: f64, in_flight: u32, outcome: LimitOutcome) {
        let now = self.clock.tick(now);
        match outcome {
            LimitOutcome::Ignored => self.ignored += 1,
            LimitOutcome::Dropped => self.sample(now, None, in_flight),
            // A call slower than the timeout is a drop, whatever it answered (#137).
            LimitOutcome::Success if rtt > self.config.timeout_ms => self.sample(now, None, in_flight),
            LimitOutcome::Success => self.sample(now, Some(rtt), in_flight),
        }
    }

    /// One call's sample (`rtt` None: dropped) into the window; a full window moves the limit.
    fn sample(&mut self, now: f64, rtt: Option<f64>, in_flight: u32) {
        let w = &mut self.window;
        match rtt {
            // Faster than the threshold: not a sample.
            Some(ms) if ms < self.config.min_rtt_ms => return,
            Some(ms) => {
                w.min_rtt = w.min_rtt.min(ms);
                w.sum += ms;
                w.rtts += 1;
            }
            None => {
                self.dropped += 1;
                w.dropped = true;
            }
        }
        w.samples += 1;
        w.max_in_flight = w.max_in_flight.max(in_flight);
        if self.next_update.is_nan() || now > self.next_update {
            let done = std::mem::replace(&mut self.window, Window::EMPTY);
            let span = if done.min_rtt.is_finite() { done.min_rtt * 2.0 } else { self.config.max_window_ms };
            // max/min, not f64::clamp: its check of the bounds (checked with the options) would
            // print floats, pulling the standard library's float printing into the wasm builds.
            self.next_update = now + span.max(self.config.min_window_ms).min(self.config.max_window_ms);
            if done.samples >= self.config.window_size {
                self.windows += 1;
                let average = if done.rtts > 0 { done.sum / f64::from(done.rtts) } else { f64::NAN };
                self.update(average, done.max_in_flight, done.dropped);
            }
        }
    }

    /// A full window: its average RTT (NaN: all dropped), most calls in flight, any drop.
    fn update(&mut self, rtt: f64, in_flight: u32, dropped: bool) {
        let inflight = f64::from(in_flight);
        let new = if self.config.algorithm == Algorithm::Vegas { self.vegas(rtt, inflight, dropped) } else { self.gradient_or_aimd(rtt, inflight, dropped) };
        self.limit = new.max(f64::from(self.config.min_limit)).min(f64::from(self.config.max_limit));
    }

    /// AIMD's and Gradient2's next limit.
    fn gradient_or_aimd(&mut self, rtt: f64, inflight: f64, dropped: bool) -> f64 {
        let c = &self.config;
        let limit = self.limit;
        match c.algorithm {
            Algorithm::Aimd => {
                if dropped {
                    limit * c.backoff_ratio
                } else if inflight * 2.0 >= limit {
                    limit + 1.0
                } else {
                    limit
                }
            }
            Algorithm::Gradient2 => {
                if dropped {
                    // The strongest gradient Netflix allows (0.5), no headroom (#137).
                    limit * (1.0 - c.smoothing) + limit * 0.5 * c.smoothing
                } else {
                    let long = self.long_rtt.add(rtt);
                    if long / rtt > 2.0 {
                        // Latency back to normal after a long overload: bring the baseline down.
                        self.long_rtt.value *= 0.95;
                    }
                    if inflight < limit / 2.0 {
                        // Application-limited: the window says nothing about a higher limit.
                        limit
                    } else {
                        let gradient = (c.rtt_tolerance * long / rtt).clamp(0.5, 1.0);
                        // Headroom only while nothing queues (#134).
                        let headroom = if gradient >= 1.0 { f64::from(c.queue_size) } else { 0.0 };
                        let target = limit * gradient + headroom;
                        limit * (1.0 - c.smoothing) + target * c.smoothing
                    }
                }
            }
            Algorithm::Vegas => limit,
        }
    }

    fn vegas(&mut self, rtt: f64, inflight: f64, dropped: bool) -> f64 {
        let c = &self.config;
        let limit = self.limit;
        let decrease = |l: f64| l - log10_floor(l);
        let smoothed = |target: f64| limit * (1.0 - c.smoothing) + target * c.smoothing;
        if dropped {
            return smoothed(decrease(limit));
        }
        self.probe_count += 1;
        if self.probe_jitter * f64::from(c.probe_multiplier) * limit <= f64::from(self.probe_count) {
            // Probe: take this RTT as the no-load one (the old may be stale).
            self.probe_jitter = self.rng.uniform(0.5, 1.0);
            self.probe_count = 0;
            self.rtt_noload = rtt;
            return limit;
        }
        if self.rtt_noload == 0.0 || rtt < self.rtt_noload {
            self.rtt_noload = rtt;
            return limit;
        }
        if inflight * 2.0 < limit {
            return limit;
        }
        let queue = (limit * (1.0 - self.rtt_noload / rtt)).ceil();
        let log = log10_floor(limit);
        let (alpha, beta, threshold) = (3.0 * log, 6.0 * log, log);
        let target = if queue <= threshold {
            limit + beta
        } else if queue < alpha {
            limit + log
        } else if queue > beta {
            decrease(limit)
        } else {
            return limit;
        };
        smoothed(target)
    }

    /// When a shed caller should come back: when the limit next moves (the open window closes),
    /// at least a second.
    pub fn retry_after_ms(&self, now: f64) -> f64 {
        let until = if self.next_update.is_nan() { 0.0 } else { self.next_update - now };
        until.max(1_000.0)
    }

    pub fn stats_json(&self) -> Json {
        let mut partitions = Vec::new();
        for (i, (name, share)) in self.config.partitions.iter().enumerate() {
            partitions.push(Json::obj(vec![
                ("name", Json::from(name.as_str())),
                ("share", Json::Num(*share)),
                ("guaranteed", Json::from(self.share(i))),
                ("inFlight", Json::from(self.partition_in_flight[i])),
            ]));
        }
        Json::obj(vec![
            ("algorithm", Json::from(self.config.algorithm.as_str())),
            ("limit", Json::from(self.limit())),
            ("estimate", Json::Num(self.limit)),
            ("inFlight", Json::from(self.in_flight())),
            ("admitted", Json::from(self.admitted)),
            ("rejected", Json::from(self.rejected)),
            ("dropped", Json::from(self.dropped)),
            ("ignored", Json::from(self.ignored)),
            ("windows", Json::from(self.windows)),
            ("partitions", Json::Arr(partitions)),
        ])
    }
}

/// What a shed caller is told.
pub fn refusal_message(name: &str, retry_after_ms: f64) -> String {
    format!("Concurrency limit '{name}' is shedding load; try again in {} seconds", fmt_num((retry_after_ms / 1000.0).ceil()))
}

/// What a service answers a request it sheds, besides its 503: the `Retry-After` header (whole
/// seconds, at least 1) and the JSON body. `name`: the limit that shed it, its caller to come
/// back in `retry_after_ms`; none: a queue that was full or held it too long (in a second).
pub fn shed_answer(name: Option<&str>, retry_after_ms: f64) -> Vec<String> {
    let (seconds, message) = match name {
        Some(name) => {
            // The message says what the header does (`max` keeps 1 for a NaN).
            let seconds = (retry_after_ms / 1000.0).ceil().max(1.0);
            (seconds, refusal_message(name, seconds * 1000.0))
        }
        None => (1.0, "The service is at its concurrency limit and its queue is full or was too slow; try again in 1 seconds".to_string()),
    };
    let body = Json::obj(vec![
        ("error", Json::from("Service Unavailable")),
        ("code", Json::from("CONCURRENCY_LIMITED")),
        ("message", Json::from(message)),
    ]);
    vec![fmt_num(seconds), body.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(json: &str) -> AdaptiveLimiter {
        AdaptiveLimiter::new(AdaptiveConfig::from_options(&crate::options::parse_options(json).unwrap(), TimeUnit::Millis).unwrap(), 1)
    }

    #[test]
    fn refuses_at_the_limit_and_gives_permits_back_once() {
        let mut l = limiter(r#"{"algorithm":"aimd","initialLimit":2,"minLimit":1}"#);
        let a = l.try_acquire(0.0, None).unwrap();
        let _b = l.try_acquire(0.0, None).unwrap();
        assert!(l.try_acquire(0.0, None).is_none());
        l.release(5.0, a, LimitOutcome::Ignored).unwrap();
        assert!(l.release(5.0, a, LimitOutcome::Ignored).is_err());
        assert!(l.try_acquire(6.0, None).is_some());
    }

    #[test]
    fn log10_by_digits() {
        assert_eq!([0.0, 9.0, 10.0, 99.0, 100.0, 999.9, 1000.0].map(log10_floor), [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0]);
    }
}
