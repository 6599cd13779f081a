"""What hedging costs per call when the primary answers before the hedge delay (the common
case), against a plain retry policy's call of the same coroutine function, measured in turn
within each round; the median of the rounds' per-call costs. The floors beside it: a retry call
that also reads the clock and looks up the running loop (what a hedged call needs besides: when
it began, to start the next attempt a delay later, and the loop whose timer wakes it and whose
task runs its primary, to interrupt it if another attempt wins); and a task made and awaited
(what running the primary as a task would cost). Not a test: it prints a table. Run: make
bench-hedge."""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

import seawall

N = int(os.environ.get("BENCH_N", 50_000))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 7))


async def work() -> int:
    return 1


async def main() -> None:
    retry = seawall.RetryPolicy(max_attempts=2)
    policy = seawall.HedgePolicy(delay=0.05, max_attempts=2)
    engine = seawall._engine.engine

    def with_clock_and_loop() -> Any:
        engine.now()
        asyncio.get_running_loop()
        return retry.call_async(work)

    cases: Dict[str, Callable[[], Any]] = {
        "bare await": work,
        "RetryPolicy.call_async (max_attempts=2)": lambda: retry.call_async(work),
        "floor: a retry call, a clock read, the running loop": with_clock_and_loop,
        "a task made and awaited": lambda: asyncio.ensure_future(work()),
        "HedgePolicy.call_async, primary answers first": lambda: policy.call_async(work),
        "hedge(fn, delay=0.05) inline options": lambda: seawall.hedge(work, delay=0.05),
    }
    per: Dict[str, List[float]] = {k: [] for k in cases}
    for r in range(ROUNDS + 1):
        for name, fn in cases.items():
            t = time.perf_counter_ns()
            for _ in range(N):
                await fn()
            if r > 0:
                per[name].append((time.perf_counter_ns() - t) / N)
    retry_ns = statistics.median(per["RetryPolicy.call_async (max_attempts=2)"])
    print(f"python {sys.version.split()[0]}, {N} calls x {ROUNDS} rounds (median ns per call)")
    for name in cases:
        ns = statistics.median(per[name])
        print(f"{name:<50} {ns:8.0f} ns  {ns / retry_ns:5.2f}x retry")
    if policy.stats()["hedges"] != 0:
        raise SystemExit("expected no hedges")


asyncio.run(main())
