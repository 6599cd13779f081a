//! The JSON the engine speaks with its shells: options in, reports out. Small on purpose: the
//! wasm build ships to browsers, and a general JSON library (with its own float parser and
//! printer, error machinery and `std::io` support) was most of its size. Numbers are parsed by
//! `decimal::parse` (correctly rounded, as `str::parse::<f64>` is, so the shells' numbers arrive
//! bit for bit, at a seventh of its size) and printed shortest round-trip by `ryu` (`1.0`, `0.1`,
//! `1e21`, `5e-324`).
//!
//! Objects keep their keys in the order given (which spelling of an option a conflict names);
//! a repeated key keeps its first place and its last value.

use std::fmt::{self, Write};

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A count: printed without a fraction (Python reads it as an int).
    Uint(u64),
    /// Printed shortest round-trip, always with a fraction or exponent (Python reads a float);
    /// NaN and infinities print as `null`, as JSON has no spelling for them.
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

/// Where and why a text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub message: &'static str,
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.offset)
    }
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

impl Json {
    /// An object from `(key, value)` pairs.
    /// An object of fields named in code. (One function for every report: taking any
    /// iterator made a copy of it per array length, ~300 bytes each in the wasm build.)
    pub fn obj(pairs: Vec<(&str, Json)>) -> Json {
        let mut v = Vec::with_capacity(pairs.len());
        for (k, j) in pairs {
            v.push((k.to_string(), j));
        }
        Json::Obj(v)
    }

    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut p = Parser { s: text.as_bytes(), i: 0 };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("trailing characters"));
        }
        Ok(v)
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Json::Num(x) => Some(x),
            Json::Uint(n) => Some(n as f64),
            _ => None,
        }
    }

    /// The whole number ≥ 0 that fits a `u32` at `key` (saved counts), or `None`.
    pub fn u32_at(&self, key: &str) -> Option<u32> {
        self.get(key).and_then(Json::as_f64).filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x <= u32::MAX as f64).map(|x| x as u32)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl From<f64> for Json {
    fn from(x: f64) -> Json {
        Json::Num(x)
    }
}
impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::Uint(n)
    }
}
impl From<u32> for Json {
    fn from(n: u32) -> Json {
        Json::Uint(n as u64)
    }
}
impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}
impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}
impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}
impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        v.map_or(Json::Null, Into::into)
    }
}
impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(v: Vec<T>) -> Json {
        Json::Arr(v.into_iter().map(Into::into).collect())
    }
}

fn write_str(out: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    out.write_char('"')?;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        // `get`, not `[..]`: both ends sit on ASCII bytes, and indexing would link str's panic
        // message (its Debug printing and Unicode tables, ~4 KB of the wasm build).
        out.write_str(s.get(start..i).unwrap_or_default())?;
        match esc {
            Some(e) => out.write_str(e)?,
            None => write!(out, "\\u{:04x}", b)?,
        }
        start = i + 1;
    }
    out.write_str(s.get(start..).unwrap_or_default())?;
    out.write_char('"')
}

impl fmt::Display for Json {
    /// Compact JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Json::Uint(n) => write!(f, "{n}"),
            Json::Num(x) if x.is_finite() => f.write_str(ryu::Buffer::new().format_finite(*x)),
            Json::Num(_) => f.write_str("null"),
            Json::Str(s) => write_str(f, s),
            Json::Arr(items) => {
                f.write_char('[')?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    fmt::Display::fmt(v, f)?;
                }
                f.write_char(']')
            }
            Json::Obj(pairs) => {
                f.write_char('{')?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write_str(f, k)?;
                    f.write_char(':')?;
                    fmt::Display::fmt(v, f)?;
                }
                f.write_char('}')
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, message: &'static str) -> JsonError {
        JsonError { message, offset: self.i }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &str) -> Result<(), JsonError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.eat("null").map(|_| Json::Null),
            Some(b't') => self.eat("true").map(|_| Json::Bool(true)),
            Some(b'f') => self.eat("false").map(|_| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => {
                let mut items = Vec::new();
                if self.opened_empty(b']') {
                    return Ok(Json::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    if self.closed(b']', "expected , or ]")? {
                        return Ok(Json::Arr(items));
                    }
                }
            }
            Some(b'{') => {
                let mut pairs: Vec<(String, Json)> = Vec::new();
                if self.opened_empty(b'}') {
                    return Ok(Json::Obj(pairs));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("expected a key"));
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return Err(self.err("expected :"));
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    match pairs.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = v,
                        None => pairs.push((key, v)),
                    }
                    if self.closed(b'}', "expected , or }")? {
                        return Ok(Json::Obj(pairs));
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("expected a value")),
        }
    }

    /// Steps over an opening bracket; `true` (and past the closing one) when nothing is inside.
    fn opened_empty(&mut self, close: u8) -> bool {
        self.i += 1;
        self.ws();
        let empty = self.s.get(self.i) == Some(&close);
        if empty {
            self.i += 1;
        }
        empty
    }

    /// After an item: `true` at the closing bracket, `false` after a comma (more to come).
    fn closed(&mut self, close: u8, message: &'static str) -> Result<bool, JsonError> {
        self.ws();
        match self.s.get(self.i) {
            Some(b',') => {
                self.i += 1;
                Ok(false)
            }
            Some(&c) if c == close => {
                self.i += 1;
                Ok(true)
            }
            _ => Err(self.err(message)),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        let int_start = self.i;
        if self.digits() == 0 || (self.s[int_start] == b'0' && self.i - int_start > 1) {
            return Err(self.err("invalid number"));
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        // The grammar above admits only ASCII, so the slice is valid UTF-8.
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid number"))?;
        crate::decimal::parse(text).map(Json::Num).ok_or_else(|| self.err("invalid number"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self.s.get(self.i..self.i + 4).ok_or_else(|| self.err("invalid \\u escape"))?;
        // Four hex digits exactly: from_str_radix alone would also take a sign ("\\u+123").
        let mut v = 0;
        for &b in h {
            v = v * 16 + (b as char).to_digit(16).ok_or_else(|| self.err("invalid \\u escape"))?;
        }
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        let mut run = self.i;
        loop {
            let Some(&b) = self.s.get(self.i) else { return Err(self.err("unterminated string")) };
            match b {
                b'"' => {
                    out.push_str(self.utf8(run)?);
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(self.utf8(run)?);
                    self.i += 1;
                    let Some(&e) = self.s.get(self.i) else { return Err(self.err("unterminated string")) };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut c = self.hex4()?;
                            if (0xD800..0xDC00).contains(&c) {
                                // A high surrogate must be followed by its low half.
                                if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                    return Err(self.err("unpaired surrogate"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate"));
                                }
                                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                            }
                            out.push(char::from_u32(c).ok_or_else(|| self.err("unpaired surrogate"))?);
                        }
                        _ => return Err(self.err("invalid escape")),
                    }
                    run = self.i;
                }
                0..=0x1f => return Err(self.err("control character in string")),
                _ => self.i += 1,
            }
        }
    }

    fn utf8(&self, from: usize) -> Result<&str, JsonError> {
        std::str::from_utf8(&self.s[from..self.i]).map_err(|_| self.err("invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_what_the_shells_send() {
        let text = r#"{"a":1.0,"b":[true,false,null],"c":"x\"y\\z\n\u00e9😀","d":{"e":-0.5,"f":1e21,"g":5e-324},"h":7}"#;
        let v = Json::parse(text).unwrap();
        assert_eq!(v.get("a"), Some(&Json::Num(1.0)));
        assert_eq!(v.get("c").and_then(Json::as_str), Some("x\"y\\z\né😀"));
        assert_eq!(v.get("d").and_then(|d| d.get("g")).and_then(Json::as_f64), Some(5e-324));
        assert_eq!(v.to_string(), r#"{"a":1.0,"b":[true,false,null],"c":"x\"y\\z\né😀","d":{"e":-0.5,"f":1e21,"g":5e-324},"h":7.0}"#);
        assert_eq!(Json::parse(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn numbers_are_exact_and_print_shortest() {
        for x in [0.1, 1.0 / 3.0, 123456.789, 9007199254740993.0, 1e-7, 2.5e300, -0.0, 30_000.0] {
            let text = Json::Num(x).to_string();
            assert_eq!(Json::parse(&text).unwrap().as_f64().unwrap().to_bits(), x.to_bits(), "{text}");
        }
        assert_eq!(Json::Num(30_000.0).to_string(), "30000.0");
        assert_eq!(Json::Uint(30_000).to_string(), "30000");
        assert_eq!(Json::Num(f64::NAN).to_string(), "null");
        assert_eq!(Json::parse("0.30000000000000004").unwrap(), Json::Num(0.1 + 0.2));
    }

    #[test]
    fn keys_keep_their_first_place_and_last_value() {
        let v = Json::parse(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(v, Json::obj(vec![("b", Json::Num(3.0)), ("a", Json::Num(2.0))]));
    }

    #[test]
    fn nesting_is_limited_alike_for_arrays_and_objects() {
        let array = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let object = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert!(Json::parse(&array(MAX_DEPTH + 1)).is_ok());
        assert_eq!(Json::parse(&array(MAX_DEPTH + 2)).unwrap_err().message, "nested too deeply");
        // The innermost value of n objects sits one level deeper than that of n arrays.
        assert!(Json::parse(&object(MAX_DEPTH)).is_ok());
        assert_eq!(Json::parse(&object(MAX_DEPTH + 1)).unwrap_err().message, "nested too deeply");
        assert_eq!(Json::parse(&object(100_000)).unwrap_err().message, "nested too deeply");
    }

    #[test]
    fn closers_must_match_and_numbers_read_as_f64() {
        for bad in ["[1}", "{\"a\":1]", "[1,2)"] {
            assert!(Json::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Json::Uint(7).as_f64(), Some(7.0));
        assert_eq!(Json::Num(0.5).as_f64(), Some(0.5));
        assert_eq!(Json::Null.as_f64(), None);
        let e = Json::parse("[1,]").unwrap_err();
        assert_eq!(e.to_string(), format!("{} at byte {}", e.message, e.offset));
    }

    #[test]
    fn every_escape_reads_as_its_character() {
        let read = |t: &str| Json::parse(t).map(|v| v.as_str().map(str::to_owned));
        assert_eq!(read(r#""\"\\\/\b\f\n\r\t""#).unwrap().as_deref(), Some("\"\\/\u{8}\u{c}\n\r\t"));
        assert_eq!(read(r#""a\u00e9b""#).unwrap().as_deref(), Some("aéb"));
        // Surrogate pairs at both ends of the range and in the middle.
        assert_eq!(read(r#""\ud800\udc00""#).unwrap().as_deref(), Some("\u{10000}"));
        assert_eq!(read(r#""\uD83D\uDE00x""#).unwrap().as_deref(), Some("😀x"));
        assert_eq!(read(r#""\udbff\udfff""#).unwrap().as_deref(), Some("\u{10FFFF}"));
        assert_eq!(read(r#""\ud801\udc37""#).unwrap().as_deref(), Some("\u{10437}"));
        for bad in [r#""\udc00""#, r#""\ud800""#, r#""\ud800x""#, r#""\ud800\u0041""#, r#""\ud800\ue000""#, r#""\x""#, r#""\u12""#] {
            assert!(read(bad).is_err(), "{bad}");
        }
        assert_eq!(Json::parse(r#""\ud800\u0041""#).unwrap_err().message, "unpaired surrogate");
        assert_eq!(Json::parse(r#""\udc00""#).unwrap_err().message, "unpaired surrogate");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(Json::from("\r\u{8}\u{c}").to_string(), r#""\r\b\f""#);
        assert_eq!(Json::from("a\u{1}b\tc").to_string(), r#""a\u0001b\tc""#);
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        for bad in ["", "{", "[1,]", "{\"a\"}", "01", "1.", "-", "1e", "\"\\x\"", "\"\\ud800\"", "\"\\u+123\"", "\"\\u-12a\"", "\"a", "tru", "[1] 2", "{\"a\":1,}", "\"\u{1}\"", "+1", ".5", "NaN"] {
            assert!(Json::parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(10_000);
        assert_eq!(Json::parse(&deep).unwrap_err().message, "nested too deeply");
    }
}
