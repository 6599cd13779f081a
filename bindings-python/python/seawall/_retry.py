"""Retries. The core decides whether and when to retry (attempts, backoff and jitter, deadline,
Retry-After cap, budget); this module classifies failures, sleeps and calls again — for sync and
async callables alike."""
from __future__ import annotations

import inspect
import json
import math
import os
import threading
import time
import weakref
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union, overload

from . import _clock, _native
from ._breaker import CircuitBreaker
from ._engine import GIVE_UP_REASONS, AwaitableResultError, argument_error, checked_instance, coroutine_function_error, option_error, engine, finite_number, is_number, options_json, snake
from ._errors import RetryBudgetExhaustedError
from ._fleet import Fleet, FleetMember, QuotaPort, QuotaSync, client_and_prefix, quota_stats
from ._telemetry import error_type, listening, observed, report, timed_attempts
from ._wrap import COROUTINE, F, discard, guard, is_awaitable

T = TypeVar("T")

NAN = math.nan
ExceptionTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]


def _random_seed() -> float:
    return float(int.from_bytes(os.urandom(7), "little") >> 3)  # 53 bits: exact as a float


class RetryBudget(FleetMember):
    """A token bucket shared by many calls: retries withdraw, successes deposit.
    ``fleet=Fleet(redis.Redis(...))`` (with a ``name``): one budget for every replica of that
    name; the replicas share ``min_retries_per_second`` and ``max_tokens``, each holding its part,
    and a retry never waits for Redis."""

    def __init__(self, *, ratio: Optional[float] = None, min_retries_per_second: Optional[float] = None,
                 max_tokens: Optional[float] = None, name: Optional[str] = None, fleet: Optional[Any] = None,
                 **aliases: Any) -> None:
        opts = {"ratio": ratio, "min_retries_per_second": min_retries_per_second, "max_tokens": max_tokens,
                "name": name, "fleet": fleet.options() if isinstance(fleet, Fleet) else fleet, **aliases}
        # The core checks every option (a fleet needs a name and a trickle to share).
        self.handle = engine.budget_create(options_json(opts), True, None)
        weakref.finalize(self, engine.budget_drop, self.handle)
        self.name: Optional[str] = name
        self._fleet: Optional[QuotaSync] = None
        if fleet is not None:
            self._join_fleet(fleet)

    def _join_fleet(self, fleet: Any) -> None:
        h = self.handle
        config = json.loads(engine.budget_stats(h, None))
        redis, prefix = client_and_prefix(fleet)
        self._fleet = QuotaSync(str(self.name), config["fleet"], redis, prefix, QuotaPort("budget", h))

    def _go_alone(self) -> None:
        # Left the fleet: an equal part per replica last seen.
        engine.quota_sync_leave("budget", self.handle, None)

    @property
    def tokens(self) -> float:
        return float(engine.budget_tokens(self.handle, None))

    def stats(self) -> Dict[str, Any]:
        """``tokens``, ``withdrawn`` and ``refused`` retries and the settings; with a fleet, ``fleet``:
        ``mode``, ``replicas``, ``fresh``, this replica's ``share`` (tokens per second) and ``cap``
        (most tokens held), the sync counts; times in seconds."""
        s = json.loads(engine.budget_stats(self.handle, None))
        if "fleet" in s:
            s["fleet"] = quota_stats(s["fleet"], self._fleet)
        return {"name": self.name, **{snake(k): v for k, v in s.items()}}

    def _record_success(self) -> None:
        engine.budget_record_success(self.handle, None)


def parse_retry_after(value: Optional[str], now_epoch: Optional[float] = None) -> Optional[float]:
    """A Retry-After header (delay-seconds, or an HTTP date in any of RFC 9110's three forms) as
    seconds from now; None if absent or unreadable. Read by the core, like Node and the browser."""
    if value is None:
        return None
    now = time.time() if now_epoch is None else now_epoch
    ms = _native.retry_after(str(value), now * 1000.0)
    return None if math.isnan(ms) else ms / 1000.0


_SERVER_HEADERS = ("retry-after", "retry-after-ms", "x-should-retry")


def _type_name(t: type) -> str:
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def server_headers(*sources: Any) -> Dict[str, str]:
    """The headers the core reads of a response (``retry-after``, ``retry-after-ms``,
    ``x-should-retry``), each from the first of ``sources`` (mappings with ``get``) that has it."""
    out: Dict[str, str] = {}
    for source in sources:
        getter = getattr(source, "get", None)
        if getter is None:
            continue
        for name in _SERVER_HEADERS:
            value = getter(name)
            if isinstance(value, str):
                out.setdefault(name, value)
    return out


def error_facts(exc: BaseException) -> Dict[str, Any]:
    """What the shell can tell of a failed attempt, for the core's classification
    (core/src/outcome.rs): its status, the server's headers, the delay it carries, and its codes
    (its own ``code``, then its type's and its bases' qualified names, most specific first)."""
    facts: Dict[str, Any] = {"error": True}
    response = getattr(exc, "response", None)
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    if status is None and response is not None:
        status = getattr(response, "status_code", None)
    if is_number(status):
        facts["status"] = status
    headers = server_headers(getattr(exc, "headers", None), getattr(response, "headers", None))
    if headers:
        facts["headers"] = headers
    retry_after = getattr(exc, "retry_after", None)
    if is_number(retry_after):
        facts["retryAfterMs"] = float(retry_after) * 1000.0  # type: ignore[arg-type]
    code = getattr(exc, "code", None)
    codes = [code] if isinstance(code, str) else []
    codes += [_type_name(t) for t in type(exc).__mro__ if t not in (BaseException, Exception, object)]
    facts["codes"] = codes
    return facts


def classify_outcome(facts: Dict[str, Any]) -> Dict[str, Any]:
    """The core's verdict on an outcome: ``decision``, ``retryAfterMs``, ``count``."""
    return json.loads(_native.classify_outcome(json.dumps(facts), time.time() * 1000.0))  # type: ignore[no-any-return]


_CLASSES = {"retry": 0, "rateLimited": 2}


class RejectedResult(Exception):
    """A value ``retry_on_result`` rejected, carried through the retry loop as its failure; when
    the retries run out, the value is answered."""

    code = "RESULT_REJECTED"

    def __init__(self, result: Any) -> None:
        super().__init__("the result was rejected by retry_on_result")
        self.result = result


def _timed(policy: "RetryPolicy", fn: Any) -> Any:
    """``fn`` with each attempt timed (instrumented); a resumed call's attempt under way is its first."""
    if type(fn) is _Resumed:
        return _Resumed(timed_attempts(policy._name, fn.fn, 0 if fn.pending is None else 1), fn.state, fn.pending)
    return timed_attempts(policy._name, fn) if callable(fn) else fn


@observed("retry", lambda p: p._name, _timed, ("call", "_call_either", "call_async", "_call_request"))
class RetryPolicy:
    """Retry options checked once by the core; ``call`` / ``call_async`` as often as needed.
    ``retry_on_result``: a returned value it answers true for is a failure, retried as one (the
    last such value is answered when the retries run out)."""

    def __init__(
        self,
        *,
        max_attempts: Optional[int] = None,
        base_delay: Optional[float] = None,
        max_delay: Optional[float] = None,
        jitter: Union[bool, str, None] = None,
        retry_on: Optional[ExceptionTypes] = None,
        retry_if: Optional[Callable[[BaseException], bool]] = None,
        retry_on_result: Optional[Callable[[Any], bool]] = None,
        circuit_breaker: Optional[CircuitBreaker] = None,
        on_retry: Optional[Callable[[int, BaseException, float], None]] = None,
        budget: Optional[RetryBudget] = None,
        name: Optional[str] = None,
        seed: Optional[int] = None,
        **options: Any,
    ) -> None:
        opts: Dict[str, Any] = dict(max_attempts=max_attempts, base_delay=base_delay, max_delay=max_delay, jitter=jitter,
                                    retry_on=retry_on, on_retry=on_retry, budget=budget, name=name, retry_on_result=retry_on_result,
                                    circuit_breaker=circuit_breaker, **options)
        if retry_if is not None and not callable(retry_if):
            raise option_error("retry_if", "a function", retry_if)
        checked_instance(circuit_breaker, "circuit_breaker", CircuitBreaker, "a CircuitBreaker")
        if retry_on is not None and not (isinstance(retry_on, type) or (isinstance(retry_on, tuple) and all(isinstance(t, type) for t in retry_on))):
            raise option_error("retry_on", "an exception class or a tuple of them", retry_on)
        if isinstance(retry_on, type):
            opts["retry_on"] = (retry_on,)
        self._h = engine.retry_policy_create(options_json(opts), True, float(seed) if seed is not None else _random_seed())
        weakref.finalize(self, engine.retry_policy_drop, self._h)
        info = json.loads(engine.retry_policy_info(self._h))
        self.max_attempts: int = info["maxAttempts"]
        self._times_start = info["maxElapsed"] is not None
        self._retry_on: Tuple[Type[BaseException], ...] = retry_on if isinstance(retry_on, tuple) else ((retry_on,) if retry_on else (Exception,))
        self._retry_if = retry_if
        self._rejects = retry_on_result
        self._breaker = circuit_breaker
        self._on_retry = on_retry
        self._budget = budget
        self._name = name

    def _classify(self, exc: BaseException, request: Optional[Dict[str, Any]]) -> Tuple[int, float]:
        """The core's verdict on a failed attempt, as the retry machine takes it: (0 retryable,
        1 not, 2 rate-limited; the server's delay, ms, or NaN). ``request``: what an HTTP client
        knows of the request (its method)."""
        facts = error_facts(exc)
        if request is not None:
            facts.update(request)
        # The user's filters: the exception types to retry, and a predicate (a rejected result
        # was judged by its own).
        if type(exc) is not RejectedResult:
            facts["filter"] = isinstance(exc, self._retry_on) and (self._retry_if is None or bool(self._retry_if(exc)))
        verdict = classify_outcome(facts)
        delay = verdict["retryAfterMs"]
        return _CLASSES.get(verdict["decision"], 1), (NAN if delay is None else float(delay))

    def _decide(self, state: list, exc: BaseException) -> float:
        """Delay in seconds before the next attempt; raises when the policy gives up."""
        cls, retry_after = self._classify(exc, state[2])
        if state[0] < 0:
            state[0] = engine.retry_start(self._h, state[1])
        budget = float(self._budget.handle) if self._budget is not None else -1.0
        value, attempt, _server = engine.retry_on_failure(state[0], None, cls, retry_after, budget)
        if value < 0:
            reason = GIVE_UP_REASONS[int(-value - 1)]
            if listening("retry.gave_up"):
                report("retry.gave_up", policy=self._name, attempts=attempt, reason=reason, errorType=error_type(exc))
            if reason == "BUDGET_EXHAUSTED":
                if listening("call.rejected"):
                    report("call.rejected", policy=self._name, by="budget", code="RETRY_BUDGET_EXHAUSTED")
                raise RetryBudgetExhaustedError(attempt) from exc
            raise exc
        if self._name is not None:
            engine.record_retry_attempt(self._name)
        if listening("retry.scheduled"):
            report("retry.scheduled", policy=self._name, attempt=attempt - 1, delayMs=value, errorType=error_type(exc))
        if self._on_retry is not None:
            self._on_retry(attempt - 1, exc, value / 1000.0)
        return value / 1000.0

    def _start(self, fn: Any, request: Optional[Dict[str, Any]] = None) -> list:
        """A call's state: [retry handle once the first failure made one, the start time, what an
        HTTP client knows of the request]. A deadline counts from the call's start; without one
        the engine's clock at the first failure will do (and the success path reads no clock)."""
        if not callable(fn):
            raise argument_error(fn=fn)
        return [-1, engine.now() if self._times_start else None, request]

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Calls a sync ``fn`` until it succeeds or the policy gives up (then re-raises). A
        function that answers an awaitable is refused (use ``call_async``)."""
        return self._call(fn, args, kwargs, False)

    def _call_either(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call`` for a plain function that may answer an awaitable (``retry_with_backoff``,
        decorators): the attempt that answers one turns the call async, and what is answered is
        a coroutine that awaits it as that attempt and retries as ``call_async`` does."""
        return self._call(fn, args, kwargs, True)

    def _call_request(self, fn: Callable[[], Any], request: Dict[str, Any]) -> Any:
        """``call`` for an HTTP stack: ``request`` is what the core's classification needs of the
        request (its method)."""
        return self._call(fn, (), {}, False, request)

    def _call(self, fn: Callable[..., Any], args: Any, kwargs: Any, either: bool, request: Optional[Dict[str, Any]] = None) -> Any:
        if inspect.iscoroutinefunction(fn):
            if either:
                return self.call_async(fn, *args, **kwargs)
            raise coroutine_function_error(fn)
        state = self._start(fn, request)
        breaker = self._breaker
        try:
            while True:
                try:
                    if breaker is None:
                        result = fn(*args, **kwargs)
                    else:
                        result = breaker._call_either(fn, *args, **kwargs) if either else breaker.call(fn, *args, **kwargs)
                    if is_awaitable(result):
                        if not either:
                            discard(result)
                            raise coroutine_function_error(fn)
                        attempts: Any = self.call_async(_Resumed(fn, state, result), *args, **kwargs)  # type: ignore[arg-type]
                        state = None  # type: ignore[assignment]  # the coroutine owns it now
                        return attempts
                    if self._rejects is not None and self._rejects(result):
                        raise RejectedResult(result)
                    if self._budget is not None:
                        self._budget._record_success()
                    return result
                except AwaitableResultError:
                    raise
                except Exception as exc:  # noqa: BLE001 - classified by the policy
                    _clock.sleep_sync(self._decide(state, exc))
        except RejectedResult as last:
            return last.result
        finally:
            if state is not None and state[0] >= 0:
                engine.retry_end(state[0])

    async def call_async(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Awaits ``fn`` until it succeeds or the policy gives up (then re-raises); a plain
        function's value is taken as its result."""
        if type(fn) is _Resumed:
            # A call that began elsewhere: its state, and the attempt already under way.
            state, pending, fn = fn.state, fn.pending, fn.fn
        else:
            if not callable(fn):
                raise argument_error(fn=fn)
            state, pending = [-1, engine.now() if self._times_start else None, None], None
        breaker = self._breaker
        try:
            while True:
                try:
                    result: Any
                    if pending is not None:
                        result = await pending
                    elif breaker is not None:
                        result = await breaker.call_async(fn, *args, **kwargs)
                    else:
                        result = fn(*args, **kwargs)
                        if type(result) is COROUTINE or is_awaitable(result):
                            result = await result
                    if self._rejects is not None and self._rejects(result):
                        raise RejectedResult(result)
                    if self._budget is not None:
                        self._budget._record_success()
                    return result
                except Exception as exc:  # noqa: BLE001 - classified by the policy
                    pending = None
                    await _clock.sleep(self._decide(state, exc))
        except RejectedResult as last:
            return last.result
        finally:
            if state[0] >= 0:
                engine.retry_end(state[0])


class _Resumed:
    """A call that ``call_async`` goes on with: ``fn``, the call's state (``RetryPolicy._start``:
    a sync attempt's, or an HTTP client's with its request), and the awaitable of an attempt
    already made (None: none)."""

    __slots__ = ("fn", "state", "pending")

    def __init__(self, fn: Callable[..., Any], state: list, pending: Any = None) -> None:
        self.fn, self.state, self.pending = fn, state, pending


# Policies compiled from keyword options, by content: ``retry_with_backoff(fn, max_attempts=3)``
# written in a loop compiles one policy, not one per call (no JSON, native handle or finalizer
# per call); so does ``hedge(fn, delay=0.05)``. Two levels: the few most recently compiled are
# compared with the options as dicts (the common case of a handful of call sites, ~100 ns), the
# rest are found by a key. Bounded; the oldest goes first. Options that fail their check are
# never cached, so they raise on every call.
class _Compiled:
    __slots__ = ("options", "ambiguous", "policy")

    def __init__(self, options: Dict[str, Any], policy: Any) -> None:
        self.options = options
        # ``True == 1`` and ``False == 0`` (as floats too), but a bool and a number compile
        # differently: where a value equals 0 or 1, whether it is a bool must match as well.
        self.ambiguous = tuple((k, type(v) is bool) for k, v in options.items() if type(v) in (bool, int, float) and v in (0, 1))
        self.policy = policy

    def matches(self, options: Dict[str, Any]) -> bool:
        if options != self.options:
            return False
        for k, is_bool in self.ambiguous:
            if (type(options[k]) is bool) is not is_bool:
                return False
        return True


class PolicyCache:
    """One kind of policy's compiled options: ``make(options)`` for options not seen before."""

    _MAX_COMPILED = 64
    _MAX_RECENT = 4

    def __init__(self, make: Callable[[Dict[str, Any]], Any]) -> None:
        self._make = make
        self._compiled: Dict[Any, _Compiled] = {}
        self._recent: List[_Compiled] = []

    def get(self, options: Dict[str, Any]) -> Any:
        """The policy for these keyword options: the same one for equal options (callables and
        objects by identity)."""
        for c in self._recent:
            if options == c.options and (not c.ambiguous or c.matches(options)):
                return c.policy
        try:
            key = (tuple(options.items()), tuple(map(type, options.values())))
            c = self._compiled.get(key)  # type: ignore[assignment]
        except TypeError:  # an unhashable value (a list): compiled for this call alone
            return self._make(options)
        if c is None:
            c = _Compiled(dict(options), self._make(options))
            if len(self._compiled) >= self._MAX_COMPILED:
                self._compiled.pop(next(iter(self._compiled), None), None)
            self._compiled[key] = c
        self._recent.insert(0, c)
        del self._recent[self._MAX_RECENT:]
        return c.policy


_policies = PolicyCache(lambda options: RetryPolicy(**options))


def _policy_for(options: Dict[str, Any]) -> RetryPolicy:
    return _policies.get(options)  # type: ignore[no-any-return]


_CO_COROUTINE = inspect.CO_COROUTINE


def _is_async(fn: Callable[..., Any]) -> bool:
    """A coroutine function, or an object whose ``__call__`` is one."""
    code = getattr(fn, "__code__", None)
    if code is not None and code.co_flags & _CO_COROUTINE:
        return True
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


@overload
def retry_with_backoff(fn: Callable[[], Awaitable[T]], /, **options: Any) -> Awaitable[T]: ...
@overload
def retry_with_backoff(fn: Callable[[], T], /, **options: Any) -> T: ...
def retry_with_backoff(fn: Callable[[], Any], /, **options: Any) -> Any:
    """Retries ``fn`` with exponential backoff and jitter. Keyword options as for
    ``RetryPolicy`` (``max_attempts``, ``base_delay``, ``max_delay``, ``jitter``, ``retry_on``,
    ``circuit_breaker``, ``on_retry``, …). Defaults: 3 attempts, 0.5 s doubling to 4 s, ±10%
    jitter. For an async ``fn``, answers an awaitable; for a sync one, the result."""
    policy = _policy_for(options)
    code = getattr(fn, "__code__", None)
    if (code is not None and code.co_flags & _CO_COROUTINE) or _is_async(fn):
        return policy.call_async(fn)
    # A plain callable may still answer an awaitable (`lambda: client.get(url)`): then the
    # answer is a coroutine that retries it.
    return policy._call_either(fn)


def retry(**options: Any) -> Callable[[F], F]:
    """``@retry(max_attempts=5, base_delay=0.1)`` on a sync or async function."""
    policy = _policy_for(options)
    return lambda fn: guard(fn, policy)


_schedules: Dict[Tuple[Any, Any, Any], int] = {}
_schedules_lock = threading.Lock()


def exponential_backoff_with_jitter(attempt: int, base_delay: float = 0.5, max_delay: float = 4.0, jitter_factor: float = 0.1) -> float:
    """The delay in seconds before retry ``attempt`` (0 for the first retry): ``base · 2^attempt``
    capped at ``max_delay``, moved by up to ±``jitter_factor``."""
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0:
        err = ValueError(f"invalid option attempt: expected a whole number ≥ 0, got {attempt!r}")
        err.code, err.option, err.value = "INVALID_OPTION", "attempt", repr(attempt)  # type: ignore[attr-defined]
        raise err
    numbers = (base_delay, max_delay, jitter_factor)
    # Only numbers are cached by value: anything else goes to the core, which names it.
    key = numbers if all(is_number(x) for x in numbers) else None
    with _schedules_lock:  # a schedule is never dropped while another thread reads it
        h = None if key is None else _schedules.get(key)
        if h is None:
            opts = {"base_delay": base_delay, "max_delay": max_delay, "jitter": "proportional", "jitter_factor": jitter_factor}
            h = engine.backoff_create(options_json(opts), True, _random_seed())
            if key is not None:
                if len(_schedules) >= 64:  # bounded: the oldest schedule goes, its handle freed
                    engine.backoff_drop(_schedules.pop(next(iter(_schedules))))
                _schedules[key] = h
        try:
            return float(engine.backoff_next(h, attempt + 1)) / 1000.0
        finally:
            if key is None:  # an uncached schedule (an odd number type) is freed at once
                engine.backoff_drop(h)


_presets: Dict[Tuple[str, float, float, float], str] = {}


class RetryPolicies:
    """Retry presets (fixed, exponential, api_rate_limit, network) as keyword dicts for
    ``RetryPolicy(**...)`` / ``retry_with_backoff``."""

    @staticmethod
    def _preset(kind: str, a: float = NAN, b: float = NAN, c: float = NAN) -> Dict[str, Any]:
        key = (kind, a, b, c)
        text = _presets.get(key)
        if text is None:
            text = _native.preset_retry(kind, a, b, c, True) or "{}"
            # Ranges are the options' own: `exponential(-3)` fails here, not on the first call.
            _native.validate("retry", text, True)
            if len(_presets) >= 64:
                del _presets[next(iter(_presets))]
            _presets[key] = text
        return json.loads(text)  # type: ignore[no-any-return]

    @staticmethod
    def fixed(attempts: int = 3, delay: float = 1.0) -> Dict[str, Any]:
        return RetryPolicies._preset("fixed", finite_number("attempts", attempts), finite_number("delay", delay))

    @staticmethod
    def exponential(attempts: Optional[int] = None, initial: Optional[float] = None, max: Optional[float] = None) -> Dict[str, Any]:  # noqa: A002
        n = finite_number
        return RetryPolicies._preset("exponential", n("attempts", attempts), n("initial", initial), n("max", max))

    @staticmethod
    def api_rate_limit() -> Dict[str, Any]:
        return RetryPolicies._preset("apiRateLimit")

    @staticmethod
    def network() -> Dict[str, Any]:
        return RetryPolicies._preset("network")

