"""The policy simulator from Python: what a retry/breaker/budget/bulkhead policy does to a
struggling backend, on a virtual clock, deterministically (the engine of ``seawall-sim``).

    from seawall import simulate
    result = simulate({"backend": {...}, "policies": {...}})   # or the JSON text of a file

    python -m seawall.simulate examples/scenario.json           # a summary table

The scenario format is ``examples/scenario.json``'s (times in ms; policy objects take the
libraries' own option names). Bad fields raise ``ValueError``/``TypeError`` naming them."""
from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _native


def simulate(scenario: Union[Mapping[str, Any], str]) -> Dict[str, Any]:
    """Runs every policy of ``scenario``: ``{"policies": [{"name", "summary", "series"}]}``."""
    text = scenario if isinstance(scenario, str) else json.dumps(scenario, allow_nan=False)
    result: Dict[str, Any] = json.loads(_native.simulate(text))
    return result


def _table(result: Dict[str, Any]) -> List[str]:
    rows = [f"{'policy':<28} {'requests':>9} {'amplification':>13} {'success':>8} {'p99 ms':>8} {'recovery':>9}"]
    for p in result["policies"]:
        s = p["summary"]
        recovery = "never" if s["recoveryMs"] is None else f"{s['recoveryMs'] / 1000:.1f} s"
        rows.append(f"{p['name']:<28} {s['requests']:>9} {s['amplification']:>12.2f}x {s['successRate'] * 100:>7.1f}% "
                    f"{s['p99LatencyMs']:>8.0f} {recovery:>9}")
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m seawall.simulate SCENARIO.json", file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            result = simulate(f.read())
    except (OSError, ValueError, TypeError) as exc:
        print(f"seawall.simulate: {exc}", file=sys.stderr)
        return 2
    print("\n".join(_table(result)))
    return 0
