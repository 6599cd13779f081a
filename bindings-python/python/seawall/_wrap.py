"""One way to turn a guard's ``call`` / ``call_async`` into a decorator for sync and async
functions alike: a partial of the hot path itself, so decorating adds no frame or coroutine."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable


def guard(fn: Callable[..., Any], call: Callable[..., Any], call_async: Callable[..., Any]) -> Callable[..., Any]:
    wrapper = functools.partial(call_async if inspect.iscoroutinefunction(fn) else call, fn)
    return functools.update_wrapper(wrapper, fn)
