"""What Seawall decides, logged on the ``seawall`` logger: silent until the application turns it on
(``logging.getLogger("seawall").setLevel(logging.INFO)`` with a handler). The events, their
levels and their fields are the core's (core/src/telemetry.rs); Node publishes the same events on
``node:diagnostics_channel``. Each record's message is the event's name and its ``seawall``
attribute holds ``{"event": name, <field>: value, …}``."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict

from . import _native

logger = logging.getLogger("seawall")
logger.addHandler(logging.NullHandler())

_EVENTS: Dict[str, Any] = {e["name"]: (logging.getLevelName(e["level"]), tuple(e["fields"])) for e in json.loads(_native.telemetry_events())}


def listening(name: str) -> bool:
    """Whether ``name`` would be logged (the caller then builds the event's fields)."""
    return logger.isEnabledFor(_EVENTS[name][0])


def report(name: str, **fields: Any) -> None:
    """Logs ``name`` with its declared fields, in order (None where not given)."""
    level, declared = _EVENTS[name]
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={"seawall": {"event": name, **{f: fields.get(f) for f in declared}}})


def error_type(exc: BaseException) -> str:
    """How an error is named in events: its code, else its type's name."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__
