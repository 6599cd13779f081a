//! What the bindings share: the boundary's declaration ([`boundary`]), from which each binding's
//! cold operations are generated, and host services of the native bindings. The core has no clock (it is sans-I/O); the napi
//! and pyo3 bindings read one here, inside the same crossing as a hot-path call, when the shell
//! passes no time (`undefined` / `None`). Any number given, NaN included, goes to the core as it
//! is. The wasm binding has no clock of its own: its shell passes `performance.now()`.

pub mod boundary;

use std::sync::OnceLock;

/// Monotonic milliseconds from the kernel's coarse clock (a few ns to read; its resolution is
/// the scheduler tick, 1–4 ms), counted from the process's first reading. One origin for every
/// thread: an engine and its breakers serve many threads (Python's thread pools, a fleet's sync
/// thread), and a breaker keeps the latest time it has seen, so a thread whose clock started
/// later would read as the past and its open periods would last too long.
pub fn monotonic_ms() -> f64 {
    static ORIGIN: OnceLock<f64> = OnceLock::new();
    let t = raw_clock_ms();
    t - *ORIGIN.get_or_init(|| t)
}

/// `now`, or the host clock when the shell gave no time (its "read it for me").
pub fn now_or_host(now: Option<f64>) -> f64 {
    now.unwrap_or_else(monotonic_ms)
}

#[cfg(target_os = "linux")]
fn raw_clock_ms() -> f64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_MONOTONIC_COARSE: i32 = 6;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec; CLOCK_MONOTONIC_COARSE exists on Linux ≥ 2.6.32.
    unsafe { clock_gettime(CLOCK_MONOTONIC_COARSE, &mut ts) };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

#[cfg(not(target_os = "linux"))]
fn raw_clock_ms() -> f64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_nan_means_host() {
        let a = monotonic_ms();
        let b = now_or_host(None);
        assert!(b >= a && a >= 0.0);
        assert_eq!(now_or_host(Some(5.0)), 5.0);
        assert!(now_or_host(Some(f64::NAN)).is_nan(), "a NaN the shell passes is the core's to judge");
    }

    #[test]
    fn every_thread_reads_one_clock() {
        let before = monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        // A thread that starts later reads the same clock, not one of its own from 0.
        let other = std::thread::spawn(monotonic_ms).join().unwrap();
        let after = monotonic_ms();
        assert!(other >= before + 20.0, "a later thread read {other} ms, the first {before} ms");
        assert!(other <= after, "{other} > {after}");
    }
}
