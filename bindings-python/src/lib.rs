//! `seawall._native`: the pyo3 backend of the `seawall` Python package. It converts, never
//! decides: every method is one call into [`seawall_core::Engine`].
//!
//! Times are milliseconds, as in the core; `None` means "read the host's monotonic clock" (done
//! here, inside the same call); any number, NaN included, goes to the core as it is. Options arrive as JSON text in seconds (`seconds=True`).
//! Errors become `TypeError` / `ValueError` (option errors) or `seawall._native.NativeError`,
//! each carrying `code`, `option` and `value` attributes. The engine holds no Python objects;
//! every call runs with the GIL held, so calls from many threads are serialized and each is
//! atomic (the breaker's counts stay exact, its probe limit holds).

mod guard;
/// The cold operations, generated from the boundary's declaration (`bindings-shared`).
mod ops;

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use seawall_bindings_shared::now_or_host;
use seawall_core::{Engine as CoreEngine, ErrorKind, SeawallError};

create_exception!(_native, NativeError, PyException, "An error raised by the Seawall core (carries `code`).");

fn to_py(e: SeawallError) -> PyErr {
    let err = match e.kind {
        ErrorKind::Type => PyTypeError::new_err(e.message.clone()),
        ErrorKind::Range => PyValueError::new_err(e.message.clone()),
        ErrorKind::Rejected | ErrorKind::Internal => NativeError::new_err(e.message.clone()),
    };
    Python::attach(|py| {
        let v = err.value(py);
        let _ = v.setattr("code", e.code.as_str());
        let _ = v.setattr("kind", e.kind.as_str());
        let _ = v.setattr("option", e.option.clone());
        let _ = v.setattr("value", e.value.clone());
    });
    err
}

fn checked<T>(r: seawall_core::Result<T>) -> PyResult<T> {
    r.map_err(to_py)
}

/// Successes a Python breaker counted itself (a closed breaker's success changes nothing but
/// counters: see `success_is_inert_in`), handed to the engine before the breaker's next input.
/// Atomic, so tasks and threads count at once without a lock and none is lost.
#[pyclass(module = "seawall._native", frozen)]
pub struct Tally(AtomicU64);

#[pymethods]
impl Tally {
    #[new]
    fn new() -> Self {
        Tally(AtomicU64::new(0))
    }

    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Counted and not yet handed over.
    fn pending(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Tally {
    fn take(&self) -> u64 {
        self.0.swap(0, Ordering::AcqRel)
    }
}

/// One engine per interpreter (the package makes one). See `seawall_core::engine` for the
/// encodings of the hot-path answers.
#[pyclass(module = "seawall._native")]
pub struct Engine {
    inner: CoreEngine,
    /// Set while the shell's virtual clock is installed: "no time given" then means this.
    manual_now: Option<f64>,
}

thread_local! {
    /// The time this thread's last engine call used, so the shell can time a call without a
    /// clock read. Per thread: the engine serves every thread, and between a call and the
    /// shell's reading of it another thread may run and make calls of its own.
    static LAST_NOW: Cell<f64> = const { Cell::new(0.0) };
}

pub(crate) fn last_now() -> f64 {
    LAST_NOW.with(Cell::get)
}

impl Engine {
    fn at(&mut self, now: Option<f64>) -> f64 {
        let t = now_or_host(now.or(self.manual_now));
        LAST_NOW.with(|c| c.set(t));
        t
    }
}

/// The constructor, the clock and the hot paths; the cold operations are generated (`ops.rs`).
#[pymethods]
impl Engine {
    #[new]
    fn new() -> Self {
        Engine { inner: CoreEngine::new(), manual_now: None }
    }

    /// The shell's virtual clock (ms), or None for the host clock: what "no time" means.
    #[pyo3(signature = (now=None))]
    fn set_manual_clock(&mut self, now: Option<f64>) {
        self.manual_now = now;
    }

    /// The host clock, ms (monotonic).
    fn now(&mut self) -> f64 {
        self.at(None)
    }

    /// The time this thread's last engine call used, ms.
    #[pyo3(name = "last_now")]
    fn last_now_py(&self) -> f64 {
        last_now()
    }

    /// Hot path: a permit (≥ 0) or `-(1 + state code)`.
    fn breaker_acquire(&mut self, handle: u32, now: Option<f64>) -> f64 {
        let now = self.at(now);
        self.inner.breaker_acquire(handle, now).0
    }

    /// Hot path with the clock in use: `breaker_acquire(handle, None)` in one argument.
    fn breaker_acquire_now(&mut self, handle: u32) -> f64 {
        let now = self.at(None);
        self.inner.breaker_acquire(handle, now).0
    }

    /// Hot path with the clock in use: a success, `breaker_record(handle, permit, 0, None, started_at)`.
    fn breaker_record_success(&mut self, handle: u32, permit: f64, started_at: f64) -> f64 {
        let now = self.at(None);
        self.inner.breaker_record(handle, permit, 0, now, started_at)
    }

    /// Hot path: state code (+ 8 when events wait), or -1 for a permit not outstanding.
    fn breaker_record(&mut self, handle: u32, permit: f64, outcome: u32, now: Option<f64>, started_at: f64) -> f64 {
        let now = self.at(now);
        self.inner.breaker_record(handle, permit, outcome, now, started_at)
    }

    /// Hands a tally's successes to the breaker: its state code (+ 8 when events wait), or -1
    /// when there was nothing to hand over.
    fn breaker_flush(&mut self, handle: u32, tally: &Tally) -> f64 {
        let mut n = tally.take();
        if n == 0 {
            return -1.0;
        }
        let now = self.at(None);
        let mut r = -1.0;
        while n > 0 {
            let chunk = n.min(u64::from(u32::MAX));
            r = self.inner.breaker_record_successes(handle, chunk as u32, now);
            n -= chunk;
        }
        r
    }

    /// Hot path: `(kind, value)`: (0, permit) run, (1, ticket) queued, (2, 0|1) rejected.
    fn bulkhead_acquire(&mut self, handle: u32, now: Option<f64>) -> (u8, f64) {
        let now = self.at(now);
        self.inner.bulkhead_acquire(handle, now)
    }

    /// `(ticket, permit)` of the queued call that starts now (ticket 0: none).
    fn bulkhead_release(&mut self, handle: u32, permit: f64, now: Option<f64>) -> PyResult<(f64, f64)> {
        let now = self.at(now);
        checked(self.inner.bulkhead_release(handle, permit, now))
    }
}

// ---- stateless functions ------------------------------------------------------------------

/// The simulator over a scenario file (JSON text); answers JSON text. The GIL is released
/// while it runs (a long scenario takes seconds).
#[pyfunction]
fn simulate(py: Python<'_>, scenario_json: &str) -> PyResult<String> {
    let text = scenario_json.to_string();
    checked(py.detach(move || seawall_simulator::simulate(&text)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_class::<Tally>()?;
    m.add_class::<guard::BreakerCall>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    ops::register(m)?;
    m.add("PREAPPROVED_PERMIT", CoreEngine::PREAPPROVED_PERMIT)?;
    Ok(())
}
