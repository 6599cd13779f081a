"""The shared conformance vectors (tests/vectors/) through the pyo3 backend: each step's output
must equal the vector's ``expect``, and the canonical trace must be byte-identical to the Rust
runner's (target/conformance/rust/, written by ``make test-core``)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, List

import pytest

from seawall import _native

ROOT = Path(__file__).resolve().parents[2]
VECTORS = sorted((ROOT / "tests" / "vectors").glob("*.json"))
TRACES = ROOT / "target" / "conformance"
STATES = _native.state_names()
GIVE_UP = _native.give_up_reasons()
GIVE_UP_CODES = _native.give_up_codes()
PREAPPROVED = _native.PREAPPROVED_PERMIT
NAN = math.nan


def n(x: float) -> Any:
    """A number as every runner writes it: integral floats as integers, non-finite as strings."""
    if isinstance(x, bool):
        return x
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        if x == int(x) and abs(x) < 2**53:
            return int(x)
    return x


def opt_n(x: float) -> Any:
    return None if math.isnan(x) else n(x)


def canonical(v: Any) -> Any:
    if isinstance(v, float):
        return n(v)
    if isinstance(v, list):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(v[k]) for k in sorted(v)}
    return v


def num(s: Dict[str, Any], key: str) -> float:
    v = s.get(key)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if v == "NaN":
        return NAN
    if v == "Infinity":
        return math.inf
    return 0.0


def error_json(e: BaseException) -> Dict[str, Any]:
    return {"error": {"code": e.code, "kind": e.kind, "option": e.option, "value": e.value}}  # type: ignore[attr-defined]


def options(v: Any) -> str:
    return json.dumps(v if v is not None else {})


def run_breaker(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    try:
        h = e.breaker_create(options(v.get("config")), v.get("unit") == "s")
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    permits: Dict[str, float] = {}
    outputs = []
    for s in steps:
        at = num(s, "at")
        out: Dict[str, Any] = {}

        def acquire() -> Any:
            code = e.breaker_acquire(h, at)
            if code >= 0:
                out["permit"] = True
                out["probe"] = code > 0 and code != PREAPPROVED
                return code
            out["rejected"] = "CIRCUIT_OPEN"
            out["retryAfterMs"] = opt_n(e.breaker_retry_after(h, at)) if code == -2.0 else None
            return None

        op = s["op"]
        if op == "acquire":
            p = acquire()
            if p is not None:
                permits[s["id"]] = p
        elif op in ("success", "failure", "release"):
            p = permits.pop(s["id"], -1.0)
            d = num(s, "duration")
            if e.breaker_record(h, p, {"success": 0, "failure": 1, "release": 2}[op], at, at - d) < 0:
                out["error"] = "INVALID_PERMIT"
        elif op == "call":
            p = acquire()
            if p is not None:
                d = num(s, "duration")
                e.breaker_record(h, p, {"success": 0, "failure": 1}.get(s["outcome"], 2), at + d, at)
        elif op == "state":
            e.breaker_state(h, at)
        elif op == "stats":
            out["stats"] = json.loads(e.breaker_stats(h, at))
        elif op in ("open", "forceOpen", "isolate", "reset", "disable", "fleetOpened", "fleetClosed", "fleetLease", "fleetAlone", "fleetShared"):
            e.breaker_command(h, op, at)
        elif op == "fleetReport":
            out["report"] = json.loads(e.breaker_fleet_report(h, at))
        elif op == "fleetSync":
            out["tally"] = json.loads(e.breaker_fleet_sync(h, json.dumps(s["reports"]), at))
        elif op == "probeLease":
            out["leaseMs"] = opt_n(e.breaker_probe_lease(h, at))
        elif op == "nextTimeout":
            out["nextTimeout"] = opt_n(e.breaker_next_timeout(h))
        elif op == "remaining":
            out["remainingMs"] = opt_n(e.breaker_retry_after(h, at))
        elif op == "snapshot":
            out["snapshot"] = json.loads(e.breaker_snapshot(h, at))
        elif op == "restore":
            try:
                e.breaker_restore(h, json.dumps(s["snapshot"]), at)
            except _native.NativeError as exc:
                out["error"] = exc.code  # type: ignore[attr-defined]
            except (TypeError, ValueError) as exc:
                out["error"] = exc.code  # type: ignore[attr-defined]
        else:
            raise AssertionError(f"unknown breaker op {op}")
        out["state"] = STATES[e.breaker_current_state(h)]
        events = json.loads(e.breaker_events(h))
        if events:
            out["events"] = [{"from": x["from"], "to": x["to"], "at": n(float(x["at"])), "reason": x["reason"]} for x in events]
        outputs.append(out)
    return outputs


def run_backoff(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    try:
        h = e.backoff_create(options(v.get("config")), v.get("unit") == "s", float(v.get("seed", 0)))
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    out: List[Any] = []
    for s in steps:
        if s["op"] == "delays":
            out.append({"delaysMs": [n(e.backoff_next(h, r)) for r in s["retries"]]})
        else:
            e.backoff_restart(h)
            out.append({})
    return out


def run_retry(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    seconds = v.get("unit") == "s"
    try:
        policy = e.retry_policy_create(options(v.get("config")), seconds, float(v.get("seed", 0)))
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    budget = float(e.budget_create(options(v["budget"]), seconds, 0.0)) if "budget" in v else -1.0
    call = e.retry_start(policy, 0.0)
    attempt = 1
    out: List[Any] = []
    for s in steps:
        at = num(s, "at")
        op = s["op"]
        if op == "start":
            e.retry_end(call)
            call = e.retry_start(policy, at)
            attempt = 1
            out.append({"attempt": attempt})
        elif op == "failure":
            cls = {"notRetryable": 1, "rateLimited": 2}.get(s.get("class", ""), 0)
            ra = s.get("retryAfterMs")
            value, nxt, server = e.retry_on_failure(call, at, cls, float(ra) if isinstance(ra, (int, float)) else NAN, budget)
            if value >= 0:
                attempt = nxt
                out.append({"retry": {"attempt": nxt, "delayMs": n(value), "fromServer": server}})
            else:
                i = int(-value - 1)
                out.append({"giveUp": GIVE_UP[i], "attempts": nxt, "code": GIVE_UP_CODES[i]})
        elif op == "success":
            if budget >= 0:
                e.budget_record_success(int(budget), at)
            out.append({"attempts": attempt})
        elif op == "tokens":
            out.append({"tokens": n(e.budget_tokens(int(budget), at) if budget >= 0 else 0.0)})
        elif op == "isRetryable":
            out.append({"retryable": e.retry_is_retryable(policy, s["ids"])})
        else:
            raise AssertionError(op)
    return out


def run_budget(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    try:
        h = e.budget_create(options(v.get("config")), v.get("unit") == "s", num(v, "start"))
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    out: List[Any] = []
    for s in steps:
        at = num(s, "at")
        if s["op"] == "withdraw":
            granted = e.budget_try_withdraw(h, at)
            out.append({"granted": granted, "tokens": n(e.budget_tokens(h, at))})
            continue
        if s["op"] == "stats":
            out.append({"stats": json.loads(e.budget_stats(h, at))})
            continue
        if s["op"] == "fleetReport":
            out.append({"report": json.loads(e.budget_fleet_report(h, at))})
            continue
        if s["op"] in ("fleetSync", "fleetAlone"):
            if s["op"] == "fleetSync":
                e.budget_fleet_sync(h, s["granted"], json.dumps(s["reports"]), at)
            else:
                e.budget_fleet_alone(h, at)
            stats = json.loads(e.budget_stats(h, at))
            out.append({"share": n(stats["fleet"]["share"]), "cap": n(stats["fleet"]["cap"]), "tokens": n(stats["tokens"])})
            continue
        if s["op"] == "success":
            e.budget_record_success(h, at)
        elif s["op"] != "tokens":
            raise AssertionError(s["op"])
        out.append({"tokens": n(e.budget_tokens(h, at))})
    return out


def hedge_step(x: float) -> Dict[str, Any]:
    """A hedged call's next step (the engine's encoding) as every runner writes it."""
    if x >= 0:
        return {"wait": n(x) if math.isfinite(x) else None}
    if x >= -10:
        return {"launch": n(-1 - x)}
    if x >= -20:
        return {"won": n(-11 - x)}
    return {"failed": n(-21 - x)}


HEDGE_OUTCOMES = ["success", "failure", "fatal", "cancelled"]


def run_hedge(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    try:
        h = e.hedge_policy_create(options(v.get("config")), v.get("unit") == "s", 0.0)
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    calls: Dict[str, int] = {}
    out: List[Any] = []
    for s in steps:
        at = num(s, "at")
        call = calls.get(s.get("call", ""), 2**32 - 1)
        op = s["op"]
        try:
            if op == "start":
                calls[s["call"]] = c = e.hedge_start(h, at)
                out.append(hedge_step(e.hedge_step(c, at)))
            elif op == "step":
                out.append(hedge_step(e.hedge_step(call, at)))
            elif op == "sync":
                e.hedge_sync(h, int(s["begun"]), int(s.get("inTime", 0)), float(s["delay"]), [float(x) for x in s.get("answered", [])], at)
                out.append({"synced": True})
            elif op == "delay":
                d = e.hedge_delay(h, at)
                delay: Dict[str, Any] = {k: n(x) if math.isfinite(x) else None for k, x in zip(("delay", "until", "wake"), d)}
                delay["timed"] = d[3] == 1
                out.append({"delay": delay})
            elif op == "start_begun":
                calls[s["call"]] = c = e.hedge_start_begun(h, float(s["started"]), float(s["delay"]))
                out.append(hedge_step(e.hedge_step(c, at)))
            elif op == "settle":
                o = s["outcome"]
                code = HEDGE_OUTCOMES.index(o) if isinstance(o, str) else o
                out.append(hedge_step(e.hedge_settle(call, int(s["attempt"]), code, at)))
            elif op == "end":
                out.append({"ended": e.hedge_end(call)})
            elif op == "hedgeable":
                out.append({"hedgeable": _native.hedgeable(s["method"], s.get("forced", False))})
            elif op == "stats":
                out.append({"stats": json.loads(e.hedge_stats(h, at))})
            else:
                raise AssertionError(f"unknown hedge op {op}")
        except (TypeError, ValueError, _native.NativeError) as exc:
            out.append(error_json(exc))
    return out


LIMIT_OUTCOMES = ["success", "dropped", "ignored"]


def run_adaptive(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    try:
        h = e.adaptive_create(options(v.get("config")), v.get("unit") == "s", float(v.get("seed", 0)))
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    permits: Dict[str, float] = {}
    out: List[Any] = []
    for s in steps:
        at = num(s, "at")
        partition = e.adaptive_partition(h, s["partition"]) if isinstance(s.get("partition"), str) else -1.0
        o = s.get("outcome")
        code = LIMIT_OUTCOMES.index(o) if isinstance(o, str) else o
        op = s["op"]
        if op == "acquire":
            p = e.adaptive_acquire(h, partition, at)
            if p < 0:
                out.append({"rejected": True})
            else:
                permits[s["id"]] = p
                out.append({"permit": True})
        elif op == "release":
            try:
                e.adaptive_release(h, permits.get(s["id"], -1.0), code, at)
                out.append({})
            except (TypeError, ValueError, _native.NativeError) as exc:
                out.append(error_json(exc))
        elif op == "round":
            admitted = [p for p in (e.adaptive_acquire(h, partition, at) for _ in range(s.get("concurrency", 1))) if p >= 0]
            for p in admitted:
                e.adaptive_release(h, p, code, at + num(s, "rtt"))
            out.append({"admitted": len(admitted), "limit": json.loads(e.adaptive_stats(h))["limit"]})
        elif op == "stats":
            out.append({"stats": json.loads(e.adaptive_stats(h))})
        elif op == "status":
            out.append({"outcome": LIMIT_OUTCOMES[_native.limit_outcome(float(s["status"]))]})
        else:
            raise AssertionError(f"unknown adaptive op {op}")
    return out


def run_ratelimit(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    try:
        h = e.rate_limit_create(options(v.get("config")), v.get("unit") == "s")
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    tickets: Dict[str, float] = {}
    out: List[Any] = []
    for s in steps:
        at = num(s, "at")
        if s["op"] == "acquire":
            wait, ticket = e.rate_limit_acquire(h, at)
            if wait == 0:
                out.append({"start": True})
            elif wait > 0:
                tickets[s["id"]] = ticket
                out.append({"waitMs": n(wait)})
            else:
                out.append({"rejected": "RATE_LIMITED", "retryAfterMs": n(-wait)})
        elif s["op"] == "cancel":
            out.append({"refunded": e.rate_limit_cancel(h, tickets.get(s["id"], math.nan))})
        elif s["op"] == "stats":
            out.append({"stats": json.loads(e.rate_limit_stats(h, at))})
        elif s["op"] == "fleetReport":
            out.append({"report": json.loads(e.rate_limit_fleet_report(h, at))})
        elif s["op"] in ("fleetSync", "fleetAlone"):
            if s["op"] == "fleetSync":
                e.rate_limit_fleet_sync(h, s["granted"], json.dumps(s["reports"]), at)
            else:
                e.rate_limit_fleet_alone(h)
            out.append({"share": n(json.loads(e.rate_limit_stats(h, at))["fleet"]["share"])})
        else:
            raise AssertionError(f"unknown ratelimit op {s['op']}")
    e.rate_limit_drop(h)
    return out


def run_bulkhead(e: Any, v: Dict[str, Any], steps: List[Dict[str, Any]]) -> List[Any]:
    try:
        h = e.bulkhead_create(options(v.get("config")), v.get("unit") == "s")
    except (TypeError, ValueError) as exc:
        return [error_json(exc) for _ in steps]
    permits: Dict[str, float] = {}
    tickets: Dict[float, str] = {}
    outputs = []
    for s in steps:
        at = num(s, "at")
        out: Dict[str, Any] = {}
        op = s["op"]
        if op == "acquire":
            kind, value = e.bulkhead_acquire(h, at)
            if kind == 0:
                permits[s["id"]] = value
                out["run"] = True
            elif kind == 1:
                tickets[value] = s["id"]
                out["queued"] = json.loads(e.bulkhead_metrics(h))["queued"]
            else:
                out["rejected"] = "BULKHEAD_QUEUE_FULL"
        elif op == "release":
            p = permits.pop(s["id"], -1.0)
            try:
                ticket, nxt = e.bulkhead_release(h, p, at)
                if ticket == 0:
                    out["started"] = None
                else:
                    label = tickets.pop(ticket)
                    permits[label] = nxt
                    out["started"] = label
            except _native.NativeError:
                out["error"] = "INVALID_PERMIT"
        elif op == "cancel":
            ticket = next((t for t, label in tickets.items() if label == s["id"]), None)
            cancelled = ticket is not None and e.bulkhead_cancel(h, ticket)
            if cancelled:
                del tickets[ticket]
            out["cancelled"] = cancelled
        elif op == "nextTimeout":
            out["nextTimeout"] = opt_n(e.bulkhead_next_timeout(h))
        elif op == "metrics":
            out["metrics"] = json.loads(e.bulkhead_metrics(h))
        elif op != "tick":
            raise AssertionError(op)
        expired = e.bulkhead_expire(h, at if op == "tick" else -math.inf)
        if expired:
            out["expired"] = [tickets.pop(t) for t in expired]
        m = json.loads(e.bulkhead_metrics(h))
        out["active"] = m["active"]
        out["queued"] = m["queued"]
        outputs.append(out)
    return outputs


def run_registry(e: Any, steps: List[Dict[str, Any]]) -> List[Any]:
    out: List[Any] = []
    for s in steps:
        at = num(s, "at")
        name = s.get("name", "")
        op = s["op"]
        if op in ("breaker", "bulkhead"):
            create = e.breaker_get_or_create if op == "breaker" else e.bulkhead_get_or_create
            try:
                _, created = create(name, options(s.get("config")), s.get("unit") == "s")
                out.append({"created": created})
            except (TypeError, ValueError) as exc:
                out.append(error_json(exc))
        elif op == "call":
            h = e.breaker_lookup(name)
            code = e.breaker_acquire(h, at)
            if code < 0:
                out.append({"rejected": "CIRCUIT_OPEN", "state": STATES[int(-code - 1)]})
                continue
            d = num(s, "duration")
            r = e.breaker_record(h, code, 1 if s.get("outcome") == "failure" else 0, at + d, at)
            e.breaker_events(h)
            out.append({"state": STATES[int(r) & 7]})
        elif op == "occupy":
            kind, _ = e.bulkhead_acquire(e.bulkhead_lookup(name), at)
            out.append({"admitted": kind != 2})
        elif op in ("forceOpen", "open"):
            e.breaker_command(e.breaker_lookup(name), op, at)
            out.append({})
        elif op == "retryAttempt":
            e.record_retry_attempt(name)
            out.append({})
        elif op == "timeout":
            e.record_timeout(name)
            out.append({})
        elif op == "health":
            out.append({"health": json.loads(e.health(at))})
        elif op == "breakerHealth":
            out.append({"health": json.loads(e.breaker_health(at))})
        elif op == "names":
            out.append({"names": e.breaker_names()})
        elif op == "resetAll":
            e.reset_all(at)
            out.append({})
        elif op == "clear":
            e.clear_registry()
            out.append({})
        elif op == "prometheus":
            out.append({"prometheus": e.prometheus()})
        else:
            raise AssertionError(op)
    return out


def run_presets(steps: List[Dict[str, Any]]) -> List[Any]:
    out: List[Any] = []
    for s in steps:
        python = s.get("style") == "python"
        arg = lambda k: float(s[k]) if isinstance(s.get(k), (int, float)) else NAN  # noqa: E731
        op = s["op"]
        if op == "policy":
            text = _native.preset_policy(s["name"], python)
        elif op == "circuit":
            text = _native.preset_circuit(s["name"], python)
        elif op == "retryFixed":
            a, d = arg("attempts"), arg("delay")
            text = _native.preset_retry("fixed", 3.0 if math.isnan(a) else a, 1000.0 if math.isnan(d) else d, NAN, python)
        elif op == "retryExponential":
            text = _native.preset_retry("exponential", arg("attempts"), arg("initial"), arg("max"), python)
        elif op == "retryApiRateLimit":
            text = _native.preset_retry("apiRateLimit", NAN, NAN, NAN, python)
        else:
            text = _native.preset_retry("network", NAN, NAN, NAN, python)
        out.append({"options": None if text is None else json.loads(text)})
    return out


def run_vector(v: Dict[str, Any]) -> List[Any]:
    e = _native.Engine()  # a fresh engine per vector
    steps = v.get("steps", [])
    machine = v["machine"]
    if machine == "breaker":
        return run_breaker(e, v, steps)
    if machine == "backoff":
        return run_backoff(e, v, steps)
    if machine == "retry":
        return run_retry(e, v, steps)
    if machine == "budget":
        return run_budget(e, v, steps)
    if machine == "ratelimit":
        return run_ratelimit(e, v, steps)
    if machine == "hedge":
        return run_hedge(e, v, steps)
    if machine == "adaptive":
        return run_adaptive(e, v, steps)
    if machine == "bulkhead":
        return run_bulkhead(e, v, steps)
    if machine == "options":
        out: List[Any] = []
        for s in steps:
            try:
                _native.validate(s["kind"], options(s.get("config")), s.get("unit") == "s")
                out.append({"ok": True})
            except (TypeError, ValueError) as exc:
                out.append(error_json(exc))
        return out
    if machine == "registry":
        return run_registry(e, steps)
    if machine == "presets":
        return run_presets(steps)
    if machine == "rng":
        floats = _native.rng_floats(float(v.get("seed", 0)), sum(s.get("count", 1) for s in steps))
        res, i = [], 0
        for s in steps:
            c = s.get("count", 1)
            res.append({"floats": [n(x) for x in floats[i:i + c]]})
            i += c
        return res
    if machine == "deadline":
        res = []
        for s in steps:
            outer = float(s["outer"]) if isinstance(s.get("outer"), (int, float)) else NAN
            at = _native.deadline(num(s, "at"), num(s, "timeout"), outer)
            check = num(s, "check")
            res.append({"deadline": n(at), "remainingMs": n(max(0.0, at - check)), "expired": check >= at})
        return res
    if machine == "retryAfter":
        res = []
        for s in steps:
            ms = _native.retry_after(s["value"], num(s, "now"))
            res.append({"retryAfterMs": None if math.isnan(ms) else n(ms)})
        return res
    if machine == "headerMs":
        res = []
        for s in steps:
            ms = _native.header_ms(s["value"])
            res.append({"ms": None if math.isnan(ms) else n(ms)})
        return res
    if machine == "shedAnswer":
        res = []
        for s in steps:
            retry_after, body = _native.shed_answer(s["name"], num(s, "retryAfterMs"))
            res.append({"retryAfter": retry_after, "body": json.loads(body)})
        return res
    if machine == "fleetSync":
        e = _native.Engine()
        h = e.breaker_create(json.dumps(v["config"]), False, v["breakerName"])
        e.breaker_sync_join(h, v["prefix"], v["replica"])
        res = []
        for s in steps:
            at = float(s.get("at", 0))
            op = s["op"]
            try:
                if op == "next":
                    c = e.breaker_sync_next(h, at)
                    res.append({"command": json.loads(c) if c else None})
                elif op == "reply":
                    e.breaker_sync_reply(h, json.dumps(s["reply"]), at)
                    res.append({"state": STATES[e.breaker_current_state(h)]})
                elif op == "failed":
                    e.breaker_sync_failed(h, at)
                    res.append({"state": STATES[e.breaker_current_state(h)]})
                elif op == "status":
                    res.append({"status": json.loads(e.breaker_sync_status(h))})
                elif op == "wanted":
                    res.append({"wanted": e.breaker_sync_wanted(h)})
                elif op == "command":
                    e.breaker_command(h, s["command"], at)
                    res.append({"state": STATES[e.breaker_current_state(h)]})
                elif op == "call":
                    permit = e.breaker_acquire(h, at)
                    if permit >= 0:
                        e.breaker_record(h, permit, 0 if s["outcome"] == "success" else 1, at, at)
                    res.append({"admitted": permit >= 0, "state": STATES[e.breaker_current_state(h)]})
                else:
                    raise AssertionError(op)
            except (TypeError, ValueError, _native.NativeError) as err:
                res.append(error_json(err))
        return res
    if machine == "quotaSync":
        e = _native.Engine()
        kind = v["kind"]
        h = e.budget_create(json.dumps(v["config"]), False, 0.0) if kind == "budget" else e.rate_limit_create(json.dumps(v["config"]), False)
        e.quota_sync_join(kind, h, json.dumps({"prefix": v["prefix"], "name": v["policyName"], "replica": v["replica"]}))
        res = []
        for s in steps:
            at = float(s.get("at", 0))
            op = s["op"]
            try:
                if op == "next":
                    c = e.quota_sync_next(kind, h, at)
                    res.append({"command": json.loads(c) if c else None})
                elif op == "reply":
                    e.quota_sync_reply(kind, h, json.dumps(s["reply"]), at)
                    res.append({})
                elif op == "failed":
                    e.quota_sync_failed(kind, h, at)
                    res.append({})
                elif op == "status":
                    res.append({"status": json.loads(e.quota_sync_status(kind, h))})
                elif op == "leave":
                    e.quota_sync_leave(kind, h, at)
                    res.append({})
                elif op == "stats":
                    stats = e.budget_stats(h, at) if kind == "budget" else e.rate_limit_stats(h, at)
                    res.append({"stats": json.loads(stats)["fleet"]})
                else:
                    raise AssertionError(op)
            except (TypeError, ValueError, _native.NativeError) as err:
                res.append(error_json(err))
        return res
    if machine == "outcome":
        res = []
        for s in steps:
            if s["op"] == "count":
                res.append({"count": _native.count_status(num(s, "status"))})
                continue
            outcome = s["outcome"] if isinstance(s["outcome"], str) else json.dumps(s["outcome"])
            try:
                res.append({"verdict": json.loads(_native.classify_outcome(outcome, num(s, "now")))})
            except (TypeError, ValueError) as e:
                res.append(error_json(e))
        return res
    raise AssertionError(machine)


def to_json(v: Any) -> str:
    return json.dumps(canonical(v), separators=(",", ":"), ensure_ascii=False)


def test_at_least_60_vectors() -> None:
    assert len(VECTORS) >= 60


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    outputs = run_vector(v)
    trace = "".join(to_json(o) + "\n" for o in outputs)
    out_dir = TRACES / "python"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{path.stem}.trace.json").write_text(trace)
    for i, (step, got) in enumerate(zip(v["steps"], outputs)):
        assert "expect" in step, f"step {i} has no expect"
        assert canonical(got) == canonical(step["expect"]), f"step {i} ({step['op']})"
    rust = TRACES / "rust" / f"{path.stem}.trace.json"
    assert rust.exists(), f"no Rust trace at {rust}: run make test-core first"
    assert trace == rust.read_text(), "trace differs from the Rust runner byte for byte"
