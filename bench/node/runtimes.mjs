// Seawall against cockatiel in whichever JavaScript runtime runs this (Node, Bun, Deno): a
// breaker's call and `withBackoff(fn, {…})` per call as seed 000 writes it, against cockatiel's
// breaker and retry built once; overhead = time per awaited call minus a bare `await fn()`,
// each case measured in turn within every round. Not a test: it prints a table.
//   node|bun bench/node/runtimes.mjs    deno run -A bench/node/runtimes.mjs    (make bench-runtimes)
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));
const cockatiel = require('cockatiel');

const N = Number(globalThis.process?.env?.BENCH_N ?? 300_000);
const ROUNDS = 9;
const work = async () => 1;

async function compare(cases) {
  for (const f of Object.values(cases)) for (let i = 0; i < 50_000; i++) await f();
  const diffs = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    for (let i = 0; i < N; i++) await work();
    const bare = ((performance.now() - t) * 1e6) / N;
    for (const [k, f] of Object.entries(cases)) {
      t = performance.now();
      for (let i = 0; i < N; i++) await f();
      diffs[k].push(((performance.now() - t) * 1e6) / N - bare);
    }
  }
  return Object.fromEntries(Object.entries(diffs).map(([k, xs]) => [k, xs.sort((a, b) => a - b)[xs.length >> 1]]));
}

const runtime = globalThis.Bun !== undefined ? `Bun ${globalThis.Bun.version}` : globalThis.Deno !== undefined ? `Deno ${globalThis.Deno.version.deno}` : `Node ${process.version}`;
const breaker = new seawall.CircuitBreaker({ failureThreshold: 5 });
const cBreaker = cockatiel.circuitBreaker(cockatiel.handleAll, { halfOpenAfter: 10_000, breaker: new cockatiel.ConsecutiveBreaker(5) });
const cRetry = cockatiel.retry(cockatiel.handleAll, { maxAttempts: 4, backoff: new cockatiel.ExponentialBackoff() });
const t = await compare({
  seawallBreaker: () => breaker.execute(work),
  cockatielBreaker: () => cBreaker.execute(work),
  seawallRetry: () => seawall.withBackoff(work, { maxRetries: 3, baseDelay: 1000, maxDelay: 4000, jitter: true }),
  cockatielRetry: () => cRetry.execute(work),
});
const ns = (x) => `${x.toFixed(1)} ns`;
console.log(`${runtime}, backend ${seawall.backendName()}, ${N} calls × ${ROUNDS} rounds, overhead over a bare await (median)`);
console.log(`breaker:              Seawall ${ns(t.seawallBreaker)}, cockatiel ${ns(t.cockatielBreaker)}: ${(t.seawallBreaker / t.cockatielBreaker).toFixed(2)}×`);
console.log(`withBackoff per call: Seawall ${ns(t.seawallRetry)}, cockatiel (built once) ${ns(t.cockatielRetry)}: ${(t.seawallRetry / t.cockatielRetry).toFixed(2)}×`);
