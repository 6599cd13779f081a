//! # seawall-core
//!
//! Every resilience decision Seawall makes, as pure state machines: backoff schedules, retry
//! decisions, a retry budget, the circuit breaker, the bulkhead, per-call deadlines, a registry
//! with health, presets and Prometheus metrics. The Node, browser and Python packages are thin
//! shells over this crate: they sleep, await and cancel; this crate decides.
//!
//! ## The contract (sans-I/O)
//! - **No I/O, no clock, no OS randomness, no async.** Time is an argument: monotonic
//!   milliseconds as `f64`; an earlier or NaN time than the latest seen counts as the latest.
//!   Random draws come from a [`SeededRng`] the caller owns.
//! - Machines name their methods by role: `try_acquire`/`record_*`/`release` are inputs,
//!   `poll_timeout`/`handle_timeout` drive timers, `poll_event`/`poll_expired` drain outputs,
//!   the rest are getters and mutators. Each type's docs give the call order.
//! - Each state machine's transitions live in one module ([`breaker`], [`bulkhead`],
//!   [`retry`], [`budget`]).
//! - Nothing panics on any input; bad options give a [`SeawallError`] with a stable
//!   [`ErrorCode`] naming the option and value. Builds for `wasm32-unknown-unknown` with no
//!   host imports.
//!
//! ## A driver in a few lines
//! ```
//! use seawall_core::{BreakerConfig, CircuitBreaker, CircuitState};
//!
//! let mut breaker = CircuitBreaker::new(BreakerConfig {
//!     failure_threshold: Some(2),
//!     reset_timeout_ms: 1_000.0,
//!     ..BreakerConfig::default()
//! })?;
//! // The shell reads its clock and reports what happened; the core decides.
//! for now in [0.0, 10.0] {
//!     let permit = breaker.try_acquire(now).expect("closed");
//!     breaker.record_failure(now + 5.0, permit, 5.0)?;
//! }
//! assert_eq!(breaker.state(), CircuitState::Open);
//! let rejection = breaker.try_acquire(500.0).unwrap_err();
//! assert_eq!(rejection.retry_after_ms, Some(515.0));
//! assert_eq!(breaker.poll_timeout(), Some(1_015.0)); // arm a timer here, or just try later
//! let probe = breaker.try_acquire(1_015.0).expect("half-open probe");
//! breaker.record_success(1_020.0, probe, 5.0)?;
//! assert_eq!(breaker.state(), CircuitState::Closed);
//! let changes: Vec<_> = std::iter::from_fn(|| breaker.poll_event()).map(|e| e.to).collect();
//! assert_eq!(changes, [CircuitState::Open, CircuitState::HalfOpen, CircuitState::Closed]);
//! # Ok::<(), seawall_core::SeawallError>(())
//! ```
//!
//! ## Defaults
//! Defined once in [`defaults`]; bindings read them from there.
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `maxAttempts` | 3 | total calls (first call + 2 retries); `maxRetries` = attempts − 1 |
//! | `baseDelay` | 500 ms | delay before the first retry |
//! | `maxDelay` | 4 000 ms | cap on any one delay |
//! | `backoffMultiplier` | 2 | exponential growth |
//! | `jitter` / `jitterFactor` | proportional, 0.1 | each delay moves by up to ±10% |
//! | `maxRetryAfter` | 60 000 ms | longest Retry-After honoured; longer gives up |
//! | `failureThreshold` | 5 | consecutive failures that open the breaker |
//! | `resetTimeout` (`recoveryTimeout`) | 30 000 ms | open period before a probe |
//! | `halfOpenMaxCalls` (`halfOpenRequests`) | 3 | probes at once while half-open |
//! | `successThreshold` | 1 | successful probes that close it |
//! | `volumeThreshold` | 10 | calls in the window before rates are judged |
//! | `windowDuration` / `windowBuckets` | 60 000 ms / 10 | the rate window |
//! | `resetBackoffMultiplier` / `maxResetTimeout` | 1 / 600 000 ms | open-period growth after failed probes |
//! | `maxConcurrent` / `maxQueueSize` | 10 / 0 | bulkhead slots and queue |
//! | `ratio` / `minRetriesPerSecond` / `maxTokens` | 0.2 / 1 / 10 | retry budget |

pub mod adaptive;
pub mod backoff;
pub mod breaker;
pub mod budget;
mod clock;
pub mod bulkhead;
mod decimal;
pub mod defaults;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod fleet_quota;
pub mod fleet_sync;
pub mod hedge;
pub mod json;
pub mod metrics;
pub mod options;
pub mod outcome;
pub mod permit;
pub mod presets;
pub mod ratelimit;
pub mod registry;
pub mod retry;
pub mod retry_after;
pub mod telemetry;
pub mod rng;
pub mod timeout;
pub mod window;

pub use backoff::{Backoff, BackoffConfig, BackoffKind, Jitter};
pub use breaker::{
    BreakerConfig, BreakerSnapshot, BreakerStats, CallOutcome, CircuitBreaker, CircuitState, Permit, Rejection,
    StateChange, TransitionReason,
};
pub use budget::{BudgetConfig, RetryBudget};
pub use bulkhead::{Admission, Bulkhead, BulkheadConfig, BulkheadMetrics, BulkheadPermit, RejectReason, Ticket};
pub use engine::Engine;
pub use error::{ErrorCode, ErrorKind, Result, SeawallError};
pub use options::{OptionValue, Options, TimeUnit};
pub use presets::{PolicyConfig, Style};
pub use registry::{Handle, Health, Registry};
pub use retry::{FailureClass, GiveUpReason, RetryConfig, RetryDecision, RetryState};
pub use ratelimit::{RateAdmission, RateLimitConfig, RateLimiter};
pub use rng::SeededRng;
pub use timeout::{Deadline, TimeoutConfig};
pub use window::WindowConfig;
