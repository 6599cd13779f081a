// One Node replica of the fleet demo: calls the dependency twice a second through a fleet breaker
// until the demo's end, then prints what its breaker did as one JSON line.
//   node replica.mjs ID URL REDIS_PORT T0 END_MS
// In your project the imports are: from 'seawall' and 'ioredis'.
import { createRequire } from 'node:module';
import { CircuitBreaker } from '../../bindings-node/dist/esm/entry.node.js';
import { BREAKER, CALL_EVERY_MS, FLEET } from './settings.mjs';

const Redis = createRequire(new URL('../../bindings-node/package.json', import.meta.url))('ioredis');
const [id, url, redisPort, t0, endMs] = process.argv.slice(2);
const since = () => Date.now() - Number(t0);
const redis = new Redis({ host: '127.0.0.1', port: Number(redisPort), enableOfflineQueue: false, maxRetriesPerRequest: 0 });
redis.on('error', () => {});
await new Promise((r) => redis.once('ready', r));
const breaker = new CircuitBreaker('demo-dependency', { ...BREAKER, fleet: { redis, ...FLEET } });
const opened = [];
let ownFailures = 0;
// When it opened, and after how many failures of its own (fewer than the threshold: the fleet's).
breaker.on('stateChange', (e) => e.currentState === 'OPEN' && opened.push({ atMs: since(), ownFailures }));
while (since() < 0) await new Promise((r) => setTimeout(r, -since()));
while (since() < Number(endMs)) {
  const next = since() + CALL_EVERY_MS;
  await breaker
    .execute(async () => {
      const res = await fetch(url, { headers: { 'x-replica': id } });
      await res.arrayBuffer();
      if (res.status >= 500) {
        ownFailures++;
        throw new Error(`HTTP ${res.status}`);
      }
    })
    .catch(() => {});
  await new Promise((r) => setTimeout(r, Math.max(0, next - since())));
}
breaker.leaveFleet();
redis.disconnect();
console.log(JSON.stringify({ id, opened, ownFailures }));
