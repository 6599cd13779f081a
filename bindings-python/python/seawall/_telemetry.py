"""What Seawall decides, logged on the ``seawall`` logger: silent until the application turns it on
(``logging.getLogger("seawall").setLevel(logging.INFO)`` with a handler), and reported to
OpenTelemetry once ``seawall.instrument()`` is called. The events, their levels and fields, the
instruments they feed and which errors make a call "rejected" or "timeout" are the core's
(core/src/telemetry.rs); Node publishes the same events on ``node:diagnostics_channel``. Each
record's message is the event's name and its ``seawall`` attribute holds
``{"event": name, <field>: value, …}``.

The per-call events (``call.ended``, ``attempt.ended``, ``rate_limit.waited``) are made only while
instrumented (with an SDK to record them): ``instrument()`` puts observed methods in the
policies' places (``observed``, ``route``), so that until then a call pays nothing for them."""
from __future__ import annotations

import contextvars
import functools
import inspect
import json
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _clock, _native
from ._wrap import is_awaitable, rebind

logger = logging.getLogger("seawall")
logger.addHandler(logging.NullHandler())

_TABLES = json.loads(_native.telemetry_events())
_EVENTS: Dict[str, Any] = {e["name"]: (logging.getLevelName(e["level"]), tuple(e["fields"])) for e in _TABLES["events"]}
_REJECTED = frozenset(_TABLES["rejected"])
_TIMED_OUT = frozenset(_TABLES["timedOut"])
#: The events that are a decision (a span's events), not a call's end.
DECISIONS = frozenset(e["name"] for e in _TABLES["events"] if e["level"] != "DEBUG")


class Scope:
    """A call in progress as a sink sees it (its span): ``attach`` makes it the current context
    (answering what ``detach`` takes back), ``end`` closes it."""

    def attach(self) -> Any:
        raise NotImplementedError

    def detach(self, token: Any) -> None:
        raise NotImplementedError

    def end(self, outcome: str, exc: Optional[BaseException]) -> None:
        raise NotImplementedError

    def answered(self, status: int) -> None:
        """An HTTP attempt's response arrived with ``status``."""
        raise NotImplementedError


class Sink:
    """Where an instrumented process's events go besides the logger (OpenTelemetry's sink)."""

    def event(self, name: str, fields: Dict[str, Any]) -> None:
        raise NotImplementedError

    def enter(self, kind: str, policy: Optional[str]) -> Optional[Scope]:
        raise NotImplementedError

    def http(self, method: str, url: str, resend_count: int, headers: Any) -> Optional[Scope]:
        """One HTTP attempt's span, its context written into ``headers`` (None: no spans)."""
        raise NotImplementedError


class _Observer:
    __slots__ = ("sink",)

    def __init__(self) -> None:
        self.sink: Optional[Sink] = None


observer = _Observer()


def listening(name: str) -> bool:
    """Whether ``name`` would be reported (the caller then builds the event's fields)."""
    return observer.sink is not None or logger.isEnabledFor(_EVENTS[name][0])


def report(name: str, **fields: Any) -> None:
    """Logs ``name`` with its declared fields, in order (None where not given), and hands it to
    the sink while instrumented."""
    level, declared = _EVENTS[name]
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={"seawall": {"event": name, **{f: fields.get(f) for f in declared}}})
    sink = observer.sink
    if sink is not None:
        sink.event(name, fields)


def error_type(exc: BaseException) -> str:
    """How an error is named in events: its code, else its type's name."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


def outcome_of(exc: Optional[BaseException]) -> str:
    """How a call ended, by the core's lists: success, rejected, timeout or failure."""
    if exc is None:
        return "success"
    code = getattr(exc, "code", None)
    if code in _REJECTED:
        return "rejected"
    if code in _TIMED_OUT:
        return "timeout"
    return "failure"


def _ended(event: str, fields: Dict[str, Any], started: float, exc: Optional[BaseException], scope: Optional[Scope]) -> None:
    outcome = outcome_of(exc)
    report(event, **fields, outcome=outcome, durationMs=(_clock.precise_now() - started) * 1000.0,
           errorType=None if exc is None else error_type(exc))
    if scope is not None:
        scope.end(outcome, exc)


# The policy whose observed method is running, so that its own inner calls (``_call_either``
# handing over to ``call_async``) are not observed twice.
_inside: contextvars.ContextVar[Any] = contextvars.ContextVar("seawall_observed", default=None)


class _Call:
    """One observed call: entered (its span made current, its policy marked as running) around
    each part of it that runs, and reported as ``call.ended`` when it settles."""

    __slots__ = ("owner", "scope", "fields", "started", "_tokens")

    def __init__(self, kind: str, policy: Optional[str], owner: Any) -> None:
        sink = observer.sink
        self.owner = owner
        self.scope = sink.enter(kind, policy) if sink is not None else None
        self.fields = {"policy": policy, "kind": kind}
        self.started = _clock.precise_now()

    def __enter__(self) -> "_Call":
        self._tokens = (self.scope.attach() if self.scope is not None else None, _inside.set(self.owner))
        return self

    def __exit__(self, kind: Any, exc: Optional[BaseException], _tb: Any) -> None:
        token, inside = self._tokens
        _inside.reset(inside)
        if self.scope is not None:
            self.scope.detach(token)
        if exc is not None:
            self.ended(exc)

    def ended(self, exc: Optional[BaseException]) -> None:
        _ended("call.ended", self.fields, self.started, exc, self.scope)


def _observe(kind: str, policy: Optional[str], owner: Any, run: Callable[[], Any]) -> Any:
    """Runs one call observed: in its span, reported as ``call.ended`` when it settles (an
    awaitable answered is awaited by what is answered instead)."""
    call = _Call(kind, policy, owner)
    with call:
        result = run()
    if is_awaitable(result):
        return _settled(result, call)
    call.ended(None)
    return result


async def _settled(awaitable: Any, call: _Call) -> Any:
    with call:
        result = await awaitable
    call.ended(None)
    return result


class CountedFailure(Exception):
    """A call that answered a value its policy counted as a failure (a breaker's 503 response):
    how such a call ends in telemetry (no exception was raised)."""

    code = "RESULT_REJECTED"


class PolicyCalls:
    """The calls an HTTP attempt makes through its policies, observed by hand while instrumented
    (the HTTP stack takes a place, a slot and a permit itself): each opened before its policy
    admits the attempt, all closed, innermost first, when the attempt's response arrives or it
    fails (as Node's stack, whose policies' ``execute`` end there)."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: List[_Call] = []

    def open(self, kind: str, policy: Optional[str]) -> None:
        if observer.sink is None:
            return
        # No owner: the HTTP stack takes the policy's place, slot or permit without its methods.
        call = _Call(kind, policy, None)
        call.__enter__()
        self._open.append(call)

    def close(self, exc: Optional[BaseException], breaker_counted_failure: bool = False) -> None:
        """Ends the calls: with ``exc``, or the breaker's as a failure when it counted the answer
        as one."""
        while self._open:
            call = self._open.pop()
            call.__exit__(None, None, None)
            counted = exc is None and breaker_counted_failure and call.fields["kind"] == "breaker"
            call.ended(CountedFailure("the answer was counted as a failure") if counted else exc)


def timed_attempts(policy: Optional[str], fn: Callable[..., Any], made: int = 0) -> Callable[..., Any]:
    """``fn`` reporting each call of it as one attempt (``attempt.ended``), numbered after the
    ``made`` ones already under way."""
    count = [made]

    def done(started: float, attempt: int, exc: Optional[BaseException]) -> None:
        _ended("attempt.ended", {"policy": policy, "attempt": attempt}, started, exc, None)

    async def settle(awaitable: Any, started: float, attempt: int) -> Any:
        try:
            result = await awaitable
        except BaseException as exc:
            done(started, attempt, exc)
            raise
        done(started, attempt, None)
        return result

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def attempt_async(*args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            n, started = count[0], _clock.precise_now()
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                done(started, n, exc)
                raise
            done(started, n, None)
            return result

        return attempt_async

    @functools.wraps(fn)
    def attempt(*args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        n, started = count[0], _clock.precise_now()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            done(started, n, exc)
            raise
        if is_awaitable(result):
            return settle(result, started, n)
        done(started, n, None)
        return result

    return attempt


# ---- observed methods: put in the policies' places while instrumented ---------------------------

# (class, kind, the policy's name, how its calls' function is timed per attempt); filled by the
# policy modules.
Timed = Optional[Callable[[Any, Any], Any]]
_OBSERVED: List[Tuple[type, str, Callable[[Any], Optional[str]], Timed, Tuple[str, ...]]] = []
# Plain methods put back when instrumentation stops: (class, attribute, method).
_PLAIN: List[Tuple[Any, str, Any]] = []
# Instances whose methods are their own (a breaker's native ``call``): each re-routed alike.
_INSTANCE_ROUTES: List[Callable[[bool], None]] = []

METHODS = ("call", "_call_either", "call_async")


def observed(kind: str, name: Callable[[Any], Optional[str]], attempts: Timed = None, methods: Tuple[str, ...] = METHODS) -> Callable[[type], type]:
    """Class decorator: the class's ``methods`` (each taking the guarded function first) are
    observed (as ``kind``, named by ``name(self)``) while instrumented; ``attempts(self, fn)``,
    for a policy that calls its function once per attempt, answers the function with each timed."""

    def register(cls: type) -> type:
        _OBSERVED.append((cls, kind, name, attempts, methods))
        return cls

    return register


def _observed_method(plain: Callable[..., Any], kind: str, name: Callable[[Any], Optional[str]], attempts: Timed, is_async: bool) -> Callable[..., Any]:
    def arguments(self: Any, fn: Any) -> Any:
        return fn if attempts is None else attempts(self, fn)

    if is_async:
        @functools.wraps(plain)
        async def method_async(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            if _inside.get() is self:
                return await plain(self, fn, *args, **kwargs)
            return await _observe(kind, name(self), self, lambda: plain(self, arguments(self, fn), *args, **kwargs))

        return method_async

    @functools.wraps(plain)
    def method(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if _inside.get() is self:
            return plain(self, fn, *args, **kwargs)
        return _observe(kind, name(self), self, lambda: plain(self, arguments(self, fn), *args, **kwargs))

    return method


def route(on: bool) -> None:
    """Puts the observed methods in place (``on``) or the plain ones back."""
    for owner, attribute, plain in reversed(_PLAIN):
        setattr(owner, attribute, plain)
    _PLAIN.clear()
    if on:
        for cls, kind, name, attempts, methods in _OBSERVED:
            for attribute in methods:
                plain = cls.__dict__.get(attribute)
                if plain is None:
                    continue
                _PLAIN.append((cls, attribute, plain))
                setattr(cls, attribute, _observed_method(plain, kind, name, attempts, inspect.iscoroutinefunction(plain)))
    for reroute in _INSTANCE_ROUTES:
        reroute(on)
    rebind()
