"""The rate limiter: at most ``limit`` calls per ``per`` seconds, in bursts of at most ``burst``
(Resilience4j's RateLimiter, Polly's rate limiter), for one process or, with ``fleet``, for every
replica together (each runs at its share of the limit, taken from Redis in a background thread). The core decides who starts,
who waits and for how long, and who is refused; this class sleeps the waiters (tasks or threads)
and hands a waiting caller's place back when it is cancelled."""
from __future__ import annotations

import inspect
import json
import weakref
from typing import Any, Awaitable, Callable, Dict, Optional, TypeVar

from . import _clock, _native
from ._engine import argument_error, coroutine_function_error, engine, options_json, snake
from ._errors import RateLimitError
from ._fleet import Fleet, FleetMember, QuotaPort, QuotaSync, client_and_prefix, quota_stats
from ._telemetry import listening, observed, report
from ._wrap import F, discard, guard, is_awaitable

T = TypeVar("T")
_anonymous = 0


@observed("rateLimit", lambda p: p.name)
class RateLimiter(FleetMember):
    """``RateLimiter("openai", limit=500, per=60)``: at most 500 calls a minute. ``max_wait``
    (seconds, default 0) is how long a call may wait for its place before it is refused.
    ``fleet=Fleet(redis.Redis(...))``: one limit for every replica with this name."""

    def __init__(self, name: Optional[str] = None, *, limit: Optional[int] = None, per: Optional[float] = None,
                 burst: Optional[int] = None, max_wait: Optional[float] = None, fleet: Optional[Any] = None,
                 **aliases: Any) -> None:
        global _anonymous
        opts = dict(name=name, limit=limit, per=per, burst=burst, max_wait=max_wait,
                    fleet=fleet.options() if isinstance(fleet, Fleet) else fleet, **aliases)
        self._h: int = engine.rate_limit_create(options_json(opts), True)
        if name is None:
            _anonymous += 1
        self.name: str = name if name is not None else f"rate-limiter-{_anonymous}"
        weakref.finalize(self, engine.rate_limit_drop, self._h)
        self._fleet: Optional[QuotaSync] = None
        if fleet is not None:
            self._join_fleet(fleet)

    def _join_fleet(self, fleet: Any) -> None:
        h = self._h
        # The core has checked the options (a fleet needs a name); its stats have the times in ms.
        config = json.loads(engine.rate_limit_stats(h, None))
        redis, prefix = client_and_prefix(fleet)
        self._fleet = QuotaSync(self.name, config["fleet"], redis, prefix, QuotaPort("rateLimit", h))

    def _go_alone(self) -> None:
        # Left the fleet: an equal part of the limit.
        engine.quota_sync_leave("rateLimit", self._h, None)

    def _acquire(self) -> tuple[float, float]:
        """(seconds to wait, ticket); raises RateLimitError when refused."""
        wait, ticket = engine.rate_limit_acquire(self._h, None)
        if wait < 0:
            if listening("call.rejected"):
                report("call.rejected", policy=self.name, by="rateLimit", code="RATE_LIMITED")
            raise RateLimitError(_native.rate_limit_message(self.name, -wait), -wait / 1000.0, self.name)
        return wait / 1000.0, ticket

    async def _place_async(self) -> None:
        """Waits for a place; raises RateLimitError when refused."""
        wait, ticket = self._acquire()
        if wait > 0:
            await self._wait(wait, ticket)

    async def _wait(self, wait: float, ticket: float) -> None:
        """Sleeps until the reserved place comes, giving it back if the sleep is cancelled."""
        try:
            await _clock.sleep(wait)
        except BaseException:
            engine.rate_limit_cancel(self._h, ticket)
            raise
        if listening("rate_limit.waited"):
            report("rate_limit.waited", policy=self.name, waitMs=wait * 1000.0)

    def _place(self) -> None:
        """``_place_async`` for a thread."""
        wait, ticket = self._acquire()
        if wait > 0:
            try:
                _clock.sleep_sync(wait)
            except BaseException:
                engine.rate_limit_cancel(self._h, ticket)
                raise
            if listening("rate_limit.waited"):
                report("rate_limit.waited", policy=self.name, waitMs=wait * 1000.0)

    async def call_async(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        if not callable(fn):
            raise argument_error(fn=fn)
        # A free place costs no extra coroutine; only a wait awaits.
        wait, ticket = self._acquire()
        if wait > 0:
            await self._wait(wait, ticket)
        # A plain function's value is taken as its result, as `execute` does in Node.
        result = fn(*args, **kwargs)
        return (await result) if is_awaitable(result) else result  # type: ignore[no-any-return]

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs a sync ``fn`` once admitted (sleeping first if it must wait); a function that
        answers an awaitable is refused (use ``call_async``)."""
        return self._call(fn, args, kwargs, False)  # type: ignore[no-any-return]

    def _call_either(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call`` for a plain function that may answer an awaitable (decorators): an awaitable
        is the admitted call itself and is answered as it is."""
        return self._call(fn, args, kwargs, True)

    def _call(self, fn: Callable[..., Any], args: Any, kwargs: Any, either: bool) -> Any:
        if not callable(fn):
            raise argument_error(fn=fn)
        if inspect.iscoroutinefunction(fn):
            if either:
                return self.call_async(fn, *args, **kwargs)
            raise coroutine_function_error(fn)
        self._place()
        result = fn(*args, **kwargs)
        if not either and is_awaitable(result):
            discard(result)
            raise coroutine_function_error(fn)
        return result

    def __call__(self, fn: F) -> F:
        """``@limiter``: limits a sync or async function."""
        return guard(fn, self)

    def stats(self) -> Dict[str, Any]:
        """Counters (``admitted``, ``waited``, ``refused``, ``cancelled``, ``available``) and the
        limits, durations in seconds."""
        s = json.loads(engine.rate_limit_stats(self._h, None))
        for k in ("per", "maxWait"):
            s[k] = s[k] / 1000.0
        if "fleet" in s:
            s["fleet"] = quota_stats(s["fleet"], self._fleet)
        return {"name": self.name, **{snake(k): v for k, v in s.items()}}


def rate_limiter(name: Optional[str] = None, **options: Any) -> RateLimiter:
    """``rate_limiter("openai", limit=500, per=60)``: a limiter, usable as a decorator."""
    return RateLimiter(name, **options)
