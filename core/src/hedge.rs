//! Hedged calls: when an attempt is slow, start another and take the first acceptable answer
//! (Polly v8's hedging, gRPC's hedging policy, Finagle's backup requests).
//!
//! A [`Hedger`] is one policy: its config, the extra-load budget and the throttle every call of
//! the policy shares, and the recent latencies a percentile delay is taken from. A
//! [`HedgeCall`] is one call's attempts. This module owns every decision: when the next attempt
//! starts, whether the budget and the throttle allow it, which attempt won and when the call has
//! failed for good. The shell starts attempts, arms one timer and cancels the losers.
//!
//! Driver call order, per call:
//! 1. `start(now)`: the first attempt (number 0) is running; start it.
//! 2. `step(&mut call, now)` answers a [`HedgeStep`]: `Launch(k)` (start attempt `k`, then step
//!    again), `Wait(t)` (wait for an attempt to settle, or until `t` if finite, then step
//!    again), `Won(k)` (attempt `k`'s answer is the call's: cancel the others and wait for them to
//!    end) or `Failed(k)` (raise attempt `k`'s error, the others attached).
//! 3. When attempt `k` settles: `settle(&mut call, k, outcome, now)`, which answers the next step.
//!
//! Launch rules:
//! - Attempts start `delay` apart while none has answered (`delay` 0: all at once); in
//!   `fallback` mode only after the one before failed. A failed attempt starts the next at once.
//! - `percentile`: the delay is that percentile of the primary attempts' recent latencies
//!   (those of the last `window`, at most [`SAMPLES`]; nearest rank, rounded up to 1% as a
//!   histogram of two significant digits reports it), recomputed at most once a second, and
//!   `delay` until enough latencies are known. A primary cancelled because a later attempt won
//!   is counted at its age then: a lower bound of its latency, and above the delay, as it was.
//! - Every attempt after the first takes a token of the budget (deposits: `ratio` per call, plus
//!   `minRetriesPerSecond`, at most `maxTokens`: Finagle's extra-load budget), and none starts
//!   while the throttle's tokens are at most half its maximum (gRPC's retry throttling: each
//!   failed attempt takes one token, and so does a slow call — one whose latest attempt had a
//!   whole delay and did not answer in it, so that more attempts would not help; each other call
//!   gives back `tokenRatio`). Refused once, a call starts no more timed attempts.
//! - Outcomes: `Success` wins; `Failure` is one the classification would retry (another attempt
//!   may answer); `Fatal` is one it would not (the call fails with it at once, as gRPC's fatal
//!   status codes); `Cancelled` (the caller's cancellation) counts neither way.

use crate::budget::{BudgetConfig, RetryBudget};
use crate::defaults;
use crate::error::{Result, SeawallError};
use crate::json::Json;
use crate::options::{check_value, nested, spec, Bound, Counted, Kind, OptionReader, OptionSpec, Options, Spelling, StringsOrCallback, TimeUnit, RATE};

/// The most attempts a call may make, the first included.
pub const MAX_HEDGE_ATTEMPTS: u32 = 10;
/// The most recent primary latencies a percentile delay is taken from.
pub const SAMPLES: usize = 1024;
/// Calls begun lazily, and of those answered, that a shell holds before handing them over, at most: tens
/// of microseconds' worth of calls, so that the budget and throttle lag by no more (and the
/// hand-over, a microsecond, costs a few nanoseconds a call).
pub const BATCH: usize = 256;
/// How often a percentile delay is recomputed, at most.
pub const REFRESH_MS: f64 = 1_000.0;

const PERCENTILE: Bound = Bound { expected: "a number greater than 0 and less than 100", holds: |x| x > 0.0 && x < 100.0 };
const THROTTLE_TOKENS: Bound = Bound { expected: "a number greater than 0 and at most 1000", holds: |x| x > 0.0 && x <= 1000.0 };

pub const HEDGE_OPTIONS: &[OptionSpec] = &[
    spec("maxAttempts", &["attempts"], Kind::Count(Counted { min: 1, max: MAX_HEDGE_ATTEMPTS })).or(defaults::HEDGE_MAX_ATTEMPTS as f64),
    spec("delay", &["hedgingDelay", "sendAfter"], Kind::Duration { zero: true }).or(defaults::HEDGE_DELAY_MS),
    spec("mode", &[], Kind::Words(&["latency", "fallback"])),
    spec("percentile", &[], Kind::Number(PERCENTILE)),
    spec("window", &["percentileWindow"], Kind::Duration { zero: false }).or(defaults::HEDGE_WINDOW_MS),
    spec("budget", &[], Kind::Part),
    spec("throttle", &[], Kind::Part),
    spec("retryableErrors", &["retryOn"], Kind::StringsOrCallback),
    // Kept by the shells: a returned value it answers true for is a failed attempt.
    spec("retryOnResult", &[], Kind::Callback),
    spec("onHedge", &[], Kind::Callback),
    spec("signal", &[], Kind::Host("an AbortSignal")),
    spec("name", &[], Kind::Text),
    // HTTP integrations only: hedge a method that is not idempotent too.
    spec("hedgeNonIdempotent", &[], Kind::Bool),
];

pub const THROTTLE_OPTIONS: &[OptionSpec] = &[
    spec("maxTokens", &[], Kind::Number(THROTTLE_TOKENS)).or(defaults::HEDGE_THROTTLE_MAX_TOKENS),
    spec("tokenRatio", &[], Kind::Number(RATE)).or(defaults::HEDGE_THROTTLE_TOKEN_RATIO),
];

/// gRPC's retry throttling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleConfig {
    pub max_tokens: f64,
    pub token_ratio: f64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig { max_tokens: defaults::HEDGE_THROTTLE_MAX_TOKENS, token_ratio: defaults::HEDGE_THROTTLE_TOKEN_RATIO }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HedgeConfig {
    /// Attempts at most, the first included (1 to [`MAX_HEDGE_ATTEMPTS`]).
    pub max_attempts: u32,
    /// Between attempts while none answered; the percentile's stand-in until it is known.
    pub delay_ms: f64,
    /// Start the next attempt only after the one before failed.
    pub fallback: bool,
    /// The delay from this percentile (0–100) of recent primary latencies.
    pub percentile: Option<f64>,
    pub window_ms: f64,
    /// `None`: hedges are not limited by a budget.
    pub budget: Option<BudgetConfig>,
    /// `None`: hedging never pauses.
    pub throttle: Option<ThrottleConfig>,
    /// Identifiers of the errors after which another attempt may help; `None`: the shell's
    /// classification alone decides.
    pub retryable: Option<Vec<String>>,
}

impl Default for HedgeConfig {
    fn default() -> Self {
        HedgeConfig {
            max_attempts: defaults::HEDGE_MAX_ATTEMPTS,
            delay_ms: defaults::HEDGE_DELAY_MS,
            fallback: false,
            percentile: None,
            window_ms: defaults::HEDGE_WINDOW_MS,
            budget: Some(BudgetConfig::default()),
            throttle: Some(ThrottleConfig::default()),
            retryable: None,
        }
    }
}

impl HedgeConfig {
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        let r = OptionReader::new(opts, &[HEDGE_OPTIONS], "a hedging policy", unit)?;
        let d = HedgeConfig::default();
        // A part: its options, `false` (or null) to leave it out, the defaults when not given.
        let budget = match r.get("budget") {
            None => d.budget,
            Some((key, _)) => match r.map("budget") {
                Some(o) => {
                    let b = nested(key, BudgetConfig::from_options(o, unit))?;
                    if b.fleet.is_some() {
                        return Err(SeawallError::wrong_type(&format!("{key}.fleet"), "an object", "no fleet (a hedging budget is this process's)"));
                    }
                    Some(b)
                }
                None => None,
            },
        };
        let throttle = match r.get("throttle") {
            None => d.throttle,
            Some((key, _)) => match r.map("throttle") {
                Some(o) => {
                    let t = nested(key, OptionReader::new(o, &[THROTTLE_OPTIONS], "a hedging throttle", unit))?;
                    let dt = ThrottleConfig::default();
                    Some(ThrottleConfig { max_tokens: t.number("maxTokens").unwrap_or(dt.max_tokens), token_ratio: t.number("tokenRatio").unwrap_or(dt.token_ratio) })
                }
                None => None,
            },
        };
        let cfg = HedgeConfig {
            max_attempts: r.count("maxAttempts").unwrap_or(d.max_attempts),
            delay_ms: r.duration("delay").unwrap_or(d.delay_ms),
            fallback: r.word("mode") == Some("fallback"),
            percentile: r.number("percentile"),
            window_ms: r.duration("window").unwrap_or(d.window_ms),
            budget,
            throttle,
            retryable: match r.strings_or_callback("retryableErrors") {
                Some(StringsOrCallback::Strings(list)) => Some(list),
                _ => None,
            },
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        check_value(HEDGE_OPTIONS, "maxAttempts", sp, f64::from(self.max_attempts))?;
        check_value(HEDGE_OPTIONS, "delay", sp, self.delay_ms)?;
        check_value(HEDGE_OPTIONS, "window", sp, self.window_ms)?;
        if let Some(p) = self.percentile {
            check_value(HEDGE_OPTIONS, "percentile", sp, p)?;
            if self.fallback {
                // A fallback-mode call never waits on a delay: a percentile would be ignored.
                return Err(SeawallError::wrong_type(&sp.name("percentile"), crate::error::fmt_num(p), "no percentile in fallback mode (attempts start only after failures)"));
            }
        }
        if let Some(b) = &self.budget {
            nested("budget", b.check(sp))?;
        }
        if let Some(t) = &self.throttle {
            nested("throttle", check_value(THROTTLE_OPTIONS, "maxTokens", sp, t.max_tokens))?;
            nested("throttle", check_value(THROTTLE_OPTIONS, "tokenRatio", sp, t.token_ratio))?;
        }
        Ok(())
    }

    /// Latencies needed before a percentile replaces `delay`: ten beyond it (twenty at least),
    /// so that one outlier cannot set it.
    pub fn min_samples(&self) -> usize {
        match self.percentile {
            None => usize::MAX,
            Some(p) => {
                let beyond = 1.0 - p / 100.0;
                ((10.0 / beyond).ceil() as usize).clamp(20, SAMPLES)
            }
        }
    }

    /// Whether an error with these identifiers may be followed by another attempt; `true` when
    /// the policy has no list.
    pub fn is_retryable(&self, ids: &[&str]) -> bool {
        match &self.retryable {
            None => true,
            Some(list) => ids.iter().any(|id| list.iter().any(|r| r == id)),
        }
    }

    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("maxAttempts", Json::from(self.max_attempts)),
            ("delay", Json::Num(self.delay_ms)),
            ("mode", Json::from(if self.fallback { "fallback" } else { "latency" })),
            ("percentile", self.percentile.map_or(Json::Null, Json::Num)),
            ("window", Json::Num(self.window_ms)),
            ("budget", self.budget.as_ref().map_or(Json::Null, BudgetConfig::to_json)),
            (
                "throttle",
                self.throttle.map_or(Json::Null, |t| Json::obj(vec![("maxTokens", Json::Num(t.max_tokens)), ("tokenRatio", Json::Num(t.token_ratio))])),
            ),
        ])
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Success,
    /// Another attempt may answer.
    Failure,
    /// No attempt will answer: the call fails with this one.
    Fatal,
    /// The caller's cancellation: counts neither way.
    Cancelled,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Success => "success",
            AttemptOutcome::Failure => "failure",
            AttemptOutcome::Fatal => "fatal",
            AttemptOutcome::Cancelled => "cancelled",
        }
    }

    /// The code every binding passes: 0 success, 1 failure, 2 fatal, 3 cancelled.
    pub fn from_code(code: u32) -> Option<Self> {
        [AttemptOutcome::Success, AttemptOutcome::Failure, AttemptOutcome::Fatal, AttemptOutcome::Cancelled].get(code as usize).copied()
    }
}

/// What the shell does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HedgeStep {
    /// Start attempt `k` now.
    Launch(u32),
    /// Wait for an attempt to settle, or until this time (infinite: no timer).
    Wait(f64),
    /// Attempt `k` answered for the call.
    Won(u32),
    /// The call failed: raise attempt `k`'s error.
    Failed(u32),
}

/// Why an attempt was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Budget,
    Throttle,
}

/// One call's attempts. Small and `Copy`: a shell keeps one per call without allocating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HedgeCall {
    launched: u32,
    /// Attempts running, one bit each.
    running: u32,
    /// When each attempt started.
    started: [f64; MAX_HEDGE_ATTEMPTS as usize],
    /// When the next attempt is due (infinite: none is, until one fails).
    next_at: f64,
    /// The delay this call waits between attempts (read once, at its start).
    delay_ms: f64,
    /// Refused by the budget or throttle: starts no more attempts.
    refused: bool,
    ended: Option<HedgeStep>,
}

impl HedgeCall {
    pub fn launched(&self) -> u32 {
        self.launched
    }

    /// The delay this call waits between attempts.
    pub fn delay_ms(&self) -> f64 {
        self.delay_ms
    }

    /// Whether attempt `k` is running.
    pub fn is_running(&self, k: u32) -> bool {
        k < MAX_HEDGE_ATTEMPTS && self.running & (1 << k) != 0
    }
}

/// A hedging policy's shared state.
#[derive(Debug, Clone)]
pub struct Hedger {
    config: HedgeConfig,
    budget: Option<RetryBudget>,
    throttle_tokens: f64,
    /// Recent primary latencies `(at, ms)`, a ring of at most [`SAMPLES`].
    samples: Vec<(f64, f64)>,
    next_sample: usize,
    /// Scratch space for the percentile (allocated once).
    scratch: Vec<f64>,
    delay_ms: f64,
    /// When the delay was last computed (NaN: never).
    computed_at: f64,
    calls: u64,
    hedges: u64,
    hedge_wins: u64,
    budget_refused: u64,
    throttle_refused: u64,
}

impl Hedger {
    pub fn new(config: HedgeConfig, now: f64) -> Self {
        let keep = if config.percentile.is_some() { SAMPLES } else { 0 };
        Hedger {
            budget: config.budget.map(|b| RetryBudget::new(b, now)),
            throttle_tokens: config.throttle.map_or(0.0, |t| t.max_tokens),
            samples: Vec::with_capacity(keep),
            next_sample: 0,
            scratch: Vec::with_capacity(keep),
            delay_ms: config.delay_ms,
            computed_at: f64::NAN,
            calls: 0,
            hedges: 0,
            hedge_wins: 0,
            budget_refused: 0,
            throttle_refused: 0,
            config,
        }
    }

    pub fn config(&self) -> &HedgeConfig {
        &self.config
    }

    /// A call begins: its first attempt is running.
    pub fn start(&mut self, now: f64) -> HedgeCall {
        self.begun(1, now);
        let delay_ms = self.delay(now);
        self.start_begun(now, delay_ms)
    }

    /// `n` calls began (each earns its share of extra load: Finagle deposits per request); `n`
    /// at most [`BATCH`] (a shell hands its calls over at least that often).
    /// With [`Hedger::answered`] and [`Hedger::start_begun`], a shell begins its calls lazily:
    /// a call whose primary answers in time never needs a machine of its own, and the shell
    /// hands such calls over in batches (before anything else it asks of this policy, so that
    /// every decision sees them).
    pub fn begun(&mut self, n: u32, now: f64) {
        self.calls += u64::from(n);
        if let Some(b) = &mut self.budget {
            b.record_successes(n, now);
        }
    }

    /// The machine of a call already [`begun`](Hedger::begun) at `started`, waiting `delay_ms`
    /// (the delay in force when it began, from [`Hedger::lazy_delay`]): its primary is running.
    pub fn start_begun(&mut self, started_at: f64, delay_ms: f64) -> HedgeCall {
        let mut started = [f64::NAN; MAX_HEDGE_ATTEMPTS as usize];
        started[0] = started_at;
        let next_at = started_at + self.first_wait(delay_ms);
        HedgeCall { launched: 1, running: 1, started, next_at, delay_ms, refused: false, ended: None }
    }

    /// A begun call's primary answered acceptably at `ended`, nothing else started: what
    /// [`Hedger::settle`] does for it, without a machine.
    pub fn answered(&mut self, started: f64, ended: f64, delay_ms: f64) {
        self.primary_won(started, started, delay_ms, ended, true);
    }

    /// `n` begun calls' primaries answered acceptably before their deadlines (unread times: a
    /// policy without a percentile needs no latencies), nothing else started: none was slow.
    pub fn answered_in_time(&mut self, n: u32) {
        // One by one: the same sums as settled calls, to the last bit.
        for _ in 0..n {
            self.throttle_succeeded();
        }
    }

    /// For a shell beginning calls lazily, at `now`: `(delay, until, wake, timed)` — the delay
    /// every call begun before `until` waits; after how long such a call needs its machine if
    /// its primary has not answered (+∞: only if it fails; 0: at once, so begin it eagerly); and
    /// whether an answered call's times are needed ([`Hedger::answered`], a percentile's
    /// latencies) or its count will do ([`Hedger::answered_in_time`]).
    pub fn lazy_delay(&mut self, now: f64) -> (f64, f64, f64, bool) {
        let delay = self.delay(now);
        let timed = self.config.percentile.is_some();
        let until = if timed { self.computed_at + REFRESH_MS } else { f64::INFINITY };
        (delay, until, self.first_wait(delay), timed)
    }

    /// How long after a call began its second attempt is due, waiting `delay_ms` (+∞: only
    /// after a failure — fallback mode, or a single attempt).
    fn first_wait(&self, delay_ms: f64) -> f64 {
        if self.config.fallback || self.config.max_attempts == 1 {
            f64::INFINITY
        } else {
            delay_ms
        }
    }

    /// What the shell does next.
    pub fn step(&mut self, call: &mut HedgeCall, now: f64) -> HedgeStep {
        if let Some(end) = call.ended {
            return end;
        }
        if call.launched < self.config.max_attempts && !call.refused && now >= call.next_at {
            match self.admit(now) {
                Ok(()) => {
                    let k = call.launched;
                    call.launched += 1;
                    call.running |= 1 << k;
                    call.started[k as usize] = now;
                    self.hedges += 1;
                    call.next_at = if self.config.fallback || call.launched == self.config.max_attempts { f64::INFINITY } else { now + call.delay_ms };
                    return HedgeStep::Launch(k);
                }
                Err(_) => {
                    call.refused = true;
                    call.next_at = f64::INFINITY;
                }
            }
        }
        if call.running == 0 {
            // Every attempt failed (each took its throttle token) and none may start: the
            // primary's error is the call's.
            return self.end(call, HedgeStep::Failed(0));
        }
        HedgeStep::Wait(if call.refused || call.launched == self.config.max_attempts { f64::INFINITY } else { call.next_at })
    }

    /// Attempt `k` settled; answers the next step. An attempt not running is an error
    /// (`INVALID_PERMIT`), and changes nothing.
    pub fn settle(&mut self, call: &mut HedgeCall, k: u32, outcome: AttemptOutcome, now: f64) -> Result<HedgeStep> {
        if call.ended.is_some() || !call.is_running(k) {
            return Err(SeawallError::invalid_permit(&format!("attempt {k} of this hedged call")));
        }
        call.running &= !(1 << k);
        match outcome {
            AttemptOutcome::Success => {
                if k > 0 {
                    self.hedge_wins += 1;
                }
                let latest = call.started[(call.launched - 1) as usize];
                self.primary_won(call.started[0], latest, call.delay_ms, now, k == 0 || call.is_running(0));
                return Ok(self.end(call, HedgeStep::Won(k)));
            }
            AttemptOutcome::Failure => {
                self.throttle_failed();
                call.next_at = now;
            }
            AttemptOutcome::Fatal => {
                self.throttle_failed();
                return Ok(self.end(call, HedgeStep::Failed(k)));
            }
            AttemptOutcome::Cancelled => {}
        }
        Ok(self.step(call, now))
    }

    /// A call won at `now`: its throttle token, and its primary's latency when the primary was
    /// still running (`sample`).
    fn primary_won(&mut self, started: f64, latest: f64, delay_ms: f64, now: f64, sample: bool) {
        // Slow: even the latest attempt had a whole delay and did not answer in it (an outage,
        // not a tail: more attempts would not help). An unhedged call (the throttle or the
        // budget said no) that took longer than the delay is slow too, so that the throttle
        // stays shut while the outage lasts.
        let slow = delay_ms > 0.0 && !self.config.fallback && now - latest > delay_ms;
        if slow {
            self.throttle_failed();
        } else {
            self.throttle_succeeded();
        }
        if sample {
            self.sample(now, now - started);
        }
    }

    fn end(&mut self, call: &mut HedgeCall, how: HedgeStep) -> HedgeStep {
        call.ended = Some(how);
        how
    }

    /// A good call gives `tokenRatio` back to the throttle.
    fn throttle_succeeded(&mut self) {
        if let Some(t) = self.config.throttle {
            self.throttle_tokens = (self.throttle_tokens + t.token_ratio).min(t.max_tokens);
        }
    }

    fn throttle_failed(&mut self) {
        if self.config.throttle.is_some() {
            self.throttle_tokens = (self.throttle_tokens - 1.0).max(0.0);
        }
    }

    fn admit(&mut self, now: f64) -> core::result::Result<(), Refusal> {
        if let Some(t) = self.config.throttle {
            if self.throttle_tokens <= t.max_tokens / 2.0 {
                self.throttle_refused += 1;
                return Err(Refusal::Throttle);
            }
        }
        if let Some(b) = &mut self.budget {
            if !b.try_withdraw(now) {
                self.budget_refused += 1;
                return Err(Refusal::Budget);
            }
        }
        Ok(())
    }

    fn sample(&mut self, at: f64, ms: f64) {
        if self.config.percentile.is_none() || !ms.is_finite() {
            return;
        }
        let ms = ms.max(0.0);
        if self.samples.len() < SAMPLES {
            self.samples.push((at, ms));
        } else {
            self.samples[self.next_sample] = (at, ms);
        }
        self.next_sample = (self.next_sample + 1) % SAMPLES;
    }

    /// The delay in force at `now`: the configured one, or the percentile of the window's
    /// primary latencies once there are enough, recomputed at most every [`REFRESH_MS`].
    pub fn delay(&mut self, now: f64) -> f64 {
        let Some(p) = self.config.percentile else { return self.config.delay_ms };
        // Never computed (NaN) or a refresh due.
        if self.computed_at.is_nan() || now - self.computed_at >= REFRESH_MS {
            self.computed_at = now;
            let since = now - self.config.window_ms;
            self.scratch.clear();
            self.scratch.extend(self.samples.iter().filter(|(at, _)| *at >= since).map(|(_, ms)| *ms));
            let n = self.scratch.len();
            if n >= self.config.min_samples() {
                // Nearest rank: the smallest latency at least p% of the window's are at or below.
                let rank = ((p / 100.0 * n as f64).ceil() as usize).clamp(1, n) - 1;
                let (_, v, _) = self.scratch.select_nth_unstable_by(rank, f64::total_cmp);
                self.delay_ms = round_up(*v);
            } else {
                self.delay_ms = self.config.delay_ms;
            }
        }
        self.delay_ms
    }

    pub fn stats_json(&mut self, now: f64) -> Json {
        let delay = self.delay(now);
        Json::obj(vec![
            ("calls", Json::from(self.calls)),
            ("hedges", Json::from(self.hedges)),
            ("hedgeWins", Json::from(self.hedge_wins)),
            ("budgetRefused", Json::from(self.budget_refused)),
            ("throttleRefused", Json::from(self.throttle_refused)),
            ("delayMs", Json::Num(delay)),
            ("budgetTokens", self.budget.as_mut().map_or(Json::Null, |b| Json::Num(b.tokens(now)))),
            ("throttleTokens", if self.config.throttle.is_some() { Json::Num(self.throttle_tokens) } else { Json::Null }),
        ])
    }
}

/// A latency rounded up to the next step of 1% (steps of `1.01^k` ms): the highest value a
/// histogram of two significant digits, as Finagle's and HdrHistogram's, reports for it. So a
/// percentile delay errs on the side of fewer hedges, never more.
fn round_up(ms: f64) -> f64 {
    if ms.is_nan() || ms <= 1.0 || ms.is_infinite() {
        return ms.max(0.0);
    }
    // By multiplication, not logarithms: the same steps on every platform (a library's `ln`
    // and `powf` may differ in the last bit), and at most once a second.
    let mut step = 1.0;
    while step < ms {
        step *= PERCENT_STEP;
    }
    step
}

const PERCENT_STEP: f64 = 1.01;

#[cfg(test)]
mod tests {
    use super::*;

    fn hedger(json: &str) -> Hedger {
        Hedger::new(HedgeConfig::from_options(&crate::options::parse_options(json).unwrap(), TimeUnit::Millis).unwrap(), 0.0)
    }

    #[test]
    fn a_primary_answering_before_the_delay_launches_nothing() {
        let mut h = hedger(r#"{"delay":50}"#);
        let mut c = h.start(0.0);
        assert_eq!(h.step(&mut c, 0.0), HedgeStep::Wait(50.0));
        assert_eq!(h.settle(&mut c, 0, AttemptOutcome::Success, 10.0).unwrap(), HedgeStep::Won(0));
        assert!(h.settle(&mut c, 0, AttemptOutcome::Success, 10.0).is_err(), "settled twice");
    }

    #[test]
    fn a_slow_primary_gets_a_hedge_and_the_hedge_can_win() {
        let mut h = hedger(r#"{"delay":50,"maxAttempts":3}"#);
        let mut c = h.start(0.0);
        assert_eq!(h.step(&mut c, 50.0), HedgeStep::Launch(1));
        assert_eq!(h.step(&mut c, 60.0), HedgeStep::Wait(100.0));
        assert_eq!(h.settle(&mut c, 1, AttemptOutcome::Success, 70.0).unwrap(), HedgeStep::Won(1));
    }

    #[test]
    fn failures_start_the_next_at_once_and_all_failing_fails_with_the_primary() {
        let mut h = hedger(r#"{"delay":50,"maxAttempts":2}"#);
        let mut c = h.start(0.0);
        assert_eq!(h.settle(&mut c, 0, AttemptOutcome::Failure, 5.0).unwrap(), HedgeStep::Launch(1));
        assert_eq!(h.settle(&mut c, 1, AttemptOutcome::Failure, 9.0).unwrap(), HedgeStep::Failed(0));
    }

    #[test]
    fn a_hedging_budget_is_this_processs() {
        let o = crate::options::parse_options(r#"{"budget":{"name":"b","fleet":{"redis":"<object>"}}}"#).unwrap();
        let e = HedgeConfig::from_options(&o, TimeUnit::Millis).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("budget.fleet"));
    }

    #[test]
    fn the_throttle_stops_hedging_after_failures() {
        let mut h = hedger(r#"{"delay":0,"maxAttempts":2,"budget":false,"throttle":{"maxTokens":4}}"#);
        {
            let mut c = h.start(0.0);
            assert_eq!(h.step(&mut c, 0.0), HedgeStep::Launch(1));
            h.settle(&mut c, 0, AttemptOutcome::Failure, 1.0).unwrap();
            h.settle(&mut c, 1, AttemptOutcome::Failure, 1.0).unwrap();
        }
        let mut c = h.start(0.0);
        assert_eq!(h.step(&mut c, 0.0), HedgeStep::Wait(f64::INFINITY), "two failed attempts: 2 of 4 tokens left, at half: no hedge");
    }
}
