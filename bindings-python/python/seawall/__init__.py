"""Seawall: retry with backoff and jitter, circuit breakers, timeouts, bulkheads and retry
budgets, decided by one Rust engine (``seawall._native``) that behaves the same in Python, Node
and the browser. Durations are seconds."""
from __future__ import annotations

from typing import Any

from ._breaker import CircuitBreaker, circuit_breaker_registry, with_circuit_breaker
from ._bulkhead import Bulkhead
from ._client import HTTPStatusFailure, ResilientClient, SyncResilientClient
from ._aiohttp import ResilientMiddleware
from ._transport import ResilientTransport
from ._clock import VirtualClock, set_testing, virtual_clock
from ._fleet import Fleet
from ._hedge import HedgePolicy, hedge
from ._limit import AdaptiveLimit
from ._asgi import AdaptiveLimitMiddleware
from ._errors import (
    BulkheadRejectedError,
    CircuitBreakerError,
    ConcurrencyLimitError,
    CircuitOpenError,
    ErrorCodes,
    RateLimitError,
    RetryBudgetExhaustedError,
    SeawallError,
    TimeoutError,
)
from ._policies import _PRESET_CIRCUITS, ResiliencePolicies, defaults, get_health_status, preset_circuit, prometheus_metrics
from ._retry import (
    RetryBudget,
    RetryPolicies,
    RetryPolicy,
    exponential_backoff_with_jitter,
    parse_retry_after,
    retry,
    retry_with_backoff,
)
from ._ratelimit import RateLimiter, rate_limiter
from ._timeout import with_timeout
from ._otel import instrument
from ._simulate import simulate

timeout = with_timeout


def __getattr__(name: str) -> Any:
    """``openai_circuit``, ``stripe_circuit``, ``dataservice_circuit``: made on first use; and
    ``ResilientAdapter``, which needs requests (an optional dependency), imported when asked for."""
    if name in _PRESET_CIRCUITS:
        return preset_circuit(name)
    if name == "ResilientAdapter":
        from ._requests import ResilientAdapter

        return ResilientAdapter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AdaptiveLimit",
    "AdaptiveLimitMiddleware",
    "Bulkhead",
    "BulkheadRejectedError",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitOpenError",
    "ConcurrencyLimitError",
    "ErrorCodes",
    "Fleet",
    "HTTPStatusFailure",
    "HedgePolicy",
    "RateLimitError",
    "RateLimiter",
    "ResiliencePolicies",
    "ResilientClient",
    "ResilientMiddleware",
    "ResilientTransport",
    "RetryBudget",
    "RetryBudgetExhaustedError",
    "RetryPolicies",
    "RetryPolicy",
    "SeawallError",
    "SyncResilientClient",
    "TimeoutError",
    "VirtualClock",
    "circuit_breaker_registry",
    "dataservice_circuit",
    "defaults",
    "exponential_backoff_with_jitter",
    "get_health_status",
    "hedge",
    "instrument",
    "openai_circuit",
    "parse_retry_after",
    "prometheus_metrics",
    "rate_limiter",
    "retry",
    "retry_with_backoff",
    "set_testing",
    "simulate",
    "stripe_circuit",
    "timeout",
    "virtual_clock",
    "with_circuit_breaker",
    "with_timeout",
]

