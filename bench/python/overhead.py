"""Guarded-call overhead in Python, Seawall side by side with aiobreaker, purgatory, pybreaker,
tenacity and stamina from PyPI, in one process. Overhead = time per call minus a bare call.
Not a test: it prints a table. Run: make bench-python."""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
import warnings
from typing import Callable, Dict, List, Tuple

warnings.filterwarnings("ignore")

import aiobreaker  # noqa: E402
import pybreaker  # noqa: E402
import stamina  # noqa: E402
import tenacity  # noqa: E402
from purgatory import AsyncCircuitBreakerFactory  # noqa: E402

import seawall  # noqa: E402

N = 50_000
ROUNDS = 7


async def work() -> int:
    return 1


def work_sync() -> int:
    return 1


async def measure_async(call, n: int = N) -> float:
    for _ in range(2_000):
        await call()
    runs = []
    for _ in range(ROUNDS):
        t = time.perf_counter_ns()
        for _ in range(n):
            await call()
        runs.append((time.perf_counter_ns() - t) / n)
    return statistics.median(runs)


async def interleaved_async(cases, n: int = N) -> dict:
    """Median ns per call of each case, measured in turn within every round, so that the
    machine's drifts (this one is noisy) fall on every case alike."""
    for call in cases.values():
        for _ in range(2_000):
            await call()
    runs = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, call in cases.items():
            t = time.perf_counter_ns()
            for _ in range(n):
                await call()
            runs[name].append((time.perf_counter_ns() - t) / n)
    return {name: statistics.median(r) for name, r in runs.items()}


def measure_sync(call, n: int = N) -> float:
    for _ in range(2_000):
        call()
    runs = []
    for _ in range(ROUNDS):
        t = time.perf_counter_ns()
        for _ in range(n):
            call()
        runs.append((time.perf_counter_ns() - t) / n)
    return statistics.median(runs)


async def main() -> None:
    rows = []
    bare = await measure_async(work)

    sw = seawall.CircuitBreaker(failure_threshold=5)
    ai = aiobreaker.CircuitBreaker(fail_max=5)
    pf = AsyncCircuitBreakerFactory(default_threshold=5)
    pb = await pf.get_breaker("bench")

    async def purgatory_call() -> int:
        async with pb:
            return await work()

    async def seawall_ctx() -> int:
        async with sw:
            return await work()

    # The floor of any Python-level guard: a coroutine that only forwards the call.
    async def forward(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        return await fn(*args, **kwargs)

    @seawall.with_circuit_breaker(sw)
    async def decorated() -> int:
        return 1

    t = await interleaved_async({
        "bare": work,
        "floor": lambda: forward(work),
        "seawall": lambda: sw.call_async(work),
        "seawall_decorator": decorated,
        "seawall_ctx": seawall_ctx,
        "aiobreaker": lambda: ai.call_async(work),
        "purgatory": purgatory_call,
    })
    floor, s, s_dec, s_ctx, a, p = (t[k] - t["bare"] for k in ("floor", "seawall", "seawall_decorator", "seawall_ctx", "aiobreaker", "purgatory"))
    rows.append(("async breaker (call_async)", s, {"aiobreaker": a, "purgatory": p}))
    rows.append(("async breaker (@with_circuit_breaker(cb) on an async def)", s_dec, {"aiobreaker": a, "purgatory": p}))
    rows.append(("async breaker (async with)", s_ctx, {"aiobreaker": a, "purgatory": p}))
    rows.append(("a do-nothing async wrapper (the floor of any Python-level guard)", floor, {"aiobreaker": a, "purgatory": p}))

    bare_sync = measure_sync(work_sync)
    sws = seawall.CircuitBreaker(failure_threshold=5)
    pyb = pybreaker.CircuitBreaker(fail_max=5)
    rows.append(("sync breaker", measure_sync(lambda: sws.call(work_sync)) - bare_sync,
                 {"pybreaker": measure_sync(lambda: pyb.call(work_sync)) - bare_sync}))

    policy = seawall.RetryPolicy(max_attempts=3)

    @tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_exponential_jitter())
    async def t_work() -> int:
        return 1

    @stamina.retry(on=Exception, attempts=3)
    async def st_work() -> int:
        return 1

    n = 20_000
    bare_n = await measure_async(work, n)
    rows.append(("async retry, no failures", await measure_async(lambda: policy.call_async(work), n) - bare_n,
                 {"tenacity": await measure_async(t_work, n) - bare_n, "stamina": await measure_async(st_work, n) - bare_n}))

    # Seed 001's own form: options inline, per call, against tenacity's decorator built once.
    rows.append(("seed 001: await retry_with_backoff(fn, max_attempts=3, base_delay=0.5, max_delay=4.0) per call",
                 await measure_async(lambda: seawall.retry_with_backoff(work, max_attempts=3, base_delay=0.5, max_delay=4.0), n) - bare_n,
                 {"tenacity": await measure_async(t_work, n) - bare_n, "stamina": await measure_async(st_work, n) - bare_n}))

    # Fleet mode (issue 12: the call path with fleet mode on ≤ 1.2× off): the same breaker with
    # its Redis sync every 250 ms in a background thread, against a real redis-server started here.
    fleet_line = fleet_overhead(bare)
    print(f"CPython {sys.version.split()[0]}; bare await {bare:.0f} ns, bare call {bare_sync:.0f} ns; ns of overhead per call (median of {ROUNDS} rounds)")
    print("| scenario | Seawall | peers | Seawall ÷ best peer |")
    print("|---|---:|---|---:|")
    for name, ours, peers in rows:
        best = min(peers.values())
        peers_text = ", ".join(f"{k} {v:.0f}" for k, v in peers.items())
        print(f"| {name} | {ours:.0f} | {peers_text} | {ours / best:.2f}× |")
    print(f"- against the floor (a do-nothing forwarding coroutine, {floor:.0f} ns): call_async {s / floor:.2f}×, the decorator {s_dec / floor:.2f}×")
    print(fleet_line)


def fleet_overhead(_bare: float) -> str:
    import os

    import redis

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings-python", "tests"))
    from redis_server import RedisServer

    server = RedisServer()
    try:
        client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=0.25)
        off = seawall.CircuitBreaker("bench-fleet-off", failure_threshold=5)
        on = seawall.CircuitBreaker("bench-fleet-on", failure_threshold=5, fleet=seawall.Fleet(client))
        bare_sync = measure_sync(work_sync)

        def off_on(off_call: Callable[[], object], on_call: Callable[[], object]) -> Tuple[float, float]:
            """Median overhead of each, in three interleaved rounds (the machine's drift falls on both alike)."""
            runs: Dict[str, List[float]] = {"off": [], "on": []}
            for _ in range(3):
                runs["off"].append(measure_sync(off_call) - bare_sync)
                runs["on"].append(measure_sync(on_call) - bare_sync)
            return statistics.median(runs["off"]), statistics.median(runs["on"])

        o, f = off_on(lambda: off.call(work_sync), lambda: on.call(work_sync))
        st = on.stats["fleet"]
        on.leave_fleet()
        # The same for a rate limiter (a limit no call reaches: the cost of the share, not refusals).
        quota_off = seawall.RateLimiter("bench-quota-off", limit=10**9)
        quota_on = seawall.RateLimiter("bench-quota-on", limit=10**9, fleet=seawall.Fleet(client))
        quota_on.sync_fleet()
        qo, qf = off_on(lambda: quota_off.call(work_sync), lambda: quota_on.call(work_sync))
        qs = quota_on.stats()
        quota_on.leave_fleet()
        return (f"- fleet mode (sync breaker, {st['syncs']} Redis syncs in the background, {st['mode']}): "
                f"{f:.0f} ns on vs {o:.0f} ns off: {f / o:.2f}×\n"
                f"- fleet mode (rate limiter, {qs['fleet']['syncs']} Redis syncs in the background, "
                f"{qs['fleet']['mode']}, {qs['refused']} refused): {qf:.0f} ns on vs {qo:.0f} ns off: {qf / qo:.2f}×")
    finally:
        server.stop()


asyncio.run(main())
