// A real service under load: a Fastify app on 127.0.0.1 whose handler waits for one of 10
// "workers" (20 ms each: 500 requests/s of capacity), offered 0.5× its capacity (the no-load
// latency), then 3× (open loop: requests sent on a schedule, not when answers come), with no
// limit and with the door (Gradient2 told to tolerate 10% more latency). Reports the admitted
// requests' p50 and p99 against the no-load p99, their goodput, and the 503s with Retry-After.
// Goal at 3×: admitted p99 ≤ 1.5× the no-load p99, the excess 503. Not a test (wall clock): it
// prints a table. Run: make bench-service.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const Fastify = require('fastify');
const { Agent, request } = require('undici');
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));

const WORKERS = 10;
const SERVICE_MS = 20;
const CAPACITY = (WORKERS * 1000) / SERVICE_MS;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

/** The backend: `WORKERS` at once, each request `SERVICE_MS`; the rest wait in order. */
function backend() {
  let busy = 0;
  const waiting = [];
  const done = () => {
    const next = waiting.shift();
    if (next) next();
    else busy--;
  };
  return () =>
    new Promise((resolve) => {
      const go = () => setTimeout(() => (done(), resolve()), SERVICE_MS);
      if (busy < WORKERS) {
        busy++;
        go();
      } else waiting.push(go);
    });
}

async function service(door) {
  const app = Fastify();
  if (door) await app.register(seawall.seawallFastify, { limit: { algorithm: 'gradient2', initialLimit: 10, minLimit: 1, rttTolerance: 1.1, queueSize: 1, windowSize: 10, minWindow: 100, maxWindow: 100, ...JSON.parse(process.env.BENCH_LIMIT ?? '{}') } });
  const work = backend();
  app.get('/', async () => (await work(), 'ok'));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${app.server.address().port}/` };
}

/** Offers `rate` requests/s for `seconds`; the answers' latencies (200s) and the 503s. */
async function offer(url, rate, seconds) {
  const agent = new Agent({ connections: 512, pipelining: 0 });
  const latencies = [];
  let shed = 0;
  let withRetryAfter = 0;
  const sends = [];
  const start = performance.now();
  const total = Math.floor(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    sends.push(
      request(url, { dispatcher: agent }).then(
        async ({ statusCode, headers, body }) => {
          await body.text();
          if (statusCode === 200) latencies.push(performance.now() - t);
          else if (statusCode === 503) {
            shed++;
            if (headers['retry-after'] !== undefined) withRetryAfter++;
          }
        },
        () => {},
      ),
    );
  }
  await Promise.all(sends);
  await agent.close();
  latencies.sort((a, b) => a - b);
  const pct = (q) => latencies[Math.min(latencies.length - 1, Math.ceil((q / 100) * latencies.length) - 1)] ?? 0;
  // Goodput: answers within a client's patience (1 s), per second, against the capacity.
  const good = latencies.filter((ms) => ms <= 1000).length;
  return { p50: pct(50), p99: pct(99), goodput: good / seconds / CAPACITY, shed, withRetryAfter, offered: total };
}

// The service runs in a process of its own, so that the load's own work does not queue in its
// event loop.
if (process.argv[2] === 'serve') {
  const { url } = await service(process.argv[3] === 'door');
  process.send(url);
} else {
  await main();
}

async function main() {
console.log(`node ${process.version}: capacity ${CAPACITY} requests/s (${WORKERS} workers × ${SERVICE_MS} ms), ${SECONDS} s per load, the service in a process of its own`);
for (const door of [false, true]) {
  const child = fork(new URL(import.meta.url).pathname, ['serve', door ? 'door' : 'open']);
  const url = await new Promise((r) => child.once('message', r));
  await offer(url, 0.5 * CAPACITY, 1); // warm-up
  const calm = await offer(url, 0.5 * CAPACITY, SECONDS);
  const over = await offer(url, 3 * CAPACITY, SECONDS);
  const name = door ? 'with the door' : 'no limit';
  console.log(
    `${name.padEnd(14)} no-load p99 ${calm.p99.toFixed(1)} ms | at 3×: p50 ${over.p50.toFixed(1)} ms, p99 ${over.p99.toFixed(1)} ms (${(over.p99 / calm.p99).toFixed(2)}× no-load), goodput ${(over.goodput * 100).toFixed(0)}%, shed ${over.shed} of ${over.offered} (${over.withRetryAfter} with Retry-After)`,
  );
  child.kill();
}
}
