// createResilientAxiosAdapter around axios's own http adapter, against the provider-like
// 127.0.0.1 server: the core's rules for statuses axios would reject, axios's own errors kept.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import axios from 'axios';
import { CircuitBreaker, CircuitBreakerError, createResilientAxiosAdapter } from 'seawall';
import { startProviderServer } from './fixtures/provider-server.mjs';
import { seeded, storm } from './fixtures/storm.mjs';

const CHAT = '/v1/chat/completions';
let server;
before(async () => {
  server = await startProviderServer();
});
after(() => server.stop());

const client = (options) => axios.create({ baseURL: server.base, adapter: createResilientAxiosAdapter(axios.getAdapter('http'), options) });

test('axios: a 429 waits its retry-after-ms; a 404 is axios’s own error, neither retried nor counted', async () => {
  server.script(CHAT, { status: 429, headers: { 'retry-after-ms': '30' } }, 'ok');
  const waits = [];
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const http = client({ circuitBreaker: breaker, maxAttempts: 3, onRetry: (_a, _e, delay) => waits.push(delay) });
  const r = await http.post(CHAT, { model: 'm' });
  assert.deepEqual([r.status, r.data.choices[0].message.content, server.hits.get(CHAT), waits], [200, 'hello', 2, [30]]);
  server.script(CHAT, 404);
  const missing = await http.post(CHAT, {}).catch((e) => e);
  assert.ok(axios.isAxiosError(missing) && missing.response.status === 404, String(missing));
  // The 429 counted one failure, the 200 after it a success; the 404 counts neither way.
  const stats = breaker.getStats();
  assert.deepEqual([server.hits.get(CHAT), stats.failedCalls, stats.successfulCalls, breaker.getState()], [1, 1, 1, 'CLOSED']);
});

test('axios: 503s open the breaker; then requests fail fast with CircuitBreakerError', async () => {
  server.script(CHAT, 503, 503, 'ok');
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const http = client({ circuitBreaker: breaker, maxAttempts: 1 });
  for (let i = 0; i < 2; i++) {
    const e = await http.post(CHAT, {}).catch((err) => err);
    assert.equal(e.response?.status, 503);
  }
  await assert.rejects(http.post(CHAT, {}), CircuitBreakerError);
  assert.deepEqual([server.hits.get(CHAT), breaker.getState()], [2, 'OPEN']);
  assert.throws(() => createResilientAxiosAdapter(undefined), (e) => e instanceof TypeError && e.code === 'INVALID_OPTION');
});

test('axios: a streamed response (responseType stream) holds its bulkhead slot and the breaker’s verdict until it ends; one cut mid-stream is one failure, its slot back', async () => {
  const { Bulkhead } = await import('seawall');
  server.script(CHAT, 'stream', 'drop');
  const bulkhead = new Bulkhead({ maxConcurrent: 2 });
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  const http = client({ bulkhead, circuitBreaker: breaker, maxAttempts: 3, baseDelay: 1 });
  const read = (stream) =>
    new Promise((resolve, reject) => {
      let text = '';
      stream.on('data', (c) => (text += c));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    });
  const r = await http.post(CHAT, {}, { responseType: 'stream' });
  assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().inFlight], [1, 1]);
  assert.match(await read(r.data), /data: \[DONE\]/);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([bulkhead.getMetrics().active, breaker.getStats().inFlight, breaker.getStats().successfulCalls], [0, 0, 1]);
  const cut = await http.post(CHAT, {}, { responseType: 'stream' });
  await assert.rejects(read(cut.data));
  await new Promise((resolve) => setImmediate(resolve));
  const s = breaker.getStats();
  assert.deepEqual([server.hits.get(CHAT), bulkhead.getMetrics().active, s.inFlight, s.failedCalls, s.successfulCalls], [2, 0, 0, 1, 1]);
});

test('axios: a storm of 5,000 requests — aborted by the caller at random, streams destroyed mid-way, bodies read — gives every slot and permit back', async () => {
  const { Bulkhead } = await import('seawall');
  const random = seeded(5);
  server.script(CHAT, ...Array.from({ length: 6_000 }, () => (random() < 0.5 ? 'stream' : random() < 0.1 ? 503 : 'ok')));
  const breaker = new CircuitBreaker({ failureThreshold: 1_000_000 });
  const bulkhead = new Bulkhead({ maxConcurrent: 32, maxQueueSize: 10_000 });
  const http = client({ circuitBreaker: breaker, bulkhead, maxAttempts: 2, baseDelay: 1 });
  const outcomes = await storm({
    total: 5_000,
    batch: 250,
    seed: 6,
    send: (signal) => http.post(CHAT, {}, { responseType: 'stream', signal }),
    read: async (r) => {
      for await (const _ of r.data);
    },
    // Destroyed after its first chunk, as a caller breaking out of a stream does.
    abandon: async (r) => {
      for await (const _ of r.data) break;
    },
  });
  await new Promise((resolve) => setImmediate(resolve));
  // Failed: axios's own rejection of a 503 both attempts were answered.
  assert.ok(outcomes.aborted > 250 && outcomes.abandoned > 500 && outcomes.read > 500 && outcomes.failed <= 300, JSON.stringify(outcomes));
  const m = bulkhead.getMetrics();
  assert.deepEqual([m.active, m.queued, breaker.getStats().inFlight, breaker.getState()], [0, 0, 0, 'CLOSED']);
});
