//! The hot path allocates nothing: acquire + record on a breaker, acquire + release on a
//! bulkhead, and a retry decision, counted with a counting global allocator.

#[path = "common/alloc_counter.rs"]
mod alloc_counter;

use seawall_core::bulkhead::Admission;
use seawall_core::retry::{FailureClass, RetryConfig, RetryState};
use seawall_core::window::WindowConfig;
use seawall_core::{BreakerConfig, Bulkhead, BulkheadConfig, CircuitBreaker, SeededRng};

#[global_allocator]
static GLOBAL: alloc_counter::Counting = alloc_counter::Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = alloc_counter::allocations();
    f();
    alloc_counter::allocations() - before
}

#[test]
fn hot_paths_do_not_allocate() {
    for window in [WindowConfig::Time { duration_ms: 1000.0, buckets: 10 }, WindowConfig::Count { size: 50 }] {
        let mut b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: Some(3),
            failure_rate_threshold: Some(0.5),
            reset_timeout_ms: 100.0,
            window,
            ..Default::default()
        })
        .unwrap();
        let n = allocations_during(|| {
            for i in 0..100_000u32 {
                let now = i as f64;
                if let Ok(p) = b.try_acquire(now) {
                    if i % 7 == 0 {
                        b.record_failure(now, p, 1.0).unwrap();
                    } else {
                        b.record_success(now, p, 1.0).unwrap();
                    }
                }
                while b.poll_event().is_some() {}
            }
        });
        assert_eq!(n, 0, "breaker hot path allocated {n} times ({window:?})");
    }

    let mut bh = Bulkhead::new(BulkheadConfig { max_concurrent: 4, max_queue: 8, queue_timeout_ms: Some(50.0), lifo: false }).unwrap();
    let n = allocations_during(|| {
        for i in 0..100_000u32 {
            if let Admission::Run(p) = bh.try_acquire(i as f64) {
                bh.release(i as f64, p).unwrap();
            }
        }
    });
    assert_eq!(n, 0, "bulkhead hot path allocated {n} times");

    let cfg = RetryConfig::default();
    let mut rng = SeededRng::new(1);
    let n = allocations_during(|| {
        for i in 0..100_000u32 {
            let mut s = RetryState::start(&cfg, i as f64);
            let _ = s.on_failure(&cfg, i as f64, FailureClass::Retryable, &mut rng, None);
        }
    });
    assert_eq!(n, 0, "retry decision allocated {n} times");
}
