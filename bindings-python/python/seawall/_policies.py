"""Health, metrics and presets: ``ResiliencePolicies`` and the health report, the Prometheus
export, and the ready-made named circuits."""
from __future__ import annotations

import json
import threading
from typing import Any, Dict

from . import _native
from ._breaker import CircuitBreaker, flush_all
from ._engine import engine, snake


def get_health_status() -> Dict[str, Any]:
    """``{"summary": {"healthy", "issues"}, "circuit_breakers": {...}, "bulkheads": [...]}``."""
    flush_all()
    h = json.loads(engine.health(None))
    cb = h["circuitBreakers"]
    breakers = {"total": cb["total"], "healthy": cb["healthy"], "unhealthy": cb["unhealthy"], "by_state": cb["byState"]}
    if "fleet" in cb:  # fleet breakers by name: {"mode", "replicas", "fresh"}
        breakers["fleet"] = cb["fleet"]
    return {
        "summary": h["summary"],
        "circuit_breakers": breakers,
        "bulkheads": [{snake(k): ({snake(f): n for f, n in v.items()} if isinstance(v, dict) else v) for k, v in b.items()} for b in h["bulkheads"]],
    }


def prometheus_metrics() -> str:
    """Every registered breaker and bulkhead, and the retry and timeout counters, in the
    Prometheus text format under the names dashboards already use."""
    flush_all()
    return str(engine.prometheus())


def defaults() -> Dict[str, float]:
    """The core's defaults (canonical names, ms)."""
    return json.loads(_native.defaults_json())  # type: ignore[no-any-return]


def _policy(name: str) -> Dict[str, Any]:
    return json.loads(_native.preset_policy(name, True) or "{}")  # type: ignore[no-any-return]


class ResiliencePolicies:
    """Policy presets (api, ai, database, external, critical) in Python spelling (seconds)."""

    api = staticmethod(lambda: _policy("api"))
    ai = staticmethod(lambda: _policy("ai"))
    database = staticmethod(lambda: _policy("database"))
    external = staticmethod(lambda: _policy("external"))
    critical = staticmethod(lambda: _policy("critical"))


# The ready-made named circuits, made (and registered) when first asked for
# (`seawall.openai_circuit`, `from seawall import stripe_circuit`): importing the package
# registers nothing, so health and metrics list only the breakers an app made or used.
_PRESET_CIRCUITS = {"openai_circuit": ("openai", "openai"), "stripe_circuit": ("stripe", "stripe"),
                    "dataservice_circuit": ("dataService", "dataservice")}
_presets: Dict[str, CircuitBreaker] = {}
_presets_lock = threading.Lock()


def preset_circuit(attr: str) -> CircuitBreaker:
    with _presets_lock:
        breaker = _presets.get(attr)
        if breaker is None:
            preset, name = _PRESET_CIRCUITS[attr]
            breaker = _presets[attr] = CircuitBreaker(name, **json.loads(_native.preset_circuit(preset, True) or "{}"))
        return breaker


def __getattr__(name: str) -> CircuitBreaker:
    if name in _PRESET_CIRCUITS:
        return preset_circuit(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
