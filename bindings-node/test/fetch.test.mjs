// resilientFetch against a real flaky HTTP server on 127.0.0.1: 5xx bursts, 429 with
// Retry-After, hangs cut by the timeout, refused connections, non-idempotent methods, and 4xx
// that are neither retried nor counted. Real time, generous bounds.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, test } from 'node:test';

import { CircuitBreaker, CircuitBreakerError, createResilientFetch, parseRetryAfter, resilientFetch, TimeoutError } from 'seawall';
import { startScriptedServer } from './fixtures/scripted-server.mjs';

let server;
let base;
/** Per path: a script of responses, consumed in order; then 200 (fixtures/scripted-server.mjs). */
let scripts;
let hits;

before(async () => {
  server = await startScriptedServer();
  ({ base, scripts, hits } = server);
});

after(() => server.stop());

const fast = { baseDelay: 10, maxDelay: 50 };

test('a burst of 5xx is retried until the server recovers', async () => {
  scripts.set('/burst', [503, 500, 502]);
  const res = await resilientFetch(`${base}/burst`, {}, undefined, { ...fast, maxAttempts: 5 });
  assert.equal(res.status, 200);
  assert.equal(hits.get('/burst'), 4);
});

test('a guarded fetch installed as the global fetch (or wrapped there) sends through the host’s, once per attempt; a stand-in installed later is used', async () => {
  const host = globalThis.fetch;
  const guarded = createResilientFetch({ ...fast, maxAttempts: 3 });
  try {
    for (const [path, installed] of [['/global', guarded], ['/global-wrapped', (u, i) => guarded(u, i)]]) {
      globalThis.fetch = installed;
      scripts.set(path, [503]);
      const res = await fetch(`${base}${path}`);
      assert.deepEqual([res.status, await res.text(), hits.get(path)], [200, 'status 200', 2]);
    }
    // Another guard over it: both guard the request (the global's retries inside each attempt).
    scripts.set('/global-under', [503]);
    const res = await resilientFetch(`${base}/global-under`, {}, new CircuitBreaker(), { ...fast, maxAttempts: 2 });
    assert.deepEqual([res.status, hits.get('/global-under')], [200, 2]);
    // Read at each request: a stand-in installed after the guarded fetch was made is what it calls.
    let seen = 0;
    globalThis.fetch = (u, i) => (seen++, host(u, i));
    scripts.set('/stand-in', [503]);
    assert.equal((await guarded(`${base}/stand-in`)).status, 200);
    assert.deepEqual([seen, hits.get('/stand-in')], [2, 2]);
  } finally {
    globalThis.fetch = host;
  }
});

test('when retries run out, the last 5xx response is answered', async () => {
  scripts.set('/down', [500, 500, 500]);
  const res = await resilientFetch(`${base}/down`, {}, undefined, { ...fast, maxAttempts: 3 });
  assert.equal(res.status, 500);
  assert.equal(await res.text(), 'status 500');
});

test('429 with Retry-After waits as told', async () => {
  scripts.set('/throttled', [{ status: 429, headers: { 'retry-after': '1' } }]);
  const t = performance.now();
  const res = await resilientFetch(`${base}/throttled`, {}, undefined, { ...fast, maxAttempts: 3 });
  const waited = performance.now() - t;
  assert.equal(res.status, 200);
  assert.ok(waited >= 900 && waited < 5000, `waited ${waited} ms`);
});

test('a Retry-After beyond maxRetryAfter gives up at once', async () => {
  scripts.set('/later', [{ status: 429, headers: { 'retry-after': '3600' } }]);
  const t = performance.now();
  const res = await resilientFetch(`${base}/later`, {}, undefined, { ...fast, maxAttempts: 3, maxRetryAfter: 1000 });
  assert.equal(res.status, 429);
  assert.ok(performance.now() - t < 2000);
});

test('an HTTP-date Retry-After is read: one past maxRetryAfter gives up at once', async () => {
  const inAnHour = new Date(Date.now() + 3_600_000).toUTCString();
  scripts.set('/dated', [{ status: 503, headers: { 'retry-after': inAnHour } }]);
  const res = await resilientFetch(`${base}/dated`, {}, undefined, { ...fast, maxAttempts: 3, maxRetryAfter: 1000 });
  assert.equal(res.status, 503);
  assert.equal(hits.get('/dated'), 1);
});

test('a Retry-After that is neither seconds nor an HTTP date leaves the wait to the backoff', async () => {
  scripts.set('/garbage', [
    { status: 503, headers: { 'retry-after': 'soon' } },
    { status: 429, headers: { 'retry-after': '-5' } },
  ]);
  const res = await resilientFetch(`${base}/garbage`, {}, undefined, { ...fast, maxAttempts: 3, maxRetryAfter: 1000 });
  assert.equal(res.status, 200);
  assert.equal(hits.get('/garbage'), 3);
});

test('parseRetryAfter reads seconds and HTTP dates through the core, nothing else', () => {
  const now = Date.UTC(2026, 11, 1);
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter('Tue, 01 Dec 2026 00:02:00 GMT', now), 120_000);
  assert.equal(parseRetryAfter(new Date(now + 5000).toUTCString(), now), 5000);
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now), 0);
  for (const v of [null, undefined, '', 'soon', '-1', '1e3', 'Infinity', '2026-12-01T00:02:00Z', '12/01/2026']) {
    assert.equal(parseRetryAfter(v, now), undefined, String(v));
  }
});

test('a long-lived caller signal keeps no listener per request, and still aborts a streaming body', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const shutdown = new AbortController();
  const breaker = new CircuitBreaker('fetch-shutdown-signal', { failureThreshold: 100 });
  for (let i = 0; i < 200; i++) {
    const res = await resilientFetch(`${base}/shutdown-${i % 2}`, { signal: shutdown.signal }, i % 2 ? breaker : undefined, { ...fast, timeout: 5000 });
    assert.equal(await res.text(), 'status 200');
  }
  // One listener on the caller's signal whatever the number of requests, at once (Node warns of a
  // leak past ten listeners on one signal), also while 30 are in flight together.
  assert.ok(getEventListeners(shutdown.signal, 'abort').length <= 1);
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on('warning', onWarning);
  const together = Array.from({ length: 30 }, (_, i) => resilientFetch(`${base}/together-${i}`, { signal: shutdown.signal }, breaker, { ...fast, timeout: 5000 }));
  assert.ok(getEventListeners(shutdown.signal, 'abort').length <= 1);
  for (const res of await Promise.all(together)) assert.equal(await res.text(), 'status 200');
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.deepEqual(warnings, []);
  gc();

  scripts.set('/stream', ['stream']);
  const res = await resilientFetch(`${base}/stream`, { signal: shutdown.signal }, breaker, { ...fast, timeout: 5000 });
  assert.equal(res.status, 200);
  const reading = res.text();
  shutdown.abort(new Error('shutting down'));
  await assert.rejects(reading);
});

test('a hanging request is aborted by the timeout and retried', async () => {
  scripts.set('/hang', ['hang']);
  const res = await resilientFetch(`${base}/hang`, {}, undefined, { ...fast, maxAttempts: 2, timeout: 200 });
  assert.equal(res.status, 200);
  assert.equal(hits.get('/hang'), 2);
});

test('a request that always hangs ends in TimeoutError', async () => {
  scripts.set('/stuck', ['hang', 'hang']);
  await assert.rejects(resilientFetch(`${base}/stuck`, {}, undefined, { ...fast, maxAttempts: 2, timeout: 150 }), TimeoutError);
});

test('4xx is answered at once: not retried, not counted by the breaker', async () => {
  const cb = new CircuitBreaker({ failureThreshold: 1 });
  scripts.set('/missing', [404, 404]);
  const res = await resilientFetch(`${base}/missing`, {}, cb, fast);
  assert.equal(res.status, 404);
  assert.equal(hits.get('/missing'), 1);
  // The verdict is the body's end's (read here).
  await res.text();
  const s = cb.getStats();
  assert.deepEqual([s.state, s.failedCalls, s.ignoredCalls], ['CLOSED', 0, 1]);
});

test('a held response whose body does not parse: json() and formData() reject, and the breaker counts successes (the bodies were read whole)', async () => {
  const cb = new CircuitBreaker({ failureThreshold: 1 });
  const res = await resilientFetch(`${base}/not-json`, {}, cb, fast);
  assert.equal(res.status, 200);
  await assert.rejects(res.json(), SyntaxError);
  const form = await resilientFetch(`${base}/not-a-form`, {}, cb, fast);
  await assert.rejects(form.formData(), TypeError);
  const s = cb.getStats();
  assert.deepEqual([s.state, s.failedCalls, s.successfulCalls, s.inFlight], ['CLOSED', 0, 2, 0]);
});

test('POST is not retried after a 500 (it may have been applied)', async () => {
  scripts.set('/charge', [500]);
  const res = await resilientFetch(`${base}/charge`, { method: 'POST', body: '{}' }, undefined, fast);
  assert.equal(res.status, 500);
  assert.equal(hits.get('/charge'), 1);
});

test('POST is retried after a 503 with Retry-After, and when asked to', async () => {
  scripts.set('/busy', [{ status: 503, headers: { 'retry-after': '0' } }]);
  assert.equal((await resilientFetch(`${base}/busy`, { method: 'POST' }, undefined, fast)).status, 200);
  scripts.set('/idem', [500]);
  assert.equal((await resilientFetch(`${base}/idem`, { method: 'POST' }, undefined, { ...fast, retryNonIdempotent: true })).status, 200);
});

test('connection refused is retried even for POST (nothing was sent), then thrown', async () => {
  const closed = createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const port = closed.address().port;
  await new Promise((r) => closed.close(r));
  let retries = 0;
  await assert.rejects(
    resilientFetch(`http://127.0.0.1:${port}/x`, { method: 'POST' }, undefined, { ...fast, maxAttempts: 3, onRetry: () => retries++ }),
    (e) => e instanceof TypeError || /fetch failed|ECONNREFUSED/.test(String(e?.message ?? e)),
  );
  assert.equal(retries, 2);
});

test('failures open the breaker, which then fails fast', async () => {
  const cb = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 60_000 });
  scripts.set('/flaky', [500, 500]);
  const res = await resilientFetch(`${base}/flaky`, {}, cb, { ...fast, maxAttempts: 2 });
  assert.equal(res.status, 500);
  assert.equal(cb.getState(), 'OPEN');
  const before = hits.get('/flaky');
  await assert.rejects(resilientFetch(`${base}/flaky`, {}, cb, fast), CircuitBreakerError);
  assert.equal(hits.get('/flaky'), before, 'no request while open');
});

test('an aborted signal cancels the request and a backoff sleep', async () => {
  scripts.set('/slow', ['hang', 'hang', 'hang']);
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('user cancelled')), 100);
  const t = performance.now();
  await assert.rejects(resilientFetch(`${base}/slow`, { signal: ac.signal }, undefined, { baseDelay: 10_000, maxDelay: 10_000, timeout: 60_000 }), /user cancelled/);
  assert.ok(performance.now() - t < 3000);
});

test("the caller's own abort is neither a success nor a failure of the breaker (issue 13)", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  hits.delete('/gone');
  for (let i = 0; i < 5; i++) {
    scripts.set('/gone', ['hang']);
    const ac = new AbortController();
    const pending = resilientFetch(`${base}/gone`, { signal: ac.signal }, breaker, { maxRetries: 2, timeout: 1000 });
    // The client goes away once its request reached the server.
    for (let spins = 0; hits.get('/gone') !== i + 1 && spins < 1000; spins++) await new Promise((r) => setTimeout(r, 1));
    ac.abort();
    await assert.rejects(pending, { name: 'AbortError' });
  }
  const s = breaker.getStats();
  assert.equal(s.state, 'CLOSED');
  assert.equal(s.failedCalls, 0);
  assert.equal(s.ignoredCalls, 5);
  assert.equal(s.inFlight, 0);
  assert.equal(hits.get('/gone'), 5, 'an aborted request is not retried');
});

// The core's outcome rules (core/src/outcome.rs) as resilientFetch meets them.

test('retry-after-ms is honoured before Retry-After (the delay the policy chose)', async () => {
  scripts.set('/ms', [{ status: 429, headers: { 'retry-after-ms': '40', 'retry-after': '30' } }]);
  const delays = [];
  const res = await resilientFetch(`${base}/ms`, {}, undefined, { ...fast, maxAttempts: 2, onRetry: (_a, _e, delay) => delays.push(delay) });
  assert.equal(res.status, 200);
  assert.deepEqual(delays, [40]);
});

test("the server's x-should-retry: false stops at once, true retries even a POST", async () => {
  scripts.set('/no', [{ status: 503, headers: { 'x-should-retry': 'false' } }]);
  const no = await resilientFetch(`${base}/no`, {}, undefined, { ...fast, maxAttempts: 3 });
  assert.equal(no.status, 503);
  assert.equal(hits.get('/no'), 1);
  scripts.set('/yes', [{ status: 500, headers: { 'x-should-retry': 'true' } }]);
  const yes = await resilientFetch(`${base}/yes`, { method: 'POST', body: 'x' }, undefined, { ...fast, maxAttempts: 3 });
  assert.equal(yes.status, 200);
  assert.equal(hits.get('/yes'), 2);
});

test('408 is retried, and a breaker does not count it', async () => {
  const cb = new CircuitBreaker({ failureThreshold: 1 });
  scripts.set('/408', [408]);
  const res = await resilientFetch(`${base}/408`, {}, cb, { ...fast, maxAttempts: 2 });
  assert.equal(res.status, 200);
  assert.equal(hits.get('/408'), 2);
  assert.equal(cb.getState(), 'CLOSED');
});
