"""The policy stack every HTTP integration runs a request through (httpx / httpx2 transports,
aiohttp middleware, requests' adapter): retries outermost, then per attempt a rate limiter's
place, a bulkhead's slot, a breaker's permit and a timeout (the integration's, or the breaker's
own when that is shorter). Which responses and errors fail and which are retried is the core's
rule (core/src/outcome.rs); a client library is described by an ``Exchange`` (how to read a
response's status and headers, close it, and hold it until its body settles), and nothing here
knows which library it is.

- A response the core retries (a 5xx, 429, 408 …) is closed before the next attempt; when the
  retries run out, the last one is answered as it came.
- An answered response keeps its slot and the breaker's verdict until its body settles, where
  the library lets the body be watched (``Exchange.hold``); elsewhere they are given back when the
  headers arrive.
- A request whose body cannot be sent again runs once, and an error it ends with says why it was
  not retried.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, Generator, Optional, Tuple, Union

from . import _clock, _native
from ._breaker import CircuitBreaker
from ._bulkhead import Bulkhead
from ._engine import checked_instance, option_error, options_json
from ._hedge import HedgePolicy
from ._limit import capped_timeout
from ._ratelimit import RateLimiter
from ._retry import RetryPolicy, _Resumed, classify_outcome, error_facts, server_headers
from ._telemetry import PolicyCalls, Scope, observer
from ._timeout import overran, run_with_timeout

NOT_REPLAYED = "seawall: not retried: the request's body was streamed and cannot be sent again"

# What a held response's body does when it ends: None (read to the end or closed) or its error.
Settle = Callable[[Optional[BaseException]], None]


class Exchange:
    """How one client library's responses are read and let go. ``status`` and ``headers`` read a
    response; ``close`` (sync) or ``aclose`` (async) lets one go; ``hold(response, settle)``, when
    the library allows it, answers the response with ``settle`` called once its body settles
    (None: the verdict is given when the headers arrive)."""

    def __init__(self, status: Callable[[Any], int], headers: Callable[[Any], Any], close: Optional[Callable[[Any], None]] = None,
                 aclose: Optional[Callable[[Any], Awaitable[None]]] = None,
                 hold: Optional[Callable[[Any, Settle], Any]] = None) -> None:
        self.status, self.headers, self.close, self.aclose, self.hold = status, headers, close, aclose, hold


class HTTPStatusFailure(Exception):
    """A response the core would retry (a 5xx, 429, 408 …), raised inside the retry loop so that
    it is retried. ``retry_after``: the server's delay in seconds (``retry-after-ms``, then
    Retry-After), None when it gave none."""

    def __init__(self, response: Any, status: int, headers: Dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}")
        self.response = response
        self.status_code = status
        delay = classify_outcome({"error": True, "status": status, **headers})["retryAfterMs"]
        self.retry_after = None if delay is None else delay / 1000.0


def _count(status: int) -> int:
    """How a breaker counts a response, by the core's rule: 0 success, 1 failure, 2 ignored."""
    return int(_native.count_status(float(status)))


class HttpPolicies:
    """The policies of one HTTP integration. ``timeout``: seconds per async attempt (None:
    none); retry options as ``RetryPolicy`` takes them (``max_retries=3``, backoff,
    ``retry_non_idempotent``, ``budget`` …)."""

    def __init__(self, *, circuit_breaker: Optional[CircuitBreaker] = None, bulkhead: Optional[Bulkhead] = None,
                 rate_limiter: Optional[RateLimiter] = None, timeout: Optional[float] = None, max_retries: int = 3,
                 retry_non_idempotent: bool = False, hedge: Union[HedgePolicy, Dict[str, Any], None] = None,
                 **retry_options: Any) -> None:
        self.circuit_breaker = checked_instance(circuit_breaker, "circuit_breaker", CircuitBreaker, "a CircuitBreaker")
        # Hedging (async only): each retry attempt a hedged call of requests, made once here.
        if hedge is not None and not isinstance(hedge, (HedgePolicy, dict)):
            raise option_error("hedge", "a HedgePolicy or its options", hedge)
        self.hedge: Optional[HedgePolicy] = HedgePolicy(**hedge) if isinstance(hedge, dict) else hedge
        self.bulkhead = checked_instance(bulkhead, "bulkhead", Bulkhead, "a Bulkhead")
        self.rate_limiter = checked_instance(rate_limiter, "rate_limiter", RateLimiter, "a RateLimiter")
        if timeout is not None:
            _native.validate("timeout", options_json({"timeout": timeout}), True)
        self.timeout = timeout
        # A breaker's own timeout bounds each attempt it judges, as it bounds each call it guards.
        own = self.circuit_breaker._timeout_s if self.circuit_breaker is not None else None
        self._breaker_timeout = own
        self._attempt_timeout = own if timeout is None else timeout if own is None else min(timeout, own)
        self.retry_non_idempotent = retry_non_idempotent
        # Checked now: the core names a bad option.
        self._retry = RetryPolicy(max_retries=max_retries, **retry_options)

    # ---- one attempt's parts ---------------------------------------------------------------------

    def _facts(self, method: str) -> Dict[str, Any]:
        """What the core's classification needs of the request besides each attempt's outcome."""
        return {"method": method, "retryNonIdempotent": self.retry_non_idempotent}

    def _release(self, slot: Optional[float], permit: Any, outcome: Any) -> None:
        """Gives the slot back and reports the breaker's verdict: ``outcome`` a count (0, 1, 2)
        or the exception the attempt ended with."""
        try:
            breaker = self.circuit_breaker
            if breaker is not None:
                if isinstance(outcome, BaseException):
                    breaker._exit(permit[0], permit[1], outcome)
                else:
                    breaker._report(permit[0], permit[1], outcome)
        finally:
            if slot is not None:
                self.bulkhead._release(slot)  # type: ignore[union-attr]

    def _permit(self, slot: Optional[float]) -> Any:
        """The breaker's permit for an attempt holding ``slot`` (given back if refused)."""
        try:
            return self.circuit_breaker._enter() if self.circuit_breaker is not None else None
        except BaseException:
            if slot is not None:
                self.bulkhead._release(slot)  # type: ignore[union-attr]
            raise

    def _settle(self, response: Any, status: int, count: int, x: Exchange, slot: Optional[float], permit: Any,
                facts: Dict[str, Any], failed: list, read: bool) -> Any:
        """An attempt's response (its ``status``, and ``count``, how the breaker counts it): raised
        to the retry loop when the core retries it (kept in ``failed`` to be let go before the next
        attempt), else answered, its slot and verdict held until its body settles where the
        exchange can hold it (at once when it was read)."""
        # A success needs none of the server's headers: they are read for a failure or an
        # ignored status only (what the core would retry, and after how long).
        if count != 0:
            headers = server_headers(x.headers(response))
            given = {"headers": headers} if headers else {}
        if count == 1 or (count == 2 and classify_outcome({"error": True, "status": status, **given, **facts})["decision"] in ("retry", "rateLimited")):
            self._release(slot, permit, count)
            failed.append(response)
            raise HTTPStatusFailure(response, status, given)
        if read or x.hold is None or (slot is None and permit is None):
            self._release(slot, permit, count)
            return response

        def settle(exc: Optional[BaseException]) -> None:
            # A body that fails while being read is a failure; one closed early is the caller's
            # choice, counted as the response's status says.
            self._release(slot, permit, exc if exc is not None else count)

        return x.hold(response, _Once(settle))

    def _note(self, exc: BaseException, facts: Dict[str, Any]) -> None:
        """An error a request that cannot be sent again ended with: if the core would have retried
        it, it says why it was not."""
        if isinstance(exc, Exception) and not isinstance(exc, HTTPStatusFailure):
            if classify_outcome({**error_facts(exc), **facts})["decision"] in ("retry", "rateLimited"):
                # Python 3.10 has no add_note; its tracebacks do not print notes, the attribute stays.
                notes = getattr(exc, "__notes__", None)
                exc.__notes__ = [*(notes or []), NOT_REPLAYED]

    @staticmethod
    def _span(method: str, url: str, headers: Any, made: list) -> Optional[Scope]:
        """The next attempt's span while instrumented (its context written into ``headers``);
        ``made``: the attempts made so far, counted here."""
        made[0] += 1
        sink = observer.sink
        return sink.http(method, url, made[0] - 1, headers) if sink is not None and headers is not None else None

    # ---- a request: its steps, taken by an async or a sync driver -----------------------------------

    def _attempt(self, method: str, url: str, headers: Any, made: list, failed: list, x: Exchange, facts: Dict[str, Any],
                 read: bool) -> Steps:
        """One attempt: the previous attempt's response let go, then the rate limiter's place, the
        bulkhead's slot and the breaker's permit, the request sent and its response settled."""
        while failed:
            yield CLOSE, failed.pop()
        calls = PolicyCalls()
        try:
            if self.rate_limiter is not None:
                calls.open("rateLimit", self.rate_limiter.name)
                yield PLACE, None
            slot = None
            if self.bulkhead is not None:
                calls.open("bulkhead", self.bulkhead.name)
                slot = yield SLOT, None
            if self.circuit_breaker is not None:
                calls.open("breaker", self.circuit_breaker.name)
            permit = self._permit(slot)
            span = self._span(method, url, headers, made)
            token = span.attach() if span is not None else None
            try:
                response = yield SEND, None
            except BaseException as exc:
                if span is not None:
                    span.end("failure", exc)
                self._release(slot, permit, exc)
                raise
            finally:
                if span is not None:
                    span.detach(token)
        except BaseException as exc:
            calls.close(exc)
            raise
        status = x.status(response)
        count = _count(status)
        if span is not None:
            span.answered(status)
            span.end("success", None)
        calls.close(None, count == 1)
        return self._settle(response, status, count, x, slot, permit, facts, failed, read)

    def _request(self, attempt: Callable[[], Any], replayable: bool, facts: Dict[str, Any], failed: list) -> Steps:
        """A request: its attempts under the retry policy (once when its body cannot be sent
        again); the last response answered when the retries run out on one."""
        try:
            if replayable:
                return (yield RETRY, attempt)
            try:
                return (yield ONCE, attempt)
            except BaseException as exc:
                self._note(exc, facts)
                raise
        except HTTPStatusFailure as exc:
            # The retries ran out on a response: it is the answer, open as it came (the others,
            # a hedged call's, are let go below).
            failed[:] = [r for r in failed if r is not exc.response]
            return exc.response
        finally:
            # Ended otherwise (an open breaker, a timeout after a 503): the last response goes to
            # nobody, so it is let go here rather than left to the collector.
            while failed:
                yield CLOSE_SHIELDED, failed.pop()

    async def send_async(self, method: str, send: Callable[[], Awaitable[Any]], x: Exchange, replayable: bool = True,
                         read: Optional[Callable[[Any], Awaitable[Any]]] = None, url: str = "", headers: Any = None) -> Any:
        """Sends a request through the policies: ``send()`` makes one attempt; ``read(response)``,
        if given, reads its body inside the attempt. ``url`` and ``headers`` (the request's, to
        carry a trace's context): for the attempts' spans while instrumented."""
        facts = self._facts(method)
        failed: list = []
        made = [0]

        async def whole() -> Any:
            response = await send()
            if read is not None:
                try:
                    await read(response)
                except BaseException:
                    # Closed whatever cancels the attempt (its timeout), or its socket stays open.
                    await asyncio.shield(x.aclose(response))  # type: ignore[misc]
                    raise
            return response

        async def one() -> Any:
            return await drive_async(self._attempt(method, url, headers, made, failed, x, facts, read is not None), take)

        hedge = self.hedge
        attempt: Callable[[], Awaitable[Any]] = one
        if hedge is not None and replayable and _native.hedgeable(method, hedge._forced):
            # Each retry attempt is a hedged call of requests (a loser is cancelled, its
            # connection closed; a failed response is let go as a retried one is; a second good
            # one, come as the first was chosen, is closed).
            async def attempt() -> Any:
                got: list = []

                async def kept() -> Any:
                    response = await one()
                    got.append(response)
                    return response

                answer = None
                try:
                    answer = await hedge.call_async(lambda _k: kept())
                    return answer
                finally:
                    for response in got:
                        if response is not answer:
                            await asyncio.shield(x.aclose(response))  # type: ignore[misc]

        async def take(step: int, arg: Any) -> Any:
            if step == CLOSE:
                return await x.aclose(arg)  # type: ignore[misc]
            if step == CLOSE_SHIELDED:
                return await asyncio.shield(x.aclose(arg))  # type: ignore[misc]
            if step == PLACE:
                return await self.rate_limiter._place_async()  # type: ignore[union-attr]
            if step == SLOT:
                return await self.bulkhead._slot_async()  # type: ignore[union-attr]
            if step == SEND:
                # Capped by the deadline of the request this service is handling, if any.
                timeout = capped_timeout(self._attempt_timeout)
                return await (whole() if timeout is None else run_with_timeout(whole, timeout))
            if step == RETRY:
                return await self._retry.call_async(_Resumed(arg, self._retry._start(arg, facts)))  # type: ignore[arg-type]
            return await arg()

        return await drive_async(self._request(attempt, replayable, facts, failed), take)

    def refuse_hedging(self) -> None:
        """For a sync-only integration: hedging runs attempts as tasks and cancels the losers,
        which threads cannot do."""
        if self.hedge is not None:
            raise option_error("hedge", "no hedging for a sync client (attempts run as tasks; use the async client)", self.hedge)

    def send(self, method: str, send: Callable[[], Any], x: Exchange, replayable: bool = True,
             read: Optional[Callable[[Any], Any]] = None, url: str = "", headers: Any = None) -> Any:
        """``send_async`` for a thread: the client's own timeouts cut an attempt; one that answers
        after the breaker's own timeout fails then, as a breaker's plain call does."""
        self.refuse_hedging()
        facts = self._facts(method)
        failed: list = []
        made = [0]
        limit = self._breaker_timeout

        def whole() -> Any:
            started = _clock.precise_now()
            response = send()
            try:
                if read is not None:
                    read(response)
                late = overran(started, limit) if limit is not None else None
                if late is not None:
                    raise late
            except BaseException:
                x.close(response)  # type: ignore[misc]
                raise
            return response

        def attempt() -> Any:
            return drive(self._attempt(method, url, headers, made, failed, x, facts, read is not None), take)

        def take(step: int, arg: Any) -> Any:
            if step in (CLOSE, CLOSE_SHIELDED):
                return x.close(arg)  # type: ignore[misc]
            if step == PLACE:
                return self.rate_limiter._place()  # type: ignore[union-attr]
            if step == SLOT:
                return self.bulkhead._slot()  # type: ignore[union-attr]
            if step == SEND:
                return whole()
            if step == RETRY:
                return self._retry._call_request(arg, facts)
            return arg()

        return drive(self._request(attempt, replayable, facts, failed), take)


# The steps a request's generators ask their driver to take, each with its argument: let a
# response go (shielded from a second cancellation), take the rate limiter's place, the bulkhead's
# slot, send the attempt, run the attempts under the retry policy, or once.
CLOSE, CLOSE_SHIELDED, PLACE, SLOT, SEND, RETRY, ONCE = range(7)
Steps = Generator[Tuple[int, Any], Any, Any]


def _advance(steps: Steps, given: Any, error: Optional[BaseException]) -> Tuple[Optional[Tuple[int, Any]], Any]:
    """The next step (given the last one's value or error), or ``(None, result)`` when done."""
    try:
        return (steps.throw(error) if error is not None else steps.send(given)), None
    except StopIteration as done:
        return None, done.value


async def drive_async(steps: Steps, take: Callable[[int, Any], Awaitable[Any]]) -> Any:
    """Takes ``steps`` to their end, awaiting each."""
    given, error = None, None
    while True:
        step, result = _advance(steps, given, error)
        if step is None:
            return result
        try:
            given, error = await take(*step), None
        except BaseException as exc:  # noqa: BLE001 - handed to the steps, which decide
            given, error = None, exc


def drive(steps: Steps, take: Callable[[int, Any], Any]) -> Any:
    """Takes ``steps`` to their end in this thread."""
    given: Any = None
    error: Optional[BaseException] = None
    step, result = _advance(steps, given, error)
    while step is not None:
        try:
            given, error = take(*step), None
        except BaseException as exc:  # noqa: BLE001 - handed to the steps, which decide
            given, error = None, exc
        step, result = _advance(steps, given, error)
    return result


class _Once:
    """``settle``, called at most once: a body that ends, fails or is closed, or is collected
    unclosed, gives its slot and verdict back once."""

    __slots__ = ("_done", "__weakref__")

    def __init__(self, done: Settle) -> None:
        self._done: Optional[Settle] = done

    def __call__(self, exc: Optional[BaseException] = None) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(exc)
