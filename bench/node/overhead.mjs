// Guarded-call overhead in Node, Seawall (napi backend) side by side with cockatiel and opossum
// from npm, in one process. Overhead = time per awaited call minus a bare `await fn()`.
// Not a test: it prints a table (and JSON with --json). Run: make bench-node.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));
const cockatiel = require('cockatiel');
const Opossum = require('opossum');

const N = Number(process.env.BENCH_N ?? 500_000);
const ROUNDS = 9;

async function measure(f, n = N) {
  for (let i = 0; i < Math.min(n, 100_000); i++) await f();
  const runs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await f();
    runs.push(Number(process.hrtime.bigint() - t) / n);
  }
  runs.sort((a, b) => a - b);
  return runs[ROUNDS >> 1];
}

/**
 * Overheads of several cases measured in turn within each round, each against the bare call
 * timed in the same round (drift — JIT tiers, GC, the machine's other load — hits every case
 * alike): the median over the rounds of each case's difference from its round's bare time.
 */
async function compare(cases, n = N, { absolute = false } = {}) {
  const bareCall = () => work();
  for (const f of Object.values(cases)) for (let i = 0; i < Math.min(n, 50_000); i++) await f();
  const diffs = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await bareCall();
    const b = absolute ? 0 : Number(process.hrtime.bigint() - t) / n;
    for (const [k, f] of Object.entries(cases)) {
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await f();
      diffs[k].push(Number(process.hrtime.bigint() - t1) / n - b);
    }
  }
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return Object.fromEntries(Object.entries(diffs).map(([k, xs]) => [k, median(xs)]));
}

const work = async () => 1;
const noop = () => {};
let breakerFloor = Number.NaN;
const rows = [];
const bare = await measure(() => work());

// 0. Fleet mode (issue 12: the call path with fleet mode on ≤ 1.2× off), measured first, before the
// other sections leave garbage and timers behind: the same breaker with a
// Redis sync every 250 ms in the background, against a real redis-server started here. Both
// loops yield to the event loop every 10,000 calls, so the sync's timers really run.
let fleet;
{
  const { startRedis } = await import('../../bindings-node/test/fixtures/redis-server.mjs');
  const server = await startRedis();
  const Redis = require('ioredis');
  const redis = new Redis({ host: '127.0.0.1', port: server.port, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  await new Promise((r) => redis.once('ready', r));
  const off = new seawall.CircuitBreaker('bench-fleet-off', { failureThreshold: 5 });
  const on = new seawall.CircuitBreaker('bench-fleet-on', { failureThreshold: 5, fleet: { redis } });
  let k = 0;
  const yielding = (f) => () => (++k % 10_000 === 0 ? new Promise((r) => setImmediate(r)).then(f) : f());
  const t = await compare({ off: yielding(() => off.execute(work)), on: yielding(() => on.execute(work)) });
  fleet = { off: t.off, on: t.on, syncs: on.getStats().fleet.syncs, mode: on.getStats().fleet.mode };
  on.leaveFleet();
  // The same for a rate limiter (a limit no call reaches: the cost of the share, not refusals).
  const quotaOff = new seawall.RateLimiter('bench-quota-off', { limit: 1e9 });
  const quotaOn = new seawall.RateLimiter('bench-quota-on', { limit: 1e9, fleet: { redis } });
  await quotaOn.syncFleet();
  const q = await compare({ off: yielding(() => quotaOff.execute(work)), on: yielding(() => quotaOn.execute(work)) });
  const qs = quotaOn.getStats();
  fleet.quota = { off: q.off, on: q.on, syncs: qs.fleet.syncs, mode: qs.fleet.mode, refused: qs.refused };
  quotaOn.leaveFleet();
  redis.disconnect();
  await server.stop();
}

// 1. A breaker alone (closed, consecutive-failure rule).
{
  const c = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 10_000, breaker: new cockatiel.ConsecutiveBreaker(5) });
  const o = new Opossum(work, { timeout: false, errorThresholdPercentage: 50, resetTimeout: 10_000 });
  const s = new seawall.CircuitBreaker({ failureThreshold: 5 });
  // The floor of any guard that sees how a call ends: forward it and watch its promise, nothing else.
  const watched = (fn) => {
    const p = fn();
    p.then(noop, noop);
    return p;
  };
  const t = await compare({ seawall: () => s.execute(work), cockatiel: () => c.execute(work), opossum: () => o.fire(), floor: () => watched(work) });
  breakerFloor = t.floor;
  rows.push({ scenario: 'breaker', seawall: t.seawall, cockatiel: t.cockatiel, opossum: t.opossum });
}

// 2. Retry + breaker + timeout + bulkhead, no failures.
{
  const n = Math.min(N, 100_000);
  const { circuitBreaker, handleAll, ConsecutiveBreaker, retry, timeout, bulkhead, wrap, ExponentialBackoff, TimeoutStrategy } = cockatiel;
  const c = wrap(
    bulkhead(100, 100),
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(1000, TimeoutStrategy.Cooperative),
  );
  const policy = {
    bulkhead: { maxConcurrent: 100, maxQueueSize: 100 },
    retry: { maxAttempts: 3 },
    circuitBreaker: { failureThreshold: 5 },
    timeout: 1000,
  };
  const o = new Opossum(work, { timeout: 1000, errorThresholdPercentage: 50, resetTimeout: 10_000, capacity: 100 });
  rows.push({
    scenario: 'retry+breaker+timeout+bulkhead',
    ...(await compare({ seawall: () => seawall.resilienceManager.execute('bench-stack', work, policy), cockatiel: () => c.execute(work), opossum: () => o.fire() }, n)),
    note: 'opossum: breaker + timeout + capacity (it has no retry)',
  });
}

// 3. Retry alone (a policy built once), and as the seeds write it: options inline, per call
// (seed 000 `withBackoff(fn, {...})`, seed 003 `executeWithRetry(fn, RetryPolicies.…())` and
// `executeWithRetry(fn, retryConfig)`), against cockatiel's policy built once. No failures: the
// cost of the calling form itself.
{
  const c = cockatiel.retry(cockatiel.handleAll, { maxAttempts: 4, backoff: new cockatiel.ExponentialBackoff() });
  const p = new seawall.RetryPolicy({ maxAttempts: 4 });
  const retryConfig = {
    maxAttempts: 5,
    initialDelay: 1000,
    maxDelay: 30000,
    backoffMultiplier: 2,
    jitter: true,
    retryableErrors: ['TIMEOUT', 'NETWORK_ERROR', '503'],
    onRetry: (attempt, error, delay) => console.log(`Retry attempt ${attempt} after ${delay}ms due to: ${error.message}`),
  };
  const t = await compare({
    cockatiel: () => c.execute(work),
    prebuilt: () => p.execute(work),
    seed000: () => seawall.withBackoff(work, { maxRetries: 3, baseDelay: 1000, maxDelay: 4000, jitter: true }),
    seed003preset: () => seawall.executeWithRetry(work, seawall.RetryPolicies.exponential(5, 100, 30000)),
    seed003config: () => seawall.executeWithRetry(work, retryConfig),
  });
  const note = 'cockatiel: retry(handleAll, { maxAttempts: 4 }) built once, execute per call';
  rows.push({ scenario: 'retry (a policy built once), no failures', seawall: t.prebuilt, cockatiel: t.cockatiel, opossum: Number.NaN });
  rows.push({ scenario: 'seed 000: withBackoff(fn, {…}) per call', seawall: t.seed000, cockatiel: t.cockatiel, opossum: Number.NaN, note });
  rows.push({ scenario: 'seed 003: executeWithRetry(fn, RetryPolicies.exponential(5, 100, 30000))', seawall: t.seed003preset, cockatiel: t.cockatiel, opossum: Number.NaN });
  rows.push({ scenario: 'seed 003: executeWithRetry(fn, retryConfig)', seawall: t.seed003config, cockatiel: t.cockatiel, opossum: Number.NaN });
}

// 4. Rejection while open (fail fast).
{
  const c = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 1e9, breaker: new cockatiel.ConsecutiveBreaker(1) });
  await c.execute(() => Promise.reject(new Error('x'))).catch(() => {});
  const s = new seawall.CircuitBreaker({ failureThreshold: 1, resetTimeout: 1e9 });
  await s.execute(() => Promise.reject(new Error('x'))).catch(() => {});
  const o = new Opossum(() => Promise.reject(new Error('x')), { timeout: false, resetTimeout: 1e9, errorThresholdPercentage: 1, volumeThreshold: 0 });
  o.open();
  const n = Math.min(N, 200_000);
  const swallow = (p) => p.catch(() => {});
  rows.push({
    scenario: 'rejection while open',
    ...(await compare({ seawall: () => swallow(s.execute(work)), cockatiel: () => swallow(c.execute(work)), opossum: () => swallow(o.fire()) }, n, { absolute: true })),
    note: 'absolute ns per rejected call',
  });
}

const fmt = (x) => (Number.isNaN(x) ? '—' : x.toFixed(0));
const ratio = (a, b) => (Number.isNaN(b) ? '—' : (a / b).toFixed(2) + '×');
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, bare, rows, fleet, breakerFloor }, null, 2));
} else {
  console.log(`Node ${process.version}; bare await ${bare.toFixed(1)} ns; ns of overhead per call (median of ${ROUNDS} rounds)`);
  console.log('| scenario | seawall | cockatiel | opossum | seawall ÷ cockatiel | seawall ÷ opossum |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${fmt(r.seawall)} | ${fmt(r.cockatiel)} | ${fmt(r.opossum)} | ${ratio(r.seawall, r.cockatiel)} | ${ratio(r.seawall, r.opossum)} |`);
  }
  for (const r of rows) if (r.note) console.log(`- ${r.scenario}: ${r.note}`);
  const breakerRow = rows.find((r) => r.scenario === 'breaker');
  console.log(`- the floor of any guard that sees how a call ends (forward it, watch its promise): ${fmt(breakerFloor)} ns, ${ratio(breakerFloor, breakerRow.cockatiel)} cockatiel; the breaker is ${ratio(breakerRow.seawall, breakerFloor)} that floor`);
  console.log(`- fleet mode (breaker, ${fleet.syncs} Redis syncs in the background, ${fleet.mode}): ${fmt(fleet.on)} ns on vs ${fmt(fleet.off)} ns off: ${ratio(fleet.on, fleet.off)}`);
  const fq = fleet.quota;
  console.log(`- fleet mode (rate limiter, ${fq.syncs} Redis syncs in the background, ${fq.mode}, ${fq.refused} refused): ${fmt(fq.on)} ns on vs ${fmt(fq.off)} ns off: ${ratio(fq.on, fq.off)}`);
}
