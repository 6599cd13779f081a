"""One client of the demo, in Python: ResilientClient with seeded full-jitter retries and a
breaker, one request a second, printing a timeline line per attempt, retry, breaker change and
result.
    python client.py --live http://127.0.0.1:PORT T0   (T0: the server's start, epoch ms)
    python client.py --replay                          (the same script on a virtual clock)
client.mjs prints the same lines; in replay both must match byte for byte."""
from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

from seawall import CircuitBreaker, ResilientClient, instrument, virtual_clock

SCENARIO = json.loads((Path(__file__).parent / "client-scenario.json").read_text())
P = SCENARIO["policy"]


def phase_at(ms: float) -> dict:
    return next(p for p in SCENARIO["phases"] if "untilMs" not in p or ms < p["untilMs"])


def stamp(ms: float) -> str:
    """Rounds to whole ms and prints seconds with three decimals, the same way script.mjs does."""
    n = math.floor(ms + 0.5)
    return f"{n // 1000}.{n % 1000:03d}s"


class Logged(httpx.AsyncBaseTransport):
    """Prints each attempt's outcome; the requests themselves go to `inner`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, on_attempt: Callable[[str], None]) -> None:
        self.inner, self.on_attempt = inner, on_attempt

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as exc:
            self.on_attempt(type(exc).__name__)
            raise
        self.on_attempt(str(response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def run(base_url: str, transport: httpx.AsyncBaseTransport, now: Callable[[], float],
              sleep: Callable[[float], Awaitable[None]]) -> None:
    state: dict[str, int] = {"req": 0, "attempt": 0}

    def log(line: str) -> None:
        print(f"{stamp(now())} {line}", flush=True)

    def on_attempt(outcome: str) -> None:
        state["attempt"] += 1
        log(f"#{state['req']} attempt {state['attempt']} -> {outcome}")

    breaker = CircuitBreaker(name="quote", failure_threshold=P["breaker"]["failureThreshold"],
                             recovery_timeout=P["breaker"]["resetTimeoutMs"] / 1000,
                             on_state_change=lambda old, new: log(f"breaker {old.upper()} -> {new.upper()}"))
    inner = httpx.AsyncClient(base_url=base_url, timeout=P["attemptTimeoutMs"] / 1000, transport=Logged(transport, on_attempt))

    def on_retry(n: int, _exc: BaseException, delay_s: float) -> None:
        log(f"#{state['req']} retry {n} in {math.floor(delay_s * 1000 + 0.5)} ms")

    async with ResilientClient(base_url, circuit_breaker=breaker, max_retries=P["maxRetries"], client=inner,
                               base_delay=P["baseDelayMs"] / 1000, max_delay=P["maxDelayMs"] / 1000,
                               jitter=P["jitter"], seed=P["seed"], on_retry=on_retry, name="quote") as client:
        for i in range(1, SCENARIO["requests"] + 1):
            wait = (i - 1) * SCENARIO["intervalMs"] - now()
            if wait > 0:
                await sleep(wait / 1000)
            state["req"], state["attempt"] = i, 0
            try:
                r = await client.get("/quote")
                log(f"#{i} result {r.status_code}")
            except Exception as exc:  # the breaker's refusal, or a transport error out of retries
                log(f"#{i} result {getattr(exc, 'code', type(exc).__name__)}")


def summary(reader: Any) -> str:
    """What the run's metrics say, read back from OpenTelemetry's SDK (client.mjs prints the same)."""
    points = [(m.name, dict(p.attributes), p.value) for rm in reader.get_metrics_data().resource_metrics
              for sm in rm.scope_metrics for m in sm.metrics for p in m.data.data_points if hasattr(p, "value")]

    def total(name: str, keep: Callable[[dict], bool] = lambda a: True) -> int:
        return int(sum(v for n, a, v in points if n == name and keep(a)))

    def calls(outcome: Any = None) -> int:
        return total("seawall.calls", lambda a: a["seawall.policy.kind"] == "retry" and outcome in (None, a["seawall.outcome"]))

    opened = total("seawall.breaker.transitions", lambda a: a["seawall.breaker.to"] == "OPEN")
    return f"metrics: {calls()} calls ({calls('success')} succeeded, {calls('failure')} failed, {calls('rejected')} refused), {total('seawall.retries')} retries, breaker opened {opened}×"


def main(argv: list[str]) -> int:
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "--live":
        t0 = float(argv[3])
        # The policies' own metrics, through OpenTelemetry's SDK (in memory here).
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        reader = InMemoryMetricReader()
        instrument(meter_provider=MeterProvider(metric_readers=[reader]), tracer_provider=False)
        asyncio.run(run(argv[2], httpx.AsyncHTTPTransport(), lambda: time.time() * 1000 - t0, asyncio.sleep))
        print(summary(reader), flush=True)
        return 0
    if mode == "--replay":
        with virtual_clock() as clock:
            async def serve(request: httpx.Request) -> httpx.Response:
                # The server of the script, answering after its latency on the virtual clock.
                phase = phase_at(clock.now() * 1000)
                await clock.sleep(SCENARIO["latencyMs"] / 1000)
                headers = {"retry-after": str(phase["retryAfterS"])} if "retryAfterS" in phase else {}
                return httpx.Response(phase["status"], headers=headers, json={"phase": phase["label"]})
            asyncio.run(run("http://replay.invalid", httpx.MockTransport(serve), lambda: clock.now() * 1000, clock.sleep))
        return 0
    print("usage: python client.py --live URL T0 | --replay", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
