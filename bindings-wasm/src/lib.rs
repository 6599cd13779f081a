//! The wasm-bindgen backend of the `seawall` npm package (browsers, and `seawall/wasm` in Node):
//! converts, never decides. Same API as the napi backend, over the same
//! [`seawall_core::Engine`]; the TypeScript shell sees one `Backend` interface.
//!
//! Hot-path calls answer their second values through `out`: four f64 in wasm memory (`outPtr()`)
//! that the JS adapter reads through a Float64Array view. Like the native bindings, a call given
//! no time (`undefined`) reads the host's clock, here `performance.now()`; any number, NaN
//! included, goes to the core as it is.

use seawall_core::{Engine as CoreEngine, SeawallError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// `now`, or the host clock when the shell gave no time.
fn at(now: Option<f64>) -> f64 {
    now.unwrap_or_else(performance_now)
}

fn to_js(e: SeawallError) -> JsValue {
    // wasm-bindgen's own Error binding: js-sys (the whole JS standard library's bindings) is
    // not needed for one constructor.
    JsError::new(&format!("SEAWALL:{}", e.to_json())).into()
}

fn checked<T>(r: seawall_core::Result<T>) -> Result<T, JsValue> {
    r.map_err(to_js)
}

#[wasm_bindgen]
pub struct Engine {
    inner: CoreEngine,
    /// Hot-path second answers: [answer, second answer, events waiting, time used].
    out: Box<[f64; 4]>,
}

#[wasm_bindgen]
impl Engine {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Engine {
        Engine { inner: CoreEngine::new(), out: Box::new([0.0; 4]) }
    }

    /// Address of the four `out` numbers in wasm memory (stable for the engine's life).
    #[wasm_bindgen(js_name = outPtr)]
    pub fn out_ptr(&self) -> usize {
        self.out.as_ptr() as usize
    }

    #[wasm_bindgen(js_name = breakerAcquire)]
    pub fn breaker_acquire(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = at(now);
        let (code, retry_after, events) = self.inner.breaker_acquire(handle, now);
        *self.out = [code, retry_after, events as u8 as f64, now];
        code
    }

    #[wasm_bindgen(js_name = breakerRecord)]
    pub fn breaker_record(&mut self, handle: u32, permit: f64, outcome: u32, now: Option<f64>, started_at: f64) -> f64 {
        let now = at(now);
        let r = self.inner.breaker_record(handle, permit, outcome, now, started_at);
        *self.out = [r, 0.0, (r >= 8.0) as u8 as f64, now];
        r
    }

    #[wasm_bindgen(js_name = bulkheadAcquire)]
    pub fn bulkhead_acquire(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = at(now);
        let (kind, value) = self.inner.bulkhead_acquire(handle, now);
        *self.out = [kind as f64, value, 0.0, now];
        kind as f64
    }

    #[wasm_bindgen(js_name = bulkheadRelease)]
    pub fn bulkhead_release(&mut self, handle: u32, permit: f64, now: Option<f64>) -> f64 {
        let now = at(now);
        let (ticket, next) = self.inner.bulkhead_release(handle, permit, now).unwrap_or((-1.0, f64::NAN));
        *self.out = [ticket, next, 0.0, now];
        ticket
    }

    #[wasm_bindgen(js_name = breakerCreate)]
    pub fn breaker_create(&mut self, options_json: &str, seconds: bool, name: Option<String>) -> Result<u32, JsValue> {
        checked(self.inner.breaker_create(options_json, seconds, name.as_deref()))
    }

    #[wasm_bindgen(js_name = breakerGetOrCreate)]
    pub fn breaker_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> Result<Vec<u32>, JsValue> {
        checked(self.inner.breaker_get_or_create(name, options_json, seconds)).map(|(h, c)| vec![h, c as u32])
    }

    #[wasm_bindgen(js_name = breakerLookup)]
    pub fn breaker_lookup(&self, name: &str) -> i32 {
        self.inner.breaker_lookup(name).map_or(-1, |h| h as i32)
    }

    #[wasm_bindgen(js_name = breakerName)]
    pub fn breaker_name(&self, handle: u32) -> Option<String> {
        self.inner.breaker_name(handle)
    }

    #[wasm_bindgen(js_name = breakerDrop)]
    pub fn breaker_drop(&mut self, handle: u32) -> bool {
        self.inner.breaker_drop(handle)
    }

    #[wasm_bindgen(js_name = breakerInertSuccessStates)]
    pub fn breaker_inert_success_states(&mut self, handle: u32) -> Vec<u8> {
        self.inner.breaker_inert_success_states(handle).into_iter().map(u8::from).collect()
    }

    #[wasm_bindgen(js_name = breakerRecordSuccesses)]
    pub fn breaker_record_successes(&mut self, handle: u32, count: u32, now: Option<f64>) -> f64 {
        self.inner.breaker_record_successes(handle, count, at(now))
    }

    #[wasm_bindgen(js_name = breakerEvents)]
    pub fn breaker_events(&mut self, handle: u32) -> String {
        self.inner.breaker_events(handle)
    }

    #[wasm_bindgen(js_name = breakerCurrentState)]
    pub fn breaker_current_state(&mut self, handle: u32) -> u8 {
        self.inner.breaker_current_state(handle)
    }

    #[wasm_bindgen(js_name = breakerState)]
    pub fn breaker_state(&mut self, handle: u32, now: Option<f64>) -> Result<u8, JsValue> {
        checked(self.inner.breaker_state(handle, at(now)))
    }

    #[wasm_bindgen(js_name = breakerCommand)]
    pub fn breaker_command(&mut self, handle: u32, command: &str, now: Option<f64>) -> Result<u8, JsValue> {
        checked(self.inner.breaker_command(handle, command, at(now)))
    }

    #[wasm_bindgen(js_name = breakerFleetReport)]
    pub fn breaker_fleet_report(&mut self, handle: u32, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.breaker_fleet_report(handle, at(now)))
    }

    #[wasm_bindgen(js_name = breakerFleetSync)]
    pub fn breaker_fleet_sync(&mut self, handle: u32, reports_json: &str, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.breaker_fleet_sync(handle, reports_json, at(now)))
    }

    #[wasm_bindgen(js_name = breakerProbeLease)]
    pub fn breaker_probe_lease(&mut self, handle: u32, now: Option<f64>) -> f64 {
        self.inner.breaker_probe_lease(handle, at(now))
    }

    #[wasm_bindgen(js_name = breakerRetryAfter)]
    pub fn breaker_retry_after(&mut self, handle: u32, now: Option<f64>) -> f64 {
        self.inner.breaker_retry_after(handle, at(now))
    }

    #[wasm_bindgen(js_name = breakerNextTimeout)]
    pub fn breaker_next_timeout(&mut self, handle: u32) -> f64 {
        self.inner.breaker_next_timeout(handle)
    }

    #[wasm_bindgen(js_name = breakerStats)]
    pub fn breaker_stats(&mut self, handle: u32, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.breaker_stats(handle, at(now)))
    }

    #[wasm_bindgen(js_name = breakerConfig)]
    pub fn breaker_config(&mut self, handle: u32) -> Result<String, JsValue> {
        checked(self.inner.breaker_config(handle))
    }

    #[wasm_bindgen(js_name = breakerSnapshot)]
    pub fn breaker_snapshot(&mut self, handle: u32, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.breaker_snapshot(handle, at(now)))
    }

    #[wasm_bindgen(js_name = breakerRestore)]
    pub fn breaker_restore(&mut self, handle: u32, snapshot_json: &str, now: Option<f64>) -> Result<(), JsValue> {
        checked(self.inner.breaker_restore(handle, snapshot_json, at(now)))
    }

    #[wasm_bindgen(js_name = bulkheadCreate)]
    pub fn bulkhead_create(&mut self, options_json: &str, seconds: bool, name: Option<String>) -> Result<u32, JsValue> {
        checked(self.inner.bulkhead_create(options_json, seconds, name.as_deref()))
    }

    #[wasm_bindgen(js_name = bulkheadGetOrCreate)]
    pub fn bulkhead_get_or_create(&mut self, name: &str, options_json: &str, seconds: bool) -> Result<Vec<u32>, JsValue> {
        checked(self.inner.bulkhead_get_or_create(name, options_json, seconds)).map(|(h, c)| vec![h, c as u32])
    }

    #[wasm_bindgen(js_name = bulkheadLookup)]
    pub fn bulkhead_lookup(&self, name: &str) -> i32 {
        self.inner.bulkhead_lookup(name).map_or(-1, |h| h as i32)
    }

    #[wasm_bindgen(js_name = bulkheadDrop)]
    pub fn bulkhead_drop(&mut self, handle: u32) -> bool {
        self.inner.bulkhead_drop(handle)
    }

    #[wasm_bindgen(js_name = bulkheadCancel)]
    pub fn bulkhead_cancel(&mut self, handle: u32, ticket: f64) -> bool {
        self.inner.bulkhead_cancel(handle, ticket)
    }

    #[wasm_bindgen(js_name = bulkheadNextTimeout)]
    pub fn bulkhead_next_timeout(&mut self, handle: u32) -> f64 {
        self.inner.bulkhead_next_timeout(handle)
    }

    #[wasm_bindgen(js_name = bulkheadExpire)]
    pub fn bulkhead_expire(&mut self, handle: u32, now: Option<f64>) -> Vec<f64> {
        self.inner.bulkhead_expire(handle, at(now))
    }

    #[wasm_bindgen(js_name = bulkheadMetrics)]
    pub fn bulkhead_metrics(&mut self, handle: u32) -> Result<String, JsValue> {
        checked(self.inner.bulkhead_metrics(handle))
    }

    #[wasm_bindgen(js_name = retryPolicyCreate)]
    pub fn retry_policy_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> Result<u32, JsValue> {
        checked(self.inner.retry_policy_create(options_json, seconds, seed))
    }

    #[wasm_bindgen(js_name = retryPolicyDrop)]
    pub fn retry_policy_drop(&mut self, handle: u32) -> bool {
        self.inner.retry_policy_drop(handle)
    }

    #[wasm_bindgen(js_name = retryPolicyInfo)]
    pub fn retry_policy_info(&mut self, handle: u32) -> Result<String, JsValue> {
        checked(self.inner.retry_policy_info(handle))
    }

    #[wasm_bindgen(js_name = retryIsRetryable)]
    pub fn retry_is_retryable(&mut self, handle: u32, ids: Vec<String>) -> bool {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.inner.retry_is_retryable(handle, &ids)
    }

    #[wasm_bindgen(js_name = retryStart)]
    pub fn retry_start(&mut self, policy: u32, now: Option<f64>) -> Result<u32, JsValue> {
        checked(self.inner.retry_start(policy, at(now)))
    }

    #[wasm_bindgen(js_name = retryOnFailure)]
    pub fn retry_on_failure(&mut self, call: u32, now: Option<f64>, failure_class: u32, retry_after_ms: f64, budget: f64) -> Result<Vec<f64>, JsValue> {
        checked(self.inner.retry_on_failure(call, at(now), failure_class, retry_after_ms, budget)).map(|(v, a, s)| vec![v, a as f64, s as u8 as f64])
    }

    #[wasm_bindgen(js_name = retryEnd)]
    pub fn retry_end(&mut self, call: u32) -> bool {
        self.inner.retry_end(call)
    }

    #[wasm_bindgen(js_name = backoffCreate)]
    pub fn backoff_create(&mut self, options_json: &str, seconds: bool, seed: f64) -> Result<u32, JsValue> {
        checked(self.inner.backoff_create(options_json, seconds, seed))
    }

    #[wasm_bindgen(js_name = backoffNext)]
    pub fn backoff_next(&mut self, handle: u32, retry: u32) -> f64 {
        self.inner.backoff_next(handle, retry)
    }

    #[wasm_bindgen(js_name = backoffRestart)]
    pub fn backoff_restart(&mut self, handle: u32) {
        self.inner.backoff_restart(handle)
    }

    #[wasm_bindgen(js_name = backoffDrop)]
    pub fn backoff_drop(&mut self, handle: u32) -> bool {
        self.inner.backoff_drop(handle)
    }

    #[wasm_bindgen(js_name = budgetCreate)]
    pub fn budget_create(&mut self, options_json: &str, seconds: bool, now: Option<f64>) -> Result<u32, JsValue> {
        checked(self.inner.budget_create(options_json, seconds, at(now)))
    }

    #[wasm_bindgen(js_name = budgetDrop)]
    pub fn budget_drop(&mut self, handle: u32) -> bool {
        self.inner.budget_drop(handle)
    }

    #[wasm_bindgen(js_name = budgetRecordSuccess)]
    pub fn budget_record_success(&mut self, handle: u32, now: Option<f64>) {
        self.inner.budget_record_success(handle, at(now))
    }

    #[wasm_bindgen(js_name = budgetTryWithdraw)]
    pub fn budget_try_withdraw(&mut self, handle: u32, now: Option<f64>) -> bool {
        self.inner.budget_try_withdraw(handle, at(now))
    }

    #[wasm_bindgen(js_name = budgetTokens)]
    pub fn budget_tokens(&mut self, handle: u32, now: Option<f64>) -> f64 {
        self.inner.budget_tokens(handle, at(now))
    }

    #[wasm_bindgen(js_name = budgetStats)]
    pub fn budget_stats(&mut self, handle: u32, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.budget_stats(handle, at(now)))
    }

    #[wasm_bindgen(js_name = budgetFleetReport)]
    pub fn budget_fleet_report(&mut self, handle: u32, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.budget_fleet_report(handle, at(now)))
    }

    #[wasm_bindgen(js_name = budgetFleetSync)]
    pub fn budget_fleet_sync(&mut self, handle: u32, granted: f64, reports_json: &str, now: Option<f64>) -> Result<(), JsValue> {
        checked(self.inner.budget_fleet_sync(handle, granted, reports_json, at(now)))
    }

    #[wasm_bindgen(js_name = budgetFleetAlone)]
    pub fn budget_fleet_alone(&mut self, handle: u32, now: Option<f64>) -> Result<(), JsValue> {
        checked(self.inner.budget_fleet_alone(handle, at(now)))
    }

    #[wasm_bindgen(js_name = rateLimitCreate)]
    pub fn rate_limit_create(&mut self, options_json: &str, seconds: bool) -> Result<u32, JsValue> {
        checked(self.inner.ratelimit_create(options_json, seconds))
    }

    #[wasm_bindgen(js_name = rateLimitDrop)]
    pub fn rate_limit_drop(&mut self, handle: u32) -> bool {
        self.inner.ratelimit_drop(handle)
    }

    #[wasm_bindgen(js_name = rateLimitAcquire)]
    pub fn rate_limit_acquire(&mut self, handle: u32, now: Option<f64>) -> Vec<f64> {
        let (wait, ticket) = self.inner.ratelimit_acquire(handle, at(now));
        vec![wait, ticket]
    }

    #[wasm_bindgen(js_name = rateLimitCancel)]
    pub fn rate_limit_cancel(&mut self, handle: u32, ticket: f64) -> bool {
        self.inner.ratelimit_cancel(handle, ticket)
    }

    #[wasm_bindgen(js_name = rateLimitStats)]
    pub fn rate_limit_stats(&mut self, handle: u32, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.ratelimit_stats(handle, at(now)))
    }

    #[wasm_bindgen(js_name = rateLimitFleetReport)]
    pub fn rate_limit_fleet_report(&mut self, handle: u32, now: Option<f64>) -> Result<String, JsValue> {
        checked(self.inner.ratelimit_fleet_report(handle, at(now)))
    }

    #[wasm_bindgen(js_name = rateLimitFleetSync)]
    pub fn rate_limit_fleet_sync(&mut self, handle: u32, granted: f64, reports_json: &str, now: Option<f64>) -> Result<(), JsValue> {
        checked(self.inner.ratelimit_fleet_sync(handle, granted, reports_json, at(now)))
    }

    #[wasm_bindgen(js_name = rateLimitFleetAlone)]
    pub fn rate_limit_fleet_alone(&mut self, handle: u32) -> Result<(), JsValue> {
        checked(self.inner.ratelimit_fleet_alone(handle))
    }

    pub fn health(&mut self, now: Option<f64>) -> String {
        self.inner.health(at(now))
    }

    #[wasm_bindgen(js_name = breakerHealth)]
    pub fn breaker_health(&mut self, now: Option<f64>) -> String {
        self.inner.breaker_health(at(now))
    }

    #[wasm_bindgen(js_name = breakerNames)]
    pub fn breaker_names(&self) -> Vec<String> {
        self.inner.breaker_names()
    }

    #[wasm_bindgen(js_name = resetAll)]
    pub fn reset_all(&mut self, now: Option<f64>) {
        self.inner.reset_all(at(now))
    }

    #[wasm_bindgen(js_name = clearRegistry)]
    pub fn clear_registry(&mut self) {
        self.inner.clear_registry()
    }

    #[wasm_bindgen(js_name = recordRetryAttempt)]
    pub fn record_retry_attempt(&mut self, name: &str) {
        self.inner.record_retry_attempt(name)
    }

    #[wasm_bindgen(js_name = recordTimeout)]
    pub fn record_timeout(&mut self, name: &str) {
        self.inner.record_timeout(name)
    }

    pub fn prometheus(&self) -> String {
        self.inner.prometheus()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    CoreEngine::error_codes().into_iter().map(String::from).collect()
}

#[wasm_bindgen(js_name = stateNames)]
pub fn state_names() -> Vec<String> {
    CoreEngine::state_names().into_iter().map(String::from).collect()
}

#[wasm_bindgen(js_name = giveUpReasons)]
pub fn give_up_reasons() -> Vec<String> {
    CoreEngine::give_up_reasons().into_iter().map(String::from).collect()
}

#[wasm_bindgen(js_name = giveUpCodes)]
pub fn give_up_codes() -> Vec<String> {
    CoreEngine::give_up_codes().into_iter().map(String::from).collect()
}

#[wasm_bindgen(js_name = defaultsJson)]
pub fn defaults_json() -> String {
    CoreEngine::defaults_json()
}

#[wasm_bindgen(js_name = preapprovedPermit)]
pub fn preapproved_permit() -> f64 {
    CoreEngine::PREAPPROVED_PERMIT
}

#[wasm_bindgen(js_name = unconditionalAdmits)]
pub fn unconditional_admits() -> Vec<u8> {
    CoreEngine::unconditional_admits().into_iter().map(u8::from).collect()
}

#[wasm_bindgen(js_name = fleetStore)]
pub fn fleet_store(prefix: &str, name: &str) -> String {
    CoreEngine::fleet_store(prefix, name)
}

#[wasm_bindgen(js_name = rateLimitMessage)]
pub fn rate_limit_message(name: &str, retry_after_ms: f64) -> String {
    CoreEngine::ratelimit_refusal_message(name, retry_after_ms)
}

#[wasm_bindgen(js_name = rejectionMessage)]
pub fn rejection_message(name: &str, code: f64, retry_after_ms: f64) -> String {
    CoreEngine::rejection_message(name, code, retry_after_ms)
}

#[wasm_bindgen(js_name = presetPolicy)]
pub fn preset_policy(name: &str, python: bool) -> Option<String> {
    CoreEngine::preset_policy(name, python)
}

#[wasm_bindgen(js_name = presetCircuit)]
pub fn preset_circuit(name: &str, python: bool) -> Option<String> {
    CoreEngine::preset_circuit(name, python)
}

#[wasm_bindgen(js_name = presetRetry)]
pub fn preset_retry(kind: &str, a: f64, b: f64, c: f64, python: bool) -> Option<String> {
    CoreEngine::preset_retry(kind, a, b, c, python)
}

#[wasm_bindgen]
pub fn validate(kind: &str, options_json: &str, seconds: bool) -> Result<(), JsValue> {
    checked(CoreEngine::validate(kind, options_json, seconds))
}

#[wasm_bindgen]
pub fn deadline(now: f64, timeout_ms: f64, outer: f64) -> f64 {
    CoreEngine::deadline(now, timeout_ms, outer)
}

#[wasm_bindgen(js_name = retryAfter)]
pub fn retry_after(value: &str, now_epoch_ms: f64) -> f64 {
    CoreEngine::retry_after(value, now_epoch_ms)
}

/// The simulator is left out of the browser build (it would add ~16 KB gzipped to every page);
/// Node, Python and `seawall-sim` run it.
#[cfg(feature = "simulator")]
#[wasm_bindgen]
pub fn simulate(scenario_json: &str) -> Result<String, JsValue> {
    checked(CoreEngine::simulate(scenario_json))
}

#[wasm_bindgen(js_name = rngFloats)]
pub fn rng_floats(seed: f64, count: u32) -> Vec<f64> {
    CoreEngine::rng_floats(seed, count)
}
