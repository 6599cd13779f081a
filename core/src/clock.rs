//! Time as the machines read it: the latest finite reading, never going back. A reading that is
//! earlier, NaN or infinite counts as the latest one (0 before any), so a bad reading from a
//! user's clock can neither rewind a machine nor freeze it: an infinite reading once stopped the
//! breaker's clock for good, leaving an open breaker open forever (found by fuzzing).

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Latest(f64);

impl Latest {
    pub(crate) const fn start() -> Self {
        Latest(f64::NEG_INFINITY)
    }

    /// Takes a reading and answers the time to use.
    pub(crate) fn tick(&mut self, reading: f64) -> f64 {
        if reading.is_finite() && reading > self.0 {
            self.0 = reading;
        }
        self.get()
    }

    pub(crate) fn get(self) -> f64 {
        if self.0.is_finite() {
            self.0
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Latest;

    #[test]
    fn bad_readings_count_as_the_latest() {
        let mut t = Latest::start();
        assert_eq!(t.get(), 0.0);
        assert_eq!(t.tick(-5.0), -5.0);
        assert_eq!(t.tick(10.0), 10.0);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 3.0] {
            assert_eq!(t.tick(bad), 10.0, "{bad}");
        }
        assert_eq!(t.tick(11.0), 11.0, "time goes on after a bad reading");
    }
}
