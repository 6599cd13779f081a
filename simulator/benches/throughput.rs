//! The simulator's throughput: simulated backend calls per second of wall time (the goal is at
//! least a million a second, so that a scenario of hours runs in seconds). `cargo bench -p
//! seawall-simulator`.

use std::time::Instant;

use seawall_core::backoff::{BackoffConfig, BackoffKind, Jitter};
use seawall_core::{BreakerConfig, RetryConfig};
use seawall_simulator::sim::{simulate, BackendModel, LayerPolicy, Scenario};

fn main() {
    {
        let layer = LayerPolicy {
            retry: RetryConfig {
                max_attempts: 3,
                backoff: BackoffConfig { kind: BackoffKind::Exponential { multiplier: 2.0 }, base_ms: 50.0, max_ms: 2000.0, jitter: Jitter::Full },
                ..RetryConfig::default()
            },
            budget: None,
            breaker: Some(BreakerConfig::default()),
            bulkhead: None,
            attempt_timeout_ms: Some(200.0),
        };
        let s = Scenario {
            seed: 1,
            clients: 1000,
            requests_per_client: 200,
            request_interval_ms: 100.0,
            stagger: true,
            layers: vec![layer.clone(), layer],
            backend: BackendModel { latency_ms: 20.0, latency_jitter_ms: 30.0, error_rate: 0.01, outages: vec![], faults: vec![], capacity: None },
            bucket_ms: 1000.0,
        };
        let t = Instant::now();
        let out = simulate(&s).unwrap();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "simulator: {} requests, {} backend calls in {:.3} s = {:.2} M simulated calls/s (amplification {:.2})",
            out.summary.requests,
            out.summary.backend_calls,
            secs,
            out.summary.backend_calls as f64 / secs / 1e6,
            out.summary.amplification
        );
    }
}
