//! Metrics under seed 003's names, rendered in the Prometheus text exposition format (0.0.4).
//!
//! Counters are read from the registry at scrape time (breaker and bulkhead totals are kept by
//! the machines themselves), so the hot path pays nothing for metrics.

use std::fmt::Write;

use crate::breaker::CircuitState;
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

/// Escapes a label value: backslash, double quote and newline.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn header(out: &mut String, family: usize) {
    let (name, kind, help) = FAMILIES[family];
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Renders every metric of `registry`. Families always appear (with HELP and TYPE) even when
/// empty, samples are sorted by name, and the output ends with a newline.
pub fn render_prometheus(registry: &Registry) -> String {
    let mut out = String::new();
    header(&mut out, 0);
    for (name, b) in registry.breakers() {
        let _ = writeln!(out, "circuit_breaker_state_changes_total{{name=\"{}\"}} {}", escape(name), b.totals().state_changes);
    }
    header(&mut out, 1);
    for (name, b) in registry.breakers() {
        let t = b.totals();
        for (result, n) in [("success", t.successful_calls), ("failure", t.failed_calls), ("rejected", t.rejected_calls), ("ignored", t.ignored_calls)] {
            let _ = writeln!(out, "circuit_breaker_calls_total{{name=\"{}\",result=\"{result}\"}} {n}", escape(name));
        }
    }
    header(&mut out, 2);
    for (name, b) in registry.breakers() {
        for s in CircuitState::ALL {
            let v = (b.state() == s) as u8;
            let _ = writeln!(out, "circuit_breaker_state{{name=\"{}\",state=\"{}\"}} {v}", escape(name), s.as_str());
        }
    }
    header(&mut out, 3);
    for (name, n) in registry.retry_attempts().iter() {
        let _ = writeln!(out, "retry_attempts_total{{name=\"{}\"}} {n}", escape(name));
    }
    header(&mut out, 4);
    for (name, n) in registry.timeouts().iter() {
        let _ = writeln!(out, "timeout_operations_total{{name=\"{}\"}} {n}", escape(name));
    }
    header(&mut out, 5);
    for (name, b) in registry.bulkheads() {
        let m = b.metrics();
        for (state, n) in [("active", m.executed), ("queued", m.enqueued), ("rejected", m.rejected)] {
            let _ = writeln!(out, "bulkhead_executions_total{{name=\"{}\",state=\"{state}\"}} {n}", escape(name));
        }
    }
    header(&mut out, 6);
    for (name, b) in registry.bulkheads() {
        let _ = writeln!(out, "bulkhead_active_calls{{name=\"{}\"}} {}", escape(name), b.active());
    }
    header(&mut out, 7);
    for (name, b) in registry.bulkheads() {
        let _ = writeln!(out, "bulkhead_queued_calls{{name=\"{}\"}} {}", escape(name), b.queued());
    }
    header(&mut out, 8);
    for (name, b) in registry.breakers() {
        if let Some((_, replicas)) = b.fleet_gauges() {
            let _ = writeln!(out, "circuit_breaker_fleet_replicas{{name=\"{}\"}} {replicas}", escape(name));
        }
    }
    header(&mut out, 9);
    for (name, b) in registry.breakers() {
        if let Some((shared, _)) = b.fleet_gauges() {
            let _ = writeln!(out, "circuit_breaker_fleet_shared{{name=\"{}\"}} {}", escape(name), u8::from(shared));
        }
    }
    out
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
