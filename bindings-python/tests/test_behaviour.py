"""Concurrency, cancellation, the HTTP client against a flaky server, context managers and the
testing clock."""
from __future__ import annotations

import asyncio
import contextlib
import email.utils
import threading
import time
from typing import Any, Callable, List

import httpx
import pytest

import seawall
from seawall import (
    Bulkhead,
    BulkheadRejectedError,
    CircuitBreaker,
    CircuitBreakerError,
    ErrorCodes,
    ResilientClient,
    RetryBudget,
    RetryBudgetExhaustedError,
    SyncResilientClient,
    _native,
    virtual_clock,
)
from conftest import FlakyServer


def test_error_codes_match_the_core() -> None:
    assert list(ErrorCodes.ALL) == _native.error_codes()


async def test_1000_tasks_keep_exact_counts() -> None:
    cb = CircuitBreaker(failure_threshold=10_000)

    async def work(i: int) -> int:
        await asyncio.sleep(0)
        if i % 10 == 0:
            raise ValueError(i)
        return i

    async def one(i: int) -> None:
        try:
            await cb.call_async(work, i)
        except ValueError:
            pass

    await asyncio.gather(*(one(i) for i in range(1000)))
    s = cb.stats
    assert (s["total_calls"], s["failed_calls"], s["successful_calls"], s["in_flight"]) == (1000, 100, 900, 0)


def test_8_threads_keep_exact_counts() -> None:
    cb = CircuitBreaker(failure_threshold=10_000)
    barrier = threading.Barrier(8)

    def worker(k: int) -> None:
        barrier.wait()
        for i in range(2000):
            try:
                cb.call(lambda: 1 / 0 if i % 4 == 0 else i)
            except ZeroDivisionError:
                pass

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = cb.stats
    assert (s["total_calls"], s["failed_calls"], s["successful_calls"], s["in_flight"]) == (16000, 4000, 12000, 0)


async def test_a_raising_state_listener_breaks_no_call_and_loses_no_permit() -> None:
    loop = asyncio.get_running_loop()
    reported: List[BaseException] = []
    loop.set_exception_handler(lambda _loop, ctx: reported.append(ctx["exception"]))
    try:
        with virtual_clock(auto_advance=False) as clock:
            cb = CircuitBreaker(failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=1)
            seen: List[str] = []
            cb.add_listener(lambda _old, new: (_ for _ in ()).throw(RuntimeError(f"listener bug on {new}")))
            cb.add_listener(lambda _old, new: seen.append(new))

            async def fail() -> None:
                raise ZeroDivisionError

            async def ok() -> str:
                return "ok"

            with pytest.raises(ZeroDivisionError):  # the call's own error, not the listener's
                await cb.call_async(fail)
            clock.advance(1.0)
            assert await cb.call_async(ok) == "ok"  # the probe: OPEN -> HALF_OPEN -> CLOSED
            assert cb.call(lambda: 2) == 2
    finally:
        loop.set_exception_handler(None)
    assert seen == ["OPEN", "HALF_OPEN", "CLOSED"]
    assert [str(e) for e in reported] == ["listener bug on OPEN", "listener bug on HALF_OPEN", "listener bug on CLOSED"]
    s = cb.stats
    assert (s["state"], s["in_flight"], s["half_open_in_flight"], s["successful_calls"]) == ("CLOSED", 0, 0, 2)


async def test_exactly_one_half_open_trial_across_tasks_and_threads() -> None:
    with virtual_clock(auto_advance=False) as clock:
        cb = CircuitBreaker(failure_threshold=1, recovery_timeout=10.0, half_open_max_calls=1)
        try:
            cb.call(lambda: 1 / 0)
        except ZeroDivisionError:
            pass
        clock.advance(10.0)
        gate = asyncio.Event()
        admitted: List[int] = []

        async def probe(i: int) -> None:
            async def slow() -> None:
                admitted.append(i)
                await gate.wait()
            try:
                await cb.call_async(slow)
            except CircuitBreakerError:
                pass

        tasks = [asyncio.ensure_future(probe(i)) for i in range(200)]
        await asyncio.sleep(0.01)
        results: List[str] = []

        def thread_probe() -> None:
            try:
                cb.call(lambda: results.append("ran"))
            except CircuitBreakerError:
                results.append("refused")

        threads = [threading.Thread(target=thread_probe) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(admitted) == 1 and results == ["refused"] * 8
        gate.set()
        await asyncio.gather(*tasks)
        assert cb.state == "CLOSED"


async def test_cancelled_task_gives_back_its_bulkhead_slot_and_probe() -> None:
    with virtual_clock(auto_advance=False) as clock:
        bh = Bulkhead(max_concurrent=1, max_queue_size=1)
        cb = CircuitBreaker(failure_threshold=1, recovery_timeout=5.0, half_open_max_calls=1)
        cb.open()
        clock.advance(5.0)
        never = asyncio.Event()

        async def stuck() -> None:
            await never.wait()

        running = asyncio.ensure_future(bh.call_async(cb.call_async, stuck))
        queued = asyncio.ensure_future(bh.call_async(asyncio.sleep, 0))
        await asyncio.sleep(0.01)
        assert (bh.metrics()["active"], bh.metrics()["queued"], cb.stats["half_open_in_flight"]) == (1, 1, 1)
        queued.cancel()
        running.cancel()
        for t in (queued, running):
            with pytest.raises(asyncio.CancelledError):
                await t
        m = bh.metrics()
        assert (m["active"], m["queued"], m["cancelled"]) == (0, 0, 1)
        assert cb.stats["half_open_in_flight"] == 0 and cb.stats["ignored_calls"] == 1
        assert await cb.call_async(asyncio.sleep, 0, "probe ok") == "probe ok"


async def test_bulkhead_queue_full_and_timeout() -> None:
    with virtual_clock(auto_advance=False) as clock:
        bh = Bulkhead(name="py-bh", max_concurrent=1, max_queue_size=1, queue_timeout=2.0)
        gate = asyncio.Event()
        first = asyncio.ensure_future(bh.call_async(gate.wait))
        second = asyncio.ensure_future(bh.call_async(asyncio.sleep, 0))
        await asyncio.sleep(0)
        with pytest.raises(BulkheadRejectedError) as full:
            await bh.call_async(asyncio.sleep, 0)
        assert full.value.code == "BULKHEAD_QUEUE_FULL"
        await clock.advance_async(2.0)
        with pytest.raises(BulkheadRejectedError) as late:
            await second
        assert late.value.code == "BULKHEAD_QUEUE_TIMEOUT"
        gate.set()
        await first
        assert bh.metrics()["active"] == 0


async def test_async_with_bulkhead_holds_a_slot_per_block_and_gives_it_back_on_errors_and_cancellation() -> None:
    bh = Bulkhead(max_concurrent=2, max_queue_size=10)
    other = Bulkhead(max_concurrent=1)
    active, most = [0], [0]
    gate = asyncio.Event()

    async def block(i: int) -> int:
        async with bh:
            active[0] += 1
            most[0] = max(most[0], active[0])
            try:
                await gate.wait()
                async with other:  # nested, in the same task: each exit lets go of its own slot
                    if i == 3:
                        raise ValueError("inside")
                return i
            finally:
                active[0] -= 1

    tasks = [asyncio.ensure_future(block(i)) for i in range(6)]
    await asyncio.sleep(0.01)
    assert (bh.metrics()["active"], bh.metrics()["queued"]) == (2, 4)
    tasks[5].cancel()  # queued: it leaves the queue holding nothing
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[:3] == [0, 1, 2] and isinstance(results[3], ValueError) and results[4] == 4
    assert isinstance(results[5], asyncio.CancelledError)
    assert most[0] == 2
    for b in (bh, other):
        m = b.metrics()
        assert (m["active"], m["queued"]) == (0, 0)
    full = Bulkhead(max_concurrent=1)
    async with full:
        with pytest.raises(BulkheadRejectedError):
            async with full:
                raise AssertionError("must not run")
    assert full.metrics()["active"] == 0


def test_with_bulkhead_bounds_threads_and_is_refused_inside_a_coroutine() -> None:
    bh = Bulkhead(max_concurrent=2, max_queue_size=10)
    lock = threading.Lock()
    gate = threading.Event()
    active, most = [0], [0]

    def block() -> None:
        with bh:
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            gate.wait(10)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=block) for _ in range(6)]
    for t in threads:
        t.start()
    for _ in range(1000):  # until two run and four wait (bounded)
        m = bh.metrics()
        if (m["active"], m["queued"]) == (2, 4):
            break
        time.sleep(0.001)
    assert (bh.metrics()["active"], bh.metrics()["queued"]) == (2, 4)
    gate.set()
    for t in threads:
        t.join(10)
    assert most[0] == 2 and bh.metrics()["active"] == 0

    async def in_a_coroutine() -> None:
        with bh:
            raise AssertionError("must not run")

    with pytest.raises(TypeError, match="async with"):
        asyncio.run(in_a_coroutine())
    assert bh.metrics()["active"] == 0

    # A sync call that would have to wait, on a loop's thread, is refused rather than blocking the
    # loop (and with it the task holding the slot: a deadlock until the queue timeout).
    # (Its queue timeout only bounds how long a regression would hang here.)
    small = Bulkhead(max_concurrent=1, max_queue_size=1, queue_timeout=1.0)

    async def sync_call_while_full() -> None:
        async with small:
            with pytest.raises(TypeError, match="call_async"):
                small.call(lambda: 1)
            assert small.metrics()["queued"] == 0
        assert small.call(lambda: 2) == 2  # a free slot: no waiting, so no refusal

    asyncio.run(sync_call_while_full())
    assert small.metrics()["active"] == 0


def test_context_managers_refuse_entry_when_open() -> None:
    cb = CircuitBreaker(failure_threshold=1, recovery_timeout=60.0)
    with pytest.raises(ZeroDivisionError):
        with cb:
            1 / 0
    with pytest.raises(CircuitBreakerError):
        with cb:
            raise AssertionError("must not run")

    async def main() -> None:
        with pytest.raises(CircuitBreakerError):
            async with cb:
                raise AssertionError("must not run")
    asyncio.run(main())


def test_sync_and_async_decorators() -> None:
    cb = CircuitBreaker(failure_threshold=3)

    @seawall.with_circuit_breaker(cb)
    def sync_fn(x: int) -> int:
        return x * 2

    @cb
    async def async_fn(x: int) -> int:
        return x + 1

    assert sync_fn(2) == 4
    assert asyncio.run(async_fn(2)) == 3

    calls = []

    @seawall.retry(max_attempts=3, base_delay=0.0, max_delay=0.0)
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("flaky")
        return "ok"

    assert flaky() == "ok" and len(calls) == 3


def test_decorated_methods_bind_and_async_ones_look_like_coroutine_functions() -> None:
    import inspect

    cb = CircuitBreaker(failure_threshold=2)
    bh = Bulkhead(max_concurrent=2)

    class Service:
        def __init__(self, name: str) -> None:
            self.name = name

        @seawall.with_circuit_breaker(cb)
        def get(self, x: int) -> str:
            """Gets x."""
            return f"{self.name}:{x}"

        @bh
        async def fetch(self, x: int, *, scale: int = 1) -> str:
            return f"{self.name}:{x * scale}"

        @seawall.retry(max_attempts=2, base_delay=0.0, max_delay=0.0)
        async def again(self) -> str:
            return self.name

    s = Service("a")
    assert s.get(1) == "a:1"
    assert Service.get(s, 2) == "a:2", "read from the class it stays unbound"
    assert asyncio.run(s.fetch(3, scale=2)) == "a:6"
    assert asyncio.run(s.again()) == "a"
    assert Service.get.__doc__ == "Gets x." and Service.get.__name__ == "get"
    assert str(inspect.signature(Service.fetch)) == "(self, x: 'int', *, scale: 'int' = 1) -> 'str'"
    for fn in (Service.fetch, s.fetch, Service.again, s.again):
        assert inspect.iscoroutinefunction(fn) and asyncio.iscoroutinefunction(fn), fn
    assert not inspect.iscoroutinefunction(Service.get) and not inspect.iscoroutinefunction(s.get)

    class Echo:
        def __call__(self, x: int) -> int:
            return x

    class Holder:
        echo = seawall.with_circuit_breaker(cb)(Echo())

    assert Holder().echo(5) == 5, "a guarded callable that is not a descriptor is not bound"


def test_the_one_crossing_sync_call_counts_like_the_python_path() -> None:
    changes: List[Any] = []
    cb = CircuitBreaker(failure_threshold=2, recovery_timeout=5.0, is_failure=lambda e: not isinstance(e, KeyError),
                        on_state_change=lambda a, b: changes.append((a, b)))
    assert isinstance(getattr(cb.call, "__self__", None), _native.BreakerCall), "the native sync path is installed"

    def boom(exc: BaseException) -> None:
        raise exc

    with virtual_clock() as clock:
        for _ in range(3):
            with pytest.raises(KeyError):
                cb.call(boom, KeyError("ignored: is_failure says no"))
        assert cb.state == "CLOSED" and cb.stats["failed_calls"] == 0 and cb.stats["ignored_calls"] == 3
        assert cb.call(lambda a, b=0: a + b, 1, b=2) == 3
        for _ in range(2):
            with pytest.raises(ValueError):
                cb.call(boom, ValueError("counted"))
        assert cb.state == "OPEN" and changes == [("CLOSED", "OPEN")]
        with pytest.raises(CircuitBreakerError) as info:
            cb.call(lambda: "never runs")
        assert info.value.code == "CIRCUIT_OPEN" and info.value.retry_after == pytest.approx(5.0)
        clock.advance(5.0)
        assert cb.call(lambda: "probe") == "probe"
        assert cb.state == "CLOSED" and changes[-2:] == [("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]
    timed = CircuitBreaker(timeout=1.0)
    assert timed.call(lambda: 7) == 7, "a breaker with a timeout keeps the Python path"

    class Counting(CircuitBreaker):
        calls = 0

        def call(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += 1
            return super().call(fn, *args, **kwargs)

    assert Counting().call(lambda: 8) == 8 and Counting.calls == 1, "a subclass's own call is used"


def test_testing_clock_makes_waits_instant() -> None:
    with virtual_clock() as clock:
        t = time.monotonic()
        with pytest.raises(ConnectionError):
            seawall.retry_with_backoff(lambda: (_ for _ in ()).throw(ConnectionError("down")), max_attempts=5, base_delay=10.0, max_delay=60.0)
        assert time.monotonic() - t < 1.0
        assert clock.now() > 60.0


def test_retry_budget_stops_a_storm() -> None:
    with virtual_clock():
        budget = RetryBudget(max_tokens=2, min_retries_per_second=0)
        calls = []

        def down() -> None:
            calls.append(1)
            raise ConnectionError("down")

        for _ in range(2):
            with pytest.raises(RetryBudgetExhaustedError) as e:
                seawall.retry_with_backoff(down, max_attempts=10, base_delay=0.001, budget=budget)
            assert isinstance(e.value.__cause__, ConnectionError)
        assert len(calls) == 4


def test_snapshot_survives_restart() -> None:
    with virtual_clock(auto_advance=False) as clock:
        a = CircuitBreaker(failure_threshold=1, recovery_timeout=10.0)
        with pytest.raises(ZeroDivisionError):
            a.call(lambda: 1 / 0)
        clock.advance(4.0)
        saved = a.to_dict()
        b = CircuitBreaker(failure_threshold=1, recovery_timeout=10.0)
        b.restore(saved)
        assert b.state == "OPEN" and b.retry_after == 6.0
        with pytest.raises(ValueError) as bad:
            b.restore({"version": 9})
        assert bad.value.code == "INVALID_SNAPSHOT"  # type: ignore[attr-defined]


def test_health_and_prometheus() -> None:
    cb = CircuitBreaker("py-metrics", failure_threshold=1)
    cb.call(lambda: 1)
    with pytest.raises(ZeroDivisionError):
        cb.call(lambda: 1 / 0)
    h = seawall.get_health_status()
    assert h["summary"]["healthy"] is False and "Circuit breaker 'py-metrics' is OPEN" in h["summary"]["issues"]
    assert h["circuit_breakers"]["by_state"]["OPEN"] >= 1
    text = seawall.prometheus_metrics()
    assert 'circuit_breaker_calls_total{name="py-metrics",result="failure"} 1' in text
    assert seawall.ResiliencePolicies.api()["circuit_breaker"] == {"failure_threshold": 5, "reset_timeout": 60}


# ---- ResilientClient against a real flaky server ------------------------------------------------


async def test_client_retries_5xx_bursts(server: FlakyServer) -> None:
    server.scripts["/burst"] = [503, 500, 502]
    async with ResilientClient(server.url, max_retries=3, base_delay=0.01, max_delay=0.05) as client:
        r = await client.get("/burst")
    assert r.status_code == 200 and server.hits["/burst"] == 4


async def test_client_honours_retry_after(server: FlakyServer) -> None:
    server.scripts["/throttled"] = [{"status": 429, "headers": {"Retry-After": "1"}}]
    t = time.monotonic()
    async with ResilientClient(server.url, max_retries=2, base_delay=0.01) as client:
        r = await client.get("/throttled")
    assert r.status_code == 200 and 0.9 <= time.monotonic() - t < 5


async def test_client_reads_an_http_date_retry_after(server: FlakyServer) -> None:
    in_an_hour = email.utils.formatdate(time.time() + 3600, usegmt=True)
    server.scripts["/dated"] = [{"status": 503, "headers": {"Retry-After": in_an_hour}}]
    async with ResilientClient(server.url, max_retries=2, base_delay=0.01, max_retry_after=1) as client:
        r = await client.get("/dated")
    assert r.status_code == 503 and server.hits["/dated"] == 1


async def test_client_leaves_an_unreadable_retry_after_to_the_backoff(server: FlakyServer) -> None:
    server.scripts["/garbage"] = [
        {"status": 503, "headers": {"Retry-After": "soon"}},
        {"status": 429, "headers": {"Retry-After": "-5"}},
    ]
    async with ResilientClient(server.url, max_retries=2, base_delay=0.01, max_retry_after=1) as client:
        r = await client.get("/garbage")
    assert r.status_code == 200 and server.hits["/garbage"] == 3


def test_parse_retry_after_reads_seconds_and_http_dates_through_the_core() -> None:
    now = 1_796_083_200.0  # 2026-12-01T00:00:00Z
    assert seawall.parse_retry_after("120", now) == 120.0
    assert seawall.parse_retry_after("Tue, 01 Dec 2026 00:02:00 GMT", now) == 120.0
    assert seawall.parse_retry_after(email.utils.formatdate(now + 5, usegmt=True), now) == 5.0
    assert seawall.parse_retry_after(email.utils.formatdate(now + 5), now) == 5.0  # "-0000"
    assert seawall.parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0.0
    for v in [None, "", "soon", "-1", "1e3", "inf", "nan", "2026-12-01T00:02:00Z", "Tue, 01 Dec 2026 00:02:00 +0100"]:
        assert seawall.parse_retry_after(v, now) is None, v


async def test_client_returns_4xx_untouched_and_uncounted(server: FlakyServer) -> None:
    cb = CircuitBreaker(failure_threshold=1)
    server.scripts["/missing"] = [404]
    async with ResilientClient(server.url, circuit_breaker=cb, base_delay=0.01) as client:
        r = await client.get("/missing")
    assert r.status_code == 404 and server.hits["/missing"] == 1
    assert cb.state == "CLOSED" and cb.stats["ignored_calls"] == 1


async def test_client_does_not_retry_post_after_500(server: FlakyServer) -> None:
    server.scripts["/charge"] = [500]
    async with ResilientClient(server.url, base_delay=0.01) as client:
        r = await client.post("/charge", json={})
    assert r.status_code == 500 and server.hits["/charge"] == 1


async def test_client_hang_hits_the_timeout_then_succeeds(server: FlakyServer) -> None:
    server.scripts["/hang"] = ["hang"]
    async with ResilientClient(server.url, timeout=0.3, max_retries=2, base_delay=0.01) as client:
        r = await client.get("/hang")
    assert r.status_code == 200 and server.hits["/hang"] == 2


async def test_client_connection_refused_is_retried_then_raised() -> None:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    retries: List[Any] = []
    async with ResilientClient(f"http://127.0.0.1:{port}", max_retries=2, base_delay=0.01, on_retry=lambda *a: retries.append(a)) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("/x", json={})
    assert len(retries) == 2


def test_sync_client(server: FlakyServer) -> None:
    server.scripts["/sync"] = [502]
    with SyncResilientClient(server.url, max_retries=2, base_delay=0.01) as client:
        assert client.get("/sync").status_code == 200
    assert server.hits["/sync"] == 2


def test_a_sync_request_answered_after_the_breakers_timeout_fails_as_its_plain_calls_do(server: FlakyServer) -> None:
    # A thread's request cannot be cut (the client's own timeouts do that), but one that answers
    # after the breaker's timeout is a timeout to the breaker and the retries, as `cb.call` is.
    with virtual_clock() as clock:
        server.pass_time = lambda ms: clock.advance(ms / 1000.0)
        try:
            server.scripts["/sync-slow"] = [{"status": 200, "afterMs": 60}, {"status": 200, "afterMs": 60}, {"status": 200, "afterMs": 20}]
            breaker = CircuitBreaker(failure_threshold=2, recovery_timeout=30, timeout=0.05)
            with SyncResilientClient(server.url, circuit_breaker=breaker, max_retries=1, base_delay=0.01) as client:
                with pytest.raises(seawall.TimeoutError):
                    client.get("/sync-slow")
                assert breaker.state == "OPEN" and server.hits["/sync-slow"] == 2
            breaker.reset()
            with SyncResilientClient(server.url, circuit_breaker=breaker, max_retries=0) as client:
                assert client.get("/sync-slow").status_code == 200
            assert breaker.state == "CLOSED"
        finally:
            server.pass_time = lambda _ms: None


async def test_with_timeout_cancels_and_falls_back() -> None:
    with virtual_clock(auto_advance=False) as clock:
        cancelled = []

        async def slow() -> str:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(True)
                raise
            return "never"

        fut = asyncio.ensure_future(seawall.with_timeout(slow, 5.0, fallback=lambda: "default"))
        await clock.advance_async(5.0)
        assert await fut == "default" and cancelled == [True]
        fut2 = asyncio.ensure_future(seawall.with_timeout(slow, 1.0))
        await clock.advance_async(1.0)
        with pytest.raises(seawall.TimeoutError) as e:
            await fut2
        assert e.value.duration == 1.0 and isinstance(e.value, TimeoutError)


def test_max_elapsed_counts_from_the_start_of_the_call() -> None:
    with virtual_clock(auto_advance=False) as clock:
        attempts: List[float] = []

        def slow_failure() -> None:
            attempts.append(clock.now())
            clock.advance(0.15)  # each attempt takes 150 ms, then fails
            raise ConnectionError("down")

        policy = seawall.RetryPolicy(max_attempts=10, base_delay=0.0, max_delay=0.0, max_elapsed=0.2)
        with pytest.raises(ConnectionError):
            policy.call(slow_failure)
        # The second attempt starts at 150 ms (inside 200 ms of the call's start); a third
        # would start at 300 ms, past the deadline.
        assert attempts == [0.0, 0.15]


async def test_a_waiter_cancelled_as_its_slot_is_handed_over_gives_it_back() -> None:
    """Issue 13: the holder finishes and the queued task is cancelled in the same tick; the slot
    handed to the cancelled task must come back (it was lost: active=1 forever)."""
    bh = Bulkhead(max_concurrent=1, max_queue_size=5)
    gate = asyncio.Event()
    waiter: "asyncio.Future[Any]"

    async def hold() -> None:
        await gate.wait()
        waiter.cancel()  # then this call returns and its slot is handed to the cancelled waiter

    holder = asyncio.ensure_future(bh.call_async(hold))
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(bh.call_async(asyncio.sleep, 0))
    await asyncio.sleep(0)
    assert (bh.metrics()["active"], bh.metrics()["queued"]) == (1, 1)
    gate.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (bh.metrics()["active"], bh.metrics()["queued"]) == (0, 0)
    # The bulkhead still admits (bounded, so a lost slot fails instead of hanging the suite).
    assert await asyncio.wait_for(bh.call_async(asyncio.sleep, 0, "ran"), 10) == "ran"


async def test_a_queue_timeout_on_the_real_clock_rejects_and_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """The real-clock queue timeout path (wait_for): typed rejections, every slot back, and no
    'Future exception was never retrieved' (issue 13 saw it under load; the wake-up future now
    never carries an exception)."""
    bh = Bulkhead(max_concurrent=1, max_queue_size=2, queue_timeout=0.01)
    gate = asyncio.Event()
    first = asyncio.ensure_future(bh.call_async(gate.wait))
    await asyncio.sleep(0)
    queued = [asyncio.ensure_future(bh.call_async(asyncio.sleep, 0)) for _ in range(2)]
    results = await asyncio.gather(*queued, return_exceptions=True)
    assert all(isinstance(r, BulkheadRejectedError) and r.code == "BULKHEAD_QUEUE_TIMEOUT" for r in results)
    gate.set()
    await first
    assert bh.metrics()["active"] == 0
    import gc
    del queued, results
    for _ in range(3):
        gc.collect()
        await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text


async def test_client_cancelled_requests_count_neither_way(server: FlakyServer) -> None:
    """Issue 13: the caller going away says nothing about the dependency (same as Node)."""
    cb = CircuitBreaker(failure_threshold=5)
    async with ResilientClient(server.url, circuit_breaker=cb, timeout=10.0, max_retries=2) as client:
        for _ in range(5):
            server.scripts["/py-gone"] = ["hang"]
            before = server.hits.get("/py-gone", 0)
            task = asyncio.ensure_future(client.get("/py-gone"))
            for _spin in range(2000):
                if server.hits.get("/py-gone", 0) > before:
                    break
                await asyncio.sleep(0.001)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    s = cb.stats
    assert (s["state"], s["failed_calls"], s["ignored_calls"], s["in_flight"]) == ("CLOSED", 0, 5, 0)


def test_inline_retry_options_compile_once_and_bad_ones_fail_every_call() -> None:
    from seawall import _retry

    compiled = _retry._policies._compiled
    compiled.clear()
    _retry._policies._recent.clear()
    for i in range(100):
        assert seawall.retry_with_backoff(lambda i=i: i, max_attempts=3, base_delay=0.01) == i
    assert len(compiled) == 1
    for _ in range(3):
        with pytest.raises(ValueError) as bad:
            seawall.retry_with_backoff(lambda: 1, max_attempts=0)
        assert bad.value.option == "max_attempts"  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            seawall.retry_with_backoff(lambda: 1, max_attempts=True)  # not the policy of max_attempts=1
    seawall.retry_with_backoff(lambda: 1, max_attempts=1)
    assert len(compiled) == 2


async def test_closed_breaker_successes_counted_in_python_keep_order_and_exact_counts() -> None:
    """A closed breaker's successes are counted without crossing into the core, then handed
    over before its next input: a success between two failures still resets the count, and
    stats, health and metrics see every call."""
    cb = CircuitBreaker("py-tally", failure_threshold=2)

    async def ok() -> int:
        return 1

    async def boom() -> None:
        raise ValueError("x")

    for _ in range(3):
        with pytest.raises(ValueError):
            await cb.call_async(boom)
        assert await cb.call_async(ok) == 1  # resets the consecutive failures
        async with cb:
            pass
    assert cb.state == "CLOSED"
    s = cb.stats
    assert (s["total_calls"], s["successful_calls"], s["failed_calls"], s["consecutive_failures"]) == (9, 6, 3, 0)
    for _ in range(3):
        await cb.call_async(ok)
    assert 'circuit_breaker_calls_total{name="py-tally",result="success"} 9' in seawall.prometheus_metrics()
    with pytest.raises(ValueError):
        await cb.call_async(boom)
    with pytest.raises(ValueError):
        await cb.call_async(boom)
    assert cb.state == "OPEN"
    with pytest.raises(CircuitBreakerError):
        await cb.call_async(ok)


def test_async_calls_from_8_threads_and_the_sync_path_keep_exact_counts() -> None:
    cb = CircuitBreaker(failure_threshold=1_000_000)
    barrier = threading.Barrier(8)

    async def work(i: int) -> int:
        if i % 10 == 0:
            raise ValueError(i)
        return i

    async def loop() -> None:
        for i in range(2000):
            try:
                if i % 3 == 0:
                    async with cb:
                        await work(i)
                else:
                    await cb.call_async(work, i)
            except ValueError:
                pass

    def worker(k: int) -> None:
        barrier.wait()
        if k % 2:
            asyncio.run(loop())
        else:
            for i in range(2000):
                try:
                    cb.call(lambda i=i: 1 / (i % 10))
                except ZeroDivisionError:
                    pass

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = cb.stats
    assert (s["total_calls"], s["failed_calls"], s["successful_calls"], s["in_flight"]) == (16_000, 1_600, 14_400, 0)


async def test_nested_async_with_mixes_counted_and_asked_entries() -> None:
    with virtual_clock(auto_advance=False) as clock:
        cb = CircuitBreaker(failure_threshold=1, recovery_timeout=1.0, half_open_max_calls=2)
        async with cb:  # counted here (closed)
            async with cb:
                pass
        with pytest.raises(KeyError):
            async with cb:
                raise KeyError("trip")
        assert cb.state == "OPEN"
        clock.advance(1.0)
        async with cb:  # a probe (asked), with a counted entry... none: half-open asks each time
            async with cb:
                pass
        assert cb.state == "CLOSED"
        async with cb:  # counted again, with an asked entry inside after a manual open
            cb.open()
            with pytest.raises(CircuitBreakerError):
                async with cb:
                    pass
        s = cb.stats
        assert (s["successful_calls"], s["failed_calls"], s["rejected_calls"], s["in_flight"], s["half_open_in_flight"]) == (5, 1, 1, 0, 0)


def test_async_with_gives_the_breaker_under_any_loop_and_in_threads() -> None:
    """`async with` awaits done futures instead of coroutines: they must give the breaker, work
    in one loop after another and in loops of other threads, and keep exact counts."""
    cb = CircuitBreaker(failure_threshold=10)  # more than the 6 failures: it never opens

    async def use(n: int) -> None:
        for _ in range(n):
            async with cb as entered:
                assert entered is cb
                await asyncio.sleep(0)
        with pytest.raises(ValueError):
            async with cb:
                raise ValueError("counted")

    asyncio.run(use(5))
    asyncio.run(use(5))
    threads = [threading.Thread(target=lambda: asyncio.run(use(100))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    s = cb.stats
    assert (s["successful_calls"], s["failed_calls"], s["in_flight"], cb.state) == (410, 6, 0, "CLOSED")


def test_health_lists_only_breakers_made_or_used_and_spells_bulkheads_in_snake_case() -> None:
    """Issue 13: importing the package registered the preset circuits (health listed openai,
    stripe and dataservice in apps that never used them); bulkhead fields were camelCase."""
    import json
    import subprocess

    from conftest import PYTHON

    code = """
import json, seawall
before = seawall.get_health_status()["circuit_breakers"]["total"]
from seawall import stripe_circuit
stripe_circuit.call(lambda: 1)
seawall.Bulkhead("py-health", max_concurrent=2)
h = seawall.get_health_status()
print(json.dumps([before, h["circuit_breakers"]["total"], sorted(h["bulkheads"][0]["state"]), seawall.stripe_circuit is stripe_circuit]))
"""
    r = subprocess.run([*PYTHON, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    before, after, fields, same = json.loads(r.stdout)
    assert (before, after, same) == (0, 1, True)
    assert "timed_out" in fields and "max_concurrent" in fields and not any(c.isupper() for f in fields for c in f)


def test_a_sync_call_that_answers_after_the_breakers_timeout_fails_then_as_an_awaited_one_would() -> None:
    """A plain function cannot be cut at the breaker's ``timeout``; one that answers after it gets
    the ``TimeoutError`` an awaited call gets at its deadline, counted alike (the timeout used to
    be ignored by sync calls: a slow dependency never opened the breaker)."""
    with seawall.virtual_clock(auto_advance=False) as clock:
        cb = seawall.CircuitBreaker(failure_threshold=2, timeout=0.05)

        def taking(seconds: float) -> Callable[[], str]:
            def run() -> str:
                clock.advance(seconds)
                return f"after {seconds}"
            return run

        assert cb.call(taking(0.04)) == "after 0.04"
        with pytest.raises(seawall.TimeoutError) as info:
            cb.call(taking(0.1))
        assert info.value.duration == pytest.approx(0.1)
        assert (cb.stats["failed_calls"], cb.state) == (1, "CLOSED")
        with pytest.raises(seawall.TimeoutError):
            cb(taking(0.2))()  # the decorator's path too
        assert cb.state == "OPEN"

    async def timed() -> None:
        with seawall.virtual_clock(auto_advance=False) as clock:
            def taking(seconds: float) -> Callable[[], str]:
                def run() -> str:
                    clock.advance(seconds)
                    return f"after {seconds}"
                return run

            assert await seawall.with_timeout(taking(0.01), 0.05) == "after 0.01"  # type: ignore[arg-type]
            with pytest.raises(seawall.TimeoutError) as info:
                await seawall.with_timeout(taking(0.06), 0.05)  # type: ignore[arg-type]
            assert info.value.duration == pytest.approx(0.06)

    asyncio.run(timed())


def _refused_in_a_worker(kind: str) -> None:
    """Runs in a process pool's worker: raises one of Seawall's refusals, as a task would."""
    if kind == "breaker":
        cb = seawall.CircuitBreaker(name="worker-breaker", failure_threshold=1)
        with contextlib.suppress(ZeroDivisionError):
            cb.call(lambda: 1 / 0)
        cb.call(lambda: 1)
    elif kind == "timeout":
        raise seawall.TimeoutError(1.25)
    elif kind == "bulkhead":
        raise seawall.BulkheadRejectedError("Bulkhead w is full", "BULKHEAD_QUEUE_FULL", "w")
    elif kind == "budget":
        raise seawall.RetryBudgetExhaustedError(3)


def test_refusals_raised_in_a_process_pools_worker_reach_the_caller_whole() -> None:
    """An exception a worker raises is pickled back to the caller: one whose class could not be
    rebuilt from its arguments (a timeout, a bulkhead's refusal) broke the pool instead."""
    import concurrent.futures
    import multiprocessing
    import pickle

    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        got = {}
        for kind in ("breaker", "timeout", "bulkhead", "budget"):
            with pytest.raises(seawall.SeawallError) as info:
                pool.submit(_refused_in_a_worker, kind).result(timeout=60)
            got[kind] = info.value
    assert (got["breaker"].code, got["breaker"].name, got["breaker"].state) == ("CIRCUIT_OPEN", "worker-breaker", "OPEN")
    assert isinstance(got["timeout"], TimeoutError) and got["timeout"].duration == 1.25 and str(got["timeout"]) == "Operation timed out after 1.250s"
    assert (got["bulkhead"].code, got["bulkhead"].name) == ("BULKHEAD_QUEUE_FULL", "w")
    assert (got["budget"].code, got["budget"].attempts) == ("RETRY_BUDGET_EXHAUSTED", 3)
    copied = pickle.loads(pickle.dumps(got["timeout"]))
    assert (type(copied), copied.args, copied.__dict__) == (type(got["timeout"]), got["timeout"].args, got["timeout"].__dict__)


async def test_the_virtual_clock_never_goes_back_when_a_sleep_jumps_ahead_during_advance() -> None:
    woke: List[float] = []

    async def sleeper(clock: Any) -> None:
        await clock.sleep(0.1)
        woke.append(clock.now())

    with seawall.virtual_clock() as clock:
        # A timer due during the advance starts a 100 ms sleep, which jumps the auto-advancing clock.
        clock.call_later(0.01, lambda: asyncio.ensure_future(sleeper(clock)))
        await clock.advance_async(0.05)
        assert woke == [pytest.approx(0.11)]
        assert clock.now() == pytest.approx(0.11)
