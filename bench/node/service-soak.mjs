// Soak at a service's door: a real Fastify app on 127.0.0.1 behind `seawallFastify` whose handler
// calls an upstream through `resilientFetch`; clients send `requests` requests, `concurrency` at
// a time, and 10% of them disconnect while the upstream call is under way. Afterwards nothing may
// be held: no handler running, every permit back (the limit has nothing in flight), no upstream
// request open, every request ended. RSS and the heap are sampled, settled, after a warm-up
// fifth and at the end.
//
// Run: node --expose-gc bench/node/service-soak.mjs [requests]   (100,000 by default; exits 1
// when anything is held or RSS grew by more than 20 MB). test/service-soak.test.mjs runs 2,000.
import { createRequire } from 'node:module';
import { createServer, request as httpRequest, Agent as HttpAgent } from 'node:http';
import { seededRandom as rng } from './rng.mjs';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const Fastify = require('fastify');
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));

export async function serviceSoak({ requests = 2_000, concurrency = 32, seed = 11, door = true, fetcher = 'resilientFetch', leaving = 0.1 } = {}) {
  const random = rng(seed);
  const gc = globalThis.gc ?? (() => {});
  // The upstream answers after 1–3 ms; it counts requests open at the end.
  const upstream = { open: 0, served: 0, aborted: 0 };
  const up = createServer((_req, res) => {
    upstream.open++;
    const timer = setTimeout(() => res.end('up'), 1 + Math.floor(random() * 3));
    res.on('close', () => {
      clearTimeout(timer);
      upstream.open--;
      if (res.writableFinished) upstream.served++;
      else upstream.aborted++;
    });
  });
  await new Promise((r) => up.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${up.address().port}/`;
  const limit = new seawall.AdaptiveLimit({ name: 'soak-door', algorithm: 'gradient2', initialLimit: 200, maxLimit: 1000 });
  const handlers = { running: 0, ok: 0, aborted: 0, failed: 0 };
  const app = Fastify();
  if (door) await app.register(seawall.seawallFastify, { limit });
  app.get('/', async () => {
    handlers.running++;
    try {
      const r = fetcher === 'fetch' ? await fetch(upstreamUrl) : await seawall.resilientFetch(upstreamUrl, {}, undefined, { maxAttempts: 1 });
      const text = await r.text();
      handlers.ok++;
      return text;
    } catch (e) {
      if (e.name === 'AbortError') handlers.aborted++;
      else handlers.failed++;
      throw e;
    } finally {
      handlers.running--;
    }
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = app.server.address().port;
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const clients = { ok: 0, gone: 0, shed: 0, other: 0 };
  const one = () =>
    new Promise((resolve) => {
      const leave = random() < leaving;
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: leave ? false : agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) clients.ok++;
          else if (res.statusCode === 503) clients.shed++;
          else clients.other++;
          resolve();
        });
      });
      req.on('error', () => {
        clients.gone++;
        resolve();
      });
      req.end();
      // A client that leaves does so once its request reached the handler (a few ms in).
      if (leave) setTimeout(() => req.destroy(), 1 + Math.floor(random() * 2));
    });
  const rss = [];
  const heap = [];
  /** Runs `n` requests, then lets everything settle and samples memory: finalizers and weak
   * references (the linked signals') are cleared over a few collections and turns, so a sample
   * taken under load counts what is merely not collected yet. */
  const phase = async (n) => {
    let left = n;
    const lane = async () => {
      while (left > 0) {
        left--;
        await one();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    for (let i = 0; i < 200 && (handlers.running > 0 || upstream.open > 0 || limit.getStats().inFlight > 0); i++) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    rss.push(process.memoryUsage().rss);
    heap.push(process.memoryUsage().heapUsed);
  };
  // A fifth to warm up, then the rest.
  await phase(Math.floor(requests / 5));
  await phase(requests - Math.floor(requests / 5));
  const leaks = [];
  if (handlers.running !== 0) leaks.push(`${handlers.running} handlers running`);
  if (upstream.open !== 0) leaks.push(`${upstream.open} upstream requests open`);
  const s = limit.getStats();
  if (s.inFlight !== 0) leaks.push(`${s.inFlight} permits held`);
  if (clients.ok + clients.gone + clients.shed + clients.other !== requests) leaks.push('a request never ended');
  agent.destroy();
  await app.close();
  up.closeAllConnections();
  await new Promise((r) => up.close(r));
  return { clients, handlers, upstream, limit: { admitted: s.admitted, rejected: s.rejected, ignored: s.ignored, limit: s.limit }, rss, heap, leaks };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const requests = Number(process.argv[2] ?? 100_000);
  const env = process.env;
  const r = await serviceSoak({ requests, door: env.SOAK_DOOR !== '0', fetcher: env.SOAK_FETCH ?? 'resilientFetch', leaving: Number(env.SOAK_LEAVING ?? 0.1) });
  const mb = (x) => (x / 1048576).toFixed(1);
  console.log(JSON.stringify({ ...r, rss: r.rss.map(mb), heap: r.heap.map(mb) }));
  const grew = (r.rss[1] - r.rss[0]) / 1048576;
  console.log(`RSS after warm-up ${mb(r.rss[0])} MB, at the end ${mb(r.rss[1])} MB (${grew.toFixed(1)} MB)`);
  if (r.leaks.length > 0 || grew > 20) {
    console.log(`FAIL: ${r.leaks.join('; ') || `RSS grew ${grew.toFixed(1)} MB`}`);
    process.exit(1);
  }
}
