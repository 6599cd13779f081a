// Chaos against real sockets: resilientFetch (breaker + retry + per-attempt timeout) against a
// server on 127.0.0.1 that misbehaves at random with a fixed seed — resets mid-body, never
// answers, answers byte by byte, closes after the headers, sends an invalid status line,
// Retry-After garbage, huge headers, 429/503 (one with a body bigger than the socket buffers). Every request must end, with a response or a
// typed error; afterwards no socket stays open (each response says `Connection: close`, so a
// socket still open is a body nobody consumed or cancelled), no permit is held, and no
// unhandled rejection happened.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';

import { CircuitBreaker, CircuitBreakerError, resilientFetch, TimeoutError } from 'seawall';
import { seededRandom as rng } from '../../bench/node/rng.mjs';

const REQUESTS = Number(process.env.SEAWALL_CHAOS_REQUESTS ?? 10_000);


const BEHAVIOURS = [
  ['ok', 40],
  ['reset-mid-body', 8],
  ['never-answers', 3],
  ['byte-by-byte', 6],
  ['close-after-headers', 8],
  ['invalid-status-line', 8],
  ['retry-after-garbage', 8],
  ['huge-headers', 5],
  ['status-503', 7],
  ['status-429', 7],
  ['status-503-big-body', 4],
  ['headers-drip-forever', 2],
];

/** A raw TCP server speaking just enough HTTP/1.1, misbehaving as `pick()` says. */
async function chaosServer(seed) {
  const random = rng(seed);
  const total = BEHAVIOURS.reduce((k, [, w]) => k + w, 0);
  const pick = () => {
    let x = random() * total;
    for (const [name, w] of BEHAVIOURS) if ((x -= w) < 0) return name;
    return 'ok';
  };
  const open = new Set();
  const served = new Map();
  const timers = new Set();
  const later = (ms, fn) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const head = (status, extra = '', length = 2) => `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: ${length}\r\n${extra}\r\n`;
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      if (!buffered.includes('\r\n\r\n')) return;
      buffered = '';
      const how = pick();
      socket.how = how;
      served.set(how, (served.get(how) ?? 0) + 1);
      switch (how) {
        case 'ok':
          return socket.end(head('200 OK') + 'ok');
        case 'reset-mid-body':
          socket.write(head('200 OK', '', 1000) + 'partial');
          return later(1, () => socket.resetAndDestroy());
        case 'never-answers':
          return; // the client's timeout must end it
        case 'byte-by-byte': {
          const text = head('200 OK') + 'ok';
          let i = 0;
          const next = () => {
            if (socket.destroyed) return;
            if (i === text.length) return socket.end();
            socket.write(text[i++]);
            later(2, next);
          };
          return next();
        }
        case 'headers-drip-forever': {
          // A header line every 20 ms, never the end of the headers: no single read waits
          // long, so only a deadline for the whole attempt ends it.
          socket.write('HTTP/1.1 200 OK\r\n');
          const drip = () => {
            if (socket.destroyed) return;
            socket.write('x-drip: a\r\n');
            later(20, drip);
          };
          return drip();
        }
        case 'close-after-headers':
          return socket.end(head('200 OK', '', 100));
        case 'invalid-status-line':
          return socket.end('HTTP/1.1 two hundred\r\n\r\n');
        case 'retry-after-garbage': {
          const garbage = ['soon', '-1', '1e9', 'Wed, 99 Foo 2026 99:99:99 GMT', '\u00ff\u00fe', '99999999999999999999'][Math.floor(random() * 6)];
          return socket.end(head('503 Service Unavailable', `retry-after: ${garbage}\r\n`) + 'no');
        }
        case 'huge-headers':
          return socket.end(head('200 OK', `x-huge: ${'a'.repeat(128 * 1024)}\r\n`) + 'ok');
        case 'status-503':
          return socket.end(head('503 Service Unavailable', 'retry-after: 0\r\n') + 'no');
        case 'status-503-big-body': {
          // More than the socket buffers hold: the server finishes only if the client reads or
          // cancels the body.
          const body = 'x'.repeat(4 * 1024 * 1024);
          return socket.end(head('503 Service Unavailable', 'retry-after: 0\r\n', body.length) + body);
        }
        case 'status-429':
          return socket.end(head('429 Too Many Requests', 'retry-after: 0\r\n') + 'no');
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    open,
    served,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test(`${REQUESTS} requests against a misbehaving server all end, typed, leaving no socket or permit behind`, { timeout: 300_000 }, async () => {
  const unhandled = [];
  const onUnhandled = (e) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  const server = await chaosServer(20261201);
  const breaker = new CircuitBreaker('chaos', { failureRateThreshold: 0.4, volumeThreshold: 20, windowSize: 50, resetTimeout: 20, halfOpenMaxCalls: 3 });
  const options = { maxAttempts: 3, baseDelay: 1, maxDelay: 5, timeout: 150 };
  // Each request's own bound: its attempts' timeouts, its backoff, and the slow server's bytes.
  const deadlineMs = options.maxAttempts * (options.timeout + options.maxDelay) + 2_000;
  const outcomes = new Map();
  const late = [];
  let next = 0;
  const count = (k) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  try {
    const lane = async () => {
      while (next < REQUESTS) {
        next++;
        const started = performance.now();
        try {
          const res = await resilientFetch(server.url, {}, breaker, options);
          // A user reads what they are given; a body cut short is an error like any other.
          await res.text().then(() => count(`status ${res.status}`), (e) => count(`body ${e.name}`));
        } catch (e) {
          if (e instanceof CircuitBreakerError) {
            count('breaker open');
            // A polite client waits as told before trying again (not in a spin).
            await new Promise((r) => setTimeout(r, Math.min(e.retryAfter ?? 5, 50)));
          }
          else if (e instanceof TimeoutError) count('timeout');
          else if (e instanceof TypeError && e.message === 'fetch failed') count(`fetch failed: ${e.cause?.code ?? e.cause?.name}`);
          else count(`untyped: ${e?.name}: ${e?.message}`);
        }
        if (performance.now() - started > deadlineMs) late.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: 32 }, lane));
    // With `Connection: close` on every response, a socket still open after a request is one
    // nobody released. (Connections the pool opened and never used close after its 4 s idle
    // timeout: waited for too, up to 6 s.)
    for (let i = 0; i < 600 && server.open.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const summary = JSON.stringify({ outcomes: Object.fromEntries(outcomes), served: Object.fromEntries(server.served) });
    assert.equal([...outcomes.values()].reduce((a, b) => a + b, 0), REQUESTS, summary);
    assert.deepEqual([...outcomes.keys()].filter((k) => k.startsWith('untyped')), [], summary);
    assert.deepEqual(late, [], `requests past their deadline of ${deadlineMs} ms: ${summary}`);
    assert.equal(server.open.size, 0, `sockets left open (${[...server.open].map((s) => s.how ?? 'no request')}): ${summary}`);
    const st = breaker.getStats();
    assert.equal(st.inFlight + st.halfOpenInFlight, 0, summary);
    assert.deepEqual(unhandled, []);
    for (const [how] of BEHAVIOURS) assert.ok(server.served.get(how) > 0, `${how} never served: ${summary}`);
    console.log(`chaos: ${summary}`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await server.close();
  }
});
