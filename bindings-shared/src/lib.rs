//! Host services the native bindings share. The core has no clock (it is sans-I/O); the napi
//! and pyo3 bindings read one here, inside the same crossing as a hot-path call, when the shell
//! passes no time (`undefined` / `None`). Any number given, NaN included, goes to the core as it
//! is. The wasm binding has no clock of its own: its shell passes `performance.now()`.

use std::cell::Cell;

/// Monotonic milliseconds from the kernel's coarse clock (a few ns to read; its resolution is
/// the scheduler tick, 1–4 ms), counted from this thread's first reading.
pub fn monotonic_ms() -> f64 {
    thread_local! { static ORIGIN: Cell<f64> = const { Cell::new(f64::NAN) }; }
    let t = raw_clock_ms();
    ORIGIN.with(|o| {
        if o.get().is_nan() {
            o.set(t);
        }
        t - o.get()
    })
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
    thread_local! { static START: std::time::Instant = std::time::Instant::now(); }
    START.with(|s| s.elapsed().as_secs_f64() * 1000.0)
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
}
