//! Exercises every machine of the core behind plain C exports, so that a wasm32 build of this
//! file links everything the bindings will use. `make check-wasm` reads its import section.

use seawall_core::breaker::BreakerSnapshot;
use seawall_core::json::Json;
use seawall_core::metrics::render_prometheus;
use seawall_core::options::{OptionValue, TimeUnit};
use seawall_core::presets::{self, PolicyConfig, Style};
use seawall_core::retry::{FailureClass, RetryConfig, RetryDecision, RetryState};
use seawall_core::{Admission, BreakerConfig, Bulkhead, BulkheadConfig, CircuitBreaker, Registry, RetryBudget, SeededRng};

#[no_mangle]
pub extern "C" fn probe_breaker(now: f64, fail: u32) -> u32 {
    let opts = vec![("failureThreshold".to_string(), OptionValue::Number(2.0))];
    let Ok(mut b) = CircuitBreaker::from_options(&opts, TimeUnit::Millis) else { return 99 };
    for i in 0..fail {
        if let Ok(p) = b.try_acquire(now + i as f64) {
            let _ = b.record_failure(now + i as f64, p, 1.0);
        }
    }
    let snap = b.snapshot(now).to_json().to_string();
    let back = Json::parse(&snap).ok().and_then(|j| BreakerSnapshot::from_json(&j).ok());
    if let Some(s) = back {
        let _ = b.restore(now, &s);
    }
    b.state().code() as u32 + b.stats(now).to_json().to_string().len() as u32
}

#[no_mangle]
pub extern "C" fn probe_retry(seed: u64, now: f64) -> f64 {
    let cfg = RetryConfig::from_options(&presets::retry_api_rate_limit(Style::JS), TimeUnit::Millis).unwrap_or_default();
    let mut rng = SeededRng::new(seed);
    let mut budget = RetryBudget::new(Default::default(), now);
    let mut s = RetryState::start(&cfg, now);
    match s.on_failure(&cfg, now, FailureClass::RateLimited { retry_after_ms: None }, &mut rng, Some(&mut budget)) {
        RetryDecision::Retry { delay_ms, .. } => delay_ms,
        RetryDecision::GiveUp { .. } => -1.0,
    }
}

#[no_mangle]
pub extern "C" fn probe_bulkhead(now: f64) -> u32 {
    let Ok(mut b) = Bulkhead::new(BulkheadConfig { max_concurrent: 1, max_queue: 1, queue_timeout_ms: Some(5.0) }) else { return 99 };
    let first = b.try_acquire(now);
    let _ = b.try_acquire(now);
    b.handle_timeout(now + 10.0);
    if let Admission::Run(p) = first {
        let _ = b.release(now, p);
    }
    b.metrics().timed_out as u32
}

#[no_mangle]
pub extern "C" fn probe_registry(now: f64) -> u32 {
    let mut r = Registry::new();
    let _ = r.breaker_get_or_create("a", || Ok(BreakerConfig::default()));
    let _ = r.bulkhead_get_or_create("b", || Ok(BulkheadConfig::default()));
    r.record_retry_attempt("a");
    let policy = presets::policy(Style::PYTHON, "api").unwrap_or_default();
    let ok = PolicyConfig::from_options(&policy, TimeUnit::Seconds).is_ok() as u32;
    let health = r.health(now).to_json().to_string().len();
    ok + (render_prometheus(&r).len() + health) as u32
}
