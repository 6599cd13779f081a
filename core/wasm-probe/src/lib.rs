//! Exercises the core's machines behind plain C exports, so that a wasm32 build of this file
//! links what the bindings use, and nothing of any binding. `make check-wasm` reads its import
//! section (the default build: every machine here). `make bench-browser` weighs two builds with
//! the browser's allocator (feature `talc`): this default one, and with feature `minimal` only
//! what a page guarding fetch needs (a breaker, a retry policy and a bulkhead, each made from
//! options as JSON text, with their stats): floors under the page's wasm.

#[cfg(all(feature = "talc", target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Every machine here: what `make check-wasm` reads.
#[cfg(not(feature = "minimal"))]
mod full {
    use seawall_core::breaker::BreakerSnapshot;
    use seawall_core::json::Json;
    use seawall_core::metrics::render_prometheus;
    use seawall_core::options::{OptionValue, TimeUnit};
    use seawall_core::presets::{self, PolicyConfig, Style};
    use seawall_core::retry::{FailureClass, RetryConfig, RetryDecision, RetryState};
    use seawall_core::{
        Admission, BreakerConfig, Bulkhead, BulkheadConfig, CircuitBreaker, Registry, RetryBudget,
        SeededRng,
    };

    #[no_mangle]
    pub extern "C" fn probe_breaker(now: f64, fail: u32) -> u32 {
        let opts = vec![("failureThreshold".to_string(), OptionValue::Number(2.0))];
        let Ok(mut b) = CircuitBreaker::from_options(&opts, TimeUnit::Millis) else {
            return 99;
        };
        for i in 0..fail {
            if let Ok(p) = b.try_acquire(now + i as f64) {
                let _ = b.record_failure(now + i as f64, p, 1.0);
            }
        }
        let snap = b.snapshot(now).to_json().to_string();
        let back = Json::parse(&snap)
            .ok()
            .and_then(|j| BreakerSnapshot::from_json(&j).ok());
        if let Some(s) = back {
            let _ = b.restore(now, &s);
        }
        b.state().code() as u32 + b.stats(now).to_json().to_string().len() as u32
    }

    #[no_mangle]
    pub extern "C" fn probe_retry(seed: u64, now: f64) -> f64 {
        let cfg =
            RetryConfig::from_options(&presets::retry_api_rate_limit(Style::JS), TimeUnit::Millis)
                .unwrap_or_default();
        let mut rng = SeededRng::new(seed);
        let mut budget = RetryBudget::new(Default::default(), now);
        let mut s = RetryState::start(&cfg, now);
        match s.on_failure(
            &cfg,
            now,
            FailureClass::RateLimited {
                retry_after_ms: None,
            },
            &mut rng,
            Some(&mut budget),
        ) {
            RetryDecision::Retry { delay_ms, .. } => delay_ms,
            RetryDecision::GiveUp { .. } => -1.0,
        }
    }

    #[no_mangle]
    pub extern "C" fn probe_bulkhead(now: f64) -> u32 {
        let Ok(mut b) = Bulkhead::new(BulkheadConfig {
            max_concurrent: 1,
            max_queue: 1,
            queue_timeout_ms: Some(5.0),
            lifo: false,
        }) else {
            return 99;
        };
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
        let _ = r.bulkhead_get_or_create("b", || Bulkhead::new(BulkheadConfig::default()));
        r.record_retry_attempt("a");
        let policy = presets::policy(Style::PYTHON, "api").unwrap_or_default();
        let ok = PolicyConfig::from_options(&policy, TimeUnit::Seconds).is_ok() as u32;
        let health = r.health(now).to_json().to_string().len();
        ok + (render_prometheus(&r).len() + health) as u32
    }
}

/// Only what a page guarding fetch needs of the core.
#[cfg(feature = "minimal")]
mod minimal {
    use seawall_core::engine::parse_options;
    use seawall_core::options::TimeUnit;
    use seawall_core::retry::{FailureClass, RetryConfig, RetryDecision, RetryState};
    use seawall_core::{Admission, Bulkhead, BulkheadConfig, CircuitBreaker, SeededRng};

    /// Options as the shells hand them over: JSON text in the module's memory, read by the core's
    /// own reader (the one the engine uses).
    fn options(ptr: *const u8, len: usize) -> seawall_core::Options {
        // SAFETY: the caller passes a region of this module's memory it wrote.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
        parse_options(std::str::from_utf8(bytes).unwrap_or_default()).unwrap_or_default()
    }

    #[no_mangle]
    pub extern "C" fn minimal_breaker(ptr: *const u8, len: usize, now: f64, fail: u32) -> u32 {
        let mut b = match CircuitBreaker::from_options(&options(ptr, len), TimeUnit::Millis) {
            Ok(b) => b,
            Err(e) => return e.message.len() as u32,
        };
        for i in 0..fail {
            match b.try_acquire(now + i as f64) {
                Ok(p) => drop(b.record_failure(now + i as f64, p, 1.0)),
                Err(refused) => return refused.message("api").len() as u32,
            }
        }
        b.state().code() as u32 + b.stats(now).to_json().to_string().len() as u32
    }

    #[no_mangle]
    pub extern "C" fn minimal_retry(ptr: *const u8, len: usize, seed: u64, now: f64) -> f64 {
        let cfg = match RetryConfig::from_options(&options(ptr, len), TimeUnit::Millis) {
            Ok(c) => c,
            Err(e) => return e.message.len() as f64,
        };
        let mut rng = SeededRng::new(seed);
        let mut s = RetryState::start(&cfg, now);
        match s.on_failure(
            &cfg,
            now,
            FailureClass::RateLimited {
                retry_after_ms: None,
            },
            &mut rng,
            None,
        ) {
            RetryDecision::Retry { delay_ms, .. } => delay_ms,
            RetryDecision::GiveUp { .. } => -1.0,
        }
    }

    #[no_mangle]
    pub extern "C" fn minimal_bulkhead(ptr: *const u8, len: usize, now: f64) -> u32 {
        let cfg = match BulkheadConfig::from_options(&options(ptr, len), TimeUnit::Millis) {
            Ok(c) => c,
            Err(e) => return e.message.len() as u32,
        };
        let Ok(mut b) = Bulkhead::new(cfg) else {
            return 0;
        };
        let first = b.try_acquire(now);
        let _ = b.try_acquire(now);
        b.handle_timeout(now + 10.0);
        if let Admission::Run(p) = first {
            drop(b.release(now, p));
        }
        b.metrics().to_json().to_string().len() as u32
    }
}
