"""Cancellation storms: 10,000 calls, a hundred at a time, on one breaker and on one bulkhead,
each task cancelled at a random moment (before it starts, while queued, while running).
Afterwards the counts are exact, nothing is held, and at no moment did more calls run than the
limit allows (half-open probes; bulkhead slots). As bindings-node/test/storm.test.mjs."""
from __future__ import annotations

import asyncio
import random
from typing import Any, Awaitable, Callable, Dict

from seawall import Bulkhead, BulkheadRejectedError, CircuitBreaker, CircuitBreakerError, virtual_clock

CALLS = 10_000
LANES = 100


async def turns(n: int) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def storm(seed: int, call: Callable[[random.Random], Awaitable[None]], seen: Dict[str, int]) -> None:
    """CALLS calls in LANES lanes; about a third of the tasks are cancelled at a random moment."""
    rnd = random.Random(seed)
    left = [CALLS]
    loop = asyncio.get_running_loop()

    async def lane() -> None:
        while left[0] > 0:
            left[0] -= 1
            task = asyncio.ensure_future(call(rnd))
            if rnd.random() < 0.35:
                when = rnd.randrange(4)
                if when == 0:
                    task.cancel()
                else:
                    # Cancelled after `when` turns of the loop.
                    def later(n: int = when) -> None:
                        if n == 0:
                            task.cancel()
                        else:
                            loop.call_soon(later, n - 1)
                    loop.call_soon(later)
            try:
                await task
            except asyncio.CancelledError:
                seen["cancelled"] += 1
            await turns(rnd.randrange(2))

    await asyncio.gather(*(lane() for _ in range(LANES)))
    await turns(5)


async def test_a_half_open_breaker_under_a_storm_of_cancelled_calls_never_runs_more_probes_than_allowed() -> None:
    with virtual_clock(auto_advance=False) as clock:
        ignored = LookupError("not about the dependency")
        cb = CircuitBreaker("storm-breaker", failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=3,
                            is_failure=lambda e: e is not ignored)
        cb.open()
        clock.advance(1.0)
        before = cb.stats
        seen = dict(started=0, ignored=0, rejected=0, cancelled=0, cancelled_running=0)
        running = [0, 0]  # now, most

        async def probe(rnd: random.Random) -> None:
            seen["started"] += 1
            running[0] += 1
            running[1] = max(running[1], running[0])
            try:
                await turns(1 + rnd.randrange(3))
            except asyncio.CancelledError:
                seen["cancelled_running"] += 1
                raise
            finally:
                running[0] -= 1
            raise ignored

        # Probes are cancelled or end in an error that does not count: the breaker stays half-open
        # for the whole storm, and each ending must free its probe slot for the next caller.
        async def call(rnd: random.Random) -> None:
            try:
                await cb.call_async(probe, rnd)
            except LookupError:
                seen["ignored"] += 1
            except CircuitBreakerError:
                seen["rejected"] += 1

        await storm(1, call, seen)
        after = cb.stats
        assert seen["ignored"] + seen["rejected"] + seen["cancelled"] == CALLS, seen
        assert running[1] <= 3 and seen["started"] > 3, (running, seen)
        assert after["state"] == "HALF_OPEN"
        assert after["rejected_calls"] - before["rejected_calls"] == seen["rejected"]
        # A call given up while it ran counts neither way: it is among the ignored calls.
        assert after["ignored_calls"] - before["ignored_calls"] == seen["ignored"] + seen["cancelled_running"]
        assert (after["failed_calls"], after["successful_calls"]) == (before["failed_calls"], before["successful_calls"])
        assert after["in_flight"] + after["half_open_in_flight"] == 0

        async def ok() -> str:
            return "ok"

        # Every probe slot came back: the next caller is a probe, and its success closes the breaker.
        assert await cb.call_async(ok) == "ok"
        assert cb.state == "CLOSED"


async def test_a_closed_breaker_under_a_storm_of_cancelled_calls_counts_exactly_what_ended() -> None:
    cb = CircuitBreaker("storm-closed", failure_threshold=1_000_000)
    seen = dict(ok=0, failed=0, cancelled=0)

    class Upstream(Exception):
        pass

    async def work(rnd: random.Random) -> None:
        await turns(rnd.randrange(3))
        if rnd.random() < 0.3:
            raise Upstream

    async def call(rnd: random.Random) -> None:
        try:
            await cb.call_async(work, rnd)
            seen["ok"] += 1
        except Upstream:
            seen["failed"] += 1

    await storm(2, call, seen)
    st = cb.stats
    assert seen["ok"] + seen["failed"] + seen["cancelled"] == CALLS
    assert seen["cancelled"] > 1000, seen
    # A call its caller gave up on counts neither way.
    assert (st["successful_calls"], st["failed_calls"], st["in_flight"]) == (seen["ok"], seen["failed"], 0)


async def test_a_bulkhead_under_a_storm_of_cancelled_calls_never_runs_more_than_its_slots_and_gives_every_one_back() -> None:
    bh = Bulkhead("storm-bulkhead", max_concurrent=10, max_queue_size=40)
    running = [0, 0]
    seen = dict(ok=0, rejected=0, cancelled=0)

    async def work(rnd: random.Random) -> None:
        running[0] += 1
        running[1] = max(running[1], running[0])
        try:
            await turns(1 + rnd.randrange(3))
        finally:
            running[0] -= 1

    async def call(rnd: random.Random) -> None:
        try:
            await bh.call_async(work, rnd)
            seen["ok"] += 1
        except BulkheadRejectedError:
            seen["rejected"] += 1

    await storm(3, call, seen)
    m: Dict[str, Any] = bh.metrics()
    assert seen["ok"] + seen["rejected"] + seen["cancelled"] == CALLS
    assert running[1] <= 10, running
    assert seen["rejected"] and seen["cancelled"] and seen["ok"], seen
    assert m["rejected"] == seen["rejected"]
    assert (m["active"], m["queued"], m["available"]) == (0, 0, 10)
    # Every admitted call ran to its end or left the queue (a call cancelled while it ran
    # completes when its coroutine returns: then its slot comes back).
    assert m["completed"] + m["cancelled"] + m["timed_out"] == m["executed"] + m["enqueued"], m
    assert 0 < m["cancelled"] <= seen["cancelled"], (m, seen)
