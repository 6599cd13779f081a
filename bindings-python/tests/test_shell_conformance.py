"""The shell-level conformance vectors (tests/shell-vectors/) against the public Python API —
``retry_with_backoff``, ``CircuitBreaker.call_async``, ``ResilientClient`` against a real
127.0.0.1 server — on a virtual clock with scripted outcomes. Each trace must equal the vector's,
which the TypeScript runner (bindings-node/test/shell-conformance.test.mjs) checks too: the two
shells make the same decisions, line for line.

Vectors are written as TypeScript users write options (camelCase, milliseconds); this runner
passes them as Python users do (snake_case, seconds) and writes times back in milliseconds."""
from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest

from conftest import FlakyServer
from seawall import CircuitBreaker, CircuitBreakerError, HedgePolicy, ResilientClient, retry_with_backoff, virtual_clock

DIR = Path(__file__).resolve().parents[2] / "tests" / "shell-vectors"
VECTORS = sorted(DIR.glob("*.json"))
# Options whose values are durations (ms in the vectors, seconds in Python).
DURATIONS = {"delay", "window", "baseDelay", "maxDelay", "maxElapsed", "maxRetryAfter", "resetTimeout", "recoveryTimeout",
             "slowCallDurationThreshold", "maxResetTimeout", "timeout", "windowDuration"}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def python_options(options: Dict[str, Any]) -> Dict[str, Any]:
    return {snake(k): (v / 1000.0 if k in DURATIONS else v) for k, v in options.items()}


def ms(seconds: float) -> Any:
    """Seconds as the trace's milliseconds, rounded to a microsecond; integral ones as ints (as
    JavaScript prints them)."""
    x = round(seconds * 1000.0, 3)
    return int(x) if x == int(x) else x


class ScriptedError(Exception):
    def __init__(self, spec: Dict[str, Any]) -> None:
        super().__init__(spec.get("message", "scripted"))
        self.message = spec.get("message", "scripted")
        if "status" in spec:
            self.status_code = spec["status"]
        if "code" in spec:
            self.code = spec["code"]
        if "headers" in spec:
            self.headers = spec["headers"]
        if "retryAfterMs" in spec:
            self.retry_after = spec["retryAfterMs"] / 1000.0


async def perform(clock: Any, step: Dict[str, Any]) -> Any:
    if step.get("duration"):
        await clock.sleep(step["duration"] / 1000.0)
    if "throw" in step:
        raise ScriptedError(step["throw"])
    return step.get("return")


def raised(e: BaseException) -> Dict[str, Any]:
    return {"error": e.message} if isinstance(e, ScriptedError) else {"code": getattr(e, "code", None)}


async def run_retry(v: Dict[str, Any], clock: Any, trace: List[Dict[str, Any]]) -> None:
    attempts = iter(v["attempts"])
    count = [0]

    async def fn() -> Any:
        count[0] += 1
        trace.append({"at": ms(clock.now()), "attempt": count[0]})
        return await perform(clock, next(attempts, {"return": "unscripted"}))

    options = python_options(v["options"])
    options["on_retry"] = lambda attempt, _e, delay: trace.append({"at": ms(clock.now()), "retry": {"attempt": attempt, "delayMs": ms(delay)}})
    if v.get("filter"):
        codes = v["filter"]["codes"]
        options["retry_if"] = lambda e: getattr(e, "code", None) in codes
    if v.get("rejectResults"):
        rejected = v["rejectResults"]
        options["retry_on_result"] = lambda result: result in rejected
    try:
        result = await retry_with_backoff(fn, **options)
        trace.append({"at": ms(clock.now()), "result": result})
    except Exception as e:  # noqa: BLE001 - traced
        trace.append({"at": ms(clock.now()), "raised": raised(e)})


async def run_breaker(v: Dict[str, Any], clock: Any, trace: List[Dict[str, Any]]) -> None:
    judged = {"is_failure_result": (lambda r: r in v["failureResults"])} if v.get("failureResults") else {}
    cb = CircuitBreaker(**python_options(v["options"]), **judged)
    cb.add_listener(lambda a, b, reason: trace.append({"at": ms(clock.now()), "transition": {"from": a, "to": b, "reason": reason}}))
    for call in v["calls"]:
        wait = call["at"] / 1000.0 - clock.now()
        if wait > 0:
            await clock.advance_async(wait)
        op = call.get("op")
        if op == "reset":
            cb.reset()
        elif op == "open":
            cb.open()
        else:
            try:
                result = await cb.call_async(lambda: perform(clock, call))
                trace.append({"at": ms(clock.now()), "result": result, "state": cb.state})
            except CircuitBreakerError as e:
                refused = {"code": e.code, "retryAfterMs": None if e.retry_after is None else ms(e.retry_after)}
                trace.append({"at": ms(clock.now()), "raised": refused, "state": cb.state})
            except Exception as e:  # noqa: BLE001 - traced
                trace.append({"at": ms(clock.now()), "raised": raised(e), "state": cb.state})


async def run_fetch(v: Dict[str, Any], clock: Any, trace: List[Dict[str, Any]], server: FlakyServer) -> None:
    path = f"/{v['name']}"
    server.scripts[path] = [dict(r) for r in v["responses"]]
    server.hits[path] = 0
    # A response's ``afterMs`` passes on the test's clock (on this loop) while the request waits.
    loop = asyncio.get_running_loop()
    server.pass_time = lambda t: asyncio.run_coroutine_threadsafe(clock.advance_async(t / 1000.0), loop).result(5)
    cb = CircuitBreaker(**python_options(v["breaker"])) if v.get("breaker") else None
    options = python_options(v["options"])
    options["max_retries"] = options.pop("max_attempts") - 1
    options["on_retry"] = lambda attempt, _e, delay: trace.append({"at": ms(clock.now()), "retry": {"attempt": attempt, "delayMs": ms(delay)}})
    method = v.get("method", "GET")
    try:
        async with ResilientClient(server.url, circuit_breaker=cb, **options) as client:
            response = await client.request(method, path, **({} if method in ("GET", "HEAD") else {"content": b"x"}))
        trace.append({"at": ms(clock.now()), "status": response.status_code})
    except Exception as e:  # noqa: BLE001 - traced
        trace.append({"at": ms(clock.now()), "raised": raised(e)})
    last: Dict[str, Any] = {"hits": server.hits[path]}
    if cb is not None:
        last["state"] = cb.state
    trace.append(last)


def line(x: Dict[str, Any]) -> str:
    return json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def run_hedge(v: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A hedged call on a clock moved 1 ms at a time (attempts run side by side), at most 10 s."""
    trace: List[Dict[str, Any]] = []
    cancelled: List[int] = []
    with virtual_clock(auto_advance=False) as clock:
        policy = HedgePolicy(**python_options(v["options"]))

        async def attempt(k: int) -> Any:
            trace.append({"at": ms(clock.now()), "attempt": k})
            try:
                return await perform(clock, v["attempts"][k] if k < len(v["attempts"]) else {"return": "unscripted"})
            except asyncio.CancelledError:
                cancelled.append(k)
                raise

        end: Dict[str, Any] = {}

        async def call() -> None:
            try:
                result = await policy.call_async(attempt)
                end.update(at=ms(clock.now()), result=result)
            except Exception as e:  # noqa: BLE001 - traced
                end.update(at=ms(clock.now()), raised=raised(e))

        task = asyncio.ensure_future(call())
        for _ in range(10_000):
            for _ in range(4):
                await asyncio.sleep(0)
            if task.done():
                break
            await clock.advance_async(0.001)
        await task
        trace.append({**end, "cancelled": sorted(cancelled), "hedges": policy.stats()["hedges"]})
    return trace


def test_there_are_at_least_40_shell_level_vectors() -> None:
    assert len(VECTORS) >= 40


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
async def test_shell_vector(path: Path, server: FlakyServer) -> None:
    v = json.loads(path.read_text())
    assert "expect" in v, f"{path.name} has no expect: the TypeScript runner writes it (SEAWALL_BLESS=1)"
    trace: List[Dict[str, Any]] = []
    with virtual_clock() as clock:
        if v["api"] == "hedge":
            trace = await run_hedge(v)
        elif v["api"] == "retry":
            await run_retry(v, clock, trace)
        elif v["api"] == "breaker":
            await run_breaker(v, clock, trace)
        else:
            await run_fetch(v, clock, trace, server)
    assert [line(x) for x in trace] == [line(x) for x in v["expect"]]
