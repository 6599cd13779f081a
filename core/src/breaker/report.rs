//! What a breaker reports: its counters and stats, and its saved state (a snapshot that a
//! restarted process restores, times stored as ages).

use crate::error::{Result, SeawallError};
use crate::json::Json;
use crate::window::Counts;

use super::CircuitState;

/// Counters since creation (or the last `reset`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub total_calls: u64,
    pub successful_calls: u64,
    pub failed_calls: u64,
    pub rejected_calls: u64,
    pub ignored_calls: u64,
    pub slow_calls: u64,
    pub state_changes: u64,
}

/// A read-only snapshot for `getStats()` / metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerStats {
    pub state: CircuitState,
    pub totals: Totals,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
    pub last_failure_at: Option<f64>,
    pub last_success_at: Option<f64>,
    pub opened_at: Option<f64>,
    /// When an open breaker will let a probe through.
    pub next_attempt_at: Option<f64>,
    pub open_count: u32,
    pub in_flight: u32,
    pub half_open_in_flight: u32,
    pub window_calls: u32,
    pub window_failures: u32,
    pub window_slow_calls: u32,
    pub failure_rate: f64,
    pub slow_call_rate: f64,
    pub dropped_events: u64,
}

/// Saved breaker state (metrics that persist across restarts). Times are stored as ages relative to
/// the moment of saving, because monotonic clocks do not survive a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerSnapshot {
    pub version: u32,
    pub state: CircuitState,
    pub open_remaining_ms: Option<f64>,
    pub open_count: u32,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
    pub totals: Totals,
    pub last_failure_age_ms: Option<f64>,
    pub last_success_age_ms: Option<f64>,
    pub window: Vec<Counts>,
}

impl Totals {
    const FIELDS: [&'static str; 7] = ["totalCalls", "successfulCalls", "failedCalls", "rejectedCalls", "ignoredCalls", "slowCalls", "stateChanges"];

    fn values(&self) -> [u64; 7] {
        [self.total_calls, self.successful_calls, self.failed_calls, self.rejected_calls, self.ignored_calls, self.slow_calls, self.state_changes]
    }

    fn pairs(&self) -> Vec<(&'static str, Json)> {
        // A loop, not zip/map: the adapters cost ~1 KB of the wasm build.
        let values = self.values();
        let mut pairs = Vec::with_capacity(Self::FIELDS.len());
        for (i, field) in Self::FIELDS.iter().enumerate() {
            pairs.push((*field, Json::Uint(values[i])));
        }
        pairs
    }

    fn from_json(v: &Json) -> Result<Totals> {
        let n = |k| snapshot_uint(v, k, u64::MAX);
        Ok(Totals {
            total_calls: n("totalCalls")?,
            successful_calls: n("successfulCalls")?,
            failed_calls: n("failedCalls")?,
            rejected_calls: n("rejectedCalls")?,
            ignored_calls: n("ignoredCalls")?,
            slow_calls: n("slowCalls")?,
            state_changes: n("stateChanges")?,
        })
    }
}

impl BreakerStats {
    /// `{state, totalCalls, …, droppedEvents}` (the totals inline), as `getStats()` shows it.
    pub fn to_json(&self) -> Json {
        let mut pairs = vec![("state", Json::from(self.state.as_str()))];
        pairs.extend(self.totals.pairs());
        pairs.extend([
            ("consecutiveFailures", Json::from(self.consecutive_failures)),
            ("consecutiveSuccesses", Json::from(self.consecutive_successes)),
            ("lastFailureAt", Json::from(self.last_failure_at)),
            ("lastSuccessAt", Json::from(self.last_success_at)),
            ("openedAt", Json::from(self.opened_at)),
            ("nextAttemptAt", Json::from(self.next_attempt_at)),
            ("openCount", Json::from(self.open_count)),
            ("inFlight", Json::from(self.in_flight)),
            ("halfOpenInFlight", Json::from(self.half_open_in_flight)),
            ("windowCalls", Json::from(self.window_calls)),
            ("windowFailures", Json::from(self.window_failures)),
            ("windowSlowCalls", Json::from(self.window_slow_calls)),
            ("failureRate", Json::from(self.failure_rate)),
            ("slowCallRate", Json::from(self.slow_call_rate)),
            ("droppedEvents", Json::from(self.dropped_events)),
        ]);
        Json::obj(pairs)
    }
}

/// A whole number no larger than `max` at `key` of a saved state.
fn snapshot_uint(v: &Json, key: &str, max: u64) -> Result<u64> {
    match v.get(key).and_then(Json::as_f64) {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= max as f64 => Ok(x as u64),
        _ => Err(SeawallError::invalid_snapshot(&format!("not a saved breaker state ({key} must be a whole number)"))),
    }
}

/// A number or null (absent counts as null) at `key` of a saved state.
fn snapshot_opt(v: &Json, key: &str) -> Result<Option<f64>> {
    match v.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(x) => x.as_f64().map(Some).ok_or_else(|| SeawallError::invalid_snapshot(&format!("not a saved breaker state ({key} must be a number or null)"))),
    }
}

impl BreakerSnapshot {
    pub fn to_json(&self) -> Json {
        let mut window = Vec::new();
        for c in &self.window {
            window.push(c.to_json());
        }
        Json::obj(vec![
            ("version", Json::from(self.version)),
            ("state", Json::from(self.state.as_str())),
            ("openRemainingMs", Json::from(self.open_remaining_ms)),
            ("openCount", Json::from(self.open_count)),
            ("consecutiveFailures", Json::from(self.consecutive_failures)),
            ("consecutiveSuccesses", Json::from(self.consecutive_successes)),
            ("totals", Json::obj(self.totals.pairs())),
            ("lastFailureAgeMs", Json::from(self.last_failure_age_ms)),
            ("lastSuccessAgeMs", Json::from(self.last_success_age_ms)),
            ("window", Json::Arr(window)),
        ])
    }

    /// Reads what `to_json` wrote; anything else is `INVALID_SNAPSHOT`, never a panic.
    pub fn from_json(v: &Json) -> Result<BreakerSnapshot> {
        let bad = |what: &str| SeawallError::invalid_snapshot(&format!("not a saved breaker state ({what})"));
        if !matches!(v, Json::Obj(_)) {
            return Err(bad("not an object"));
        }
        let u32_at = |k| snapshot_uint(v, k, u32::MAX as u64).map(|n| n as u32);
        let state = v.get("state").and_then(Json::as_str).and_then(CircuitState::parse).ok_or_else(|| bad("unknown state"))?;
        let totals = Totals::from_json(v.get("totals").ok_or_else(|| bad("no totals"))?)?;
        let window = match v.get("window") {
            Some(Json::Arr(items)) => {
                let mut window = Vec::new();
                for item in items {
                    window.push(Counts::from_json(item).ok_or_else(|| bad("window entries must be {calls, failures, slow}"))?);
                }
                window
            }
            _ => return Err(bad("no window")),
        };
        Ok(BreakerSnapshot {
            version: u32_at("version")?,
            state,
            open_remaining_ms: snapshot_opt(v, "openRemainingMs")?,
            open_count: u32_at("openCount")?,
            consecutive_failures: u32_at("consecutiveFailures")?,
            consecutive_successes: u32_at("consecutiveSuccesses")?,
            totals,
            last_failure_age_ms: snapshot_opt(v, "lastFailureAgeMs")?,
            last_success_age_ms: snapshot_opt(v, "lastSuccessAgeMs")?,
            window,
        })
    }
}
