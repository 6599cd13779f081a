// createResilientFetch inside the SDKs people use: openai 6 and @anthropic-ai/sdk 1 given it as
// their `fetch`, against a 127.0.0.1 server answering as the providers do; and fetch's own
// contract (Request objects, streamed bodies, the caller's signal).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Bulkhead, CircuitBreaker, CircuitBreakerError, createResilientFetch, RateLimiter, useRealClock, useVirtualClock } from 'seawall';
import { startProviderServer } from './fixtures/provider-server.mjs';
import { storm } from './fixtures/storm.mjs';

const CHAT = '/v1/chat/completions';
const MESSAGES = '/v1/messages';
const ASK = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] };
const ASK_CLAUDE = { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

let server;
before(async () => {
  server = await startProviderServer();
});
after(() => server.stop());

// The SDK's own retries off: the policies decide.
const openai = (fetch) => new OpenAI({ baseURL: `${server.base}/v1`, apiKey: 'test', maxRetries: 0, fetch });

test('openai: a 429 with retry-after-ms is retried after the server’s 50 ms, not its Retry-After second', async () => {
  server.script(CHAT, { status: 429, headers: { 'retry-after-ms': '50', 'retry-after': '1' } }, 'ok');
  const waits = [];
  const client = openai(createResilientFetch({ maxAttempts: 3, baseDelay: 1000, onRetry: (_a, _e, delay) => waits.push(delay) }));
  const completion = await client.chat.completions.create(ASK);
  assert.equal(completion.choices[0].message.content, 'hello');
  assert.deepEqual([server.hits.get(CHAT), waits], [2, [50]]);
});

test('openai: 503s open the breaker, and later calls fail fast without reaching the server', async () => {
  server.script(CHAT, 503, 503, 'ok');
  const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 30_000 });
  const client = openai(createResilientFetch({ circuitBreaker: breaker, maxAttempts: 1 }));
  for (let i = 0; i < 2; i++) await assert.rejects(client.chat.completions.create(ASK), OpenAI.InternalServerError);
  // openai wraps what its fetch throws in APIConnectionError, the breaker's refusal as its cause.
  const refused = await client.chat.completions.create(ASK).catch((e) => e);
  assert.ok(refused instanceof OpenAI.APIConnectionError, String(refused));
  assert.ok(refused.cause instanceof CircuitBreakerError, String(refused.cause));
  assert.deepEqual([server.hits.get(CHAT), breaker.getState()], [2, 'OPEN']);
});

test('openai: a streamed completion through a bulkhead and a rate limiter', async () => {
  server.script(CHAT, 'stream');
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const limiter = new RateLimiter({ limit: 100, per: 1000, maxWait: 1000 });
  const client = openai(createResilientFetch({ bulkhead, rateLimiter: limiter }));
  const stream = await client.chat.completions.create({ ...ASK, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'hello');
  assert.deepEqual([bulkhead.getMetrics().active, limiter.getStats().admitted], [0, 1]);
});

test('openai: a streamed completion holds its bulkhead slot and the breaker’s verdict until it ends; one cut mid-stream is one failure, not retried, its slot back', async () => {
  server.script(CHAT, 'stream', 'drop');
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  const client = openai(createResilientFetch({ bulkhead, circuitBreaker: breaker, maxAttempts: 3, baseDelay: 1 }));
  const stream = await client.chat.completions.create({ ...ASK, stream: true });
  const chunks = stream[Symbol.asyncIterator]();
  await chunks.next();
  assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().inFlight, breaker.getStats().successfulCalls], [1, 1, 0]);
  for (let c = await chunks.next(); !c.done; c = await chunks.next());
  assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().inFlight, breaker.getStats().successfulCalls], [0, 0, 1]);
  const cut = await client.chat.completions.create({ ...ASK, stream: true });
  await assert.rejects(async () => {
    for await (const _ of cut);
  });
  const s = breaker.getStats();
  assert.deepEqual([server.hits.get(CHAT), bulkhead.getMetrics().active, s.inFlight, s.failedCalls, s.successfulCalls], [2, 0, 0, 1, 1]);
});

/** Collects until `bulkhead` has at most `until` slots taken, in bounded rounds (the collector
 * runs a registry's callbacks within a few). */
async function collectUntil(bulkhead, until) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  for (let i = 0; i < 100 && bulkhead.getMetrics().active > until; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a response dropped unread gives its slot back when it is collected', async () => {
  server.script(CHAT);
  const bulkhead = new Bulkhead({ maxConcurrent: 1 });
  const fetch = createResilientFetch({ bulkhead });
  await fetch(`${server.base}${CHAT}`, { method: 'POST', body: '{}' });
  assert.equal(bulkhead.getMetrics().active, 1);
  await collectUntil(bulkhead, 0);
  assert.equal(bulkhead.getMetrics().active, 0);
});

test('a burst of responses dropped unread, more than are registered at once, gives every slot back', async () => {
  // The clock stands still: responses are registered for collection only in full batches until
  // it moves on (to the sweep's next round).
  const time = useVirtualClock({ autoAdvance: false });
  try {
    const bulkhead = new Bulkhead({ maxConcurrent: 700 });
    const breaker = new CircuitBreaker({ failureThreshold: 1000 });
    const fetch = createResilientFetch({ bulkhead, circuitBreaker: breaker });
    const responses = await Promise.all(Array.from({ length: 600 }, () => fetch(`${server.base}/models`)));
    responses.length = 0;
    assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().successfulCalls], [600, 0]);
    // The two full batches of 256, then the rest once the clock moves.
    await collectUntil(bulkhead, 600 - 512);
    assert.equal(bulkhead.getMetrics().active, 600 - 512);
    await time.advance(1000);
    await collectUntil(bulkhead, 0);
    assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().inFlight, breaker.getStats().successfulCalls], [0, 0, 600]);
  } finally {
    useRealClock();
  }
});

test('a response dropped unread after a virtual clock was put back still gives its slot back', async () => {
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const fetch = createResilientFetch({ bulkhead });
  useVirtualClock({ autoAdvance: false });
  // Read at once, but its sweep was armed on a clock that will never move again.
  await (await fetch(`${server.base}/models`)).text();
  useRealClock();
  await fetch(`${server.base}/models`);
  assert.equal(bulkhead.getMetrics().active, 1);
  await collectUntil(bulkhead, 0);
  assert.equal(bulkhead.getMetrics().active, 0);
});

test('anthropic: an overloaded 529 the server says to retry waits its retry-after-ms', async () => {
  server.script(MESSAGES, { status: 529, headers: { 'retry-after-ms': '20', 'x-should-retry': 'true' } }, 'ok');
  const waits = [];
  const breaker = new CircuitBreaker({ failureThreshold: 3 });
  const client = new Anthropic({
    baseURL: server.base,
    apiKey: 'test',
    maxRetries: 0,
    fetch: createResilientFetch({ circuitBreaker: breaker, maxAttempts: 3, onRetry: (_a, _e, delay) => waits.push(delay) }),
  });
  const message = await client.messages.create(ASK_CLAUDE);
  assert.equal(message.content[0].text, 'hello');
  assert.deepEqual([server.hits.get(MESSAGES), waits, breaker.getStats().failedCalls], [2, [20], 1]);
});

test('fetch’s contract: a Request is sent anew each attempt, a streamed body once, and the caller’s signal ends it', async () => {
  const fetch = createResilientFetch({ baseDelay: 1, retryNonIdempotent: true });
  server.script(CHAT, 502, 'ok');
  const res = await fetch(new Request(`${server.base}${CHAT}`, { method: 'POST', body: JSON.stringify(ASK), headers: { 'content-type': 'application/json' } }));
  assert.deepEqual([res.status, server.hits.get(CHAT)], [200, 2]);
  server.script(CHAT, 502, 'ok');
  const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('{}')), c.close()) });
  const once = await fetch(`${server.base}${CHAT}`, { method: 'POST', body, duplex: 'half' });
  assert.deepEqual([once.status, server.hits.get(CHAT)], [502, 1]);
  const controller = new AbortController();
  controller.abort(new Error('caller left'));
  await assert.rejects(fetch(`${server.base}${CHAT}`, { method: 'POST', signal: controller.signal }), /caller left|abort/i);
  // Options are checked when the fetch is made.
  assert.throws(() => createResilientFetch({ maxAttempts: 0 }), (e) => e instanceof RangeError && e.code === 'INVALID_OPTION');
});

test('a storm of 10,000 requests, cancelled at random, left unread or abandoned mid-stream, gives every slot and permit back', async () => {
  server.script(CHAT);
  const breaker = new CircuitBreaker({ failureThreshold: 1_000_000 });
  const bulkhead = new Bulkhead({ maxConcurrent: 32, maxQueueSize: 10_000 });
  const fetch = createResilientFetch({ circuitBreaker: breaker, bulkhead, maxAttempts: 2 });
  const outcomes = await storm({
    total: 10_000,
    batch: 500,
    seed: 7,
    send: (signal) => fetch(`${server.base}${CHAT}`, { method: 'POST', body: '{}', signal }),
    read: (r) => r.text(),
    // Its body cancelled unread, as a caller dropping a response does, or after its first chunk.
    abandon: async (r, random) => {
      const reader = r.body.getReader();
      if (random() < 0.3) await reader.read();
      await reader.cancel();
    },
    readShare: 0.5,
  });
  assert.ok(outcomes.aborted > 500 && outcomes.abandoned > 1000 && outcomes.failed <= 100, JSON.stringify(outcomes));
  const m = bulkhead.getMetrics();
  assert.deepEqual([m.active, m.queued, breaker.getStats().inFlight, breaker.getState()], [0, 0, 0, 'CLOSED']);
});

test('ky given createResilientFetch as its fetch (its own retries off)', async () => {
  const { default: ky } = await import('ky');
  server.script(CHAT, { status: 503, headers: { 'retry-after-ms': '10' } }, 'ok');
  const waits = [];
  const api = ky.create({ prefix: server.base, retry: 0, fetch: createResilientFetch({ maxAttempts: 3, onRetry: (_a, _e, delay) => waits.push(delay) }) });
  const completion = await api.post(CHAT.slice(1), { json: { model: 'm' } }).json();
  assert.deepEqual([completion.choices[0].message.content, server.hits.get(CHAT), waits], ['hello', 2, [10]]);
});
