// Adaptive limits on the client side: a bulkhead whose limit adapts (the core's adaptive limit
// moved by each call's time in the bulkhead), on a virtual clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Bulkhead, useRealClock, useVirtualClock } from 'seawall';

test('an adaptive bulkhead: busy windows raise its limit, calls slower than the timeout lower it', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const bh = new Bulkhead({
      name: 'adaptive-bulkhead',
      maxQueueSize: 10,
      adaptive: { algorithm: 'aimd', initialLimit: 2, minLimit: 1, maxLimit: 4, windowSize: 1, minWindow: 1, maxWindow: 1, timeout: 1000 },
    });
    const run = (ms) => bh.execute(() => new Promise((r) => clock.setTimer(ms, r)));
    assert.equal(bh.getMetrics().maxConcurrent, 2);
    for (let round = 0; round < 3; round++) {
      const calls = [run(10), run(10), run(10), run(10)];
      for (let i = 0; i < 4; i++) await clock.advance(10);
      await Promise.all(calls);
    }
    assert.equal(bh.getMetrics().maxConcurrent, 4, 'busy windows added one each');
    const slow = [run(2000), run(2000)];
    await clock.advance(2000);
    await Promise.all(slow);
    assert.ok(bh.getMetrics().maxConcurrent < 4, `calls slower than the timeout lowered it: ${bh.getMetrics().maxConcurrent}`);
    assert.deepEqual([bh.getMetrics().active, bh.getMetrics().queued], [0, 0]);
    assert.throws(() => new Bulkhead({ adaptive: 'aimd', maxConcurrent: 5 }), (e) => e.option === 'maxConcurrent');
    assert.throws(() => new Bulkhead({ adaptive: 'bbr' }), (e) => e.option === 'adaptive.algorithm');
  } finally {
    useRealClock();
  }
});
