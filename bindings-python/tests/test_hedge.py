"""Hedged calls: attempts start as the core's steps say (on a virtual clock), the first
acceptable answer wins, every loser is cancelled and has ended before the call returns; all
failing raises the primary's error with the others attached; cancelling the caller cancels every
attempt. Then a real long-tail server on 127.0.0.1 that sees the losing request's connection
closed, and a storm of 10,000 hedged calls through a breaker and a bulkhead cancelled at random.
As bindings-node/test/hedge.test.mjs."""
from __future__ import annotations

import asyncio
import random
import sys
from typing import Any, List

import httpx
import pytest

from seawall import Bulkhead, CircuitBreaker, HedgePolicy, ResilientClient, ResilientMiddleware, ResilientTransport, SyncResilientClient, hedge, virtual_clock


async def started(call: "asyncio.Future[Any]") -> "asyncio.Future[Any]":
    """The call with its first attempt under way (tasks start on the loop's next turns)."""
    for _ in range(3):
        await asyncio.sleep(0)
    return call


async def tick(clock: Any, seconds: float) -> None:
    """Lets the tasks run their turns (an attempt that failed starts the next a few turns on),
    then moves the clock."""
    for _ in range(6):
        await asyncio.sleep(0)
    await clock.advance_async(seconds)


def attempt_after(clock: Any, log: List[str], seconds: List[float], values: List[Any]) -> Any:
    """An attempt ``k`` that answers ``values[k]`` after ``seconds[k]`` on the clock (raising it
    when it is an exception), logging its start, end and cancellation."""

    async def attempt(k: int) -> Any:
        log.append(f"start {k} @{clock.now():g}")
        try:
            await clock.sleep(seconds[k])
        except asyncio.CancelledError:
            log.append(f"cancelled {k} @{clock.now():g}")
            raise
        log.append(f"end {k} @{clock.now():g}")
        if isinstance(values[k], BaseException):
            raise values[k]
        return values[k]

    return attempt


async def test_a_slow_primary_gets_a_hedge_each_delay_and_the_losers_end_before_the_call() -> None:
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []
        policy = HedgePolicy("search", delay=0.05, max_attempts=3, budget=False)
        call = await started(asyncio.ensure_future(policy.call_async(attempt_after(clock, log, [1, 1, 0.02], ["a0", "a1", "a2"]))))
        await tick(clock, 0.05)
        await tick(clock, 0.05)
        assert log == ["start 0 @0", "start 1 @0.05", "start 2 @0.1"]
        await tick(clock, 0.02)
        assert await call == "a2"
        assert log[3] == "end 2 @0.12" and sorted(log[4:]) == ["cancelled 0 @0.12", "cancelled 1 @0.12"]
        s = policy.stats()
        assert (s["name"], s["calls"], s["hedges"], s["hedge_wins"], s["delay"]) == ("search", 1, 2, 1, 0.05)


async def test_a_primary_that_answers_before_the_delay_starts_nothing_else() -> None:
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []
        policy = HedgePolicy(delay=0.05, on_hedge=lambda k: pytest.fail("no hedge"))
        call = await started(asyncio.ensure_future(policy.call_async(attempt_after(clock, log, [0.03], ["fast"]))))
        await tick(clock, 0.03)
        assert await call == "fast"
        await tick(clock, 0.1)
        assert log == ["start 0 @0", "end 0 @0.03"]
        assert policy.stats()["hedges"] == 0


async def test_when_every_attempt_failed_the_primarys_error_is_raised_with_the_others_attached() -> None:
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []
        errors = [ConnectionError("a"), ConnectionError("b"), ConnectionError("c")]
        call = await started(asyncio.ensure_future(hedge(attempt_after(clock, log, [0.01] * 3, errors), mode="fallback", max_attempts=3, name="fallback-mode")))
        for _ in range(3):
            await tick(clock, 0.01)
        with pytest.raises(ConnectionError) as raised:
            await call
        assert raised.value is errors[0]
        assert raised.value.hedged_errors == [errors[1], errors[2]]  # type: ignore[attr-defined]
        assert log == ["start 0 @0", "end 0 @0.01", "start 1 @0.01", "end 1 @0.02", "start 2 @0.02", "end 2 @0.03"]


async def test_an_error_no_attempt_can_help_with_fails_the_call_at_once() -> None:
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []

        class BadRequest(Exception):
            status_code = 400

        bad = BadRequest("bad request")
        call = await started(asyncio.ensure_future(hedge(attempt_after(clock, log, [1, 0.005], ["late", bad]), delay=0.01, name="fatal")))
        await tick(clock, 0.01)
        await tick(clock, 0.005)
        with pytest.raises(BadRequest):
            await call
        assert log == ["start 0 @0", "start 1 @0.01", "end 1 @0.015", "cancelled 0 @0.015"]


async def test_retry_on_and_retry_on_result_decide_which_attempts_failed() -> None:
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []
        # Only ConnectionError may be followed by another attempt.
        ok = await started(asyncio.ensure_future(hedge(attempt_after(clock, log, [0.005, 0.005], [ConnectionResetError("reset"), "second"]), delay=1, retry_on=ConnectionError, name="listed")))
        await tick(clock, 0.005)
        await tick(clock, 0.005)
        assert await ok == "second"
        other = await started(asyncio.ensure_future(hedge(attempt_after(clock, log, [0.005], [KeyError("other")]), delay=1, retry_on=ConnectionError, name="listed")))
        await tick(clock, 0.005)
        with pytest.raises(KeyError):
            await other
        judged = await started(asyncio.ensure_future(hedge(attempt_after(clock, log, [0.005, 0.005], [{"ok": False}, {"ok": True}]), delay=1, retry_on_result=lambda v: not v["ok"], name="judged")))
        await tick(clock, 0.005)
        await tick(clock, 0.005)
        assert await judged == {"ok": True}


async def test_cancelling_the_caller_cancels_every_attempt_and_waits_for_them() -> None:
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []
        policy = HedgePolicy(delay=0.01, max_attempts=3)
        call = await started(asyncio.ensure_future(policy.call_async(attempt_after(clock, log, [1, 1, 1], ["x", "y", "z"]))))
        await tick(clock, 0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert log[:2] == ["start 0 @0", "start 1 @0.01"] and sorted(log[2:]) == ["cancelled 0 @0.01", "cancelled 1 @0.01"]
        await tick(clock, 1)
        assert len(log) == 4, "no third attempt after the call ended"


async def test_the_budget_and_the_throttle_stop_hedging_in_an_outage() -> None:
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []
        policy = HedgePolicy(delay=0.01, budget={"ratio": 0.1, "min_retries_per_second": 0, "max_tokens": 2}, throttle=False)
        calls = [asyncio.ensure_future(policy.call_async(attempt_after(clock, log, [0.1, 0.1], [0, 1]))) for _ in range(10)]
        await started(calls[-1])
        await tick(clock, 0.01)
        await tick(clock, 0.1)
        await asyncio.gather(*calls)
        s = policy.stats()
        assert (s["hedges"], s["budget_refused"]) == (2, 8)
        throttled = HedgePolicy(delay=0.01, budget=False, throttle={"max_tokens": 4})
        for _ in range(5):
            c = await started(asyncio.ensure_future(throttled.call_async(attempt_after(clock, log, [0.1, 0.1], [0, 1]))))
            await tick(clock, 0.01)
            await tick(clock, 0.1)
            await c
        s = throttled.stats()
        # Slow calls take a token each: at half of the four, hedging stops, and stays stopped.
        assert (s["hedges"], s["throttle_refused"], s["throttle_tokens"]) == (2, 3, 0)


async def scenario(options: Any, judged: bool) -> Any:
    """A seeded run of 200 hedged calls on a virtual clock (attempts of scripted times, some
    failing): the log of attempts started, each call's answer and the policy's stats. ``judged``:
    with a ``retry_on_result`` that rejects nothing, which makes each call's machine from its
    start; without, calls begin without one."""
    with virtual_clock(auto_advance=False) as clock:
        rng = random.Random(7)
        policy = HedgePolicy(**options, **({"retry_on_result": lambda v: False} if judged else {}))
        log: List[str] = []
        results: List[Any] = [None] * 200
        pending = []

        async def one(i: int, plan: List[Any]) -> None:
            async def attempt(k: int) -> str:
                log.append(f"{i}:{k}@{clock.now() * 1000:.0f}")
                await clock.sleep(plan[k][0] / 1000)
                if plan[k][1]:
                    raise ConnectionResetError("reset")
                return f"{i}:{k}"

            try:
                results[i] = await policy.call_async(attempt)
            except ConnectionResetError:
                results[i] = "error"

        for i in range(200):
            plan = [(100 if rng.random() < 0.2 else 1 + int(rng.random() * 10), rng.random() < 0.05) for _ in range(3)]
            pending.append(asyncio.ensure_future(one(i, plan)))
            await tick(clock, 0.01)
        for _ in range(1000):
            if all(r is not None for r in results):
                break
            await tick(clock, 0.001)
        await asyncio.gather(*pending)
        # Tokens to 1e-9: a call begun lazily deposits as it is handed over, not as it begins,
        # and the budget's refill over time then sums in another order (the same to the last bits).
        stats = {k: round(v, 9) if isinstance(v, float) else v for k, v in policy.stats().items()}
        return log, results, stats


async def test_a_call_begun_without_a_machine_decides_as_one_begun_with_it() -> None:
    for options in (
        {"delay": 0.02, "max_attempts": 3, "budget": {"ratio": 0.2, "min_retries_per_second": 0, "max_tokens": 2}, "throttle": {"max_tokens": 20, "token_ratio": 0.5}},
        {"delay": 0.04, "percentile": 70, "window": 5, "budget": False},
        {"delay": 0.015, "mode": "fallback", "max_attempts": 3},
    ):
        lazy = await scenario(options, False)
        eager = await scenario(options, True)
        assert lazy == eager, options
        stats = lazy[2]
        assert stats["calls"] == 200 and stats["hedges"] >= 5 and stats["hedge_wins"] > 0, stats
        if "percentile" in options:
            assert stats["delay"] < 0.04, stats
        if isinstance(options.get("budget"), dict):
            assert stats["budget_refused"] > 0, stats


async def test_calls_answered_in_time_are_counted_in_batches_the_stats_and_throttle_see_every_one() -> None:
    with virtual_clock(auto_advance=False) as clock:
        policy = HedgePolicy(delay=0.05, budget=False, throttle={"max_tokens": 10, "token_ratio": 0.5})

        async def slow(k: int) -> int:
            await clock.sleep(0.5 if k == 0 else 0.2)
            return k

        # Two slow calls take two tokens (8 left); 1,000 calls answered in time give them back.
        for _ in range(2):
            call = await started(asyncio.ensure_future(policy.call_async(slow)))
            await tick(clock, 0.05)
            await tick(clock, 0.45)
            await call
        assert policy.stats()["throttle_tokens"] == 8

        async def quick(i: int) -> int:
            return i

        for i in range(1000):
            assert await policy.call_async(quick, i) == i
        s = policy.stats()
        assert (s["calls"], s["hedges"], s["throttle_tokens"]) == (1002, 2, 10)


def test_one_policy_shared_by_event_loops_in_threads_hedges_on_each_and_counts_every_call() -> None:
    # One policy (``hedge(...)`` shares one among equal options, as this test shares one) used
    # by loops in several threads at once (each an asyncio.run of its own): each loop's
    # wake-ups fire on that loop and each call is counted once. Durations only shape the calls;
    # nothing here checks a time.
    n, threads = 500, 4
    policy = HedgePolicy(delay=0.002, budget=False, throttle=False)
    # Threads switch as often as they can, so that any unguarded state shared by the loops shows.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def worker(t: int) -> List[Any]:
        async def main() -> List[Any]:
            async def attempt(k: int, i: int) -> Any:
                if k == 0 and i % 10 == 0:
                    await asyncio.sleep(0.5)  # a stalled primary: its hedge answers
                return (t, i, k)

            return [await policy.call_async(attempt, i) for i in range(n)]

        return asyncio.run(main())

    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(worker, range(threads)))
    finally:
        sys.setswitchinterval(switch)
    for t, out in enumerate(results):
        assert [r[:2] for r in out] == [(t, i) for i in range(n)]
        assert [r[1] for r in out if r[2] == 1] == list(range(0, n, 10))
    s = policy.stats()
    assert (s["calls"], s["hedges"], s["hedge_wins"]) == (threads * n, threads * n // 10, threads * n // 10)


async def test_each_hedge_is_logged_with_its_policy_and_attempt(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="seawall")
    with virtual_clock(auto_advance=False) as clock:
        log: List[str] = []
        call = await started(asyncio.ensure_future(hedge(attempt_after(clock, log, [0.1, 0.005], [0, 1]), delay=0.01, name="logged")))
        await tick(clock, 0.01)
        await tick(clock, 0.005)
        assert await call == 1
    records = [r for r in caplog.records if r.getMessage() == "hedge.launched"]
    assert [r.seawall for r in records] == [{"event": "hedge.launched", "policy": "logged", "attempt": 1}]  # type: ignore[attr-defined]


async def test_bad_options_are_typed_errors_naming_the_option() -> None:
    for options, option in [
        ({"delay": -1}, "delay"),
        ({"max_attempts": 11}, "max_attempts"),
        ({"percentile": 100}, "percentile"),
        ({"mode": "parallel"}, "mode"),
        ({"budget": {"ratio": -1}}, "budget.ratio"),
        ({"throttle": {"token_ratio": 2}}, "throttle.token_ratio"),
        ({"retry_on": "ConnectionError"}, "retry_on"),
    ]:
        with pytest.raises((TypeError, ValueError)) as raised:
            HedgePolicy(**options)
        assert (raised.value.code, raised.value.option) == ("INVALID_OPTION", option), options  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as raised:
        HedgePolicy().call(lambda: 1)
    assert raised.value.option == "fn"  # type: ignore[attr-defined]


async def test_a_real_long_tail_server_sees_the_losing_request_closed() -> None:
    requests: List[int] = []
    closed: List[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = len(requests) + 1
        requests.append(n)
        await reader.readuntil(b"\r\n\r\n")
        if n == 1:
            # The tail: it never answers; the client's closing the connection ends it.
            await reader.read()
            closed.append(n)
        else:
            body = f"answer {n}".encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        policy = HedgePolicy("tail", delay=0.05)
        async with httpx.AsyncClient() as client:
            response = await policy.call_async(lambda: client.get(f"http://127.0.0.1:{port}/"))
        assert response.text == "answer 2"
        for _ in range(200):
            if closed:
                break
            await asyncio.sleep(0.005)
        assert (requests, closed) == ([1, 2], [1])
        assert (policy.stats()["hedges"], policy.stats()["hedge_wins"]) == (1, 1)
    finally:
        server.close()
        await server.wait_closed()


class TailServer:
    """A raw HTTP server on 127.0.0.1 whose first request (and every POST, for ``post_s``)
    stalls; it records each request's method and whether the client closed it unanswered."""

    def __init__(self, post_s: float = 5.0) -> None:
        self.methods: List[str] = []
        self.closed = 0
        self.answered = 0
        self.post_s = post_s

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method = head.split(b" ", 1)[0].decode()
        self.methods.append(method)
        n = len(self.methods)
        stall = self.post_s if method == "POST" else (5.0 if n == 1 else 0.0)
        if stall:
            try:
                # Ends early when the client closes the connection.
                await asyncio.wait_for(reader.read(), stall)
                if reader.at_eof():
                    self.closed += 1
                    writer.close()
                    return
            except asyncio.TimeoutError:
                pass
        body = f"answer {n}".encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        self.answered += 1
        writer.close()

    async def ended(self, n: int) -> None:
        for _ in range(400):
            if self.closed + self.answered >= n:
                return
            await asyncio.sleep(0.005)


async def tail_server(post_s: float = 5.0) -> Any:
    t = TailServer(post_s)
    server = await asyncio.start_server(t.handle, "127.0.0.1", 0)
    t.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"  # type: ignore[attr-defined]
    t.server = server  # type: ignore[attr-defined]
    return t


async def test_resilient_client_hedges_gets_and_the_server_sees_the_loser_closed_never_a_post_unless_forced() -> None:
    t = await tail_server(post_s=0.15)
    try:
        async with ResilientClient(hedge={"delay": 0.03, "name": "client-hedge"}, max_retries=0) as client:
            r = await client.get(t.url)
            assert r.text == "answer 2"
            await t.ended(2)
            assert (t.methods, t.answered, t.closed) == (["GET", "GET"], 1, 1)
            # A POST is not hedged: one request, however slow.
            r = await client.post(t.url, content=b"x")
            assert r.text == "answer 3" and t.methods[2:] == ["POST"]
        async with ResilientClient(hedge=HedgePolicy(delay=0.03, hedge_non_idempotent=True), max_retries=0) as forced:
            r = await forced.post(t.url, content=b"x")
            assert t.methods[3:] == ["POST", "POST"]
        with pytest.raises(TypeError) as raised:
            SyncResilientClient(hedge={"delay": 0.03})
        assert raised.value.option == "hedge"  # type: ignore[attr-defined]
        with pytest.raises(ValueError) as bad:
            ResilientTransport(hedge={"delay": -1})
        assert bad.value.option == "delay"  # type: ignore[attr-defined]
    finally:
        t.server.close()  # type: ignore[attr-defined]
        await t.server.wait_closed()  # type: ignore[attr-defined]


async def test_the_aiohttp_middleware_hedges_too() -> None:
    aiohttp = pytest.importorskip("aiohttp")
    t = await tail_server()
    try:
        async with aiohttp.ClientSession(middlewares=(ResilientMiddleware(hedge={"delay": 0.03}, max_retries=0),)) as session:
            async with session.get(t.url) as r:
                assert await r.text() == "answer 2"
        await t.ended(2)
        assert (t.methods, t.answered, t.closed) == (["GET", "GET"], 1, 1)
    finally:
        t.server.close()  # type: ignore[attr-defined]
        await t.server.wait_closed()  # type: ignore[attr-defined]


async def test_a_storm_of_10000_hedged_calls_cancelled_at_random_leaves_nothing_running() -> None:
    rnd = random.Random(31)
    breaker = CircuitBreaker("hedge-storm", failure_threshold=1_000_000)
    bulkhead = Bulkhead("hedge-storm", max_concurrent=20, max_queue_size=40)
    policy = HedgePolicy("storm", delay=0, max_attempts=3, budget=False, throttle=False)
    running = [0]
    started = [0]
    seen = {"ok": 0, "cancelled": 0, "failed": 0}
    left = [10_000]
    loop = asyncio.get_running_loop()

    async def one() -> None:
        mine = [0]

        async def work(k: int) -> int:
            started[0] += 1
            running[0] += 1
            mine[0] += 1
            try:
                for _ in range(1 + rnd.randrange(3)):
                    await asyncio.sleep(0)
                if rnd.random() < 0.2:
                    raise ConnectionResetError("flaky")
                return k
            finally:
                running[0] -= 1
                mine[0] -= 1

        # Each attempt is a call of the breaker and takes a slot of the bulkhead.
        try:
            await policy.call_async(lambda k: breaker.call_async(bulkhead.call_async, work, k))
            seen["ok"] += 1
        except (ConnectionResetError, Exception) as exc:  # noqa: BLE001 - counted
            if not isinstance(exc, (ConnectionResetError,)) and getattr(exc, "code", None) not in ("BULKHEAD_FULL", "BULKHEAD_QUEUE_FULL"):
                raise
            seen["failed"] += 1
        finally:
            # The call has ended (or was cancelled): none of its attempts still runs.
            assert mine[0] == 0, "an attempt outlived its call"

    async def lane() -> None:
        while left[0] > 0:
            left[0] -= 1
            task = asyncio.ensure_future(one())
            if rnd.random() < 0.4:
                when = rnd.randrange(4)

                def later(n: int = when) -> None:
                    if n == 0:
                        task.cancel()
                    else:
                        loop.call_soon(later, n - 1)

                later()
            try:
                await task
            except asyncio.CancelledError:
                seen["cancelled"] += 1
            for _ in range(rnd.randrange(2)):
                await asyncio.sleep(0)

    await asyncio.gather(*(lane() for _ in range(20)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert sum(seen.values()) == 10_000, seen
    assert seen["cancelled"] > 1000 and seen["ok"] > 1000 and started[0] > 10_000, (seen, started)
    assert running[0] == 0
    m = bulkhead.metrics()
    assert (m["active"], m["queued"]) == (0, 0), m
    assert breaker.stats["in_flight"] == 0


async def test_on_the_real_clock_a_partial_taking_the_attempt_is_hedged() -> None:
    import functools

    started: List[int] = []

    async def lookup(key: str, attempt: int) -> str:
        started.append(attempt)
        await asyncio.sleep(1.0 if attempt == 0 else 0.01)
        return f"{key}:{attempt}"

    # A partial with the key bound: the attempt number is what it still takes.
    assert await hedge(functools.partial(lookup, "k"), delay=0.02, name="partial") == "k:1"
    assert started == [0, 1]
    # A lambda taking nothing is called without it.
    assert await hedge(lambda: asyncio.sleep(0.001, "plain"), delay=0.5) == "plain"


async def test_a_hedged_call_whose_requests_both_answer_closes_the_second_its_slot_and_permit_back() -> None:
    # An inner transport that answers even when cancelled: the second answer comes after the
    # first was chosen.
    n = [0]

    class Streamed(httpx.AsyncByteStream):
        """A body read as it streams (not already read: its response holds its slot until closed)."""

        def __init__(self, data: bytes) -> None:
            self.data = data

        async def __aiter__(self) -> Any:
            yield self.data

    class AnswersAnyway(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            n[0] += 1
            k = n[0]
            try:
                await asyncio.sleep(0.005 * k)
            except asyncio.CancelledError:
                pass
            return httpx.Response(200, stream=Streamed(f"answer {k}".encode()))

    bulkhead = Bulkhead(max_concurrent=4)
    breaker = CircuitBreaker(failure_threshold=5)
    transport = ResilientTransport(AnswersAnyway(), hedge={"delay": 0, "max_attempts": 2}, bulkhead=bulkhead, circuit_breaker=breaker,
                                   max_retries=0)
    async with httpx.AsyncClient(transport=transport) as client:
        r = await client.get("http://127.0.0.1:1/")
        assert r.text == "answer 1"
    assert n[0] == 2
    assert bulkhead.metrics()["active"] == 0
    assert breaker.stats["in_flight"] == 0
