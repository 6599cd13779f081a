//! Metrics under the names dashboards already use (`circuit_breaker_state`, …), rendered in the
//! Prometheus text exposition format (0.0.4).
//!
//! Counters are read from the registry at scrape time (breaker and bulkhead totals are kept by
//! the machines themselves), so the hot path pays nothing for metrics.

use std::fmt::Write;

use crate::breaker::CircuitState;
use crate::json::Json;
use crate::registry::Registry;

/// The metric families, in output order: (name, type, help).
pub const FAMILIES: &[(&str, &str, &str)] = &[
    ("circuit_breaker_state_changes_total", "counter", "Circuit breaker state transitions."),
    ("circuit_breaker_calls_total", "counter", "Calls seen by a circuit breaker, by result (success, failure, rejected, ignored)."),
    ("circuit_breaker_state", "gauge", "1 for the state a circuit breaker is in, 0 for the others."),
    ("retry_attempts_total", "counter", "Retries made (first attempts not counted)."),
    ("timeout_operations_total", "counter", "Calls abandoned because they ran past their timeout."),
    ("bulkhead_executions_total", "counter", "Calls offered to a bulkhead, by what happened (active: ran at once, queued, rejected)."),
    ("bulkhead_active_calls", "gauge", "Calls running in a bulkhead now."),
    ("bulkhead_queued_calls", "gauge", "Calls waiting in a bulkhead's queue now."),
    ("circuit_breaker_fleet_replicas", "gauge", "Replicas that reported at a fleet breaker's last sync."),
    ("circuit_breaker_fleet_shared", "gauge", "1 while a fleet breaker's store answers, 0 while it decides alone."),
];

/// Writes a label value escaped: backslash, double quote and newline.
fn push_escaped(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn header(out: &mut String, family: usize) {
    let (name, kind, help) = FAMILIES[family];
    for line in [["# HELP ", name, " ", help], ["# TYPE ", name, " ", kind]] {
        for part in line {
            out.push_str(part);
        }
        out.push('\n');
    }
}

/// One sample: `family{name="…"[,label="…"]} value`. (One writer for every sample: ten
/// `writeln!` formats were 1.6 KB of the wasm build.)
fn sample(out: &mut String, family: usize, name: &str, label: Option<(&str, &str)>, value: u64) {
    out.push_str(FAMILIES[family].0);
    out.push_str("{name=\"");
    push_escaped(out, name);
    if let Some((key, v)) = label {
        out.push_str("\",");
        out.push_str(key);
        out.push_str("=\"");
        out.push_str(v);
    }
    out.push_str("\"} ");
    let _ = write!(out, "{value}");
    out.push('\n');
}

/// Takes one sample: `(policy name, extra label as (key, value), value)`.
type Visit<'a> = dyn FnMut(&str, Option<(&str, &str)>, u64) + 'a;

/// Visits every sample of family `family` (an index into [`FAMILIES`]) as
/// `(policy name, extra label, value)`: the one walk behind the Prometheus text and the
/// OpenTelemetry gauges ([`gauge_samples_json`]), so the two cannot disagree.
fn family_samples(registry: &Registry, family: usize, visit: &mut Visit<'_>) {
    match family {
        0 => {
            for (name, b) in registry.breakers() {
                visit(name, None, b.totals().state_changes);
            }
        }
        1 => {
            for (name, b) in registry.breakers() {
                let t = b.totals();
                for (result, n) in [("success", t.successful_calls), ("failure", t.failed_calls), ("rejected", t.rejected_calls), ("ignored", t.ignored_calls)] {
                    visit(name, Some(("result", result)), n);
                }
            }
        }
        2 => {
            for (name, b) in registry.breakers() {
                for s in CircuitState::ALL {
                    visit(name, Some(("state", s.as_str())), (b.state() == s) as u64);
                }
            }
        }
        3 => {
            for (name, n) in registry.retry_attempts().iter() {
                visit(name, None, *n);
            }
        }
        4 => {
            for (name, n) in registry.timeouts().iter() {
                visit(name, None, *n);
            }
        }
        5 => {
            for (name, b) in registry.bulkheads() {
                let m = b.metrics();
                for (state, n) in [("active", m.executed), ("queued", m.enqueued), ("rejected", m.rejected)] {
                    visit(name, Some(("state", state)), n);
                }
            }
        }
        6 => {
            for (name, b) in registry.bulkheads() {
                visit(name, None, b.active() as u64);
            }
        }
        7 => {
            for (name, b) in registry.bulkheads() {
                visit(name, None, b.queued() as u64);
            }
        }
        8 => {
            for (name, b) in registry.breakers() {
                if let Some((_, replicas)) = b.fleet_gauges() {
                    visit(name, None, replicas as u64);
                }
            }
        }
        _ => {
            for (name, b) in registry.breakers() {
                if let Some((shared, _)) = b.fleet_gauges() {
                    visit(name, None, shared as u64);
                }
            }
        }
    }
}

/// Renders every metric of `registry`. Families always appear (with HELP and TYPE) even when
/// empty, samples are sorted by name, and the output ends with a newline.
pub fn render_prometheus(registry: &Registry) -> String {
    let mut out = String::new();
    for family in 0..FAMILIES.len() {
        header(&mut out, family);
        family_samples(registry, family, &mut |name, label, value| sample(&mut out, family, name, label, value));
    }
    out
}

/// The samples of the families an OpenTelemetry instrument observes
/// (`telemetry::INSTRUMENTS` rows with `observes`), as JSON:
/// `[[family, policy name, label value or null, value], …]`.
pub fn gauge_samples_json(registry: &Registry) -> String {
    let mut out = Vec::new();
    for i in crate::telemetry::INSTRUMENTS {
        let Some(observes) = i.observes else { continue };
        let Some(family) = FAMILIES.iter().position(|f| f.0 == observes) else { continue };
        family_samples(registry, family, &mut |name, label, value| {
            out.push(Json::Arr(vec![
                Json::Str(observes.to_string()),
                Json::Str(name.to_string()),
                label.map_or(Json::Null, |(_, v)| Json::Str(v.to_string())),
                Json::Num(value as f64),
            ]));
        });
    }
    Json::Arr(out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::BreakerConfig;

    #[test]
    fn renders_seed_names_with_escaped_labels() {
        let mut r = Registry::new();
        let (h, _) = r.breaker_get_or_create("we\"ird\nname", || Ok(BreakerConfig::default())).unwrap();
        let b = r.breaker(h).unwrap();
        let p = b.try_acquire(0.0).unwrap();
        b.record_success(1.0, p, 1.0).unwrap();
        r.record_retry_attempt("op");
        r.record_retry_attempt("op");
        r.record_timeout("op");
        let text = render_prometheus(&r);
        assert!(text.contains("circuit_breaker_calls_total{name=\"we\\\"ird\\nname\",result=\"success\"} 1\n"), "{text}");
        assert!(text.contains("retry_attempts_total{name=\"op\"} 2\n"));
        assert!(text.contains("timeout_operations_total{name=\"op\"} 1\n"));
        assert!(text.contains("circuit_breaker_state{name=\"we\\\"ird\\nname\",state=\"CLOSED\"} 1\n"));
        for (name, kind, _) in FAMILIES {
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")));
        }
        // Every non-comment line is `name{labels} value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
        }
    }
}
