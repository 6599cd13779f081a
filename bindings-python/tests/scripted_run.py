"""The scripted run both telemetry tests report (events on the logger, OpenTelemetry's instruments
and spans), on the virtual clock; Node's tests run the same script (test/fixtures/scripted-run.mjs)
against the same expectations: a named retry policy around a named breaker that opens, a full
bulkhead, a rate limiter's wait and a timeout."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

import seawall
from seawall import Bulkhead, CircuitBreaker, VirtualClock, rate_limiter, retry_with_backoff, with_timeout

# The policies it names.
POLICIES = {"charge", "payments", "reports", "search", "slow"}


class Flaky(Exception):
    code = "E_FLAKY"


async def scripted_run(clock: VirtualClock) -> None:
    breaker = CircuitBreaker(name="payments", failure_threshold=2, recovery_timeout=10.0)

    async def flaky() -> Any:
        raise Flaky("flaky")

    with pytest.raises(seawall.CircuitBreakerError):
        await retry_with_backoff(lambda: breaker.call_async(flaky), name="charge", max_attempts=4, base_delay=0.1, jitter=False)
    bulkhead = Bulkhead(name="reports", max_concurrent=1)
    gate = asyncio.Event()

    async def hold() -> None:
        await gate.wait()

    busy = asyncio.ensure_future(bulkhead.call_async(hold))
    await asyncio.sleep(0)
    with pytest.raises(seawall.BulkheadRejectedError):
        await bulkhead.call_async(lambda: 1)
    gate.set()
    await busy
    limiter = rate_limiter("search", limit=1, per=1.0, max_wait=5.0)
    await limiter.call_async(lambda: 1)
    await limiter.call_async(lambda: 2)
    with pytest.raises(seawall.TimeoutError):
        await with_timeout(lambda: clock.sleep(1.0), 0.05, name="slow")
