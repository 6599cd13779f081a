//! The wasm module's `call` dispatch: an operation by its row (its place in the adapter's `CALLS`). Generated from bindings-shared/src/boundary.rs by its tests (SEAWALL_BLESS=1 cargo test -p seawall-bindings-shared); do not edit.

use seawall_core::Engine as CoreEngine;
use wasm_bindgen::JsValue;

use crate::{checked, flags, ids, nums, optional, texts};
#[cfg(not(feature = "full"))]
use crate::not_in_module;

/// Runs operation `op` with the numbers `a` and the texts `s1`, `s2`: its number answer (NaN
/// if none) and its text answer.
pub fn dispatch(e: &mut CoreEngine, op: u32, a: [f64; 8], s1: &str, s2: &str) -> Result<(f64, String), JsValue> {
    let h = |i: usize| a[i] as u32;
    let flag = |i: usize| a[i] != 0.0;
    let mut number = f64::NAN;
    let mut text = String::new();
    match op {
        0 /* breakerCreate */ => number = f64::from(checked(e.breaker_create(s1, flag(0), flag(1).then_some(s2)))?),
        1 /* breakerGetOrCreate */ => { let (h, created) = checked(e.breaker_get_or_create(s1, s2, flag(0)))?; text = nums(&[f64::from(h), f64::from(u8::from(created))]) },
        2 /* breakerLookup */ => number = e.breaker_lookup(s1).map_or(-1.0, f64::from),
        3 /* breakerName */ => (number, text) = optional(e.breaker_name(h(0))),
        4 /* breakerDrop */ => number = f64::from(u8::from(e.breaker_drop(h(0)))),
        5 /* breakerEvents */ => text = e.breaker_events(h(0)),
        6 /* breakerInertSuccessStates */ => text = flags(e.breaker_inert_success_states(h(0))),
        7 /* breakerRecordSuccesses */ => number = e.breaker_record_successes(h(0), h(1), a[2]),
        8 /* breakerState */ => number = f64::from(checked(e.breaker_state(h(0), a[1]))?),
        9 /* breakerCurrentState */ => number = f64::from(e.breaker_current_state(h(0))),
        10 /* breakerCommand */ => number = f64::from(checked(e.breaker_command(h(0), s1, a[1]))?),
        #[cfg(feature = "full")]
        11 /* breakerFleetReport */ => text = checked(e.breaker_fleet_report(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        11 => return Err(not_in_module("breakerFleetReport")),
        #[cfg(feature = "full")]
        12 /* breakerFleetSync */ => text = checked(e.breaker_fleet_sync(h(0), s1, a[1]))?,
        #[cfg(not(feature = "full"))]
        12 => return Err(not_in_module("breakerFleetSync")),
        #[cfg(feature = "full")]
        13 /* breakerProbeLease */ => number = e.breaker_probe_lease(h(0), a[1]),
        #[cfg(not(feature = "full"))]
        13 => return Err(not_in_module("breakerProbeLease")),
        #[cfg(feature = "fleet")]
        14 /* breakerSyncJoin */ => checked(e.breaker_sync_join(h(0), s1, s2))?,
        #[cfg(feature = "fleet")]
        15 /* breakerSyncLeave */ => number = f64::from(u8::from(e.breaker_sync_leave(h(0)))),
        #[cfg(feature = "fleet")]
        16 /* breakerSyncNext */ => text = checked(e.breaker_sync_next(h(0), a[1]))?,
        #[cfg(feature = "fleet")]
        17 /* breakerSyncReply */ => checked(e.breaker_sync_reply(h(0), s1, a[1]))?,
        #[cfg(feature = "fleet")]
        18 /* breakerSyncFailed */ => checked(e.breaker_sync_failed(h(0), a[1]))?,
        #[cfg(feature = "fleet")]
        19 /* breakerSyncWanted */ => number = f64::from(u8::from(e.breaker_sync_wanted(h(0)))),
        #[cfg(feature = "fleet")]
        20 /* breakerSyncStatus */ => text = checked(e.breaker_sync_status(h(0)))?,
        21 /* breakerRetryAfter */ => number = e.breaker_retry_after(h(0), a[1]),
        22 /* breakerNextTimeout */ => number = e.breaker_next_timeout(h(0)),
        23 /* rejectionMessage */ => text = CoreEngine::rejection_message(s1, a[0], a[1]),
        24 /* breakerStats */ => text = checked(e.breaker_stats(h(0), a[1]))?,
        25 /* breakerConfig */ => text = checked(e.breaker_config(h(0)))?,
        26 /* breakerSnapshot */ => text = checked(e.breaker_snapshot(h(0), a[1]))?,
        27 /* breakerRestore */ => checked(e.breaker_restore(h(0), s1, a[1]))?,
        28 /* bulkheadCreate */ => number = f64::from(checked(e.bulkhead_create(s1, flag(0), flag(1).then_some(s2)))?),
        29 /* bulkheadGetOrCreate */ => { let (h, created) = checked(e.bulkhead_get_or_create(s1, s2, flag(0)))?; text = nums(&[f64::from(h), f64::from(u8::from(created))]) },
        30 /* bulkheadLookup */ => number = e.bulkhead_lookup(s1).map_or(-1.0, f64::from),
        31 /* bulkheadDrop */ => number = f64::from(u8::from(e.bulkhead_drop(h(0)))),
        32 /* bulkheadCancel */ => number = f64::from(u8::from(e.bulkhead_cancel(h(0), a[1]))),
        33 /* bulkheadNextTimeout */ => number = e.bulkhead_next_timeout(h(0)),
        34 /* bulkheadExpire */ => text = nums(&e.bulkhead_expire(h(0), a[1])),
        35 /* bulkheadMetrics */ => text = checked(e.bulkhead_metrics(h(0)))?,
        36 /* retryPolicyCreate */ => number = f64::from(checked(e.retry_policy_create(s1, flag(0), a[1]))?),
        37 /* retryPolicyDrop */ => number = f64::from(u8::from(e.retry_policy_drop(h(0)))),
        38 /* retryPolicyInfo */ => text = checked(e.retry_policy_info(h(0)))?,
        39 /* retryIsRetryable */ => { let parsed = seawall_core::json::Json::parse(s1).ok(); let ids = ids(&parsed); number = f64::from(u8::from(e.retry_is_retryable(h(0), &ids))) },
        40 /* retryStart */ => number = f64::from(checked(e.retry_start(h(0), a[1]))?),
        41 /* retryOnFailure */ => { let (v, attempt, server) = checked(e.retry_on_failure(h(0), a[1], h(2), a[3], a[4]))?; text = nums(&[v, f64::from(attempt), f64::from(u8::from(server))]) },
        42 /* backoffCreate */ => number = f64::from(checked(e.backoff_create(s1, flag(0), a[1]))?),
        43 /* backoffNext */ => number = e.backoff_next(h(0), h(1)),
        44 /* backoffRestart */ => e.backoff_restart(h(0)),
        45 /* backoffDrop */ => number = f64::from(u8::from(e.backoff_drop(h(0)))),
        #[cfg(feature = "full")]
        46 /* budgetCreate */ => number = f64::from(checked(e.budget_create(s1, flag(0), a[1]))?),
        #[cfg(not(feature = "full"))]
        46 => return Err(not_in_module("budgetCreate")),
        #[cfg(feature = "full")]
        47 /* budgetDrop */ => number = f64::from(u8::from(e.budget_drop(h(0)))),
        #[cfg(not(feature = "full"))]
        47 => return Err(not_in_module("budgetDrop")),
        #[cfg(feature = "full")]
        48 /* budgetTryWithdraw */ => number = f64::from(u8::from(e.budget_try_withdraw(h(0), a[1]))),
        #[cfg(not(feature = "full"))]
        48 => return Err(not_in_module("budgetTryWithdraw")),
        #[cfg(feature = "full")]
        49 /* budgetTokens */ => number = e.budget_tokens(h(0), a[1]),
        #[cfg(not(feature = "full"))]
        49 => return Err(not_in_module("budgetTokens")),
        #[cfg(feature = "full")]
        50 /* budgetStats */ => text = checked(e.budget_stats(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        50 => return Err(not_in_module("budgetStats")),
        #[cfg(feature = "full")]
        51 /* budgetFleetReport */ => text = checked(e.budget_fleet_report(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        51 => return Err(not_in_module("budgetFleetReport")),
        #[cfg(feature = "full")]
        52 /* budgetFleetSync */ => checked(e.budget_fleet_sync(h(0), a[1], s1, a[2]))?,
        #[cfg(not(feature = "full"))]
        52 => return Err(not_in_module("budgetFleetSync")),
        #[cfg(feature = "full")]
        53 /* budgetFleetAlone */ => checked(e.budget_fleet_alone(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        53 => return Err(not_in_module("budgetFleetAlone")),
        #[cfg(feature = "full")]
        54 /* hedgePolicyCreate */ => number = f64::from(checked(e.hedge_policy_create(s1, flag(0), a[1]))?),
        #[cfg(not(feature = "full"))]
        54 => return Err(not_in_module("hedgePolicyCreate")),
        #[cfg(feature = "full")]
        55 /* hedgePolicyDrop */ => number = f64::from(u8::from(e.hedge_policy_drop(h(0)))),
        #[cfg(not(feature = "full"))]
        55 => return Err(not_in_module("hedgePolicyDrop")),
        #[cfg(feature = "full")]
        56 /* hedgeIsRetryable */ => { let parsed = seawall_core::json::Json::parse(s1).ok(); let ids = ids(&parsed); number = f64::from(u8::from(e.hedge_is_retryable(h(0), &ids))) },
        #[cfg(not(feature = "full"))]
        56 => return Err(not_in_module("hedgeIsRetryable")),
        #[cfg(feature = "full")]
        57 /* hedgeStart */ => number = f64::from(checked(e.hedge_start(h(0), a[1]))?),
        #[cfg(not(feature = "full"))]
        57 => return Err(not_in_module("hedgeStart")),
        #[cfg(feature = "full")]
        58 /* hedgeStep */ => number = checked(e.hedge_step(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        58 => return Err(not_in_module("hedgeStep")),
        #[cfg(feature = "full")]
        59 /* hedgeSync */ => { let answered = crate::numbers(s1)?; checked(e.hedge_sync(h(0), h(1), h(2), a[3], &answered, a[4]))? },
        #[cfg(not(feature = "full"))]
        59 => return Err(not_in_module("hedgeSync")),
        #[cfg(feature = "full")]
        60 /* hedgeDelay */ => text = nums(&checked(e.hedge_delay(h(0), a[1]))?),
        #[cfg(not(feature = "full"))]
        60 => return Err(not_in_module("hedgeDelay")),
        #[cfg(feature = "full")]
        61 /* hedgeStartBegun */ => number = f64::from(checked(e.hedge_start_begun(h(0), a[1], a[2]))?),
        #[cfg(not(feature = "full"))]
        61 => return Err(not_in_module("hedgeStartBegun")),
        #[cfg(feature = "full")]
        62 /* hedgeSettle */ => number = checked(e.hedge_settle(h(0), h(1), h(2), a[3]))?,
        #[cfg(not(feature = "full"))]
        62 => return Err(not_in_module("hedgeSettle")),
        #[cfg(feature = "full")]
        63 /* hedgeEnd */ => number = f64::from(u8::from(e.hedge_end(h(0)))),
        #[cfg(not(feature = "full"))]
        63 => return Err(not_in_module("hedgeEnd")),
        #[cfg(feature = "full")]
        64 /* hedgeStats */ => text = checked(e.hedge_stats(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        64 => return Err(not_in_module("hedgeStats")),
        #[cfg(feature = "full")]
        65 /* adaptiveCreate */ => number = f64::from(checked(e.adaptive_create(s1, flag(0), a[1]))?),
        #[cfg(not(feature = "full"))]
        65 => return Err(not_in_module("adaptiveCreate")),
        #[cfg(feature = "full")]
        66 /* adaptiveDrop */ => number = f64::from(u8::from(e.adaptive_drop(h(0)))),
        #[cfg(not(feature = "full"))]
        66 => return Err(not_in_module("adaptiveDrop")),
        #[cfg(feature = "full")]
        67 /* adaptivePartition */ => number = e.adaptive_partition(h(0), s1),
        #[cfg(not(feature = "full"))]
        67 => return Err(not_in_module("adaptivePartition")),
        #[cfg(feature = "full")]
        68 /* adaptiveAcquire */ => number = e.adaptive_acquire(h(0), a[1], a[2]),
        #[cfg(not(feature = "full"))]
        68 => return Err(not_in_module("adaptiveAcquire")),
        #[cfg(feature = "full")]
        69 /* adaptiveRelease */ => checked(e.adaptive_release(h(0), a[1], h(2), a[3]))?,
        #[cfg(not(feature = "full"))]
        69 => return Err(not_in_module("adaptiveRelease")),
        #[cfg(feature = "full")]
        70 /* adaptiveStats */ => text = checked(e.adaptive_stats(h(0)))?,
        #[cfg(not(feature = "full"))]
        70 => return Err(not_in_module("adaptiveStats")),
        #[cfg(feature = "full")]
        71 /* adaptiveRetryAfter */ => number = e.adaptive_retry_after(h(0), a[1]),
        #[cfg(not(feature = "full"))]
        71 => return Err(not_in_module("adaptiveRetryAfter")),
        #[cfg(feature = "full")]
        72 /* adaptiveMessage */ => text = CoreEngine::adaptive_message(s1, a[0]),
        #[cfg(not(feature = "full"))]
        72 => return Err(not_in_module("adaptiveMessage")),
        #[cfg(feature = "full")]
        73 /* limitOutcome */ => number = f64::from(CoreEngine::limit_outcome(a[0])),
        #[cfg(not(feature = "full"))]
        73 => return Err(not_in_module("limitOutcome")),
        #[cfg(feature = "full")]
        74 /* shedAnswer */ => text = texts(&CoreEngine::shed_answer(flag(0).then_some(s1), a[1])),
        #[cfg(not(feature = "full"))]
        74 => return Err(not_in_module("shedAnswer")),
        #[cfg(feature = "full")]
        75 /* rateLimitCreate */ => number = f64::from(checked(e.rate_limit_create(s1, flag(0)))?),
        #[cfg(not(feature = "full"))]
        75 => return Err(not_in_module("rateLimitCreate")),
        #[cfg(feature = "full")]
        76 /* rateLimitDrop */ => number = f64::from(u8::from(e.rate_limit_drop(h(0)))),
        #[cfg(not(feature = "full"))]
        76 => return Err(not_in_module("rateLimitDrop")),
        #[cfg(feature = "full")]
        77 /* rateLimitCancel */ => number = f64::from(u8::from(e.rate_limit_cancel(h(0), a[1]))),
        #[cfg(not(feature = "full"))]
        77 => return Err(not_in_module("rateLimitCancel")),
        #[cfg(feature = "full")]
        78 /* rateLimitStats */ => text = checked(e.rate_limit_stats(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        78 => return Err(not_in_module("rateLimitStats")),
        #[cfg(feature = "full")]
        79 /* rateLimitFleetReport */ => text = checked(e.rate_limit_fleet_report(h(0), a[1]))?,
        #[cfg(not(feature = "full"))]
        79 => return Err(not_in_module("rateLimitFleetReport")),
        #[cfg(feature = "full")]
        80 /* rateLimitFleetSync */ => checked(e.rate_limit_fleet_sync(h(0), a[1], s1, a[2]))?,
        #[cfg(not(feature = "full"))]
        80 => return Err(not_in_module("rateLimitFleetSync")),
        #[cfg(feature = "full")]
        81 /* rateLimitFleetAlone */ => checked(e.rate_limit_fleet_alone(h(0)))?,
        #[cfg(not(feature = "full"))]
        81 => return Err(not_in_module("rateLimitFleetAlone")),
        #[cfg(feature = "fleet")]
        82 /* quotaSyncJoin */ => checked(e.quota_sync_join(s1, h(0), s2))?,
        #[cfg(feature = "fleet")]
        83 /* quotaSyncLeave */ => checked(e.quota_sync_leave(s1, h(0), a[1]))?,
        #[cfg(feature = "fleet")]
        84 /* quotaSyncNext */ => text = checked(e.quota_sync_next(s1, h(0), a[1]))?,
        #[cfg(feature = "fleet")]
        85 /* quotaSyncReply */ => checked(e.quota_sync_reply(s1, h(0), s2, a[1]))?,
        #[cfg(feature = "fleet")]
        86 /* quotaSyncFailed */ => checked(e.quota_sync_failed(s1, h(0), a[1]))?,
        #[cfg(feature = "fleet")]
        87 /* quotaSyncStatus */ => text = checked(e.quota_sync_status(s1, h(0)))?,
        #[cfg(feature = "full")]
        88 /* rateLimitMessage */ => text = CoreEngine::rate_limit_message(s1, a[0]),
        #[cfg(not(feature = "full"))]
        88 => return Err(not_in_module("rateLimitMessage")),
        #[cfg(feature = "full")]
        89 /* fleetStore */ => text = CoreEngine::fleet_store(s1, s2),
        #[cfg(not(feature = "full"))]
        89 => return Err(not_in_module("fleetStore")),
        #[cfg(feature = "full")]
        90 /* health */ => text = e.health(a[0]),
        #[cfg(not(feature = "full"))]
        90 => return Err(not_in_module("health")),
        #[cfg(feature = "full")]
        91 /* breakerHealth */ => text = e.breaker_health(a[0]),
        #[cfg(not(feature = "full"))]
        91 => return Err(not_in_module("breakerHealth")),
        92 /* breakerNames */ => text = texts(&e.breaker_names()),
        93 /* resetAll */ => e.reset_all(a[0]),
        94 /* clearRegistry */ => e.clear_registry(),
        95 /* recordRetryAttempt */ => e.record_retry_attempt(s1),
        96 /* recordTimeout */ => e.record_timeout(s1),
        #[cfg(feature = "full")]
        97 /* prometheus */ => text = e.prometheus(),
        #[cfg(not(feature = "full"))]
        97 => return Err(not_in_module("prometheus")),
        #[cfg(feature = "full")]
        98 /* gaugeSamples */ => text = e.gauge_samples(),
        #[cfg(not(feature = "full"))]
        98 => return Err(not_in_module("gaugeSamples")),
        99 /* errorCodes */ => text = texts(&CoreEngine::error_codes()),
        100 /* telemetryEvents */ => text = CoreEngine::telemetry_events(),
        #[cfg(feature = "full")]
        101 /* telemetryInstruments */ => text = CoreEngine::telemetry_instruments(),
        #[cfg(not(feature = "full"))]
        101 => return Err(not_in_module("telemetryInstruments")),
        102 /* stateNames */ => text = texts(&CoreEngine::state_names()),
        103 /* giveUpReasons */ => text = texts(&CoreEngine::give_up_reasons()),
        104 /* giveUpCodes */ => text = texts(&CoreEngine::give_up_codes()),
        105 /* defaultsJson */ => text = CoreEngine::defaults_json(),
        106 /* preapprovedPermit */ => number = CoreEngine::preapproved_permit(),
        107 /* unconditionalAdmits */ => text = flags(CoreEngine::unconditional_admits()),
        #[cfg(feature = "full")]
        108 /* presetPolicy */ => (number, text) = optional(CoreEngine::preset_policy(s1, flag(0))),
        #[cfg(not(feature = "full"))]
        108 => return Err(not_in_module("presetPolicy")),
        109 /* presetCircuit */ => (number, text) = optional(CoreEngine::preset_circuit(s1, flag(0))),
        #[cfg(feature = "full")]
        110 /* presetRetry */ => (number, text) = optional(CoreEngine::preset_retry(s1, a[0], a[1], a[2], flag(3))),
        #[cfg(not(feature = "full"))]
        110 => return Err(not_in_module("presetRetry")),
        111 /* validate */ => checked(CoreEngine::validate(s1, s2, flag(0)))?,
        112 /* deadline */ => number = CoreEngine::deadline(a[0], a[1], a[2]),
        113 /* classifyOutcome */ => text = checked(CoreEngine::classify_outcome(s1, a[0]))?,
        #[cfg(feature = "full")]
        114 /* hedgeable */ => number = f64::from(u8::from(CoreEngine::hedgeable(s1, flag(0)))),
        #[cfg(not(feature = "full"))]
        114 => return Err(not_in_module("hedgeable")),
        115 /* countStatus */ => number = f64::from(CoreEngine::count_status(a[0])),
        116 /* retryAfter */ => number = CoreEngine::retry_after(s1, a[0]),
        117 /* headerMs */ => number = CoreEngine::header_ms(s1),
        118 /* rngFloats */ => text = nums(&CoreEngine::rng_floats(a[0], h(1))),
        _ => return Err(wasm_bindgen::JsError::new("seawall: the wasm engine has no such operation").into()),
    }
    Ok((number, text))
}
