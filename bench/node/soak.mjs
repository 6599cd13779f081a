// Soak: a long run of mixed calls through bulkhead → retry → breaker (with a per-attempt
// timeout) → a function that succeeds, fails, hangs until the timeout, or is cancelled by its
// caller at a random moment (queued, running, or sleeping between retries). Failure bursts
// open the breaker (rejections, half-open probes); a small bulkhead rejects the overflow.
// Afterwards nothing may be held: the bulkhead has no active or queued call, the breaker no
// call in flight and no half-open permit, the registries hold only the names this run made,
// no timer is pending, no listener is left on the shared signal, and every call ended exactly
// once with a result or a typed error. RSS is sampled after warm-up and at the end.
//
// Run: node --expose-gc bench/node/soak.mjs [calls]   (1,000,000 by default; exits 1 on a leak,
// or when RSS grew by more than 10 MB). test/soak.test.mjs runs 20,000 calls of it.
import { getEventListeners, setMaxListeners } from 'node:events';
import { seededRandom as rng } from './rng.mjs';

const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));
const { CircuitBreaker, CircuitBreakerError, BulkheadRejectedError, TimeoutError, RetryPolicy, circuitBreakerRegistry, bulkheadRegistry, createBulkhead } = seawall;


const pendingTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const tick = () => new Promise((r) => setImmediate(r));

/**
 * Runs `calls` calls, `concurrency` at a time. Answers the outcome counts, what was left held
 * (`leaks`: an empty list when nothing was) and the RSS samples.
 */
export async function soak({ calls = 20_000, concurrency = 40, seed = 7, name = 'soak' } = {}) {
  const random = rng(seed);
  const gc = globalThis.gc ?? (() => {});
  const timersBefore = pendingTimers();
  const breaker = new CircuitBreaker(name, { failureThreshold: 10, resetTimeout: 5, halfOpenMaxCalls: 2, timeout: 3 });
  const bulkhead = createBulkhead(name, 32, 16);
  const retry = new RetryPolicy({ name, maxAttempts: 2, baseDelay: 0, maxDelay: 1, jitter: 'full' });
  // One signal every call listens to and none aborts: a listener left on it is a leak.
  const shared = new AbortController();
  // Every call in flight listens to it: dozens at once is expected, not a leak warning.
  setMaxListeners(0, shared.signal);
  const ended = { ok: 0, failed: 0, timedOut: 0, cancelled: 0, breakerOpen: 0, bulkheadFull: 0, other: [] };
  let burst = 0;
  let opened = 0;
  const unsubscribe = breaker.on('stateChange', (e) => {
    if (e.currentState === 'OPEN') opened++;
  });

  const work = (kind) => (signal) => {
    if (kind === 'ok') return random() < 0.5 ? 'ok' : Promise.resolve('ok');
    if (kind === 'fail') return Promise.reject(Object.assign(new Error('upstream 503'), { status: 503 }));
    // Hangs until aborted (by the timeout, or by the caller).
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
  };

  const one = async () => {
    // Now and then a fan-out of 8 at once: more than the bulkhead's free room, so some are refused.
    if (random() < 0.01 && started + 8 <= calls) {
      started += 8;
      await Promise.all(Array.from({ length: 8 }, one));
    }
    // Failure bursts trip the breaker; between them, mostly successes.
    if (burst === 0 && random() < 0.0005) burst = 60;
    const r = random();
    const kind = burst > 0 ? (burst--, 'fail') : r < 0.9 ? 'ok' : r < 0.95 ? 'fail' : 'hang';
    let signal = shared.signal;
    let caller;
    if (random() < 0.1) {
      caller = new AbortController();
      // Its own signal, not AbortSignal.any([shared, caller]): Node's AbortSignal.any keeps every
      // combined signal alive on a long-lived source (nodejs/node#55351), which would be measured
      // as our leak.
      signal = caller.signal;
      // Cancelled at a random moment: at once, after a microtask, or after a few ms.
      const when = random();
      if (when < 0.3) queueMicrotask(() => caller.abort(new Error('client went away')));
      else setTimeout(() => caller.abort(new Error('client went away')), Math.floor(when * 6));
    }
    try {
      await bulkhead.execute((s) => retry.execute((_attempt, s2) => breaker.execute(work(kind), s2), s), signal);
      ended.ok++;
    } catch (e) {
      if (caller?.signal.aborted && e === caller.signal.reason) ended.cancelled++;
      else if (e instanceof BulkheadRejectedError) ended.bulkheadFull++;
      else if (e instanceof CircuitBreakerError) ended.breakerOpen++;
      else if (e instanceof TimeoutError) ended.timedOut++;
      else if (e?.status === 503) ended.failed++;
      else ended.other.push(e);
      // A refused client comes back a little later, not in a spin.
      if (e instanceof BulkheadRejectedError || e instanceof CircuitBreakerError) await new Promise((r) => setTimeout(r, 1));
    }
  };

  let started = 0;
  let warmRss = 0;
  let warmHeap = 0;
  const warmAt = Math.min(100_000, Math.floor(calls / 10));
  const lane = async () => {
    while (started < calls) {
      started++;
      await one();
      if (warmRss === 0 && started >= warmAt) {
        gc();
        ({ rss: warmRss, heapUsed: warmHeap } = process.memoryUsage());
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  // Let the caller-abort timers that outlived their calls fire, then settle the breaker.
  for (let i = 0; i < 100 && pendingTimers() > timersBefore; i++) await new Promise((r) => setTimeout(r, 2));
  await tick();

  unsubscribe();
  const leaks = [];
  const total = ended.ok + ended.failed + ended.timedOut + ended.cancelled + ended.breakerOpen + ended.bulkheadFull + ended.other.length;
  if (total !== calls) leaks.push(`${calls} calls, ${total} ended`);
  if (ended.other.length > 0) leaks.push(`untyped errors: ${ended.other.slice(0, 3).map(String).join('; ')}`);
  const m = bulkhead.getMetrics();
  if (m.active !== 0 || m.queued !== 0) leaks.push(`bulkhead holds active=${m.active} queued=${m.queued}`);
  const st = breaker.getStats();
  if (st.inFlight !== 0 || st.halfOpenInFlight !== 0) leaks.push(`breaker holds inFlight=${st.inFlight} halfOpenInFlight=${st.halfOpenInFlight}`);
  // A breaker left half-open with its probes lost would refuse forever: it must take a call.
  await new Promise((r) => setTimeout(r, 10));
  try {
    await breaker.execute(() => 'probe');
  } catch (e) {
    leaks.push(`breaker refuses after the run: ${e}`);
  }
  const breakers = circuitBreakerRegistry.names().filter((n) => n === name || n.startsWith(`${name}`));
  if (breakers.join() !== name) leaks.push(`breaker registry: ${breakers.join()}`);
  const bulkheads = bulkheadRegistry.getAll().map((b) => b.name).filter((n) => n.startsWith(name));
  if (bulkheads.join() !== name) leaks.push(`bulkhead registry: ${bulkheads.join()}`);
  if (pendingTimers() > timersBefore) leaks.push(`${pendingTimers() - timersBefore} timers pending`);
  const listeners = getEventListeners(shared.signal, 'abort').length;
  if (listeners !== 0) leaks.push(`${listeners} abort listeners left on the shared signal`);
  gc();
  const { rss: endRss, heapUsed: endHeap } = process.memoryUsage();
  return { warmHeap, endHeap, ended: { ...ended, other: ended.other.length }, opened, stats: st, metrics: m, leaks, warmRss, endRss, warmAt };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const calls = Number(process.argv[2] ?? 1_000_000);
  const t = performance.now();
  const r = await soak({ calls });
  const mb = (b) => (b / 2 ** 20).toFixed(1);
  const grew = r.endRss - r.warmRss;
  console.log(`soak (${seawall.backendName()}): ${calls} calls in ${((performance.now() - t) / 1000).toFixed(1)} s: ${JSON.stringify(r.ended)}`);
  console.log(`breaker: ${r.stats.totalCalls} calls, opened ${r.opened} times, ${r.stats.rejectedCalls} rejected; bulkhead: ${r.metrics.rejected} rejected, ${r.metrics.cancelled} cancelled`);
  console.log(`RSS ${mb(r.warmRss)} MB after ${r.warmAt} calls → ${mb(r.endRss)} MB at the end (${grew >= 0 ? '+' : ''}${mb(grew)} MB)`);
  console.log(`JS heap in use ${mb(r.warmHeap)} MB → ${mb(r.endHeap)} MB`);
  console.log(r.leaks.length === 0 ? 'nothing held' : `LEAKS: ${r.leaks.join('; ')}`);
  process.exit(r.leaks.length > 0 || grew > 10 * 2 ** 20 ? 1 : 0);
}
