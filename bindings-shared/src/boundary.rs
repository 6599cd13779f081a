//! The boundary, declared once: every cold `seawall_core::Engine` operation that a binding
//! exposes, with its parameters and answer by kind. The napi functions, the pyo3 methods and
//! functions, the wasm dispatch, the TypeScript `Backend` methods with the wasm adapter's
//! `CALLS` table, and the `.pyi` stubs are generated from [`OPS`] (`render`); the generated files
//! are committed, and `tests/boundary.rs` fails when one is stale (`SEAWALL_BLESS=1` writes them).
//!
//! Each binding converts a kind its own way (a lookup that finds nothing is -1 in JavaScript and
//! `None` in Python; a pair is an array in JavaScript and a tuple in Python); no operation is
//! written by hand in more than one place. The hot paths (a breaker's acquire and record, a
//! bulkhead's acquire and release, each binding's clock) are written per binding, where each
//! crossing's cost is tuned, and are not in this table.

/// A parameter's kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Param {
    Str,
    /// A text or nothing (`null` / `None`).
    OptStr,
    Bool,
    F64,
    /// A handle or a count.
    U32,
    /// A time in ms; none given means "read the host clock" (the binding reads it in the same call).
    Now,
    /// A list of texts.
    Strs,
    /// A list of numbers.
    F64s,
}

/// An answer's kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Answer {
    Unit,
    F64,
    U32,
    /// A breaker state's code (u8 in the core).
    State,
    Bool,
    Str,
    OptStr,
    /// A registered handle, or none: -1 in JavaScript, `None` in Python.
    OptHandle,
    /// `(handle, created)`.
    HandleCreated,
    F64s,
    Bools,
    Strs,
    /// The core's constant names (`&'static str`).
    Names,
    /// `(value, attempt, from server)`: a retry's next step, see the engine's encoding.
    RetryStep,
    /// `(wait ms, ticket)`: a rate limiter's admission.
    WaitTicket,
}

/// One operation.
#[derive(Debug)]
pub struct Op {
    pub name: &'static str,
    /// An engine method (`true`) or a function of the core without an engine.
    pub method: bool,
    /// A function of the simulator's crate (on top of the core), not of the core.
    pub simulator: bool,
    pub params: &'static [(&'static str, Param)],
    pub answer: Answer,
    /// Answers the core's `Result` (its error crosses as the binding's typed error).
    pub fallible: bool,
    /// Where it is exposed: `napi`, `python`, and in the wasm module either `wasm` (through its
    /// one `call` export; the row is its place among these) or `direct` (an export of its own,
    /// written in the wasm binding). An operation in neither is absent from the browser build;
    /// `full` keeps a `wasm` one out of the browser's lean module (in `seawall/full`'s and
    /// Node's), `fleet` out of both browser modules (only Node's has it).
    pub targets: &'static [&'static str],
    pub doc: &'static str,
}

impl Op {
    pub fn napi(&self) -> bool {
        self.targets.contains(&"napi")
    }

    pub fn python(&self) -> bool {
        self.targets.contains(&"python")
    }

    pub fn wasm(&self) -> bool {
        self.targets.contains(&"wasm")
    }

    /// In every backend of the TypeScript shell (through `call` or an export of its own).
    pub fn everywhere_in_js(&self) -> bool {
        self.napi() && (self.wasm() || self.targets.contains(&"direct"))
    }
}

macro_rules! ops {
    ($( $(#[doc = $doc:literal])* [$($target:ident)*] $recv:ident $name:ident ( $($p:ident : $t:ident),* ) -> $res:ident $ret:ident ; )*) => {
        /// Every cold operation, in the wasm rows' order.
        pub const OPS: &[Op] = &[ $( Op {
            name: stringify!($name),
            method: ops!(@recv $recv),
            simulator: ops!(@simulator $recv),
            params: &[$((stringify!($p), Param::$t)),*],
            answer: Answer::$ret,
            fallible: ops!(@res $res),
            targets: &[$(stringify!($target)),*],
            doc: concat!($($doc, "\n"),*),
        } ),* ];
    };
    (@recv method) => { true };
    (@recv free) => { false };
    (@recv simulator) => { false };
    (@simulator simulator) => { true };
    (@simulator $other:ident) => { false };
    (@res plain) => { false };
    (@res fallible) => { true };
}

ops! {
    // breakers
    [napi python wasm] method breaker_create(options_json: Str, seconds: Bool, name: OptStr) -> fallible U32;
    [napi python wasm] method breaker_get_or_create(name: Str, options_json: Str, seconds: Bool) -> fallible HandleCreated;
    /// The handle of the registered breaker `name`.
    [napi python wasm] method breaker_lookup(name: Str) -> plain OptHandle;
    [napi python wasm] method breaker_name(handle: U32) -> plain OptStr;
    [napi python wasm] method breaker_drop(handle: U32) -> plain Bool;
    [napi python wasm] method breaker_events(handle: U32) -> plain Str;
    /// Per state code: may the shell count successes itself in that state?
    [napi python wasm] method breaker_inert_success_states(handle: U32) -> plain Bools;
    [napi wasm] method breaker_record_successes(handle: U32, count: U32, now: Now) -> plain F64;
    [python] method breaker_has_events(handle: U32) -> plain Bool;
    [napi python wasm] method breaker_state(handle: U32, now: Now) -> fallible State;
    [napi python wasm] method breaker_current_state(handle: U32) -> plain State;
    [napi python wasm] method breaker_command(handle: U32, command: Str, now: Now) -> fallible State;
    /// The fleet's sync: this replica's report.
    [napi python wasm full] method breaker_fleet_report(handle: U32, now: Now) -> fallible Str;
    /// The fleet's sync: the replicas' reports in, the tally out.
    [napi python wasm full] method breaker_fleet_sync(handle: U32, reports_json: Str, now: Now) -> fallible Str;
    /// The fleet's sync: the probe lease to take (its ms), or NaN.
    [napi python wasm full] method breaker_probe_lease(handle: U32, now: Now) -> plain F64;
    /// A fleet breaker's sync with its store (core/src/fleet_sync.rs): starts it, as the replica
    /// `replica`, on the keys under `prefix`.
    [napi python wasm fleet] method breaker_sync_join(handle: U32, prefix: Str, replica: Str) -> fallible Unit;
    /// Stops it (the breaker then decides alone); whether one ran.
    [napi python wasm fleet] method breaker_sync_leave(handle: U32) -> plain Bool;
    /// The next command of the round (JSON: `{"eval", "keys", "args"}` or `{"set", "value", "px"}`),
    /// or "" when the round is over.
    [napi python wasm fleet] method breaker_sync_next(handle: U32, now: Now) -> fallible Str;
    /// Redis's reply to the last command, as JSON.
    [napi python wasm fleet] method breaker_sync_reply(handle: U32, reply_json: Str, now: Now) -> fallible Unit;
    /// The round failed (an error, or no answer by its deadline).
    [napi python wasm fleet] method breaker_sync_failed(handle: U32, now: Now) -> fallible Unit;
    /// Whether the breaker has news for the fleet: a round should run now.
    [napi python wasm fleet] method breaker_sync_wanted(handle: U32) -> plain Bool;
    /// `{"mode": "shared"|"local", "replicas", "fresh", "syncs", "failedSyncs"}`.
    [napi python wasm fleet] method breaker_sync_status(handle: U32) -> fallible Str;
    [napi python wasm] method breaker_retry_after(handle: U32, now: Now) -> plain F64;
    [napi python wasm] method breaker_next_timeout(handle: U32) -> plain F64;
    [napi python wasm] free rejection_message(name: Str, code: F64, retry_after_ms: F64) -> plain Str;
    [napi python wasm] method breaker_stats(handle: U32, now: Now) -> fallible Str;
    [napi python wasm] method breaker_config(handle: U32) -> fallible Str;
    [napi python wasm] method breaker_snapshot(handle: U32, now: Now) -> fallible Str;
    [napi python wasm] method breaker_restore(handle: U32, snapshot_json: Str, now: Now) -> fallible Unit;

    // bulkheads
    [napi python wasm] method bulkhead_create(options_json: Str, seconds: Bool, name: OptStr) -> fallible U32;
    [napi python wasm] method bulkhead_get_or_create(name: Str, options_json: Str, seconds: Bool) -> fallible HandleCreated;
    /// The handle of the registered bulkhead `name`.
    [napi python wasm] method bulkhead_lookup(name: Str) -> plain OptHandle;
    [napi python wasm] method bulkhead_drop(handle: U32) -> plain Bool;
    [napi python wasm] method bulkhead_cancel(handle: U32, ticket: F64) -> plain Bool;
    [napi python wasm] method bulkhead_next_timeout(handle: U32) -> plain F64;
    [napi python wasm] method bulkhead_expire(handle: U32, now: Now) -> plain F64s;
    [napi python wasm] method bulkhead_metrics(handle: U32) -> fallible Str;

    // retries and budgets
    [napi python wasm] method retry_policy_create(options_json: Str, seconds: Bool, seed: F64) -> fallible U32;
    [napi python wasm] method retry_policy_drop(handle: U32) -> plain Bool;
    [napi python wasm] method retry_policy_info(handle: U32) -> fallible Str;
    [napi python wasm] method retry_is_retryable(handle: U32, ids: Strs) -> plain Bool;
    [napi python wasm] method retry_start(policy: U32, now: Now) -> fallible U32;
    /// A failed attempt: the next step, see the engine's encoding.
    [napi python wasm] method retry_on_failure(call: U32, now: Now, failure_class: U32, retry_after_ms: F64, budget: F64) -> fallible RetryStep;
    [napi python direct] method retry_end(call: U32) -> plain Bool;
    [napi python wasm] method backoff_create(options_json: Str, seconds: Bool, seed: F64) -> fallible U32;
    [napi python wasm] method backoff_next(handle: U32, retry: U32) -> plain F64;
    [napi python wasm] method backoff_restart(handle: U32) -> plain Unit;
    [napi python wasm] method backoff_drop(handle: U32) -> plain Bool;
    [napi python wasm full] method budget_create(options_json: Str, seconds: Bool, now: Now) -> fallible U32;
    [napi python wasm full] method budget_drop(handle: U32) -> plain Bool;
    [napi python direct] method budget_record_success(handle: U32, now: Now) -> plain Unit;
    [napi python wasm full] method budget_try_withdraw(handle: U32, now: Now) -> plain Bool;
    [napi python wasm full] method budget_tokens(handle: U32, now: Now) -> plain F64;
    [napi python wasm full] method budget_stats(handle: U32, now: Now) -> fallible Str;
    [napi python wasm full] method budget_fleet_report(handle: U32, now: Now) -> fallible Str;
    [napi python wasm full] method budget_fleet_sync(handle: U32, granted: F64, reports_json: Str, now: Now) -> fallible Unit;
    [napi python wasm full] method budget_fleet_alone(handle: U32, now: Now) -> fallible Unit;

    // hedging
    [napi python wasm full] method hedge_policy_create(options_json: Str, seconds: Bool, now: Now) -> fallible U32;
    [napi python wasm full] method hedge_policy_drop(handle: U32) -> plain Bool;
    /// Whether an error with these identifiers may be followed by another attempt.
    [napi python wasm full] method hedge_is_retryable(handle: U32, ids: Strs) -> plain Bool;
    /// A call: its attempt 0 is running; the call's handle.
    [napi python wasm full] method hedge_start(policy: U32, now: Now) -> fallible U32;
    /// The call's next step, see the engine's encoding.
    [napi python wasm full] method hedge_step(call: U32, now: Now) -> fallible F64;
    /// Calls begun without a machine, handed over: `begun` since the last sync; of those answered,
    /// `in_time` before their deadlines (times unread) and `answered` the others' `(started,
    /// ended)` pairs, each having waited `delay`.
    [napi python wasm full] method hedge_sync(policy: U32, begun: U32, in_time: U32, delay: F64, answered: F64s, now: Now) -> fallible Unit;
    /// For calls begun without a machine from now: `[delay, until, wake, timed]` (`timed`: 1
    /// when answered calls' times are needed).
    [napi python wasm full] method hedge_delay(policy: U32, now: Now) -> fallible F64s;
    /// The machine of a call begun at `started`, waiting `delay`: its primary is running.
    [napi python wasm full] method hedge_start_begun(policy: U32, started: F64, delay: F64) -> fallible U32;
    /// Attempt `attempt` settled (`outcome`: 0 success, 1 failure, 2 fatal, 3 cancelled): the next step.
    [napi python wasm full] method hedge_settle(call: U32, attempt: U32, outcome: U32, now: Now) -> fallible F64;
    /// The caller gave up on the call: frees it.
    [napi python wasm full] method hedge_end(call: U32) -> plain Bool;
    [napi python wasm full] method hedge_stats(handle: U32, now: Now) -> fallible Str;

    // adaptive concurrency limits
    [napi python wasm full] method adaptive_create(options_json: Str, seconds: Bool, seed: F64) -> fallible U32;
    [napi python wasm full] method adaptive_drop(handle: U32) -> plain Bool;
    /// The index of a partition by name, or -1.
    [napi python wasm full] method adaptive_partition(handle: U32, name: Str) -> plain F64;
    /// A call admitted (its permit, ≥ 0) or refused (-1); `partition` an index or -1.
    [napi python wasm full] method adaptive_acquire(handle: U32, partition: F64, now: Now) -> plain F64;
    /// A call ended (`outcome`: 0 success, 1 dropped, 2 ignored).
    [napi python wasm full] method adaptive_release(handle: U32, permit: F64, outcome: U32, now: Now) -> fallible Unit;
    [napi python wasm full] method adaptive_stats(handle: U32) -> fallible Str;
    /// When a shed caller should come back, ms.
    [napi python wasm full] method adaptive_retry_after(handle: U32, now: Now) -> plain F64;
    [napi python wasm full] free adaptive_message(name: Str, retry_after_ms: F64) -> plain Str;
    /// What a response's status means for an adaptive limit: 0 success, 1 dropped, 2 ignored.
    [napi python wasm full] free limit_outcome(status: F64) -> plain U32;
    /// What a service answers a request it sheds, besides its 503: `[Retry-After, JSON body]`;
    /// `name`: the limit that shed it (none: a queue that was full or held it too long).
    [napi python wasm full] free shed_answer(name: OptStr, retry_after_ms: F64) -> plain Strs;

    // rate limiters
    [napi python wasm full] method rate_limit_create(options_json: Str, seconds: Bool) -> fallible U32;
    [napi python wasm full] method rate_limit_drop(handle: U32) -> plain Bool;
    /// `[wait ms (0: now; negative: refused, minus the ms until a place is free), ticket to give
    /// a reserved place back (NaN: none)]`.
    [napi python direct] method rate_limit_acquire(handle: U32, now: Now) -> plain WaitTicket;
    [napi python wasm full] method rate_limit_cancel(handle: U32, ticket: F64) -> plain Bool;
    [napi python wasm full] method rate_limit_stats(handle: U32, now: Now) -> fallible Str;
    /// Fleet mode: this replica's `{demand, want}`.
    [napi python wasm full] method rate_limit_fleet_report(handle: U32, now: Now) -> fallible Str;
    /// Fleet mode: the store's grant and the others' reports.
    [napi python wasm full] method rate_limit_fleet_sync(handle: U32, granted: F64, reports_json: Str, now: Now) -> fallible Unit;
    /// Fleet mode: the store is lost.
    [napi python wasm full] method rate_limit_fleet_alone(handle: U32) -> fallible Unit;
    /// A rate limiter's or retry budget's (`kind`: `rateLimit`, `budget`) quota sync with its
    /// store (core/src/fleet_sync.rs): starts it; `store` is `{"prefix", "name", "replica"}`.
    [napi python wasm fleet] method quota_sync_join(kind: Str, handle: U32, store: Str) -> fallible Unit;
    /// Stops it: the policy then runs on an equal part, as when the store is lost.
    [napi python wasm fleet] method quota_sync_leave(kind: Str, handle: U32, now: Now) -> fallible Unit;
    /// The round's command (JSON: `{"eval": "quota", "keys", "args"}`), or "" when it is over.
    [napi python wasm fleet] method quota_sync_next(kind: Str, handle: U32, now: Now) -> fallible Str;
    /// Redis's reply to the round's command, as JSON.
    [napi python wasm fleet] method quota_sync_reply(kind: Str, handle: U32, reply_json: Str, now: Now) -> fallible Unit;
    /// The round failed (an error, or no answer by its deadline).
    [napi python wasm fleet] method quota_sync_failed(kind: Str, handle: U32, now: Now) -> fallible Unit;
    /// `{"syncs", "failedSyncs"}`.
    [napi python wasm fleet] method quota_sync_status(kind: Str, handle: U32) -> fallible Str;
    [napi python wasm full] free rate_limit_message(name: Str, retry_after_ms: F64) -> plain Str;
    /// A fleet's Redis keys and scripts: `{keys: {reports, marks, lease, quota}, scripts: {sync, mark, release, quota}}`.
    [napi python wasm full] free fleet_store(prefix: Str, name: Str) -> plain Str;

    // registry, health, metrics
    [napi python wasm full] method health(now: Now) -> plain Str;
    [napi python wasm full] method breaker_health(now: Now) -> plain Str;
    [napi python wasm] method breaker_names() -> plain Strs;
    [napi python wasm] method reset_all(now: Now) -> plain Unit;
    [napi python wasm] method clear_registry() -> plain Unit;
    [napi python wasm] method record_retry_attempt(name: Str) -> plain Unit;
    [napi python wasm] method record_timeout(name: Str) -> plain Unit;
    [napi python wasm full] method prometheus() -> plain Str;
    /// The registry's gauges for the observed OpenTelemetry instruments: `[[family, name, label, value]]`.
    [napi python wasm full] method gauge_samples() -> plain Str;

    // constants
    [napi python wasm] free error_codes() -> plain Names;
    /// What the shells report as Seawall decides (core/src/telemetry.rs), as JSON.
    [napi python wasm] free telemetry_events() -> plain Str;
    /// The OpenTelemetry instruments those reports feed (core/src/telemetry.rs), as JSON.
    [napi python wasm full] free telemetry_instruments() -> plain Str;
    [napi python wasm] free state_names() -> plain Names;
    [napi python wasm] free give_up_reasons() -> plain Names;
    [napi python wasm] free give_up_codes() -> plain Names;
    [napi python wasm] free defaults_json() -> plain Str;
    [napi wasm] free preapproved_permit() -> plain F64;
    [napi wasm] free unconditional_admits() -> plain Bools;

    // presets, validation, misc
    [napi python wasm full] free preset_policy(name: Str, python: Bool) -> plain OptStr;
    [napi python wasm] free preset_circuit(name: Str, python: Bool) -> plain OptStr;
    [napi python wasm full] free preset_retry(kind: Str, a: F64, b: F64, c: F64, python: Bool) -> plain OptStr;
    [napi python wasm] free validate(kind: Str, options_json: Str, seconds: Bool) -> fallible Unit;
    [napi python wasm] free deadline(now: F64, timeout_ms: F64, outer: F64) -> plain F64;
    /// What an attempt's outcome means for retries and breakers (core/src/outcome.rs): the
    /// outcome as JSON in, `{"decision", "retryAfterMs", "count", "attempt"}` out.
    [napi python wasm] free classify_outcome(outcome_json: Str, now_epoch_ms: F64) -> fallible Str;
    /// Whether a request of `method` may be hedged (`forced`: any method).
    [napi python wasm full] free hedgeable(method: Str, forced: Bool) -> plain Bool;
    /// How a breaker counts an HTTP response of `status`: 0 success, 1 failure, 2 ignored.
    [napi python wasm] free count_status(status: F64) -> plain U32;
    /// A Retry-After header as ms from `now_epoch_ms`; NaN when unreadable.
    [napi python wasm] free retry_after(value: Str, now_epoch_ms: F64) -> plain F64;
    /// A header giving milliseconds (`retry-after-ms`, a client's `x-request-timeout`); NaN
    /// when unreadable.
    [napi python wasm] free header_ms(value: Str) -> plain F64;
    [napi python wasm] free rng_floats(seed: F64, count: U32) -> plain F64s;
    /// The simulator over a scenario (JSON text); answers JSON text. Absent from the browser
    /// (wasm) build, which leaves the simulator out for size; Python's releases the GIL.
    [napi] simulator simulate(scenario_json: Str) -> fallible Str;
}

/// Constants of the core's answers that the shells read (TypeScript constants, Python module
/// attributes): name, doc, value.
pub const CONSTANTS: &[(&str, &str, f64)] = &[(
    "EVENTS_WAITING",
    "Added to a breaker's state answer when state changes wait: the state is the answer less this, when the answer is at least this.",
    seawall_core::Engine::EVENTS_WAITING,
), (
    "HEDGE_BATCH",
    "A hedging policy's calls begun without a machine are handed over (`hedgeSync`) at the latest when this many have answered.",
    seawall_core::hedge::BATCH as f64,
)];

// ---- rendering -------------------------------------------------------------------------------

const HEADER: &str = "Generated from bindings-shared/src/boundary.rs by its tests (SEAWALL_BLESS=1 cargo test -p seawall-bindings-shared); do not edit.";

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Doc comment lines (each as written after `///`, its first space dropped) behind `marker`.
fn doc_lines(doc: &str, indent: &str, marker: &str) -> String {
    doc.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).map(|l| format!("{indent}{marker}{}{l}\n", if l.is_empty() { "" } else { " " })).collect()
}

/// A Rust value of an answer kind converted for napi: (its type, the expression over `v`).
fn napi_answer(a: Answer) -> (&'static str, &'static str) {
    match a {
        Answer::Unit => ("()", "v"),
        Answer::F64 => ("f64", "v"),
        Answer::U32 => ("u32", "v"),
        Answer::State => ("u32", "u32::from(v)"),
        Answer::Bool => ("bool", "v"),
        Answer::Str => ("String", "v"),
        Answer::OptStr => ("Option<String>", "v"),
        Answer::OptHandle => ("i64", "v.map_or(-1, i64::from)"),
        Answer::HandleCreated => ("Vec<u32>", "vec![v.0, u32::from(v.1)]"),
        Answer::F64s => ("Vec<f64>", "v"),
        Answer::Bools => ("Vec<bool>", "v"),
        Answer::Strs => ("Vec<String>", "v"),
        Answer::Names => ("Vec<&'static str>", "v"),
        Answer::RetryStep => ("Vec<f64>", "vec![v.0, f64::from(v.1), f64::from(u8::from(v.2))]"),
        Answer::WaitTicket => ("Vec<f64>", "vec![v.0, v.1]"),
    }
}

fn python_answer(a: Answer) -> &'static str {
    match a {
        Answer::Unit => "()",
        Answer::F64 => "f64",
        Answer::U32 => "u32",
        Answer::State => "u8",
        Answer::Bool => "bool",
        Answer::Str => "String",
        Answer::OptStr => "Option<String>",
        Answer::OptHandle => "Option<u32>",
        Answer::HandleCreated => "(u32, bool)",
        Answer::F64s => "Vec<f64>",
        Answer::Bools => "Vec<bool>",
        Answer::Strs => "Vec<String>",
        Answer::Names => "Vec<&'static str>",
        Answer::RetryStep => "(f64, u32, bool)",
        Answer::WaitTicket => "(f64, f64)",
    }
}

/// The call of the core, given the arguments' expressions.
fn core_call(op: &Op, receiver: &str, args: &[String]) -> String {
    let args = args.join(", ");
    if op.method {
        format!("{receiver}.{}({args})", op.name)
    } else if op.simulator {
        format!("seawall_simulator::{}({args})", op.name)
    } else {
        format!("CoreEngine::{}({args})", op.name)
    }
}

/// Wraps a call: `checked` for a fallible one, then the answer's conversion (over `v`).
fn converted(op: &Op, call: String, conversion: &str) -> String {
    match (op.fallible, conversion) {
        (false, "v") => call,
        (false, c) => format!("let v = {call};\n    {c}"),
        (true, "v") => format!("checked({call})"),
        // A conversion that is a function of `v` alone is passed as that function.
        (true, c) => match c.strip_suffix("(v)") {
            Some(f) if !f.contains(['(', ' ']) => format!("checked({call}).map({f})"),
            _ => format!("checked({call}).map(|v| {c})"),
        },
    }
}

/// `bindings-node/src/ops.rs`: a `#[napi]` function per operation.
pub fn napi() -> String {
    let mut out = format!("//! The cold operations of the napi backend. {HEADER}\n\nuse napi::bindgen_prelude::*;\nuse napi_derive::napi;\nuse seawall_bindings_shared::now_or_host as now_or_native;\nuse seawall_core::Engine as CoreEngine;\n\nuse crate::{{checked, with_engine}};\n");
    for op in OPS.iter().filter(|o| o.napi()) {
        let mut params = Vec::new();
        let mut args = Vec::new();
        let mut prelude = String::new();
        for &(p, kind) in op.params {
            let (ty, arg) = match kind {
                Param::Str => ("String", format!("&{p}")),
                Param::OptStr => ("Option<String>", format!("{p}.as_deref()")),
                Param::Bool => ("bool", p.to_string()),
                Param::F64 => ("f64", p.to_string()),
                Param::U32 => ("u32", p.to_string()),
                Param::Now => ("Option<f64>", format!("now_or_native({p})")),
                Param::Strs => {
                    prelude.push_str(&format!("    let {p}: Vec<&str> = {p}.iter().map(String::as_str).collect();\n"));
                    ("Vec<String>", format!("&{p}"))
                }
                // A typed array: read in place (a JavaScript array's numbers cost a crossing each).
                Param::F64s => ("Float64Array", format!("&{p}")),
            };
            params.push(format!("{p}: {ty}"));
            args.push(arg);
        }
        let (ty, conversion) = napi_answer(op.answer);
        let call = core_call(op, "e", &args);
        let call = if op.method { format!("with_engine(|e| {call})") } else { call };
        let ret = match (op.fallible, ty) {
            (true, t) => format!(" -> Result<{t}>"),
            (false, "()") => String::new(),
            (false, t) => format!(" -> {t}"),
        };
        out.push('\n');
        out.push_str(&doc_lines(op.doc, "", "///"));
        out.push_str(&format!("#[napi]\npub fn {}({}){ret} {{\n{prelude}    {}\n}}\n", op.name, params.join(", "), converted(op, call, conversion)));
    }
    out
}

/// `bindings-python/src/ops.rs`: the engine's methods (one more `#[pymethods]` block) and the
/// module's functions, with `register` to add the functions.
pub fn python() -> String {
    let mut methods = String::new();
    let mut functions = String::new();
    let mut register = String::new();
    for op in OPS.iter().filter(|o| o.python()) {
        let mut params = Vec::new();
        let mut names = Vec::new();
        let mut args = Vec::new();
        let mut prelude = String::new();
        for &(p, kind) in op.params {
            let (ty, arg) = match kind {
                Param::Str => ("&str", p.to_string()),
                Param::OptStr => ("Option<&str>", p.to_string()),
                Param::Bool => ("bool", p.to_string()),
                Param::F64 => ("f64", p.to_string()),
                Param::U32 => ("u32", p.to_string()),
                Param::Now => {
                    prelude.push_str(&format!("        let {p} = self.at({p});\n"));
                    ("Option<f64>", p.to_string())
                }
                Param::Strs => {
                    prelude.push_str(&format!("        let {p}: Vec<&str> = {p}.iter().map(String::as_str).collect();\n"));
                    ("Vec<String>", format!("&{p}"))
                }
                Param::F64s => ("Vec<f64>", format!("&{p}")),
            };
            params.push(format!("{p}: {ty}"));
            names.push(if kind == Param::OptStr && op.params.last().map(|l| l.0) == Some(p) { format!("{p}=None") } else { p.to_string() });
            args.push(arg);
        }
        let ty = python_answer(op.answer);
        let body = if op.fallible { format!("checked({})", core_call(op, "self.inner", &args)) } else { core_call(op, "self.inner", &args) };
        let ret = match (op.fallible, ty) {
            (true, t) => format!(" -> PyResult<{t}>"),
            (false, "()") => String::new(),
            (false, t) => format!(" -> {t}"),
        };
        let signature = if names.last().is_some_and(|n| n.ends_with("=None")) { format!("    #[pyo3(signature = ({}))]\n", names.join(", ")) } else { String::new() };
        let docs = doc_lines(op.doc, "    ", "///");
        if op.method {
            let recv = if params.is_empty() { "&mut self".to_string() } else { format!("&mut self, {}", params.join(", ")) };
            methods.push_str(&format!("\n{docs}{signature}    fn {}({recv}){ret} {{\n{prelude}        {body}\n    }}\n", op.name));
        } else {
            let docs = doc_lines(op.doc, "", "///");
            let signature = signature.trim_start();
            let prelude = prelude.replace("        ", "    ");
            functions.push_str(&format!("\n{docs}#[pyfunction]\n{signature}pub fn {}({}){ret} {{\n{prelude}    {body}\n}}\n", op.name, params.join(", ")));
            register.push_str(&format!("    m.add_function(wrap_pyfunction!({}, m)?)?;\n", op.name));
        }
    }
    for (name, _, value) in CONSTANTS {
        register.push_str(&format!("    m.add(\"{name}\", {value:?})?;\n"));
    }
    format!(
        "//! The cold operations of the pyo3 backend. {HEADER}\n\nuse pyo3::prelude::*;\nuse seawall_core::Engine as CoreEngine;\n\nuse crate::{{checked, Engine}};\n\n#[pymethods]\nimpl Engine {{{methods}}}\n{functions}\n/// Adds the module's functions.\npub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {{\n{register}    Ok(())\n}}\n"
    )
}

/// `bindings-wasm/src/ops.rs`: `call`'s dispatch, an operation by its row.
pub fn wasm() -> String {
    let mut arms = String::new();
    for (row, op) in OPS.iter().filter(|o| o.wasm()).enumerate() {
        let mut n = 0;
        let mut s = 0;
        let mut args = Vec::new();
        let mut prelude = String::new();
        let next_str = |s: &mut usize| {
            *s += 1;
            if *s == 1 { "s1" } else { "s2" }
        };
        for &(p, kind) in op.params {
            let arg = match kind {
                Param::Str => next_str(&mut s).to_string(),
                Param::OptStr => {
                    n += 1;
                    format!("flag({}).then_some({})", n - 1, next_str(&mut s))
                }
                Param::Bool => {
                    n += 1;
                    format!("flag({})", n - 1)
                }
                Param::U32 => {
                    n += 1;
                    format!("h({})", n - 1)
                }
                Param::F64 | Param::Now => {
                    n += 1;
                    format!("a[{}]", n - 1)
                }
                Param::Strs => {
                    let from = next_str(&mut s);
                    prelude.push_str(&format!("let parsed = seawall_core::json::Json::parse({from}).ok(); let {p} = ids(&parsed); "));
                    format!("&{p}")
                }
                Param::F64s => {
                    let from = next_str(&mut s);
                    prelude.push_str(&format!("let {p} = crate::numbers({from})?; "));
                    format!("&{p}")
                }
            };
            args.push(arg);
        }
        let call = core_call(op, "e", &args);
        let call = if op.fallible { format!("checked({call})?") } else { call };
        let answer = match op.answer {
            Answer::Unit => call,
            Answer::F64 => format!("number = {call}"),
            Answer::U32 | Answer::State => format!("number = f64::from({call})"),
            Answer::Bool => format!("number = f64::from(u8::from({call}))"),
            Answer::Str => format!("text = {call}"),
            Answer::OptStr => format!("(number, text) = optional({call})"),
            Answer::OptHandle => format!("number = {call}.map_or(-1.0, f64::from)"),
            Answer::HandleCreated => format!("{{ let (h, created) = {call}; text = nums(&[f64::from(h), f64::from(u8::from(created))]) }}"),
            Answer::F64s => format!("text = nums(&{call})"),
            Answer::Bools => format!("text = flags({call})"),
            Answer::Strs | Answer::Names => format!("text = texts(&{call})"),
            Answer::RetryStep => format!("{{ let (v, attempt, server) = {call}; text = nums(&[v, f64::from(attempt), f64::from(u8::from(server))]) }}"),
            Answer::WaitTicket => unreachable!("rate_limit_acquire is a direct export"),
        };
        let body = if prelude.is_empty() { answer } else { format!("{{ {prelude}{answer} }}") };
        // The fleet's sync drivers: only in the module Node's wasm fallback loads (browsers
        // never reach Redis); the browsers' answer "no such operation". The `full` parts: left
        // out of the lean module, which names the entry that has them.
        let name = camel(op.name);
        if op.targets.contains(&"fleet") {
            arms.push_str(&format!("        #[cfg(feature = \"fleet\")]\n        {row} /* {name} */ => {body},\n"));
        } else if op.targets.contains(&"full") {
            arms.push_str(&format!("        #[cfg(feature = \"full\")]\n        {row} /* {name} */ => {body},\n"));
            arms.push_str(&format!("        #[cfg(not(feature = \"full\"))]\n        {row} => return Err(not_in_module(\"{name}\")),\n"));
        } else {
            arms.push_str(&format!("        {row} /* {name} */ => {body},\n"));
        }
    }
    format!(
        "//! The wasm module's `call` dispatch: an operation by its row (its place in the adapter's `CALLS`). {HEADER}\n\nuse seawall_core::Engine as CoreEngine;\nuse wasm_bindgen::JsValue;\n\nuse crate::{{checked, flags, ids, nums, optional, texts}};\n#[cfg(not(feature = \"full\"))]\nuse crate::not_in_module;\n\n/// Runs operation `op` with the numbers `a` and the texts `s1`, `s2`: its number answer (NaN\n/// if none) and its text answer.\npub fn dispatch(e: &mut CoreEngine, op: u32, a: [f64; 8], s1: &str, s2: &str) -> Result<(f64, String), JsValue> {{\n    let h = |i: usize| a[i] as u32;\n    let flag = |i: usize| a[i] != 0.0;\n    let mut number = f64::NAN;\n    let mut text = String::new();\n    match op {{\n{arms}        _ => return Err(wasm_bindgen::JsError::new(\"seawall: the wasm engine has no such operation\").into()),\n    }}\n    Ok((number, text))\n}}\n"
    )
}

fn ts_param(kind: Param) -> &'static str {
    match kind {
        Param::Str => "string",
        Param::OptStr => "string | null",
        Param::Bool => "boolean",
        Param::F64 | Param::U32 => "number",
        Param::Now => "Now",
        Param::Strs => "string[]",
        Param::F64s => "Float64Array",
    }
}

fn ts_answer(a: Answer) -> &'static str {
    match a {
        Answer::Unit => "void",
        Answer::F64 | Answer::U32 | Answer::State | Answer::OptHandle => "number",
        Answer::Bool => "boolean",
        Answer::Str => "string",
        Answer::OptStr => "string | null | undefined",
        Answer::HandleCreated | Answer::F64s | Answer::RetryStep | Answer::WaitTicket => "number[]",
        Answer::Bools => "boolean[]",
        Answer::Strs | Answer::Names => "string[]",
    }
}

/// The wasm adapter's layout of an operation: its parameters, `:`, its answer.
fn calls_spec(op: &Op) -> String {
    let mut spec: String = op.params.iter().map(|&(_, k)| match k {
        Param::Str => 's',
        Param::OptStr => 'o',
        Param::Bool => 'b',
        Param::F64 | Param::U32 => 'n',
        Param::Now => 't',
        Param::Strs => 'j',
        Param::F64s => 'F',
    }).collect();
    spec.push(':');
    spec.push(match op.answer {
        Answer::Unit => 'v',
        Answer::F64 | Answer::U32 | Answer::State | Answer::OptHandle => 'n',
        Answer::Bool => 'b',
        Answer::Str => 's',
        Answer::OptStr => 'o',
        Answer::HandleCreated | Answer::F64s | Answer::RetryStep | Answer::WaitTicket => 'f',
        Answer::Bools => 'B',
        Answer::Strs | Answer::Names => 'l',
    });
    spec
}

/// `bindings-node/ts/ops.ts`: the cold operations of `Backend`, and the wasm adapter's `CALLS`.
pub fn typescript() -> String {
    let mut methods = String::new();
    let mut rows = String::new();
    for op in OPS.iter().filter(|o| o.napi()) {
        let last = op.params.len().saturating_sub(1);
        let params: Vec<String> = op.params.iter().enumerate().map(|(i, &(p, k))| {
            let optional = i == last && k == Param::OptStr;
            format!("{}{}: {}", camel(p), if optional { "?" } else { "" }, ts_param(k))
        }).collect();
        let docs = match op.doc.lines().count() {
            0 => String::new(),
            1 => format!("  /** {} */\n", op.doc.trim()),
            _ => format!("  /**\n{}   */\n", doc_lines(op.doc, "   ", "*")),
        };
        let optional = if op.everywhere_in_js() { "" } else { "?" };
        methods.push_str(&format!("{docs}  {}{optional}({}): {};\n", camel(op.name), params.join(", "), ts_answer(op.answer)));
    }
    for op in OPS.iter().filter(|o| o.wasm()) {
        rows.push_str(&format!("  {}: '{}',\n", camel(op.name), calls_spec(op)));
    }
    let constants: String = CONSTANTS.iter().map(|(name, doc, value)| format!("/** {doc} */\nexport const {name} = {};\n\n", seawall_core::error::fmt_num(*value))).collect();
    format!(
        "// {HEADER}\nimport type {{ Now }} from './backend.js';\n\n{constants}/** The cold operations every backend implements, one to one with `seawall_core::Engine`. */\nexport interface EngineOps {{\n{methods}}}\n\n/**\n * The wasm adapter's layout of each operation reached through the module's `call` export, in\n * row order: its parameters, then `:` and its answer (see backend-wasm.ts).\n */\nexport const CALLS = {{\n{rows}}} as const;\n"
    )
}

fn pyi_param(kind: Param) -> &'static str {
    match kind {
        Param::Str => "str",
        Param::OptStr => "Optional[str]",
        Param::Bool => "bool",
        Param::F64 => "float",
        Param::U32 => "int",
        Param::Now => "Optional[float]",
        Param::Strs => "list[str]",
        Param::F64s => "list[float]",
    }
}

fn pyi_answer(a: Answer) -> &'static str {
    match a {
        Answer::Unit => "None",
        Answer::F64 => "float",
        Answer::U32 | Answer::State => "int",
        Answer::Bool => "bool",
        Answer::Str => "str",
        Answer::OptStr => "Optional[str]",
        Answer::OptHandle => "Optional[int]",
        Answer::HandleCreated => "tuple[int, bool]",
        Answer::F64s => "list[float]",
        Answer::Bools => "list[bool]",
        Answer::Strs | Answer::Names => "list[str]",
        Answer::RetryStep => "tuple[float, int, bool]",
        Answer::WaitTicket => "tuple[float, float]",
    }
}

/// The `.pyi`'s generated regions: the module functions' names for `__all__`, the engine's
/// methods, the module's functions.
pub fn pyi() -> [(&'static str, String); 3] {
    let mut names = String::new();
    let mut methods = String::new();
    let mut functions = String::new();
    for op in OPS.iter().filter(|o| o.python()) {
        let last = op.params.len().saturating_sub(1);
        let params: Vec<String> = op.params.iter().enumerate().map(|(i, &(p, k))| {
            let default = if i == last && k == Param::OptStr { " = None" } else { "" };
            format!("{p}: {}{default}", pyi_param(k))
        }).collect();
        if op.method {
            let all = std::iter::once("self".to_string()).chain(params).collect::<Vec<_>>().join(", ");
            methods.push_str(&format!("    def {}({all}) -> {}: ...\n", op.name, pyi_answer(op.answer)));
        } else {
            names.push_str(&format!("    \"{}\",\n", op.name));
            functions.push_str(&format!("def {}({}) -> {}: ...\n", op.name, params.join(", "), pyi_answer(op.answer)));
        }
    }
    for (name, _, _) in CONSTANTS {
        names.push_str(&format!("    \"{name}\",\n"));
        functions.push_str(&format!("{name}: float\n"));
    }
    [("names", names), ("engine methods", methods), ("functions", functions)]
}

/// `text` with each generated region (between `# <generated: NAME>` and `# </generated>`)
/// replaced by `regions`; None if a region's markers are missing.
pub fn fill_regions(text: &str, regions: &[(&str, String)]) -> Option<String> {
    let mut out = text.to_string();
    for (name, body) in regions {
        let open = format!("# <generated: {name}>\n");
        let start = out.find(&open)? + open.len();
        let end = start + out.get(start..)?.find("# </generated>")?;
        let indent_end = out.get(..end)?.rfind('\n').map_or(end, |i| i + 1);
        out.replace_range(start..indent_end, body);
    }
    Some(out)
}
