"""Seawall as multi-threaded programs run it: the host's real clock (no virtual clock), one
engine serving many threads — a thread started later, a thread pool, FastAPI's `def` endpoints
under uvicorn, a fleet's sync thread. Every thread must read one clock: a breaker keeps the
latest time it has seen, so a thread whose clock read behind would keep it open too long.

Durations are measured, not slept on: each test polls (bounded) until the guard admits again
and checks that the open period, wait or queue timeout it saw is the configured one, within a
margin far below what a second clock would add (the module first lets the process's clock run
for a second, so a thread with a clock of its own would read at least a second behind)."""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import threading
import time
from typing import Any, Callable, Iterator, List

import httpx
import pytest

from seawall import Bulkhead, BulkheadRejectedError, CircuitBreaker, CircuitBreakerError, Fleet, RateLimiter, RateLimitError

# An open period may end up to one coarse-clock tick (≤ 4 ms) early; polling and scheduling on a
# busy 2-core machine may see it late. A clock per thread made it a second or more late here.
EARLY = 0.01
LATE = 0.3
POLL = 0.005


@pytest.fixture(scope="module", autouse=True)
def clock_has_run() -> None:
    """The engine's clock is read here, then a second passes before the tests start threads."""
    CircuitBreaker().call(lambda: None)
    time.sleep(1.0)


def need(module: str) -> Any:
    """`make test` installs it; only a bare `pytest` elsewhere may lack it (never in CI)."""
    return __import__(module) if os.environ.get("CI") else pytest.importorskip(module)


def fail(cb: CircuitBreaker) -> None:
    def boom() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        cb.call(boom)


def open_period(admitted: Callable[[], bool], opened_at: float, limit: float = 5.0) -> float:
    """Polls ``admitted()`` (bounded) until it is True; answers the seconds since ``opened_at``."""
    deadline = opened_at + limit
    while time.monotonic() < deadline:
        if admitted():
            return time.monotonic() - opened_at
        time.sleep(POLL)
    return float("inf")


def admits(cb: CircuitBreaker) -> bool:
    try:
        cb.call(lambda: None)
        return True
    except CircuitBreakerError:
        return False


def in_new_thread(fn: Callable[[], Any]) -> Any:
    out: List[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(10)
    return out[0]


def test_a_breaker_opened_in_one_thread_honours_recovery_timeout_in_a_thread_started_later() -> None:
    cb = CircuitBreaker(failure_threshold=1, recovery_timeout=0.5)
    fail(cb)  # in the main thread, which read the clock before the module's second passed
    opened_at = time.monotonic()
    period = in_new_thread(lambda: open_period(lambda: admits(cb), opened_at))
    assert 0.5 - EARLY <= period <= 0.5 + LATE, f"open for {period:.3f} s with recovery_timeout=0.5"


def test_a_breaker_called_through_a_thread_pool_honours_recovery_timeout() -> None:
    cb = CircuitBreaker(failure_threshold=1, recovery_timeout=0.5)
    fail(cb)  # opened in this (the main) thread
    opened_at = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        def admitted() -> bool:
            return all(pool.map(lambda _: admits(cb), range(1)))
        period = open_period(admitted, opened_at)
    assert 0.5 - EARLY <= period <= 0.5 + LATE, f"open for {period:.3f} s with recovery_timeout=0.5"


def test_a_fastapi_def_endpoint_under_uvicorn_honours_recovery_timeout() -> None:
    fastapi, uvicorn = need("fastapi"), need("uvicorn")
    cb = CircuitBreaker(failure_threshold=1, recovery_timeout=0.5)
    app = fastapi.FastAPI()

    @app.get("/call")
    def call() -> Any:  # a `def` endpoint: FastAPI runs it in its thread pool
        try:
            return {"ok": cb.call(lambda: "ok")}
        except CircuitBreakerError as exc:
            raise fastapi.HTTPException(503, str(exc))

    with uvicorn_server(uvicorn, app) as url, httpx.Client(base_url=url, timeout=5.0) as client:
        assert client.get("/call").status_code == 200
        fail(cb)
        opened_at = time.monotonic()
        assert client.get("/call").status_code == 503
        period = open_period(lambda: client.get("/call").status_code == 200, opened_at)
    assert 0.5 - EARLY <= period <= 0.5 + LATE, f"open for {period:.3f} s with recovery_timeout=0.5"


class uvicorn_server:
    """uvicorn serving ``app`` on a free 127.0.0.1 port in a thread of this process; stopped and
    joined on exit."""

    def __init__(self, uvicorn: Any, app: Any) -> None:
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                break
            time.sleep(0.01)
        assert self.server.started, "uvicorn did not start"
        return self.url

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_a_rate_limiters_window_is_the_same_from_a_thread_started_later() -> None:
    rl = RateLimiter(limit=2, per=0.5, max_wait=0)
    for _ in range(2):
        rl.call(lambda: None)  # spent in the main thread
    spent_at = time.monotonic()

    def admitted() -> bool:
        try:
            rl.call(lambda: None)
            return True
        except RateLimitError:
            return False

    period = in_new_thread(lambda: open_period(admitted, spent_at))
    assert period <= 0.5 + LATE, f"refused for {period:.3f} s in a 0.5 s window"


def test_a_bulkhead_queue_timeout_is_the_same_from_a_thread_started_later() -> None:
    bh = Bulkhead(max_concurrent=1, max_queue_size=1, queue_timeout=0.3)
    bh.call(lambda: None)  # the main thread uses it first
    release = threading.Event()
    holder = threading.Thread(target=lambda: bh.call(lambda: release.wait(10)))
    holder.start()
    try:
        for _ in range(500):
            if bh.metrics()["active"] == 1:
                break
            time.sleep(0.01)

        def queued() -> Any:
            started = time.monotonic()
            try:
                bh.call(lambda: None)
                return "admitted"
            except BulkheadRejectedError as exc:
                return exc.code, time.monotonic() - started

        outcome = in_new_thread(queued)
    finally:
        release.set()
        holder.join(10)
    assert outcome[0] == "BULKHEAD_QUEUE_TIMEOUT", outcome
    assert 0.3 - EARLY <= outcome[1] <= 0.3 + LATE, f"rejected after {outcome[1]:.3f} s for queue_timeout=0.3"
    assert bh.metrics()["active"] == 0


# ---- a fleet breaker: its sync thread reads the same clock ---------------------------------

@pytest.fixture
def redis_port() -> Iterator[int]:
    if not os.environ.get("CI") and shutil.which("redis-server") is None:
        pytest.skip("make redis installs redis-server")
    need("redis")
    from redis_server import RedisServer
    s = RedisServer()
    yield s.port
    s.stop()


def test_a_fleet_breakers_open_period_is_recovery_timeout_while_syncing_and_after_leaving(redis_port: int) -> None:
    redis = need("redis")

    cb = CircuitBreaker(f"threads-fleet-{os.getpid()}", failure_threshold=1, recovery_timeout=0.5,
                        fleet=Fleet(redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=0.5),
                                    min_replicas=2, sync_interval=0.05))
    try:
        for _ in range(200):  # the sync thread's first rounds
            if cb.stats["fleet"]["syncs"] >= 2:
                break
            time.sleep(0.01)
        assert cb.stats["fleet"]["mode"] == "shared"
        fail(cb)
        opened_at = time.monotonic()
        period = open_period(lambda: admits(cb), opened_at)
        assert 0.5 - EARLY <= period <= 0.5 + LATE, f"open for {period:.3f} s while syncing, recovery_timeout=0.5"
        cb.leave_fleet()
        fail(cb)
        opened_at = time.monotonic()
        period = in_new_thread(lambda: open_period(lambda: admits(cb), opened_at))
        assert 0.5 - EARLY <= period <= 0.5 + LATE, f"open for {period:.3f} s after leave_fleet(), recovery_timeout=0.5"
    finally:
        cb.leave_fleet()


def test_the_time_a_call_used_is_read_back_per_thread() -> None:
    """A breaker times its call from the time its acquire used (``last_now``). Another thread's
    engine calls in between (the GIL may switch between the two) must not change what this
    thread reads back."""
    from seawall._engine import engine

    cb = CircuitBreaker(failure_threshold=5)
    engine.breaker_acquire(cb._h, 1000.0)
    in_new_thread(lambda: engine.breaker_state(cb._h, 5000.0))
    assert engine.last_now() == 1000.0
    assert in_new_thread(engine.last_now) == 0.0, "a new thread has made no call yet"


def test_a_timeout_on_the_real_clock_reports_at_least_its_duration() -> None:
    """The event loop's timer never fires early, so the time reported (the error's ``duration``,
    ``on_timeout``'s argument) is never below the timeout: not read off the engine's coarse clock,
    which reported 50 ms as 48."""
    import asyncio

    from seawall import TimeoutError, with_timeout

    async def main() -> List[float]:
        seen: List[float] = []
        for _ in range(5):
            with pytest.raises(TimeoutError) as info:
                await with_timeout(lambda: asyncio.sleep(1), 0.05, on_timeout=seen.append)
            seen.append(info.value.duration)
        return seen

    seen = asyncio.run(main())
    assert len(seen) == 10 and min(seen) >= 0.05, seen
