//! The cold operations of the napi backend. Generated from bindings-shared/src/boundary.rs by its tests (SEAWALL_BLESS=1 cargo test -p seawall-bindings-shared); do not edit.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use seawall_bindings_shared::now_or_host as now_or_native;
use seawall_core::Engine as CoreEngine;

use crate::{checked, with_engine};

#[napi]
pub fn breaker_create(options_json: String, seconds: bool, name: Option<String>) -> Result<u32> {
    checked(with_engine(|e| e.breaker_create(&options_json, seconds, name.as_deref())))
}

#[napi]
pub fn breaker_get_or_create(name: String, options_json: String, seconds: bool) -> Result<Vec<u32>> {
    checked(with_engine(|e| e.breaker_get_or_create(&name, &options_json, seconds))).map(|v| vec![v.0, u32::from(v.1)])
}

/// The handle of the registered breaker `name`.
#[napi]
pub fn breaker_lookup(name: String) -> i64 {
    let v = with_engine(|e| e.breaker_lookup(&name));
    v.map_or(-1, i64::from)
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
pub fn breaker_events(handle: u32) -> String {
    with_engine(|e| e.breaker_events(handle))
}

/// Per state code: may the shell count successes itself in that state?
#[napi]
pub fn breaker_inert_success_states(handle: u32) -> Vec<bool> {
    with_engine(|e| e.breaker_inert_success_states(handle))
}

#[napi]
pub fn breaker_record_successes(handle: u32, count: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.breaker_record_successes(handle, count, now_or_native(now)))
}

#[napi]
pub fn breaker_state(handle: u32, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.breaker_state(handle, now_or_native(now)))).map(u32::from)
}

#[napi]
pub fn breaker_current_state(handle: u32) -> u32 {
    let v = with_engine(|e| e.breaker_current_state(handle));
    u32::from(v)
}

#[napi]
pub fn breaker_command(handle: u32, command: String, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.breaker_command(handle, &command, now_or_native(now)))).map(u32::from)
}

/// The fleet's sync: this replica's report.
#[napi]
pub fn breaker_fleet_report(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.breaker_fleet_report(handle, now_or_native(now))))
}

/// The fleet's sync: the replicas' reports in, the tally out.
#[napi]
pub fn breaker_fleet_sync(handle: u32, reports_json: String, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.breaker_fleet_sync(handle, &reports_json, now_or_native(now))))
}

/// The fleet's sync: the probe lease to take (its ms), or NaN.
#[napi]
pub fn breaker_probe_lease(handle: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.breaker_probe_lease(handle, now_or_native(now)))
}

/// A fleet breaker's sync with its store (core/src/fleet_sync.rs): starts it, as the replica
/// `replica`, on the keys under `prefix`.
#[napi]
pub fn breaker_sync_join(handle: u32, prefix: String, replica: String) -> Result<()> {
    checked(with_engine(|e| e.breaker_sync_join(handle, &prefix, &replica)))
}

/// Stops it (the breaker then decides alone); whether one ran.
#[napi]
pub fn breaker_sync_leave(handle: u32) -> bool {
    with_engine(|e| e.breaker_sync_leave(handle))
}

/// The next command of the round (JSON: `{"eval", "keys", "args"}` or `{"set", "value", "px"}`),
/// or "" when the round is over.
#[napi]
pub fn breaker_sync_next(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.breaker_sync_next(handle, now_or_native(now))))
}

/// Redis's reply to the last command, as JSON.
#[napi]
pub fn breaker_sync_reply(handle: u32, reply_json: String, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.breaker_sync_reply(handle, &reply_json, now_or_native(now))))
}

/// The round failed (an error, or no answer by its deadline).
#[napi]
pub fn breaker_sync_failed(handle: u32, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.breaker_sync_failed(handle, now_or_native(now))))
}

/// Whether the breaker has news for the fleet: a round should run now.
#[napi]
pub fn breaker_sync_wanted(handle: u32) -> bool {
    with_engine(|e| e.breaker_sync_wanted(handle))
}

/// `{"mode": "shared"|"local", "replicas", "fresh", "syncs", "failedSyncs"}`.
#[napi]
pub fn breaker_sync_status(handle: u32) -> Result<String> {
    checked(with_engine(|e| e.breaker_sync_status(handle)))
}

#[napi]
pub fn breaker_retry_after(handle: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.breaker_retry_after(handle, now_or_native(now)))
}

#[napi]
pub fn breaker_next_timeout(handle: u32) -> f64 {
    with_engine(|e| e.breaker_next_timeout(handle))
}

#[napi]
pub fn rejection_message(name: String, code: f64, retry_after_ms: f64) -> String {
    CoreEngine::rejection_message(&name, code, retry_after_ms)
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

#[napi]
pub fn bulkhead_get_or_create(name: String, options_json: String, seconds: bool) -> Result<Vec<u32>> {
    checked(with_engine(|e| e.bulkhead_get_or_create(&name, &options_json, seconds))).map(|v| vec![v.0, u32::from(v.1)])
}

/// The handle of the registered bulkhead `name`.
#[napi]
pub fn bulkhead_lookup(name: String) -> i64 {
    let v = with_engine(|e| e.bulkhead_lookup(&name));
    v.map_or(-1, i64::from)
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

/// A failed attempt: the next step, see the engine's encoding.
#[napi]
pub fn retry_on_failure(call: u32, now: Option<f64>, failure_class: u32, retry_after_ms: f64, budget: f64) -> Result<Vec<f64>> {
    checked(with_engine(|e| e.retry_on_failure(call, now_or_native(now), failure_class, retry_after_ms, budget))).map(|v| vec![v.0, f64::from(v.1), f64::from(u8::from(v.2))])
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
pub fn hedge_policy_create(options_json: String, seconds: bool, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.hedge_policy_create(&options_json, seconds, now_or_native(now))))
}

#[napi]
pub fn hedge_policy_drop(handle: u32) -> bool {
    with_engine(|e| e.hedge_policy_drop(handle))
}

/// Whether an error with these identifiers may be followed by another attempt.
#[napi]
pub fn hedge_is_retryable(handle: u32, ids: Vec<String>) -> bool {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    with_engine(|e| e.hedge_is_retryable(handle, &ids))
}

/// A call: its attempt 0 is running; the call's handle.
#[napi]
pub fn hedge_start(policy: u32, now: Option<f64>) -> Result<u32> {
    checked(with_engine(|e| e.hedge_start(policy, now_or_native(now))))
}

/// The call's next step, see the engine's encoding.
#[napi]
pub fn hedge_step(call: u32, now: Option<f64>) -> Result<f64> {
    checked(with_engine(|e| e.hedge_step(call, now_or_native(now))))
}

/// Calls begun without a machine, handed over: `begun` since the last sync; of those answered,
/// `in_time` before their deadlines (times unread) and `answered` the others' `(started,
/// ended)` pairs, each having waited `delay`.
#[napi]
pub fn hedge_sync(policy: u32, begun: u32, in_time: u32, delay: f64, answered: Float64Array, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.hedge_sync(policy, begun, in_time, delay, &answered, now_or_native(now))))
}

/// For calls begun without a machine from now: `[delay, until, wake, timed]` (`timed`: 1
/// when answered calls' times are needed).
#[napi]
pub fn hedge_delay(policy: u32, now: Option<f64>) -> Result<Vec<f64>> {
    checked(with_engine(|e| e.hedge_delay(policy, now_or_native(now))))
}

/// The machine of a call begun at `started`, waiting `delay`: its primary is running.
#[napi]
pub fn hedge_start_begun(policy: u32, started: f64, delay: f64) -> Result<u32> {
    checked(with_engine(|e| e.hedge_start_begun(policy, started, delay)))
}

/// Attempt `attempt` settled (`outcome`: 0 success, 1 failure, 2 fatal, 3 cancelled): the next step.
#[napi]
pub fn hedge_settle(call: u32, attempt: u32, outcome: u32, now: Option<f64>) -> Result<f64> {
    checked(with_engine(|e| e.hedge_settle(call, attempt, outcome, now_or_native(now))))
}

/// The caller gave up on the call: frees it.
#[napi]
pub fn hedge_end(call: u32) -> bool {
    with_engine(|e| e.hedge_end(call))
}

#[napi]
pub fn hedge_stats(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.hedge_stats(handle, now_or_native(now))))
}

#[napi]
pub fn adaptive_create(options_json: String, seconds: bool, seed: f64) -> Result<u32> {
    checked(with_engine(|e| e.adaptive_create(&options_json, seconds, seed)))
}

#[napi]
pub fn adaptive_drop(handle: u32) -> bool {
    with_engine(|e| e.adaptive_drop(handle))
}

/// The index of a partition by name, or -1.
#[napi]
pub fn adaptive_partition(handle: u32, name: String) -> f64 {
    with_engine(|e| e.adaptive_partition(handle, &name))
}

/// A call admitted (its permit, ≥ 0) or refused (-1); `partition` an index or -1.
#[napi]
pub fn adaptive_acquire(handle: u32, partition: f64, now: Option<f64>) -> f64 {
    with_engine(|e| e.adaptive_acquire(handle, partition, now_or_native(now)))
}

/// A call ended (`outcome`: 0 success, 1 dropped, 2 ignored).
#[napi]
pub fn adaptive_release(handle: u32, permit: f64, outcome: u32, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.adaptive_release(handle, permit, outcome, now_or_native(now))))
}

#[napi]
pub fn adaptive_stats(handle: u32) -> Result<String> {
    checked(with_engine(|e| e.adaptive_stats(handle)))
}

/// When a shed caller should come back, ms.
#[napi]
pub fn adaptive_retry_after(handle: u32, now: Option<f64>) -> f64 {
    with_engine(|e| e.adaptive_retry_after(handle, now_or_native(now)))
}

#[napi]
pub fn adaptive_message(name: String, retry_after_ms: f64) -> String {
    CoreEngine::adaptive_message(&name, retry_after_ms)
}

/// What a response's status means for an adaptive limit: 0 success, 1 dropped, 2 ignored.
#[napi]
pub fn limit_outcome(status: f64) -> u32 {
    CoreEngine::limit_outcome(status)
}

/// What a service answers a request it sheds, besides its 503: `[Retry-After, JSON body]`;
/// `name`: the limit that shed it (none: a queue that was full or held it too long).
#[napi]
pub fn shed_answer(name: Option<String>, retry_after_ms: f64) -> Vec<String> {
    CoreEngine::shed_answer(name.as_deref(), retry_after_ms)
}

#[napi]
pub fn rate_limit_create(options_json: String, seconds: bool) -> Result<u32> {
    checked(with_engine(|e| e.rate_limit_create(&options_json, seconds)))
}

#[napi]
pub fn rate_limit_drop(handle: u32) -> bool {
    with_engine(|e| e.rate_limit_drop(handle))
}

/// `[wait ms (0: now; negative: refused, minus the ms until a place is free), ticket to give
/// a reserved place back (NaN: none)]`.
#[napi]
pub fn rate_limit_acquire(handle: u32, now: Option<f64>) -> Vec<f64> {
    let v = with_engine(|e| e.rate_limit_acquire(handle, now_or_native(now)));
    vec![v.0, v.1]
}

#[napi]
pub fn rate_limit_cancel(handle: u32, ticket: f64) -> bool {
    with_engine(|e| e.rate_limit_cancel(handle, ticket))
}

#[napi]
pub fn rate_limit_stats(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.rate_limit_stats(handle, now_or_native(now))))
}

/// Fleet mode: this replica's `{demand, want}`.
#[napi]
pub fn rate_limit_fleet_report(handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.rate_limit_fleet_report(handle, now_or_native(now))))
}

/// Fleet mode: the store's grant and the others' reports.
#[napi]
pub fn rate_limit_fleet_sync(handle: u32, granted: f64, reports_json: String, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.rate_limit_fleet_sync(handle, granted, &reports_json, now_or_native(now))))
}

/// Fleet mode: the store is lost.
#[napi]
pub fn rate_limit_fleet_alone(handle: u32) -> Result<()> {
    checked(with_engine(|e| e.rate_limit_fleet_alone(handle)))
}

/// A rate limiter's or retry budget's (`kind`: `rateLimit`, `budget`) quota sync with its
/// store (core/src/fleet_sync.rs): starts it; `store` is `{"prefix", "name", "replica"}`.
#[napi]
pub fn quota_sync_join(kind: String, handle: u32, store: String) -> Result<()> {
    checked(with_engine(|e| e.quota_sync_join(&kind, handle, &store)))
}

/// Stops it: the policy then runs on an equal part, as when the store is lost.
#[napi]
pub fn quota_sync_leave(kind: String, handle: u32, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.quota_sync_leave(&kind, handle, now_or_native(now))))
}

/// The round's command (JSON: `{"eval": "quota", "keys", "args"}`), or "" when it is over.
#[napi]
pub fn quota_sync_next(kind: String, handle: u32, now: Option<f64>) -> Result<String> {
    checked(with_engine(|e| e.quota_sync_next(&kind, handle, now_or_native(now))))
}

/// Redis's reply to the round's command, as JSON.
#[napi]
pub fn quota_sync_reply(kind: String, handle: u32, reply_json: String, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.quota_sync_reply(&kind, handle, &reply_json, now_or_native(now))))
}

/// The round failed (an error, or no answer by its deadline).
#[napi]
pub fn quota_sync_failed(kind: String, handle: u32, now: Option<f64>) -> Result<()> {
    checked(with_engine(|e| e.quota_sync_failed(&kind, handle, now_or_native(now))))
}

/// `{"syncs", "failedSyncs"}`.
#[napi]
pub fn quota_sync_status(kind: String, handle: u32) -> Result<String> {
    checked(with_engine(|e| e.quota_sync_status(&kind, handle)))
}

#[napi]
pub fn rate_limit_message(name: String, retry_after_ms: f64) -> String {
    CoreEngine::rate_limit_message(&name, retry_after_ms)
}

/// A fleet's Redis keys and scripts: `{keys: {reports, marks, lease, quota}, scripts: {sync, mark, release, quota}}`.
#[napi]
pub fn fleet_store(prefix: String, name: String) -> String {
    CoreEngine::fleet_store(&prefix, &name)
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

/// The registry's gauges for the observed OpenTelemetry instruments: `[[family, name, label, value]]`.
#[napi]
pub fn gauge_samples() -> String {
    with_engine(|e| e.gauge_samples())
}

#[napi]
pub fn error_codes() -> Vec<&'static str> {
    CoreEngine::error_codes()
}

/// What the shells report as Seawall decides (core/src/telemetry.rs), as JSON.
#[napi]
pub fn telemetry_events() -> String {
    CoreEngine::telemetry_events()
}

/// The OpenTelemetry instruments those reports feed (core/src/telemetry.rs), as JSON.
#[napi]
pub fn telemetry_instruments() -> String {
    CoreEngine::telemetry_instruments()
}

#[napi]
pub fn state_names() -> Vec<&'static str> {
    CoreEngine::state_names()
}

#[napi]
pub fn give_up_reasons() -> Vec<&'static str> {
    CoreEngine::give_up_reasons()
}

#[napi]
pub fn give_up_codes() -> Vec<&'static str> {
    CoreEngine::give_up_codes()
}

#[napi]
pub fn defaults_json() -> String {
    CoreEngine::defaults_json()
}

#[napi]
pub fn preapproved_permit() -> f64 {
    CoreEngine::preapproved_permit()
}

#[napi]
pub fn unconditional_admits() -> Vec<bool> {
    CoreEngine::unconditional_admits()
}

#[napi]
pub fn preset_policy(name: String, python: bool) -> Option<String> {
    CoreEngine::preset_policy(&name, python)
}

#[napi]
pub fn preset_circuit(name: String, python: bool) -> Option<String> {
    CoreEngine::preset_circuit(&name, python)
}

#[napi]
pub fn preset_retry(kind: String, a: f64, b: f64, c: f64, python: bool) -> Option<String> {
    CoreEngine::preset_retry(&kind, a, b, c, python)
}

#[napi]
pub fn validate(kind: String, options_json: String, seconds: bool) -> Result<()> {
    checked(CoreEngine::validate(&kind, &options_json, seconds))
}

#[napi]
pub fn deadline(now: f64, timeout_ms: f64, outer: f64) -> f64 {
    CoreEngine::deadline(now, timeout_ms, outer)
}

/// What an attempt's outcome means for retries and breakers (core/src/outcome.rs): the
/// outcome as JSON in, `{"decision", "retryAfterMs", "count", "attempt"}` out.
#[napi]
pub fn classify_outcome(outcome_json: String, now_epoch_ms: f64) -> Result<String> {
    checked(CoreEngine::classify_outcome(&outcome_json, now_epoch_ms))
}

/// Whether a request of `method` may be hedged (`forced`: any method).
#[napi]
pub fn hedgeable(method: String, forced: bool) -> bool {
    CoreEngine::hedgeable(&method, forced)
}

/// How a breaker counts an HTTP response of `status`: 0 success, 1 failure, 2 ignored.
#[napi]
pub fn count_status(status: f64) -> u32 {
    CoreEngine::count_status(status)
}

/// A Retry-After header as ms from `now_epoch_ms`; NaN when unreadable.
#[napi]
pub fn retry_after(value: String, now_epoch_ms: f64) -> f64 {
    CoreEngine::retry_after(&value, now_epoch_ms)
}

/// A header giving milliseconds (`retry-after-ms`, a client's `x-request-timeout`); NaN
/// when unreadable.
#[napi]
pub fn header_ms(value: String) -> f64 {
    CoreEngine::header_ms(&value)
}

#[napi]
pub fn rng_floats(seed: f64, count: u32) -> Vec<f64> {
    CoreEngine::rng_floats(seed, count)
}

/// The simulator over a scenario (JSON text); answers JSON text. Absent from the browser
/// (wasm) build, which leaves the simulator out for size; Python's releases the GIL.
#[napi]
pub fn simulate(scenario_json: String) -> Result<String> {
    checked(seawall_simulator::simulate(&scenario_json))
}
