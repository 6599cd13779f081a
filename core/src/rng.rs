//! The portable seeded generator every random draw in Seawall comes from.
//!
//! xoshiro256** seeded through SplitMix64: integer arithmetic only, so the same seed gives the
//! same draws on x86-64, aarch64 and wasm32. The caller owns the generator (one per policy or
//! per call) and decides how it is seeded: a fixed seed in tests, OS or `crypto` entropy in the
//! shells. The core never reads entropy itself.

/// A small, fast, deterministic generator. Cloning it forks the sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededRng {
    s: [u64; 4],
}

impl SeededRng {
    /// Seeds the four words of state from one 64-bit seed with SplitMix64, as the xoshiro
    /// authors recommend; the all-zero state cannot arise.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        SeededRng { s: [next(), next(), next(), next()] }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform draw in [0, 1) with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform draw in [lo, hi) (or exactly `lo` when the range is empty).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let u = self.next_f64();
        if hi <= lo {
            lo
        } else {
            lo + (hi - lo) * u
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = SeededRng::new(42);
        let mut b = SeededRng::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(SeededRng::new(1).next_u64(), SeededRng::new(2).next_u64());
    }

    #[test]
    fn known_first_values_pin_the_algorithm() {
        // Pinned so that any change to the generator (which would change every trace) is loud.
        let mut r = SeededRng::new(0);
        let first = r.next_u64();
        let second = r.next_u64();
        assert_eq!((first, second), (0x99ec5f36cb75f2b4, 0xbf6e1f784956452a));
    }

    #[test]
    fn floats_stay_in_unit_interval() {
        let mut r = SeededRng::new(7);
        for _ in 0..10_000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
        assert_eq!(r.uniform(3.0, 3.0), 3.0);
    }
}
