// Per-request cost of createResilientFetch against bare fetch, and of the undici interceptor
// against undici's bare `request`, one process, one 127.0.0.1 server, alternated rounds. Not a
// test: it prints a table. Run: node bench/node/fetch.mjs (after make build-node).
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bindings-node');
const { Bulkhead, CircuitBreaker, createResilientFetch, createResilientInterceptor } = await import(join(pkg, 'dist', 'esm', 'entry.node.js'));
const { Agent, request } = await import(join(pkg, 'node_modules', 'undici', 'index.js'));

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/v1/chat/completions`;
const N = 2000;
const ROUNDS = 5;

async function perRequest(f) {
  const runs = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t = performance.now();
    for (let i = 0; i < N; i++) await (await f(url, { method: 'POST', body: '{}' })).text();
    runs.push(((performance.now() - t) / N) * 1000);
  }
  return runs.sort((a, b) => a - b)[runs.length >> 1];
}

const guarded = createResilientFetch({ circuitBreaker: new CircuitBreaker({ failureThreshold: 5 }), bulkhead: new Bulkhead({ maxConcurrent: 16 }), maxAttempts: 3 });
for (let i = 0; i < 500; i++) {
  await (await fetch(url, { method: 'POST', body: '{}' })).text();
  await (await guarded(url, { method: 'POST', body: '{}' })).text();
}
const bare = [];
const ours = [];
for (let i = 0; i < 3; i++) {
  bare.push(await perRequest(fetch));
  ours.push(await perRequest(guarded));
}
const b = Math.min(...bare);
const g = Math.min(...ours);

// undici: `request` through an Agent, bare and composed with the interceptor (the same policies).
const agent = new Agent();
const composed = new Agent().compose(createResilientInterceptor({ circuitBreaker: new CircuitBreaker({ failureThreshold: 5 }), bulkhead: new Bulkhead({ maxConcurrent: 16 }), maxAttempts: 3 }));
const viaUndici = (dispatcher) => async (u, init) => {
  const { body } = await request(u, { ...init, dispatcher });
  return { text: () => body.text() };
};
for (let i = 0; i < 500; i++) {
  await (await viaUndici(agent)(url, { method: 'POST', body: '{}' })).text();
  await (await viaUndici(composed)(url, { method: 'POST', body: '{}' })).text();
}
const bareUndici = [];
const oursUndici = [];
for (let i = 0; i < 3; i++) {
  bareUndici.push(await perRequest(viaUndici(agent)));
  oursUndici.push(await perRequest(viaUndici(composed)));
}
const bu = Math.min(...bareUndici);
const gu = Math.min(...oursUndici);
console.log('| client | bare, µs per request | guarded (breaker, bulkhead, retries) | ratio |');
console.log('|---|---:|---:|---:|');
console.log(`| fetch (undici), Node ${process.versions.node}: createResilientFetch | ${b.toFixed(0)} | ${g.toFixed(0)} | ${(g / b).toFixed(2)}× |`);
console.log(`| undici.request, Node ${process.versions.node}: createResilientInterceptor | ${bu.toFixed(0)} | ${gu.toFixed(0)} | ${(gu / bu).toFixed(2)}× |`);
await agent.close();
await composed.close();
server.close();
