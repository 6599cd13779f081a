//! The circuit breaker. Every transition lives in this file, in [`CircuitBreaker::decide`]: one
//! `match` over (state, input) that reads as the state diagram.
//!
//! ```text
//! CLOSED    --trip (consecutive failures | failure rate | slow-call rate)--> OPEN
//! OPEN      --reset timeout elapsed (checked on acquire / handle_timeout)--> HALF_OPEN
//! HALF_OPEN --a probe fails, or is slow when slow calls can trip---------> OPEN (open longer)
//! HALF_OPEN --successThreshold probes succeed------------------------------> CLOSED
//! any       --open() / forceOpen() (isolate) / reset() / disable()------> OPEN / FORCED_OPEN / CLOSED / DISABLED
//! ```
//!
//! # Driver contract (sans-I/O, after quinn-proto)
//! Time is monotonic milliseconds passed in; an earlier or NaN `now` counts as the latest seen.
//! - **Inputs**: `try_acquire(now)` before each call → a [`Permit`] or a [`Rejection`]. After the
//!   call, exactly one of `record_success(now, permit, duration)`, `record_failure(now, permit,
//!   duration)` or `release(now, permit)` (cancelled, or an outcome that should not count).
//!   Every permit must be given back once; a permit given back twice is refused with
//!   `INVALID_PERMIT`.
//! - **Timers**: `poll_timeout()` is the next deadline (the end of the open period);
//!   `handle_timeout(now)` performs a due transition. `try_acquire` and `state_at` call it, so
//!   a shell without timers only misses the moment of the HALF_OPEN event, not the behaviour.
//! - **Outputs**: `poll_event()` drains state changes in order; call it after any input.
//! - **Getters**: `state()`, `stats(now)`, `remaining_open_ms(now)`, `config()`.
//! - **Mutators**: `open`, `force_open` (`isolate`), `reset`, `disable`, `restore`.
//!
//! No allocation after construction on the acquire/record path.
//!
//! Beside the machine: its configuration (`config.rs`: options read and checked once) and what
//! it reports (`report.rs`: counters, stats, the saved state a restarted process restores).

use std::collections::VecDeque;

mod config;
mod report;

pub use config::{BreakerConfig, BREAKER_OPTIONS};
pub use report::{BreakerSnapshot, BreakerStats, Totals};


use crate::backoff::pow_capped;
use crate::clock::Latest;
use crate::error::{fmt_num, Result, SeawallError};
use crate::fleet::{FleetHealth, FleetMark, FleetTally, ReplicaReport};
use crate::options::{Options, Spelling, TimeUnit};
use crate::permit::SlotTable;
use crate::window::Window;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
    /// Held open until `reset()` (Resilience4j FORCED_OPEN, cockatiel `isolate()`).
    ForcedOpen,
    /// Lets every call through and never trips.
    Disabled,
}

impl CircuitState {
    pub const ALL: [CircuitState; 5] =
        [CircuitState::Closed, CircuitState::Open, CircuitState::HalfOpen, CircuitState::ForcedOpen, CircuitState::Disabled];

    pub const fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "CLOSED",
            CircuitState::Open => "OPEN",
            CircuitState::HalfOpen => "HALF_OPEN",
            CircuitState::ForcedOpen => "FORCED_OPEN",
            CircuitState::Disabled => "DISABLED",
        }
    }

    pub fn parse(s: &str) -> Option<CircuitState> {
        CircuitState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// A small number for FFI and the Prometheus state gauge.
    pub const fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<CircuitState> {
        CircuitState::ALL.get(c as usize).copied()
    }

    /// Whether `try_acquire` in this state always answers an ordinary permit, whatever the time,
    /// so that a shell may admit a call without asking (see [`Permit::PREAPPROVED`]). The state
    /// can only leave these through an input the shell makes (a record, a command).
    pub const fn admits_unconditionally(self) -> bool {
        matches!(self, CircuitState::Closed | CircuitState::Disabled)
    }

    /// Whether calls are refused in this state (half-open refuses once its probes are taken).
    pub const fn is_rejecting(self) -> bool {
        matches!(self, CircuitState::Open | CircuitState::ForcedOpen)
    }
}

/// Why a transition happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionReason {
    ConsecutiveFailures,
    FailureRate,
    SlowCallRate,
    ResetTimeoutElapsed,
    ProbeFailed,
    ProbeSlow,
    ProbesSucceeded,
    ManualOpen,
    ForcedOpen,
    ManualReset,
    Disabled,
    Restored,
    /// The fleet's failures crossed a threshold on at least `minReplicas` replicas.
    FleetQuorum,
    /// Another replica opened the fleet's breaker.
    FleetOpened,
    /// This replica holds the fleet's probe lease: its probes speak for the fleet.
    ProbeLeaseGranted,
    /// The fleet's probe succeeded (on another replica): the fleet closes together.
    FleetClosed,
}

impl TransitionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionReason::ConsecutiveFailures => "CONSECUTIVE_FAILURES",
            TransitionReason::FailureRate => "FAILURE_RATE",
            TransitionReason::SlowCallRate => "SLOW_CALL_RATE",
            TransitionReason::ResetTimeoutElapsed => "RESET_TIMEOUT_ELAPSED",
            TransitionReason::ProbeFailed => "PROBE_FAILED",
            TransitionReason::ProbeSlow => "PROBE_SLOW",
            TransitionReason::ProbesSucceeded => "PROBES_SUCCEEDED",
            TransitionReason::ManualOpen => "MANUAL_OPEN",
            TransitionReason::ForcedOpen => "FORCED_OPEN",
            TransitionReason::ManualReset => "MANUAL_RESET",
            TransitionReason::Disabled => "DISABLED",
            TransitionReason::Restored => "RESTORED",
            TransitionReason::FleetQuorum => "FLEET_QUORUM",
            TransitionReason::FleetOpened => "FLEET_OPENED",
            TransitionReason::ProbeLeaseGranted => "PROBE_LEASE_GRANTED",
            TransitionReason::FleetClosed => "FLEET_CLOSED",
        }
    }
}

/// One state change, drained by the shell with `poll_event`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateChange {
    pub from: CircuitState,
    pub to: CircuitState,
    pub at: f64,
    pub reason: TransitionReason,
}

/// Leave to make one call. `raw()` crosses FFI as a number (0 for an ordinary call, probe
/// tokens from 1, [`Permit::PREAPPROVED`] for a call admitted without asking), exact in a JS
/// double.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit(u64);

impl Permit {
    /// The permit of a call a shell admitted without calling `try_acquire`, which it may do
    /// exactly while the last state the breaker reported [`CircuitState::admits_unconditionally`]
    /// (in those states `try_acquire` can only answer an ordinary permit). Recording it counts
    /// the acquire first, so counts stay exact; saves one crossing per call on the hot path.
    pub const PREAPPROVED: Permit = Permit(1 << 52);

    pub const fn raw(self) -> u64 {
        self.0
    }
    pub const fn from_raw(raw: u64) -> Permit {
        Permit(raw)
    }
    pub const fn is_probe(self) -> bool {
        self.0 != 0 && self.0 != Permit::PREAPPROVED.0
    }
}

/// A refused call: the state that refused it and, when known, how long until it may pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rejection {
    pub state: CircuitState,
    /// `None` when forced open (until someone resets it) or half-open with every probe taken.
    pub retry_after_ms: Option<f64>,
}

impl Rejection {
    /// The user-facing message: starts with "Circuit breaker" and says when to retry.
    pub fn message(&self, name: &str) -> String {
        let who = if name.is_empty() { String::new() } else { format!(" '{name}'") };
        match (self.state, self.retry_after_ms) {
            (CircuitState::HalfOpen, _) => {
                format!("Circuit breaker{who} is half-open and its trial calls are in flight; try again shortly")
            }
            (CircuitState::ForcedOpen, _) => format!("Circuit breaker{who} is forced open; calls are refused until it is reset"),
            (_, Some(ms)) => {
                let secs = (ms / 1000.0).ceil().max(0.0);
                format!("Circuit breaker{who} is open; try again in {} seconds", fmt_num(secs))
            }
            (_, None) => format!("Circuit breaker{who} is open"),
        }
    }
}

/// How a finished call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Success,
    Failure,
    /// Neither: cancelled, or an outcome the shell was told not to count (a 4xx).
    Ignored,
}

/// What the transition table is asked about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    TimerElapsed,
    /// A recorded outcome. `current_probe`: a probe of this half-open period. `trip`: in CLOSED,
    /// the rule the outcome broke. `bad_probe`: in HALF_OPEN, why the probe counts as failed.
    Outcome { current_probe: bool, trip: Option<TransitionReason>, bad_probe: Option<TransitionReason> },
    Open,
    ForceOpen,
    Reset,
    Disable,
    /// The fleet's rule says open (the reason is the rule's).
    FleetTrip(TransitionReason),
    FleetOpened,
    LeaseGranted,
    FleetClosed,
}

const EVENT_QUEUE_LIMIT: usize = 64;

#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: CircuitState,
    now: Latest,
    open_until: f64,
    opened_at: Option<f64>,
    /// Opens since the breaker last closed; grows the open period when a multiplier is set.
    open_count: u32,
    probes: SlotTable,
    half_open_successes: u32,
    window: Window,
    consecutive_failures: u32,
    consecutive_successes: u32,
    last_failure_at: Option<f64>,
    last_success_at: Option<f64>,
    in_flight: u32,
    totals: Totals,
    events: VecDeque<StateChange>,
    dropped_events: u64,
    /// Open because of the fleet: the next probe needs the fleet's lease.
    fleet_open: bool,
    /// The shared store answers (fleet mode only): while it does not, the breaker decides alone.
    fleet_shared: bool,
    /// When the breaker last closed: fleet reports made before then are of the last outage.
    fleet_closed_at: f64,
    /// The last sync: when, and how many replicas reported.
    fleet_synced_at: f64,
    fleet_replicas: u32,
    /// Until when this replica holds the fleet's probe lease (as it took it).
    fleet_lease_until: f64,
    /// What the fleet must learn of this breaker's changes, oldest first (see `take_fleet_marks`).
    fleet_marks: Vec<FleetMark>,
}

impl CircuitBreaker {
    /// A closed breaker. The config is checked (use `from_options` for user input).
    pub fn new(config: BreakerConfig) -> Result<Self> {
        config.check(&Spelling::canonical())?;
        Ok(CircuitBreaker {
            probes: SlotTable::new(config.half_open_max_calls),
            window: Window::new(config.window),
            config,
            state: CircuitState::Closed,
            now: Latest::start(),
            open_until: 0.0,
            opened_at: None,
            open_count: 0,
            half_open_successes: 0,
            consecutive_failures: 0,
            consecutive_successes: 0,
            last_failure_at: None,
            last_success_at: None,
            in_flight: 0,
            totals: Totals::default(),
            events: VecDeque::with_capacity(EVENT_QUEUE_LIMIT),
            dropped_events: 0,
            fleet_open: false,
            fleet_shared: true,
            fleet_closed_at: f64::NEG_INFINITY,
            fleet_synced_at: f64::NEG_INFINITY,
            fleet_replicas: 0,
            fleet_lease_until: f64::NEG_INFINITY,
            fleet_marks: Vec::new(),
        })
    }

    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        Self::new(BreakerConfig::from_options(opts, unit)?)
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    pub fn state(&self) -> CircuitState {
        self.state
    }

    /// The state at `now`, after any due OPEN → HALF_OPEN transition.
    pub fn state_at(&mut self, now: f64) -> CircuitState {
        self.handle_timeout(now);
        self.state
    }

    /// Clock readings never go backwards here: an earlier, NaN or infinite time counts as the
    /// latest.
    fn tick(&mut self, now: f64) -> f64 {
        self.now.tick(now)
    }

    // ---- the transition table -------------------------------------------------------------

    fn decide(&self, input: Input) -> Option<(CircuitState, TransitionReason)> {
        use CircuitState::*;
        use TransitionReason as R;
        match (self.state, input) {
            // Opened by the fleet, the probe waits for the fleet's lease (one prober per cooldown).
            (Open, Input::TimerElapsed) if self.awaits_lease() => None,
            (Open, Input::TimerElapsed) => Some((HalfOpen, R::ResetTimeoutElapsed)),
            (Closed | HalfOpen | ForcedOpen | Disabled, Input::TimerElapsed) => None,

            (Closed, Input::Outcome { trip: Some(reason), .. }) => Some((Open, reason)),
            (HalfOpen, Input::Outcome { current_probe: true, bad_probe: Some(reason), .. }) => Some((Open, reason)),
            (HalfOpen, Input::Outcome { current_probe: true, bad_probe: None, .. })
                if self.half_open_successes >= self.config.success_threshold =>
            {
                Some((Closed, R::ProbesSucceeded))
            }
            (Closed | Open | HalfOpen | ForcedOpen | Disabled, Input::Outcome { .. }) => None,

            (Closed | Open | HalfOpen | ForcedOpen | Disabled, Input::Open) => Some((Open, R::ManualOpen)),
            (ForcedOpen, Input::ForceOpen) => None,
            (Closed | Open | HalfOpen | Disabled, Input::ForceOpen) => Some((ForcedOpen, R::ForcedOpen)),
            (Closed, Input::Reset) => None,
            (Open | HalfOpen | ForcedOpen | Disabled, Input::Reset) => Some((Closed, R::ManualReset)),
            (Disabled, Input::Disable) => None,
            (Closed | Open | HalfOpen | ForcedOpen, Input::Disable) => Some((Disabled, R::Disabled)),

            (Closed, Input::FleetTrip(reason)) => Some((Open, reason)),
            (Open | HalfOpen | ForcedOpen | Disabled, Input::FleetTrip(_)) => None,
            (Closed, Input::FleetOpened) => Some((Open, R::FleetOpened)),
            (Open | HalfOpen | ForcedOpen | Disabled, Input::FleetOpened) => None,
            (Open, Input::LeaseGranted) if self.awaits_lease() && self.now.get() >= self.open_until => {
                Some((HalfOpen, R::ProbeLeaseGranted))
            }
            (Closed | Open | HalfOpen | ForcedOpen | Disabled, Input::LeaseGranted) => None,
            (Open, Input::FleetClosed) if self.fleet_open => Some((Closed, R::FleetClosed)),
            (Closed | Open | HalfOpen | ForcedOpen | Disabled, Input::FleetClosed) => None,
        }
    }

    /// Runs the table and, on a transition, the entry actions of the new state.
    fn step(&mut self, now: f64, input: Input) {
        let Some((to, reason)) = self.decide(input) else { return };
        let from = self.state;
        // An OPEN → HALF_OPEN change happened when the open period ended, not when observed.
        let at = if reason == TransitionReason::ResetTimeoutElapsed { self.open_until } else { now };
        self.enter(to, at, reason);
        self.push_event(StateChange { from, to, at, reason });
    }

    fn enter(&mut self, to: CircuitState, at: f64, reason: TransitionReason) {
        self.state = to;
        self.totals.state_changes += 1;
        self.probes.clear();
        self.half_open_successes = 0;
        match to {
            CircuitState::Closed => {
                self.window.clear();
                self.consecutive_failures = 0;
                self.open_count = 0;
                self.opened_at = None;
                self.fleet_open = false;
                self.fleet_closed_at = at;
                // The fleet's probe (this replica held the lease) succeeded: the fleet closes
                // with it. Closing for any other reason (a reset, a local probe) is this
                // replica's own affair.
                if reason == TransitionReason::ProbesSucceeded && at < self.fleet_lease_until {
                    self.fleet_lease_until = f64::NEG_INFINITY;
                    self.mark_for_fleet(FleetMark::Closed);
                }
            }
            CircuitState::Open => {
                // Opened by the fleet, or reopened by a fleet probe that failed: the fleet's.
                self.fleet_open = match reason {
                    TransitionReason::FleetQuorum | TransitionReason::FleetOpened => true,
                    TransitionReason::ProbeFailed | TransitionReason::ProbeSlow => self.fleet_open,
                    _ => false,
                };
                // This replica's view of the fleet's reports opened it: the others must know.
                if reason == TransitionReason::FleetQuorum {
                    self.mark_for_fleet(FleetMark::Opened);
                }
                self.open_count = match reason {
                    TransitionReason::ProbeFailed | TransitionReason::ProbeSlow => self.open_count.saturating_add(1),
                    _ => 1,
                };
                self.open_until = at + self.open_duration();
                self.opened_at = Some(at);
                self.window.clear();
            }
            CircuitState::ForcedOpen => {
                self.opened_at = Some(at);
                self.window.clear();
                self.fleet_open = false;
            }
            CircuitState::HalfOpen | CircuitState::Disabled => {}
        }
    }

    /// The open period for the current `open_count`: `reset · multiplier^(opens−1)`, capped.
    fn open_duration(&self) -> f64 {
        let c = &self.config;
        let cap = c.max_reset_timeout_ms.max(c.reset_timeout_ms);
        let growth = pow_capped(c.reset_backoff_multiplier, self.open_count.saturating_sub(1), cap / c.reset_timeout_ms);
        (c.reset_timeout_ms * growth).min(cap)
    }

    fn push_event(&mut self, e: StateChange) {
        if self.events.len() == EVENT_QUEUE_LIMIT {
            self.events.pop_front();
            self.dropped_events += 1;
        }
        self.events.push_back(e);
    }

    // ---- inputs ---------------------------------------------------------------------------

    /// When an open breaker lets a probe through: the timer to arm. `None` while a breaker the
    /// fleet opened waits for the fleet's lease (the sync drives it, not a timer).
    pub fn poll_timeout(&self) -> Option<f64> {
        (self.state == CircuitState::Open && !self.awaits_lease()).then_some(self.open_until)
    }

    pub fn handle_timeout(&mut self, now: f64) {
        let now = self.tick(now);
        if self.state == CircuitState::Open && now >= self.open_until {
            self.step(now, Input::TimerElapsed);
        }
    }

    /// Asks to make a call at `now`.
    pub fn try_acquire(&mut self, now: f64) -> std::result::Result<Permit, Rejection> {
        self.handle_timeout(now);
        let now = self.tick(now);
        let granted = match self.state {
            CircuitState::Closed | CircuitState::Disabled => Ok(Permit(0)),
            CircuitState::HalfOpen => match self.probes.take() {
                Some(token) => Ok(Permit(token + 1)),
                None => Err(Rejection { state: CircuitState::HalfOpen, retry_after_ms: None }),
            },
            CircuitState::Open => Err(Rejection { state: CircuitState::Open, retry_after_ms: Some(self.open_left(now)) }),
            CircuitState::ForcedOpen => Err(Rejection { state: CircuitState::ForcedOpen, retry_after_ms: None }),
        };
        match granted {
            Ok(_) => self.in_flight += 1,
            Err(_) => self.totals.rejected_calls += 1,
        }
        granted
    }

    pub fn record_success(&mut self, now: f64, permit: Permit, duration_ms: f64) -> Result<()> {
        self.record(now, permit, CallOutcome::Success, duration_ms)
    }

    pub fn record_failure(&mut self, now: f64, permit: Permit, duration_ms: f64) -> Result<()> {
        self.record(now, permit, CallOutcome::Failure, duration_ms)
    }

    /// Gives a permit back without an outcome (cancelled, or not to be counted).
    pub fn release(&mut self, now: f64, permit: Permit) -> Result<()> {
        self.record(now, permit, CallOutcome::Ignored, 0.0)
    }

    /// Reports how a permitted call ended.
    pub fn record(&mut self, now: f64, permit: Permit, outcome: CallOutcome, duration_ms: f64) -> Result<()> {
        let now = self.tick(now);
        let permit = if permit == Permit::PREAPPROVED {
            self.in_flight += 1;
            Permit(0)
        } else {
            permit
        };
        if self.in_flight == 0 {
            return Err(SeawallError::invalid_permit("circuit breaker permit"));
        }
        // A probe of the current half-open period holds a slot; a probe from an earlier period
        // (the state moved on while it ran) is an ordinary late call.
        let current_probe = permit.is_probe() && self.probes.is_outstanding(permit.0 - 1);
        if current_probe {
            self.probes.give_back(permit.0 - 1, "circuit breaker probe")?;
        }
        self.in_flight -= 1;
        if outcome == CallOutcome::Ignored {
            self.totals.ignored_calls += 1;
            return Ok(());
        }
        let failure = outcome == CallOutcome::Failure;
        let slow = self.config.slow_call_duration_ms.is_some_and(|t| duration_ms > t);
        self.totals.total_calls += 1;
        self.totals.slow_calls += slow as u64;
        if failure {
            self.totals.failed_calls += 1;
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.consecutive_successes = 0;
            self.last_failure_at = Some(now);
        } else {
            self.totals.successful_calls += 1;
            self.consecutive_successes = self.consecutive_successes.saturating_add(1);
            self.consecutive_failures = 0;
            self.last_success_at = Some(now);
        }
        let input = match self.state {
            CircuitState::Closed => {
                self.window.record(now, failure, slow);
                Input::Outcome { current_probe: false, trip: self.trip_rule(now), bad_probe: None }
            }
            CircuitState::HalfOpen if current_probe => {
                let bad_probe = if failure {
                    Some(TransitionReason::ProbeFailed)
                } else if slow && self.config.slow_call_rate_threshold.is_some() {
                    Some(TransitionReason::ProbeSlow)
                } else {
                    self.half_open_successes += 1;
                    None
                };
                Input::Outcome { current_probe: true, trip: None, bad_probe }
            }
            _ => Input::Outcome { current_probe: false, trip: None, bad_probe: None },
        };
        self.step(now, input);
        Ok(())
    }

    /// Whether a success recorded in `state` could change nothing but counters: the state admits
    /// unconditionally and no rate or slow-call rule looks at successes. A shell may then count
    /// successes itself and hand them over with [`record_successes`](Self::record_successes)
    /// before its next input (in order, so no decision sees a different history).
    pub fn success_is_inert_in(&self, state: CircuitState) -> bool {
        let c = &self.config;
        state.admits_unconditionally()
            && c.failure_rate_threshold.is_none()
            && c.slow_call_rate_threshold.is_none()
            && c.slow_call_duration_ms.is_none()
    }

    /// Records `count` successful calls admitted without asking (see
    /// [`success_is_inert_in`](Self::success_is_inert_in)), in O(1). Outside an inert state it
    /// records them one by one, so the result is exactly that of recording each.
    pub fn record_successes(&mut self, now: f64, count: u32) {
        if count == 0 {
            return;
        }
        if !self.success_is_inert_in(self.state) {
            for _ in 0..count {
                let _ = self.record(now, Permit::PREAPPROVED, CallOutcome::Success, 0.0);
            }
            return;
        }
        let now = self.tick(now);
        let n = count as u64;
        self.totals.total_calls += n;
        self.totals.successful_calls += n;
        self.consecutive_successes = self.consecutive_successes.saturating_add(count);
        self.consecutive_failures = 0;
        self.last_success_at = Some(now);
        if self.state == CircuitState::Closed {
            self.window.record_successes(now, count);
        }
    }

    /// In CLOSED, the first rule the window now breaks, if any.
    fn trip_rule(&mut self, now: f64) -> Option<TransitionReason> {
        let c = &self.config;
        if c.failure_threshold.is_some_and(|t| self.consecutive_failures >= t) {
            return Some(TransitionReason::ConsecutiveFailures);
        }
        if c.failure_rate_threshold.is_none() && c.slow_call_rate_threshold.is_none() {
            return None;
        }
        let w = self.window.totals(now);
        if w.calls < c.volume_threshold || w.calls == 0 {
            return None;
        }
        let calls = w.calls as f64;
        if c.failure_rate_threshold.is_some_and(|r| w.failures as f64 / calls >= r) {
            return Some(TransitionReason::FailureRate);
        }
        if c.slow_call_rate_threshold.is_some_and(|r| w.slow as f64 / calls >= r) {
            return Some(TransitionReason::SlowCallRate);
        }
        None
    }

    // ---- the fleet (rules in fleet.rs) ------------------------------------------------------

    /// Opened by the fleet and the store answers: the probe waits for the fleet's lease.
    fn awaits_lease(&self) -> bool {
        self.fleet_open && self.fleet_shared && self.config.fleet.is_some()
    }

    /// This replica's report for the fleet: its window's counts and its run of failures. Only
    /// a closed breaker has any to report: the failures before it opened have been acted on (the
    /// window is cleared on opening), and counting them again would reopen the fleet as soon as
    /// its probe closed it.
    pub fn fleet_report(&mut self, now: f64) -> ReplicaReport {
        let now = self.tick(now);
        let w = self.window.totals(now);
        let run = if self.state == CircuitState::Closed { self.consecutive_failures } else { 0 };
        ReplicaReport { calls: w.calls, failures: w.failures, slow: w.slow, consecutive_failures: run, age_ms: 0.0 }
    }

    /// The replicas' reports read at a sync (this one's included). A closed breaker opens when
    /// the fleet's rule says so; reports made before this breaker last closed are left out (they
    /// describe the outage it has just seen end). Answers the tally the rule looked at.
    pub fn handle_fleet_reports(&mut self, now: f64, reports: &[ReplicaReport]) -> FleetTally {
        let now = self.tick(now);
        let Some(fleet) = self.config.fleet else { return FleetTally::default() };
        let since = self.fleet_closed_at;
        let fresh: Vec<ReplicaReport> = reports.iter().copied().filter(|r| now - r.age_ms >= since).collect();
        let tally = FleetTally::of(&fleet, &fresh);
        (self.fleet_synced_at, self.fleet_replicas) = (now, tally.replicas);
        if self.fleet_shared {
            if let Some(reason) = crate::fleet::judge(&self.config, &fleet, &tally) {
                self.step(now, Input::FleetTrip(reason));
            }
        }
        tally
    }

    /// Another replica opened the fleet's breaker (its announcement, or the store's state).
    pub fn handle_fleet_opened(&mut self, now: f64) {
        let now = self.tick(now);
        if self.config.fleet.is_some() && self.fleet_shared {
            self.step(now, Input::FleetOpened);
        }
    }

    /// Whether this replica should try to take the fleet's probe lease now: the fleet opened it,
    /// its open period is over, and the store answers.
    pub fn wants_probe_lease(&mut self, now: f64) -> bool {
        let now = self.tick(now);
        self.state == CircuitState::Open && self.awaits_lease() && now >= self.open_until
    }

    /// How long to take the probe lease for: one open period. A holder whose probe fails keeps
    /// it until it expires, so the fleet sends one probe per cooldown whoever holds it; a
    /// holder whose probes succeed gives it back as the fleet closes.
    pub fn probe_lease_ms(&self) -> f64 {
        // Whole milliseconds, at least one: what Redis's `SET … PX` takes, from every shell.
        self.open_duration().ceil().max(1.0)
    }

    /// This replica took the lease: it goes half-open and probes for the fleet.
    pub fn handle_probe_lease(&mut self, now: f64) {
        let now = self.tick(now);
        self.fleet_lease_until = now + self.probe_lease_ms();
        self.step(now, Input::LeaseGranted);
    }

    /// A mark for the fleet's store; one of each kind waits at most (a newer one replaces it).
    fn mark_for_fleet(&mut self, mark: FleetMark) {
        if self.config.fleet.is_some() {
            self.fleet_marks.retain(|m| *m != mark);
            self.fleet_marks.push(mark);
        }
    }

    /// The marks the fleet must learn (the fleet's sync sends them), oldest first; taken out.
    pub fn take_fleet_marks(&mut self) -> Vec<FleetMark> {
        std::mem::take(&mut self.fleet_marks)
    }

    /// The fleet's probe succeeded elsewhere: a breaker the fleet opened closes too.
    pub fn handle_fleet_closed(&mut self, now: f64) {
        let now = self.tick(now);
        self.step(now, Input::FleetClosed);
    }

    /// Whether the shared store answers. While it does not, the breaker decides alone (an open
    /// period that ends lets a probe through here); when it answers again, it rejoins.
    pub fn set_fleet_shared(&mut self, now: f64, shared: bool) {
        self.fleet_shared = shared;
        self.handle_timeout(now);
    }

    /// For health and metrics; `None` without a fleet.
    pub fn fleet_health(&mut self, now: f64) -> Option<FleetHealth> {
        let now = self.tick(now);
        let fleet = self.config.fleet?;
        Some(FleetHealth::at(now, self.fleet_shared, self.fleet_replicas, self.fleet_synced_at, fleet.stale_after_ms))
    }

    /// `(store answering, replicas at the last sync)` for metrics; `None` without a fleet.
    pub fn fleet_gauges(&self) -> Option<(bool, u32)> {
        self.config.fleet.map(|_| (self.fleet_shared, self.fleet_replicas))
    }

    /// `(opened by the fleet, store answering)`.
    pub fn fleet_status(&self) -> (bool, bool) {
        (self.fleet_open, self.fleet_shared)
    }

    // ---- mutators -------------------------------------------------------------------------

    /// Opens the breaker now, for the normal open period (`open()`).
    pub fn open(&mut self, now: f64) {
        let now = self.tick(now);
        self.step(now, Input::Open);
    }

    /// Holds the breaker open until `reset` (`isolate`).
    pub fn force_open(&mut self, now: f64) {
        let now = self.tick(now);
        self.step(now, Input::ForceOpen);
    }

    /// Closes the breaker and forgets counts and statistics; the config stays.
    pub fn reset(&mut self, now: f64) {
        let now = self.tick(now);
        self.step(now, Input::Reset);
        // Entry actions of CLOSED ran if the state changed; a reset also clears the rest.
        self.window.clear();
        self.consecutive_failures = 0;
        self.consecutive_successes = 0;
        self.open_count = 0;
        self.last_failure_at = None;
        self.last_success_at = None;
        let changes = self.totals.state_changes;
        self.totals = Totals { state_changes: changes, ..Totals::default() };
    }

    /// Lets every call through and stops tripping until `reset`.
    pub fn disable(&mut self, now: f64) {
        let now = self.tick(now);
        self.step(now, Input::Disable);
    }

    // ---- outputs and getters ---------------------------------------------------------------

    pub fn poll_event(&mut self) -> Option<StateChange> {
        self.events.pop_front()
    }

    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// How long an open breaker stays open from `now`; 0 when not open, `None` when forced open.
    /// Time left open. Past its open period a breaker waiting for the fleet's lease answers one
    /// sync interval (when the lease may next be taken), never "now", which would invite a spin.
    fn open_left(&self, now: f64) -> f64 {
        match self.config.fleet {
            Some(f) if self.awaits_lease() && now >= self.open_until => f.sync_interval_ms,
            _ => (self.open_until - now).max(0.0),
        }
    }

    pub fn remaining_open_ms(&mut self, now: f64) -> Option<f64> {
        let now = self.tick(now);
        match self.state {
            CircuitState::Open => Some(self.open_left(now)),
            CircuitState::ForcedOpen => None,
            _ => Some(0.0),
        }
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    pub fn stats(&mut self, now: f64) -> BreakerStats {
        self.handle_timeout(now);
        let now = self.tick(now);
        let w = self.window.totals(now);
        let rate = |n: u32| if w.calls == 0 { 0.0 } else { n as f64 / w.calls as f64 };
        BreakerStats {
            state: self.state,
            totals: self.totals,
            consecutive_failures: self.consecutive_failures,
            consecutive_successes: self.consecutive_successes,
            last_failure_at: self.last_failure_at,
            last_success_at: self.last_success_at,
            opened_at: self.opened_at,
            next_attempt_at: (self.state == CircuitState::Open).then_some(self.open_until),
            open_count: self.open_count,
            in_flight: self.in_flight,
            half_open_in_flight: self.probes.in_use(),
            window_calls: w.calls,
            window_failures: w.failures,
            window_slow_calls: w.slow,
            failure_rate: rate(w.failures),
            slow_call_rate: rate(w.slow),
            dropped_events: self.dropped_events,
        }
    }

    // ---- persistence ------------------------------------------------------------------------

    pub fn snapshot(&mut self, now: f64) -> BreakerSnapshot {
        self.handle_timeout(now);
        let now = self.tick(now);
        let age = |t: Option<f64>| t.map(|t| (now - t).max(0.0));
        BreakerSnapshot {
            version: 1,
            state: self.state,
            open_remaining_ms: (self.state == CircuitState::Open).then(|| (self.open_until - now).max(0.0)),
            open_count: self.open_count,
            consecutive_failures: self.consecutive_failures,
            consecutive_successes: self.consecutive_successes,
            totals: self.totals,
            last_failure_age_ms: age(self.last_failure_at),
            last_success_age_ms: age(self.last_success_at),
            window: self.window.contents(now),
        }
    }

    /// Loads saved state at `now`. Calls in flight are kept; a saved HALF_OPEN comes back as
    /// OPEN with no time left, so the next call starts a fresh probe round.
    pub fn restore(&mut self, now: f64, snap: &BreakerSnapshot) -> Result<()> {
        let now = self.tick(now);
        if snap.version != 1 {
            return Err(SeawallError::invalid_snapshot(&format!("unknown version {}", snap.version)));
        }
        let ok_age = |x: Option<f64>| x.is_none_or(|v| v.is_finite() && v >= 0.0);
        if !ok_age(snap.open_remaining_ms) || !ok_age(snap.last_failure_age_ms) || !ok_age(snap.last_success_age_ms) {
            return Err(SeawallError::invalid_snapshot("times must be finite and ≥ 0"));
        }
        if snap.window.iter().any(|c| c.failures > c.calls || c.slow > c.calls) {
            return Err(SeawallError::invalid_snapshot("a window entry has more failures than calls"));
        }
        let from = self.state;
        let (state, remaining) = match snap.state {
            CircuitState::HalfOpen => (CircuitState::Open, Some(0.0)),
            CircuitState::Open => (CircuitState::Open, Some(snap.open_remaining_ms.unwrap_or(0.0))),
            s => (s, None),
        };
        self.state = state;
        self.probes.clear();
        self.half_open_successes = 0;
        self.open_count = snap.open_count;
        self.open_until = now + remaining.unwrap_or(0.0);
        self.opened_at = state.is_rejecting().then_some(now);
        self.consecutive_failures = snap.consecutive_failures;
        self.consecutive_successes = snap.consecutive_successes;
        self.totals = snap.totals;
        self.last_failure_at = snap.last_failure_age_ms.map(|a| now - a);
        self.last_success_at = snap.last_success_age_ms.map(|a| now - a);
        self.window.restore(now, if state == CircuitState::Closed { &snap.window } else { &[] });
        // Listeners hear of the change; the counters stay the saved ones (counting it would grow
        // `stateChanges` on every restart: found by fuzzing save → restore → save).
        if from != state {
            self.push_event(StateChange { from, to: state, at: now, reason: TransitionReason::Restored });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::config::MAX_COUNT;
    use crate::fleet::FleetConfig;
    use crate::json::Json;
    use crate::window::WindowConfig;
    use super::*;

    /// `check` on configs built in code (options are refused earlier, by the reader): each bound
    /// on both sides.
    #[test]
    fn config_checks_hold_at_their_bounds() {
        let id = Spelling::canonical();
        let ok = |f: &dyn Fn(&mut BreakerConfig)| {
            let mut c = BreakerConfig::default();
            f(&mut c);
            c.check(&id).is_ok()
        };
        assert!(ok(&|c| c.failure_threshold = Some(MAX_COUNT)));
        assert!(!ok(&|c| c.failure_threshold = Some(MAX_COUNT + 1)));
        assert!(!ok(&|c| c.failure_threshold = Some(0)));
        assert!(ok(&|c| c.failure_rate_threshold = Some(1.0)));
        assert!(!ok(&|c| c.failure_rate_threshold = Some(0.0)));
        assert!(!ok(&|c| c.failure_rate_threshold = Some(1.5)));
        assert!(!ok(&|c| c.failure_rate_threshold = Some(f64::NAN)));
        assert!(ok(&|c| c.reset_timeout_ms = 0.5));
        assert!(!ok(&|c| c.reset_timeout_ms = 0.0));
        assert!(ok(&|c| c.reset_backoff_multiplier = 1.0));
        assert!(!ok(&|c| c.reset_backoff_multiplier = 0.5));
        assert!(!ok(&|c| c.reset_backoff_multiplier = f64::INFINITY));
        assert!(!ok(&|c| c.reset_timeout_ms = f64::INFINITY));
        // Only a failure rate (no consecutive rule) is a way to trip; none at all is not.
        assert!(ok(&|c| {
            c.failure_threshold = None;
            c.failure_rate_threshold = Some(0.5);
        }));
        assert!(!ok(&|c| c.failure_threshold = None));
        // The longest open period may equal the first.
        assert!(ok(&|c| c.max_reset_timeout_ms = c.reset_timeout_ms));
        assert!(!ok(&|c| c.max_reset_timeout_ms = c.reset_timeout_ms - 1.0));
    }

    #[test]
    fn a_rate_rule_alone_turns_the_consecutive_rule_off() {
        let read = |text: &str| BreakerConfig::from_options(&crate::engine::parse_options(text).unwrap(), TimeUnit::Millis).unwrap();
        assert_eq!(read(r#"{}"#).failure_threshold, BreakerConfig::default().failure_threshold);
        assert_eq!(read(r#"{"failureRateThreshold":0.5}"#).failure_threshold, None);
        assert_eq!(read(r#"{"slowCallRateThreshold":0.5,"slowCallDurationThreshold":100}"#).failure_threshold, None);
        assert_eq!(read(r#"{"failureRateThreshold":0.5,"failureThreshold":4}"#).failure_threshold, Some(4));
    }

    #[test]
    fn state_codes_and_refusing_states() {
        for s in CircuitState::ALL {
            assert_eq!(CircuitState::from_code(s.code()), Some(s));
        }
        assert_eq!(CircuitState::from_code(CircuitState::ALL.len() as u8), None);
        let refusing: Vec<_> = CircuitState::ALL.into_iter().filter(|s| s.is_rejecting()).collect();
        assert_eq!(refusing, [CircuitState::Open, CircuitState::ForcedOpen]);
    }

    #[test]
    fn restore_refuses_any_bad_age_and_rebuilds_times_and_window() {
        let mut b = breaker(|c| c.failure_threshold = Some(10));
        fail(&mut b, 100.0);
        succeed(&mut b, 150.0);
        let snap = b.snapshot(200.0);
        for bad in [
            BreakerSnapshot { last_failure_age_ms: Some(-1.0), ..snap.clone() },
            BreakerSnapshot { last_success_age_ms: Some(f64::NAN), ..snap.clone() },
            BreakerSnapshot { open_remaining_ms: Some(f64::INFINITY), ..snap.clone() },
        ] {
            assert!(breaker(|_| {}).restore(0.0, &bad).is_err(), "{bad:?}");
        }
        let mut again = breaker(|c| c.failure_threshold = Some(10));
        again.restore(1000.0, &snap).unwrap();
        let st = again.stats(1000.0);
        assert_eq!((st.last_failure_at, st.last_success_at), (Some(900.0), Some(950.0)), "ages from the new now");
        assert_eq!((st.window_calls, st.window_failures), (2, 1), "a closed breaker keeps its window");
    }

    #[test]
    fn unpolled_events_beyond_the_queue_are_counted_as_dropped() {
        let mut b = breaker(|_| {});
        for i in 0..EVENT_QUEUE_LIMIT + 5 {
            if i % 2 == 0 {
                b.force_open(i as f64);
            } else {
                b.reset(i as f64);
            }
        }
        assert_eq!(b.stats(100.0).dropped_events, 5);
        assert_eq!(std::iter::from_fn(|| b.poll_event()).count(), EVENT_QUEUE_LIMIT);
    }

    #[test]
    fn a_call_exactly_as_long_as_the_slow_threshold_is_not_slow() {
        let mut b = breaker(|c| c.slow_call_duration_ms = Some(100.0));
        let p = b.try_acquire(0.0).unwrap();
        b.record_success(100.0, p, 100.0).unwrap();
        let p = b.try_acquire(0.0).unwrap();
        b.record_success(100.5, p, 100.5).unwrap();
        assert_eq!(b.totals().slow_calls, 1);
    }

    #[test]
    fn a_failure_rate_below_the_threshold_does_not_trip() {
        let mut b = breaker(|c| {
            c.failure_threshold = None;
            c.failure_rate_threshold = Some(0.5);
            c.volume_threshold = 4;
            c.window = WindowConfig::Count { size: 4 };
        });
        fail(&mut b, 0.0);
        for t in 1..4 {
            succeed(&mut b, t as f64);
        }
        assert_eq!(b.state(), CircuitState::Closed, "1 failure in 4 is 25%");
        fail(&mut b, 5.0);
        assert_eq!(b.state(), CircuitState::Closed, "the last 4: 1 failure");
        fail(&mut b, 6.0);
        assert_eq!(b.state(), CircuitState::Open, "the last 4: 2 failures, 50%");
    }

    #[test]
    fn reset_keeps_the_count_of_state_changes_and_forced_open_has_no_end() {
        let mut b = breaker(|_| {});
        b.force_open(0.0);
        assert_eq!(b.remaining_open_ms(1.0), None);
        b.reset(2.0);
        assert_eq!(b.totals().state_changes, 2);
        assert_eq!(b.remaining_open_ms(3.0), Some(0.0));
    }

    #[test]
    fn in_flight_counts_permits_not_yet_returned() {
        let mut b = breaker(|_| {});
        let p = b.try_acquire(0.0).unwrap();
        let q = b.try_acquire(0.0).unwrap();
        assert_eq!(b.in_flight(), 2);
        b.release(1.0, p).unwrap();
        b.release(1.0, q).unwrap();
        assert_eq!(b.in_flight(), 0);
    }

    fn breaker(f: impl FnOnce(&mut BreakerConfig)) -> CircuitBreaker {
        let mut c = BreakerConfig { failure_threshold: Some(3), reset_timeout_ms: 1000.0, half_open_max_calls: 1, ..Default::default() };
        f(&mut c);
        CircuitBreaker::new(c).unwrap()
    }

    fn fail(b: &mut CircuitBreaker, t: f64) {
        let p = b.try_acquire(t).unwrap();
        b.record_failure(t, p, 1.0).unwrap();
    }

    fn succeed(b: &mut CircuitBreaker, t: f64) {
        let p = b.try_acquire(t).unwrap();
        b.record_success(t, p, 1.0).unwrap();
    }

    #[test]
    fn trips_after_consecutive_failures_and_recovers() {
        let mut b = breaker(|_| {});
        fail(&mut b, 0.0);
        fail(&mut b, 1.0);
        succeed(&mut b, 2.0);
        fail(&mut b, 3.0);
        fail(&mut b, 4.0);
        assert_eq!(b.state(), CircuitState::Closed);
        fail(&mut b, 5.0);
        assert_eq!(b.state(), CircuitState::Open);
        let e = b.poll_event().unwrap();
        assert_eq!((e.from, e.to, e.reason), (CircuitState::Closed, CircuitState::Open, TransitionReason::ConsecutiveFailures));
        assert_eq!(b.try_acquire(500.0).unwrap_err(), Rejection { state: CircuitState::Open, retry_after_ms: Some(505.0) });
        let probe = b.try_acquire(1005.0).unwrap();
        assert!(probe.is_probe());
        assert_eq!(b.poll_event().unwrap().at, 1005.0);
        assert_eq!(b.try_acquire(1006.0).unwrap_err().state, CircuitState::HalfOpen);
        b.record_success(1010.0, probe, 5.0).unwrap();
        assert_eq!(b.state(), CircuitState::Closed);
        assert!(b.record_success(1010.0, probe, 5.0).is_err(), "a permit comes back once");
    }

    #[test]
    fn failed_probe_reopens_for_longer_with_backoff() {
        let mut b = breaker(|c| {
            c.reset_backoff_multiplier = 2.0;
            c.max_reset_timeout_ms = 3000.0;
        });
        for t in 0..3 {
            fail(&mut b, t as f64);
        }
        assert_eq!(b.poll_timeout(), Some(1002.0));
        fail(&mut b, 1002.0);
        assert_eq!(b.poll_timeout(), Some(3002.0));
        fail(&mut b, 3002.0);
        assert_eq!(b.poll_timeout(), Some(6002.0), "capped at maxResetTimeout");
        succeed(&mut b, 6002.0);
        assert_eq!(b.state(), CircuitState::Closed);
        for t in 0..3 {
            fail(&mut b, 7000.0 + t as f64);
        }
        assert_eq!(b.poll_timeout(), Some(8002.0), "closing resets the growth");
    }

    #[test]
    fn failure_rate_needs_volume() {
        let mut b = breaker(|c| {
            c.failure_threshold = None;
            c.failure_rate_threshold = Some(0.5);
            c.volume_threshold = 4;
        });
        fail(&mut b, 0.0);
        fail(&mut b, 1.0);
        fail(&mut b, 2.0);
        assert_eq!(b.state(), CircuitState::Closed, "3 calls < volume 4");
        succeed(&mut b, 3.0);
        assert_eq!(b.state(), CircuitState::Open);
        assert_eq!(b.poll_event().unwrap().reason, TransitionReason::FailureRate);
    }

    #[test]
    fn slow_calls_trip_and_block_closing() {
        let mut b = breaker(|c| {
            c.failure_threshold = None;
            c.slow_call_duration_ms = Some(100.0);
            c.slow_call_rate_threshold = Some(0.5);
            c.volume_threshold = 2;
        });
        let p = b.try_acquire(0.0).unwrap();
        b.record_success(200.0, p, 200.0).unwrap();
        let p = b.try_acquire(200.0).unwrap();
        b.record_success(250.0, p, 50.0).unwrap();
        assert_eq!(b.state(), CircuitState::Open);
        let p = b.try_acquire(2000.0).unwrap();
        b.record_success(2200.0, p, 200.0).unwrap();
        assert_eq!(b.state(), CircuitState::Open, "a slow probe reopens");
    }

    #[test]
    fn stale_calls_do_not_drive_half_open() {
        let mut b = breaker(|c| c.failure_threshold = Some(1));
        let slow_call = b.try_acquire(0.0).unwrap();
        fail(&mut b, 1.0);
        let probe = b.try_acquire(1001.0).unwrap();
        b.record_failure(1002.0, slow_call, 1002.0).unwrap();
        assert_eq!(b.state(), CircuitState::HalfOpen, "a call from before the trip is not a probe");
        b.record_success(1003.0, probe, 2.0).unwrap();
        assert_eq!(b.state(), CircuitState::Closed);
    }

    #[test]
    fn manual_controls_and_events() {
        let mut b = breaker(|_| {});
        b.force_open(10.0);
        assert_eq!(b.try_acquire(5000.0).unwrap_err(), Rejection { state: CircuitState::ForcedOpen, retry_after_ms: None });
        b.reset(5001.0);
        b.disable(5002.0);
        for t in 0..10 {
            fail(&mut b, 5010.0 + t as f64);
        }
        assert_eq!(b.state(), CircuitState::Disabled);
        b.open(5100.0);
        assert_eq!(b.remaining_open_ms(5600.0), Some(500.0));
        let states: Vec<_> = std::iter::from_fn(|| b.poll_event()).map(|e| e.to).collect();
        assert_eq!(states, vec![CircuitState::ForcedOpen, CircuitState::Closed, CircuitState::Disabled, CircuitState::Open]);
        assert_eq!(b.stats(5600.0).totals.rejected_calls, 0, "reset clears the counters");
    }

    #[test]
    fn snapshot_round_trips_through_json() {
        let mut b = breaker(|_| {});
        fail(&mut b, 0.0);
        fail(&mut b, 1.0);
        fail(&mut b, 2.0);
        let snap = b.snapshot(502.0);
        let json = snap.to_json().to_string();
        let back = BreakerSnapshot::from_json(&Json::parse(&json).unwrap()).unwrap();
        assert_eq!(back, snap);
        for broken in [r#"[]"#, r#"{"version":1}"#, &json.replace("\"CLOSED\"", "\"AJAR\"").replace("\"OPEN\"", "\"AJAR\""), &json.replace("\"openCount\":1", "\"openCount\":1.5")] {
            assert_eq!(BreakerSnapshot::from_json(&Json::parse(broken).unwrap()).unwrap_err().code, crate::error::ErrorCode::InvalidSnapshot, "{broken}");
        }
        let mut fresh = breaker(|_| {});
        fresh.restore(1_000_000.0, &back).unwrap();
        assert_eq!(fresh.state(), CircuitState::Open);
        assert_eq!(fresh.remaining_open_ms(1_000_000.0), Some(500.0));
        assert_eq!(fresh.stats(1_000_000.0).totals.failed_calls, 3);
        // The restore's own change is heard but not counted again (found by fuzzing: every
        // save → restore → save grew stateChanges).
        assert_eq!(fresh.stats(1_000_000.0).totals.state_changes, back.totals.state_changes);
        assert_eq!(fresh.poll_event().map(|e| e.reason), Some(TransitionReason::Restored));
        assert_eq!(fresh.snapshot(1_000_000.0), { let mut again = breaker(|_| {}); again.restore(1_000_000.0, &back).unwrap(); again.snapshot(1_000_000.0) });
        let bad = BreakerSnapshot { open_remaining_ms: Some(-1.0), ..back };
        assert!(fresh.restore(0.0, &bad).is_err());
    }

    #[test]
    fn an_infinite_reading_does_not_stop_the_clock() {
        // Found by fuzzing: after one Infinity the breaker read every later time as 0, so an
        // open breaker never half-opened again.
        let mut b = breaker(|_| {});
        b.try_acquire(f64::INFINITY).unwrap();
        fail(&mut b, 10.0);
        fail(&mut b, 11.0);
        fail(&mut b, 12.0);
        assert_eq!(b.state_at(500.0), CircuitState::Open);
        assert_eq!(b.state_at(1012.0), CircuitState::HalfOpen);
    }

    #[test]
    fn time_going_backwards_is_harmless() {
        let mut b = breaker(|_| {});
        fail(&mut b, 100.0);
        fail(&mut b, 50.0);
        fail(&mut b, f64::NAN);
        assert_eq!(b.state(), CircuitState::Open);
        assert_eq!(b.poll_timeout(), Some(1100.0));
    }

    #[test]
    fn preapproved_permits_count_like_acquired_ones() {
        let mut b = breaker(|_| {});
        assert!(b.state().admits_unconditionally());
        for t in 0..3 {
            b.record_failure(t as f64, Permit::PREAPPROVED, 1.0).unwrap();
        }
        assert_eq!(b.state(), CircuitState::Open);
        assert!(!b.state().admits_unconditionally());
        let s = b.stats(3.0);
        assert_eq!((s.totals.failed_calls, s.in_flight), (3, 0));
        // Admitted while closed, finished after the trip: counted, decides nothing.
        b.record_success(4.0, Permit::PREAPPROVED, 1.0).unwrap();
        assert_eq!(b.state(), CircuitState::Open);
        assert!(!Permit::PREAPPROVED.is_probe());
    }

    #[test]
    fn batched_successes_equal_recording_each() {
        let mut a = breaker(|_| {});
        let mut b = breaker(|_| {});
        assert!(a.success_is_inert_in(CircuitState::Closed));
        assert!(!a.success_is_inert_in(CircuitState::HalfOpen));
        fail(&mut a, 0.0);
        fail(&mut b, 0.0);
        for _ in 0..7 {
            a.record_success(5.0, Permit::PREAPPROVED, 0.0).unwrap();
        }
        b.record_successes(5.0, 7);
        let (sa, sb) = (a.stats(6.0), b.stats(6.0));
        assert_eq!(sa, sb);
        let rated = breaker(|c| c.failure_rate_threshold = Some(0.5));
        assert!(!rated.success_is_inert_in(CircuitState::Closed));
    }

    #[test]
    fn rejection_messages_say_when() {
        let r = Rejection { state: CircuitState::Open, retry_after_ms: Some(1500.0) };
        assert_eq!(r.message("openai"), "Circuit breaker 'openai' is open; try again in 2 seconds");
        assert!(Rejection { state: CircuitState::HalfOpen, retry_after_ms: None }.message("").starts_with("Circuit breaker is half-open"));
    }

    fn fleet_breaker() -> CircuitBreaker {
        let config = BreakerConfig { failure_threshold: Some(5), reset_timeout_ms: 1000.0, half_open_max_calls: 1, fleet: Some(FleetConfig::default()), ..BreakerConfig::default() };
        CircuitBreaker::new(config).unwrap()
    }

    fn reports(n: usize, consecutive: u32, age_ms: f64) -> Vec<ReplicaReport> {
        vec![ReplicaReport { calls: consecutive, failures: consecutive, slow: 0, consecutive_failures: consecutive, age_ms }; n]
    }

    fn reasons(b: &mut CircuitBreaker) -> Vec<(CircuitState, &'static str)> {
        std::iter::from_fn(|| b.poll_event()).map(|e| (e.to, e.reason.as_str())).collect()
    }

    #[test]
    fn the_fleet_opens_together_and_probes_once_under_the_lease() {
        let mut b = fleet_breaker();
        assert_eq!(b.handle_fleet_reports(0.0, &reports(4, 1, 0.0)).consecutive_failures, 4);
        assert_eq!(b.state(), CircuitState::Closed, "4 failures in a row fleet-wide: below 5");
        let t = b.handle_fleet_reports(10.0, &reports(5, 1, 0.0));
        assert_eq!((t.replicas, t.failing, b.state()), (5, 5, CircuitState::Open));
        assert_eq!(b.fleet_status(), (true, true));
        assert_eq!(b.poll_timeout(), None, "the sync drives the probe, not a timer");
        assert_eq!(b.remaining_open_ms(500.0), Some(510.0), "within its open period: the time left");
        assert!(!b.wants_probe_lease(500.0));
        b.handle_probe_lease(500.0);
        assert_eq!(b.state_at(2000.0), CircuitState::Open, "the open period is over, but the probe needs the lease");
        assert!(matches!(b.try_acquire(2000.0), Err(Rejection { state: CircuitState::Open, .. })));
        assert!(b.wants_probe_lease(2000.0));
        b.handle_probe_lease(2000.0);
        assert_eq!(b.state(), CircuitState::HalfOpen);
        // The lease holder's failed probe reopens the fleet's breaker: the next probe needs the lease again.
        let p = b.try_acquire(2000.0).unwrap();
        b.record_failure(2001.0, p, 1.0).unwrap();
        assert_eq!((b.state(), b.fleet_status().0, b.state_at(5000.0)), (CircuitState::Open, true, CircuitState::Open));
        b.handle_probe_lease(5000.0);
        let p = b.try_acquire(5000.0).unwrap();
        b.record_success(5001.0, p, 1.0).unwrap();
        assert_eq!((b.state(), b.fleet_status().0), (CircuitState::Closed, false));
        assert_eq!(
            reasons(&mut b),
            [(CircuitState::Open, "FLEET_QUORUM"), (CircuitState::HalfOpen, "PROBE_LEASE_GRANTED"), (CircuitState::Open, "PROBE_FAILED"), (CircuitState::HalfOpen, "PROBE_LEASE_GRANTED"), (CircuitState::Closed, "PROBES_SUCCEEDED")]
        );
        // Reports made before the breaker closed describe the outage that ended: left out.
        assert_eq!(b.handle_fleet_reports(5100.0, &reports(5, 1, 200.0)).replicas, 0);
        assert_eq!(b.handle_fleet_reports(5100.0, &reports(5, 1, 99.0)).replicas, 5);
        assert_eq!(b.state(), CircuitState::Open);
    }

    #[test]
    fn other_replicas_follow_the_fleet_and_a_lost_store_means_deciding_alone() {
        let mut b = fleet_breaker();
        b.handle_fleet_closed(0.0);
        assert_eq!(b.state(), CircuitState::Closed, "closing a closed breaker changes nothing");
        b.handle_fleet_opened(0.0);
        assert_eq!((b.state(), b.state_at(1500.0)), (CircuitState::Open, CircuitState::Open));
        b.handle_fleet_closed(1600.0);
        assert_eq!(b.state(), CircuitState::Closed);
        // The store stops answering: fleet news is ignored, and an open period ends in a local probe.
        b.handle_fleet_opened(1700.0);
        assert_eq!(b.state(), CircuitState::Open);
        b.set_fleet_shared(1800.0, false);
        b.handle_fleet_opened(1800.0);
        assert_eq!(b.handle_fleet_reports(1800.0, &reports(10, 5, 0.0)).replicas, 10);
        assert_eq!(b.poll_timeout(), Some(2700.0));
        assert_eq!(b.state_at(2700.0), CircuitState::HalfOpen);
        let p = b.try_acquire(2700.0).unwrap();
        b.record_success(2701.0, p, 1.0).unwrap();
        assert_eq!(b.state(), CircuitState::Closed);
        b.handle_fleet_opened(2800.0);
        assert_eq!(b.state(), CircuitState::Closed, "still alone");
        b.set_fleet_shared(2900.0, true);
        // A breaker its own failures opened probes by itself, fleet or not (one sick replica).
        for t in 0..5 {
            let p = b.try_acquire(3000.0 + t as f64).unwrap();
            b.record_failure(3000.0 + t as f64, p, 1.0).unwrap();
        }
        assert_eq!((b.state(), b.fleet_status().0, b.poll_timeout()), (CircuitState::Open, false, Some(4004.0)));
        b.handle_fleet_closed(3500.0);
        assert_eq!(b.state(), CircuitState::Open, "the fleet closing does not close what it did not open");
        assert!(!b.wants_probe_lease(4004.0));
        assert_eq!(b.state_at(4004.0), CircuitState::HalfOpen);
        b.handle_fleet_closed(4005.0);
        assert_eq!(b.state(), CircuitState::HalfOpen, "the fleet did not open it");
        assert_eq!(
            reasons(&mut b).into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
            ["FLEET_OPENED", "FLEET_CLOSED", "FLEET_OPENED", "RESET_TIMEOUT_ELAPSED", "PROBES_SUCCEEDED", "CONSECUTIVE_FAILURES", "RESET_TIMEOUT_ELAPSED"]
        );
        let r = b.fleet_report(4005.0);
        assert_eq!((r.calls, r.consecutive_failures), (0, 0), "not closed: nothing to report");
    }

    #[test]
    fn fleet_options_are_read_and_named_under_fleet() {
        let opts = |json: &str| crate::options::options_from_json(&Json::parse(json).unwrap());
        let c = BreakerConfig::from_options(&opts(r#"{"fleet":{"redis":"<object>","minReplicas":3,"syncInterval":100}}"#), TimeUnit::Millis).unwrap();
        assert_eq!(c.fleet, Some(FleetConfig { quorum: crate::fleet::Quorum::Replicas(3), sync_interval_ms: 100.0, stale_after_ms: 400.0 }));
        assert_eq!(BreakerConfig::from_options(&opts(r#"{"fleet":null}"#), TimeUnit::Millis).unwrap().fleet, None);
        let e = BreakerConfig::from_options(&opts(r#"{"fleet":{"min_replicas":0,"redis":"<object>"}}"#), TimeUnit::Seconds).unwrap_err();
        assert_eq!((e.option.as_deref(), e.value.as_deref()), (Some("fleet.min_replicas"), Some("0")));
        assert!(e.message.starts_with("invalid option fleet.min_replicas:"), "{}", e.message);
        let e = BreakerConfig::from_options(&opts(r#"{"fleet":5}"#), TimeUnit::Millis).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("fleet"));
        let bad = BreakerConfig { fleet: Some(FleetConfig { sync_interval_ms: -1.0, ..FleetConfig::default() }), ..BreakerConfig::default() };
        assert_eq!(CircuitBreaker::new(bad).unwrap_err().option.as_deref(), Some("fleet.syncInterval"));
        // Without a fleet the fleet's inputs change nothing.
        let mut alone = CircuitBreaker::new(BreakerConfig::default()).unwrap();
        alone.handle_fleet_opened(0.0);
        assert_eq!(alone.handle_fleet_reports(0.0, &reports(50, 5, 0.0)), FleetTally::default());
        assert_eq!(alone.state(), CircuitState::Closed);
    }

    #[test]
    fn a_slow_call_rate_below_its_threshold_keeps_the_breaker_closed() {
        let config = BreakerConfig {
            failure_threshold: None,
            slow_call_duration_ms: Some(100.0),
            slow_call_rate_threshold: Some(0.5),
            volume_threshold: 4,
            ..BreakerConfig::default()
        };
        let mut b = CircuitBreaker::new(config).unwrap();
        for (t, duration) in [(0.0, 500.0), (1.0, 10.0), (2.0, 10.0), (3.0, 10.0)] {
            let p = b.try_acquire(t).unwrap();
            b.record_success(t, p, duration).unwrap();
        }
        assert_eq!(b.state(), CircuitState::Closed, "one slow call in four: 25% < 50%");
        let p = b.try_acquire(4.0).unwrap();
        b.record_success(4.0, p, 500.0).unwrap();
        let p = b.try_acquire(5.0).unwrap();
        b.record_success(5.0, p, 500.0).unwrap();
        assert_eq!(b.state(), CircuitState::Open, "three in six: 50%");
    }
}
