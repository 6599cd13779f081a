// Hedged calls: attempts start as the core's steps say (on a virtual clock), the first acceptable
// answer wins, every loser is aborted and has ended before the call settles; all failing raises
// the primary's error with the others attached; the caller's abort cancels every attempt. Then a
// real long-tail server on 127.0.0.1 that sees the losing request aborted, and a storm of 10,000
// hedged calls through a breaker and a bulkhead cancelled at random.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { Agent, request } from 'undici';
import { Bulkhead, CircuitBreaker, createResilientFetch, createResilientInterceptor, hedge, HedgePolicy, resilientFetch, useRealClock, useVirtualClock, withVirtualClock } from 'seawall';
import { seededRandom as rng } from '../../bench/node/rng.mjs';

/** An attempt that answers `value` after `ms` on the clock, or rejects with its signal's reason. */
function after(clock, ms, value, log, k) {
  return (signal) =>
    new Promise((resolve, reject) => {
      log.push(`start ${k} @${clock.now()}`);
      const cancel = clock.setTimer(ms, () => {
        log.push(`end ${k} @${clock.now()}`);
        if (value instanceof Error) reject(value);
        else resolve(value);
      });
      signal?.addEventListener('abort', () => {
        cancel();
        log.push(`aborted ${k} @${clock.now()}`);
        reject(signal.reason);
      });
    });
}

test('a slow primary gets a hedge each delay; the first answer wins and the losers end before the call does', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const policy = new HedgePolicy({ delay: 50, maxAttempts: 3, name: 'search', budget: false });
    const times = [1000, 1000, 20];
    const call = policy.execute((k, signal) => after(clock, times[k], `answer ${k}`, log, k)(signal));
    let settled = false;
    call.then(() => (settled = true));
    await clock.advance(50);
    await clock.advance(50);
    assert.deepEqual(log, ['start 0 @0', 'start 1 @50', 'start 2 @100']);
    await clock.advance(20);
    assert.equal(await call, 'answer 2');
    assert.ok(settled);
    assert.deepEqual(log.slice(3), ['end 2 @120', 'aborted 0 @120', 'aborted 1 @120']);
    const s = policy.getStats();
    assert.deepEqual([s.name, s.calls, s.hedges, s.hedgeWins, s.delayMs], ['search', 1, 2, 1, 50]);
  } finally {
    useRealClock();
  }
});

test('a primary that answers before the delay starts nothing else', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const policy = new HedgePolicy({ delay: 50, onHedge: () => assert.fail('no hedge') });
    const call = policy.execute((k, signal) => after(clock, 30, 'fast', log, k)(signal));
    await clock.advance(30);
    assert.equal(await call, 'fast');
    await clock.advance(100);
    assert.deepEqual(log, ['start 0 @0', 'end 0 @30']);
    assert.equal(policy.getStats().hedges, 0);
  } finally {
    useRealClock();
  }
});

test('failures start the next attempt at once; when every attempt failed the primary’s error is raised with the others attached', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const errors = [new Error('a'), new Error('b'), new Error('c')];
    const started = [];
    const call = hedge(
      (k, signal) => {
        started.push([k, clock.now()]);
        return after(clock, 10, errors[k], log, k)(signal);
      },
      { mode: 'fallback', maxAttempts: 3, name: 'fallback-mode' },
    ).catch((e) => e);
    for (let i = 0; i < 3; i++) await clock.advance(10);
    const e = await call;
    assert.equal(e, errors[0]);
    assert.deepEqual(e.hedgedErrors, [errors[1], errors[2]]);
    assert.deepEqual(started, [[0, 0], [1, 10], [2, 20]]);
  } finally {
    useRealClock();
  }
});

test('an error no attempt can help with (a 400) fails the call at once, the other attempts aborted', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const bad = Object.assign(new Error('bad request'), { status: 400 });
    const call = hedge((k, signal) => after(clock, k === 0 ? 1000 : 5, k === 0 ? 'late' : bad, log, k)(signal), { delay: 10, name: 'fatal' }).catch((e) => e);
    await clock.advance(10);
    await clock.advance(5);
    assert.equal(await call, bad);
    assert.deepEqual(log, ['start 0 @0', 'start 1 @10', 'end 1 @15', 'aborted 0 @15']);
  } finally {
    useRealClock();
  }
});

test('retryableErrors and retryOnResult decide which attempts failed', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    const other = Object.assign(new Error('other'), { code: 'EOTHER' });
    // A listed error: the next attempt starts at once.
    const listed = hedge((k, s) => after(clock, 5, k === 0 ? reset : 'second', log, k)(s), { delay: 100, retryableErrors: ['ECONNRESET'], name: 'listed' });
    await clock.advance(5);
    await clock.advance(5);
    assert.equal(await listed, 'second');
    // An error not listed ends the call.
    const unlisted = hedge((k, s) => after(clock, 5, k === 0 ? other : 'second', log, k)(s), { delay: 100, retryableErrors: ['ECONNRESET'], name: 'listed' }).catch((e) => e);
    await clock.advance(5);
    assert.equal(await unlisted, other);
    // A rejected result is a failed attempt; the last one is the answer when all are rejected.
    const judged = hedge((k, s) => after(clock, 5, { k, ok: k === 1 }, log, k)(s), { delay: 100, retryOnResult: (v) => !v.ok, name: 'judged' });
    await clock.advance(5);
    await clock.advance(5);
    assert.deepEqual(await judged, { k: 1, ok: true });
  } finally {
    useRealClock();
  }
});

test('the caller’s abort cancels every attempt, and the call rejects with its reason once they ended', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const controller = new AbortController();
    const policy = new HedgePolicy({ delay: 10, maxAttempts: 3 });
    const call = policy.execute((k, s) => after(clock, 1000, 'never', log, k)(s), controller.signal).catch((e) => e);
    await clock.advance(10);
    const reason = new Error('caller left');
    controller.abort(reason);
    assert.equal(await call, reason);
    assert.deepEqual(log, ['start 0 @0', 'start 1 @10', 'aborted 0 @10', 'aborted 1 @10']);
    await clock.advance(1000);
    assert.equal(log.length, 4, 'no third attempt after the call ended');
    // A function of rest parameters (length 0) can take its signal: it is given one, aborted alike.
    const restLog = [];
    const rest = new AbortController();
    const restCall = policy.execute((...args) => after(clock, 1000, 'never', restLog, args[0])(args[1]), rest.signal).catch((e) => e);
    await clock.advance(10);
    rest.abort(reason);
    assert.equal(await restCall, reason);
    assert.deepEqual(restLog, ['start 0 @1010', 'start 1 @1020', 'aborted 0 @1020', 'aborted 1 @1020']);
    assert.equal(await policy.execute(async () => 'x', AbortSignal.abort(reason)).catch((e) => e), reason);
  } finally {
    useRealClock();
  }
});

test('the budget and the throttle stop hedging in an outage', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const policy = new HedgePolicy({ delay: 10, budget: { ratio: 0.1, minRetriesPerSecond: 0, maxTokens: 2 }, throttle: false });
    const calls = [];
    for (let i = 0; i < 10; i++) calls.push(policy.execute((k, s) => after(clock, 100, k, log, k)(s)));
    await clock.advance(10);
    await clock.advance(100);
    await Promise.all(calls);
    // The ten calls deposit as they start, the bucket full at two: two hedges, then none.
    assert.deepEqual([policy.getStats().hedges, policy.getStats().budgetRefused], [2, 8]);
    const throttled = new HedgePolicy({ delay: 10, budget: false, throttle: { maxTokens: 4 } });
    for (let i = 0; i < 5; i++) {
      const c = throttled.execute((k, s) => after(clock, 100, k, log, k)(s));
      await clock.advance(10);
      await clock.advance(100);
      await c;
    }
    // Slow calls (the latest attempt did not answer within a delay either) take a token each: at
    // half of the four, hedging stops, and stays stopped while calls are slow.
    const s = throttled.getStats();
    assert.deepEqual([s.hedges, s.throttleRefused, s.throttleTokens], [2, 3, 0]);
  } finally {
    useRealClock();
  }
});

/** A seeded run of 200 hedged calls on a virtual clock (attempts of scripted times, some
 * failing): the log of attempts started, each call's answer, and the policy's stats. `judged`:
 * with a `retryOnResult` that rejects nothing, which makes each call's machine from its start;
 * without, calls begin without one. */
async function scenario(options, judged) {
  return withVirtualClock(async (clock) => {
    const random = rng(7);
    const policy = new HedgePolicy(judged ? { ...options, retryOnResult: () => false } : options);
    const log = [];
    const results = [];
    const pending = [];
    for (let i = 0; i < 200; i++) {
      const plan = [0, 1, 2].map(() => ({ ms: random() < 0.2 ? 100 : 1 + Math.floor(random() * 10), fail: random() < 0.05 }));
      // The signal is not used: the losers run to their end alike in both runs.
      const attempt = (k, _signal) =>
        new Promise((resolve, reject) => {
          log.push(`${i}:${k}@${clock.now()}`);
          clock.setTimer(plan[k].ms, () => (plan[k].fail ? reject(Object.assign(new Error('reset'), { code: 'ECONNRESET' })) : resolve(`${i}:${k}`)));
        });
      pending.push(policy.execute(attempt).then((v) => (results[i] = v), (e) => (results[i] = `error ${e.code}`)));
      await clock.advance(10);
    }
    for (let j = 0; j < 1000 && results.filter((x) => x !== undefined).length < 200; j++) await clock.advance(1);
    await Promise.all(pending);
    // Tokens to 1e-9: a call begun lazily deposits as it is handed over, not as it begins, and
    // the budget's refill over time then sums in another order (the same to the last few bits).
    const stats = Object.fromEntries(Object.entries(policy.getStats()).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e9) / 1e9 : v]));
    return { log, results, stats };
  }, { autoAdvance: false });
}

test('a call begun without a machine in the core decides as one begun with it (seeded runs, both ways)', async () => {
  for (const options of [
    { delay: 20, maxAttempts: 3, budget: { ratio: 0.2, minRetriesPerSecond: 0, maxTokens: 2 }, throttle: { maxTokens: 20, tokenRatio: 0.5 } },
    { delay: 40, percentile: 70, window: 5000, budget: false },
    { delay: 15, mode: 'fallback', maxAttempts: 3 },
  ]) {
    const lazy = await scenario(options, false);
    const eager = await scenario(options, true);
    assert.deepEqual(lazy, eager, JSON.stringify(options));
    assert.equal(lazy.stats.calls, 200);
    assert.ok(lazy.stats.hedges > 10 && lazy.stats.hedgeWins > 0, JSON.stringify(lazy.stats));
    if (options.percentile) assert.ok(lazy.stats.delayMs < 40, `the percentile's delay: ${lazy.stats.delayMs}`);
    if (options.budget) assert.ok(lazy.stats.budgetRefused > 0, JSON.stringify(lazy.stats));
  }
});

test('calls answered in time are counted in batches: the stats and the throttle see every one', () =>
  withVirtualClock(async (clock) => {
    const policy = new HedgePolicy({ delay: 50, budget: false, throttle: { maxTokens: 10, tokenRatio: 0.5 } });
    // Two slow calls take two tokens (8 left); 1,000 calls answered in time give them back.
    for (let i = 0; i < 2; i++) {
      const c = policy.execute((k) => new Promise((resolve) => clock.setTimer(k === 0 ? 500 : 200, () => resolve(k))));
      await clock.advance(50);
      await clock.advance(450);
      await c;
    }
    assert.equal(policy.getStats().throttleTokens, 8);
    for (let i = 0; i < 1000; i++) assert.equal(await policy.execute(async () => i), i);
    const s = policy.getStats();
    assert.deepEqual([s.calls, s.hedges, s.throttleTokens], [1002, 2, 10]);
  }, { autoAdvance: false }));

test('a primary that takes no signal: hedged at its deadline, and the call answers once it ends', () =>
  withVirtualClock(async (clock) => {
    const log = [];
    const policy = new HedgePolicy({ delay: 50, name: 'plain' });
    const call = policy.execute((k) => after(clock, k === 0 ? 300 : 20, `answer ${k}`, log, k)());
    let settled = false;
    call.then(() => (settled = true));
    await clock.advance(50);
    await clock.advance(20);
    assert.deepEqual(log, ['start 0 @0', 'start 1 @50', 'end 1 @70']);
    // The primary cannot be cancelled: the call waits for it, then answers the hedge's value.
    assert.equal(settled, false);
    await clock.advance(230);
    assert.equal(await call, 'answer 1');
    const failing = policy.execute((k) => after(clock, 5, k === 0 ? Object.assign(new Error('reset'), { code: 'ECONNRESET' }) : 'second', log, k)());
    await clock.advance(5);
    await clock.advance(5);
    assert.equal(await failing, 'second');
    const s = policy.getStats();
    assert.deepEqual([s.calls, s.hedges, s.hedgeWins], [2, 2, 2]);
  }, { autoAdvance: false }));

test('each hedge is published on the diagnostics channel, with its policy and attempt', async () => {
  const { channel } = await import('node:diagnostics_channel');
  const seen = [];
  const listener = (m) => seen.push(m);
  channel('seawall:hedge:launched').subscribe(listener);
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const log = [];
    const call = hedge((k, s) => after(clock, k === 0 ? 100 : 5, k, log, k)(s), { delay: 10, name: 'published' });
    await clock.advance(10);
    await clock.advance(5);
    assert.equal(await call, 1);
    assert.deepEqual(seen, [{ event: 'hedge.launched', policy: 'published', attempt: 1 }]);
  } finally {
    channel('seawall:hedge:launched').unsubscribe(listener);
    useRealClock();
  }
});

test('bad options are typed errors naming the option', async () => {
  for (const [options, option] of [
    [{ delay: -1 }, 'delay'],
    [{ maxAttempts: 11 }, 'maxAttempts'],
    [{ percentile: 100 }, 'percentile'],
    [{ mode: 'parallel' }, 'mode'],
    [{ budget: { ratio: -1 } }, 'budget.ratio'],
    [{ throttle: { tokenRatio: 2 } }, 'throttle.tokenRatio'],
  ]) {
    assert.throws(() => new HedgePolicy(options), (e) => e.code === 'INVALID_OPTION' && e.option === option, JSON.stringify(options));
    const e = await hedge(async () => 1, options).catch((x) => x);
    assert.ok(e.code === 'INVALID_OPTION' && e.option === option);
  }
  await assert.rejects(hedge('not a function'), TypeError);
});

test('a real long-tail server: the hedge answers, and the server sees the losing request aborted', async () => {
  let requests = 0;
  let aborted = 0;
  let finished = 0;
  const server = createServer((req, res) => {
    const n = ++requests;
    // The first request stalls (the tail); later ones answer at once.
    const timer = setTimeout(() => res.end(`answer ${n}`), n === 1 ? 5_000 : 1);
    res.on('close', () => {
      clearTimeout(timer);
      if (res.writableFinished) finished++;
      else aborted++;
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  try {
    const policy = new HedgePolicy({ delay: 50, name: 'tail' });
    const body = await policy.execute(async (k, signal) => (await fetch(url, { signal })).text());
    assert.equal(body, 'answer 2');
    for (let i = 0; i < 200 && aborted + finished < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual([requests, finished, aborted], [2, 1, 1]);
    assert.deepEqual([policy.getStats().hedges, policy.getStats().hedgeWins], [1, 1]);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** A server on 127.0.0.1 whose first request (and POSTs, for `postMs`) stalls; it records how
 * each request ended: answered, or aborted by the client. */
async function tailServer(postMs = 5_000) {
  const seen = { requests: [], aborted: 0, finished: 0 };
  const server = createServer((req, res) => {
    const n = seen.requests.push(req.method);
    const ms = req.method === 'POST' ? postMs : n === 1 ? 5_000 : 1;
    const timer = setTimeout(() => res.end(`answer ${n}`), ms);
    res.on('close', () => {
      clearTimeout(timer);
      if (res.writableFinished) seen.finished++;
      else seen.aborted++;
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    url: `http://127.0.0.1:${server.address().port}/`,
    /** Waits (bounded) until the server has seen `n` requests end. */
    async ended(n) {
      for (let i = 0; i < 400 && seen.aborted + seen.finished < n; i++) await new Promise((r) => setTimeout(r, 5));
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

test('resilientFetch and createResilientFetch hedge GETs (the server sees the loser aborted), never a POST unless forced', async () => {
  const s = await tailServer(150);
  try {
    const r = await resilientFetch(s.url, {}, undefined, { hedge: { delay: 30, name: 'fetch-hedge' } });
    assert.equal(await r.text(), 'answer 2');
    await s.ended(2);
    assert.deepEqual([s.seen.requests.length, s.seen.finished, s.seen.aborted], [2, 1, 1]);
    // A POST is not hedged: one request, however slow.
    const guarded = createResilientFetch({ hedge: { delay: 30 }, maxAttempts: 1 });
    assert.equal(await (await guarded(s.url, { method: 'POST', body: 'x' })).text(), 'answer 3');
    assert.deepEqual(s.seen.requests, ['GET', 'GET', 'POST']);
    // Forced, it is.
    const forced = createResilientFetch({ hedge: { delay: 30, hedgeNonIdempotent: true }, maxAttempts: 1 });
    const body = await (await forced(s.url, { method: 'POST', body: 'x' })).text();
    assert.equal(body, 'answer 4');
    assert.deepEqual(s.seen.requests.slice(3), ['POST', 'POST']);
    assert.throws(() => createResilientFetch({ hedge: { delay: -5 } }), (e) => e.option === 'delay');
  } finally {
    await s.close();
  }
});

test('the undici interceptor hedges too: the losing request is aborted at the server', async () => {
  const s = await tailServer();
  const agent = new Agent().compose(createResilientInterceptor({ hedge: new HedgePolicy({ delay: 30, name: 'undici-hedge' }) }));
  try {
    const { statusCode, body } = await request(s.url, { dispatcher: agent });
    assert.equal(statusCode, 200);
    assert.equal(await body.text(), 'answer 2');
    await s.ended(2);
    assert.deepEqual([s.seen.requests.length, s.seen.finished, s.seen.aborted], [2, 1, 1]);
  } finally {
    await agent.close();
    await s.close();
  }
});

const turn = () => new Promise((r) => setImmediate(r));
async function turns(n) {
  for (let i = 0; i < n; i++) await turn();
}

/** A storm's attempt: a call of `breaker` taking a slot of `bulkhead`, which waits `wait()`
 * (the storm's own timers), then fails at rate `flaky`. `count` tracks the attempts started and
 * running; `mine` those of the call it belongs to. */
function stormAttempt({ breaker, bulkhead, random, wait, flaky, count }) {
  return (k, signal, mine) =>
    breaker.execute(
      () =>
        bulkhead.execute(async (s) => {
          count.started++;
          count.running++;
          mine.running++;
          try {
            await wait();
            s?.throwIfAborted();
            if (random() < flaky) throw Object.assign(new Error('flaky'), { code: 'ECONNRESET' });
            return k;
          } finally {
            count.running--;
            mine.running--;
          }
        }, signal),
      signal,
    );
}

/** After a storm: no attempt running, every slot and permit back, the breaker closed. */
function assertAllBack(count, breaker, bulkhead, slots) {
  assert.equal(count.running, 0);
  const m = bulkhead.getMetrics();
  assert.deepEqual([m.active, m.queued, m.available], [0, 0, slots]);
  const b = breaker.getStats();
  assert.equal(b.inFlight, 0);
  assert.equal(b.state, 'CLOSED');
}

test('a storm of 10,000 hedged calls cancelled at random leaves no attempt running and every slot and permit back', async () => {
  const random = rng(31);
  const breaker = new CircuitBreaker('hedge-storm', { failureThreshold: 1_000_000 });
  const bulkhead = new Bulkhead({ name: 'hedge-storm', maxConcurrent: 20, maxQueueSize: 40 });
  const policy = new HedgePolicy({ delay: 0, maxAttempts: 3, budget: false, throttle: false, name: 'storm' });
  const count = { started: 0, running: 0 };
  const attempt = stormAttempt({ breaker, bulkhead, random, wait: () => turns(1 + Math.floor(random() * 3)), flaky: 0.2, count });
  const seen = { ok: 0, cancelled: 0, failed: 0 };
  const codes = {};
  let left = 10_000;
  const lane = async () => {
    while (left > 0) {
      left--;
      const controller = new AbortController();
      const mine = { running: 0 };
      if (random() < 0.4) {
        const when = Math.floor(random() * 4);
        if (when === 0) controller.abort(new Error('gone'));
        else turns(when).then(() => controller.abort(new Error('gone')));
      }
      try {
        await policy.execute((n, signal) => attempt(n, signal, mine), controller.signal);
        seen.ok++;
      } catch (e) {
        if (controller.signal.aborted && e === controller.signal.reason) seen.cancelled++;
        else if (e.code === 'ECONNRESET' || e.code === 'BULKHEAD_FULL' || e.code === 'BULKHEAD_QUEUE_FULL') {
          seen.failed++;
          codes[e.code] = (codes[e.code] ?? 0) + 1;
        }
        else throw e;
      }
      // The call has settled: none of its attempts still runs.
      assert.equal(mine.running, 0, 'an attempt outlived its call');
      await turns(Math.floor(random() * 2));
    }
  };
  await Promise.all(Array.from({ length: 20 }, lane));
  await turns(5);
  assert.equal(seen.ok + seen.cancelled + seen.failed, 10_000, JSON.stringify(seen));
  assert.ok(seen.cancelled > 1000 && seen.ok > 1000 && count.started > 10_000, JSON.stringify({ seen, count, codes }));
  assertAllBack(count, breaker, bulkhead, 20);
});

test('a storm of 5,000 hedged calls begun without a machine (no caller signal): hedges at their deadlines, every attempt ended and every slot and permit back', async () => {
  // Real timers (a 1 ms delay, attempts of 0–3 ms): calls answered in time, calls whose deadline
  // comes first (their machine takes the running primary over), calls whose primary fails.
  // Durations only shape the calls; nothing here checks a time.
  const random = rng(47);
  const breaker = new CircuitBreaker('begun-storm', { failureThreshold: 1_000_000 });
  const bulkhead = new Bulkhead({ name: 'begun-storm', maxConcurrent: 30, maxQueueSize: 60 });
  const policy = new HedgePolicy({ delay: 1, maxAttempts: 3, budget: false, throttle: false, name: 'begun-storm' });
  const count = { started: 0, running: 0 };
  const wait = () => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
  const attempt = stormAttempt({ breaker, bulkhead, random, wait, flaky: 0.15, count });
  const seen = { ok: 0, failed: 0 };
  let left = 5_000;
  const lane = async () => {
    while (left > 0) {
      left--;
      const mine = { running: 0 };
      try {
        const k = await policy.execute((n, signal) => attempt(n, signal, mine));
        assert.ok(k >= 0 && k < 3);
        seen.ok++;
      } catch (e) {
        if (e.code !== 'ECONNRESET' && e.code !== 'BULKHEAD_FULL' && e.code !== 'BULKHEAD_QUEUE_FULL') throw e;
        seen.failed++;
      }
      assert.equal(mine.running, 0, 'an attempt outlived its call');
    }
  };
  await Promise.all(Array.from({ length: 10 }, lane));
  assert.equal(seen.ok + seen.failed, 5_000);
  const stats = policy.getStats();
  assert.equal(stats.calls, 5_000);
  assert.ok(seen.ok > 4_000 && stats.hedges > 500 && stats.hedgeWins > 100, JSON.stringify({ seen, stats }));
  assertAllBack(count, breaker, bulkhead, 30);
});

test('a hedged call whose requests both answer lets the second go: its bulkhead slot and breaker permit come back unread', async () => {
  // A fetch that answers whatever its signal says: the second answer comes after the first won.
  let n = 0;
  const slowToLetGo = (_url, _init) => {
    const k = ++n;
    return new Promise((resolve) => setTimeout(() => resolve(new Response(`answer ${k}`)), 5 + k));
  };
  const bulkhead = new Bulkhead({ maxConcurrent: 4 });
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  const guarded = createResilientFetch({ fetch: slowToLetGo, hedge: { delay: 0, maxAttempts: 2 }, bulkhead, circuitBreaker: breaker, maxAttempts: 1 });
  const r = await guarded('http://127.0.0.1:1/');
  assert.equal(await r.text(), 'answer 1');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([n, bulkhead.getMetrics().active, breaker.getStats().inFlight], [2, 0, 0]);
});
