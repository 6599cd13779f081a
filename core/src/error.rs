//! One error type for the whole core, with codes that every binding exposes unchanged.
//!
//! The codes are a public contract: shells put them on `error.code` (JS) or `exc.code`
//! (Python), and parity tests compare each binding's list with [`ErrorCode::ALL`].

use std::fmt;

/// Stable error codes, identical in every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// The breaker refused the call (open, forced open, or half-open with every probe taken).
    CircuitOpen,
    /// The bulkhead refused the call: every slot busy and it has no queue.
    BulkheadFull,
    /// The bulkhead refused the call: every slot busy and its queue is full.
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
}

impl ErrorCode {
    /// Every code, in a fixed order. Bindings test their own lists against this one.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::CircuitOpen,
        ErrorCode::BulkheadFull,
        ErrorCode::BulkheadQueueFull,
        ErrorCode::BulkheadQueueTimeout,
        ErrorCode::Timeout,
        ErrorCode::RetryBudgetExhausted,
        ErrorCode::RetriesExhausted,
        ErrorCode::InvalidOption,
        ErrorCode::InvalidPermit,
        ErrorCode::InvalidSnapshot,
        ErrorCode::NotFound,
    ];

    /// The upper-case spelling used on `error.code` in every language.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::CircuitOpen => "CIRCUIT_OPEN",
            ErrorCode::BulkheadFull => "BULKHEAD_FULL",
            ErrorCode::BulkheadQueueFull => "BULKHEAD_QUEUE_FULL",
            ErrorCode::BulkheadQueueTimeout => "BULKHEAD_QUEUE_TIMEOUT",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::RetryBudgetExhausted => "RETRY_BUDGET_EXHAUSTED",
            ErrorCode::RetriesExhausted => "RETRIES_EXHAUSTED",
            ErrorCode::InvalidOption => "INVALID_OPTION",
            ErrorCode::InvalidPermit => "INVALID_PERMIT",
            ErrorCode::InvalidSnapshot => "INVALID_SNAPSHOT",
            ErrorCode::NotFound => "NOT_FOUND",
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
/// (as the caller spelled it) and the offending value.
#[derive(Debug, Clone, PartialEq)]
pub struct SeawallError {
    pub code: ErrorCode,
    pub kind: ErrorKind,
    pub option: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

impl SeawallError {
    /// A value of the right type but outside the allowed range.
    pub fn out_of_range(option: &str, value: impl Into<String>, expected: &str) -> Self {
        let value = value.into();
        SeawallError {
            code: ErrorCode::InvalidOption,
            kind: ErrorKind::Range,
            message: format!("invalid option {option}: expected {expected}, got {value}"),
            option: Some(option.to_string()),
            value: Some(value),
        }
    }

    /// A value of the wrong type, or an unknown option name.
    pub fn wrong_type(option: &str, value: impl Into<String>, expected: &str) -> Self {
        let value = value.into();
        SeawallError {
            code: ErrorCode::InvalidOption,
            kind: ErrorKind::Type,
            message: format!("invalid option {option}: expected {expected}, got {value}"),
            option: Some(option.to_string()),
            value: Some(value),
        }
    }

    pub fn unknown_option(option: &str, context: &str) -> Self {
        SeawallError {
            code: ErrorCode::InvalidOption,
            kind: ErrorKind::Type,
            message: format!("unknown option {option} for {context}"),
            option: Some(option.to_string()),
            value: None,
        }
    }

    pub fn invalid_permit(what: &str) -> Self {
        SeawallError {
            code: ErrorCode::InvalidPermit,
            kind: ErrorKind::Internal,
            message: format!("{what} is not outstanding (unknown or already given back)"),
            option: None,
            value: None,
        }
    }

    pub fn invalid_snapshot(why: &str) -> Self {
        SeawallError {
            code: ErrorCode::InvalidSnapshot,
            kind: ErrorKind::Range,
            message: format!("cannot restore circuit breaker state: {why}"),
            option: None,
            value: None,
        }
    }

    pub fn not_found(what: &str, name: &str) -> Self {
        SeawallError {
            code: ErrorCode::NotFound,
            kind: ErrorKind::Range,
            message: format!("no {what} named {name:?}"),
            option: None,
            value: Some(name.to_string()),
        }
    }
}

impl fmt::Display for SeawallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SeawallError {}

pub type Result<T> = std::result::Result<T, SeawallError>;

/// Formats a number the way JavaScript prints it (`5`, `0.5`, `NaN`, `Infinity`), so error
/// messages and traces read the same in every language.
pub fn fmt_num(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if x == x.trunc() && x.abs() < 9.007_199_254_740_992e15 {
        format!("{}", x as i64)
    } else if x.abs() >= 1e21 || x.abs() < 1e-6 {
        // JavaScript switches to exponent form outside [1e-6, 1e21) and always signs it.
        let e = format!("{x:e}");
        match e.split_once('e') {
            Some((m, exp)) if !exp.starts_with('-') => format!("{m}e+{exp}"),
            _ => e,
        }
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
