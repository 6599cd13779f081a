"""Health, metrics and presets: seed 003's ``ResiliencePolicies`` and health report, the
Prometheus export, and the named circuits of seeds 000/001."""
from __future__ import annotations

import json
from typing import Any, Dict

from . import _native
from ._breaker import CircuitBreaker, flush_all
from ._engine import engine


def get_health_status() -> Dict[str, Any]:
    """``{"summary": {"healthy", "issues"}, "circuit_breakers": {...}, "bulkheads": [...]}``."""
    flush_all()
    h = json.loads(engine.health(None))
    cb = h["circuitBreakers"]
    return {
        "summary": h["summary"],
        "circuit_breakers": {"total": cb["total"], "healthy": cb["healthy"], "unhealthy": cb["unhealthy"], "by_state": cb["byState"]},
        "bulkheads": h["bulkheads"],
    }


def prometheus_metrics() -> str:
    """Every registered breaker and bulkhead, and the retry and timeout counters, in the
    Prometheus text format under seed 003's names."""
    flush_all()
    return str(engine.prometheus())


def defaults() -> Dict[str, float]:
    """The core's defaults (canonical names, ms)."""
    return json.loads(_native.defaults_json())  # type: ignore[no-any-return]


def _policy(name: str) -> Dict[str, Any]:
    return json.loads(_native.preset_policy(name, True) or "{}")  # type: ignore[no-any-return]


class ResiliencePolicies:
    """Seed 003's presets in Python spelling (seconds)."""

    api = staticmethod(lambda: _policy("api"))
    ai = staticmethod(lambda: _policy("ai"))
    database = staticmethod(lambda: _policy("database"))
    external = staticmethod(lambda: _policy("external"))
    critical = staticmethod(lambda: _policy("critical"))


def _circuit(preset: str, name: str) -> CircuitBreaker:
    options = json.loads(_native.preset_circuit(preset, True) or "{}")
    return CircuitBreaker(name, **options)


openai_circuit = _circuit("openai", "openai")
stripe_circuit = _circuit("stripe", "stripe")
dataservice_circuit = _circuit("dataService", "dataservice")
