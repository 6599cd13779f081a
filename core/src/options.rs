//! Options as the shells hand them over: a loosely typed map read into a checked config.
//!
//! Every binding converts its native options (a JS object, Python keyword arguments) into
//! [`Options`] and calls a `from_options` constructor, so that option names, aliases, units and
//! validation live here once. Names match after lower-casing and dropping `_` and `-`, so
//! `failureThreshold`, `failure_threshold` and `FAILURE_THRESHOLD` are one option. Each option
//! has one canonical name and may have aliases (seed spellings such as `recoveryTimeout` for
//! `resetTimeout`); giving two spellings of one option with different values is an error.
//! Errors name the option as the caller spelled it and quote the value as given.

use crate::error::{fmt_num, quote, Result, SeawallError};
use crate::json::Json;

/// Parses options given as JSON text (an object).
pub fn parse_options(json_text: &str) -> Result<Options> {
    match Json::parse(json_text) {
        Ok(v @ Json::Obj(_)) => Ok(options_from_json(&v)),
        Ok(Json::Null) => Ok(Vec::new()),
        Ok(v) => Err(SeawallError::wrong_type("options", describe(&from_json(&v)), "an object of options")),
        Err(_) => Err(SeawallError::wrong_type("options", "text that is not JSON", "an object of options")),
    }
}

/// One option value as a shell sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    List(Vec<OptionValue>),
    Map(Options),
    /// A function the shell keeps (callbacks, predicates); the core only checks it is one.
    Callback,
    /// A host object the shell keeps (an AbortSignal, a tuple of exception classes, a shared
    /// retry budget); the core only checks that an option of this kind was given one.
    Opaque,
}

/// Options in the order the caller gave them.
pub type Options = Vec<(String, OptionValue)>;

/// The unit durations are given in: milliseconds in JavaScript, seconds in Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Millis,
    Seconds,
}

impl TimeUnit {
    /// The unit's name in messages.
    pub fn word(self) -> &'static str {
        match self {
            TimeUnit::Millis => "milliseconds",
            TimeUnit::Seconds => "seconds",
        }
    }
    fn to_ms(self, x: f64) -> f64 {
        match self {
            TimeUnit::Millis => x,
            TimeUnit::Seconds => x * 1000.0,
        }
    }
    fn of_ms(self, ms: f64) -> f64 {
        match self {
            TimeUnit::Millis => ms,
            TimeUnit::Seconds => ms / 1000.0,
        }
    }
}

/// How a config's checks name options and print durations: as the caller spelled them and in
/// the caller's unit, so `recovery_timeout=1` in seconds is never reported as `1000`.
pub struct Spelling<'a> {
    name: &'a dyn Fn(&'static str) -> String,
    unit: TimeUnit,
}

impl<'a> Spelling<'a> {
    pub fn new(name: &'a dyn Fn(&'static str) -> String, unit: TimeUnit) -> Self {
        Spelling { name, unit }
    }

    /// Canonical names, milliseconds (configs built in Rust).
    pub fn canonical() -> Spelling<'static> {
        fn id(c: &'static str) -> String {
            c.to_string()
        }
        Spelling { name: &id, unit: TimeUnit::Millis }
    }

    pub fn name(&self, canonical: &'static str) -> String {
        (self.name)(canonical)
    }

    /// A duration held in milliseconds, printed in the caller's unit.
    pub fn duration(&self, ms: f64) -> String {
        fmt_num(self.unit.of_ms(ms))
    }

    pub fn unit_word(&self) -> &'static str {
        self.unit.word()
    }

    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
}

/// How a value is quoted in messages: as JavaScript would print it.
pub fn describe(v: &OptionValue) -> String {
    match v {
        OptionValue::Null => "null".into(),
        OptionValue::Bool(b) => b.to_string(),
        OptionValue::Number(x) => fmt_num(*x),
        OptionValue::Str(s) => quote(s),
        OptionValue::List(_) => "a list".into(),
        OptionValue::Map(_) => "an object".into(),
        OptionValue::Callback => "a function".into(),
        OptionValue::Opaque => "an object".into(),
    }
}

/// A bound on a number option: what a message says it must be, and the test.
#[derive(Clone, Copy)]
pub struct Bound {
    pub expected: &'static str,
    pub holds: fn(f64) -> bool,
}

/// The range of a whole-number option.
#[derive(Clone, Copy)]
pub struct Counted {
    pub min: u32,
    pub max: u32,
}

impl Counted {
    fn expected(self) -> String {
        format!("a whole number from {} to {}", self.min, self.max)
    }
}

/// Growth factors: a backoff's or an open period's multiplier.
pub const AT_LEAST_ONE: Bound = Bound { expected: "a number ≥ 1", holds: |x| x >= 1.0 };
/// A rate threshold: a fraction in (0, 1].
pub const RATE: Bound = Bound { expected: "a fraction greater than 0 and at most 1", holds: |x| x > 0.0 && x <= 1.0 };
/// A share of something, 0 and 1 included.
pub const FRACTION: Bound = Bound { expected: "a fraction from 0 to 1", holds: |x| (0.0..=1.0).contains(&x) };

/// What an option takes: how it is read, checked and described in messages. Every given
/// option is checked against its kind when the options are matched ([`OptionReader::new`]), and
/// a config built in code against the same row ([`check_value`]).
#[derive(Clone, Copy)]
pub enum Kind {
    /// A whole number within the range.
    Count(Counted),
    /// A finite duration in the caller's unit, held in milliseconds; zero only if `zero`.
    Duration { zero: bool },
    /// A number within the bound.
    Number(Bound),
    Bool,
    /// One of the words.
    Words(&'static [&'static str]),
    /// `true`, `false` or one of the words.
    Switch(&'static [&'static str]),
    /// Free text (a name, a key prefix).
    Text,
    /// A function the shell keeps.
    Callback,
    /// A host object the shell keeps (a signal, a client, a shared budget); what messages call it.
    Host(&'static str),
    /// A list of strings, or a predicate the shell keeps.
    StringsOrCallback,
    /// A nested options object.
    Map,
    /// A part of a combined policy: its options, or `false` to leave it out.
    Part,
    /// Several shapes, each read and checked by the config's own code.
    Custom,
}

/// One option a config understands: its canonical name, the other spellings it accepts, what it
/// takes and, where it has one, its default (in milliseconds for durations). An option the shells
/// keep (a callback, a host object) has no aliases: a shell reads it by its one name, so another
/// spelling the core accepted would be ignored.
pub struct OptionSpec {
    pub canonical: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub default: Option<f64>,
}

impl OptionSpec {
    /// The row with its default.
    pub const fn or(self, default: f64) -> OptionSpec {
        OptionSpec { canonical: self.canonical, aliases: self.aliases, kind: self.kind, default: Some(default) }
    }

    /// What a message says the option must be.
    fn expected(&self, unit: TimeUnit) -> String {
        match self.kind {
            Kind::Count(range) => range.expected(),
            Kind::Duration { zero } => format!("a finite number of {} {}", unit.word(), if zero { "≥ 0" } else { "> 0" }),
            Kind::Number(bound) => bound.expected.to_string(),
            Kind::Bool => "true or false".into(),
            Kind::Words(words) | Kind::Switch(words) => format!("one of {}", list(words)),
            Kind::Text => "a string".into(),
            Kind::Callback => "a function".into(),
            Kind::Host(what) => what.into(),
            Kind::StringsOrCallback => "a list of strings or a function".into(),
            Kind::Map | Kind::Part => "an object".into(),
            Kind::Custom => String::new(),
        }
    }

    /// `v` (given as `key`) checked against the kind; `null` is always accepted (it means "not
    /// given", or "off" where the config says so).
    fn accept(&self, key: &str, v: &OptionValue, unit: TimeUnit) -> Result<()> {
        let fits = match (self.kind, v) {
            (_, OptionValue::Null) | (Kind::Custom, _) => return Ok(()),
            (Kind::Count(range), OptionValue::Number(x)) => Some(x.is_finite() && *x == x.trunc() && *x >= f64::from(range.min) && *x <= f64::from(range.max)),
            (Kind::Duration { zero }, OptionValue::Number(x)) => Some(x.is_finite() && if zero { *x >= 0.0 } else { *x > 0.0 }),
            (Kind::Number(bound), OptionValue::Number(x)) => Some(x.is_finite() && (bound.holds)(*x)),
            (Kind::Words(words) | Kind::Switch(words), OptionValue::Str(s)) => Some(words.contains(&s.as_str())),
            (Kind::Bool | Kind::Switch(_), OptionValue::Bool(_)) => return Ok(()),
            (Kind::Text, OptionValue::Str(_)) => return Ok(()),
            (Kind::Callback, OptionValue::Callback) => return Ok(()),
            (Kind::Host(_) | Kind::StringsOrCallback, OptionValue::Opaque | OptionValue::Callback) => return Ok(()),
            (Kind::StringsOrCallback, OptionValue::List(items)) => {
                match items.iter().find(|i| !matches!(i, OptionValue::Str(_) | OptionValue::Number(_))) {
                    Some(other) => return Err(SeawallError::wrong_type(key, describe(other), &self.expected(unit))),
                    None => return Ok(()),
                }
            }
            (Kind::Map | Kind::Part, OptionValue::Map(_)) | (Kind::Part, OptionValue::Bool(false)) => return Ok(()),
            _ => None,
        };
        match fits {
            Some(true) => Ok(()),
            Some(false) => Err(SeawallError::out_of_range(key, describe(v), &self.expected(unit))),
            None => Err(SeawallError::wrong_type(key, describe(v), &self.expected(unit))),
        }
    }
}

/// The row of `canonical` in `specs`. Every canonical name a config reads is in its table (a
/// test of each config reads them all), so a miss can only be a misspelt name in code.
fn row<'s>(specs: &'s [OptionSpec], canonical: &str) -> Option<&'s OptionSpec> {
    specs.iter().find(|s| s.canonical == canonical)
}

/// A value of a config built in code (`x`, milliseconds for durations) checked against its row,
/// with the message a caller giving it as an option would get.
pub fn check_value(specs: &[OptionSpec], canonical: &'static str, sp: &Spelling, x: f64) -> Result<()> {
    let Some(spec) = row(specs, canonical) else { return Ok(()) };
    let given = match spec.kind {
        Kind::Duration { .. } => sp.unit.of_ms(x),
        _ => x,
    };
    spec.accept(&sp.name(canonical), &OptionValue::Number(given), sp.unit)
}

pub const fn spec(canonical: &'static str, aliases: &'static [&'static str], kind: Kind) -> OptionSpec {
    OptionSpec { canonical, aliases, kind, default: None }
}

fn normalize(key: &str) -> String {
    // ASCII folding is enough: every option name is ASCII, and a name that is not can only
    // match none (full Unicode lowercasing would bring its tables into the wasm build).
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        if c != '_' && c != '-' {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `text` with the first `from` replaced by `to`. (`str::replacen` brings the two-way
/// substring searcher, ~2.5 KB of the wasm build, for a message of a few dozen bytes.)
fn replace_first(text: &str, from: &str, to: &str) -> String {
    let at = (0..text.len()).find(|&i| text.is_char_boundary(i) && text.as_bytes()[i..].starts_with(from.as_bytes()));
    match at {
        Some(i) if !from.is_empty() => {
            let mut out = String::with_capacity(text.len() + to.len());
            out.push_str(text.get(..i).unwrap_or_default());
            out.push_str(to);
            out.push_str(text.get(i + from.len()..).unwrap_or_default());
            out
        }
        _ => text.to_string(),
    }
}

/// Words separated by `, `. (`[&str]::join` is ~1.2 KB of the wasm build per element type.)
pub(crate) fn list(words: &[&str]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(w);
    }
    out
}

/// Prefixes a nested option error with its parent (`retry.maxAttempts`, `fleet.minReplicas`).
pub(crate) fn nested<T>(parent: &str, r: Result<T>) -> Result<T> {
    r.map_err(|mut e| {
        if let Some(opt) = &e.option {
            let full = format!("{parent}.{opt}");
            e.message = replace_first(&e.message, opt, &full);
            e.option = Some(full);
        }
        e
    })
}

/// Options matched against a config's table and checked against their kinds, ready for reads.
pub struct OptionReader<'a> {
    unit: TimeUnit,
    found: Vec<(&'static OptionSpec, &'a str, &'a OptionValue)>,
}

impl<'a> OptionReader<'a> {
    /// Matches every given option to a row of `tables` and checks its value against the row's
    /// kind, in the order given. Unknown names, conflicting spellings and wrong values fail here.
    pub fn new(opts: &'a Options, tables: &[&'static [OptionSpec]], context: &str, unit: TimeUnit) -> Result<Self> {
        let mut found: Vec<(&'static OptionSpec, &'a str, &'a OptionValue)> = Vec::new();
        for (key, value) in opts {
            let k = normalize(key);
            let spec = tables
                .iter()
                .flat_map(|t| t.iter())
                .find(|s| normalize(s.canonical) == k || s.aliases.iter().any(|a| normalize(a) == k))
                .ok_or_else(|| SeawallError::unknown_option(key, context))?;
            if let Some((_, first, earlier)) = found.iter().find(|(s, _, _)| s.canonical == spec.canonical) {
                if *earlier != value {
                    return Err(SeawallError::wrong_type(
                        key,
                        describe(value),
                        &format!(
                            "the same value as {first} ({}), since both name one option",
                            describe(earlier)
                        ),
                    ));
                }
                continue;
            }
            spec.accept(key, value, unit)?;
            found.push((spec, key.as_str(), value));
        }
        Ok(OptionReader { unit, found })
    }

    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// The option under its canonical name, with the caller's spelling; `None` when absent.
    pub fn get(&self, canonical: &str) -> Option<(&'a str, &'a OptionValue)> {
        self.found.iter().find(|(s, _, _)| s.canonical == canonical).map(|(_, k, v)| (*k, *v))
    }

    /// The caller's spelling of an option, or the canonical name when it was not given.
    pub fn spelling(&self, canonical: &'static str) -> &'a str {
        self.get(canonical).map(|(k, _)| k).unwrap_or(canonical)
    }

    /// The value, present and not null (already checked against its kind).
    fn value(&self, canonical: &str) -> Option<&'a OptionValue> {
        self.get(canonical).map(|(_, v)| v).filter(|v| !matches!(v, OptionValue::Null))
    }

    pub fn is_null(&self, canonical: &str) -> bool {
        matches!(self.get(canonical), Some((_, OptionValue::Null)))
    }

    /// A number option as given (a count, a bounded number; a duration in the caller's unit).
    fn number_given(&self, canonical: &str) -> Option<f64> {
        match self.value(canonical) {
            Some(OptionValue::Number(x)) => Some(*x),
            _ => None,
        }
    }

    /// A whole-number option.
    pub fn count(&self, canonical: &str) -> Option<u32> {
        self.number_given(canonical).map(|x| x as u32)
    }

    /// A duration option, in milliseconds.
    pub fn duration(&self, canonical: &str) -> Option<f64> {
        self.number_given(canonical).map(|x| self.unit.to_ms(x))
    }

    /// A number option within its bound.
    pub fn number(&self, canonical: &str) -> Option<f64> {
        self.number_given(canonical)
    }

    pub fn boolean(&self, canonical: &str) -> Option<bool> {
        match self.value(canonical) {
            Some(OptionValue::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// A word option (or a switch's word), or a text option.
    pub fn word(&self, canonical: &str) -> Option<&'a str> {
        match self.value(canonical) {
            Some(OptionValue::Str(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    /// A function or host object the shell keeps: given or not.
    pub fn given(&self, canonical: &str) -> bool {
        self.value(canonical).is_some()
    }

    /// A list of strings (numbers in it as they print), or a predicate the shell keeps.
    pub fn strings_or_callback(&self, canonical: &str) -> Option<StringsOrCallback> {
        match self.value(canonical) {
            Some(OptionValue::List(items)) => Some(StringsOrCallback::Strings(
                items
                    .iter()
                    .map(|i| match i {
                        OptionValue::Number(x) => fmt_num(*x),
                        OptionValue::Str(s) => s.clone(),
                        other => describe(other),
                    })
                    .collect(),
            )),
            Some(_) => Some(StringsOrCallback::Callback),
            None => None,
        }
    }

    /// A nested options object (`circuitBreaker: { … }` inside a policy); `None` for a part
    /// left out with `false`.
    pub fn map(&self, canonical: &str) -> Option<&'a Options> {
        match self.value(canonical) {
            Some(OptionValue::Map(m)) => Some(m),
            _ => None,
        }
    }
}

/// A retry filter as given: error identifiers to match, or a predicate the shell calls.
#[derive(Debug, Clone, PartialEq)]
pub enum StringsOrCallback {
    Strings(Vec<String>),
    Callback,
}

/// Converts a JSON value (vectors, saved configs) into options. Numbers, strings, booleans,
/// null, lists and objects map one to one; the string `"<function>"` stands for a callback,
/// `"<object>"` for a host object, and `"NaN"`, `"Infinity"`, `"-Infinity"` for those numbers
/// (JSON has no spelling for them, and shells must not let them turn into null).
pub fn from_json(v: &Json) -> OptionValue {
    match v {
        Json::Null => OptionValue::Null,
        Json::Bool(b) => OptionValue::Bool(*b),
        Json::Num(x) => OptionValue::Number(*x),
        Json::Uint(n) => OptionValue::Number(*n as f64),
        Json::Str(s) if s == "<function>" => OptionValue::Callback,
        Json::Str(s) if s == "<object>" => OptionValue::Opaque,
        Json::Str(s) if s == "NaN" => OptionValue::Number(f64::NAN),
        Json::Str(s) if s == "Infinity" => OptionValue::Number(f64::INFINITY),
        Json::Str(s) if s == "-Infinity" => OptionValue::Number(f64::NEG_INFINITY),
        Json::Str(s) => OptionValue::Str(s.clone()),
        Json::Arr(items) => {
            let mut list = Vec::new();
            for item in items {
                list.push(from_json(item));
            }
            OptionValue::List(list)
        }
        Json::Obj(m) => {
            let mut map = Vec::new();
            for (k, v) in m {
                map.push((k.clone(), from_json(v)));
            }
            OptionValue::Map(map)
        }
    }
}

/// The options of a JSON object; anything else gives an empty list.
pub fn options_from_json(v: &Json) -> Options {
    match from_json(v) {
        OptionValue::Map(m) => m,
        _ => Vec::new(),
    }
}

/// Converts options back to JSON (presets handed to shells, docs).
pub fn to_json(v: &OptionValue) -> Json {
    match v {
        OptionValue::Null => Json::Null,
        OptionValue::Bool(b) => Json::Bool(*b),
        OptionValue::Number(x) if x.is_finite() => Json::Num(*x),
        OptionValue::Number(x) => Json::Str(fmt_num(*x)),
        OptionValue::Str(s) => Json::Str(s.clone()),
        OptionValue::List(items) => {
            let mut list = Vec::new();
            for item in items {
                list.push(to_json(item));
            }
            Json::Arr(list)
        }
        OptionValue::Map(m) => {
            let mut map = Vec::new();
            for (k, v) in m {
                map.push((k.clone(), to_json(v)));
            }
            Json::Obj(map)
        }
        OptionValue::Callback => Json::Str("<function>".into()),
        OptionValue::Opaque => Json::Str("<object>".into()),
    }
}

/// The arguments of a call besides its options — the function, the caller's signal, the options
/// argument itself, a name, a breaker given to `resilientFetch`, an HTTP integration's policies
/// and `fetch`, an event listener, a virtual
/// clock's step, start and auto-advance, the numbers given to a retry preset
/// (`RetryPolicies.fixed(attempts, delay)`, `.exponential(attempts, initial, max)`) — for the
/// shells' error paths: they test the hot path themselves (`typeof fn`) and ask here for the
/// error, so that a wrong argument reads the same in every language.
pub const CALL_ARGUMENTS: &[OptionSpec] = &[
    spec("fn", &[], Kind::Custom),
    spec("signal", &[], Kind::Host("an AbortSignal")),
    spec("options", &[], Kind::Custom),
    spec("name", &[], Kind::Custom),
    spec("circuit", &[], Kind::Host("a CircuitBreaker")),
    // An HTTP integration's policies and transport, given as objects beside its options.
    spec("circuitBreaker", &[], Kind::Host("a CircuitBreaker")),
    spec("bulkhead", &[], Kind::Host("a Bulkhead")),
    spec("rateLimiter", &[], Kind::Host("a RateLimiter")),
    spec("fetch", &[], Kind::Callback),
    spec("advance", &[], Kind::Duration { zero: true }),
    spec("attempts", &[], Kind::Number(FINITE)),
    spec("delay", &[], Kind::Number(FINITE)),
    spec("initial", &[], Kind::Number(FINITE)),
    spec("max", &[], Kind::Number(FINITE)),
    spec("start", &[], Kind::Number(FINITE)),
    spec("autoAdvance", &[], Kind::Bool),
    spec("listener", &[], Kind::Custom),
];

/// `instrument()`'s options: OpenTelemetry's providers and API module, host objects the shell
/// hands to the core as `{}` when they lack the method that makes them one.
pub const INSTRUMENT_OPTIONS: &[OptionSpec] = &[
    spec("meterProvider", &[], Kind::Host("an OpenTelemetry MeterProvider (with getMeter), or null for no metrics")),
    spec("tracerProvider", &[], Kind::Host("an OpenTelemetry TracerProvider (with getTracer), or null for no spans")),
    spec("api", &[], Kind::Host("the @opentelemetry/api module")),
];

/// Numbers that must be finite when given: a retry preset's (their ranges are the options' own,
/// checked on the options the preset makes) and a virtual clock's start.
const FINITE: Bound = Bound { expected: "a finite number", holds: |_| true };

/// Checks call arguments (see [`CALL_ARGUMENTS`]); none at all means `fn` was not given.
pub fn check_call_arguments(opts: &Options, unit: TimeUnit) -> Result<()> {
    if opts.is_empty() {
        return Err(SeawallError::wrong_type("fn", "undefined", "a function"));
    }
    let r = OptionReader::new(opts, &[CALL_ARGUMENTS], "a call", unit)?;
    // Null is wrong for these: a call needs its function, an operation its name and listener.
    for (canonical, fits, expected) in [
        ("fn", (|v| matches!(v, OptionValue::Callback)) as fn(&OptionValue) -> bool, "a function"),
        ("name", |v| matches!(v, OptionValue::Str(_)), "a string"),
        ("options", |v| matches!(v, OptionValue::Null | OptionValue::Map(_) | OptionValue::Opaque), "an object of options"),
        ("listener", |v| matches!(v, OptionValue::Callback), "a function"),
    ] {
        if let Some((k, v)) = r.get(canonical).filter(|(_, v)| !fits(v)) {
            return Err(SeawallError::wrong_type(k, describe(v), expected));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, ErrorKind};

    const SPECS: &[OptionSpec] = &[
        spec("resetTimeout", &["recoveryTimeout"], Kind::Duration { zero: false }),
        spec("failureThreshold", &[], Kind::Count(Counted { min: 1, max: 10 })),
        spec("onOpen", &[], Kind::Callback),
        spec("rate", &[], Kind::Number(RATE)),
        spec("mode", &[], Kind::Words(&["local", "shared", "fresh"])),
        spec("delay", &[], Kind::Duration { zero: true }),
        spec("enabled", &[], Kind::Bool),
    ];

    fn opts(pairs: &[(&str, OptionValue)]) -> Options {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn read(pairs: &[(&str, OptionValue)], unit: TimeUnit) -> Result<Vec<String>> {
        let o = opts(pairs);
        let r = OptionReader::new(&o, &[SPECS], "a test", unit)?;
        Ok(vec![
            format!("{:?}", r.duration("resetTimeout")),
            format!("{:?}", r.count("failureThreshold")),
            format!("{:?}", r.number("rate")),
            format!("{:?}", r.word("mode")),
            format!("{:?}", r.boolean("enabled")),
            format!("{}", r.given("onOpen")),
            r.spelling("resetTimeout").to_string(),
        ])
    }

    #[test]
    fn spellings_and_aliases_match() {
        let got = read(&[("recovery_timeout", OptionValue::Number(2.5)), ("FAILURE_THRESHOLD", OptionValue::Number(3.0))], TimeUnit::Seconds).unwrap();
        assert_eq!(got, ["Some(2500.0)", "Some(3)", "None", "None", "None", "false", "recovery_timeout"]);
        let got = read(&[("rate", OptionValue::Number(0.5)), ("mode", OptionValue::Str("fresh".into())), ("enabled", OptionValue::Bool(false)), ("onOpen", OptionValue::Callback)], TimeUnit::Millis).unwrap();
        assert_eq!(got, ["None", "None", "Some(0.5)", "Some(\"fresh\")", "Some(false)", "true", "resetTimeout"]);
        // Null reads as not given, whatever the kind.
        let got = read(&[("resetTimeout", OptionValue::Null), ("onOpen", OptionValue::Null)], TimeUnit::Millis).unwrap();
        assert_eq!(got[0], "None");
        assert_eq!(got[5], "false");
    }

    #[test]
    fn each_kind_checks_and_describes_its_values() {
        let fails = |key: &str, v: OptionValue, unit: TimeUnit| read(&[(key, v)], unit).unwrap_err();
        for (key, v, unit, kind, message) in [
            ("mode", OptionValue::Str("loud".into()), TimeUnit::Millis, ErrorKind::Range, "invalid option mode: expected one of local, shared, fresh, got \"loud\""),
            ("mode", OptionValue::Number(1.0), TimeUnit::Millis, ErrorKind::Type, "invalid option mode: expected one of local, shared, fresh, got 1"),
            ("failureThreshold", OptionValue::Str("5".into()), TimeUnit::Millis, ErrorKind::Type, "invalid option failureThreshold: expected a whole number from 1 to 10, got \"5\""),
            ("failureThreshold", OptionValue::Number(2.5), TimeUnit::Millis, ErrorKind::Range, "invalid option failureThreshold: expected a whole number from 1 to 10, got 2.5"),
            ("failureThreshold", OptionValue::Number(11.0), TimeUnit::Millis, ErrorKind::Range, "invalid option failureThreshold: expected a whole number from 1 to 10, got 11"),
            ("onOpen", OptionValue::Number(1.0), TimeUnit::Millis, ErrorKind::Type, "invalid option onOpen: expected a function, got 1"),
            ("resetTimeout", OptionValue::Number(0.0), TimeUnit::Seconds, ErrorKind::Range, "invalid option resetTimeout: expected a finite number of seconds > 0, got 0"),
            ("delay", OptionValue::Number(-1.0), TimeUnit::Millis, ErrorKind::Range, "invalid option delay: expected a finite number of milliseconds ≥ 0, got -1"),
            ("enabled", OptionValue::Number(1.0), TimeUnit::Millis, ErrorKind::Type, "invalid option enabled: expected true or false, got 1"),
        ] {
            let e = fails(key, v, unit);
            assert_eq!((e.kind, e.option.as_deref(), e.message.as_str()), (kind, Some(key), message));
        }
        for bad in [0.0, -0.5, 1.0000001, f64::NAN, f64::INFINITY] {
            let e = fails("rate", OptionValue::Number(bad), TimeUnit::Millis);
            assert_eq!((e.kind, e.value.as_deref()), (ErrorKind::Range, Some(fmt_num(bad).as_str())), "{bad}");
            assert_eq!(e.message, format!("invalid option rate: expected a fraction greater than 0 and at most 1, got {}", fmt_num(bad)));
        }
        // Values are checked in the order given: the first wrong one is reported.
        let e = read(&[("enabled", OptionValue::Number(1.0)), ("mode", OptionValue::Number(1.0))], TimeUnit::Millis).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("enabled"));
    }

    #[test]
    fn a_config_built_in_code_is_checked_against_the_same_row() {
        let seconds = |c: &'static str| format!("<{c}>");
        let sp = Spelling::new(&seconds, TimeUnit::Seconds);
        assert!(check_value(SPECS, "resetTimeout", &sp, 2500.0).is_ok());
        let e = check_value(SPECS, "resetTimeout", &sp, -500.0).unwrap_err();
        assert_eq!(e.message, "invalid option <resetTimeout>: expected a finite number of seconds > 0, got -0.5");
        let e = check_value(SPECS, "failureThreshold", &Spelling::canonical(), 0.0).unwrap_err();
        assert_eq!(e.message, "invalid option failureThreshold: expected a whole number from 1 to 10, got 0");
        assert!(check_value(SPECS, "rate", &Spelling::canonical(), 1.0).is_ok());
    }

    #[test]
    fn word_lists_and_nested_names_read_as_before() {
        assert_eq!(list(&[]), "");
        assert_eq!(list(&["a"]), "a");
        // The parent goes before the first mention of the option only.
        let e = nested::<()>("retry", Err(SeawallError::out_of_range("maxAttempts", "0", "maxAttempts ≥ 1"))).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("retry.maxAttempts"));
        assert_eq!(e.message, "invalid option retry.maxAttempts: expected maxAttempts ≥ 1, got 0");
        assert_eq!(replace_first("aé-b-b", "b", "c"), "aé-c-b");
        assert_eq!(replace_first("abc", "", "x"), "abc");
        assert_eq!(replace_first("abc", "z", "x"), "abc");
    }

    #[test]
    fn conflicting_aliases_fail_and_equal_ones_pass() {
        let o = opts(&[("resetTimeout", OptionValue::Number(1.0)), ("recoveryTimeout", OptionValue::Number(2.0))]);
        let e = OptionReader::new(&o, &[SPECS], "test", TimeUnit::Millis).err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidOption);
        assert_eq!(e.option.as_deref(), Some("recoveryTimeout"));
        let o = opts(&[("resetTimeout", OptionValue::Number(1.0)), ("recoveryTimeout", OptionValue::Number(1.0))]);
        assert!(OptionReader::new(&o, &[SPECS], "test", TimeUnit::Millis).is_ok());
    }

    #[test]
    fn unknown_options_fail_with_kind() {
        let o = opts(&[("failureTreshold", OptionValue::Number(1.0))]);
        let e = OptionReader::new(&o, &[SPECS], "a circuit breaker", TimeUnit::Millis).err().unwrap();
        assert_eq!((e.kind, e.option.as_deref()), (ErrorKind::Type, Some("failureTreshold")));
        // Found by fuzzing (core/fuzz, options): an empty key read "unknown option  for …".
        for (key, shown) in [("", "\"\""), ("max retries", "\"max retries\""), ("a\nb", "\"a\\nb\"")] {
            let o = opts(&[(key, OptionValue::Number(1.0))]);
            let e = OptionReader::new(&o, &[SPECS], "a retry policy", TimeUnit::Millis).err().unwrap();
            assert_eq!((e.option.as_deref(), e.message.as_str()), (Some(key), format!("unknown option {shown} for a retry policy").as_str()));
        }
    }

    #[test]
    fn units_print_in_the_callers_words() {
        let seconds = |c: &'static str| format!("<{c}>");
        let s = Spelling::new(&seconds, TimeUnit::Seconds);
        assert_eq!((s.name("resetTimeout"), s.duration(2500.0), s.unit_word()), ("<resetTimeout>".into(), "2.5".into(), "seconds"));
        let c = Spelling::canonical();
        assert_eq!((c.name("resetTimeout"), c.duration(2500.0), c.unit_word()), ("resetTimeout".into(), "2500".into(), "milliseconds"));
    }

    #[test]
    fn json_spellings_of_numbers_and_host_values_read_back() {
        let cases = [
            ("\"NaN\"", None),
            ("\"Infinity\"", Some(OptionValue::Number(f64::INFINITY))),
            ("\"-Infinity\"", Some(OptionValue::Number(f64::NEG_INFINITY))),
            ("\"<function>\"", Some(OptionValue::Callback)),
            ("\"<object>\"", Some(OptionValue::Opaque)),
            ("\"-infinity\"", Some(OptionValue::Str("-infinity".into()))),
            ("7", Some(OptionValue::Number(7.0))),
            ("[1.5,null,true]", Some(OptionValue::List(vec![OptionValue::Number(1.5), OptionValue::Null, OptionValue::Bool(true)]))),
        ];
        for (text, want) in cases {
            let v = from_json(&Json::parse(text).unwrap());
            match want {
                Some(w) => assert_eq!(v, w, "{text}"),
                None => assert!(matches!(v, OptionValue::Number(x) if x.is_nan()), "{text}"),
            }
            // And back: the same text (integers print as floats).
            let back = to_json(&v).to_string();
            assert_eq!(back, if text == "7" { "7.0" } else if text.starts_with('[') { "[1.5,null,true]" } else { text }, "{text}");
        }
        assert_eq!(to_json(&OptionValue::Number(2.0)), Json::Num(2.0));
        assert_eq!(options_from_json(&Json::parse("[1]").unwrap()), Vec::new());
        assert_eq!(options_from_json(&Json::parse(r#"{"a":{"b":"<function>"}}"#).unwrap()), opts(&[("a", OptionValue::Map(opts(&[("b", OptionValue::Callback)])))]));
    }
}

