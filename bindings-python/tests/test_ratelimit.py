"""The rate limiter shell: starts, waits and refusals as the core decides them, on a virtual
clock; a cancelled waiter hands its place back; typed errors for bad options."""
from __future__ import annotations

import asyncio
import math

import pytest

from seawall import RateLimiter, RateLimitError, SeawallError, rate_limiter, virtual_clock


async def test_a_burst_starts_then_calls_wait_their_turn_or_are_refused() -> None:
    with virtual_clock(auto_advance=False) as clock:
        limiter = rate_limiter("openai", limit=2, per=1.0, max_wait=0.6)
        started = []

        async def work(label: str) -> str:
            started.append((label, clock.now()))
            return label

        assert await limiter.call_async(work, "a") == "a"
        assert limiter.call(lambda: "b") == "b"
        waiting = asyncio.ensure_future(limiter.call_async(work, "c"))
        await asyncio.sleep(0)
        with pytest.raises(RateLimitError) as e:
            await limiter.call_async(work, "d")
        assert isinstance(e.value, SeawallError)
        assert (e.value.code, e.value.retry_after, e.value.name) == ("RATE_LIMITED", 1.0, "openai")
        assert str(e.value) == "Rate limiter 'openai' is at its limit; try again in 1 seconds"
        await clock.advance_async(0.499)
        assert not waiting.done()
        await clock.advance_async(0.001)
        assert await waiting == "c"
        assert started == [("a", 0.0), ("c", 0.5)]
        s = limiter.stats()
        assert (s["admitted"], s["waited"], s["refused"], s["cancelled"], s["available"], s["per"], s["max_wait"]) == (2, 1, 1, 0, 0, 1.0, 0.6)


async def test_a_cancelled_waiter_gives_its_place_back() -> None:
    with virtual_clock(auto_advance=False) as clock:
        limiter = RateLimiter(limit=1, per=0.1, max_wait=1.0)

        @limiter
        async def stamp() -> float:
            return clock.now()

        assert await stamp() == 0.0
        waiter = asyncio.ensure_future(stamp())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        nxt = asyncio.ensure_future(stamp())
        await asyncio.sleep(0)
        await clock.advance_async(0.1)
        assert math.isclose(await nxt, 0.1), "the cancelled caller's place, not the one after"
        s = limiter.stats()
        assert (s["admitted"], s["waited"], s["cancelled"]) == (1, 2, 1)


def test_sync_calls_wait_on_the_clock_and_errors_pass_through() -> None:
    with virtual_clock() as clock:  # auto-advance: a sync wait moves the clock
        limiter = RateLimiter(limit=1, per=0.25, max_wait=1.0)

        @limiter
        def boom() -> None:
            raise KeyError("boom")

        for expected in (0.0, 0.25, 0.5):
            with pytest.raises(KeyError):
                boom()
            assert math.isclose(clock.now(), expected)
        with pytest.raises(TypeError):
            limiter.call(stamp_async)


async def stamp_async() -> None:
    return None


@pytest.mark.parametrize(
    "options, error, option, value",
    [
        ({}, TypeError, "limit", "undefined"),
        ({"limit": 0}, ValueError, "limit", "0"),
        ({"limit": 1.5}, ValueError, "limit", "1.5"),
        ({"limit": 5, "per": -1}, ValueError, "per", "-1"),
        ({"limit": 5, "burst": 0}, ValueError, "burst", "0"),
        ({"limit": 5, "max_wait": math.nan}, ValueError, "max_wait", "NaN"),
        ({"limit": 5, "rate": 10}, TypeError, "rate", None),
    ],
)
def test_bad_options_name_the_option_and_value(options: dict, error: type, option: str, value: object) -> None:
    with pytest.raises(error) as e:
        RateLimiter(**options)
    assert (e.value.code, e.value.option, e.value.value) == ("INVALID_OPTION", option, value)  # type: ignore[attr-defined]
    limiter = RateLimiter(limit=2, limit_refresh_period=0.5, timeout_duration=0)
    assert (limiter.stats()["per"], limiter.stats()["limit"]) == (0.5, 2)
