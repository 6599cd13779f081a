"""Memory of seed 001's per-call form: 1,000,000 ``await retry_with_backoff(fn, max_attempts=3)``
calls. Before issue 10 each call built a native policy. Prints RSS after warm-up and at the end;
exits 1 when it grew by more than 10 MB. Run: python bench/python/per_call_memory.py [calls]"""
import asyncio
import gc
import resource
import sys

import seawall

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
WARM = min(100_000, CALLS // 10)


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


async def work() -> int:
    return 1


async def main() -> int:
    total = 0
    warm = 0
    for i in range(CALLS):
        total += await seawall.retry_with_backoff(work, max_attempts=3, base_delay=0.5, max_delay=4.0)
        if i + 1 == WARM:
            gc.collect()
            warm = rss()
    gc.collect()
    end = rss()
    mb = lambda b: f"{b / 2**20:.1f}"  # noqa: E731
    print(f"retry_with_backoff per call, {CALLS} calls: RSS {mb(warm)} MB after {WARM} -> {mb(end)} MB at the end ({'+' if end >= warm else ''}{mb(end - warm)} MB)")
    assert total == CALLS
    return 1 if end - warm > 10 * 2**20 else 0


sys.exit(asyncio.run(main()))
