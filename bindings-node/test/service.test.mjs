// Seawall at a service's door, with real Fastify, Express and Hono (on @hono/node-server)
// servers on 127.0.0.1: an adaptive limit sheds what it cannot take (503, Retry-After); a client
// that disconnects cancels the outbound call its handler made (the upstream sees it aborted) and
// no handler is left running; a client's x-request-timeout cuts the handler's outbound call;
// partitions keep their share; every permit comes back.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { test } from 'node:test';

import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { AdaptiveLimit, currentRequest, resilientFetch, seawallExpress, seawallFastify, seawallHono } from 'seawall';

/** An upstream on 127.0.0.1 that never answers; it records each request's end (aborted or not). */
async function stallingUpstream() {
  const seen = { requests: 0, aborted: 0 };
  const server = createServer((_req, res) => {
    seen.requests++;
    res.on('close', () => {
      if (!res.writableFinished) seen.aborted++;
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    seen,
    url: `http://127.0.0.1:${server.address().port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

async function until(cond, what) {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** `handlers`: path → an async function answering text; its error is a 504 with its code. */
const FRAMEWORKS = {
  async fastify(options, handlers) {
    const app = Fastify();
    await app.register(seawallFastify, options);
    for (const [path, h] of Object.entries(handlers)) {
      app.get(path, async (_req, reply) => {
        try {
          return await h();
        } catch (e) {
          return reply.code(504).send({ code: e.code ?? e.name });
        }
      });
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { base: `http://127.0.0.1:${app.server.address().port}`, close: () => app.close() };
  },
  async express(options, handlers) {
    const app = express();
    app.use(seawallExpress(options));
    for (const [path, h] of Object.entries(handlers)) {
      app.get(path, async (_req, res) => {
        try {
          res.send(await h());
        } catch (e) {
          if (!res.destroyed) res.status(504).json({ code: e.code ?? e.name });
        }
      });
    }
    const server = await new Promise((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    return { base: `http://127.0.0.1:${server.address().port}`, close: () => (server.closeAllConnections(), new Promise((r) => server.close(r))) };
  },
  async hono(options, handlers) {
    const app = new Hono();
    app.use(seawallHono(options));
    for (const [path, h] of Object.entries(handlers)) {
      app.get(path, async (c) => {
        try {
          return c.text(await h());
        } catch (e) {
          return c.json({ code: e.code ?? e.name }, 504);
        }
      });
    }
    const server = await new Promise((r) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => r(s));
    });
    return { base: `http://127.0.0.1:${server.address().port}`, close: () => (server.closeAllConnections(), new Promise((r) => server.close(r))) };
  },
};

for (const [name, start] of Object.entries(FRAMEWORKS)) {
  test(`${name}: requests beyond the limit are shed with 503 and Retry-After; every permit comes back`, async () => {
    const limit = new AdaptiveLimit({ name: 'door', algorithm: 'aimd', initialLimit: 1, minLimit: 1, maxLimit: 1 });
    let release;
    const gate = new Promise((r) => (release = r));
    const svc = await start({ limit }, { '/slow': async () => (await gate, 'done') });
    try {
      const first = fetch(`${svc.base}/slow`);
      await until(() => limit.getStats().inFlight === 1, 'the first request admitted');
      const shed = await fetch(`${svc.base}/slow`);
      assert.equal(shed.status, 503);
      assert.ok(Number(shed.headers.get('retry-after')) >= 1);
      const body = await shed.json();
      assert.equal(body.code, 'CONCURRENCY_LIMITED');
      assert.match(body.message, /Concurrency limit 'door' is shedding load/);
      release();
      assert.equal(await (await first).text(), 'done');
      await until(() => limit.getStats().inFlight === 0, 'the permit back');
      const s = limit.getStats();
      assert.deepEqual([s.admitted, s.rejected, s.inFlight], [1, 1, 0]);
    } finally {
      await svc.close();
    }
  });

  test(`${name}: a client that disconnects cancels the outbound call its handler made, and no handler is left running`, async () => {
    const upstream = await stallingUpstream();
    const limit = new AdaptiveLimit({ algorithm: 'aimd', initialLimit: 5, minLimit: 1 });
    const handlers = { running: 0, ended: [] };
    const svc = await start({ limit }, {
      '/proxy': async () => {
        handlers.running++;
        try {
          assert.ok(currentRequest() !== undefined, 'the handler runs in its request scope');
          // No signal given: the request's is taken by default.
          return await (await resilientFetch(upstream.url, {}, undefined, { maxAttempts: 1 })).text();
        } catch (e) {
          handlers.ended.push(e.name);
          throw e;
        } finally {
          handlers.running--;
        }
      },
    });
    try {
      const req = httpRequest(`${svc.base}/proxy`);
      req.on('error', () => {});
      req.end();
      await until(() => upstream.seen.requests === 1, 'the upstream call');
      req.destroy();
      await until(() => upstream.seen.aborted === 1, 'the upstream call aborted');
      await until(() => handlers.running === 0, 'the handler ended');
      assert.deepEqual(handlers.ended, ['AbortError']);
      await until(() => limit.getStats().inFlight === 0, 'the permit back');
      assert.equal(limit.getStats().ignored, 1, "a client's disconnect says nothing of capacity");
    } finally {
      await svc.close();
      await upstream.close();
    }
  });

  test(`${name}: the client's x-request-timeout caps the handler's outbound calls`, async () => {
    const upstream = await stallingUpstream();
    const svc = await start({ limit: { algorithm: 'aimd', initialLimit: 5, minLimit: 1 } }, {
      // 2 s allowed by its own options; the client gives 200 ms.
      '/proxy': async () => (await resilientFetch(upstream.url, {}, undefined, { maxAttempts: 1, timeout: 2_000 })).text(),
    });
    try {
      const r = await fetch(`${svc.base}/proxy`, { headers: { 'x-request-timeout': '200' } });
      assert.equal(r.status, 504);
      assert.deepEqual(await r.json(), { code: 'TIMEOUT' });
      await until(() => upstream.seen.aborted === 1, 'the upstream call aborted');
    } finally {
      await svc.close();
      await upstream.close();
    }
  });

  test(`${name}: which x-request-timeout values are a deadline is the core's rule (a decimal number of ms)`, async () => {
    const svc = await start({ limit: { algorithm: 'aimd', initialLimit: 5, minLimit: 1 } }, {
      '/deadline': async () => {
        const d = currentRequest()?.deadline;
        return d === undefined ? 'none' : 'set';
      },
    });
    try {
      const seen = {};
      for (const value of ['200', '250.5', '0', '0x10', '1_000', '1e3', 'Infinity', '-5', '']) {
        const r = await fetch(`${svc.base}/deadline`, { headers: { 'x-request-timeout': value } });
        seen[value] = await r.text();
      }
      assert.deepEqual(seen, { 200: 'set', '250.5': 'set', 0: 'set', '0x10': 'none', '1_000': 'none', '1e3': 'none', Infinity: 'none', '-5': 'none', '': 'none' });
    } finally {
      await svc.close();
    }
  });

  test(`${name}: with a queue, requests beyond the limit wait (newest first) and those that waited too long are shed`, async () => {
    const order = [];
    let release;
    let gate = new Promise((r) => (release = r));
    const svc = await start(
      { limit: { algorithm: 'aimd', initialLimit: 1, minLimit: 1, maxLimit: 1 }, queue: { maxQueueSize: 2, timeout: 300 } },
      {
        '/work': async () => {
          order.push('started');
          await gate;
          return 'done';
        },
      },
    );
    try {
      const a = fetch(`${svc.base}/work?a`);
      await until(() => order.length === 1, 'a running');
      const b = fetch(`${svc.base}/work?b`);
      await new Promise((r) => setTimeout(r, 20));
      const c = fetch(`${svc.base}/work?c`);
      await new Promise((r) => setTimeout(r, 20));
      // The queue is full: shed at once.
      assert.equal((await fetch(`${svc.base}/work?d`)).status, 503);
      const answered = [];
      const track = (p, label) => p.then(async (r) => (answered.push([label, r.status]), r.text()));
      const all = [track(a, 'a'), track(b, 'b'), track(c, 'c')];
      release();
      await Promise.all(all);
      // The newest waiter (c) went first.
      assert.deepEqual(answered.map(([l]) => l), ['a', 'c', 'b']);
      assert.ok(answered.every(([, status]) => status === 200));
      // A request that waits past the queue's timeout is shed.
      gate = new Promise((r) => (release = r));
      const e = fetch(`${svc.base}/work?e`);
      await until(() => order.length === 4, 'e running');
      const late = await fetch(`${svc.base}/work?f`);
      assert.equal(late.status, 503);
      assert.equal(late.headers.get('retry-after'), '1');
      release();
      assert.equal((await e).status, 200);
    } finally {
      await svc.close();
    }
  });

  test(`${name}: partitions: a route keeps its guaranteed share while another takes the spare capacity`, async () => {
    const limit = new AdaptiveLimit({ algorithm: 'aimd', initialLimit: 2, minLimit: 2, maxLimit: 2, partitions: { live: 0.5, batch: 0.5 } });
    let release;
    const gate = new Promise((r) => (release = r));
    const svc = await start(
      { limit, partition: (req) => (new URL(req.url, 'http://x').pathname === '/live' ? 'live' : 'batch') },
      { '/live': async () => (await gate, 'live'), '/batch': async () => (await gate, 'batch') },
    );
    try {
      const batch = [fetch(`${svc.base}/batch`), fetch(`${svc.base}/batch`)];
      await until(() => limit.getStats().inFlight === 2, 'batch using the whole limit');
      assert.equal((await fetch(`${svc.base}/batch`)).status, 503, 'batch beyond its share and the limit');
      const live = fetch(`${svc.base}/live`);
      await until(() => limit.getStats().inFlight === 3, 'live admitted on its guaranteed share');
      release();
      assert.deepEqual(await Promise.all([...batch, live].map(async (p) => (await p).text())), ['batch', 'batch', 'live']);
      await until(() => limit.getStats().inFlight === 0, 'the permits back');
    } finally {
      await svc.close();
    }
  });
}
