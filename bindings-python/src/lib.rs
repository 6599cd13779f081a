//! `seawall._native`: the pyo3 backend of the `seawall` Python package. It converts, never
//! decides: every method is one call into [`seawall_core::Engine`].
//!
//! Times are milliseconds, as in the core; `None` means "read the host's monotonic clock" (done
//! here, inside the same call); any number, NaN included, goes to the core as it is. Options arrive as JSON text in seconds (`seconds=True`).
//! Errors become `TypeError` / `ValueError` (option errors) or `seawall._native.NativeError`,
//! each carrying `code`, `option` and `value` attributes. The engine holds no Python objects;
//! every call runs with the GIL held, so calls from many threads are serialized and each is
//! atomic (the breaker's counts stay exact, its probe limit holds).

mod guard;

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use seawall_bindings_shared::now_or_host;
use seawall_core::{Engine as CoreEngine, ErrorKind, SeawallError};

create_exception!(_native, NativeError, PyException, "An error raised by the Seawall core (carries `code`).");

fn to_py(e: SeawallError) -> PyErr {
    let err = match e.kind {
        ErrorKind::Type => PyTypeError::new_err(e.message.clone()),
        ErrorKind::Range => PyValueError::new_err(e.message.clone()),
        ErrorKind::Rejected | ErrorKind::Internal => NativeError::new_err(e.message.clone()),
    };
    Python::attach(|py| {
        let v = err.value(py);
        let _ = v.setattr("code", e.code.as_str());
        let _ = v.setattr("option", e.option.clone());
        let _ = v.setattr("value", e.value.clone());
    });
    err
}

fn checked<T>(r: seawall_core::Result<T>) -> PyResult<T> {
    r.map_err(to_py)
}

/// Successes a Python breaker counted itself (a closed breaker's success changes nothing but
/// counters: see `success_is_inert_in`), handed to the engine before the breaker's next input.
/// Atomic, so tasks and threads count at once without a lock and none is lost.
#[pyclass(module = "seawall._native", frozen)]
pub struct Tally(AtomicU64);

#[pymethods]
impl Tally {
    #[new]
    fn new() -> Self {
        Tally(AtomicU64::new(0))
    }

    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Counted and not yet handed over.
    fn pending(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Tally {
    fn take(&self) -> u64 {
        self.0.swap(0, Ordering::AcqRel)
    }
}

/// One engine per interpreter (the package makes one). See `seawall_core::engine` for the
/// encodings of the hot-path answers.
#[pyclass(module = "seawall._native")]
pub struct Engine {
    inner: CoreEngine,
    /// Set while the shell's virtual clock is installed: "no time given" then means this.
    manual_now: Option<f64>,
}

thread_local! {
    /// The time this thread's last engine call used, so the shell can time a call without a
    /// clock read. Per thread: the engine serves every thread, and between a call and the
    /// shell's reading of it another thread may run and make calls of its own.
    static LAST_NOW: Cell<f64> = const { Cell::new(0.0) };
}

pub(crate) fn last_now() -> f64 {
    LAST_NOW.with(Cell::get)
}

impl Engine {
    fn at(&mut self, now: Option<f64>) -> f64 {
        let t = now_or_host(now.or(self.manual_now));
        LAST_NOW.with(|c| c.set(t));
        t
    }
}

#[pymethods]
impl Engine {
    #[new]
    fn new() -> Self {
        Engine { inner: CoreEngine::new(), manual_now: None }
    }

    /// The shell's virtual clock (ms), or None for the host clock: what "no time" means.
    #[pyo3(signature = (now=None))]
    fn set_manual_clock(&mut self, now: Option<f64>) {
        self.manual_now = now;
    }

    /// The host clock, ms (monotonic).
    fn now(&mut self) -> f64 {
        self.at(None)
    }

    /// The time this thread's last engine call used, ms.
    #[pyo3(name = "last_now")]
    fn last_now_py(&self) -> f64 {
        last_now()
    }

    // ---- breakers ----

    #[pyo3(signature = (options_json, seconds, name=None))]
    fn breaker_create(&mut self, options_json: &str, seconds: bool, name: Option<&str>) -> PyResult<u32> {
        checked(self.inner.breaker_create(options_json, seconds, name))
    }

    fn breaker_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> PyResult<(u32, bool)> {
        checked(self.inner.breaker_get_or_create(name, options_json, seconds))
    }

    fn breaker_lookup(&self, name: &str) -> Option<u32> {
        self.inner.breaker_lookup(name)
    }

    fn breaker_name(&self, handle: u32) -> Option<String> {
        self.inner.breaker_name(handle)
    }

    fn breaker_drop(&mut self, handle: u32) -> bool {
        self.inner.breaker_drop(handle)
    }

    /// Hot path: a permit (≥ 0) or `-(1 + state code)`.
    fn breaker_acquire(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.breaker_acquire(handle, now).0
    }

    /// Hot path with the clock in use: `breaker_acquire(handle, None)` in one argument.
    fn breaker_acquire_now(&mut self, handle: u32) -> f64 {
        let now = self.at(None);
        self.inner.breaker_acquire(handle, now).0
    }

    /// Hot path with the clock in use: a success, `breaker_record(handle, permit, 0, None, started_at)`.
    fn breaker_record_success(&mut self, handle: u32, permit: f64, started_at: f64) -> f64 {
        let now = self.at(None);
        self.inner.breaker_record(handle, permit, 0, now, started_at)
    }

    /// Hot path: state code (+ 8 when events wait), or -1 for a permit not outstanding.
    fn breaker_record(&mut self, handle: u32, permit: f64, outcome: u32, now: Option<f64>, started_at: f64) -> f64 {
        let now = self.at(now);
        self.inner.breaker_record(handle, permit, outcome, now, started_at)
    }

    /// Hands a tally's successes to the breaker: its state code (+ 8 when events wait), or -1
    /// when there was nothing to hand over.
    fn breaker_flush(&mut self, handle: u32, tally: &Tally) -> f64 {
        let mut n = tally.take();
        if n == 0 {
            return -1.0;
        }
        let now = self.at(None);
        let mut r = -1.0;
        while n > 0 {
            let chunk = n.min(u64::from(u32::MAX));
            r = self.inner.breaker_record_successes(handle, chunk as u32, now);
            n -= chunk;
        }
        r
    }

    /// Per state code: may the shell count successes itself in that state?
    fn breaker_inert_success_states(&mut self, handle: u32) -> Vec<bool> {
        self.inner.breaker_inert_success_states(handle)
    }

    fn breaker_has_events(&mut self, handle: u32) -> bool {
        self.inner.breaker_has_events(handle)
    }

    fn breaker_events(&mut self, handle: u32) -> String {
        self.inner.breaker_events(handle)
    }

    fn breaker_current_state(&mut self, handle: u32) -> u8 {
        self.inner.breaker_current_state(handle)
    }

    fn breaker_state(&mut self, handle: u32, now: Option<f64>) -> PyResult<u8> {
        let now = self.at(now);
        checked(self.inner.breaker_state(handle, now))
    }

    fn breaker_command(&mut self, handle: u32, command: &str, now: Option<f64>) -> PyResult<u8> {
        let now = self.at(now);
        checked(self.inner.breaker_command(handle, command, now))
    }

    fn breaker_fleet_report(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.breaker_fleet_report(handle, now))
    }

    fn breaker_fleet_sync(&mut self, handle: u32, reports_json: &str, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.breaker_fleet_sync(handle, reports_json, now))
    }

    fn breaker_probe_lease(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.breaker_probe_lease(handle, now)
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

    // ---- bulkheads ----

    #[pyo3(signature = (options_json, seconds, name=None))]
    fn bulkhead_create(&mut self, options_json: &str, seconds: bool, name: Option<&str>) -> PyResult<u32> {
        checked(self.inner.bulkhead_create(options_json, seconds, name))
    }

    fn bulkhead_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> PyResult<(u32, bool)> {
        checked(self.inner.bulkhead_get_or_create(name, options_json, seconds))
    }

    fn bulkhead_lookup(&self, name: &str) -> Option<u32> {
        self.inner.bulkhead_lookup(name)
    }

    fn bulkhead_drop(&mut self, handle: u32) -> bool {
        self.inner.bulkhead_drop(handle)
    }

    /// Hot path: `(kind, value)`: (0, permit) run, (1, ticket) queued, (2, 0|1) rejected.
    fn bulkhead_acquire(&mut self, handle: u32, now: Option<f64>) -> (u8, f64) {
        let now = self.at(now);
        self.inner.bulkhead_acquire(handle, now)
    }

    /// `(ticket, permit)` of the queued call that starts now (ticket 0: none).
    fn bulkhead_release(&mut self, handle: u32, permit: f64, now: Option<f64>) -> PyResult<(f64, f64)> {
        let now = self.at(now);
        checked(self.inner.bulkhead_release(handle, permit, now))
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

    // ---- retries, backoff, budgets ----

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

    /// `(value, attempt, from_server)`: see the engine's encoding.
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

    // ---- rate limiters ----

    fn rate_limit_create(&mut self, options_json: &str, seconds: bool) -> PyResult<u32> {
        checked(self.inner.ratelimit_create(options_json, seconds))
    }

    fn rate_limit_drop(&mut self, handle: u32) -> bool {
        self.inner.ratelimit_drop(handle)
    }

    fn rate_limit_acquire(&mut self, handle: u32, now: Option<f64>) -> (f64, f64) {
        let now = self.at(now);
        self.inner.ratelimit_acquire(handle, now)
    }

    fn rate_limit_cancel(&mut self, handle: u32, ticket: f64) -> bool {
        self.inner.ratelimit_cancel(handle, ticket)
    }

    fn rate_limit_stats(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.ratelimit_stats(handle, now))
    }

    fn rate_limit_fleet_report(&mut self, handle: u32, now: Option<f64>) -> PyResult<String> {
        let now = self.at(now);
        checked(self.inner.ratelimit_fleet_report(handle, now))
    }

    fn rate_limit_fleet_sync(&mut self, handle: u32, granted: f64, reports_json: &str, now: Option<f64>) -> PyResult<()> {
        let now = self.at(now);
        checked(self.inner.ratelimit_fleet_sync(handle, granted, reports_json, now))
    }

    fn rate_limit_fleet_alone(&mut self, handle: u32) -> PyResult<()> {
        checked(self.inner.ratelimit_fleet_alone(handle))
    }

    // ---- registry, health, metrics ----

    fn health(&mut self, now: Option<f64>) -> String {
        let now = self.at(now);
        self.inner.health(now)
    }

    fn breaker_health(&mut self, now: Option<f64>) -> String {
        let now = self.at(now);
        self.inner.breaker_health(now)
    }

    fn breaker_names(&self) -> Vec<String> {
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

    fn prometheus(&self) -> String {
        self.inner.prometheus()
    }
}

// ---- stateless functions ------------------------------------------------------------------

#[pyfunction]
fn error_codes() -> Vec<&'static str> {
    CoreEngine::error_codes()
}

#[pyfunction]
fn state_names() -> Vec<&'static str> {
    CoreEngine::state_names()
}

#[pyfunction]
fn give_up_reasons() -> Vec<&'static str> {
    CoreEngine::give_up_reasons()
}

#[pyfunction]
fn give_up_codes() -> Vec<&'static str> {
    CoreEngine::give_up_codes()
}

#[pyfunction]
fn defaults_json() -> String {
    CoreEngine::defaults_json()
}

#[pyfunction]
fn rejection_message(name: &str, code: f64, retry_after_ms: f64) -> String {
    CoreEngine::rejection_message(name, code, retry_after_ms)
}

#[pyfunction]
fn fleet_store(prefix: &str, name: &str) -> String {
    CoreEngine::fleet_store(prefix, name)
}

#[pyfunction]
fn rate_limit_message(name: &str, retry_after_ms: f64) -> String {
    CoreEngine::ratelimit_refusal_message(name, retry_after_ms)
}

#[pyfunction]
fn preset_policy(name: &str, python: bool) -> Option<String> {
    CoreEngine::preset_policy(name, python)
}

#[pyfunction]
fn preset_circuit(name: &str, python: bool) -> Option<String> {
    CoreEngine::preset_circuit(name, python)
}

#[pyfunction]
fn preset_retry(kind: &str, a: f64, b: f64, c: f64, python: bool) -> Option<String> {
    CoreEngine::preset_retry(kind, a, b, c, python)
}

#[pyfunction]
fn validate(kind: &str, options_json: &str, seconds: bool) -> PyResult<()> {
    checked(CoreEngine::validate(kind, options_json, seconds))
}

#[pyfunction]
fn deadline(now: f64, timeout_ms: f64, outer: f64) -> f64 {
    CoreEngine::deadline(now, timeout_ms, outer)
}

#[pyfunction]
fn retry_after(value: &str, now_epoch_ms: f64) -> f64 {
    CoreEngine::retry_after(value, now_epoch_ms)
}

/// The simulator over a scenario file (JSON text); answers JSON text. The GIL is released
/// while it runs (a long scenario takes seconds).
#[pyfunction]
fn simulate(py: Python<'_>, scenario_json: &str) -> PyResult<String> {
    let text = scenario_json.to_string();
    checked(py.detach(move || CoreEngine::simulate(&text)))
}

#[pyfunction]
fn rng_floats(seed: f64, count: u32) -> Vec<f64> {
    CoreEngine::rng_floats(seed, count)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<Tally>()?;
    m.add_class::<guard::BreakerCall>()?;
    m.add_class::<guard::Guarded>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(state_names, m)?)?;
    m.add_function(wrap_pyfunction!(give_up_reasons, m)?)?;
    m.add_function(wrap_pyfunction!(give_up_codes, m)?)?;
    m.add_function(wrap_pyfunction!(defaults_json, m)?)?;
    m.add_function(wrap_pyfunction!(rejection_message, m)?)?;
    m.add_function(wrap_pyfunction!(rate_limit_message, m)?)?;
    m.add_function(wrap_pyfunction!(fleet_store, m)?)?;
    m.add_function(wrap_pyfunction!(preset_policy, m)?)?;
    m.add_function(wrap_pyfunction!(preset_circuit, m)?)?;
    m.add_function(wrap_pyfunction!(preset_retry, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(deadline, m)?)?;
    m.add_function(wrap_pyfunction!(retry_after, m)?)?;
    m.add_function(wrap_pyfunction!(rng_floats, m)?)?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add("PREAPPROVED_PERMIT", CoreEngine::PREAPPROVED_PERMIT)?;
    Ok(())
}
