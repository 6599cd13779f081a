//! A deterministic discrete-event simulator of clients calling a backend through layers of
//! services, each with its own policy stack (retry with backoff and jitter, a retry budget, a
//! breaker, a per-attempt timeout), all decided by the core's own machines on a virtual clock.
//!
//! It answers "what will this policy do to a struggling backend": how many backend calls each
//! client request becomes (load amplification), how many succeed, how fast. Same scenario and
//! seed, same result, on every platform. No I/O: the caller reads scenarios and draws charts.
//!
//! Model: `clients` each send `requests_per_client` requests, `request_interval_ms` apart
//! (starting together at 0, or spread when `stagger` is set). A request enters layer 0; every
//! attempt at layer `i` calls layer `i + 1`, and the last layer calls the backend. The backend
//! answers after `latency_ms` (+ up to `latency_jitter_ms`), failing during outages, with
//! probability `error_rate` (or a fault window's rate, with its extra latency), and whenever more
//! than `capacity` calls are in progress. A timed-out attempt fails at its deadline while the
//! work it started goes on (and keeps its capacity). A layer's bulkhead wraps its retries (the
//! shells' wrap order): a call holds one slot across all its attempts, or waits in its queue.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use seawall_core::breaker::{BreakerConfig, CircuitBreaker, CircuitState, Permit};
use seawall_core::budget::{BudgetConfig, RetryBudget};
use seawall_core::bulkhead::{Admission, Bulkhead, BulkheadConfig, BulkheadPermit, Ticket};
use seawall_core::retry::{FailureClass, GiveUpReason, RetryConfig, RetryDecision, RetryState};
use seawall_core::rng::SeededRng;
use seawall_core::error::{fmt_num, SeawallError};

/// One service layer's policy stack.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPolicy {
    pub retry: RetryConfig,
    pub budget: Option<BudgetConfig>,
    pub breaker: Option<BreakerConfig>,
    pub bulkhead: Option<BulkheadConfig>,
    pub attempt_timeout_ms: Option<f64>,
}

/// A window `[start_ms, end_ms)` of degraded service: its error rate replaces the base one and
/// its extra latency adds to every call (a brownout; an outage is a window with rate 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    pub start_ms: f64,
    pub end_ms: f64,
    pub error_rate: f64,
    pub extra_latency_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackendModel {
    pub latency_ms: f64,
    pub latency_jitter_ms: f64,
    pub error_rate: f64,
    /// Windows `[start, end)` in which every call fails.
    pub outages: Vec<(f64, f64)>,
    pub faults: Vec<Fault>,
    /// Calls in progress beyond which new calls fail (overload).
    pub capacity: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub seed: u64,
    pub clients: u32,
    pub requests_per_client: u32,
    pub request_interval_ms: f64,
    /// Spread the clients' first requests evenly over one interval instead of all at 0.
    pub stagger: bool,
    pub layers: Vec<LayerPolicy>,
    pub backend: BackendModel,
    /// Width of the time buckets of the series.
    pub bucket_ms: f64,
}

/// Counts per time bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bucket {
    pub start_ms: f64,
    pub offered: u64,
    pub backend_calls: u64,
    /// Backend calls that were retries (attempt 2 or later of the last layer).
    pub backend_retries: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub breaker_rejections: u64,
    /// Calls a full bulkhead refused, or whose wait in its queue timed out.
    pub bulkhead_rejections: u64,
    pub budget_refusals: u64,
    /// Time within the bucket that the breaker nearest the backend spent open (or forced
    /// open), and half-open; `0` without a breaker.
    pub breaker_open_ms: f64,
    pub breaker_half_open_ms: f64,
    /// Latency of the client requests answered in this bucket (`0` when none).
    pub p50_latency_ms: f64,
    pub p99_latency_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub requests: u64,
    pub backend_calls: u64,
    /// Backend calls per client request.
    pub amplification: f64,
    pub succeeded: u64,
    pub success_rate: f64,
    pub p50_latency_ms: f64,
    pub p99_latency_ms: f64,
    /// Most backend calls started in one bucket.
    pub peak_backend_calls: u64,
    /// Most backend retries started in one bucket (how synchronized retries are).
    pub peak_backend_retries: u64,
    pub breaker_rejections: u64,
    pub bulkhead_rejections: u64,
    pub budget_refusals: u64,
    /// From the end of the last outage or fault window to the first bucket where at least 90% of the answered
    /// requests succeed; `None` with no outage, or when it never recovers.
    pub recovery_ms: Option<f64>,
    pub ended_at_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub summary: Summary,
    pub series: Vec<Bucket>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    /// Client `client` sends its request number `n` (and schedules its next one).
    Request { client: u32, n: u32 },
    StartAttempt { call: usize },
    AttemptDone { call: usize, attempt: u32, ok: bool },
    AttemptTimeout { call: usize, attempt: u32 },
    /// A queued call got its bulkhead slot.
    Admitted { call: usize },
    BulkheadDeadline { layer: usize },
    /// The backend finishes a call (freeing its capacity), which answers the attempt unless
    /// that timed out first.
    BackendDone { call: usize, attempt: u32, ok: bool },
}

/// An event due at `at`, in a simulation's queue (`seq`: the order it was scheduled in).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Queued<E> {
    pub(crate) at: f64,
    pub(crate) seq: u64,
    pub(crate) event: E,
}

impl<E: PartialEq> Eq for Queued<E> {}
impl<E: PartialEq> PartialOrd for Queued<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E: PartialEq> Ord for Queued<E> {
    /// Earliest first (BinaryHeap is a max-heap), ties in scheduling order.
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.total_cmp(&self.at).then_with(|| other.seq.cmp(&self.seq))
    }
}

struct Call {
    layer: usize,
    /// The call one layer up and its attempt that made this call: a child of an attempt that
    /// was abandoned (timed out) must not end the attempt running now.
    parent: Option<(usize, u32)>,
    retry: RetryState,
    started_at: f64,
    attempt: u32,
    attempt_started: f64,
    permit: Option<Permit>,
    slot: Option<BulkheadPermit>,
    pending: bool,
}

struct Layer {
    policy: LayerPolicy,
    budget: Option<RetryBudget>,
    breaker: Option<CircuitBreaker>,
    bulkhead: Option<Bulkhead>,
    /// Queued calls by ticket, in ticket order.
    waiting: std::collections::BTreeMap<Ticket, usize>,
}

/// The watched breaker's state since a time, to split state durations over buckets.
struct StateTrack {
    layer: usize,
    state: CircuitState,
    since: f64,
}

/// Runs a scenario to the end (every request answered).
pub fn simulate(s: &Scenario) -> seawall_core::Result<Outcome> {
    let mut layers = Vec::with_capacity(s.layers.len());
    for p in &s.layers {
        layers.push(Layer {
            budget: p.budget.map(|b| RetryBudget::new(b, 0.0)),
            breaker: match &p.breaker {
                Some(c) => Some(CircuitBreaker::new(c.clone())?),
                None => None,
            },
            bulkhead: match &p.bulkhead {
                Some(c) => Some(Bulkhead::new(*c)?),
                None => None,
            },
            waiting: Default::default(),
            policy: p.clone(),
        });
    }
    let track = layers.iter().rposition(|l| l.breaker.is_some()).map(|layer| StateTrack { layer, state: CircuitState::Closed, since: 0.0 });
    let mut sim = Sim { s, layers, rng: SeededRng::new(s.seed), queue: BinaryHeap::new(), seq: 0, calls: Vec::new(), in_flight: 0, series: Vec::new(), bucket_latencies: Vec::new(), track, now: 0.0 };
    // One pending request per client (each schedules the next): the queue stays as small as
    // the number of clients and calls in flight, which keeps every push and pop cheap.
    if s.requests_per_client > 0 {
        for c in 0..s.clients {
            let offset = if s.stagger { s.request_interval_ms * c as f64 / s.clients as f64 } else { 0.0 };
            sim.push(offset, Event::Request { client: c, n: 0 });
        }
    }
    while let Some(q) = sim.queue.pop() {
        // The series has a bucket for every stretch of the run: a run far longer than its
        // buckets are wide (a latency of 1e100 ms, buckets of 1 ms over days) is refused before
        // it takes the memory.
        if sim.index_at(q.at) >= MAX_BUCKETS {
            let expected = format!("a bucket width that covers the run in at most {MAX_BUCKETS} buckets (an event falls at {} ms)", fmt_num(q.at));
            return Err(SeawallError::out_of_range("bucketMs", fmt_num(sim.width()), &expected));
        }
        sim.now = q.at;
        sim.handle(q.event);
    }
    Ok(sim.finish())
}

/// Most buckets in a run's series.
pub const MAX_BUCKETS: usize = 100_000;

struct Sim<'a> {
    s: &'a Scenario,
    layers: Vec<Layer>,
    rng: SeededRng,
    queue: BinaryHeap<Queued<Event>>,
    seq: u64,
    calls: Vec<Call>,
    in_flight: u32,
    series: Vec<Bucket>,
    /// Latencies of the answered client requests, per bucket.
    bucket_latencies: Vec<Vec<f64>>,
    track: Option<StateTrack>,
    now: f64,
}

impl Sim<'_> {
    fn push(&mut self, at: f64, event: Event) {
        self.seq += 1;
        self.queue.push(Queued { at, seq: self.seq, event });
    }

    fn width(&self) -> f64 {
        if self.s.bucket_ms > 0.0 { self.s.bucket_ms } else { 1000.0 }
    }

    /// The bucket that time `at` falls in.
    fn index_at(&self, at: f64) -> usize {
        (at / self.width()).floor().max(0.0) as usize
    }

    fn bucket_at(&mut self, at: f64) -> &mut Bucket {
        self.bucket_i(self.index_at(at))
    }

    /// Bucket `i` (made, with those before it, when the run first reaches it).
    fn bucket_i(&mut self, i: usize) -> &mut Bucket {
        let width = self.width();
        while self.series.len() <= i {
            let start_ms = self.series.len() as f64 * width;
            self.series.push(Bucket { start_ms, ..Bucket::default() });
        }
        &mut self.series[i]
    }

    fn bucket(&mut self) -> &mut Bucket {
        self.bucket_at(self.now)
    }

    /// Adds the watched breaker's time in `state` over `[from, to)` to the buckets it spans.
    fn add_state_time(&mut self, state: CircuitState, from: f64, to: f64) {
        let field: fn(&mut Bucket) -> &mut f64 = match state {
            CircuitState::Open | CircuitState::ForcedOpen => |b| &mut b.breaker_open_ms,
            CircuitState::HalfOpen => |b| &mut b.breaker_half_open_ms,
            CircuitState::Closed | CircuitState::Disabled => return,
        };
        // Bucket by bucket by index: stepping a time by the width loops for ever where
        // `k × width / width` rounds below `k` (widths such as 11.2 ms).
        let width = self.width();
        for i in self.index_at(from)..=self.index_at(to) {
            let (start, end) = (i as f64 * width, (i + 1) as f64 * width);
            let slice = end.min(to) - start.max(from);
            if slice > 0.0 {
                *field(self.bucket_i(i)) += slice;
            }
        }
    }

    /// Follows the watched breaker after any operation on `layer`'s breaker.
    fn observe_breaker(&mut self, layer: usize) {
        let Some(track) = self.track.as_ref() else { return };
        if track.layer != layer {
            return;
        }
        let state = self.layers[layer].breaker.as_ref().map_or(CircuitState::Closed, |b| b.state());
        let (prev, since) = (track.state, track.since);
        if state != prev {
            self.add_state_time(prev, since, self.now);
            self.track = Some(StateTrack { layer, state, since: self.now });
        }
    }

    fn new_call(&mut self, layer: usize, parent: Option<usize>) -> usize {
        let parent = parent.map(|p| (p, self.calls[p].attempt));
        let retry = RetryState::start(&self.layers[layer].policy.retry, self.now);
        self.calls.push(Call { layer, parent, retry, started_at: self.now, attempt: 0, attempt_started: self.now, permit: None, slot: None, pending: false });
        self.calls.len() - 1
    }

    /// A call enters its layer: through the bulkhead if there is one, then its first attempt.
    fn enter(&mut self, call: usize) {
        let layer = self.calls[call].layer;
        let Some(bh) = self.layers[layer].bulkhead.as_mut() else { return self.start_attempt(call) };
        match bh.try_acquire(self.now) {
            Admission::Run(slot) => {
                self.calls[call].slot = Some(slot);
                self.start_attempt(call);
            }
            Admission::Queued { ticket, .. } => {
                self.layers[layer].waiting.insert(ticket, call);
                if let Some(at) = self.layers[layer].bulkhead.as_ref().and_then(Bulkhead::poll_timeout) {
                    self.push(at, Event::BulkheadDeadline { layer });
                }
            }
            Admission::Rejected(_) => {
                self.bucket().bulkhead_rejections += 1;
                self.complete(call, false);
            }
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Request { client, n } => {
                if n + 1 < self.s.requests_per_client {
                    self.push(self.now + self.s.request_interval_ms, Event::Request { client, n: n + 1 });
                }
                self.bucket().offered += 1;
                let call = self.new_call(0, None);
                self.enter(call);
            }
            Event::Admitted { call } => self.start_attempt(call),
            Event::BulkheadDeadline { layer } => {
                let Some(bh) = self.layers[layer].bulkhead.as_mut() else { return };
                bh.handle_timeout(self.now);
                while let Some(ticket) = self.layers[layer].bulkhead.as_mut().and_then(Bulkhead::poll_expired) {
                    if let Some(call) = self.layers[layer].waiting.remove(&ticket) {
                        self.bucket().bulkhead_rejections += 1;
                        self.complete(call, false);
                    }
                }
            }
            Event::StartAttempt { call } => self.start_attempt(call),
            Event::AttemptDone { call, attempt, ok } => {
                if self.calls[call].pending && self.calls[call].attempt == attempt {
                    self.end_attempt(call, ok);
                }
            }
            Event::AttemptTimeout { call, attempt } => {
                if self.calls[call].pending && self.calls[call].attempt == attempt {
                    self.end_attempt(call, false);
                }
            }
            Event::BackendDone { call, attempt, ok } => {
                self.in_flight -= 1;
                self.handle(Event::AttemptDone { call, attempt, ok });
            }
        }
    }

    fn start_attempt(&mut self, call: usize) {
        let now = self.now;
        let layer = self.calls[call].layer;
        let c = &mut self.calls[call];
        c.attempt += 1;
        c.attempt_started = now;
        c.pending = true;
        c.permit = None;
        let attempt = c.attempt;
        if let Some(b) = self.layers[layer].breaker.as_mut() {
            let acquired = b.try_acquire(now);
            self.observe_breaker(layer);
            match acquired {
                Ok(p) => self.calls[call].permit = Some(p),
                Err(_) => {
                    self.bucket().breaker_rejections += 1;
                    self.calls[call].pending = false;
                    // Fail fast: an open breaker's refusal is not retried.
                    return self.fail(call, FailureClass::NotRetryable);
                }
            }
        }
        let timeout = self.layers[layer].policy.attempt_timeout_ms;
        if layer + 1 < self.layers.len() {
            if let Some(t) = timeout {
                self.push(now + t, Event::AttemptTimeout { call, attempt });
            }
            let child = self.new_call(layer + 1, Some(call));
            self.enter(child);
        } else {
            self.call_backend(call, attempt, timeout);
        }
    }

    fn call_backend(&mut self, call: usize, attempt: u32, timeout: Option<f64>) {
        let now = self.now;
        let m = &self.s.backend;
        let retry = self.calls[call].attempt > 1;
        let b = self.bucket();
        b.backend_calls += 1;
        b.backend_retries += retry as u64;
        let fault = m.faults.iter().find(|f| now >= f.start_ms && now < f.end_ms);
        let (error_rate, extra_ms) = fault.map_or((m.error_rate, 0.0), |f| (f.error_rate, f.extra_latency_ms));
        let latency = m.latency_ms + extra_ms + self.rng.uniform(0.0, m.latency_jitter_ms.max(0.0));
        let down = m.outages.iter().any(|(a, b)| now >= *a && now < *b);
        let overloaded = m.capacity.is_some_and(|c| self.in_flight >= c);
        let error = self.rng.next_f64() < error_rate;
        self.in_flight += 1;
        // The answer's time is known: a timeout event is needed only if it comes first (at a
        // tie the timeout wins, as it is scheduled first).
        if let Some(t) = timeout.filter(|t| *t <= latency) {
            self.push(now + t, Event::AttemptTimeout { call, attempt });
        }
        self.push(now + latency, Event::BackendDone { call, attempt, ok: !(down || overloaded || error) });
    }

    fn end_attempt(&mut self, call: usize, ok: bool) {
        let now = self.now;
        let c = &mut self.calls[call];
        c.pending = false;
        let (layer, permit, duration) = (c.layer, c.permit.take(), now - c.attempt_started);
        let l = &mut self.layers[layer];
        if let (Some(b), Some(p)) = (l.breaker.as_mut(), permit) {
            let _ = if ok { b.record_success(now, p, duration) } else { b.record_failure(now, p, duration) };
            self.observe_breaker(layer);
        }
        let l = &mut self.layers[layer];
        if ok {
            if let Some(b) = l.budget.as_mut() {
                b.record_success(now);
            }
            self.complete(call, true);
        } else {
            self.fail(call, FailureClass::Retryable);
        }
    }

    fn fail(&mut self, call: usize, class: FailureClass) {
        let now = self.now;
        let layer = self.calls[call].layer;
        let l = &mut self.layers[layer];
        let decision = self.calls[call].retry.on_failure(&l.policy.retry, now, class, &mut self.rng, l.budget.as_mut());
        match decision {
            RetryDecision::Retry { delay_ms, .. } => self.push(now + delay_ms, Event::StartAttempt { call }),
            RetryDecision::GiveUp { reason, .. } => {
                if reason == GiveUpReason::BudgetExhausted {
                    self.bucket().budget_refusals += 1;
                }
                self.complete(call, false);
            }
        }
    }

    fn complete(&mut self, call: usize, ok: bool) {
        let layer = self.calls[call].layer;
        if let Some(slot) = self.calls[call].slot.take() {
            // The slot goes to the head of the queue; it starts as its own event so a long
            // queue does not recurse.
            let next = self.layers[layer].bulkhead.as_mut().and_then(|bh| bh.release(self.now, slot).ok().flatten());
            if let Some((ticket, slot)) = next {
                if let Some(waiting) = self.layers[layer].waiting.remove(&ticket) {
                    self.calls[waiting].slot = Some(slot);
                    self.push(self.now, Event::Admitted { call: waiting });
                }
            }
        }
        match self.calls[call].parent {
            Some((parent, attempt)) => {
                self.handle(Event::AttemptDone { call: parent, attempt, ok });
            }
            None => {
                let latency = self.now - self.calls[call].started_at;
                let i = self.index_at(self.now);
                if self.bucket_latencies.len() <= i {
                    self.bucket_latencies.resize_with(i + 1, Vec::new);
                }
                self.bucket_latencies[i].push(latency);
                let b = self.bucket();
                if ok {
                    b.succeeded += 1;
                } else {
                    b.failed += 1;
                }
            }
        }
    }

    fn finish(mut self) -> Outcome {
        if let Some(t) = self.track.take() {
            self.add_state_time(t.state, t.since, self.now);
        }
        let mut latencies: Vec<f64> = self.bucket_latencies.iter().flatten().copied().collect();
        latencies.sort_by(f64::total_cmp);
        for (i, mut l) in std::mem::take(&mut self.bucket_latencies).into_iter().enumerate() {
            if l.is_empty() {
                continue;
            }
            l.sort_by(f64::total_cmp);
            let b = self.bucket_i(i);
            b.p50_latency_ms = percentile(&l, 0.5);
            b.p99_latency_ms = percentile(&l, 0.99);
        }
        let requests: u64 = self.series.iter().map(|b| b.offered).sum();
        let backend_calls: u64 = self.series.iter().map(|b| b.backend_calls).sum();
        let succeeded: u64 = self.series.iter().map(|b| b.succeeded).sum();
        let m = &self.s.backend;
        let outage_end = m.outages.iter().map(|(_, end)| *end).chain(m.faults.iter().map(|f| f.end_ms)).fold(f64::NEG_INFINITY, f64::max);
        let recovery_ms = outage_end.is_finite().then(|| {
            self.series.iter().find(|b| b.start_ms >= outage_end && b.succeeded + b.failed > 0 && b.succeeded * 10 >= (b.succeeded + b.failed) * 9).map(|b| b.start_ms - outage_end)
        }).flatten();
        let summary = Summary {
            requests,
            backend_calls,
            amplification: if requests == 0 { 0.0 } else { backend_calls as f64 / requests as f64 },
            succeeded,
            success_rate: if requests == 0 { 0.0 } else { succeeded as f64 / requests as f64 },
            p50_latency_ms: percentile(&latencies, 0.5),
            p99_latency_ms: percentile(&latencies, 0.99),
            peak_backend_calls: self.series.iter().map(|b| b.backend_calls).max().unwrap_or(0),
            peak_backend_retries: self.series.iter().map(|b| b.backend_retries).max().unwrap_or(0),
            breaker_rejections: self.series.iter().map(|b| b.breaker_rejections).sum(),
            bulkhead_rejections: self.series.iter().map(|b| b.bulkhead_rejections).sum(),
            budget_refusals: self.series.iter().map(|b| b.budget_refusals).sum(),
            recovery_ms,
            ended_at_ms: self.now,
        };
        Outcome { summary, series: self.series }
    }
}

/// The percentile `q` (0–100) of sorted values by nearest rank — the smallest value at least
/// `q`% of them are at or below (`0` for none); the hedging and overload reports' percentiles.
pub(crate) fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Percentile of sorted values at the rounded index `(n − 1) × p` (`0` for none).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        0.0
    } else {
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seawall_core::backoff::{BackoffConfig, BackoffKind, Jitter};

    fn retry(attempts: u32, base_ms: f64, jitter: Jitter) -> RetryConfig {
        RetryConfig {
            max_attempts: attempts,
            backoff: BackoffConfig { kind: BackoffKind::Exponential { multiplier: 2.0 }, base_ms, max_ms: 60_000.0, jitter },
            ..RetryConfig::default()
        }
    }

    fn down_backend() -> BackendModel {
        BackendModel { latency_ms: 10.0, latency_jitter_ms: 0.0, error_rate: 1.0, outages: vec![], faults: vec![], capacity: None }
    }

    fn scenario(layers: Vec<LayerPolicy>, clients: u32, backend: BackendModel) -> Scenario {
        Scenario { seed: 7, clients, requests_per_client: 1, request_interval_ms: 1000.0, stagger: false, layers, backend, bucket_ms: 100.0 }
    }

    #[test]
    fn three_attempts_at_five_layers_is_243x_when_the_backend_is_down() {
        let layer = LayerPolicy { retry: retry(3, 0.0, Jitter::None), budget: None, breaker: None, bulkhead: None, attempt_timeout_ms: None };
        let out = simulate(&scenario(vec![layer; 5], 1, down_backend())).unwrap();
        assert_eq!(out.summary.backend_calls, 243);
        assert_eq!(out.summary.amplification, 243.0);
        assert_eq!(out.summary.succeeded, 0);
    }

    #[test]
    fn a_20_percent_budget_per_layer_keeps_amplification_under_1_2_to_the_5th() {
        let budget = BudgetConfig { ratio: 0.2, min_retries_per_second: 0.0, max_tokens: 10.0, fleet: None };
        let layer = LayerPolicy { retry: retry(3, 0.0, Jitter::None), budget: Some(budget), breaker: None, bulkhead: None, attempt_timeout_ms: None };
        let mut s = scenario(vec![layer; 5], 1000, down_backend());
        s.stagger = true;
        let out = simulate(&s).unwrap();
        assert!(out.summary.amplification <= 1.2f64.powi(5), "amplification {}", out.summary.amplification);
        assert!(out.summary.amplification >= 1.0);
        assert!(out.series.iter().map(|b| b.budget_refusals).sum::<u64>() > 0);
    }

    #[test]
    fn jitter_lowers_the_peak_of_synchronized_retries() {
        let backend = BackendModel { latency_ms: 5.0, latency_jitter_ms: 0.0, error_rate: 0.0, outages: vec![(0.0, 3000.0)], faults: vec![], capacity: None };
        let run = |jitter| {
            let layer = LayerPolicy { retry: retry(6, 200.0, jitter), budget: None, breaker: None, bulkhead: None, attempt_timeout_ms: None };
            let mut s = scenario(vec![layer], 100, backend.clone());
            s.bucket_ms = 10.0;
            simulate(&s).unwrap().summary
        };
        let plain = run(Jitter::None);
        let jittered = run(Jitter::Equal);
        assert_eq!(plain.peak_backend_retries, 100, "without jitter every client retries in the same instant");
        assert!(jittered.peak_backend_retries * 4 < plain.peak_backend_retries, "{} vs {}", jittered.peak_backend_retries, plain.peak_backend_retries);
        assert!(plain.backend_calls >= 500 && jittered.backend_calls >= 500, "every client retried through the outage");
    }

    #[test]
    fn a_breaker_sheds_load_and_same_seed_same_outcome() {
        let breaker = BreakerConfig { failure_threshold: Some(5), reset_timeout_ms: 1000.0, ..BreakerConfig::default() };
        let layer = LayerPolicy { retry: retry(3, 50.0, Jitter::Full), budget: None, breaker: Some(breaker), bulkhead: None, attempt_timeout_ms: Some(100.0) };
        let mut s = scenario(vec![layer], 50, BackendModel { latency_ms: 20.0, latency_jitter_ms: 10.0, error_rate: 0.0, outages: vec![(0.0, 5000.0)], faults: vec![], capacity: Some(40) });
        s.requests_per_client = 20;
        s.request_interval_ms = 500.0;
        let a = simulate(&s).unwrap();
        let b = simulate(&s).unwrap();
        assert_eq!(a, b, "deterministic");
        assert!(a.series.iter().map(|b| b.breaker_rejections).sum::<u64>() > 0);
        assert!(a.summary.amplification < 3.0, "{}", a.summary.amplification);
        assert!(a.summary.succeeded > 0, "recovers after the outage");
        assert!(a.summary.recovery_ms.is_some_and(|r| (0.0..5000.0).contains(&r)), "{:?}", a.summary.recovery_ms);
    }

    #[test]
    fn a_bulkhead_queues_then_refuses_and_gives_every_slot_back() {
        let bulkhead = BulkheadConfig { max_concurrent: 5, max_queue: 5, queue_timeout_ms: Some(15.0), lifo: false };
        let layer = LayerPolicy { retry: retry(1, 0.0, Jitter::None), budget: None, breaker: None, bulkhead: Some(bulkhead), attempt_timeout_ms: None };
        let backend = BackendModel { latency_ms: 10.0, latency_jitter_ms: 0.0, error_rate: 0.0, outages: vec![], faults: vec![], capacity: None };
        // 20 requests at once: 5 run, 5 queue (and run when the first 5 finish at 10 ms, before
        // their 15 ms queue timeout), 10 are refused.
        let out = simulate(&scenario(vec![layer.clone()], 20, backend.clone())).unwrap();
        assert_eq!(out.summary.bulkhead_rejections, 10);
        assert_eq!(out.summary.succeeded, 10);
        assert_eq!(out.summary.backend_calls, 10);
        // A queue timeout shorter than the running calls: the queued 5 time out instead.
        let mut short = layer;
        short.bulkhead = Some(BulkheadConfig { queue_timeout_ms: Some(5.0), ..bulkhead });
        let mut s = scenario(vec![short], 20, backend);
        s.requests_per_client = 3;
        let out = simulate(&s).unwrap();
        assert_eq!(out.summary.bulkhead_rejections, 45, "15 of each wave of 20");
        assert_eq!(out.summary.succeeded, 15, "slots came back after every wave");
    }

    #[test]
    fn the_series_shows_the_breaker_open_and_latency_per_bucket() {
        let breaker = BreakerConfig { failure_threshold: Some(3), reset_timeout_ms: 1000.0, ..BreakerConfig::default() };
        let layer = LayerPolicy { retry: retry(1, 0.0, Jitter::None), budget: None, breaker: Some(breaker), bulkhead: None, attempt_timeout_ms: None };
        let backend = BackendModel { latency_ms: 10.0, latency_jitter_ms: 0.0, error_rate: 0.0, outages: vec![(0.0, 2500.0)], faults: vec![], capacity: None };
        let mut s = scenario(vec![layer], 1, backend);
        s.requests_per_client = 50;
        s.request_interval_ms = 100.0;
        s.bucket_ms = 1000.0;
        let out = simulate(&s).unwrap();
        // Trips at the third failure (210 ms), probes at ~1.2 s and ~2.3 s (fail), ~3.3 s (ok).
        let open: Vec<f64> = out.series.iter().map(|b| b.breaker_open_ms).collect();
        assert!((open[0] - 790.0).abs() < 1e-9, "{open:?}");
        assert!(open[1] > 900.0 && open[2] > 600.0, "{open:?}");
        assert_eq!(open[4], 0.0, "closed again after the outage: {open:?}");
        let half: f64 = out.series.iter().map(|b| b.breaker_half_open_ms).sum();
        assert!(half > 0.0 && half <= 40.0, "each probe is half-open for its 10 ms: {half}");
        assert!(out.series.iter().all(|b| b.breaker_open_ms + b.breaker_half_open_ms <= 1000.0 + 1e-9));
        assert_eq!(out.series[4].p50_latency_ms, 10.0);
        assert_eq!(out.series[1].p50_latency_ms, 0.0, "refused at once while open");
        assert_eq!(out.series[1].p99_latency_ms, 10.0, "but for the probe");
    }

    #[test]
    fn a_fault_window_sets_the_error_rate_and_adds_latency() {
        let layer = LayerPolicy { retry: retry(1, 0.0, Jitter::None), budget: None, breaker: None, bulkhead: None, attempt_timeout_ms: None };
        let fault = Fault { start_ms: 1000.0, end_ms: 2000.0, error_rate: 0.5, extra_latency_ms: 90.0 };
        let backend = BackendModel { latency_ms: 10.0, latency_jitter_ms: 0.0, error_rate: 0.0, outages: vec![], faults: vec![fault], capacity: None };
        let mut s = scenario(vec![layer], 100, backend);
        s.stagger = true;
        s.requests_per_client = 4;
        s.bucket_ms = 1000.0;
        let out = simulate(&s).unwrap();
        let b = &out.series;
        assert_eq!(b[0].failed, 0);
        assert!(b[1].failed > 30 && b[1].failed < 70, "about half fail: {}", b[1].failed);
        assert_eq!(b[1].p50_latency_ms, 100.0);
        assert!(b[2].failed < 10, "only calls started in the window: {}", b[2].failed);
        assert_eq!(b[3].failed, 0);
        assert_eq!(out.summary.recovery_ms, Some(0.0));
    }

    #[test]
    fn in_a_brownout_a_budget_cuts_the_retries_a_rate_breaker_lets_through() {
        // 50% errors never trip a 75% failure-rate breaker (over enough calls to not trip on noise), so only the budget limits retries.
        let breaker = BreakerConfig { failure_threshold: None, failure_rate_threshold: Some(0.75), volume_threshold: 100, reset_timeout_ms: 1000.0, ..BreakerConfig::default() };
        let fault = Fault { start_ms: 0.0, end_ms: 10_000.0, error_rate: 0.5, extra_latency_ms: 0.0 };
        let backend = BackendModel { latency_ms: 10.0, latency_jitter_ms: 0.0, error_rate: 0.0, outages: vec![], faults: vec![fault], capacity: None };
        let run = |budget| {
            let layer = LayerPolicy { retry: retry(4, 10.0, Jitter::Full), budget, breaker: Some(breaker.clone()), bulkhead: None, attempt_timeout_ms: None };
            let mut s = scenario(vec![layer; 2], 100, backend.clone());
            s.stagger = true;
            s.requests_per_client = 20;
            s.request_interval_ms = 500.0;
            simulate(&s).unwrap().summary
        };
        let plain = run(None);
        let budgeted = run(Some(BudgetConfig { ratio: 0.1, min_retries_per_second: 0.0, max_tokens: 10.0, fleet: None }));
        assert_eq!(plain.breaker_rejections, 0);
        assert!(plain.amplification > 1.8, "{}", plain.amplification);
        assert!(budgeted.amplification < 1.25, "{}", budgeted.amplification);
        assert!(budgeted.budget_refusals > 0);
    }

    fn one_layer(attempts: u32, timeout: Option<f64>) -> LayerPolicy {
        LayerPolicy { retry: retry(attempts, 0.0, Jitter::None), budget: None, breaker: None, bulkhead: None, attempt_timeout_ms: timeout }
    }

    fn healthy(latency_ms: f64) -> BackendModel {
        BackendModel { latency_ms, latency_jitter_ms: 0.0, error_rate: 0.0, outages: vec![], faults: vec![], capacity: None }
    }

    #[test]
    fn outage_and_fault_windows_end_where_they_say() {
        // Two requests, at 0 (inside the window) and at 100 (its end: outside).
        let fault = Fault { start_ms: 0.0, end_ms: 100.0, error_rate: 1.0, extra_latency_ms: 0.0 };
        for backend in [BackendModel { outages: vec![(0.0, 100.0)], ..healthy(10.0) }, BackendModel { faults: vec![fault], ..healthy(10.0) }] {
            let mut s = scenario(vec![one_layer(1, None)], 1, backend);
            (s.requests_per_client, s.request_interval_ms) = (2, 100.0);
            let out = simulate(&s).unwrap().summary;
            assert_eq!((out.requests, out.succeeded, out.backend_calls), (2, 1, 2));
        }
    }

    #[test]
    fn a_timeout_at_the_answers_instant_wins_and_late_answers_are_ignored() {
        // Timeout = latency: the timeout wins (scheduled first), every attempt fails.
        let out = simulate(&scenario(vec![one_layer(2, Some(10.0))], 1, healthy(10.0))).unwrap().summary;
        assert_eq!((out.succeeded, out.backend_calls), (0, 2));
        // Timeout before the answer: the request ends at the timeout, and the first attempt's
        // late success (arriving while the second attempt runs) does not end the second.
        let out = simulate(&scenario(vec![one_layer(2, Some(6.0))], 1, healthy(10.0))).unwrap().summary;
        assert_eq!((out.succeeded, out.backend_calls, out.p50_latency_ms, out.ended_at_ms), (0, 2, 12.0, 16.0));
        // An outer attempt that succeeded in time: its timeout, firing later, changes nothing.
        let out = simulate(&scenario(vec![one_layer(2, Some(50.0)), one_layer(1, None)], 1, healthy(10.0))).unwrap().summary;
        assert_eq!((out.succeeded, out.backend_calls, out.p50_latency_ms), (1, 1, 10.0));
        // The same one layer up: the outer attempt times out while the inner call runs on.
        let out = simulate(&scenario(vec![one_layer(2, Some(6.0)), one_layer(1, None)], 1, healthy(10.0))).unwrap().summary;
        assert_eq!((out.succeeded, out.backend_calls, out.p50_latency_ms), (0, 2, 12.0));
    }

    #[test]
    fn slow_calls_are_timed_from_their_own_start() {
        use seawall_core::options::options_from_json;
        let breaker = BreakerConfig::from_options(
            &options_from_json(&seawall_core::json::Json::parse(r#"{"failureThreshold":100,"slowCallDurationThreshold":8,"slowCallRateThreshold":0.5,"volumeThreshold":2,"resetTimeout":60000}"#).unwrap()),
            seawall_core::options::TimeUnit::Millis,
        )
        .unwrap();
        let layer = LayerPolicy { breaker: Some(breaker), ..one_layer(1, None) };
        let run = |latency| {
            let mut s = scenario(vec![layer.clone()], 1, healthy(latency));
            (s.requests_per_client, s.request_interval_ms) = (6, 1000.0);
            simulate(&s).unwrap().summary
        };
        // Calls starting at 0, 1000, 2000…: 10 ms is slow (the breaker opens after two), 5 ms is not.
        assert_eq!((run(10.0).breaker_rejections, run(5.0).breaker_rejections), (4, 0));
    }

    #[test]
    fn events_due_at_the_same_time_are_handled_in_the_order_they_were_scheduled() {
        let s = scenario(vec![one_layer(1, None)], 1, healthy(1.0));
        let mut sim = Sim { s: &s, layers: Vec::new(), rng: SeededRng::new(1), queue: BinaryHeap::new(), seq: 0, calls: Vec::new(), in_flight: 0, series: Vec::new(), bucket_latencies: Vec::new(), track: None, now: 0.0 };
        for call in [3, 1, 2] {
            sim.push(5.0, Event::StartAttempt { call });
        }
        sim.push(4.0, Event::StartAttempt { call: 9 });
        let order: Vec<Event> = std::iter::from_fn(|| sim.queue.pop().map(|q| q.event)).collect();
        let calls: Vec<usize> = order.iter().map(|e| match e { Event::StartAttempt { call } => *call, _ => unreachable!() }).collect();
        assert_eq!(calls, [9, 3, 1, 2]);
    }

    #[test]
    fn recovery_needs_nine_in_ten_calls_to_succeed() {
        // Half the calls fail after the outage too: never recovered; 5% failing: at once.
        let run = |error_rate| {
            let backend = BackendModel { outages: vec![(0.0, 1000.0)], error_rate, ..healthy(10.0) };
            let mut s = scenario(vec![one_layer(1, None)], 50, backend);
            (s.requests_per_client, s.request_interval_ms, s.bucket_ms) = (20, 100.0, 500.0);
            simulate(&s).unwrap().summary.recovery_ms
        };
        assert_eq!(run(0.5), None);
        assert_eq!(run(0.02), Some(0.0));
        // A bucket with no calls is not a recovery: one client calling every 700 ms, the outage
        // ending at 1000 ms: the first call after it, at 1400 ms, is the recovery.
        let backend = BackendModel { outages: vec![(0.0, 1000.0)], ..healthy(10.0) };
        let mut s = scenario(vec![one_layer(1, None)], 1, backend);
        (s.requests_per_client, s.request_interval_ms) = (4, 700.0);
        assert_eq!(simulate(&s).unwrap().summary.recovery_ms, Some(400.0));
    }

    #[test]
    fn recovery_is_counted_from_the_end_of_the_outage() {
        let backend = BackendModel { outages: vec![(0.0, 1000.0)], ..healthy(10.0) };
        let mut s = scenario(vec![one_layer(1, None)], 10, backend);
        (s.requests_per_client, s.request_interval_ms) = (20, 100.0);
        let out = simulate(&s).unwrap().summary;
        assert_eq!((out.recovery_ms, out.requests, out.succeeded), (Some(0.0), 200, 100));
        assert_eq!((out.amplification, out.success_rate), (1.0, 0.5));
        let out = simulate(&scenario(vec![one_layer(3, None)], 2, down_backend())).unwrap().summary;
        assert_eq!((out.requests, out.backend_calls, out.amplification), (2, 6, 3.0));
    }

    #[test]
    fn no_requests_no_calls_and_staggered_clients_spread_over_the_interval() {
        let mut s = scenario(vec![one_layer(1, None)], 3, healthy(1.0));
        s.requests_per_client = 0;
        let out = simulate(&s).unwrap();
        assert_eq!((out.summary.requests, out.summary.amplification, out.summary.success_rate, out.series.len()), (0, 0.0, 0.0, 0));
        let mut s = scenario(vec![one_layer(1, None)], 4, healthy(1.0));
        (s.stagger, s.bucket_ms) = (true, 250.0);
        let out = simulate(&s).unwrap();
        assert_eq!(out.series.iter().map(|b| b.offered).collect::<Vec<_>>(), vec![1, 1, 1, 1]);
        // A bucket width of 0 (only possible in Rust: files take at least 1 ms) means a second.
        s.bucket_ms = 0.0;
        assert_eq!(simulate(&s).unwrap().series.iter().map(|b| b.offered).collect::<Vec<_>>(), vec![4]);
    }
}
