//! Fleet rules: when the replicas of a service, each with its own breaker, act as one.
//!
//! Nothing here waits for a network. Each replica keeps deciding locally; a background sync
//! (the shell's, every `syncInterval`) sends its window's counts to a shared store and reads
//! back every replica's report. Those reports are the input here, and the rule is the
//! breaker's own thresholds applied to the fleet's sums, with a quorum: the fleet opens only when
//! at least `minReplicas` replicas (a count, or a fraction of the replicas reporting) see
//! failures. One replica whose own network is broken opens only its own breaker (its local
//! rules still apply), never everybody's (Polly #287's objection to shared state).
//!
//! The breaker's side of it (open by the fleet, one probe for the whole fleet per cooldown under
//! a lease, close together) lives with the breaker's other transitions, in `breaker/mod.rs`.
//!
//! Driver call order, per sync: read the reports; `tally(reports)`; hand the tally to the
//! breaker (`CircuitBreaker::handle_fleet_tally`); ask it whether it wants the probe lease.

use crate::breaker::{BreakerConfig, TransitionReason};
use crate::error::{Result, SeawallError};
use crate::json::Json;
use crate::defaults;
use crate::options::{check_value, spec, Bound, Kind, OptionReader, OptionSpec, Options, Spelling, TimeUnit};

/// How many replicas must see failures before the fleet opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quorum {
    /// At least this many replicas.
    Replicas(u32),
    /// At least this fraction of the replicas reporting (rounded up, at least one).
    Fraction(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetConfig {
    pub quorum: Quorum,
    /// How often each replica syncs with the shared store.
    pub sync_interval_ms: f64,
    /// A report older than this is left out (its replica is gone or cut off).
    pub stale_after_ms: f64,
}

/// Largest replica count a quorum may ask for.
const MAX_REPLICAS: u32 = 100_000;
/// A quorum: replicas, or a share of those reporting.
const QUORUM: Bound = Bound {
    expected: "a whole number from 1 to 100000 or a fraction greater than 0 and less than 1",
    holds: |x| (x > 0.0 && x < 1.0) || (x >= 1.0 && x <= MAX_REPLICAS as f64 && x.fract() == 0.0),
};

pub const FLEET_OPTIONS: &[OptionSpec] = &[spec("minReplicas", &["quorum"], Kind::Number(QUORUM)).or(defaults::FLEET_MIN_REPLICAS as f64), SYNC_INTERVAL, STALE_AFTER, REDIS, KEY_PREFIX];

/// A rate limiter's fleet: the same options but the quorum (a shared limit needs no agreement:
/// the store hands out shares of it, see `fleet_quota.rs`).
pub const FLEET_QUOTA_OPTIONS: &[OptionSpec] = &[SYNC_INTERVAL, STALE_AFTER, REDIS, KEY_PREFIX];

const SYNC_INTERVAL: OptionSpec = spec("syncInterval", &[], Kind::Duration { zero: false }).or(defaults::FLEET_SYNC_INTERVAL_MS);
/// Four sync intervals unless given.
const STALE_AFTER: OptionSpec = spec("staleAfter", &[], Kind::Duration { zero: false });
// Kept by the shells: the client of the shared store and the key prefix.
const REDIS: OptionSpec = spec("redis", &[], Kind::Host("a Redis client"));
const KEY_PREFIX: OptionSpec = spec("keyPrefix", &[], Kind::Text);

/// A policy's `fleet` option, read by `read` (errors named `fleet.…`); where this build has no
/// fleets (a browser's module: a browser never reaches the shared store), a typed refusal.
pub(crate) fn fleet_option(r: &OptionReader<'_>, what: &str, read: impl FnOnce(&Options) -> Result<FleetConfig>) -> Result<Option<FleetConfig>> {
    match r.map("fleet") {
        None => Ok(None),
        #[cfg(feature = "fleet")]
        Some(opts) => {
            let _ = what;
            crate::options::nested(r.spelling("fleet"), read(opts)).map(Some)
        }
        #[cfg(not(feature = "fleet"))]
        Some(_) => {
            let _ = read;
            Err(SeawallError::not_in_module(what, "fleets sync through a shared store from Node and Python (import 'seawall' there)"))
        }
    }
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            quorum: Quorum::Replicas(crate::defaults::FLEET_MIN_REPLICAS),
            sync_interval_ms: crate::defaults::FLEET_SYNC_INTERVAL_MS,
            stale_after_ms: crate::defaults::FLEET_SYNC_INTERVAL_MS * crate::defaults::FLEET_STALE_SYNCS,
        }
    }
}

impl FleetConfig {
    /// Reads `{ minReplicas, syncInterval, staleAfter, redis, keyPrefix }`: `minReplicas` is a
    /// whole number ≥ 1 or a fraction in (0, 1); `staleAfter` defaults to 4 sync intervals.
    pub fn from_options(opts: &Options, unit: TimeUnit) -> Result<Self> {
        Self::read(opts, unit, FLEET_OPTIONS, "a fleet")
    }

    /// Reads a shared quota's `{ syncInterval, staleAfter, redis, keyPrefix }` (a rate limiter's
    /// or a retry budget's fleet: `context` names it in errors).
    pub fn from_quota_options(opts: &Options, unit: TimeUnit, context: &str) -> Result<Self> {
        Self::read(opts, unit, FLEET_QUOTA_OPTIONS, context)
    }

    fn read(opts: &Options, unit: TimeUnit, specs: &'static [OptionSpec], context: &str) -> Result<Self> {
        let r = OptionReader::new(opts, &[specs], context, unit)?;
        // A fleet without its store would silently decide alone.
        if !r.given("redis") {
            return Err(SeawallError::wrong_type("redis", "undefined", "a Redis client"));
        }
        let quorum = match r.number("minReplicas") {
            None => FleetConfig::default().quorum,
            Some(x) if x < 1.0 => Quorum::Fraction(x),
            Some(x) => Quorum::Replicas(x as u32),
        };
        let sync_interval_ms = r.duration("syncInterval").unwrap_or(defaults::FLEET_SYNC_INTERVAL_MS);
        let cfg = FleetConfig {
            quorum,
            sync_interval_ms,
            stale_after_ms: r.duration("staleAfter").unwrap_or(sync_interval_ms * defaults::FLEET_STALE_SYNCS),
        };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    /// `check`, for a fleet read under its policy's `fleet` option (errors name `fleet.…`).
    pub fn check_under(&self, policy: &Spelling) -> Result<()> {
        let names = |c: &'static str| format!("{}.{}", policy.name("fleet"), c);
        self.check(&Spelling::new(&names, policy.unit()))
    }

    /// `{syncInterval, staleAfter}` (ms), as a quota's config shows its fleet.
    pub fn times_json(&self) -> Json {
        Json::obj(vec![("syncInterval", Json::Num(self.sync_interval_ms)), ("staleAfter", Json::Num(self.stale_after_ms))])
    }

    pub fn check(&self, sp: &Spelling) -> Result<()> {
        let quorum = match self.quorum {
            Quorum::Replicas(n) => f64::from(n),
            // A fraction ≥ 1 would read back as a count: it is out of range here.
            Quorum::Fraction(f) if f >= 1.0 => f64::NAN,
            Quorum::Fraction(f) => f,
        };
        check_value(FLEET_OPTIONS, "minReplicas", sp, quorum)?;
        for (name, ms) in [("syncInterval", self.sync_interval_ms), ("staleAfter", self.stale_after_ms)] {
            check_value(FLEET_OPTIONS, name, sp, ms)?;
        }
        if self.stale_after_ms < self.sync_interval_ms {
            return Err(SeawallError::out_of_range(
                &sp.name("staleAfter"),
                sp.duration(self.stale_after_ms),
                &format!("a duration ≥ {} ({})", sp.name("syncInterval"), sp.duration(self.sync_interval_ms)),
            ));
        }
        Ok(())
    }

    /// Replicas that must see failures, out of `replicas` reporting.
    pub fn needed(&self, replicas: u32) -> u32 {
        match self.quorum {
            Quorum::Replicas(n) => n,
            Quorum::Fraction(f) => ((f * replicas as f64).ceil() as u32).max(1),
        }
    }

    pub fn to_json(&self) -> Json {
        let quorum = match self.quorum {
            Quorum::Replicas(n) => Json::from(n),
            Quorum::Fraction(f) => Json::Num(f),
        };
        Json::obj(vec![("minReplicas", quorum), ("syncInterval", Json::Num(self.sync_interval_ms)), ("staleAfter", Json::Num(self.stale_after_ms))])
    }
}

/// One replica's report as the shared store hands it back: its window's counts, its run of
/// consecutive failures, and how old the report is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReplicaReport {
    pub calls: u32,
    pub failures: u32,
    pub slow: u32,
    pub consecutive_failures: u32,
    pub age_ms: f64,
}

impl ReplicaReport {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("calls", Json::from(self.calls)),
            ("failures", Json::from(self.failures)),
            ("slow", Json::from(self.slow)),
            ("consecutiveFailures", Json::from(self.consecutive_failures)),
            ("ageMs", Json::Num(self.age_ms)),
        ])
    }

    /// `{calls, failures, slow, consecutiveFailures, ageMs}`; `None` unless every count is a
    /// whole number that fits and the age a number ≥ 0.
    pub fn from_json(v: &Json) -> Option<ReplicaReport> {
        Some(ReplicaReport {
            calls: v.u32_at("calls")?,
            failures: v.u32_at("failures")?,
            slow: v.u32_at("slow")?,
            consecutive_failures: v.u32_at("consecutiveFailures")?,
            age_ms: v.get("ageMs").and_then(Json::as_f64).filter(|x| *x >= 0.0)?,
        })
    }
}

/// The store's answer: a JSON array of reports, each read by `read`; an error names `reports`
/// or the report at fault, and says what a report is (`expected`).
pub fn reports_from_json<T>(text: &str, expected: &str, read: impl Fn(&Json) -> Option<T>) -> Result<Vec<T>> {
    let v = Json::parse(text).map_err(|e| SeawallError::wrong_type("reports", e.to_string(), "a JSON array of reports"))?;
    let Json::Arr(items) = &v else { return Err(SeawallError::wrong_type("reports", v.to_string(), "a JSON array of reports")) };
    // A loop rather than a collect into Result: the iterator adapters weighed ~1 KB a reader
    // in the wasm build.
    let mut reports = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match read(item) {
            Some(r) => reports.push(r),
            None => return Err(SeawallError::wrong_type(&format!("reports[{i}]"), item.to_string(), expected)),
        }
    }
    Ok(reports)
}

/// The fleet's sums over the fresh reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FleetTally {
    /// Replicas whose report is fresh.
    pub replicas: u32,
    /// Of those, the ones that see failures (in their window or in a run).
    pub failing: u32,
    pub calls: u64,
    pub failures: u64,
    pub slow: u64,
    pub consecutive_failures: u64,
}

impl FleetTally {
    pub fn of(config: &FleetConfig, reports: &[ReplicaReport]) -> FleetTally {
        let mut t = FleetTally::default();
        for r in reports.iter().filter(|r| r.age_ms <= config.stale_after_ms) {
            t.replicas += 1;
            t.failing += u32::from(r.failures > 0 || r.consecutive_failures > 0);
            t.calls += u64::from(r.calls);
            t.failures += u64::from(r.failures);
            t.slow += u64::from(r.slow);
            t.consecutive_failures += u64::from(r.consecutive_failures);
        }
        t
    }

    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("replicas", Json::from(self.replicas)),
            ("failing", Json::from(self.failing)),
            ("calls", Json::from(self.calls)),
            ("failures", Json::from(self.failures)),
            ("slow", Json::from(self.slow)),
            ("consecutiveFailures", Json::from(self.consecutive_failures)),
        ])
    }
}

/// A fleet breaker as health and metrics show it: whether its store answers (`shared`, or
/// `local` while it decides alone), the replicas reporting at its last sync, and whether that
/// sync is recent (within `staleAfter`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetHealth {
    pub shared: bool,
    pub replicas: u32,
    pub fresh: bool,
}

impl FleetHealth {
    /// As it stands at `now`, for a store that answers (`shared`) or not, the replicas seen at
    /// the last sync (made at `synced_at`), fresh for `stale_after_ms` after it.
    pub fn at(now: f64, shared: bool, replicas: u32, synced_at: f64, stale_after_ms: f64) -> FleetHealth {
        FleetHealth { shared, replicas, fresh: shared && now - synced_at <= stale_after_ms }
    }

    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("mode", Json::from(if self.shared { "shared" } else { "local" })),
            ("replicas", Json::from(self.replicas)),
            ("fresh", Json::Bool(self.fresh)),
        ])
    }
}

/// Whether the fleet must open: the breaker's thresholds over the fleet's sums, and the quorum.
/// Answers the reason (`FLEET_QUORUM`) or `None`.
pub fn judge(breaker: &BreakerConfig, fleet: &FleetConfig, t: &FleetTally) -> Option<TransitionReason> {
    if t.replicas == 0 || t.failing < fleet.needed(t.replicas) {
        return None;
    }
    let consecutive = breaker.failure_threshold.is_some_and(|n| t.consecutive_failures >= u64::from(n));
    let volume = t.calls >= u64::from(breaker.volume_threshold);
    // The same comparison as the local rule's, so a fleet of one decides as one replica does.
    // (`volume` implies calls > 0: a breaker's volume threshold is at least 1.)
    let rate = |count: u64, threshold: Option<f64>| threshold.is_some_and(|r| volume && count as f64 / t.calls as f64 >= r);
    (consecutive || rate(t.failures, breaker.failure_rate_threshold) || rate(t.slow, breaker.slow_call_rate_threshold))
        .then_some(TransitionReason::FleetQuorum)
}

// ---- the shared store's side (Redis), the same for every shell ----------------------------

/// What a replica announces to the fleet's store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetMark {
    /// Its view of the fleet's reports opened its breaker (the others follow).
    Opened,
    /// The fleet's probe, which it made holding the lease, succeeded (the others close too).
    Closed,
}

impl FleetMark {
    pub fn as_str(self) -> &'static str {
        match self {
            FleetMark::Opened => "opened",
            FleetMark::Closed => "closed",
        }
    }
}

/// One sync: KEYS reports (hash: replica → "time|report"), marks (hash: opened/closed → time);
/// ARGV replica id, its report (JSON), stale-after ms (any number: the scripts round, so no
/// shell does). Writes the report on Redis's clock, prunes reports older than stale-after, keeps
/// the keys for two stale-after periods (whole ms, as PEXPIRE wants), answers
/// `[now, ["age|report", …], marks]`.
const SYNC_SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], now .. '|' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) * 2))
local all = redis.call('HGETALL', KEYS[1])
local reports = {}
for i = 1, #all, 2 do
  local sep = string.find(all[i + 1], '|', 1, true)
  local at = tonumber(string.sub(all[i + 1], 1, sep - 1))
  if now - at > tonumber(ARGV[3]) then
    redis.call('HDEL', KEYS[1], all[i])
  else
    reports[#reports + 1] = tostring(now - at) .. '|' .. string.sub(all[i + 1], sep + 1)
  end
end
return {now, reports, redis.call('HGETALL', KEYS[2])}
"#;

/// Sets a fleet mark (`opened`/`closed`) to Redis's time: KEYS marks; ARGV mark, stale-after
/// ms (the keys live two of those, as in a sync).
const MARK_SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], now)
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 2))
return now
"#;

/// Gives the probe lease back only if this replica holds it: KEYS lease; ARGV replica id.
const RELEASE_SCRIPT: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// The keys of one policy's fleet (a breaker's, rate limiter's or retry budget's) and the scripts every shell runs on them,
/// as JSON `{"keys": {"reports", "marks", "lease", "quota", "budget"}, "scripts": {"sync", "mark",
/// "release", "quota"}}` (a limiter uses the `quota` key and script, a retry budget the `budget`
/// key with the `quota` script, a breaker the others). The name is the key's hash tag, so one
/// policy's keys live on one Redis Cluster slot.
pub fn store_json(prefix: &str, name: &str) -> String {
    let key = |part: &str| Json::from(format!("{prefix}:{{{name}}}:{part}"));
    Json::obj(vec![
        ("keys", Json::obj(vec![("reports", key("reports")), ("marks", key("marks")), ("lease", key("lease")), ("quota", key("quota")), ("budget", key("budget"))])),
        (
            "scripts",
            Json::obj(vec![
                ("sync", Json::from(SYNC_SCRIPT)),
                ("mark", Json::from(MARK_SCRIPT)),
                ("release", Json::from(RELEASE_SCRIPT)),
                ("quota", Json::from(crate::fleet_quota::QUOTA_SCRIPT)),
            ]),
        ),
    ])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::OptionValue;

    fn report(calls: u32, failures: u32, consecutive: u32) -> ReplicaReport {
        ReplicaReport { calls, failures, slow: 0, consecutive_failures: consecutive, age_ms: 0.0 }
    }

    #[test]
    fn the_fleet_opens_on_its_sums_only_with_a_quorum() {
        let breaker = BreakerConfig { failure_threshold: Some(5), ..BreakerConfig::default() };
        let fleet = FleetConfig::default();
        // Five replicas with one failure each: five in a row fleet-wide, five replicas failing.
        let spread = vec![report(1, 1, 1); 5];
        assert_eq!(judge(&breaker, &fleet, &FleetTally::of(&fleet, &spread)), Some(TransitionReason::FleetQuorum));
        // One sick replica with 50 failures among 99 healthy ones: below the quorum of 2.
        let mut one_sick = vec![report(10, 0, 0); 99];
        one_sick.push(report(50, 50, 50));
        let t = FleetTally::of(&fleet, &one_sick);
        assert_eq!((t.replicas, t.failing, t.consecutive_failures), (100, 1, 50));
        assert_eq!(judge(&breaker, &fleet, &t), None);
        // Four failures in a row fleet-wide: below the threshold.
        assert_eq!(judge(&breaker, &fleet, &FleetTally::of(&fleet, &[report(1, 1, 1); 4])), None);
        // Stale reports count for nothing.
        let stale = vec![ReplicaReport { age_ms: 1001.0, ..report(1, 1, 1) }; 10];
        assert_eq!(FleetTally::of(&fleet, &stale), FleetTally::default());
        assert_eq!(judge(&breaker, &fleet, &FleetTally::default()), None);
    }

    #[test]
    fn rates_need_volume_and_fractions_round_up() {
        let breaker = BreakerConfig { failure_threshold: None, failure_rate_threshold: Some(0.5), volume_threshold: 20, ..BreakerConfig::default() };
        let fleet = FleetConfig { quorum: Quorum::Fraction(0.3), ..FleetConfig::default() };
        assert_eq!((fleet.needed(10), fleet.needed(11), fleet.needed(1), fleet.needed(0)), (3, 4, 1, 1));
        let t = |reports: &[ReplicaReport]| judge(&breaker, &fleet, &FleetTally::of(&fleet, reports));
        assert_eq!(t(&[report(5, 5, 5), report(5, 5, 5), report(5, 0, 0)]), None, "15 calls: below the volume");
        assert_eq!(t(&[report(8, 5, 0), report(8, 5, 0), report(4, 0, 0)]), Some(TransitionReason::FleetQuorum), "10 of 20, 2 of 3 failing");
        assert_eq!(t(&[report(8, 4, 0), report(8, 5, 0), report(4, 0, 0)]), None, "9 of 20");
        let slow = BreakerConfig { failure_threshold: None, slow_call_duration_ms: Some(100.0), slow_call_rate_threshold: Some(0.5), volume_threshold: 2, ..BreakerConfig::default() };
        let slow_reports = [ReplicaReport { slow: 2, ..report(2, 0, 1) }, ReplicaReport { slow: 1, ..report(2, 1, 0) }];
        assert_eq!(judge(&slow, &fleet, &FleetTally::of(&fleet, &slow_reports)), Some(TransitionReason::FleetQuorum));
    }

    #[test]
    fn options_and_reports_are_checked() {
        let o = |pairs: &[(&str, OptionValue)]| -> Options { pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect() };
        let n = OptionValue::Number;
        let c = FleetConfig::from_options(&o(&[("min_replicas", n(0.25)), ("sync_interval", n(0.5)), ("redis", OptionValue::Opaque)]), TimeUnit::Seconds).unwrap();
        assert_eq!(c, FleetConfig { quorum: Quorum::Fraction(0.25), sync_interval_ms: 500.0, stale_after_ms: 2000.0 });
        assert_eq!(c.to_json().to_string(), r#"{"minReplicas":0.25,"syncInterval":500.0,"staleAfter":2000.0}"#);
        let redis = ("redis", OptionValue::Opaque);
        assert_eq!(FleetConfig::from_options(&o(&[("minReplicas", n(3.0)), redis.clone()]), TimeUnit::Millis).unwrap().quorum, Quorum::Replicas(3));
        assert_eq!(FleetConfig::from_options(&o(&[("minReplicas", n(3.0))]), TimeUnit::Millis).unwrap_err().option.as_deref(), Some("redis"));
        for (given, option) in [
            (o(&[("minReplicas", n(0.0)), redis.clone()]), "minReplicas"),
            (o(&[("minReplicas", n(1.5)), redis.clone()]), "minReplicas"),
            (o(&[("minReplicas", n(100_001.0)), redis.clone()]), "minReplicas"),
            (o(&[("syncInterval", n(0.0)), redis.clone()]), "syncInterval"),
            (o(&[("syncInterval", n(100.0)), ("staleAfter", n(50.0)), redis.clone()]), "staleAfter"),
            (o(&[("redis", n(1.0))]), "redis"),
            (o(&[("replicas", n(1.0))]), "replicas"),
        ] {
            assert_eq!(FleetConfig::from_options(&given, TimeUnit::Millis).unwrap_err().option.as_deref(), Some(option), "{given:?}");
        }
        // A quorum of 0 is neither a count nor a fraction: the reader says what both may be.
        let zero = FleetConfig::from_options(&o(&[("minReplicas", n(0.0)), redis.clone()]), TimeUnit::Millis).unwrap_err();
        assert_eq!(zero.message, "invalid option minReplicas: expected a whole number from 1 to 100000 or a fraction greater than 0 and less than 1, got 0");
        let read = |t: &str| ReplicaReport::from_json(&Json::parse(t).unwrap());
        assert_eq!(read(r#"{"calls":3,"failures":1,"slow":0,"consecutiveFailures":1,"ageMs":12.5}"#), Some(ReplicaReport { calls: 3, failures: 1, slow: 0, consecutive_failures: 1, age_ms: 12.5 }));
        assert_eq!(read(r#"{"calls":3,"failures":1,"slow":0,"consecutiveFailures":1,"ageMs":-1}"#), None);
        assert_eq!(read(r#"{"calls":3.5,"failures":1,"slow":0,"consecutiveFailures":1,"ageMs":0}"#), None);
    }

    #[test]
    fn the_store_is_described_once_for_every_shell() {
        let v = Json::parse(&store_json("seawall", "openai")).unwrap();
        let keys = v.get("keys").unwrap();
        assert_eq!(keys.get("reports").and_then(Json::as_str), Some("seawall:{openai}:reports"));
        assert_eq!(keys.get("lease").and_then(Json::as_str), Some("seawall:{openai}:lease"));
        let sync = v.get("scripts").and_then(|s| s.get("sync")).and_then(Json::as_str).unwrap();
        assert!(sync.contains("redis.call('TIME')") && sync.contains("HDEL"));
    }

    #[test]
    fn checks_hold_at_their_bounds_for_configs_built_in_code() {
        let ok = |c: FleetConfig| c.check(&Spelling::canonical()).map_err(|e| e.option.clone().unwrap_or_default());
        let d = FleetConfig::default();
        assert_eq!(ok(FleetConfig { stale_after_ms: d.sync_interval_ms, ..d }), Ok(()), "stale after one interval is allowed");
        assert_eq!(ok(FleetConfig { quorum: Quorum::Fraction(0.99), ..d }), Ok(()));
        for q in [Quorum::Fraction(0.0), Quorum::Fraction(1.0), Quorum::Fraction(f64::NAN), Quorum::Replicas(0), Quorum::Replicas(MAX_REPLICAS + 1)] {
            assert_eq!(ok(FleetConfig { quorum: q, ..d }), Err("minReplicas".into()), "{q:?}");
        }
        assert_eq!(ok(FleetConfig { sync_interval_ms: 0.0, ..d }), Err("syncInterval".into()));
        assert_eq!(ok(FleetConfig { stale_after_ms: 0.0, ..d }), Err("staleAfter".into()));
        // One is a count of one replica, not the whole fleet as a fraction.
        let one = FleetConfig::from_options(&vec![("minReplicas".into(), OptionValue::Number(1.0)), ("redis".into(), OptionValue::Opaque)], TimeUnit::Millis).unwrap();
        assert_eq!(one.quorum, Quorum::Replicas(1));
    }

    #[test]
    fn a_replica_fails_with_failures_in_its_window_or_in_a_run() {
        let fleet = FleetConfig::default();
        let t = FleetTally::of(&fleet, &[report(5, 2, 0), report(5, 0, 1), report(5, 0, 0)]);
        assert_eq!((t.replicas, t.failing, t.failures, t.consecutive_failures), (3, 2, 2, 1));
    }
}
