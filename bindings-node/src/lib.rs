//! The napi-rs backend of the `seawall` npm package: converts, never decides.
//!
//! Cold paths are ordinary `#[napi]` functions over [`seawall_core::Engine`] (their TypeScript
//! types are generated). The four hot paths (breaker acquire/record, bulkhead acquire/release)
//! and the clock are raw N-API callbacks that read their arguments from, and write their
//! answers to, one shared `Float64Array`: napi-rs's argument conversion costs ~100 ns a call
//! here, a raw callback ~10 ns (measured in `bench/`).
//!
//! Shared slots: 0 handle, 1 now, 2–4 arguments, 5 "read the host clock instead of slot 1",
//! 8–10 answers, 11 the time used. breakerAcquire: 8 code, 9 retry-after, 10 events waiting. breakerRecord
//! (2 permit, 3 outcome, 4 started at): 8 state + 8·events. bulkheadAcquire: 8 kind, 9 value.
//! bulkheadRelease (2 permit): 8 ticket (0 none, −1 refused), 9 its permit. The engine is per thread (each worker thread has its own), like the JS
//! objects that hold its handles.
//!
//! Errors cross as a JS `Error` whose message is `SEAWALL:` + the error's JSON; the shell turns
//! it into a `TypeError`/`RangeError`/Seawall error with `code`, `option` and `value`.

use std::cell::{Cell, RefCell};

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use seawall_bindings_shared::{monotonic_ms as native_now, now_or_host as now_or_native};
use seawall_core::{Engine, SeawallError};

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::new());
    static SLOTS: Cell<*mut f64> = const { Cell::new(std::ptr::null_mut()) };
}

const SLOT_COUNT: usize = 16;

fn with_engine<T>(f: impl FnOnce(&mut Engine) -> T) -> T {
    ENGINE.with(|e| f(&mut e.borrow_mut()))
}

fn to_napi(e: SeawallError) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("SEAWALL:{}", e.to_json()))
}

fn checked<T>(r: seawall_core::Result<T>) -> Result<T> {
    r.map_err(to_napi)
}

// ---- hot paths: raw callbacks over the shared slots ----------------------------------------

type RawFn = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Runs `body` on the shared slots; a panic (none is expected) leaves NaN answers instead of
/// unwinding into Node.
fn on_slots(body: impl FnOnce(&mut [f64; SLOT_COUNT])) -> sys::napi_value {
    let p = SLOTS.with(Cell::get);
    if p.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `init_slots` stored a pointer to a live Float64Array of SLOT_COUNT elements that
    // the JS side keeps referenced for the life of the module, and JS is single-threaded here.
    let slots = unsafe { &mut *(p as *mut [f64; SLOT_COUNT]) };
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(slots))).is_err() {
        slots[8] = f64::NAN;
        slots[9] = f64::NAN;
    }
    std::ptr::null_mut()
}

fn now_in(slots: &mut [f64; SLOT_COUNT]) -> f64 {
    let now = if slots[5] != 0.0 { native_now() } else { slots[1] };
    slots[11] = now;
    now
}

unsafe extern "C" fn hot_breaker_acquire(_: sys::napi_env, _: sys::napi_callback_info) -> sys::napi_value {
    on_slots(|s| {
        let now = now_in(s);
        let (code, retry_after, events) = with_engine(|e| e.breaker_acquire(s[0] as u32, now));
        s[8] = code;
        s[9] = retry_after;
        s[10] = events as u8 as f64;
    })
}

unsafe extern "C" fn hot_breaker_record(_: sys::napi_env, _: sys::napi_callback_info) -> sys::napi_value {
    on_slots(|s| {
        let now = now_in(s);
        s[8] = with_engine(|e| e.breaker_record(s[0] as u32, s[2], s[3] as u32, now, s[4]));
    })
}

unsafe extern "C" fn hot_bulkhead_acquire(_: sys::napi_env, _: sys::napi_callback_info) -> sys::napi_value {
    on_slots(|s| {
        let now = now_in(s);
        let (kind, value) = with_engine(|e| e.bulkhead_acquire(s[0] as u32, now));
        s[8] = kind as f64;
        s[9] = value;
    })
}

unsafe extern "C" fn hot_bulkhead_release(_: sys::napi_env, _: sys::napi_callback_info) -> sys::napi_value {
    on_slots(|s| {
        let now = now_in(s);
        match with_engine(|e| e.bulkhead_release(s[0] as u32, s[2], now)) {
            Ok((ticket, permit)) => {
                s[8] = ticket;
                s[9] = permit;
            }
            Err(_) => {
                s[8] = -1.0;
                s[9] = f64::NAN;
            }
        }
    })
}

unsafe extern "C" fn hot_now(_: sys::napi_env, _: sys::napi_callback_info) -> sys::napi_value {
    on_slots(|s| {
        s[11] = native_now();
    })
}

/// Hands the shared slots to the addon (a Float64Array of 16 over its own ArrayBuffer, which
/// the caller must keep referenced).
#[napi]
pub fn init_slots(slots: Float64Array) -> Result<()> {
    if slots.len() < SLOT_COUNT {
        return Err(napi::Error::new(Status::InvalidArg, format!("slots must hold {SLOT_COUNT} numbers")));
    }
    SLOTS.with(|c| c.set(slots.as_ptr() as *mut f64));
    Ok(())
}

/// The raw hot-path function `name`: breakerAcquire, breakerRecord, bulkheadAcquire,
/// bulkheadRelease or now.
#[napi(ts_return_type = "() => void")]
pub fn hot_function<'env>(env: &'env Env, name: String) -> Result<Unknown<'env>> {
    let f: RawFn = match name.as_str() {
        "breakerAcquire" => hot_breaker_acquire,
        "breakerRecord" => hot_breaker_record,
        "bulkheadAcquire" => hot_bulkhead_acquire,
        "bulkheadRelease" => hot_bulkhead_release,
        "now" => hot_now,
        _ => return Err(napi::Error::new(Status::InvalidArg, format!("no hot function {name:?}"))),
    };
    let mut out = std::ptr::null_mut();
    // SAFETY: plain N-API calls with a valid env; the name is passed with its length.
    unsafe {
        napi::check_status!(sys::napi_create_function(env.raw(), name.as_ptr().cast(), name.len() as isize, Some(f), std::ptr::null_mut(), &mut out))?;
        Ok(Unknown::from_raw_unchecked(env.raw(), out))
    }
}

// ---- cold paths ----------------------------------------------------------------------------

#[napi]
pub fn native_clock() -> f64 {
    native_now()
}

#[napi]
pub fn error_codes() -> Vec<&'static str> {
    Engine::error_codes()
}

#[napi]
pub fn state_names() -> Vec<&'static str> {
    Engine::state_names()
}

#[napi]
pub fn give_up_reasons() -> Vec<&'static str> {
    Engine::give_up_reasons()
}

#[napi]
pub fn preapproved_permit() -> f64 {
    Engine::PREAPPROVED_PERMIT
}

#[napi]
pub fn unconditional_admits() -> Vec<bool> {
    Engine::unconditional_admits()
}

#[napi]
pub fn give_up_codes() -> Vec<&'static str> {
    Engine::give_up_codes()
}

#[napi]
pub fn defaults_json() -> String {
    Engine::defaults_json()
}

#[napi]
pub fn breaker_create(options_json: String, seconds: bool, name: Option<String>) -> Result<u32> {
    checked(with_engine(|e| e.breaker_create(&options_json, seconds, name.as_deref())))
}

/// Answers `[handle, created ? 1 : 0]`.
#[napi]
pub fn breaker_get_or_create(name: String, options_json: String, seconds: bool) -> Result<Vec<u32>> {
    checked(with_engine(|e| e.breaker_get_or_create(&name, &options_json, seconds))).map(|(h, c)| vec![h, c as u32])
}

/// The handle of the registered breaker `name`, or -1.
#[napi]
pub fn breaker_lookup(name: String) -> i64 {
    with_engine(|e| e.breaker_lookup(&name)).map_or(-1, i64::from)
}

#[napi]
pub fn breaker_name(handle: u32) -> Option<String> {
    with_engine(|e| e.breaker_name(handle))
}

#[napi]
pub fn breaker_drop(handle: u32) -> bool {
    with_engine(|e| e.breaker_drop(handle))
}

#[napi]
pub fn breaker_inert_success_states(handle: u32) -> Vec<bool> {
    with_engine(|e| e.breaker_inert_success_states(handle))
}

#[napi]
pub fn breaker_record_successes(handle: u32, count: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.breaker_record_successes(handle, count, now_or_native(now)))
}

#[napi]
pub fn breaker_events(handle: u32) -> String {
    with_engine(|e| e.breaker_events(handle))
}

#[napi]
pub fn breaker_current_state(handle: u32) -> u32 {
    u32::from(with_engine(|e| e.breaker_current_state(handle)))
}

#[napi]
pub fn breaker_state(handle: u32, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.breaker_state(handle, now_or_native(now)))).map(u32::from)
}

#[napi]
pub fn breaker_fleet_report(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.breaker_fleet_report(handle, now_or_native(now))))
}

#[napi]
pub fn breaker_fleet_sync(handle: u32, reports_json: String, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.breaker_fleet_sync(handle, &reports_json, now_or_native(now))))
}

#[napi]
pub fn breaker_probe_lease(handle: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.breaker_probe_lease(handle, now_or_native(now)))
}

#[napi]
pub fn breaker_command(handle: u32, command: String, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.breaker_command(handle, &command, now_or_native(now)))).map(u32::from)
}

#[napi]
pub fn breaker_next_timeout(handle: u32) -> f64 {
    with_engine(|e| e.breaker_next_timeout(handle))
}

#[napi]
pub fn breaker_retry_after(handle: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.breaker_retry_after(handle, now_or_native(now)))
}

#[napi]
pub fn rejection_message(name: String, code: f64, retry_after_ms: f64) -> String {
    Engine::rejection_message(&name, code, retry_after_ms)
}

#[napi]
pub fn breaker_stats(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.breaker_stats(handle, now_or_native(now))))
}

#[napi]
pub fn breaker_config(handle: u32) -> Result<String> {
    checked(with_engine(|e| e.breaker_config(handle)))
}

#[napi]
pub fn breaker_snapshot(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.breaker_snapshot(handle, now_or_native(now))))
}

#[napi]
pub fn breaker_restore(handle: u32, snapshot_json: String, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.breaker_restore(handle, &snapshot_json, now_or_native(now))))
}

#[napi]
pub fn bulkhead_create(options_json: String, seconds: bool, name: Option<String>) -> Result<u32> {
    checked(with_engine(|e| e.bulkhead_create(&options_json, seconds, name.as_deref())))
}

/// Answers `[handle, created ? 1 : 0]`.
#[napi]
pub fn bulkhead_get_or_create(name: String, options_json: String, seconds: bool) -> Result<Vec<u32>> {
    checked(with_engine(|e| e.bulkhead_get_or_create(&name, &options_json, seconds))).map(|(h, c)| vec![h, c as u32])
}

/// The handle of the registered bulkhead `name`, or -1.
#[napi]
pub fn bulkhead_lookup(name: String) -> i64 {
    with_engine(|e| e.bulkhead_lookup(&name)).map_or(-1, i64::from)
}

#[napi]
pub fn bulkhead_drop(handle: u32) -> bool {
    with_engine(|e| e.bulkhead_drop(handle))
}

#[napi]
pub fn bulkhead_cancel(handle: u32, ticket: f64) -> bool {
    with_engine(|e| e.bulkhead_cancel(handle, ticket))
}

#[napi]
pub fn bulkhead_next_timeout(handle: u32) -> f64 {
    with_engine(|e| e.bulkhead_next_timeout(handle))
}

#[napi]
pub fn bulkhead_expire(handle: u32, now: Option<f64>) -> Vec<f64> {
    with_engine(|e| e.bulkhead_expire(handle, now_or_native(now)))
}

#[napi]
pub fn bulkhead_metrics(handle: u32) -> Result<String> {
    checked(with_engine(|e| e.bulkhead_metrics(handle)))
}

#[napi]
pub fn retry_policy_create(options_json: String, seconds: bool, seed: f64) -> Result<u32> {
    checked(with_engine(|e| e.retry_policy_create(&options_json, seconds, seed)))
}

#[napi]
pub fn retry_policy_drop(handle: u32) -> bool {
    with_engine(|e| e.retry_policy_drop(handle))
}

#[napi]
pub fn retry_policy_info(handle: u32) -> Result<String> {
    checked(with_engine(|e| e.retry_policy_info(handle)))
}

#[napi]
pub fn retry_is_retryable(handle: u32, ids: Vec<String>) -> bool {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    with_engine(|e| e.retry_is_retryable(handle, &ids))
}

#[napi]
pub fn retry_start(policy: u32, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.retry_start(policy, now_or_native(now))))
}

/// Answers `[value, attempt, fromServer ? 1 : 0]`: see the engine's encoding.
#[napi]
pub fn retry_on_failure(call: u32, now: Option<f64>, failure_class: u32, retry_after_ms: f64, budget: f64) -> Result<Vec<f64>> {
    checked(with_engine(|e| e.retry_on_failure(call, now_or_native(now), failure_class, retry_after_ms, budget)))
        .map(|(v, a, server)| vec![v, a as f64, server as u8 as f64])
}

#[napi]
pub fn retry_end(call: u32) -> bool {
    with_engine(|e| e.retry_end(call))
}

#[napi]
pub fn backoff_create(options_json: String, seconds: bool, seed: f64) -> Result<u32> {
    checked(with_engine(|e| e.backoff_create(&options_json, seconds, seed)))
}

#[napi]
pub fn backoff_next(handle: u32, retry: u32) -> f64 {
    with_engine(|e| e.backoff_next(handle, retry))
}

#[napi]
pub fn backoff_restart(handle: u32) {
    with_engine(|e| e.backoff_restart(handle))
}

#[napi]
pub fn backoff_drop(handle: u32) -> bool {
    with_engine(|e| e.backoff_drop(handle))
}

#[napi]
pub fn budget_create(options_json: String, seconds: bool, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.budget_create(&options_json, seconds, now_or_native(now))))
}

#[napi]
pub fn budget_drop(handle: u32) -> bool {
    with_engine(|e| e.budget_drop(handle))
}

#[napi]
pub fn budget_record_success(handle: u32, now: Option<f64>) {
    with_engine(|e| e.budget_record_success(handle, now_or_native(now)))
}

#[napi]
pub fn budget_try_withdraw(handle: u32, now: Option<f64>) -> bool {
    with_engine(|e| e.budget_try_withdraw(handle, now_or_native(now)))
}

#[napi]
pub fn budget_tokens(handle: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.budget_tokens(handle, now_or_native(now)))
}

#[napi]
pub fn budget_stats(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.budget_stats(handle, now_or_native(now))))
}

#[napi]
pub fn budget_fleet_report(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.budget_fleet_report(handle, now_or_native(now))))
}

#[napi]
pub fn budget_fleet_sync(handle: u32, granted: f64, reports_json: String, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.budget_fleet_sync(handle, granted, &reports_json, now_or_native(now))))
}

#[napi]
pub fn budget_fleet_alone(handle: u32, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.budget_fleet_alone(handle, now_or_native(now))))
}

#[napi]
pub fn rate_limit_create(options_json: String, seconds: bool) -> Result<u32> {
    checked(with_engine(|e| e.ratelimit_create(&options_json, seconds)))
}

#[napi]
pub fn rate_limit_drop(handle: u32) -> bool {
    with_engine(|e| e.ratelimit_drop(handle))
}

#[napi]
pub fn rate_limit_acquire(handle: u32, now: Option<f64>) -> Vec<f64> {
    let (wait, ticket) = with_engine(|e| e.ratelimit_acquire(handle, now_or_native(now)));
    vec![wait, ticket]
}

#[napi]
pub fn rate_limit_cancel(handle: u32, ticket: f64) -> bool {
    with_engine(|e| e.ratelimit_cancel(handle, ticket))
}

#[napi]
pub fn rate_limit_stats(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.ratelimit_stats(handle, now_or_native(now))))
}

#[napi]
pub fn rate_limit_fleet_report(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.ratelimit_fleet_report(handle, now_or_native(now))))
}

#[napi]
pub fn rate_limit_fleet_sync(handle: u32, granted: f64, reports_json: String, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.ratelimit_fleet_sync(handle, granted, &reports_json, now_or_native(now))))
}

#[napi]
pub fn rate_limit_fleet_alone(handle: u32) -> Result<()> {
    checked(with_engine(|e| e.ratelimit_fleet_alone(handle)))
}

#[napi]
pub fn fleet_store(prefix: String, name: String) -> String {
    Engine::fleet_store(&prefix, &name)
}

#[napi]
pub fn rate_limit_message(name: String, retry_after_ms: f64) -> String {
    Engine::ratelimit_refusal_message(&name, retry_after_ms)
}

#[napi]
pub fn health(now: Option<f64>) -> String {
    with_engine(|e| e.health(now_or_native(now)))
}

#[napi]
pub fn breaker_health(now: Option<f64>) -> String {
    with_engine(|e| e.breaker_health(now_or_native(now)))
}

#[napi]
pub fn breaker_names() -> Vec<String> {
    with_engine(|e| e.breaker_names())
}

#[napi]
pub fn reset_all(now: Option<f64>) {
    with_engine(|e| e.reset_all(now_or_native(now)))
}

#[napi]
pub fn clear_registry() {
    with_engine(|e| e.clear_registry())
}

#[napi]
pub fn record_retry_attempt(name: String) {
    with_engine(|e| e.record_retry_attempt(&name))
}

#[napi]
pub fn record_timeout(name: String) {
    with_engine(|e| e.record_timeout(&name))
}

#[napi]
pub fn prometheus() -> String {
    with_engine(|e| e.prometheus())
}

#[napi]
pub fn preset_policy(name: String, python: bool) -> Option<String> {
    Engine::preset_policy(&name, python)
}

#[napi]
pub fn preset_circuit(name: String, python: bool) -> Option<String> {
    Engine::preset_circuit(&name, python)
}

#[napi]
pub fn preset_retry(kind: String, a: f64, b: f64, c: f64, python: bool) -> Option<String> {
    Engine::preset_retry(&kind, a, b, c, python)
}

#[napi]
pub fn validate(kind: String, options_json: String, seconds: bool) -> Result<()> {
    checked(Engine::validate(&kind, &options_json, seconds))
}

#[napi]
pub fn deadline(now: f64, timeout_ms: f64, outer: f64) -> f64 {
    Engine::deadline(now, timeout_ms, outer)
}

#[napi]
pub fn retry_after(value: String, now_epoch_ms: f64) -> f64 {
    Engine::retry_after(&value, now_epoch_ms)
}

#[napi]
pub fn simulate(scenario_json: String) -> Result<String> {
    checked(Engine::simulate(&scenario_json))
}

#[napi]
pub fn rng_floats(seed: f64, count: u32) -> Vec<f64> {
    Engine::rng_floats(seed, count)
}
