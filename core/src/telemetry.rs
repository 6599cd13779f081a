//! What Seawall reports as it decides, declared once for every shell: each event's name, the
//! channel Node publishes it on (`node:diagnostics_channel`), the level Python logs it at (the
//! `seawall` logger) and its fields, in order; the OpenTelemetry instruments those events feed
//! (name, kind, unit, attributes), and which error codes make a call "rejected" or "timeout".
//! The shells publish exactly these, so a dashboard, a log query or a trace reads the same names
//! from either language.

use crate::error::ErrorCode;
use crate::json::Json;

/// One kind of event.
pub struct Event {
    /// Dotted, lower case: also the Python log record's message.
    pub name: &'static str,
    /// Node's diagnostics channel.
    pub channel: &'static str,
    /// Python's logging level name.
    pub level: &'static str,
    /// The fields every event of the kind carries (null where unknown, e.g. an unnamed policy).
    pub fields: &'static [&'static str],
}

pub const EVENTS: &[Event] = &[
    Event {
        name: "retry.scheduled",
        channel: "seawall:retry:scheduled",
        level: "INFO",
        fields: &["policy", "attempt", "delayMs", "errorType"],
    },
    Event {
        name: "retry.gave_up",
        channel: "seawall:retry:gave-up",
        level: "WARNING",
        fields: &["policy", "attempts", "reason", "errorType"],
    },
    Event {
        name: "breaker.state_changed",
        channel: "seawall:breaker:state-changed",
        level: "WARNING",
        fields: &["policy", "from", "to", "reason"],
    },
    Event {
        name: "call.rejected",
        channel: "seawall:call:rejected",
        level: "INFO",
        fields: &["policy", "by", "code"],
    },
    Event {
        name: "hedge.launched",
        channel: "seawall:hedge:launched",
        level: "INFO",
        fields: &["policy", "attempt"],
    },
    // Per call and per attempt: debug-level in logs, and what the duration histograms read.
    Event {
        name: "call.ended",
        channel: "seawall:call:ended",
        level: "DEBUG",
        fields: &["policy", "kind", "outcome", "durationMs", "errorType"],
    },
    Event {
        name: "attempt.ended",
        channel: "seawall:attempt:ended",
        level: "DEBUG",
        fields: &["policy", "attempt", "outcome", "durationMs", "errorType"],
    },
    Event {
        name: "rate_limit.waited",
        channel: "seawall:rate-limit:waited",
        level: "DEBUG",
        fields: &["policy", "waitMs"],
    },
];

/// Error codes that end a call as "rejected" (a policy refused it before it ran, or refused a
/// retry) or "timeout"; any other error ends it as "failure".
pub const REJECTED: &[ErrorCode] = &[
    ErrorCode::CircuitOpen,
    ErrorCode::BulkheadQueueFull,
    ErrorCode::BulkheadQueueTimeout,
    ErrorCode::RateLimited,
    ErrorCode::RetryBudgetExhausted,
    ErrorCode::ConcurrencyLimited,
];
pub const TIMED_OUT: &[ErrorCode] = &[ErrorCode::Timeout];

/// The bucket boundaries (s) of every duration histogram: OpenTelemetry's HTTP advice, from 5 ms
/// to 10 s (the SDK's default boundaries are in ms and would put every call in the first bucket).
pub const DURATION_BUCKETS_S: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

/// How an instrument records.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InstrumentKind {
    Counter,
    Histogram,
    /// Read at collection time from the engine's registry (named breakers and bulkheads).
    ObservableGauge,
    ObservableUpDownCounter,
}

impl InstrumentKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            InstrumentKind::Counter => "counter",
            InstrumentKind::Histogram => "histogram",
            InstrumentKind::ObservableGauge => "observableGauge",
            InstrumentKind::ObservableUpDownCounter => "observableUpDownCounter",
        }
    }
}

/// One OpenTelemetry instrument: what it is, and where its values come from — events (each
/// report adds 1, or records `value` × `scale`) or a Prometheus family's samples (`observes`).
/// Attributes are `(attribute, event field)`, the field `event` being the event's name; an
/// observed family's fields are `name` and its one extra label's value, `label`. A field that is
/// null in an event is left out.
pub struct Instrument {
    pub name: &'static str,
    pub kind: InstrumentKind,
    /// UCUM: `s` for durations, `{call}`-style annotations for counts, `1` for flags.
    pub unit: &'static str,
    pub description: &'static str,
    pub events: &'static [&'static str],
    pub value: Option<&'static str>,
    pub scale: f64,
    pub attributes: &'static [(&'static str, &'static str)],
    pub observes: Option<&'static str>,
    /// The Prometheus family (`metrics::FAMILIES`) that counts the same thing for named policies.
    pub prometheus: Option<&'static str>,
}

const POLICY: (&str, &str) = ("seawall.policy.name", "policy");
const ERROR: (&str, &str) = ("error.type", "errorType");

const fn fed(name: &'static str, kind: InstrumentKind, unit: &'static str, description: &'static str, events: &'static [&'static str], attributes: &'static [(&'static str, &'static str)]) -> Instrument {
    Instrument { name, kind, unit, description, events, value: None, scale: 1.0, attributes, observes: None, prometheus: None }
}

const fn observed(name: &'static str, kind: InstrumentKind, unit: &'static str, description: &'static str, family: &'static str, attributes: &'static [(&'static str, &'static str)]) -> Instrument {
    Instrument { name, kind, unit, description, events: &[], value: None, scale: 1.0, attributes, observes: Some(family), prometheus: Some(family) }
}

/// The events that are a decision (not a call's end): Polly's strategy events.
const DECISIONS: &[&str] = &["retry.scheduled", "retry.gave_up", "breaker.state_changed", "call.rejected", "hedge.launched"];

pub const INSTRUMENTS: &[Instrument] = &[
    fed("seawall.events", InstrumentKind::Counter, "{event}", "Every decision, by event (as Polly's strategy events).", DECISIONS, &[POLICY, ("seawall.event.name", "event")]),
    Instrument {
        prometheus: Some("circuit_breaker_calls_total"),
        ..fed("seawall.calls", InstrumentKind::Counter, "{call}", "Calls through a policy, by outcome (success, failure, rejected, timeout).", &["call.ended"], &[POLICY, ("seawall.policy.kind", "kind"), ("seawall.outcome", "outcome"), ERROR])
    },
    Instrument {
        value: Some("durationMs"),
        scale: 0.001,
        ..fed("seawall.call.duration", InstrumentKind::Histogram, "s", "How long a call through a policy took, retries and waits included.", &["call.ended"], &[POLICY, ("seawall.policy.kind", "kind"), ("seawall.outcome", "outcome"), ERROR])
    },
    Instrument {
        value: Some("durationMs"),
        scale: 0.001,
        ..fed("seawall.attempt.duration", InstrumentKind::Histogram, "s", "How long one attempt of a retried call took.", &["attempt.ended"], &[POLICY, ("seawall.attempt", "attempt"), ("seawall.outcome", "outcome"), ERROR])
    },
    Instrument {
        prometheus: Some("retry_attempts_total"),
        ..fed("seawall.retries", InstrumentKind::Counter, "{retry}", "Retries scheduled, by the attempt that failed.", &["retry.scheduled"], &[POLICY, ("seawall.attempt", "attempt"), ERROR])
    },
    Instrument {
        value: Some("delayMs"),
        scale: 0.001,
        ..fed("seawall.retry.delay", InstrumentKind::Histogram, "s", "The wait before each retry.", &["retry.scheduled"], &[POLICY])
    },
    fed("seawall.retry.give_ups", InstrumentKind::Counter, "{call}", "Retried calls that gave up, by reason.", &["retry.gave_up"], &[POLICY, ("seawall.reason", "reason"), ERROR]),
    Instrument {
        prometheus: Some("circuit_breaker_state_changes_total"),
        ..fed("seawall.breaker.transitions", InstrumentKind::Counter, "{transition}", "Circuit breaker state changes.", &["breaker.state_changed"], &[POLICY, ("seawall.breaker.from", "from"), ("seawall.breaker.to", "to"), ("seawall.reason", "reason")])
    },
    fed("seawall.rejections", InstrumentKind::Counter, "{call}", "Calls a policy refused, by what refused them.", &["call.rejected"], &[POLICY, ("seawall.rejected_by", "by"), ("error.type", "code")]),
    Instrument {
        value: Some("waitMs"),
        scale: 0.001,
        ..fed("seawall.rate_limit.wait", InstrumentKind::Histogram, "s", "How long a call waited for a rate limiter's place.", &["rate_limit.waited"], &[POLICY])
    },
    observed("seawall.breaker.state", InstrumentKind::ObservableGauge, "1", "1 for the state a named circuit breaker is in, 0 for the others.", "circuit_breaker_state", &[POLICY, ("seawall.breaker.state", "label")]),
    observed("seawall.bulkhead.active", InstrumentKind::ObservableUpDownCounter, "{call}", "Calls running in a named bulkhead now.", "bulkhead_active_calls", &[POLICY]),
    observed("seawall.bulkhead.queued", InstrumentKind::ObservableUpDownCounter, "{call}", "Calls waiting in a named bulkhead's queue now.", "bulkhead_queued_calls", &[POLICY]),
    observed("seawall.fleet.shared", InstrumentKind::ObservableGauge, "1", "1 while a fleet breaker's store answers, 0 while it decides alone.", "circuit_breaker_fleet_shared", &[POLICY]),
    observed("seawall.fleet.replicas", InstrumentKind::ObservableGauge, "{replica}", "Replicas that reported at a fleet breaker's last sync.", "circuit_breaker_fleet_replicas", &[POLICY]),
];

fn strs(v: impl IntoIterator<Item = &'static str>) -> Json {
    Json::Arr(v.into_iter().map(|s| Json::Str(s.to_string())).collect())
}

fn opt(v: Option<&'static str>) -> Json {
    v.map_or(Json::Null, |s| Json::Str(s.to_string()))
}

/// The events as JSON, for the shells: `{events: [{name, channel, level, fields}], rejected:
/// [code], timedOut: [code]}`.
pub fn events_json() -> String {
    Json::obj(vec![
        ("events", events_list()),
        ("rejected", strs(REJECTED.iter().map(|c| c.as_str()))),
        ("timedOut", strs(TIMED_OUT.iter().map(|c| c.as_str()))),
    ])
    .to_string()
}

/// The instruments as JSON, for `instrument()`: `{instruments: [{name, kind, unit, description,
/// events, value, scale, attributes, observes, prometheus}], buckets: [s]}`. (Apart from the
/// events: the browser's lean module leaves it out.)
pub fn instruments_json() -> String {
    let mut instruments = Vec::new();
    for i in INSTRUMENTS {
        let attributes = i.attributes.iter().map(|(a, f)| Json::Arr(vec![Json::Str(a.to_string()), Json::Str(f.to_string())])).collect();
        instruments.push(Json::obj(vec![
            ("name", Json::Str(i.name.to_string())),
            ("kind", Json::Str(i.kind.as_str().to_string())),
            ("unit", Json::Str(i.unit.to_string())),
            ("description", Json::Str(i.description.to_string())),
            ("events", strs(i.events.iter().copied())),
            ("value", opt(i.value)),
            ("scale", Json::Num(i.scale)),
            ("attributes", Json::Arr(attributes)),
            ("observes", opt(i.observes)),
            ("prometheus", opt(i.prometheus)),
        ]));
    }
    Json::obj(vec![("instruments", Json::Arr(instruments)), ("buckets", Json::Arr(DURATION_BUCKETS_S.iter().map(|b| Json::Num(*b)).collect()))]).to_string()
}

fn events_list() -> Json {
    let mut list = Vec::new();
    for e in EVENTS {
        let mut fields = Vec::new();
        for f in e.fields {
            fields.push(Json::Str((*f).to_string()));
        }
        list.push(Json::obj(vec![
            ("name", Json::Str(e.name.to_string())),
            ("channel", Json::Str(e.channel.to_string())),
            ("level", Json::Str(e.level.to_string())),
            ("fields", Json::Arr(fields)),
        ]));
    }
    Json::Arr(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dotted_lower_case_and_unique_and_channels_follow_them() {
        let mut seen = std::collections::HashSet::new();
        for e in EVENTS {
            assert!(seen.insert(e.name), "{} twice", e.name);
            assert!(e.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'), "{}", e.name);
            assert_eq!(e.channel, format!("seawall:{}", e.name.replace('.', ":").replace('_', "-")));
            assert!(["DEBUG", "INFO", "WARNING"].contains(&e.level));
            assert_eq!(e.fields.first(), Some(&"policy"), "{}: every event names its policy first", e.name);
        }
        assert!(events_json().starts_with("{\"events\":[{\"name\":\"retry.scheduled\""));
    }

    #[test]
    fn every_instrument_reads_fields_its_source_has() {
        let mut seen = std::collections::HashSet::new();
        for i in INSTRUMENTS {
            assert!(seen.insert(i.name), "{} twice", i.name);
            assert!(i.name.starts_with("seawall.") && i.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'), "{}", i.name);
            assert!(i.attributes.contains(&POLICY), "{}: every instrument names its policy", i.name);
            match (i.events, i.observes) {
                ([_, ..], None) => {
                    for event in i.events {
                        let e = EVENTS.iter().find(|e| e.name == *event).unwrap_or_else(|| panic!("{}: no event {event}", i.name));
                        for (_, field) in i.attributes.iter().chain(i.value.as_ref().map(|v| ("", *v)).iter()) {
                            assert!(e.fields.contains(field) || *field == "event", "{}: {event} has no field {field}", i.name);
                        }
                    }
                    let counts = matches!(i.kind, InstrumentKind::Counter);
                    assert_eq!(i.value.is_none(), counts, "{}: counters add 1, histograms record a field", i.name);
                    assert!(i.value.is_none() || i.unit == "s" && i.scale == 0.001, "{}: durations are read in ms and recorded in s", i.name);
                }
                ([], Some(family)) => {
                    assert!(crate::metrics::FAMILIES.iter().any(|f| f.0 == family && f.1 == "gauge"), "{}: {family} is no gauge family", i.name);
                    assert!(!matches!(i.kind, InstrumentKind::Counter | InstrumentKind::Histogram));
                    assert!(i.attributes.iter().all(|(_, f)| *f == "policy" || *f == "label"));
                }
                _ => panic!("{}: fed by an event or observing a family, one of the two", i.name),
            }
            if let Some(p) = i.prometheus {
                assert!(crate::metrics::FAMILIES.iter().any(|f| f.0 == p), "{}: no family {p}", i.name);
            }
        }
        // The decisions are the events logged above DEBUG (the shells' span events).
        assert_eq!(DECISIONS, EVENTS.iter().filter(|e| e.level != "DEBUG").map(|e| e.name).collect::<Vec<_>>());
        for c in REJECTED.iter().chain(TIMED_OUT) {
            assert!(!(REJECTED.contains(c) && TIMED_OUT.contains(c)));
        }
    }
}
