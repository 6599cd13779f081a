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

/// One option a config understands: its canonical name and the other spellings it accepts.
pub struct OptionSpec {
    pub canonical: &'static str,
    pub aliases: &'static [&'static str],
}

/// A bound on a number option, stated once: what a message says it must be, and the test. Read
/// (`OptionReader::bounded`) and checked after construction (`Bound::check`) alike.
#[derive(Clone, Copy)]
pub struct Bound {
    pub expected: &'static str,
    pub holds: fn(f64) -> bool,
}

impl Bound {
    /// `x` within the bound, or the option's error naming it (`name`: as the caller spelled it).
    pub fn check(self, name: &str, x: f64) -> Result<()> {
        if x.is_finite() && (self.holds)(x) {
            Ok(())
        } else {
            Err(SeawallError::out_of_range(name, fmt_num(x), self.expected))
        }
    }
}

/// The range of a whole-number option, stated once: read (`OptionReader::counted`) and checked
/// after construction (`Counted::check`) alike.
#[derive(Clone, Copy)]
pub struct Counted {
    pub min: u32,
    pub max: u32,
}

impl Counted {
    pub fn check(self, name: &str, v: u32) -> Result<()> {
        if v < self.min || v > self.max {
            let expected = format!("a whole number from {} to {}", self.min, self.max);
            Err(SeawallError::out_of_range(name, fmt_num(f64::from(v)), &expected))
        } else {
            Ok(())
        }
    }
}

/// Growth factors: a backoff's or an open period's multiplier.
pub const AT_LEAST_ONE: Bound = Bound { expected: "a number ≥ 1", holds: |x| x >= 1.0 };
/// A rate threshold: a fraction in (0, 1].
pub const RATE: Bound = Bound { expected: "a fraction greater than 0 and at most 1", holds: |x| x > 0.0 && x <= 1.0 };
/// A share of something, 0 and 1 included.
pub const FRACTION: Bound = Bound { expected: "a fraction from 0 to 1", holds: |x| (0.0..=1.0).contains(&x) };

pub const fn spec(canonical: &'static str, aliases: &'static [&'static str]) -> OptionSpec {
    OptionSpec { canonical, aliases }
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

/// Options matched against a config's specs, ready for typed reads.
pub struct OptionReader<'a> {
    unit: TimeUnit,
    found: Vec<(&'static str, &'a str, &'a OptionValue)>,
}

impl<'a> OptionReader<'a> {
    /// Matches every given option to a spec. Unknown names and conflicting spellings fail here.
    pub fn new(
        opts: &'a Options,
        specs: &[OptionSpec],
        context: &str,
        unit: TimeUnit,
    ) -> Result<Self> {
        let mut found: Vec<(&'static str, &'a str, &'a OptionValue)> = Vec::new();
        for (key, value) in opts {
            let k = normalize(key);
            let spec = specs
                .iter()
                .find(|s| normalize(s.canonical) == k || s.aliases.iter().any(|a| normalize(a) == k))
                .ok_or_else(|| SeawallError::unknown_option(key, context))?;
            if let Some((_, first, earlier)) = found.iter().find(|(c, _, _)| *c == spec.canonical) {
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
            found.push((spec.canonical, key.as_str(), value));
        }
        Ok(OptionReader { unit, found })
    }

    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// The option under its canonical name, with the caller's spelling; `None` when absent.
    pub fn get(&self, canonical: &str) -> Option<(&'a str, &'a OptionValue)> {
        self.found.iter().find(|(c, _, _)| *c == canonical).map(|(_, k, v)| (*k, *v))
    }

    /// The caller's spelling of an option, or the canonical name when it was not given.
    pub fn spelling(&self, canonical: &'static str) -> &'a str {
        self.get(canonical).map(|(k, _)| k).unwrap_or(canonical)
    }

    /// Present and not null.
    fn value(&self, canonical: &str) -> Option<(&'a str, &'a OptionValue)> {
        self.get(canonical).filter(|(_, v)| !matches!(v, OptionValue::Null))
    }

    pub fn is_null(&self, canonical: &str) -> bool {
        matches!(self.get(canonical), Some((_, OptionValue::Null)))
    }

    fn number_of(&self, canonical: &str, expected: &str) -> Result<Option<(&'a str, f64)>> {
        match self.value(canonical) {
            None => Ok(None),
            Some((k, OptionValue::Number(x))) => Ok(Some((k, *x))),
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), expected)),
        }
    }

    /// A whole number in `[min, max]`.
    /// A whole number within `range`, read the way its [`Counted`] checks it.
    pub fn counted(&self, canonical: &str, range: Counted) -> Result<Option<u32>> {
        self.count(canonical, range.min, range.max)
    }

    pub fn count(&self, canonical: &str, min: u32, max: u32) -> Result<Option<u32>> {
        let expected = format!("a whole number from {min} to {max}");
        match self.number_of(canonical, &expected)? {
            None => Ok(None),
            Some((k, x)) => {
                if x.is_finite() && x == x.trunc() && x >= min as f64 && x <= max as f64 {
                    Ok(Some(x as u32))
                } else {
                    Err(SeawallError::out_of_range(k, fmt_num(x), &expected))
                }
            }
        }
    }

    /// A finite duration in the reader's unit, returned in milliseconds; zero only if allowed.
    pub fn duration(&self, canonical: &str, allow_zero: bool) -> Result<Option<f64>> {
        let bound = if allow_zero { "≥ 0" } else { "> 0" };
        let expected = format!("a finite number of {} {bound}", self.unit.word());
        match self.number_of(canonical, &expected)? {
            None => Ok(None),
            Some((k, x)) => {
                let ok = x.is_finite() && if allow_zero { x >= 0.0 } else { x > 0.0 };
                if ok {
                    Ok(Some(self.unit.to_ms(x)))
                } else {
                    Err(SeawallError::out_of_range(k, fmt_num(x), &expected))
                }
            }
        }
    }

    /// A fraction in (0, 1] ([`RATE`]).
    pub fn ratio(&self, canonical: &str) -> Result<Option<f64>> {
        self.bounded(canonical, RATE)
    }

    /// A number accepted by `ok`; `expected` says what that means. (`ok` is a plain `fn`, not a
    /// generic closure: one copy of this reader in the wasm build instead of one per caller.)
    /// A number within `bound`, read the way every option's [`Bound`] is checked.
    pub fn bounded(&self, canonical: &str, bound: Bound) -> Result<Option<f64>> {
        self.number_in(canonical, bound.expected, bound.holds)
    }

    pub fn number_in(&self, canonical: &str, expected: &str, ok: fn(f64) -> bool) -> Result<Option<f64>> {
        match self.number_of(canonical, expected)? {
            None => Ok(None),
            Some((k, x)) if x.is_finite() && ok(x) => {
                let _ = k;
                Ok(Some(x))
            }
            Some((k, x)) => Err(SeawallError::out_of_range(k, fmt_num(x), expected)),
        }
    }

    pub fn boolean(&self, canonical: &str) -> Result<Option<bool>> {
        match self.value(canonical) {
            None => Ok(None),
            Some((_, OptionValue::Bool(b))) => Ok(Some(*b)),
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), "true or false")),
        }
    }

    /// One of a fixed set of words.
    pub fn word(&self, canonical: &str, words: &[&str]) -> Result<Option<&'a str>> {
        let expected = format!("one of {}", list(words));
        match self.value(canonical) {
            None => Ok(None),
            Some((_, OptionValue::Str(s))) if words.contains(&s.as_str()) => Ok(Some(s.as_str())),
            Some((k, v @ OptionValue::Str(_))) => {
                Err(SeawallError::out_of_range(k, describe(v), &expected))
            }
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), &expected)),
        }
    }

    /// Free text (a name).
    pub fn text(&self, canonical: &str) -> Result<Option<&'a str>> {
        match self.value(canonical) {
            None => Ok(None),
            Some((_, OptionValue::Str(s))) => Ok(Some(s.as_str())),
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), "a string")),
        }
    }

    /// A function kept by the shell: only its presence and type are checked.
    pub fn callback(&self, canonical: &str) -> Result<bool> {
        match self.value(canonical) {
            None => Ok(false),
            Some((_, OptionValue::Callback)) => Ok(true),
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), "a function")),
        }
    }

    /// A host object kept by the shell (a signal, exception classes, a shared budget).
    pub fn opaque(&self, canonical: &str, expected: &str) -> Result<bool> {
        match self.value(canonical) {
            None => Ok(false),
            Some((_, OptionValue::Opaque | OptionValue::Callback)) => Ok(true),
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), expected)),
        }
    }

    /// A list of strings, or a predicate the shell keeps (`Err` for anything else).
    pub fn strings_or_callback(&self, canonical: &str) -> Result<Option<StringsOrCallback>> {
        let expected = "a list of strings or a function";
        match self.value(canonical) {
            None => Ok(None),
            Some((_, OptionValue::Callback)) => Ok(Some(StringsOrCallback::Callback)),
            Some((k, OptionValue::List(items))) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        OptionValue::Str(s) => out.push(s.clone()),
                        OptionValue::Number(x) => out.push(fmt_num(*x)),
                        other => {
                            return Err(SeawallError::wrong_type(k, describe(other), expected))
                        }
                    }
                }
                Ok(Some(StringsOrCallback::Strings(out)))
            }
            Some((_, OptionValue::Opaque)) => Ok(Some(StringsOrCallback::Callback)),
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), expected)),
        }
    }

    /// A nested options object (`circuitBreaker: { … }` inside a policy).
    pub fn map(&self, canonical: &str) -> Result<Option<&'a Options>> {
        match self.value(canonical) {
            None => Ok(None),
            Some((_, OptionValue::Map(m))) => Ok(Some(m)),
            Some((k, v)) => Err(SeawallError::wrong_type(k, describe(v), "an object")),
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
/// argument itself, a name, a breaker given to `resilientFetch`, an event listener, a virtual
/// clock's step, start and auto-advance, the numbers given to a retry preset
/// (`RetryPolicies.fixed(attempts, delay)`, `.exponential(attempts, initial, max)`) — for the
/// shells' error paths: they test the hot path themselves (`typeof fn`) and ask here for the
/// error, so that a wrong argument reads the same in every language.
pub const CALL_ARGUMENTS: &[OptionSpec] = &[
    spec("fn", &[]),
    spec("signal", &[]),
    spec("options", &[]),
    spec("name", &[]),
    spec("circuit", &[]),
    spec("advance", &[]),
    spec("attempts", &[]),
    spec("delay", &[]),
    spec("initial", &[]),
    spec("max", &[]),
    spec("start", &[]),
    spec("autoAdvance", &[]),
    spec("listener", &[]),
];

/// Numbers that must be finite when given: a retry preset's (their ranges are the options' own,
/// checked on the options the preset makes) and a virtual clock's start.
const FINITE_ARGUMENTS: [&str; 5] = ["attempts", "delay", "initial", "max", "start"];

/// Checks call arguments (see [`CALL_ARGUMENTS`]); none at all means `fn` was not given.
pub fn check_call_arguments(opts: &Options, unit: TimeUnit) -> Result<()> {
    let r = OptionReader::new(opts, CALL_ARGUMENTS, "a call", unit)?;
    match r.get("fn") {
        Some((_, OptionValue::Callback)) => {}
        Some((k, v)) => return Err(SeawallError::wrong_type(k, describe(v), "a function")),
        None if opts.is_empty() => return Err(SeawallError::wrong_type("fn", "undefined", "a function")),
        None => {}
    }
    r.opaque("signal", "an AbortSignal")?;
    r.opaque("circuit", "a CircuitBreaker")?;
    // Not `text`: a missing name reads null here and is wrong (an operation needs one).
    if let Some((k, v)) = r.get("name").filter(|(_, v)| !matches!(v, OptionValue::Str(_))) {
        return Err(SeawallError::wrong_type(k, describe(v), "a string"));
    }
    match r.get("options") {
        None | Some((_, OptionValue::Null | OptionValue::Map(_) | OptionValue::Opaque)) => {}
        Some((k, v)) => return Err(SeawallError::wrong_type(k, describe(v), "an object of options")),
    }
    r.duration("advance", true)?;
    for name in FINITE_ARGUMENTS {
        r.number_in(name, "a finite number", f64::is_finite)?;
    }
    if let Some((k, v)) = r.get("listener").filter(|(_, v)| !matches!(v, OptionValue::Callback)) {
        return Err(SeawallError::wrong_type(k, describe(v), "a function"));
    }
    r.boolean("autoAdvance")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, ErrorKind};

    const SPECS: &[OptionSpec] = &[
        spec("resetTimeout", &["recoveryTimeout"]),
        spec("failureThreshold", &[]),
        spec("onOpen", &[]),
    ];

    fn opts(pairs: &[(&str, OptionValue)]) -> Options {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn spellings_and_aliases_match() {
        let o = opts(&[("recovery_timeout", OptionValue::Number(2.5)), ("FAILURE_THRESHOLD", OptionValue::Number(3.0))]);
        let r = OptionReader::new(&o, SPECS, "test", TimeUnit::Seconds).unwrap();
        assert_eq!(r.duration("resetTimeout", false).unwrap(), Some(2500.0));
        assert_eq!(r.count("failureThreshold", 1, 10).unwrap(), Some(3));
        assert_eq!(r.spelling("resetTimeout"), "recovery_timeout");
    }

    #[test]
    fn word_lists_and_nested_names_read_as_before() {
        const WORDS: &[OptionSpec] = &[spec("mode", &[])];
        let o = opts(&[("mode", OptionValue::Str("loud".into()))]);
        let r = OptionReader::new(&o, WORDS, "test", TimeUnit::Millis).unwrap();
        let e = r.word("mode", &["local", "shared", "fresh"]).unwrap_err();
        assert!(e.message.contains("expected one of local, shared, fresh, got"), "{}", e.message);
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
        let e = OptionReader::new(&o, SPECS, "test", TimeUnit::Millis).err().unwrap();
        assert_eq!(e.code, ErrorCode::InvalidOption);
        assert_eq!(e.option.as_deref(), Some("recoveryTimeout"));
        let o = opts(&[("resetTimeout", OptionValue::Number(1.0)), ("recoveryTimeout", OptionValue::Number(1.0))]);
        assert!(OptionReader::new(&o, SPECS, "test", TimeUnit::Millis).is_ok());
    }

    #[test]
    fn unknown_and_mistyped_options_fail_with_kind() {
        let o = opts(&[("failureTreshold", OptionValue::Number(1.0))]);
        let e = OptionReader::new(&o, SPECS, "a circuit breaker", TimeUnit::Millis).err().unwrap();
        assert_eq!((e.kind, e.option.as_deref()), (ErrorKind::Type, Some("failureTreshold")));
        // Found by fuzzing (core/fuzz, options): an empty key read "unknown option  for …".
        for (key, shown) in [("", "\"\""), ("max retries", "\"max retries\""), ("a\nb", "\"a\\nb\"")] {
            let o = opts(&[(key, OptionValue::Number(1.0))]);
            let e = OptionReader::new(&o, SPECS, "a retry policy", TimeUnit::Millis).err().unwrap();
            assert_eq!((e.option.as_deref(), e.message.as_str()), (Some(key), format!("unknown option {shown} for a retry policy").as_str()));
        }
        let o = opts(&[("failureThreshold", OptionValue::Str("5".into())), ("onOpen", OptionValue::Number(1.0))]);
        let r = OptionReader::new(&o, SPECS, "x", TimeUnit::Millis).unwrap();
        assert_eq!(r.count("failureThreshold", 1, 9).unwrap_err().kind, ErrorKind::Type);
        assert_eq!(r.callback("onOpen").unwrap_err().kind, ErrorKind::Type);
        let o = opts(&[("failureThreshold", OptionValue::Number(2.5))]);
        let r = OptionReader::new(&o, SPECS, "x", TimeUnit::Millis).unwrap();
        let e = r.count("failureThreshold", 1, 9).unwrap_err();
        assert_eq!((e.kind, e.value.as_deref()), (ErrorKind::Range, Some("2.5")));
    }

    #[test]
    fn units_print_in_the_callers_words() {
        let seconds = |c: &'static str| format!("<{c}>");
        let s = Spelling::new(&seconds, TimeUnit::Seconds);
        assert_eq!((s.name("resetTimeout"), s.duration(2500.0), s.unit_word()), ("<resetTimeout>".into(), "2.5".into(), "seconds"));
        let c = Spelling::canonical();
        assert_eq!((c.name("resetTimeout"), c.duration(2500.0), c.unit_word()), ("resetTimeout".into(), "2500".into(), "milliseconds"));
        for (unit, allow_zero, given, message) in [
            (TimeUnit::Seconds, false, 0.0, "invalid option resetTimeout: expected a finite number of seconds > 0, got 0"),
            (TimeUnit::Millis, true, -1.0, "invalid option resetTimeout: expected a finite number of milliseconds ≥ 0, got -1"),
        ] {
            let o = opts(&[("resetTimeout", OptionValue::Number(given))]);
            let r = OptionReader::new(&o, SPECS, "x", unit).unwrap();
            assert_eq!(r.unit(), unit);
            assert_eq!(r.duration("resetTimeout", allow_zero).unwrap_err().message, message);
        }
    }

    #[test]
    fn ratios_numbers_and_booleans_keep_their_bounds() {
        let read = |v: OptionValue| opts(&[("failureThreshold", v)]);
        let ratio = |x: f64| {
            let o = read(OptionValue::Number(x));
            OptionReader::new(&o, SPECS, "x", TimeUnit::Millis).unwrap().ratio("failureThreshold")
        };
        assert_eq!(ratio(1.0).unwrap(), Some(1.0));
        assert_eq!(ratio(0.25).unwrap(), Some(0.25));
        for bad in [0.0, -0.5, 1.0000001, f64::NAN, f64::INFINITY] {
            let e = ratio(bad).unwrap_err();
            assert_eq!((e.kind, e.value.as_deref()), (ErrorKind::Range, Some(fmt_num(bad).as_str())), "{bad}");
            assert_eq!(e.message, format!("invalid option failureThreshold: expected a fraction greater than 0 and at most 1, got {}", fmt_num(bad)));
        }
        // A predicate that takes every positive number still never gets an infinity.
        let o = read(OptionValue::Number(f64::INFINITY));
        let r = OptionReader::new(&o, SPECS, "x", TimeUnit::Millis).unwrap();
        assert_eq!(r.number_in("failureThreshold", "positive", |x| x > 0.0).unwrap_err().kind, ErrorKind::Range);
        let o = read(OptionValue::Number(3.0));
        let r = OptionReader::new(&o, SPECS, "x", TimeUnit::Millis).unwrap();
        assert_eq!(r.number_in("failureThreshold", "positive", |x| x > 0.0).unwrap(), Some(3.0));
        assert_eq!(r.number_in("onOpen", "positive", |x| x > 0.0).unwrap(), None);
        for b in [true, false] {
            let o = read(OptionValue::Bool(b));
            assert_eq!(OptionReader::new(&o, SPECS, "x", TimeUnit::Millis).unwrap().boolean("failureThreshold").unwrap(), Some(b));
        }
        let o = read(OptionValue::Number(1.0));
        let r = OptionReader::new(&o, SPECS, "x", TimeUnit::Millis).unwrap();
        assert_eq!(r.boolean("onOpen").unwrap(), None);
        let e = r.boolean("failureThreshold").unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Type, "invalid option failureThreshold: expected true or false, got 1"));
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

