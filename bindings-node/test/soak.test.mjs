// The soak (bench/node/soak.mjs) at 20,000 calls: success, failure, per-attempt timeouts,
// callers cancelling at random moments, an open breaker and a full bulkhead, all through one
// bulkhead → retry → breaker stack. Afterwards nothing is held and every call ended once.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { soak } from '../../bench/node/soak.mjs';

test('20,000 mixed calls leave nothing held and every call ends once, with a typed outcome', async () => {
  const r = await soak({ calls: 20_000, name: 'soak-test' });
  assert.deepEqual(r.leaks, []);
  // Every kind of ending happened, so the run covered each path.
  for (const [kind, count] of Object.entries(r.ended)) {
    if (kind !== 'other') assert.ok(count > 0, `no call ended as ${kind}: ${JSON.stringify(r.ended)}`);
  }
  assert.ok(r.opened > 0 && r.metrics.cancelled > 0, JSON.stringify({ opened: r.opened, metrics: r.metrics }));
});
