// A real service under load: a Fastify, Express or Hono app (Node) or a FastAPI app under
// uvicorn (Python) on 127.0.0.1 whose handler waits for one of `WORKERS` "workers" (20 ms each),
// offered 0.5× its capacity (the no-load latency), then 3× (open loop: requests sent on a
// schedule, not when answers come), with no limit and with the door (Gradient2 told to tolerate
// 10% more latency). Reports the admitted requests' p50 and p99 against the no-load p99, their
// goodput, and the 503s with Retry-After. Goal at 3×: admitted p99 ≤ 1.5× the no-load p99, the
// excess 503. Not a test (wall clock): it prints a table. Run: make bench-service, or
// node bench/node/service-load.mjs [fastify|express|hono|fastapi …] (all four by default).
import { fork, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const { Agent, request } = require('undici');

const SERVICE_MS = 20;
const WORKERS = 10;
const CAPACITY = (WORKERS * 1000) / SERVICE_MS;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const LIMIT = { algorithm: 'gradient2', initialLimit: 10, minLimit: 1, rttTolerance: 1.1, queueSize: 1, windowSize: 10, minWindow: 100, maxWindow: 100, ...JSON.parse(process.env.BENCH_LIMIT ?? '{}') };

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

/** The Node service (in this file's child process): its URL. */
async function service(framework, door) {
  const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));
  const work = backend();
  const listening = (server) => new Promise((r) => server.once('listening', () => r(`http://127.0.0.1:${server.address().port}/`)));
  if (framework === 'fastify') {
    const app = require('fastify')();
    if (door) await app.register(seawall.seawallFastify, { limit: LIMIT });
    app.get('/', async () => (await work(), 'ok'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${app.server.address().port}/`;
  }
  if (framework === 'express') {
    const app = require('express')();
    if (door) app.use(seawall.seawallExpress({ limit: LIMIT }));
    app.get('/', async (_req, res) => (await work(), res.send('ok')));
    return listening(app.listen(0, '127.0.0.1'));
  }
  const { Hono } = require('hono');
  const app = new Hono();
  if (door) app.use(seawall.seawallHono({ limit: LIMIT }));
  app.get('/', async (c) => (await work(), c.text('ok')));
  return listening(require('@hono/node-server').serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }));
}

/** Starts the service in a process of its own (so that the load's own work does not queue in
 * its event loop): the process and its URL. */
async function start(framework, door) {
  if (framework !== 'fastapi') {
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, SEAWALL_LOAD_SERVE: `${framework}:${door ? 'door' : 'open'}` } });
    return { child, url: await new Promise((r) => child.once('message', r)) };
  }
  // Python takes durations in seconds, and its options' names in snake case.
  const snake = Object.fromEntries(Object.entries(LIMIT).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), /Window$/.test(k) ? v / 1000 : v]));
  const python = process.env.PYTHON ?? 'target/py/venv/bin/python';
  const app = fileURLToPath(new URL('../python/service_load_app.py', import.meta.url));
  const env = { ...process.env, WORKERS: String(WORKERS), SERVICE_MS: String(SERVICE_MS), LIMIT: JSON.stringify(snake), DOOR: door ? '1' : '' };
  const child = spawn(python, [app], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`the FastAPI service exited (${code})`)));
  });
  return { child, url };
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

if (process.env.SEAWALL_LOAD_SERVE !== undefined) {
  const [framework, door] = process.env.SEAWALL_LOAD_SERVE.split(':');
  process.send(await service(framework, door === 'door'));
} else {
  await main();
}

async function main() {
  const frameworks = process.argv.length > 2 ? process.argv.slice(2) : ['fastify', 'express', 'hono', 'fastapi'];
  console.log(`node ${process.version}: capacity ${CAPACITY} requests/s (${WORKERS} workers × ${SERVICE_MS} ms), ${SECONDS} s per load, each service in a process of its own`);
  for (const framework of frameworks) {
    for (const door of [false, true]) {
      const { child, url } = await start(framework, door);
      try {
        await offer(url, 0.5 * CAPACITY, 1); // warm-up
        const calm = await offer(url, 0.5 * CAPACITY, SECONDS);
        const over = await offer(url, 3 * CAPACITY, SECONDS);
        const name = `${framework} ${door ? 'with the door' : 'no limit'}`;
        console.log(
          `${name.padEnd(24)} no-load p99 ${calm.p99.toFixed(1)} ms | at 3×: p50 ${over.p50.toFixed(1)} ms, p99 ${over.p99.toFixed(1)} ms (${(over.p99 / calm.p99).toFixed(2)}× no-load), goodput ${(over.goodput * 100).toFixed(0)}%, shed ${over.shed} of ${over.offered} (${over.withRetryAfter} with Retry-After)`,
        );
      } finally {
        child.kill();
      }
    }
  }
}
