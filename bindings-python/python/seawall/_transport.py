"""``ResilientTransport``: a transport for ``httpx`` and ``httpx2`` clients (the async and the sync
contract at once) that runs every request through a policy stack — a rate limiter's place, a
bulkhead's slot, a breaker's permit and a timeout per attempt, inside retries with backoff.

Because SDKs built on httpx2 (openai 3, anthropic 2) take an ``http_client`` and check only its
type, the policies go where they can reach every SDK call::

    client = AsyncOpenAI(http_client=httpx2.AsyncClient(transport=ResilientTransport(...)), max_retries=0)

Which responses and errors fail and which are retried is the core's rule (core/src/outcome.rs),
the same as Node's; the transport only describes each attempt's outcome to it. Order, outermost
first: retries (each attempt below is one), then per attempt the rate limiter, the bulkhead, the
breaker and the timeout.

- A response the core retries (a 5xx, 429, 408 …) is closed before the next attempt; when the
  retries run out, the last one is answered as it came (httpx does not raise on status).
- A response that is answered holds its bulkhead slot, and the breaker's verdict waits, until
  its body is read to the end or closed (a streamed completion keeps its slot while it streams;
  an error while reading the body is a breaker failure). A body that is never closed gives the
  slot back when it is collected.
- A request whose body was streamed (an iterator, not bytes) cannot be sent again: it runs
  once, and an error it ends with says why it was not retried.
- ``timeout`` bounds each attempt up to the response's headers (httpx's own timeouts bound each
  read after that); ``ResilientClient`` reads whole bodies inside the attempt, so there it
  bounds the whole response.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, Optional

from . import _native
from ._breaker import CircuitBreaker
from ._bulkhead import Bulkhead
from ._engine import options_json
from ._ratelimit import RateLimiter
from ._retry import RetryPolicy, _Resumed, classify_outcome, error_facts, server_headers
from ._timeout import run_with_timeout

# Set in a request's ``extensions`` by ``ResilientClient``: read the body inside the attempt.
READ_BODY = "seawall.read_body"
NOT_REPLAYED = "seawall: not retried: the request's body was streamed and cannot be sent again"


class HTTPStatusFailure(Exception):
    """A response the core would retry (a 5xx, 429, 408 …), raised inside the retry loop so that
    it is retried. ``retry_after``: the server's delay in seconds (``retry-after-ms``, then
    Retry-After), None when it gave none."""

    def __init__(self, response: Any) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.status_code = response.status_code
        delay = classify_outcome({"error": True, "status": response.status_code, **_server_headers(response)})["retryAfterMs"]
        self.retry_after = None if delay is None else delay / 1000.0


def _server_headers(response: Any) -> Dict[str, Any]:
    headers = server_headers(response.headers)
    return {"headers": headers} if headers else {}


def _count(response: Any) -> int:
    """How a breaker counts the response, by the core's rule: 0 success, 1 failure, 2 ignored."""
    return int(_native.count_status(float(response.status_code)))


def _replayable(request: Any) -> bool:
    """Whether the body can be sent again: given as bytes (or none), not as an iterator."""
    return hasattr(request, "_content")


def _checked(value: Any, option: str, kind: type, what: str) -> Any:
    """``value`` if it is None or a ``kind``, else the option error naming it."""
    if value is not None and not isinstance(value, kind):
        err = TypeError(f"invalid option {option}: expected {what}, got {value!r}")
        err.code, err.option, err.value = "INVALID_OPTION", option, repr(value)  # type: ignore[attr-defined]
        raise err
    return value


def _note_not_replayed(exc: BaseException, facts: Dict[str, Any]) -> None:
    """An error a request with a streamed body ended with: if the core would have retried it,
    it says why it was not."""
    if isinstance(exc, Exception) and not isinstance(exc, HTTPStatusFailure):
        if classify_outcome({**error_facts(exc), **facts})["decision"] in ("retry", "rateLimited"):
            exc.add_note(NOT_REPLAYED)


class _Settle:
    """What an answered response still holds — its bulkhead slot and the breaker's verdict — and
    gives back once: when its body ends, fails or is closed, or when it is collected unclosed."""

    __slots__ = ("_done", "__weakref__")

    def __init__(self, done: Callable[[Optional[BaseException]], None]) -> None:
        self._done: Optional[Callable[[Optional[BaseException]], None]] = done

    def __call__(self, exc: Optional[BaseException] = None) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(exc)


class _AsyncBody:
    """An answered response's body (httpx's ``AsyncByteStream`` contract), settling when read to
    the end, failed or closed. Used as a subclass of the client library's ``AsyncByteStream``
    (``_body``), which the clients check."""

    def __init__(self, stream: Any, settle: _Settle) -> None:
        self._stream, self._settle = stream, settle
        weakref.finalize(self, settle)

    async def __aiter__(self) -> Any:
        try:
            async for chunk in self._stream:
                yield chunk
        except BaseException as exc:
            self._settle(exc)
            raise
        self._settle()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._settle()


class _SyncBody:
    """``_AsyncBody`` for the sync contract (``SyncByteStream``)."""

    def __init__(self, stream: Any, settle: _Settle) -> None:
        self._stream, self._settle = stream, settle
        weakref.finalize(self, settle)

    def __iter__(self) -> Any:
        try:
            for chunk in self._stream:
                yield chunk
        except BaseException as exc:
            self._settle(exc)
            raise
        self._settle()

    def close(self) -> None:
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        finally:
            self._settle()


_BODIES: Dict[tuple, type] = {}


def _body(response: Any, sync: bool) -> type:
    """The body class for ``response``'s library (httpx or httpx2), made once."""
    library = type(response).__module__.split(".", 1)[0]
    cls = _BODIES.get((library, sync))
    if cls is None:
        module = __import__(library)
        mixin, base = (_SyncBody, module.SyncByteStream) if sync else (_AsyncBody, module.AsyncByteStream)
        cls = _BODIES[(library, sync)] = type(mixin.__name__, (mixin, base), {})
    return cls


class ResilientTransport:
    """A transport for ``httpx`` / ``httpx2`` clients, async and sync alike: ``transport`` (default:
    the library's own, matching the client's) behind a policy stack. ``timeout``: seconds per
    attempt (None: none); retry options as ``RetryPolicy`` takes them (``max_retries=3``, backoff,
    ``retry_non_idempotent``, ``budget`` …)."""

    def __init__(self, transport: Any = None, *, circuit_breaker: Optional[CircuitBreaker] = None,
                 bulkhead: Optional[Bulkhead] = None, rate_limiter: Optional[RateLimiter] = None,
                 timeout: Optional[float] = None, max_retries: int = 3, retry_non_idempotent: bool = False,
                 **retry_options: Any) -> None:
        self.circuit_breaker = _checked(circuit_breaker, "circuit_breaker", CircuitBreaker, "a CircuitBreaker")
        self.bulkhead = _checked(bulkhead, "bulkhead", Bulkhead, "a Bulkhead")
        self.rate_limiter = _checked(rate_limiter, "rate_limiter", RateLimiter, "a RateLimiter")
        if timeout is not None:
            _native.validate("timeout", options_json({"timeout": timeout}), True)
        self.timeout = timeout
        self.retry_non_idempotent = retry_non_idempotent
        # Checked now: the core names a bad option.
        self._retry = RetryPolicy(max_retries=max_retries, **retry_options)
        self._transport = transport
        self._own: Dict[tuple, Any] = {}

    def _inner(self, request: Any, sync: bool) -> Any:
        if self._transport is not None:
            return self._transport
        # The library the client is built on (httpx or httpx2): its own transport, made once.
        library = type(request).__module__.split(".", 1)[0]
        key = (library, sync)
        inner = self._own.get(key)
        if inner is None:
            module = __import__(library)
            inner = self._own[key] = module.HTTPTransport() if sync else module.AsyncHTTPTransport()
        return inner

    def _facts(self, request: Any) -> Dict[str, Any]:
        """What the core's classification needs of the request besides each attempt's outcome."""
        return {"method": request.method, "retryNonIdempotent": self.retry_non_idempotent}

    def _retried(self, response: Any, facts: Dict[str, Any]) -> bool:
        """Whether the core retries this response: a failure, or a status a breaker ignores but
        the core retries (408)."""
        count = _count(response)
        if count == 1:
            return True
        if count == 2:
            verdict = classify_outcome({"error": True, "status": response.status_code, **_server_headers(response), **facts})
            return verdict["decision"] in ("retry", "rateLimited")
        return False

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

    def _settle(self, response: Any, slot: Optional[float], permit: Any, facts: Dict[str, Any], failed: list,
                sync: bool, read: bool) -> Any:
        """An attempt's response: raised to the retry loop when the core retries it (kept in
        ``failed`` to be closed before the next attempt), else answered."""
        if self._retried(response, facts):
            self._release(slot, permit, _count(response))
            failed.append(response)
            raise HTTPStatusFailure(response)
        return self._answered(response, slot, permit, sync, read)

    def _answered(self, response: Any, slot: Optional[float], permit: Any, sync: bool, read: bool) -> Any:
        """The response as answered: its slot and verdict held until its body settles (at once
        when it was read in the attempt)."""
        count = _count(response)
        if read:
            self._release(slot, permit, count)
            return response
        if slot is None and permit is None:
            return response

        def done(exc: Optional[BaseException]) -> None:
            # A body that fails while being read is a failure; one closed early is the caller's
            # choice, counted as the response's status says.
            self._release(slot, permit, exc if exc is not None else count)

        response.stream = _body(response, sync)(response.stream, _Settle(done))
        return response

    # ---- async ---------------------------------------------------------------------------------

    async def handle_async_request(self, request: Any) -> Any:
        facts = self._facts(request)
        inner = self._inner(request, False)
        read_body = bool(request.extensions.get(READ_BODY))
        failed: list = []

        async def attempt() -> Any:
            # The previous attempt's response is let go before the next one is sent.
            while failed:
                await failed.pop().aclose()
            if self.rate_limiter is not None:
                await self.rate_limiter._place_async()
            slot = await self.bulkhead._slot_async() if self.bulkhead is not None else None
            permit = self._permit(slot)

            async def send() -> Any:
                response = await inner.handle_async_request(request)
                if read_body:
                    try:
                        await response.aread()
                    except BaseException:
                        await response.aclose()
                        raise
                return response

            try:
                response = await (send() if self.timeout is None else run_with_timeout(send, self.timeout))
            except BaseException as exc:
                self._release(slot, permit, exc)
                raise
            return self._settle(response, slot, permit, facts, failed, False, read_body)

        try:
            if _replayable(request):
                return await self._retry.call_async(_Resumed(attempt, self._retry._start(attempt, facts)))  # type: ignore[arg-type]
            try:
                return await attempt()
            except BaseException as exc:
                _note_not_replayed(exc, facts)
                raise
        except HTTPStatusFailure as exc:
            # The retries ran out on a response: it is the answer, open as it came.
            failed.clear()
            return exc.response

    async def aclose(self) -> None:
        for key, inner in list(self._own.items()):
            if not key[1]:
                await inner.aclose()
        if self._transport is not None and hasattr(self._transport, "aclose"):
            await self._transport.aclose()

    async def __aenter__(self) -> "ResilientTransport":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # ---- sync ----------------------------------------------------------------------------------

    def handle_request(self, request: Any) -> Any:
        facts = self._facts(request)
        inner = self._inner(request, True)
        read_body = bool(request.extensions.get(READ_BODY))
        failed: list = []

        def attempt() -> Any:
            while failed:
                failed.pop().close()
            if self.rate_limiter is not None:
                self.rate_limiter._place()
            slot = self.bulkhead._slot() if self.bulkhead is not None else None
            permit = self._permit(slot)
            try:
                response = inner.handle_request(request)
                if read_body:
                    try:
                        response.read()
                    except BaseException:
                        response.close()
                        raise
            except BaseException as exc:
                self._release(slot, permit, exc)
                raise
            return self._settle(response, slot, permit, facts, failed, True, read_body)

        try:
            if _replayable(request):
                return self._retry._call(attempt, (), {}, False, facts)
            try:
                return attempt()
            except BaseException as exc:
                _note_not_replayed(exc, facts)
                raise
        except HTTPStatusFailure as exc:
            failed.clear()
            return exc.response

    def close(self) -> None:
        for key, inner in list(self._own.items()):
            if key[1]:
                inner.close()
        if self._transport is not None and hasattr(self._transport, "close"):
            self._transport.close()

    def __enter__(self) -> "ResilientTransport":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

