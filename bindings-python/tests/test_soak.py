"""The soak (bench/python/soak.py) at 20,000 calls: success, failure, per-attempt timeouts,
tasks cancelled at random moments, an open breaker and a full bulkhead, all through one
bulkhead -> retry -> breaker stack. Afterwards nothing is held and every call ended once."""
from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("seawall_soak", Path(__file__).resolve().parents[2] / "bench" / "python" / "soak.py")
assert _spec is not None and _spec.loader is not None
soak_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak_module)


async def test_20000_mixed_calls_leave_nothing_held_and_each_ends_once_with_a_typed_outcome() -> None:
    r = await soak_module.soak(20_000, name="soak-test")
    assert r["leaks"] == []
    # Every kind of ending happened, so the run covered each path.
    for kind, count in r["ended"].items():
        if kind != "other":
            assert count > 0, f"no call ended as {kind}: {r['ended']}"
    assert r["opened"] > 0 and r["metrics"]["cancelled"] > 0
