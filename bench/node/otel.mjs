// What instrumenting costs per guarded call in Node: a breaker's `execute` and `withBackoff`
// (succeeding calls), not instrumented, instrumented with the API alone (no SDK registered: the
// API's no-op providers) and instrumented with the SDK (an in-memory reader and exporter), each
// measured in turn within every round against the bare call of that round. With SEAWALL_BEFORE
// (a checkout's bindings-node built before instrumentation existed), its uninstrumented calls
// are measured alongside: "off" against it is what the hooks cost a program that never
// instruments. Not a test: it prints a table. Run: make bench-otel.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));
const before = process.env.SEAWALL_BEFORE ? await import(new URL(`file://${process.env.SEAWALL_BEFORE}/dist/esm/entry.node.js`)) : undefined;
const { MeterProvider, InMemoryMetricExporter, PeriodicExportingMetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const N = Number(process.env.BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const work = async () => 1;

function sdk() {
  const spans = new InMemorySpanExporter();
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  return {
    meterProvider: new MeterProvider({ readers: [reader] }),
    // Finished spans are dropped as they end, so that the exporter's list does not grow.
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor({ export: (_s, done) => done({ code: 0 }), shutdown: () => spans.shutdown() })] }),
  };
}

/** What the SDK alone costs for what a call reports: a span made active and ended, a counter
 * added to and a histogram recorded, each with a call's attributes. */
function sdkFloor({ meterProvider, tracerProvider }) {
  const api = require('@opentelemetry/api');
  const tracer = tracerProvider.getTracer('floor');
  const meter = meterProvider.getMeter('floor');
  const counter = meter.createCounter('floor.calls');
  const histogram = meter.createHistogram('floor.duration', { unit: 's' });
  const attributes = { 'seawall.policy.name': 'bench', 'seawall.policy.kind': 'breaker', 'seawall.outcome': 'success' };
  return () => {
    const span = tracer.startSpan('breaker bench', { attributes: { 'seawall.policy.kind': 'breaker', 'seawall.policy.name': 'bench' } });
    return api.context.with(api.trace.setSpan(api.context.active(), span), work).then((v) => {
      span.setAttribute('seawall.outcome', 'success');
      span.end();
      counter.add(1, attributes);
      histogram.record(0, attributes);
      return v;
    });
  };
}

/** Cases measured in turn each round: `[name, fn, mode]` with mode off, api or sdk. */
async function run(cases) {
  const modes = { off: undefined, api: {}, sdk: sdk() };
  cases.unshift(['the SDK alone: a span, a counter, a histogram', sdkFloor(modes.sdk), 'off']);
  const diffs = new Map(cases.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS + 1; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await work();
    const bare = Number(process.hrtime.bigint() - t) / N;
    for (const [name, fn, mode] of cases) {
      const stop = modes[mode] === undefined ? () => {} : seawall.instrument(modes[mode]);
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) await fn();
      const ns = Number(process.hrtime.bigint() - t1) / N;
      stop();
      if (r > 0) diffs.get(name).push([ns - bare, bare]); // round 0 warms up
    }
  }
  const median = (xs) => xs.sort((a, b) => a[0] - b[0])[xs.length >> 1];
  return new Map([...diffs].map(([k, xs]) => [k, median(xs)]));
}

const breaker = new seawall.CircuitBreaker('bench', { failureThreshold: 5 });
const retry = { maxAttempts: 3, name: 'bench' };
const cases = [];
for (const [what, make] of [
  ['breaker.execute', (s) => ((b) => () => b.execute(work))(s === seawall ? breaker : new s.CircuitBreaker('bench-before', { failureThreshold: 5 }))],
  ['withBackoff', (s) => () => s.withBackoff(work, retry)],
]) {
  if (before !== undefined) cases.push([`${what} before`, make(before), 'off']);
  cases.push([`${what} off`, make(seawall), 'off']);
  cases.push([`${what} API, no SDK`, make(seawall), 'api']);
  cases.push([`${what} SDK`, make(seawall), 'sdk']);
}
const result = await run(cases);
console.log(`Node ${process.version}, ${N} calls × ${ROUNDS} rounds; overhead over a bare await (ns, median); a call's time against the same call "off"`);
for (const [name, [ns, bare]] of result) {
  if (name.startsWith('the SDK alone')) {
    console.log(`${name.padEnd(48)} ${ns.toFixed(1).padStart(8)} ns  (the floor under SDK, per call)`);
    continue;
  }
  const [off] = result.get(name.replace(/ (before|off|API, no SDK|SDK)$/, ' off'));
  console.log(`${name.padEnd(48)} ${ns.toFixed(1).padStart(8)} ns  ${((bare + ns) / (bare + off)).toFixed(2)}×`);
}
