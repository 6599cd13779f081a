"""An adaptive concurrency limit (Netflix's AIMD, Gradient2 and Vegas; core/src/adaptive.rs):
how many calls may run at once, moved by what they report (round-trip time, drops). The core
decides who is admitted and where the limit goes; this shell times the calls and says how each
ended. ``AdaptiveLimitMiddleware`` puts one at an ASGI service's door; ``call_async`` puts one
around any call. Durations are seconds."""
from __future__ import annotations

import asyncio
import contextvars
import json
import weakref
from typing import Any, Awaitable, Callable, Dict, Optional, TypeVar

from . import _clock, _native
from ._engine import engine, options_json, snake
from ._errors import ConcurrencyLimitError
from ._telemetry import listening, observed, outcome_of, report

T = TypeVar("T")
_OUTCOMES = {"success": 0, "dropped": 1, "ignored": 2}
_NAMES = ("success", "dropped", "ignored")
_anonymous = 0

# The request a service is handling: the deadline its client gave (on the clock in use, seconds),
# which caps the timeouts of the calls the handler makes. (Its cancellation needs no variable:
# the middleware cancels the handler's task, and every await in it sees that.)
request_deadline: "contextvars.ContextVar[Optional[float]]" = contextvars.ContextVar("seawall_request_deadline", default=None)


def capped_timeout(timeout: Optional[float]) -> Optional[float]:
    """A timeout (seconds) capped by the deadline of the request being handled, if any."""
    deadline = request_deadline.get()
    if deadline is None:
        return timeout
    left = max(0.0, deadline - _clock.now())
    return left if timeout is None else min(timeout, left)


def outcome_of_status(status: int) -> str:
    """What a response of ``status`` means for a limit (the core's rule: 429, 503 and 504
    dropped, another 5xx ignored, the rest a success)."""
    return _NAMES[_native.limit_outcome(float(status))]


class Permit:
    """An admitted call's place; ``release`` gives it back once (later calls do nothing)."""

    __slots__ = ("_h", "_permit")

    def __init__(self, h: int, permit: float) -> None:
        self._h, self._permit = h, permit

    def release(self, outcome: str = "success") -> None:
        permit, self._permit = self._permit, -1.0
        if permit >= 0:
            engine.adaptive_release(self._h, permit, _OUTCOMES.get(outcome, 2), None)


@observed("adaptiveLimit", lambda l: l.name, None, ("call_async",))
class AdaptiveLimit:
    """``AdaptiveLimit(algorithm="gradient2")``: options as the core's (``initial_limit``,
    ``min_limit``, ``max_limit``, ``smoothing``, ``min_window`` / ``max_window`` seconds,
    ``window_size``, ``backoff_ratio``, ``timeout`` seconds, ``rtt_tolerance``, ``long_window``,
    ``queue_size``, ``probe_multiplier``, ``partitions={"live": 0.7}``)."""

    def __init__(self, name: Optional[str] = None, *, seed: int = 0, **options: Any) -> None:
        global _anonymous
        self._h: int = engine.adaptive_create(options_json({"name": name, **options}), True, float(seed))
        weakref.finalize(self, engine.adaptive_drop, self._h)
        if name is None:
            _anonymous += 1
        self.name: str = name if name is not None else f"adaptive-limit-{_anonymous}"
        self._partitions: Dict[str, float] = {}

    def try_acquire(self, partition: Optional[str] = None) -> Optional[Permit]:
        """A place for a call now, or None when the limit sheds it."""
        p = -1.0
        if partition is not None:
            p = self._partitions.get(partition, -2.0)
            if p == -2.0:
                p = self._partitions[partition] = engine.adaptive_partition(self._h, partition)
        permit = engine.adaptive_acquire(self._h, p, None)
        if permit < 0:
            if listening("call.rejected"):
                report("call.rejected", policy=self.name, by="adaptiveLimit", code="CONCURRENCY_LIMITED")
            return None
        return Permit(self._h, permit)

    def retry_after(self) -> float:
        """When a shed caller should come back, seconds (the limit's next move; a second at least)."""
        return self._retry_after_ms() / 1000.0

    def _retry_after_ms(self) -> float:
        return float(engine.adaptive_retry_after(self._h, None))

    def refusal(self) -> ConcurrencyLimitError:
        after = self.retry_after()
        return ConcurrencyLimitError(_native.adaptive_message(self.name, after * 1000.0), after, self.name)

    async def call_async(self, fn: Callable[..., Awaitable[T]], *args: Any, partition: Optional[str] = None, **kwargs: Any) -> T:
        """Runs ``fn`` within the limit, or raises ``ConcurrencyLimitError`` when it sheds the
        call. A timeout or a downstream refusal is a drop; a cancellation is ignored."""
        permit = self.try_acquire(partition)
        if permit is None:
            raise self.refusal()
        try:
            result = await fn(*args, **kwargs)
        except asyncio.CancelledError:
            permit.release("ignored")
            raise
        except BaseException as exc:
            # A timeout or a refusal downstream (the core's lists, as the telemetry reads them).
            permit.release("dropped" if outcome_of(exc) in ("timeout", "rejected") else "success")
            raise
        permit.release("success")
        return result

    def stats(self) -> Dict[str, Any]:
        s = json.loads(engine.adaptive_stats(self._h))
        return {"name": self.name, **{snake(k): v for k, v in s.items()}}
