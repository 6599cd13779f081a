//! Scenario files (the simulator's input, from users): never a panic and never memory without
//! bound; an accepted file with a small load simulates and answers JSON, or is refused for a run
//! far longer than its buckets are wide (naming bucketMs).
#![no_main]
use libfuzzer_sys::fuzz_target;
use seawall_core::{json::Json, ErrorKind};
use seawall_simulator::scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match scenario::read_scenarios(text) {
        Err(e) => assert!(matches!(e.kind, ErrorKind::Type | ErrorKind::Range) && e.option.is_some(), "{e:?}"),
        Ok(list) => {
            // Keep each run short: the load is what the user asks for, not what we check here.
            let small = list.iter().all(|(_, s)| u64::from(s.clients) * u64::from(s.requests_per_client) <= 200 && s.layers.len() <= 3);
            if small {
                // A run far longer than its buckets are wide is refused, naming bucketMs.
                match scenario::simulate_file(text) {
                    Ok(out) => drop(Json::parse(&out).expect("the report is JSON")),
                    Err(e) => assert_eq!(e.option.as_deref(), Some("bucketMs"), "{e:?}"),
                }
            }
        }
    }
});
