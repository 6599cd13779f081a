"""Hedged calls: when an attempt is slow, start another and take the first acceptable answer
(Polly v8's hedging, gRPC's hedging policy, Finagle's backup requests). The core decides when
each attempt starts, whether the extra-load budget and the throttle allow it, which attempt won
and when the call has failed (core/src/hedge.rs); this shell runs the primary in the caller's
task and each later attempt as a task, wakes up at the core's deadlines and cancels the losers —
and waits for them to end before the call returns, so that nothing of a call runs after it. A
call whose primary answers in time never asks the core: it is counted in a batch the core
receives before anything else is asked of the policy. Durations are seconds."""
from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import json
import math
import threading
import weakref
from types import MethodType
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union

from . import _clock, _native
from ._engine import argument_error, engine, option_error, options_json, snake
from ._retry import PolicyCache, classify_outcome, error_facts
from ._telemetry import listening, observed, report
from ._wrap import COROUTINE, is_awaitable

T = TypeVar("T")

ExceptionTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]

_CO_VARARGS = inspect.CO_VARARGS


# A wake-up at a deadline, until cancelled: a list ``[at, seq, fire, live, cancel, ...]``, which
# the heap compares by (at, seq) in C (an object with ``__lt__`` costs a Python call a
# comparison, and making one costs three lists). ``fire(w)`` is called with it; ``cancel``, for
# one on another loop or clock than the queue's, stops its own timer. A call begun without a
# machine is its own wake-up, with more after these (``_B_*``).
_AT, _SEQ, _FIRE, _LIVE, _CANCEL = range(5)
_seq = itertools.count()


def _wakeup(at: float, fire: Callable[[List[Any]], None]) -> List[Any]:
    return [at, next(_seq), fire, False, None]


class _Wakeups:
    """A policy's wake-ups on one timer of the event loop (or the virtual clock): a call whose
    primary answers in time costs a push and a flag, not a timer of its own (a timer made and
    cancelled costs more than the rest of such a call). Times are the engine's ms."""

    __slots__ = ("queue", "live", "handle", "armed_at", "loop", "clock")

    def __init__(self) -> None:
        self.queue: List[List[Any]] = []
        self.live = 0
        self.handle: Optional[Callable[[], None]] = None
        self.armed_at = math.inf
        # The loop and clock the queue's timer runs on.
        self.loop: Any = None
        self.clock: Any = None

    def add(self, w: List[Any], loop: Any) -> None:
        """Adds wake-up ``w`` on ``loop``, the running one."""
        at = w[_AT]
        w[_LIVE], w[_CANCEL] = True, None
        clock = _clock._virtual
        if loop is not self.loop or clock is not self.clock:
            if self.live > 0:
                w[_CANCEL] = _clock.call_later((at - engine.now()) / 1000.0, lambda: self._fire(w))
                return
            if self.handle is not None:
                self.handle()
            self.queue, self.handle, self.armed_at, self.loop, self.clock = [], None, math.inf, loop, clock
        heapq.heappush(self.queue, w)
        self.live += 1
        if at < self.armed_at:
            self._arm()

    def cancel(self, w: List[Any]) -> None:
        if not w[_LIVE]:
            return
        w[_LIVE] = False
        if w[_CANCEL] is not None:
            w[_CANCEL]()
            return
        self.live -= 1
        if self.live == 0:
            # Nothing waits: the dead entries go (the armed timer then finds none).
            self.queue.clear()

    def _fire(self, w: List[Any]) -> None:
        if w[_LIVE]:
            w[_LIVE] = False
            if w[_CANCEL] is None:
                self.live -= 1
            w[_FIRE](w)

    def _arm(self) -> None:
        q = self.queue
        while q and not q[0][_LIVE]:
            heapq.heappop(q)
        if self.handle is not None:
            self.handle()
        self.handle = None
        self.armed_at = q[0][_AT] if q else math.inf
        if q:
            self.handle = _clock.call_later((self.armed_at - engine.now()) / 1000.0, self._run)

    def _run(self) -> None:
        self.handle, self.armed_at = None, math.inf
        now = engine.now()
        q = self.queue
        due = []
        while q and q[0][_AT] <= now:
            w = heapq.heappop(q)
            if w[_LIVE]:
                due.append(w)
        self._arm()
        for w in due:
            self._fire(w)


# Outcome codes the core takes (core/src/hedge.rs `AttemptOutcome`).
_SUCCESS, _FAILURE, _FATAL, _CANCELLED = 0, 1, 2, 3
_ATTEMPT_OUTCOMES = {"success": _SUCCESS, "failure": _FAILURE, "fatal": _FATAL, "cancelled": _CANCELLED}


def _takes_attempt(fn: Callable[..., Any], given: int) -> bool:
    """Whether ``fn`` takes the attempt number besides the ``given`` positional arguments: a
    function of no more parameters (``lambda: client.get(url)``) is called without it."""
    code = getattr(fn, "__code__", None)
    if code is not None:
        if code.co_flags & _CO_VARARGS:
            return True
        return bool(code.co_argcount - (type(fn) is MethodType) > given)
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
    ``on_hedge(attempt)``: called as each attempt after the first starts;
    ``hedge_non_idempotent``: in an HTTP integration, hedge a POST too."""

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
        hedge_non_idempotent: bool = False,
        **options: Any,
    ) -> None:
        if retry_if is not None and not callable(retry_if):
            raise option_error("retry_if", "a function", retry_if)
        if retry_on is not None and not (isinstance(retry_on, type) or (isinstance(retry_on, tuple) and all(isinstance(t, type) for t in retry_on))):
            raise option_error("retry_on", "an exception class or a tuple of them", retry_on)
        opts: Dict[str, Any] = dict(name=name, max_attempts=max_attempts, delay=delay, mode=mode, percentile=percentile, window=window,
                                    budget=budget, throttle=throttle, retry_on=retry_on, retry_on_result=retry_on_result, on_hedge=on_hedge,
                                    hedge_non_idempotent=hedge_non_idempotent or None, **options)
        self._h: int = engine.hedge_policy_create(options_json(opts), True, None)
        # Calls begin without a machine in the core: one whose primary answers in time never
        # needs one, and is handed over in a batch (``_sync``) before anything else is asked of
        # the policy. What that takes is kept per event loop (``_OnLoop``): a policy (one made by
        # ``hedge(...)`` is shared by equal options) may serve loops in several threads, and
        # each loop's state is then changed by its own thread only, with no lock per call.
        self._loops: Dict[Any, _OnLoop] = {}
        self._loops_lock = threading.Lock()
        # The core's (delay, until, wake, timed) for calls begun before ``until`` (ms): after
        # ``wake`` ms such a call needs its machine; ``timed``: answered calls' times are
        # needed (a percentile's). One tuple, so that threads read it whole.
        self._lazy: Tuple[float, float, float, bool] = (0.0, 0.0, 0.0, False)
        # Whether the last call's function took the attempt number: (its code, its type, the
        # arguments given, the answer), one tuple for the same reason.
        self._last: Tuple[Any, Any, int, bool] = (None, None, -1, False)
        weakref.finalize(self, engine.hedge_policy_drop, self._h)
        self._name = name
        self._retry_on: Tuple[Type[BaseException], ...] = retry_on if isinstance(retry_on, tuple) else ((retry_on,) if retry_on else (Exception,))
        self._retry_if = retry_if
        self._rejects = retry_on_result
        self._on_hedge = on_hedge
        # HTTP integrations: hedge methods that are not idempotent too.
        self._forced = hedge_non_idempotent is True
        self._refresh(None)

    def _on(self, loop: Any) -> "_OnLoop":
        """This policy's state on ``loop``."""
        on = self._loops.get(loop)
        return on if on is not None else self._new_loop(loop)

    def _new_loop(self, loop: Any) -> "_OnLoop":
        with self._loops_lock:
            # Loops closed since hand their last calls over, and go.
            for old, state in list(self._loops.items()):
                if old.is_closed():
                    state.flush(None)
                    del self._loops[old]
            on = self._loops.get(loop)
            if on is None:
                on = self._loops[loop] = _OnLoop(self)
            return on

    def _flush(self, now: Optional[float] = None) -> None:
        """Before the core is asked anything about this policy from the running loop: what it
        has not seen yet of that loop's calls (and of loops that no longer run)."""
        current = _get_running_loop()
        for loop, on in list(self._loops.items()):
            if loop is current or not loop.is_running():
                on.flush(now)

    def _refresh(self, now: Optional[float]) -> None:
        """The delay for calls begun from ``now``, as the core reads it for a call beginning then."""
        self._flush(now)
        delay, until, wake, timed = engine.hedge_delay(self._h, now)
        self._lazy = (delay, until, wake, timed == 1)

    @property
    def name(self) -> Optional[str]:
        return self._name

    def _outcome(self, exc: BaseException) -> int:
        """A failed attempt's outcome: the core's classification (the retries' rules; a policy's
        refusal is a failed attempt), with this policy's filters."""
        facts = error_facts(exc)
        facts["filter"] = isinstance(exc, self._retry_on) and (self._retry_if is None or bool(self._retry_if(exc)))
        return _ATTEMPT_OUTCOMES[classify_outcome(facts)["attempt"]]

    async def call_async(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Runs ``fn`` (given the attempt number first, 0 for the primary, when it takes it) as
        hedged attempts: the first acceptable answer is the call's, every other attempt is
        cancelled and has ended before this returns. When every attempt failed, raises the
        primary's error (``hedged_errors``: the others'); an error no attempt can help with (one
        a retry would not retry, such as a 400) is raised at once."""
        if not callable(fn):
            raise argument_error(fn=fn)
        code = getattr(fn, "__code__", None)
        last = self._last
        if code is not None and code is last[0] and type(fn) is last[1] and len(args) == last[2]:
            # The same function (or a closure of the same code) as the last call's.
            takes: bool = last[3]
        else:
            takes = _takes_attempt(fn, len(args))
            self._last = (code, type(fn), len(args), takes)
        now = engine.now()
        lazy = self._lazy
        if now >= lazy[1]:
            self._refresh(now)
            lazy = self._lazy
        delay, _, wake, timed = lazy
        if wake == 0 or self._rejects is not None or not _INLINE:
            # Every attempt at once, or values to judge: the call's machine from its start.
            return await _Run(self, fn, args, kwargs, takes).run()
        loop = _running_loop()
        # ``_on(loop)``, written out: a method call is a twentieth of this path.
        on = self._loops.get(loop)
        if on is None:
            on = self._new_loop(loop)
        on.begun += 1
        if on.begun == _BATCH:
            on.sync(now)
        b = [math.inf, 0, _begun_fire, False, None, on, now, delay, (fn, args, kwargs, takes), _task_of(loop), None]
        try:
            result: Any = fn(0, *args, **kwargs) if takes else fn(*args, **kwargs)
            # After the primary started, as a call with its machine arms its deadline.
            if wake != math.inf:
                b[_AT], b[_SEQ] = now + wake, next(_seq)
                on.wakeups.add(b, loop)
            value = (await result) if type(result) is COROUTINE or is_awaitable(result) else result
        except BaseException as exc:  # noqa: BLE001 - the call's machine judges it
            return await _begun_ended(b, None, exc)
        if b[_B_RUN] is None:
            if b[_LIVE]:
                on.wakeups.cancel(b)
            if timed:
                on.answered_at(now, delay)
            else:
                # Answered in time, its times unread: a count.
                on.in_time += 1
                if on.in_time == _BATCH:
                    on.sync(None)
            return value
        return await _begun_ended(b, value, None)

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
        self._flush()
        s = json.loads(engine.hedge_stats(self._h, None))
        # Reading the stats may have recomputed a percentile's delay: calls begun next use it.
        self._refresh(None)
        s["delay"] = s.pop("delayMs") / 1000.0
        return {"name": self._name, **{snake(k): v for k, v in s.items()}}


# Whether the primary can run in the caller's own task: interrupting it (when another attempt
# won) needs ``Task.uncancel`` (3.11), as ``asyncio.timeout`` does.
_INLINE = hasattr(asyncio.Task, "uncancel")

# Calls a policy holds before handing them over (the core's bound).
_BATCH = int(_native.HEDGE_BATCH)

_running_loop = asyncio.get_running_loop
_get_running_loop = asyncio._get_running_loop
# The task running on a loop (asyncio's own table; a C function from 3.12).
try:
    from _asyncio import current_task as _task_of  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - 3.11
    from asyncio.tasks import _current_tasks

    _task_of = _current_tasks.get


class _OnLoop:
    """A policy's state on one event loop: its wake-ups, and its calls begun without a machine
    not yet handed over — how many began; of those answered before their deadlines, a count
    (``in_time``) or, for a percentile, their (started, ended) times, all of ``answered_delay``.
    Changed by the loop's own thread only."""

    __slots__ = ("policy", "wakeups", "begun", "in_time", "answered", "answered_delay")

    def __init__(self, policy: HedgePolicy) -> None:
        self.policy = policy
        self.wakeups = _Wakeups()
        self.begun = 0
        self.in_time = 0
        self.answered: List[float] = []
        self.answered_delay = 0.0

    def sync(self, now: Optional[float]) -> None:
        """Hands the calls begun and answered since the last sync over."""
        engine.hedge_sync(self.policy._h, self.begun, self.in_time, self.answered_delay, self.answered, now)
        self.begun = self.in_time = 0
        if self.answered:
            self.answered = []

    def flush(self, now: Optional[float]) -> None:
        if self.begun or self.in_time or self.answered:
            self.sync(now)

    def answered_at(self, started: float, delay: float) -> None:
        """A call begun at ``started`` without a machine answered before its deadline, now (a
        percentile's latencies need its times)."""
        ended = engine.now()
        if delay != self.answered_delay and self.answered:
            self.sync(ended)
        self.answered_delay = delay
        self.answered += (started, ended)
        if len(self.answered) >= 2 * _BATCH:
            self.sync(ended)


# A call begun without a machine in the core is a wake-up list (see ``_AT``), and after its
# five: its policy's state on its loop, when it began, its delay (ms), what its attempts call (the function, its
# arguments, whether it takes the attempt number), the caller's task (where its primary runs),
# and its machine once it has one. Answered in time, it is counted in the policy's next batch;
# at its deadline, or when its primary fails, it gets its machine (``_Run``), which takes the
# running primary over.
_B_ON, _B_STARTED, _B_DELAY, _B_ATTEMPT, _B_CALLER, _B_RUN = range(5, 11)


def _begun_fire(b: List[Any]) -> None:
    """A begun call's deadline came with its primary still running: the machine says what next."""
    _begun_machine(b)._due()


def _begun_machine(b: List[Any]) -> "_Run":
    run: Optional[_Run] = b[_B_RUN]
    if run is None:
        on: _OnLoop = b[_B_ON]
        if b[_LIVE]:
            on.wakeups.cancel(b)
        on.flush(None)
        call = engine.hedge_start_begun(on.policy._h, b[_B_STARTED], b[_B_DELAY])
        run = b[_B_RUN] = _Run(on.policy, *b[_B_ATTEMPT]).adopt(call, b[_B_CALLER], on)
    return run


async def _begun_ended(b: List[Any], value: Any, exc: Optional[BaseException]) -> Any:
    """A begun call's primary ended (``value``, or ``exc``) after the call got its machine, or
    failing: the machine goes on with it."""
    if b[_B_RUN] is None and isinstance(exc, asyncio.CancelledError):
        # The caller gave up before the call needed its machine.
        if b[_LIVE]:
            b[_B_ON].wakeups.cancel(b)
        raise exc
    return await _begun_machine(b).resume(value, exc)


class _Run:
    """One hedged call as it runs, driven by its attempts' ends and its timer: it does what the
    core's steps say (start an attempt, arm the timer, end) and reports each attempt's end.

    The primary runs in the caller's own task, awaited inline (a call whose primary answers in
    time makes no task); later attempts run as tasks. When another attempt decides the call,
    the primary is interrupted by cancelling the caller's task and taking that cancellation back
    (as ``asyncio.timeout`` does). Every attempt has ended before the call returns."""

    __slots__ = ("policy", "on", "fn", "args", "kwargs", "takes_attempt", "call", "tasks", "running", "wakeup", "timer_at",
                 "final", "done", "caller", "interrupted", "primary_running", "outcomes", "errors", "values")

    def __init__(self, policy: HedgePolicy, fn: Callable[..., Any], args: Any, kwargs: Any, takes_attempt: bool) -> None:
        self.policy, self.fn, self.args, self.kwargs, self.takes_attempt = policy, fn, args, kwargs, takes_attempt
        self.tasks: Dict[int, "asyncio.Task[Any]"] = {}
        self.outcomes: Dict[int, int] = {}
        self.errors: Dict[int, BaseException] = {}
        self.values: Dict[int, Any] = {}
        self.running = 0
        self.wakeup: Optional[List[Any]] = None
        self.timer_at = math.nan
        # The call's answer once decided: (ok, value or exception).
        self.final: Optional[Tuple[bool, Any]] = None
        # Set when the call is decided and every attempt has ended, if the caller waits for it.
        self.done: "Optional[asyncio.Future[None]]" = None
        self.caller: "Optional[asyncio.Task[Any]]" = None
        self.interrupted = False
        self.primary_running = False

    async def _attempt(self, k: int) -> Any:
        result = self.fn(k, *self.args, **self.kwargs) if self.takes_attempt else self.fn(*self.args, **self.kwargs)
        return (await result) if inspect.isawaitable(result) else result

    # ---- the steps ------------------------------------------------------------------------------

    def _advance(self, step: float) -> None:
        """Does what the core's step says, until it says to wait."""
        while -11 < step < 0:
            self._launch(int(-1 - step))
            self.on.flush(None)
            step = engine.hedge_step(self.call, None)
        if step <= -11:
            return self._decide_by(step)
        if step != self.timer_at:
            wakeups = self.on.wakeups
            if self.wakeup is not None:
                wakeups.cancel(self.wakeup)
            self.wakeup = None
            if math.isfinite(step):
                self.wakeup = _wakeup(step, self._due)
                wakeups.add(self.wakeup, _running_loop())
            self.timer_at = step

    def _next(self, step: Callable[[], float]) -> None:
        try:
            self.on.flush(None)
            self._advance(step())
        except BaseException as exc:  # noqa: BLE001 - a hook's or the core's error ends the call
            self._decide(False, exc)

    def _due(self, _w: Optional[List[Any]] = None) -> None:
        """Its deadline came (``_w``: its wake-up)."""
        self.wakeup, self.timer_at = None, math.nan
        if self.final is None:
            self._next(lambda: engine.hedge_step(self.call, None))

    def _launch(self, k: int) -> None:
        p = self.policy
        if k > 0:
            if listening("hedge.launched"):
                report("hedge.launched", policy=p._name, attempt=k)
            if p._on_hedge is not None:
                p._on_hedge(k)
        task = asyncio.ensure_future(self._attempt(k))
        self.tasks[k] = task
        self.running += 1
        task.add_done_callback(lambda t: self._task_ended(k, t))

    def _task_ended(self, k: int, task: "asyncio.Task[Any]") -> None:
        if task.cancelled():
            outcome = _CANCELLED
        else:
            exc = task.exception()
            if exc is not None:
                self.errors[k] = exc
                outcome = self._classified(exc, None)
            else:
                self.values[k] = task.result()
                outcome = self._classified(None, task.result())
        self._ended(k, outcome)

    def _classified(self, exc: Optional[BaseException], value: Any) -> int:
        """An attempt's outcome code: an error's by the policy's classification (a cancellation
        counts neither way), a value's by ``retry_on_result``."""
        try:
            if exc is not None:
                return self.policy._outcome(exc) if isinstance(exc, Exception) else _CANCELLED
            rejects = self.policy._rejects
            return _FAILURE if rejects is not None and rejects(value) else _SUCCESS
        except BaseException as hook:  # noqa: BLE001 - a filter that raised ends the call with its error
            self._decide(False, hook)
            return _CANCELLED

    def _ended(self, k: int, outcome: int) -> None:
        """Attempt ``k`` ended: the core says what next; the call is delivered once decided and
        every attempt has ended."""
        self.running -= 1
        self.outcomes[k] = outcome
        if self.final is None:
            self._next(lambda: engine.hedge_settle(self.call, k, outcome, None))
        if self.final is not None and self.running == 0 and self.done is not None and not self.done.done():
            self.done.set_result(None)

    def _decide_by(self, step: float) -> None:
        """Won or failed (the core freed the call)."""
        failed = step <= -21
        k = int(-21 - step if failed else -11 - step)
        if not failed or k not in self.errors:
            return self._decide(True, self.values.get(k), freed=True)
        exc = self.errors[k]
        exc.hedged_errors = [e for j, e in sorted(self.errors.items()) if j != k]  # type: ignore[attr-defined]
        self._decide(False, exc, freed=True)

    def _decide(self, ok: bool, value: Any, freed: bool = False) -> None:
        """The call's answer is known: the attempts still running are cancelled (an inline
        primary, by interrupting the caller's task). ``freed``: the core decided it, and freed it."""
        if self.final is not None:
            return
        if self.wakeup is not None:
            self.on.wakeups.cancel(self.wakeup)
            self.wakeup = None
        self.final = (ok, value)
        # A call ended by the caller or a hook (not by the core) is freed here. One the core freed
        # is not ended again: another thread's loop may have been given its handle since, and
        # ending it would free that call under it.
        if not freed:
            engine.hedge_end(self.call)
        for task in self.tasks.values():
            if not task.done():
                task.cancel()
        if self.primary_running and self.caller is not None and not self.interrupted:
            self.interrupted = True
            self.caller.cancel()

    # ---- the call -------------------------------------------------------------------------------

    def adopt(self, call: int, caller: "Optional[asyncio.Task[Any]]", on: _OnLoop) -> "_Run":
        """The machine ``call`` for a call whose primary already runs in ``caller``'s task (a
        call begun without one) on the loop of ``on``; it goes on with the primary's end
        (``resume``)."""
        self.call, self.caller, self.on = call, caller, on
        self.running, self.primary_running = 1, True
        return self

    async def run(self) -> Any:
        loop = _running_loop()
        self.on = self.policy._on(loop)
        self.on.flush(None)
        self.call = engine.hedge_start(self.policy._h, None)
        if not _INLINE:
            self._launch(0)
            self._next(lambda: engine.hedge_step(self.call, None))
            return await self.resume(None, None, inline=False)
        self.adopt(self.call, _task_of(loop), self.on)
        self._next(lambda: engine.hedge_step(self.call, None))
        exc: Optional[BaseException] = None
        value: Any = None
        try:
            value = await self._attempt(0)
        except BaseException as error:  # noqa: BLE001 - classified as the primary's end
            exc = error
        return await self.resume(value, exc)

    async def resume(self, value: Any, exc: Optional[BaseException], inline: bool = True) -> Any:
        """The primary, run in the caller's task (``inline``), ended with ``value`` or ``exc``:
        the call goes on, and answers once decided and every attempt has ended."""
        try:
            if inline:
                self._primary_ended(value, exc)
            if self.final is None or self.running > 0:
                # The rest is delivered when the call is decided and every attempt has ended.
                self.done = asyncio.get_running_loop().create_future()
                await self.done
        except asyncio.CancelledError as cancelled:
            # The caller gave up: every attempt is cancelled and has ended before it is raised.
            self._decide(False, cancelled)
            await self._wait_all()
            raise
        finally:
            if self.wakeup is not None:
                self.on.wakeups.cancel(self.wakeup)
        ok, answer = self.final  # type: ignore[misc]
        if ok:
            return answer
        raise answer

    def _primary_ended(self, value: Any, exc: Optional[BaseException]) -> None:
        """The primary attempt, awaited in the caller's task, ended."""
        self.primary_running = False
        if self.interrupted:
            # Our interruption taken back (also when the primary swallowed it); a cancellation
            # still pending after it is the caller's.
            by_caller = self.caller.uncancel() > 0  # type: ignore[union-attr]
        else:
            by_caller = isinstance(exc, asyncio.CancelledError)
        if by_caller:
            self.running -= 1
            self.outcomes[0] = _CANCELLED
            raise asyncio.CancelledError
        if self.interrupted:
            self._ended(0, _CANCELLED)
        elif exc is not None:
            self.errors[0] = exc
            self._ended(0, self._classified(exc, None))
        else:
            self.values[0] = value
            self._ended(0, self._classified(None, value))

    async def _wait_all(self) -> None:
        """Waits until every attempt task has ended, even if this task is cancelled meanwhile
        (that cancellation is raised after)."""
        cancelled = False
        running = [t for t in self.tasks.values() if not t.done()]
        while running:
            try:
                await asyncio.wait(running)
            except asyncio.CancelledError:
                cancelled = True
            running = [t for t in running if not t.done()]
        for t in self.tasks.values():
            if not t.cancelled():
                t.exception()  # retrieved: a loser's error is not "never retrieved"
        if cancelled:
            raise asyncio.CancelledError


_policies = PolicyCache(lambda options: HedgePolicy(**options))


def hedge(fn: Callable[..., Awaitable[T]], /, **options: Any) -> Awaitable[T]:
    """``await hedge(lambda attempt: client.get(url), delay=0.05)``: runs ``fn``, starting another
    attempt each ``delay`` while none has answered; the first acceptable answer wins. Keyword
    options as for ``HedgePolicy``; equal options share one policy (its budget, throttle and
    latencies): give each backend its own ``name``, or keep a ``HedgePolicy``."""
    return _policies.get(options).call_async(fn)
