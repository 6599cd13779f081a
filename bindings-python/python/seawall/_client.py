"""``ResilientClient``: httpx with a breaker, retries and a timeout per attempt.

Which responses and errors count as failures and which are retried is the core's rule
(core/src/outcome.rs), the same as Node's:

- Each attempt has ``timeout`` seconds in all (async client; the sync one has httpx's per-read
  timeouts only).
- 5xx and 429 responses, transport errors and timeouts count as breaker failures; 5xx, 408, 425
  and 429 responses, transport errors and timeouts are retried, honouring ``retry-after-ms``,
  then Retry-After (capped by ``max_retry_after``), and the server's ``x-should-retry``; when
  retries run out the last response is returned (httpx does not raise on status), or the last
  transport error raised.
- Other 4xx responses are returned at once: not retried, not counted.
- POST, PATCH and other non-idempotent requests are retried only when the server cannot have
  acted on them (connection failures, 429, 503 with Retry-After), unless
  ``retry_non_idempotent=True``.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from . import _native
from ._breaker import CircuitBreaker
from ._engine import options_json
from ._retry import RetryPolicy, _Resumed, classify_outcome, server_headers
from ._timeout import run_with_timeout


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ResilientClient needs httpx: pip install 'seawall[http]'") from exc
    return httpx


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
        # Checked now (the core names a bad option).
        self._retry = RetryPolicy(max_retries=max_retries, **retry_options)
        self.timeout = timeout
        self.base_url = base_url

    def _request(self, method: str) -> Dict[str, Any]:
        """What the core's classification needs to know of a request besides each attempt's outcome."""
        return {"method": method, "retryNonIdempotent": self.retry_non_idempotent}

    def _raise_if_retried(self, response: Any, request: Dict[str, Any]) -> Any:
        """A response the core would retry goes to the retry loop as an error (it answers the last
        one when it gives up): a failure, or a status a breaker ignores but the core retries (408)."""
        count = _count(response)
        if count == 1:
            raise HTTPStatusFailure(response)
        if count == 2:
            verdict = classify_outcome({"error": True, "status": response.status_code, **_server_headers(response), **request})
            if verdict["decision"] in ("retry", "rateLimited"):
                raise HTTPStatusFailure(response)
        return response


class ResilientClient(_Base):
    """An ``httpx.AsyncClient`` with a breaker and retries. Use as ``async with`` or call
    ``aclose()``; ``get/post/put/patch/delete/request`` answer ``httpx.Response``."""

    def __init__(self, base_url: str = "", *, circuit_breaker: Optional[CircuitBreaker] = None, timeout: float = 10.0,
                 max_retries: int = 3, retry_non_idempotent: bool = False, client: Any = None, **retry_options: Any) -> None:
        super().__init__(base_url, circuit_breaker, timeout, max_retries, retry_non_idempotent, retry_options)
        self._client = client if client is not None else _httpx().AsyncClient(base_url=base_url, timeout=timeout)

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        request = self._request(method)
        breaker = self.circuit_breaker

        async def attempt() -> Any:
            async def send() -> Any:
                # httpx's timeouts bound each read, so a server dripping a byte at a time holds
                # a request for ever: the attempt as a whole has `timeout` too.
                return await run_with_timeout(lambda: self._client.request(method, url, **kwargs), self.timeout)
            response = await (breaker._call_async_classified(send, _count) if breaker is not None else send())
            return self._raise_if_retried(response, request)

        try:
            return await self._retry.call_async(_Resumed(attempt, self._retry._start(attempt, request)))  # type: ignore[arg-type]
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
        request = self._request(method)
        breaker = self.circuit_breaker

        def attempt() -> Any:
            def send() -> Any:
                return self._client.request(method, url, **kwargs)
            response = breaker._call_classified(send, _count) if breaker is not None else send()
            return self._raise_if_retried(response, request)

        try:
            return self._retry._call(attempt, (), {}, False, request)
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
