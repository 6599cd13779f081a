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

/// The operations reached through `call`, generated from the boundary's declaration (`bindings-shared`).
mod ops;

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

/// An operation of the parts the lean module leaves out (`ops`), named with what it serves.
#[cfg(not(feature = "full"))]
fn not_in_module(operation: &str) -> JsValue {
    let what = format!("{operation} (of rate limiters, retry budgets, health, Prometheus text, presets)");
    to_js(SeawallError::not_in_module(&what, seawall_core::error::IN_FULL))
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

/// A number list from its text (JavaScript's `join(',')` of finite numbers), read as a JSON
/// array by the core's reader (`str::parse` would pull the standard library's float parsing in).
#[cfg_attr(not(feature = "full"), allow(dead_code))]
fn numbers(text: &str) -> Result<Vec<f64>, JsValue> {
    let refused = || to_js(SeawallError::wrong_type("numbers", text, "a list of finite numbers"));
    match Json::parse(&format!("[{text}]")) {
        Ok(Json::Arr(items)) => items.iter().map(|x| x.as_f64().ok_or_else(refused)).collect(),
        _ => Err(refused()),
    }
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

/// The strings of a parsed JSON array (what is not a string is left out), borrowed from it.
fn ids(parsed: &Option<Json>) -> Vec<&str> {
    let mut ids = Vec::new();
    if let Some(Json::Arr(items)) = parsed {
        for item in items {
            if let Some(id) = item.as_str() {
                ids.push(id);
            }
        }
    }
    ids
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
        // The lean module has no rate limiter to acquire from (creating one failed already).
        #[cfg(not(feature = "full"))]
        let (wait, ticket) = {
            let _ = (handle, now);
            (f64::NAN, f64::NAN)
        };
        #[cfg(feature = "full")]
        let (wait, ticket) = self.inner.rate_limit_acquire(handle, at(now));
        self.out[0] = wait;
        self.out[1] = ticket;
        wait
    }

    #[wasm_bindgen(js_name = budgetRecordSuccess)]
    pub fn budget_record_success(&mut self, handle: u32, now: Option<f64>) {
        #[cfg(feature = "full")]
        self.inner.budget_record_success(handle, at(now));
        #[cfg(not(feature = "full"))]
        let _ = (handle, now);
    }

    /// Every other operation, by its row in the adapter's `CALLS` table (numbers, not names: a
    /// match on 78 names was 2.5 KB of this module), with the argument orders of the `Backend`
    /// interface: numbers from `args`, strings `s1` then `s2`. Answers text, and numbers or
    /// booleans (0/1) in `out[0]`; an optional text sets `out[0]` to 1 when present. The rows and
    /// the table are generated from one declaration (`ops.rs`, `ts/ops.ts`); every operation is
    /// checked against the napi backend by `test/backends.test.mjs`, and by the vectors in Chromium.
    pub fn call(&mut self, op: u32, s1: &str, s2: &str) -> Result<String, JsValue> {
        let (number, text) = ops::dispatch(&mut self.inner, op, *self.args, s1, s2)?;
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
