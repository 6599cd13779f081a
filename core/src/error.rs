//! One error type for the whole core, with codes that every binding exposes unchanged.
//!
//! The codes are a public contract: shells put them on `error.code` (JS) or `exc.code`
//! (Python), and parity tests compare each binding's list with [`ErrorCode::ALL`].

use std::fmt;

use crate::json::Json;

/// Stable error codes, identical in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// The breaker refused the call (open, forced open, or half-open with every probe taken).
    CircuitOpen,
    /// The bulkhead refused the call: every slot busy and its queue full (or it has no queue:
    /// one code for a full bulkhead, whatever its queue size).
    BulkheadQueueFull,
    /// A queued call waited longer than the bulkhead's queue timeout.
    BulkheadQueueTimeout,
    /// A call ran past its deadline.
    Timeout,
    /// A retry was refused because the shared retry budget is empty.
    RetryBudgetExhausted,
    /// Every allowed attempt failed (or the retry deadline passed).
    RetriesExhausted,
    /// An option was unknown, of the wrong type, or out of range.
    InvalidOption,
    /// A permit or ticket was unknown or given back twice: a shell bug, never a user error.
    InvalidPermit,
    /// A saved breaker state could not be restored.
    InvalidSnapshot,
    /// A name was looked up in a registry that does not hold it.
    NotFound,
    /// A rate limiter refused the call: no place free within its `maxWait`.
    RateLimited,
    /// The part asked for is not in this build (the browser's lean module): the message names
    /// the entry that has it.
    NotInModule,
    /// An adaptive concurrency limit shed the call: as many run as the service can take now.
    ConcurrencyLimited,
}

impl ErrorCode {
    /// Every code, in a fixed order. Bindings test their own lists against this one.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::CircuitOpen,
        ErrorCode::BulkheadQueueFull,
        ErrorCode::BulkheadQueueTimeout,
        ErrorCode::Timeout,
        ErrorCode::RetryBudgetExhausted,
        ErrorCode::RetriesExhausted,
        ErrorCode::InvalidOption,
        ErrorCode::InvalidPermit,
        ErrorCode::InvalidSnapshot,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::NotInModule,
        ErrorCode::ConcurrencyLimited,
    ];

    /// The upper-case spelling used on `error.code` in every language.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::CircuitOpen => "CIRCUIT_OPEN",
            ErrorCode::BulkheadQueueFull => "BULKHEAD_QUEUE_FULL",
            ErrorCode::BulkheadQueueTimeout => "BULKHEAD_QUEUE_TIMEOUT",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::RetryBudgetExhausted => "RETRY_BUDGET_EXHAUSTED",
            ErrorCode::RetriesExhausted => "RETRIES_EXHAUSTED",
            ErrorCode::InvalidOption => "INVALID_OPTION",
            ErrorCode::InvalidPermit => "INVALID_PERMIT",
            ErrorCode::InvalidSnapshot => "INVALID_SNAPSHOT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::ConcurrencyLimited => "CONCURRENCY_LIMITED",
            ErrorCode::NotInModule => "NOT_IN_MODULE",
        }
    }

    /// The snake_case spelling (pydantic-core style), e.g. for Python's `exc.type`.
    pub fn snake(self) -> String {
        self.as_str().to_ascii_lowercase()
    }

    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the parts the browser's lean module leaves out are.
pub const IN_FULL: &str = "the browser's main entry is lean, import from 'seawall/full' instead";

/// Which built-in exception a shell raises for an error.
///
/// `Type` → `TypeError` (JS and Python); `Range` → `RangeError` (JS) / `ValueError` (Python);
/// `Rejected` → the library's own error classes (`CircuitBreakerError`, `BulkheadRejectedError`, …);
/// `Internal` → a shell bug surfaced loudly (`InvalidPermit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Type,
    Range,
    Rejected,
    Internal,
}

impl ErrorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Type => "type",
            ErrorKind::Range => "range",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The core's error: a stable code, the exception kind, and for option errors the option
/// (as the caller spelled it) and the offending value. Boxed ([`ErrorDetails`], read through
/// `Deref`): a `Result` then carries one pointer, not five fields, so every `?` on the paths that
/// can fail moves 4 bytes instead of 40 in the wasm build (11.5 KB raw, 2.8 KB gzipped less
/// over the core's ~300 `?`). Errors are rare; the allocation is on their path only.
#[derive(Debug, Clone, PartialEq)]
pub struct SeawallError(Box<ErrorDetails>);

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetails {
    pub code: ErrorCode,
    pub kind: ErrorKind,
    pub option: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl std::ops::Deref for SeawallError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for SeawallError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl From<ErrorDetails> for SeawallError {
    fn from(d: ErrorDetails) -> Self {
        SeawallError(Box::new(d))
    }
}

impl SeawallError {
    /// A value of the right type but outside the allowed range.
    pub fn out_of_range(option: &str, value: impl Into<String>, expected: &str) -> Self {
        let value = value.into();
        ErrorDetails {
            code: ErrorCode::InvalidOption,
            kind: ErrorKind::Range,
            message: format!("invalid option {option}: expected {expected}, got {value}"),
            option: Some(option.to_string()),
            value: Some(value),
        }
        .into()
    }

    /// A value of the wrong type, or an unknown option name.
    pub fn wrong_type(option: &str, value: impl Into<String>, expected: &str) -> Self {
        let value = value.into();
        ErrorDetails {
            code: ErrorCode::InvalidOption,
            kind: ErrorKind::Type,
            message: format!("invalid option {option}: expected {expected}, got {value}"),
            option: Some(option.to_string()),
            value: Some(value),
        }
        .into()
    }

    /// The name is quoted when it is not a plain identifier (`""`, spaces, control characters),
    /// so that the message shows which key was meant.
    pub fn unknown_option(option: &str, context: &str) -> Self {
        let plain = !option.is_empty() && option.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
        let shown = if plain { option.to_string() } else { quote(option) };
        ErrorDetails {
            code: ErrorCode::InvalidOption,
            kind: ErrorKind::Type,
            message: format!("unknown option {shown} for {context}"),
            option: Some(option.to_string()),
            value: None,
        }
        .into()
    }

    /// `what` is left out of this build (a browser's module); `instead` says where it is.
    pub fn not_in_module(what: &str, instead: &str) -> Self {
        ErrorDetails {
            code: ErrorCode::NotInModule,
            kind: ErrorKind::Type,
            message: format!("{what} is not in this build of seawall: {instead}"),
            option: None,
            value: None,
        }
        .into()
    }

    pub fn invalid_permit(what: &str) -> Self {
        ErrorDetails {
            code: ErrorCode::InvalidPermit,
            kind: ErrorKind::Internal,
            message: format!("{what} is not outstanding (unknown or already given back)"),
            option: None,
            value: None,
        }
        .into()
    }

    pub fn invalid_snapshot(why: &str) -> Self {
        ErrorDetails {
            code: ErrorCode::InvalidSnapshot,
            kind: ErrorKind::Range,
            message: format!("cannot restore circuit breaker state: {why}"),
            option: None,
            value: None,
        }
        .into()
    }

    pub fn not_found(what: &str, name: &str) -> Self {
        ErrorDetails {
            code: ErrorCode::NotFound,
            kind: ErrorKind::Range,
            message: format!("no {what} named {}", quote(name)),
            option: None,
            value: Some(name.to_string()),
        }
        .into()
    }
}

impl fmt::Display for SeawallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SeawallError {}

pub type Result<T> = std::result::Result<T, SeawallError>;

/// A string in double quotes, escaped as JSON (and JavaScript) would print it. (Rust's `{:?}`
/// would do for plain text, but brings Unicode tables into the wasm build.)
pub fn quote(s: &str) -> String {
    crate::json::Json::Str(s.to_string()).to_string()
}

/// Formats a number the way JavaScript prints it (`5`, `0.5`, `1e+21`, `NaN`, `Infinity`), so
/// error messages and traces read the same in every language. The digits are ryu's shortest
/// round-trip ones (as JavaScript's are); only the layout follows ECMAScript's Number::toString.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(x.abs()).as_bytes();
    // ryu writes `d.ddde±x` or a plain decimal; reduce either to its significant digits and
    // the exponent n with x = 0.d1d2…dk × 10^n. (Bytes, not str methods: the searchers and
    // trims cost ~1 KB of the wasm build.)
    let mut digits = [0u8; 32];
    let (mut k, mut int_len, mut exp, mut seen_point, mut lead) = (0usize, 0i32, 0i32, false, 0i32);
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'.' => seen_point = true,
            b'e' => {
                let (neg, from) = if text.get(i + 1) == Some(&b'-') { (true, i + 2) } else { (false, i + 1) };
                for &d in &text[from..] {
                    exp = exp * 10 + (d - b'0') as i32;
                }
                if neg {
                    exp = -exp;
                }
                break;
            }
            d => {
                if !seen_point {
                    int_len += 1;
                }
                if k == 0 && d == b'0' {
                    lead += 1;
                } else if k < digits.len() {
                    digits[k] = d;
                    k += 1;
                }
            }
        }
        i += 1;
    }
    while k > 0 && digits[k - 1] == b'0' {
        k -= 1;
    }
    let n = int_len - lead + exp;
    let digits = &digits[..k];
    let k = k as i32;
    let mut out = String::with_capacity(24);
    let push = |out: &mut String, ds: &[u8]| {
        for &d in ds {
            out.push(d as char);
        }
    };
    if x < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        push(&mut out, digits);
        for _ in 0..n - k {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        push(&mut out, &digits[..n as usize]);
        out.push('.');
        push(&mut out, &digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..-n {
            out.push('0');
        }
        push(&mut out, digits);
    } else {
        push(&mut out, &digits[..1]);
        if k > 1 {
            out.push('.');
            push(&mut out, &digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(&(n - 1).unsigned_abs().to_string());
    }
    out
}

impl SeawallError {
    /// The error as JSON text, the form every binding passes to its shell.
    pub fn to_json(&self) -> String {
        Json::obj(vec![
            ("code", Json::from(self.code.as_str())),
            ("kind", Json::from(self.kind.as_str())),
            ("option", Json::from(self.option.clone())),
            ("value", Json::from(self.value.clone())),
            ("message", Json::from(self.message.clone())),
        ])
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_errors_print_as_themselves() {
        assert_eq!(ErrorCode::CircuitOpen.to_string(), "CIRCUIT_OPEN");
        let e = SeawallError::unknown_option("max_attempts", "a retry policy");
        assert_eq!(e.to_string(), e.message);
        assert_eq!(e.message, "unknown option max_attempts for a retry policy");
        assert_eq!(SeawallError::unknown_option("$x", "a retry policy").message, "unknown option $x for a retry policy");
        assert_eq!(SeawallError::unknown_option("a-b", "a retry policy").message, "unknown option \"a-b\" for a retry policy");
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        for (x, text) in [
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123.5, "123.5"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (-2.5e300, "-2.5e+300"),
            (f64::NEG_INFINITY, "-Infinity"),
            (-0.0, "0"),
        ] {
            assert_eq!(fmt_num(x), text, "{x}");
        }
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(*c));
            assert!(seen.insert(c.as_str()));
            assert_eq!(c.snake().to_ascii_uppercase(), c.as_str());
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
    }

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(fmt_num(5.0), "5");
        assert_eq!(fmt_num(-0.5), "-0.5");
        assert_eq!(fmt_num(f64::NAN), "NaN");
        assert_eq!(fmt_num(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(fmt_num(1e300), "1e+300");
        assert_eq!(fmt_num(1.5e-7), "1.5e-7");
        assert_eq!(fmt_num(0.1 + 0.2), "0.30000000000000004");
        // ECMAScript Number::toString at each boundary of its layout.
        for (x, js) in [
            (0.0, "0"), (-0.0, "0"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (123e18, "123000000000000000000"),
            (1.5e21, "1.5e+21"), (0.000001, "0.000001"), (1.2e-6, "0.0000012"), (1e-7, "1e-7"), (123.456, "123.456"),
            (-2.5e-8, "-2.5e-8"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (30000.0, "30000"),
            (9007199254740993.0, "9007199254740992"), (0.5, "0.5"), (1234.5678e10, "12345678000000"),
        ] {
            assert_eq!(fmt_num(x), js, "{x:e}");
        }
    }
}
