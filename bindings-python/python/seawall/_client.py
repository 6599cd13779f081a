"""``ResilientClient`` / ``SyncResilientClient``: an httpx client whose transport is a
``ResilientTransport`` (a breaker, retries and a timeout per attempt; see ``_http.py`` for what
fails and what is retried: the core decides). Each request's body is read inside its attempt,
so ``timeout`` bounds the whole response, and when the retries run out the last response is
answered (httpx does not raise on status).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from ._breaker import CircuitBreaker
from ._transport import READ_BODY, HTTPStatusFailure, ResilientTransport

if TYPE_CHECKING:
    import httpx

__all__ = ["HTTPStatusFailure", "ResilientClient", "SyncResilientClient"]


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ResilientClient needs httpx: pip install 'seawall[http]'") from exc
    return httpx


class _Base:
    def __init__(self, base_url: str, circuit_breaker: Optional[CircuitBreaker], timeout: float, max_retries: int,
                 retry_non_idempotent: bool, client: Any, sync: bool, retry_options: dict) -> None:
        self.transport = ResilientTransport(circuit_breaker=circuit_breaker, timeout=timeout, max_retries=max_retries,
                                            retry_non_idempotent=retry_non_idempotent, **retry_options)
        if client is None:
            httpx = _httpx()
            client = (httpx.Client if sync else httpx.AsyncClient)(base_url=base_url, timeout=timeout, transport=self.transport)
        else:
            # A client of the caller's (httpx or httpx2): its own transport goes behind the policies.
            self.transport._transport, client._transport = client._transport, self.transport
        self._client = client
        self.circuit_breaker = circuit_breaker
        self.timeout = timeout
        self.base_url = base_url
        self.retry_non_idempotent = retry_non_idempotent

    @staticmethod
    def _reading(kwargs: Any) -> Any:
        kwargs["extensions"] = {**(kwargs.get("extensions") or {}), READ_BODY: True}
        return kwargs


class ResilientClient(_Base):
    """An ``httpx.AsyncClient`` with a breaker and retries. Use as ``async with`` or call
    ``aclose()``; ``get/post/put/patch/delete/request`` answer ``httpx.Response``."""

    def __init__(self, base_url: str = "", *, circuit_breaker: Optional[CircuitBreaker] = None, timeout: float = 10.0,
                 max_retries: int = 3, retry_non_idempotent: bool = False, client: Any = None, **retry_options: Any) -> None:
        super().__init__(base_url, circuit_breaker, timeout, max_retries, retry_non_idempotent, client, False, retry_options)

    async def request(self, method: str, url: str, **kwargs: Any) -> "httpx.Response":
        return await self._client.request(method, url, **self._reading(kwargs))

    async def get(self, url: str, **kwargs: Any) -> "httpx.Response":
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> "httpx.Response":
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> "httpx.Response":
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> "httpx.Response":
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> "httpx.Response":
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
        super().__init__(base_url, circuit_breaker, timeout, max_retries, retry_non_idempotent, client, True, retry_options)
        self.transport.policies.refuse_hedging()

    def request(self, method: str, url: str, **kwargs: Any) -> "httpx.Response":
        return self._client.request(method, url, **self._reading(kwargs))

    def get(self, url: str, **kwargs: Any) -> "httpx.Response":
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> "httpx.Response":
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> "httpx.Response":
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> "httpx.Response":
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> "httpx.Response":
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "SyncResilientClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
