"""Hedged calls: when an attempt is slow, start another and take the first acceptable answer
(Polly v8's hedging, gRPC's hedging policy, Finagle's backup requests). The core decides when
each attempt starts, whether the extra-load budget and the throttle allow it, which attempt won
and when the call has failed (core/src/hedge.rs); this shell runs each attempt as a task, wakes
up at the core's deadlines and cancels the losers — and waits for them to end before the call
returns, so that nothing of a call runs after it. Durations are seconds."""
from __future__ import annotations

import asyncio
import collections
import inspect
import json
import math
import weakref
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Tuple, Type, Union

from . import _clock
from ._engine import argument_error, engine, option_error, options_json, snake
from ._retry import PolicyCache, classify_outcome, error_facts
from ._telemetry import listening, observed, report

ExceptionTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]

# Outcome codes the core takes (core/src/hedge.rs `AttemptOutcome`).
_SUCCESS, _FAILURE, _FATAL, _CANCELLED = 0, 1, 2, 3
_ATTEMPT_OUTCOMES = {"success": _SUCCESS, "failure": _FAILURE, "fatal": _FATAL, "cancelled": _CANCELLED}


def _takes_attempt(fn: Callable[..., Any], given: int) -> bool:
    """Whether ``fn`` takes the attempt number besides the ``given`` positional arguments: a
    function of no more parameters (``lambda: client.get(url)``) is called without it."""
    code = getattr(fn, "__code__", None)
    if code is not None:
        if code.co_flags & inspect.CO_VARARGS:
            return True
        bound = 1 if inspect.ismethod(fn) else 0
        return bool(code.co_argcount - bound > given)
    try:
        inspect.signature(fn).bind(0, *range(given))
        return True
    except (TypeError, ValueError):
        return False


@observed("hedge", lambda p: p._name, None, ("call_async",))
class HedgePolicy:
    """``HedgePolicy(delay=0.05)``: hedges calls made through it (``await policy.call_async(fn)``).
    Its budget, throttle and recent latencies are shared by those calls.

    ``max_attempts`` (default 2, at most 10, the first included); ``delay`` seconds between
    attempts while none answered (default 2; 0: all at once); ``mode="fallback"``: the next only
    after one failed; ``percentile=95``: the delay from recent primary latencies (``window``
    seconds, default 30), ``delay`` until they are known; ``budget`` (``ratio`` per call,
    ``min_retries_per_second``, ``max_tokens``) and ``throttle`` (``max_tokens`` 10,
    ``token_ratio`` 0.1), or False; ``retry_on`` / ``retry_if``: the errors after which another
    attempt may help; ``retry_on_result``: a result it answers true for is a failed attempt;
    ``on_hedge(attempt)``: called as each attempt after the first starts."""

    def __init__(
        self,
        name: Optional[str] = None,
        *,
        max_attempts: Optional[int] = None,
        delay: Optional[float] = None,
        mode: Optional[str] = None,
        percentile: Optional[float] = None,
        window: Optional[float] = None,
        budget: Union[Dict[str, Any], bool, None] = None,
        throttle: Union[Dict[str, Any], bool, None] = None,
        retry_on: Optional[ExceptionTypes] = None,
        retry_if: Optional[Callable[[BaseException], bool]] = None,
        retry_on_result: Optional[Callable[[Any], bool]] = None,
        on_hedge: Optional[Callable[[int], None]] = None,
        **options: Any,
    ) -> None:
        if retry_if is not None and not callable(retry_if):
            raise option_error("retry_if", "a function", retry_if)
        if retry_on is not None and not (isinstance(retry_on, type) or (isinstance(retry_on, tuple) and all(isinstance(t, type) for t in retry_on))):
            raise option_error("retry_on", "an exception class or a tuple of them", retry_on)
        opts: Dict[str, Any] = dict(name=name, max_attempts=max_attempts, delay=delay, mode=mode, percentile=percentile, window=window,
                                    budget=budget, throttle=throttle, retry_on=retry_on, retry_on_result=retry_on_result, on_hedge=on_hedge,
                                    **options)
        self._h: int = engine.hedge_policy_create(options_json(opts), True, None)
        weakref.finalize(self, engine.hedge_policy_drop, self._h)
        self._name = name
        self._retry_on: Tuple[Type[BaseException], ...] = retry_on if isinstance(retry_on, tuple) else ((retry_on,) if retry_on else (Exception,))
        self._retry_if = retry_if
        self._rejects = retry_on_result
        self._on_hedge = on_hedge

    @property
    def name(self) -> Optional[str]:
        return self._name

    def _outcome(self, exc: BaseException) -> int:
        """A failed attempt's outcome: the core's classification (the retries' rules; a policy's
        refusal is a failed attempt), with this policy's filters."""
        facts = error_facts(exc)
        facts["filter"] = isinstance(exc, self._retry_on) and (self._retry_if is None or bool(self._retry_if(exc)))
        return _ATTEMPT_OUTCOMES[classify_outcome(facts)["attempt"]]

    async def call_async(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Runs ``fn`` (given the attempt number first, 0 for the primary, when it takes it) as
        hedged attempts: the first acceptable answer is the call's, every other attempt is
        cancelled and has ended before this returns. When every attempt failed, raises the
        primary's error (``hedged_errors``: the others'); an error no attempt can help with (one
        a retry would not retry, such as a 400) is raised at once."""
        if not callable(fn):
            raise argument_error(fn=fn)
        return await _Run(self, fn, args, kwargs, _takes_attempt(fn, len(args))).run()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Hedging runs attempts side by side and cancels the losers: it needs tasks, not
        threads (a thread cannot be cancelled). Use ``call_async``."""
        err = TypeError("invalid option fn: hedging needs an async function (attempts run as tasks and the losers are cancelled); use call_async")
        err.code, err.option, err.value = "INVALID_OPTION", "fn", repr(fn)  # type: ignore[attr-defined]
        raise err

    def stats(self) -> Dict[str, Any]:
        """``calls``, ``hedges`` (attempts besides the first), ``hedge_wins``, ``budget_refused``,
        ``throttle_refused``, ``delay`` (seconds, the percentile's once known) and the budget's and
        throttle's tokens."""
        s = json.loads(engine.hedge_stats(self._h, None))
        s["delay"] = s.pop("delayMs") / 1000.0
        return {"name": self._name, **{snake(k): v for k, v in s.items()}}


class _Run:
    """One hedged call as it runs: it does what the core's steps say (start an attempt, wait for
    a deadline or an attempt, end) and reports each attempt's end."""

    __slots__ = ("policy", "fn", "args", "kwargs", "takes_attempt", "tasks", "settled", "wake")

    def __init__(self, policy: HedgePolicy, fn: Callable[..., Any], args: Any, kwargs: Any, takes_attempt: bool) -> None:
        self.policy, self.fn, self.args, self.kwargs, self.takes_attempt = policy, fn, args, kwargs, takes_attempt
        self.tasks: List[asyncio.Task[Any]] = []
        self.settled: Deque[int] = collections.deque()
        self.wake: Optional[asyncio.Future[None]] = None

    async def _attempt(self, k: int) -> Any:
        result = self.fn(k, *self.args, **self.kwargs) if self.takes_attempt else self.fn(*self.args, **self.kwargs)
        return (await result) if inspect.isawaitable(result) else result

    def _launch(self, k: int) -> None:
        p = self.policy
        if k > 0:
            if listening("hedge.launched"):
                report("hedge.launched", policy=p._name, attempt=k)
            if p._on_hedge is not None:
                p._on_hedge(k)
        task = asyncio.ensure_future(self._attempt(k))
        self.tasks.append(task)
        task.add_done_callback(lambda _t: self._notify(k))

    def _notify(self, k: int) -> None:
        self.settled.append(k)
        self._poke()

    def _poke(self) -> None:
        w = self.wake
        if w is not None and not w.done():
            w.set_result(None)

    def _outcome(self, task: "asyncio.Task[Any]") -> int:
        if task.cancelled():
            return _CANCELLED
        exc = task.exception()
        if exc is not None:
            return self.policy._outcome(exc)
        rejects = self.policy._rejects
        return _FAILURE if rejects is not None and rejects(task.result()) else _SUCCESS

    async def run(self) -> Any:
        h = self.policy._h
        loop = asyncio.get_running_loop()
        call = engine.hedge_start(h, None)
        cancel_timer: Optional[Callable[[], None]] = None
        timer_at = math.nan
        try:
            self._launch(0)
            step = engine.hedge_step(call, None)
            while True:
                if step <= -11:
                    return await self._end(step)
                if step < 0:
                    self._launch(int(-1 - step))
                    step = engine.hedge_step(call, None)
                    continue
                if not self.settled:
                    if step != timer_at:
                        if cancel_timer is not None:
                            cancel_timer()
                        cancel_timer = _clock.call_later((step - engine.now()) / 1000.0, self._poke) if math.isfinite(step) else None
                        timer_at = step
                    self.wake = loop.create_future()
                    await self.wake
                    self.wake = None
                if self.settled:
                    k = self.settled.popleft()
                    step = engine.hedge_settle(call, k, self._outcome(self.tasks[k]), None)
                else:
                    # The timer fired.
                    cancel_timer, timer_at = None, math.nan
                    step = engine.hedge_step(call, None)
        except BaseException:
            # The caller gave up (cancelled), or a hook raised: the call ends, every attempt is
            # cancelled and ended first.
            engine.hedge_end(call)
            await self._cancel_others(None)
            raise
        finally:
            if cancel_timer is not None:
                cancel_timer()

    async def _end(self, step: float) -> Any:
        """Won or failed (the core freed the call): the others are cancelled and awaited."""
        failed = step <= -21
        k = int(-21 - step if failed else -11 - step)
        done = self.tasks[k]
        await self._cancel_others(done)
        exc = None if done.cancelled() else done.exception()
        if not failed or exc is None:
            return done.result()
        others = [t.exception() for t in self.tasks if t is not done and not t.cancelled() and t.exception() is not None]
        exc.hedged_errors = others  # type: ignore[attr-defined]
        raise exc

    async def _cancel_others(self, keep: "Optional[asyncio.Task[Any]]") -> None:
        """Cancels every attempt but ``keep`` still running and waits until each has ended, even
        if this task is cancelled meanwhile (that cancellation is raised after)."""
        running = [t for t in self.tasks if t is not keep and not t.done()]
        for t in running:
            t.cancel()
        cancelled = False
        while running:
            try:
                await asyncio.wait(running)
            except asyncio.CancelledError:
                cancelled = True
            running = [t for t in running if not t.done()]
        for t in self.tasks:
            if t is not keep and t.done() and not t.cancelled():
                t.exception()  # retrieved: a loser's error is not "never retrieved"
        if cancelled:
            raise asyncio.CancelledError


_policies = PolicyCache(lambda options: HedgePolicy(**options))


def hedge(fn: Callable[..., Awaitable[Any]], /, **options: Any) -> Awaitable[Any]:
    """``await hedge(lambda attempt: client.get(url), delay=0.05)``: runs ``fn``, starting another
    attempt each ``delay`` while none has answered; the first acceptable answer wins. Keyword
    options as for ``HedgePolicy``; equal options share one policy (its budget, throttle and
    latencies): give each backend its own ``name``, or keep a ``HedgePolicy``."""
    return _policies.get(options).call_async(fn)
