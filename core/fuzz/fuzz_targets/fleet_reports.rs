//! What a fleet sync reads back from Redis (the other replicas' reports, written by any version
//! of any shell, so outside input), for a breaker, a rate limiter and a retry budget: never a
//! panic; an error names `reports` or the report at fault; an accepted answer gives a tally that
//! is JSON and counts no more replicas than were sent, and the breaker goes on working through
//! syncs, leases and announcements; a limiter's share stays within 0 and its limit, and a
//! budget's part within its trickle and tokens, whatever they were granted.
#![no_main]
use libfuzzer_sys::fuzz_target;
use seawall_core::{json::Json, Engine, ErrorKind};

const OPTIONS: [&str; 3] = [
    r#"{"failureThreshold":3,"resetTimeout":100,"fleet":{"redis":"<object>"}}"#,
    r#"{"failureRateThreshold":0.5,"volumeThreshold":4,"windowSize":8,"halfOpenMaxCalls":2,"fleet":{"redis":"<object>","minReplicas":0.3}}"#,
    r#"{"slowCallDurationThreshold":5,"slowCallRateThreshold":0.5,"volumeThreshold":2,"resetTimeout":50,"fleet":{"redis":"<object>","minReplicas":1,"syncInterval":10}}"#,
];

const COMMANDS: [&str; 5] = ["fleetLease", "fleetOpened", "fleetClosed", "fleetAlone", "fleetShared"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut e = Engine::new();
    let h = e.breaker_create(OPTIONS[usize::from(selector) % OPTIONS.len()], false, Some("fuzz")).expect("breaker");
    let mut now = f64::from(selector);
    for round in 0..3u8 {
        match e.breaker_fleet_sync(h, text, now) {
            Ok(tally) => {
                let tally = Json::parse(&tally).expect("a tally is JSON");
                let replicas = tally.get("replicas").and_then(Json::as_f64).expect("replicas");
                let sent = match Json::parse(text) {
                    Ok(Json::Arr(items)) => items.len() as f64,
                    other => panic!("accepted reports that are not a list: {other:?} from {text:?}"),
                };
                assert!(replicas <= sent, "{replicas} replicas from {sent} reports");
            }
            Err(err) => {
                assert!(matches!(err.kind, ErrorKind::Type | ErrorKind::Range), "{err:?}");
                assert!(err.option.as_deref().is_some_and(|o| o.starts_with("reports")), "{err:?}");
            }
        }
        let command = COMMANDS[usize::from(selector.wrapping_add(round)) % COMMANDS.len()];
        let state = e.breaker_command(h, command, now).expect("a fleet command");
        assert!(state < 8, "state {state}");
        let lease = e.breaker_probe_lease(h, now);
        assert!(lease.is_nan() || (lease >= 1.0 && lease.fract() == 0.0), "lease {lease}");
        let (permit, _, _) = e.breaker_acquire(h, now);
        if permit >= 0.0 {
            assert!(e.breaker_record(h, permit, u32::from(round % 2 == 0), now + 1.0, now) >= 0.0);
        }
        Json::parse(&e.breaker_fleet_report(h, now).expect("report")).expect("a report is JSON");
        now += 60.0;
    }
    Json::parse(&e.health(now)).expect("health is JSON");

    let l = e.rate_limit_create(r#"{"name":"fuzz","limit":50,"burst":5,"fleet":{"redis":"<object>","syncInterval":10}}"#, false).expect("limiter");
    let grants = [0.0, 1.0, 25.5, 50.0, 1e300, -3.0, f64::NAN, f64::INFINITY];
    for round in 0..3u8 {
        let granted = grants[usize::from(selector.wrapping_add(round)) % grants.len()];
        let _ = e.rate_limit_acquire(l, now);
        Json::parse(&e.rate_limit_fleet_report(l, now).expect("report")).expect("a report is JSON");
        match e.rate_limit_fleet_sync(l, granted, text, now) {
            Ok(()) => {}
            Err(err) => assert!(err.option.as_deref().is_some_and(|o| o.starts_with("reports")), "{err:?}"),
        }
        if round == 2 {
            e.rate_limit_fleet_alone(l).expect("alone");
        }
        let stats = Json::parse(&e.rate_limit_stats(l, now).expect("stats")).expect("stats are JSON");
        let share = stats.get("fleet").and_then(|f| f.get("share")).and_then(Json::as_f64).expect("share");
        assert!((0.0..=50.0).contains(&share), "share {share}");
        now += 7.0;
    }

    // A retry budget's fleet reads the same reports: its part stays within the whole budget.
    let b = e.budget_create(r#"{"name":"fuzz","minRetriesPerSecond":4,"maxTokens":8,"fleet":{"redis":"<object>","syncInterval":10}}"#, false, now).expect("budget");
    for round in 0..3u8 {
        let granted = grants[usize::from(selector.wrapping_add(round)) % grants.len()];
        e.budget_try_withdraw(b, now);
        Json::parse(&e.budget_fleet_report(b, now).expect("report")).expect("a report is JSON");
        match e.budget_fleet_sync(b, granted, text, now) {
            Ok(()) => {}
            Err(err) => assert!(err.option.as_deref().is_some_and(|o| o.starts_with("reports")), "{err:?}"),
        }
        if round == 2 {
            e.budget_fleet_alone(b, now).expect("alone");
        }
        let stats = Json::parse(&e.budget_stats(b, now).expect("stats")).expect("stats are JSON");
        let part = |k: &str| stats.get("fleet").and_then(|f| f.get(k)).and_then(Json::as_f64).expect("a part");
        assert!((0.0..=4.0).contains(&part("share")) && (1.0..=8.0).contains(&part("cap")), "{stats}");
        let tokens = stats.get("tokens").and_then(Json::as_f64).expect("tokens");
        assert!((0.0..=part("cap")).contains(&tokens), "{stats}");
        now += 7.0;
    }
});
