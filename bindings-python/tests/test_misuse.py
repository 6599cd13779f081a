"""The mistakes users make most, each with a typed error naming the argument or option and its
value, or a documented behaviour — and, where a call was refused, nothing counted or held.
As bindings-node/test/misuse.test.mjs."""
from __future__ import annotations

import asyncio
import math
import threading
from typing import Any, Callable, List, Optional

import pytest

import seawall
from seawall import Bulkhead, CircuitBreaker, RetryBudget, RetryPolicy, virtual_clock


async def af() -> int:
    return 1


def sf() -> int:
    return 2


def run(v: Any) -> Any:
    return asyncio.run(v) if asyncio.iscoroutine(v) else v


def advance(x: Any) -> None:
    with virtual_clock(auto_advance=False) as clock:
        clock.advance(x)


REFUSED: List[Any] = [
    # (what the user wrote, the call, error class, option, value as printed or None)
    ("retry_with_backoff(not_a_function)", lambda: seawall.retry_with_backoff(42), TypeError, "fn", "42"),
    ("a negative max_attempts", lambda: seawall.retry_with_backoff(af, max_attempts=-1), ValueError, "max_attempts", "-1"),
    ("a huge max_attempts", lambda: seawall.retry_with_backoff(af, max_attempts=10**9), ValueError, "max_attempts", "1000000000"),
    ("True as a count", lambda: seawall.retry_with_backoff(af, max_attempts=True), TypeError, "max_attempts", "true"),
    ("a NaN delay", lambda: seawall.retry_with_backoff(af, base_delay=math.nan), ValueError, "base_delay", "NaN"),
    ("a misspelt option", lambda: seawall.retry_with_backoff(af, max_attemps=3), TypeError, "max_attemps", None),
    ("an unknown jitter", lambda: RetryPolicy(jitter="sometimes"), ValueError, "jitter", '"sometimes"'),
    ("retry_on that is not an exception class", lambda: RetryPolicy(retry_on="ValueError"), TypeError, "retry_on", None),
    ("RetryPolicy().call(not_a_function)", lambda: RetryPolicy().call(None), TypeError, "fn", "null"),
    ("RetryPolicy().call(coroutine function)", lambda: RetryPolicy().call(af), TypeError, "fn", "a coroutine function"),
    ("a zero failure_threshold", lambda: CircuitBreaker(failure_threshold=0), ValueError, "failure_threshold", "0"),
    ("a duration as a string", lambda: CircuitBreaker(recovery_timeout="60"), TypeError, "recovery_timeout", '"60"'),
    ("a breaker name that is not a string", lambda: CircuitBreaker(7), TypeError, "name", "7"),
    ("breaker.call(not_a_function)", lambda: CircuitBreaker().call(42), TypeError, "fn", "42"),
    ("breaker.call(coroutine function)", lambda: CircuitBreaker().call(af), TypeError, "fn", "a coroutine function"),
    ("breaker.call_async(not_a_function)", lambda: CircuitBreaker().call_async("fetch"), TypeError, "fn", '"fetch"'),
    ("a bulkhead with no slots", lambda: Bulkhead(max_concurrent=0), ValueError, "max_concurrent", "0"),
    ("a negative queue", lambda: Bulkhead(max_concurrent=1, max_queue_size=-1), ValueError, "max_queue_size", "-1"),
    ("a bulkhead name that is not a string (its size given first)", lambda: Bulkhead(4), TypeError, "name", "4"),
    ("bulkhead.call(coroutine function)", lambda: Bulkhead(max_concurrent=1).call(af), TypeError, "fn", "a coroutine function"),
    ("bulkhead.call_async(not_a_function)", lambda: Bulkhead(max_concurrent=1).call_async(None), TypeError, "fn", "null"),
    ("a negative timeout", lambda: seawall.with_timeout(af, -1), ValueError, "timeout", "-1"),
    ("with_timeout(not_a_function, s)", lambda: seawall.with_timeout(42, 1), TypeError, "fn", "42"),
    ("ResilientClient with a bad timeout", lambda: seawall.ResilientClient("http://127.0.0.1:9", timeout=0), ValueError, "timeout", "0"),
    ("ResilientTransport over something that is not a transport", lambda: seawall.ResilientTransport(5), TypeError, "transport", "5"),
    ("ResilientClient with something that is not a breaker", lambda: seawall.ResilientClient("http://127.0.0.1:9", circuit_breaker=42), TypeError, "circuit_breaker", None),
    ("a virtual clock moved backwards", lambda: advance(-1), ValueError, "advance", "-1"),
    ("a virtual clock moved by NaN", lambda: advance(math.nan), ValueError, "advance", "NaN"),
    ("a retry budget with a negative ratio", lambda: RetryBudget(ratio=-0.1), ValueError, "ratio", "-0.1"),
]


@pytest.mark.parametrize("what,call,kind,option,value", REFUSED, ids=[r[0] for r in REFUSED])
def test_misuse_is_a_typed_error_naming_the_option(what: str, call: Callable[[], Any], kind: type, option: str, value: Optional[str]) -> None:
    with pytest.raises(kind) as info:
        run(call())
    e = info.value
    assert getattr(e, "code", None) == "INVALID_OPTION", repr(e)
    assert getattr(e, "option", None) == option
    if value is not None:
        assert getattr(e, "value", None) == value
    assert f" {option}" in str(e)


async def test_misuse_a_refused_call_counts_nothing_and_holds_nothing() -> None:
    cb = CircuitBreaker("misuse-counts", failure_threshold=1)
    bh = Bulkhead("misuse-counts", max_concurrent=1, max_queue_size=0)
    for _ in range(3):
        with pytest.raises(TypeError):
            cb.call(42)
        with pytest.raises(TypeError):
            await cb.call_async(42)
        with pytest.raises(TypeError):
            cb.call(af)  # the coroutine is closed unrun: no "never awaited" warning either
        with pytest.raises(TypeError):
            await bh.call_async(42)
    st = cb.stats
    assert (st["state"], st["failed_calls"], st["successful_calls"], st["in_flight"]) == ("CLOSED", 0, 0, 0)
    m = bh.metrics()
    assert (m["active"], m["executed"], m["rejected"]) == (0, 0, 0)
    assert await bh.call_async(af) == 1


async def test_misuse_documented_a_plain_function_where_a_coroutine_function_is_expected_is_taken_as_it_is() -> None:
    assert await CircuitBreaker().call_async(sf) == 2
    assert await Bulkhead(max_concurrent=1).call_async(sf) == 2
    # retry_with_backoff follows its function: a plain one is retried synchronously, in place.
    assert seawall.retry_with_backoff(sf) == 2


def test_misuse_documented_a_temporary_breaker_lives_through_its_own_call() -> None:
    # CircuitBreaker().call(fn): the breaker is referenced by nothing but the call in progress.
    assert CircuitBreaker().call(sf) == 2


def test_misuse_documented_a_breaker_shared_across_event_loops_and_threads_keeps_exact_counts() -> None:
    cb = CircuitBreaker("misuse-loops", failure_threshold=1_000_000)

    def worker() -> None:
        for _ in range(200):
            asyncio.run(cb.call_async(af))
            cb.call(sf)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st = cb.stats
    assert (st["successful_calls"], st["in_flight"]) == (1600, 0)


def test_misuse_documented_a_bulkhead_used_from_two_event_loops_gives_its_slots_back() -> None:
    bh = Bulkhead("misuse-bulkhead-loops", max_concurrent=1)
    assert asyncio.run(bh.call_async(af)) == 1
    assert asyncio.run(bh.call_async(af)) == 1
    assert bh.metrics()["active"] == 0


def test_misuse_documented_a_breaker_keeps_working_after_the_registry_was_cleared() -> None:
    cb = CircuitBreaker("misuse-cleared")
    seawall.circuit_breaker_registry.clear()
    assert cb.call(sf) == 2
    assert seawall.circuit_breaker_registry.get("misuse-cleared") is None
    assert "misuse-cleared" not in seawall.prometheus_metrics()


async def test_misuse_documented_an_is_failure_that_raises_gives_its_probe_back() -> None:
    with virtual_clock(auto_advance=False) as clock:
        bug = [False]

        def is_failure(_e: BaseException) -> bool:
            if bug[0]:
                raise RuntimeError("predicate bug")
            return True

        cb = CircuitBreaker("misuse-hook", failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=1, is_failure=is_failure)

        async def down() -> None:
            raise ConnectionError("down")

        with pytest.raises(ConnectionError):
            await cb.call_async(down)
        clock.advance(1.0)
        bug[0] = True
        with pytest.raises(RuntimeError, match="predicate bug"):
            await cb.call_async(down)
        st = cb.stats
        assert (st["state"], st["in_flight"], st["half_open_in_flight"]) == ("HALF_OPEN", 0, 0)
        bug[0] = False
        assert await cb.call_async(af) == 1
        assert cb.state == "CLOSED"


async def test_misuse_documented_an_on_retry_hook_that_raises_ends_the_call_with_its_error() -> None:
    calls = [0]

    async def flaky() -> int:
        calls[0] += 1
        raise ConnectionError("flaky")

    def hook(*_: Any) -> None:
        raise RuntimeError("hook bug")

    with pytest.raises(RuntimeError, match="hook bug"):
        await seawall.retry_with_backoff(flaky, max_attempts=3, base_delay=0.001, on_retry=hook)
    assert calls[0] == 1
