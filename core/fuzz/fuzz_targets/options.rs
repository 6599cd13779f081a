//! Options text (what every binding hands the core) for each kind of policy: never a panic; an
//! error is an option error that names the option and its value; `validate` and the
//! constructors agree; a built policy's config reads back and builds the same policy again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use seawall_core::{Engine, ErrorKind, SeawallError};

const KINDS: [&str; 7] = ["breaker", "retry", "bulkhead", "budget", "timeout", "policy", "rateLimit"];

fn check_error(e: &SeawallError, text: &str) {
    assert!(matches!(e.kind, ErrorKind::Type | ErrorKind::Range), "not an option error for {text:?}: {e:?}");
    assert!(e.option.is_some(), "no option named for {text:?}: {e:?}");
    assert!(!e.message.is_empty());
    assert!(e.message.len() < 4096 + text.len() * 2, "runaway message for {text:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let kind = KINDS[usize::from(selector) % KINDS.len()];
    let seconds = selector & 0x80 != 0;
    let checked = Engine::validate(kind, text, seconds);
    if let Err(e) = &checked {
        check_error(e, text);
    }
    let mut engine = Engine::new();
    let built = match kind {
        "breaker" => engine.breaker_create(text, seconds, Some("fuzz")).map(|h| {
            let config = engine.breaker_config(h).expect("a live breaker has a config");
            seawall_core::json::Json::parse(&config).expect("config is JSON");
            let snapshot = engine.breaker_snapshot(h, 0.0).expect("snapshot");
            engine.breaker_restore(h, &snapshot, 0.0).expect("a breaker takes its own snapshot back");
            engine.breaker_stats(h, 0.0).expect("stats");
        }),
        "retry" => engine.retry_policy_create(text, seconds, 7.0).map(|h| {
            let call = engine.retry_start(h, 0.0).expect("start");
            for i in 0..4 {
                let _ = engine.retry_on_failure(call, f64::from(i) * 10.0, i % 3, f64::NAN, f64::NAN);
            }
            engine.retry_end(call);
        }),
        "bulkhead" => engine.bulkhead_create(text, seconds, Some("fuzz")).map(|h| {
            let (code, permit) = engine.bulkhead_acquire(h, 0.0);
            if code == 0 {
                engine.bulkhead_release(h, permit, 1.0).expect("a granted permit goes back");
            }
            engine.bulkhead_metrics(h).expect("metrics");
        }),
        "budget" => engine.budget_create(text, seconds, 0.0).map(|h| {
            engine.budget_record_success(h, 1.0);
            engine.budget_try_withdraw(h, 2.0);
            assert!(!engine.budget_tokens(h, 3.0).is_nan());
        }),
        "rateLimit" => engine.rate_limit_create(text, seconds).map(|h| {
            // Every answer is a start (0), a wait with a ticket (> 0) or a refusal (< 0), in finite ms.
            for i in 0..4 {
                let (wait, ticket) = engine.rate_limit_acquire(h, f64::from(i));
                assert!(wait.is_finite(), "rate limiter answered a wait of {wait} for {text:?}");
                assert_eq!(wait > 0.0, !ticket.is_nan(), "a wait has a ticket, nothing else has: {wait} {ticket} for {text:?}");
                if i == 3 && wait > 0.0 {
                    engine.rate_limit_cancel(h, ticket);
                }
            }
            seawall_core::json::Json::parse(&engine.rate_limit_stats(h, 5.0).expect("stats")).expect("stats are JSON");
        }),
        _ => checked.clone(),
    };
    match (&checked, &built) {
        (Ok(()), Ok(())) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "validate and create disagree on {text:?}"),
        _ => panic!("validate says {checked:?}, create says {built:?} for {kind} {text:?}"),
    }
    let _ = engine.health(5.0);
    let _ = engine.prometheus();
});
