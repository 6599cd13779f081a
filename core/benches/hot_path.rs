//! Hot-path cost of the core's machines, in nanoseconds per operation (median of 15 runs), with
//! allocations counted. Run: `make bench-core` (or `cargo bench -p seawall-core --bench hot_path`).
//! Not a test: nothing here asserts a time.

#[path = "../tests/common/alloc_counter.rs"]
mod alloc_counter;

use std::hint::black_box;
use std::time::Instant;

use seawall_core::bulkhead::Admission;
use seawall_core::retry::{FailureClass, RetryConfig, RetryState};
use seawall_core::window::WindowConfig;
use seawall_core::{BreakerConfig, Bulkhead, BulkheadConfig, CircuitBreaker, SeededRng};

#[global_allocator]
static GLOBAL: alloc_counter::Counting = alloc_counter::Counting;

const N: u32 = 1_000_000;

/// Median ns per iteration over 15 runs of `N` iterations, and allocations in all runs.
fn measure(mut f: impl FnMut(u32)) -> (f64, usize) {
    let mut runs: Vec<f64> = Vec::with_capacity(15);
    let allocs = alloc_counter::allocations();
    for _ in 0..15 {
        let t = Instant::now();
        for i in 0..N {
            f(black_box(i));
        }
        runs.push(t.elapsed().as_nanos() as f64 / N as f64);
    }
    let allocs = alloc_counter::allocations() - allocs;
    runs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (runs[runs.len() / 2], allocs)
}

fn breaker(window: WindowConfig, rate: bool) -> CircuitBreaker {
    CircuitBreaker::new(BreakerConfig {
        failure_threshold: Some(5),
        failure_rate_threshold: rate.then_some(0.5),
        window,
        ..Default::default()
    })
    .unwrap()
}

fn main() {
    let mut rows: Vec<(&str, f64, usize)> = Vec::new();

    let mut b = breaker(WindowConfig::Time { duration_ms: 60_000.0, buckets: 10 }, false);
    let (ns, a) = measure(|i| {
        let now = i as f64 * 0.001;
        let p = b.try_acquire(now).unwrap();
        b.record_success(now, p, 0.5).unwrap();
    });
    rows.push(("breaker acquire+record (consecutive rule)", ns, a));

    let mut b = breaker(WindowConfig::Time { duration_ms: 60_000.0, buckets: 10 }, true);
    let (ns, a) = measure(|i| {
        let now = i as f64 * 0.001;
        let p = b.try_acquire(now).unwrap();
        b.record_success(now, p, 0.5).unwrap();
    });
    rows.push(("breaker acquire+record (time window, rate)", ns, a));

    let mut b = breaker(WindowConfig::Count { size: 100 }, true);
    let (ns, a) = measure(|i| {
        let now = i as f64 * 0.001;
        let p = b.try_acquire(now).unwrap();
        b.record_success(now, p, 0.5).unwrap();
    });
    rows.push(("breaker acquire+record (count window, rate)", ns, a));

    let mut b = breaker(WindowConfig::Count { size: 100 }, false);
    b.force_open(0.0);
    let (ns, a) = measure(|i| {
        let _ = black_box(b.try_acquire(i as f64));
    });
    rows.push(("breaker rejection (open)", ns, a));

    let mut bh = Bulkhead::new(BulkheadConfig { max_concurrent: 10, max_queue: 10, queue_timeout_ms: None, lifo: false }).unwrap();
    let (ns, a) = measure(|i| {
        if let Admission::Run(p) = bh.try_acquire(i as f64) {
            bh.release(i as f64, p).unwrap();
        }
    });
    rows.push(("bulkhead acquire+release", ns, a));

    let cfg = RetryConfig::default();
    let mut rng = SeededRng::new(7);
    let (ns, a) = measure(|i| {
        let mut s = RetryState::start(&cfg, i as f64);
        black_box(s.on_failure(&cfg, i as f64, FailureClass::Retryable, &mut rng, None));
    });
    rows.push(("retry start + one decision (jittered)", ns, a));


    println!("| operation | ns/op (median of 15 × {N}) | allocations |");
    println!("|---|---:|---:|");
    for (name, ns, allocs) in rows {
        println!("| {name} | {ns:.1} | {allocs} |");
    }
}
