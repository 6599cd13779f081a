// Fleet mode against a real redis-server on 127.0.0.1 (started here, stopped by its pid): several
// breakers of one name act as one. Syncs are run by hand on a virtual clock, so nothing here
// waits on the wall clock for a decision; Redis itself answers in real time.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';

import { CircuitBreaker, CircuitBreakerError, RateLimiter, RateLimitError, RetryBudget, useRealClock, useVirtualClock, withBackoff } from 'seawall';
import { stallingProxy, startRedis } from './fixtures/redis-server.mjs';

const require = createRequire(import.meta.url);
const Redis = require('ioredis');

let server;
const clients = [];
before(async () => {
  server = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await server?.stop();
});

// As we recommend: no offline queue (a sync that cannot be sent fails at once instead of piling
// up while Redis is down), and quick reconnects.
async function client(port = server.port) {
  const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 50 });
  c.on('error', () => {});
  clients.push(c);
  await new Promise((resolve) => c.once('ready', resolve));
  return c;
}

let fleetCount = 0;
/** `n` replicas of one breaker (one name, one Redis client each, as separate processes would). */
async function replicas(n, options = {}) {
  const name = `fleet-${process.pid}-${++fleetCount}`;
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(new CircuitBreaker(name, { failureThreshold: 3, resetTimeout: 1000, halfOpenMaxCalls: 1, ...options, fleet: { redis: await client(), minReplicas: 2, syncInterval: 100, ...options.fleet } }));
  }
  return out;
}

const fail = (b) => b.execute(async () => { throw new Error('down'); }).catch((e) => e);
const ok = (b) => b.execute(async () => 'ok');
const syncAll = async (bs) => { for (const b of bs) await b.syncFleet(); };

test('failures spread over two replicas open all three together; one probe for the fleet; it closes together', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const [a, b, c] = await replicas(3);
    await fail(a);
    await fail(a);
    await fail(b);
    assert.deepEqual([a.state, b.state, c.state], ['CLOSED', 'CLOSED', 'CLOSED'], 'below the local threshold everywhere');
    await syncAll([a, b, c]);
    await syncAll([a, b, c]);
    assert.deepEqual([a.state, b.state, c.state], ['OPEN', 'OPEN', 'OPEN'], 'three failures in a row fleet-wide, on two replicas');
    assert.ok((await ok(c).catch((e) => e)) instanceof CircuitBreakerError, 'c never failed, and refuses');
    assert.equal(c.getStats().fleet.mode, 'shared');
    assert.equal(c.getStats().fleet.replicas, 3);
    const { resilienceManager, prometheusMetrics } = await import('seawall');
    assert.deepEqual(resilienceManager.getHealthStatus().circuitBreakers.fleet?.[c.name], { mode: 'shared', replicas: 3, fresh: true });
    assert.match(prometheusMetrics(), new RegExp(`circuit_breaker_fleet_replicas\\{name="${c.name}"\\} 3`));
    await clock.advance(1000);
    await syncAll([a, b, c]);
    const states = [a.state, b.state, c.state];
    assert.equal(states.filter((s) => s === 'HALF_OPEN').length, 1, `one lease holder: ${states}`);
    await syncAll([a, b, c]);
    assert.equal([a.state, b.state, c.state].filter((s) => s === 'HALF_OPEN').length, 1, 'still one');
    const prober = [a, b, c].find((x) => x.state === 'HALF_OPEN');
    assert.equal(await ok(prober), 'ok');
    assert.equal(prober.state, 'CLOSED');
    // The prober's "closed" mark goes out on its own connection: another replica may sync just
    // before it lands, and learns it at its next sync.
    await syncAll([a, b, c]);
    await syncAll([a, b, c]);
    assert.deepEqual([a.state, b.state, c.state], ['CLOSED', 'CLOSED', 'CLOSED'], 'the fleet closes on the probe');
    for (const x of [a, b, c]) x.leaveFleet();
  } finally {
    useRealClock();
  }
});

test("a \"closed\" mark that Redis failed to take is sent at the next round", async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  const own = await startRedis();
  try {
    const name = `fleet-mark-${process.pid}`;
    const redis = [await client(own.port), await client(own.port), await client(own.port)];
    const all = redis.map((r) => new CircuitBreaker(name, { failureThreshold: 3, resetTimeout: 1000, halfOpenMaxCalls: 1, fleet: { redis: r, minReplicas: 2, syncInterval: 60_000 } }));
    const [a, b] = all;
    for (const x of [a, a, b]) await fail(x); // below the local threshold, a quorum fleet-wide
    await syncAll(all);
    await syncAll(all);
    assert.deepEqual(all.map((x) => x.state), ['OPEN', 'OPEN', 'OPEN']);
    await clock.advance(1000);
    await syncAll(all);
    const prober = all.find((x) => x.state === 'HALF_OPEN');
    const others = all.filter((x) => x !== prober);
    await own.stop();
    assert.equal(await ok(prober), 'ok', 'the probe succeeds while Redis is down');
    assert.equal(prober.state, 'CLOSED');
    // Syncs run by hand only (a long interval): a background round while Redis is down would
    // leave the others deciding alone, and alone their open period has ended.
    await prober.syncFleet();
    assert.equal(prober.getStats().fleet.mode, 'local', 'the mark could not go out');
    const again = await startRedis(own.port);
    own.stop = again.stop;
    for (let i = 0; i < 100 && prober.getStats().fleet.mode !== 'shared'; i++) {
      await prober.syncFleet();
      if (prober.getStats().fleet.mode !== 'shared') await new Promise((r) => setTimeout(r, 20)); // the client reconnecting
    }
    // The others' clients reconnect before they sync (a failed sync would leave them alone too).
    await Promise.all(redis.map((r) => (r.status === 'ready' ? undefined : new Promise((resolve) => r.once('ready', resolve)))));
    await syncAll(others);
    assert.deepEqual(others.map((x) => x.state), ['CLOSED', 'CLOSED'], 'the mark reached the fleet once Redis was back');
    for (const x of all) x.leaveFleet();
  } finally {
    useRealClock();
    await own.stop();
  }
});

test('one replica with a broken network opens only its own breaker', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const [sick, ...healthy] = await replicas(4);
    for (let i = 0; i < 10; i++) await fail(sick);
    for (const h of healthy) await ok(h);
    await syncAll([sick, ...healthy]);
    await syncAll([sick, ...healthy]);
    assert.equal(sick.state, 'OPEN');
    assert.deepEqual(healthy.map((h) => h.state), ['CLOSED', 'CLOSED', 'CLOSED']);
    await clock.advance(1000);
    assert.equal(sick.state, 'HALF_OPEN', 'its own breaker probes by itself, without the lease');
    for (const x of [sick, ...healthy]) x.leaveFleet();
  } finally {
    useRealClock();
  }
});

test('Redis down: calls keep flowing and decisions are local; Redis back: the fleet again', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  const own = await startRedis();
  try {
    const name = `fleet-down-${process.pid}`;
    const a = new CircuitBreaker(name, { failureThreshold: 2, resetTimeout: 1000, fleet: { redis: await client(own.port), syncInterval: 100 } });
    const b = new CircuitBreaker(name, { failureThreshold: 2, resetTimeout: 1000, fleet: { redis: await client(own.port), syncInterval: 100 } });
    await syncAll([a, b]);
    assert.equal(a.getStats().fleet.mode, 'shared');
    const events = [];
    a.on('fleet', (e) => events.push(`${e.name === name ? 'a' : '?'}:${e.mode}`));
    await own.stop();
    const pending = a.syncFleet();
    await clock.advance(100); // the sync's deadline, if the client has not failed already
    await pending;
    assert.equal(a.getStats().fleet.mode, 'local');
    assert.equal(a.getStats().fleet.fresh, false);
    assert.equal(await ok(a), 'ok', 'a call never waits for Redis');
    await fail(a);
    await fail(a);
    assert.equal(a.state, 'OPEN');
    await clock.advance(1000);
    assert.equal(a.state, 'HALF_OPEN', 'alone, the open period ends in a local probe');
    const again = await startRedis(own.port);
    own.stop = again.stop;
    let mode = 'local';
    for (let i = 0; i < 100 && mode !== 'shared'; i++) {
      await a.syncFleet();
      mode = a.getStats().fleet.mode;
      if (mode !== 'shared') await new Promise((r) => setTimeout(r, 20)); // the client reconnecting
    }
    assert.equal(mode, 'shared', 'rejoined after Redis came back');
    assert.deepEqual(events, ['a:local', 'a:shared'], "an event when Redis is lost and one when it is back");
    for (const x of [a, b]) x.leaveFleet();
  } finally {
    useRealClock();
    await own.stop();
  }
});

test('Redis made slow (a stalling proxy): calls never wait for it, the breaker decides alone, then rejoins', async () => {
  const proxy = await stallingProxy(server.port);
  try {
    const b = new CircuitBreaker(`fleet-slow-${process.pid}`, { failureThreshold: 3, fleet: { redis: await client(proxy.port), syncInterval: 100 } });
    await b.syncFleet();
    assert.equal(b.getStats().fleet.mode, 'shared');
    proxy.stall();
    let synced = false;
    const pending = b.syncFleet().then(() => (synced = true));
    for (let i = 0; i < 100; i++) assert.equal(await ok(b), 'ok');
    assert.equal(synced, false, 'a hundred calls ran while the sync waited for Redis');
    await pending; // its deadline (one interval) passed
    assert.deepEqual([b.getStats().fleet.mode, b.getStats().fleet.fresh], ['local', false]);
    proxy.flow();
    let mode = 'local';
    for (let i = 0; i < 50 && mode !== 'shared'; i++) {
      await b.syncFleet();
      mode = b.getStats().fleet.mode;
    }
    assert.equal(mode, 'shared', 'rejoined once Redis answered in time again');
    b.leaveFleet();
  } finally {
    await proxy.close();
  }
});

test('fleet options are checked by the core, and a fleet needs a name', async () => {
  const redis = await client();
  assert.throws(() => new CircuitBreaker('x', { fleet: { minReplicas: 2 } }), (e) => e instanceof TypeError && e.option === 'fleet.redis');
  assert.throws(() => new CircuitBreaker('x', { fleet: { redis, minReplicas: 0 } }), (e) => e instanceof RangeError && e.option === 'fleet.minReplicas' && e.value === '0');
  assert.throws(() => new CircuitBreaker({ fleet: { redis } }), (e) => e instanceof TypeError && e.option === 'name');
});

// ---- rate limits shared by the fleet ------------------------------------------------------------

/** `n` replicas of one rate limiter: 30 per second fleet-wide, bursts of 3. */
async function limiters(n, port = server.port) {
  const name = `quota-${process.pid}-${++fleetCount}`;
  const out = [];
  for (let i = 0; i < n; i++) out.push(new RateLimiter(name, { limit: 30, burst: 3, fleet: { redis: await client(port), syncInterval: 100 } }));
  return out;
}
const shares = (ls) => ls.map((l) => Math.round(l.getStats().fleet.share * 1e6) / 1e6);
const rounds = async (ls, n = 3) => { for (let i = 0; i < n; i++) for (const l of ls) await l.syncFleet(); };
const attempt = (l) => l.execute(() => true).catch((e) => { if (!(e instanceof RateLimitError)) throw e; return false; });

test('rate limiter replicas share one limit and never exceed it together', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const ls = await limiters(3);
    await rounds(ls);
    assert.deepEqual(shares(ls), [10, 10, 10], 'an even part each while nobody calls');
    assert.deepEqual(ls.map((l) => l.getStats().fleet.replicas), [3, 3, 3]);
    // Every replica calls every 10 ms for 2 s, syncing every 250 ms: at most
    // max(burst, replicas) + 2 s × 30 per second start, and the limit is used.
    let started = 0;
    for (let step = 0; step < 200; step++) {
      if (step % 25 === 0) for (const l of ls) await l.syncFleet();
      for (const l of ls) started += (await attempt(l)) ? 1 : 0;
      await clock.advance(10);
    }
    assert.ok(started >= 55 && started <= 63, `${started} started`);
    for (const l of ls) l.leaveFleet();
  } finally {
    useRealClock();
  }
});

test('a busy limiter replica takes what idle ones leave; Redis lost: an equal part; FLUSHALL and a restart recover', async () => {
  const own = await startRedis();
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const [busy, ...idle] = await limiters(3, own.port);
    await rounds([busy, ...idle]);
    for (let i = 0; i < 5; i++) {
      for (let k = 0; k < 20; k++) await attempt(busy);
      await clock.advance(250);
      for (const l of [busy, ...idle]) await l.syncFleet();
    }
    assert.deepEqual(shares([busy, ...idle]), [30, 0, 0], 'the idle ones want nothing and gave theirs back');
    assert.equal(await attempt(idle[0]), false, 'no share: refused until the syncs give it one');
    await (await client(own.port)).flushall();
    await rounds([busy, ...idle]);
    assert.ok(shares([busy, ...idle]).reduce((a, b) => a + b) <= 30, 'FLUSHALL: the shares are taken again, within the limit');
    await own.stop();
    await busy.syncFleet();
    const fleet = busy.getStats().fleet;
    assert.deepEqual([fleet.mode, fleet.share, fleet.failedSyncs > 0], ['local', 10, true], 'limit ÷ the replicas last seen');
    assert.equal(await attempt(busy), true, 'a call never waits for Redis');
    const again = await startRedis(own.port);
    own.stop = again.stop;
    for (let i = 0; i < 40 && busy.getStats().fleet.mode !== 'shared'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await rounds([busy, ...idle], 1);
    }
    assert.deepEqual([busy, ...idle].map((l) => l.getStats().fleet.mode), ['shared', 'shared', 'shared'], 'rejoined');
    for (const l of [busy, ...idle]) l.leaveFleet();
  } finally {
    useRealClock();
    await own.stop();
  }
});

test('rate limiter fleet options are checked by the core', async () => {
  const redis = await client();
  assert.throws(() => new RateLimiter({ limit: 5, fleet: { redis } }), (e) => e.option === 'name');
  assert.throws(() => new RateLimiter('q', { limit: 5, fleet: { redis, minReplicas: 2 } }), (e) => e.option === 'fleet.minReplicas');
  assert.throws(() => new RateLimiter('q', { limit: 5, fleet: { redis, syncInterval: 0 } }), (e) => e.option === 'fleet.syncInterval' && e.value === '0');
});

// ---- retry budgets shared by the fleet ----------------------------------------------------------

/** `n` replicas of one retry budget: 6 retries per second and 12 tokens fleet-wide, no deposits. */
async function budgets(n, port = server.port) {
  const name = `budget-${process.pid}-${++fleetCount}`;
  const out = [];
  for (let i = 0; i < n; i++) out.push(new RetryBudget({ name, ratio: 0, minRetriesPerSecond: 6, maxTokens: 12, fleet: { redis: await client(port), syncInterval: 100 } }));
  return out;
}

test('retry budget replicas share one budget: an outage costs the fleet one budget of retries, not one each', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const bs = await budgets(3);
    await rounds(bs);
    assert.deepEqual(shares(bs), [2, 2, 2], 'an even part of the trickle each');
    assert.deepEqual(bs.map((b) => b.getStats().fleet.cap), [4, 4, 4], 'and the same part of the tokens');
    assert.ok(bs.reduce((sum, b) => sum + b.tokens, 0) <= 12);
    // Every replica makes a call every 10 ms for 2 s against a dead dependency, each allowed one
    // retry by its policy; the budgets decide. Lone budgets of this size would allow 3 × (12 + 12).
    let calls = 0;
    let firsts = 0;
    const down = async () => {
      calls++;
      throw new Error('down');
    };
    for (let step = 0; step < 200; step++) {
      if (step % 25 === 0) for (const b of bs) await b.syncFleet();
      const pending = bs.map((budget) => {
        firsts++;
        return withBackoff(down, { maxAttempts: 2, baseDelay: 1, jitter: false, budget }).catch((e) => e);
      });
      await clock.advance(10);
      await Promise.all(pending);
    }
    const retries = calls - firsts;
    assert.equal(retries, bs.reduce((sum, b) => sum + b.getStats().withdrawn, 0));
    // At most what the parts held (12, plus one token each) and 2 s of the shared 6 per second.
    assert.ok(retries >= 12 && retries <= 12 + 3 + 2 * 6, `${retries} retries`);
    for (const b of bs) b.leaveFleet();
  } finally {
    useRealClock();
  }
});

test('a fleet budget with Redis lost runs on an equal part; its options are checked by the core', async () => {
  const own = await startRedis();
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const bs = await budgets(2, own.port);
    await rounds(bs);
    assert.deepEqual(shares(bs), [3, 3]);
    await own.stop();
    await bs[0].syncFleet();
    const { fleet } = bs[0].getStats();
    assert.deepEqual([fleet.mode, fleet.share, fleet.cap, fleet.failedSyncs > 0], ['local', 3, 6, true], 'the budget ÷ the replicas last seen');
    for (const b of bs) b.leaveFleet();
  } finally {
    useRealClock();
    await own.stop();
  }
  const redis = await client();
  assert.throws(() => new RetryBudget({ fleet: { redis } }), (e) => e.option === 'name');
  assert.throws(() => new RetryBudget({ name: 'b', minRetriesPerSecond: 0, fleet: { redis } }), (e) => e.option === 'minRetriesPerSecond' && e.value === '0');
  assert.throws(() => new RetryBudget({ name: 'b', fleet: { redis, minReplicas: 2 } }), (e) => e.option === 'fleet.minReplicas');
  assert.throws(() => new RetryBudget({ name: 'b', fleet: {} }), (e) => e.option === 'fleet.redis');
});

test('OpenTelemetry: a fleet breaker’s mode and replicas are the gauges seawall.fleet.shared and seawall.fleet.replicas', async () => {
  const { instrument } = await import('seawall');
  const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const stop = instrument({ meterProvider: new MeterProvider({ readers: [reader] }), tracerProvider: null });
  useVirtualClock({ autoAdvance: false });
  try {
    const [a, b] = await replicas(2);
    await syncAll([a, b]);
    await syncAll([a, b]);
    await reader.forceFlush();
    const gauge = (name) =>
      exporter
        .getMetrics()
        .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
        .filter((m) => m.descriptor.name === name)
        .flatMap((m) => m.dataPoints)
        .find((p) => p.attributes['seawall.policy.name'] === a.name)?.value;
    assert.deepEqual([gauge('seawall.fleet.shared'), gauge('seawall.fleet.replicas')], [1, 2]);
    for (const x of [a, b]) x.leaveFleet();
  } finally {
    stop();
    useRealClock();
  }
});
