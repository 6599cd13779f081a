"""Seawall at a service's door, with a real FastAPI app under uvicorn on 127.0.0.1: an adaptive
limit sheds what it cannot take (503, Retry-After); a client that disconnects cancels its
handler (the outbound call it made is aborted: the upstream sees it) and no handler is left
running; a client's x-request-timeout caps the handler's outbound calls; every permit comes back.
As bindings-node/test/service.test.mjs."""
from __future__ import annotations

import asyncio
import os
import socket
from typing import Any, AsyncIterator, Dict, List, Tuple

import httpx
import pytest

# `make test` installs uvicorn, fastapi; only a bare `pytest` elsewhere may lack them (never in CI).
if not os.environ.get("CI"):
    pytest.importorskip("uvicorn")
    pytest.importorskip("fastapi")
import uvicorn  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

from seawall import AdaptiveLimit, AdaptiveLimitMiddleware, ResilientClient


async def until(cond: Any, what: str) -> None:
    for _ in range(400):
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


class Upstream:
    """A raw server on 127.0.0.1 that never answers; it counts requests and those the client closed."""

    def __init__(self) -> None:
        self.requests = 0
        self.closed = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        await reader.read()  # until the client closes
        self.closed += 1
        writer.close()


async def start_upstream() -> Tuple[Upstream, Any, str]:
    u = Upstream()
    server = await asyncio.start_server(u.handle, "127.0.0.1", 0)
    return u, server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


async def serve(app: Any) -> Tuple[uvicorn.Server, "asyncio.Task[None]", str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    await until(lambda: server.started, "uvicorn to start")
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def stop(server: uvicorn.Server, task: "asyncio.Task[None]") -> None:
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def test_requests_beyond_the_limit_are_shed_with_503_and_retry_after() -> None:
    limit = AdaptiveLimit("door", algorithm="aimd", initial_limit=1, min_limit=1, max_limit=1)
    gate = asyncio.Event()
    app = FastAPI()
    app.add_middleware(AdaptiveLimitMiddleware, limit=limit)

    @app.get("/slow")
    async def slow() -> str:
        await gate.wait()
        return "done"

    server, task, base = await serve(app)
    try:
        async with httpx.AsyncClient() as client:
            first = asyncio.ensure_future(client.get(f"{base}/slow"))
            await until(lambda: limit.stats()["in_flight"] == 1, "the first request admitted")
            shed = await client.get(f"{base}/slow")
            assert shed.status_code == 503
            assert int(shed.headers["retry-after"]) >= 1
            assert shed.json()["code"] == "CONCURRENCY_LIMITED"
            gate.set()
            assert (await first).json() == "done"
        await until(lambda: limit.stats()["in_flight"] == 0, "the permit back")
        s = limit.stats()
        assert (s["admitted"], s["rejected"], s["in_flight"]) == (1, 1, 0)
    finally:
        await stop(server, task)


async def test_a_client_that_disconnects_cancels_its_handler_and_its_outbound_call() -> None:
    upstream, upstream_server, url = await start_upstream()
    limit = AdaptiveLimit(algorithm="aimd", initial_limit=5, min_limit=1)
    handlers: Dict[str, Any] = {"running": 0, "ended": []}
    app = FastAPI()
    app.add_middleware(AdaptiveLimitMiddleware, limit=limit)

    @app.get("/proxy")
    async def proxy() -> str:
        handlers["running"] += 1
        try:
            async with ResilientClient(max_retries=0) as client:
                return (await client.get(url)).text
        except BaseException as exc:
            handlers["ended"].append(type(exc).__name__)
            raise
        finally:
            handlers["running"] -= 1

    server, task, base = await serve(app)
    try:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /proxy HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await until(lambda: upstream.requests == 1, "the upstream call")
        writer.close()
        await until(lambda: upstream.closed == 1, "the upstream call closed")
        await until(lambda: handlers["running"] == 0, "the handler ended")
        assert handlers["ended"] == ["CancelledError"]
        await until(lambda: limit.stats()["in_flight"] == 0, "the permit back")
        assert limit.stats()["ignored"] == 1
    finally:
        await stop(server, task)
        upstream_server.close()


async def test_the_clients_x_request_timeout_caps_the_handlers_outbound_calls() -> None:
    upstream, upstream_server, url = await start_upstream()
    app = FastAPI()
    app.add_middleware(AdaptiveLimitMiddleware, limit={"algorithm": "aimd", "initial_limit": 5, "min_limit": 1})

    @app.get("/proxy")
    async def proxy() -> Any:
        try:
            # 2 s allowed by its own options; the client gave 200 ms.
            async with ResilientClient(max_retries=0, timeout=2.0) as client:
                return (await client.get(url)).text
        except Exception as exc:  # noqa: BLE001 - answered
            return JSONResponse({"code": getattr(exc, "code", None)}, status_code=504)

    server, task, base = await serve(app)
    try:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{base}/proxy", headers={"x-request-timeout": "200"})
        assert r.status_code == 504
        assert r.json() == {"code": "TIMEOUT"}
        await until(lambda: upstream.closed == 1, "the upstream call closed")
    finally:
        await stop(server, task)
        upstream_server.close()


async def test_which_x_request_timeout_values_are_a_deadline_is_the_cores_rule() -> None:
    from seawall._limit import request_deadline

    app = FastAPI()
    app.add_middleware(AdaptiveLimitMiddleware, limit={"algorithm": "aimd", "initial_limit": 5, "min_limit": 1})

    @app.get("/deadline")
    async def deadline() -> str:
        return "none" if request_deadline.get() is None else "set"

    server, task, base = await serve(app)
    try:
        seen = {}
        async with httpx.AsyncClient() as client:
            for value in ["200", "250.5", "0", "0x10", "1_000", "1e3", "Infinity", "-5", ""]:
                seen[value] = (await client.get(f"{base}/deadline", headers={"x-request-timeout": value})).json()
        assert seen == {"200": "set", "250.5": "set", "0": "set", "0x10": "none", "1_000": "none", "1e3": "none",
                        "Infinity": "none", "-5": "none", "": "none"}
    finally:
        await stop(server, task)


async def test_bodies_reach_the_app_whole_with_or_without_one() -> None:

    app = FastAPI()
    app.add_middleware(AdaptiveLimitMiddleware, limit={"algorithm": "aimd", "initial_limit": 5, "min_limit": 1})

    @app.post("/echo")
    async def echo(request: Request) -> Dict[str, Any]:
        return {"body": (await request.body()).decode()}

    @app.get("/empty")
    async def empty(request: Request) -> Dict[str, Any]:
        # A GET that reads its (empty) body: the watcher read the one message for it.
        return {"body": (await request.body()).decode()}

    server, task, base = await serve(app)
    try:
        async with httpx.AsyncClient() as client:
            assert (await client.post(f"{base}/echo", content=b"x" * 100_000)).json() == {"body": "x" * 100_000}
            assert (await client.get(f"{base}/empty")).json() == {"body": ""}
    finally:
        await stop(server, task)


async def test_with_a_queue_requests_beyond_the_limit_wait_newest_first_and_late_ones_are_shed() -> None:
    gate = [asyncio.Event()]
    started: List[str] = []
    app = FastAPI()
    app.add_middleware(AdaptiveLimitMiddleware, limit={"algorithm": "aimd", "initial_limit": 1, "min_limit": 1, "max_limit": 1},
                       queue={"max_queue_size": 2, "timeout": 0.3})

    @app.get("/work")
    async def work(label: str) -> str:
        started.append(label)
        await gate[0].wait()
        return label

    server, task, base = await serve(app)
    try:
        async with httpx.AsyncClient() as client:
            a = asyncio.ensure_future(client.get(f"{base}/work", params={"label": "a"}))
            await until(lambda: started == ["a"], "a running")
            b = asyncio.ensure_future(client.get(f"{base}/work", params={"label": "b"}))
            await asyncio.sleep(0.02)
            c = asyncio.ensure_future(client.get(f"{base}/work", params={"label": "c"}))
            await asyncio.sleep(0.02)
            assert (await client.get(f"{base}/work", params={"label": "d"})).status_code == 503, "the queue is full"
            gate[0].set()
            assert [r.status_code for r in await asyncio.gather(a, b, c)] == [200, 200, 200]
            assert started == ["a", "c", "b"], "the newest waiter went first"
            gate[0] = asyncio.Event()
            e = asyncio.ensure_future(client.get(f"{base}/work", params={"label": "e"}))
            await until(lambda: started[-1:] == ["e"], "e running")
            late = await client.get(f"{base}/work", params={"label": "f"})
            assert late.status_code == 503 and late.headers["retry-after"] == "1"
            gate[0].set()
            assert (await e).status_code == 200
    finally:
        await stop(server, task)


async def test_a_def_endpoint_in_fastapis_thread_pool_is_limited_and_gives_its_permit_back() -> None:
    import threading
    import time

    limit = AdaptiveLimit("threads", algorithm="aimd", initial_limit=1, min_limit=1, max_limit=1)
    app = FastAPI()
    app.add_middleware(AdaptiveLimitMiddleware, limit=limit)
    threads: List[str] = []

    @app.get("/blocking")
    def blocking() -> str:  # a def endpoint: FastAPI runs it in its thread pool, on the real clock
        threads.append(threading.current_thread().name)
        time.sleep(0.2)
        return "done"

    server, task, base = await serve(app)
    try:
        async with httpx.AsyncClient() as client:
            first = asyncio.ensure_future(client.get(f"{base}/blocking"))
            await until(lambda: limit.stats()["in_flight"] == 1, "the first request admitted")
            assert (await client.get(f"{base}/blocking")).status_code == 503
            assert (await first).json() == "done"
        await until(lambda: limit.stats()["in_flight"] == 0, "the permit back")
        assert threads and threads[0] != threading.current_thread().name, "the endpoint ran in the thread pool"
        s = limit.stats()
        assert (s["admitted"], s["rejected"]) == (1, 1)
    finally:
        await stop(server, task)
