// CallSignal: the light signal the HTTP integrations hand the policies, read as an AbortSignal is.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';

const { CallSignal, realSignal } = await import('../dist/esm/cancel.js');

test('listeners run once, in order; one taken off while they run is not run; one added after the abort never runs', () => {
  const s = new CallSignal();
  const ran = [];
  const second = () => ran.push(2);
  s.addEventListener('abort', () => {
    ran.push(1);
    s.removeEventListener('abort', second);
    s.addEventListener('abort', () => ran.push('late'));
  });
  s.addEventListener('abort', second);
  const third = () => ran.push(3);
  s.addEventListener('abort', third);
  s.addEventListener('abort', third);
  const gone = () => ran.push('removed');
  s.addEventListener('abort', gone);
  s.removeEventListener('abort', gone);
  const reason = new Error('why');
  s.abort(reason);
  s.abort(new Error('again'));
  s.addEventListener('abort', () => ran.push('after'));
  assert.deepEqual([ran, s.aborted, s.reason], [[1, 3], true, reason]);
  assert.throws(() => s.throwIfAborted(), reason);
});

test('aborted without a reason: an AbortError, as AbortController gives', () => {
  const s = new CallSignal();
  s.abort();
  const c = new AbortController();
  c.abort();
  assert.deepEqual([s.reason.name, s.reason.constructor], [c.signal.reason.name, c.signal.reason.constructor]);
});

test('its real signal aborts with it, made before or after the abort', () => {
  const before = new CallSignal();
  const real = before.real;
  assert.ok(real instanceof AbortSignal && !real.aborted);
  before.abort('x');
  assert.deepEqual([real.aborted, real.reason], [true, 'x']);
  const after = new CallSignal();
  after.abort('y');
  assert.deepEqual([after.real.aborted, after.real.reason], [true, 'y']);
  assert.equal(realSignal(after), after.real);
  assert.equal(realSignal(real), real);
  assert.equal(realSignal(undefined), undefined);
});

test('follows a caller’s signal until unfollowed, leaving no listener on it', () => {
  const caller = new AbortController();
  const s = new CallSignal();
  s.follow(caller.signal);
  assert.equal(getEventListeners(caller.signal, 'abort').length, 1);
  s.unfollow();
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
  const t = new CallSignal();
  t.follow(caller.signal);
  caller.abort('gone');
  assert.deepEqual([t.aborted, t.reason, getEventListeners(caller.signal, 'abort').length], [true, 'gone', 0]);
  const u = new CallSignal();
  u.follow(caller.signal);
  assert.deepEqual([u.aborted, u.reason], [true, 'gone']);
});

test('one caller signal shared by 30 calls at once of every kind: one listener on it, no leak warning from Node, and its abort ends them all', async () => {
  const { createServer } = await import('node:http');
  const { Bulkhead, CircuitBreaker, HedgePolicy, resilientFetch, withBackoff } = await import('seawall');
  const server = createServer(() => {}); // never answers: the abort ends each request
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const caller = new AbortController();
    // Ends when its own signal (not the caller's) aborts.
    const untilAborted = (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const timed = new CircuitBreaker({ timeout: 60_000, failureThreshold: 1000 });
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueueSize: 100 });
    const calls = [];
    for (let i = 0; i < 30; i++) {
      calls.push(resilientFetch(url, { signal: caller.signal }, undefined, { timeout: 60_000 }));
      calls.push(new HedgePolicy({ delay: 60_000 }).execute((_k, signal) => untilAborted(signal), caller.signal));
      calls.push(timed.execute((signal) => untilAborted(signal), caller.signal));
      // The one running in the bulkhead ends by itself; the others wait in its queue.
      calls.push(bulkhead.execute(() => new Promise((_, reject) => setTimeout(() => reject(new Error('ran')), 100)), caller.signal));
      calls.push(withBackoff(() => Promise.reject(new Error('again')), { maxAttempts: 5, baseDelay: 60_000, maxDelay: 60_000, signal: caller.signal }));
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(getEventListeners(caller.signal, 'abort').length <= 1, `${getEventListeners(caller.signal, 'abort').length} listeners`);
    caller.abort(new Error('caller left'));
    const ends = await Promise.allSettled(calls);
    assert.equal(ends.filter((e) => e.status === 'rejected').length, calls.length);
    assert.ok(ends.filter((e) => e.reason?.message === 'caller left').length >= calls.length - 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
    server.closeAllConnections();
    server.close();
  }
});
