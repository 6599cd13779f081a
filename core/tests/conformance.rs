//! The Rust runner of the shared conformance vectors in `tests/vectors/` (format:
//! `tests/vectors/README.md`). Every binding has a runner that reads the same files and must
//! produce the same per-step outputs; this one drives the core directly.
//!
//! Each run also writes the canonical trace of every vector to
//! `target/conformance/rust/<vector>.trace.json`, so traces from different runners can be
//! compared byte for byte. `SEAWALL_BLESS=1` fills in steps that have no `expect` yet (it never
//! changes an existing expectation); a run with any step lacking `expect` fails otherwise.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use seawall_core::backoff::{Backoff, BackoffConfig};
use seawall_core::breaker::{BreakerSnapshot, CircuitBreaker, Permit};
use seawall_core::budget::{BudgetConfig, RetryBudget};
use seawall_core::engine::Engine;
use seawall_core::bulkhead::{Admission, Bulkhead, BulkheadPermit};
use seawall_core::fleet::ReplicaReport;
use seawall_core::metrics::render_prometheus;
use seawall_core::json::Json;
use seawall_core::options::{options_from_json, OptionReader, Options, TimeUnit};
use seawall_core::presets::{self, Style};
use seawall_core::fleet_quota::QuotaReport;
use seawall_core::ratelimit::{RateAdmission, RateLimitConfig, RateLimiter};
use seawall_core::registry::Registry;
use seawall_core::retry::{RETRY_OPTIONS, FailureClass, RetryConfig, RetryDecision, RetryState};
use seawall_core::timeout::Deadline;
use seawall_core::{BreakerConfig, SeawallError, SeededRng};

/// The core's JSON as serde_json's (the runner works in serde_json).
fn sj(j: Json) -> Value {
    serde_json::from_str(&j.to_string()).unwrap()
}

fn core_json(v: &Value) -> Json {
    Json::parse(&v.to_string()).unwrap()
}

fn opts_of(v: &Value) -> Options {
    options_from_json(&core_json(v))
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn num(v: &Value, key: &str) -> f64 {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(s)) if s == "NaN" => f64::NAN,
        Some(Value::String(s)) if s == "Infinity" => f64::INFINITY,
        _ => 0.0,
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn unit_of(v: &Value) -> TimeUnit {
    if text(v, "unit") == "s" {
        TimeUnit::Seconds
    } else {
        TimeUnit::Millis
    }
}

/// A number as every runner writes it: integral values without a fraction, non-finite
/// values as strings.
fn n(x: f64) -> Value {
    if x.is_finite() {
        if x == x.trunc() && x.abs() < 9.007_199_254_740_992e15 {
            json!(x as i64)
        } else {
            json!(x)
        }
    } else {
        json!(seawall_core::error::fmt_num(x))
    }
}

fn opt_n(x: Option<f64>) -> Value {
    x.map(n).unwrap_or(Value::Null)
}

fn error_json(e: &SeawallError) -> Value {
    json!({ "error": { "code": e.code.as_str(), "kind": e.kind.as_str(), "option": e.option, "value": e.value } })
}

/// Rewrites a value so that numbers compare by value (5 == 5.0) and object keys are sorted.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Number(x) => n(x.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&m[k]))).collect())
        }
        other => other.clone(),
    }
}

// ---- machines -------------------------------------------------------------------------------

fn breaker_stats_json(b: &mut CircuitBreaker, at: f64) -> Value {
    sj(b.stats(at).to_json())
}

fn drain_events(b: &mut CircuitBreaker, out: &mut Map<String, Value>) {
    let mut events = Vec::new();
    while let Some(e) = b.poll_event() {
        events.push(json!({ "from": e.from.as_str(), "to": e.to.as_str(), "at": n(e.at), "reason": e.reason.as_str() }));
    }
    if !events.is_empty() {
        out.insert("events".into(), Value::Array(events));
    }
}

fn run_breaker(v: &Value, steps: &[Value]) -> Vec<Value> {
    let opts = opts_of(&v["config"]);
    let mut b = match CircuitBreaker::from_options(&opts, unit_of(v)) {
        Ok(b) => b,
        Err(e) => return vec![error_json(&e); steps.len()],
    };
    let mut permits: HashMap<String, Permit> = HashMap::new();
    let mut outputs = Vec::new();
    for s in steps {
        let at = num(s, "at");
        let id = text(s, "id").to_string();
        let mut out = Map::new();
        let acquire = |b: &mut CircuitBreaker, out: &mut Map<String, Value>| match b.try_acquire(at) {
            Ok(p) => {
                out.insert("permit".into(), json!(true));
                out.insert("probe".into(), json!(p.is_probe()));
                Some(p)
            }
            Err(r) => {
                out.insert("rejected".into(), json!("CIRCUIT_OPEN"));
                out.insert("retryAfterMs".into(), opt_n(r.retry_after_ms));
                None
            }
        };
        match text(s, "op") {
            "acquire" => {
                if let Some(p) = acquire(&mut b, &mut out) {
                    permits.insert(id, p);
                }
            }
            op @ ("success" | "failure" | "release") => {
                let p = permits.remove(&id).unwrap_or(Permit::from_raw(u64::MAX));
                let d = num(s, "duration");
                let r = match op {
                    "success" => b.record_success(at, p, d),
                    "failure" => b.record_failure(at, p, d),
                    _ => b.release(at, p),
                };
                if let Err(e) = r {
                    out.insert("error".into(), json!(e.code.as_str()));
                }
            }
            "call" => {
                if let Some(p) = acquire(&mut b, &mut out) {
                    let d = num(s, "duration");
                    let end = at + d;
                    let r = match text(s, "outcome") {
                        "success" => b.record_success(end, p, d),
                        "failure" => b.record_failure(end, p, d),
                        _ => b.release(end, p),
                    };
                    r.unwrap();
                }
            }
            "state" => {
                b.handle_timeout(at);
            }
            "stats" => {
                out.insert("stats".into(), breaker_stats_json(&mut b, at));
            }
            "open" => b.open(at),
            "forceOpen" | "isolate" => b.force_open(at),
            "reset" => b.reset(at),
            "disable" => b.disable(at),
            "fleetOpened" => b.handle_fleet_opened(at),
            "fleetClosed" => b.handle_fleet_closed(at),
            "fleetLease" => b.handle_probe_lease(at),
            "fleetAlone" => b.set_fleet_shared(at, false),
            "fleetShared" => b.set_fleet_shared(at, true),
            "fleetReport" => {
                out.insert("report".into(), sj(b.fleet_report(at).to_json()));
            }
            "fleetSync" => {
                let reports: Vec<ReplicaReport> = s["reports"].as_array().unwrap().iter().map(|r| ReplicaReport::from_json(&core_json(r)).unwrap()).collect();
                out.insert("tally".into(), sj(b.handle_fleet_reports(at, &reports).to_json()));
            }
            "probeLease" => {
                let lease = b.wants_probe_lease(at).then(|| b.probe_lease_ms());
                out.insert("leaseMs".into(), opt_n(lease));
            }
            "nextTimeout" => {
                out.insert("nextTimeout".into(), opt_n(b.poll_timeout()));
            }
            "remaining" => {
                out.insert("remainingMs".into(), opt_n(b.remaining_open_ms(at)));
            }
            "snapshot" => {
                out.insert("snapshot".into(), sj(b.snapshot(at).to_json()));
            }
            "restore" => match BreakerSnapshot::from_json(&core_json(&s["snapshot"])) {
                Ok(snap) => {
                    if let Err(e) = b.restore(at, &snap) {
                        out.insert("error".into(), json!(e.code.as_str()));
                    }
                }
                Err(_) => {
                    out.insert("error".into(), json!("INVALID_SNAPSHOT"));
                }
            },
            other => panic!("unknown breaker op {other}"),
        }
        out.insert("state".into(), json!(b.state().as_str()));
        drain_events(&mut b, &mut out);
        outputs.push(Value::Object(out));
    }
    outputs
}

fn backoff_config(v: &Value) -> Result<BackoffConfig, SeawallError> {
    let opts = opts_of(&v["config"]);
    let r = OptionReader::new(&opts, RETRY_OPTIONS, "a retry policy", unit_of(v))?;
    BackoffConfig::from_reader(&r)
}

fn run_backoff(v: &Value, steps: &[Value], rng: &mut SeededRng) -> Vec<Value> {
    let cfg = match backoff_config(v) {
        Ok(c) => c,
        Err(e) => return vec![error_json(&e); steps.len()],
    };
    let mut backoff = Backoff::new(cfg);
    steps
        .iter()
        .map(|s| match text(s, "op") {
            "delays" => {
                let retries: Vec<u32> = s["retries"].as_array().unwrap().iter().map(|r| r.as_u64().unwrap() as u32).collect();
                json!({ "delaysMs": retries.iter().map(|r| n(backoff.next_delay(*r, rng))).collect::<Vec<_>>() })
            }
            "restart" => {
                backoff = Backoff::new(cfg);
                json!({})
            }
            other => panic!("unknown backoff op {other}"),
        })
        .collect()
}

fn class_of(s: &Value) -> FailureClass {
    match text(s, "class") {
        "notRetryable" => FailureClass::NotRetryable,
        "rateLimited" => FailureClass::RateLimited {
            retry_after_ms: s.get("retryAfterMs").filter(|x| !x.is_null()).map(|_| num(s, "retryAfterMs")),
        },
        _ => FailureClass::Retryable,
    }
}

fn run_retry(v: &Value, steps: &[Value], rng: &mut SeededRng) -> Vec<Value> {
    let cfg = match RetryConfig::from_options(&opts_of(&v["config"]), unit_of(v)) {
        Ok(c) => c,
        Err(e) => return vec![error_json(&e); steps.len()],
    };
    let mut budget =
        v.get("budget").map(|b| RetryBudget::new(BudgetConfig::from_options(&opts_of(b), unit_of(v)).unwrap(), 0.0));
    let mut state = RetryState::start(&cfg, 0.0);
    steps
        .iter()
        .map(|s| {
            let at = num(s, "at");
            match text(s, "op") {
                "start" => {
                    state = RetryState::start(&cfg, at);
                    json!({ "attempt": state.attempt() })
                }
                "failure" => match state.on_failure(&cfg, at, class_of(s), rng, budget.as_mut()) {
                    RetryDecision::Retry { attempt, delay_ms, from_server } => {
                        json!({ "retry": { "attempt": attempt, "delayMs": n(delay_ms), "fromServer": from_server } })
                    }
                    RetryDecision::GiveUp { reason, attempts } => {
                        json!({ "giveUp": reason.as_str(), "attempts": attempts, "code": reason.code().as_str() })
                    }
                },
                "success" => {
                    if let Some(b) = budget.as_mut() {
                        b.record_success(at);
                    }
                    json!({ "attempts": state.attempt() })
                }
                "tokens" => json!({ "tokens": n(budget.as_mut().map(|b| b.tokens(at)).unwrap_or(0.0)) }),
                "isRetryable" => {
                    let ids: Vec<&str> = s["ids"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
                    json!({ "retryable": cfg.is_retryable(&ids) })
                }
                other => panic!("unknown retry op {other}"),
            }
        })
        .collect()
}

fn run_ratelimit(v: &Value, steps: &[Value]) -> Vec<Value> {
    let mut l = match RateLimitConfig::from_options(&opts_of(&v["config"]), unit_of(v)).and_then(RateLimiter::new) {
        Ok(l) => l,
        Err(e) => return vec![error_json(&e); steps.len()],
    };
    let mut tickets: HashMap<String, f64> = HashMap::new();
    steps
        .iter()
        .map(|s| {
            let at = num(s, "at");
            match text(s, "op") {
                "acquire" => match l.try_acquire(at) {
                    RateAdmission::Now => json!({ "start": true }),
                    RateAdmission::After { wait_ms, ticket } => {
                        tickets.insert(text(s, "id").to_string(), ticket);
                        json!({ "waitMs": n(wait_ms) })
                    }
                    RateAdmission::Refused { retry_after_ms } => json!({ "rejected": "RATE_LIMITED", "retryAfterMs": n(retry_after_ms) }),
                },
                "cancel" => json!({ "refunded": l.cancel(tickets.get(text(s, "id")).copied().unwrap_or(f64::NAN)) }),
                "stats" => json!({ "stats": sj(l.stats_json(at)) }),
                "fleetReport" => json!({ "report": sj(l.fleet_report(at).expect("a fleet limiter")) }),
                "fleetSync" => {
                    let reports = QuotaReport::list_from_json(&s["reports"].to_string()).expect("reports");
                    assert!(l.fleet_sync(at, num(s, "granted"), &reports), "a fleet limiter");
                    json!({ "share": n(l.fleet_health(at).expect("a fleet limiter").1) })
                }
                "fleetAlone" => {
                    assert!(l.fleet_alone(), "a fleet limiter");
                    json!({ "share": n(l.fleet_health(at).expect("a fleet limiter").1) })
                }
                other => panic!("unknown ratelimit op {other}"),
            }
        })
        .collect()
}

/// A hedged call's next step (the engine's encoding) as every runner writes it.
fn hedge_step(x: f64) -> Value {
    match x {
        x if x >= 0.0 => json!({ "wait": if x.is_finite() { n(x) } else { Value::Null } }),
        x if x >= -10.0 => json!({ "launch": n(-1.0 - x) }),
        x if x >= -20.0 => json!({ "won": n(-11.0 - x) }),
        x => json!({ "failed": n(-21.0 - x) }),
    }
}

/// The delay for lazily begun calls as every runner writes it (an infinite time is null).
fn hedge_delays(d: &[f64]) -> Value {
    let t = |x: f64| if x.is_finite() { n(x) } else { Value::Null };
    json!({ "delay": { "delay": t(d[0]), "until": t(d[1]), "wake": t(d[2]), "timed": d[3] == 1.0 } })
}

/// The outcome code of a step's `outcome` (a word, or a code as given).
fn hedge_outcome(s: &Value) -> u32 {
    match &s["outcome"] {
        Value::String(w) => ["success", "failure", "fatal", "cancelled"].iter().position(|o| o == w).map_or(u32::MAX, |i| i as u32),
        other => other.as_u64().map_or(u32::MAX, |c| c as u32),
    }
}

fn run_hedge(v: &Value, steps: &[Value]) -> Vec<Value> {
    let mut e = Engine::new();
    let h = match e.hedge_policy_create(&v["config"].to_string(), unit_of(v) == TimeUnit::Seconds, 0.0) {
        Ok(h) => h,
        Err(err) => return vec![error_json(&err); steps.len()],
    };
    let mut calls: HashMap<String, u32> = HashMap::new();
    steps
        .iter()
        .map(|s| {
            let at = num(s, "at");
            let call = calls.get(text(s, "call")).copied().unwrap_or(u32::MAX);
            let step = match text(s, "op") {
                // A call starts, and says what comes first.
                "start" => e.hedge_start(h, at).and_then(|c| {
                    calls.insert(text(s, "call").to_string(), c);
                    e.hedge_step(c, at)
                }),
                "step" => e.hedge_step(call, at),
                // Calls begun lazily, handed over; and the machine of one of them.
                "sync" => {
                    let answered: Vec<f64> = s["answered"].as_array().map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()).unwrap_or_default();
                    return e.hedge_sync(h, num(s, "begun") as u32, s["inTime"].as_f64().unwrap_or(0.0) as u32, num(s, "delay"), &answered, at).map_or_else(|err| error_json(&err), |()| json!({ "synced": true }));
                }
                "delay" => return e.hedge_delay(h, at).map_or_else(|err| error_json(&err), |d| hedge_delays(&d)),
                "start_begun" => e.hedge_start_begun(h, num(s, "started"), num(s, "delay")).and_then(|c| {
                    calls.insert(text(s, "call").to_string(), c);
                    e.hedge_step(c, at)
                }),
                "settle" => e.hedge_settle(call, num(s, "attempt") as u32, hedge_outcome(s), at),
                "end" => return json!({ "ended": e.hedge_end(call) }),
                "hedgeable" => return json!({ "hedgeable": Engine::hedgeable(text(s, "method"), s["forced"].as_bool().unwrap_or(false)) }),
                "stats" => return json!({ "stats": serde_json::from_str::<Value>(&e.hedge_stats(h, at).unwrap()).unwrap() }),
                other => panic!("unknown hedge op {other}"),
            };
            step.map_or_else(|err| error_json(&err), hedge_step)
        })
        .collect()
}

/// The outcome code of a step's `outcome` for an adaptive limit (a word, or a code as given).
fn limit_outcome(s: &Value) -> u32 {
    match &s["outcome"] {
        Value::String(w) => ["success", "dropped", "ignored"].iter().position(|o| o == w).map_or(u32::MAX, |i| i as u32),
        other => other.as_u64().map_or(u32::MAX, |c| c as u32),
    }
}

fn run_adaptive(v: &Value, steps: &[Value]) -> Vec<Value> {
    let mut e = Engine::new();
    let h = match e.adaptive_create(&v["config"].to_string(), unit_of(v) == TimeUnit::Seconds, v["seed"].as_f64().unwrap_or(0.0)) {
        Ok(h) => h,
        Err(err) => return vec![error_json(&err); steps.len()],
    };
    let mut permits: HashMap<String, f64> = HashMap::new();
    let limit = |e: &mut Engine| serde_json::from_str::<Value>(&e.adaptive_stats(h).unwrap()).unwrap()["limit"].clone();
    steps
        .iter()
        .map(|s| {
            let at = num(s, "at");
            let partition = s.get("partition").and_then(Value::as_str).map_or(-1.0, |p| e.adaptive_partition(h, p));
            match text(s, "op") {
                "acquire" => {
                    let p = e.adaptive_acquire(h, partition, at);
                    if p < 0.0 {
                        return json!({ "rejected": true });
                    }
                    permits.insert(text(s, "id").to_string(), p);
                    json!({ "permit": true })
                }
                "release" => {
                    let p = permits.get(text(s, "id")).copied().unwrap_or(-1.0);
                    e.adaptive_release(h, p, limit_outcome(s), at).map_or_else(|err| error_json(&err), |()| json!({}))
                }
                // `concurrency` calls at `at`, each ending `rtt` later with `outcome`.
                "round" => {
                    let mut admitted = Vec::new();
                    for _ in 0..s["concurrency"].as_u64().unwrap_or(1) {
                        let p = e.adaptive_acquire(h, partition, at);
                        if p >= 0.0 {
                            admitted.push(p);
                        }
                    }
                    for p in &admitted {
                        e.adaptive_release(h, *p, limit_outcome(s), at + num(s, "rtt")).unwrap();
                    }
                    json!({ "admitted": admitted.len(), "limit": limit(&mut e) })
                }
                "stats" => json!({ "stats": serde_json::from_str::<Value>(&e.adaptive_stats(h).unwrap()).unwrap() }),
                "status" => {
                    let outcome = ["success", "dropped", "ignored"][Engine::limit_outcome(num(s, "status")) as usize];
                    json!({ "outcome": outcome })
                }
                other => panic!("unknown adaptive op {other}"),
            }
        })
        .collect()
}

fn run_budget(v: &Value, steps: &[Value]) -> Vec<Value> {
    let cfg = match BudgetConfig::from_options(&opts_of(&v["config"]), unit_of(v)) {
        Ok(c) => c,
        Err(e) => return vec![error_json(&e); steps.len()],
    };
    let mut b = RetryBudget::new(cfg, num(v, "start"));
    steps
        .iter()
        .map(|s| {
            let at = num(s, "at");
            match text(s, "op") {
                "withdraw" => {
                    let granted = b.try_withdraw(at);
                    json!({ "granted": granted, "tokens": n(b.tokens(at)) })
                }
                "success" => {
                    b.record_success(at);
                    json!({ "tokens": n(b.tokens(at)) })
                }
                "tokens" => json!({ "tokens": n(b.tokens(at)) }),
                "stats" => json!({ "stats": sj(b.stats_json(at)) }),
                "fleetReport" => json!({ "report": sj(b.fleet_report(at).expect("a fleet budget")) }),
                "fleetSync" | "fleetAlone" => {
                    if text(s, "op") == "fleetSync" {
                        let reports = QuotaReport::list_from_json(&s["reports"].to_string()).expect("reports");
                        assert!(b.fleet_sync(at, num(s, "granted"), &reports), "a fleet budget");
                    } else {
                        assert!(b.fleet_alone(at), "a fleet budget");
                    }
                    let stats = sj(b.stats_json(at));
                    let f = |v: &Value| n(v.as_f64().expect("a number"));
                    json!({ "share": f(&stats["fleet"]["share"]), "cap": f(&stats["fleet"]["cap"]), "tokens": f(&stats["tokens"]) })
                }
                other => panic!("unknown budget op {other}"),
            }
        })
        .collect()
}

fn run_bulkhead(v: &Value, steps: &[Value]) -> Vec<Value> {
    let mut b = match Bulkhead::from_options(&opts_of(&v["config"]), unit_of(v)) {
        Ok(b) => b,
        Err(e) => return vec![error_json(&e); steps.len()],
    };
    // Labels: a running call's id → permit; a queued call's id → ticket (and back).
    let mut permits: HashMap<String, BulkheadPermit> = HashMap::new();
    let mut tickets: HashMap<u64, String> = HashMap::new();
    let mut outputs = Vec::new();
    for s in steps {
        let at = num(s, "at");
        let id = text(s, "id").to_string();
        let mut out = Map::new();
        match text(s, "op") {
            "acquire" => match b.try_acquire(at) {
                Admission::Run(p) => {
                    permits.insert(id, p);
                    out.insert("run".into(), json!(true));
                }
                Admission::Queued { ticket, position } => {
                    tickets.insert(ticket, id);
                    out.insert("queued".into(), json!(position));
                }
                Admission::Rejected(r) => {
                    out.insert("rejected".into(), json!(r.code().as_str()));
                }
            },
            "release" => {
                let p = permits.remove(&id).unwrap_or(BulkheadPermit(u64::MAX));
                match b.release(at, p) {
                    Ok(Some((ticket, permit))) => {
                        let started = tickets.remove(&ticket).unwrap();
                        permits.insert(started.clone(), permit);
                        out.insert("started".into(), json!(started));
                    }
                    Ok(None) => {
                        out.insert("started".into(), Value::Null);
                    }
                    Err(e) => {
                        out.insert("error".into(), json!(e.code.as_str()));
                    }
                }
            }
            "cancel" => {
                let ticket = tickets.iter().find(|(_, v)| **v == id).map(|(t, _)| *t);
                let cancelled = ticket.is_some_and(|t| b.cancel(t));
                if cancelled {
                    tickets.retain(|_, v| *v != id);
                }
                out.insert("cancelled".into(), json!(cancelled));
            }
            "tick" => b.handle_timeout(at),
            "nextTimeout" => {
                out.insert("nextTimeout".into(), opt_n(b.poll_timeout()));
            }
            "metrics" => {
                out.insert("metrics".into(), sj(b.metrics().to_json()));
            }
            other => panic!("unknown bulkhead op {other}"),
        }
        let mut expired = Vec::new();
        while let Some(t) = b.poll_expired() {
            expired.push(json!(tickets.remove(&t).unwrap()));
        }
        if !expired.is_empty() {
            out.insert("expired".into(), Value::Array(expired));
        }
        out.insert("active".into(), json!(b.active()));
        out.insert("queued".into(), json!(b.queued()));
        outputs.push(Value::Object(out));
    }
    outputs
}

fn run_options(steps: &[Value]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| {
            // The config as JSON text, through the engine's own check: what every binding calls.
            let config = s["config"].to_string();
            match Engine::validate(text(s, "kind"), &config, unit_of(s) == TimeUnit::Seconds) {
                Ok(()) => json!({ "ok": true }),
                Err(e) => error_json(&e),
            }
        })
        .collect()
}

fn run_registry(steps: &[Value]) -> Vec<Value> {
    let mut r = Registry::new();
    steps
        .iter()
        .map(|s| {
            let at = num(s, "at");
            let name = text(s, "name");
            match text(s, "op") {
                "breaker" => {
                    let opts = opts_of(&s["config"]);
                    match r.breaker_get_or_create(name, || BreakerConfig::from_options(&opts, unit_of(s))) {
                        Ok((_, created)) => json!({ "created": created }),
                        Err(e) => error_json(&e),
                    }
                }
                "bulkhead" => {
                    let opts = opts_of(&s["config"]);
                    match r.bulkhead_get_or_create(name, || Bulkhead::from_options(&opts, unit_of(s))) {
                        Ok((_, created)) => json!({ "created": created }),
                        Err(e) => error_json(&e),
                    }
                }
                "call" => {
                    let b = r.breaker_named(name).unwrap();
                    match b.try_acquire(at) {
                        Ok(p) => {
                            let d = num(s, "duration");
                            if text(s, "outcome") == "failure" {
                                b.record_failure(at + d, p, d).unwrap();
                            } else {
                                b.record_success(at + d, p, d).unwrap();
                            }
                            json!({ "state": b.state().as_str() })
                        }
                        Err(_) => json!({ "rejected": "CIRCUIT_OPEN", "state": b.state().as_str() }),
                    }
                }
                "occupy" => {
                    let h = r.bulkhead_handle(name).unwrap();
                    let admission = r.bulkhead(h).unwrap().try_acquire(at);
                    json!({ "admitted": !matches!(admission, Admission::Rejected(_)) })
                }
                "forceOpen" => {
                    r.breaker_named(name).unwrap().force_open(at);
                    json!({})
                }
                "open" => {
                    r.breaker_named(name).unwrap().open(at);
                    json!({})
                }
                "retryAttempt" => {
                    r.record_retry_attempt(name);
                    json!({})
                }
                "timeout" => {
                    r.record_timeout(name);
                    json!({})
                }
                "health" => json!({ "health": sj(r.health(at).to_json()) }),
                "breakerHealth" => json!({ "health": sj(r.breaker_health(at).to_json()) }),
                "names" => json!({ "names": r.breaker_names() }),
                "resetAll" => {
                    r.reset_all(at);
                    json!({})
                }
                "clear" => {
                    r.clear();
                    json!({})
                }
                "prometheus" => json!({ "prometheus": render_prometheus(&r) }),
                other => panic!("unknown registry op {other}"),
            }
        })
        .collect()
}

fn style_of(s: &Value) -> Style {
    if text(s, "style") == "python" {
        Style::PYTHON
    } else {
        Style::JS
    }
}

fn run_presets(steps: &[Value]) -> Vec<Value> {
    use seawall_core::options::{to_json, OptionValue};
    let as_json = |o: Options| sj(to_json(&OptionValue::Map(o)));
    steps
        .iter()
        .map(|s| {
            let style = style_of(s);
            let arg = |k: &str| s.get(k).and_then(Value::as_f64);
            let preset = match text(s, "op") {
                "policy" => presets::policy(style, text(s, "name")),
                "circuit" => presets::named_circuit(style, text(s, "name")),
                "retryFixed" => Some(presets::retry_fixed(style, arg("attempts").unwrap_or(3.0), arg("delay").unwrap_or(1000.0))),
                "retryExponential" => Some(presets::retry_exponential(style, arg("attempts"), arg("initial"), arg("max"))),
                "retryApiRateLimit" => Some(presets::retry_api_rate_limit(style)),
                "retryNetwork" => Some(presets::retry_network(style)),
                other => panic!("unknown presets op {other}"),
            };
            match preset {
                Some(o) => json!({ "options": as_json(o) }),
                None => json!({ "options": null }),
            }
        })
        .collect()
}

fn run_rng(v: &Value, steps: &[Value]) -> Vec<Value> {
    let mut rng = SeededRng::new(v["seed"].as_u64().unwrap_or(0));
    steps
        .iter()
        .map(|s| {
            let count = s["count"].as_u64().unwrap_or(1);
            json!({ "floats": (0..count).map(|_| n(rng.next_f64())).collect::<Vec<_>>() })
        })
        .collect()
}

fn run_deadline(steps: &[Value]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| {
            let outer = s.get("outer").filter(|o| !o.is_null()).map(|_| num(s, "outer"));
            let d = Deadline::after(num(s, "at"), num(s, "timeout"), outer);
            let probe = num(s, "check");
            json!({ "deadline": n(d.at), "remainingMs": n(d.remaining(probe)), "expired": d.expired(probe) })
        })
        .collect()
}

fn run_retry_after(steps: &[Value]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| json!({ "retryAfterMs": seawall_core::retry_after::parse(text(s, "value"), num(s, "now")).map_or(Value::Null, n) }))
        .collect()
}

/// `parse`: a header giving milliseconds, through the engine's entry every binding calls.
fn run_header_ms(steps: &[Value]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| {
            let ms = seawall_core::Engine::header_ms(text(s, "value"));
            json!({ "ms": if ms.is_nan() { Value::Null } else { n(ms) } })
        })
        .collect()
}

/// `answer`: what a service answers a request it sheds (a limit's name, or none).
fn run_shed_answer(steps: &[Value]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| {
            let answer = seawall_core::Engine::shed_answer(s["name"].as_str(), num(s, "retryAfterMs"));
            json!({ "retryAfter": answer[0], "body": serde_json::from_str::<Value>(&answer[1]).unwrap() })
        })
        .collect()
}

/// `classify`: an outcome (JSON object, or raw text to show what is refused) through the
/// engine's entry every binding calls; `count`: how a breaker counts a status.
fn run_outcome(steps: &[Value]) -> Vec<Value> {
    steps
        .iter()
        .map(|s| match text(s, "op") {
            "classify" => {
                let outcome = match &s["outcome"] {
                    Value::String(raw) => raw.clone(),
                    other => other.to_string(),
                };
                match seawall_core::Engine::classify_outcome(&outcome, num(s, "now")) {
                    Ok(verdict) => json!({ "verdict": serde_json::from_str::<Value>(&verdict).unwrap() }),
                    Err(e) => error_json(&e),
                }
            }
            "count" => json!({ "count": seawall_core::Engine::count_status(num(s, "status")) }),
            other => panic!("unknown outcome op {other}"),
        })
        .collect()
}

/// A fleet breaker's sync driver, through the engine's entries every binding calls: `next`
/// (the command, or null when the round is over), `reply` (Redis's reply as JSON), `failed`,
/// `status`, `wanted`, and the breaker's own `call` (`outcome`) and `command` (`reset` …).
fn run_fleet_sync(v: &Value, steps: &[Value]) -> Vec<Value> {
    let mut e = Engine::new();
    let state = |e: &mut Engine, h| json!(seawall_core::breaker::CircuitState::from_code(e.breaker_current_state(h)).map_or("?", |s| s.as_str()));
    let h = e.breaker_create(&v["config"].to_string(), false, Some(text(v, "breakerName"))).unwrap();
    e.breaker_sync_join(h, text(v, "prefix"), text(v, "replica")).unwrap();
    steps
        .iter()
        .map(|s| {
            let at = s.get("at").and_then(Value::as_f64).unwrap_or(0.0);
            let result = match text(s, "op") {
                "next" => e.breaker_sync_next(h, at).map(|c| json!({ "command": if c.is_empty() { Value::Null } else { serde_json::from_str(&c).unwrap() } })),
                "reply" => e.breaker_sync_reply(h, &s["reply"].to_string(), at).map(|()| json!({ "state": state(&mut e, h) })),
                "failed" => e.breaker_sync_failed(h, at).map(|()| json!({ "state": state(&mut e, h) })),
                "status" => e.breaker_sync_status(h).map(|t| json!({ "status": serde_json::from_str::<Value>(&t).unwrap() })),
                "wanted" => Ok(json!({ "wanted": e.breaker_sync_wanted(h) })),
                "command" => e.breaker_command(h, text(s, "command"), at).map(|_| json!({ "state": state(&mut e, h) })),
                "call" => {
                    let (permit, _, _) = e.breaker_acquire(h, at);
                    if permit >= 0.0 {
                        let outcome = if text(s, "outcome") == "success" { 0 } else { 1 };
                        e.breaker_record(h, permit, outcome, at, at);
                    }
                    Ok(json!({ "admitted": permit >= 0.0, "state": state(&mut e, h) }))
                }
                other => panic!("unknown fleetSync op {other}"),
            };
            result.unwrap_or_else(|err| error_json(&err))
        })
        .collect()
}

/// A rate limiter's or retry budget's quota sync driver, through the engine's entries every
/// binding calls: `next`, `reply`, `failed`, `status`, `leave`, and the policy's `stats`.
fn run_quota_sync(v: &Value, steps: &[Value]) -> Vec<Value> {
    let mut e = Engine::new();
    let kind = text(v, "kind");
    let h = if kind == "budget" { e.budget_create(&v["config"].to_string(), false, 0.0) } else { e.rate_limit_create(&v["config"].to_string(), false) }.unwrap();
    let store = json!({ "prefix": text(v, "prefix"), "name": text(v, "policyName"), "replica": text(v, "replica") }).to_string();
    e.quota_sync_join(kind, h, &store).unwrap();
    steps
        .iter()
        .map(|s| {
            let at = s.get("at").and_then(Value::as_f64).unwrap_or(0.0);
            let result = match text(s, "op") {
                "next" => e.quota_sync_next(kind, h, at).map(|c| json!({ "command": if c.is_empty() { Value::Null } else { serde_json::from_str(&c).unwrap() } })),
                "reply" => e.quota_sync_reply(kind, h, &s["reply"].to_string(), at).map(|()| json!({})),
                "failed" => e.quota_sync_failed(kind, h, at).map(|()| json!({})),
                "status" => e.quota_sync_status(kind, h).map(|t| json!({ "status": serde_json::from_str::<Value>(&t).unwrap() })),
                "leave" => e.quota_sync_leave(kind, h, at).map(|()| json!({})),
                "stats" => if kind == "budget" { e.budget_stats(h, at) } else { e.rate_limit_stats(h, at) }.map(|t| json!({ "stats": serde_json::from_str::<Value>(&t).unwrap()["fleet"].clone() })),
                other => panic!("unknown quotaSync op {other}"),
            };
            result.unwrap_or_else(|err| error_json(&err))
        })
        .collect()
}

/// Runs one vector: one output per step.
fn run_vector(v: &Value) -> Vec<Value> {
    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    let mut rng = SeededRng::new(v["seed"].as_u64().unwrap_or(0));
    match text(v, "machine") {
        "breaker" => run_breaker(v, &steps),
        "backoff" => run_backoff(v, &steps, &mut rng),
        "retry" => run_retry(v, &steps, &mut rng),
        "budget" => run_budget(v, &steps),
        "ratelimit" => run_ratelimit(v, &steps),
        "hedge" => run_hedge(v, &steps),
        "adaptive" => run_adaptive(v, &steps),
        "bulkhead" => run_bulkhead(v, &steps),
        "options" => run_options(&steps),
        "registry" => run_registry(&steps),
        "presets" => run_presets(&steps),
        "rng" => run_rng(v, &steps),
        "deadline" => run_deadline(&steps),
        "retryAfter" => run_retry_after(&steps),
        "headerMs" => run_header_ms(&steps),
        "shedAnswer" => run_shed_answer(&steps),
        "outcome" => run_outcome(&steps),
        "fleetSync" => run_fleet_sync(v, &steps),
        "quotaSync" => run_quota_sync(v, &steps),
        other => panic!("unknown machine {other:?}"),
    }
}

#[test]
fn conformance_vectors() {
    let bless = std::env::var("SEAWALL_BLESS").is_ok_and(|v| v == "1");
    let trace_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/conformance/rust");
    fs::create_dir_all(&trace_dir).unwrap();
    let mut files: Vec<PathBuf> = fs::read_dir(vectors_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 60, "expected at least 60 vectors, found {}", files.len());
    let mut failures = Vec::new();
    let mut steps_checked = 0;
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        let outputs = run_vector(&v);
        let steps = v["steps"].as_array_mut().unwrap_or_else(|| panic!("{name}: no steps"));
        assert_eq!(outputs.len(), steps.len());
        let mut blessed = false;
        for (i, (step, out)) in steps.iter_mut().zip(&outputs).enumerate() {
            let got = canonical(out);
            match step.get("expect") {
                Some(want) => {
                    steps_checked += 1;
                    if canonical(want) != got {
                        failures.push(format!("{name} step {i} ({}):\n  want {}\n  got  {}", step["op"], canonical(want), got));
                    }
                }
                None if bless => {
                    step.as_object_mut().unwrap().insert("expect".into(), got);
                    blessed = true;
                }
                None => failures.push(format!("{name} step {i}: no expect (run with SEAWALL_BLESS=1 to fill it in, then review)")),
            }
        }
        if blessed {
            fs::write(path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
        }
        let trace: Vec<String> = outputs.iter().map(|o| serde_json::to_string(&canonical(o)).unwrap()).collect();
        fs::write(trace_dir.join(format!("{name}.trace.json")), trace.join("\n") + "\n").unwrap();
    }
    println!("conformance: {} vectors, {} steps checked", files.len(), steps_checked);
    assert!(failures.is_empty(), "{} conformance failures:\n{}", failures.len(), failures.join("\n"));
}
