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
// The floor under any per-attempt timeout: bare fetch given a signal and a timer armed and
// cleared per request (what fetch needs to be cut at a deadline).
const timedFetch = (u, init) => {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(), 30_000);
  return fetch(u, { ...init, signal: c.signal }).finally(() => clearTimeout(timer));
};
const bare = [];
const ours = [];
const floor = [];
for (let i = 0; i < 3; i++) {
  bare.push(await perRequest(fetch));
  ours.push(await perRequest(guarded));
  floor.push(await perRequest(timedFetch));
}
const b = Math.min(...bare);
const g = Math.min(...ours);
const f = Math.min(...floor);

// undici: `request` through an Agent, bare and composed with the interceptor (the same policies).
const agent = new Agent();
const composed = new Agent().compose(createResilientInterceptor({ circuitBreaker: new CircuitBreaker({ failureThreshold: 5 }), bulkhead: new Bulkhead({ maxConcurrent: 16 }), maxAttempts: 3 }));
const viaUndici = (dispatcher) => async (u, init) => {
  const { body } = await request(u, { ...init, dispatcher });
  return { text: () => body.text() };
};
// The floor under any interceptor whose policies decide asynchronously: the response handed on
// after one promise settles, its body held meanwhile, a timer armed and cleared per request.
const deferring = (dispatch) => (opts, handler) => {
  const timer = setTimeout(() => {}, 30_000);
  let answered = false;
  const held = [];
  const later = (event) => (answered ? event() : held.push(event));
  return dispatch(opts, {
    onRequestStart: (c, context) => handler.onRequestStart?.(c, context),
    onResponseStart(c, status, headers, message) {
      clearTimeout(timer);
      c.pause();
      Promise.resolve().then(() => {
        handler.onResponseStart?.(c, status, headers, message);
        answered = true;
        for (const event of held.splice(0)) event();
        c.resume();
      });
    },
    onResponseData: (c, chunk) => later(() => handler.onResponseData?.(c, chunk)),
    onResponseEnd: (c, trailers) => later(() => handler.onResponseEnd?.(c, trailers)),
    onResponseError: (c, e) => (clearTimeout(timer), later(() => handler.onResponseError?.(c, e))),
  });
};
const floorAgent = new Agent().compose(deferring);
for (let i = 0; i < 500; i++) {
  await (await viaUndici(agent)(url, { method: 'POST', body: '{}' })).text();
  await (await viaUndici(composed)(url, { method: 'POST', body: '{}' })).text();
  await (await viaUndici(floorAgent)(url, { method: 'POST', body: '{}' })).text();
}
const bareUndici = [];
const oursUndici = [];
const floorUndici = [];
for (let i = 0; i < 3; i++) {
  bareUndici.push(await perRequest(viaUndici(agent)));
  oursUndici.push(await perRequest(viaUndici(composed)));
  floorUndici.push(await perRequest(viaUndici(floorAgent)));
}
const bu = Math.min(...bareUndici);
const gu = Math.min(...oursUndici);
const fu = Math.min(...floorUndici);
console.log('| client | bare, µs per request | guarded (breaker, bulkhead, retries) | ratio | floor (see above) | floor ÷ bare |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| fetch (undici), Node ${process.versions.node}: createResilientFetch | ${b.toFixed(0)} | ${g.toFixed(0)} | ${(g / b).toFixed(2)}× | ${f.toFixed(0)} | ${(f / b).toFixed(2)}× |`);
console.log(`| undici.request, Node ${process.versions.node}: createResilientInterceptor | ${bu.toFixed(0)} | ${gu.toFixed(0)} | ${(gu / bu).toFixed(2)}× | ${fu.toFixed(0)} | ${(fu / bu).toFixed(2)}× |`);
await agent.close();
await composed.close();
await floorAgent.close();
server.close();

// Seawall's own cost per request, without a network: the interceptor over a dispatch that answers
// at once (in a microtask), and createResilientFetch over a `fetch` that answers a fresh
// `Response` at once; each against the same stand-in alone. Rounds alternated, the quarter-best.
const answering = { abort() {}, pause() {}, resume() {}, aborted: false, paused: false, reason: undefined };
const chunk = new TextEncoder().encode('{"ok":true}');
const instant = (_opts, h) => {
  queueMicrotask(() => {
    h.onRequestStart?.(answering, {});
    h.onResponseStart(answering, 200, { 'content-type': 'application/json' }, 'OK');
    h.onResponseData(answering, chunk);
    h.onResponseEnd(answering, {});
  });
  return true;
};
const viaDispatch = (d) => () => new Promise((resolve, reject) => d({ method: 'POST', origin: 'http://127.0.0.1:1', path: '/v1', body: '{}' }, { onResponseStart() {}, onResponseData() {}, onResponseEnd: resolve, onResponseError: (_c, e) => reject(e) }));
const instantFetch = () => Promise.resolve(new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } }));
const policies = () => ({ circuitBreaker: new CircuitBreaker({ failureThreshold: 5 }), bulkhead: new Bulkhead({ maxConcurrent: 16 }), maxAttempts: 3 });
const ownCases = [
  ['dispatch alone', viaDispatch(instant)],
  ['dispatch through the interceptor', viaDispatch(createResilientInterceptor(policies())(instant))],
  ['fetch stand-in alone', () => instantFetch().then((r) => r.text())],
  ['fetch stand-in through createResilientFetch', ((f) => () => f('http://127.0.0.1:1/v1', { method: 'POST', body: '{}' }).then((r) => r.text()))(createResilientFetch({ ...policies(), fetch: instantFetch }))],
];
const own = new Map(ownCases.map(([k]) => [k, []]));
for (let round = 0; round < 12; round++) {
  for (const [k, f] of ownCases) {
    const t = performance.now();
    for (let i = 0; i < 20_000; i++) await f();
    if (round >= 2) own.get(k).push(((performance.now() - t) / 20_000) * 1000);
  }
}
const quarter = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 2];
const ownOf = (i) => quarter(own.get(ownCases[i][0]));
console.log(`own cost without a network, µs per request: the interceptor +${(ownOf(1) - ownOf(0)).toFixed(1)} (over ${ownOf(0).toFixed(1)}), createResilientFetch +${(ownOf(3) - ownOf(2)).toFixed(1)} (over ${ownOf(2).toFixed(1)}; its attempt's timeout makes an AbortSignal and a timer for fetch, which the stand-in then ignores)`);
