//! The flat API every binding wraps: machines behind numeric handles, options and reports as
//! JSON text, hot-path answers as plain numbers.
//!
//! Bindings (napi, wasm-bindgen, pyo3) differ only in how they cross into their host; what they
//! cross with is defined here once, so that no binding holds logic of its own. An [`Engine`] owns
//! a [`Registry`] of breakers and bulkheads plus retry policies, retry calls and retry budgets.
//!
//! Encodings (stable, shared by every binding):
//! - **breaker acquire** → (`f64`, retry-after, events waiting): a permit (`≥ 0`), or
//!   `-(1 + state code)` when rejected; the retry-after is NaN when unknown.
//! - **breaker record** → `f64`: the state code, plus [`Engine::EVENTS_WAITING`] when state
//!   changes wait in `breaker_events`; `-1` when the permit was not outstanding. The call's duration is
//!   `now − started_at` (the acquire time), computed here once for every binding.
//! - **bulkhead acquire** → (kind, value): `(0, permit)` run, `(1, ticket)` queued,
//!   `(2, 0 | 1)` rejected, `BULKHEAD_QUEUE_FULL` (0: it has no queue; 1: the queue is full).
//! - **retry on_failure** → (value, attempt, from server): `value ≥ 0` is the delay before
//!   attempt `attempt` (from the server's Retry-After when the flag is set); `value < 0` is
//!   `-(1 + give-up reason index)` after `attempt` calls.
//! - **hedge step** → `f64`: `≥ 0` wait until that time (`+∞`: until an attempt settles);
//!   `-1 - k` start attempt `k`; `-11 - k` attempt `k` won; `-21 - k` the call failed with
//!   attempt `k`'s error. A won or failed call's handle is freed then.
//! - **errors** → [`SeawallError::to_json`]: `{"code","kind","option","value","message"}`.
//! - **state codes**: 0 CLOSED, 1 OPEN, 2 HALF_OPEN, 3 FORCED_OPEN, 4 DISABLED.

use crate::backoff::{Backoff, BackoffConfig};
use crate::breaker::{BreakerSnapshot, CallOutcome, CircuitBreaker, CircuitState, Permit};
use crate::budget::{BudgetConfig, RetryBudget};
use crate::fleet::ReplicaReport;
use crate::fleet_quota::QuotaReport;
use crate::ratelimit::{RateAdmission, RateLimitConfig, RateLimiter};
use crate::bulkhead::{Admission, Bulkhead, BulkheadPermit, RejectReason};
use crate::error::{ErrorCode, Result, SeawallError};
use crate::fleet_sync::{BreakerSync, QuotaSync};
use crate::adaptive::{AdaptiveConfig, AdaptiveLimiter, LimitOutcome};
use crate::hedge::{AttemptOutcome, HedgeCall, HedgeConfig, HedgeStep, Hedger};
use crate::json::Json;
use crate::metrics::render_prometheus;
use crate::options::{OptionReader, Options, TimeUnit};

/// Options as every binding passes them (JSON text), read as the engine reads them.
pub use crate::options::parse_options;
use crate::presets::{self, Style};
use crate::registry::{Handle, NamedTable, Registry};
use crate::retry::{RETRY_OPTIONS, FailureClass, GiveUpReason, RetryConfig, RetryDecision, RetryState};
use crate::rng::SeededRng;
use crate::timeout::{Deadline, TimeoutConfig};
use crate::window::WindowConfig;
use crate::{defaults, BreakerConfig};

/// Give-up reasons in the order their index is encoded.
pub const GIVE_UP_REASONS: [GiveUpReason; 5] = [
    GiveUpReason::NotRetryable,
    GiveUpReason::AttemptsExhausted,
    GiveUpReason::DeadlineExceeded,
    GiveUpReason::BudgetExhausted,
    GiveUpReason::RetryAfterTooLong,
];

fn unit_of(seconds: bool) -> TimeUnit {
    if seconds {
        TimeUnit::Seconds
    } else {
        TimeUnit::Millis
    }
}


/// A retry policy with its own generator (seeded by the shell: fixed in tests, random in use).
#[derive(Debug, Clone)]
struct RetryPolicy {
    config: RetryConfig,
    rng: SeededRng,
}

/// A backoff sequence on its own (schedules previewed by users, and conformance vectors).
#[derive(Debug, Clone)]
struct BackoffSequence {
    config: BackoffConfig,
    backoff: Backoff,
    rng: SeededRng,
}

#[derive(Debug, Clone, Copy)]
struct HedgedCall {
    policy: Handle,
    call: HedgeCall,
}

#[derive(Debug, Clone, Copy)]
struct RetryCall {
    policy: Handle,
    state: RetryState,
}

/// A breaker's state answer: its state's code, plus [`Engine::EVENTS_WAITING`] when events wait.
fn state_answer(b: &mut CircuitBreaker) -> f64 {
    f64::from(b.state().code()) + if b.has_events() { Engine::EVENTS_WAITING } else { 0.0 }
}

fn missing(what: &str, h: Handle) -> SeawallError {
    SeawallError::not_found(what, &h.to_string())
}

/// A fleet call on a rate limiter or retry budget (`what`) made without `fleet`.
fn no_fleet(what: &str) -> SeawallError {
    SeawallError::wrong_type("fleet", "undefined", &format!("a fleet (this {what} was made without one)"))
}

/// Everything one host thread (a JS realm, a Python interpreter) works with.
#[derive(Debug, Default)]
pub struct Engine {
    registry: Registry,
    policies: NamedTable<RetryPolicy>,
    calls: NamedTable<RetryCall>,
    budgets: NamedTable<RetryBudget>,
    backoffs: NamedTable<BackoffSequence>,
    limiters: NamedTable<RateLimiter>,
    hedgers: NamedTable<Hedger>,
    adaptive: NamedTable<AdaptiveLimiter>,
    hedge_calls: NamedTable<HedgedCall>,
    /// Fleet breakers' syncs with their store, by breaker handle (few: a linear search).
    syncs: Vec<(Handle, BreakerSync)>,
    /// Shared quotas' syncs: (a rate limiter's or a retry budget's, its handle, the sync).
    quota_syncs: Vec<(QuotaOwner, Handle, QuotaSync)>,
}

/// Whose quota a [`QuotaSync`] shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuotaOwner {
    RateLimit,
    Budget,
}

impl QuotaOwner {
    fn parse(kind: &str) -> Result<QuotaOwner> {
        match kind {
            "rateLimit" => Ok(QuotaOwner::RateLimit),
            "budget" => Ok(QuotaOwner::Budget),
            other => Err(SeawallError::out_of_range("kind", crate::error::quote(other), "rateLimit or budget")),
        }
    }
}

impl Engine {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn registry(&mut self) -> &mut Registry {
        &mut self.registry
    }

    // ---- constants ------------------------------------------------------------------------

    /// The events the shells report (`telemetry::EVENTS`), as JSON.
    pub fn telemetry_events() -> String {
        crate::telemetry::events_json()
    }

    pub fn error_codes() -> Vec<&'static str> {
        let mut v = Vec::new();
        for c in ErrorCode::ALL {
            v.push(c.as_str());
        }
        v
    }

    pub fn state_names() -> Vec<&'static str> {
        let mut v = Vec::new();
        for s in CircuitState::ALL {
            v.push(s.as_str());
        }
        v
    }

    pub fn give_up_reasons() -> Vec<&'static str> {
        let mut v = Vec::new();
        for r in GIVE_UP_REASONS {
            v.push(r.as_str());
        }
        v
    }

    /// The error code of each give-up reason, in the same order.
    pub fn give_up_codes() -> Vec<&'static str> {
        let mut v = Vec::new();
        for r in GIVE_UP_REASONS {
            v.push(r.code().as_str());
        }
        v
    }

    /// The raw permit of a call admitted without asking (see `Permit::PREAPPROVED`).
    pub const PREAPPROVED_PERMIT: f64 = (1u64 << 52) as f64;

    /// What an attempt's outcome means for retries and breakers ([`crate::outcome`]): the
    /// outcome as JSON in, `{"decision", "retryAfterMs", "count", "attempt"}` out.
    pub fn classify_outcome(outcome_json: &str, now_epoch_ms: f64) -> Result<String> {
        crate::outcome::classify_json(outcome_json, now_epoch_ms)
    }

    /// Whether a request of `method` may be hedged (`forced`: the caller allowed any method).
    pub fn hedgeable(method: &str, forced: bool) -> bool {
        crate::outcome::hedgeable(method, forced)
    }

    /// How a breaker counts an HTTP response of `status`: 0 success, 1 failure, 2 ignored.
    pub fn count_status(status: f64) -> u32 {
        match crate::outcome::count_status(status) {
            crate::outcome::Count::Success => 0,
            crate::outcome::Count::Failure => 1,
            crate::outcome::Count::Ignore => 2,
        }
    }

    /// Added to a state answer (`breaker_record`) when state changes wait in `breaker_events`:
    /// the state is the answer less this, when the answer is at least this.
    pub const EVENTS_WAITING: f64 = 8.0;

    /// [`Self::PREAPPROVED_PERMIT`], for the bindings that read it through a call.
    pub fn preapproved_permit() -> f64 {
        Self::PREAPPROVED_PERMIT
    }

    /// Per state code: may a shell admit a call without asking (`admits_unconditionally`)?
    pub fn unconditional_admits() -> Vec<bool> {
        let mut v = Vec::new();
        for s in CircuitState::ALL {
            v.push(s.admits_unconditionally());
        }
        v
    }

    /// The defaults table as JSON (canonical names, milliseconds).
    pub fn defaults_json() -> String {
        let mut pairs = Vec::new();
        for (k, v) in defaults::table() {
            pairs.push((k, Json::Num(v)));
        }
        Json::obj(pairs).to_string()
    }

    // ---- breakers -------------------------------------------------------------------------

    fn breaker(&mut self, h: Handle) -> Result<&mut CircuitBreaker> {
        self.registry.breaker(h).ok_or_else(|| missing("circuit breaker", h))
    }

    /// A new breaker; registered under `name` if given (a name in use moves to it).
    pub fn breaker_create(&mut self, options_json: &str, seconds: bool, name: Option<&str>) -> Result<Handle> {
        let b = CircuitBreaker::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        Ok(self.registry.breaker_insert(name, b))
    }

    /// The registered breaker `name`, created from the options if absent (options are checked
    /// either way). Answers the handle and whether it was created.
    pub fn breaker_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> Result<(Handle, bool)> {
        let config = BreakerConfig::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        self.registry.breaker_get_or_create(name, || Ok(config))
    }

    pub fn breaker_lookup(&self, name: &str) -> Option<Handle> {
        self.registry.breaker_handle(name)
    }

    pub fn breaker_name(&self, h: Handle) -> Option<String> {
        self.registry.breaker_name(h).map(str::to_string)
    }

    pub fn breaker_drop(&mut self, h: Handle) -> bool {
        self.syncs.retain(|(s, _)| *s != h);
        self.registry.breaker_remove(h)
    }

    // ---- a fleet breaker's sync with its store (fleet_sync.rs: the shell sends, the core decides)

    /// Starts the fleet breaker `h`'s sync, as the replica `replica`, on the keys under `prefix`.
    pub fn breaker_sync_join(&mut self, h: Handle, prefix: &str, replica: &str) -> Result<()> {
        let name = self.breaker_name(h).ok_or_else(|| SeawallError::wrong_type("name", "undefined", "a name (replicas find each other by name)"))?;
        let fleet = self.breaker(h)?.config().fleet.ok_or_else(|| no_fleet("circuit breaker"))?;
        self.syncs.retain(|(s, _)| *s != h);
        self.syncs.push((h, BreakerSync::new(prefix, &name, replica, fleet.stale_after_ms)));
        Ok(())
    }

    /// Stops the sync (the breaker then decides alone); answers whether one ran.
    pub fn breaker_sync_leave(&mut self, h: Handle) -> bool {
        let before = self.syncs.len();
        self.syncs.retain(|(s, _)| *s != h);
        before != self.syncs.len()
    }

    fn sync_of(&mut self, h: Handle) -> Result<(&mut BreakerSync, &mut CircuitBreaker)> {
        let sync = self.syncs.iter_mut().find(|(s, _)| *s == h).map(|(_, s)| s).ok_or_else(|| missing("fleet sync", h))?;
        let breaker = self.registry.breaker(h).ok_or_else(|| missing("circuit breaker", h))?;
        Ok((sync, breaker))
    }

    /// The next command of the sync's round as JSON (`{"eval": script, "keys", "args"}` or
    /// `{"set": key, "value", "px"}`), or "" when the round is over (the next call starts one).
    pub fn breaker_sync_next(&mut self, h: Handle, now: f64) -> Result<String> {
        let (sync, breaker) = self.sync_of(h)?;
        Ok(sync.next_command(breaker, now).map_or(String::new(), |c| c.to_json().to_string()))
    }

    /// The reply to the last command, as JSON (Redis's answer: numbers, texts, arrays; the
    /// lease's `true`/`false`).
    pub fn breaker_sync_reply(&mut self, h: Handle, reply_json: &str, now: f64) -> Result<()> {
        let reply = Json::parse(reply_json).map_err(|e| SeawallError::wrong_type("reply", e.to_string(), "a reply in JSON"))?;
        let (sync, breaker) = self.sync_of(h)?;
        let reply = sync.read_reply(&reply)?;
        sync.handle_reply(breaker, reply, now)
    }

    /// The round failed (an error, or no answer by its deadline).
    pub fn breaker_sync_failed(&mut self, h: Handle, now: f64) -> Result<()> {
        let (sync, breaker) = self.sync_of(h)?;
        sync.handle_failure(breaker, now);
        Ok(())
    }

    /// Whether the breaker has news for the fleet: a round should run now.
    pub fn breaker_sync_wanted(&mut self, h: Handle) -> bool {
        self.sync_of(h).is_ok_and(|(sync, breaker)| sync.marks_waiting(breaker))
    }

    /// `{"mode": "shared"|"local", "replicas", "fresh", "syncs", "failedSyncs"}`.
    pub fn breaker_sync_status(&mut self, h: Handle) -> Result<String> {
        Ok(self.sync_of(h)?.0.status.to_json().to_string())
    }

    // ---- a shared quota's sync (rate limiters, retry budgets): the shell sends, the core decides

    /// Starts the sync of the rate limiter's or retry budget's (`kind`: `rateLimit`, `budget`)
    /// quota, where `store` is `{"prefix", "name", "replica"}`.
    pub fn quota_sync_join(&mut self, kind: &str, h: Handle, store: &str) -> Result<()> {
        let owner = QuotaOwner::parse(kind)?;
        let j = Json::parse(store).map_err(|e| SeawallError::wrong_type("store", e.to_string(), "{prefix, name, replica}"))?;
        let text = |k: &str| j.get(k).and_then(Json::as_str).ok_or_else(|| SeawallError::wrong_type(k, "undefined", "a string"));
        let (prefix, name, replica) = (text("prefix")?, text("name")?, text("replica")?);
        let (part, limit, fleet) = match owner {
            QuotaOwner::RateLimit => {
                let c = self.limiters.get_mut(h).ok_or_else(|| missing("rate limiter", h))?.config();
                ("quota", f64::from(c.limit), c.fleet.ok_or_else(|| no_fleet("rate limiter"))?)
            }
            QuotaOwner::Budget => {
                let c = self.budgets.get_mut(h).ok_or_else(|| missing("retry budget", h))?.config();
                ("budget", c.min_retries_per_second, c.fleet.ok_or_else(|| no_fleet("retry budget"))?)
            }
        };
        let sync = QuotaSync::new(prefix, name, part, replica, limit, fleet.stale_after_ms);
        self.quota_syncs.retain(|(o, s, _)| !(*o == owner && *s == h));
        self.quota_syncs.push((owner, h, sync));
        Ok(())
    }

    /// Stops it: the policy then runs on an equal part, as when the store is lost.
    pub fn quota_sync_leave(&mut self, kind: &str, h: Handle, now: f64) -> Result<()> {
        let owner = QuotaOwner::parse(kind)?;
        self.quota_syncs.retain(|(o, s, _)| !(*o == owner && *s == h));
        match owner {
            QuotaOwner::RateLimit => self.rate_limit_fleet_alone(h),
            QuotaOwner::Budget => self.budget_fleet_alone(h, now),
        }
    }

    fn quota_sync_of(&mut self, kind: &str, h: Handle) -> Result<(QuotaOwner, &mut QuotaSync)> {
        let owner = QuotaOwner::parse(kind)?;
        let sync = self.quota_syncs.iter_mut().find(|(o, s, _)| *o == owner && *s == h).map(|(_, _, s)| s).ok_or_else(|| missing("fleet sync", h))?;
        Ok((owner, sync))
    }

    /// The round's command as JSON (`{"eval": "quota", "keys", "args"}`), or "" when it is over.
    pub fn quota_sync_next(&mut self, kind: &str, h: Handle, now: f64) -> Result<String> {
        let report = match QuotaOwner::parse(kind)? {
            QuotaOwner::RateLimit => self.rate_limit_fleet_report(h, now)?,
            QuotaOwner::Budget => self.budget_fleet_report(h, now)?,
        };
        let (_, sync) = self.quota_sync_of(kind, h)?;
        Ok(sync.next_command(report).map_or(String::new(), |c| c.to_json().to_string()))
    }

    /// Redis's reply to the round's command, as JSON.
    pub fn quota_sync_reply(&mut self, kind: &str, h: Handle, reply_json: &str, now: f64) -> Result<()> {
        let reply = Json::parse(reply_json).map_err(|e| SeawallError::wrong_type("reply", e.to_string(), "a reply in JSON"))?;
        let (owner, sync) = self.quota_sync_of(kind, h)?;
        let (granted, reports) = sync.read_reply(&reply)?;
        match owner {
            QuotaOwner::RateLimit => self.rate_limit_fleet_sync(h, granted, &reports, now),
            QuotaOwner::Budget => self.budget_fleet_sync(h, granted, &reports, now),
        }
    }

    /// The round failed (an error, or no answer by its deadline): an equal part until one succeeds.
    pub fn quota_sync_failed(&mut self, kind: &str, h: Handle, now: f64) -> Result<()> {
        let (owner, sync) = self.quota_sync_of(kind, h)?;
        sync.handle_failure();
        match owner {
            QuotaOwner::RateLimit => self.rate_limit_fleet_alone(h),
            QuotaOwner::Budget => self.budget_fleet_alone(h, now),
        }
    }

    /// `{"syncs", "failedSyncs"}`.
    pub fn quota_sync_status(&mut self, kind: &str, h: Handle) -> Result<String> {
        Ok(self.quota_sync_of(kind, h)?.1.status_json().to_string())
    }

    /// Hot path: see the module docs for the encoding. An unknown handle answers as forced open.
    pub fn breaker_acquire(&mut self, h: Handle, now: f64) -> (f64, f64, bool) {
        let Some(b) = self.registry.breaker(h) else { return (-(1.0 + CircuitState::ForcedOpen.code() as f64), f64::NAN, false) };
        let (code, retry_after) = match b.try_acquire(now) {
            Ok(p) => (p.raw() as f64, f64::NAN),
            Err(r) => (-(1.0 + r.state.code() as f64), r.retry_after_ms.unwrap_or(f64::NAN)),
        };
        (code, retry_after, b.has_events())
    }

    /// Hot path: outcome 0 success, 1 failure, 2 neither (cancelled / not counted); the call
    /// started at `started_at` (NaN: unknown, duration 0).
    pub fn breaker_record(&mut self, h: Handle, permit: f64, outcome: u32, now: f64, started_at: f64) -> f64 {
        let duration_ms = if now >= started_at { now - started_at } else { 0.0 };
        let Some(b) = self.registry.breaker(h) else { return -1.0 };
        let outcome = match outcome {
            0 => CallOutcome::Success,
            1 => CallOutcome::Failure,
            _ => CallOutcome::Ignored,
        };
        let permit = if (0.0..=Self::PREAPPROVED_PERMIT).contains(&permit) { Permit::from_raw(permit as u64) } else { Permit::from_raw(u64::MAX) };
        match b.record(now, permit, outcome, duration_ms) {
            Ok(()) => state_answer(b),
            Err(_) => -1.0,
        }
    }

    /// Per state code: may the shell count successes itself in that state (see
    /// `CircuitBreaker::success_is_inert_in`)? Fixed for a breaker's life.
    pub fn breaker_inert_success_states(&mut self, h: Handle) -> Vec<bool> {
        let b = self.registry.breaker(h);
        let mut v = Vec::new();
        for s in CircuitState::ALL {
            v.push(b.as_ref().is_some_and(|b| b.success_is_inert_in(s)));
        }
        v
    }

    /// Hands over successes the shell counted; answers as `breaker_record`.
    pub fn breaker_record_successes(&mut self, h: Handle, count: u32, now: f64) -> f64 {
        let Some(b) = self.registry.breaker(h) else { return -1.0 };
        b.record_successes(now, count);
        state_answer(b)
    }

    /// Whether state changes wait to be drained with `breaker_events`.
    pub fn breaker_has_events(&mut self, h: Handle) -> bool {
        self.registry.breaker(h).is_some_and(|b| b.has_events())
    }

    /// State changes since the last call, as a JSON array of `{from, to, at, reason}`.
    pub fn breaker_events(&mut self, h: Handle) -> String {
        let Some(b) = self.registry.breaker(h) else { return "[]".into() };
        let mut events = Vec::new();
        while let Some(e) = b.poll_event() {
            events.push(Json::obj(vec![("from", Json::from(e.from.as_str())), ("to", Json::from(e.to.as_str())), ("at", Json::Num(e.at)), ("reason", Json::from(e.reason.as_str()))]));
        }
        Json::Arr(events).to_string()
    }

    /// The state code as last changed by an input (no time passes: a due OPEN → HALF_OPEN is
    /// not applied). Unknown handles answer FORCED_OPEN.
    pub fn breaker_current_state(&mut self, h: Handle) -> u8 {
        self.registry.breaker(h).map_or(CircuitState::ForcedOpen.code(), |b| b.state().code())
    }

    /// The state code at `now` (after a due OPEN → HALF_OPEN).
    pub fn breaker_state(&mut self, h: Handle, now: f64) -> Result<u8> {
        Ok(self.breaker(h)?.state_at(now).code())
    }

    /// `open`, `forceOpen` (`isolate`), `reset` or `disable`; and what a fleet's sync learns:
    /// `fleetOpened`, `fleetClosed`, `fleetLease` (this replica took the probe lease),
    /// `fleetAlone` (the store stopped answering), `fleetShared` (it answers again). Answers the
    /// new state code.
    pub fn breaker_command(&mut self, h: Handle, command: &str, now: f64) -> Result<u8> {
        let b = self.breaker(h)?;
        match command {
            "open" => b.open(now),
            "forceOpen" | "isolate" => b.force_open(now),
            "reset" => b.reset(now),
            "disable" => b.disable(now),
            "fleetOpened" => b.handle_fleet_opened(now),
            "fleetClosed" => b.handle_fleet_closed(now),
            "fleetLease" => b.handle_probe_lease(now),
            "fleetAlone" => b.set_fleet_shared(now, false),
            "fleetShared" => b.set_fleet_shared(now, true),
            other => {
                let expected = "open, forceOpen, isolate, reset, disable, fleetOpened, fleetClosed, fleetLease, fleetAlone or fleetShared";
                return Err(SeawallError::out_of_range("command", crate::error::quote(other), expected));
            }
        }
        Ok(b.state().code())
    }

    /// This replica's report for the fleet's store: `{calls, failures, slow, consecutiveFailures, ageMs}`.
    pub fn breaker_fleet_report(&mut self, h: Handle, now: f64) -> Result<String> {
        Ok(self.breaker(h)?.fleet_report(now).to_json().to_string())
    }

    /// Hands the replicas' reports (a JSON array of reports) to the breaker; answers the fleet's
    /// tally as the rule saw it. A report that does not read is an `INVALID_OPTION` naming it.
    pub fn breaker_fleet_sync(&mut self, h: Handle, reports_json: &str, now: f64) -> Result<String> {
        let expected = "{calls, failures, slow, consecutiveFailures, ageMs} of whole numbers and an age ≥ 0";
        let reports = crate::fleet::reports_from_json(reports_json, expected, ReplicaReport::from_json)?;
        Ok(self.breaker(h)?.handle_fleet_reports(now, &reports).to_json().to_string())
    }

    /// The probe lease to take now (its length in ms), or NaN when this replica does not want it.
    pub fn breaker_probe_lease(&mut self, h: Handle, now: f64) -> f64 {
        let Some(b) = self.registry.breaker(h) else { return f64::NAN };
        if b.wants_probe_lease(now) {
            b.probe_lease_ms()
        } else {
            f64::NAN
        }
    }

    /// The user-facing message of a rejection (it starts with "Circuit breaker", for callers that match on it, and
    /// says when to try again), from what `breaker_acquire` answered.
    pub fn rejection_message(name: &str, code: f64, retry_after_ms: f64) -> String {
        let state = CircuitState::from_code((-code - 1.0).max(0.0) as u8).unwrap_or(CircuitState::Open);
        crate::breaker::Rejection { state, retry_after_ms: (!retry_after_ms.is_nan()).then_some(retry_after_ms) }.message(name)
    }

    /// When an open breaker lets a probe through (the timer to arm); NaN when not open.
    pub fn breaker_next_timeout(&mut self, h: Handle) -> f64 {
        self.registry.breaker(h).and_then(|b| b.poll_timeout()).unwrap_or(f64::NAN)
    }

    /// Milliseconds until an open breaker lets a probe through; NaN when unknown (forced open).
    pub fn breaker_retry_after(&mut self, h: Handle, now: f64) -> f64 {
        self.registry.breaker(h).and_then(|b| b.remaining_open_ms(now)).unwrap_or(f64::NAN)
    }

    pub fn breaker_stats(&mut self, h: Handle, now: f64) -> Result<String> {
        Ok(self.breaker(h)?.stats(now).to_json().to_string())
    }

    /// The resolved configuration (canonical names, milliseconds; absent rules are null).
    pub fn breaker_config(&mut self, h: Handle) -> Result<String> {
        let c = self.breaker(h)?.config().clone();
        let (window_duration, window_buckets, window_size) = match c.window {
            WindowConfig::Time { duration_ms, buckets } => (Json::Num(duration_ms), Json::from(buckets), Json::Null),
            WindowConfig::Count { size } => (Json::Null, Json::Null, Json::from(size)),
        };
        Ok(Json::obj(vec![
            ("failureThreshold", Json::from(c.failure_threshold)),
            ("failureRateThreshold", Json::from(c.failure_rate_threshold)),
            ("volumeThreshold", Json::from(c.volume_threshold)),
            ("windowDuration", window_duration),
            ("windowBuckets", window_buckets),
            ("windowSize", window_size),
            ("slowCallDurationThreshold", Json::from(c.slow_call_duration_ms)),
            ("slowCallRateThreshold", Json::from(c.slow_call_rate_threshold)),
            ("successThreshold", Json::from(c.success_threshold)),
            ("halfOpenMaxCalls", Json::from(c.half_open_max_calls)),
            ("resetTimeout", Json::Num(c.reset_timeout_ms)),
            ("resetBackoffMultiplier", Json::Num(c.reset_backoff_multiplier)),
            ("maxResetTimeout", Json::Num(c.max_reset_timeout_ms)),
            ("timeout", Json::from(c.call_timeout_ms)),
            ("fleet", c.fleet.map_or(Json::Null, |f| f.to_json())),
        ])
        .to_string())
    }

    pub fn breaker_snapshot(&mut self, h: Handle, now: f64) -> Result<String> {
        Ok(self.breaker(h)?.snapshot(now).to_json().to_string())
    }

    pub fn breaker_restore(&mut self, h: Handle, snapshot_json: &str, now: f64) -> Result<()> {
        let parsed = Json::parse(snapshot_json).map_err(|e| SeawallError::invalid_snapshot(&format!("not a saved breaker state ({e})")))?;
        let snap = BreakerSnapshot::from_json(&parsed)?;
        self.breaker(h)?.restore(now, &snap)
    }

    // ---- bulkheads ------------------------------------------------------------------------

    fn bulkhead(&mut self, h: Handle) -> Result<&mut Bulkhead> {
        self.registry.bulkhead(h).ok_or_else(|| missing("bulkhead", h))
    }

    pub fn bulkhead_create(&mut self, options_json: &str, seconds: bool, name: Option<&str>) -> Result<Handle> {
        let b = Bulkhead::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        Ok(self.registry.bulkhead_insert(name, b))
    }

    /// The registered bulkhead `name`, created from the options if absent (options checked
    /// either way). Answers the handle and whether it was created.
    pub fn bulkhead_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> Result<(Handle, bool)> {
        let bulkhead = Bulkhead::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        self.registry.bulkhead_get_or_create(name, || Ok(bulkhead))
    }

    pub fn bulkhead_lookup(&self, name: &str) -> Option<Handle> {
        self.registry.bulkhead_handle(name)
    }

    pub fn bulkhead_drop(&mut self, h: Handle) -> bool {
        self.registry.bulkhead_remove(h)
    }

    /// Hot path: see the module docs. An unknown handle answers "rejected, no queue".
    pub fn bulkhead_acquire(&mut self, h: Handle, now: f64) -> (u8, f64) {
        let Some(b) = self.registry.bulkhead(h) else { return (2, 0.0) };
        match b.try_acquire(now) {
            Admission::Run(p) => (0, p.0 as f64),
            Admission::Queued { ticket, .. } => (1, ticket as f64),
            Admission::Rejected(RejectReason::Full) => (2, 0.0),
            Admission::Rejected(RejectReason::QueueFull) => (2, 1.0),
        }
    }

    /// Hot path: ends a running call. Answers `(ticket, permit)` of the queued call that starts
    /// now (ticket 0: none), or an error for a permit that was not outstanding.
    pub fn bulkhead_release(&mut self, h: Handle, permit: f64, now: f64) -> Result<(f64, f64)> {
        let b = self.bulkhead(h)?;
        let p = if permit >= 0.0 { BulkheadPermit(permit as u64) } else { BulkheadPermit(u64::MAX) };
        Ok(match b.release(now, p)? {
            Some((ticket, permit)) => (ticket as f64, permit.0 as f64),
            None => (0.0, f64::NAN),
        })
    }

    pub fn bulkhead_cancel(&mut self, h: Handle, ticket: f64) -> bool {
        self.registry.bulkhead(h).is_some_and(|b| ticket >= 1.0 && b.cancel(ticket as u64))
    }

    /// The earliest queue deadline; NaN when nothing can expire.
    pub fn bulkhead_next_timeout(&mut self, h: Handle) -> f64 {
        self.registry.bulkhead(h).and_then(|b| b.poll_timeout()).unwrap_or(f64::NAN)
    }

    /// Expires queued calls due at `now` and answers their tickets.
    pub fn bulkhead_expire(&mut self, h: Handle, now: f64) -> Vec<f64> {
        let Some(b) = self.registry.bulkhead(h) else { return Vec::new() };
        b.handle_timeout(now);
        let mut tickets = Vec::new();
        while let Some(t) = b.poll_expired() {
            tickets.push(t as f64);
        }
        tickets
    }

    pub fn bulkhead_metrics(&mut self, h: Handle) -> Result<String> {
        Ok(self.bulkhead(h)?.metrics().to_json().to_string())
    }

    // ---- retries --------------------------------------------------------------------------

    /// A retry policy; `seed` seeds its jitter (the low 53 bits of an integer-valued number).
    pub fn retry_policy_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> Result<Handle> {
        let config = RetryConfig::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        let seed = if seed.is_finite() && seed >= 0.0 { seed as u64 } else { 0 };
        Ok(self.policies.insert(None, RetryPolicy { config, rng: SeededRng::new(seed) }))
    }

    pub fn retry_policy_drop(&mut self, h: Handle) -> bool {
        self.policies.remove(h)
    }

    /// What the shell needs to know of a policy: `maxAttempts`, `maxElapsed`, and the retryable
    /// identifiers (null when every failure is retryable).
    pub fn retry_policy_info(&mut self, h: Handle) -> Result<String> {
        let p = self.policies.get_mut(h).ok_or_else(|| missing("retry policy", h))?;
        Ok(Json::obj(vec![
            ("maxAttempts", Json::from(p.config.max_attempts)),
            ("maxElapsed", Json::from(p.config.max_elapsed_ms)),
            ("maxRetryAfter", Json::Num(p.config.max_retry_after_ms)),
            ("retryableErrors", Json::from(p.config.retryable.clone())),
        ])
        .to_string())
    }

    pub fn retry_is_retryable(&mut self, h: Handle, ids: &[&str]) -> bool {
        self.policies.get_mut(h).is_some_and(|p| p.config.is_retryable(ids))
    }

    /// Starts one call's retry loop; answers the call's handle (end it with `retry_end`).
    pub fn retry_start(&mut self, policy: Handle, now: f64) -> Result<Handle> {
        let p = self.policies.get_mut(policy).ok_or_else(|| missing("retry policy", policy))?;
        let state = RetryState::start(&p.config, now);
        Ok(self.calls.insert(None, RetryCall { policy, state }))
    }

    /// After a failed attempt: class 0 retryable, 1 not retryable, 2 rate-limited (with
    /// `retry_after_ms`, NaN for none); `budget` a budget handle or negative for none.
    pub fn retry_on_failure(&mut self, call: Handle, now: f64, class: u32, retry_after_ms: f64, budget: f64) -> Result<(f64, u32, bool)> {
        let c = self.calls.get_mut(call).ok_or_else(|| missing("retry call", call))?;
        let policy = self.policies.get_mut(c.policy).ok_or_else(|| missing("retry policy", c.policy))?;
        let class = match class {
            0 => FailureClass::Retryable,
            1 => FailureClass::NotRetryable,
            _ => FailureClass::RateLimited { retry_after_ms: (!retry_after_ms.is_nan()).then_some(retry_after_ms) },
        };
        let budget = if budget >= 0.0 { self.budgets.get_mut(budget as Handle) } else { None };
        Ok(match c.state.on_failure(&policy.config, now, class, &mut policy.rng, budget) {
            RetryDecision::Retry { attempt, delay_ms, from_server } => (delay_ms, attempt, from_server),
            RetryDecision::GiveUp { reason, attempts } => {
                let i = GIVE_UP_REASONS.iter().position(|r| *r == reason).unwrap_or(0);
                (-(1.0 + i as f64), attempts, false)
            }
        })
    }

    pub fn retry_end(&mut self, call: Handle) -> bool {
        self.calls.remove(call)
    }

    // ---- hedging ----------------------------------------------------------------------------

    pub fn hedge_policy_create(&mut self, options_json: &str, seconds: bool, now: f64) -> Result<Handle> {
        let config = HedgeConfig::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        Ok(self.hedgers.insert(None, Hedger::new(config, now)))
    }

    pub fn hedge_policy_drop(&mut self, h: Handle) -> bool {
        self.hedgers.remove(h)
    }

    /// Whether an error with these identifiers may be followed by another attempt.
    pub fn hedge_is_retryable(&mut self, h: Handle, ids: &[&str]) -> bool {
        self.hedgers.get_mut(h).is_some_and(|p| p.config().is_retryable(ids))
    }

    /// Starts a call: its attempt 0 is running. Answers the call's handle.
    pub fn hedge_start(&mut self, policy: Handle, now: f64) -> Result<Handle> {
        let p = self.hedgers.get_mut(policy).ok_or_else(|| missing("hedging policy", policy))?;
        let call = p.start(now);
        Ok(self.hedge_calls.insert(None, HedgedCall { policy, call }))
    }

    /// Starts a call and answers its handle with its first step (one crossing for both, on the
    /// bindings' hot paths).
    pub fn hedge_begin(&mut self, policy: Handle, now: f64) -> Result<(Handle, f64)> {
        let call = self.hedge_start(policy, now)?;
        Ok((call, self.hedge_step(call, now)?))
    }

    /// Calls begun by a shell without a machine each (see [`Hedger::begun`]), handed over:
    /// `begun` calls began since the last sync; of those whose primary answered acceptably with
    /// nothing else started, `in_time` answered before their deadlines (times unread) and
    /// `answered` holds the `(started, ended)` pairs of the others, each having waited `delay`
    /// ms. Changes no delay: a percentile's is recomputed only as a call begins
    /// ([`Engine::hedge_delay`]), whichever way it begins.
    pub fn hedge_sync(&mut self, policy: Handle, begun: u32, in_time: u32, delay: f64, answered: &[f64], now: f64) -> Result<()> {
        let p = self.hedgers.get_mut(policy).ok_or_else(|| missing("hedging policy", policy))?;
        check_delay(delay)?;
        let batch = crate::hedge::BATCH as u32;
        for (name, n) in [("begun", begun), ("inTime", in_time)] {
            if n > batch {
                return Err(SeawallError::out_of_range(name, n.to_string(), &format!("at most {batch} calls a batch")));
            }
        }
        if answered.len() % 2 != 0 || answered.len() > 2 * crate::hedge::BATCH || answered.iter().any(|t| !t.is_finite()) {
            return Err(SeawallError::wrong_type("answered", format!("{} numbers", answered.len()), "pairs of finite times (started, ended), a batch's at most"));
        }
        p.begun(begun, now);
        p.answered_in_time(in_time);
        for pair in answered.chunks_exact(2) {
            p.answered(pair[0], pair[1], delay);
        }
        Ok(())
    }

    /// For the calls a shell begins lazily from `now`: `[delay, until, wake, timed]`
    /// ([`Hedger::lazy_delay`]; `timed` 1 or 0). The delay as a call beginning at `now` reads it.
    pub fn hedge_delay(&mut self, policy: Handle, now: f64) -> Result<Vec<f64>> {
        let p = self.hedgers.get_mut(policy).ok_or_else(|| missing("hedging policy", policy))?;
        let (delay, until, wake, timed) = p.lazy_delay(now);
        Ok(vec![delay, until, wake, f64::from(u8::from(timed))])
    }

    /// The machine of a call begun lazily at `started` (handed over by [`Engine::hedge_sync`]
    /// first), waiting `delay` ms: its primary is running. Answers the call's handle.
    pub fn hedge_start_begun(&mut self, policy: Handle, started: f64, delay: f64) -> Result<Handle> {
        let p = self.hedgers.get_mut(policy).ok_or_else(|| missing("hedging policy", policy))?;
        if !started.is_finite() {
            return Err(SeawallError::out_of_range("started", crate::error::fmt_num(started), "a finite time"));
        }
        check_delay(delay)?;
        let call = p.start_begun(started, delay);
        Ok(self.hedge_calls.insert(None, HedgedCall { policy, call }))
    }

    /// The call's next step (see the encoding above).
    pub fn hedge_step(&mut self, call: Handle, now: f64) -> Result<f64> {
        self.hedge_answer(call, now, None)
    }

    /// Attempt `attempt` settled with `outcome` (0 success, 1 failure, 2 fatal, 3 cancelled);
    /// answers the call's next step.
    pub fn hedge_settle(&mut self, call: Handle, attempt: u32, outcome: u32, now: f64) -> Result<f64> {
        let outcome = AttemptOutcome::from_code(outcome).ok_or_else(|| SeawallError::out_of_range("outcome", crate::error::fmt_num(f64::from(outcome)), "0, 1, 2 or 3"))?;
        self.hedge_answer(call, now, Some((attempt, outcome)))
    }

    fn hedge_answer(&mut self, call: Handle, now: f64, settled: Option<(u32, AttemptOutcome)>) -> Result<f64> {
        let c = self.hedge_calls.get_mut(call).ok_or_else(|| missing("hedged call", call))?;
        let p = self.hedgers.get_mut(c.policy).ok_or_else(|| missing("hedging policy", c.policy))?;
        let step = match settled {
            Some((k, outcome)) => p.settle(&mut c.call, k, outcome, now)?,
            None => p.step(&mut c.call, now),
        };
        Ok(match step {
            HedgeStep::Wait(t) => t,
            HedgeStep::Launch(k) => -1.0 - f64::from(k),
            HedgeStep::Won(k) => {
                self.hedge_calls.remove(call);
                -11.0 - f64::from(k)
            }
            HedgeStep::Failed(k) => {
                self.hedge_calls.remove(call);
                -21.0 - f64::from(k)
            }
        })
    }

    /// The caller gave up on the call (cancelled): frees it; whether it was running.
    pub fn hedge_end(&mut self, call: Handle) -> bool {
        self.hedge_calls.remove(call)
    }

    /// `{calls, hedges, hedgeWins, budgetRefused, throttleRefused, delayMs, budgetTokens,
    /// throttleTokens}`.
    pub fn hedge_stats(&mut self, h: Handle, now: f64) -> Result<String> {
        let p = self.hedgers.get_mut(h).ok_or_else(|| missing("hedging policy", h))?;
        Ok(p.stats_json(now).to_string())
    }

    // ---- adaptive concurrency limits --------------------------------------------------------

    /// An adaptive limit; `seed` seeds Vegas's probe jitter.
    pub fn adaptive_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> Result<Handle> {
        let config = AdaptiveConfig::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        let seed = if seed.is_finite() && seed >= 0.0 { seed as u64 } else { 0 };
        Ok(self.adaptive.insert(None, AdaptiveLimiter::new(config, seed)))
    }

    pub fn adaptive_drop(&mut self, h: Handle) -> bool {
        self.adaptive.remove(h)
    }

    /// The index of the partition `name`, or -1.
    pub fn adaptive_partition(&mut self, h: Handle, name: &str) -> f64 {
        self.adaptive.get_mut(h).and_then(|l| l.partition(name)).map_or(-1.0, |p| p as f64)
    }

    /// Admits a call (its permit, ≥ 0) or refuses it (-1); `partition` an index or -1.
    pub fn adaptive_acquire(&mut self, h: Handle, partition: f64, now: f64) -> f64 {
        let Some(l) = self.adaptive.get_mut(h) else { return -1.0 };
        let partition = (partition >= 0.0).then_some(partition as usize);
        l.try_acquire(now, partition).map_or(-1.0, |t| t as f64)
    }

    /// A call ended: `outcome` 0 success, 1 dropped, 2 ignored.
    pub fn adaptive_release(&mut self, h: Handle, permit: f64, outcome: u32, now: f64) -> Result<()> {
        let outcome = LimitOutcome::from_code(outcome).ok_or_else(|| SeawallError::out_of_range("outcome", crate::error::fmt_num(f64::from(outcome)), "0, 1 or 2"))?;
        let l = self.adaptive.get_mut(h).ok_or_else(|| missing("adaptive limit", h))?;
        if !(permit >= 0.0 && permit.fract() == 0.0) {
            return Err(SeawallError::invalid_permit("an adaptive limit's permit"));
        }
        l.release(now, permit as u64, outcome)
    }

    /// When a shed caller should come back, ms (NaN for an unknown handle).
    pub fn adaptive_retry_after(&mut self, h: Handle, now: f64) -> f64 {
        self.adaptive.get_mut(h).map_or(f64::NAN, |l| l.retry_after_ms(now))
    }

    /// What an HTTP response's status means for an adaptive limit: 0 success, 1 dropped, 2 ignored.
    pub fn limit_outcome(status: f64) -> u32 {
        match crate::outcome::limit_outcome(status) {
            LimitOutcome::Success => 0,
            LimitOutcome::Dropped => 1,
            LimitOutcome::Ignored => 2,
        }
    }

    /// What a shed caller is told.
    pub fn adaptive_message(name: &str, retry_after_ms: f64) -> String {
        crate::adaptive::refusal_message(name, retry_after_ms)
    }

    /// What a service answers a request it sheds: `[Retry-After, JSON body]`
    /// (`crate::adaptive::shed_answer`).
    pub fn shed_answer(name: Option<&str>, retry_after_ms: f64) -> Vec<String> {
        crate::adaptive::shed_answer(name, retry_after_ms)
    }

    /// `{algorithm, limit, estimate, inFlight, admitted, rejected, dropped, ignored, windows, partitions}`.
    pub fn adaptive_stats(&mut self, h: Handle) -> Result<String> {
        let l = self.adaptive.get_mut(h).ok_or_else(|| missing("adaptive limit", h))?;
        Ok(l.stats_json().to_string())
    }

    // ---- backoff sequences ----------------------------------------------------------------

    /// A backoff schedule from retry options, with its own generator.
    pub fn backoff_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> Result<Handle> {
        let opts = parse_options(options_json)?;
        let r = OptionReader::new(&opts, RETRY_OPTIONS, "a retry policy", unit_of(seconds))?;
        let config = BackoffConfig::from_reader(&r)?;
        let seed = if seed.is_finite() && seed >= 0.0 { seed as u64 } else { 0 };
        Ok(self.backoffs.insert(None, BackoffSequence { config, backoff: Backoff::new(config), rng: SeededRng::new(seed) }))
    }

    /// The delay before retry `retry` (1-based), continuing the sequence; NaN for a bad handle.
    pub fn backoff_next(&mut self, h: Handle, retry: u32) -> f64 {
        self.backoffs.get_mut(h).map_or(f64::NAN, |s| s.backoff.next_delay(retry, &mut s.rng))
    }

    /// Starts the schedule over (its generator continues).
    pub fn backoff_restart(&mut self, h: Handle) {
        if let Some(s) = self.backoffs.get_mut(h) {
            s.backoff = Backoff::new(s.config);
        }
    }

    pub fn backoff_drop(&mut self, h: Handle) -> bool {
        self.backoffs.remove(h)
    }

    // ---- retry budgets --------------------------------------------------------------------

    pub fn budget_create(&mut self, options_json: &str, seconds: bool, now: f64) -> Result<Handle> {
        let config = BudgetConfig::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        Ok(self.budgets.insert(None, RetryBudget::new(config, now)))
    }

    pub fn budget_drop(&mut self, h: Handle) -> bool {
        self.quota_syncs.retain(|(o, s, _)| !(*o == QuotaOwner::Budget && *s == h));
        self.budgets.remove(h)
    }

    pub fn budget_record_success(&mut self, h: Handle, now: f64) {
        if let Some(b) = self.budgets.get_mut(h) {
            b.record_success(now);
        }
    }

    pub fn budget_try_withdraw(&mut self, h: Handle, now: f64) -> bool {
        self.budgets.get_mut(h).is_some_and(|b| b.try_withdraw(now))
    }

    pub fn budget_tokens(&mut self, h: Handle, now: f64) -> f64 {
        self.budgets.get_mut(h).map_or(f64::NAN, |b| b.tokens(now))
    }

    /// `{ratio, minRetriesPerSecond, maxTokens, tokens, withdrawn, refused, fleet?}` (see
    /// `RetryBudget::stats_json`).
    pub fn budget_stats(&mut self, h: Handle, now: f64) -> Result<String> {
        let b = self.budgets.get_mut(h).ok_or_else(|| missing("retry budget", h))?;
        Ok(b.stats_json(now).to_string())
    }

    /// What this replica tells the fleet's store at a sync (`{demand, want}` in retries per
    /// second, see `budget.rs`); an error for a budget without a fleet.
    pub fn budget_fleet_report(&mut self, h: Handle, now: f64) -> Result<String> {
        let b = self.budgets.get_mut(h).ok_or_else(|| missing("retry budget", h))?;
        b.fleet_report(now).map(|j| j.to_string()).ok_or_else(|| no_fleet("retry budget"))
    }

    /// The store's answer: the part of the trickle it granted (tokens per second) and the other
    /// replicas' reports (`[{demand, ageMs}, …]`).
    pub fn budget_fleet_sync(&mut self, h: Handle, granted: f64, reports_json: &str, now: f64) -> Result<()> {
        let reports = QuotaReport::list_from_json(reports_json)?;
        let b = self.budgets.get_mut(h).ok_or_else(|| missing("retry budget", h))?;
        b.fleet_sync(now, granted, &reports).then_some(()).ok_or_else(|| no_fleet("retry budget"))
    }

    /// The store did not answer in time: the budget runs on an equal part per replica last seen.
    pub fn budget_fleet_alone(&mut self, h: Handle, now: f64) -> Result<()> {
        let b = self.budgets.get_mut(h).ok_or_else(|| missing("retry budget", h))?;
        b.fleet_alone(now).then_some(()).ok_or_else(|| no_fleet("retry budget"))
    }

    // ---- rate limiters ----------------------------------------------------------------------

    pub fn rate_limit_create(&mut self, options_json: &str, seconds: bool) -> Result<Handle> {
        let config = RateLimitConfig::from_options(&parse_options(options_json)?, unit_of(seconds))?;
        Ok(self.limiters.insert(None, RateLimiter::new(config)?))
    }

    pub fn rate_limit_drop(&mut self, h: Handle) -> bool {
        self.quota_syncs.retain(|(o, s, _)| !(*o == QuotaOwner::RateLimit && *s == h));
        self.limiters.remove(h)
    }

    /// `(wait, ticket)`: start after `wait` ms (0: now) and give the place back with `ticket`
    /// (NaN when there is nothing to give back); a refusal is a negative `wait`, minus the ms
    /// until a place is free. NaN for an unknown handle.
    pub fn rate_limit_acquire(&mut self, h: Handle, now: f64) -> (f64, f64) {
        match self.limiters.get_mut(h).map(|l| l.try_acquire(now)) {
            Some(RateAdmission::Now) => (0.0, f64::NAN),
            Some(RateAdmission::After { wait_ms, ticket }) => (wait_ms, ticket),
            Some(RateAdmission::Refused { retry_after_ms }) => (-retry_after_ms, f64::NAN),
            None => (f64::NAN, f64::NAN),
        }
    }

    /// The fleet's keys and Redis scripts for the breaker `name` (see `fleet::store_json`).
    pub fn fleet_store(prefix: &str, name: &str) -> String {
        crate::fleet::store_json(prefix, name)
    }

    /// The message of a refusal by the named limiter (`RATE_LIMITED`).
    pub fn rate_limit_message(name: &str, retry_after_ms: f64) -> String {
        crate::ratelimit::refusal_message(name, retry_after_ms)
    }

    /// A waiting caller gave up; answers whether its place came back.
    pub fn rate_limit_cancel(&mut self, h: Handle, ticket: f64) -> bool {
        self.limiters.get_mut(h).is_some_and(|l| l.cancel(ticket))
    }

    /// See `RateLimiter::stats_json`.
    pub fn rate_limit_stats(&mut self, h: Handle, now: f64) -> Result<String> {
        let l = self.limiters.get_mut(h).ok_or_else(|| missing("rate limiter", h))?;
        Ok(l.stats_json(now).to_string())
    }

    /// What this replica tells the fleet's store at a sync (`{demand, want}`, see
    /// `fleet_quota.rs`); an error for a limiter without a fleet.
    pub fn rate_limit_fleet_report(&mut self, h: Handle, now: f64) -> Result<String> {
        let l = self.limiters.get_mut(h).ok_or_else(|| missing("rate limiter", h))?;
        l.fleet_report(now).map(|j| j.to_string()).ok_or_else(|| no_fleet("rate limiter"))
    }

    /// The store's answer: the share it granted (calls per `per`) and the other replicas'
    /// reports (`[{demand, ageMs}, …]`).
    pub fn rate_limit_fleet_sync(&mut self, h: Handle, granted: f64, reports_json: &str, now: f64) -> Result<()> {
        let reports = QuotaReport::list_from_json(reports_json)?;
        let l = self.limiters.get_mut(h).ok_or_else(|| missing("rate limiter", h))?;
        l.fleet_sync(now, granted, &reports).then_some(()).ok_or_else(|| no_fleet("rate limiter"))
    }

    /// The store did not answer in time: the limiter runs at an equal part of the limit.
    pub fn rate_limit_fleet_alone(&mut self, h: Handle) -> Result<()> {
        let l = self.limiters.get_mut(h).ok_or_else(|| missing("rate limiter", h))?;
        l.fleet_alone().then_some(()).ok_or_else(|| no_fleet("rate limiter"))
    }

    // ---- registry, health, metrics --------------------------------------------------------

    pub fn health(&mut self, now: f64) -> String {
        self.registry.health(now).to_json().to_string()
    }

    pub fn breaker_health(&mut self, now: f64) -> String {
        self.registry.breaker_health(now).to_json().to_string()
    }

    pub fn breaker_names(&self) -> Vec<String> {
        self.registry.breaker_names()
    }

    pub fn reset_all(&mut self, now: f64) {
        self.registry.reset_all(now);
    }

    pub fn clear_registry(&mut self) {
        self.registry.clear();
    }

    pub fn record_retry_attempt(&mut self, name: &str) {
        self.registry.record_retry_attempt(name);
    }

    pub fn record_timeout(&mut self, name: &str) {
        self.registry.record_timeout(name);
    }

    pub fn prometheus(&self) -> String {
        render_prometheus(&self.registry)
    }

    /// The OpenTelemetry instruments (`telemetry::INSTRUMENTS`), as JSON.
    pub fn telemetry_instruments() -> String {
        crate::telemetry::instruments_json()
    }

    /// What the observed OpenTelemetry instruments read (`metrics::gauge_samples_json`).
    pub fn gauge_samples(&self) -> String {
        crate::metrics::gauge_samples_json(&self.registry)
    }

    // ---- presets, validation, deadlines ---------------------------------------------------

    fn style(python: bool) -> Style {
        if python {
            Style::PYTHON
        } else {
            Style::JS
        }
    }

    fn options_json(o: Options) -> String {
        crate::options::to_json(&crate::options::OptionValue::Map(o)).to_string()
    }

    /// `ResiliencePolicies.<name>()` as JSON; `None` for an unknown name.
    pub fn preset_policy(name: &str, python: bool) -> Option<String> {
        presets::policy(Self::style(python), name).map(Self::options_json)
    }

    pub fn preset_circuit(name: &str, python: bool) -> Option<String> {
        presets::named_circuit(Self::style(python), name).map(Self::options_json)
    }

    /// `RetryPolicies.<kind>(a, b, c)` (`fixed`, `exponential`, `apiRateLimit`, `network`);
    /// NaN arguments take the preset's defaults.
    pub fn preset_retry(kind: &str, a: f64, b: f64, c: f64, python: bool) -> Option<String> {
        let style = Self::style(python);
        let given = |x: f64| (!x.is_nan()).then_some(x);
        let ms = |x: Option<f64>| x.map(|v| if python { v * 1000.0 } else { v });
        let o = match kind {
            "fixed" => presets::retry_fixed(style, given(a).unwrap_or(3.0), ms(given(b)).unwrap_or(1000.0)),
            "exponential" => presets::retry_exponential(style, given(a), ms(given(b)), ms(given(c))),
            "apiRateLimit" => presets::retry_api_rate_limit(style),
            "network" => presets::retry_network(style),
            _ => return None,
        };
        Some(Self::options_json(o))
    }

    /// Checks options of a kind the engine does not hold a machine for (`timeout`, `policy`),
    /// or any kind without building one.
    pub fn validate(kind: &str, options_json: &str, seconds: bool) -> Result<()> {
        let o = parse_options(options_json)?;
        let unit = unit_of(seconds);
        match kind {
            "breaker" => BreakerConfig::from_options(&o, unit).map(|_| ()),
            "retry" => RetryConfig::from_options(&o, unit).map(|_| ()),
            "bulkhead" => Bulkhead::from_options(&o, unit).map(|_| ()),
            #[cfg(feature = "full")]
            "budget" => BudgetConfig::from_options(&o, unit).map(|_| ()),
            #[cfg(feature = "full")]
            "rateLimit" => RateLimitConfig::from_options(&o, unit).map(|_| ()),
            "timeout" => TimeoutConfig::from_options(&o, unit).map(|_| ()),
            #[cfg(feature = "full")]
            "policy" => presets::PolicyConfig::from_options(&o, unit).map(|_| ()),
            #[cfg(feature = "full")]
            "hedge" => HedgeConfig::from_options(&o, unit).map(|_| ()),
            #[cfg(feature = "full")]
            "adaptive" => AdaptiveConfig::from_options(&o, unit).map(|_| ()),
            #[cfg(not(feature = "full"))]
            "budget" | "rateLimit" | "policy" | "hedge" | "adaptive" => Err(SeawallError::not_in_module(
                match kind {
                    "budget" => "a retry budget",
                    "rateLimit" => "a rate limiter",
                    "hedge" => "a hedging policy",
                    "adaptive" => "an adaptive limit",
                    _ => "a combined policy",
                },
                crate::error::IN_FULL,
            )),
            "call" => crate::options::check_call_arguments(&o, unit),
            "instrument" => crate::options::OptionReader::new(&o, &[crate::options::INSTRUMENT_OPTIONS], "instrument", unit).map(|_| ()),
            other => Err(SeawallError::out_of_range("kind", crate::error::quote(other), "breaker, retry, bulkhead, budget, rateLimit, timeout, policy, hedge, adaptive, call or instrument")),
        }
    }

    /// A call's deadline: `now + timeout`, or `outer` (NaN: none) when that comes first.
    pub fn deadline(now: f64, timeout_ms: f64, outer: f64) -> f64 {
        Deadline::after(now, timeout_ms, (!outer.is_nan()).then_some(outer)).at
    }

    /// A `Retry-After` header as milliseconds from `now_epoch_ms` (wall clock); NaN when
    /// unreadable (`crate::retry_after`).
    pub fn retry_after(value: &str, now_epoch_ms: f64) -> f64 {
        crate::retry_after::parse(value, now_epoch_ms).unwrap_or(f64::NAN)
    }

    /// A header giving milliseconds (`retry-after-ms`, a client's `x-request-timeout`); NaN
    /// when unreadable (`crate::retry_after::parse_ms`).
    pub fn header_ms(value: &str) -> f64 {
        crate::retry_after::parse_ms(value).unwrap_or(f64::NAN)
    }

    /// `count` draws from a generator seeded with `seed` (conformance vectors).
    pub fn rng_floats(seed: f64, count: u32) -> Vec<f64> {
        let mut rng = SeededRng::new(if seed.is_finite() && seed >= 0.0 { seed as u64 } else { 0 });
        let mut v = Vec::new();
        for _ in 0..count.min(1 << 20) {
            v.push(rng.next_f64());
        }
        v
    }
}

/// A lazily begun hedged call's delay, as a shell hands it back: ms, at least 0 (not NaN).
fn check_delay(delay: f64) -> Result<()> {
    if delay.is_nan() || delay < 0.0 {
        return Err(SeawallError::out_of_range("delay", crate::error::fmt_num(delay), "a number of ms at least 0"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_text_is_an_object_or_null() {
        assert_eq!(parse_options("null").unwrap(), Vec::new());
        assert_eq!(parse_options(r#"{"a":1}"#).unwrap().len(), 1);
        for bad in ["[1]", "3", "\"x\"", "{"] {
            assert_eq!(parse_options(bad).unwrap_err().option.as_deref(), Some("options"), "{bad}");
        }
    }

    #[test]
    fn constants_are_the_core_lists() {
        let codes = Engine::error_codes();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        assert!(codes.contains(&"CIRCUIT_OPEN") && codes.contains(&"BULKHEAD_QUEUE_FULL") && codes.contains(&"INVALID_OPTION"));
        let mut e = Engine::new();
        e.breaker_get_or_create("orders", "{}", false).unwrap();
        assert_eq!(e.registry().breaker_names(), ["orders"]);
    }

    #[test]
    fn breaker_round_trip_through_the_flat_api() {
        let mut e = Engine::new();
        let h = e.breaker_create(r#"{"failureThreshold":1,"resetTimeout":100}"#, false, Some("svc")).unwrap();
        let (p, _, events) = e.breaker_acquire(h, 0.0);
        assert_eq!((p, events), (0.0, false));
        assert_eq!(e.breaker_record(h, p, 1, 1.0, 0.0), 1.0 + 8.0, "OPEN with events waiting");
        assert!(e.breaker_events(h).contains("CONSECUTIVE_FAILURES"));
        assert_eq!(e.breaker_record(h, p, 0, 1.0, 0.0), -1.0, "returned twice");
        let (code, retry_after, _) = e.breaker_acquire(h, 50.0);
        assert_eq!((code, retry_after), (-2.0, 51.0));
        let (probe, _, events) = e.breaker_acquire(h, 101.0);
        assert!(probe >= 1.0 && events, "OPEN -> HALF_OPEN waits to be drained");
        assert!(e.breaker_events(h).contains("RESET_TIMEOUT_ELAPSED"));
        assert_eq!(e.breaker_record(h, probe, 0, 102.0, 101.0), 0.0 + 8.0);
        assert_eq!(e.breaker_lookup("svc"), Some(h));
        assert!(e.breaker_config(h).unwrap().contains("\"resetTimeout\":100"));
        let err = e.breaker_create(r#"{"failureThreshold":0}"#, false, None).unwrap_err();
        assert!(err.to_json().contains("\"option\":\"failureThreshold\""));
        assert!(e.breaker_create("[1]", false, None).is_err());
        assert!(e.breaker_drop(h));
        assert_eq!(e.breaker_acquire(h, 0.0).0, -4.0, "a dropped handle refuses");
    }

    #[test]
    fn retry_and_budget_through_the_flat_api() {
        let mut e = Engine::new();
        let p = e.retry_policy_create(r#"{"maxAttempts":3,"baseDelay":100,"jitter":false}"#, false, 1.0).unwrap();
        let b = e.budget_create(r#"{"maxTokens":1,"minRetriesPerSecond":0}"#, false, 0.0).unwrap();
        let c = e.retry_start(p, 0.0).unwrap();
        assert_eq!(e.retry_on_failure(c, 0.0, 0, f64::NAN, b as f64).unwrap(), (100.0, 2, false));
        assert_eq!(e.retry_on_failure(c, 100.0, 0, f64::NAN, b as f64).unwrap(), (-4.0, 2, false), "budget exhausted");
        assert_eq!(e.retry_on_failure(c, 100.0, 2, 50.0, -1.0).unwrap(), (50.0, 3, true));
        assert_eq!(e.retry_on_failure(c, 150.0, 0, f64::NAN, -1.0).unwrap(), (-2.0, 3, false));
        let s = e.backoff_create(r#"{"baseDelay":100,"jitter":false}"#, false, 0.0).unwrap();
        assert_eq!((e.backoff_next(s, 1), e.backoff_next(s, 3)), (100.0, 400.0));
        assert_eq!(Engine::give_up_codes()[3], "RETRY_BUDGET_EXHAUSTED");
        assert!(e.retry_end(c));
        assert!(e.retry_policy_info(p).unwrap().contains("\"maxAttempts\":3"));
    }

    #[test]
    fn bulkhead_through_the_flat_api() {
        let mut e = Engine::new();
        let h = e.bulkhead_create(r#"{"maxConcurrent":1,"maxQueueSize":1,"queueTimeout":10}"#, false, Some("db")).unwrap();
        let (k, permit) = e.bulkhead_acquire(h, 0.0);
        assert_eq!(k, 0);
        assert_eq!(e.bulkhead_acquire(h, 0.0), (1, 1.0));
        assert_eq!(e.bulkhead_acquire(h, 0.0), (2, 1.0));
        assert_eq!(e.bulkhead_next_timeout(h), 10.0);
        let (ticket, next) = e.bulkhead_release(h, permit, 5.0).unwrap();
        assert_eq!(ticket, 1.0);
        assert!(e.bulkhead_release(h, permit, 5.0).is_err());
        assert_eq!(e.bulkhead_release(h, next, 6.0).unwrap().0, 0.0);
        assert!(e.health(7.0).contains("\"name\":\"db\""));
        assert!(e.prometheus().contains("bulkhead_executions_total{name=\"db\",state=\"queued\"} 1"));
    }

    #[test]
    fn presets_and_validation() {
        assert!(Engine::preset_policy("api", false).unwrap().contains("\"circuitBreaker\""));
        assert!(Engine::preset_policy("api", true).unwrap().contains("\"circuit_breaker\""));
        assert!(Engine::preset_retry("fixed", 3.0, 1.0, f64::NAN, true).unwrap().contains("\"base_delay\":1"));
        assert!(Engine::validate("policy", r#"{"retry":{"maxAttempts":0}}"#, false).is_err());
        assert!(Engine::validate("timeout", r#"{"timeout":5}"#, false).is_ok());
        assert_eq!(Engine::deadline(10.0, 5.0, f64::NAN), 15.0);
        assert_eq!(Engine::rng_floats(42.0, 2).len(), 2);
        assert!(Engine::defaults_json().contains("\"maxAttempts\":3"));
    }

    // ---- the flat API's answers, one by one (the binding suites drive them too, but
    // cargo-mutants runs only these) ----------------------------------------------------------

    fn parsed(text: &str) -> Json {
        Json::parse(text).unwrap()
    }

    fn field(text: &str, key: &str) -> Json {
        match parsed(text) {
            Json::Obj(fields) => fields.into_iter().find(|(k, _)| k == key).map(|(_, v)| v).unwrap_or(Json::Null),
            _ => Json::Null,
        }
    }

    #[test]
    fn constant_lists_in_encoding_order() {
        assert_eq!(Engine::state_names(), ["CLOSED", "OPEN", "HALF_OPEN", "FORCED_OPEN", "DISABLED"]);
        assert_eq!(Engine::give_up_reasons(), ["NOT_RETRYABLE", "ATTEMPTS_EXHAUSTED", "DEADLINE_EXCEEDED", "BUDGET_EXHAUSTED", "RETRY_AFTER_TOO_LONG"]);
        assert_eq!(Engine::unconditional_admits(), [true, false, false, false, true]);
    }

    #[test]
    fn names_and_handles() {
        let mut e = Engine::new();
        let unnamed = e.breaker_create("{}", false, None).unwrap();
        let h = e.breaker_create("{}", false, Some("svc")).unwrap();
        assert_ne!(h, Handle::default());
        assert_eq!((e.breaker_lookup("svc"), e.breaker_lookup("other")), (Some(h), None));
        assert_eq!((e.breaker_name(h), e.breaker_name(unnamed)), (Some("svc".to_string()), None));
        e.breaker_create("{}", false, Some("a")).unwrap();
        assert_eq!(e.breaker_names(), ["a", "svc"]);
        assert_eq!(field(&e.breaker_health(0.0), "total"), Json::Num(2.0), "the named ones");
        e.clear_registry();
        assert_eq!((e.breaker_names().len(), e.breaker_lookup("svc")), (0, None));

        e.bulkhead_create("{}", false, None).unwrap();
        let (b, created) = e.bulkhead_get_or_create("db", r#"{"maxConcurrent":2}"#, false).unwrap();
        assert!(created && b != Handle::default());
        assert_eq!(e.bulkhead_get_or_create("db", "{}", false).unwrap(), (b, false));
        assert_eq!((e.bulkhead_lookup("db"), e.bulkhead_lookup("other")), (Some(b), None));
        assert!(e.bulkhead_metrics(b).unwrap().contains("\"maxConcurrent\":2"));
        assert!(e.bulkhead_drop(b) && !e.bulkhead_drop(b));
    }

    #[test]
    fn record_measures_the_call_from_its_start() {
        // Slow above 50 ms: a call from 100 to 200 took 100 ms (not 0, 2 or 300).
        let mut e = Engine::new();
        let opts = |t: u32| format!(r#"{{"slowCallDurationThreshold":{t},"slowCallRateThreshold":1,"failureThreshold":100}}"#);
        let slow_calls = |e: &mut Engine, h| field(&e.breaker_stats(h, 200.0).unwrap(), "windowSlowCalls");
        let a = e.breaker_create(&opts(50), false, None).unwrap();
        let p = e.breaker_acquire(a, 100.0).0;
        assert_eq!(e.breaker_record(a, p, 0, 200.0, 100.0), 0.0);
        assert_eq!(slow_calls(&mut e, a), Json::Num(1.0));
        let b = e.breaker_create(&opts(150), false, None).unwrap();
        let p = e.breaker_acquire(b, 100.0).0;
        e.breaker_record(b, p, 0, 200.0, 100.0);
        assert_eq!(slow_calls(&mut e, b), Json::Num(0.0));
        assert!(e.breaker_drop(b));
        assert_eq!(e.breaker_record(b, p, 0, 200.0, 100.0), -1.0, "a dropped breaker");
    }

    #[test]
    fn breaker_states_commands_and_timers() {
        let mut e = Engine::new();
        let h = e.breaker_create(r#"{"failureThreshold":1,"resetTimeout":100,"successThreshold":1}"#, false, Some("svc")).unwrap();
        assert_eq!(e.breaker_inert_success_states(h), [true, false, false, false, true]);
        assert_eq!(e.breaker_inert_success_states(99), [false; 5]);
        assert!(!e.breaker_has_events(h));
        let p = e.breaker_acquire(h, 0.0).0;
        e.breaker_record(h, p, 1, 0.0, 0.0);
        assert!(e.breaker_has_events(h));
        e.breaker_events(h);
        assert!(!e.breaker_has_events(h));
        assert_eq!(e.breaker_next_timeout(h), 100.0);
        assert_eq!(e.breaker_retry_after(h, 30.0), 70.0);
        let open_snapshot = e.breaker_snapshot(h, 30.0).unwrap();
        assert_eq!(field(&open_snapshot, "state"), Json::from("OPEN"));
        assert_eq!(field(&e.breaker_stats(h, 30.0).unwrap(), "openCount"), Json::Num(1.0));
        assert_eq!(e.breaker_current_state(h), 1);
        assert_eq!(e.breaker_state(h, 100.0).unwrap(), 2);
        let probe = e.breaker_acquire(h, 100.0).0;
        assert_eq!(e.breaker_current_state(h), 2);
        e.breaker_events(h);
        e.breaker_record(h, probe, 0, 101.0, 100.0);
        assert_eq!(e.breaker_current_state(h), 0);
        assert!(e.breaker_next_timeout(h).is_nan(), "closed: no timer");
        // Successes the shell counted: the answer is the state, plus 8 while events wait.
        let due = e.breaker_create(r#"{"failureThreshold":1,"resetTimeout":100,"failureRateThreshold":0.5}"#, false, None).unwrap();
        let p = e.breaker_acquire(due, 0.0).0;
        e.breaker_record(due, p, 1, 0.0, 0.0);
        assert_eq!(e.breaker_record_successes(due, 1, 50.0), 1.0 + 8.0);
        e.breaker_events(due);
        assert_eq!(e.breaker_record_successes(due, 1, 50.0), 1.0);
        assert_eq!(e.breaker_record_successes(99, 1, 101.0), -1.0);
        assert_eq!(e.breaker_current_state(99), 3, "an unknown handle answers FORCED_OPEN");
        for (command, code) in [("open", 1), ("reset", 0), ("forceOpen", 3), ("isolate", 3), ("disable", 4)] {
            assert_eq!(e.breaker_command(h, command, 200.0).unwrap(), code, "{command}");
        }
        assert_eq!(e.breaker_command(h, "close", 200.0).unwrap_err().option.as_deref(), Some("command"));
        // A saved OPEN state comes back.
        let other = e.breaker_create("{}", false, None).unwrap();
        e.breaker_restore(other, &open_snapshot, 30.0).unwrap();
        assert_eq!(e.breaker_current_state(other), 1);
        assert!(e.breaker_restore(other, "{", 30.0).is_err());
        // reset_all closes every registered breaker.
        e.breaker_command(h, "open", 300.0).unwrap();
        e.reset_all(300.0);
        assert_eq!(e.breaker_current_state(h), 0);
    }

    #[test]
    fn rejection_messages_follow_the_state_code() {
        use crate::breaker::Rejection;
        let msg = |state, retry_after_ms| Rejection { state, retry_after_ms }.message("svc");
        assert_eq!(Engine::rejection_message("svc", -4.0, f64::NAN), msg(CircuitState::ForcedOpen, None));
        assert_eq!(Engine::rejection_message("svc", -2.0, 1500.0), msg(CircuitState::Open, Some(1500.0)));
        assert_eq!(Engine::rejection_message("svc", -2.0, f64::NAN), msg(CircuitState::Open, None));
        assert_ne!(msg(CircuitState::Open, Some(1500.0)), msg(CircuitState::Open, None));
        assert_ne!(msg(CircuitState::ForcedOpen, None), msg(CircuitState::Open, None));
    }

    #[test]
    fn bulkhead_cancel_and_expire() {
        let mut e = Engine::new();
        let h = e.bulkhead_create(r#"{"maxConcurrent":1,"maxQueueSize":3,"queueTimeout":10}"#, false, None).unwrap();
        e.bulkhead_acquire(h, 0.0);
        let tickets: Vec<f64> = (0..3).map(|_| e.bulkhead_acquire(h, 0.0).1).collect();
        assert_eq!(tickets, [1.0, 2.0, 3.0]);
        assert!(e.bulkhead_cancel(h, 2.0));
        assert!(!e.bulkhead_cancel(h, 2.0), "cancelled once");
        assert!(!e.bulkhead_cancel(h, 0.0));
        assert_eq!(e.bulkhead_expire(h, 10.0), [1.0, 3.0]);
        assert_eq!(e.bulkhead_expire(99, 10.0), Vec::<f64>::new());
    }

    #[test]
    fn seeds_that_are_not_whole_numbers_seed_with_zero() {
        let jittered = r#"{"maxAttempts":5,"baseDelay":1000,"jitter":"full"}"#;
        let delays = |seed: f64| {
            let mut e = Engine::new();
            let p = e.retry_policy_create(jittered, false, seed).unwrap();
            let c = e.retry_start(p, 0.0).unwrap();
            let s = e.backoff_create(jittered, false, seed).unwrap();
            (e.retry_on_failure(c, 0.0, 0, f64::NAN, -1.0).unwrap().0, e.backoff_next(s, 3), Engine::rng_floats(seed, 2))
        };
        assert_eq!(delays(f64::INFINITY), delays(0.0));
        assert_eq!(delays(-3.0), delays(0.0));
        // Each generator on its own takes a whole seed.
        let (five, zero) = (delays(5.0), delays(0.0));
        assert_ne!(five.0, zero.0, "retry policy");
        assert_ne!(five.1, zero.1, "backoff sequence");
        assert_ne!(five.2, zero.2, "rng_floats");
        assert_eq!(Engine::rng_floats(1.0, 3).len(), 3);
    }

    #[test]
    fn retry_calls_policies_and_classes() {
        let mut e = Engine::new();
        let p = e.retry_policy_create(r#"{"maxAttempts":3,"baseDelay":100,"jitter":false,"retryableErrors":["TIMEOUT"]}"#, false, 0.0).unwrap();
        assert!(e.retry_is_retryable(p, &["TIMEOUT"]) && !e.retry_is_retryable(p, &["OTHER"]));
        let c = e.retry_start(p, 0.0).unwrap();
        assert_eq!(e.retry_on_failure(c, 0.0, 1, f64::NAN, -1.0).unwrap(), (-1.0, 1, false), "class 1: not retryable");
        assert!(e.retry_end(c) && !e.retry_end(c));
        let c = e.retry_start(p, 0.0).unwrap();
        assert_eq!(e.retry_on_failure(c, 0.0, 0, 5000.0, -1.0).unwrap(), (100.0, 2, false), "class 0 ignores a Retry-After");
        assert!(e.retry_policy_drop(p) && !e.retry_policy_drop(p));
        assert!(e.retry_on_failure(c, 0.0, 0, f64::NAN, -1.0).is_err(), "its policy is gone");
    }

    #[test]
    fn backoff_sequences_start_over() {
        let mut e = Engine::new();
        let s = e.backoff_create(r#"{"backoff":"decorrelated","baseDelay":100,"maxDelay":100000}"#, false, 7.0).unwrap();
        let mut twin = Engine::new();
        let t = twin.backoff_create(r#"{"backoff":"decorrelated","baseDelay":100,"maxDelay":100000}"#, false, 7.0).unwrap();
        let first: Vec<f64> = (1..=4).map(|r| e.backoff_next(s, r)).collect();
        let again: Vec<f64> = (1..=4).map(|r| twin.backoff_next(t, r)).collect();
        assert_eq!(first, again);
        // Restarted, the schedule grows from the base again (the generator goes on): without
        // the restart it would keep growing from where it was.
        e.backoff_restart(s);
        twin.backoff_next(t, 5);
        let restarted = e.backoff_next(s, 1);
        assert!(restarted <= 300.0, "{restarted}");
        assert!(e.backoff_drop(s) && !e.backoff_drop(s));
        assert!(e.backoff_next(s, 1).is_nan());
    }

    #[test]
    fn fleet_budgets_through_the_flat_api() {
        let mut e = Engine::new();
        let h = e.budget_create(r#"{"name":"api","minRetriesPerSecond":10,"maxTokens":20,"fleet":{"redis":"<object>","syncInterval":100}}"#, false, 0.0).unwrap();
        assert!(!e.budget_try_withdraw(h, 0.0), "empty before the store's first answer");
        assert_eq!(e.budget_fleet_report(h, 100.0).unwrap(), r#"{"demand":10.0,"want":10.0}"#);
        e.budget_fleet_sync(h, 5.0, r#"[{"demand":30,"want":5,"ageMs":3}]"#, 100.0).unwrap();
        assert_eq!(e.budget_tokens(h, 100.0), 10.0);
        e.budget_fleet_alone(h, 100.0).unwrap();
        let stats = e.budget_stats(h, 100.0).unwrap();
        assert!(stats.contains(r#""mode":"local","replicas":2,"fresh":false,"share":5.0,"cap":10.0"#), "{stats}");
        assert_eq!(e.budget_fleet_sync(h, 1.0, "[{}]", 100.0).unwrap_err().option.as_deref(), Some("reports[0]"));
        let lone = e.budget_create("{}", false, 0.0).unwrap();
        for err in [e.budget_fleet_report(lone, 0.0).unwrap_err(), e.budget_fleet_sync(lone, 1.0, "[]", 0.0).unwrap_err(), e.budget_fleet_alone(lone, 0.0).unwrap_err()] {
            assert_eq!(err.message, "invalid option fleet: expected a fleet (this retry budget was made without one), got undefined");
        }
        assert!(e.budget_drop(h));
        assert!(e.budget_stats(h, 0.0).is_err() && e.budget_fleet_alone(h, 0.0).is_err() && e.budget_fleet_report(h, 0.0).is_err());
    }

    #[test]
    fn budgets_through_the_flat_api() {
        let mut e = Engine::new();
        let b = e.budget_create(r#"{"maxTokens":5,"minRetriesPerSecond":0,"ratio":0.5}"#, false, 0.0).unwrap();
        assert_eq!(e.budget_tokens(b, 0.0), 5.0);
        assert!(e.budget_try_withdraw(b, 0.0));
        assert_eq!(e.budget_tokens(b, 0.0), 4.0);
        e.budget_record_success(b, 0.0);
        assert_eq!(e.budget_tokens(b, 0.0), 4.5);
        let one = e.budget_create(r#"{"maxTokens":1,"minRetriesPerSecond":0}"#, false, 0.0).unwrap();
        assert!(e.budget_try_withdraw(one, 0.0) && !e.budget_try_withdraw(one, 0.0));
        assert!(e.budget_drop(b) && !e.budget_drop(b));
        assert!(e.budget_tokens(b, 0.0).is_nan());
    }

    #[test]
    fn metrics_count_retries_and_timeouts_by_name() {
        let mut e = Engine::new();
        e.record_retry_attempt("svc");
        e.record_retry_attempt("svc");
        e.record_timeout("svc");
        let text = e.prometheus();
        assert!(text.contains("retry_attempts_total{name=\"svc\"} 2"), "{text}");
        assert!(text.contains("timeout_operations_total{name=\"svc\"} 1"), "{text}");
    }

    #[test]
    fn presets_by_name_and_unit() {
        assert_eq!(field(&Engine::preset_circuit("openai", false).unwrap(), "failureThreshold"), Json::Num(3.0));
        assert_eq!(field(&Engine::preset_circuit("stripe", false).unwrap(), "resetTimeout"), Json::Num(30_000.0));
        assert_eq!(Engine::preset_circuit("nope", false), None);
        assert_eq!(field(&Engine::preset_retry("fixed", f64::NAN, f64::NAN, f64::NAN, false).unwrap(), "maxAttempts"), Json::Num(3.0));
        assert_eq!(field(&Engine::preset_retry("fixed", 3.0, 2.0, f64::NAN, true).unwrap(), "base_delay"), Json::Num(2.0));
        let kinds: Vec<String> = ["exponential", "apiRateLimit", "network"].iter().map(|k| Engine::preset_retry(k, f64::NAN, f64::NAN, f64::NAN, false).unwrap()).collect();
        assert_eq!(kinds[0], Engine::options_json(presets::retry_exponential(Style::JS, None, None, None)));
        assert_eq!(kinds[1], Engine::options_json(presets::retry_api_rate_limit(Style::JS)));
        assert_eq!(kinds[2], Engine::options_json(presets::retry_network(Style::JS)));
        assert_eq!(Engine::preset_retry("nope", 1.0, 1.0, 1.0, false), None);
    }

    #[test]
    fn deadlines_and_retry_after() {
        assert_eq!(Engine::deadline(10.0, 5.0, 12.0), 12.0, "the outer deadline comes first");
        assert_eq!(Engine::deadline(10.0, 5.0, 20.0), 15.0);
        assert_eq!(Engine::retry_after("120", 0.0), 120_000.0);
        assert!(Engine::retry_after("soon", 0.0).is_nan());
    }

    #[test]
    fn rate_limiters_through_the_flat_api() {
        let mut e = Engine::new();
        let h = e.rate_limit_create(r#"{"limit":2,"per":1,"maxWait":0.6}"#, true).unwrap();
        assert_eq!(e.rate_limit_acquire(h, 0.0).0, 0.0);
        assert!(e.rate_limit_acquire(h, 0.0).1.is_nan(), "nothing to give back");
        let (wait, ticket) = e.rate_limit_acquire(h, 0.0);
        assert_eq!((wait, ticket), (500.0, 1500.0));
        assert_eq!(e.rate_limit_acquire(h, 0.0).0, -1000.0, "refused: a place is free in 1000 ms");
        assert!(e.rate_limit_cancel(h, ticket));
        assert!(!e.rate_limit_cancel(h, ticket));
        assert_eq!(e.rate_limit_stats(h, 0.0).unwrap(), r#"{"limit":2,"per":1000.0,"burst":2,"maxWait":600.0,"admitted":2,"waited":1,"refused":1,"cancelled":2,"available":0}"#);
        assert!(e.rate_limit_drop(h));
        assert!(!e.rate_limit_drop(h));
        assert!(e.rate_limit_acquire(h, 0.0).0.is_nan());
        assert!(!e.rate_limit_cancel(h, ticket));
        assert_eq!(e.rate_limit_stats(h, 0.0).unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(e.rate_limit_create(r#"{"limit":0}"#, false).unwrap_err().option.as_deref(), Some("limit"));
        assert_eq!(Engine::rate_limit_message("api", 1000.0), "Rate limiter 'api' is at its limit; try again in 1 seconds");
    }

    #[test]
    fn fleet_rate_limits_through_the_flat_api() {
        let mut e = Engine::new();
        let h = e.rate_limit_create(r#"{"name":"api","limit":100,"burst":10,"fleet":{"redis":"<object>","syncInterval":100}}"#, false).unwrap();
        assert_eq!(e.rate_limit_acquire(h, 0.0).0, -100.0, "no share before the first sync");
        assert_eq!(e.rate_limit_fleet_report(h, 50.0).unwrap(), r#"{"demand":20.0,"want":100.0}"#);
        e.rate_limit_fleet_sync(h, 25.0, r#"[{"demand":300,"want":75,"ageMs":3}]"#, 60.0).unwrap();
        assert_eq!(e.rate_limit_acquire(h, 60.0).0, 0.0);
        let stats = e.rate_limit_stats(h, 60.0).unwrap();
        assert_eq!(stats, r#"{"limit":100,"per":1000.0,"burst":10,"maxWait":0.0,"fleet":{"syncInterval":100.0,"staleAfter":400.0,"mode":"shared","replicas":2,"fresh":true,"share":25.0},"admitted":1,"waited":0,"refused":1,"cancelled":0,"available":1}"#);
        e.rate_limit_fleet_alone(h).unwrap();
        assert!(e.rate_limit_stats(h, 60.0).unwrap().contains(r#""mode":"local","replicas":2,"fresh":false,"share":50.0}"#));
        for (bad, option) in [("{", "reports"), (r#"[{"demand":1}]"#, "reports[0]")] {
            assert_eq!(e.rate_limit_fleet_sync(h, 1.0, bad, 0.0).unwrap_err().option.as_deref(), Some(option));
        }
        let alone = e.rate_limit_create(r#"{"name":"solo","limit":1}"#, false).unwrap();
        for err in [e.rate_limit_fleet_report(alone, 0.0).unwrap_err(), e.rate_limit_fleet_sync(alone, 1.0, "[]", 0.0).unwrap_err(), e.rate_limit_fleet_alone(alone).unwrap_err()] {
            assert_eq!(err.option.as_deref(), Some("fleet"));
        }
        assert_eq!(e.rate_limit_fleet_report(999, 0.0).unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(e.rate_limit_fleet_alone(999).unwrap_err().code, ErrorCode::NotFound);
        // Options: a name is needed (the key in the store), a quorum is a breaker's, times are checked.
        for (options, option, message) in [
            (r#"{"limit":1,"fleet":{"redis":"<object>"}}"#, "name", "invalid option name: expected a name for a rate limiter with a fleet (its key in the shared store), got undefined"),
            (r#"{"name":"a","limit":1,"fleet":{}}"#, "fleet.redis", "invalid option fleet.redis: expected a Redis client, got undefined"),
            (r#"{"name":"a","limit":1,"fleet":{"redis":"<object>","minReplicas":2}}"#, "fleet.minReplicas", "unknown option fleet.minReplicas for a rate limiter's fleet"),
            (r#"{"name":"a","limit":1,"fleet":{"redis":"<object>","syncInterval":0}}"#, "fleet.syncInterval", "invalid option fleet.syncInterval: expected a finite number of milliseconds > 0, got 0"),
        ] {
            let err = e.rate_limit_create(options, false).unwrap_err();
            assert_eq!((err.option.as_deref(), err.message.as_str()), (Some(option), message));
            assert_eq!(Engine::validate("rateLimit", options, false).unwrap_err(), err);
        }
    }

    #[test]
    fn fleets_through_the_flat_api() {
        let mut e = Engine::new();
        let h = e.breaker_create(r#"{"failureThreshold":2,"resetTimeout":1000,"halfOpenMaxCalls":1,"fleet":{"redis":"<object>","syncInterval":100}}"#, false, Some("api")).unwrap();
        assert_eq!(e.breaker_fleet_report(h, 0.0).unwrap(), r#"{"calls":0,"failures":0,"slow":0,"consecutiveFailures":0,"ageMs":0.0}"#);
        let report = r#"{"calls":1,"failures":1,"slow":0,"consecutiveFailures":1,"ageMs":5}"#;
        let tally = e.breaker_fleet_sync(h, &format!("[{report},{report}]"), 10.0).unwrap();
        assert_eq!(tally, r#"{"replicas":2,"failing":2,"calls":2,"failures":2,"slow":0,"consecutiveFailures":2}"#);
        assert_eq!(e.breaker_current_state(h), CircuitState::Open.code());
        assert!(e.breaker_probe_lease(h, 500.0).is_nan(), "open period not over");
        assert_eq!(e.breaker_probe_lease(h, 1010.0), 1000.0);
        assert_eq!(e.breaker_command(h, "fleetLease", 1010.0).unwrap(), CircuitState::HalfOpen.code());
        assert_eq!(e.breaker_command(h, "fleetAlone", 1011.0).unwrap(), CircuitState::HalfOpen.code());
        assert_eq!(e.breaker_command(h, "fleetShared", 1012.0).unwrap(), CircuitState::HalfOpen.code());
        assert_eq!(e.breaker_command(h, "reset", 1013.0).unwrap(), CircuitState::Closed.code());
        assert_eq!(e.breaker_command(h, "fleetOpened", 1014.0).unwrap(), CircuitState::Open.code());
        assert_eq!(e.breaker_command(h, "fleetClosed", 1015.0).unwrap(), CircuitState::Closed.code());
        let err = e.breaker_command(h, "fleetJoin", 0.0).unwrap_err();
        assert!(err.message.contains("fleetShared"), "{}", err.message);
        for (bad, option) in [("{", "reports"), ("{}", "reports"), (r#"[{"calls":1}]"#, "reports[0]"), (r#"[{"calls":1,"failures":0,"slow":0,"consecutiveFailures":0,"ageMs":-1}]"#, "reports[0]")] {
            assert_eq!(e.breaker_fleet_sync(h, bad, 0.0).unwrap_err().option.as_deref(), Some(option), "{bad}");
        }
        assert!(e.breaker_probe_lease(999, 0.0).is_nan());
        assert_eq!(e.breaker_fleet_report(999, 0.0).unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(e.breaker_fleet_sync(999, "[]", 0.0).unwrap_err().code, ErrorCode::NotFound);
        // A sync is fresh for stale-after (400 ms here) from when it was made.
        let fresh = |e: &mut Engine, now: f64| Json::parse(&e.health(now)).unwrap().get("circuitBreakers").and_then(|c| c.get("fleet")).and_then(|f| f.get("api")).and_then(|a| a.get("fresh")).cloned();
        e.breaker_fleet_sync(h, "[]", 5000.0).unwrap();
        assert_eq!((fresh(&mut e, 5400.0), fresh(&mut e, 5401.0)), (Some(Json::Bool(true)), Some(Json::Bool(false))));
        // A lease is whole milliseconds, at least one (Redis's `PX`), whatever the open period.
        let f = e.breaker_create(r#"{"failureThreshold":1,"resetTimeout":0.25,"fleet":{"redis":"<object>"}}"#, false, Some("fine")).unwrap();
        e.breaker_fleet_sync(f, &format!("[{report},{report}]"), 0.0).unwrap();
        assert_eq!(e.breaker_probe_lease(f, 1.0), 1.0);
        let g = e.breaker_create(r#"{"failureThreshold":1,"resetTimeout":1000.5,"fleet":{"redis":"<object>"}}"#, false, Some("odd")).unwrap();
        e.breaker_fleet_sync(g, &format!("[{report},{report}]"), 0.0).unwrap();
        assert_eq!(e.breaker_probe_lease(g, 2000.0), 1001.0);
        let store = Engine::fleet_store("app", "api");
        assert!(store.starts_with(r#"{"keys":{"reports":"app:{api}:reports","marks":"app:{api}:marks","lease":"app:{api}:lease","quota":"app:{api}:quota","budget":"app:{api}:budget"},"scripts":{"sync":""#), "{store}");
    }
}
