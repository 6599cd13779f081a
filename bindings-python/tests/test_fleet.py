"""Fleet mode against a real redis-server on 127.0.0.1 (started here, stopped by its pid):
several breakers of one name act as one, also with a Node replica in the same fleet. Syncs are
run by hand on a virtual clock, so nothing waits on the wall clock for a decision (the
background thread's interval is long enough never to fire during a test)."""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import threading
import warnings
from typing import Any, Iterator, List

import pytest

from seawall import CircuitBreaker, CircuitBreakerError, Fleet, RateLimiter, RateLimitError, RetryBudget, RetryPolicy, virtual_clock

# `make test` installs both; only a bare `pytest` elsewhere may lack them (never in CI).
if not os.environ.get("CI"):
    pytest.importorskip("redis")
    pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="make redis installs redis-server")
import redis  # noqa: E402

from redis_server import RedisServer, StallingProxy  # noqa: E402


@pytest.fixture
def server() -> Iterator[RedisServer]:
    s = RedisServer()
    yield s
    s.stop()


_count = 0


def replicas(server: RedisServer, n: int, **options: Any) -> List[CircuitBreaker]:
    global _count
    _count += 1
    name = f"py-fleet-{os.getpid()}-{_count}"
    return [CircuitBreaker(name, failure_threshold=3, recovery_timeout=1.0, half_open_max_calls=1,
                           fleet=Fleet(redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=0.5),
                                       min_replicas=2, sync_interval=60.0), **options)
            for _ in range(n)]


def fail(b: CircuitBreaker) -> None:
    def boom() -> None:
        raise ConnectionError("down")

    try:
        b.call(boom)
    except (ConnectionError, CircuitBreakerError):
        pass


def sync_all(bs: List[CircuitBreaker]) -> None:
    for b in bs:
        b.sync_fleet()


def test_failures_on_two_replicas_open_all_together_one_probe_and_close_together(server: RedisServer) -> None:
    with virtual_clock(auto_advance=False) as clock:
        a, b, c = replicas(server, 3)
        fail(a), fail(a), fail(b)
        assert [x.state for x in (a, b, c)] == ["CLOSED"] * 3
        sync_all([a, b, c])
        sync_all([a, b, c])
        assert [x.state for x in (a, b, c)] == ["OPEN"] * 3
        with pytest.raises(CircuitBreakerError):
            c.call(lambda: "never ran")
        assert c.stats["fleet"]["mode"] == "shared" and c.stats["fleet"]["replicas"] == 3
        from seawall import get_health_status, prometheus_metrics

        assert get_health_status()["circuit_breakers"]["fleet"][c.name] == {"mode": "shared", "replicas": 3, "fresh": True}
        assert f'circuit_breaker_fleet_replicas{{name="{c.name}"}} 3' in prometheus_metrics()
        clock.advance(1.0)
        sync_all([a, b, c])
        sync_all([a, b, c])
        assert [x.state for x in (a, b, c)].count("HALF_OPEN") == 1, "one lease holder"
        prober = next(x for x in (a, b, c) if x.state == "HALF_OPEN")
        assert prober.call(lambda: "ok") == "ok"
        for _ in range(3):
            sync_all([a, b, c])
        assert [x.state for x in (a, b, c)] == ["CLOSED"] * 3
        for x in (a, b, c):
            x.leave_fleet()


def test_a_closed_mark_that_redis_failed_to_take_is_sent_at_the_next_round(server: RedisServer) -> None:
    """The probe holder closes on the call's path; its "closed" mark must reach the fleet even
    when Redis is down at that moment: it stays queued until a round delivers it."""
    with virtual_clock(auto_advance=False) as clock:
        a, b, c = replicas(server, 3)
        fail(a), fail(a), fail(b), fail(b)
        sync_all([a, b, c])
        sync_all([a, b, c])
        assert [x.state for x in (a, b, c)] == ["OPEN"] * 3
        clock.advance(1.0)
        sync_all([a, b, c])
        sync_all([a, b, c])
        prober = next(x for x in (a, b, c) if x.state == "HALF_OPEN")
        others = [x for x in (a, b, c) if x is not prober]
        server.stop()
        assert prober.call(lambda: "ok") == "ok"
        assert prober.state == "CLOSED"
        prober.sync_fleet()  # Redis is down: the mark cannot go out
        assert prober.stats["fleet"]["mode"] == "local"
        again = RedisServer(server.port)
        server.proc = again.proc
        prober.sync_fleet()
        sync_all(others)
        assert [x.state for x in others] == ["CLOSED", "CLOSED"], "the mark was sent once Redis was back"
        for x in (a, b, c):
            x.leave_fleet()


def test_one_replica_with_a_broken_network_opens_only_its_own_breaker(server: RedisServer) -> None:
    with virtual_clock(auto_advance=False):
        sick, *healthy = replicas(server, 4)
        for _ in range(10):
            fail(sick)
        for h in healthy:
            h.call(lambda: "ok")
        sync_all([sick, *healthy])
        sync_all([sick, *healthy])
        assert sick.state == "OPEN"
        assert [h.state for h in healthy] == ["CLOSED"] * 3
        for x in (sick, *healthy):
            x.leave_fleet()


def test_redis_down_means_deciding_alone_and_back_means_the_fleet(server: RedisServer) -> None:
    with virtual_clock(auto_advance=False) as clock:
        (a,) = replicas(server, 1)
        a.sync_fleet()
        assert a.stats["fleet"]["mode"] == "shared"
        events: List[str] = []
        a.add_fleet_listener(lambda name, mode: events.append(f"{'a' if name == a.name else '?'}:{mode}"))
        server.stop()
        a.sync_fleet()
        assert (a.stats["fleet"]["mode"], a.stats["fleet"]["fresh"]) == ("local", False)
        assert a.call(lambda: "ok") == "ok", "a call never waits for Redis"
        fail(a), fail(a), fail(a)
        assert a.state == "OPEN"
        clock.advance(1.0)
        assert a.state == "HALF_OPEN", "alone, the open period ends in a local probe"
        again = RedisServer(server.port)
        server.proc = again.proc
        a.sync_fleet()
        assert a.stats["fleet"]["mode"] == "shared", "rejoined"
        assert events == ["a:local", "a:shared"], "an event when Redis is lost and one when it is back"
        a.leave_fleet()


def test_redis_made_slow_never_slows_a_call_and_the_breaker_decides_alone_then_rejoins(server: RedisServer) -> None:
    """A stalling proxy holds Redis's answers: the sync thread waits (up to the client's
    socket_timeout), calls do not."""

    proxy = StallingProxy(server.port)
    try:
        client = redis.Redis(host="127.0.0.1", port=proxy.port, socket_timeout=0.25)
        b = CircuitBreaker(f"py-fleet-slow-{os.getpid()}", failure_threshold=3,
                           fleet=Fleet(client, sync_interval=60.0))
        b.sync_fleet()
        assert b.stats["fleet"]["mode"] == "shared"
        proxy.stall()
        sync = threading.Thread(target=b.sync_fleet)
        sync.start()
        for _ in range(100):
            assert b.call(lambda: "ok") == "ok"
        assert sync.is_alive(), "a hundred calls ran while the sync waited for Redis"
        sync.join(timeout=10)
        assert (b.stats["fleet"]["mode"], b.stats["fleet"]["fresh"]) == ("local", False)
        proxy.flow()
        for _ in range(50):
            b.sync_fleet()
            if b.stats["fleet"]["mode"] == "shared":
                break
        assert b.stats["fleet"]["mode"] == "shared", "rejoined once Redis answered again"
        b.leave_fleet()
    finally:
        proxy.close()


def test_a_stalled_redis_without_a_socket_timeout_means_deciding_alone_after_one_interval(server: RedisServer) -> None:
    """No socket_timeout on the client: the sync's own deadline (one interval, real time, as it
    bounds a real round trip) puts the breaker alone; the stalled answer, when it comes, is
    dropped, and the next rounds rejoin. The waits below are bounded polls, not timings."""
    import time

    proxy = StallingProxy(server.port)
    try:
        b = CircuitBreaker(f"py-fleet-stalled-{os.getpid()}", failure_threshold=3,
                           fleet=Fleet(redis.Redis(host="127.0.0.1", port=proxy.port), sync_interval=0.2))
        b.sync_fleet()
        assert b.stats["fleet"]["mode"] == "shared"
        proxy.stall()
        for _ in range(200):
            if b.stats["fleet"]["mode"] == "local":
                break
            assert b.call(lambda: "ok") == "ok", "calls never wait for Redis"
            time.sleep(0.025)
        assert (b.stats["fleet"]["mode"], b.stats["fleet"]["fresh"]) == ("local", False)
        assert b.stats["fleet"]["failed_syncs"] == 1, "the stalled round counted once, by its deadline"
        proxy.flow()
        for _ in range(200):
            if b.stats["fleet"]["mode"] == "shared":
                break
            time.sleep(0.025)
        assert b.stats["fleet"]["mode"] == "shared", "rejoined once Redis answered again"
        b.leave_fleet()
    finally:
        proxy.close()


def test_a_worker_forked_after_the_app_made_its_fleet_policies_is_a_replica_of_its_own(server: RedisServer) -> None:
    """A pre-fork server (gunicorn --preload): the app, and its fleet breaker and limiter, made in
    the parent; requests served in forked workers. Each worker joins the fleet under an id of its
    own and syncs from a thread of its own: the parent's threads are not in the child, and under
    the parent's id the fleet counted the two processes as one replica."""
    (b,) = replicas(server, 1)
    limiter = RateLimiter(f"forked-{os.getpid()}", limit=10, per=1.0, fleet=Fleet(redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=0.5), sync_interval=60.0))
    b.sync_fleet()
    read, write = os.pipe()
    with warnings.catch_warnings():
        # The fork is the case under test (Python 3.12+ warns of forking a threaded process).
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the worker: report what it sees, whatever happens, and leave at once
        code = 1
        try:
            b.sync_fleet()
            limiter.sync_fleet()
            threads = sorted(t.name for t in threading.enumerate() if t.name.startswith("seawall-fleet-"))
            os.write(write, json.dumps([b.stats["fleet"], limiter.stats()["fleet"], threads]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    try:
        with os.fdopen(read, "rb") as f:
            # Bounded: a worker stuck on a lock held at the fork is killed, and the test fails.
            if not select.select([f], [], [], 60)[0]:
                os.kill(pid, signal.SIGKILL)
            got = f.read()
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    breaker_fleet, limiter_fleet, threads = json.loads(got)
    b.sync_fleet()
    limiter.sync_fleet()
    assert (breaker_fleet["replicas"], b.stats["fleet"]["replicas"]) == (2, 2), breaker_fleet
    assert (limiter_fleet["replicas"], limiter.stats()["fleet"]["replicas"]) == (2, 2), limiter_fleet
    assert len(threads) == 4, threads  # each sync's rounds and deadline watchdog, running in the worker


def test_fleet_options_are_checked_by_the_core(server: RedisServer) -> None:
    client = redis.Redis(host="127.0.0.1", port=server.port)
    with pytest.raises(ValueError) as e:
        CircuitBreaker("x", fleet=Fleet(client, min_replicas=0))
    assert (e.value.option, e.value.value) == ("fleet.min_replicas", "0")  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as t:
        CircuitBreaker(fleet=Fleet(client))
    assert t.value.option == "name"  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as t:
        CircuitBreaker("y", fleet=Fleet(redis.asyncio.Redis(host="127.0.0.1", port=server.port)))
    assert t.value.option == "fleet.redis"  # type: ignore[attr-defined]
    b = CircuitBreaker("z", fleet={"redis": client, "min_replicas": 0.5, "sync_interval": 60})
    assert b.config["fleet"]["minReplicas"] == 0.5
    b.leave_fleet()


def run_node_replica(script: str, server: RedisServer, name: str) -> List[Any]:
    """Runs `script` as a Node replica of the policy `name` (seawall's Node build and ioredis,
    Redis on `server`); answers the JSON lines it printed."""
    node = shutil.which("node")
    pkg = os.path.join(os.path.dirname(__file__), "..", "..", "bindings-node")
    entry = os.path.join(pkg, "dist", "esm", "entry.node.js")
    if not os.environ.get("CI") and (node is None or not os.path.exists(os.path.join(pkg, "node_modules", "ioredis"))):
        pytest.skip("make test builds the Node package first")
    assert node is not None
    env = {**os.environ, "PORT": str(server.port), "NAME": name, "SEAWALL_ENTRY": "file://" + os.path.abspath(entry),
           "SEAWALL_PKG": os.path.abspath(os.path.join(pkg, "package.json"))}
    out = subprocess.run([node, "--input-type=module", "-e", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


NODE_REPLICA = r"""
const { CircuitBreaker } = await import(process.env.SEAWALL_ENTRY);
const { createRequire } = await import('node:module');
const Redis = createRequire(process.env.SEAWALL_PKG)('ioredis');
const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.PORT), maxRetriesPerRequest: 0, enableOfflineQueue: false });
await new Promise((r) => redis.once('ready', r));
const b = new CircuitBreaker(process.env.NAME, { failureThreshold: 3, resetTimeout: 60000, fleet: { redis, minReplicas: 2, syncInterval: 60000 } });
for (let i = 0; i < 2; i++) await b.execute(async () => { throw new Error('down'); }).catch(() => {});
await b.syncFleet();
console.log(JSON.stringify({ state: b.state }));
await b.syncFleet();
console.log(JSON.stringify({ state: b.state }));
b.leaveFleet();
redis.disconnect();
"""


def test_a_node_replica_and_python_replicas_share_one_breaker(server: RedisServer) -> None:
    """The same keys and scripts from both languages: two failures in a Node process and one in
    Python are the fleet's three."""
    (py,) = replicas(server, 1)
    fail(py)
    py.sync_fleet()
    states = [line["state"] for line in run_node_replica(NODE_REPLICA, server, py.name)]
    assert states[-1] == "OPEN", f"the Node replica saw the fleet's failures: {states}"
    py.sync_fleet()
    assert py.state == "OPEN"
    py.leave_fleet()


# ---- rate limits shared by the fleet ------------------------------------------------------------


def limiters(server: RedisServer, n: int, **options: Any) -> List[RateLimiter]:
    global _count
    _count += 1
    name = f"py-quota-{os.getpid()}-{_count}"
    return [RateLimiter(name, limit=30, per=1.0, burst=3,
                        fleet=Fleet(redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=0.5), sync_interval=60.0),
                        **options)
            for _ in range(n)]


def shares(ls: List[RateLimiter]) -> List[float]:
    return [round(x.stats()["fleet"]["share"], 6) for x in ls]


def sync_rounds(ls: List[RateLimiter], rounds: int = 3) -> None:
    """``rounds`` syncs of every replica in turn, once each replica's own first round (run at
    once, in its thread, as it is made) is done: interleaved with ours, that round could leave
    three rounds short of settling (a replica holding 15 of 30 when another takes its part)."""
    for x in ls:
        for _ in range(1000):  # a bounded poll (at most ~5 s), not a timing
            fleet = x.stats()["fleet"]
            if fleet["syncs"] + fleet["failed_syncs"] >= 1:
                break
            threading.Event().wait(0.005)
    for _ in range(rounds):
        for x in ls:
            x.sync_fleet()


def attempt(x: RateLimiter) -> bool:
    try:
        x.call(lambda: None)
        return True
    except RateLimitError:
        return False


def test_replicas_share_one_limit_and_never_exceed_it_together(server: RedisServer) -> None:
    with virtual_clock(auto_advance=False) as clock:
        ls = limiters(server, 3)
        sync_rounds(ls)
        assert shares(ls) == [10.0, 10.0, 10.0], "an even part each while nobody calls"
        assert [x.stats()["fleet"]["replicas"] for x in ls] == [3, 3, 3]
        # Every replica calls as fast as it can for 2 s (every 10 ms), syncing every 250 ms.
        started = 0
        for step in range(200):
            if step % 25 == 0:
                for x in ls:
                    x.sync_fleet()
            started += sum(attempt(x) for x in ls)
            clock.advance(0.01)
        # At most max(burst, replicas) + 2 s × 30 per second, and the limit is used.
        assert 55 <= started <= 3 + 60, started
        for x in ls:
            x.leave_fleet()


def test_a_busy_replica_takes_what_idle_ones_leave(server: RedisServer) -> None:
    with virtual_clock(auto_advance=False) as clock:
        busy, *idle = limiters(server, 3)
        sync_rounds([busy, *idle])
        for _ in range(5):
            for _ in range(20):
                attempt(busy)
            clock.advance(0.25)
            for x in (busy, *idle):
                x.sync_fleet()
        assert shares([busy, *idle]) == [30.0, 0.0, 0.0], "the idle ones want nothing and gave theirs back"
        # An idle replica that starts calling is refused until the syncs give it its part: with
        # both calling more than the limit, an even split of it (the third wants nothing).
        assert not attempt(idle[0])
        for _ in range(4):
            for _ in range(20):
                attempt(busy), attempt(idle[0])
            clock.advance(0.25)
            for x in (busy, *idle):
                x.sync_fleet()
        assert shares([busy, *idle]) == [15.0, 15.0, 0.0]
        for x in (busy, *idle):
            x.leave_fleet()


def test_redis_lost_means_an_equal_part_and_flushall_or_a_restart_recovers(server: RedisServer) -> None:
    with virtual_clock(auto_advance=False):
        ls = limiters(server, 3)
        sync_rounds(ls)
        redis.Redis(host="127.0.0.1", port=server.port).flushall()
        sync_rounds(ls)
        assert shares(ls) == [10.0, 10.0, 10.0], "FLUSHALL: the shares are taken again"
        server.stop()
        ls[0].sync_fleet()
        fleet = ls[0].stats()["fleet"]
        # (The background thread's first round may fail here too.)
        assert (fleet["mode"], fleet["share"], fleet["failed_syncs"] >= 1) == ("local", 10.0, True), "limit ÷ the replicas last seen"
        assert attempt(ls[0]), "a call never waits for Redis"
        again = RedisServer(server.port)
        server.proc = again.proc
        sync_rounds(ls)
        assert [x.stats()["fleet"]["mode"] for x in ls] == ["shared"] * 3
        assert sum(shares(ls)) <= 30.0
        for x in ls:
            x.leave_fleet()


def test_rate_limit_fleet_options_are_checked_by_the_core(server: RedisServer) -> None:
    client = redis.Redis(host="127.0.0.1", port=server.port)
    with pytest.raises(TypeError) as t:
        RateLimiter(limit=5, fleet=Fleet(client))
    assert t.value.option == "name"  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as t:
        RateLimiter("q", limit=5, fleet=Fleet(client, min_replicas=2))
    assert t.value.option == "fleet.min_replicas", "a quorum is a breaker's"  # type: ignore[attr-defined]
    with pytest.raises(ValueError) as e:
        RateLimiter("q", limit=5, fleet=Fleet(client, sync_interval=0))
    assert (e.value.option, e.value.value) == ("fleet.sync_interval", "0")  # type: ignore[attr-defined]


NODE_QUOTA_REPLICA = r"""
const { RateLimiter } = await import(process.env.SEAWALL_ENTRY);
const { createRequire } = await import('node:module');
const Redis = createRequire(process.env.SEAWALL_PKG)('ioredis');
const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.PORT), maxRetriesPerRequest: 0, enableOfflineQueue: false });
await new Promise((r) => redis.once('ready', r));
const l = new RateLimiter(process.env.NAME, { limit: 30, burst: 3, fleet: { redis, syncInterval: 60000 } });
for (let i = 0; i < 3; i++) await l.syncFleet();
console.log(JSON.stringify(l.getStats().fleet));
l.leaveFleet();
redis.disconnect();
"""


def test_a_node_replica_and_python_replicas_share_one_limit(server: RedisServer) -> None:
    ls = limiters(server, 2)
    sync_rounds(ls)
    fleet = run_node_replica(NODE_QUOTA_REPLICA, server, ls[0].name)[-1]
    assert (fleet["mode"], fleet["replicas"]) == ("shared", 3), fleet
    sync_rounds(ls)
    assert sum(shares(ls)) + fleet["share"] <= 30.0 + 1e-9
    for x in ls:
        x.leave_fleet()


# ---- retry budgets shared by the fleet ----------------------------------------------------------


def budgets(server: RedisServer, n: int) -> List[RetryBudget]:
    """``n`` replicas of one retry budget: 6 retries per second and 12 tokens fleet-wide, no deposits."""
    global _count
    _count += 1
    name = f"py-budget-{os.getpid()}-{_count}"
    return [RetryBudget(name=name, ratio=0, min_retries_per_second=6, max_tokens=12,
                        fleet=Fleet(redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=0.5), sync_interval=60.0))
            for _ in range(n)]


def test_replicas_share_one_retry_budget_an_outage_costs_one_budget_not_one_each(server: RedisServer) -> None:
    # Auto-advance: a retry's backoff sleep moves the virtual clock (1 ms each).
    with virtual_clock() as clock:
        bs = budgets(server, 3)
        # The first syncs run as each replica is made, in their own threads: a few rounds settle them.
        sync_rounds(bs, 4)  # type: ignore[arg-type]
        assert shares(bs) == [2.0, 2.0, 2.0], "an even part of the trickle each"  # type: ignore[arg-type]
        assert [b.stats()["fleet"]["cap"] for b in bs] == [4.0, 4.0, 4.0], "and the same part of the tokens"
        assert sum(b.tokens for b in bs) <= 12
        calls = firsts = 0

        def down() -> None:
            nonlocal calls
            calls += 1
            raise ConnectionError("down")

        # Every replica makes a call every 10 ms for 2 s against a dead dependency, each allowed
        # one retry by its policy; the budgets decide. Lone budgets would allow 3 × (12 + 12).
        policies = [RetryPolicy(max_attempts=2, base_delay=0.001, jitter=False, budget=b) for b in bs]
        for step in range(200):
            if step % 25 == 0:
                for b in bs:
                    b.sync_fleet()
            for p in policies:
                firsts += 1
                with pytest.raises(Exception):
                    p.call(down)
            clock.advance(0.01)
        retries = calls - firsts
        assert retries == sum(b.stats()["withdrawn"] for b in bs)
        # At most what the parts held (12, plus one token each) and ~2 s of the shared 6 per second.
        assert 12 <= retries <= 12 + 3 + 2 * 6 + 1, retries
        for b in bs:
            b.leave_fleet()


def test_a_fleet_budget_with_redis_lost_runs_on_an_equal_part_and_its_options_are_checked(server: RedisServer) -> None:
    with virtual_clock(auto_advance=False):
        bs = budgets(server, 2)
        sync_rounds(bs, 4)  # type: ignore[arg-type]
        assert shares(bs) == [3.0, 3.0]  # type: ignore[arg-type]
        server.stop()
        bs[0].sync_fleet()
        fleet = bs[0].stats()["fleet"]
        assert (fleet["mode"], fleet["share"], fleet["cap"], fleet["failed_syncs"] > 0) == ("local", 3.0, 6.0, True)
        assert fleet["sync_interval"] == 60.0
        for b in bs:
            b.leave_fleet()
    client = redis.Redis(host="127.0.0.1", port=1)
    for kwargs, option in [({"fleet": Fleet(client)}, "name"),
                           ({"name": "b", "min_retries_per_second": 0, "fleet": Fleet(client)}, "min_retries_per_second"),
                           ({"name": "b", "fleet": Fleet(client, min_replicas=2)}, "fleet.min_replicas")]:
        with pytest.raises((TypeError, ValueError)) as info:
            RetryBudget(**kwargs)
        assert info.value.option == option, (kwargs, info.value)  # type: ignore[attr-defined]
