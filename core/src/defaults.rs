//! Every default Seawall uses, defined once. Bindings read these (through their generated
//! `DEFAULTS` export) instead of repeating numbers; docs render the table from here.
//!
//! Durations are milliseconds.

/// Total calls a retrying operation may make (the first call plus two retries).
pub const MAX_ATTEMPTS: u32 = 3;
/// Delay before the first retry.
pub const BASE_DELAY_MS: f64 = 500.0;
/// Cap on any single backoff delay.
pub const MAX_DELAY_MS: f64 = 4_000.0;
/// Growth factor of exponential backoff.
pub const BACKOFF_MULTIPLIER: f64 = 2.0;
/// Proportional jitter: each delay moves by up to ±10%.
pub const JITTER_FACTOR: f64 = 0.1;
/// Additive jitter (`jitter: "additive"` without `jitterMax`): up to a second added to each delay.
pub const JITTER_MAX_MS: f64 = 1_000.0;
/// Longest server-requested delay (Retry-After) a retry will honour before giving up.
pub const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

/// Consecutive failures that open a closed breaker.
pub const FAILURE_THRESHOLD: u32 = 5;
/// How long a breaker stays open before it lets a probe through.
pub const RESET_TIMEOUT_MS: f64 = 30_000.0;
/// Probes allowed at once while half-open.
pub const HALF_OPEN_MAX_CALLS: u32 = 3;
/// Successful probes needed to close a half-open breaker.
pub const SUCCESS_THRESHOLD: u32 = 1;
/// Calls a rate window must hold before failure or slow-call rates are judged.
pub const VOLUME_THRESHOLD: u32 = 10;
/// Length of the time-based window that rates are computed over.
pub const WINDOW_DURATION_MS: f64 = 60_000.0;
/// Buckets in the time-based window (each `WINDOW_DURATION_MS / WINDOW_BUCKETS` long).
pub const WINDOW_BUCKETS: u32 = 10;
/// Growth of the open duration after each failed probe (1 = no growth).
pub const RESET_BACKOFF_MULTIPLIER: f64 = 1.0;
/// Cap on the open duration when it grows; never below the breaker's own reset timeout.
pub const MAX_RESET_TIMEOUT_MS: f64 = 600_000.0;

/// Slots of a bulkhead.
pub const BULKHEAD_MAX_CONCURRENT: u32 = 10;
/// Queue places of a bulkhead (0: reject as soon as every slot is busy).
pub const BULKHEAD_MAX_QUEUE: u32 = 0;

/// Tokens a success deposits into a retry budget (20%: at most one retry per five successes).
pub const BUDGET_RATIO: f64 = 0.2;
/// Tokens per second a retry budget earns with no traffic at all, so a quiet client can retry.
pub const BUDGET_MIN_RETRIES_PER_SECOND: f64 = 1.0;
/// Most tokens a retry budget holds (also its starting balance).
pub const BUDGET_MAX_TOKENS: f64 = 10.0;

/// The period a rate limiter's `limit` counts over when `per` is not given.
pub const RATE_LIMIT_PER_MS: f64 = 1_000.0;

/// Replicas that must see failures before a fleet's breaker opens (one sick replica alone never
/// opens the others').
pub const FLEET_MIN_REPLICAS: u32 = 2;
/// How often each replica of a fleet syncs with the shared store.
pub const FLEET_SYNC_INTERVAL_MS: f64 = 250.0;
/// Sync intervals after which a replica's report counts as gone.
pub const FLEET_STALE_SYNCS: f64 = 4.0;

/// Largest number of probes or bulkhead slots one machine tracks (permit slots are 20 bits).
pub const MAX_SLOTS: u32 = (1 << 20) - 2;

/// The defaults as (canonical option name, value) pairs, for bindings and docs.
pub const TABLE: &[(&str, f64)] = &[
    ("maxAttempts", MAX_ATTEMPTS as f64),
    ("baseDelay", BASE_DELAY_MS),
    ("maxDelay", MAX_DELAY_MS),
    ("backoffMultiplier", BACKOFF_MULTIPLIER),
    ("jitterFactor", JITTER_FACTOR),
    ("jitterMax", JITTER_MAX_MS),
    ("maxRetryAfter", MAX_RETRY_AFTER_MS),
    ("failureThreshold", FAILURE_THRESHOLD as f64),
    ("resetTimeout", RESET_TIMEOUT_MS),
    ("halfOpenMaxCalls", HALF_OPEN_MAX_CALLS as f64),
    ("successThreshold", SUCCESS_THRESHOLD as f64),
    ("volumeThreshold", VOLUME_THRESHOLD as f64),
    ("windowDuration", WINDOW_DURATION_MS),
    ("windowBuckets", WINDOW_BUCKETS as f64),
    ("resetBackoffMultiplier", RESET_BACKOFF_MULTIPLIER),
    ("maxResetTimeout", MAX_RESET_TIMEOUT_MS),
    ("maxConcurrent", BULKHEAD_MAX_CONCURRENT as f64),
    ("maxQueueSize", BULKHEAD_MAX_QUEUE as f64),
    ("budgetRatio", BUDGET_RATIO),
    ("minRetriesPerSecond", BUDGET_MIN_RETRIES_PER_SECOND),
    ("maxTokens", BUDGET_MAX_TOKENS),
];
