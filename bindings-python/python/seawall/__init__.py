"""Seawall: retry with backoff and jitter, circuit breakers, timeouts, bulkheads and retry
budgets, decided by one Rust engine (``seawall._native``) that behaves the same in Python, Node
and the browser. Durations are seconds."""
from __future__ import annotations

from ._breaker import CircuitBreaker, circuit_breaker_registry, with_circuit_breaker
from ._bulkhead import Bulkhead
from ._client import HTTPStatusFailure, ResilientClient, SyncResilientClient
from ._clock import VirtualClock, set_testing, virtual_clock
from ._errors import (
    BulkheadRejectedError,
    CircuitBreakerError,
    CircuitOpenError,
    ErrorCodes,
    RetryBudgetExhaustedError,
    SeawallError,
    TimeoutError,
)
from ._policies import (
    ResiliencePolicies,
    dataservice_circuit,
    defaults,
    get_health_status,
    openai_circuit,
    prometheus_metrics,
    stripe_circuit,
)
from ._retry import (
    RetryBudget,
    RetryPolicies,
    RetryPolicy,
    exponential_backoff_with_jitter,
    parse_retry_after,
    retry,
    retry_with_backoff,
)
from ._timeout import with_timeout
from ._simulate import simulate

timeout = with_timeout

__all__ = [
    "Bulkhead",
    "BulkheadRejectedError",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitOpenError",
    "ErrorCodes",
    "HTTPStatusFailure",
    "ResiliencePolicies",
    "ResilientClient",
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
    "openai_circuit",
    "parse_retry_after",
    "prometheus_metrics",
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
