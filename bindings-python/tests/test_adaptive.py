"""Adaptive limits on the client side: a bulkhead whose limit adapts (the core's adaptive limit
moved by each call's time in the bulkhead), on a virtual clock. As
bindings-node/test/adaptive.test.mjs."""
from __future__ import annotations

import asyncio

import pytest

from seawall import Bulkhead, virtual_clock


async def test_an_adaptive_bulkhead_rises_when_busy_and_falls_when_calls_are_slower_than_its_timeout() -> None:
    with virtual_clock(auto_advance=False) as clock:
        bh = Bulkhead("adaptive-bulkhead", max_queue_size=10,
                      adaptive={"algorithm": "aimd", "initial_limit": 2, "min_limit": 1, "max_limit": 4, "window_size": 1,
                                "min_window": 0.001, "max_window": 0.001, "timeout": 1.0})

        async def run(seconds: float) -> None:
            await bh.call_async(clock.sleep, seconds)

        assert bh.metrics()["max_concurrent"] == 2
        for _ in range(3):
            calls = [asyncio.ensure_future(run(0.01)) for _ in range(4)]
            for _ in range(4):
                for _ in range(5):
                    await asyncio.sleep(0)
                await clock.advance_async(0.01)
            await asyncio.gather(*calls)
        assert bh.metrics()["max_concurrent"] == 4, "busy windows added one each"
        slow = [asyncio.ensure_future(run(2.0)) for _ in range(2)]
        for _ in range(5):
            await asyncio.sleep(0)
        await clock.advance_async(2.0)
        await asyncio.gather(*slow)
        m = bh.metrics()
        assert m["max_concurrent"] < 4, m
        assert (m["active"], m["queued"]) == (0, 0)
        with pytest.raises(TypeError) as both:
            Bulkhead(adaptive="aimd", max_concurrent=5)
        assert both.value.option == "max_concurrent"  # type: ignore[attr-defined]
        with pytest.raises(ValueError) as bad:
            Bulkhead(adaptive="bbr")
        assert bad.value.option == "adaptive.algorithm"  # type: ignore[attr-defined]
