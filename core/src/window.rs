//! The rolling windows a breaker computes failure and slow-call rates over.
//!
//! Time windows are a ring of buckets with running totals: recording is O(1), and a gap of
//! any length expires exactly the buckets it covers (all of them after a long idle period),
//! so an old burst of failures never counts against fresh traffic. Count windows are a ring of
//! the last `size` outcomes. Neither allocates after construction.

use crate::json::Json;

/// Calls, failures and slow calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub calls: u32,
    pub failures: u32,
    pub slow: u32,
}

impl Counts {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![("calls", Json::from(self.calls)), ("failures", Json::from(self.failures)), ("slow", Json::from(self.slow))])
    }

    /// `None` unless `{calls, failures, slow}` are whole numbers that fit.
    pub fn from_json(v: &Json) -> Option<Counts> {
        Some(Counts { calls: v.u32_at("calls")?, failures: v.u32_at("failures")?, slow: v.u32_at("slow")? })
    }

    fn add(&mut self, o: Counts) {
        self.calls += o.calls;
        self.failures += o.failures;
        self.slow += o.slow;
    }
    fn sub(&mut self, o: Counts) {
        self.calls -= o.calls;
        self.failures -= o.failures;
        self.slow -= o.slow;
    }
    fn one(failure: bool, slow: bool) -> Counts {
        Counts { calls: 1, failures: failure as u32, slow: slow as u32 }
    }
}

/// Which window a breaker uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WindowConfig {
    Time { duration_ms: f64, buckets: u32 },
    Count { size: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    Time(TimeWindow),
    Count(CountWindow),
}

impl Window {
    pub fn new(config: WindowConfig) -> Self {
        match config {
            WindowConfig::Time { duration_ms, buckets } => Window::Time(TimeWindow::new(duration_ms, buckets)),
            WindowConfig::Count { size } => Window::Count(CountWindow::new(size)),
        }
    }

    pub fn record(&mut self, now: f64, failure: bool, slow: bool) {
        match self {
            Window::Time(w) => w.record(now, failure, slow),
            Window::Count(w) => w.record(failure, slow),
        }
    }

    /// Records `count` successes at `now` in O(1) (a count window keeps at most its size).
    pub fn record_successes(&mut self, now: f64, count: u32) {
        match self {
            Window::Time(w) => {
                w.rotate(now);
                let n = w.buckets.len() as i64;
                let b = &mut w.buckets[w.head.rem_euclid(n) as usize];
                b.calls = b.calls.saturating_add(count);
                w.totals.calls = w.totals.calls.saturating_add(count);
            }
            Window::Count(w) => {
                for _ in 0..count.min(w.ring.len() as u32) {
                    w.record(false, false);
                }
            }
        }
    }

    pub fn totals(&mut self, now: f64) -> Counts {
        match self {
            Window::Time(w) => {
                w.rotate(now);
                w.totals
            }
            Window::Count(w) => w.totals,
        }
    }

    pub fn clear(&mut self) {
        match self {
            Window::Time(w) => w.clear(),
            Window::Count(w) => w.clear(),
        }
    }

    /// The window's contents oldest first, for saving: per bucket (or per call) its counts.
    pub fn contents(&mut self, now: f64) -> Vec<Counts> {
        match self {
            Window::Time(w) => {
                w.rotate(now);
                let n = w.buckets.len() as i64;
                let mut v = Vec::new();
                for i in 0..n {
                    v.push(w.buckets[(w.head + 1 + i).rem_euclid(n) as usize]);
                }
                v
            }
            Window::Count(w) => {
                let n = w.ring.len();
                let start = if w.len < n { 0 } else { w.pos };
                let mut v = Vec::new();
                for i in 0..w.len {
                    v.push(w.ring[(start + i) % n]);
                }
                v
            }
        }
    }

    /// Refills the window from saved contents (oldest first); the newest entry lands in the
    /// bucket for `now`. Contents longer than the window keep their newest part.
    pub fn restore(&mut self, now: f64, contents: &[Counts]) {
        self.clear();
        match self {
            Window::Time(w) => {
                w.rotate(now);
                let n = w.buckets.len();
                let keep = &contents[contents.len().saturating_sub(n)..];
                for (i, c) in keep.iter().enumerate() {
                    let age = (keep.len() - 1 - i) as i64;
                    let idx = (w.head - age).rem_euclid(n as i64) as usize;
                    w.buckets[idx] = *c;
                    w.totals.add(*c);
                }
            }
            Window::Count(w) => {
                let keep = &contents[contents.len().saturating_sub(w.ring.len())..];
                for c in keep {
                    w.record(c.failures > 0, c.slow > 0);
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeWindow {
    bucket_ms: f64,
    buckets: Box<[Counts]>,
    /// Absolute index (`floor(now / bucket_ms)`) of the newest bucket.
    head: i64,
    totals: Counts,
}

impl TimeWindow {
    fn new(duration_ms: f64, buckets: u32) -> Self {
        TimeWindow {
            bucket_ms: duration_ms / buckets as f64,
            buckets: vec![Counts::default(); buckets as usize].into_boxed_slice(),
            head: 0,
            totals: Counts::default(),
        }
    }

    fn index(&self, now: f64) -> i64 {
        // Bounded well inside i64, so that `head ± buckets` cannot overflow however large the
        // time (a reading of 1e300 overflowed `head + 1`: found by fuzzing).
        const LIMIT: f64 = (1u64 << 53) as f64;
        (now / self.bucket_ms).floor().clamp(-LIMIT, LIMIT) as i64
    }

    /// Expires the buckets that `now` has moved past.
    fn rotate(&mut self, now: f64) {
        let idx = self.index(now);
        if idx <= self.head {
            return;
        }
        let n = self.buckets.len() as i64;
        let gap = idx.saturating_sub(self.head);
        if gap >= n {
            self.clear();
        } else {
            for i in 1..=gap {
                let b = &mut self.buckets[(self.head + i).rem_euclid(n) as usize];
                self.totals.sub(*b);
                *b = Counts::default();
            }
        }
        self.head = idx;
    }

    fn record(&mut self, now: f64, failure: bool, slow: bool) {
        self.rotate(now);
        let n = self.buckets.len() as i64;
        let c = Counts::one(failure, slow);
        self.buckets[self.head.rem_euclid(n) as usize].add(c);
        self.totals.add(c);
    }

    fn clear(&mut self) {
        self.buckets.iter_mut().for_each(|b| *b = Counts::default());
        self.totals = Counts::default();
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CountWindow {
    ring: Box<[Counts]>,
    pos: usize,
    len: usize,
    totals: Counts,
}

impl CountWindow {
    fn new(size: u32) -> Self {
        CountWindow { ring: vec![Counts::default(); size as usize].into_boxed_slice(), pos: 0, len: 0, totals: Counts::default() }
    }

    fn record(&mut self, failure: bool, slow: bool) {
        let c = Counts::one(failure, slow);
        if self.len == self.ring.len() {
            self.totals.sub(self.ring[self.pos]);
        } else {
            self.len += 1;
        }
        self.ring[self.pos] = c;
        self.totals.add(c);
        self.pos = (self.pos + 1) % self.ring.len();
    }

    fn clear(&mut self) {
        self.ring.iter_mut().for_each(|b| *b = Counts::default());
        self.pos = 0;
        self.len = 0;
        self.totals = Counts::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_window_expires_old_buckets() {
        let mut w = Window::new(WindowConfig::Time { duration_ms: 1000.0, buckets: 10 });
        for t in 0..10 {
            w.record(t as f64 * 100.0, true, false);
        }
        assert_eq!(w.totals(950.0).calls, 10);
        assert_eq!(w.totals(1000.0).calls, 9, "bucket [0,100) expired");
        assert_eq!(w.totals(1450.0).calls, 5);
        // A long idle gap clears everything (cockatiel keeps stale buckets here).
        assert_eq!(w.totals(1e9).calls, 0);
        w.record(1e9, false, true);
        assert_eq!(w.totals(1e9), Counts { calls: 1, failures: 0, slow: 1 });
        // Times far beyond any clock (found by fuzzing: `head + 1` overflowed) still count.
        for t in [1e300, f64::MAX] {
            w.record(t, true, false);
            assert_eq!(w.contents(t).iter().map(|c| c.calls).sum::<u32>(), w.totals(t).calls);
        }
    }

    #[test]
    fn count_window_keeps_last_n() {
        let mut w = Window::new(WindowConfig::Count { size: 3 });
        w.record(0.0, true, false);
        w.record(0.0, true, false);
        w.record(0.0, false, false);
        w.record(0.0, false, true);
        assert_eq!(w.totals(0.0), Counts { calls: 3, failures: 1, slow: 1 });
        let saved = w.contents(0.0);
        let mut w2 = Window::new(WindowConfig::Count { size: 3 });
        w2.restore(5.0, &saved);
        assert_eq!(w2.totals(5.0), w.totals(0.0));
    }

    #[test]
    fn time_window_round_trips_relative_to_now() {
        let mut w = Window::new(WindowConfig::Time { duration_ms: 1000.0, buckets: 4 });
        w.record(0.0, true, false);
        w.record(600.0, false, false);
        let saved = w.contents(700.0);
        let mut w2 = Window::new(WindowConfig::Time { duration_ms: 1000.0, buckets: 4 });
        w2.restore(50_700.0, &saved);
        assert_eq!(w2.totals(50_700.0).calls, 2);
        assert_eq!(w2.totals(51_000.0).calls, 1, "the older call expires first");
    }

    fn c(calls: u32, failures: u32, slow: u32) -> Counts {
        Counts { calls, failures, slow }
    }

    #[test]
    fn counts_read_back_only_whole_numbers_that_fit() {
        let read = |t: &str| Counts::from_json(&Json::parse(t).unwrap());
        assert_eq!(read(r#"{"calls":3,"failures":1,"slow":2}"#), Some(c(3, 1, 2)));
        assert_eq!(read(r#"{"calls":4294967295,"failures":0,"slow":0}"#), Some(c(u32::MAX, 0, 0)));
        for bad in [
            r#"{"calls":4294967296,"failures":0,"slow":0}"#,
            r#"{"calls":1,"failures":-1,"slow":0}"#,
            r#"{"calls":1,"failures":0,"slow":0.5}"#,
            r#"{"calls":1,"failures":0}"#,
            r#"{"calls":"1","failures":0,"slow":0}"#,
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
        assert_eq!(Counts::from_json(&c(5, 4, 3).to_json()), Some(c(5, 4, 3)));
    }

    #[test]
    fn expiry_takes_away_failures_and_slow_calls_too() {
        let mut w = Window::new(WindowConfig::Time { duration_ms: 400.0, buckets: 4 });
        w.record(0.0, true, true);
        w.record(0.0, true, false);
        w.record(100.0, true, true);
        w.record(300.0, false, false);
        assert_eq!(w.totals(300.0), c(4, 3, 2));
        assert_eq!(w.totals(400.0), c(2, 1, 1), "the bucket of time 0 expired");
        assert_eq!(w.totals(500.0), c(1, 0, 0));
        let mut w = Window::new(WindowConfig::Count { size: 2 });
        w.record(0.0, true, true);
        w.record(0.0, false, true);
        w.record(0.0, false, false);
        assert_eq!(w.totals(0.0), c(2, 0, 1));
    }

    #[test]
    fn contents_are_oldest_first_and_restore_keeps_the_newest() {
        let mut w = Window::new(WindowConfig::Time { duration_ms: 400.0, buckets: 4 });
        w.record(0.0, true, false);
        w.record(200.0, false, true);
        w.record(200.0, false, false);
        assert_eq!(w.contents(300.0), vec![c(1, 1, 0), c(0, 0, 0), c(2, 0, 1), c(0, 0, 0)]);
        // Six saved buckets into four: the newest four, the last in the bucket of `now`.
        let saved = [c(9, 9, 9), c(8, 8, 8), c(1, 0, 0), c(2, 1, 0), c(3, 0, 1), c(4, 2, 2)];
        let mut w = Window::new(WindowConfig::Time { duration_ms: 400.0, buckets: 4 });
        w.record(0.0, true, true);
        w.restore(1000.0, &saved);
        assert_eq!(w.contents(1000.0), saved[2..].to_vec());
        assert_eq!(w.totals(1000.0), c(10, 3, 3));
        assert_eq!(w.totals(1100.0), c(9, 3, 3), "the oldest restored bucket expires first");

        let mut w = Window::new(WindowConfig::Count { size: 3 });
        w.record(0.0, true, false);
        w.record(0.0, false, true);
        assert_eq!(w.contents(0.0), vec![c(1, 1, 0), c(1, 0, 1)], "not yet full");
        w.record(0.0, false, false);
        w.record(0.0, true, true);
        assert_eq!(w.contents(0.0), vec![c(1, 0, 1), c(1, 0, 0), c(1, 1, 1)], "wrapped");
        let mut w2 = Window::new(WindowConfig::Count { size: 2 });
        w2.record(0.0, true, true);
        w2.restore(0.0, &[c(1, 1, 0), c(1, 0, 1), c(1, 0, 0), c(1, 1, 0)]);
        assert_eq!(w2.contents(0.0), vec![c(1, 0, 0), c(1, 1, 0)]);
        assert_eq!(w2.totals(0.0), c(2, 1, 0));
    }

    #[test]
    fn a_cleared_count_window_starts_over() {
        let mut w = Window::new(WindowConfig::Count { size: 3 });
        for f in [true, false, true, true] {
            w.record(0.0, f, false);
        }
        w.clear();
        assert_eq!((w.totals(0.0), w.contents(0.0)), (c(0, 0, 0), vec![]));
        w.record(0.0, false, true);
        w.record(0.0, true, false);
        assert_eq!(w.contents(0.0), vec![c(1, 0, 1), c(1, 1, 0)]);
        assert_eq!(w.totals(0.0), c(2, 1, 1));
        w.record_successes(0.0, 10);
        assert_eq!(w.totals(0.0), c(3, 0, 0));
    }
}
