"""How a guard takes a callable. Decorators: a native callable that calls the guard's
``call_either(fn, *args, **kwargs)`` or ``call_async`` (no Python frame of its own), binds like a
method when read from an instance, and for an async ``fn`` looks like a coroutine function to
``inspect`` and ``asyncio`` (as Cython's compiled functions do).

A plain function may still answer an awaitable (``lambda: client.get(url)``, a ``def`` that
returns a coroutine): what it is shows only once it is called. ``call_either`` is each guard's
entry for such callables: it answers a plain result as it is, and for an awaitable a coroutine
that awaits it inside the guard (holding its permit or slot, within its retries). A guard's
strict sync ``call`` refuses an awaitable with a typed error instead of passing it out unawaited."""
from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable

from . import _native

COROUTINE = types.CoroutineType
# Results that are never awaitable, so the common ones skip the slower check.
NEVER_AWAITABLE = frozenset({type(None), bool, int, float, str, bytes, dict, list, tuple, set})


def is_awaitable(value: Any) -> bool:
    t = type(value)
    return t is COROUTINE or (t not in NEVER_AWAITABLE and inspect.isawaitable(value))


def discard(awaitable: Any) -> None:
    """An awaitable refused unawaited: a coroutine is closed (it never started, so nothing ran
    and no 'never awaited' warning follows); a future or task already running is left alone."""
    if type(awaitable) is COROUTINE:
        awaitable.close()


def guard(fn: Callable[..., Any], call_either: Callable[..., Any], call_async: Callable[..., Any]) -> Callable[..., Any]:
    is_async = inspect.iscoroutinefunction(fn)
    wrapper = _native.Guarded(call_async if is_async else call_either, fn)
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
