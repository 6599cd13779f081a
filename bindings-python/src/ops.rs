//! The cold operations of the pyo3 backend. Generated from bindings-shared/src/boundary.rs by its tests (SEAWALL_BLESS=1 cargo test -p seawall-bindings-shared); do not edit.

use pyo3::prelude::*;
use seawall_core::Engine as CoreEngine;

use crate::{checked, Engine};

#[pymethods]
impl Engine {
    #[pyo3(signature = (options_json, seconds, name=None))]
    fn breaker_create(&mut self, options_json: &str, seconds: bool, name: Option<&str>) -> PyResult<u32> {
        checked(self.inner.breaker_create(options_json, seconds, name))
    }

    fn breaker_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> PyResult<(u32, bool)> {
        checked(self.inner.breaker_get_or_create(name, options_json, seconds))
    }

    /// The handle of the registered breaker `name`.
    fn breaker_lookup(&mut self, name: &str) -> Option<u32> {
        self.inner.breaker_lookup(name)
    }

    fn breaker_name(&mut self, handle: u32) -> Option<String> {
        self.inner.breaker_name(handle)
    }

    fn breaker_drop(&mut self, handle: u32) -> bool {
        self.inner.breaker_drop(handle)
    }

    fn breaker_events(&mut self, handle: u32) -> String {
        self.inner.breaker_events(handle)
    }

    /// Per state code: may the shell count successes itself in that state?
    fn breaker_inert_success_states(&mut self, handle: u32) -> Vec<bool> {
        self.inner.breaker_inert_success_states(handle)
    }

    fn breaker_has_events(&mut self, handle: u32) -> bool {
        self.inner.breaker_has_events(handle)
    }

    fn breaker_state(&mut self, handle: u32, now: Option<f64>) -> PyResult<u8> {
        let now = self.at(now);
        checked(self.inner.breaker_state(handle, now))
    }

    fn breaker_current_state(&mut self, handle: u32) -> u8 {
        self.inner.breaker_current_state(handle)
    }

    fn breaker_command(&mut self, handle: u32, command: &str, now: Option<f64>) -> PyResult<u8> {
        let now = self.at(now);
        checked(self.inner.breaker_command(handle, command, now))
    }

    /// The fleet's sync: this replica's report.
    fn breaker_fleet_report(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.breaker_fleet_report(handle, now))
    }

    /// The fleet's sync: the replicas' reports in, the tally out.
    fn breaker_fleet_sync(&mut self, handle: u32, reports_json: &str, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.breaker_fleet_sync(handle, reports_json, now))
    }

    /// The fleet's sync: the probe lease to take (its ms), or NaN.
    fn breaker_probe_lease(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.breaker_probe_lease(handle, now)
    }

    /// A fleet breaker's sync with its store (core/src/fleet_sync.rs): starts it, as the replica
    /// `replica`, on the keys under `prefix`.
    fn breaker_sync_join(&mut self, handle: u32, prefix: &str, replica: &str) -> PyResult<()> {
        checked(self.inner.breaker_sync_join(handle, prefix, replica))
    }

    /// Stops it (the breaker then decides alone); whether one ran.
    fn breaker_sync_leave(&mut self, handle: u32) -> bool {
        self.inner.breaker_sync_leave(handle)
    }

    /// The next command of the round (JSON: `{"eval", "keys", "args"}` or `{"set", "value", "px"}`),
    /// or "" when the round is over.
    fn breaker_sync_next(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.breaker_sync_next(handle, now))
    }

    /// Redis's reply to the last command, as JSON.
    fn breaker_sync_reply(&mut self, handle: u32, reply_json: &str, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.breaker_sync_reply(handle, reply_json, now))
    }

    /// The round failed (an error, or no answer by its deadline).
    fn breaker_sync_failed(&mut self, handle: u32, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.breaker_sync_failed(handle, now))
    }

    /// Whether the breaker has news for the fleet: a round should run now.
    fn breaker_sync_wanted(&mut self, handle: u32) -> bool {
        self.inner.breaker_sync_wanted(handle)
    }

    /// `{"mode": "shared"|"local", "replicas", "fresh", "syncs", "failedSyncs"}`.
    fn breaker_sync_status(&mut self, handle: u32) -> PyResult<String> {
        checked(self.inner.breaker_sync_status(handle))
    }

    fn breaker_retry_after(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.breaker_retry_after(handle, now)
    }

    fn breaker_next_timeout(&mut self, handle: u32) -> f64 {
        self.inner.breaker_next_timeout(handle)
    }

    fn breaker_stats(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.breaker_stats(handle, now))
    }

    fn breaker_config(&mut self, handle: u32) -> PyResult<String> {
        checked(self.inner.breaker_config(handle))
    }

    fn breaker_snapshot(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.breaker_snapshot(handle, now))
    }

    fn breaker_restore(&mut self, handle: u32, snapshot_json: &str, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.breaker_restore(handle, snapshot_json, now))
    }

    #[pyo3(signature = (options_json, seconds, name=None))]
    fn bulkhead_create(&mut self, options_json: &str, seconds: bool, name: Option<&str>) -> PyResult<u32> {
        checked(self.inner.bulkhead_create(options_json, seconds, name))
    }

    fn bulkhead_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> PyResult<(u32, bool)> {
        checked(self.inner.bulkhead_get_or_create(name, options_json, seconds))
    }

    /// The handle of the registered bulkhead `name`.
    fn bulkhead_lookup(&mut self, name: &str) -> Option<u32> {
        self.inner.bulkhead_lookup(name)
    }

    fn bulkhead_drop(&mut self, handle: u32) -> bool {
        self.inner.bulkhead_drop(handle)
    }

    fn bulkhead_cancel(&mut self, handle: u32, ticket: f64) -> bool {
        self.inner.bulkhead_cancel(handle, ticket)
    }

    fn bulkhead_next_timeout(&mut self, handle: u32) -> f64 {
        self.inner.bulkhead_next_timeout(handle)
    }

    fn bulkhead_expire(&mut self, handle: u32, now: Option<f64>) -> Vec<f64> {
        let now = self.at(now);
        self.inner.bulkhead_expire(handle, now)
    }

    fn bulkhead_metrics(&mut self, handle: u32) -> PyResult<String> {
        checked(self.inner.bulkhead_metrics(handle))
    }

    fn retry_policy_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> PyResult<u32> {
        checked(self.inner.retry_policy_create(options_json, seconds, seed))
    }

    fn retry_policy_drop(&mut self, handle: u32) -> bool {
        self.inner.retry_policy_drop(handle)
    }

    fn retry_policy_info(&mut self, handle: u32) -> PyResult<String> {
        checked(self.inner.retry_policy_info(handle))
    }

    fn retry_is_retryable(&mut self, handle: u32, ids: Vec<String>) -> bool {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.inner.retry_is_retryable(handle, &ids)
    }

    fn retry_start(&mut self, policy: u32, now: Option<f64>) -> PyResult<u32> {
        let now = self.at(now);
        checked(self.inner.retry_start(policy, now))
    }

    /// A failed attempt: the next step, see the engine's encoding.
    fn retry_on_failure(&mut self, call: u32, now: Option<f64>, failure_class: u32, retry_after_ms: f64, budget: f64) -> PyResult<(f64, u32, bool)> {
        let now = self.at(now);
        checked(self.inner.retry_on_failure(call, now, failure_class, retry_after_ms, budget))
    }

    fn retry_end(&mut self, call: u32) -> bool {
        self.inner.retry_end(call)
    }

    fn backoff_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> PyResult<u32> {
        checked(self.inner.backoff_create(options_json, seconds, seed))
    }

    fn backoff_next(&mut self, handle: u32, retry: u32) -> f64 {
        self.inner.backoff_next(handle, retry)
    }

    fn backoff_restart(&mut self, handle: u32) {
        self.inner.backoff_restart(handle)
    }

    fn backoff_drop(&mut self, handle: u32) -> bool {
        self.inner.backoff_drop(handle)
    }

    fn budget_create(&mut self, options_json: &str, seconds: bool, now: Option<f64>) -> PyResult<u32> {
        let now = self.at(now);
        checked(self.inner.budget_create(options_json, seconds, now))
    }

    fn budget_drop(&mut self, handle: u32) -> bool {
        self.inner.budget_drop(handle)
    }

    fn budget_record_success(&mut self, handle: u32, now: Option<f64>) {
        let now = self.at(now);
        self.inner.budget_record_success(handle, now)
    }

    fn budget_try_withdraw(&mut self, handle: u32, now: Option<f64>) -> bool {
        let now = self.at(now);
        self.inner.budget_try_withdraw(handle, now)
    }

    fn budget_tokens(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.budget_tokens(handle, now)
    }

    fn budget_stats(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.budget_stats(handle, now))
    }

    fn budget_fleet_report(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.budget_fleet_report(handle, now))
    }

    fn budget_fleet_sync(&mut self, handle: u32, granted: f64, reports_json: &str, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.budget_fleet_sync(handle, granted, reports_json, now))
    }

    fn budget_fleet_alone(&mut self, handle: u32, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.budget_fleet_alone(handle, now))
    }

    fn hedge_policy_create(&mut self, options_json: &str, seconds: bool, now: Option<f64>) -> PyResult<u32> {
        let now = self.at(now);
        checked(self.inner.hedge_policy_create(options_json, seconds, now))
    }

    fn hedge_policy_drop(&mut self, handle: u32) -> bool {
        self.inner.hedge_policy_drop(handle)
    }

    /// Whether an error with these identifiers may be followed by another attempt.
    fn hedge_is_retryable(&mut self, handle: u32, ids: Vec<String>) -> bool {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.inner.hedge_is_retryable(handle, &ids)
    }

    /// A call: its attempt 0 is running; the call's handle.
    fn hedge_start(&mut self, policy: u32, now: Option<f64>) -> PyResult<u32> {
        let now = self.at(now);
        checked(self.inner.hedge_start(policy, now))
    }

    /// The call's next step, see the engine's encoding.
    fn hedge_step(&mut self, call: u32, now: Option<f64>) -> PyResult<f64> {
        let now = self.at(now);
        checked(self.inner.hedge_step(call, now))
    }

    /// Calls begun without a machine, handed over: `begun` since the last sync; of those answered,
    /// `in_time` before their deadlines (times unread) and `answered` the others' `(started,
    /// ended)` pairs, each having waited `delay`.
    fn hedge_sync(&mut self, policy: u32, begun: u32, in_time: u32, delay: f64, answered: Vec<f64>, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.hedge_sync(policy, begun, in_time, delay, &answered, now))
    }

    /// For calls begun without a machine from now: `[delay, until, wake, timed]` (`timed`: 1
    /// when answered calls' times are needed).
    fn hedge_delay(&mut self, policy: u32, now: Option<f64>) -> PyResult<Vec<f64>> {
        let now = self.at(now);
        checked(self.inner.hedge_delay(policy, now))
    }

    /// The machine of a call begun at `started`, waiting `delay`: its primary is running.
    fn hedge_start_begun(&mut self, policy: u32, started: f64, delay: f64) -> PyResult<u32> {
        checked(self.inner.hedge_start_begun(policy, started, delay))
    }

    /// Attempt `attempt` settled (`outcome`: 0 success, 1 failure, 2 fatal, 3 cancelled): the next step.
    fn hedge_settle(&mut self, call: u32, attempt: u32, outcome: u32, now: Option<f64>) -> PyResult<f64> {
        let now = self.at(now);
        checked(self.inner.hedge_settle(call, attempt, outcome, now))
    }

    /// The caller gave up on the call: frees it.
    fn hedge_end(&mut self, call: u32) -> bool {
        self.inner.hedge_end(call)
    }

    fn hedge_stats(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.hedge_stats(handle, now))
    }

    fn adaptive_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> PyResult<u32> {
        checked(self.inner.adaptive_create(options_json, seconds, seed))
    }

    fn adaptive_drop(&mut self, handle: u32) -> bool {
        self.inner.adaptive_drop(handle)
    }

    /// The index of a partition by name, or -1.
    fn adaptive_partition(&mut self, handle: u32, name: &str) -> f64 {
        self.inner.adaptive_partition(handle, name)
    }

    /// A call admitted (its permit, ≥ 0) or refused (-1); `partition` an index or -1.
    fn adaptive_acquire(&mut self, handle: u32, partition: f64, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.adaptive_acquire(handle, partition, now)
    }

    /// A call ended (`outcome`: 0 success, 1 dropped, 2 ignored).
    fn adaptive_release(&mut self, handle: u32, permit: f64, outcome: u32, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.adaptive_release(handle, permit, outcome, now))
    }

    fn adaptive_stats(&mut self, handle: u32) -> PyResult<String> {
        checked(self.inner.adaptive_stats(handle))
    }

    /// When a shed caller should come back, ms.
    fn adaptive_retry_after(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.adaptive_retry_after(handle, now)
    }

    fn rate_limit_create(&mut self, options_json: &str, seconds: bool) -> PyResult<u32> {
        checked(self.inner.rate_limit_create(options_json, seconds))
    }

    fn rate_limit_drop(&mut self, handle: u32) -> bool {
        self.inner.rate_limit_drop(handle)
    }

    /// `[wait ms (0: now; negative: refused, minus the ms until a place is free), ticket to give
    /// a reserved place back (NaN: none)]`.
    fn rate_limit_acquire(&mut self, handle: u32, now: Option<f64>) -> (f64, f64) {
        let now = self.at(now);
        self.inner.rate_limit_acquire(handle, now)
    }

    fn rate_limit_cancel(&mut self, handle: u32, ticket: f64) -> bool {
        self.inner.rate_limit_cancel(handle, ticket)
    }

    fn rate_limit_stats(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.rate_limit_stats(handle, now))
    }

    /// Fleet mode: this replica's `{demand, want}`.
    fn rate_limit_fleet_report(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.rate_limit_fleet_report(handle, now))
    }

    /// Fleet mode: the store's grant and the others' reports.
    fn rate_limit_fleet_sync(&mut self, handle: u32, granted: f64, reports_json: &str, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.rate_limit_fleet_sync(handle, granted, reports_json, now))
    }

    /// Fleet mode: the store is lost.
    fn rate_limit_fleet_alone(&mut self, handle: u32) -> PyResult<()> {
        checked(self.inner.rate_limit_fleet_alone(handle))
    }

    /// A rate limiter's or retry budget's (`kind`: `rateLimit`, `budget`) quota sync with its
    /// store (core/src/fleet_sync.rs): starts it; `store` is `{"prefix", "name", "replica"}`.
    fn quota_sync_join(&mut self, kind: &str, handle: u32, store: &str) -> PyResult<()> {
        checked(self.inner.quota_sync_join(kind, handle, store))
    }

    /// Stops it: the policy then runs on an equal part, as when the store is lost.
    fn quota_sync_leave(&mut self, kind: &str, handle: u32, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.quota_sync_leave(kind, handle, now))
    }

    /// The round's command (JSON: `{"eval": "quota", "keys", "args"}`), or "" when it is over.
    fn quota_sync_next(&mut self, kind: &str, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.quota_sync_next(kind, handle, now))
    }

    /// Redis's reply to the round's command, as JSON.
    fn quota_sync_reply(&mut self, kind: &str, handle: u32, reply_json: &str, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.quota_sync_reply(kind, handle, reply_json, now))
    }

    /// The round failed (an error, or no answer by its deadline).
    fn quota_sync_failed(&mut self, kind: &str, handle: u32, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.quota_sync_failed(kind, handle, now))
    }

    /// `{"syncs", "failedSyncs"}`.
    fn quota_sync_status(&mut self, kind: &str, handle: u32) -> PyResult<String> {
        checked(self.inner.quota_sync_status(kind, handle))
    }

    fn health(&mut self, now: Option<f64>) -> String {
        let now = self.at(now);
        self.inner.health(now)
    }

    fn breaker_health(&mut self, now: Option<f64>) -> String {
        let now = self.at(now);
        self.inner.breaker_health(now)
    }

    fn breaker_names(&mut self) -> Vec<String> {
        self.inner.breaker_names()
    }

    fn reset_all(&mut self, now: Option<f64>) {
        let now = self.at(now);
        self.inner.reset_all(now)
    }

    fn clear_registry(&mut self) {
        self.inner.clear_registry()
    }

    fn record_retry_attempt(&mut self, name: &str) {
        self.inner.record_retry_attempt(name)
    }

    fn record_timeout(&mut self, name: &str) {
        self.inner.record_timeout(name)
    }

    fn prometheus(&mut self) -> String {
        self.inner.prometheus()
    }

    /// The registry's gauges for the observed OpenTelemetry instruments: `[[family, name, label, value]]`.
    fn gauge_samples(&mut self) -> String {
        self.inner.gauge_samples()
    }
}

#[pyfunction]
pub fn rejection_message(name: &str, code: f64, retry_after_ms: f64) -> String {
    CoreEngine::rejection_message(name, code, retry_after_ms)
}

#[pyfunction]
pub fn adaptive_message(name: &str, retry_after_ms: f64) -> String {
    CoreEngine::adaptive_message(name, retry_after_ms)
}

/// What a response's status means for an adaptive limit: 0 success, 1 dropped, 2 ignored.
#[pyfunction]
pub fn limit_outcome(status: f64) -> u32 {
    CoreEngine::limit_outcome(status)
}

/// What a service answers a request it sheds, besides its 503: `[Retry-After, JSON body]`;
/// `name`: the limit that shed it (none: a queue that was full or held it too long).
#[pyfunction]
pub fn shed_answer(name: Option<&str>, retry_after_ms: f64) -> Vec<String> {
    CoreEngine::shed_answer(name, retry_after_ms)
}

#[pyfunction]
pub fn rate_limit_message(name: &str, retry_after_ms: f64) -> String {
    CoreEngine::rate_limit_message(name, retry_after_ms)
}

/// A fleet's Redis keys and scripts: `{keys: {reports, marks, lease, quota}, scripts: {sync, mark, release, quota}}`.
#[pyfunction]
pub fn fleet_store(prefix: &str, name: &str) -> String {
    CoreEngine::fleet_store(prefix, name)
}

#[pyfunction]
pub fn error_codes() -> Vec<&'static str> {
    CoreEngine::error_codes()
}

/// What the shells report as Seawall decides (core/src/telemetry.rs), as JSON.
#[pyfunction]
pub fn telemetry_events() -> String {
    CoreEngine::telemetry_events()
}

/// The OpenTelemetry instruments those reports feed (core/src/telemetry.rs), as JSON.
#[pyfunction]
pub fn telemetry_instruments() -> String {
    CoreEngine::telemetry_instruments()
}

#[pyfunction]
pub fn state_names() -> Vec<&'static str> {
    CoreEngine::state_names()
}

#[pyfunction]
pub fn give_up_reasons() -> Vec<&'static str> {
    CoreEngine::give_up_reasons()
}

#[pyfunction]
pub fn give_up_codes() -> Vec<&'static str> {
    CoreEngine::give_up_codes()
}

#[pyfunction]
pub fn defaults_json() -> String {
    CoreEngine::defaults_json()
}

#[pyfunction]
pub fn preset_policy(name: &str, python: bool) -> Option<String> {
    CoreEngine::preset_policy(name, python)
}

#[pyfunction]
pub fn preset_circuit(name: &str, python: bool) -> Option<String> {
    CoreEngine::preset_circuit(name, python)
}

#[pyfunction]
pub fn preset_retry(kind: &str, a: f64, b: f64, c: f64, python: bool) -> Option<String> {
    CoreEngine::preset_retry(kind, a, b, c, python)
}

#[pyfunction]
pub fn validate(kind: &str, options_json: &str, seconds: bool) -> PyResult<()> {
    checked(CoreEngine::validate(kind, options_json, seconds))
}

#[pyfunction]
pub fn deadline(now: f64, timeout_ms: f64, outer: f64) -> f64 {
    CoreEngine::deadline(now, timeout_ms, outer)
}

/// What an attempt's outcome means for retries and breakers (core/src/outcome.rs): the
/// outcome as JSON in, `{"decision", "retryAfterMs", "count", "attempt"}` out.
#[pyfunction]
pub fn classify_outcome(outcome_json: &str, now_epoch_ms: f64) -> PyResult<String> {
    checked(CoreEngine::classify_outcome(outcome_json, now_epoch_ms))
}

/// Whether a request of `method` may be hedged (`forced`: any method).
#[pyfunction]
pub fn hedgeable(method: &str, forced: bool) -> bool {
    CoreEngine::hedgeable(method, forced)
}

/// How a breaker counts an HTTP response of `status`: 0 success, 1 failure, 2 ignored.
#[pyfunction]
pub fn count_status(status: f64) -> u32 {
    CoreEngine::count_status(status)
}

/// A Retry-After header as ms from `now_epoch_ms`; NaN when unreadable.
#[pyfunction]
pub fn retry_after(value: &str, now_epoch_ms: f64) -> f64 {
    CoreEngine::retry_after(value, now_epoch_ms)
}

/// A header giving milliseconds (`retry-after-ms`, a client's `x-request-timeout`); NaN
/// when unreadable.
#[pyfunction]
pub fn header_ms(value: &str) -> f64 {
    CoreEngine::header_ms(value)
}

#[pyfunction]
pub fn rng_floats(seed: f64, count: u32) -> Vec<f64> {
    CoreEngine::rng_floats(seed, count)
}

/// Adds the module's functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(rejection_message, m)?)?;
    m.add_function(wrap_pyfunction!(adaptive_message, m)?)?;
    m.add_function(wrap_pyfunction!(limit_outcome, m)?)?;
    m.add_function(wrap_pyfunction!(shed_answer, m)?)?;
    m.add_function(wrap_pyfunction!(rate_limit_message, m)?)?;
    m.add_function(wrap_pyfunction!(fleet_store, m)?)?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(telemetry_events, m)?)?;
    m.add_function(wrap_pyfunction!(telemetry_instruments, m)?)?;
    m.add_function(wrap_pyfunction!(state_names, m)?)?;
    m.add_function(wrap_pyfunction!(give_up_reasons, m)?)?;
    m.add_function(wrap_pyfunction!(give_up_codes, m)?)?;
    m.add_function(wrap_pyfunction!(defaults_json, m)?)?;
    m.add_function(wrap_pyfunction!(preset_policy, m)?)?;
    m.add_function(wrap_pyfunction!(preset_circuit, m)?)?;
    m.add_function(wrap_pyfunction!(preset_retry, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(deadline, m)?)?;
    m.add_function(wrap_pyfunction!(classify_outcome, m)?)?;
    m.add_function(wrap_pyfunction!(hedgeable, m)?)?;
    m.add_function(wrap_pyfunction!(count_status, m)?)?;
    m.add_function(wrap_pyfunction!(retry_after, m)?)?;
    m.add_function(wrap_pyfunction!(header_ms, m)?)?;
    m.add_function(wrap_pyfunction!(rng_floats, m)?)?;
    m.add("EVENTS_WAITING", 8.0)?;
    m.add("HEDGE_BATCH", 256.0)?;
    Ok(())
}
