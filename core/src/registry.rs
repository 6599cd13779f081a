//! Named breakers and bulkheads, looked up by name or by a numeric handle, with a health
//! summary (`getHealthStatus`) and the counters that metrics are rendered from.
//!
//! Handles are small integers, so a binding can keep a number per breaker and reach it in O(1)
//! without a name lookup on the hot path. A handle stays valid until `remove` (bindings call it
//! when the host object is garbage-collected); only then may its slot be reused. `clear()`
//! forgets names, not machines: objects already handed out keep working, unregistered.


use crate::json::Json;

use crate::breaker::{BreakerConfig, CircuitBreaker, CircuitState};
use crate::bulkhead::Bulkhead;
use crate::error::{Result, SeawallError};

pub type Handle = u32;

/// Values by name, in name order, over a sorted vector: a process has a handful of names, and
/// `BTreeMap`'s code was 20 KB of the wasm build.
#[derive(Debug, Clone, PartialEq)]
pub struct NameMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for NameMap<V> {
    fn default() -> Self {
        NameMap { entries: Vec::new() }
    }
}

impl<V> NameMap<V> {
    fn find(&self, name: &str) -> std::result::Result<usize, usize> {
        self.entries.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        self.find(name).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        self.find(name).ok().map(|i| &mut self.entries[i].1)
    }

    /// Sets `name` to `value`; answers the value it replaces.
    pub fn insert(&mut self, name: &str, value: V) -> Option<V> {
        match self.find(name) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (name.to_string(), value));
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<V> {
        self.find(name).ok().map(|i| self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Which handles are in use and what they are named: the part of a [`NamedTable`] that does
/// not depend on its values, kept apart so that the wasm build holds one copy of it, not one per
/// kind of machine.
#[derive(Debug, Clone, Default)]
struct Handles {
    /// Per handle: in use, and under which name.
    used: Vec<Option<Option<String>>>,
    names: NameMap<Handle>,
    free: Vec<Handle>,
}

impl Handles {
    /// A handle for a new value, under `name` if given (a name in use moves to it; the old
    /// handle stays, unnamed).
    fn take(&mut self, name: Option<&str>) -> Handle {
        let entry = Some(name.map(str::to_string));
        let h = match self.free.pop() {
            Some(h) => {
                self.used[h as usize] = entry;
                h
            }
            None => {
                self.used.push(entry);
                (self.used.len() - 1) as Handle
            }
        };
        if let Some(name) = name {
            if let Some(old) = self.names.insert(name, h) {
                if let Some(Some(n)) = self.used.get_mut(old as usize) {
                    *n = None;
                }
            }
        }
        h
    }

    fn name_of(&self, h: Handle) -> Option<&str> {
        self.used.get(h as usize)?.as_ref()?.as_deref()
    }

    /// Frees a handle; `false` if it was not in use.
    fn give_back(&mut self, h: Handle) -> bool {
        let Some(slot) = self.used.get_mut(h as usize) else { return false };
        let Some(name) = slot.take() else { return false };
        if let Some(name) = name {
            self.names.remove(&name);
        }
        self.free.push(h);
        true
    }

    fn clear(&mut self) {
        for n in self.used.iter_mut().flatten() {
            *n = None;
        }
        self.names.clear();
    }
}

/// Values by handle, some of them also by name: one table per kind of machine.
#[derive(Debug, Clone)]
pub struct NamedTable<T> {
    values: Vec<Option<T>>,
    handles: Handles,
}

impl<T> Default for NamedTable<T> {
    fn default() -> Self {
        NamedTable { values: Vec::new(), handles: Handles::default() }
    }
}

impl<T> NamedTable<T> {
    /// Stores `value`, under `name` if given. A name already in use moves to the new value;
    /// the old value keeps its handle, unnamed.
    pub fn insert(&mut self, name: Option<&str>, value: T) -> Handle {
        let h = self.handles.take(name);
        match self.values.get_mut(h as usize) {
            Some(slot) => *slot = Some(value),
            None => self.values.push(Some(value)),
        }
        h
    }

    /// The entry named `name`, made by `make()` if absent (`make` is not called otherwise).
    /// Answers the handle and whether it was created.
    pub fn get_or_create(&mut self, name: &str, make: impl FnOnce() -> Result<T>) -> Result<(Handle, bool)> {
        if let Some(h) = self.handle(name) {
            return Ok((h, false));
        }
        Ok((self.insert(Some(name), make()?), true))
    }

    pub fn handle(&self, name: &str) -> Option<Handle> {
        self.handles.names.get(name).copied()
    }

    pub fn get_mut(&mut self, h: Handle) -> Option<&mut T> {
        self.values.get_mut(h as usize)?.as_mut()
    }

    pub fn name_of(&self, h: Handle) -> Option<&str> {
        self.handles.name_of(h)
    }

    /// Frees a handle for reuse; `false` if it held nothing.
    pub fn remove(&mut self, h: Handle) -> bool {
        match self.values.get_mut(h as usize) {
            Some(slot) if slot.is_some() => {
                *slot = None;
                self.handles.give_back(h)
            }
            _ => false,
        }
    }

    /// Named entries in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.handles.names.iter().filter_map(|(n, h)| Some((n, self.values[*h as usize].as_ref()?)))
    }

    /// Named entries with their names, mutably (in handle order).
    pub fn named_values_mut(&mut self) -> impl Iterator<Item = (&str, &mut T)> {
        self.values.iter_mut().zip(&self.handles.used).filter_map(|(v, n)| Some((n.as_ref()?.as_deref()?, v.as_mut()?)))
    }

    pub fn names(&self) -> Vec<String> {
        let mut v = Vec::new();
        for k in self.handles.names.keys() {
            v.push(k.to_string());
        }
        v
    }

    /// Forgets every name. Handles stay valid (the values are unregistered, not destroyed).
    pub fn clear(&mut self) {
        self.handles.clear();
    }
}

#[derive(Debug, Default, Clone)]
pub struct Registry {
    breakers: NamedTable<CircuitBreaker>,
    bulkheads: NamedTable<Bulkhead>,
    /// `retry_attempts_total` and `timeout_operations_total`, per operation name.
    retry_attempts: NameMap<u64>,
    timeouts: NameMap<u64>,
}

/// Breaker counts by state (the health report's `byState`, and the registry's `healthy`/`unhealthy`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BreakerHealth {
    pub total: u32,
    pub healthy: u32,
    pub unhealthy: u32,
    pub by_state: NameMap<u32>,
    /// Fleet breakers by name (none without fleets).
    pub fleet: NameMap<crate::fleet::FleetHealth>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkheadHealth {
    pub name: String,
    pub state: crate::bulkhead::BulkheadMetrics,
    /// Busy slots as a share of all slots, 0 to 1.
    pub utilization: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthSummary {
    pub healthy: bool,
    pub issues: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub summary: HealthSummary,
    pub circuit_breakers: BreakerHealth,
    pub bulkheads: Vec<BulkheadHealth>,
}

impl BreakerHealth {
    pub fn to_json(&self) -> Json {
        let mut by_state = Vec::new();
        for (k, v) in self.by_state.iter() {
            by_state.push((k, Json::from(*v)));
        }
        let by_state = Json::obj(by_state);
        let mut pairs = vec![("total", Json::from(self.total)), ("healthy", Json::from(self.healthy)), ("unhealthy", Json::from(self.unhealthy)), ("byState", by_state)];
        // Only with fleets: a report without them reads as it always has.
        if self.fleet.iter().next().is_some() {
            let mut fleet = Vec::new();
            for (k, f) in self.fleet.iter() {
                fleet.push((k, f.to_json()));
            }
            pairs.push(("fleet", Json::obj(fleet)));
        }
        Json::obj(pairs)
    }
}

impl Health {
    /// `{summary: {healthy, issues}, circuitBreakers, bulkheads: [{name, state, utilization}]}`.
    pub fn to_json(&self) -> Json {
        let mut bulkheads = Vec::new();
        for b in &self.bulkheads {
            bulkheads.push(Json::obj(vec![("name", Json::from(b.name.as_str())), ("state", b.state.to_json()), ("utilization", Json::from(b.utilization))]));
        }
        Json::obj(vec![
            ("summary", Json::obj(vec![("healthy", Json::from(self.summary.healthy)), ("issues", Json::from(self.summary.issues.clone()))])),
            ("circuitBreakers", self.circuit_breakers.to_json()),
            ("bulkheads", Json::Arr(bulkheads)),
        ])
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// The breaker named `name`, created from `config()` if absent (the config is not
    /// consulted, nor checked, when it exists). Answers the handle and whether it was created.
    pub fn breaker_get_or_create(
        &mut self,
        name: &str,
        config: impl FnOnce() -> Result<BreakerConfig>,
    ) -> Result<(Handle, bool)> {
        self.breakers.get_or_create(name, || CircuitBreaker::new(config()?))
    }

    pub fn breaker_handle(&self, name: &str) -> Option<Handle> {
        self.breakers.handle(name)
    }

    pub fn breaker(&mut self, h: Handle) -> Option<&mut CircuitBreaker> {
        self.breakers.get_mut(h)
    }

    pub fn breaker_named(&mut self, name: &str) -> Result<&mut CircuitBreaker> {
        let h = self.breaker_handle(name).ok_or_else(|| SeawallError::not_found("circuit breaker", name))?;
        self.breaker(h).ok_or_else(|| SeawallError::not_found("circuit breaker", name))
    }

    pub fn bulkhead_get_or_create(&mut self, name: &str, make: impl FnOnce() -> Result<Bulkhead>) -> Result<(Handle, bool)> {
        self.bulkheads.get_or_create(name, make)
    }

    pub fn bulkhead_handle(&self, name: &str) -> Option<Handle> {
        self.bulkheads.handle(name)
    }

    pub fn bulkhead(&mut self, h: Handle) -> Option<&mut Bulkhead> {
        self.bulkheads.get_mut(h)
    }

    /// Breakers in name order.
    pub fn breakers(&self) -> impl Iterator<Item = (&str, &CircuitBreaker)> {
        self.breakers.iter()
    }

    pub fn bulkheads(&self) -> impl Iterator<Item = (&str, &Bulkhead)> {
        self.bulkheads.iter()
    }

    pub fn breaker_names(&self) -> Vec<String> {
        self.breakers.names()
    }

    /// Closes every breaker (`resetAll`).
    pub fn reset_all(&mut self, now: f64) {
        for (_, b) in self.breakers.named_values_mut() {
            b.reset(now);
        }
    }

    /// Stores a breaker, named (registered: in health and metrics) or not. A name in use moves
    /// to the new breaker.
    pub fn breaker_insert(&mut self, name: Option<&str>, breaker: CircuitBreaker) -> Handle {
        self.breakers.insert(name, breaker)
    }

    pub fn breaker_remove(&mut self, h: Handle) -> bool {
        self.breakers.remove(h)
    }

    pub fn breaker_name(&self, h: Handle) -> Option<&str> {
        self.breakers.name_of(h)
    }

    pub fn bulkhead_insert(&mut self, name: Option<&str>, bulkhead: Bulkhead) -> Handle {
        self.bulkheads.insert(name, bulkhead)
    }

    pub fn bulkhead_remove(&mut self, h: Handle) -> bool {
        self.bulkheads.remove(h)
    }

    /// Forgets every name and counter (`clear`, between tests); breakers and bulkheads
    /// already handed out keep working, unregistered.
    pub fn clear(&mut self) {
        self.breakers.clear();
        self.bulkheads.clear();
        self.retry_attempts.clear();
        self.timeouts.clear();
    }

    /// Counts one retry (not the first attempt) of operation `name`.
    pub fn record_retry_attempt(&mut self, name: &str) {
        bump(&mut self.retry_attempts, name);
    }

    /// Counts one timed-out call of operation `name`.
    pub fn record_timeout(&mut self, name: &str) {
        bump(&mut self.timeouts, name);
    }

    pub fn retry_attempts(&self) -> &NameMap<u64> {
        &self.retry_attempts
    }

    pub fn timeouts(&self) -> &NameMap<u64> {
        &self.timeouts
    }

    /// Breakers by state, after applying any due OPEN → HALF_OPEN transitions at `now`.
    /// CLOSED and DISABLED count as healthy; OPEN, HALF_OPEN and FORCED_OPEN do not.
    pub fn breaker_health(&mut self, now: f64) -> BreakerHealth {
        let mut h = BreakerHealth::default();
        for s in CircuitState::ALL {
            h.by_state.insert(s.as_str(), 0);
        }
        for (name, b) in self.breakers.named_values_mut() {
            if let Some(f) = b.fleet_health(now) {
                h.fleet.insert(name, f);
            }
            let s = b.state_at(now);
            h.total += 1;
            if let Some(n) = h.by_state.get_mut(s.as_str()) {
                *n += 1;
            }
            if matches!(s, CircuitState::Closed | CircuitState::Disabled) {
                h.healthy += 1;
            } else {
                h.unhealthy += 1;
            }
        }
        h
    }

    /// The whole health report: healthy when no breaker is open or half-open and no bulkhead is
    /// refusing calls (all slots busy and, if it has one, the queue full).
    pub fn health(&mut self, now: f64) -> Health {
        let circuit_breakers = self.breaker_health(now);
        let mut issues = Vec::new();
        for (name, b) in self.breakers() {
            match b.state() {
                CircuitState::Closed | CircuitState::Disabled => {}
                s => issues.push(format!("Circuit breaker '{name}' is {}", s.as_str())),
            }
        }
        let mut bulkheads = Vec::new();
        for (name, b) in self.bulkheads() {
            let m = b.metrics();
            if m.available == 0 && m.queued >= m.max_queue_size {
                issues.push(format!("Bulkhead '{name}' is full ({} active, {} queued)", m.active, m.queued));
            }
            bulkheads.push(BulkheadHealth {
                name: name.to_string(),
                utilization: m.active as f64 / m.max_concurrent as f64,
                state: m,
            });
        }
        Health { summary: HealthSummary { healthy: issues.is_empty(), issues }, circuit_breakers, bulkheads }
    }
}

fn bump(map: &mut NameMap<u64>, name: &str) {
    match map.get_mut(name) {
        Some(n) => *n += 1,
        None => {
            map.insert(name, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bulkhead::BulkheadConfig;

    #[test]
    fn get_or_create_returns_the_same_breaker() {
        let mut r = Registry::new();
        let (a, created) = r.breaker_get_or_create("svc", || Ok(BreakerConfig::default())).unwrap();
        assert!(created);
        let (b, created) = r.breaker_get_or_create("svc", || unreachable!()).unwrap();
        assert_eq!((a, created), (b, false));
        assert!(r.breaker_get_or_create("bad", || Ok(BreakerConfig { half_open_max_calls: 0, ..Default::default() })).is_err());
        r.clear();
        assert!(r.breaker(a).is_some(), "handed-out breakers keep working");
        assert!(r.breaker_named("svc").is_err());
        let (c, created) = r.breaker_get_or_create("svc", || Ok(BreakerConfig::default())).unwrap();
        assert!(created && c != a);
        assert!(r.breaker_remove(a));
        assert!(!r.breaker_remove(a));
        let d = r.breaker_insert(None, CircuitBreaker::new(BreakerConfig::default()).unwrap());
        assert_eq!(d, a, "a removed slot is reused");
        assert_eq!(r.breaker_names(), vec!["svc".to_string()]);
        let e = r.breaker_insert(Some("svc"), CircuitBreaker::new(BreakerConfig::default()).unwrap());
        assert_eq!(r.breaker_handle("svc"), Some(e));
        assert_eq!(r.breaker_name(c), None, "the name moved to the newer breaker");
    }

    #[test]
    fn health_counts_states_and_names_issues() {
        let mut r = Registry::new();
        for name in ["a", "b", "c"] {
            r.breaker_get_or_create(name, || Ok(BreakerConfig::default())).unwrap();
        }
        r.breaker_named("b").unwrap().open(0.0);
        r.bulkhead_get_or_create("db", || Bulkhead::new(BulkheadConfig { max_concurrent: 1, max_queue: 0, queue_timeout_ms: None, lifo: false })).unwrap();
        let h = r.bulkhead_handle("db").unwrap();
        let _ = r.bulkhead(h).unwrap().try_acquire(0.0);
        let health = r.health(1.0);
        assert_eq!((health.circuit_breakers.total, health.circuit_breakers.healthy, health.circuit_breakers.unhealthy), (3, 2, 1));
        assert_eq!(health.circuit_breakers.by_state.get("OPEN"), Some(&1));
        assert!(!health.summary.healthy);
        assert_eq!(health.summary.issues, vec!["Circuit breaker 'b' is OPEN".to_string(), "Bulkhead 'db' is full (1 active, 0 queued)".to_string()]);
        assert_eq!(health.bulkheads[0].utilization, 1.0);
        r.reset_all(2.0);
        assert_eq!(r.breaker_health(2.0).healthy, 3);
    }

    #[test]
    fn a_removed_name_is_gone_and_a_bulkhead_with_room_is_healthy() {
        let mut r = Registry::new();
        let (a, _) = r.breaker_get_or_create("svc", || Ok(BreakerConfig::default())).unwrap();
        assert!(r.breaker_remove(a));
        assert_eq!((r.breaker_handle("svc"), r.breaker_names()), (None, vec![]));
        let mut m = NameMap::default();
        m.insert("b", 2);
        m.insert("a", 1);
        assert_eq!((m.remove("a"), m.remove("a"), m.keys().collect::<Vec<_>>()), (Some(1), None, vec!["b"]));
        // All slots busy but room in the queue; slots free and no queue: neither refuses calls.
        let shapes = [("queue", 1, 1), ("slots", 2, 0)];
        for (name, max_concurrent, max_queue) in shapes {
            r.bulkhead_get_or_create(name, || Bulkhead::new(BulkheadConfig { max_concurrent, max_queue, queue_timeout_ms: None, lifo: false })).unwrap();
            let h = r.bulkhead_handle(name).unwrap();
            let _ = r.bulkhead(h).unwrap().try_acquire(0.0);
        }
        let health = r.health(1.0);
        assert_eq!((health.summary.healthy, health.summary.issues.len()), (true, 0));
        assert_eq!(health.bulkheads.iter().map(|b| b.utilization).collect::<Vec<_>>(), vec![1.0, 0.5]);
    }

    #[test]
    fn fleet_breakers_show_their_store_in_health_and_metrics() {
        let mut r = Registry::new();
        let fleet = BreakerConfig { fleet: Some(crate::fleet::FleetConfig::default()), ..BreakerConfig::default() };
        r.breaker_get_or_create("api", || Ok(fleet.clone())).unwrap();
        r.breaker_get_or_create("alone", || Ok(BreakerConfig::default())).unwrap();
        let report = crate::fleet::ReplicaReport { calls: 1, failures: 0, slow: 0, consecutive_failures: 0, age_ms: 0.0 };
        r.breaker_named("api").unwrap().handle_fleet_reports(100.0, &[report; 3]);
        let h = r.breaker_health(200.0).to_json().to_string();
        assert!(h.ends_with(r#""fleet":{"api":{"mode":"shared","replicas":3,"fresh":true}}}"#), "{h}");
        assert!(r.breaker_health(1101.0).to_json().to_string().contains(r#""fresh":false"#), "older than staleAfter");
        r.breaker_named("api").unwrap().set_fleet_shared(1200.0, false);
        let text = crate::metrics::render_prometheus(&r);
        assert!(text.contains("circuit_breaker_fleet_replicas{name=\"api\"} 3\n") && text.contains("circuit_breaker_fleet_shared{name=\"api\"} 0\n"), "{text}");
        assert!(!text.contains("fleet_replicas{name=\"alone\"}"));
        let mut plain = Registry::new();
        plain.breaker_get_or_create("alone", || Ok(BreakerConfig::default())).unwrap();
        assert!(!plain.breaker_health(0.0).to_json().to_string().contains("fleet"), "reports without fleets read as before");
    }
}
