// Per-request cost of createResilientFetch against bare fetch, and of the undici interceptor
// against undici's bare `request`, alternated rounds, against one 127.0.0.1 server in a process of
// its own (SERVER=inprocess: in this one, where it competes with the client for the event loop
// and every ratio comes out higher). Not a test: it prints a table. Run: node
// bench/node/fetch.mjs (after make build-node).
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { relaying } from './relaying.mjs';

/** The server: answers every request with a small JSON body once it has read the request's. */
function listen() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}
if (process.argv[2] === 'server') {
  const server = await listen();
  process.send(server.address().port);
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}

async function main() {
const pkg = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bindings-node');
const { Bulkhead, CircuitBreaker, createResilientFetch, createResilientInterceptor } = await import(join(pkg, 'dist', 'esm', 'entry.node.js'));
const { Agent, request } = await import(join(pkg, 'node_modules', 'undici', 'index.js'));

const inProcess = process.env.SERVER === 'inprocess';
let server;
let child;
let port;
if (inProcess) {
  server = await listen();
  port = server.address().port;
} else {
  child = fork(fileURLToPath(import.meta.url), ['server'], { stdio: 'inherit' });
  port = await new Promise((r) => child.once('message', r));
}
const url = `http://127.0.0.1:${port}/v1/chat/completions`;
console.log(`server: ${inProcess ? 'in this process' : `in a process of its own (pid ${child.pid})`}`);
const N = Number(process.env.BENCH_N ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);

/**
 * Per-request µs of each case: rounds of N requests, every case once per round in turn (so that
 * the machine's drift reaches them alike), the quarter-best round of each (the first is warm-up).
 * Also each case's CPU time per request in this process (user + system, the quarter-best round):
 * what the client itself spends, which a busy machine's scheduling moves less than the wall time;
 * and each case's ratio to the first case (bare) round by round, the median of those (a round's
 * cases ran within a few hundred ms of each other: the machine's drift between rounds cancels).
 */
const cpu = new Map();
const paired = new Map();
async function perRequest(cases) {
  const runs = cases.map(() => []);
  const cpus = cases.map(() => []);
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [i, [, f]] of cases.entries()) {
      const used = process.cpuUsage();
      const t = performance.now();
      for (let n = 0; n < N; n++) await (await f(url, { method: 'POST', body: '{}' })).text();
      if (round > 0) {
        runs[i].push(((performance.now() - t) / N) * 1000);
        const { user, system } = process.cpuUsage(used);
        cpus[i].push((user + system) / N);
      }
    }
  }
  for (const [i, [name]] of cases.entries()) {
    const ratios = runs[i].map((r, k) => r / runs[0][k]).sort((x, y) => x - y);
    paired.set(name, ratios[ratios.length >> 1]);
  }
  for (const [i, [name]] of cases.entries()) cpu.set(name, cpus[i].sort((x, y) => x - y)[cpus[i].length >> 2]);
  return runs.map((r) => r.sort((x, y) => x - y)[r.length >> 2]);
}
/** `name`'s CPU µs per request, and its ratio to `base`'s. */
const cpuOf = (name, base) => `${cpu.get(name).toFixed(0)} (${(cpu.get(name) / cpu.get(base)).toFixed(2)}×)`;

const guarded = createResilientFetch({ circuitBreaker: new CircuitBreaker({ failureThreshold: 5 }), bulkhead: new Bulkhead({ maxConcurrent: 16 }), maxAttempts: 3 });
// The floor under any per-attempt timeout: bare fetch given a signal and a timer armed and
// cleared per request (what fetch needs to be cut at a deadline).
const timedFetch = (u, init) => {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(), 30_000);
  return fetch(u, { ...init, signal: c.signal }).finally(() => clearTimeout(timer));
};
const [b, g, f] = await perRequest([
  ['bare fetch', fetch],
  ['createResilientFetch', guarded],
  ['fetch floor', timedFetch],
]);

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
const relayAgent = new Agent().compose(relaying(false));
const timedRelayAgent = new Agent().compose(relaying(true));
const [bu, gu, fu, ru, tu] = await perRequest([
  ['bare undici', viaUndici(agent)],
  ['interceptor', viaUndici(composed)],
  ['deferring floor', viaUndici(floorAgent)],
  ['relay', viaUndici(relayAgent)],
  ['relay and timer', viaUndici(timedRelayAgent)],
]);
console.log(`${N} requests a round, ${ROUNDS} rounds, cases in turn; the quarter-best round's µs per request`);
console.log('| client | bare, µs per request | guarded (breaker, bulkhead, retries) | ratio | floor (see above) | floor ÷ bare |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| fetch (undici), Node ${process.versions.node}: createResilientFetch | ${b.toFixed(0)} | ${g.toFixed(0)} | ${(g / b).toFixed(2)}× | ${f.toFixed(0)} | ${(f / b).toFixed(2)}× |`);
console.log(`| undici.request, Node ${process.versions.node}: createResilientInterceptor | ${bu.toFixed(0)} | ${gu.toFixed(0)} | ${(gu / bu).toFixed(2)}× | ${fu.toFixed(0)} | ${(fu / bu).toFixed(2)}× |`);
console.log(`undici's floors beside it: an interceptor that only relays undici's events ${ru.toFixed(0)} µs (${(ru / bu).toFixed(2)}×); that also arms and clears a timer per request ${tu.toFixed(0)} µs (${(tu / bu).toFixed(2)}×)`);
const pairedOf = (name) => `${paired.get(name).toFixed(2)}×`;
console.log(`the median of per-round ratios to bare: createResilientFetch ${pairedOf('createResilientFetch')}, its floor ${pairedOf('fetch floor')}; the undici interceptor ${pairedOf('interceptor')}, the deferring floor ${pairedOf('deferring floor')}, relay ${pairedOf('relay')}, relay and timer ${pairedOf('relay and timer')}`);
console.log(`CPU µs per request in this process (the ratio to bare): fetch bare ${cpuOf('bare fetch', 'bare fetch')}, createResilientFetch ${cpuOf('createResilientFetch', 'bare fetch')}, floor ${cpuOf('fetch floor', 'bare fetch')}; undici bare ${cpuOf('bare undici', 'bare undici')}, interceptor ${cpuOf('interceptor', 'bare undici')}, deferring floor ${cpuOf('deferring floor', 'bare undici')}, relay ${cpuOf('relay', 'bare undici')}, relay and timer ${cpuOf('relay and timer', 'bare undici')}`);
await agent.close();
await composed.close();
await floorAgent.close();
await relayAgent.close();
await timedRelayAgent.close();
server?.close();

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
child?.kill();
}
