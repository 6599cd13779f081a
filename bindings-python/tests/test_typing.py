"""Seawall as a typed program sees it: ``mypy --strict`` over the README's client example and over
a program of the calls users write, each result's type asserted (``assert_type``). A decorator
that answered ``Callable[..., Any]`` turned every guarded function's result into ``Any``, and the
httpx clients refused ``ResilientTransport`` as a transport (it is one at run time, not by class)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

CALLS = '''
import asyncio
from typing import Dict, Optional

from typing_extensions import assert_type

import aiohttp
import httpx
import httpx2
import openai
from fastapi import FastAPI

from seawall import (AdaptiveLimitMiddleware, Bulkhead, CircuitBreaker, HedgePolicy, RateLimiter, ResilientClient,
                     ResilientMiddleware, ResilientTransport, RetryPolicy, SyncResilientClient, hedge, retry,
                     retry_with_backoff, with_circuit_breaker, with_timeout)

openai_circuit = CircuitBreaker(name="openai", failure_threshold=5, recovery_timeout=60.0, half_open_max_calls=3)
bulkhead = Bulkhead(max_concurrent=4)
limiter = RateLimiter(limit=10, per=1.0)


@with_circuit_breaker(openai_circuit)
async def call_openai(prompt: str) -> str:
    return prompt


@openai_circuit
def parse(text: str, strict: bool = False) -> int:
    return len(text)


@retry(max_attempts=3, base_delay=0.1)
async def fetch_user(user_id: int) -> Dict[str, int]:
    return {"id": user_id}


@bulkhead
@limiter
def work(n: int) -> float:
    return n / 2


async def api_call() -> Dict[str, str]:
    return {"ok": "yes"}


def sync_call() -> bytes:
    return b"ok"


async def main() -> None:
    assert_type(await call_openai("hi"), str)
    assert_type(parse("abc", strict=True), int)
    assert_type(await fetch_user(1), Dict[str, int])
    assert_type(work(3), float)
    assert_type(await retry_with_backoff(api_call, max_attempts=3, base_delay=0.5, max_delay=4.0), Dict[str, str])
    assert_type(retry_with_backoff(sync_call, max_attempts=2), bytes)
    assert_type(await with_timeout(api_call, 5.0), Dict[str, str])
    assert_type(await with_timeout(api_call, 5.0, fallback=lambda: None), Optional[Dict[str, str]])
    assert_type(openai_circuit.call(sync_call), bytes)
    assert_type(await openai_circuit.call_async(api_call), Dict[str, str])
    assert_type(await bulkhead.call_async(api_call), Dict[str, str])
    async with bulkhead as held:
        assert_type(held, Bulkhead)
    async with openai_circuit as guarded:
        assert_type(guarded, CircuitBreaker)
    assert_type(RetryPolicy(max_attempts=2).call(sync_call), bytes)
    assert_type(await RetryPolicy(max_attempts=2).call_async(api_call), Dict[str, str])
    assert_type(await HedgePolicy(delay=0.1).call_async(api_call), Dict[str, str])
    assert_type(await hedge(api_call, delay=0.1), Dict[str, str])
    transport = ResilientTransport(circuit_breaker=openai_circuit, max_retries=3)
    async with httpx.AsyncClient(transport=transport) as a, httpx2.AsyncClient(transport=transport) as b:
        print(a, b)
    with httpx.Client(transport=transport) as c, httpx2.Client(transport=transport) as d:
        print(c, d)
    client = openai.AsyncOpenAI(http_client=httpx2.AsyncClient(transport=transport), max_retries=0, api_key="k")
    async with aiohttp.ClientSession(middlewares=(ResilientMiddleware(circuit_breaker=openai_circuit),)) as session:
        print(client, session)
    async with ResilientClient(base_url="http://127.0.0.1:1", circuit_breaker=openai_circuit) as rc:
        assert_type(await rc.post("/x", json={"a": 1}), httpx.Response)
    with SyncResilientClient(base_url="http://127.0.0.1:1") as sc:
        assert_type(sc.get("/x"), httpx.Response)


app = FastAPI()
app.add_middleware(AdaptiveLimitMiddleware)
asyncio.run(main())
'''


# What the program imports; `make test` installs them (a bare `pytest` elsewhere may lack them).
for module in ("mypy", "typing_extensions", "aiohttp", "httpx2", "openai", "fastapi"):
    if not os.environ.get("CI"):
        pytest.importorskip(module)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module: the SDKs' stubs are read once."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(tmp_path: Path, cache: Path, name: str, program: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / name).write_text(program)
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "--no-error-summary", name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_the_calls_users_write_keep_their_types_under_mypy_strict(tmp_path: Path, cache: Path) -> None:
    run = mypy(tmp_path, cache, "calls.py", CALLS)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_readme_client_example_type_checks_under_mypy_strict(tmp_path: Path, cache: Path) -> None:
    part = README.read_text().split("## Inside the clients you already use (Python)", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", part, re.S)
    assert found
    run = mypy(tmp_path, cache, "readme_clients.py", found.group(1))
    assert run.returncode == 0, run.stdout + run.stderr
