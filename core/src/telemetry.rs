//! What Seawall reports as it decides, declared once for every shell: each event's name, the
//! channel Node publishes it on (`node:diagnostics_channel`), the level Python logs it at (the
//! `seawall` logger) and its fields, in order. The shells publish exactly these, so a dashboard
//! or a log query reads the same names from either language.

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
];

/// The table as JSON (`[{name, channel, level, fields}]`), for the shells.
pub fn events_json() -> String {
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
    Json::Arr(list).to_string()
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
            assert!(["INFO", "WARNING"].contains(&e.level));
            assert_eq!(e.fields.first(), Some(&"policy"), "{}: every event names its policy first", e.name);
        }
        assert!(events_json().starts_with("[{\"name\":\"retry.scheduled\""));
    }
}
