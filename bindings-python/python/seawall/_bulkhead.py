"""The bulkhead: at most ``max_concurrent`` calls at once, ``max_queue_size`` waiting, each for
at most ``queue_timeout`` seconds. The core admits, queues and hands over; this class parks the
waiting callers (tasks or threads) and always gives slots back — on errors, timeouts and
cancellation too."""
from __future__ import annotations

import asyncio
import json
import threading
import weakref
from typing import Any, Awaitable, Callable, Dict, Optional, TypeVar, Union

from . import _clock
from ._engine import engine, options_json
from ._errors import BulkheadRejectedError
from ._wrap import guard

T = TypeVar("T")


class _ThreadWaiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.permit: Optional[float] = None
        self.error: Optional[BaseException] = None

    def start(self, permit: float) -> None:
        self.permit = permit
        self.event.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.event.set()


class _TaskWaiter:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[float] = loop.create_future()

    def _set(self, fn: Callable[[], None]) -> None:
        if not self.future.done():
            fn()

    def start(self, permit: float) -> None:
        self.loop.call_soon_threadsafe(self._set, lambda: self.future.set_result(permit))

    def fail(self, error: BaseException) -> None:
        self.loop.call_soon_threadsafe(self._set, lambda: self.future.set_exception(error))


Waiter = Union[_ThreadWaiter, _TaskWaiter]
_registered: Dict[str, "Bulkhead"] = {}


class Bulkhead:
    def __init__(self, name: Optional[str] = None, *, max_concurrent: Optional[int] = None,
                 max_queue_size: Optional[int] = None, queue_timeout: Optional[float] = None,
                 on_reject: Optional[Callable[[str], None]] = None, **aliases: Any) -> None:
        opts = dict(max_concurrent=max_concurrent, max_queue_size=max_queue_size, queue_timeout=queue_timeout,
                    on_reject=on_reject, **aliases)
        self._h: int = engine.bulkhead_create(options_json(opts), True, name)
        self.name = name or f"bulkhead-{self._h}"
        self._on_reject = on_reject
        self._lock = threading.Lock()
        self._waiters: Dict[float, Waiter] = {}
        # Seed 003 spells the queue timeout `timeout` too; the core has checked whichever was given.
        self._queue_timeout: Optional[float] = queue_timeout if queue_timeout is not None else aliases.get("timeout")
        if name is not None:
            _registered[name] = self
        weakref.finalize(self, engine.bulkhead_drop, self._h)

    def _reject(self, reason: str, code: str) -> BulkheadRejectedError:
        if self._on_reject is not None:
            self._on_reject(reason)
        return BulkheadRejectedError(f"Bulkhead '{self.name}' rejected the call: {reason}", code, self.name)

    def _admit(self, make_waiter: Callable[[], Waiter]) -> Union[float, Waiter]:
        with self._lock:
            kind, value = engine.bulkhead_acquire(self._h, None)
            if kind == 0:
                return value
            if kind == 1:
                w = make_waiter()
                self._waiters[value] = w
                w.ticket = value  # type: ignore[union-attr]
                return w
        if value == 0:
            raise self._reject("every slot is busy", "BULKHEAD_FULL")
        raise self._reject("every slot is busy and the queue is full", "BULKHEAD_QUEUE_FULL")

    def _release(self, permit: float) -> None:
        with self._lock:
            ticket, next_permit = engine.bulkhead_release(self._h, permit, None)
            self._expire_locked()
            if ticket > 0:
                w = self._waiters.pop(ticket, None)
                if w is not None:
                    w.start(next_permit)

    def _expire_locked(self) -> None:
        if not self._waiters:
            return
        for t in engine.bulkhead_expire(self._h, None):
            w = self._waiters.pop(t, None)
            if w is not None:
                w.fail(self._reject("waited too long in the queue", "BULKHEAD_QUEUE_TIMEOUT"))

    def _give_up(self, ticket: float) -> None:
        """A waiter stopped waiting (cancelled, or its wait ran out): expire or cancel its ticket."""
        with self._lock:
            self._expire_locked()
            if self._waiters.pop(ticket, None) is not None:
                engine.bulkhead_cancel(self._h, ticket)

    async def call_async(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        admitted = self._admit(lambda: _TaskWaiter(asyncio.get_running_loop()))
        if isinstance(admitted, float):
            permit = admitted
        else:
            waiter = admitted
            assert isinstance(waiter, _TaskWaiter)
            try:
                if self._queue_timeout is not None:
                    clock = _clock.virtual()
                    if clock is None:
                        permit = await asyncio.wait_for(asyncio.shield(waiter.future), self._queue_timeout)
                    else:
                        cancel = clock.call_later(self._queue_timeout, lambda: self._give_up(waiter.ticket))  # type: ignore[attr-defined]
                        try:
                            permit = await waiter.future
                        finally:
                            cancel()
                else:
                    permit = await waiter.future
            except asyncio.TimeoutError:
                self._give_up(waiter.ticket)  # type: ignore[attr-defined]
                if waiter.future.done() and not waiter.future.cancelled() and waiter.future.exception() is None:
                    permit = waiter.future.result()  # started just in time
                else:
                    raise self._reject("waited too long in the queue", "BULKHEAD_QUEUE_TIMEOUT") from None
            except BaseException:
                self._give_up(waiter.ticket)  # type: ignore[attr-defined]
                if waiter.future.done() and not waiter.future.cancelled() and waiter.future.exception() is None:
                    self._release(waiter.future.result())
                raise
        try:
            return await fn(*args, **kwargs)
        finally:
            self._release(permit)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        admitted = self._admit(_ThreadWaiter)
        if isinstance(admitted, float):
            permit = admitted
        else:
            waiter = admitted
            assert isinstance(waiter, _ThreadWaiter)
            if not waiter.event.wait(self._queue_timeout):
                self._give_up(waiter.ticket)  # type: ignore[attr-defined]
            if waiter.permit is None:
                raise waiter.error or self._reject("waited too long in the queue", "BULKHEAD_QUEUE_TIMEOUT")
            permit = waiter.permit
        try:
            return fn(*args, **kwargs)
        finally:
            self._release(permit)

    def metrics(self) -> Dict[str, Any]:
        m = json.loads(engine.bulkhead_metrics(self._h))
        return {"name": self.name, **{"".join("_" + c.lower() if c.isupper() else c for c in k): v for k, v in m.items()}}

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@bulkhead``: bounds a sync or async function."""
        return guard(fn, self.call, self.call_async)
