"""The core's outcome rules (core/src/outcome.rs) as the Python shell meets them: a plain call's
error carrying a status, and ResilientClient against a real server on 127.0.0.1 (retry-after-ms
before Retry-After, x-should-retry, 408). Virtual time: the delays are the policy's choices."""
from __future__ import annotations

from typing import Any, List

import pytest

from conftest import FlakyServer
from seawall import CircuitBreaker, ResilientClient, SyncResilientClient, retry_with_backoff, virtual_clock


class Failed(Exception):
    def __init__(self, status: int, headers: Any = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.headers = headers or {}


def failing(status: int, headers: Any = None) -> Any:
    calls: List[int] = []

    def fn() -> None:
        calls.append(1)
        raise Failed(status, headers)
    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_a_plain_calls_4xx_is_not_retried_5xx_and_429_are_with_retry_after_ms_first() -> None:
    with virtual_clock():
        not_found = failing(404)
        with pytest.raises(Failed):
            retry_with_backoff(not_found, max_attempts=3)
        assert len(not_found.calls) == 1, "a 404 is the request, not the dependency"
        down = failing(502)
        with pytest.raises(Failed):
            retry_with_backoff(down, max_attempts=3)
        assert len(down.calls) == 3
        delays: List[float] = []
        limited = failing(429, {"retry-after-ms": "75", "retry-after": "9"})
        with pytest.raises(Failed):
            retry_with_backoff(limited, max_attempts=2, on_retry=lambda _a, _e, d: delays.append(d))
        assert delays == [0.075]


async def test_resilient_client_honours_retry_after_ms_before_retry_after(route_to_server: FlakyServer) -> None:
    route_to_server.scripts["/ms"] = [{"status": 429, "headers": {"retry-after-ms": "40", "retry-after": "30"}}]
    delays: List[float] = []
    with virtual_clock():
        async with ResilientClient(route_to_server.url, max_retries=2, on_retry=lambda _a, _e, d: delays.append(d)) as client:
            response = await client.get("/ms")
    assert response.status_code == 200
    assert delays == [0.04]


async def test_resilient_client_follows_x_should_retry(route_to_server: FlakyServer) -> None:
    route_to_server.scripts["/no"] = [{"status": 503, "headers": {"x-should-retry": "false"}}]
    route_to_server.scripts["/yes"] = [{"status": 500, "headers": {"x-should-retry": "true"}}]
    with virtual_clock():
        async with ResilientClient(route_to_server.url, max_retries=3) as client:
            assert (await client.get("/no")).status_code == 503
            assert (await client.post("/yes", json={})).status_code == 200
    assert route_to_server.hits == {"/no": 1, "/yes": 2}


def test_sync_client_retries_408_and_its_breaker_does_not_count_it(route_to_server: FlakyServer) -> None:
    route_to_server.scripts["/408"] = [408]
    cb = CircuitBreaker(failure_threshold=1)
    with virtual_clock(), SyncResilientClient(route_to_server.url, circuit_breaker=cb, max_retries=2) as client:
        assert client.get("/408").status_code == 200
    assert route_to_server.hits["/408"] == 2
    assert cb.state == "CLOSED"
