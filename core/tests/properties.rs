//! Properties over arbitrary operation sequences: limits hold, permits come back exactly once,
//! delays stay in bounds, and nothing panics, whatever the inputs (times included: NaN,
//! infinities and clocks running backwards).

use proptest::prelude::*;

use seawall_core::backoff::{Backoff, BackoffConfig, BackoffKind, Jitter};
use seawall_core::breaker::{BreakerConfig, CircuitBreaker, CircuitState, Permit};
use seawall_core::bulkhead::{Admission, Bulkhead, BulkheadConfig, BulkheadPermit};
use seawall_core::options::{OptionValue, Options, TimeUnit};
use seawall_core::retry::{FailureClass, RetryConfig, RetryDecision, RetryState};
use seawall_core::window::WindowConfig;
use seawall_core::{PolicyConfig, RetryBudget, SeededRng};

fn time() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => 0.0..100_000.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(-1.0e9f64),
    ]
}

#[derive(Debug, Clone)]
enum BreakerOp {
    Acquire,
    Record { pick: usize, outcome: u8, duration: f64 },
    Advance(f64),
    Open,
    ForceOpen,
    Reset,
    Disable,
    Timer,
    Stats,
    Snapshot,
}

fn breaker_op() -> impl Strategy<Value = BreakerOp> {
    prop_oneof![
        6 => Just(BreakerOp::Acquire),
        6 => (any::<usize>(), 0u8..3, 0.0..500.0f64).prop_map(|(pick, outcome, duration)| BreakerOp::Record { pick, outcome, duration }),
        3 => time().prop_map(BreakerOp::Advance),
        1 => Just(BreakerOp::Open),
        1 => Just(BreakerOp::ForceOpen),
        1 => Just(BreakerOp::Reset),
        1 => Just(BreakerOp::Disable),
        2 => Just(BreakerOp::Timer),
        1 => Just(BreakerOp::Stats),
        1 => Just(BreakerOp::Snapshot),
    ]
}

fn breaker_config() -> impl Strategy<Value = BreakerConfig> {
    (
        proptest::option::of(1u32..6),
        proptest::option::of(0.1f64..=1.0),
        proptest::option::of((10.0f64..300.0, 0.1f64..=1.0)),
        1u32..6,
        prop_oneof![
            (1.0f64..5000.0, 1u32..8).prop_map(|(d, b)| WindowConfig::Time { duration_ms: d, buckets: b }),
            (1u32..10).prop_map(|size| WindowConfig::Count { size }),
        ],
        1u32..4,
        1u32..4,
        1.0f64..2000.0,
        1.0f64..3.0,
    )
        .prop_filter_map("needs a way to trip", |(ft, fr, slow, vol, window, st, hoc, reset, mult)| {
            let c = BreakerConfig {
                failure_threshold: ft,
                failure_rate_threshold: fr,
                slow_call_duration_ms: slow.map(|s| s.0),
                slow_call_rate_threshold: slow.map(|s| s.1),
                volume_threshold: vol,
                window,
                success_threshold: st,
                half_open_max_calls: hoc,
                reset_timeout_ms: reset,
                reset_backoff_multiplier: mult,
                max_reset_timeout_ms: reset * 4.0,
                call_timeout_ms: None,
                fleet: None,
            };
            CircuitBreaker::new(c.clone()).ok().map(|_| c)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Half-open probes never exceed the limit; every permit comes back exactly once; nothing
    /// panics; a second record of the same permit is refused and changes no count.
    #[test]
    fn breaker_permits_and_probe_limit(config in breaker_config(), ops in proptest::collection::vec(breaker_op(), 1..120)) {
        let limit = config.half_open_max_calls;
        let mut b = CircuitBreaker::new(config).unwrap();
        let mut now = 0.0f64;
        let mut outstanding: Vec<Permit> = Vec::new();
        let mut returned: Vec<Permit> = Vec::new();
        for op in ops {
            match op {
                BreakerOp::Acquire => {
                    if let Ok(p) = b.try_acquire(now) { outstanding.push(p) }
                }
                BreakerOp::Record { pick, outcome, duration } if !outstanding.is_empty() => {
                    let p = outstanding.swap_remove(pick % outstanding.len());
                    let r = match outcome {
                        0 => b.record_success(now, p, duration),
                        1 => b.record_failure(now, p, duration),
                        _ => b.release(now, p),
                    };
                    prop_assert!(r.is_ok(), "first return of a permit must succeed: {r:?}");
                    returned.push(p);
                }
                BreakerOp::Record { .. } => {
                    // Nothing outstanding: any record must be refused, counts unchanged.
                    let before = *b.totals();
                    prop_assert!(b.record_success(now, Permit::from_raw(0), 1.0).is_err());
                    prop_assert_eq!(before, *b.totals());
                }
                BreakerOp::Advance(t) => now = t,
                BreakerOp::Open => b.open(now),
                BreakerOp::ForceOpen => b.force_open(now),
                BreakerOp::Reset => b.reset(now),
                BreakerOp::Disable => b.disable(now),
                BreakerOp::Timer => b.handle_timeout(now),
                BreakerOp::Stats => { let _ = b.stats(now); }
                BreakerOp::Snapshot => {
                    let s = b.snapshot(now);
                    let json = s.to_json().to_string();
                    let back = seawall_core::breaker::BreakerSnapshot::from_json(&seawall_core::json::Json::parse(&json).unwrap()).unwrap();
                    prop_assert!(b.restore(now, &back).is_ok());
                }
            }
            let stats = b.stats(now);
            prop_assert!(stats.half_open_in_flight <= limit);
            prop_assert_eq!(stats.in_flight as usize, outstanding.len());
            if b.state() != CircuitState::HalfOpen {
                prop_assert_eq!(stats.half_open_in_flight, 0);
            }
            while b.poll_event().is_some() {}
        }
        for p in outstanding.drain(..) {
            prop_assert!(b.release(now, p).is_ok());
        }
        prop_assert_eq!(b.in_flight(), 0);
        // With nothing outstanding, no permit can be returned again.
        for p in returned.into_iter().take(5) {
            prop_assert!(b.release(now, p).is_err());
        }
    }
}

#[derive(Debug, Clone)]
enum BulkheadOp {
    Acquire,
    Release(usize),
    Cancel(usize),
    Advance(f64),
    Timer,
}

fn bulkhead_op() -> impl Strategy<Value = BulkheadOp> {
    prop_oneof![
        5 => Just(BulkheadOp::Acquire),
        4 => any::<usize>().prop_map(BulkheadOp::Release),
        1 => any::<usize>().prop_map(BulkheadOp::Cancel),
        2 => time().prop_map(BulkheadOp::Advance),
        1 => Just(BulkheadOp::Timer),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Limits hold; every permit is returned once; every queued ticket ends exactly once
    /// (started, expired or cancelled).
    #[test]
    fn bulkhead_limits_and_tickets(max_concurrent in 1u32..5, max_queue in 0u32..5, timeout in proptest::option::of(1.0f64..1000.0),
                                   ops in proptest::collection::vec(bulkhead_op(), 1..150)) {
        let mut b = Bulkhead::new(BulkheadConfig { max_concurrent, max_queue, queue_timeout_ms: timeout, lifo: false }).unwrap();
        let mut now = 0.0;
        let mut running: Vec<BulkheadPermit> = Vec::new();
        let mut waiting: Vec<u64> = Vec::new();
        let mut ended: std::collections::HashSet<u64> = Default::default();
        let end = |t: u64, ended: &mut std::collections::HashSet<u64>| -> Result<(), TestCaseError> {
            prop_assert!(ended.insert(t), "ticket {} ended twice", t);
            Ok(())
        };
        for op in ops {
            match op {
                BulkheadOp::Acquire => match b.try_acquire(now) {
                    Admission::Run(p) => running.push(p),
                    Admission::Queued { ticket, position } => {
                        waiting.push(ticket);
                        prop_assert_eq!(position as usize, b.queued() as usize);
                    }
                    Admission::Rejected(_) => prop_assert!(b.active() == max_concurrent && b.queued() == max_queue),
                },
                BulkheadOp::Release(i) if !running.is_empty() => {
                    let p = running.swap_remove(i % running.len());
                    let next = b.release(now, p).unwrap();
                    prop_assert!(b.release(now, p).is_err(), "second release refused");
                    if let Some((ticket, permit)) = next {
                        prop_assert!(waiting.contains(&ticket));
                        waiting.retain(|t| *t != ticket);
                        end(ticket, &mut ended)?;
                        running.push(permit);
                    }
                }
                BulkheadOp::Release(_) => {}
                BulkheadOp::Cancel(i) if !waiting.is_empty() => {
                    let t = waiting.swap_remove(i % waiting.len());
                    prop_assert!(b.cancel(t));
                    end(t, &mut ended)?;
                }
                BulkheadOp::Cancel(_) => {}
                BulkheadOp::Advance(t) => now = t,
                BulkheadOp::Timer => b.handle_timeout(now),
            }
            while let Some(t) = b.poll_expired() {
                prop_assert!(waiting.contains(&t));
                waiting.retain(|w| *w != t);
                end(t, &mut ended)?;
            }
            prop_assert!(b.active() <= max_concurrent);
            prop_assert!(b.queued() <= max_queue);
            prop_assert_eq!(b.active() as usize, running.len());
            prop_assert_eq!(b.queued() as usize, waiting.len());
        }
        // Drain: releasing everything starts or expires every waiting ticket.
        while let Some(p) = running.pop() {
            if let Some((ticket, permit)) = b.release(now, p).unwrap() {
                waiting.retain(|t| *t != ticket);
                end(ticket, &mut ended)?;
                running.push(permit);
            }
            while let Some(t) = b.poll_expired() {
                waiting.retain(|w| *w != t);
                end(t, &mut ended)?;
            }
        }
        prop_assert!(waiting.is_empty(), "tickets left waiting with no call running: {:?}", waiting);
        prop_assert_eq!(b.active(), 0);
    }

    /// Every delay is finite and within [0, maxDelay], for any valid schedule and retry number.
    #[test]
    fn delays_within_bounds(kind in 0u8..5, base in 0.0f64..1e7, extra in 0.0f64..1e9, mult in 1.0f64..100.0,
                            jitter in 0u8..5, factor in 0.0f64..=1.0, seed in any::<u64>(), retries in proptest::collection::vec(any::<u32>(), 1..30)) {
        let kind = match kind {
            0 => BackoffKind::Constant,
            1 => BackoffKind::Linear { step_ms: extra },
            2 => BackoffKind::Exponential { multiplier: mult },
            3 => BackoffKind::DecorrelatedAws,
            _ => BackoffKind::DecorrelatedPolly,
        };
        let jitter = if matches!(kind, BackoffKind::DecorrelatedAws | BackoffKind::DecorrelatedPolly) { Jitter::None } else {
            match jitter { 0 => Jitter::None, 1 => Jitter::Full, 2 => Jitter::Equal, 3 => Jitter::Proportional { factor }, _ => Jitter::Additive { max_ms: extra } }
        };
        let config = BackoffConfig { kind, base_ms: base, max_ms: base + extra, jitter };
        prop_assert!(config.check(&seawall_core::options::Spelling::canonical()).is_ok());
        let mut b = Backoff::new(config);
        let mut rng = SeededRng::new(seed);
        for r in retries {
            let d = b.next_delay(r, &mut rng);
            prop_assert!(d.is_finite() && d >= 0.0 && d <= config.max_ms, "retry {} gave {}", r, d);
        }
    }

    /// A retry loop never allows more than maxAttempts calls and never asks to wait longer than
    /// the larger of maxDelay and maxRetryAfter.
    #[test]
    fn retry_never_exceeds_attempts(attempts in 1u32..20, classes in proptest::collection::vec((0u8..3, proptest::option::of(-10.0f64..1e6)), 1..40), seed in any::<u64>(), budget in any::<bool>()) {
        let config = RetryConfig { max_attempts: attempts, ..RetryConfig::default() };
        let mut rng = SeededRng::new(seed);
        let mut bucket = RetryBudget::new(Default::default(), 0.0);
        let mut s = RetryState::start(&config, 0.0);
        let mut calls = 1;
        for (i, (c, server)) in classes.into_iter().enumerate() {
            let class = match c { 0 => FailureClass::Retryable, 1 => FailureClass::NotRetryable, _ => FailureClass::RateLimited { retry_after_ms: server } };
            let b = if budget { Some(&mut bucket) } else { None };
            match s.on_failure(&config, i as f64 * 10.0, class, &mut rng, b) {
                RetryDecision::Retry { attempt, delay_ms, .. } => {
                    calls += 1;
                    prop_assert_eq!(attempt, calls);
                    prop_assert!(delay_ms >= 0.0 && delay_ms <= config.backoff.max_ms.max(config.max_retry_after_ms));
                }
                RetryDecision::GiveUp { attempts: n, .. } => { prop_assert_eq!(n, calls); break; }
            }
            prop_assert!(calls <= attempts);
        }
    }

    /// Arbitrary option maps are accepted or refused with an error; parsing never panics.
    #[test]
    fn option_parsing_never_panics(entries in proptest::collection::vec((prop_oneof![
            Just("failureThreshold"), Just("resetTimeout"), Just("recoveryTimeout"), Just("maxAttempts"), Just("maxRetries"),
            Just("baseDelay"), Just("maxDelay"), Just("jitter"), Just("backoff"), Just("maxConcurrent"), Just("maxQueueSize"),
            Just("timeout"), Just("retry"), Just("circuitBreaker"), Just("bulkhead"), Just("windowSize"), Just("windowDuration"),
            Just("slowCallRateThreshold"), Just("failureRateThreshold"), Just("fallback"), Just("bogus")],
            prop_oneof![any::<f64>().prop_map(OptionValue::Number), any::<bool>().prop_map(OptionValue::Bool), Just(OptionValue::Null),
                        "[a-z]{0,6}".prop_map(OptionValue::Str), Just(OptionValue::Callback),
                        proptest::collection::vec((Just("maxAttempts".to_string()), any::<f64>().prop_map(OptionValue::Number)), 0..2).prop_map(OptionValue::Map)]), 0..8),
        seconds in any::<bool>()) {
        let opts: Options = entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let unit = if seconds { TimeUnit::Seconds } else { TimeUnit::Millis };
        for r in [
            BreakerConfig::from_options(&opts, unit).map(|_| ()),
            RetryConfig::from_options(&opts, unit).map(|_| ()),
            BulkheadConfig::from_options(&opts, unit).map(|_| ()),
            PolicyConfig::from_options(&opts, unit).map(|_| ()),
        ] {
            if let Err(e) = r {
                prop_assert!(e.option.is_some() || !e.message.is_empty());
            }
        }
    }
}

// ---- the core's JSON against serde_json --------------------------------------------------

use seawall_core::json::Json;

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(|x| serde_json::json!(x)),
        any::<u32>().prop_map(|n| serde_json::json!(n)),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8).prop_map(|pairs| serde_json::Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// serde_json's value as the core's (numbers are f64 on both sides of the engine).
fn as_core(v: &serde_json::Value) -> Json {
    match v {
        serde_json::Value::Null => Json::Null,
        serde_json::Value::Bool(b) => Json::Bool(*b),
        serde_json::Value::Number(n) => Json::Num(n.as_f64().unwrap()),
        serde_json::Value::String(s) => Json::Str(s.clone()),
        serde_json::Value::Array(items) => Json::Arr(items.iter().map(as_core).collect()),
        serde_json::Value::Object(m) => Json::Obj(m.iter().map(|(k, v)| (k.clone(), as_core(v))).collect()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// What serde_json writes, the core reads to the same value (numbers bit for bit); what
    /// the core writes, serde_json reads back to the same value.
    #[test]
    fn json_agrees_with_serde_json(v in arb_json()) {
        let text = serde_json::to_string(&v).unwrap();
        let ours = Json::parse(&text).unwrap();
        prop_assert_eq!(&ours, &as_core(&v));
        let back: serde_json::Value = serde_json::from_str(&ours.to_string()).unwrap();
        prop_assert_eq!(as_core(&back), ours);
    }

    /// Any text: never a panic, and the core accepts exactly what serde_json accepts (serde_json
    /// also takes numbers beyond f64's range as errors, which the core reads as infinities).
    #[test]
    fn json_accepts_what_serde_json_accepts(text in prop_oneof![
        any::<String>(),
        "[\\[\\]{}:,\"0-9eE.+\\-truefalsn \\\\u]{0,24}",
    ]) {
        let ours = Json::parse(&text);
        let theirs = serde_json::from_str::<serde_json::Value>(&text);
        if let Ok(v) = &theirs {
            prop_assert_eq!(ours, Ok(as_core(v)), "{}", text);
        } else {
            prop_assert!(ours.is_err() || text.contains('e') || text.contains('E'), "{}", text);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// An adaptive limit under any sequence of calls (admitted, ended with any outcome and RTT,
    /// at any time) stays within its bounds, refuses only at its limit, and every permit comes
    /// back: nothing is in flight once every admitted call ended.
    #[test]
    fn adaptive_limits_stay_in_bounds_and_give_every_permit_back(
        algorithm in 0usize..3,
        ops in proptest::collection::vec((0u8..3, 0.0f64..2_000.0, 0u8..3), 1..400),
    ) {
        use seawall_core::adaptive::{AdaptiveConfig, AdaptiveLimiter, LimitOutcome};
        let name = ["aimd", "gradient2", "vegas"][algorithm];
        let opts = seawall_core::options::parse_options(&format!(r#"{{"algorithm":"{name}","initialLimit":8,"minLimit":2,"maxLimit":40,"windowSize":2,"minWindow":1,"maxWindow":50,"timeout":1500,"partitions":{{"a":0.5}}}}"#)).unwrap();
        let mut l = AdaptiveLimiter::new(AdaptiveConfig::from_options(&opts, TimeUnit::Millis).unwrap(), 9);
        let mut held = Vec::new();
        let mut now = 0.0;
        for (kind, dt, outcome) in ops {
            now += dt / 10.0;
            if kind < 2 || held.is_empty() {
                let partition = (kind == 1).then_some(0);
                match l.try_acquire(now, partition) {
                    Some(p) => held.push(p),
                    None => prop_assert!(l.in_flight() >= l.limit(), "refused below the limit"),
                }
            } else {
                let p = held.remove(0);
                let outcome = [LimitOutcome::Success, LimitOutcome::Dropped, LimitOutcome::Ignored][outcome as usize];
                l.release(now + dt, p, outcome).unwrap();
                prop_assert!(l.release(now + dt, p, outcome).is_err(), "a permit comes back once");
            }
            prop_assert!((2..=40).contains(&l.limit()), "limit {}", l.limit());
        }
        for p in held.drain(..) {
            l.release(now, p, LimitOutcome::Success).unwrap();
        }
        prop_assert_eq!(l.in_flight(), 0);
    }
}
