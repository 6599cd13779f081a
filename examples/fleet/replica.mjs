// One Node replica of the fleet demo: calls the dependency twice a second through a fleet breaker
// until the demo's end, then prints what its breaker did as one JSON line. With MODE `quota`, it
// calls 50 times a second for a while through a fleet rate limiter instead, and prints its counts.
//   node replica.mjs ID URL REDIS_PORT T0 END_MS [MODE]
// In your project the imports are: from 'seawall' and 'ioredis'.
import { createRequire } from 'node:module';
import { CircuitBreaker, RateLimiter, RateLimitError } from '../../bindings-node/dist/esm/entry.node.js';
import { BREAKER, CALL_EVERY_MS, FLEET, QUOTA } from './settings.mjs';

const Redis = createRequire(new URL('../../bindings-node/package.json', import.meta.url))('ioredis');
const [id, url, redisPort, t0, endMs, mode = 'breaker'] = process.argv.slice(2);
const since = () => Date.now() - Number(t0);
const redis = new Redis({ host: '127.0.0.1', port: Number(redisPort), enableOfflineQueue: false, maxRetriesPerRequest: 0 });
redis.on('error', () => {});
await new Promise((r) => redis.once('ready', r));
const call = async () => {
  const res = await fetch(url, { headers: { 'x-replica': id } });
  await res.arrayBuffer();
  return res.status;
};
const waitFor = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

if (mode === 'quota') {
  const limiter = new RateLimiter('demo-quota', { limit: QUOTA.limit, burst: QUOTA.burst, fleet: { redis, syncInterval: FLEET.syncInterval } });
  let admitted = 0;
  let refused = 0;
  await waitFor(-since());
  while (since() < Number(endMs)) {
    const next = since() + QUOTA.callEveryMs;
    try {
      await limiter.execute(call);
      admitted++;
    } catch (e) {
      if (!(e instanceof RateLimitError)) throw e;
      refused++;
    }
    await waitFor(next - since());
  }
  limiter.leaveFleet();
  redis.disconnect();
  console.log(JSON.stringify({ id, admitted, refused }));
  process.exit(0);
}

const breaker = new CircuitBreaker('demo-dependency', { ...BREAKER, fleet: { redis, ...FLEET } });
const opened = [];
let ownFailures = 0;
// When it opened, and after how many failures of its own (fewer than the threshold: the fleet's).
breaker.on('stateChange', (e) => e.currentState === 'OPEN' && opened.push({ atMs: since(), ownFailures }));
await waitFor(-since());
while (since() < Number(endMs)) {
  const next = since() + CALL_EVERY_MS;
  await breaker
    .execute(async () => {
      const status = await call();
      if (status >= 500) {
        ownFailures++;
        throw new Error(`HTTP ${status}`);
      }
    })
    .catch(() => {});
  await waitFor(next - since());
}
breaker.leaveFleet();
redis.disconnect();
console.log(JSON.stringify({ id, opened, ownFailures }));
