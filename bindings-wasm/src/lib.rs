//! The wasm-bindgen backend of the `seawall` npm package (browsers, and `seawall/wasm` in Node):
//! converts, never decides. Same API as the napi backend, over the same
//! [`seawall_core::Engine`]; the TypeScript shell sees one `Backend` interface.
//!
//! The surface is shaped for size: every export costs a wrapper here and a function in the JS
//! glue, so only the calls made per guarded call have their own (numbers in, a number out, second
//! answers in `out`: four f64 in wasm memory, `outPtr()`, read through a Float64Array view).
//! Every other operation goes through one export, [`Engine::call`]: its number, its numbers in
//! `args` (eight f64 beside `out`, `argsPtr()`), up to two strings; it answers a string and/or
//! `out[0]`. The JS adapter (`backend-wasm.ts`) holds the table of how each operation's
//! arguments and answer are laid out; an operation's number is its row in that table. Like the
//! native bindings, a hot call given no time (`undefined`) reads the host's clock, here
//! `performance.now()` (the adapter does the same for the others); any number, NaN included,
//! goes to the core as it is.

use seawall_core::error::{fmt_num, quote};
use seawall_core::json::Json;
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
    /// Hot-path second answers: [answer, second answer, events waiting, time used]; `call`'s
    /// number answer in `out[0]`.
    out: Box<[f64; 4]>,
    /// `call`'s number arguments, in the order the operation takes them.
    args: Box<[f64; 8]>,
}

/// A number list as text (`1,NaN,2.5`): JavaScript's `Number` reads every element back exactly.
fn nums(v: &[f64]) -> String {
    let mut text = String::new();
    for (i, &x) in v.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&fmt_num(x));
    }
    text
}

/// Booleans as a number list (`1,0,…`).
fn flags(v: Vec<bool>) -> String {
    let mut text = String::new();
    for (i, b) in v.into_iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push(if b { '1' } else { '0' });
    }
    text
}

/// An optional text: (1, the text) or (0, "").
fn optional(text: Option<String>) -> (f64, String) {
    (text.is_some() as u8 as f64, text.unwrap_or_default())
}

/// Strings as a JSON array.
fn texts<S: AsRef<str>>(v: &[S]) -> String {
    let mut text = String::from("[");
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&quote(s.as_ref()));
    }
    text.push(']');
    text
}

#[wasm_bindgen]
impl Engine {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Engine {
        Engine { inner: CoreEngine::new(), out: Box::new([0.0; 4]), args: Box::new([0.0; 8]) }
    }

    /// Address of the four `out` numbers in wasm memory (stable for the engine's life).
    #[wasm_bindgen(js_name = outPtr)]
    pub fn out_ptr(&self) -> usize {
        self.out.as_ptr() as usize
    }

    /// Address of the eight `args` numbers in wasm memory (stable for the engine's life).
    #[wasm_bindgen(js_name = argsPtr)]
    pub fn args_ptr(&self) -> usize {
        self.args.as_ptr() as usize
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

    /// The retry call's id; a bad policy handle answers -1 (the adapter raises the core's
    /// error through `call("retryStart")`, which answers it).
    #[wasm_bindgen(js_name = retryStart)]
    pub fn retry_start(&mut self, policy: u32, now: Option<f64>) -> f64 {
        self.inner.retry_start(policy, at(now)).map_or(-1.0, f64::from)
    }

    #[wasm_bindgen(js_name = retryEnd)]
    pub fn retry_end(&mut self, call: u32) -> bool {
        self.inner.retry_end(call)
    }

    /// [wait, ticket] in `out`; answers the wait.
    #[wasm_bindgen(js_name = rateLimitAcquire)]
    pub fn rate_limit_acquire(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let (wait, ticket) = self.inner.ratelimit_acquire(handle, at(now));
        self.out[0] = wait;
        self.out[1] = ticket;
        wait
    }

    #[wasm_bindgen(js_name = budgetRecordSuccess)]
    pub fn budget_record_success(&mut self, handle: u32, now: Option<f64>) {
        self.inner.budget_record_success(handle, at(now))
    }

    /// Every other operation, by its row in the adapter's `CALLS` table (numbers, not names: a
    /// match on 78 names was 2.5 KB of this module), with the argument orders of the `Backend`
    /// interface: numbers from `args`, strings `s1` then `s2`. Answers text, and numbers or
    /// booleans (0/1) in `out[0]`; an optional text sets `out[0]` to 1 when present. The rows'
    /// order is checked by `test/backends.test.mjs` (every operation against the napi backend)
    /// and by the vectors in Chromium.
    pub fn call(&mut self, op: u32, s1: &str, s2: &str) -> Result<String, JsValue> {
        let a = *self.args;
        let h = |i: usize| a[i] as u32;
        let flag = |i: usize| a[i] != 0.0;
        let e = &mut self.inner;
        let mut number = f64::NAN;
        let mut text = String::new();
        match op {
            0 /* breakerCreate */ => number = checked(e.breaker_create(s1, flag(0), flag(1).then_some(s2)))? as f64,
            1 /* breakerGetOrCreate */ => {
                let (handle, created) = checked(e.breaker_get_or_create(s1, s2, flag(0)))?;
                text = nums(&[handle as f64, created as u8 as f64]);
            }
            2 /* breakerLookup */ => number = e.breaker_lookup(s1).map_or(-1.0, f64::from),
            3 /* breakerName */ => (number, text) = optional(e.breaker_name(h(0))),
            4 /* breakerDrop */ => number = e.breaker_drop(h(0)) as u8 as f64,
            5 /* breakerEvents */ => text = e.breaker_events(h(0)),
            6 /* breakerInertSuccessStates */ => text = flags(e.breaker_inert_success_states(h(0))),
            7 /* breakerRecordSuccesses */ => number = e.breaker_record_successes(h(0), h(1), a[2]),
            8 /* breakerState */ => number = checked(e.breaker_state(h(0), a[1]))? as f64,
            9 /* breakerCurrentState */ => number = e.breaker_current_state(h(0)) as f64,
            10 /* breakerCommand */ => number = checked(e.breaker_command(h(0), s1, a[1]))? as f64,
            11 /* breakerFleetReport */ => text = checked(e.breaker_fleet_report(h(0), a[1]))?,
            12 /* breakerFleetSync */ => text = checked(e.breaker_fleet_sync(h(0), s1, a[1]))?,
            13 /* breakerProbeLease */ => number = e.breaker_probe_lease(h(0), a[1]),
            14 /* breakerRetryAfter */ => number = e.breaker_retry_after(h(0), a[1]),
            15 /* breakerNextTimeout */ => number = e.breaker_next_timeout(h(0)),
            16 /* rejectionMessage */ => text = CoreEngine::rejection_message(s1, a[0], a[1]),
            17 /* breakerStats */ => text = checked(e.breaker_stats(h(0), a[1]))?,
            18 /* breakerConfig */ => text = checked(e.breaker_config(h(0)))?,
            19 /* breakerSnapshot */ => text = checked(e.breaker_snapshot(h(0), a[1]))?,
            20 /* breakerRestore */ => checked(e.breaker_restore(h(0), s1, a[1]))?,
            21 /* bulkheadCreate */ => number = checked(e.bulkhead_create(s1, flag(0), flag(1).then_some(s2)))? as f64,
            22 /* bulkheadGetOrCreate */ => {
                let (handle, created) = checked(e.bulkhead_get_or_create(s1, s2, flag(0)))?;
                text = nums(&[handle as f64, created as u8 as f64]);
            }
            23 /* bulkheadLookup */ => number = e.bulkhead_lookup(s1).map_or(-1.0, f64::from),
            24 /* bulkheadDrop */ => number = e.bulkhead_drop(h(0)) as u8 as f64,
            25 /* bulkheadCancel */ => number = e.bulkhead_cancel(h(0), a[1]) as u8 as f64,
            26 /* bulkheadNextTimeout */ => number = e.bulkhead_next_timeout(h(0)),
            27 /* bulkheadExpire */ => text = nums(&e.bulkhead_expire(h(0), a[1])),
            28 /* bulkheadMetrics */ => text = checked(e.bulkhead_metrics(h(0)))?,
            29 /* retryPolicyCreate */ => number = checked(e.retry_policy_create(s1, flag(0), a[1]))? as f64,
            30 /* retryPolicyDrop */ => number = e.retry_policy_drop(h(0)) as u8 as f64,
            31 /* retryPolicyInfo */ => text = checked(e.retry_policy_info(h(0)))?,
            32 /* retryIsRetryable */ => {
                let parsed = Json::parse(s1).ok();
                let mut ids = Vec::new();
                if let Some(Json::Arr(items)) = &parsed {
                    for item in items {
                        if let Some(id) = item.as_str() {
                            ids.push(id);
                        }
                    }
                }
                number = e.retry_is_retryable(h(0), &ids) as u8 as f64;
            }
            33 /* retryStart */ => number = checked(e.retry_start(h(0), a[1]))? as f64,
            34 /* retryOnFailure */ => {
                let (v, attempt, stop) = checked(e.retry_on_failure(h(0), a[1], h(2), a[3], a[4]))?;
                text = nums(&[v, attempt as f64, stop as u8 as f64]);
            }
            35 /* backoffCreate */ => number = checked(e.backoff_create(s1, flag(0), a[1]))? as f64,
            36 /* backoffNext */ => number = e.backoff_next(h(0), h(1)),
            37 /* backoffRestart */ => e.backoff_restart(h(0)),
            38 /* backoffDrop */ => number = e.backoff_drop(h(0)) as u8 as f64,
            39 /* budgetCreate */ => number = checked(e.budget_create(s1, flag(0), a[1]))? as f64,
            40 /* budgetDrop */ => number = e.budget_drop(h(0)) as u8 as f64,
            41 /* budgetTryWithdraw */ => number = e.budget_try_withdraw(h(0), a[1]) as u8 as f64,
            42 /* budgetTokens */ => number = e.budget_tokens(h(0), a[1]),
            43 /* budgetStats */ => text = checked(e.budget_stats(h(0), a[1]))?,
            44 /* budgetFleetReport */ => text = checked(e.budget_fleet_report(h(0), a[1]))?,
            45 /* budgetFleetSync */ => checked(e.budget_fleet_sync(h(0), a[1], s1, a[2]))?,
            46 /* budgetFleetAlone */ => checked(e.budget_fleet_alone(h(0), a[1]))?,
            47 /* rateLimitCreate */ => number = checked(e.ratelimit_create(s1, flag(0)))? as f64,
            48 /* rateLimitDrop */ => number = e.ratelimit_drop(h(0)) as u8 as f64,
            49 /* rateLimitCancel */ => number = e.ratelimit_cancel(h(0), a[1]) as u8 as f64,
            50 /* rateLimitStats */ => text = checked(e.ratelimit_stats(h(0), a[1]))?,
            51 /* rateLimitFleetReport */ => text = checked(e.ratelimit_fleet_report(h(0), a[1]))?,
            52 /* rateLimitFleetSync */ => checked(e.ratelimit_fleet_sync(h(0), a[1], s1, a[2]))?,
            53 /* rateLimitFleetAlone */ => checked(e.ratelimit_fleet_alone(h(0)))?,
            54 /* rateLimitMessage */ => text = CoreEngine::ratelimit_refusal_message(s1, a[0]),
            55 /* fleetStore */ => text = CoreEngine::fleet_store(s1, s2),
            56 /* health */ => text = e.health(a[0]),
            57 /* breakerHealth */ => text = e.breaker_health(a[0]),
            58 /* breakerNames */ => text = texts(&e.breaker_names()),
            59 /* resetAll */ => e.reset_all(a[0]),
            60 /* clearRegistry */ => e.clear_registry(),
            61 /* recordRetryAttempt */ => e.record_retry_attempt(s1),
            62 /* recordTimeout */ => e.record_timeout(s1),
            63 /* prometheus */ => text = e.prometheus(),
            64 /* errorCodes */ => text = texts(&CoreEngine::error_codes()),
            65 /* stateNames */ => text = texts(&CoreEngine::state_names()),
            66 /* giveUpReasons */ => text = texts(&CoreEngine::give_up_reasons()),
            67 /* giveUpCodes */ => text = texts(&CoreEngine::give_up_codes()),
            68 /* defaultsJson */ => text = CoreEngine::defaults_json(),
            69 /* preapprovedPermit */ => number = CoreEngine::PREAPPROVED_PERMIT,
            70 /* unconditionalAdmits */ => text = flags(CoreEngine::unconditional_admits()),
            71 /* presetPolicy */ => (number, text) = optional(CoreEngine::preset_policy(s1, flag(0))),
            72 /* presetCircuit */ => (number, text) = optional(CoreEngine::preset_circuit(s1, flag(0))),
            73 /* presetRetry */ => (number, text) = optional(CoreEngine::preset_retry(s1, a[0], a[1], a[2], flag(3))),
            74 /* validate */ => checked(CoreEngine::validate(s1, s2, flag(0)))?,
            75 /* deadline */ => number = CoreEngine::deadline(a[0], a[1], a[2]),
            76 /* retryAfter */ => number = CoreEngine::retry_after(s1, a[0]),
            77 /* rngFloats */ => text = nums(&CoreEngine::rng_floats(a[0], h(1))),
            // The simulator is left out (it would add ~16 KB gzipped to every page): Node, Python
            // and `seawall-sim` run it.
            _ => return Err(JsError::new(&format!("seawall: the wasm engine has no operation {op}")).into()),
        }
        self.out[0] = number;
        Ok(text)
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

/// talc (binned free lists with coalescing, growing wasm memory as needed) in place of std's
/// dlmalloc: 6.6 KB raw and 2.7 KB gzipped less. Measured: the hot paths unchanged in the
/// Chromium page; cold operations that allocate much (make a breaker, read its stats, make and
/// drop a retry policy) 5–18% slower in Node; 300,000 soak calls on the wasm backend +2.7 MB RSS.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
