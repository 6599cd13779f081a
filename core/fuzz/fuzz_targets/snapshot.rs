//! Saved breaker state (`toJSON` / `restore`, read back after a restart, so outside input):
//! never a panic; an accepted snapshot gives a breaker that works, and saving it again and
//! restoring that gives the same snapshot.
#![no_main]
use libfuzzer_sys::fuzz_target;
use seawall_core::{json::Json, Engine};

const OPTIONS: [&str; 3] = [
    r#"{"failureThreshold":3,"resetTimeout":100}"#,
    r#"{"failureRateThreshold":0.5,"volumeThreshold":4,"windowSize":8,"halfOpenMaxCalls":2}"#,
    r#"{"failureThreshold":2,"windowDuration":1000,"windowBuckets":4,"successThreshold":2}"#,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut e = Engine::new();
    let h = e.breaker_create(OPTIONS[usize::from(selector) % OPTIONS.len()], false, None).expect("breaker");
    let now = f64::from(selector) * 7.0;
    if e.breaker_restore(h, text, now).is_err() {
        return;
    }
    let saved = e.breaker_snapshot(h, now).expect("snapshot");
    Json::parse(&saved).expect("a snapshot is JSON");
    e.breaker_restore(h, &saved, now).expect("a breaker takes its own snapshot back");
    // Stable, but for a half-open breaker: it restores as open with no wait (its probes were
    // lost), and re-entering half-open is a change of its own.
    let again = e.breaker_snapshot(h, now).expect("snapshot");
    if saved.contains("\"state\":\"HALF_OPEN\"") {
        let changes = |s: &str| Json::parse(s).ok().and_then(|j| j.get("totals")?.get("stateChanges")?.as_f64()).expect("stateChanges");
        assert_eq!(changes(&again), changes(&saved) + 1.0, "{saved}\n{again}");
    } else {
        assert_eq!(again, saved, "save, restore, save is stable");
    }
    for i in 0..6 {
        let t = now + f64::from(i) * 50.0;
        let (permit, _, _) = e.breaker_acquire(h, t);
        if permit >= 0.0 {
            assert!(e.breaker_record(h, permit, u32::from(i % 2 == 0), t + 1.0, t) >= 0.0);
        }
        assert!(e.breaker_state(h, t).expect("state") < 5);
    }
    Json::parse(&e.breaker_stats(h, now + 400.0).expect("stats")).expect("stats are JSON");
});
