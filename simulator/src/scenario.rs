//! The simulator's scenario file (JSON, documented by `examples/scenario.json`) read into
//! [`Scenario`]s, one per policy, and outcomes written back as JSON. One reader for every way
//! in: the `seawall-sim` CLI, and `simulate` in each binding.
//!
//! ```json
//! { "seed": 42, "clients": 200, "requestsPerClient": 60, "requestIntervalMs": 500,
//!   "stagger": true, "bucketMs": 1000,
//!   "backend": { "latencyMs": 40, "latencyJitterMs": 60, "errorRate": 0.01,
//!                "outages": [[8000, 18000]],
//!                "faults": [{ "from": 18000, "to": 26000, "errorRate": 0.4, "extraLatencyMs": 80 }],
//!                "capacity": 150 },
//!   "policies": { "name": { "layers": 2, "retry": {…}, "circuitBreaker": {…},
//!                           "bulkhead": {…}, "budget": {…}, "timeout": 1000 } } }
//! ```
//! Durations are milliseconds; the policy objects take the libraries' own options.

use seawall_core::error::{fmt_num, quote, Result, SeawallError};
use seawall_core::json::Json;
use seawall_core::options::{from_json, options_from_json, TimeUnit};
use crate::sim::{BackendModel, Bucket, Fault, LayerPolicy, Outcome, Scenario, Summary};
use seawall_core::{BreakerConfig, BudgetConfig, BulkheadConfig, RetryConfig};

/// A value as error messages show it (the options' way: `5`, `"x"`, `a list`).
fn describe(v: &Json) -> String {
    seawall_core::options::describe(&from_json(v))
}

/// A finite, non-negative number at `key` of `v` (`path` names it in errors), or `default`.
pub(crate) fn num(v: &Json, path: &str, key: &str, default: f64) -> Result<f64> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(default),
        Some(x) => match x.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(n),
            Some(_) => Err(SeawallError::out_of_range(&format!("{path}{key}"), describe(x), "a non-negative number")),
            None => Err(SeawallError::wrong_type(&format!("{path}{key}"), describe(x), "a non-negative number")),
        },
    }
}

fn whole(v: &Json, path: &str, key: &str, default: u32) -> Result<u32> {
    let n = num(v, path, key, default as f64)?;
    if n.fract() != 0.0 || n > u32::MAX as f64 {
        return Err(SeawallError::out_of_range(&format!("{path}{key}"), fmt_num(n), "a whole number"));
    }
    Ok(n as u32)
}

pub(crate) fn rate(v: &Json, path: &str, key: &str) -> Result<f64> {
    let r = num(v, path, key, 0.0)?;
    if r > 1.0 {
        return Err(SeawallError::out_of_range(&format!("{path}{key}"), fmt_num(r), "a fraction from 0 to 1"));
    }
    Ok(r)
}

/// `[startMs, endMs]` or `{"from", "to"}`, with start ≤ end.
fn window(w: &Json, path: &str) -> Result<(f64, f64)> {
    let (a, b) = match w {
        Json::Arr(items) if items.len() == 2 => (items[0].as_f64(), items[1].as_f64()),
        Json::Obj(_) => (w.get("from").and_then(Json::as_f64), w.get("to").and_then(Json::as_f64)),
        _ => (None, None),
    };
    match (a, b) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() && a <= b => Ok((a, b)),
        _ => Err(SeawallError::wrong_type(path, w.to_string(), "[startMs, endMs] or {\"from\", \"to\"} with from ≤ to")),
    }
}

fn list<'a>(v: &'a Json, key: &str) -> &'a [Json] {
    match v.get(key) {
        Some(Json::Arr(items)) => items,
        _ => &[],
    }
}

fn layer_policy(p: &Json, path: &str) -> Result<LayerPolicy> {
    let opts = |key: &str| match p.get(key) {
        Some(o @ Json::Obj(_)) => Some(options_from_json(o)),
        _ => None,
    };
    Ok(LayerPolicy {
        retry: match opts("retry") {
            Some(o) => RetryConfig::from_options(&o, TimeUnit::Millis)?,
            None => RetryConfig { max_attempts: 1, ..RetryConfig::default() },
        },
        budget: opts("budget").map(|o| BudgetConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        breaker: opts("circuitBreaker").map(|o| BreakerConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        bulkhead: opts("bulkhead").map(|o| BulkheadConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        attempt_timeout_ms: match p.get("timeout") {
            None | Some(Json::Null) => None,
            Some(_) => Some(num(p, path, "timeout", 0.0)?),
        },
    })
}

/// An error of policy `name`'s options, saying whose they are.
pub(crate) fn in_policy(name: &str, mut e: SeawallError) -> SeawallError {
    e.message = format!("policy {}: {}", quote(name), e.message);
    e
}

/// Every policy of a scenario file as a scenario of its own, in the file's order. Errors name
/// the field (`backend.errorRate`, `policies."x".layers`, or the policy option itself).
pub fn read_scenarios(text: &str) -> Result<Vec<(String, Scenario)>> {
    let doc = Json::parse(text).map_err(|e| SeawallError::wrong_type("scenario", format!("text that is not JSON ({e})"), "a JSON object"))?;
    if !matches!(doc, Json::Obj(_)) {
        return Err(SeawallError::wrong_type("scenario", describe(&doc), "a JSON object"));
    }
    let b = doc.get("backend").filter(|b| matches!(b, Json::Obj(_))).ok_or_else(|| SeawallError::wrong_type("backend", "nothing", "an object"))?;
    let outages = list(b, "outages").iter().enumerate().map(|(i, w)| window(w, &format!("backend.outages[{i}]"))).collect::<Result<Vec<_>>>()?;
    let mut faults = Vec::new();
    for (i, f) in list(b, "faults").iter().enumerate() {
        let path = format!("backend.faults[{i}].");
        let (start_ms, end_ms) = window(f, &format!("backend.faults[{i}]"))?;
        faults.push(Fault { start_ms, end_ms, error_rate: rate(f, &path, "errorRate")?, extra_latency_ms: num(f, &path, "extraLatencyMs", 0.0)? });
    }
    let backend = BackendModel {
        latency_ms: num(b, "backend.", "latencyMs", 50.0)?,
        latency_jitter_ms: num(b, "backend.", "latencyJitterMs", 0.0)?,
        error_rate: rate(b, "backend.", "errorRate")?,
        outages,
        faults,
        capacity: match b.get("capacity") {
            None | Some(Json::Null) => None,
            Some(_) => Some(whole(b, "backend.", "capacity", 0)?),
        },
    };
    let Some(Json::Obj(policies)) = doc.get("policies") else {
        return Err(SeawallError::wrong_type("policies", "nothing", "an object of named policies"));
    };
    let base = Scenario {
        seed: num(&doc, "", "seed", 1.0)? as u64,
        clients: whole(&doc, "", "clients", 100)?,
        requests_per_client: whole(&doc, "", "requestsPerClient", 10)?,
        request_interval_ms: num(&doc, "", "requestIntervalMs", 1000.0)?,
        stagger: !matches!(doc.get("stagger"), Some(Json::Bool(false))),
        layers: Vec::new(),
        backend,
        bucket_ms: match num(&doc, "", "bucketMs", 1000.0)? {
            ms if ms >= 1.0 => ms,
            ms => return Err(SeawallError::out_of_range("bucketMs", fmt_num(ms), "a number ≥ 1 (ms)")),
        },
    };
    let mut out = Vec::with_capacity(policies.len());
    for (name, p) in policies {
        let path = format!("policies.{}.", quote(name));
        let named = |e| in_policy(name, e);
        let layers = whole(p, &path, "layers", 1)?;
        if !(1..=16).contains(&layers) {
            return Err(SeawallError::out_of_range(&format!("{path}layers"), layers.to_string(), "1 to 16"));
        }
        let layer = layer_policy(p, &path).map_err(named)?;
        out.push((name.clone(), Scenario { layers: vec![layer; layers as usize], ..base.clone() }));
    }
    Ok(out)
}

impl Bucket {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("startMs", Json::Num(self.start_ms)),
            ("offered", Json::from(self.offered)),
            ("backendCalls", Json::from(self.backend_calls)),
            ("backendRetries", Json::from(self.backend_retries)),
            ("succeeded", Json::from(self.succeeded)),
            ("failed", Json::from(self.failed)),
            ("breakerRejections", Json::from(self.breaker_rejections)),
            ("bulkheadRejections", Json::from(self.bulkhead_rejections)),
            ("budgetRefusals", Json::from(self.budget_refusals)),
            ("breakerOpenMs", Json::Num(self.breaker_open_ms)),
            ("breakerHalfOpenMs", Json::Num(self.breaker_half_open_ms)),
            ("p50LatencyMs", Json::Num(self.p50_latency_ms)),
            ("p99LatencyMs", Json::Num(self.p99_latency_ms)),
        ])
    }
}

impl Summary {
    pub fn to_json(&self) -> Json {
        let s = self;
        Json::obj(vec![
            ("requests", Json::from(s.requests)),
            ("backendCalls", Json::from(s.backend_calls)),
            ("amplification", Json::Num(s.amplification)),
            ("succeeded", Json::from(s.succeeded)),
            ("successRate", Json::Num(s.success_rate)),
            ("p50LatencyMs", Json::Num(s.p50_latency_ms)),
            ("p99LatencyMs", Json::Num(s.p99_latency_ms)),
            ("peakBackendCalls", Json::from(s.peak_backend_calls)),
            ("peakBackendRetries", Json::from(s.peak_backend_retries)),
            ("breakerRejections", Json::from(s.breaker_rejections)),
            ("bulkheadRejections", Json::from(s.bulkhead_rejections)),
            ("budgetRefusals", Json::from(s.budget_refusals)),
            ("recoveryMs", Json::from(s.recovery_ms)),
            ("endedAtMs", Json::Num(s.ended_at_ms)),
        ])
    }
}

impl Outcome {
    /// `{summary: {…}, series: [{startMs, offered, backendCalls, …}]}`.
    pub fn to_json(&self) -> Json {
        Json::obj(vec![("summary", self.summary.to_json()), ("series", self.series_json())])
    }

    fn series_json(&self) -> Json {
        Json::Arr(self.series.iter().map(Bucket::to_json).collect())
    }
}

/// Runs every policy of a scenario file: `{"policies": [{"name", "summary", "series"}]}`.
pub fn simulate_file(text: &str) -> Result<String> {
    let mut results = Vec::new();
    for (name, s) in read_scenarios(text)? {
        let o = crate::sim::simulate(&s)?;
        results.push(Json::obj(vec![("name", Json::Str(name)), ("summary", o.summary.to_json()), ("series", o.series_json())]));
    }
    Ok(Json::obj(vec![("policies", Json::Arr(results))]).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/scenario.json");

    #[test]
    fn the_example_reads_into_one_scenario_per_policy() {
        let s = read_scenarios(EXAMPLE).unwrap();
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["naive immediate retries", "backoff + jitter + breaker", "... + retry budget"]);
        let (_, budget) = &s[2];
        assert_eq!(budget.layers.len(), 2);
        assert!(budget.layers[0].budget.is_some() && budget.layers[0].breaker.is_some());
        assert_eq!(budget.backend.outages, vec![(8000.0, 16000.0)]);
        assert_eq!(budget.backend.faults.len(), 1);
        assert_eq!(budget.backend.capacity, Some(100));
    }

    #[test]
    fn simulate_file_answers_every_policy_with_summary_and_series() {
        let out = Json::parse(&simulate_file(EXAMPLE).unwrap()).unwrap();
        let Some(Json::Arr(policies)) = out.get("policies") else { panic!("no policies") };
        assert_eq!(policies.len(), 3);
        let naive = &policies[0];
        assert_eq!(naive.get("name").and_then(Json::as_str), Some("naive immediate retries"));
        let amp = naive.get("summary").and_then(|s| s.get("amplification")).and_then(Json::as_f64).unwrap();
        assert!(amp > 5.0, "{amp}");
        assert!(matches!(naive.get("series"), Some(Json::Arr(b)) if b.len() > 30));
    }

    #[test]
    fn a_layer_without_retry_calls_once_and_windows_are_pairs() {
        let doc = r#"{"stagger":false,"backend":{"outages":[[5,10],{"from":20,"to":30}]},"policies":{"plain":{},"retrying":{"retry":{"maxAttempts":4}}}}"#;
        let s = read_scenarios(doc).unwrap();
        assert_eq!((s[0].1.layers[0].retry.max_attempts, s[1].1.layers[0].retry.max_attempts), (1, 4));
        assert_eq!(s[0].1.backend.outages, vec![(5.0, 10.0), (20.0, 30.0)]);
        assert!(!s[0].1.stagger);
        assert!(read_scenarios(r#"{"backend":{},"policies":{"p":{}}}"#).unwrap()[0].1.stagger, "staggered unless told");
        let e = read_scenarios(r#"{"backend":{"outages":[[5,10,15]]},"policies":{}}"#).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("backend.outages[0]"));
    }

    #[test]
    fn numbers_at_their_limits_are_taken() {
        assert_eq!(whole(&Json::parse(r#"{"n":4294967295}"#).unwrap(), "", "n", 0).unwrap(), u32::MAX);
        assert_eq!(rate(&Json::parse(r#"{"r":1}"#).unwrap(), "", "r").unwrap(), 1.0);
        assert_eq!(rate(&Json::parse(r#"{"r":0}"#).unwrap(), "", "r").unwrap(), 0.0);
    }

    #[test]
    fn bad_fields_are_named() {
        for (doc, option, needle) in [
            (r#"{"clients":-3,"backend":{},"policies":{}}"#, "clients", "got -3"),
            (r#"{"clients":2.5,"backend":{},"policies":{}}"#, "clients", "a whole number, got 2.5"),
            (r#"{"backend":{"errorRate":1.5},"policies":{}}"#, "backend.errorRate", "got 1.5"),
            (r#"{"backend":{"outages":[[5000,1000]]},"policies":{}}"#, "backend.outages[0]", "from ≤ to"),
            (r#"{"backend":{"faults":[{"from":0,"to":1,"errorRate":"x"}]},"policies":{}}"#, "backend.faults[0].errorRate", "got \"x\""),
            (r#"{"backend":{},"policies":{"p":{"layers":0}}}"#, "policies.\"p\".layers", "1 to 16, got 0"),
            (r#"{"backend":{},"policies":{"p":{"bulkhead":{"maxConcurrent":0}}}}"#, "maxConcurrent", "policy \"p\": invalid option maxConcurrent"),
            (r#"{"backend":{}}"#, "policies", "an object of named policies"),
            (r#"{"clients":4294967296,"backend":{},"policies":{}}"#, "clients", "a whole number, got 4294967296"),
            (r#"{"backend":{"errorRate":1.0000001},"policies":{}}"#, "backend.errorRate", "got 1.0000001"),
            (r#"{"bucketMs":0.5,"backend":{},"policies":{}}"#, "bucketMs", "a number ≥ 1 (ms), got 0.5"),
            (r#"[1]"#, "scenario", "a JSON object"),
            (r#"{"#, "scenario", "not JSON"),
        ] {
            let e = read_scenarios(doc).unwrap_err();
            assert_eq!(e.option.as_deref(), Some(option), "{doc}: {}", e.message);
            assert!(e.message.contains(needle), "{doc}: {} should contain {needle}", e.message);
        }
    }

    #[test]
    fn a_run_far_longer_than_its_buckets_is_refused_before_it_takes_the_memory() {
        // Found by fuzzing: a latency of 4e124 ms tried to allocate a bucket for every second of it.
        let doc = r#"{"clients":1,"requestsPerClient":2,"backend":{"latencyMs":4e124},"policies":{"p":{"timeout":1000}}}"#;
        let e = simulate_file(doc).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("bucketMs"), "{}", e.message);
        assert!(e.message.contains("at most 100000 buckets (an event falls at 4e+124 ms), got 1000"), "{}", e.message);
        // Within the limit it runs: the same latency over buckets wide enough.
        let wide = r#"{"clients":1,"requestsPerClient":2,"bucketMs":1e121,"backend":{"latencyMs":4e124},"policies":{"p":{"timeout":1000}}}"#;
        assert!(simulate_file(wide).is_ok());
    }

    #[test]
    fn buckets_of_any_width_end_the_run() {
        // Found by fuzzing: with 11.2 ms buckets, `3 × 11.2 / 11.2` rounds below 3 and the
        // breaker's open time was added to one bucket edge for ever.
        let doc = r#"{"clients":2,"requestsPerClient":20,"requestIntervalMs":250,"bucketMs":11.2,"backend":{"outages":[[1000,4000]]},"policies":{"p":{"circuitBreaker":{"failureThreshold":3,"resetTimeout":500},"timeout":1000}}}"#;
        let out = Json::parse(&simulate_file(doc).unwrap()).unwrap();
        let Some(Json::Arr(policies)) = out.get("policies") else { panic!("no policies") };
        let Some(Json::Arr(series)) = policies[0].get("series") else { panic!("no series") };
        let open: f64 = series.iter().filter_map(|b| b.get("breakerOpenMs").and_then(Json::as_f64)).sum();
        assert!(open > 1000.0 && open < 3500.0, "{open} ms open");
    }
}
