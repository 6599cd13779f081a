//! What hedging does to a long-tail backend, simulated on a virtual clock with the core's own
//! hedging machine (`seawall_core::hedge`): the latency of the answers (p50, p99, p99.9) and the
//! extra backend calls it costs; and, through an outage in which every call is slow, whether the
//! budget and the throttle stop the hedges.
//!
//! Model: one request every `intervalMs`, `requests` in all. Each backend call takes `latencyMs`
//! plus up to `latencyJitterMs`, except that with probability `tailRate` it stalls for `tailMs`
//! (a garbage collection, a slow disk); a call started inside the outage `[from, to)` takes
//! `outage.latencyMs`. A losing attempt is cancelled when the call is decided: it was a backend
//! call all the same (counted in `backendCalls`).
//!
//! ```json
//! { "seed": 7, "requests": 100000, "intervalMs": 1,
//!   "backend": { "latencyMs": 10, "latencyJitterMs": 10, "tailRate": 0.01, "tailMs": 1000,
//!                "outage": { "from": 60000, "to": 80000, "latencyMs": 400 } },
//!   "policies": { "no hedging": null, "fixed 50 ms": { "delay": 50 }, "p95": { "percentile": 95, "delay": 50 } } }
//! ```

use std::collections::BinaryHeap;

use seawall_core::error::{Result, SeawallError};
use seawall_core::hedge::{AttemptOutcome, HedgeCall, HedgeConfig, HedgeStep, Hedger};
use seawall_core::json::Json;
use seawall_core::options::{options_from_json, TimeUnit};
use seawall_core::rng::SeededRng;

use crate::scenario::{in_policy, num, rate};
use crate::sim::{nearest_rank, Queued};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    pub from_ms: f64,
    pub to_ms: f64,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TailBackend {
    pub latency_ms: f64,
    pub latency_jitter_ms: f64,
    pub tail_rate: f64,
    pub tail_ms: f64,
    pub outage: Option<Outage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HedgeScenario {
    pub seed: u64,
    pub requests: u32,
    pub interval_ms: f64,
    pub backend: TailBackend,
    /// Each policy by name; `None`: no hedging.
    pub policies: Vec<(String, Option<HedgeConfig>)>,
}

/// Latencies and load of one policy's run.
#[derive(Debug, Clone, PartialEq)]
pub struct HedgeSummary {
    pub requests: u64,
    pub backend_calls: u64,
    /// Backend calls beyond one per request, as a fraction of the requests.
    pub extra_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub hedge_wins: u64,
    pub budget_refused: u64,
    pub throttle_refused: u64,
    /// Through the outage: requests started in it and the extra backend calls they made.
    pub outage_requests: u64,
    pub outage_extra_calls: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Request(u32),
    /// Attempt `k` of request `r` answers.
    Answer(u32, u32),
    /// Request `r`'s next hedge is due (if it still waits for it at this time).
    Due(u32, f64),
}

struct Request {
    started: f64,
    call: Option<HedgeCall>,
    /// The hedge deadline a `Due` event is queued for.
    due: f64,
    in_outage: bool,
}

/// Runs one policy through the scenario.
pub fn simulate_hedging(s: &HedgeScenario, policy: Option<&HedgeConfig>) -> HedgeSummary {
    let mut rng = SeededRng::new(s.seed);
    let mut hedger = policy.map(|c| Hedger::new(c.clone(), 0.0));
    let mut queue = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |queue: &mut BinaryHeap<Queued<Event>>, at: f64, event: Event| {
        seq += 1;
        queue.push(Queued { at, seq, event });
    };
    let b = s.backend;
    let mut requests: Vec<Request> = Vec::with_capacity(s.requests as usize);
    let mut latencies: Vec<f64> = Vec::with_capacity(s.requests as usize);
    let (mut backend_calls, mut outage_requests, mut outage_extra) = (0u64, 0u64, 0u64);
    if s.requests > 0 {
        push(&mut queue, 0.0, Event::Request(0));
    }
    // One backend call: when it answers.
    let mut call_backend = |rng: &mut SeededRng, now: f64| -> f64 {
        backend_calls += 1;
        if let Some(o) = b.outage {
            if now >= o.from_ms && now < o.to_ms {
                return now + o.latency_ms;
            }
        }
        let jitter = rng.next_f64() * b.latency_jitter_ms;
        if rng.next_f64() < b.tail_rate {
            now + b.tail_ms
        } else {
            now + b.latency_ms + jitter
        }
    };
    while let Some(Queued { at: now, event, .. }) = queue.pop() {
        let (r, step) = match event {
            Event::Request(n) => {
                if n + 1 < s.requests {
                    push(&mut queue, now + s.interval_ms, Event::Request(n + 1));
                }
                let in_outage = b.outage.is_some_and(|o| now >= o.from_ms && now < o.to_ms);
                outage_requests += u64::from(in_outage);
                let answer = call_backend(&mut rng, now);
                push(&mut queue, answer, Event::Answer(n, 0));
                let mut call = hedger.as_mut().map(|h| h.start(now));
                let step = match (&mut hedger, &mut call) {
                    (Some(h), Some(c)) => h.step(c, now),
                    _ => HedgeStep::Wait(f64::INFINITY),
                };
                requests.push(Request { started: now, call, due: f64::NAN, in_outage });
                (n, step)
            }
            Event::Answer(n, k) => {
                let req = &mut requests[n as usize];
                let Some(h) = hedger.as_mut() else {
                    latencies.push(now - req.started);
                    continue;
                };
                let Some(c) = req.call.as_mut() else { continue }; // decided: a cancelled loser
                match h.settle(c, k, AttemptOutcome::Success, now) {
                    Ok(step) => (n, step),
                    Err(_) => continue,
                }
            }
            Event::Due(n, at) => {
                let req = &mut requests[n as usize];
                let (Some(h), Some(c)) = (hedger.as_mut(), req.call.as_mut()) else { continue };
                if req.due != at {
                    continue; // superseded
                }
                (n, h.step(c, now))
            }
        };
        // Do what the step says, until it says to wait.
        let mut step = step;
        loop {
            let req = &mut requests[r as usize];
            match step {
                HedgeStep::Launch(k) => {
                    let answer = call_backend(&mut rng, now);
                    if req.in_outage {
                        outage_extra += 1;
                    }
                    push(&mut queue, answer, Event::Answer(r, k));
                    let (Some(h), Some(c)) = (hedger.as_mut(), req.call.as_mut()) else { break };
                    step = h.step(c, now);
                }
                HedgeStep::Wait(t) => {
                    if t.is_finite() && req.due != t {
                        req.due = t;
                        push(&mut queue, t, Event::Due(r, t));
                    }
                    break;
                }
                HedgeStep::Won(_) | HedgeStep::Failed(_) => {
                    latencies.push(now - req.started);
                    req.call = None;
                    break;
                }
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |q: f64| nearest_rank(&latencies, q);
    let stats = hedger.as_mut().map(|h| h.stats_json(0.0));
    let count = |k: &str| stats.as_ref().and_then(|s| s.get(k)).and_then(Json::as_f64).unwrap_or(0.0) as u64;
    let n = u64::from(s.requests);
    HedgeSummary {
        requests: n,
        backend_calls,
        extra_rate: if n == 0 { 0.0 } else { (backend_calls - n) as f64 / n as f64 },
        p50_ms: pct(50.0),
        p99_ms: pct(99.0),
        p999_ms: pct(99.9),
        hedge_wins: count("hedgeWins"),
        budget_refused: count("budgetRefused"),
        throttle_refused: count("throttleRefused"),
        outage_requests,
        outage_extra_calls: outage_extra,
    }
}

/// The most extra calls the budget allows through the outage: its starting tokens, its ratio of
/// the requests there, and its trickle over the outage's length.
pub fn outage_budget(config: &HedgeConfig, outage: &Outage, requests: u64) -> Option<f64> {
    let b = config.budget.as_ref()?;
    Some(b.max_tokens + b.ratio * requests as f64 + b.min_retries_per_second * (outage.to_ms - outage.from_ms) / 1000.0)
}

/// Reads a hedging scenario (the module's format); a policy's options are a hedging policy's,
/// durations in ms. Errors name the field (`backend.tailRate`, or the policy and its option).
pub fn read_hedging(text: &str) -> Result<HedgeScenario> {
    let doc = Json::parse(text).map_err(|e| SeawallError::wrong_type("scenario", format!("text that is not JSON ({e})"), "a JSON object"))?;
    let empty = Json::Obj(Vec::new());
    let b = doc.get("backend").unwrap_or(&empty);
    let outage = match b.get("outage") {
        None | Some(Json::Null) => None,
        Some(o) => Some(Outage {
            from_ms: num(o, "backend.outage.", "from", 0.0)?,
            to_ms: num(o, "backend.outage.", "to", 0.0)?,
            latency_ms: num(o, "backend.outage.", "latencyMs", 0.0)?,
        }),
    };
    let mut policies = Vec::new();
    if let Some(Json::Obj(entries)) = doc.get("policies") {
        for (name, p) in entries {
            let config = match p {
                Json::Null => None,
                other => Some(HedgeConfig::from_options(&options_from_json(other), TimeUnit::Millis).map_err(|e| in_policy(name, e))?),
            };
            policies.push((name.clone(), config));
        }
    }
    Ok(HedgeScenario {
        seed: num(&doc, "", "seed", 0.0)? as u64,
        requests: num(&doc, "", "requests", 0.0)?.min(f64::from(u32::MAX)) as u32,
        interval_ms: num(&doc, "", "intervalMs", 1.0)?,
        backend: TailBackend {
            latency_ms: num(b, "backend.", "latencyMs", 10.0)?,
            latency_jitter_ms: num(b, "backend.", "latencyJitterMs", 0.0)?,
            tail_rate: rate(b, "backend.", "tailRate")?,
            tail_ms: num(b, "backend.", "tailMs", 0.0)?,
            outage,
        },
        policies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> HedgeScenario {
        read_hedging(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hedging.json")).unwrap()).unwrap()
    }

    fn run(s: &HedgeScenario, name: &str) -> (Option<HedgeConfig>, HedgeSummary) {
        let (_, config) = s.policies.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no policy {name}"));
        (config.clone(), simulate_hedging(s, config.as_ref()))
    }

    /// The goal: hedging at p95 cuts p99.9 at least tenfold for at most 5% more backend calls.
    #[test]
    fn hedging_at_p95_cuts_the_tail_tenfold_for_at_most_five_percent_more_calls() {
        let mut s = example();
        s.backend.outage = None;
        let (_, none) = run(&s, "no hedging");
        let (_, p95) = run(&s, "hedge at p95");
        assert!(none.p999_ms >= 10.0 * p95.p999_ms, "p99.9 {} → {}", none.p999_ms, p95.p999_ms);
        assert!(p95.extra_rate <= 0.05, "extra calls {}", p95.extra_rate);
        assert!(p95.p50_ms <= none.p50_ms * 1.05, "the median does not suffer: {} → {}", none.p50_ms, p95.p50_ms);
    }

    /// Through an outage in which every call is slow, the extra calls stay within the budget
    /// (and the throttle stops them well before).
    #[test]
    fn an_outage_never_gets_more_hedges_than_the_budget() {
        let s = example();
        let outage = s.backend.outage.unwrap();
        for name in ["hedge after 50 ms", "hedge at p95"] {
            let (config, r) = run(&s, name);
            let bound = outage_budget(config.as_ref().unwrap(), &outage, r.outage_requests).unwrap();
            assert!((r.outage_extra_calls as f64) <= bound, "{name}: {} extra calls in the outage, budget {bound}", r.outage_extra_calls);
            assert!(r.throttle_refused > 0, "{name}: the throttle stopped hedging");
        }
    }
}
