"""Callables that answer an awaitable without being coroutine functions — ``lambda: f()``,
``functools.partial``, a ``def`` that returns a coroutine — as Python programs pass them. Every
guard awaits the awaitable inside its own logic (each attempt, each permit or slot); a
sync-only ``call`` refuses one with a typed error instead of handing it out unawaited."""
from __future__ import annotations

import asyncio
import functools
import warnings
from typing import Any, Callable, List

import pytest

import seawall
from seawall import (
    Bulkhead,
    BulkheadRejectedError,
    CircuitBreaker,
    RateLimiter,
    RetryPolicy,
    circuit_breaker_registry,
    retry,
    retry_with_backoff,
    virtual_clock,
    with_circuit_breaker,
    with_timeout,
)


class Flaky:
    """An async dependency that fails ``failures`` times, then answers ``"ok"``."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self, suffix: str = "") -> str:
        self.calls += 1
        await asyncio.sleep(0)
        if self.calls <= self.failures:
            raise ConnectionError(f"down {self.calls}")
        return "ok" + suffix


def refuses_unawaited(call: Callable[[], Any]) -> TypeError:
    """``call()`` raises the typed error, and the coroutine it refused was closed unrun (no
    'never awaited' warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(TypeError) as info:
            call()
    err = info.value
    assert (err.code, err.option) == ("INVALID_OPTION", "fn")  # type: ignore[attr-defined]
    assert err.value == "a function that answers an awaitable"  # type: ignore[attr-defined]
    assert "call_async" in str(err)
    return err


# ---- retries -------------------------------------------------------------------------------

async def test_retry_with_backoff_retries_a_lambda_that_answers_a_coroutine() -> None:
    flaky = Flaky(2)
    with virtual_clock():
        assert await retry_with_backoff(lambda: flaky(), max_attempts=4) == "ok"
    assert flaky.calls == 3, "each attempt awaited inside the retry loop"


async def test_retry_with_backoff_gives_up_on_a_lambda_after_its_attempts() -> None:
    flaky = Flaky(10)
    with virtual_clock():
        with pytest.raises(ConnectionError, match="down 3"):
            await retry_with_backoff(lambda: flaky(), max_attempts=3)
    assert flaky.calls == 3


async def test_retry_with_backoff_retries_a_partial_and_a_def_that_returns_a_coroutine() -> None:
    flaky = Flaky(1)

    def fetch() -> Any:
        return flaky("!")

    with virtual_clock():
        assert await retry_with_backoff(functools.partial(flaky, "?"), max_attempts=3) == "ok?"
        flaky.calls, flaky.failures = 0, 1
        assert await retry_with_backoff(fetch, max_attempts=3) == "ok!"
    assert flaky.calls == 2


async def test_retry_decorator_on_a_def_that_returns_a_coroutine_retries_it() -> None:
    flaky = Flaky(2)

    @retry(max_attempts=4, base_delay=0.01)
    def fetch(suffix: str) -> Any:
        return flaky(suffix)

    with virtual_clock():
        assert await fetch("!") == "ok!"
    assert flaky.calls == 3


def test_a_plain_function_under_retry_with_backoff_still_answers_its_value() -> None:
    calls: List[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) < 2:
            raise ConnectionError("once")
        return "plain"

    with virtual_clock():
        assert retry_with_backoff(work, max_attempts=3) == "plain"
    assert len(calls) == 2


async def test_retry_policy_call_async_retries_a_lambda_and_call_refuses_one() -> None:
    flaky = Flaky(1)
    policy = RetryPolicy(max_attempts=3)
    with virtual_clock():
        assert await policy.call_async(lambda: flaky()) == "ok"
    assert flaky.calls == 2
    flaky.calls = 0
    refuses_unawaited(lambda: policy.call(lambda: flaky()))
    assert flaky.calls == 0, "refused at once: not retried, nothing ran"


async def test_retry_with_a_breaker_counts_each_awaited_attempt_on_the_breaker() -> None:
    flaky = Flaky(2)
    cb = CircuitBreaker(failure_threshold=10)
    with virtual_clock():
        assert await retry_with_backoff(lambda: flaky(), max_attempts=4, circuit_breaker=cb) == "ok"
    assert flaky.calls == 3
    stats = cb.stats
    assert (stats["failed_calls"], stats["successful_calls"]) == (2, 1), stats


# ---- the breaker ---------------------------------------------------------------------------

async def test_breaker_decorator_on_a_def_that_returns_a_coroutine_counts_its_outcome() -> None:
    flaky = Flaky(2)
    cb = CircuitBreaker(failure_threshold=2)

    @cb
    def fetch() -> Any:
        return flaky()

    @with_circuit_breaker(cb)
    def fetch_too() -> Any:
        return flaky()

    with pytest.raises(ConnectionError):
        await fetch()
    with pytest.raises(ConnectionError):
        await fetch_too()
    assert cb.state == "OPEN", "both failures were counted while awaited under the breaker"
    cb.reset()
    assert await fetch() == "ok"
    assert cb.stats["successful_calls"] == 1


async def test_breaker_call_refuses_a_lambda_that_answers_a_coroutine_or_a_future() -> None:
    flaky = Flaky(0)
    for cb in (CircuitBreaker(), CircuitBreaker(timeout=5.0)):  # the native call, and Python's
        refuses_unawaited(lambda: cb.call(lambda: flaky()))
        future = asyncio.get_running_loop().create_future()
        with pytest.raises(TypeError):
            cb.call(lambda: future)
        stats = cb.stats
        assert (stats["failed_calls"], stats["successful_calls"], cb.state) == (0, 0, "CLOSED"), "counted neither way"
        assert await cb.call_async(lambda: flaky()) == "ok"
    assert flaky.calls == 2


async def test_breaker_decorator_holds_the_probe_permit_until_the_awaitable_settles() -> None:
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "probe"

    with virtual_clock() as clock:
        cb = CircuitBreaker(failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=1)
        cb.open()
        clock.advance(1.0)

        @cb
        def probe() -> Any:
            return slow()

        pending = asyncio.ensure_future(probe())
        await asyncio.sleep(0)
        assert cb.state == "HALF_OPEN"
        with pytest.raises(seawall.CircuitBreakerError):
            probe()  # the one probe is out: a second is refused
        gate.set()
        assert await pending == "probe"
        assert cb.state == "CLOSED"


async def test_breaker_decorator_times_out_an_awaitable_with_the_breakers_timeout() -> None:
    async def hang() -> None:
        await asyncio.Event().wait()

    with virtual_clock(auto_advance=False) as clock:
        cb = CircuitBreaker(failure_threshold=1, timeout=0.5)

        @cb
        def call() -> Any:
            return hang()

        pending = asyncio.ensure_future(call())
        await clock.advance_async(0.5)
        with pytest.raises(seawall.TimeoutError):
            await pending
        assert cb.state == "OPEN"


# ---- bulkheads, rate limiters, timeouts ----------------------------------------------------

async def test_bulkhead_decorator_holds_the_slot_while_the_awaitable_runs() -> None:
    gate = asyncio.Event()

    async def work() -> str:
        await gate.wait()
        return "done"

    bh = Bulkhead(max_concurrent=1, max_queue_size=0)

    @bh
    def guarded() -> Any:
        return work()

    first = asyncio.ensure_future(guarded())
    await asyncio.sleep(0)
    with pytest.raises(BulkheadRejectedError):
        guarded()  # the slot is still held by the first call's awaitable
    gate.set()
    assert await first == "done"
    assert bh.metrics()["active"] == 0, "the slot came back when the awaitable settled"
    assert await guarded() == "done"


async def test_bulkhead_call_refuses_an_awaitable_and_gives_the_slot_back() -> None:
    bh = Bulkhead(max_concurrent=1)
    refuses_unawaited(lambda: bh.call(lambda: Flaky(0)()))
    assert bh.metrics()["active"] == 0
    assert await bh.call_async(lambda: Flaky(0)()) == "ok"


async def test_rate_limiter_decorator_awaits_and_call_refuses() -> None:
    rl = RateLimiter(limit=5, per=1.0)

    @rl
    def guarded() -> Any:
        return Flaky(0)("!")

    assert await guarded() == "ok!"
    refuses_unawaited(lambda: rl.call(lambda: Flaky(0)()))
    assert await rl.call_async(lambda: Flaky(0)()) == "ok"


async def test_with_timeout_cancels_a_lambdas_coroutine_and_takes_a_plain_value() -> None:
    cancelled: List[bool] = []

    async def hang() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with virtual_clock(auto_advance=False) as clock:
        pending = asyncio.ensure_future(with_timeout(lambda: hang(), 0.2))
        await clock.advance_async(0.2)
        with pytest.raises(seawall.TimeoutError):
            await pending
        assert cancelled == [True]
        assert await with_timeout(lambda: "cached", 0.2) == "cached"


# ---- state listeners get the transition's reason, as Node's events do -----------------------

def test_state_listeners_get_the_reason_when_they_take_it() -> None:
    seen: List[Any] = []
    name = "listener-reason"
    cb = CircuitBreaker(name, failure_threshold=1, on_state_change=lambda a, b, reason: seen.append(("own", a, b, reason)))
    cb.add_listener(lambda a, b: seen.append(("two", a, b)))
    cb.add_listener(lambda *args: seen.append(("var", *args)))
    unsubscribe = circuit_breaker_registry.add_listener(lambda n, a, b, reason: seen.append(("registry", n, a, b, reason)))
    try:
        with pytest.raises(ConnectionError):
            cb.call(lambda: (_ for _ in ()).throw(ConnectionError("down")))
        cb.reset()
    finally:
        unsubscribe()
        circuit_breaker_registry.clear()
    assert seen == [
        ("own", "CLOSED", "OPEN", "CONSECUTIVE_FAILURES"),
        ("two", "CLOSED", "OPEN"),
        ("var", "CLOSED", "OPEN", "CONSECUTIVE_FAILURES"),
        ("registry", name, "CLOSED", "OPEN", "CONSECUTIVE_FAILURES"),
        ("own", "OPEN", "CLOSED", "MANUAL_RESET"),
        ("two", "OPEN", "CLOSED"),
        ("var", "OPEN", "CLOSED", "MANUAL_RESET"),
        ("registry", name, "OPEN", "CLOSED", "MANUAL_RESET"),
    ]
