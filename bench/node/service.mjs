// What the door costs a service while it does not shed: the p50 of a request to a real Fastify,
// Express and Hono app on 127.0.0.1 with the door and without it, measured in turn (keep-alive,
// one request at a time, from this process). Goal: ≤ 1.05× the bare app's p50. Not a test: it
// prints a table. Run: make bench-service.
import { createRequire } from 'node:module';

// The frameworks as bindings-node's tests have them (its devDependencies).
const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const { serve } = require('@hono/node-server');
const express = require('express');
const Fastify = require('fastify');
const { Hono } = require('hono');
const { Agent, request } = require('undici');
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));

const N = Number(process.env.BENCH_N ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LIMIT = { algorithm: 'gradient2', initialLimit: 100, maxLimit: 1000 };

const listen = (server) => new Promise((r) => server.once('listening', () => r(server.address().port)));
// The floor: a request scope alone (an AsyncLocalStorage run around the handler, as any
// per-request context — OpenTelemetry's, @fastify/request-context — costs every promise after).
const { AsyncLocalStorage } = require('node:async_hooks');
const als = new AsyncLocalStorage();
const apps = {
  async fastify(door) {
    const app = Fastify();
    if (door === 'scope') app.addHook('onRequest', (_req, _reply, done) => als.run({}, done));
    else if (door) await app.register(seawall.seawallFastify, { limit: LIMIT });
    app.get('/', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: app.server.address().port, close: () => app.close() };
  },
  async express(door) {
    const app = express();
    if (door === 'scope') app.use((_req, _res, next) => als.run({}, next));
    else if (door) app.use(seawall.seawallExpress({ limit: LIMIT }));
    app.get('/', (_req, res) => res.send('ok'));
    const server = app.listen(0, '127.0.0.1');
    return { port: await listen(server), close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) };
  },
  async hono(door) {
    const app = new Hono();
    if (door === 'scope') app.use((_c, next) => als.run({}, next));
    else if (door) app.use(seawall.seawallHono({ limit: LIMIT }));
    app.get('/', (c) => c.text('ok'));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    return { port: await listen(server), close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))) };
  },
};

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`node ${process.version}: ${N} requests x ${ROUNDS} rounds each way, p50 µs (median of rounds)`);
for (const [name, make] of Object.entries(apps)) {
  const svcs = { bare: await make(false), scope: await make('scope'), door: await make(true) };
  const p50 = { bare: [], scope: [], door: [] };
  const agent = new Agent({ connections: 1 });
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const which of ['bare', 'scope', 'door']) {
      const url = `http://127.0.0.1:${svcs[which].port}/`;
      const times = [];
      for (let i = 0; i < N; i++) {
        const t = process.hrtime.bigint();
        const { body } = await request(url, { dispatcher: agent });
        await body.text();
        times.push(Number(process.hrtime.bigint() - t) / 1000);
      }
      if (r > 0) p50[which].push(median(times));
    }
  }
  const [bare, scope, door] = [median(p50.bare), median(p50.scope), median(p50.door)];
  console.log(
    `${name.padEnd(8)} bare ${bare.toFixed(1).padStart(6)} µs   a request scope alone ${scope.toFixed(1).padStart(6)} µs ${(scope / bare).toFixed(3)}x   the door ${door.toFixed(1).padStart(6)} µs ${(door / bare).toFixed(3)}x`,
  );
  await agent.close();
  for (const svc of Object.values(svcs)) await svc.close();
}
