"""One Python replica of the fleet demo: calls the dependency twice a second through a fleet
breaker until the demo's end, then prints what its breaker did as one JSON line. With MODE
``quota``, it calls 50 times a second for a while through a fleet rate limiter instead, and
prints its counts.
    python replica.py ID URL REDIS_PORT T0 END_MS [MODE]
In your project: ``from seawall import CircuitBreaker, Fleet, RateLimiter, RateLimitError`` and ``import redis``."""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

import redis

from seawall import CircuitBreaker, Fleet, RateLimiter, RateLimitError

settings = json.loads((Path(__file__).parent / "settings.json").read_text())
replica, url, redis_port, t0, end_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
mode = sys.argv[6] if len(sys.argv) > 6 else "breaker"


def since() -> float:
    return time.time() * 1000 - t0


b = settings["breaker"]
f = settings["fleet"]
client = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=f["syncInterval"] / 1000)


def wait_for(ms: float) -> None:
    time.sleep(max(0.0, ms) / 1000)


if mode == "quota":
    q = settings["quota"]
    limiter = RateLimiter("demo-quota", limit=q["limit"], burst=q["burst"], fleet=Fleet(client, sync_interval=f["syncInterval"] / 1000))
    admitted = refused = 0
    wait_for(-since())
    while since() < end_ms:
        next_at = since() + q["callEveryMs"]
        try:
            limiter.call(lambda: urllib.request.urlopen(urllib.request.Request(url, headers={"x-replica": replica}), timeout=2).read())
            admitted += 1
        except RateLimitError:
            refused += 1
        wait_for(next_at - since())
    limiter.leave_fleet()
    print(json.dumps({"id": replica, "admitted": admitted, "refused": refused}))
    sys.exit(0)

breaker = CircuitBreaker("demo-dependency", failure_threshold=b["failureThreshold"], recovery_timeout=b["resetTimeout"] / 1000,
                         half_open_max_calls=1,
                         fleet=Fleet(client, min_replicas=f["minReplicas"], sync_interval=f["syncInterval"] / 1000))
opened: List[Dict[str, Any]] = []
own_failures = 0
# When it opened, and after how many failures of its own (fewer than the threshold: the fleet's).
breaker.add_listener(lambda old, new: opened.append({"atMs": since(), "ownFailures": own_failures}) if new == "OPEN" else None)


def call() -> None:
    global own_failures
    request = urllib.request.Request(url, headers={"x-replica": replica})
    try:
        with urllib.request.urlopen(request, timeout=2) as res:
            res.read()
    except urllib.error.HTTPError as e:
        if e.code >= 500:
            own_failures += 1
            raise


wait_for(-since())
while since() < end_ms:
    next_at = since() + settings["callEveryMs"]
    try:
        breaker.call(call)
    except Exception:  # noqa: BLE001 - the demo counts outcomes at the server
        pass
    wait_for(next_at - since())
breaker.leave_fleet()
print(json.dumps({"id": replica, "opened": opened, "ownFailures": own_failures}))
