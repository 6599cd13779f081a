"""The circuit breaker: a handle on a core breaker plus what only Python can do (call, await,
time out, notify listeners). Every decision is the core's; this class reports outcomes.

Use it as ``cb.call(fn)``, ``await cb.call_async(fn)``, a decorator (``@cb`` or
``@with_circuit_breaker(cb)``, sync or async), or a context manager (``with cb:`` /
``async with cb:``), which refuses entry while the breaker is open.
"""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import math
import weakref
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar

from . import _clock, _native
from ._engine import STATES, argument_error, checked_instance, coroutine_function_error, engine, option_error, options_json, snake
from ._fleet import Fleet, FleetMember, FleetPort, FleetSync, client_and_prefix
from ._errors import CircuitBreakerError
from ._telemetry import _INSTANCE_ROUTES, listening, observed, observer, report
from ._wrap import COROUTINE, NEVER_AWAITABLE, F, discard, guard, is_awaitable

T = TypeVar("T")
EVENTS_WAITING = _native.EVENTS_WAITING
NAN = math.nan

_record = engine.breaker_record
_acquire_now = engine.breaker_acquire_now
_record_success = engine.breaker_record_success
_last_now = engine.last_now

StateListener = Callable[[str, str], None]




async def _result_of(fn: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    """``fn``'s result, awaited if it is awaitable (a plain function's value as it is)."""
    result = fn(*args, **kwargs)
    return (await result) if is_awaitable(result) else result


def _notify(listener: Callable[..., None], *args: str) -> None:
    """Calls a state listener. One that raises must not break the call it observes (which holds
    a permit it has yet to return) nor hide later events: its error goes to the event loop's
    exception handler, or to the ``seawall`` logger outside a loop (Node reports it as an
    uncaught error, after the call)."""
    try:
        listener(*args)
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        message = f"circuit breaker state listener {listener!r} raised"
        try:
            asyncio.get_running_loop().call_exception_handler({"message": message, "exception": exc})
        except RuntimeError:
            logging.getLogger("seawall").error(message, exc_info=exc)


# Whether a listener takes the reason, read from its signature once (a state change is rare, but
# a signature is slow to read), per listener while it lives, for each number of states given.
_READ: Dict[int, "weakref.WeakKeyDictionary[Any, bool]"] = {2: weakref.WeakKeyDictionary(), 3: weakref.WeakKeyDictionary()}


def _takes_reason(listener: Callable[..., None], given: int) -> bool:
    """Whether a listener takes one positional argument more than the ``given`` ones: the
    transition's reason (``CONSECUTIVE_FAILURES``, ``RESET_TIMEOUT_ELAPSED``, ``FLEET_QUORUM`` …, as Node's
    ``stateChange`` events carry it). Listeners written for the states alone keep working."""
    read = _READ.get(given)
    try:
        return read[listener]  # type: ignore[index]
    except (KeyError, TypeError):  # not read yet, not weakly referable (a builtin), or no table
        pass
    takes = _reads_reason(listener, given)
    try:
        read[listener] = takes  # type: ignore[index]
    except TypeError:
        pass
    return takes


def _reads_reason(listener: Callable[..., None], given: int) -> bool:
    try:
        params = inspect.signature(listener).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins): the states alone
        return False
    positional = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional > given


def _notify_change(listener: Callable[..., None], reason: str, *states: str) -> None:
    if _takes_reason(listener, len(states)):
        _notify(listener, *states, reason)
    else:
        _notify(listener, *states)


def _outcome_of(exc: BaseException, is_failure: Optional[Callable[[BaseException], bool]]) -> int:
    """1 failure, 2 neither: cancellation and interrupts give the permit back uncounted."""
    if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit, GeneratorExit)):
        return 2
    if is_failure is not None and not is_failure(exc):
        return 2
    return 1


_registered: Dict[str, "CircuitBreaker"] = {}
PREAPPROVED = _native.PREAPPROVED_PERMIT
# The permit stack entry of an `async with` admitted without asking.
_FAST_ENTRY = (PREAPPROVED, NAN)


def _done(value: Any) -> "asyncio.Future[Any]":
    """An awaitable that is already done. `async with` awaits what `__aenter__`/`__aexit__`
    return; a done future costs no coroutine object or frame (≈ 50 ns each way). Awaiting a done
    future never touches its loop, so these belong to an idle private one and serve any loop."""
    f: "asyncio.Future[Any]" = _DONE_LOOP.create_future()
    f.set_result(value)
    return f


_DONE_LOOP = asyncio.BaseEventLoop()
_DONE_LOOP.close()
_DONE_NONE = _done(None)


def flush_all() -> None:
    """Hands every registered breaker's counted successes to the core (before health and
    metrics are read; unregistered breakers appear in neither)."""
    for b in list(_registered.values()):
        b._flush()
_registry_listeners: List[Callable[[str, str, str], None]] = []
# Breakers whose sync calls are native (``BreakerCall``): re-routed when instrumentation starts or stops.
_native_callers: "weakref.WeakSet[CircuitBreaker]" = weakref.WeakSet()
_INSTANCE_ROUTES.append(lambda on: [b._route_calls(on) for b in list(_native_callers)])
_anonymous = 0


@observed("breaker", lambda p: p.name)
class CircuitBreaker(FleetMember):
    """A circuit breaker. Durations are seconds. Counts, rates and slow calls::

        CircuitBreaker(name="openai", failure_threshold=5, recovery_timeout=60.0, half_open_max_calls=3)
    """

    def __init__(
        self,
        name: Optional[str] = None,
        *,
        failure_threshold: Optional[int] = None,
        recovery_timeout: Optional[float] = None,
        half_open_max_calls: Optional[int] = None,
        success_threshold: Optional[int] = None,
        failure_rate_threshold: Optional[float] = None,
        volume_threshold: Optional[int] = None,
        window_duration: Optional[float] = None,
        window_buckets: Optional[int] = None,
        window_size: Optional[int] = None,
        slow_call_duration_threshold: Optional[float] = None,
        slow_call_rate_threshold: Optional[float] = None,
        reset_backoff_multiplier: Optional[float] = None,
        max_reset_timeout: Optional[float] = None,
        timeout: Optional[float] = None,
        is_failure: Optional[Callable[[BaseException], bool]] = None,
        is_failure_result: Optional[Callable[[Any], bool]] = None,
        on_state_change: Optional[StateListener] = None,
        fleet: Optional[Any] = None,
        **aliases: Any,
    ) -> None:
        global _anonymous
        checked_instance(name, "name", str, "a string")
        options = dict(
            failure_threshold=failure_threshold, recovery_timeout=recovery_timeout,
            half_open_max_calls=half_open_max_calls, success_threshold=success_threshold,
            failure_rate_threshold=failure_rate_threshold, volume_threshold=volume_threshold,
            window_duration=window_duration, window_buckets=window_buckets, window_size=window_size,
            slow_call_duration_threshold=slow_call_duration_threshold,
            slow_call_rate_threshold=slow_call_rate_threshold,
            reset_backoff_multiplier=reset_backoff_multiplier, max_reset_timeout=max_reset_timeout,
            timeout=timeout, is_failure=is_failure, is_failure_result=is_failure_result, on_state_change=on_state_change,
            fleet=fleet.options() if isinstance(fleet, Fleet) else fleet, **aliases,
        )
        self._fleet: Optional[FleetSync] = None
        self._h: int = engine.breaker_create(options_json(options), True, name)
        if name is None:
            _anonymous += 1
        self.name: str = name if name is not None else f"circuit-breaker-{_anonymous}"
        self._registered_name = name
        self._is_failure = is_failure
        # A returned value it rejects is a failure: every call's result is looked at, so no call
        # is admitted without asking and none takes the native path.
        self._judge = is_failure_result
        self._listeners: List[StateListener] = [on_state_change] if on_state_change else []
        self._fleet_listeners: List[Callable[[str, str], None]] = []
        self.config: Dict[str, Any] = json.loads(engine.breaker_config(self._h))
        self._timeout_s: Optional[float] = self.config["timeout"] / 1000.0 if self.config["timeout"] is not None else None
        self._timed = self.config["slowCallDurationThreshold"] is not None
        self._permits: contextvars.ContextVar[Tuple[Tuple[float, float], ...]] = contextvars.ContextVar(f"seawall-permits-{self._h}", default=())
        # Where the core says a success changes nothing but counters (a closed breaker with only
        # a consecutive-failure rule), a call is admitted without asking and its success is
        # counted here, then handed over before the breaker's next input: no crossing on the
        # common call. `_fast` follows the state the core last reported; indexed by an answer
        # (state code, + EVENTS_WAITING when events wait).
        self._tally = _native.Tally()
        # What `async with` awaits on entry (made on first use: it refers back to the breaker).
        self._entered: Optional["asyncio.Future[CircuitBreaker]"] = None
        fast = [inert and self._timeout_s is None and is_failure_result is None for inert in engine.breaker_inert_success_states(self._h)]
        fast += [False] * (int(EVENTS_WAITING) - len(fast))
        self._fast_by_answer: Tuple[bool, ...] = tuple(fast * 2)
        self._batches = any(fast)
        self._fast = self._fast_by_answer[0]
        if name is not None:
            _registered[name] = self
        weakref.finalize(self, engine.breaker_drop, self._h)
        if self._timeout_s is None and is_failure_result is None and type(self).call is CircuitBreaker.call:
            # Sync calls acquire, call and record in one crossing (bindings-python/src/guard.rs);
            # the method below remains for breakers with a timeout, which Python must run, and
            # for subclasses that override it.
            native = _native.BreakerCall(engine, self._h, self, self._tally)
            self._native_calls = (native.call, native.call_either)
            _native_callers.add(self)
            self._route_calls(observer.sink is not None)
        if fleet is not None:
            self._join_fleet(fleet)

    def _route_calls(self, observed: bool) -> None:
        """The native calls in the methods' places, or (while instrumented) the observed methods."""
        if observed:
            self.__dict__.pop("call", None)
            self.__dict__.pop("_call_either", None)
        else:
            self.call, self._call_either = self._native_calls  # type: ignore[method-assign]

    # ---- the fleet (rules in the core: core/src/fleet.rs) -------------------------------------

    def _join_fleet(self, fleet: Any) -> None:
        # Replicas find each other by name: an anonymous breaker has nobody to share with.
        if self._registered_name is None:
            raise argument_error(name=None)
        h = self._h

        def status() -> Dict[str, Any]:
            return json.loads(engine.breaker_sync_status(h))  # type: ignore[no-any-return]

        def learning(step: Callable[[], None]) -> None:
            """A driver input may change the breaker's state (the fleet opened or closed it, the
            lease made it half-open, Redis lost or back): the breaker learns what it did."""
            self._flush()
            before = status()["mode"]
            step()
            self._learn(engine.breaker_current_state(h))
            self._drain()
            after = status()["mode"]
            if after != before:
                for listener in list(self._fleet_listeners):
                    _notify(listener, self.name, after)

        def next_command() -> str:
            self._flush()
            return str(engine.breaker_sync_next(h, None))

        port = FleetPort(
            join=lambda prefix, replica: engine.breaker_sync_join(h, prefix, replica),
            next_command=next_command,
            reply=lambda text: learning(lambda: engine.breaker_sync_reply(h, text, None)),
            failed=lambda: learning(lambda: engine.breaker_sync_failed(h, None)),
            wanted=lambda: bool(engine.breaker_sync_wanted(h)),
            status=status,
        )
        # The core has checked the options; a plain dict of them works like a Fleet.
        redis, prefix = client_and_prefix(fleet)
        self._fleet = FleetSync(self._registered_name, self.config["fleet"], redis, prefix, port)

    def _go_alone(self) -> None:
        # Left the fleet: this breaker decides alone.
        engine.breaker_sync_leave(self._h)
        self._command("fleetAlone")

    # ---- hot path ----------------------------------------------------------------------------

    def _learn(self, answer: float) -> None:
        """An engine answer (state code, + 8 when events wait): follow the state, drain events."""
        if answer >= 0:
            self._fast = self._fast_by_answer[int(answer)]
            if answer >= EVENTS_WAITING:
                self._drain()

    def _flush(self) -> None:
        """Hands the successes counted here to the core; every other input comes after this."""
        if self._batches and self._tally.pending():
            self._learn(engine.breaker_flush(self._h, self._tally))

    def _enter(self) -> Tuple[float, float]:
        self._flush()
        p = _acquire_now(self._h)
        if p != 0.0:
            self._admitted_specially(p)
        return p, (_last_now() if self._timed else NAN)

    def _exit(self, permit: float, started: float, exc: Optional[BaseException]) -> None:
        try:
            outcome = 0 if exc is None else _outcome_of(exc, self._is_failure)
        except BaseException:
            # An is_failure that raises cannot classify the call: it counts neither way (its
            # permit, maybe a half-open probe's, still comes back) and its error goes to the caller.
            self._report(permit, started, 2)
            raise
        self._report(permit, started, outcome)

    def _report_result(self, permit: float, started: float, result: Any) -> None:
        """Records a call that answered ``result``: a success, or a failure if ``is_failure_result``
        rejects it (one that raises counts neither way, and its error goes to the caller)."""
        judge = self._judge
        if judge is None:
            self._report(permit, started, 0)
            return
        try:
            outcome = 1 if judge(result) else 0
        except BaseException:
            self._report(permit, started, 2)
            raise
        self._report(permit, started, outcome)

    def _report(self, permit: float, started: float, outcome: int) -> None:
        """Records how a call went (0 success, 1 failure, 2 neither) and drains the changes."""
        self._flush()
        self._learn(_record(self._h, permit, outcome, None, started))

    # The two hot paths below inline `_enter`/`_exit` (each Python call layer costs tens of ns)
    # and let the engine read the clock in use (host or virtual); every decision is still the
    # engine's, one call in and one call out.

    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Calls ``fn`` through the breaker (synchronously)."""
        self._flush()
        h = self._h
        p = _acquire_now(h)
        if p != 0.0:
            self._admitted_specially(p)
        started = _last_now() if self._timed else NAN
        result = self._invoke(p, started, fn, args, kwargs)
        if type(result) is COROUTINE or (type(result) not in NEVER_AWAITABLE and is_awaitable(result)):
            raise self._refuse_awaitable(p, started, fn, result)
        if self._judge is not None:
            self._report_result(p, started, result)
        elif _record_success(h, p, started) >= EVENTS_WAITING:
            self._drain()
        return result

    async def call_async(self, fn: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
        """Awaits ``fn(*args, **kwargs)`` through the breaker (with its ``timeout``, if set)."""
        if self._fast:
            try:
                # A plain function's value is taken as its result, as `execute` does in Node.
                result = fn(*args, **kwargs)
                if type(result) is COROUTINE or is_awaitable(result):
                    result = await result
            except BaseException as exc:
                if not callable(fn):
                    raise self._refuse_argument(PREAPPROVED, NAN, fn) from None
                self._exit(PREAPPROVED, NAN, exc)
                raise
            if self._fast:
                self._tally.add()
            else:
                self._report(PREAPPROVED, NAN, 0)
            return result
        self._flush()
        h = self._h
        p = _acquire_now(h)
        if p != 0.0:
            self._admitted_specially(p)
        started = _last_now() if self._timed else NAN
        try:
            if self._timeout_s is None:
                result = fn(*args, **kwargs)
                if type(result) is COROUTINE or is_awaitable(result):
                    result = await result
            else:
                result = await self._run_with_timeout(fn, args, kwargs)
        except BaseException as exc:
            if not callable(fn):
                raise self._refuse_argument(p, started, fn) from None
            self._exit(p, started, exc)
            raise
        if self._judge is not None:
            self._report_result(p, started, result)
        else:
            self._learn(_record_success(h, p, started))
        return result

    def _call_either(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``call`` for a plain function that may answer an awaitable (decorators,
        ``retry_with_backoff``): a plain result as ``call`` answers it; for an awaitable, a
        coroutine that awaits it holding the permit (with the breaker's ``timeout``) and records
        how it went. Natively in ``BreakerCall.call_either`` where ``call`` is native."""
        permit, started = self._enter()
        result = self._invoke(permit, started, fn, args, kwargs)
        if is_awaitable(result):
            return self._settle(permit, started, result)
        self._report_result(permit, started, result)
        return result

    def _invoke(self, permit: float, started: float, fn: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """``fn(*args, **kwargs)`` under a permit; an exception is recorded (a non-callable
        ``fn`` counts neither way, and raises the core's error for it). A plain function cannot
        be cut at the breaker's ``timeout``: one that answers after it fails then, with the
        ``TimeoutError`` an awaited call gets at its deadline (counted alike, its value dropped)."""
        timeout = self._timeout_s
        begun = _clock.precise_now() if timeout is not None else 0.0
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if not callable(fn):
                raise self._refuse_argument(permit, started, fn) from None
            self._exit(permit, started, exc)
            raise
        if timeout is not None and not is_awaitable(result):
            from ._timeout import overran
            late = overran(begun, timeout)
            if late is not None:
                self._exit(permit, started, late)
                raise late
        return result

    async def _settle(self, permit: float, started: float, awaitable: Awaitable[T]) -> T:
        """Awaits what a guarded call answered, under its permit, and records how it went."""
        try:
            if self._timeout_s is None:
                result = await awaitable
            else:
                from ._timeout import run_with_timeout
                result = await run_with_timeout(lambda: awaitable, self._timeout_s)
        except BaseException as exc:
            self._exit(permit, started, exc)
            raise
        self._report_result(permit, started, result)
        return result

    async def _run_with_timeout(self, fn: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        # Apart from `call_async`: its closure would make cells of the hot path's arguments.
        from ._timeout import run_with_timeout
        return await run_with_timeout(lambda: _result_of(fn, args, kwargs), self._timeout_s)

    def _refuse_argument(self, permit: float, started: float, fn: Any) -> BaseException:
        """``fn`` is not callable: nothing ran, the call counts neither way (it says nothing about
        the dependency); answers the core's error for the argument."""
        self._report(permit, started, 2)
        return argument_error(fn=fn)

    def _refuse_awaitable(self, permit: float, started: float, fn: Any, awaitable: Any) -> BaseException:
        """``call`` got a function that answers an awaitable: a coroutine is closed unrun and the
        call counts neither way; answers the error to raise."""
        discard(awaitable)
        self._report(permit, started, 2)
        return coroutine_function_error(fn)

    def _admitted_specially(self, p: float) -> None:
        """A probe or a rejection: drain the state change it may have caused; raise if refused."""
        if engine.breaker_has_events(self._h):
            self._drain()
        if p < 0:
            self._fast = False
            raise self._rejection(p)

    def __call__(self, fn: F) -> F:
        """``@breaker``: guards a sync or async function (and binds as a method does). The
        wrapper is native and calls the hot path itself, so it adds no Python frame."""
        return guard(fn, self)

    def __enter__(self) -> "CircuitBreaker":
        self._permits.set(self._permits.get() + (self._enter(),))
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        stack = self._permits.get()
        self._permits.set(stack[:-1])
        permit, started = stack[-1]
        self._exit(permit, started, exc)

    # The permits of `async with` live on a per-context stack (a task's entries are its own). An
    # entry admitted without asking while the stack is empty pushes nothing, and an exit that
    # finds the stack empty is such an entry: entries nest, so everything pushed after it is
    # popped before it exits. The common call thus costs one read of the stack each way.
    def __aenter__(self) -> "asyncio.Future[CircuitBreaker]":
        permits = self._permits
        stack = permits.get()
        if self._fast:
            if stack:
                permits.set(stack + (_FAST_ENTRY,))
        else:
            permits.set(stack + (self._enter(),))
        entered = self._entered
        if entered is None:
            entered = self._entered = _done(self)
        return entered

    def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> "asyncio.Future[None]":
        permits = self._permits
        stack = permits.get()
        if stack:
            permits.set(stack[:-1])
            permit, started = stack[-1]
        else:
            permit, started = _FAST_ENTRY
        if exc is None and permit == PREAPPROVED and self._fast:
            self._tally.add()
        else:
            self._exit(permit, started, exc)
        return _DONE_NONE

    # ---- state, events -----------------------------------------------------------------------

    def _rejection(self, code: float) -> CircuitBreakerError:
        retry_after_ms = engine.breaker_retry_after(self._h, None) if code == -2.0 else NAN
        state = STATES[int(-code - 1)]
        message = _native.rejection_message(self._registered_name or "", code, retry_after_ms)
        if listening("call.rejected"):
            report("call.rejected", policy=self.name, by="breaker", code="CIRCUIT_OPEN")
        return CircuitBreakerError(message, None if math.isnan(retry_after_ms) else retry_after_ms / 1000.0, state, self.name)

    def _drain(self) -> None:
        for e in json.loads(engine.breaker_events(self._h)):
            self._fast = self._fast_by_answer[STATES.index(e["to"])]
            if listening("breaker.state_changed"):
                report("breaker.state_changed", policy=self.name, **{"from": e["from"]}, to=e["to"], reason=e["reason"])
            for listener in list(self._listeners):
                _notify_change(listener, e["reason"], e["from"], e["to"])
            if self._registered_name is not None and _registered.get(self._registered_name) is self:
                for listener in list(_registry_listeners):
                    _notify_change(listener, e["reason"], self.name, e["from"], e["to"])
            if self._fleet is not None:
                self._fleet.on_state_change()

    def add_listener(self, listener: StateListener) -> Callable[[], None]:
        """Calls ``listener(previous_state, new_state)`` on every change, or
        ``listener(previous_state, new_state, reason)`` where it takes a third argument; answers
        an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def add_fleet_listener(self, listener: Callable[[str, str], None]) -> Callable[[], None]:
        """Fleet mode: calls ``listener(name, mode)`` when the breaker loses Redis and decides
        alone (``"local"``) and when it has it back (``"shared"``), from the sync's thread;
        answers an unsubscribe."""
        self._fleet_listeners.append(listener)
        return lambda: self._fleet_listeners.remove(listener) if listener in self._fleet_listeners else None

    @property
    def state(self) -> str:
        """``CLOSED``, ``OPEN``, ``HALF_OPEN``, ``FORCED_OPEN`` or ``DISABLED``."""
        self._flush()
        code = engine.breaker_state(self._h, None)
        self._learn(code)
        self._drain()
        return STATES[code]

    @property
    def retry_after(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open, inf when forced)."""
        self._flush()
        ms = engine.breaker_retry_after(self._h, None)
        return math.inf if math.isnan(ms) else ms / 1000.0

    @property
    def stats(self) -> Dict[str, Any]:
        """The core's counters (times in seconds on the clock in use)."""
        self._flush()
        s = json.loads(engine.breaker_stats(self._h, None))
        self._drain()
        out: Dict[str, Any] = {"name": self.name}
        for key, value in s.items():
            key = snake(key)
            if key.endswith("_at") and value is not None:
                value = value / 1000.0
            out[key] = value
        out["failure_count"] = out["consecutive_failures"]
        out["success_count"] = out["consecutive_successes"]
        if self._fleet is not None:
            out["fleet"] = dict(self._fleet.status)
        return out

    def _command(self, command: str) -> None:
        self._flush()
        self._learn(engine.breaker_command(self._h, command, None))
        self._drain()

    def reset(self) -> None:
        self._command("reset")

    def open(self) -> None:
        self._command("open")

    def force_open(self) -> None:
        self._command("forceOpen")

    def isolate(self) -> Callable[[], None]:
        self._command("isolate")
        return self.reset

    def disable(self) -> None:
        self._command("disable")

    def to_dict(self) -> Dict[str, Any]:
        """Saved state (persistent metrics); give it to ``restore`` after a restart."""
        self._flush()
        return json.loads(engine.breaker_snapshot(self._h, None))  # type: ignore[no-any-return]

    def restore(self, snapshot: Dict[str, Any]) -> None:
        self._flush()
        engine.breaker_restore(self._h, json.dumps(snapshot), None)
        self._drain()
        self._learn(engine.breaker_state(self._h, None))

    def __repr__(self) -> str:
        return f"CircuitBreaker(name={self.name!r}, state={self.state!r})"


def with_circuit_breaker(breaker: CircuitBreaker) -> Callable[[F], F]:
    """``@with_circuit_breaker(cb)`` on a sync or async function."""
    if not isinstance(breaker, CircuitBreaker):
        raise option_error("circuit_breaker", "a CircuitBreaker", breaker)
    return breaker.__call__


class _Registry:
    """Registered (named) breakers, with health and state-change listeners."""

    def get(self, name: str) -> Optional[CircuitBreaker]:
        return _registered.get(name)

    def get_or_create(self, name: str, **options: Any) -> CircuitBreaker:
        existing = _registered.get(name)
        return existing if existing is not None else CircuitBreaker(name, **options)

    def get_all(self) -> List[CircuitBreaker]:
        return list(_registered.values())

    def get_all_stats(self) -> List[Dict[str, Any]]:
        return [b.stats for b in _registered.values()]

    def get_health_status(self) -> Dict[str, Any]:
        flush_all()
        h = json.loads(engine.breaker_health(None))
        return {"total": h["total"], "healthy": h["healthy"], "unhealthy": h["unhealthy"], "by_state": h["byState"]}

    def reset_all(self) -> None:
        for b in list(_registered.values()):
            b.reset()

    def clear(self) -> None:
        engine.clear_registry()
        _registered.clear()

    def add_listener(self, listener: Callable[[str, str, str], None]) -> Callable[[], None]:
        """``listener(name, previous_state, new_state)`` for every registered breaker (with a
        fourth argument, the transition's reason)."""
        _registry_listeners.append(listener)
        return lambda: _registry_listeners.remove(listener) if listener in _registry_listeners else None


circuit_breaker_registry = _Registry()

