"""Timeouts for coroutines: cancel the work when time is up and raise ``TimeoutError`` (with the
duration), or answer a fallback."""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Optional, TypeVar, Union, overload

from . import _clock, _native
from ._engine import argument_error, engine, options_json
from ._errors import TimeoutError
from ._telemetry import _observe, observer
from ._wrap import is_awaitable

T = TypeVar("T")
U = TypeVar("U")


def overran(started: float, seconds: float) -> Optional[TimeoutError]:
    """For a plain function that has answered (it could not be cut): the ``TimeoutError`` an
    awaited call would have got, if ``seconds`` passed since ``started`` (``precise_now``)."""
    took = _clock.precise_now() - started
    return TimeoutError(took) if took >= seconds else None


async def run_with_timeout(make: Callable[[], Awaitable[T]], seconds: float, name: Optional[str] = None) -> T:
    """Awaits ``make()``; cancels it and raises ``TimeoutError`` after ``seconds``. A plain
    function's value is taken as its result: it has run to its end and could not be cut, so one
    that answered after ``seconds`` fails then, as an awaited one would have."""
    clock = _clock.virtual()
    # The time that passed as the timer saw it (the engine's coarse clock reported 50 ms as 48).
    started = _clock.precise_now()
    made = make()
    if not is_awaitable(made):
        late = overran(started, seconds)
        if late is not None:
            if name is not None:
                engine.record_timeout(name)
            raise late
        return made  # type: ignore[return-value]
    if clock is None:
        task = asyncio.ensure_future(made)
        try:
            return await asyncio.wait_for(task, seconds)
        except asyncio.TimeoutError:
            if name is not None:
                engine.record_timeout(name)
            raise TimeoutError(_clock.precise_now() - started) from None
    # Virtual time: race the task against a virtual timer. A sleep that jumps past the deadline
    # wakes the timer and the task together: the timer, due first, wins (as in Node), so when the
    # task ended on the virtual clock is kept.
    ended_at: list = []

    async def timed() -> T:
        try:
            return await made  # type: ignore[no-any-return]
        finally:
            ended_at.append(clock.now())  # type: ignore[union-attr]

    task = asyncio.ensure_future(timed())
    loop = asyncio.get_running_loop()
    expired: asyncio.Future[None] = loop.create_future()
    deadline = clock.now() + seconds
    cancel = clock.call_later(seconds, lambda: expired.done() or expired.set_result(None))
    try:
        done, _ = await asyncio.wait({task, expired}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancel()
    if task in done and (expired not in done or ended_at[0] <= deadline):
        return task.result()
    task.cancel()
    try:
        await task
    except BaseException:  # noqa: BLE001 - the task was cancelled on purpose
        pass
    if name is not None:
        engine.record_timeout(name)
    raise TimeoutError(_clock.precise_now() - started)


@overload
async def with_timeout(fn: Callable[[], Awaitable[T]], timeout: float, *, fallback: None = None,
                       on_timeout: Optional[Callable[[float], None]] = None, name: Optional[str] = None) -> T: ...
@overload
async def with_timeout(fn: Callable[[], Awaitable[T]], timeout: float, *, fallback: Callable[[], Awaitable[U]],
                       on_timeout: Optional[Callable[[float], None]] = None, name: Optional[str] = None) -> Union[T, U]: ...
@overload
async def with_timeout(fn: Callable[[], Awaitable[T]], timeout: float, *, fallback: Callable[[], U],
                       on_timeout: Optional[Callable[[float], None]] = None, name: Optional[str] = None) -> Union[T, U]: ...
async def with_timeout(
    fn: Callable[[], Awaitable[T]],
    timeout: float,
    *,
    fallback: Optional[Callable[[], Any]] = None,
    on_timeout: Optional[Callable[[float], None]] = None,
    name: Optional[str] = None,
) -> Any:
    """``await with_timeout(lambda: fetch(), 5.0, fallback=lambda: "cached")``."""
    if not callable(fn):
        raise argument_error(fn=fn)
    _native.validate("timeout", options_json({"timeout": timeout, "fallback": fallback, "on_timeout": on_timeout, "name": name}), True)
    try:
        if observer.sink is not None:
            return await _observe("timeout", name, None, lambda: run_with_timeout(fn, timeout, name))
        return await run_with_timeout(fn, timeout, name)
    except TimeoutError as exc:
        if on_timeout is not None:
            on_timeout(exc.duration)
        if fallback is None:
            raise
        result = fallback()
        return await result if is_awaitable(result) else result
