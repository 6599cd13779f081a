"""Soak: a long asyncio run of mixed calls through bulkhead -> retry -> breaker (with a
per-attempt timeout) -> a coroutine that succeeds, fails, hangs until the timeout, or whose
task is cancelled at a random moment (queued, running, or sleeping between retries). Failure
bursts open the breaker; fan-outs overfill the bulkhead.

Afterwards nothing may be held: the bulkhead has no active or queued call, the breaker no call
in flight and no half-open permit, the registries hold only the names this run made, no task or
timer of the run is left, and every call ended exactly once with a result or a typed error.
RSS is sampled after warm-up and at the end.

Run: python bench/python/soak.py [calls]  (1,000,000 by default; exits 1 on a leak, or when RSS
grew by more than 10 MB). tests/test_soak.py runs 20,000 calls of it.
"""
from __future__ import annotations

import asyncio
import gc
import random
import resource
import sys
import time
from typing import Any, Dict, List

import seawall
from seawall import Bulkhead, BulkheadRejectedError, CircuitBreaker, CircuitBreakerError, RetryPolicy


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


class Upstream503(Exception):
    pass


def pending_timers(loop: asyncio.AbstractEventLoop) -> int:
    # The loop's own heap of timers (asyncio's base loop; uvloop is not used here).
    return sum(1 for h in getattr(loop, "_scheduled", []) if not h.cancelled())


async def soak(calls: int = 20_000, concurrency: int = 40, seed: int = 7, name: str = "soak") -> Dict[str, Any]:
    rnd = random.Random(seed)
    loop = asyncio.get_running_loop()
    timers_before = pending_timers(loop)
    tasks_before = len(asyncio.all_tasks())
    cb = CircuitBreaker(name, failure_threshold=10, recovery_timeout=0.005, half_open_max_calls=2, timeout=0.003)
    bh = Bulkhead(name, max_concurrent=32, max_queue_size=16)
    retry = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0.001, circuit_breaker=cb, name=name)
    ended: Dict[str, Any] = dict(ok=0, failed=0, timed_out=0, cancelled=0, breaker_open=0, bulkhead_full=0)
    other: List[BaseException] = []
    opened = [0]
    unsubscribe = cb.add_listener(lambda _old, new: opened.__setitem__(0, opened[0] + (new == "OPEN")))
    state = dict(burst=0, started=0, warm_rss=0, warm_at=min(100_000, calls // 10))

    def work(kind: str):
        async def run() -> str:
            if kind == "ok":
                if rnd.random() < 0.5:
                    await asyncio.sleep(0)
                return "ok"
            if kind == "fail":
                raise Upstream503("upstream 503")
            await asyncio.Event().wait()  # hangs until the timeout cancels it
            return "never"
        return run

    async def call(kind: str) -> None:
        await bh.call_async(retry.call_async, work(kind))

    async def one() -> None:
        # Now and then a fan-out of 8 at once: more than the bulkhead's free room.
        if rnd.random() < 0.01 and state["started"] + 8 <= calls:
            state["started"] += 8
            await asyncio.gather(*(one() for _ in range(8)))
        if state["burst"] == 0 and rnd.random() < 0.0005:
            state["burst"] = 60
        r = rnd.random()
        if state["burst"] > 0:
            state["burst"] -= 1
            kind = "fail"
        else:
            kind = "ok" if r < 0.9 else "fail" if r < 0.95 else "hang"
        cancel = rnd.random() < 0.1
        try:
            if cancel:
                # Cancelled at a random moment: at once, after a loop turn, or after a few ms.
                task = asyncio.ensure_future(call(kind))
                when = rnd.random()
                if when < 0.3:
                    loop.call_soon(task.cancel)
                else:
                    loop.call_later(when * 0.006, task.cancel)
                await task
            else:
                await call(kind)
            ended["ok"] += 1
        except asyncio.CancelledError:
            if not cancel:
                raise
            ended["cancelled"] += 1
        except BulkheadRejectedError:
            ended["bulkhead_full"] += 1
        except CircuitBreakerError:
            ended["breaker_open"] += 1
        except seawall.TimeoutError:
            ended["timed_out"] += 1
        except Upstream503:
            ended["failed"] += 1
        except Exception as exc:  # noqa: BLE001 - anything else is a finding
            other.append(exc)

    async def lane() -> None:
        while state["started"] < calls:
            state["started"] += 1
            before = ended["bulkhead_full"] + ended["breaker_open"]
            await one()
            if ended["bulkhead_full"] + ended["breaker_open"] > before:
                # A refused client comes back a little later, not in a spin.
                await asyncio.sleep(0.001)
            if not state["warm_rss"] and state["started"] >= state["warm_at"]:
                gc.collect()
                state["warm_rss"] = rss()

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    # Let the cancellations scheduled for calls that already ended fire.
    for _ in range(100):
        if pending_timers(loop) <= timers_before:
            break
        await asyncio.sleep(0.002)
    await asyncio.sleep(0)
    unsubscribe()

    leaks: List[str] = []
    total = sum(ended.values()) + len(other)
    if total != calls:
        leaks.append(f"{calls} calls, {total} ended")
    if other:
        leaks.append("untyped errors: " + "; ".join(repr(e) for e in other[:3]))
    m = bh.metrics()
    if m["active"] or m["queued"]:
        leaks.append(f"bulkhead holds active={m['active']} queued={m['queued']}")
    st = cb.stats
    if st["in_flight"] or st["half_open_in_flight"]:
        leaks.append(f"breaker holds in_flight={st['in_flight']} half_open_in_flight={st['half_open_in_flight']}")
    # A breaker left half-open with its probes lost would refuse forever: it must take a call.
    await asyncio.sleep(0.01)

    async def probe() -> str:
        return "probe"

    try:
        await cb.call_async(probe)
    except Exception as exc:  # noqa: BLE001
        leaks.append(f"breaker refuses after the run: {exc!r}")
    names = [b.name for b in seawall.circuit_breaker_registry.get_all() if b.name.startswith(name)]
    if names != [name]:
        leaks.append(f"breaker registry: {names}")
    if pending_timers(loop) > timers_before:
        leaks.append(f"{pending_timers(loop) - timers_before} timers pending")
    if len(asyncio.all_tasks()) > tasks_before:
        leaks.append(f"{len(asyncio.all_tasks()) - tasks_before} tasks left")
    gc.collect()
    return dict(ended=dict(ended, other=len(other)), opened=opened[0], stats=st, metrics=m, leaks=leaks,
                warm_rss=state["warm_rss"], end_rss=rss(), warm_at=state["warm_at"])


def main() -> int:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    t = time.perf_counter()
    r = asyncio.run(soak(calls))
    mb = lambda b: f"{b / 2**20:.1f}"  # noqa: E731
    grew = r["end_rss"] - r["warm_rss"]
    print(f"soak (python): {calls} calls in {time.perf_counter() - t:.1f} s: {r['ended']}")
    print(f"breaker: {r['stats']['total_calls']} calls, opened {r['opened']} times, {r['stats']['rejected_calls']} rejected; "
          f"bulkhead: {r['metrics']['rejected']} rejected, {r['metrics']['cancelled']} cancelled")
    print(f"RSS {mb(r['warm_rss'])} MB after {r['warm_at']} calls -> {mb(r['end_rss'])} MB at the end ({'+' if grew >= 0 else ''}{mb(grew)} MB)")
    print("nothing held" if not r["leaks"] else "LEAKS: " + "; ".join(r["leaks"]))
    return 1 if r["leaks"] or grew > 10 * 2**20 else 0


if __name__ == "__main__":
    sys.exit(main())
