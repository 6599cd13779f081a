"""Fleet syncs. A breaker's: every ``sync_interval`` one Redis round trip (one Lua script) writes
this replica's report and reads every replica's, with the fleet's "opened"/"closed" marks; the
core decides what they mean. A rate limiter's: one script per interval reports this replica's
demand and takes its share of the limit (core/src/fleet_quota.rs). Keys and scripts are the core's (``_native.fleet_store``), the same
as Node's, so a mixed fleet of Node and Python services shares one breaker.

The sync runs in a daemon thread with a synchronous ``redis.Redis`` client, so it never touches
an application's event loop and works for sync and asyncio code alike. Nothing on the call path
waits for Redis: a sync that fails or takes longer than one interval leaves the breaker deciding
alone until Redis answers again."""
from __future__ import annotations

import inspect
import json
import os
import random
import threading
import time
import weakref
from typing import Any, Callable, Dict, List, Optional

from . import _native
from ._engine import engine, snake


class Fleet:
    """``CircuitBreaker("openai", fleet=Fleet(redis.Redis(...), min_replicas=2))``: act as one
    with the other replicas of the breaker of that name. ``min_replicas``: replicas that must see
    failures before the fleet opens, a count or a fraction (default 2); ``sync_interval`` and
    ``stale_after`` in seconds (default 0.25 and 4 intervals). The client must be a synchronous
    ``redis.Redis`` (the sync runs in its own thread); redis-py is an optional dependency.
    ``RateLimiter("openai", limit=500, per=60, fleet=Fleet(redis.Redis(...)))``: one limit for
    every replica of that limiter; ``RetryBudget(name="openai", fleet=Fleet(redis.Redis(...)))``:
    one retry budget (``min_replicas`` is a breaker's and is refused there)."""

    def __init__(self, redis: Any, *, min_replicas: Optional[float] = None, sync_interval: Optional[float] = None,
                 stale_after: Optional[float] = None, key_prefix: Optional[str] = None) -> None:
        self.redis = redis
        self.min_replicas = min_replicas
        self.sync_interval = sync_interval
        self.stale_after = stale_after
        self.key_prefix = key_prefix

    def options(self) -> Dict[str, Any]:
        """As the core reads them (the client is a host object: only its presence is checked);
        what was not given is left out (a rate limiter's fleet takes no ``min_replicas``)."""
        given = {"redis": self.redis, "min_replicas": self.min_replicas, "sync_interval": self.sync_interval,
                 "stale_after": self.stale_after, "key_prefix": self.key_prefix}
        return {k: v for k, v in given.items() if v is not None}


def client_and_prefix(fleet: Any) -> "tuple[Any, Optional[str]]":
    """The Redis client and key prefix of a ``Fleet`` or of a plain dict of its options (the core
    has checked them)."""
    if isinstance(fleet, Fleet):
        return fleet.redis, fleet.key_prefix
    given = {snake(k): v for k, v in fleet.items()}
    return given["redis"], given.get("key_prefix")


def _store(redis: Any, key_prefix: Optional[str], name: str) -> Dict[str, Dict[str, str]]:
    """The core's keys and scripts for a policy's name, the same as Node's."""
    if inspect.iscoroutinefunction(getattr(redis, "execute_command", None)):
        raise asyncio_client_error(redis)
    return json.loads(_native.fleet_store(key_prefix or "seawall", name))  # type: ignore[no-any-return]


def _replica_id() -> str:
    return f"{os.getpid()}-{threading.get_ident()}-{random.getrandbits(32):08x}"


# The syncs running in this process, each restarted as a replica of its own in a forked child.
_syncing: "weakref.WeakSet[_DriverSync]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for sync in list(_syncing):
        sync._forked()


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Rounds:
    """A sync's rounds in a daemon thread: one every interval (or when woken), the first at once if
    ``at_once``; never two at once. A round must not raise: Redis failing never fails a call.

    Each round has a deadline of one interval (real time, as it bounds a real round trip): a
    Redis that does not answer by then (stalled, or a client without ``socket_timeout``) counts
    as failed at once (``on_late``), and its answer, if it comes later, is dropped. The round
    asks ``answered()`` when its answer comes, or fails: only the first of the two outcomes
    counts. One watchdog thread per sync keeps the deadlines (a timer thread per round would
    start a thread every interval)."""

    def __init__(self, name: str, interval_s: float, round_: Callable[[], None], at_once: bool,
                 on_late: Callable[[], None]) -> None:
        self._at_once = at_once
        self._interval_s = interval_s
        self._round = round_
        self._on_late = on_late
        self._lock = threading.Lock()
        # Guards the round's outcome and its deadline; the watchdog waits on it.
        self._outcome = threading.Condition(threading.Lock())
        self._late = False
        self._answered = False
        self._due: Optional[float] = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"seawall-fleet-{name}", daemon=True)
        self._watchdog = threading.Thread(target=self._watch, name=f"seawall-fleet-{name}-deadline", daemon=True)

    def start(self) -> None:
        """Starts the threads (once the owner holds this object: its rounds refer to it)."""
        self._watchdog.start()
        self._thread.start()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._outcome:
            self._outcome.notify()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        if self._at_once:
            self.now()
        while not self._stop.is_set():
            self._wake.wait(self._interval_s)
            self._wake.clear()
            self.now()

    def now(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            with self._outcome:
                self._late = self._answered = False
                self._due = time.monotonic() + self._interval_s
                self._outcome.notify()
            try:
                self._round()
            finally:
                with self._outcome:
                    self._due = None

    def _watch(self) -> None:
        while True:
            with self._outcome:
                while True:
                    if self._stop.is_set():
                        return
                    if self._due is not None:
                        left = self._due - time.monotonic()
                        if left <= 0:
                            break
                    # Every wait is bounded: a lost notify costs at most one interval.
                    self._outcome.wait(self._interval_s if self._due is None else left)
                self._due = None
                if self._answered:
                    continue
                self._late = True
            if not self._stop.is_set():
                self._on_late()

    @property
    def late(self) -> bool:
        """The round's deadline has come (its answers are dropped)."""
        with self._outcome:
            return self._late

    def answered(self) -> bool:
        """The round's outcome (an answer or a failure) is in: True if it is the first (then the
        round applies it), False if the deadline came first (then it must be dropped)."""
        with self._outcome:
            if self._late:
                return False
            self._answered = True
            return True


def asyncio_client_error(redis: Any) -> TypeError:
    err = TypeError("invalid option fleet.redis: expected a synchronous redis.Redis client (the sync runs in its own "
                    f"thread, away from any event loop), got {type(redis).__module__}.{type(redis).__qualname__}")
    err.code, err.option, err.value = "INVALID_OPTION", "fleet.redis", "an asyncio client"  # type: ignore[attr-defined]
    return err


class FleetPort:
    """What the breaker lets its sync do: every decision is the core's sync driver's
    (core/src/fleet_sync.rs)."""

    def __init__(self, join: Callable[[str, str], None], next_command: Callable[[], str], reply: Callable[[str], None],
                 failed: Callable[[], None], wanted: Callable[[], bool], status: Callable[[], Dict[str, Any]]) -> None:
        self.join, self.next_command, self.reply, self.failed, self.wanted, self.status = join, next_command, reply, failed, wanted, status


def _plain(reply: Any) -> Any:
    """Redis's reply as JSON can carry it (redis-py answers bytes unless told to decode)."""
    if isinstance(reply, bytes):
        return reply.decode()
    if isinstance(reply, (list, tuple)):
        return [_plain(r) for r in reply]
    return reply


class _DriverSync:
    """A sync run by one of the core's drivers (core/src/fleet_sync.rs), from a thread of its
    own: each round, the commands the driver says and their replies handed back; a round that
    fails or outlives its deadline is reported as failed. ``port``: ``next_command``, ``reply``,
    ``failed`` and ``status`` through the core."""

    def __init__(self, name: str, interval_s: float, redis: Any, key_prefix: Optional[str], port: Any, at_once: bool,
                 join: Callable[[str], None]) -> None:
        self._scripts: Dict[str, str] = _store(redis, key_prefix, name)["scripts"]
        self._redis = redis
        self._port = port
        self._final: Optional[Dict[str, Any]] = None
        self._name, self._interval_s, self._at_once, self._join = name, interval_s, at_once, join
        self._rounds = self._new_rounds()
        join(_replica_id())
        self._rounds.start()
        _syncing.add(self)

    def _new_rounds(self) -> _Rounds:
        return _Rounds(self._name, self._interval_s, self._round, at_once=self._at_once, on_late=self._port.failed)

    def _forked(self) -> None:
        """In a process forked from this one (a pre-fork server's worker, the app made before the
        fork): a replica of its own — joined anew under an id of its own, with rounds of its own
        (the parent's threads are not in the child, and their locks may have been held)."""
        if self._final is not None:
            return
        self._rounds = self._new_rounds()
        self._join(_replica_id())
        self._rounds.start()

    @property
    def status(self) -> Dict[str, Any]:
        """The sync's counts (the last, once stopped), snake_case."""
        s = self._final if self._final is not None else self._port.status()
        return {snake(k): v for k, v in s.items()}

    def stop(self) -> None:
        if self._final is None:
            self._final = self._port.status()
        self._rounds.stop()

    def sync_now(self) -> None:
        """One sync now (the thread runs one every interval; tests may call it). Never raises:
        Redis failing never fails a call."""
        self._rounds.now()

    def _send(self, c: Dict[str, Any]) -> Any:
        if "set" in c:
            return self._redis.set(c["set"], c["value"], px=int(c["px"]), nx=True)
        return self._redis.eval(self._scripts[c["eval"]], len(c["keys"]), *c["keys"], *c["args"])

    def _round(self) -> None:
        port = self._port
        try:
            # A round is a few commands (the marks, the sync, the lease); bounded all the same.
            for _ in range(16):
                command = port.next_command()
                if not command:
                    break
                reply = self._send(json.loads(command))
                if self._rounds.stopped or self._rounds.late:
                    return  # left the fleet, or the deadline came first: the answer changes nothing
                port.reply(json.dumps(_plain(reply)))
            self._rounds.answered()
        except Exception:  # noqa: BLE001 - any Redis failure: the policy decides alone
            if not self._rounds.stopped and self._rounds.answered():
                port.failed()


class FleetSync(_DriverSync):
    """A fleet breaker's sync: the core's ``BreakerSync`` says what to send (the marks this
    replica has for the fleet, the sync, the probe lease) and what each reply means."""

    def __init__(self, name: str, config: Dict[str, Any], redis: Any, key_prefix: Optional[str], port: FleetPort) -> None:
        # A breaker decides alone until its first sync: that can wait one interval.
        super().__init__(name, config["syncInterval"] / 1000.0, redis, key_prefix, port, at_once=False,
                         join=lambda replica: port.join(key_prefix or "seawall", replica))

    def on_state_change(self) -> None:
        """The breaker changed state: when it has news for the fleet, a round goes now, from the
        sync's thread (a probe's success closes the breaker on the call's path)."""
        if self._port.wanted():
            self._rounds.wake()


class FleetMember:
    """``sync_fleet`` and ``leave_fleet`` for a policy whose ``_fleet`` is a sync (or None);
    ``_go_alone`` says what leaving means for it."""

    _fleet: Any

    def sync_fleet(self) -> None:
        """Fleet mode: syncs with the other replicas now (a background thread does it every
        ``sync_interval``)."""
        if self._fleet is not None:
            self._fleet.sync_now()

    def leave_fleet(self) -> None:
        """Fleet mode: stops syncing; the policy then goes on alone."""
        if self._fleet is not None:
            self._fleet.stop()
            self._go_alone()

    def _go_alone(self) -> None:
        raise NotImplementedError


def quota_stats(fleet: Dict[str, Any], sync: Optional["QuotaSync"]) -> Dict[str, Any]:
    """A shared quota's ``fleet`` stats as Python spells them: times in seconds, snake_case, and
    the sync's counts."""
    out = {"sync_interval": fleet["syncInterval"] / 1000.0, "stale_after": fleet["staleAfter"] / 1000.0}
    out.update({snake(k): v for k, v in fleet.items() if k not in ("syncInterval", "staleAfter")})
    return {**out, **(sync.status if sync is not None else {})}


class QuotaPort:
    """The port of a rate limiter's or retry budget's (``kind``: ``rateLimit``, ``budget``) quota
    to the core's quota sync driver: every decision is the core's."""

    def __init__(self, kind: str, handle: int) -> None:
        self.kind, self.handle = kind, handle

    def join(self, store: str) -> None:
        engine.quota_sync_join(self.kind, self.handle, store)

    def next_command(self) -> str:
        return str(engine.quota_sync_next(self.kind, self.handle, None))

    def reply(self, text: str) -> None:
        engine.quota_sync_reply(self.kind, self.handle, text, None)

    def failed(self) -> None:
        engine.quota_sync_failed(self.kind, self.handle, None)

    def leave(self) -> None:
        engine.quota_sync_leave(self.kind, self.handle, None)

    def status(self) -> Dict[str, Any]:
        return json.loads(engine.quota_sync_status(self.kind, self.handle))  # type: ignore[no-any-return]


class QuotaSync(_DriverSync):
    """A shared quota's fleet sync (a rate limiter's limit, a retry budget's trickle): one script
    per interval reports this replica's demand, takes its share (never more than the other
    replicas' fresh shares leave of the whole) and reads the others' demands; a failed sync runs
    the policy on an equal part. The core's ``QuotaSync`` says what to send and what the answer
    means; ``fleet``: the core's fleet config (times in ms)."""

    def __init__(self, name: str, fleet: Dict[str, Any], redis: Any, key_prefix: Optional[str], port: QuotaPort) -> None:
        # No share until the store's first answer: ask at once.
        super().__init__(name, fleet["syncInterval"] / 1000.0, redis, key_prefix, port, at_once=True,
                         join=lambda replica: port.join(json.dumps({"prefix": key_prefix or "seawall", "name": name, "replica": replica})))
