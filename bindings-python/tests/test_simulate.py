"""The policy simulator from Python: the example scenario, its command line, bad fields named."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import seawall
from conftest import PYTHON

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scenario.json"


def test_simulate_runs_every_policy_of_the_example() -> None:
    scenario = json.loads(EXAMPLE.read_text())
    result = seawall.simulate(scenario)
    names = [p["name"] for p in result["policies"]]
    assert names == ["naive immediate retries", "backoff + jitter + breaker", "... + retry budget"]
    naive, breaker, budget = (p["summary"] for p in result["policies"])
    assert naive["amplification"] > 5 and breaker["amplification"] < 1
    assert budget["budgetRefusals"] > 0 and naive["requests"] == 200 * 70
    assert any(b["breakerOpenMs"] > 0 for b in result["policies"][1]["series"])
    assert seawall.simulate(EXAMPLE.read_text()) == result, "text and dict give the same result"


@pytest.mark.parametrize("scenario, error, option", [
    ({"backend": {"errorRate": 1.5}, "policies": {}}, ValueError, "backend.errorRate"),
    ({"clients": "many", "backend": {}, "policies": {}}, TypeError, "clients"),
    ({"backend": {"faults": [{"from": 0, "to": 1, "errorRate": -1}]}, "policies": {}}, ValueError, "backend.faults[0].errorRate"),
    ({"backend": {}, "policies": {"p": {"circuitBreaker": {"failureThreshold": 0}}}}, ValueError, "failureThreshold"),
    ({"backend": {}}, TypeError, "policies"),
])
def test_bad_fields_are_named(scenario: dict, error: type, option: str) -> None:
    with pytest.raises(error) as info:
        seawall.simulate(scenario)
    assert info.value.option == option and info.value.code == "INVALID_OPTION"  # type: ignore[attr-defined]


def test_the_command_line_prints_a_table_and_fails_cleanly(tmp_path: Path) -> None:
    ok = subprocess.run([*PYTHON, "-m", "seawall.simulate", str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "naive immediate retries" in ok.stdout and "amplification" in ok.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"backend": {"errorRate": 2}, "policies": {}}')
    failed = subprocess.run([*PYTHON, "-m", "seawall.simulate", str(bad)], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2 and "backend.errorRate" in failed.stderr and failed.stdout == ""
