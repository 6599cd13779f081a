//! Backoff schedules: how long to wait before each retry.
//!
//! A [`BackoffConfig`] is an immutable value; a [`Backoff`] is one retry sequence's state (the
//! previous delay, which the decorrelated kinds need). Driver call order: `Backoff::new(config)`
//! when a call starts, then `next_delay(retry, rng)` once per retry with `retry` = 1, 2, 3, ….
//!
//! Every delay is finite and within `[0, max_delay]`, for any retry number (10,000 included):
//! exponential growth is computed by repeated squaring that saturates at the cap, never by
//! `powf`, and the decorrelated kinds use `libm` so that wasm and native give the same bits.

use crate::defaults;
use crate::error::{fmt_num, Result, SeawallError};
use crate::options::{check_value, spec, Kind, OptionReader, OptionSpec, Spelling, AT_LEAST_ONE, FRACTION};
use crate::rng::SeededRng;

/// The shape of the schedule before jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BackoffKind {
    /// Always `base`.
    Constant,
    /// `base + step·(n−1)`.
    Linear { step_ms: f64 },
    /// `base · multiplier^(n−1)`.
    Exponential { multiplier: f64 },
    /// AWS "decorrelated jitter": `min(cap, U(base, 3·previous))`, previous starting at `base`.
    DecorrelatedAws,
    /// Polly's DecorrelatedJitterBackoffV2 with `base` as the median first delay.
    DecorrelatedPolly,
}

/// Randomness added to the constant, linear and exponential kinds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    None,
    /// `U(0, d)` (AWS "full jitter").
    Full,
    /// `d/2 + U(0, d/2)` (AWS "equal jitter").
    Equal,
    /// `d · (1 + U(−f, f))` (±10% by default).
    Proportional { factor: f64 },
    /// `d + U(0, max)` (the common hand-written `+ Math.random() * 1000`).
    Additive { max_ms: f64 },
}

impl Jitter {
    pub fn name(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Proportional { .. } => "proportional",
            Jitter::Additive { .. } => "additive",
        }
    }
}

/// An immutable backoff schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    pub kind: BackoffKind,
    pub base_ms: f64,
    pub max_ms: f64,
    pub jitter: Jitter,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            kind: BackoffKind::Exponential { multiplier: defaults::BACKOFF_MULTIPLIER },
            base_ms: defaults::BASE_DELAY_MS,
            max_ms: defaults::MAX_DELAY_MS,
            jitter: Jitter::Proportional { factor: defaults::JITTER_FACTOR },
        }
    }
}

const DELAY: Kind = Kind::Duration { zero: true };

/// The options a backoff reads; retry configs include them.
pub const BACKOFF_OPTIONS: &[OptionSpec] = &[
    spec("backoff", &["backoffKind", "strategy"], Kind::Words(BACKOFF_WORDS)),
    spec("baseDelay", &["initialDelay", "delay", "minDelay"], DELAY).or(defaults::BASE_DELAY_MS),
    spec("maxDelay", &["maxBackoff"], DELAY).or(defaults::MAX_DELAY_MS),
    spec("backoffMultiplier", &["multiplier", "factor", "exponentialBase"], Kind::Number(AT_LEAST_ONE)).or(defaults::BACKOFF_MULTIPLIER),
    spec("backoffStep", &["step", "increment"], DELAY),
    spec("jitter", &[], Kind::Switch(JITTER_WORDS)),
    spec("jitterFactor", &[], Kind::Number(FRACTION)).or(defaults::JITTER_FACTOR),
    spec("jitterMax", &["maxJitter"], DELAY).or(defaults::JITTER_MAX_MS),
];

pub const BACKOFF_WORDS: &[&str] =
    &["constant", "linear", "exponential", "decorrelated", "decorrelated-polly"];
pub const JITTER_WORDS: &[&str] = &["none", "full", "equal", "proportional", "additive"];

impl BackoffConfig {
    /// Reads the backoff options (see [`BACKOFF_OPTIONS`]). `jitter: true` means the default
    /// jitter (proportional, ±`jitterFactor`), `false` means none.
    pub fn from_reader(r: &OptionReader<'_>) -> Result<Self> {
        let d = BackoffConfig::default();
        let base_ms = r.duration("baseDelay").unwrap_or(d.base_ms);
        let multiplier = r.number("backoffMultiplier");
        let step = r.duration("backoffStep");
        let kind_word = r.word("backoff");
        let kind = match kind_word {
            Some("constant") => BackoffKind::Constant,
            Some("linear") => BackoffKind::Linear { step_ms: step.unwrap_or(base_ms) },
            Some("decorrelated") => BackoffKind::DecorrelatedAws,
            Some("decorrelated-polly") => BackoffKind::DecorrelatedPolly,
            _ => BackoffKind::Exponential {
                multiplier: multiplier.unwrap_or(defaults::BACKOFF_MULTIPLIER),
            },
        };
        if multiplier.is_some() && !matches!(kind, BackoffKind::Exponential { .. }) {
            let k = r.spelling("backoffMultiplier");
            return Err(SeawallError::wrong_type(k, fmt_num(multiplier.unwrap_or(0.0)), "no multiplier unless backoff is \"exponential\""));
        }
        if step.is_some() && !matches!(kind, BackoffKind::Linear { .. }) {
            let k = r.spelling("backoffStep");
            return Err(SeawallError::wrong_type(k, fmt_num(step.unwrap_or(0.0)), "no step unless backoff is \"linear\""));
        }
        // A constant schedule given only a delay keeps it even when that is above the default cap.
        let max_default = match kind {
            BackoffKind::Constant => d.max_ms.max(base_ms),
            _ => d.max_ms,
        };
        let max_ms = r.duration("maxDelay").unwrap_or(max_default);
        let factor = r.number("jitterFactor");
        let jitter_max = r.duration("jitterMax");
        let decorrelated = matches!(kind, BackoffKind::DecorrelatedAws | BackoffKind::DecorrelatedPolly);
        let jitter = match r.get("jitter") {
            None | Some((_, crate::options::OptionValue::Null)) => {
                if decorrelated {
                    Jitter::None
                } else if let Some(m) = jitter_max {
                    Jitter::Additive { max_ms: m }
                } else {
                    Jitter::Proportional { factor: factor.unwrap_or(defaults::JITTER_FACTOR) }
                }
            }
            Some((_, crate::options::OptionValue::Bool(false))) => Jitter::None,
            Some((_, crate::options::OptionValue::Bool(true))) => {
                Jitter::Proportional { factor: factor.unwrap_or(defaults::JITTER_FACTOR) }
            }
            Some(_) => match r.word("jitter") {
                Some("full") => Jitter::Full,
                Some("equal") => Jitter::Equal,
                Some("proportional") => {
                    Jitter::Proportional { factor: factor.unwrap_or(defaults::JITTER_FACTOR) }
                }
                Some("additive") => Jitter::Additive { max_ms: jitter_max.unwrap_or(defaults::JITTER_MAX_MS) },
                _ => Jitter::None,
            },
        };
        let cfg = BackoffConfig { kind, base_ms, max_ms, jitter };
        cfg.check(&Spelling::new(&|c| r.spelling(c).to_string(), r.unit()))?;
        Ok(cfg)
    }

    /// Checks values and their relations, naming options and durations as the caller gave them.
    pub fn check(&self, sp: &Spelling) -> Result<()> {
        let value = |opt: &'static str, x: f64| check_value(BACKOFF_OPTIONS, opt, sp, x);
        value("baseDelay", self.base_ms)?;
        value("maxDelay", self.max_ms)?;
        if self.max_ms < self.base_ms {
            return Err(SeawallError::out_of_range(
                &sp.name("maxDelay"),
                sp.duration(self.max_ms),
                &format!("a delay ≥ {} ({})", sp.name("baseDelay"), sp.duration(self.base_ms)),
            ));
        }
        match self.kind {
            BackoffKind::Linear { step_ms } => value("backoffStep", step_ms)?,
            BackoffKind::Exponential { multiplier } => value("backoffMultiplier", multiplier)?,
            BackoffKind::DecorrelatedAws | BackoffKind::DecorrelatedPolly if self.jitter != Jitter::None => {
                return Err(SeawallError::wrong_type(
                    &sp.name("jitter"),
                    crate::error::quote(self.jitter.name()),
                    "no extra jitter with a decorrelated backoff (it is already randomised)",
                ));
            }
            _ => {}
        }
        match self.jitter {
            Jitter::Proportional { factor } => value("jitterFactor", factor),
            Jitter::Additive { max_ms } => value("jitterMax", max_ms),
            _ => Ok(()),
        }
    }

    /// The delay before retry `retry` (1-based) for the deterministic kinds, before jitter and
    /// capped; the decorrelated kinds have no such value and give `base`.
    pub fn scheduled(&self, retry: u32) -> f64 {
        let n = retry.max(1) - 1;
        let d = match self.kind {
            BackoffKind::Constant | BackoffKind::DecorrelatedAws | BackoffKind::DecorrelatedPolly => self.base_ms,
            BackoffKind::Linear { step_ms } => self.base_ms + step_ms * n as f64,
            BackoffKind::Exponential { multiplier } => {
                if self.base_ms == 0.0 {
                    0.0
                } else {
                    self.base_ms * pow_capped(multiplier, n, self.max_ms / self.base_ms)
                }
            }
        };
        d.min(self.max_ms)
    }
}

/// `x^n` for `x ≥ 1`, by repeated squaring, stopping once the result passes `cap` (so it never
/// overflows and costs O(log n) multiplications). Pure IEEE multiplication: same bits everywhere.
pub(crate) fn pow_capped(x: f64, mut n: u32, cap: f64) -> f64 {
    let mut result = 1.0f64;
    let mut base = x;
    while n > 0 {
        if n & 1 == 1 {
            result *= base;
            if result > cap {
                return result;
            }
        }
        n >>= 1;
        if n > 0 {
            base *= base;
            if base > cap {
                // Any further factor is ≥ base > cap (x ≥ 1), so the result is over the cap too.
                return base;
            }
        }
    }
    result
}

/// One retry sequence's backoff state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    config: BackoffConfig,
    /// The previous delay (AWS decorrelated) or formula value (Polly); 0 before the first retry.
    prev: f64,
}

impl Backoff {
    pub fn new(config: BackoffConfig) -> Self {
        Backoff { config, prev: 0.0 }
    }

    pub fn config(&self) -> &BackoffConfig {
        &self.config
    }

    /// The delay in milliseconds before retry `retry` (1 for the first retry). Draws from `rng`
    /// only when the schedule is randomised.
    pub fn next_delay(&mut self, retry: u32, rng: &mut SeededRng) -> f64 {
        let c = self.config;
        let d = match c.kind {
            BackoffKind::DecorrelatedAws => {
                let prev = if self.prev > 0.0 { self.prev } else { c.base_ms };
                let d = rng.uniform(c.base_ms, (prev * 3.0).min(f64::MAX)).min(c.max_ms);
                self.prev = d;
                d
            }
            BackoffKind::DecorrelatedPolly => self.polly_v2(retry, rng),
            _ => {
                let d = c.scheduled(retry);
                match c.jitter {
                    Jitter::None => d,
                    Jitter::Full => rng.uniform(0.0, d),
                    Jitter::Equal => d / 2.0 + rng.uniform(0.0, d / 2.0),
                    Jitter::Proportional { factor } => d * (1.0 + factor * (2.0 * rng.next_f64() - 1.0)),
                    Jitter::Additive { max_ms } => d + rng.uniform(0.0, max_ms),
                }
            }
        };
        if d.is_nan() {
            c.max_ms
        } else {
            // `clamp` would do, but its panic message prints floats, which pulls core's float
            // formatting (~15 KB) into the wasm build; `d` is not NaN and `0 ≤ max_ms` here.
            d.max(0.0).min(c.max_ms)
        }
    }

    /// Polly's DecorrelatedJitterBackoffV2 (pFactor 4, scaling 1/1.4), with the cap in place of
    /// TimeSpan.MaxValue. `self.prev` holds the formula's previous value.
    fn polly_v2(&mut self, retry: u32, rng: &mut SeededRng) -> f64 {
        const P_FACTOR: f64 = 4.0;
        const RP_SCALING_FACTOR: f64 = 1.0 / 1.4;
        let t = (retry.max(1) - 1) as f64 + rng.next_f64();
        let next = libm::pow(2.0, t) * libm::tanh(libm::sqrt(P_FACTOR * t));
        if next.is_infinite() {
            self.prev = next;
            return self.config.max_ms;
        }
        let d = (next - self.prev) * RP_SCALING_FACTOR * self.config.base_ms;
        self.prev = next;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(kind: BackoffKind, jitter: Jitter) -> BackoffConfig {
        BackoffConfig { kind, base_ms: 100.0, max_ms: 10_000.0, jitter }
    }

    #[test]
    fn deterministic_schedules() {
        let mut rng = SeededRng::new(1);
        let mut b = Backoff::new(cfg(BackoffKind::Exponential { multiplier: 2.0 }, Jitter::None));
        let got: Vec<f64> = (1..=9).map(|n| b.next_delay(n, &mut rng)).collect();
        assert_eq!(got, vec![100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, 10_000.0, 10_000.0]);
        let mut b = Backoff::new(cfg(BackoffKind::Linear { step_ms: 50.0 }, Jitter::None));
        assert_eq!((1..=3).map(|n| b.next_delay(n, &mut rng)).collect::<Vec<_>>(), vec![100.0, 150.0, 200.0]);
        let mut b = Backoff::new(cfg(BackoffKind::Constant, Jitter::None));
        assert_eq!(b.next_delay(500, &mut rng), 100.0);
    }

    #[test]
    fn huge_attempts_saturate_without_overflow() {
        let c = cfg(BackoffKind::Exponential { multiplier: 10.0 }, Jitter::None);
        assert_eq!(c.scheduled(10_000), 10_000.0);
        assert_eq!(c.scheduled(u32::MAX), 10_000.0);
        let c = cfg(BackoffKind::Linear { step_ms: 1e300 }, Jitter::None);
        assert_eq!(c.scheduled(u32::MAX), 10_000.0);
        let mut rng = SeededRng::new(3);
        let mut b = Backoff::new(cfg(BackoffKind::DecorrelatedPolly, Jitter::None));
        for n in [1, 2, 3, 1023, 1024, 1025, 10_000, u32::MAX] {
            let d = b.next_delay(n, &mut rng);
            assert!((0.0..=10_000.0).contains(&d), "{n}: {d}");
        }
    }

    #[test]
    fn pow_capped_matches_plain_multiplication() {
        assert_eq!(pow_capped(2.0, 10, 1e9), 1024.0);
        assert_eq!(pow_capped(1.5, 3, 1e9), 3.375);
        assert_eq!(pow_capped(1.0, u32::MAX, 2.0), 1.0);
        assert!(pow_capped(3.0, 1000, 1e6) > 1e6);
    }

    #[test]
    fn jitter_stays_in_its_band() {
        let mut rng = SeededRng::new(9);
        for (jitter, lo, hi) in [
            (Jitter::Full, 0.0, 400.0),
            (Jitter::Equal, 200.0, 400.0),
            (Jitter::Proportional { factor: 0.1 }, 360.0, 440.0),
            (Jitter::Additive { max_ms: 1000.0 }, 400.0, 1400.0),
        ] {
            let mut b = Backoff::new(cfg(BackoffKind::Exponential { multiplier: 2.0 }, jitter));
            for _ in 0..1000 {
                let d = b.next_delay(3, &mut rng);
                assert!(d >= lo && d <= hi, "{jitter:?}: {d}");
            }
        }
    }

    #[test]
    fn aws_decorrelated_grows_from_base_within_cap() {
        let mut rng = SeededRng::new(5);
        let mut b = Backoff::new(cfg(BackoffKind::DecorrelatedAws, Jitter::None));
        let mut prev = 100.0;
        for n in 1..200 {
            let d = b.next_delay(n, &mut rng);
            assert!(d >= 100.0 && d <= (prev * 3.0f64).min(10_000.0), "{d} after {prev}");
            prev = d;
        }
    }

    #[test]
    fn polly_v2_median_first_delay_is_near_base() {
        let mut rng = SeededRng::new(11);
        let mut firsts: Vec<f64> = (0..2001)
            .map(|_| Backoff::new(cfg(BackoffKind::DecorrelatedPolly, Jitter::None)).next_delay(1, &mut rng))
            .collect();
        firsts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = firsts[1000];
        assert!((70.0..=130.0).contains(&median), "median {median}");
    }

    #[test]
    fn invalid_configs_are_refused() {
        let id = Spelling::canonical();
        let bad = [
            BackoffConfig { base_ms: -1.0, ..Default::default() },
            BackoffConfig { base_ms: f64::NAN, ..Default::default() },
            BackoffConfig { max_ms: 10.0, base_ms: 20.0, ..Default::default() },
            BackoffConfig { kind: BackoffKind::Exponential { multiplier: 0.5 }, ..Default::default() },
            BackoffConfig { jitter: Jitter::Proportional { factor: 1.5 }, ..Default::default() },
            BackoffConfig { kind: BackoffKind::DecorrelatedAws, ..Default::default() },
            // Reached only by configs built in code: options never get this far with them.
            BackoffConfig { kind: BackoffKind::Linear { step_ms: f64::NAN }, ..Default::default() },
            BackoffConfig { kind: BackoffKind::Linear { step_ms: -1.0 }, ..Default::default() },
            BackoffConfig { jitter: Jitter::Additive { max_ms: f64::INFINITY }, ..Default::default() },
        ];
        for c in bad {
            assert!(c.check(&id).is_err(), "{c:?}");
        }
        assert!(BackoffConfig::default().check(&id).is_ok());
    }

    fn from_json(text: &str) -> BackoffConfig {
        let o = crate::engine::parse_options(text).unwrap();
        crate::retry::RetryConfig::from_options(&o, crate::options::TimeUnit::Millis).unwrap().backoff
    }

    #[test]
    fn a_constant_delay_above_the_default_cap_is_kept() {
        let c = from_json(r#"{"backoff":"constant","baseDelay":100000}"#);
        assert_eq!((c.kind, c.max_ms, c.scheduled(3)), (BackoffKind::Constant, 100_000.0, 100_000.0));
        // Other kinds keep the default cap.
        assert!(from_json(r#"{"backoff":"linear","baseDelay":100}"#).max_ms < 100_000.0);
    }

    #[test]
    fn a_backoff_answers_its_config() {
        let c = from_json(r#"{"backoff":"linear","baseDelay":7,"backoffStep":3}"#);
        assert_eq!(Backoff::new(c).config(), &c);
    }

    #[test]
    fn jitter_words_choose_their_jitter() {
        assert_eq!(from_json(r#"{"jitter":"proportional","jitterFactor":0.25}"#).jitter, Jitter::Proportional { factor: 0.25 });
        assert_eq!(from_json(r#"{"jitter":"full"}"#).jitter, Jitter::Full);
        assert_eq!(from_json(r#"{"jitter":"equal"}"#).jitter, Jitter::Equal);
        assert_eq!(from_json(r#"{"jitter":"additive","jitterMax":50}"#).jitter, Jitter::Additive { max_ms: 50.0 });
        assert_eq!(from_json(r#"{"jitter":"none"}"#).jitter, Jitter::None);
    }
}
