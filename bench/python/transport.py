"""Per-request cost of ResilientTransport against bare httpx and httpx2 clients, async and sync,
against the tests' provider-like server on 127.0.0.1 run in a process of its own (as a user's
server is: in this process its threads would compete with the client for the GIL). Rounds of
bare and guarded requests alternate; each is the quarter-best of its rounds. Also, in the same
run, the transport's own cost without a network (an inner transport answering at once). Not a
test: it prints a table. Run: make bench-python."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, List

import httpx
import httpx2

TESTS = Path(__file__).resolve().parents[2] / "bindings-python" / "tests"

from seawall import Bulkhead, CircuitBreaker, ResilientTransport  # noqa: E402

N = 500
ROUNDS = int(os.environ.get("ROUNDS", "12"))
SERVE = (
    "import sys, time\n"
    f"sys.path.insert(0, {str(TESTS)!r})\n"
    "from provider_server import ProviderServer\n"
    "s = ProviderServer()\n"
    "print(s.url, flush=True)\n"
    "sys.stdin.read()\n"
)


def policies(inner: Any = None) -> ResilientTransport:
    return ResilientTransport(inner, circuit_breaker=CircuitBreaker(failure_threshold=5), bulkhead=Bulkhead(max_concurrent=16), max_retries=2)


def quarter(runs: List[float]) -> float:
    return sorted(runs)[len(runs) // 4]


async def round_async(client: Any, url: str, n: int) -> float:
    t = time.perf_counter_ns()
    for _ in range(n):
        await client.post(url, json={})
    return (time.perf_counter_ns() - t) / n / 1000


def round_sync(client: Any, url: str, n: int) -> float:
    t = time.perf_counter_ns()
    for _ in range(n):
        client.post(url, json={})
    return (time.perf_counter_ns() - t) / n / 1000


async def alternate_async(bare: Any, guarded: Any, url: str) -> tuple:
    for c in (bare, guarded):
        await round_async(c, url, 200)
    b: List[float] = []
    g: List[float] = []
    for _ in range(ROUNDS):
        b.append(await round_async(bare, url, N))
        g.append(await round_async(guarded, url, N))
    return quarter(b), quarter(g)


def alternate_sync(bare: Any, guarded: Any, url: str) -> tuple:
    for c in (bare, guarded):
        round_sync(c, url, 200)
    b: List[float] = []
    g: List[float] = []
    for _ in range(ROUNDS):
        b.append(round_sync(bare, url, N))
        g.append(round_sync(guarded, url, N))
    return quarter(b), quarter(g)


def own_cost(lib: Any) -> tuple:
    """µs a request through a sync client whose transport answers at once: bare, and behind the
    policies (the difference is what the transport adds to any request)."""
    answer: Callable[[Any], Any] = lambda request: lib.Response(200, json={"ok": True})
    with lib.Client(transport=lib.MockTransport(answer)) as bare, lib.Client(transport=policies(lib.MockTransport(answer))) as guarded:
        return alternate_sync(bare, guarded, "http://127.0.0.1/v1/chat/completions")


async def main() -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = f"{server.stdout.readline().strip()}/v1/chat/completions"
        print("| client | bare, µs per request | with ResilientTransport (breaker, bulkhead, retries) | ratio |")
        print("|---|---:|---:|---:|")
        for lib in (httpx, httpx2):
            async with lib.AsyncClient() as bare_client, lib.AsyncClient(transport=policies()) as guarded_client:
                b, g = await alternate_async(bare_client, guarded_client, url)
            print(f"| {lib.__name__}.AsyncClient | {b:.0f} | {g:.0f} | {g / b:.2f}× |")
            with lib.Client() as bare_client, lib.Client(transport=policies()) as guarded_client:
                b, g = alternate_sync(bare_client, guarded_client, url)
            print(f"| {lib.__name__}.Client | {b:.0f} | {g:.0f} | {g / b:.2f}× |")
        for lib in (httpx, httpx2):
            b, g = own_cost(lib)
            print(f"| {lib.__name__}.Client, no network (a transport answering at once) | {b:.1f} | {g:.1f} | +{g - b:.1f} µs |")
    finally:
        server.kill()
        server.wait()


asyncio.run(main())
