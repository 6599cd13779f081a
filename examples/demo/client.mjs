// One client of the demo, in Node: resilientFetch with seeded full-jitter retries and a breaker,
// one request a second, printing a timeline line per attempt, retry, breaker change and result.
//   node client.mjs --live http://127.0.0.1:PORT T0   (T0: the server's start, epoch ms)
//   node client.mjs --replay                          (the same script on a virtual clock)
// client.py prints the same lines; in replay both must match byte for byte.
// In your project the import is: from 'seawall'.
import { createRequire } from 'node:module';
import { CircuitBreaker, instrument, resilientFetch, withVirtualClock } from '../../bindings-node/dist/esm/entry.node.js';
import { phaseAt, scenario, stamp } from './script.mjs';

const [mode, baseUrl = 'http://replay.invalid', t0Arg] = process.argv.slice(2);
const p = scenario.policy;

async function run(now, sleep) {
  let req = 0;
  let attempt = 0;
  const log = (line) => console.log(`${stamp(now())} ${line}`);

  const networkFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const n = ++attempt;
    try {
      const r = await networkFetch(input, init);
      log(`#${req} attempt ${n} -> ${r.status}`);
      return r;
    } catch (e) {
      log(`#${req} attempt ${n} -> ${e?.name ?? 'Error'}`);
      throw e;
    }
  };

  const breaker = new CircuitBreaker('quote', {
    failureThreshold: p.breaker.failureThreshold,
    resetTimeout: p.breaker.resetTimeoutMs,
    onStateChange: (from, to) => log(`breaker ${from} -> ${to}`),
  });
  const options = {
    name: 'quote',
    maxRetries: p.maxRetries,
    baseDelay: p.baseDelayMs,
    maxDelay: p.maxDelayMs,
    jitter: p.jitter,
    seed: p.seed,
    timeout: p.attemptTimeoutMs,
    onRetry: (n, _error, delayMs) => log(`#${req} retry ${n} in ${Math.floor(delayMs + 0.5)} ms`),
  };
  for (let i = 1; i <= scenario.requests; i++) {
    const wait = (i - 1) * scenario.intervalMs - now();
    if (wait > 0) await sleep(wait);
    req = i;
    attempt = 0;
    try {
      const r = await resilientFetch(`${baseUrl}/quote`, {}, breaker, options);
      await r.body?.cancel();
      log(`#${i} result ${r.status}`);
    } catch (e) {
      log(`#${i} result ${e?.code ?? e?.name ?? 'Error'}`);
    }
  }
  globalThis.fetch = networkFetch;
}

/** What the run's metrics say, read back from OpenTelemetry's SDK (client.py prints the same). */
function summary(resourceMetrics) {
  const sum = (name, keep = () => true) =>
    resourceMetrics
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      .filter((m) => m.descriptor.name === name)
      .flatMap((m) => m.dataPoints)
      .filter((pt) => keep(pt.attributes))
      .reduce((n, pt) => n + pt.value, 0);
  const calls = (outcome) => sum('seawall.calls', (a) => a['seawall.policy.kind'] === 'retry' && (outcome === undefined || a['seawall.outcome'] === outcome));
  const opened = sum('seawall.breaker.transitions', (a) => a['seawall.breaker.to'] === 'OPEN');
  return `metrics: ${calls()} calls (${calls('success')} succeeded, ${calls('failure')} failed, ${calls('rejected')} refused), ${sum('seawall.retries')} retries, breaker opened ${opened}×`;
}

if (mode === '--live') {
  const t0 = Number(t0Arg);
  // The policies' own metrics, through OpenTelemetry's SDK (in memory here).
  const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url));
  const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  instrument({ meterProvider: new MeterProvider({ readers: [reader] }), tracerProvider: null });
  await run(() => Date.now() - t0, (ms) => new Promise((r) => setTimeout(r, ms)));
  await reader.forceFlush();
  console.log(summary(exporter.getMetrics()));
  process.exit(0); // keep-alive sockets must not hold the demo up
} else if (mode === '--replay') {
  await withVirtualClock(async (clock) => {
    // The server of the script, answering after its latency on the virtual clock.
    globalThis.fetch = async (_input, init) => {
      const phase = phaseAt(clock.now());
      await clock.sleep(scenario.latencyMs, init?.signal ?? undefined);
      const headers = phase.retryAfterS !== undefined ? { 'retry-after': String(phase.retryAfterS) } : {};
      return new Response(JSON.stringify({ phase: phase.label }), { status: phase.status, headers });
    };
    await run(() => clock.now(), (ms) => clock.sleep(ms));
  });
} else {
  console.error('usage: node client.mjs --live URL T0 | --replay');
  process.exit(2);
}
