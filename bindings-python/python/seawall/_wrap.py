"""One way to turn a guard's ``call`` / ``call_async`` into a decorator for sync and async
functions alike: a native callable that calls ``call(fn, *args, **kwargs)`` (no Python frame
of its own), binds like a method when read from an instance, and for an async ``fn`` looks
like a coroutine function to ``inspect`` and ``asyncio`` (as Cython's compiled functions do)."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from . import _native


def guard(fn: Callable[..., Any], call: Callable[..., Any], call_async: Callable[..., Any]) -> Callable[..., Any]:
    is_async = inspect.iscoroutinefunction(fn)
    wrapper = _native.Guarded(call_async if is_async else call, fn)
    functools.update_wrapper(wrapper, fn)
    if is_async:
        # `inspect.iscoroutinefunction` reads the coroutine flag of a function-like object's
        # code (Python 3.10/3.11); 3.12+ also has an explicit mark.
        wrapper.__code__ = fn.__code__  # type: ignore[attr-defined]
        wrapper.__defaults__ = getattr(fn, "__defaults__", None)  # type: ignore[attr-defined]
        wrapper.__kwdefaults__ = getattr(fn, "__kwdefaults__", None)  # type: ignore[attr-defined]
        mark = getattr(inspect, "markcoroutinefunction", None)
        if mark is not None:
            mark(wrapper)
    return wrapper
