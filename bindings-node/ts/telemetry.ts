/**
 * What Seawall decides, published on `node:diagnostics_channel` (as undici does: no dependency,
 * nothing paid without a subscriber) and, once `instrument()` is called, to OpenTelemetry. The
 * events, their channels and fields, the instruments they feed and which errors make a call
 * "rejected" or "timeout" are the core's (core/src/telemetry.rs); Python reports the same. In a
 * browser there is no diagnostics module and only an instrumented page reports.
 *
 * The per-call events (`call.ended`, `attempt.ended`, `rate_limit.waited`) are made only while
 * instrumented (with an SDK to record them): `instrument()` puts observed methods in the
 * policies' places (`observed`, `route`), so that until then a call pays nothing for them.
 */
import { backend } from './backend.js';
import { preciseNow } from './clock.js';

interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/** The event names, as the core declares them. */
export type EventName =
  | 'retry.scheduled'
  | 'retry.gave_up'
  | 'breaker.state_changed'
  | 'call.rejected'
  | 'hedge.launched'
  | 'call.ended'
  | 'attempt.ended'
  | 'rate_limit.waited';

/** The core's events (core/src/telemetry.rs `events_json`). */
export interface Tables {
  events: Array<{ name: EventName; channel: string; level: string; fields: string[] }>;
  rejected: string[];
  timedOut: string[];
}

let parsed: Tables | undefined;
export function tables(): Tables {
  return (parsed ??= JSON.parse(backend().telemetryEvents()) as Tables);
}

/** A call in progress, as a sink sees it (its span, when tracing). */
export interface Scope {
  /** Runs `fn` inside the call's context (children's spans are its children). */
  run<T>(fn: () => T): T;
  end(outcome: string, error: unknown): void;
}

/** Where an instrumented process's events go besides the channels (OpenTelemetry's sink). */
export interface Sink {
  event(name: EventName, fields: Record<string, unknown>): void;
  enter(kind: string, policy: string | undefined): Scope | undefined;
  /** Runs one HTTP attempt in a span of its own; `send` is given the headers that carry the
   * span's context to the server, and `status` reads the response's status. */
  http<R>(method: string, url: string, resendCount: number, send: (headers: Record<string, string>) => Promise<R>, status: (response: R) => number): Promise<R>;
}

/** The sink while instrumented (and recording): undefined until then. */
export const observer: { sink: Sink | undefined } = { sink: undefined };

// Read without an import, so that browser bundles have nothing to resolve.
const diagnostics = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule?.('node:diagnostics_channel') as
  | { channel(name: string): Channel }
  | undefined;

let channels: Map<string, { channel: Channel | undefined; fields: string[] }> | undefined;

function channelOf(name: EventName): { channel: Channel | undefined; fields: string[] } | undefined {
  if (channels === undefined) {
    channels = new Map(tables().events.map((e) => [e.name, { channel: diagnostics?.channel(e.channel), fields: e.fields }]));
  }
  return channels.get(name);
}

/** Whether anyone listens for `name` (the caller then builds the event's fields). */
export function listening(name: EventName): boolean {
  return observer.sink !== undefined || channelOf(name)?.channel?.hasSubscribers === true;
}

/** Publishes `name` with its declared fields, in order (null where not given). */
export function report(name: EventName, fields: Record<string, unknown>): void {
  const c = channelOf(name);
  if (c === undefined) return;
  if (c.channel?.hasSubscribers === true) {
    const message: Record<string, unknown> = { event: name };
    for (const f of c.fields) message[f] = fields[f] ?? null;
    c.channel.publish(message);
  }
  observer.sink?.event(name, fields);
}

/** How an error is named in events: its code, else its name. */
export function errorType(error: unknown): string | null {
  const e = error as { code?: unknown; name?: unknown } | null;
  return typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : null;
}

/** How a call ended, by the core's lists: success, rejected, timeout or failure. */
export function outcomeOf(error: unknown): string {
  if (error === NONE) return 'success';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const t = tables();
    if (t.rejected.includes(code)) return 'rejected';
    if (t.timedOut.includes(code)) return 'timeout';
  }
  return 'failure';
}

/** No error: the call succeeded. */
export const NONE: unique symbol = Symbol('none');

/** A call that answered a value its policy counted as a failure (a breaker's 503 response). */
const COUNTED_FAILURE = { code: 'RESULT_REJECTED', name: 'RESULT_REJECTED', message: 'the answer was counted as a failure' };

/**
 * Runs a policy's call observed (only while instrumented): inside its span, and reported as
 * `call.ended` with its outcome and duration (`preciseNow`) when it settles; `counted`:
 * whether a value it answers was counted as a failure.
 */
export function observe<T>(kind: string, policy: string | undefined, run: () => T | PromiseLike<T>, counted?: (value: T) => boolean): Promise<T> {
  const startedAt = preciseNow();
  const scope = observer.sink?.enter(kind, policy);
  let p: Promise<T>;
  try {
    p = Promise.resolve(scope !== undefined ? scope.run(run) : run());
  } catch (e) {
    p = Promise.reject(e);
  }
  const ended = (error: unknown): void => {
    const outcome = outcomeOf(error);
    report('call.ended', { policy, kind, outcome, durationMs: preciseNow() - startedAt, errorType: error === NONE ? null : errorType(error) });
    scope?.end(outcome, error);
  };
  return p.then(
    (v) => (ended(counted?.(v) === true ? COUNTED_FAILURE : NONE), v),
    (e: unknown) => {
      ended(e);
      throw e;
    },
  );
}

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** The methods observed while instrumented, and each one's plain method while it is. */
type Counted = (self: never, args: unknown[]) => ((value: unknown) => boolean) | undefined;
const observable: Array<{ proto: Record<string, unknown>; method: string; kind: string; name: (self: never, args: unknown[]) => string | undefined; counted?: Counted }> = [];
const plain: Array<[Record<string, unknown>, string, unknown]> = [];

/** Registers a policy's method as observed (as `kind`, named by `name`) while instrumented;
 * `counted(self, args)`: how its answers are judged, for a method whose answer may count as a
 * failure. */
export function observed<P extends object>(
  proto: P,
  method: keyof P & string,
  kind: string,
  name: (self: P, args: unknown[]) => string | undefined,
  counted?: (self: P, args: unknown[]) => ((value: unknown) => boolean) | undefined,
): void {
  observable.push({ proto: proto as Record<string, unknown>, method, kind, name: name as (self: never, args: unknown[]) => string | undefined, counted: counted as Counted | undefined });
}

/** Puts the observed methods in place (`on`) or the plain ones back. */
export function route(on: boolean): void {
  for (const [proto, method, fn] of plain.splice(0)) proto[method] = fn;
  if (!on) return;
  for (const { proto, method, kind, name, counted } of observable) {
    const fn = proto[method] as Method;
    plain.push([proto, method, fn]);
    proto[method] = function (this: never, ...args: unknown[]): Promise<unknown> {
      return observe(kind, name(this, args), () => fn.apply(this, args), counted?.(this, args));
    };
  }
}

/** Reports one attempt of a retried call (only while instrumented). */
export function attemptEnded(policy: string | undefined, attempt: number, startedAt: number, error: unknown): void {
  report('attempt.ended', {
    policy,
    attempt,
    outcome: outcomeOf(error),
    durationMs: preciseNow() - startedAt,
    errorType: error === NONE ? null : errorType(error),
  });
}
