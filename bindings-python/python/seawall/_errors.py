"""Seawall's exceptions. Codes are the core's, identical in every language. Option errors are
the built-in ``TypeError`` and ``ValueError`` with ``code``, ``option`` and ``value``."""
from __future__ import annotations

import builtins
from typing import Any, Dict, Optional, Tuple


class ErrorCodes:
    CIRCUIT_OPEN = "CIRCUIT_OPEN"
    BULKHEAD_QUEUE_FULL = "BULKHEAD_QUEUE_FULL"
    BULKHEAD_QUEUE_TIMEOUT = "BULKHEAD_QUEUE_TIMEOUT"
    TIMEOUT = "TIMEOUT"
    RETRY_BUDGET_EXHAUSTED = "RETRY_BUDGET_EXHAUSTED"
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    INVALID_OPTION = "INVALID_OPTION"
    INVALID_PERMIT = "INVALID_PERMIT"
    INVALID_SNAPSHOT = "INVALID_SNAPSHOT"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    # Only the browser's lean module raises it (every Python build has every part).
    NOT_IN_MODULE = "NOT_IN_MODULE"
    CONCURRENCY_LIMITED = "CONCURRENCY_LIMITED"

    ALL = (
        CIRCUIT_OPEN, BULKHEAD_QUEUE_FULL, BULKHEAD_QUEUE_TIMEOUT, TIMEOUT,
        RETRY_BUDGET_EXHAUSTED, RETRIES_EXHAUSTED, INVALID_OPTION, INVALID_PERMIT,
        INVALID_SNAPSHOT, NOT_FOUND, RATE_LIMITED, NOT_IN_MODULE, CONCURRENCY_LIMITED,
    )


def _restore(cls: "type[BaseException]", args: Tuple[Any, ...], state: Dict[str, Any]) -> BaseException:
    err: BaseException = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class SeawallError(Exception):
    """Base of the errors Seawall raises itself (option errors are TypeError / ValueError)."""

    code: str = ""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> Tuple[Any, ...]:
        # Pickled (a process pool's worker, a task queue) and copied as it is, message and fields:
        # each subclass takes arguments of its own, so unpickling must not call its __init__.
        return (_restore, (type(self), self.args, self.__dict__))


class CircuitBreakerError(SeawallError):
    """A breaker refused the call. ``retry_after`` is the time left in seconds (None if unknown)."""

    def __init__(self, message: str = "Circuit breaker is open", retry_after: Optional[float] = None,
                 state: str = "OPEN", name: str = "") -> None:
        super().__init__(message, ErrorCodes.CIRCUIT_OPEN)
        self.state = state
        self.retry_after = retry_after
        self.name = name


CircuitOpenError = CircuitBreakerError


class BulkheadRejectedError(SeawallError):
    """A bulkhead refused the call, or a queued call waited too long."""

    def __init__(self, message: str, code: str, name: str = "") -> None:
        super().__init__(message, code)
        self.name = name


class RateLimitError(SeawallError):
    """A rate limiter refused the call. ``retry_after``: seconds until a place is free."""

    def __init__(self, message: str, retry_after: float, name: str = "") -> None:
        super().__init__(message, ErrorCodes.RATE_LIMITED)
        self.retry_after = retry_after
        self.name = name


class ConcurrencyLimitError(SeawallError):
    """An adaptive concurrency limit shed the call. ``retry_after``: when to come back, seconds."""

    def __init__(self, message: str, retry_after: float, name: str = "") -> None:
        super().__init__(message, ErrorCodes.CONCURRENCY_LIMITED)
        self.retry_after = retry_after
        self.name = name


class TimeoutError(SeawallError, builtins.TimeoutError):  # noqa: A001 - deliberately the builtin's subclass
    """A call ran past its timeout; ``duration`` is how long it ran, in seconds."""

    def __init__(self, duration: float, message: Optional[str] = None) -> None:
        super().__init__(message or f"Operation timed out after {duration:.3f}s", ErrorCodes.TIMEOUT)
        self.duration = duration


class RetryBudgetExhaustedError(SeawallError):
    """A retry was refused because the shared retry budget is empty (``__cause__``: the failure)."""

    def __init__(self, attempts: int) -> None:
        super().__init__(f"Retry budget exhausted after {attempts} attempt{'' if attempts == 1 else 's'}",
                         ErrorCodes.RETRY_BUDGET_EXHAUSTED)
        self.attempts = attempts
