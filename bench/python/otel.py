"""What instrumenting costs per guarded call in Python: a breaker's ``call_async`` and ``call``
and ``retry_with_backoff`` (succeeding calls), not instrumented, instrumented with the API alone
(no SDK set: the API's proxies) and instrumented with the SDK (an in-memory reader, spans handed
to a processor that drops them), each measured in turn within every round against the bare call
of that round. With SEAWALL_BEFORE (a directory holding a ``seawall`` package from before
instrumentation existed, over the same native module), the same calls run in a process of its
own, alternated with this one's: "off" against it is what the hooks cost a program that never
instruments. Not a test: it prints a table. Run: make bench-otel."""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List

import seawall

N = int(os.environ.get("BENCH_N", 50_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 7))


async def work() -> int:
    return 1


def work_sync() -> int:
    return 1


def calls() -> Dict[str, Any]:
    breaker = seawall.CircuitBreaker(name="bench", failure_threshold=5)
    # The methods read at each call, as a program reads them (one read before instrument() would
    # keep the plain method).
    return {
        "breaker.call_async": (lambda fn: breaker.call_async(fn), work, True),
        "retry_with_backoff": (lambda fn: seawall.retry_with_backoff(fn, max_attempts=3, name="bench"), work, True),
        "breaker.call (sync)": (lambda fn: breaker.call(fn), work_sync, False),
    }


async def per_call(call: Callable[[Any], Any], fn: Any, is_async: bool) -> float:
    t = time.perf_counter_ns()
    if is_async:
        for _ in range(N):
            await call(fn)
    else:
        for _ in range(N):
            call(fn)
    return (time.perf_counter_ns() - t) / N


async def bare(is_async: bool) -> float:
    return await per_call(lambda fn: fn(), work if is_async else work_sync, is_async)


def sdk_providers() -> Dict[str, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SpanProcessor())  # ends spans, keeps none
    return {"meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()]), "tracer_provider": tracer_provider}


def sdk_floor(sdk: Dict[str, Any]) -> Callable[[Any], Any]:
    """What the SDK alone costs for what a call reports: a span made current and ended, a counter
    added to and a histogram recorded, each with a call's attributes."""
    from opentelemetry import context, trace

    tracer = sdk["tracer_provider"].get_tracer("floor")
    meter = sdk["meter_provider"].get_meter("floor")
    counter, histogram = meter.create_counter("floor.calls"), meter.create_histogram("floor.duration", unit="s")
    attributes = {"seawall.policy.name": "bench", "seawall.policy.kind": "breaker", "seawall.outcome": "success"}

    def floor(fn: Any) -> Any:
        span = tracer.start_span("breaker bench", attributes={"seawall.policy.kind": "breaker", "seawall.policy.name": "bench"})
        token = context.attach(trace.set_span_in_context(span))
        try:
            return fn()
        finally:
            context.detach(token)
            span.set_attribute("seawall.outcome", "success")
            span.end()
            counter.add(1, attributes)
            histogram.record(0.0, attributes)

    return floor


async def run(modes: List[str]) -> Dict[str, List[List[float]]]:
    """Per case and mode, per round: [overhead ns, bare ns]."""
    sdk = sdk_providers() if "sdk" in modes else None
    out: Dict[str, List[List[float]]] = {}
    for r in range(ROUNDS + 1):
        if sdk is not None:
            b = await bare(False)
            ns = await per_call(sdk_floor(sdk), work_sync, False)
            if r > 0:
                out.setdefault("the SDK alone (sync) floor", []).append([ns - b, b])
        for name, (call, fn, is_async) in calls().items():
            b = await bare(is_async)
            for mode in modes:
                stop = seawall.instrument() if mode == "api" else seawall.instrument(**sdk) if mode == "sdk" else (lambda: None)  # type: ignore[arg-type]
                ns = await per_call(call, fn, is_async)
                stop()
                if r > 0:  # round 0 warms up
                    out.setdefault(f"{name} {mode}", []).append([ns - b, b])
    return out


def median(rows: List[List[float]]) -> List[float]:
    return sorted(rows, key=lambda x: x[0])[len(rows) // 2]


def main() -> None:
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(asyncio.run(run(["off"]))))
        return
    before = os.environ.get("SEAWALL_BEFORE")
    results: Dict[str, List[List[float]]] = {}
    for _ in range(3 if before else 1):
        for k, v in asyncio.run(run(["off", "api", "sdk"])).items():
            results.setdefault(k, []).extend(v)
        if before:
            env = {**os.environ, "PYTHONPATH": before}
            child = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True, check=True)
            for k, v in json.loads(child.stdout).items():
                results.setdefault(k.replace(" off", " before"), []).extend(v)
    print(f"Python {sys.version.split()[0]}, {N} calls × {ROUNDS} rounds; overhead over a bare call (ns, median); a call's time against the same call off")
    ns, _b = median(results["the SDK alone (sync) floor"])
    print(f"{'the SDK alone: a span, a counter, a histogram':<38} {ns:9.1f} ns  (the floor under SDK, per call)")
    for name in calls():
        off = median(results[f"{name} off"])
        for mode in ("before", "off", "api", "sdk"):
            rows = results.get(f"{name} {mode}")
            if rows is None:
                continue
            ns, b = median(rows)
            label = {"api": "API, no SDK", "sdk": "SDK"}.get(mode, mode)
            print(f"{name + ' ' + label:<38} {ns:9.1f} ns  {(b + ns) / (off[1] + off[0]):.2f}×")


if __name__ == "__main__":
    main()
