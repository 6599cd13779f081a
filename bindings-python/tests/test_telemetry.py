"""The events Seawall logs on the ``seawall`` logger, against the expectation Node's diagnostics
channels are checked against too (tests/telemetry/events.json): the same scripted run on the
virtual clock (``scripted_run.py``)."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, List

import pytest

from seawall import virtual_clock
from scripted_run import scripted_run

EXPECTED = Path(__file__).resolve().parents[2] / "tests" / "telemetry" / "events.json"


async def test_the_same_events_as_node_publishes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="seawall")
    with virtual_clock() as clock:
        await scripted_run(clock)
    events: List[Any] = [r.seawall for r in caplog.records if r.name == "seawall"]
    assert events == json.loads(EXPECTED.read_text())
    assert [r.getMessage() for r in caplog.records if r.name == "seawall"] == [e["event"] for e in events]


def test_silent_unless_the_application_turns_it_on() -> None:
    # As a program runs: no logging set up, a breaker opening prints nothing; set up, it logs.
    import subprocess
    import sys
    program = (
        "import logging, sys\n"
        "from seawall import CircuitBreaker\n"
        "if sys.argv[1] == 'on': logging.basicConfig(level=logging.INFO, format='%(name)s %(levelname)s %(message)s %(seawall)s')\n"
        "cb = CircuitBreaker(name='db', failure_threshold=1)\n"
        "try:\n    cb.call(lambda: 1 / 0)\nexcept ZeroDivisionError:\n    pass\n"
    )
    off = subprocess.run([sys.executable, "-c", program, "off"], capture_output=True, text=True, timeout=60)
    on = subprocess.run([sys.executable, "-c", program, "on"], capture_output=True, text=True, timeout=60)
    assert (off.returncode, off.stdout, off.stderr) == (0, "", "")
    assert on.returncode == 0 and "seawall WARNING breaker.state_changed {'event': 'breaker.state_changed', 'policy': 'db', 'from': 'CLOSED', 'to': 'OPEN', 'reason': 'CONSECUTIVE_FAILURES'}" in on.stderr, on.stderr
