"""How a guard takes a callable. Decorators: ``Guarded``, which calls the guard's
``call_either(fn, *args, **kwargs)`` or ``call_async`` (no Python frame of its own), binds like a
method when read from an instance, and for an async ``fn`` looks like a coroutine function to
``inspect`` and ``asyncio``.

A plain function may still answer an awaitable (``lambda: client.get(url)``, a ``def`` that
returns a coroutine): what it is shows only once it is called. ``call_either`` is each guard's
entry for such callables: it answers a plain result as it is, and for an awaitable a coroutine
that awaits it inside the guard (holding its permit or slot, within its retries). A guard's
strict sync ``call`` refuses an awaitable with a typed error instead of passing it out unawaited."""
from __future__ import annotations

import functools
import inspect
import types
import weakref
from typing import Any, Callable, TypeVar


COROUTINE = types.CoroutineType
#: A decorated function: the decorators answer one of the same type (parameters, return, async).
F = TypeVar("F", bound=Callable[..., Any])
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


class Guarded(functools.partial):  # type: ignore[type-arg]
    """A decorated function: its guard's ``call(fn, *args, **kwargs)``. A partial is called by the
    interpreter's vectorcall with no Python frame and no argument tuple rebuilt (measured ~100 ns
    less a call than a native wrapper that took ``*args``), and ``inspect.iscoroutinefunction``
    sees through it to ``call_async``, a coroutine function. Read from an instance, it binds the
    function as a method would, sharing the wrapper's attributes."""

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        get = getattr(self.args[0], "__get__", None)
        if get is None:  # a callable that is not a descriptor stays unbound, as Python leaves it
            return self
        bound = type(self)(self.func, get(obj, objtype))
        bound.__dict__ = self.__dict__
        return bound


# Each decorated function's policy (held weakly) and the method it calls: the method is read
# once, when decorating, so when instrumentation puts observed methods in place or takes them
# away, ``rebind`` reads it again.
_guards: "weakref.WeakKeyDictionary[Guarded, Any]" = weakref.WeakKeyDictionary()


def guard(fn: F, policy: Any) -> F:
    """``fn`` guarded by ``policy``: through its ``call_async`` for a coroutine function, else
    its ``_call_either``."""
    method = "call_async" if inspect.iscoroutinefunction(fn) else "_call_either"
    wrapper = Guarded(getattr(policy, method), fn)
    functools.update_wrapper(wrapper, fn)
    _guards[wrapper] = (weakref.ref(policy), method)
    return wrapper  # type: ignore[return-value]


def rebind() -> None:
    """Every decorated function calls its policy's method as it is now."""
    for wrapper, (policy_ref, method) in list(_guards.items()):
        policy = policy_ref()
        if policy is not None:
            wrapper.__setstate__((getattr(policy, method), wrapper.args, wrapper.keywords or None, wrapper.__dict__))
