//! Fleet rate limits: one limit for all the replicas of a service, and nothing on a call's path
//! waiting for the shared store.
//!
//! Each replica runs its own GCRA (`ratelimit.rs`) at its *share* of the limit. At each sync it
//! reports its demand (calls that arrived, started or not, per `per`) and asks for a share; the
//! store grants at most what the other replicas' fresh shares leave of the limit, atomically in
//! its script, so the shares never add up to more than the limit. What to ask for is decided
//! here: max-min fairness over the replicas' last demands (a replica wanting less than an equal
//! part gets what it wants, the others split the rest evenly), and what nobody wants split evenly
//! too, so a replica whose traffic grows finds room at once. A replica asking for less gets it at
//! once; one asking for more gets it as the others' next syncs give theirs back (one interval).
//!
//! Bursts: a replica's burst is its part of `burst` (`burst × share / limit`), but at least one
//! call, so a fleet of `n` replicas starts at most `max(burst, n) + t × limit / per` calls over
//! any stretch `t` while the store answers.
//!
//! Before the store's first answer a replica has no share (its first sync starts when it is
//! made, so that is one round trip). The store lost (a sync failed or ran late): the replica runs
//! at `limit ÷` the replicas it saw at its last sync (itself alone, if none), until the store
//! answers again.
//!
//! Driver call order, per sync: `report(now)` (the JSON the store keeps, with what to ask for),
//! run the store's script, hand its grant and the others' reports to `sync(now, …)`; a failed
//! sync calls `alone()`.

use crate::error::Result;
use crate::fleet::{reports_from_json, FleetConfig, FleetHealth};
use crate::json::Json;

/// Another replica's report as the store hands it back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaReport {
    /// Calls per `per` that arrived at that replica over its last sync interval.
    pub demand: f64,
    pub age_ms: f64,
}

impl QuotaReport {
    /// `{demand, ageMs}` (other fields, such as `want`, are the store's): a demand and an age,
    /// both finite numbers ≥ 0.
    pub fn from_json(v: &Json) -> Option<QuotaReport> {
        let num = |k: &str| v.get(k).and_then(Json::as_f64).filter(|x| x.is_finite() && *x >= 0.0);
        Some(QuotaReport { demand: num("demand")?, age_ms: num("ageMs")? })
    }

    /// Reads the store's answer (see `fleet::reports_from_json`).
    pub fn list_from_json(text: &str) -> Result<Vec<QuotaReport>> {
        reports_from_json(text, "{demand, ageMs} of finite numbers ≥ 0", QuotaReport::from_json)
    }
}

/// This replica's max-min fair part of `limit`, given its demand and the others' (all in calls
/// per `per`): demands below an equal part are met, the rest is split evenly among the replicas
/// that want more, and what is left when every demand is met is split evenly among all.
pub fn fair_share(limit: f64, mine: f64, others: &[f64]) -> f64 {
    let n = (others.len() + 1) as f64;
    let total = mine + others.iter().sum::<f64>();
    if total <= limit {
        return mine + (limit - total) / n;
    }
    // Water-filling without sorting (no sort code in the wasm build): the level is what is left
    // after the demands below it, split among the others; it only rises, at most once per
    // replica, until no demand crosses it.
    let mut level = limit / n;
    for _ in 0..=others.len() {
        let (mut below, mut above) = (0.0, 0.0);
        for &d in others.iter().chain(std::iter::once(&mine)) {
            if d < level {
                below += d;
            } else {
                above += 1.0;
            }
        }
        let next = (limit - below) / above;
        if next == level {
            break;
        }
        level = next;
    }
    mine.min(level)
}

/// A shared quota's side of its fleet: a rate limiter's (a limit) or a retry budget's (a trickle).
#[derive(Debug, Clone, PartialEq)]
pub struct FleetQuota {
    pub config: FleetConfig,
    /// Whether the store answers (while it does not, the share is `limit ÷ replicas`).
    shared: bool,
    /// The share granted at the last sync (calls per `per`).
    granted: f64,
    /// Replicas at the last sync, this one included.
    replicas: u32,
    /// The other replicas' demands at the last sync.
    others: Vec<f64>,
    /// Calls that arrived since the last report, and when that was.
    arrivals: u64,
    since: f64,
    /// The demand last reported (calls per `per`).
    demand: f64,
    synced_at: f64,
}

impl FleetQuota {
    pub fn new(config: FleetConfig, now: f64) -> Self {
        FleetQuota { config, shared: true, granted: 0.0, replicas: 1, others: Vec::new(), arrivals: 0, since: now, demand: 0.0, synced_at: f64::NEG_INFINITY }
    }

    /// The share to run at now (calls per `per`).
    pub fn share(&self, limit: f64) -> f64 {
        if self.shared {
            self.granted
        } else {
            limit / f64::from(self.replicas)
        }
    }

    /// A call arrived (whether it starts, waits or is refused): it counts as demand.
    pub fn arrived(&mut self) {
        self.arrivals += 1;
    }

    /// What this replica tells the store: `{demand, want}` in calls per `per`; starts a new
    /// measuring interval. The demand is the arrivals' rate since the last report, or the last
    /// demand halved every stale-after period if that is more: bursty callers (or a report
    /// made just after another) keep their share, and one that stops calling gives it back
    /// within a few intervals.
    pub fn report(&mut self, now: f64, limit: f64, per_ms: f64) -> Json {
        // The first report measures from the limiter's start; an empty interval (two reports at
        // one time) counts as one sync interval, so a demand is never infinite.
        let since = if now > self.since { now - self.since } else { 0.0 };
        let measured = self.arrivals as f64 * per_ms / if since > 0.0 { since } else { self.config.sync_interval_ms };
        // libm, not the platform's pow: the same bits in wasm and natively.
        let held = self.demand * libm::pow(0.5, since / self.config.stale_after_ms);
        let demand = measured.max(held);
        self.demand = demand;
        self.arrivals = 0;
        self.since = now;
        let want = fair_share(limit, demand, &self.others);
        Json::obj(vec![("demand", Json::Num(demand)), ("want", Json::Num(want))])
    }

    /// The store answered: the share granted of `whole` (a garbled or negative grant is none, and
    /// none is ever above the whole) and the other replicas' reports (stale ones left out).
    /// Answers the share to run at.
    pub fn sync(&mut self, now: f64, granted: f64, reports: &[QuotaReport], whole: f64) -> f64 {
        self.shared = true;
        self.synced_at = now;
        self.granted = if granted.is_finite() && granted > 0.0 { granted.min(whole) } else { 0.0 };
        self.others.clear();
        for r in reports {
            if r.age_ms <= self.config.stale_after_ms {
                self.others.push(r.demand);
            }
        }
        self.replicas = self.others.len() as u32 + 1;
        self.share(whole)
    }

    /// The store did not answer in time: run at `whole ÷ replicas` until it does (answered).
    pub fn alone(&mut self, whole: f64) -> f64 {
        self.shared = false;
        self.share(whole)
    }

    pub fn health(&self, now: f64) -> FleetHealth {
        FleetHealth::at(now, self.shared, self.replicas, self.synced_at, self.config.stale_after_ms)
    }

    /// Adds how the fleet stands at `now` and this replica's `parts` to the `fleet` object of a
    /// policy's config JSON (its stats).
    pub fn add_state(&self, now: f64, config: &mut Json, parts: &[(&str, f64)]) {
        let Json::Obj(o) = config else { return };
        let Some((_, Json::Obj(fleet))) = o.iter_mut().find(|(k, _)| k == "fleet") else { return };
        if let Json::Obj(h) = self.health(now).to_json() {
            fleet.extend(h);
        }
        fleet.extend(parts.iter().map(|(k, v)| ((*k).into(), Json::Num(*v))));
    }
}

/// One quota sync: KEYS quota (hash: replica → "time|grant|report"); ARGV replica id, its report
/// (JSON with `want`), the limit, stale-after ms. Prunes reports older than stale-after, grants
/// `min(want, limit − the others' fresh grants)` (at least 0), keeps the key two stale-after
/// periods, answers `[grant, ["age|report", …]]` of the others. The grant is the only rule here:
/// it must be atomic for the shares never to add up to more than the limit.
pub(crate) const QUOTA_SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local stale = tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
local taken = 0
local reports = {}
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    local a = string.find(all[i + 1], '|', 1, true)
    local b = string.find(all[i + 1], '|', a + 1, true)
    local at = tonumber(string.sub(all[i + 1], 1, a - 1))
    if now - at > stale then
      redis.call('HDEL', KEYS[1], all[i])
    else
      taken = taken + tonumber(string.sub(all[i + 1], a + 1, b - 1))
      reports[#reports + 1] = tostring(now - at) .. '|' .. string.sub(all[i + 1], b + 1)
    end
  end
end
local grant = math.max(0, math.min(tonumber(cjson.decode(ARGV[2]).want), tonumber(ARGV[3]) - taken))
redis.call('HSET', KEYS[1], ARGV[1], now .. '|' .. tostring(grant) .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(stale * 2))
return {tostring(grant), reports}
"#;

/// The store's side of a quota sync, as its script does it (`QUOTA_SCRIPT`), for simulated
/// fleets in tests; reports are stale after a second.
#[cfg(test)]
pub(crate) mod model {
    use super::QuotaReport;
    use crate::json::Json;

    pub struct Store {
        limit: f64,
        rows: Vec<(f64, f64, f64)>, // (written at, grant, demand) per replica
    }

    impl Store {
        pub fn new(limit: f64, replicas: usize) -> Store {
            Store { limit, rows: vec![(f64::NEG_INFINITY, 0.0, 0.0); replicas] }
        }

        /// Replica `i` reports at `now`: its grant and the other replicas' fresh reports.
        pub fn answer(&mut self, i: usize, report: &Json, now: f64) -> (f64, Vec<QuotaReport>) {
            let num = |k: &str| report.get(k).and_then(Json::as_f64).unwrap();
            let others: Vec<usize> = (0..self.rows.len()).filter(|&j| j != i && now - self.rows[j].0 <= 1000.0).collect();
            let taken: f64 = others.iter().map(|&j| self.rows[j].1).sum();
            let grant = num("want").min(self.limit - taken).max(0.0);
            self.rows[i] = (now, grant, num("demand"));
            (grant, others.iter().map(|&j| QuotaReport { demand: self.rows[j].2, age_ms: now - self.rows[j].0 }).collect())
        }
    }

    /// Four replicas through `end` ms: replica `i` syncs every 250 ms from `first_sync[i]` and
    /// calls every `gaps[i]` ms from `first_call[i]`, in time order (a sync first at equal
    /// times); `event(i, t, is_sync)`.
    pub fn run_four(first_sync: [f64; 4], first_call: [f64; 4], gaps: [f64; 4], end: f64, mut event: impl FnMut(usize, f64, bool)) {
        let (mut next_sync, mut next_call) = (first_sync, first_call);
        let earliest = |ts: &[f64; 4]| ts.iter().enumerate().map(|(i, t)| (*t, i)).fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a });
        for step in 0..10_000_000 {
            let ((t_sync, i_sync), (t_call, i_call)) = (earliest(&next_sync), earliest(&next_call));
            if t_sync.min(t_call) > end {
                return;
            }
            assert!(step < 9_999_999, "bounded");
            if t_sync <= t_call {
                event(i_sync, t_sync, true);
                next_sync[i_sync] += 250.0;
            } else {
                event(i_call, t_call, false);
                next_call[i_call] += gaps[i_call];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fair_shares_meet_small_demands_and_split_the_rest() {
        // 100 for three: 10 wanted is met, the other two split 90.
        assert_eq!(fair_share(100.0, 10.0, &[500.0, 500.0]), 10.0);
        assert_eq!(fair_share(100.0, 500.0, &[10.0, 500.0]), 45.0);
        // Everyone's demand met: what is left is split evenly (room to grow at once).
        assert_eq!(fair_share(100.0, 10.0, &[20.0, 30.0]), 10.0 + 40.0 / 3.0);
        // Alone, or idle: the whole limit, or an equal part of it.
        assert_eq!(fair_share(100.0, 0.0, &[]), 100.0);
        assert_eq!(fair_share(100.0, 0.0, &[0.0, 0.0, 0.0]), 25.0);
        // The parts of every replica add up to the limit.
        let demands = [3.0, 70.0, 15.0, 40.0, 0.0];
        let parts: f64 = (0..demands.len())
            .map(|i| {
                let others: Vec<f64> = demands.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, d)| *d).collect();
                fair_share(100.0, demands[i], &others)
            })
            .sum();
        assert!((parts - 100.0).abs() < 1e-9, "{parts}");
    }

    #[test]
    fn demand_is_arrivals_per_period_and_the_store_lost_means_an_equal_part() {
        let mut q = FleetQuota::new(FleetConfig::default(), 0.0);
        assert_eq!(q.share(100.0), 0.0, "no share before the store's first answer");
        assert_eq!(q.health(0.0), FleetHealth { shared: true, replicas: 1, fresh: false });
        for _ in 0..5 {
            q.arrived();
        }
        // 5 calls in 250 ms: 20 per second; alone, it wants everything.
        assert_eq!(q.report(250.0, 100.0, 1000.0).to_string(), r#"{"demand":20.0,"want":100.0}"#);
        let others = [QuotaReport { demand: 90.0, age_ms: 10.0 }, QuotaReport { demand: 5.0, age_ms: 1000.0 }, QuotaReport { demand: 7.0, age_ms: 1001.0 }];
        q.sync(260.0, 60.0, &others, 100.0);
        assert_eq!((q.share(100.0), q.health(260.0)), (60.0, FleetHealth { shared: true, replicas: 3, fresh: true }));
        // No arrivals since: the last demand, halved every stale-after period (1000 ms).
        let report = q.report(250.0 + 1000.0, 100.0, 1000.0);
        assert_eq!(report.get("demand").and_then(Json::as_f64), Some(10.0));
        let report = q.report(1250.0 + 4000.0, 100.0, 1000.0);
        // 10 / 16 wanted: met, and the even part of what is left (100 − 90 − 5 − 0.625) on top.
        assert_eq!((report.get("demand").and_then(Json::as_f64), report.get("want").and_then(Json::as_f64)), (Some(0.625), Some(0.625 + 4.375 / 3.0)));
        assert!(q.health(1260.0).fresh && !q.health(1261.0).fresh, "fresh for stale-after");
        assert_eq!(q.health(1260.0).replicas, 3);
        assert_eq!(q.alone(99.0), 33.0);
        assert_eq!(q.health(300.0), FleetHealth { shared: false, replicas: 3, fresh: false });
        // A refused or garbled grant is nothing.
        for g in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(q.sync(2000.0, g, &[], 100.0), 0.0, "{g}");
        }
        // Two reports at one time: measured over one sync interval, and nothing decays.
        let mut q = FleetQuota::new(FleetConfig::default(), 0.0);
        q.report(2000.0, 100.0, 1000.0);
        q.arrived();
        assert_eq!(q.report(2000.0, 100.0, 1000.0).get("demand").and_then(Json::as_f64), Some(4.0));
        assert_eq!(q.report(2000.0, 100.0, 1000.0).get("demand").and_then(Json::as_f64), Some(4.0));
    }

    #[test]
    fn reports_are_checked() {
        assert_eq!(QuotaReport::list_from_json(r#"[{"demand":1.5,"want":3,"ageMs":0}]"#).unwrap(), [QuotaReport { demand: 1.5, age_ms: 0.0 }]);
        for (bad, option) in [("{", "reports"), ("{}", "reports"), (r#"[{"demand":1}]"#, "reports[0]"), (r#"[{"demand":1,"ageMs":0},{"demand":-1,"ageMs":0}]"#, "reports[1]")] {
            assert_eq!(QuotaReport::list_from_json(bad).unwrap_err().option.as_deref(), Some(option), "{bad}");
        }
    }
}
