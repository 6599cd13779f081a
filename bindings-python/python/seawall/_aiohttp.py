"""``ResilientMiddleware``: aiohttp client middleware (aiohttp ≥ 3.12,
``ClientSession(middlewares=(ResilientMiddleware(...),))``) running each request through the
policy stack of ``_http.py`` — retries outermost, then per attempt a rate limiter's place, a
bulkhead's slot, a breaker's permit and a timeout. The breaker judges a response when its headers
arrive (aiohttp's body cannot be watched from a middleware); a retried response is released
before the next attempt; a streamed body is sent once."""
from __future__ import annotations

from typing import Any, Optional

from ._breaker import CircuitBreaker
from ._bulkhead import Bulkhead
from ._http import Exchange, HttpPolicies
from ._ratelimit import RateLimiter

__all__ = ["ResilientMiddleware"]


async def _release(response: Any) -> None:
    response.release()


_EXCHANGE = Exchange(lambda r: r.status, lambda r: r.headers, aclose=_release)


def _replayable(request: Any) -> bool:
    """Bytes, text, JSON and form bodies are sent again as they are; a stream or a file is not."""
    try:
        from aiohttp import payload
    except ImportError:  # pragma: no cover - only reached from aiohttp's own call
        return True
    return not isinstance(request.body, (payload.AsyncIterablePayload, payload.IOBasePayload))


class ResilientMiddleware:
    """An aiohttp client middleware carrying the policies; options as ``ResilientTransport``'s."""

    def __init__(self, *, circuit_breaker: Optional[CircuitBreaker] = None, bulkhead: Optional[Bulkhead] = None,
                 rate_limiter: Optional[RateLimiter] = None, timeout: Optional[float] = None, max_retries: int = 3,
                 retry_non_idempotent: bool = False, **retry_options: Any) -> None:
        self.policies = HttpPolicies(circuit_breaker=circuit_breaker, bulkhead=bulkhead, rate_limiter=rate_limiter, timeout=timeout,
                                     max_retries=max_retries, retry_non_idempotent=retry_non_idempotent, **retry_options)

    async def __call__(self, request: Any, handler: Any) -> Any:
        return await self.policies.send_async(request.method, lambda: handler(request), _EXCHANGE, _replayable(request), url=str(request.url),
                                             headers=request.headers)
