"""The one engine of this interpreter, and how options cross to it.

Options cross as JSON in seconds. Callables become "<function>" and other host objects
"<object>", so the core checks names, types and presence while Python keeps them; NaN and
infinities become strings so that they are rejected by name instead of vanishing.
"""
from __future__ import annotations

import inspect
import json
import math
from typing import Any, Mapping

from . import _native

engine = _native.Engine()

STATES: list[str] = list(_native.state_names())
GIVE_UP_REASONS: list[str] = list(_native.give_up_reasons())
GIVE_UP_CODES: list[str] = list(_native.give_up_codes())


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ("NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity"))
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # A tuple of exception classes (retry_on) is a host object; a list of codes is data.
        if value and all(isinstance(v, type) for v in value):
            return "<object>"
        return [_jsonable(v) for v in value]
    if isinstance(value, type):
        return "<object>"
    if callable(value):
        return "<function>"
    return "<object>"


def snake(name: str) -> str:
    """The core's camelCase field names in Python's spelling (``timedOut`` → ``timed_out``)."""
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def options_json(options: Mapping[str, Any]) -> str:
    """Options (already in Python spelling and seconds) as the core reads them."""
    return json.dumps({k: _jsonable(v) for k, v in options.items() if v is not None})


def option_error(option: str, what: str, value: Any) -> TypeError:
    """The error for an option the core cannot check (a Python object: a policy, a function, an
    exception class), worded and coded as the core's option errors are."""
    err = TypeError(f"invalid option {option}: expected {what}, got {value!r}")
    err.code, err.option, err.value = "INVALID_OPTION", option, repr(value)  # type: ignore[attr-defined]
    return err


def checked_instance(value: Any, option: str, kind: type, what: str) -> Any:
    """``value`` if it is None or a ``kind``, else the option error naming it."""
    if value is not None and not isinstance(value, kind):
        raise option_error(option, what, value)
    return value


def argument_error(**arguments: Any) -> BaseException:
    """The error for a wrong call argument (``fn``, ``name``, ``advance`` …), worded by the core
    so that it reads the same in every language. Only on error paths: callers test first."""
    try:
        _native.validate("call", json.dumps({k: _jsonable(v) for k, v in arguments.items()}), True)
    except (TypeError, ValueError) as exc:
        return exc
    return TypeError(f"invalid arguments: {arguments!r}")  # the caller and the core disagree


def is_number(x: Any) -> bool:
    """An int or a float, not a bool (which Python counts as an int)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def finite_number(name: str, x: Any) -> float:
    """A number argument as a float, NaN when not given (None); anything else — a bool, a string,
    a non-finite float — is the core's error naming ``name``."""
    if x is None:
        return math.nan
    if not is_number(x) or not math.isfinite(x):
        raise argument_error(**{name: x})
    return float(x)


class AwaitableResultError(TypeError):
    """A sync-only entry (``call``) was given a function that answers an awaitable: it would
    never run inside the guard. Never retried: the same call fails the same way."""


def coroutine_function_error(fn: Any) -> TypeError:
    """A coroutine function, or a function that answered an awaitable, given where a plain one
    is called (``call``): the coroutine would never run inside the guard, and the caller would
    get a coroutine object as the result."""
    name = getattr(fn, "__qualname__", None) or repr(fn)
    err = AwaitableResultError(f"invalid option fn: expected a function that returns its result, got {name}, which answers an awaitable; use call_async")
    kind = "a coroutine function" if inspect.iscoroutinefunction(fn) else "a function that answers an awaitable"
    err.code, err.option, err.value = "INVALID_OPTION", "fn", kind  # type: ignore[attr-defined]
    return err
