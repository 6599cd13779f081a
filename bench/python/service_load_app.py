"""The FastAPI side of ``bench/node/service-load.mjs``: a service whose handler waits for one of
``WORKERS`` "workers" (``SERVICE_MS`` each), with ``AdaptiveLimitMiddleware`` when ``DOOR`` is
set (its limit's options as JSON in ``LIMIT``). Served by uvicorn on 127.0.0.1; prints its URL."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import sys

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from seawall import AdaptiveLimitMiddleware

WORKERS = int(os.environ["WORKERS"])
SERVICE_S = float(os.environ["SERVICE_MS"]) / 1000


def app() -> FastAPI:
    a = FastAPI()
    if os.environ.get("DOOR"):
        a.add_middleware(AdaptiveLimitMiddleware, limit=json.loads(os.environ["LIMIT"]))
    # The backend: WORKERS requests at once, the rest wait in order.
    workers = asyncio.Semaphore(WORKERS)

    @a.get("/", response_class=PlainTextResponse)
    async def root() -> str:
        async with workers:
            await asyncio.sleep(SERVICE_S)
        return "ok"

    return a


async def main() -> None:
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app(), log_level="warning", lifespan="off", access_log=False, backlog=4096))
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
    sys.stdout.flush()
    await task


asyncio.run(main())
