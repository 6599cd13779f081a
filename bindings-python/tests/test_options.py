"""Bad input: every invalid option raises ValueError (out of range) or TypeError (wrong type,
unknown name) carrying code INVALID_OPTION and naming the option and value."""
from __future__ import annotations

from typing import Any, Callable, List, Tuple, Type

import pytest

import seawall
from seawall import Bulkhead, CircuitBreaker, ResilientClient, RetryBudget, RetryPolicies, RetryPolicy

CASES: List[Tuple[str, Callable[[], Any], Type[BaseException], str, Any]] = [
    ("failure_threshold 0", lambda: CircuitBreaker(failure_threshold=0), ValueError, "failure_threshold", "0"),
    ("failure_threshold negative", lambda: CircuitBreaker(failure_threshold=-1), ValueError, "failure_threshold", "-1"),
    ("failure_threshold fractional", lambda: CircuitBreaker(failure_threshold=2.5), ValueError, "failure_threshold", "2.5"),
    ("failure_threshold nan", lambda: CircuitBreaker(failure_threshold=float("nan")), ValueError, "failure_threshold", "NaN"),
    ("failure_threshold str", lambda: CircuitBreaker(failure_threshold="5"), TypeError, "failure_threshold", '"5"'),  # type: ignore[arg-type]
    ("recovery_timeout negative", lambda: CircuitBreaker(recovery_timeout=-1.0), ValueError, "recovery_timeout", "-1"),
    ("recovery_timeout zero", lambda: CircuitBreaker(recovery_timeout=0), ValueError, "recovery_timeout", "0"),
    ("recovery_timeout inf", lambda: CircuitBreaker(recovery_timeout=float("inf")), ValueError, "recovery_timeout", "Infinity"),
    ("recovery vs reset", lambda: CircuitBreaker(recovery_timeout=30.0, reset_timeout=60.0), TypeError, "reset_timeout", "60"),
    ("half_open_max_calls 0", lambda: CircuitBreaker(half_open_max_calls=0), ValueError, "half_open_max_calls", "0"),
    ("success_threshold 0", lambda: CircuitBreaker(success_threshold=0), ValueError, "success_threshold", "0"),
    ("failure_rate_threshold 1.5", lambda: CircuitBreaker(failure_rate_threshold=1.5), ValueError, "failure_rate_threshold", "1.5"),
    ("failure_rate_threshold percent", lambda: CircuitBreaker(failure_rate_threshold=50), ValueError, "failure_rate_threshold", "50"),
    ("volume_threshold 0", lambda: CircuitBreaker(volume_threshold=0), ValueError, "volume_threshold", "0"),
    ("slow rate without duration", lambda: CircuitBreaker(slow_call_rate_threshold=0.3), TypeError, "slow_call_rate_threshold", "0.3"),
    ("window size and duration", lambda: CircuitBreaker(window_size=10, window_duration=60.0), TypeError, "window_size", "10"),
    ("max_reset_timeout below", lambda: CircuitBreaker(recovery_timeout=10.0, max_reset_timeout=1.0), ValueError, "max_reset_timeout", "1"),
    ("timeout negative", lambda: CircuitBreaker(timeout=-2.0), ValueError, "timeout", "-2"),
    ("on_state_change not callable", lambda: CircuitBreaker(on_state_change=5), TypeError, "on_state_change", "5"),  # type: ignore[arg-type]
    ("unknown breaker option", lambda: CircuitBreaker(failure_treshold=5), TypeError, "failure_treshold", None),
    ("max_attempts 0", lambda: RetryPolicy(max_attempts=0), ValueError, "max_attempts", "0"),
    ("max_retries negative", lambda: RetryPolicy(max_retries=-1), ValueError, "max_retries", "-1"),
    ("attempts vs retries", lambda: RetryPolicy(max_attempts=3, max_retries=3), ValueError, "max_retries", "3"),
    ("base_delay negative", lambda: RetryPolicy(base_delay=-0.5), ValueError, "base_delay", "-0.5"),
    ("max below base", lambda: RetryPolicy(base_delay=2.0, max_delay=1.0), ValueError, "max_delay", "1"),
    ("multiplier below 1", lambda: RetryPolicy(backoff_multiplier=0.5), ValueError, "backoff_multiplier", "0.5"),
    ("jitter unknown", lambda: RetryPolicy(jitter="wobbly"), ValueError, "jitter", '"wobbly"'),
    ("jitter_factor 2", lambda: RetryPolicy(jitter_factor=2.0), ValueError, "jitter_factor", "2"),
    ("retry_on not a class", lambda: RetryPolicy(retry_on="ValueError"), TypeError, "retry_on", "'ValueError'"),  # type: ignore[arg-type]
    ("on_retry not callable", lambda: RetryPolicy(on_retry=3), TypeError, "on_retry", "3"),  # type: ignore[arg-type]
    ("circuit_breaker wrong type", lambda: RetryPolicy(circuit_breaker="cb"), TypeError, "circuit_breaker", "'cb'"),  # type: ignore[arg-type]
    ("unknown retry option", lambda: RetryPolicy(max_attemps=3), TypeError, "max_attemps", None),
    ("max_concurrent 0", lambda: Bulkhead(max_concurrent=0), ValueError, "max_concurrent", "0"),
    ("max_queue_size negative", lambda: Bulkhead(max_queue_size=-1), ValueError, "max_queue_size", "-1"),
    ("queue_timeout zero", lambda: Bulkhead(queue_timeout=0), ValueError, "queue_timeout", "0"),
    ("budget ratio negative", lambda: RetryBudget(ratio=-0.1), ValueError, "ratio", "-0.1"),
    ("budget max_tokens", lambda: RetryBudget(max_tokens=0.5), ValueError, "max_tokens", "0.5"),
    ("client max_retries negative", lambda: ResilientClient("http://x", max_retries=-1), ValueError, "max_retries", "-1"),
    ("client breaker wrong type", lambda: ResilientClient("http://x", circuit_breaker=object()), TypeError, "circuit_breaker", None),  # type: ignore[arg-type]
    ("backoff attempt negative", lambda: seawall.exponential_backoff_with_jitter(-1), ValueError, "attempt", "-1"),
    ("backoff base_delay str", lambda: seawall.exponential_backoff_with_jitter(1, base_delay="x"), TypeError, "base_delay", '"x"'),  # type: ignore[arg-type]
    ("backoff jitter_factor bool", lambda: seawall.exponential_backoff_with_jitter(1, jitter_factor=True), TypeError, "jitter_factor", "true"),
    # A retry preset's numbers, named as its parameters; their ranges are the options' own,
    # checked when the preset is made.
    ("fixed preset attempts str", lambda: RetryPolicies.fixed("3"), TypeError, "attempts", '"3"'),  # type: ignore[arg-type]
    ("exponential preset attempts bool", lambda: RetryPolicies.exponential(True), TypeError, "attempts", "true"),
    ("exponential preset initial str", lambda: RetryPolicies.exponential(3, "a"), TypeError, "initial", '"a"'),  # type: ignore[arg-type]
    ("exponential preset max inf", lambda: RetryPolicies.exponential(3, 0.1, float("inf")), ValueError, "max", "Infinity"),
    ("exponential preset attempts negative", lambda: RetryPolicies.exponential(-3), ValueError, "max_attempts", "-3"),
    ("fixed preset delay negative", lambda: RetryPolicies.fixed(3, -1.0), ValueError, "base_delay", "-1"),
    ("virtual clock start str", lambda: seawall.VirtualClock("now"), TypeError, "start", '"now"'),  # type: ignore[arg-type]
    ("virtual clock start nan", lambda: seawall.VirtualClock(float("nan")), ValueError, "start", "NaN"),
    ("virtual clock auto_advance str", lambda: seawall.VirtualClock(auto_advance="yes"), TypeError, "auto_advance", '"yes"'),  # type: ignore[arg-type]
]


def test_a_bad_preset_fails_every_time_and_none_means_not_given() -> None:
    for _ in range(3):
        with pytest.raises(TypeError):
            RetryPolicies.exponential(3, "a")  # type: ignore[arg-type]
    assert RetryPolicies.exponential(None, None, None) == RetryPolicies.exponential()
    assert seawall.VirtualClock(None).now() == 0.0  # None is "not given" here too
    p = RetryPolicies.exponential(5, 0.1, 30)
    assert (p["max_attempts"], p["base_delay"], p["max_delay"]) == (5, 0.1, 30)
    p["max_attempts"] = 2  # each caller gets its own copy
    assert RetryPolicies.exponential(5, 0.1, 30)["max_attempts"] == 5


def test_at_least_30_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_invalid_option(case: Tuple[str, Callable[[], Any], Type[BaseException], str, Any]) -> None:
    _, thunk, error, option, value = case
    with pytest.raises(error) as e:
        thunk()
    assert getattr(e.value, "code", None) == "INVALID_OPTION"
    assert getattr(e.value, "option", None) == option
    if value is not None:
        assert getattr(e.value, "value", None) == value
    assert option in str(e.value)


async def test_with_timeout_rejects_bad_seconds() -> None:
    async def f() -> int:
        return 1
    with pytest.raises(ValueError) as e:
        await seawall.with_timeout(f, -1.0)
    assert e.value.option == "timeout"  # type: ignore[attr-defined]


def test_backoff_schedules_are_bounded_and_still_right() -> None:
    from seawall import _retry

    for i in range(200):  # distinct schedules: the cache keeps at most 64, freeing the rest
        d = seawall.exponential_backoff_with_jitter(0, base_delay=0.01 * (i + 1), jitter_factor=0)
        assert d == pytest.approx(0.01 * (i + 1))
    assert len(_retry._schedules) <= 64
    assert seawall.exponential_backoff_with_jitter(3, base_delay=0.5, jitter_factor=0) == pytest.approx(4.0)
