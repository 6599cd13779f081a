// The service soak's smoke (bench/node/service-soak.mjs runs 100,000 requests in `make soak`):
// 2,000 requests through a real Fastify app behind the door, handlers calling an upstream with
// resilientFetch, 10% of the clients disconnecting; afterwards no handler runs, every permit is
// back, no upstream request is open and every request ended.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { serviceSoak } from '../../bench/node/service-soak.mjs';

test('2,000 requests with client disconnects hold nothing afterwards', async () => {
  const r = await serviceSoak({ requests: 2_000 });
  assert.deepEqual(r.leaks, []);
  assert.equal(r.clients.ok + r.clients.gone + r.clients.shed + r.clients.other, 2_000);
  assert.ok(r.clients.gone > 50 && r.handlers.aborted > 0, JSON.stringify(r));
  assert.ok(r.limit.admitted >= r.handlers.ok + r.handlers.aborted + r.handlers.failed, 'every handler that ran was admitted');
  assert.equal(r.limit.ignored, r.handlers.aborted, "each handler its client left is one ignored sample");
});
