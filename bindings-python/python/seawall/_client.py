"""``ResilientClient`` (seed 001): httpx with a breaker, retries and a timeout per attempt.

- Each attempt has ``timeout`` seconds in all (async client; the sync one has httpx's per-read
  timeouts only).
- 5xx and 429 responses, transport errors and timeouts count as breaker failures and are
  retried, honouring Retry-After (capped by ``max_retry_after``); when retries run out the last
  response is returned (httpx does not raise on status), or the last transport error raised.
- Other 4xx responses are returned at once: not retried, not counted.
- POST, PATCH and other non-idempotent requests are retried only when the server cannot have
  acted on them (connection failures, 429, 503 with Retry-After), unless
  ``retry_non_idempotent=True``.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from . import _native
from ._breaker import CircuitBreaker
from ._engine import options_json
from ._errors import TimeoutError
from ._retry import RetryPolicy, parse_retry_after
from ._timeout import run_with_timeout

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ResilientClient needs httpx: pip install 'seawall[http]'") from exc
    return httpx


class HTTPStatusFailure(Exception):
    """A 5xx or 429 response, raised inside the retry loop so that it is retried."""

    def __init__(self, response: Any) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.status_code = response.status_code
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))


def _classify(response: Any) -> int:
    status = response.status_code
    if status >= 500 or status == 429:
        return 1
    return 2 if status >= 400 else 0


def _retryable(unsafe: bool) -> Callable[[BaseException], bool]:
    """Which failures may be retried; ``unsafe``: the request may have changed server state."""
    def retryable(exc: BaseException) -> bool:
        httpx = _httpx()
        if isinstance(exc, HTTPStatusFailure):
            return not unsafe or exc.status_code == 429 or (exc.status_code == 503 and exc.retry_after is not None)
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return True  # the request never reached the server
        return isinstance(exc, (httpx.TransportError, TimeoutError)) and not unsafe
    return retryable


class _Base:
    def __init__(self, base_url: str, circuit_breaker: Optional[CircuitBreaker], timeout: float, max_retries: int,
                 retry_non_idempotent: bool, retry_options: dict) -> None:
        if circuit_breaker is not None and not isinstance(circuit_breaker, CircuitBreaker):
            err = TypeError(f"invalid option circuit_breaker: expected a CircuitBreaker, got {circuit_breaker!r}")
            err.code, err.option, err.value = "INVALID_OPTION", "circuit_breaker", repr(circuit_breaker)  # type: ignore[attr-defined]
            raise err
        _native.validate("timeout", options_json({"timeout": timeout}), True)
        self.circuit_breaker = circuit_breaker
        self.retry_non_idempotent = retry_non_idempotent
        # Checked now (the core names a bad option); one policy for the requests that may be
        # retried after reaching the server, one for those that may not.
        options = dict(max_retries=max_retries, **retry_options)
        self._policies = (RetryPolicy(retry_if=_retryable(False), **options), RetryPolicy(retry_if=_retryable(True), **options))
        self.timeout = timeout
        self.base_url = base_url

    def _policy(self, method: str) -> RetryPolicy:
        return self._policies[method.upper() not in IDEMPOTENT and not self.retry_non_idempotent]


class ResilientClient(_Base):
    """An ``httpx.AsyncClient`` with a breaker and retries. Use as ``async with`` or call
    ``aclose()``; ``get/post/put/patch/delete/request`` answer ``httpx.Response``."""

    def __init__(self, base_url: str = "", *, circuit_breaker: Optional[CircuitBreaker] = None, timeout: float = 10.0,
                 max_retries: int = 3, retry_non_idempotent: bool = False, client: Any = None, **retry_options: Any) -> None:
        super().__init__(base_url, circuit_breaker, timeout, max_retries, retry_non_idempotent, retry_options)
        self._client = client if client is not None else _httpx().AsyncClient(base_url=base_url, timeout=timeout)

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        policy = self._policy(method)
        breaker = self.circuit_breaker

        async def attempt() -> Any:
            async def send() -> Any:
                # httpx's timeouts bound each read, so a server dripping a byte at a time holds
                # a request for ever: the attempt as a whole has `timeout` too.
                return await run_with_timeout(lambda: self._client.request(method, url, **kwargs), self.timeout)
            response = await (breaker._call_async_classified(send, _classify) if breaker is not None else send())
            if _classify(response) == 1:
                raise HTTPStatusFailure(response)
            return response

        try:
            return await policy.call_async(attempt)
        except HTTPStatusFailure as exc:
            return exc.response

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Any:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Any:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Any:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Any:
        return await self.request("DELETE", url, **kwargs)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "ResilientClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class SyncResilientClient(_Base):
    """The same over ``httpx.Client``, for synchronous code."""

    def __init__(self, base_url: str = "", *, circuit_breaker: Optional[CircuitBreaker] = None, timeout: float = 10.0,
                 max_retries: int = 3, retry_non_idempotent: bool = False, client: Any = None, **retry_options: Any) -> None:
        super().__init__(base_url, circuit_breaker, timeout, max_retries, retry_non_idempotent, retry_options)
        self._client = client if client is not None else _httpx().Client(base_url=base_url, timeout=timeout)

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        policy = self._policy(method)
        breaker = self.circuit_breaker

        def attempt() -> Any:
            def send() -> Any:
                return self._client.request(method, url, **kwargs)
            response = breaker._call_classified(send, _classify) if breaker is not None else send()
            if _classify(response) == 1:
                raise HTTPStatusFailure(response)
            return response

        try:
            return policy.call(attempt)
        except HTTPStatusFailure as exc:
            return exc.response

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "SyncResilientClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
