"""What the door costs a service while it does not shed: the p50 of a request to a real FastAPI
app under uvicorn on 127.0.0.1 with ``AdaptiveLimitMiddleware`` and without it, measured in turn
(keep-alive, one request at a time, from this process). Goal: ≤ 1.05× the bare app's p50. Not a
test: it prints a table. Run: make bench-service."""
from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import time
from typing import Any, Dict, List

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from seawall import AdaptiveLimitMiddleware

N = int(os.environ.get("BENCH_N", 2000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))


def app(door: bool) -> FastAPI:
    a = FastAPI()
    if door:
        a.add_middleware(AdaptiveLimitMiddleware, limit={"algorithm": "gradient2", "initial_limit": 100, "max_limit": 1000})

    @a.get("/", response_class=PlainTextResponse)
    async def root() -> str:
        return "ok"

    return a


async def main() -> None:
    servers: Dict[str, Any] = {}
    for name, door in (("bare", False), ("door", True)):
        sock = socket.socket()
        # Accepted sockets inherit it: no Nagle wait between the response's head and body.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app(door), log_level="warning", lifespan="off", access_log=False))
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        servers[name] = (server, task, f"http://127.0.0.1:{sock.getsockname()[1]}/")
    p50: Dict[str, List[float]] = {"bare": [], "door": []}
    async with httpx.AsyncClient() as client:
        for r in range(ROUNDS + 1):
            for name in ("bare", "door"):
                url = servers[name][2]
                times = []
                for _ in range(N):
                    t = time.perf_counter_ns()
                    (await client.get(url)).read()
                    times.append((time.perf_counter_ns() - t) / 1000.0)
                if r > 0:
                    p50[name].append(statistics.median(times))
    bare, door = statistics.median(p50["bare"]), statistics.median(p50["door"])
    print(f"python {sys.version.split()[0]}, FastAPI under uvicorn, {N} requests x {ROUNDS} rounds, p50 µs (median of rounds)")
    print(f"bare {bare:8.1f} µs   with the door {door:8.1f} µs   {door / bare:.3f}x")
    for server, task, _ in servers.values():
        server.should_exit = True
        await task


asyncio.run(main())
