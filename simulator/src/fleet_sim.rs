//! A fleet of replicas in simulated time: each with its own breaker, alone or sharing a fleet
//! (`fleet.rs`) through a modelled store that every replica syncs with on its own schedule.
//! It answers how many failed calls reach a dead backend before every
//! replica stops calling it, how many probes each cooldown sends, and whether one replica with
//! a broken network opens the others.
//!
//! Each replica syncs through the same driver as the shells (`fleet_sync.rs`), against a
//! modelled store that answers its commands as the Redis scripts do: each replica's last report
//! and when it wrote it, the fleet's last "opened" and "closed" marks, and the probe lease
//! (holder and expiry: a holder whose probe fails keeps it for the cooldown; one whose probes
//! succeed gives it back). A replica with news for the fleet syncs at once, as the shells do.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use seawall_core::breaker::{BreakerConfig, CircuitBreaker, CircuitState};
use seawall_core::error::Result;
use seawall_core::fleet::{FleetConfig, ReplicaReport};
use seawall_core::fleet_sync::{report_of, BreakerSync, Command, Reply};
use seawall_core::json::Json;
use seawall_core::rng::SeededRng;

#[derive(Debug, Clone, PartialEq)]
pub struct FleetScenario {
    pub seed: u64,
    pub replicas: u32,
    /// Calls each replica makes per second, evenly spaced (each replica starts at a random phase).
    pub calls_per_second: f64,
    pub duration_ms: f64,
    /// The backend fails every call from this time on (`None`: it stays healthy)…
    pub backend_down_from_ms: Option<f64>,
    /// …until this time (`None`: it stays down).
    pub backend_up_from_ms: Option<f64>,
    /// Replicas whose own network is broken: their calls fail without reaching the backend.
    pub sick_replicas: u32,
    pub breaker: BreakerConfig,
    /// `None`: every replica decides alone.
    pub fleet: Option<FleetConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FleetOutcome {
    /// Calls that reached the backend and failed before every healthy replica had stopped.
    pub failed_before_all_stopped: u64,
    /// When the last healthy replica stopped calling (opened); `None` if some never did.
    pub all_stopped_at_ms: Option<f64>,
    pub backend_calls: u64,
    /// Probe calls (calls admitted while half-open) in all.
    pub probes: u64,
    /// Whole open periods between all stopping and the end: probes per cooldown = probes ÷ this.
    pub cooldowns: u64,
    /// Healthy replicas whose breaker opened at some point.
    pub healthy_opened: u32,
    /// Replicas with a broken network whose breaker opened.
    pub sick_opened: u32,
    /// After the backend healed: when the last healthy replica closed again (`None`: some never
    /// did, or it never healed), and when the first did.
    pub all_closed_at_ms: Option<f64>,
    pub first_closed_at_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Call { replica: usize },
    Sync { replica: usize },
}

#[derive(Debug, PartialEq)]
struct Queued {
    at: f64,
    seq: u64,
    event: Event,
}

impl Eq for Queued {}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        // Earliest first, then in the order scheduled.
        o.at.total_cmp(&self.at).then(o.seq.cmp(&self.seq))
    }
}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

struct Replica {
    breaker: CircuitBreaker,
    sick: bool,
    /// Its sync with the store (`None`: it decides alone).
    sync: Option<BreakerSync>,
    opened_ever: bool,
    /// Closed again after the backend healed.
    closed_after_healing: bool,
}

/// What the Redis scripts keep, answering the sync driver's commands as they do.
#[derive(Default)]
struct Store {
    /// (replica, written at, its report)
    reports: Vec<(String, f64, ReplicaReport)>,
    opened: Option<f64>,
    closed: Option<f64>,
    lease: Option<(String, f64)>,
}

impl Store {
    fn execute(&mut self, command: &Command, now: f64) -> Reply {
        let text = |args: &[Json], i: usize| args.get(i).and_then(|a| a.as_str()).unwrap_or("").to_string();
        match command {
            Command::Eval { script: "mark", args, .. } => {
                if text(args, 0) == "opened" {
                    self.opened = Some(now);
                } else {
                    self.closed = Some(now);
                }
                Reply::Marked(now)
            }
            Command::Eval { script: "sync", args, .. } => {
                let id = text(args, 0);
                let report = Json::parse(&text(args, 1)).ok().as_ref().and_then(report_of).unwrap_or_default();
                let stale = args.get(2).and_then(Json::as_f64).unwrap_or(f64::INFINITY);
                self.reports.retain(|(r, at, _)| *r != id && now - at <= stale);
                self.reports.push((id, now, report));
                let reports = self.reports.iter().map(|(_, at, r)| ReplicaReport { age_ms: now - at, ..*r }).collect();
                Reply::Synced { reports, opened: self.opened, closed: self.closed }
            }
            Command::Eval { args, .. } => {
                // "release": the lease goes back only from its holder.
                if self.lease.as_ref().is_some_and(|(holder, _)| *holder == text(args, 0)) {
                    self.lease = None;
                }
                Reply::Released
            }
            Command::SetIfAbsent { value, px, .. } => {
                if self.lease.as_ref().is_some_and(|(_, until)| *until <= now) {
                    self.lease = None;
                }
                let free = self.lease.is_none();
                if free {
                    self.lease = Some((value.clone(), now + px));
                }
                Reply::Leased(free)
            }
        }
    }
}

/// One round of a replica's sync (a few commands at most: the marks, the sync, the lease).
fn sync_round(sync: &mut BreakerSync, breaker: &mut CircuitBreaker, store: &mut Store, now: f64) -> Result<()> {
    for _ in 0..8 {
        let Some(command) = sync.next_command(breaker, now) else { return Ok(()) };
        let reply = store.execute(&command, now);
        sync.handle_reply(breaker, reply, now)?;
    }
    Ok(())
}

pub fn simulate_fleet(s: &FleetScenario) -> Result<FleetOutcome> {
    let mut breaker = s.breaker.clone();
    breaker.fleet = s.fleet;
    let mut rng = SeededRng::new(s.seed);
    let mut replicas = Vec::with_capacity(s.replicas as usize);
    for i in 0..s.replicas {
        replicas.push(Replica {
            breaker: CircuitBreaker::new(breaker.clone())?,
            sick: i < s.sick_replicas,
            sync: s.fleet.map(|f| BreakerSync::new("sim", "fleet", &format!("replica-{i}"), f.stale_after_ms)),
            opened_ever: false,
            closed_after_healing: false,
        });
    }
    let mut store = Store::default();
    let mut queue = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |queue: &mut BinaryHeap<Queued>, at: f64, event: Event| {
        seq += 1;
        queue.push(Queued { at, seq, event });
    };
    let spacing = 1000.0 / s.calls_per_second;
    for r in 0..replicas.len() {
        push(&mut queue, rng.uniform(0.0, spacing), Event::Call { replica: r });
        if let Some(f) = s.fleet {
            push(&mut queue, rng.uniform(0.0, f.sync_interval_ms), Event::Sync { replica: r });
        }
    }
    let mut out = FleetOutcome::default();
    let healthy = replicas.iter().filter(|r| !r.sick).count();
    let mut stopped = vec![false; replicas.len()];
    let mut stopped_count = 0;
    let mut closed_count = 0;
    while let Some(Queued { at: now, event, .. }) = queue.pop() {
        if now > s.duration_ms {
            break;
        }
        match event {
            Event::Call { replica } => {
                push(&mut queue, now + spacing, Event::Call { replica });
                let r = &mut replicas[replica];
                let Ok(permit) = r.breaker.try_acquire(now) else { continue };
                out.probes += u64::from(permit.is_probe());
                let down = s.backend_down_from_ms.is_some_and(|t| now >= t) && !s.backend_up_from_ms.is_some_and(|t| now >= t);
                let failed = r.sick || down;
                if !r.sick {
                    out.backend_calls += 1;
                    if failed && out.all_stopped_at_ms.is_none() {
                        out.failed_before_all_stopped += 1;
                    }
                }
                let _ = if failed { r.breaker.record_failure(now, permit, 1.0) } else { r.breaker.record_success(now, permit, 1.0) };
            }
            Event::Sync { replica } => {
                push(&mut queue, now + s.fleet.map_or(f64::INFINITY, |f| f.sync_interval_ms), Event::Sync { replica });
                let r = &mut replicas[replica];
                if let Some(sync) = &mut r.sync {
                    sync_round(sync, &mut r.breaker, &mut store, now)?;
                }
            }
        }
        // A replica with news for the fleet syncs at once (as the shells wake their sync).
        for r in replicas.iter_mut() {
            if let Some(sync) = &mut r.sync {
                if sync.marks_waiting(&mut r.breaker) {
                    sync_round(sync, &mut r.breaker, &mut store, now)?;
                }
            }
        }
        for (i, r) in replicas.iter_mut().enumerate() {
            while let Some(change) = r.breaker.poll_event() {
                let healed = s.backend_up_from_ms.is_some_and(|t| now >= t);
                if healed && !r.sick && change.to == CircuitState::Closed && !r.closed_after_healing {
                    r.closed_after_healing = true;
                    out.first_closed_at_ms.get_or_insert(now);
                    closed_count += 1;
                    if closed_count == healthy {
                        out.all_closed_at_ms = Some(now);
                    }
                }
                if change.to == CircuitState::Open {
                    r.opened_ever = true;
                    if !r.sick && !stopped[i] {
                        stopped[i] = true;
                        stopped_count += 1;
                        if stopped_count == healthy {
                            out.all_stopped_at_ms = Some(now);
                        }
                    }
                }
            }
        }
    }
    out.healthy_opened = replicas.iter().filter(|r| !r.sick && r.opened_ever).count() as u32;
    out.sick_opened = replicas.iter().filter(|r| r.sick && r.opened_ever).count() as u32;
    if let Some(t) = out.all_stopped_at_ms {
        out.cooldowns = ((s.duration_ms - t) / s.breaker.reset_timeout_ms).floor().max(0.0) as u64;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(fleet: Option<FleetConfig>) -> FleetScenario {
        FleetScenario {
            seed: 1,
            replicas: 100,
            calls_per_second: 1.0,
            duration_ms: 120_000.0,
            backend_down_from_ms: Some(10_000.0),
            backend_up_from_ms: None,
            sick_replicas: 0,
            breaker: BreakerConfig { failure_threshold: Some(5), reset_timeout_ms: 10_000.0, half_open_max_calls: 1, ..BreakerConfig::default() },
            fleet,
        }
    }

    #[test]
    fn a_fleet_stops_calling_a_dead_backend_ten_times_sooner_and_probes_once_per_cooldown() {
        let alone = simulate_fleet(&scenario(None)).unwrap();
        let fleet = simulate_fleet(&scenario(Some(FleetConfig::default()))).unwrap();
        // Alone: five failures per replica before each stops, then each probes every cooldown.
        assert_eq!(alone.failed_before_all_stopped, 500);
        assert!(alone.probes >= 100 * alone.cooldowns, "{alone:?}");
        // Together: the fleet's five, plus what arrives within one sync interval.
        assert!(fleet.failed_before_all_stopped <= 50, "{fleet:?}");
        assert!(fleet.failed_before_all_stopped >= 5, "{fleet:?}");
        assert!(fleet.cooldowns >= 8 && fleet.probes <= fleet.cooldowns + 1, "{fleet:?}");
        assert_eq!(fleet.healthy_opened, 100);
        // Every replica calls ten times before the outage; afterwards only the failures before
        // all stopped and the probes reach the backend.
        assert_eq!(fleet.backend_calls, 1000 + fleet.failed_before_all_stopped + fleet.probes, "{fleet:?}");
        assert_eq!(alone.backend_calls, 1000 + alone.failed_before_all_stopped + alone.probes, "{alone:?}");
    }

    #[test]
    fn healed_the_fleet_closes_together_on_one_probe() {
        // Down from 10 s to 40 s, 2 calls a second each: alone, each replica closes on its own
        // probe at the end of its own cooldown; as a fleet, the lease holder's probe closes it
        // and the others follow within one sync interval (250 ms).
        let run = |fleet: Option<FleetConfig>| {
            let mut s = scenario(fleet);
            (s.backend_up_from_ms, s.calls_per_second, s.duration_ms) = (Some(40_000.0), 2.0, 80_000.0);
            simulate_fleet(&s).unwrap()
        };
        let fleet = run(Some(FleetConfig::default()));
        let (first, last) = (fleet.first_closed_at_ms.unwrap(), fleet.all_closed_at_ms.unwrap());
        assert!(first >= 40_000.0 && last - first <= 250.0, "{fleet:?}");
        let alone = run(None);
        // Two calls a second: each replica's fifth failure within 2.5 s of the outage.
        assert!(alone.failed_before_all_stopped == 500 && alone.all_stopped_at_ms.is_some_and(|t| t < 12_500.0), "{alone:?}");
        let (first, last) = (alone.first_closed_at_ms.unwrap(), alone.all_closed_at_ms.unwrap());
        assert!(first >= 40_000.0 && last - first > 250.0, "alone, each on its own schedule: {alone:?}");
        // Never healing, never closed.
        assert_eq!(simulate_fleet(&scenario(Some(FleetConfig::default()))).unwrap().all_closed_at_ms, None);
    }

    #[test]
    fn one_replica_with_a_broken_network_opens_only_its_own_breaker() {
        let mut s = scenario(Some(FleetConfig::default()));
        // The sick replicas fail their first five calls within 5 s: 30 s shows what follows.
        (s.backend_down_from_ms, s.sick_replicas, s.replicas, s.duration_ms) = (None, 1, 101, 30_000.0);
        let out = simulate_fleet(&s).unwrap();
        assert_eq!((out.sick_opened, out.healthy_opened, out.all_stopped_at_ms), (1, 0, None));
        // Two sick replicas are a quorum of two: the fleet opens (a fraction guards big fleets).
        s.sick_replicas = 2;
        let two = simulate_fleet(&s).unwrap();
        assert_eq!((two.healthy_opened, two.sick_opened), (99, 2));
        s.fleet = Some(FleetConfig { quorum: seawall_core::fleet::Quorum::Fraction(0.1), ..FleetConfig::default() });
        assert_eq!(simulate_fleet(&s).unwrap().healthy_opened, 0);
        // One healthy and one sick replica: the healthy one never stopped (the sick one's
        // breaker is not the healthy ones' stopping).
        (s.replicas, s.sick_replicas, s.fleet) = (2, 1, Some(FleetConfig::default()));
        let pair = simulate_fleet(&s).unwrap();
        assert_eq!((pair.sick_opened, pair.healthy_opened, pair.all_stopped_at_ms), (1, 0, None));
    }
}
