// The shell-level conformance vectors (tests/shell-vectors/): each drives the public TypeScript
// API — withBackoff, CircuitBreaker.execute, resilientFetch against a real 127.0.0.1 server — on a
// virtual clock with scripted outcomes, and its trace must equal the vector's, line for line; the
// Python runner (bindings-python/tests/test_shell_conformance.py) checks the same vectors against
// the Python API, so a decision that leaks into one shell shows up as a diff. With
// SEAWALL_BLESS=1 a vector without `expect` gets this runner's trace, for review.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CircuitBreaker, HedgePolicy, resilientFetch, useRealClock, useVirtualClock, withBackoff } from 'seawall';
import { startScriptedServer } from './fixtures/scripted-server.mjs';

const DIR = fileURLToPath(new URL('../../tests/shell-vectors/', import.meta.url));
const BLESS = process.env.SEAWALL_BLESS === '1';

/** Times and delays in the trace: ms, rounded to a microsecond (the shells' units differ). */
const ms = (x) => Math.round(x * 1000) / 1000;

/** A scripted error: the message, and what an HTTP-ish error carries. */
function scripted(spec) {
  const e = new Error(spec.message ?? 'scripted');
  e.scripted = true;
  if (spec.status !== undefined) e.status = spec.status;
  if (spec.code !== undefined) e.code = spec.code;
  if (spec.headers !== undefined) e.headers = spec.headers;
  if (spec.retryAfterMs !== undefined) e.retryAfter = spec.retryAfterMs;
  return e;
}

/** What an attempt that follows `step` does: sleep its duration (virtual), then throw or return. */
async function perform(clock, step) {
  if (step.duration) await clock.sleep(step.duration);
  if (step.throw) throw scripted(step.throw);
  return step.return ?? null;
}

/** A scripted error by its message; one of Seawall's by its code. */
function raised(e) {
  return e?.scripted === true ? { error: e.message } : { code: e?.code ?? null };
}

async function runRetry(v, clock, trace) {
  let i = 0;
  const options = { ...v.options, onRetry: (attempt, _e, delay) => trace.push({ at: ms(clock.now()), retry: { attempt, delayMs: ms(delay) } }) };
  if (v.filter) options.retryOn = (e) => v.filter.codes.includes(e.code);
  if (v.rejectResults) options.retryOnResult = (result) => v.rejectResults.includes(result);
  try {
    const result = await withBackoff(async (attempt) => {
      trace.push({ at: ms(clock.now()), attempt });
      return perform(clock, v.attempts[i++] ?? { return: 'unscripted' });
    }, options);
    trace.push({ at: ms(clock.now()), result });
  } catch (e) {
    trace.push({ at: ms(clock.now()), raised: raised(e) });
  }
}

async function runBreaker(v, clock, trace) {
  const cb = new CircuitBreaker({ ...v.options, ...(v.failureResults ? { isFailureResult: (r) => v.failureResults.includes(r) } : {}) });
  cb.on('stateChange', (e) => trace.push({ at: ms(clock.now()), transition: { from: e.previousState, to: e.currentState, reason: e.reason } }));
  for (const call of v.calls) {
    if (call.at > clock.now()) await clock.advance(call.at - clock.now());
    if (call.op === 'reset') cb.reset();
    else if (call.op === 'open') cb.open();
    else {
      try {
        const result = await cb.execute(() => perform(clock, call));
        trace.push({ at: ms(clock.now()), result, state: cb.getState() });
      } catch (e) {
        const out = e?.code === 'CIRCUIT_OPEN' ? { code: e.code, retryAfterMs: e.retryAfter === undefined ? null : ms(e.retryAfter) } : raised(e);
        trace.push({ at: ms(clock.now()), raised: out, state: cb.getState() });
      }
    }
  }
}

// The scripted server for `fetch` vectors: each path answers its vector's responses in order.
let server;
before(async () => {
  server = await startScriptedServer();
});
after(() => server.stop());

async function runFetch(v, clock, trace) {
  const path = `/${v.name}`;
  server.scripts.set(path, structuredClone(v.responses));
  server.hits.set(path, 0);
  // A response's `afterMs` passes on the test's clock while the request waits for it.
  server.passTime = (t) => clock.advance(t);
  const cb = v.breaker ? new CircuitBreaker(v.breaker) : undefined;
  const options = { ...v.options, onRetry: (attempt, _e, delay) => trace.push({ at: ms(clock.now()), retry: { attempt, delayMs: ms(delay) } }) };
  const init = v.method === undefined ? {} : { method: v.method, body: v.method === 'GET' || v.method === 'HEAD' ? undefined : 'x' };
  try {
    const res = await resilientFetch(`${server.base}${path}`, init, cb, options);
    await res.text();
    trace.push({ at: ms(clock.now()), status: res.status });
  } catch (e) {
    trace.push({ at: ms(clock.now()), raised: raised(e) });
  }
  trace.push({ hits: server.hits.get(path), ...(cb ? { state: cb.getState() } : {}) });
}

/** A hedged call on a clock moved 1 ms at a time (attempts run side by side), at most 10 s. */
async function runHedge(v) {
  const clock = useVirtualClock({ autoAdvance: false });
  const trace = [];
  const cancelled = [];
  const policy = new HedgePolicy(v.options);
  const attempt = (k, signal) =>
    new Promise((resolve, reject) => {
      trace.push({ at: ms(clock.now()), attempt: k });
      const step = v.attempts[k] ?? { return: 'unscripted' };
      const stop = clock.setTimer(step.duration ?? 0, () => (step.throw ? reject(scripted(step.throw)) : resolve(step.return ?? null)));
      signal.addEventListener('abort', () => {
        stop();
        cancelled.push(k);
        reject(signal.reason);
      });
    });
  let end;
  policy.execute(attempt).then(
    (result) => (end = { at: ms(clock.now()), result }),
    (e) => (end = { at: ms(clock.now()), raised: raised(e) }),
  );
  for (let i = 0; i < 10_000 && end === undefined; i++) await clock.advance(1);
  trace.push({ ...end, cancelled: cancelled.sort(), hedges: policy.getStats().hedges });
  return trace;
}

const RUNNERS = { retry: runRetry, breaker: runBreaker, fetch: runFetch, hedge: runHedge };

/** Keys sorted, so that traces compare as text. */
export function canonical(x) {
  if (Array.isArray(x)) return x.map(canonical);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, canonical(x[k])]));
  return x;
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('there are at least 40 shell-level vectors', () => {
  assert.ok(files.length >= 40, `${files.length} vectors`);
});

for (const file of files) {
  test(`shell vector ${file}`, async () => {
    const v = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    const clock = useVirtualClock();
    const trace = [];
    try {
      if (v.api === 'hedge') trace.push(...(await runHedge(v)));
      else await RUNNERS[v.api](v, clock, trace);
    } finally {
      useRealClock();
    }
    const got = canonical(trace);
    if (v.expect === undefined) {
      assert.ok(BLESS, `${file} has no expect: run with SEAWALL_BLESS=1 and review it`);
      v.expect = got;
      writeFileSync(join(DIR, file), `${JSON.stringify(v, null, 2)}\n`);
      return;
    }
    assert.deepEqual(got.map((l) => JSON.stringify(l)), canonical(v.expect).map((l) => JSON.stringify(l)));
  });
}
