//! The breaker's guarded call in one crossing: acquire, call, record — the steps the Python
//! shell's `CircuitBreaker.call` would make with two engine calls and a Python frame, here made
//! from Rust. It still only converts: the engine decides, and every case that is not the plain
//! one (a probe, a refusal, a failure, waiting events) goes back to the Python breaker's own
//! methods (`_admitted_specially`, `_exit`, `_drain`, `_refuse_awaitable`, `_settle`). It holds that
//! breaker strongly (a weak reference failed `CircuitBreaker().call(fn)`: the temporary breaker
//! went away during its own call) and takes part in the cyclic GC, which frees the pair.
//!
//! Only the sync form lives here. An async form (a native awaitable forwarding `send`/`throw`
//! to the coroutine) was measured no faster than the Python coroutine (≈ 360 ns overhead
//! either way on CPython 3.11): the `call_async`, `__await__` and `__next__` crossings and the
//! awaitable's allocation cost what the Python frame did, and it is not a real coroutine.


use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::{Engine, Tally};

#[pyclass(module = "seawall._native", frozen)]
pub struct BreakerCall {
    engine: Py<Engine>,
    handle: u32,
    owner: Py<PyAny>,
    /// The successes the Python breaker counted itself: handed over before this call's input.
    tally: Py<Tally>,
}

impl BreakerCall {
    fn owner<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.owner.bind(py).clone())
    }

    /// Acquires; a probe or a refusal is the Python breaker's to handle (it raises on refusal).
    fn enter(&self, py: Python<'_>) -> PyResult<(f64, f64)> {
        let (flushed, permit, started) = {
            let mut e = self.engine.bind(py).try_borrow_mut()?;
            let tally = self.tally.get();
            let flushed = if tally.pending() > 0 { e.breaker_flush(self.handle, tally) } else { -1.0 };
            (flushed, e.breaker_acquire_now(self.handle), crate::last_now())
        };
        if flushed >= 0.0 {
            self.owner(py)?.call_method1("_learn", (flushed,))?;
        }
        if permit != 0.0 {
            self.owner(py)?.call_method1("_admitted_specially", (permit,))?;
        }
        Ok((permit, started))
    }

    fn succeed(&self, py: Python<'_>, permit: f64, started: f64) -> PyResult<()> {
        let r = self.engine.bind(py).try_borrow_mut()?.breaker_record_success(self.handle, permit, started);
        if r >= seawall_core::Engine::EVENTS_WAITING {
            self.owner(py)?.call_method0("_drain")?;
        }
        Ok(())
    }

    /// How an exception counts is the Python breaker's call (`is_failure`, cancellation).
    fn fail(&self, py: Python<'_>, permit: f64, started: f64, err: &PyErr) -> PyResult<()> {
        self.owner(py)?.call_method1("_exit", (permit, started, err.value(py)))?;
        Ok(())
    }
}

#[pymethods]
impl BreakerCall {
    #[new]
    fn new(engine: Py<Engine>, handle: u32, owner: &Bound<'_, PyAny>, tally: Py<Tally>) -> PyResult<Self> {
        Ok(BreakerCall { engine, handle, owner: owner.clone().unbind(), tally })
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.owner)?;
        visit.call(&self.engine)?;
        visit.call(&self.tally)
    }

    /// `fn(*args, **kwargs)` through the breaker; a function that answers an awaitable is refused.
    #[pyo3(signature = (func, /, *args, **kwargs))]
    fn call(&self, py: Python<'_>, func: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        self.guarded(py, func, args, kwargs, false)
    }

    /// As `call`, but an awaitable answer is awaited under the permit: answers the breaker's
    /// `_settle` coroutine for it (decorated plain functions, `retry_with_backoff`).
    #[pyo3(signature = (func, /, *args, **kwargs))]
    fn call_either(&self, py: Python<'_>, func: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Py<PyAny>> {
        self.guarded(py, func, args, kwargs, true)
    }
}

impl BreakerCall {
    fn guarded(&self, py: Python<'_>, func: &Bound<'_, PyAny>, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>, either: bool) -> PyResult<Py<PyAny>> {
        let (permit, started) = self.enter(py)?;
        match func.call(args, kwargs) {
            // An awaitable: awaited under the permit, or (sync-only `call`) refused: nothing ran.
            Ok(v) if is_awaitable(py, &v)? => {
                if either {
                    return Ok(self.owner(py)?.call_method1("_settle", (permit, started, v))?.unbind());
                }
                let error = self.owner(py)?.call_method1("_refuse_awaitable", (permit, started, func, v))?;
                Err(PyErr::from_value(error))
            }
            Ok(v) => {
                self.succeed(py, permit, started)?;
                Ok(v.unbind())
            }
            // Not a function at all: nothing ran; the core words the error.
            Err(_) if !func.is_callable() => {
                let error = self.owner(py)?.call_method1("_refuse_argument", (permit, started, func))?;
                Err(PyErr::from_value(error))
            }
            Err(e) => {
                self.fail(py, permit, started, &e)?;
                Err(e)
            }
        }
    }
}

fn coroutine_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static COROUTINE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    COROUTINE.import(py, "types", "CoroutineType")
}

/// A coroutine, or anything whose type has `__await__` (a future, a task); the common plain
/// results are answered without looking the attribute up.
fn is_awaitable(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<bool> {
    let t = v.get_type();
    if t.is(coroutine_type(py)?) {
        return Ok(true);
    }
    if v.is_none() || v.is_exact_instance_of::<PyInt>() || v.is_exact_instance_of::<PyString>() || v.is_exact_instance_of::<PyFloat>()
        || v.is_exact_instance_of::<PyDict>() || v.is_exact_instance_of::<PyList>() || v.is_exact_instance_of::<PyTuple>()
        || v.is_exact_instance_of::<PyBool>() || v.is_exact_instance_of::<PyBytes>()
    {
        return Ok(false);
    }
    t.hasattr(intern!(py, "__await__"))
}
