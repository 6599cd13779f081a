// Seawall in another JavaScript runtime (Bun, Deno; Node too): the shared conformance vectors
// through the backend the runtime loads (each step against its `expect`, the whole trace byte for
// byte against the Rust runner's), then the package as users call it — a breaker, retries on the
// virtual clock, a bulkhead — and resilientFetch against a flaky server on 127.0.0.1 started in
// the runtime itself. No test framework (each runtime's differs): prints `# pass N` / `# fail N`
// as node --test does, and exits non-zero on a failure.
//   bun test/runtimes/run.mjs | deno run -A test/runtimes/run.mjs   (SEAWALL_BACKEND=wasm: the wasm module)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { canonical, makeRunner, traceOf } from '../conformance-runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const seawall = await import('../../dist/esm/entry.node.js');
const runtime = globalThis.Bun !== undefined ? `bun ${globalThis.Bun.version}` : globalThis.Deno !== undefined ? `deno ${globalThis.Deno.version.deno}` : `node ${process.version}`;
const backend = seawall.backendInfo();
console.log(`# ${runtime}, backend ${backend.name}${backend.reason ? ` (${backend.reason})` : ''}`);

let pass = 0;
let fail = 0;
async function check(name, fn) {
  try {
    await fn();
    pass++;
    console.log(`ok - ${name}`);
  } catch (e) {
    fail++;
    console.log(`not ok - ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
function equal(got, want, what) {
  const [g, w] = [JSON.stringify(got), JSON.stringify(want)];
  if (g !== w) throw new Error(`${what}: ${g} !== ${w}`);
}

// 1. The vectors, through the backend the package loaded here.
const b = backend.name === 'napi' ? (await import('../../dist/esm/backend-napi.js')).loadNapiBackend() : (await import('../../dist/esm/load-wasm-node.js')).loadWasmNode();
const { runVector } = makeRunner(b);
const vectors = join(root, 'tests', 'vectors');
for (const file of readdirSync(vectors).filter((f) => f.endsWith('.json')).sort()) {
  const name = file.slice(0, -5);
  await check(`vector ${name}`, () => {
    const v = JSON.parse(readFileSync(join(vectors, file), 'utf8'));
    const outputs = runVector(v);
    v.steps.forEach((step, i) => equal(canonical(outputs[i]), canonical(step.expect), `step ${i} (${step.op})`));
    const rust = join(root, 'target', 'conformance', 'rust', `${name}.trace.json`);
    if (!existsSync(rust)) throw new Error(`no Rust trace at ${rust}: run make test-core first`);
    if (traceOf(outputs) !== readFileSync(rust, 'utf8')) throw new Error('trace differs from the Rust runner byte for byte');
  });
}

// 2. The package as users call it.
await check('a breaker opens after its failures and refuses with CIRCUIT_OPEN', async () => {
  const breaker = new seawall.CircuitBreaker({ failureThreshold: 2, resetTimeout: 60_000 });
  for (let i = 0; i < 2; i++) await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
  const refused = await breaker.execute(async () => 1).catch((e) => e.code);
  equal([breaker.state, refused], ['OPEN', 'CIRCUIT_OPEN'], 'state and refusal');
});
await check('withBackoff retries on the virtual clock with the core’s delays', async () => {
  const delays = [];
  let calls = 0;
  const value = await seawall.withVirtualClock(() =>
    seawall.withBackoff(
      async () => {
        if (++calls < 3) throw new Error('flaky');
        return 'ok';
      },
      { maxAttempts: 3, baseDelay: 100, jitter: false, onRetry: (_n, _e, d) => delays.push(d) },
    ),
  );
  equal([value, calls, delays], ['ok', 3, [100, 200]], 'value, calls, delays');
});
await check('a full bulkhead refuses with BULKHEAD_QUEUE_FULL and gives its slot back', async () => {
  const bulkhead = new seawall.Bulkhead({ maxConcurrent: 1 });
  let release;
  const busy = bulkhead.execute(() => new Promise((r) => (release = r)));
  const refused = await bulkhead.execute(async () => 1).catch((e) => e.code);
  release();
  await busy;
  equal([refused, await bulkhead.execute(async () => 2)], ['BULKHEAD_QUEUE_FULL', 2], 'refusal, then a slot');
});

// 3. resilientFetch against a server that fails twice, then answers.
await check('resilientFetch retries a flaky 127.0.0.1 server to its answer', async () => {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(hits <= 2 ? 503 : 200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(hits <= 2 ? 'busy' : 'hello');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const response = await seawall.resilientFetch(`http://127.0.0.1:${server.address().port}/`, {}, undefined, { maxAttempts: 3, baseDelay: 1, jitter: false });
    equal([response.status, await response.text(), hits], [200, 'hello', 3], 'status, body, requests');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

console.log(`# pass ${pass}`);
console.log(`# fail ${fail}`);
if (fail > 0) process.exit(1);
