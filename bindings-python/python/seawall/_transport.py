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
  bounds the whole response. A breaker's own ``timeout``, when shorter, bounds each attempt too;
  a sync attempt (cut by the client's own timeouts) that answers after it fails then.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Dict, Optional

from ._breaker import CircuitBreaker
from ._bulkhead import Bulkhead
from ._engine import option_error
from ._http import Exchange, HttpPolicies, HTTPStatusFailure, Settle
from ._ratelimit import RateLimiter

__all__ = ["HTTPStatusFailure", "READ_BODY", "ResilientTransport"]

# Set in a request's ``extensions`` by ``ResilientClient``: read the body inside the attempt.
READ_BODY = "seawall.read_body"


def _replayable(request: Any) -> bool:
    """Whether the body can be sent again: given as bytes (or none), not as an iterator."""
    return hasattr(request, "_content")


class _AsyncBody:
    """An answered response's body (httpx's ``AsyncByteStream`` contract), settling when read to
    the end, failed or closed. Used as a subclass of the client library's ``AsyncByteStream``
    (``_body``), which the clients check."""

    def __init__(self, stream: Any, settle: Settle) -> None:
        self._stream, self._settle = stream, settle
        # At exit too (while the interpreter still runs), unlike a __del__ during its teardown.
        weakref.finalize(self, settle, None)

    async def __aiter__(self) -> Any:
        try:
            async for chunk in self._stream:
                yield chunk
        except BaseException as exc:
            self._settle(exc)
            raise
        self._settle(None)

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._settle(None)


class _SyncBody:
    """``_AsyncBody`` for the sync contract (``SyncByteStream``)."""

    def __init__(self, stream: Any, settle: Settle) -> None:
        self._stream, self._settle = stream, settle
        weakref.finalize(self, settle, None)

    def __iter__(self) -> Any:
        try:
            for chunk in self._stream:
                yield chunk
        except BaseException as exc:
            self._settle(exc)
            raise
        self._settle(None)

    def close(self) -> None:
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        finally:
            self._settle(None)


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


def _hold(sync: bool) -> Any:
    def hold(response: Any, settle: Settle) -> Any:
        if response.is_closed:
            # Read whole and closed already (a response made with its content, as a mock
            # transport answers): nothing left to hold.
            settle(None)
            return response
        response.stream = _body(response, sync)(response.stream, settle)
        return response
    return hold


async def _aclose(response: Any) -> None:
    await response.aclose()


def _status(response: Any) -> int:
    return response.status_code  # type: ignore[no-any-return]


def _headers(response: Any) -> Any:
    return response.headers


ASYNC = Exchange(_status, _headers, aclose=_aclose, hold=_hold(False))
SYNC = Exchange(_status, _headers, close=lambda r: r.close(), hold=_hold(True))


if TYPE_CHECKING:
    # What type checkers see: a transport both libraries' clients take, async and sync. At run
    # time neither library is imported for it (a client checks no transport's class).
    import httpx
    import httpx2

    class _Transports(httpx.AsyncBaseTransport, httpx.BaseTransport, httpx2.AsyncBaseTransport, httpx2.BaseTransport):  # type: ignore[misc]
        pass
else:
    _Transports = object


class ResilientTransport(_Transports):
    """A transport for ``httpx`` / ``httpx2`` clients, async and sync alike: ``transport`` (default:
    the library's own, matching the client's) behind a policy stack (see ``_http.py``).
    ``timeout``: seconds per async attempt (sync requests: the client's own timeouts); retry
    options as ``RetryPolicy`` takes them (``max_retries=3``, backoff, ``retry_non_idempotent``,
    ``budget`` …)."""

    def __init__(self, transport: Any = None, *, circuit_breaker: Optional[CircuitBreaker] = None,
                 bulkhead: Optional[Bulkhead] = None, rate_limiter: Optional[RateLimiter] = None,
                 timeout: Optional[float] = None, max_retries: int = 3, retry_non_idempotent: bool = False,
                 **retry_options: Any) -> None:
        self.policies = HttpPolicies(circuit_breaker=circuit_breaker, bulkhead=bulkhead, rate_limiter=rate_limiter, timeout=timeout,
                                     max_retries=max_retries, retry_non_idempotent=retry_non_idempotent, **retry_options)
        # Checked now: a wrong one would fail every request, each with an AttributeError.
        if transport is not None and not (hasattr(transport, "handle_async_request") or hasattr(transport, "handle_request")):
            raise option_error("transport", "an httpx or httpx2 transport (with handle_request or handle_async_request)", transport)
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

    async def handle_async_request(self, request: Any) -> Any:
        inner = self._inner(request, False)
        read = _aread if request.extensions.get(READ_BODY) else None
        return await self.policies.send_async(request.method, lambda: inner.handle_async_request(request), ASYNC, _replayable(request), read,
                                             str(request.url), request.headers)

    def handle_request(self, request: Any) -> Any:
        inner = self._inner(request, True)
        read = _read if request.extensions.get(READ_BODY) else None
        return self.policies.send(request.method, lambda: inner.handle_request(request), SYNC, _replayable(request), read, str(request.url),
                                  request.headers)

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


async def _aread(response: Any) -> None:
    await response.aread()


def _read(response: Any) -> None:
    response.read()
