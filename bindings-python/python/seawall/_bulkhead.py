"""The bulkhead: at most ``max_concurrent`` calls at once, ``max_queue_size`` waiting, each for
at most ``queue_timeout`` seconds. The core admits, queues and hands over; this class parks the
waiting callers (tasks or threads) and always gives slots back — on errors, timeouts and
cancellation too."""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import threading
import weakref
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, TypeVar, Union

from . import _clock
from ._engine import argument_error, checked_instance, coroutine_function_error, engine, options_json, snake
from ._errors import BulkheadRejectedError
from ._telemetry import listening, observed, report
from ._wrap import F, discard, guard, is_awaitable

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
    """A task parked in the queue. ``permit`` (or ``error``) is set under the bulkhead's lock as
    the slot is handed over (or the wait fails); the future only wakes the task. So a task
    cancelled in the same tick as the hand-over still finds the slot it owns, and gives it back."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.permit: Optional[float] = None
        self.error: Optional[BaseException] = None

    def _wake(self) -> None:
        if not self.future.done():
            self.future.set_result(None)

    def start(self, permit: float) -> None:
        self.permit = permit
        self.loop.call_soon_threadsafe(self._wake)

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.loop.call_soon_threadsafe(self._wake)


Waiter = Union[_ThreadWaiter, _TaskWaiter]
_registered: Dict[str, "Bulkhead"] = {}


@observed("bulkhead", lambda p: p.name)
class Bulkhead:
    def __init__(self, name: Optional[str] = None, *, max_concurrent: Optional[int] = None,
                 max_queue_size: Optional[int] = None, queue_timeout: Optional[float] = None,
                 on_reject: Optional[Callable[[str], None]] = None, **aliases: Any) -> None:
        checked_instance(name, "name", str, "a string")
        opts = dict(max_concurrent=max_concurrent, max_queue_size=max_queue_size, queue_timeout=queue_timeout,
                    on_reject=on_reject, **aliases)
        self._h: int = engine.bulkhead_create(options_json(opts), True, name)
        self.name = name or f"bulkhead-{self._h}"
        self._on_reject = on_reject
        self._lock = threading.Lock()
        self._waiters: Dict[float, Waiter] = {}
        # The queue timeout is also spelt `timeout`; the core has checked whichever was given.
        self._queue_timeout: Optional[float] = queue_timeout if queue_timeout is not None else aliases.get("timeout")
        # The slots of `with` / `async with` entries, on a stack per context: a task's or a
        # thread's entries are its own, and entries nest.
        self._held: contextvars.ContextVar[Tuple[float, ...]] = contextvars.ContextVar(f"seawall-slots-{self._h}", default=())
        if name is not None:
            _registered[name] = self
        weakref.finalize(self, engine.bulkhead_drop, self._h)

    def _reject(self, reason: str, code: str) -> BulkheadRejectedError:
        if self._on_reject is not None:
            self._on_reject(reason)
        if listening("call.rejected"):
            report("call.rejected", policy=self.name, by="bulkhead", code=code)
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
            raise self._reject("every slot is busy", "BULKHEAD_QUEUE_FULL")  # one code with or without a queue (what callers check)
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

    def _give_up(self, waiter: Waiter) -> Optional[float]:
        """A waiter stops waiting (cancelled, or its wait ran out). Answers the slot it was
        already handed (the caller must use or release it), or None after taking it out of the
        queue."""
        with self._lock:
            self._expire_locked()
            if self._waiters.pop(waiter.ticket, None) is not None:  # type: ignore[union-attr]
                engine.bulkhead_cancel(self._h, waiter.ticket)  # type: ignore[union-attr]
                return None
            return waiter.permit

    def _time_out(self, waiter: _TaskWaiter) -> None:
        """The queue timeout on a virtual clock: the waiter leaves the queue, rejected."""
        if self._give_up(waiter) is None and waiter.permit is None and waiter.error is None:
            waiter.fail(self._reject("waited too long in the queue", "BULKHEAD_QUEUE_TIMEOUT"))

    def _queue_rejection(self, waiter: Waiter) -> BaseException:
        return waiter.error or self._reject("waited too long in the queue", "BULKHEAD_QUEUE_TIMEOUT")

    async def call_async(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        if not callable(fn):
            raise argument_error(fn=fn)
        admitted = self._admit(lambda: _TaskWaiter(asyncio.get_running_loop()))
        # A free slot costs no extra coroutine; only a queued call awaits its turn.
        permit = admitted if type(admitted) is float else await self._queued(admitted)
        try:
            # A plain function's value is taken as its result, as `execute` does in Node.
            result = fn(*args, **kwargs)
            return (await result) if is_awaitable(result) else result
        finally:
            self._release(permit)

    async def _slot_async(self) -> float:
        """A slot (waiting in the queue if every slot is busy), for the caller to ``_release``."""
        admitted = self._admit(lambda: _TaskWaiter(asyncio.get_running_loop()))
        return admitted if type(admitted) is float else await self._queued(admitted)

    async def _queued(self, waiter: Any) -> float:
        """Waits in the queue for a slot; rejected when the queue timeout passes first."""
        assert isinstance(waiter, _TaskWaiter)
        try:
            if self._queue_timeout is not None:
                clock = _clock.virtual()
                if clock is None:
                    await asyncio.wait_for(asyncio.shield(waiter.future), self._queue_timeout)
                else:
                    cancel = clock.call_later(self._queue_timeout, lambda: self._time_out(waiter))  # type: ignore[attr-defined]
                    try:
                        await waiter.future
                    finally:
                        cancel()
            else:
                await waiter.future
        except asyncio.TimeoutError:
            pass  # the slot may have been handed over just in time: decided below
        except BaseException:
            handed = self._give_up(waiter)
            if handed is not None:
                self._release(handed)
            raise
        handed = self._give_up(waiter)
        if handed is None:
            raise self._queue_rejection(waiter) from None
        return handed

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs a sync ``fn`` in a slot (waiting in the queue if it is full); a function that
        answers an awaitable is refused (use ``call_async``)."""
        return self._call(fn, args, kwargs, False)  # type: ignore[no-any-return]

    def _call_either(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``call`` for a plain function that may answer an awaitable (decorators): for one, a
        coroutine that awaits it in the slot, which is released when it settles."""
        return self._call(fn, args, kwargs, True)

    def _call(self, fn: Callable[..., Any], args: Any, kwargs: Any, either: bool) -> Any:
        if not callable(fn):
            raise argument_error(fn=fn)
        if inspect.iscoroutinefunction(fn):
            if either:
                return self.call_async(fn, *args, **kwargs)
            raise coroutine_function_error(fn)
        admitted = self._admit(_ThreadWaiter)
        permit = admitted if type(admitted) is float else self._queued_sync(admitted)
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            self._release(permit)
            raise
        if is_awaitable(result):
            if either:
                return self._settle(permit, result)
            discard(result)
            self._release(permit)
            raise coroutine_function_error(fn)
        self._release(permit)
        return result

    def _slot(self) -> float:
        """A slot for a thread (blocking in the queue if every slot is busy), to ``_release``."""
        admitted = self._admit(_ThreadWaiter)
        return admitted if type(admitted) is float else self._queued_sync(admitted)

    def _queued_sync(self, waiter: Any) -> float:
        """``_queued`` for a thread: blocks in the queue for a slot. Refused on a thread running
        an event loop: blocking it would stop the tasks that would free a slot (a deadlock until
        the queue timeout, or for good without one)."""
        assert isinstance(waiter, _ThreadWaiter)
        if asyncio._get_running_loop() is not None:
            handed = self._give_up(waiter)
            if handed is not None:
                return handed
            raise TypeError(f"Bulkhead '{self.name}' is full and this thread runs an event loop, which waiting for a "
                            "slot would block: use call_async or async with")
        waiter.event.wait(self._queue_timeout)
        handed = self._give_up(waiter)
        if handed is None:
            raise self._queue_rejection(waiter)
        return handed

    async def _settle(self, permit: float, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        finally:
            self._release(permit)

    def __enter__(self) -> "Bulkhead":
        """``with bulkhead:`` holds a slot for the block (a thread waits in the queue for one)."""
        if asyncio._get_running_loop() is not None:
            # Waiting for a slot would block the loop, and with it the calls that would free one.
            raise TypeError(f"Bulkhead '{self.name}' entered with `with` on a thread running an event loop: use `async with`")
        self._hold(self._slot())
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self._let_go()

    async def __aenter__(self) -> "Bulkhead":
        """``async with bulkhead:`` holds a slot for the block (a task waits in the queue for one)."""
        self._hold(await self._slot_async())
        return self

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self._let_go()

    def _hold(self, slot: float) -> None:
        self._held.set(self._held.get() + (slot,))

    def _let_go(self) -> None:
        stack = self._held.get()
        self._held.set(stack[:-1])
        self._release(stack[-1])

    def metrics(self) -> Dict[str, Any]:
        m = json.loads(engine.bulkhead_metrics(self._h))
        return {"name": self.name, **{snake(k): v for k, v in m.items()}}

    def __call__(self, fn: F) -> F:
        """``@bulkhead``: bounds a sync or async function."""
        return guard(fn, self)
