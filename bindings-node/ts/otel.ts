/**
 * OpenTelemetry: `instrument()` turns Seawall's events into the core's instruments (one table,
 * core/src/telemetry.rs, read by Python and the Prometheus text too) and its calls into spans.
 * Only `@opentelemetry/api` is needed (an optional peer), and only once `instrument()` is called:
 * until then nothing is loaded and a call pays one property read.
 *
 * Spans: one per guarded call (`retry charge`, `breaker payments`, …) with an event for each
 * retry, rejection and state change; for HTTP (`resilientFetch`, `createResilientFetch`, the
 * undici interceptor, the axios adapter) a CLIENT span per attempt with
 * `http.request.resend_count`, whose context each attempt's request carries (`traceparent`).
 */
import { backend } from './backend.js';
import { flushAllBreakers } from './breaker.js';
import { clock } from './clock.js';
import { native } from './errors.js';
import { checkOptionsArg } from './options.js';
import { errorType, type EventName, observer, route, type Scope, type Sink, tables } from './telemetry.js';

type Attributes = Record<string, string | number | boolean>;

/** The core's instruments (core/src/telemetry.rs `instruments_json`). */
interface Instruments {
  instruments: Array<{
    name: string;
    kind: 'counter' | 'histogram' | 'observableGauge' | 'observableUpDownCounter';
    unit: string;
    description: string;
    events: EventName[];
    value: string | null;
    scale: number;
    attributes: Array<[string, string]>;
    observes: string | null;
    prometheus: string | null;
  }>;
  /** Every duration histogram's bucket boundaries, s. */
  buckets: number[];
}

/** The parts of `@opentelemetry/api` used here (any 1.x). */
export interface OtelApi {
  metrics: { getMeterProvider(): MeterProvider };
  trace: {
    getTracerProvider(): TracerProvider;
    getActiveSpan(): Span | undefined;
    setSpan(context: unknown, span: Span): unknown;
  };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  propagation: { inject(context: unknown, carrier: Record<string, string>): void };
  createNoopMeter?(): Meter;
}
export interface MeterProvider {
  getMeter(name: string, version?: string): Meter;
}
export interface TracerProvider {
  getTracer(name: string, version?: string): Tracer;
  /** The API's global provider until an SDK registers: the SDK's tracer then, else undefined. */
  getDelegateTracer?(name: string): Tracer | undefined;
}
interface Recorder {
  add?(value: number, attributes?: Attributes): void;
  record?(value: number, attributes?: Attributes): void;
}
interface Meter {
  createCounter(name: string, options: object): Recorder;
  createHistogram(name: string, options: object): Recorder;
  createObservableGauge(name: string, options: object): object;
  createObservableUpDownCounter(name: string, options: object): object;
  addBatchObservableCallback(cb: (o: { observe(i: object, v: number, a?: Attributes): void }) => void, observables: object[]): void;
  removeBatchObservableCallback(cb: (o: { observe(i: object, v: number, a?: Attributes): void }) => void, observables: object[]): void;
}
interface Tracer {
  startSpan(name: string, options: { kind?: number; attributes?: Attributes }, context?: unknown): Span;
}
interface Span {
  isRecording(): boolean;
  addEvent(name: string, attributes?: Attributes): void;
  setAttribute(key: string, value: string | number | boolean): void;
  setStatus(status: { code: number; message?: string }): void;
  recordException(e: unknown): void;
  end(): void;
}

/** `SpanKind.INTERNAL`, `SpanKind.CLIENT` and `SpanStatusCode.ERROR`: fixed by the API. */
const INTERNAL = 0;
const CLIENT = 2;
const ERROR = 2;

export interface InstrumentOptions {
  /** Default: the global one (`metrics.getMeterProvider()`); `null` for no metrics. */
  meterProvider?: MeterProvider | null;
  /** Default: the global one (`trace.getTracerProvider()`); `null` for no spans. */
  tracerProvider?: TracerProvider | null;
  /** `@opentelemetry/api` itself: needed where it cannot be required (a browser bundle). */
  api?: OtelApi;
}

/** What makes each option what it should be (the core names the option and value otherwise). */
const SHAPES: Record<string, (v: Record<string, unknown>) => boolean> = {
  meterProvider: (v) => typeof v.getMeter === 'function',
  tracerProvider: (v) => typeof v.getTracer === 'function',
  api: (v) => typeof v.trace === 'object' && typeof v.metrics === 'object' && typeof v.context === 'object' && typeof v.propagation === 'object',
};

/** Checks `instrument`'s options in the core: a host object of the right shape goes as
 * `<object>`, anything else as itself (an object lacking the shape as `{}`, which is not one). */
function checkInstrumentOptions(options: InstrumentOptions): void {
  checkOptionsArg(options);
  const shown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    const shape = SHAPES[k];
    if (v === undefined) continue;
    if (shape !== undefined && v !== null && typeof v === 'object') shown[k] = shape(v as Record<string, unknown>) ? '<object>' : {};
    else shown[k] = typeof v === 'function' ? '<function>' : v;
  }
  native(() => backend().validate('instrument', JSON.stringify(shown), false));
}

/** `@opentelemetry/api`, required from here or from the application's directory. */
function loadApi(): OtelApi {
  const mod = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule?.('node:module') as
    | { createRequire(from: string): (id: string) => unknown }
    | undefined;
  for (const from of [import.meta.url, `${(globalThis as { process?: { cwd?(): string } }).process?.cwd?.() ?? ''}/`]) {
    try {
      if (mod !== undefined) return mod.createRequire(from)('@opentelemetry/api') as OtelApi;
    } catch {
      // Not found from there.
    }
  }
  // The core's error for a missing module: the option that supplies it, and what it must be.
  checkInstrumentOptions({ api: {} as OtelApi });
  throw new TypeError('@opentelemetry/api is not installed');
}

let stopCurrent: (() => void) | undefined;

/** The event's fields as attributes: each instrument's `(attribute, field)` pairs, nulls left out. */
function attributesOf(pairs: Array<[string, string]>, fields: Record<string, unknown>): Attributes {
  const a: Attributes = {};
  for (const [attribute, field] of pairs) {
    const v = fields[field];
    if (v !== undefined && v !== null) a[attribute] = v as string | number | boolean;
  }
  return a;
}

/**
 * `attributesOf` for one set of pairs, the objects kept by their values: a process has few
 * (policy, outcome, error type) combinations, and a call then builds no object. Bounded: past
 * `MAX_KEPT` the cache starts over.
 */
function attributesFor(pairs: Array<[string, string]>): (fields: Record<string, unknown>) => Attributes {
  const kept = new Map<string, Attributes>();
  return (fields) => {
    let key = '';
    for (const [, field] of pairs) key += `${String(fields[field])}\u0000`;
    let a = kept.get(key);
    if (a === undefined) {
      if (kept.size >= MAX_KEPT) kept.clear();
      a = Object.freeze(attributesOf(pairs, fields));
      kept.set(key, a);
    }
    return a;
  };
}
const MAX_KEPT = 4096;

/**
 * Reports Seawall's events as OpenTelemetry metrics and spans, to the given providers or the
 * global ones. Answers a function that stops it (calling `instrument` again replaces the last).
 */
export function instrument(given: InstrumentOptions | null = {}): () => void {
  const options = given ?? {};
  checkInstrumentOptions(options);
  const api = options.api ?? loadApi();
  const meterProvider = options.meterProvider === undefined ? api.metrics.getMeterProvider() : options.meterProvider;
  const tracerProvider = options.tracerProvider === undefined ? api.trace.getTracerProvider() : options.tracerProvider;
  const t = JSON.parse(native(() => backend().telemetryInstruments())) as Instruments;
  stopCurrent?.();
  // The API's no-op meter records nothing: no instruments then (its global meter provider is
  // fixed once read, so a meter got before an SDK registers stays a no-op).
  const gotMeter = meterProvider?.getMeter('seawall');
  const noopMeter = api.createNoopMeter?.();
  const meter = gotMeter !== undefined && noopMeter !== undefined && Object.getPrototypeOf(gotMeter) === Object.getPrototypeOf(noopMeter) ? undefined : gotMeter;
  // The API's global tracer provider hands its tracers to an SDK once one registers: until then
  // a call makes no span at all.
  const proxy = typeof tracerProvider?.getDelegateTracer === 'function' ? tracerProvider : undefined;
  let tracer = proxy === undefined ? (tracerProvider?.getTracer('seawall') ?? undefined) : undefined;
  const tracerNow = (): Tracer | undefined => tracer ?? (tracer = proxy?.getDelegateTracer?.('seawall'));

  // Each event's recorders, from the core's table.
  const byEvent = new Map<EventName, Array<(fields: Record<string, unknown>) => void>>();
  const observed: Array<{ family: string; instrument: object; attributes: Array<[string, string]> }> = [];
  for (const i of t.instruments) {
    if (meter === undefined) break;
    const opts = { unit: i.unit, description: i.description };
    if (i.events.length > 0) {
      const { value, scale } = i;
      const attributes = attributesFor(i.attributes);
      let recorder: (fields: Record<string, unknown>) => void;
      if (i.kind === 'counter') {
        const c = meter.createCounter(i.name, opts);
        recorder = (f) => c.add?.(1, attributes(f));
      } else {
        const h = meter.createHistogram(i.name, { ...opts, advice: { explicitBucketBoundaries: t.buckets } });
        recorder = (f) => {
          const v = f[value as string];
          if (typeof v === 'number') h.record?.(v * scale, attributes(f));
        };
      }
      for (const event of i.events) {
        const list = byEvent.get(event) ?? [];
        list.push(recorder);
        byEvent.set(event, list);
      }
    } else if (i.observes !== null) {
      const instrument = i.kind === 'observableGauge' ? meter.createObservableGauge(i.name, opts) : meter.createObservableUpDownCounter(i.name, opts);
      observed.push({ family: i.observes, instrument, attributes: i.attributes });
    }
  }
  // The gauges are read from the engine's registry when the SDK collects (the lean browser
  // module leaves that read out, and its gauges with it).
  const gauges = (o: { observe(i: object, v: number, a?: Attributes): void }): void => {
    let samples: Array<[string, string, string | null, number]>;
    try {
      flushAllBreakers();
      samples = JSON.parse(backend().gaugeSamples()) as typeof samples;
    } catch {
      return;
    }
    for (const [family, name, label, value] of samples) {
      for (const g of observed) if (g.family === family) o.observe(g.instrument, value, attributesOf(g.attributes, { policy: name, label }));
    }
  };
  if (meter !== undefined && observed.length > 0) meter.addBatchObservableCallback(gauges, observed.map((g) => g.instrument));

  // Decisions (not the per-call ends) become events on the active span.
  const spanEvents = new Set(tables().events.filter((e) => e.level !== 'DEBUG').map((e) => e.name));
  const sink: Sink = {
    event(name, fields) {
      const recorders = byEvent.get(name);
      if (recorders !== undefined) {
        // The field `event`: the event's own name.
        const f = { ...fields, event: name };
        for (const r of recorders) r(f);
      }
      if (tracerNow() !== undefined && spanEvents.has(name)) {
        const span = api.trace.getActiveSpan();
        if (span?.isRecording() === true) {
          const a: Attributes = {};
          for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null) a[`seawall.${k}`] = v as string | number | boolean;
          span.addEvent(name, a);
        }
      }
    },
    enter(kind, policy): Scope | undefined {
      const t = tracerNow();
      if (t === undefined) return undefined;
      const attributes: Attributes = { 'seawall.policy.kind': kind };
      if (policy !== undefined) attributes['seawall.policy.name'] = policy;
      const parent = api.context.active();
      const span = t.startSpan(policy === undefined ? kind : `${kind} ${policy}`, { kind: INTERNAL, attributes }, parent);
      // A span not recorded (sampled out) is no one's parent: its children go under its own.
      const context = span.isRecording() ? api.trace.setSpan(parent, span) : undefined;
      return {
        run: (fn) => (context === undefined ? fn() : api.context.with(context, fn)),
        end(outcome, error) {
          span.setAttribute('seawall.outcome', outcome);
          if (outcome !== 'success') failed(span, error);
          span.end();
        },
      };
    },
    http<R>(method: string, url: string, resendCount: number, send: (headers: Record<string, string>) => Promise<R>, status: (response: R) => number): Promise<R> {
      const t = tracerNow();
      if (t === undefined) return send({});
      const attributes: Attributes = { 'http.request.method': method, 'url.full': url };
      try {
        const u = new URL(url);
        attributes['server.address'] = u.hostname;
        attributes['server.port'] = u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      } catch {
        // A relative URL (axios without a base): no server attributes.
      }
      if (resendCount > 0) attributes['http.request.resend_count'] = resendCount;
      const parent = api.context.active();
      const span = t.startSpan(method, { kind: CLIENT, attributes }, parent);
      const context = api.trace.setSpan(parent, span);
      const headers: Record<string, string> = {};
      api.propagation.inject(context, headers);
      let p: Promise<R>;
      try {
        p = api.context.with(context, () => send(headers));
      } catch (e) {
        p = Promise.reject(e);
      }
      return p.then(
        (r) => {
          const code = status(r);
          span.setAttribute('http.response.status_code', code);
          if (code >= 400) {
            span.setAttribute('error.type', String(code));
            span.setStatus({ code: ERROR });
          }
          span.end();
          return r;
        },
        (e: unknown) => {
          failed(span, e);
          span.end();
          throw e;
        },
      );
    },
  };
  const start = (): void => {
    observer.sink = sink;
    route(true);
  };
  // With the API alone nothing would be recorded: the policies keep their plain methods, and the
  // API is asked once a second whether an SDK has registered since (on the shell's clock; the
  // real one's timer keeps no process up).
  const recording = (): boolean => meter !== undefined || tracerNow() !== undefined;
  let waiting: (() => void) | undefined;
  const look = (): void => {
    waiting = undefined;
    if (recording()) start();
    else waiting = later(look);
  };
  if (recording()) start();
  else waiting = later(look);
  const stop = (): void => {
    waiting?.();
    if (observer.sink === sink) {
      observer.sink = undefined;
      route(false);
    }
    if (meter !== undefined && observed.length > 0) meter.removeBatchObservableCallback(gauges, observed.map((g) => g.instrument));
    if (stopCurrent === stop) stopCurrent = undefined;
  };
  stopCurrent = stop;
  return stop;
}

/** Calls `fn` in a second on the shell's clock; answers what cancels it. */
function later(fn: () => void): () => void {
  return clock().setTimer(LOOK_MS, fn, true);
}
const LOOK_MS = 1000;

function failed(span: Span, error: unknown): void {
  const message = (error as { message?: unknown } | null)?.message;
  span.setAttribute('error.type', errorType(error) ?? '_OTHER');
  span.setStatus({ code: ERROR, message: typeof message === 'string' ? message : undefined });
  if (error instanceof Error) span.recordException(error);
}
