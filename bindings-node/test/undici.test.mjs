// createResilientInterceptor in undici 7's Agent.compose, with undici's request and fetch and as
// the global dispatcher, against the provider-like 127.0.0.1 server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Agent, fetch as undiciFetch, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';
import { Bulkhead, CircuitBreaker, CircuitBreakerError, createResilientInterceptor, TimeoutError, withVirtualClock } from 'seawall';
import { startProviderServer } from './fixtures/provider-server.mjs';
import { seeded, storm } from './fixtures/storm.mjs';

const CHAT = '/v1/chat/completions';
let server;
before(async () => {
  server = await startProviderServer();
});
after(() => server.stop());

test('undici request: a 429 waits its retry-after-ms, the retried response never reaches the caller', async () => {
  server.script(CHAT, { status: 429, headers: { 'retry-after-ms': '30' } }, 'ok');
  const waits = [];
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const agent = new Agent().compose(createResilientInterceptor({ bulkhead, maxAttempts: 3, onRetry: (_a, _e, d) => waits.push(d) }));
  const { statusCode, body } = await request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent });
  const json = await body.json();
  assert.deepEqual([statusCode, json.choices[0].message.content, server.hits.get(CHAT), waits, bulkhead.getMetrics().active], [200, 'hello', 2, [30], 0]);
  await agent.close();
});

test('undici fetch through the interceptor, a streamed answer, and 503s opening the breaker', async () => {
  server.script(CHAT, 'stream', 503, 503, 'ok');
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const agent = new Agent().compose(createResilientInterceptor({ circuitBreaker: breaker, maxAttempts: 1 }));
  const streamed = await undiciFetch(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent });
  assert.match(await streamed.text(), /data: \[DONE\]/);
  for (let i = 0; i < 2; i++) {
    const r = await undiciFetch(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent });
    assert.equal(r.status, 503);
    await r.text();
  }
  const refused = await undiciFetch(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent }).catch((e) => e);
  assert.ok(refused.cause instanceof CircuitBreakerError, String(refused.cause ?? refused));
  assert.deepEqual([server.hits.get(CHAT), breaker.getState()], [3, 'OPEN']);
  await agent.close();
});

test('a streamed answer holds its bulkhead slot and the breaker’s verdict until its body ends; one cut mid-body is one failure, its slot back', async () => {
  server.script(CHAT, 'held', 'drop');
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  const agent = new Agent().compose(createResilientInterceptor({ bulkhead, circuitBreaker: breaker, maxAttempts: 3, baseDelay: 1 }));
  const { body } = await request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent });
  // Its first events are in; the rest waits on the server.
  assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().inFlight], [1, 1]);
  const text = body.text();
  server.release();
  assert.match(await text, /data: \[DONE\]/);
  assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().inFlight, breaker.getStats().successfulCalls], [0, 0, 1]);
  const cut = await request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent });
  await assert.rejects(cut.body.text());
  const s = breaker.getStats();
  assert.deepEqual([server.hits.get(CHAT), bulkhead.getMetrics().active, s.inFlight, s.failedCalls, s.successfulCalls], [2, 0, 0, 1, 1]);
  await agent.close();
});

/** Lets I/O run until `done()` holds (a bounded number of turns of the event loop). */
async function until(done) {
  for (let i = 0; i < 10_000 && !done(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(done(), 'never came to pass');
}

test('a first attempt runs inline: cut by its timeout and retried, the next request queued for its slot meanwhile; refused by an open breaker without a request; a caller’s abort before the headers counts neither way — every slot and permit back', { timeout: 30_000 }, async () => {
  await withVirtualClock(async (clock) => {
    server.script(CHAT, 'hang', 'ok');
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueueSize: 5 });
    const breaker = new CircuitBreaker({ failureThreshold: 5 });
    const retried = [];
    const agent = new Agent().compose(createResilientInterceptor({ bulkhead, circuitBreaker: breaker, maxAttempts: 2, baseDelay: 1, jitter: false, timeout: 1000, retryNonIdempotent: true, onRetry: (_a, e) => retried.push(e) }));
    const send = (signal) => request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent, signal });
    const first = send();
    await until(() => server.hits.get(CHAT) === 1);
    const second = send();
    await until(() => bulkhead.getMetrics().queued === 1);
    // The first attempt's deadline: cut, its slot to the queued request, then retried.
    await clock.advance(1000);
    const answers = await Promise.all([first, second]);
    for (const a of answers) await a.body.text();
    assert.deepEqual(answers.map((a) => a.statusCode), [200, 200]);
    assert.ok(retried.length === 1 && retried[0] instanceof TimeoutError, String(retried[0]));
    let s = breaker.getStats();
    assert.deepEqual([server.hits.get(CHAT), s.failedCalls, s.successfulCalls, s.inFlight, bulkhead.getMetrics().active], [3, 1, 2, 0, 0]);

    breaker.forceOpen();
    await assert.rejects(send(), (e) => e instanceof CircuitBreakerError);
    assert.deepEqual([server.hits.get(CHAT), bulkhead.getMetrics().active], [3, 0]);
    breaker.reset();

    server.script(CHAT, 'hang');
    const caller = new AbortController();
    const left = send(caller.signal);
    await until(() => server.hits.get(CHAT) === 1);
    caller.abort(new Error('caller left'));
    await assert.rejects(left, /caller left/);
    s = breaker.getStats();
    assert.deepEqual([s.failedCalls, s.inFlight, bulkhead.getMetrics().active], [0, 0, 0]);
    server.release();
    await agent.close();
  });
});

test('as the global dispatcher: every undici call goes through the policies, a streamed body once; a caller’s abort ends it', async () => {
  const previous = getGlobalDispatcher();
  const agent = new Agent().compose(createResilientInterceptor({ maxAttempts: 3, baseDelay: 1, retryNonIdempotent: true }));
  setGlobalDispatcher(agent);
  try {
    server.script(CHAT, 502, 'ok');
    const r = await undiciFetch(`${server.base}${CHAT}`);
    assert.deepEqual([r.status, server.hits.get(CHAT)], [200, 2]);
    await r.text();
    // undici's fetch hands a body to the dispatcher as a stream: such a request is sent once.
    server.script(CHAT, 502, 'ok');
    const once = await undiciFetch(`${server.base}${CHAT}`, { method: 'POST', body: '{}' });
    assert.deepEqual([once.status, server.hits.get(CHAT)], [502, 1]);
    await once.text();
    const aborted = new AbortController();
    aborted.abort(new Error('caller left'));
    await assert.rejects(request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', signal: aborted.signal }));
  } finally {
    setGlobalDispatcher(previous);
    await agent.close();
  }
});

test('a caller’s abort during a backoff ends the call at once: no more attempts, the breaker counts only the real failure, the caller’s signal keeps no listener', async () => {
  const { getEventListeners } = await import('node:events');
  server.script(CHAT, { status: 503, headers: { 'retry-after-ms': '60000' } }, 'ok');
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  const caller = new AbortController();
  const reason = new Error('caller left');
  // Aborted as the retry is scheduled: the call is then asleep for a minute, unless the abort reaches the sleep.
  const agent = new Agent().compose(createResilientInterceptor({ circuitBreaker: breaker, maxAttempts: 3, maxRetryAfter: 120_000, onRetry: () => caller.abort(reason) }));
  const failed = await request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent, signal: caller.signal }).catch((e) => e);
  assert.equal(failed, reason);
  const stats = breaker.getStats();
  assert.deepEqual([server.hits.get(CHAT), stats.failedCalls, stats.successfulCalls, stats.totalCalls], [1, 1, 0, 1]);
  // A long-lived signal (a shutdown signal) given to every request must not collect a listener per request.
  const shutdown = new AbortController();
  server.script(CHAT, 'ok', 'ok', 'ok');
  for (let i = 0; i < 3; i++) await (await request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent, signal: shutdown.signal })).body.text();
  assert.ok(getEventListeners(shutdown.signal, 'abort').length <= 1, `${getEventListeners(shutdown.signal, 'abort').length} listeners left`);
  await agent.close();
});

test('a guard of the user’s gets a real AbortSignal (the policies’ lighter signal stays inside seawall)', async () => {
  server.script(CHAT, 'ok');
  const seen = [];
  const guard = { execute: (fn, signal) => (seen.push(signal instanceof AbortSignal && !signal.aborted), fn(signal)) };
  const agent = new Agent().compose(createResilientInterceptor({ bulkhead: guard, rateLimiter: guard, maxAttempts: 1 }));
  const { statusCode, body } = await request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent });
  await body.text();
  assert.deepEqual([statusCode, seen], [200, [true, true]]);
  await agent.close();
});

test('a storm of 10,000 requests through the interceptor — aborted by the caller at random, streams abandoned mid-way, bodies read — gives every slot and permit back', async () => {
  const random = seeded(11);
  server.script(CHAT, ...Array.from({ length: 12_000 }, () => (random() < 0.5 ? 'stream' : random() < 0.1 ? 503 : 'ok')));
  const breaker = new CircuitBreaker({ failureThreshold: 1_000_000 });
  const bulkhead = new Bulkhead({ maxConcurrent: 32, maxQueueSize: 10_000 });
  const agent = new Agent().compose(createResilientInterceptor({ circuitBreaker: breaker, bulkhead, maxAttempts: 2, baseDelay: 1 }));
  const outcomes = await storm({
    total: 10_000,
    batch: 500,
    seed: 12,
    send: (signal) => request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: agent, signal }),
    read: ({ body }) => body.text(),
    // Abandoned after its first chunk, as a caller breaking out of a stream does.
    abandon: async ({ body }) => {
      for await (const _ of body) break;
    },
  });
  assert.ok(outcomes.aborted > 500 && outcomes.abandoned > 1000 && outcomes.read > 1000 && outcomes.failed === 0, JSON.stringify(outcomes));
  const m = bulkhead.getMetrics();
  assert.deepEqual([m.active, m.queued, breaker.getStats().inFlight, breaker.getState()], [0, 0, 0, 'CLOSED']);
  // Every request has ended: nothing holds a connection.
  await agent.close();
});
