"""Time for the shell: the host's monotonic clock (read by the engine itself on hot paths) and
real sleeps by default; a virtual clock in tests, so that retries, backoff sleeps, timeouts and
open periods take no time (stamina's ``set_testing``)."""
from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from typing import Callable, Iterator, Optional

from ._engine import argument_error, engine, finite_number


def _step(seconds: float) -> float:
    """Time goes one way: a negative or non-finite step is the caller's mistake, not a no-op."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (math.isfinite(seconds) and seconds >= 0):
        raise argument_error(advance=seconds)
    return float(seconds)

NAN = math.nan


class VirtualClock:
    """A clock that moves only when told to (``advance``) or, with ``auto_advance`` (the
    default), whenever code sleeps on it. Times are seconds."""

    def __init__(self, start: float = 0.0, auto_advance: bool = True) -> None:
        start = finite_number("start", start)
        if math.isnan(start):  # None: the default
            start = 0.0
        if not isinstance(auto_advance, bool):
            raise argument_error(auto_advance=auto_advance)
        self.__now = start
        self.auto_advance = auto_advance
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.__now

    @property
    def _now(self) -> float:
        return self.__now

    @_now.setter
    def _now(self, value: float) -> None:
        self.__now = value
        # The engine reads the clock itself on hot paths: keep it on virtual time while installed.
        if _virtual is self:
            engine.set_manual_clock(value * 1000.0)

    def call_later(self, delay: float, fn: Callable[[], None]) -> Callable[[], None]:
        entry = [self._now + max(0.0, delay), next(self._seq), fn]
        heapq.heappush(self._timers, entry)  # type: ignore[arg-type]

        def cancel() -> None:
            entry[2] = None  # type: ignore[call-overload]
        return cancel

    def _fire_until(self, until: float) -> None:
        while self._timers and self._timers[0][0] <= until:
            at, _, fn = heapq.heappop(self._timers)
            self._now = max(self._now, at)
            if fn is not None:
                fn()
        self._now = max(self._now, until)

    def advance(self, seconds: float) -> None:
        """Moves time forward, firing due timers in order."""
        self._fire_until(self._now + _step(seconds))

    async def advance_async(self, seconds: float) -> None:
        """Like ``advance``, letting tasks run between timers."""
        until = self._now + _step(seconds)
        while True:
            await asyncio.sleep(0)
            if not self._timers or self._timers[0][0] > until:
                break
            at, _, fn = heapq.heappop(self._timers)
            self._now = max(self._now, at)
            if fn is not None:
                fn()
        # Never back: a sleep on the way may have jumped past ``until`` (auto-advance).
        self._now = max(self._now, until)
        await asyncio.sleep(0)

    async def sleep(self, seconds: float) -> None:
        if self.auto_advance:
            self._fire_until(self._now + max(0.0, seconds))
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        cancel = self.call_later(seconds, lambda: fut.done() or fut.set_result(None))
        try:
            await fut
        finally:
            cancel()

    def sleep_sync(self, seconds: float) -> None:
        self._fire_until(self._now + max(0.0, seconds))


_virtual: Optional[VirtualClock] = None


def now() -> float:
    """The time in seconds on the clock in use. Engine calls pass no time at all: the engine
    reads the same clock (the host's, or the installed virtual one, which it is kept on)."""
    return float(engine.now()) / 1000.0


def precise_now() -> float:
    """The time to measure how long something took, as it is reported (a timeout's duration, a
    call's or an attempt's in telemetry), in seconds: the virtual clock's, else ``perf_counter``
    (the event loop's ``monotonic`` on Linux; ``monotonic`` ticks in 15.6 ms steps on Windows).
    The engine's host clock (``now``) ticks in steps of 1-4 ms: cheaper to read on every call,
    fine for open periods and deadlines, too coarse for a latency."""
    return time.perf_counter() if _virtual is None else _virtual.now()


async def sleep(seconds: float) -> None:
    if _virtual is None:
        await asyncio.sleep(seconds)
    else:
        await _virtual.sleep(seconds)


def call_later(seconds: float, fn: Callable[[], None]) -> Callable[[], None]:
    """Calls ``fn`` after ``seconds`` on the clock in use (in the running event loop); answers
    what cancels it."""
    if _virtual is not None:
        return _virtual.call_later(seconds, fn)
    return asyncio.get_running_loop().call_later(max(0.0, seconds), fn).cancel


def sleep_sync(seconds: float) -> None:
    if _virtual is None:
        time.sleep(seconds)
    else:
        _virtual.sleep_sync(seconds)


def virtual() -> Optional[VirtualClock]:
    return _virtual


def _install(clock: Optional[VirtualClock]) -> None:
    global _virtual
    _virtual = clock
    engine.set_manual_clock(None if clock is None else clock.now() * 1000.0)


def set_testing(enabled: bool = True, *, auto_advance: bool = True) -> Optional[VirtualClock]:
    """Installs (or removes) a virtual clock for the whole process; answers it."""
    _install(VirtualClock(auto_advance=auto_advance) if enabled else None)
    return _virtual


@contextlib.contextmanager
def virtual_clock(start: float = 0.0, auto_advance: bool = True) -> Iterator[VirtualClock]:
    """``with virtual_clock() as clock:`` — retries and open periods run instantly inside."""
    previous = _virtual
    clock = VirtualClock(start, auto_advance)
    _install(clock)
    try:
        yield clock
    finally:
        _install(previous)
