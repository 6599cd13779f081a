"""``ResilientAdapter``: a ``requests`` transport adapter (``session.mount("https://",
ResilientAdapter(...))``) running each request through the policy stack of ``_http.py`` —
retries outermost, then per attempt a rate limiter's place, a bulkhead's slot and a breaker's
permit (timeouts are requests' own ``timeout=``). The breaker judges a response when its headers
arrive; a retried response is closed before the next attempt; a body given as a generator or a
file is sent once. Set the adapter's own ``max_retries`` aside: these policies retry."""
from __future__ import annotations

from typing import Any, Optional

from ._breaker import CircuitBreaker
from ._bulkhead import Bulkhead
from ._http import Exchange, HttpPolicies
from ._ratelimit import RateLimiter

try:
    from requests.adapters import HTTPAdapter
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("ResilientAdapter needs requests: pip install requests") from exc

__all__ = ["ResilientAdapter"]

_EXCHANGE = Exchange(lambda r: r.status_code, lambda r: r.headers, close=lambda r: r.close())


class ResilientAdapter(HTTPAdapter):
    """``requests``' ``HTTPAdapter`` with the policies; options as ``ResilientTransport``'s (no
    ``timeout``: pass requests' own)."""

    def __init__(self, *, circuit_breaker: Optional[CircuitBreaker] = None, bulkhead: Optional[Bulkhead] = None,
                 rate_limiter: Optional[RateLimiter] = None, max_retries: int = 3, retry_non_idempotent: bool = False,
                 **retry_options: Any) -> None:
        super().__init__()
        self.policies = HttpPolicies(circuit_breaker=circuit_breaker, bulkhead=bulkhead, rate_limiter=rate_limiter,
                                     max_retries=max_retries, retry_non_idempotent=retry_non_idempotent, **retry_options)
        self.policies.refuse_hedging()

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        replayable = request.body is None or isinstance(request.body, (bytes, str))
        return self.policies.send(request.method, lambda: super(ResilientAdapter, self).send(request, **kwargs), _EXCHANGE, replayable,
                                  url=request.url or "", headers=request.headers)
