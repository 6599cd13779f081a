// Memory under load: N requests to a 127.0.0.1 server, 50 at a time, 10% aborted by the caller
// soon after they start; the heap after a forced GC at the end, and the RSS. One client per
// process: node --expose-gc bench/node/fetch-memory.mjs [bare|resilientFetch|createResilientFetch] [N]
import { createServer } from 'node:http';

const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));
const which = process.argv[2] ?? 'resilientFetch';
const N = Number(process.argv[3] ?? 300_000);
const CONCURRENCY = 50;

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 1));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const guarded = seawall.createResilientFetch({ circuitBreaker: new seawall.CircuitBreaker({ failureThreshold: 1_000_000 }), maxAttempts: 2 });
const clients = {
  bare: (init) => fetch(url, init),
  resilientFetch: (init) => seawall.resilientFetch(url, init, undefined, { maxAttempts: 2 }),
  createResilientFetch: (init) => guarded(url, init),
};
const call = clients[which];
let next = 0;
let aborted = 0;
async function worker() {
  while (next < N) {
    const i = next++;
    const c = new AbortController();
    if (i % 10 === 0) setTimeout(() => c.abort(new Error('caller left')), 0);
    try {
      const r = await call({ signal: c.signal });
      await r.text();
    } catch {
      aborted++;
    }
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
server.close();
for (let i = 0; i < 3; i++) {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 50));
}
const m = process.memoryUsage();
console.log(JSON.stringify({ client: which, requests: N, aborted, heapMB: +(m.heapUsed / 2 ** 20).toFixed(1), rssMB: +(m.rss / 2 ** 20).toFixed(1) }));
