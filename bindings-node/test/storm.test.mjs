// Cancellation storms: 10,000 calls, a hundred at a time, on one breaker and on one bulkhead,
// each cancelled by its caller at a random moment (before it starts, while queued, while
// running). Afterwards the counts are exact, nothing is held, and at no moment did more calls
// run than the limit allows (half-open probes; bulkhead slots).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BulkheadRejectedError, CircuitBreaker, CircuitBreakerError, createBulkhead, useRealClock, useVirtualClock } from 'seawall';
import { seededRandom as rng } from '../../bench/node/rng.mjs';

const CALLS = 10_000;
const LANES = 100;

const turn = () => new Promise((r) => setImmediate(r));
async function turns(n) {
  for (let i = 0; i < n; i++) await turn();
}

/** Runs CALLS calls in LANES lanes; `call(signal, random)` is one; a third are cancelled at random. */
async function storm(seed, call) {
  const random = rng(seed);
  let left = CALLS;
  const lane = async () => {
    while (left > 0) {
      left--;
      const controller = new AbortController();
      if (random() < 0.35) {
        const when = Math.floor(random() * 4);
        if (when === 0) controller.abort(new Error('gone'));
        else turns(when).then(() => controller.abort(new Error('gone')));
      }
      await call(controller.signal, random);
      await turns(Math.floor(random() * 2));
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  await turns(5);
}

test('a half-open breaker under a storm of cancelled calls never runs more probes than allowed', async () => {
  const clock = useVirtualClock();
  try {
    const ignored = new RangeError('not about the dependency');
    const cb = new CircuitBreaker('storm-breaker', { failureThreshold: 1, resetTimeout: 1000, halfOpenMaxCalls: 3, isFailure: (e) => e !== ignored });
    cb.open();
    await clock.advance(1000);
    const before = cb.getStats();
    let running = 0;
    let most = 0;
    const seen = { started: 0, ignored: 0, rejected: 0, cancelled: 0, cancelledRunning: 0 };
    // Probes are cancelled or end in an error that does not count: the breaker stays half-open
    // for the whole storm, each ending must free its probe slot for the next caller.
    await storm(1, async (signal, random) => {
      try {
        await cb.execute(async (s) => {
          seen.started++;
          most = Math.max(most, ++running);
          try {
            await turns(1 + Math.floor(random() * 3));
            if (s?.aborted) seen.cancelledRunning++;
            s?.throwIfAborted();
            throw ignored;
          } finally {
            running--;
          }
        }, signal);
      } catch (e) {
        if (e === ignored) seen.ignored++;
        else if (e instanceof CircuitBreakerError) seen.rejected++;
        else if (signal.aborted && e === signal.reason) seen.cancelled++;
        else throw e;
      }
    });
    const after = cb.getStats();
    assert.equal(seen.ignored + seen.rejected + seen.cancelled, CALLS, JSON.stringify(seen));
    assert.ok(most <= 3 && seen.started > 3, `at most 3 probes at once: ${most}, ${JSON.stringify(seen)}`);
    assert.equal(after.state, 'HALF_OPEN');
    assert.equal(after.rejectedCalls - before.rejectedCalls, seen.rejected);
    // A call given up while it ran counts neither way: it is among the ignored calls.
    assert.equal(after.ignoredCalls - before.ignoredCalls, seen.ignored + seen.cancelledRunning);
    assert.equal(after.failedCalls - before.failedCalls, 0);
    assert.equal(after.successfulCalls - before.successfulCalls, 0);
    assert.equal(after.inFlight + after.halfOpenInFlight, 0);
    // Every probe slot came back: the next caller is a probe, and its success closes the breaker.
    assert.equal(await cb.execute(async () => 'ok'), 'ok');
    assert.equal(cb.getState(), 'CLOSED');
  } finally {
    useRealClock();
  }
});

test('a closed breaker under a storm of cancelled calls counts exactly what ended', async () => {
  const cb = new CircuitBreaker('storm-closed', { failureThreshold: 1_000_000 });
  const seen = { ok: 0, failed: 0, cancelled: 0 };
  const failure = new Error('503');
  await storm(2, async (signal, random) => {
    try {
      await cb.execute(async (s) => {
        await turns(Math.floor(random() * 3));
        s?.throwIfAborted();
        if (random() < 0.3) throw failure;
      }, signal);
      seen.ok++;
    } catch (e) {
      if (e === failure) seen.failed++;
      else if (signal.aborted && e === signal.reason) seen.cancelled++;
      else throw e;
    }
  });
  const st = cb.getStats();
  assert.equal(seen.ok + seen.failed + seen.cancelled, CALLS);
  assert.ok(seen.cancelled > 1000, JSON.stringify(seen));
  // A call its caller gave up on counts neither way.
  assert.deepEqual([st.successfulCalls, st.failedCalls, st.inFlight], [seen.ok, seen.failed, 0]);
});

test('a bulkhead under a storm of cancelled calls never runs more than its slots and gives every one back', async () => {
  const bh = createBulkhead('storm-bulkhead', 10, 40);
  let running = 0;
  let most = 0;
  const seen = { ok: 0, rejected: 0, cancelled: 0 };
  await storm(3, async (signal, random) => {
    try {
      await bh.execute(async (s) => {
        most = Math.max(most, ++running);
        try {
          await turns(1 + Math.floor(random() * 3));
          s?.throwIfAborted();
        } finally {
          running--;
        }
      }, signal);
      seen.ok++;
    } catch (e) {
      if (e instanceof BulkheadRejectedError) seen.rejected++;
      else if (signal.aborted && e === signal.reason) seen.cancelled++;
      else throw e;
    }
  });
  await turns(5);
  const m = bh.getMetrics();
  assert.equal(seen.ok + seen.rejected + seen.cancelled, CALLS);
  assert.ok(most <= 10, `at most 10 at once: ${most}`);
  assert.ok(seen.rejected > 0 && seen.cancelled > 0 && seen.ok > 0, JSON.stringify(seen));
  assert.equal(m.rejected, seen.rejected);
  assert.deepEqual([m.active, m.queued, m.available], [0, 0, 10]);
  // Every call was run at once, queued or refused; every admitted one ran to its end or left the
  // queue (a call cancelled while it ran completes when its function returns: then its slot
  // comes back).
  assert.equal(m.executed + m.enqueued + m.rejected, CALLS, JSON.stringify(m));
  assert.equal(m.completed + m.cancelled + m.timedOut, m.executed + m.enqueued, JSON.stringify(m));
  assert.ok(m.cancelled > 0 && m.cancelled <= seen.cancelled, JSON.stringify({ m, seen }));
});
