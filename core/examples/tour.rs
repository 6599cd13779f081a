//! A guided run of the core on a virtual clock: a client calls a backend that is down for the
//! first 90 seconds, through a retry policy and the `openai` breaker preset (3 failures, 60 s).
//! Nothing sleeps: the driver jumps the clock to each next deadline, as every shell does.
//!
//! Run: `make demo` (or `cargo run -p seawall-core --example tour`).

use seawall_core::metrics::render_prometheus;
use seawall_core::options::TimeUnit;
use seawall_core::presets::{self, Style};
use seawall_core::retry::{FailureClass, RetryConfig, RetryDecision, RetryState};
use seawall_core::{BreakerConfig, Registry, SeededRng};

const OUTAGE_ENDS_MS: f64 = 90_000.0;
const CALL_MS: f64 = 120.0;

fn backend_ok(now: f64) -> bool {
    now >= OUTAGE_ENDS_MS
}

fn secs(ms: f64) -> String {
    format!("{:>7.2}s", ms / 1000.0)
}

fn main() {
    let mut registry = Registry::new();
    let breaker_opts = presets::named_circuit(Style::JS, "openai").expect("preset");
    let (h, _) = registry
        .breaker_get_or_create("openai", || BreakerConfig::from_options(&breaker_opts, TimeUnit::Millis))
        .expect("valid preset");
    let retry = RetryConfig::from_options(&presets::retry_exponential(Style::JS, Some(4.0), Some(500.0), Some(8_000.0)), TimeUnit::Millis)
        .expect("valid preset");
    let mut rng = SeededRng::new(42);

    println!("Seawall core tour: backend down until {}, breaker 'openai' (3 failures, 60 s), retry 4 attempts, 500 ms doubling, ±10% jitter\n", secs(OUTAGE_ENDS_MS).trim());
    let mut now = 0.0;
    for request in 1..=14 {
        println!("{} request {request}", secs(now));
        let mut state = RetryState::start(&retry, now);
        loop {
            let breaker = registry.breaker(h).expect("registered");
            let outcome = match breaker.try_acquire(now) {
                Err(rejection) => {
                    // Fail fast: an open breaker is not retried, the caller uses its fallback.
                    println!("{}   attempt {}: rejected: {}", secs(now), state.attempt(), rejection.message("openai"));
                    Err(FailureClass::NotRetryable)
                }
                Ok(permit) => {
                    while let Some(e) = breaker.poll_event() {
                        println!("{}   breaker: {} -> {} ({})", secs(e.at), e.from.as_str(), e.to.as_str(), e.reason.as_str());
                    }
                    let end = now + CALL_MS;
                    let ok = backend_ok(now);
                    if ok {
                        breaker.record_success(end, permit, CALL_MS).expect("permit");
                    } else {
                        breaker.record_failure(end, permit, CALL_MS).expect("permit");
                    }
                    println!("{}   attempt {}{}: {}", secs(now), state.attempt(), if permit.is_probe() { " (probe)" } else { "" }, if ok { "200 OK" } else { "503" });
                    now = end;
                    if ok { Ok(()) } else { Err(FailureClass::Retryable) }
                }
            };
            while let Some(e) = breaker.poll_event() {
                println!("{}   breaker: {} -> {} ({})", secs(e.at), e.from.as_str(), e.to.as_str(), e.reason.as_str());
            }
            let Err(class) = outcome else { break };
            match state.on_failure(&retry, now, class, &mut rng, None) {
                RetryDecision::Retry { delay_ms, from_server, .. } => {
                    println!("{}   wait {:.0} ms{}", secs(now), delay_ms, if from_server { " (Retry-After)" } else { "" });
                    registry.record_retry_attempt("openai.completions");
                    now += delay_ms;
                }
                RetryDecision::GiveUp { reason, attempts } => {
                    println!("{}   give up after {attempts} attempt{} ({})", secs(now), if attempts == 1 { "" } else { "s" }, reason.as_str());
                    break;
                }
            }
        }
        now += 10_000.0;
    }
    println!("\nPrometheus metrics:\n{}", render_prometheus(&registry));
}
