// OpenTelemetry through the real SDKs: a scripted run on the virtual clock read back from
// @opentelemetry/sdk-metrics and sdk-trace-base, against the expectation Python's run is checked
// against too (tests/telemetry/otel.json); HTTP attempts as CLIENT spans whose context the
// server receives, under Fastify's request span; the OTLP/HTTP exporters' bytes decoded by a
// 127.0.0.1 receiver; and what instrument() refuses. With SEAWALL_BLESS=1 and no expectation
// yet, the run writes it.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  Bulkhead,
  CircuitBreaker,
  createResilientFetch,
  instrument,
  rateLimiter,
  resilientFetch,
  useRealClock,
  useVirtualClock,
  withBackoff,
} from 'seawall';
import { startProviderServer } from './fixtures/provider-server.mjs';
import { POLICIES, scriptedRun } from './fixtures/scripted-run.mjs';

const expected = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'tests', 'telemetry', 'otel.json');

api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());

function providers() {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  const spans = new InMemorySpanExporter();
  return {
    meterProvider: new MeterProvider({ readers: [reader] }),
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    async metrics() {
      await reader.forceFlush();
      return metrics.getMetrics();
    },
    spans,
  };
}

const round = (x) => Math.round(x * 1e9) / 1e9;
const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
const byJson = (a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

/** The metrics as the shared expectation holds them: per instrument its unit and points
 * (attributes; a number, or a histogram's count and sum); only `policies`' when given. */
function normalMetrics(resourceMetrics, policies) {
  const out = [];
  for (const rm of resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const points = m.dataPoints.filter((p) => policies === undefined || policies.has(p.attributes['seawall.policy.name'])).map((p) => ({
          attributes: sorted(p.attributes),
          value: typeof p.value === 'number' ? round(p.value) : { count: p.value.count, sum: round(p.value.sum) },
        }));
        out.push({ name: m.descriptor.name, unit: m.descriptor.unit, points: points.sort(byJson) });
      }
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Spans as the shared expectations hold them: name, kind, parent's name and `more(span)`. */
function tree(finished, more) {
  const names = new Map(finished.map((s) => [s.spanContext().spanId, s.name]));
  return finished
    .map((s) => ({ name: s.name, kind: s.kind === api.SpanKind.CLIENT ? 'client' : 'internal', parent: names.get(s.parentSpanContext?.spanId) ?? null, ...more(s) }))
    .sort(byJson);
}

/** The scripted run's spans: attributes and events too (an exception's by name only: its stack
 * is the language's). */
const normalSpans = (finished) =>
  tree(finished, (s) => ({
    attributes: sorted(s.attributes),
    events: s.events.map((e) => (e.name === 'exception' ? ['exception'] : [e.name, sorted(e.attributes ?? {})])),
  }));

let stop = () => {};
afterEach(() => {
  stop();
  useRealClock();
});

test('the scripted run: the same instruments, points and spans as Python reports', async () => {
  const p = providers();
  stop = instrument({ meterProvider: p.meterProvider, tracerProvider: p.tracerProvider });
  await scriptedRun(useVirtualClock({ autoAdvance: true }));
  const got = { metrics: normalMetrics(await p.metrics(), POLICIES), spans: normalSpans(p.spans.getFinishedSpans()) };
  if (!existsSync(expected) && process.env.SEAWALL_BLESS === '1') writeFileSync(expected, `${JSON.stringify(got, null, 2)}\n`);
  assert.deepEqual(got, JSON.parse(readFileSync(expected, 'utf8')));
});

test('stopped, nothing more is recorded and calls take their plain path', async () => {
  const p = providers();
  stop = instrument({ meterProvider: p.meterProvider, tracerProvider: p.tracerProvider });
  const breaker = new CircuitBreaker({ failureThreshold: 5 });
  await breaker.execute(async () => 1);
  stop();
  await breaker.execute(async () => 2);
  await withBackoff(async () => 3, { maxAttempts: 2 });
  const calls = normalMetrics(await p.metrics()).find((m) => m.name === 'seawall.calls');
  assert.deepEqual(calls.points.map((pt) => pt.value), [1]);
  assert.equal(p.spans.getFinishedSpans().length, 1);
});

test('on the real clock a call’s and its attempts’ durations are read finely (the host clock the engine reads ticks in steps of 1–4 ms)', async () => {
  const p = providers();
  stop = instrument({ meterProvider: p.meterProvider, tracerProvider: p.tracerProvider });
  const ended = [];
  const listener = (m) => ended.push(m.durationMs);
  subscribe('seawall:call:ended', listener);
  subscribe('seawall:attempt:ended', listener);
  try {
    const breaker = new CircuitBreaker({ name: 'fine' });
    for (let i = 0; i < 20; i++) {
      await breaker.execute(async () => 1);
      await withBackoff(async () => 2, { maxAttempts: 2, name: 'fine-retry' });
    }
  } finally {
    unsubscribe('seawall:call:ended', listener);
    unsubscribe('seawall:attempt:ended', listener);
  }
  // Read off the coarse clock, nearly every one of these quick calls lasted exactly 0 ms.
  assert.equal(ended.length, 60);
  assert.ok(ended.every((d) => d > 0), JSON.stringify(ended));
});

test('the global providers by default: the API alone records nothing; spans once an SDK registers, metrics from an SDK registered first', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  const plain = CircuitBreaker.prototype.execute;
  stop = instrument();
  // The API alone: the policies keep their plain methods.
  assert.equal(CircuitBreaker.prototype.execute, plain);
  assert.equal(await withBackoff(async () => 'ok', { maxAttempts: 2 }), 'ok');
  const p = providers();
  try {
    // The API's tracer provider hands over to an SDK registered later: seen within a second,
    // without instrumenting again.
    api.trace.setGlobalTracerProvider(p.tracerProvider);
    await clock.advance(1000);
    assert.notEqual(CircuitBreaker.prototype.execute, plain);
    await new CircuitBreaker('global-one').execute(async () => 1);
    assert.deepEqual(p.spans.getFinishedSpans().map((s) => s.name), ['breaker global-one']);
    // Its meter provider does not (a meter read before the SDK stays the no-op one).
    api.metrics.setGlobalMeterProvider(p.meterProvider);
    assert.equal((await p.metrics()).flatMap((r) => r.scopeMetrics).length, 0);
    stop = instrument();
    await new CircuitBreaker('global-two').execute(async () => 1);
    const calls = normalMetrics(await p.metrics()).find((m) => m.name === 'seawall.calls');
    assert.deepEqual(calls.points.map((pt) => pt.attributes['seawall.policy.name']), ['global-two']);
  } finally {
    api.metrics.disable();
    api.trace.disable();
  }
});

test('bad options are refused with a typed error naming the option', () => {
  for (const [options, option] of [
    [{ meterProvider: {} }, 'meterProvider'],
    [{ tracerProvider: 42 }, 'tracerProvider'],
    [{ api: { trace: {} } }, 'api'],
    [{ meterProvder: null }, 'meterProvder'],
  ]) {
    assert.throws(() => instrument(options), (e) => e.code === 'INVALID_OPTION' && e.option === option && e instanceof TypeError, JSON.stringify(options));
  }
  assert.throws(() => instrument('yes'), (e) => e.code === 'INVALID_OPTION' && e.option === 'options');
});

let server;
before(async () => {
  server = await startProviderServer();
});
after(() => server.stop());

const CHAT = '/v1/chat/completions';

test('HTTP: each attempt a CLIENT span under the retry’s, with its resend count, its context sent to the server', async () => {
  const p = providers();
  stop = instrument({ meterProvider: p.meterProvider, tracerProvider: p.tracerProvider });
  server.script(CHAT, 503, { status: 429, headers: { 'retry-after-ms': '5' } }, 'ok');
  const guarded = createResilientFetch({ name: 'llm', maxAttempts: 3, baseDelay: 1, jitter: false, retryNonIdempotent: true });
  const response = await guarded(`${server.base}${CHAT}`, { method: 'POST', body: '{}', headers: { 'x-mine': '1' } });
  assert.equal(response.status, 200);
  await response.text();
  const finished = p.spans.getFinishedSpans();
  const retry = finished.find((s) => s.name === 'retry llm');
  const attempts = finished.filter((s) => s.kind === api.SpanKind.CLIENT);
  assert.deepEqual(attempts.map((s) => [s.name, s.attributes['http.request.resend_count'], s.attributes['http.response.status_code'], s.parentSpanContext?.spanId]), [
    ['POST', undefined, 503, retry.spanContext().spanId],
    ['POST', 1, 429, retry.spanContext().spanId],
    ['POST', 2, 200, retry.spanContext().spanId],
  ]);
  assert.equal(attempts[0].attributes['server.address'], '127.0.0.1');
  assert.deepEqual(
    server.traceparents.get(CHAT),
    attempts.map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`),
  );
  assert.deepEqual(retry.events.map((e) => e.name), ['retry.scheduled', 'retry.scheduled']);
});

const httpExpected = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'tests', 'telemetry', 'http-spans.json');

/** An HTTP call's spans: outcome, resend count and status (the URL's port is the run's). */
const httpTree = (finished) =>
  tree(finished, (s) => ({
    outcome: s.attributes['seawall.outcome'] ?? null,
    resend: s.attributes['http.request.resend_count'] ?? null,
    status: s.attributes['http.response.status_code'] ?? null,
  }));

/** The policies of an HTTP call, named as in Python's run. */
function httpPolicies() {
  return {
    name: 'llm',
    circuitBreaker: new CircuitBreaker('llm-breaker', { failureThreshold: 5 }),
    bulkhead: new Bulkhead({ name: 'llm-slots', maxConcurrent: 4 }),
    rateLimiter: rateLimiter('llm-rate', { limit: 100, per: 1000 }),
    maxAttempts: 2,
    baseDelay: 1,
    jitter: false,
    retryNonIdempotent: true,
  };
}

test('HTTP through every integration: the same spans as Python’s clients report, each attempt’s context at the server', async () => {
  const { Agent, request } = await import('undici');
  const { default: axios } = await import('axios');
  const { createResilientAxiosAdapter, createResilientInterceptor } = await import('seawall');
  const clients = {
    fetch: async () => (await createResilientFetch(httpPolicies())(`${server.base}${CHAT}`, { method: 'POST', body: '{}' })).text(),
    undici: async () => {
      const { body } = await request(`${server.base}${CHAT}`, { method: 'POST', body: '{}', dispatcher: new Agent().compose(createResilientInterceptor(httpPolicies())) });
      return body.text();
    },
    axios: () => axios.create({ adapter: createResilientAxiosAdapter(axios.getAdapter('http'), httpPolicies()) }).post(`${server.base}${CHAT}`, {}),
  };
  let want;
  if (!existsSync(httpExpected) && process.env.SEAWALL_BLESS === '1') want = undefined;
  else want = JSON.parse(readFileSync(httpExpected, 'utf8'));
  for (const [client, call] of Object.entries(clients)) {
    const p = providers();
    stop = instrument({ meterProvider: null, tracerProvider: p.tracerProvider });
    server.script(CHAT, 503, 'ok');
    await call();
    stop();
    const finished = p.spans.getFinishedSpans();
    const got = httpTree(finished);
    if (want === undefined) writeFileSync(httpExpected, `${JSON.stringify((want = got), null, 2)}\n`);
    assert.deepEqual(got, want, client);
    const attempts = finished.filter((s) => s.kind === api.SpanKind.CLIENT);
    assert.deepEqual(server.traceparents.get(CHAT).map((t) => t?.split('-')[2]), attempts.map((s) => s.spanContext().spanId), client);
  }
});

test('Fastify → resilientFetch: the attempts are children of the request’s span, the trace reaches the server', async () => {
  const { default: Fastify } = await import('fastify');
  const { FastifyOtelInstrumentation } = await import('@fastify/otel');
  const p = providers();
  api.trace.setGlobalTracerProvider(p.tracerProvider);
  const fastifyOtel = new FastifyOtelInstrumentation({ servername: 'orchestrator' });
  fastifyOtel.setTracerProvider(p.tracerProvider);
  const app = Fastify();
  await app.register(fastifyOtel.plugin());
  stop = instrument({ meterProvider: null, tracerProvider: p.tracerProvider });
  app.get('/ask', async () => {
    const r = await resilientFetch(`${server.base}${CHAT}`, { method: 'GET' }, undefined, { maxAttempts: 3, baseDelay: 1, jitter: false });
    return { status: r.status, body: await r.json() };
  });
  server.script(CHAT, 502, 503, 'ok');
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const answer = await fetch(`http://127.0.0.1:${app.server.address().port}/ask`);
    assert.equal((await answer.json()).status, 200);
  } finally {
    await app.close();
    api.trace.disable();
  }
  const finished = p.spans.getFinishedSpans();
  const request = finished.find((s) => s.kind === api.SpanKind.SERVER);
  assert.ok(request, finished.map((s) => s.name).join(', '));
  const handler = finished.find((s) => s.name.startsWith('handler'));
  const byId = new Map(finished.map((s) => [s.spanContext().spanId, s]));
  const ancestors = (s) => {
    const list = [];
    for (let at = byId.get(s.parentSpanContext?.spanId); at !== undefined; at = byId.get(at.parentSpanContext?.spanId)) list.push(at);
    return list;
  };
  const attempts = finished.filter((s) => s.kind === api.SpanKind.CLIENT);
  assert.deepEqual(attempts.map((s) => s.attributes['http.request.resend_count']), [undefined, 1, 2]);
  for (const a of attempts) {
    assert.equal(a.spanContext().traceId, request.spanContext().traceId);
    assert.ok(ancestors(a).includes(request), 'an attempt under the request’s span');
    if (handler !== undefined) assert.ok(ancestors(a).includes(handler));
  }
  assert.deepEqual(server.traceparents.get(CHAT).map((t) => t.split('-')[1]), attempts.map(() => request.spanContext().traceId));
});

test('OTLP/HTTP: the exporters’ requests, decoded by a 127.0.0.1 receiver, carry the instruments and spans', async () => {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
  const received = { traces: [], metrics: [] };
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      (req.url === '/v1/traces' ? received.traces : received.metrics).push(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${receiver.address().port}`;
  try {
    const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${base}/v1/metrics` }), exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))] });
    stop = instrument({ meterProvider, tracerProvider });
    const breaker = new CircuitBreaker('exported', { failureThreshold: 1 });
    await assert.rejects(breaker.execute(() => Promise.reject(new Error('down'))));
    await reader.forceFlush();
    await tracerProvider.forceFlush();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
  } finally {
    await new Promise((r) => receiver.close(r));
  }
  const spans = received.traces.flatMap((t) => t.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
  assert.deepEqual(spans.map((s) => s.name), ['breaker exported']);
  const attribute = (list, key) => list.find((a) => a.key === key)?.value;
  assert.deepEqual(attribute(spans[0].attributes, 'seawall.outcome'), { stringValue: 'failure' });
  assert.deepEqual(spans[0].events.map((e) => e.name), ['breaker.state_changed', 'exception']);
  const metrics = received.metrics.flatMap((m) => m.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics)));
  const calls = metrics.find((m) => m.name === 'seawall.calls');
  assert.equal(calls.unit, '{call}');
  assert.equal(Number(calls.sum.dataPoints[0].asInt ?? calls.sum.dataPoints[0].asDouble), 1);
  const state = metrics.find((m) => m.name === 'seawall.breaker.state');
  const open = state.gauge.dataPoints.find((d) => attribute(d.attributes, 'seawall.breaker.state').stringValue === 'OPEN');
  assert.equal(Number(open.asInt ?? open.asDouble), 1);
});
