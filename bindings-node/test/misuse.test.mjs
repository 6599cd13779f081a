// The mistakes users make most, each with a typed error that names the argument or option and
// its value, or a documented behaviour — and, where a call was refused, nothing counted or held.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as s from 'seawall';

const f = async () => 1;
/** Asserts an option error: its class, code, option and value. */
async function optionError(run, Kind, option, value) {
  await assert.rejects(async () => run(), (e) => {
    assert.ok(e instanceof Kind, `${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.code, 'INVALID_OPTION');
    assert.equal(e.option, option);
    if (value !== undefined) assert.equal(e.value, value);
    assert.ok(e.message.includes(` ${option}`), e.message);
    return true;
  });
}

const refused = [
  // [what the user wrote, the call, error class, option, value as printed]
  ['withBackoff(notAFunction)', () => s.withBackoff(42), TypeError, 'fn', '42'],
  ['withBackoff(fn, "3") (options as a string)', () => s.withBackoff(f, '3'), TypeError, 'options', '"3"'],
  ['executeWithRetry(fn, "exponential")', () => s.executeWithRetry(f, 'exponential'), TypeError, 'options', '"exponential"'],
  ['a negative maxRetries', () => s.withBackoff(f, { maxRetries: -1 }), RangeError, 'maxRetries', '-1'],
  ['a huge maxRetries', () => s.withBackoff(f, { maxRetries: 1e9 }), RangeError, 'maxRetries', '1000000000'],
  ['a fractional maxRetries', () => s.withBackoff(f, { maxRetries: 1.5 }), RangeError, 'maxRetries', '1.5'],
  ['a NaN delay', () => s.withBackoff(f, { baseDelay: NaN }), RangeError, 'baseDelay', 'NaN'],
  ['maxDelay below baseDelay', () => s.withBackoff(f, { baseDelay: 1000, maxDelay: 10 }), RangeError, 'maxDelay', '10'],
  ['a misspelt option', () => s.withBackoff(f, { maxRetry: 3 }), TypeError, 'maxRetry'],
  ['an unknown jitter', () => s.withBackoff(f, { jitter: 'sometimes' }), RangeError, 'jitter', '"sometimes"'],
  ['retryOn that is neither a list nor a function', () => s.withBackoff(f, { retryOn: 5 }), TypeError, 'retryOn', '5'],
  ['onRetry that is not a function', () => s.withBackoff(f, { onRetry: 'log' }), TypeError, 'onRetry', '"log"'],
  ['a signal that is not an AbortSignal (options)', () => s.withBackoff(f, { signal: {} }), TypeError, 'signal'],
  ['a zero failureThreshold', () => new s.CircuitBreaker({ failureThreshold: 0 }), RangeError, 'failureThreshold', '0'],
  ['seconds where milliseconds are expected stay numbers, but negative is refused', () => new s.CircuitBreaker({ resetTimeout: -1 }), RangeError, 'resetTimeout', '-1'],
  ['a breaker name that is not a string', () => new s.CircuitBreaker(42), TypeError, 'name', '42'],
  ['breaker.execute(notAFunction)', () => new s.CircuitBreaker().execute(42), TypeError, 'fn', '42'],
  ['breaker.execute(fn, notASignal)', () => new s.CircuitBreaker().execute(f, { aborted: false }), TypeError, 'signal', 'an object'],
  ['a bulkhead with no slots', () => s.createBulkhead('misuse-0', 0), RangeError, 'maxConcurrent', '0'],
  ['a negative queue', () => s.createBulkhead('misuse-1', 1, -1), RangeError, 'maxQueueSize', '-1'],
  ['bulkhead.execute(notAFunction)', () => s.createBulkhead('misuse-2', 1).execute(null), TypeError, 'fn', 'null'],
  ['a negative timeout', () => s.withTimeout(f, -5), RangeError, 'timeout', '-5'],
  ['an infinite timeout', () => s.withTimeout(f, Infinity), RangeError, 'timeout', 'Infinity'],
  ['withTimeout(notAFunction, ms)', () => s.withTimeout('fetch', 10), TypeError, 'fn', '"fetch"'],
  ['resilientFetch with something that is not a breaker', () => s.resilientFetch('http://127.0.0.1:9', {}, { execute() {} }), TypeError, 'circuit', 'an object'],
  ['createResilientFetch with something that is not a breaker', () => s.createResilientFetch({ circuitBreaker: 5 }), TypeError, 'circuitBreaker', '5'],
  ['createResilientFetch with a bulkhead that cannot execute', () => s.createResilientFetch({ bulkhead: {} }), TypeError, 'bulkhead', 'an object'],
  ['the undici interceptor with a rate limiter that is a number', () => s.createResilientInterceptor({ rateLimiter: 10 }), TypeError, 'rateLimiter', '10'],
  ['createResilientFetch with a fetch that is not a function', () => s.createResilientFetch({ fetch: 'fetch' }), TypeError, 'fetch', '"fetch"'],
  ['resilienceManager.execute without a name', () => s.resilienceManager.execute(undefined, f), TypeError, 'name', 'null'],
  ['a virtual clock moved backwards', () => s.useVirtualClock().advance(-1), RangeError, 'advance', '-1'],
  ['a virtual clock moved by NaN', () => s.useVirtualClock().advance(NaN), RangeError, 'advance', 'NaN'],
  ['a retry budget with a negative ratio', () => new s.RetryBudget({ ratio: -0.1 }), RangeError, 'ratio', '-0.1'],
];

for (const [what, run, Kind, option, value] of refused) {
  test(`misuse: ${what} → ${Kind.name} naming ${option}`, async () => {
    try {
      await optionError(run, Kind, option, value);
    } finally {
      s.useRealClock();
    }
  });
}

test('misuse: a refused call counts nothing and holds nothing', async () => {
  const cb = new s.CircuitBreaker('misuse-counts', { failureThreshold: 1 });
  const bh = s.createBulkhead('misuse-counts', 1, 0);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(cb.execute(42));
    await assert.rejects(bh.execute(42));
  }
  const st = cb.getStats();
  assert.deepEqual([st.state, st.totalCalls, st.failedCalls, st.inFlight], ['CLOSED', 0, 0, 0]);
  const m = bh.getMetrics();
  assert.deepEqual([m.active, m.executed, m.rejected], [0, 0, 0]);
  assert.equal(await bh.execute(f), 1, 'the slot is free');
});

test('misuse (documented): a plain function where an async one is expected is awaited like one', async () => {
  assert.equal(await s.withBackoff(() => 42), 42);
  assert.equal(await new s.CircuitBreaker().execute(() => 'sync'), 'sync');
  assert.equal(await s.createBulkhead('misuse-sync', 1).execute(() => 'sync'), 'sync');
});

test('misuse (documented): options mutated after a call take effect on the next call, and are checked again', async () => {
  const o = { maxRetries: 0, baseDelay: 1 };
  let calls = 0;
  const failing = async () => {
    calls++;
    throw new Error('down');
  };
  await assert.rejects(s.withBackoff(failing, o));
  assert.equal(calls, 1);
  o.maxRetries = 2;
  await assert.rejects(s.withBackoff(failing, o));
  assert.equal(calls, 4, 'the new maxRetries was used');
  o.maxRetries = -1;
  await optionError(() => s.withBackoff(failing, o), RangeError, 'maxRetries', '-1');
});

test('misuse (documented): a breaker keeps working after the registry was cleared, outside the registry', async () => {
  const cb = new s.CircuitBreaker('misuse-cleared', { failureThreshold: 1 });
  s.circuitBreakerRegistry.clear();
  assert.equal(await cb.execute(f), 1);
  assert.equal(s.circuitBreakerRegistry.get('misuse-cleared'), undefined);
  assert.ok(!s.prometheusMetrics().includes('misuse-cleared'), 'no longer reported');
});

test('misuse (documented): a second breaker under a taken name replaces the first in the registry', () => {
  const a = new s.CircuitBreaker('misuse-dup');
  const b = new s.CircuitBreaker('misuse-dup');
  assert.notEqual(a, b);
  assert.equal(s.circuitBreakerRegistry.get('misuse-dup'), b);
  assert.equal(s.circuitBreakerRegistry.getOrCreate('misuse-dup'), b, 'getOrCreate shares it');
});

test('misuse (documented): a hook that throws ends the call with its error and returns what it held', async () => {
  const clock = s.useVirtualClock();
  try {
    // isFailure throwing on a half-open probe: the probe counts neither way and its slot comes back.
    let bug = false;
    const cb = new s.CircuitBreaker('misuse-hook', { failureThreshold: 1, resetTimeout: 100, halfOpenMaxCalls: 1, isFailure: () => { if (bug) throw new Error('predicate bug'); return true; } });
    await assert.rejects(cb.execute(async () => { throw new Error('down'); }), /down/);
    await clock.advance(100);
    bug = true;
    await assert.rejects(cb.execute(async () => { throw new Error('down'); }), /predicate bug/);
    await assert.rejects(cb.execute(() => { throw new Error('down, synchronously'); }), /predicate bug/);
    assert.deepEqual([cb.getState(), cb.getStats().inFlight, cb.getStats().halfOpenInFlight], ['HALF_OPEN', 0, 0]);
    bug = false;
    assert.equal(await cb.execute(async () => 'probe'), 'probe');
    assert.equal(cb.getState(), 'CLOSED');
    // executeClassified's classify throwing, the same.
    const cc = new s.CircuitBreaker('misuse-classify', { failureThreshold: 1 });
    await assert.rejects(cc.executeClassified(async () => 1, () => { throw new Error('classify bug'); }), /classify bug/);
    assert.equal(cc.getStats().inFlight, 0);
  } finally {
    s.useRealClock();
  }
  let n = 0;
  await assert.rejects(
    s.withBackoff(async () => { if (n++ === 0) throw new Error('flaky'); return n; }, { baseDelay: 1, onRetry: () => { throw new Error('hook bug'); } }),
    /hook bug/,
  );
  assert.equal(n, 1, 'no retry after the hook failed');
});

test('misuse (documented): a user clock that reads NaN, goes backwards or jumps to Infinity never stops the breaker', async () => {
  const readings = [0, 10, Number.NaN, 5, Infinity, -1, 20];
  let i = 0;
  s.installClock({ now: () => readings[Math.min(i++, readings.length - 1)], sleep: async () => {}, setTimer: () => () => {} });
  try {
    const cb = new s.CircuitBreaker('misuse-clock', { failureThreshold: 2 });
    for (let k = 0; k < 5; k++) await cb.execute(f);
    assert.equal(cb.getState(), 'CLOSED');
    assert.equal(cb.getStats().successfulCalls, 5);
  } finally {
    s.useRealClock();
  }
});

test('misuse (documented): a function that answers a value after its timeout ran past it and could not be cut: it fails then, as a promise would have', async () => {
  // A clock the test moves by hand, inside the function, as its work would take the time.
  let now = 0;
  s.installClock({ now: () => now, sleep: async () => {}, setTimer: () => () => {} });
  try {
    const taking = (ms) => () => {
      now += ms;
      return `after ${ms}`;
    };
    const cb = new s.CircuitBreaker({ failureThreshold: 2, timeout: 50 });
    assert.equal(await cb.execute(taking(40)), 'after 40');
    await assert.rejects(cb.execute(taking(100)), (e) => e instanceof s.TimeoutError && e.duration === 100);
    assert.deepEqual([cb.getStats().failedCalls, cb.getState()], [1, 'CLOSED']);
    await assert.rejects(cb.execute(taking(70)), s.TimeoutError);
    assert.equal(cb.getState(), 'OPEN');
    assert.equal(await s.withTimeout(taking(10), 50), 'after 10');
    await assert.rejects(s.withTimeout(taking(60), 50), (e) => e instanceof s.TimeoutError && e.duration === 60);
  } finally {
    s.useRealClock();
  }
});
