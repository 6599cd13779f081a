"""Per-request cost of ResilientTransport against bare httpx and httpx2 clients, async and sync,
in one process against one 127.0.0.1 server (the tests' provider-like server). Not a test: it
prints a table. Run: make bench-python."""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx
import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings-python" / "tests"))
from provider_server import ProviderServer  # noqa: E402

from seawall import Bulkhead, CircuitBreaker, ResilientTransport  # noqa: E402

N = 1_000
ROUNDS = 5


def policies() -> ResilientTransport:
    return ResilientTransport(circuit_breaker=CircuitBreaker(failure_threshold=5), bulkhead=Bulkhead(max_concurrent=16), max_retries=2)


async def per_request_async(client: object, url: str) -> float:
    for _ in range(200):
        await client.post(url, json={})  # type: ignore[attr-defined]
    runs = []
    for _ in range(ROUNDS):
        t = time.perf_counter_ns()
        for _ in range(N):
            await client.post(url, json={})  # type: ignore[attr-defined]
        runs.append((time.perf_counter_ns() - t) / N / 1000)
    return statistics.median(runs)


def per_request_sync(client: object, url: str) -> float:
    for _ in range(200):
        client.post(url, json={})  # type: ignore[attr-defined]
    runs = []
    for _ in range(ROUNDS):
        t = time.perf_counter_ns()
        for _ in range(N):
            client.post(url, json={})  # type: ignore[attr-defined]
        runs.append((time.perf_counter_ns() - t) / N / 1000)
    return statistics.median(runs)


async def main() -> None:
    server = ProviderServer()
    url = f"{server.url}/v1/chat/completions"
    print("| client | bare, µs per request | with ResilientTransport (breaker, bulkhead, retries) | ratio |")
    print("|---|---:|---:|---:|")
    try:
        for lib in (httpx, httpx2):
            # Alternated, so that drift in the server's cost falls on both.
            async with lib.AsyncClient() as bare_client, lib.AsyncClient(transport=policies()) as guarded_client:
                bare, guarded = [], []
                for _ in range(2):
                    bare.append(await per_request_async(bare_client, url))
                    guarded.append(await per_request_async(guarded_client, url))
            b, g = min(bare), min(guarded)
            print(f"| {lib.__name__}.AsyncClient | {b:.0f} | {g:.0f} | {g / b:.2f}× |")
            with lib.Client() as bare_client, lib.Client(transport=policies()) as guarded_client:
                bare, guarded = [], []
                for _ in range(2):
                    bare.append(per_request_sync(bare_client, url))
                    guarded.append(per_request_sync(guarded_client, url))
            b, g = min(bare), min(guarded)
            print(f"| {lib.__name__}.Client | {b:.0f} | {g:.0f} | {g / b:.2f}× |")
    finally:
        server.close()


asyncio.run(main())
