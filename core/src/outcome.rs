//! What an attempt's outcome means, decided once for every shell and every HTTP integration:
//! whether to retry it (and after what delay the server asked for), and how a breaker counts it.
//! The shells only describe what happened — a status, headers, the error's codes, the method, the
//! user's filter's verdict, whether the caller cancelled — and act on the [`Verdict`].
//!
//! The rules, in the order they apply:
//! 1. The caller's own cancellation is not counted and not retried.
//! 2. An open breaker (`CIRCUIT_OPEN`) and a wrong argument (`INVALID_OPTION`) are not retried:
//!    the same call fails the same way; the breaker does not count them (the call never ran).
//! 3. A result the user's result predicate rejected (`RESULT_REJECTED`) is a failure and is
//!    retried: the user asked for it, whatever the call. Otherwise the user's filter saying no
//!    means no.
//! 4. A response (or an error carrying a status): 2xx and 3xx are successes. A breaker counts 5xx
//!    and 429 as failures and ignores the other 4xx. Retried: 5xx, 408, 425 and 429; other 4xx
//!    are the request's fault and are not. A retried response that names a delay is retried at
//!    the server's pace (rate-limited: `retry-after-ms`, then `Retry-After`, then the delay the
//!    error carries; as the providers' own SDKs do), and so is a 429 without one.
//!    `x-should-retry: true` / `false` from the server overrides the status either way (any
//!    other value is ignored).
//! 5. An error: one that proves the request never left (connection refused, unknown host, a
//!    connect timeout) is retried whatever the method; a network error or a timeout after it may
//!    have been sent is retried for idempotent methods. In an HTTP request, any other error is
//!    the request's own (a bad URL, a body that fails to encode) and is not retried; in a plain
//!    call (no method) every error is retried, as the user's filter allows.
//! 6. A request that may have changed the server's state — a method other than GET, HEAD,
//!    OPTIONS, TRACE, PUT and DELETE, unless the caller allowed it (`retryNonIdempotent`) — is
//!    retried only when the server cannot have acted on it: it never left, the server refused it
//!    (429, 503 with a delay), or the server said so (`x-should-retry: true`).

use crate::error::{Result, SeawallError};
use crate::hedge::AttemptOutcome;
use crate::json::Json;

/// Error codes (Node's system and undici codes; Python's exception types, qualified) that prove
/// the request never reached the server.
const NEVER_SENT: &[&str] = &[
    "ECONNREFUSED",
    "ENOTFOUND",
    "EAI_AGAIN",
    "UND_ERR_CONNECT_TIMEOUT",
    "httpx.ConnectError",
    "httpx.ConnectTimeout",
    "httpx2.ConnectError",
    "httpx2.ConnectTimeout",
    "aiohttp.ClientConnectorError",
    "requests.exceptions.ConnectionError",
];

/// Codes of a failure on the way after the request may have been sent, or of a timeout.
const IN_FLIGHT: &[&str] = &[
    "NETWORK",
    "TIMEOUT",
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "ECONNABORTED",
    "UND_ERR_SOCKET",
    "httpx.TransportError",
    "httpx.TimeoutException",
    "httpx2.TransportError",
    "httpx2.TimeoutException",
    "aiohttp.ClientError",
    "asyncio.TimeoutError",
    "TimeoutError",
];

const IDEMPOTENT: &[&str] = &["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"];

/// Whether a request of this method may be sent again without changing the server's state
/// twice (GET, HEAD, OPTIONS, TRACE, PUT, DELETE).
pub fn idempotent(method: &str) -> bool {
    IDEMPOTENT.iter().any(|i| i.eq_ignore_ascii_case(method.trim()))
}

/// Whether a request may be hedged (sent again while the first is still out): an idempotent
/// one, or any when the caller forced it.
pub fn hedgeable(method: &str, forced: bool) -> bool {
    forced || idempotent(method)
}

/// What an HTTP response of `status` a service answered means for its adaptive concurrency
/// limit: 429, 503 and 504 are the service (or what it called) over capacity — dropped; any
/// other 5xx is a fault that says nothing of capacity — ignored; the rest succeeded.
pub fn limit_outcome(status: f64) -> crate::adaptive::LimitOutcome {
    use crate::adaptive::LimitOutcome;
    if status == 429.0 || status == 503.0 || status == 504.0 {
        LimitOutcome::Dropped
    } else if status >= 500.0 {
        LimitOutcome::Ignored
    } else {
        LimitOutcome::Success
    }
}

/// What a retry does with an outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Not a failure: answer it.
    Success,
    /// Retry after the policy's own backoff.
    Retry,
    /// Retry after the server's delay (NaN: it gave none; the policy's backoff then).
    RateLimited,
    /// Stop: answer (or raise) it.
    GiveUp,
    /// The caller cancelled: stop, and count it nowhere.
    NotCounted,
}

/// How a breaker counts an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Success,
    Failure,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub decision: Decision,
    /// The delay the server asked for, ms, when it asked (NaN otherwise).
    pub retry_after_ms: f64,
    pub count: Count,
}

/// What happened, as a shell describes it.
#[derive(Debug, Default, Clone)]
pub struct Outcome<'a> {
    /// An HTTP status: a response's, or one an error carries.
    pub status: Option<f64>,
    /// The call failed with an error (false: it answered).
    pub error: bool,
    /// The error's codes, most specific first (its `code`, its cause's, its type's names).
    pub codes: Vec<&'a str>,
    /// The HTTP method, for a request.
    pub method: Option<&'a str>,
    pub retry_non_idempotent: bool,
    /// `retry-after-ms`, `Retry-After` and `x-should-retry` as the server sent them.
    pub retry_after_ms_header: Option<&'a str>,
    pub retry_after_header: Option<&'a str>,
    pub should_retry_header: Option<&'a str>,
    /// A delay the error carries itself, ms.
    pub retry_after_ms: Option<f64>,
    /// The user's filter's verdict, where one was given.
    pub filter: Option<bool>,
    /// The caller cancelled the call.
    pub cancelled: bool,
}

fn has(codes: &[&str], table: &[&str]) -> bool {
    codes.iter().any(|c| table.contains(c))
}

/// How a breaker counts a response of `status`: 5xx and 429 fail, the other 4xx are ignored.
pub fn count_status(status: f64) -> Count {
    if status >= 500.0 || status == 429.0 {
        Count::Failure
    } else if status >= 400.0 {
        Count::Ignore
    } else {
        Count::Success
    }
}

/// The server's delay: `retry-after-ms` (a number of ms), then `Retry-After`, then the error's own.
fn server_delay(o: &Outcome<'_>, now_epoch_ms: f64) -> f64 {
    let ms = o.retry_after_ms_header.and_then(crate::retry_after::parse_ms);
    let header = || o.retry_after_header.and_then(|v| crate::retry_after::parse(v, now_epoch_ms));
    ms.or_else(header).or(o.retry_after_ms.filter(|x| x.is_finite() && *x >= 0.0)).unwrap_or(f64::NAN)
}

/// The verdict on an outcome (the rules are the module's doc).
pub fn classify(o: &Outcome<'_>, now_epoch_ms: f64) -> Verdict {
    let verdict = |decision, count| Verdict { decision, retry_after_ms: f64::NAN, count };
    if o.cancelled {
        return verdict(Decision::NotCounted, Count::Ignore);
    }
    if o.error && has(&o.codes, &["CIRCUIT_OPEN", "INVALID_OPTION"]) {
        return verdict(Decision::GiveUp, Count::Ignore);
    }
    if o.error && has(&o.codes, &["RESULT_REJECTED"]) {
        return verdict(Decision::Retry, Count::Failure);
    }
    let count = match o.status {
        Some(s) => count_status(s),
        None if o.error => Count::Failure,
        None => Count::Success,
    };
    if o.filter == Some(false) {
        return verdict(Decision::GiveUp, count);
    }
    let should_retry = o.should_retry_header.and_then(|v| match v.trim() {
        t if t.eq_ignore_ascii_case("true") => Some(true),
        t if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None, // not the server's word either way
    });
    let safe = o.retry_non_idempotent || o.method.is_none_or(idempotent);
    if let Some(status) = o.status {
        if (200.0..400.0).contains(&status) && !o.error {
            return verdict(Decision::Success, count);
        }
        let delay = server_delay(o, now_epoch_ms);
        // Refused: the server cannot have acted on it (a non-idempotent request may go again).
        let refused = status == 429.0 || (status == 503.0 && !delay.is_nan());
        let transient = status >= 500.0 || [408.0, 425.0, 429.0].contains(&status);
        let retry = match should_retry {
            Some(said) => said,
            None => transient && (safe || refused),
        };
        let paced = status == 429.0 || !delay.is_nan();
        let decision = match (retry, paced) {
            (false, _) => Decision::GiveUp,
            (true, true) => Decision::RateLimited,
            (true, false) => Decision::Retry,
        };
        return Verdict { decision, retry_after_ms: delay, count };
    }
    if !o.error {
        return verdict(Decision::Success, count);
    }
    let retry = if has(&o.codes, NEVER_SENT) {
        true
    } else if has(&o.codes, IN_FLIGHT) {
        safe
    } else {
        // A plain call's error is the dependency's to report; a request's unknown error is its own.
        o.method.is_none()
    };
    verdict(if retry || should_retry == Some(true) { Decision::Retry } else { Decision::GiveUp }, count)
}

/// What an outcome means for one attempt of a hedged call (core/src/hedge.rs): a success wins; a
/// failure a retry would retry is a failed attempt (another may answer), and so is a policy's
/// refusal (an open breaker, a full bulkhead, a rate limit: the attempt never ran, and while
/// another runs the call goes on); a failure no retry would help (a 400) fails the call; the
/// caller's cancellation counts neither way.
pub fn attempt_outcome(o: &Outcome<'_>, v: &Verdict) -> AttemptOutcome {
    match v.decision {
        Decision::Success => AttemptOutcome::Success,
        Decision::NotCounted => AttemptOutcome::Cancelled,
        Decision::Retry | Decision::RateLimited => AttemptOutcome::Failure,
        Decision::GiveUp if o.error && crate::telemetry::REJECTED.iter().any(|c| o.codes.contains(&c.as_str())) => AttemptOutcome::Failure,
        Decision::GiveUp => AttemptOutcome::Fatal,
    }
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Success => "success",
            Decision::Retry => "retry",
            Decision::RateLimited => "rateLimited",
            Decision::GiveUp => "giveUp",
            Decision::NotCounted => "notCounted",
        }
    }
}

impl Count {
    pub fn as_str(self) -> &'static str {
        match self {
            Count::Success => "success",
            Count::Failure => "failure",
            Count::Ignore => "ignore",
        }
    }
}

fn text_at<'a>(j: &'a Json, key: &str) -> Result<Option<&'a str>> {
    match j.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s)),
        Some(other) => Err(SeawallError::wrong_type(key, other.to_string(), "a string")),
    }
}

fn flag_at(j: &Json, key: &str) -> Result<Option<bool>> {
    match j.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(SeawallError::wrong_type(key, other.to_string(), "a boolean")),
    }
}

fn number_at(j: &Json, key: &str) -> Result<Option<f64>> {
    match j.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| SeawallError::wrong_type(key, v.to_string(), "a number")),
    }
}

/// [`classify`] over an outcome in JSON (`status`, `error`, `codes`, `method`,
/// `retryNonIdempotent`, `headers` with lower-case names, `retryAfterMs`, `filter`, `cancelled`),
/// answering `{"decision", "retryAfterMs", "count", "attempt"}` (`retryAfterMs` null when the
/// server asked for no delay; `attempt`: what it means for a hedged attempt).
pub fn classify_json(outcome_json: &str, now_epoch_ms: f64) -> Result<String> {
    let j = Json::parse(outcome_json).map_err(|e| SeawallError::wrong_type("outcome", e.to_string(), "an outcome in JSON"))?;
    let mut codes = Vec::new();
    if let Some(Json::Arr(items)) = j.get("codes") {
        for item in items {
            if let Some(code) = item.as_str() {
                codes.push(code);
            }
        }
    }
    let empty = Json::Null;
    let headers = j.get("headers").unwrap_or(&empty);
    let o = Outcome {
        status: number_at(&j, "status")?,
        error: flag_at(&j, "error")?.unwrap_or(false),
        codes,
        method: text_at(&j, "method")?,
        retry_non_idempotent: flag_at(&j, "retryNonIdempotent")?.unwrap_or(false),
        retry_after_ms_header: text_at(headers, "retry-after-ms")?,
        retry_after_header: text_at(headers, "retry-after")?,
        should_retry_header: text_at(headers, "x-should-retry")?,
        retry_after_ms: number_at(&j, "retryAfterMs")?,
        filter: flag_at(&j, "filter")?,
        cancelled: flag_at(&j, "cancelled")?.unwrap_or(false),
    };
    let v = classify(&o, now_epoch_ms);
    let delay = if v.retry_after_ms.is_nan() { Json::Null } else { Json::Num(v.retry_after_ms) };
    let attempt = attempt_outcome(&o, &v);
    Ok(Json::obj(vec![
        ("decision", Json::from(v.decision.as_str())),
        ("retryAfterMs", delay),
        ("count", Json::from(v.count.as_str())),
        ("attempt", Json::from(attempt.as_str())),
    ])
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: f64, method: &str) -> Outcome<'_> {
        Outcome { status: Some(status), method: Some(method), ..Outcome::default() }
    }

    #[test]
    fn statuses_and_methods() {
        assert_eq!(classify(&http(200.0, "POST"), 0.0).decision, Decision::Success);
        assert_eq!(classify(&http(404.0, "GET"), 0.0).decision, Decision::GiveUp);
        assert_eq!(classify(&http(404.0, "GET"), 0.0).count, Count::Ignore);
        assert_eq!(classify(&http(502.0, "GET"), 0.0).decision, Decision::Retry);
        assert_eq!(classify(&http(502.0, "POST"), 0.0).decision, Decision::GiveUp);
        assert_eq!(classify(&http(502.0, "POST"), 0.0).count, Count::Failure);
        assert_eq!(classify(&http(429.0, "POST"), 0.0).decision, Decision::RateLimited);
    }

    #[test]
    fn retry_after_ms_comes_first() {
        let o = Outcome { retry_after_ms_header: Some("50"), retry_after_header: Some("1"), ..http(429.0, "GET") };
        assert_eq!(classify(&o, 0.0).retry_after_ms, 50.0);
        let o = Outcome { retry_after_ms_header: Some("soon"), retry_after_header: Some("1"), ..http(429.0, "GET") };
        assert_eq!(classify(&o, 0.0).retry_after_ms, 1000.0, "an unreadable retry-after-ms falls back to Retry-After");
    }

    #[test]
    fn json_in_and_out() {
        let out = classify_json(r#"{"status":503,"method":"POST","headers":{"retry-after":"2"}}"#, 0.0).unwrap();
        assert_eq!(out, r#"{"decision":"rateLimited","retryAfterMs":2000.0,"count":"failure","attempt":"failure"}"#);
        assert!(classify_json(r#"{"status":"x"}"#, 0.0).is_err());
    }
}
