// The rate limiter shell: starts, waits and refusals as the core decides them, on a virtual
// clock; a caller that aborts while waiting hands its place back; typed errors for bad options.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RateLimitError, RateLimiter, rateLimiter, SeawallError, useRealClock, useVirtualClock } from 'seawall';

test('a burst starts at once, then calls wait their turn or are refused with the time to come back', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const limiter = rateLimiter('openai', { limit: 2, per: 1000, maxWait: 600 });
    const started = [];
    const call = (label) => limiter.execute(async () => started.push([label, clock.now()]) && label);
    assert.equal(await call('a'), 'a');
    assert.equal(await call('b'), 'b');
    const waiting = call('c'); // its place is 500 ms away: within maxWait
    const refused = await call('d').catch((e) => e); // 1000 ms away: refused
    assert.ok(refused instanceof RateLimitError && refused instanceof SeawallError);
    assert.deepEqual([refused.code, refused.retryAfter, refused.limiterName], ['RATE_LIMITED', 1000, 'openai']);
    assert.equal(refused.message, "Rate limiter 'openai' is at its limit; try again in 1 seconds");
    await clock.advance(499);
    assert.equal(started.length, 2, 'c still waits');
    await clock.advance(1);
    assert.equal(await waiting, 'c');
    assert.deepEqual(started, [['a', 0], ['b', 0], ['c', 500]]);
    const s = limiter.getStats();
    assert.deepEqual([s.name, s.admitted, s.waited, s.refused, s.cancelled, s.available], ['openai', 2, 1, 1, 0, 0]);
  } finally {
    useRealClock();
  }
});

test('a caller that aborts while waiting gives its place back, and errors of fn pass through', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const limiter = new RateLimiter({ limit: 1, per: 100, maxWait: 1000 });
    await limiter.execute(async () => 1);
    const ac = new AbortController();
    let ran = false;
    const waiting = limiter.execute(async () => (ran = true), ac.signal);
    ac.abort(new Error('client went away'));
    await assert.rejects(waiting, /client went away/);
    // The place at 100 ms is free again: the next caller takes it, not the one after.
    const next = limiter.execute(async () => clock.now());
    await clock.advance(100);
    assert.equal(await next, 100);
    assert.equal(ran, false);
    await clock.advance(100);
    await assert.rejects(limiter.execute(() => { throw new Error('sync boom'); }), /sync boom/);
    await clock.advance(100);
    await assert.rejects(limiter.execute(async () => { throw new Error('async boom'); }), /async boom/);
    const s = limiter.getStats();
    assert.deepEqual([s.admitted, s.waited, s.cancelled], [3, 2, 1]);
    assert.equal(await limiter.execute(async () => 'late', AbortSignal.abort(new Error('already'))).catch((e) => e.message), 'already');
  } finally {
    useRealClock();
  }
});

test('bad options and arguments are typed errors naming the option and value', () => {
  const cases = [
    [{}, TypeError, 'limit', 'undefined'],
    [{ limit: 0 }, RangeError, 'limit', '0'],
    [{ limit: 1.5 }, RangeError, 'limit', '1.5'],
    [{ limit: 5, per: -1 }, RangeError, 'per', '-1'],
    [{ limit: 5, burst: 0 }, RangeError, 'burst', '0'],
    [{ limit: 5, maxWait: Number.NaN }, RangeError, 'maxWait', 'NaN'],
    [{ limit: 5, rate: 10 }, TypeError, 'rate', null],
    [{ limit: 5, name: 7 }, TypeError, 'name', '7'],
  ];
  for (const [options, type, option, value] of cases) {
    assert.throws(() => new RateLimiter(options), (e) => e instanceof type && e.code === 'INVALID_OPTION' && e.option === option && e.value === value, JSON.stringify(options));
  }
  const limiter = rateLimiter({ limit: 1, limitRefreshPeriod: 50, timeoutDuration: 0 });
  assert.deepEqual([limiter.getStats().per, limiter.getStats().maxWait], [50, 0]);
  return assert.rejects(limiter.execute('not a function'), (e) => e instanceof TypeError && e.option === 'fn');
});
