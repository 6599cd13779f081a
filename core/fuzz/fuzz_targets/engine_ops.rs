//! Any sequence of calls a shell can make, with any times (NaN, negative, backwards, huge):
//! never a panic, and nothing lost. The bulkhead's running and queued calls are exactly those
//! the sequence was granted and has not given back; a permit goes back once; breaker and
//! bulkhead state stays within its limits.
#![no_main]
use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use seawall_core::{json::Json, Engine};

const BREAKERS: [&str; 4] = [
    r#"{"failureThreshold":2,"resetTimeout":100}"#,
    r#"{"failureRateThreshold":0.5,"volumeThreshold":4,"windowSize":8,"halfOpenMaxCalls":2,"resetTimeout":50}"#,
    r#"{"failureThreshold":1,"resetTimeout":10,"slowCallDurationThreshold":5,"slowCallRateThreshold":0.5,"volumeThreshold":2}"#,
    r#"{"failureThreshold":3,"resetTimeout":20,"windowDuration":1000,"windowBuckets":10,"halfOpenMaxCalls":3,"resetBackoffMultiplier":2,"maxResetTimeout":200}"#,
];
const BULKHEADS: [&str; 3] = [r#"{"maxConcurrent":1,"maxQueueSize":0}"#, r#"{"maxConcurrent":2,"maxQueueSize":3,"queueTimeout":30}"#, r#"{"maxConcurrent":1,"maxQueueSize":5}"#];
const COMMANDS: [&str; 6] = ["open", "forceOpen", "isolate", "reset", "disable", "bogus"];

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> u16 {
        u16::from(self.byte().unwrap_or(0)) << 8 | u16::from(self.byte().unwrap_or(0))
    }
}

fn metrics(e: &mut Engine, h: u32) -> (u64, u64) {
    let m = Json::parse(&e.bulkhead_metrics(h).expect("metrics")).expect("metrics are JSON");
    let n = |k: &str| m.get(k).and_then(Json::as_f64).expect("a count") as u64;
    (n("active"), n("queued"))
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(setup) = input.byte() else { return };
    let mut e = Engine::new();
    let breaker = e.breaker_create(BREAKERS[usize::from(setup) % BREAKERS.len()], false, Some("b")).expect("breaker");
    let which = usize::from(setup >> 4) % BULKHEADS.len();
    let bulkhead = e.bulkhead_create(BULKHEADS[which], false, Some("k")).expect("bulkhead");
    let (max_running, max_queued) = [(1, 0), (2, 3), (1, 5)][which];
    let retry = e.retry_policy_create(r#"{"maxRetries":3,"baseDelay":10,"maxDelay":40}"#, false, f64::from(setup)).expect("retry");
    let mut now = 0.0_f64;
    let mut permits: Vec<(f64, f64)> = Vec::new();
    let mut spent: Vec<f64> = Vec::new();
    let mut running: BTreeSet<u64> = BTreeSet::new();
    let mut queued: BTreeSet<u64> = BTreeSet::new();
    let mut steps = 0;
    while let Some(op) = input.byte() {
        steps += 1;
        if steps > 400 {
            break;
        }
        match op % 14 {
            0 => now += f64::from(input.u16()),
            1 => now = [f64::NAN, -1.0, f64::INFINITY, 1e300, -0.0, now - 5.0][usize::from(input.byte().unwrap_or(0)) % 6],
            2 => {
                let (code, _, _) = e.breaker_acquire(breaker, now);
                if code >= 0.0 {
                    permits.push((code, now));
                }
            }
            3 => {
                if let Some((permit, started)) = (!permits.is_empty()).then(|| permits.swap_remove(usize::from(input.byte().unwrap_or(0)) % permits.len())) {
                    let r = e.breaker_record(breaker, permit, u32::from(input.byte().unwrap_or(0) % 3), now, started);
                    assert!(r >= 0.0, "an outstanding permit is taken back (got {r})");
                    spent.push(permit);
                }
            }
            4 => {
                // Calls are counted, not named, once their probe period is over (no public API
                // hands a permit to users: the shells settle each call once), so a second record
                // is refused for sure only when nothing else is in flight.
                if let Some(&permit) = spent.last() {
                    if permits.is_empty() && permit < Engine::PREAPPROVED_PERMIT {
                        assert_eq!(e.breaker_record(breaker, permit, 1, now, now), -1.0, "a permit counts once");
                    }
                }
            }
            5 => {
                let _ = e.breaker_command(breaker, COMMANDS[usize::from(input.byte().unwrap_or(0)) % COMMANDS.len()], now);
            }
            6 => {
                let _ = e.breaker_record_successes(breaker, u32::from(input.byte().unwrap_or(0)), now);
            }
            7 => {
                assert!(e.breaker_state(breaker, now).expect("state") < 5);
                Json::parse(&e.breaker_stats(breaker, now).expect("stats")).expect("stats are JSON");
                let _ = e.breaker_retry_after(breaker, now);
                Json::parse(&e.breaker_events(breaker)).expect("events are JSON");
            }
            8 => {
                let snapshot = e.breaker_snapshot(breaker, now).expect("snapshot");
                e.breaker_restore(breaker, &snapshot, now).expect("a breaker takes its own snapshot back");
            }
            9 => match e.bulkhead_acquire(bulkhead, now) {
                (0, p) => assert!(running.insert(p as u64), "permit {p} handed out twice"),
                (1, t) => assert!(queued.insert(t as u64), "ticket {t} handed out twice"),
                _ => {}
            },
            10 => {
                if let Some(&p) = running.iter().nth(usize::from(input.byte().unwrap_or(0)) % running.len().max(1)) {
                    running.remove(&p);
                    let (ticket, next) = e.bulkhead_release(bulkhead, p as f64, now).expect("an outstanding permit goes back");
                    if ticket > 0.0 {
                        assert!(queued.remove(&(ticket as u64)), "started ticket {ticket} was not queued");
                        assert!(running.insert(next as u64));
                    }
                    assert!(e.bulkhead_release(bulkhead, p as f64, now).is_err(), "permit {p} goes back twice");
                }
            }
            11 => {
                // A ticket that timed out inside another call waits for `bulkhead_expire`.
                if let Some(&t) = queued.iter().nth(usize::from(input.byte().unwrap_or(0)) % queued.len().max(1)) {
                    if e.bulkhead_cancel(bulkhead, t as f64) {
                        queued.remove(&t);
                    }
                }
            }
            12 => {
                for t in e.bulkhead_expire(bulkhead, now) {
                    assert!(queued.remove(&(t as u64)), "expired ticket {t} was not queued");
                }
            }
            _ => {
                let call = e.retry_start(retry, now).expect("start");
                for i in 0..u32::from(input.byte().unwrap_or(0) % 6) {
                    match e.retry_on_failure(call, now + f64::from(i), i % 3, f64::from(input.byte().unwrap_or(0)), f64::NAN) {
                        // A wait (ms, not NaN) or a give-up reason (-1, -2, …).
                        Ok((delay, _, _)) if delay >= 0.0 => {}
                        Ok((code, _, _)) => {
                            assert!(code <= -1.0 && code.fract() == 0.0, "neither a wait nor a reason: {code}");
                            break;
                        }
                        Err(err) => panic!("retry_on_failure: {err:?}"),
                    }
                }
                assert!(e.retry_end(call));
            }
        }
        let (active, waiting) = metrics(&mut e, bulkhead);
        // Queued: what the caller still waits for, less what timed out and awaits its poll.
        assert_eq!(active, running.len() as u64, "the bulkhead's running calls are those it granted");
        assert!(waiting <= queued.len() as u64, "queued {waiting}, but only {} waiting", queued.len());
        assert!(active <= max_running && waiting <= max_queued);
    }
    // Everything given back, queued calls starting as slots free: the bulkhead ends empty.
    queued.retain(|&t| !e.bulkhead_cancel(bulkhead, t as f64));
    let expired: BTreeSet<u64> = e.bulkhead_expire(bulkhead, now).into_iter().map(|t| t as u64).collect();
    assert_eq!(expired, queued, "a ticket that does not cancel has timed out");
    for p in std::mem::take(&mut running) {
        let (ticket, _) = e.bulkhead_release(bulkhead, p as f64, now).expect("an outstanding permit goes back");
        assert_eq!(ticket, 0.0, "nothing was queued");
    }
    assert_eq!(metrics(&mut e, bulkhead), (0, 0));
    let _ = e.health(now);
});
