/**
 * `resilientFetch`: fetch through a breaker with retries and a per-attempt timeout.
 * Which responses and errors count as failures and which are retried is the core's rule
 * (core/src/outcome.rs), the same for every shell and HTTP integration:
 *
 * - 5xx and 429 responses, network errors and timeouts count as breaker failures; 5xx, 408, 425
 *   and 429 responses, network errors and timeouts are retried, honouring `retry-after-ms`, then
 *   Retry-After (capped by `maxRetryAfter`), and the server's `x-should-retry`; when retries run
 *   out the last response is returned (as fetch does), or the last network error thrown.
 * - Other 4xx responses are returned at once: not retried, not counted.
 * - POST, PATCH and other non-idempotent requests are retried only when the server cannot have
 *   acted on them (connection refused, unknown host, 429, 503 with Retry-After), unless
 *   `retryNonIdempotent: true`.
 * - Each attempt is aborted on timeout (`timeout`, else the breaker's, else 30 s) and when
 *   `init.signal` aborts; an abort also cuts a backoff sleep short.
 */
import { CircuitBreaker } from './breaker.js';
import { type Clock, clock } from './clock.js';
import { realSignal, signalFor, whenAborted } from './cancel.js';
import { argumentError, checkOptionsArg } from './options.js';
import { backend } from './backend.js';
import { ErrorCodes } from './errors.js';
import type { HedgeOptions, HedgePolicy } from './hedge.js';
import { classifyOutcome, errorFacts, type OutcomeFacts, policyFor, type RetryOptions, statusOf } from './retry.js';
import { cappedTimeout, requestSignal } from './request-context.js';
import { type CarriesEnd, ENDED, SLOTS, type Slots } from './held.js';
import { observer } from './telemetry.js';
import { runWithTimeout } from './timeout.js';

export interface ResilientFetchOptions extends RetryOptions {
  /** Per-attempt timeout, ms (default: the breaker's `timeout`, else 30000). */
  timeout?: number;
  /**
   * Hedges each attempt (a `HedgePolicy`, or its options): another request starts each `delay`
   * while none has answered, the first acceptable response wins and the others are aborted.
   * Idempotent methods only, unless `hedgeNonIdempotent`. Each hedged request goes through the
   * rate limiter, bulkhead, breaker and timeout as an attempt of its own; retries wrap the
   * hedged call.
   */
  hedge?: HedgeOptions | HedgePolicy;
}

/** A policy that runs a call in its own terms (a `Bulkhead`'s slot, a `RateLimiter`'s place). */
export interface CallGuard {
  execute<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T>;
}

/** `createResilientFetch`'s options: the policies, the retry options and the `fetch` below. */
export interface ResilientFetchConfig extends ResilientFetchOptions {
  circuitBreaker?: CircuitBreaker;
  /** Each attempt takes a slot until its response's headers arrive. */
  bulkhead?: CallGuard;
  /** Each attempt takes a place first. */
  rateLimiter?: CallGuard;
  /** The `fetch` each attempt calls (default: the global one, as it is at the call). */
  fetch?: typeof fetch;
}

const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

/** A response the core retries, thrown so that the retry loop sees it (a `Response` from
 * fetch; an axios response from the axios adapter). */
export class HttpStatusError<R = Response> extends Error {
  readonly status: number;
  readonly response: R;
  /** The response's headers (a `Headers`, or the client library's own). */
  readonly headers: unknown;
  readonly retryAfter: number | undefined;
  constructor(response: R, status: number = (response as { status: number }).status, headers: unknown = (response as { headers?: unknown }).headers) {
    const text = (response as { statusText?: unknown }).statusText;
    super(`HTTP ${status} ${typeof text === 'string' ? text : ''}`.trim());
    this.name = 'HttpStatusError';
    this.status = status;
    this.response = response;
    this.headers = headers;
    // The server's delay as the core reads it (retry-after-ms, then Retry-After).
    this.retryAfter = classifyOutcome(errorFacts({ status, headers })).retryAfterMs ?? undefined;
  }
}

/** How a breaker counts a response, by the core's rule. */
const COUNTS = ['success', 'failure', 'ignore'] as const;
/** The core's count of each status met so far (it depends on the status alone): one crossing per status. */
const counted = new Map<number, (typeof COUNTS)[number]>();
export function countOf(status: number): (typeof COUNTS)[number] {
  let count = counted.get(status);
  if (count === undefined) {
    count = COUNTS[backend().countStatus(status)] ?? 'failure';
    // Statuses are three digits; anything else is not worth keeping.
    if (Number.isInteger(status) && status >= 100 && status < 1000) counted.set(status, count);
  }
  return count;
}

/** The controller behind each linked signal, alive as long as the signal is (a WeakMap). */
const controllerOf = new WeakMap<AbortSignal, AbortController>();
/** Unhooks a linked signal's listeners once the signal is collected. */
const unlinkWhenCollected = new FinalizationRegistry<() => void>((unlink) => unlink());

/**
 * A signal that aborts when any of `signals` does. The fetch keeps it while the body streams,
 * and the caller's signal may live for the whole process (a shutdown signal, a request's signal
 * shared by its outbound calls): what waits on it for a request (`whenAborted`: one listener on
 * it for all) holds the linked signal weakly, and leaves when that is collected, or at once
 * through `unlink` when the request failed (nothing streams).
 */
export function linkSignals(signals: Array<AbortSignal | undefined>): { signal: AbortSignal | undefined; unlink: () => void } {
  // Most requests have one signal (their attempt's deadline): nothing to link.
  let only: AbortSignal | undefined;
  for (const s of signals) {
    if (s === undefined || s === only) continue;
    if (only !== undefined) return linked(signals);
    only = s;
  }
  return { signal: realSignal(only), unlink: NOTHING_LINKED };
}

const NOTHING_LINKED = (): void => {};

function linked(signals: Array<AbortSignal | undefined>): { signal: AbortSignal; unlink: () => void } {
  const list = [...new Set(signals.filter((s): s is AbortSignal => s !== undefined))];
  const c = new AbortController();
  const linked = new WeakRef(c.signal);
  controllerOf.set(c.signal, c);
  const offs: Array<() => void> = [];
  const unlink = (): void => {
    for (const off of offs.splice(0)) off();
  };
  for (const s of list) {
    if (s.aborted) {
      unlink();
      c.abort(s.reason);
      return { signal: c.signal, unlink };
    }
    offs.push(
      whenAborted(s, () => {
        const signal = linked.deref();
        if (signal !== undefined) controllerOf.get(signal)?.abort(s.reason);
      }),
    );
  }
  unlinkWhenCollected.register(c.signal, unlink);
  return { signal: c.signal, unlink };
}

/** `fetch` under the signals linked: unlinked at once when it fails. */
function fetchLinked(
  fetchImpl: typeof fetch | undefined,
  input: string | URL | Request,
  init: RequestInit,
  signals: Array<AbortSignal | undefined>,
): Promise<Response> {
  const { signal, unlink } = linkSignals(signals);
  let sent: Promise<Response>;
  try {
    sent = Promise.resolve((fetchImpl ?? fetch)(input, { ...init, signal: signal ?? null }));
  } catch (e) {
    unlink();
    return Promise.reject(e);
  }
  return unlink === NOTHING_LINKED
    ? sent
    : sent.catch((e: unknown) => {
        unlink();
        throw e;
      });
}

export function resilientFetch(
  input: string | URL | Request,
  init: RequestInit = {},
  circuit?: CircuitBreaker,
  backoffOptions: ResilientFetchOptions = {},
): Promise<Response> {
  if (circuit !== undefined && circuit !== null && !(circuit instanceof CircuitBreaker)) return Promise.reject(argumentError({ circuit }));
  try {
    checkOptionsArg(backoffOptions);
  } catch (e) {
    return Promise.reject(e);
  }
  let stack: HttpStack<Response>;
  try {
    stack = httpStack(FETCH_EXCHANGE, circuit ?? undefined, backoffOptions ?? {}, {});
  } catch (e) {
    return Promise.reject(e);
  }
  return guardedFetch(input, init ?? {}, stack, undefined);
}

/**
 * A `fetch` for any SDK's `fetch` option (openai, @anthropic-ai/sdk, ky …): the same signature,
 * `Request` objects and `init.signal` taken, the `Response` answered untouched. Per request,
 * retries outermost; per attempt the rate limiter's place, the bulkhead's slot, the breaker and
 * the timeout. A body given as a stream cannot be sent again: such a request runs once.
 * Turn the SDK's own retries off (`maxRetries: 0`) so that one policy decides.
 */
export function createResilientFetch(config: ResilientFetchConfig = {}): typeof fetch {
  const { circuitBreaker, bulkhead, rateLimiter, fetch: fetchImpl, options } = checkedConfig(config);
  const stack = httpStack(FETCH_EXCHANGE, circuitBreaker, options, { bulkhead, rateLimiter });
  return ((input: string | URL | Request, init?: RequestInit) => guardedFetch(input, init ?? {}, stack, fetchImpl)) as typeof fetch;
}

/** How the `hedge` option becomes a policy: installed by the entries whose module hedges (Node's,
 * `seawall/full`'s, workerd's), so that a page on the lean module bundles no hedging code. */
export interface Hedging {
  /** The policy of an integration, made once for it (its budget and latencies its own). */
  own(hedge: HedgeOptions | HedgePolicy): HedgePolicy;
  /** The policy of a call's options (compiled once for equal options). */
  policyFor(hedge: HedgeOptions | HedgePolicy): HedgePolicy;
}
let installedHedging: Hedging | undefined;

export function installHedging(h: Hedging): void {
  installedHedging = h;
}

function hedging(): Hedging {
  if (installedHedging === undefined) {
    const e = new TypeError("seawall: hedging is not in this build of seawall: the browser's main entry is lean, import from 'seawall/full' instead");
    throw Object.assign(e, { code: ErrorCodes.NOT_IN_MODULE, option: 'hedge', value: null });
  }
  return installedHedging;
}

/** An integration's options, checked when it is made (a bad option is named then, not at its
 * first request), split into the policies and the retry options. */
export function checkedConfig(config: ResilientFetchConfig): ResilientFetchConfig & { options: ResilientFetchOptions } {
  checkOptionsArg(config);
  const { circuitBreaker, bulkhead, rateLimiter, fetch: fetchImpl, ...options } = config ?? {};
  if (circuitBreaker !== undefined && !(circuitBreaker instanceof CircuitBreaker)) throw argumentError({ circuitBreaker });
  // Any guard with `execute` serves (ours, or a user's own); anything else would fail each request.
  if (bulkhead !== undefined && typeof bulkhead?.execute !== 'function') throw argumentError({ bulkhead });
  if (rateLimiter !== undefined && typeof rateLimiter?.execute !== 'function') throw argumentError({ rateLimiter });
  if (fetchImpl !== undefined && typeof fetchImpl !== 'function') throw argumentError({ fetch: fetchImpl });
  const { timeout: _t, hedge, ...retry } = options;
  policyFor(retry);
  // A hedging policy made once for the integration (its budget and latencies are its own).
  if (hedge !== undefined && hedge !== null) options.hedge = hedging().own(hedge);
  return { circuitBreaker, bulkhead, rateLimiter, fetch: fetchImpl, options };
}

// The host's `fetch` as this module found it, and the policies whose request is calling the
// underlying `fetch` now. A program may install a guarded fetch as the global one (`globalThis.fetch
// = createResilientFetch()`): each attempt then calls back into it. The same policies send that
// call as it is, through the host's `fetch`; other policies guard it too, then send it there. The
// global is still read at each request otherwise, so a test's stand-in installed later is used.
const hostFetch: typeof fetch | undefined = typeof fetch === 'function' ? fetch : undefined;
let sendingFor: HttpStack<Response> | undefined;

function guardedFetch(
  input: string | URL | Request,
  init: RequestInit,
  stack: HttpStack<Response>,
  fetchImpl: typeof fetch | undefined,
): Promise<Response> {
  if (sendingFor !== undefined && fetchImpl === undefined) {
    if (sendingFor === stack) return (hostFetch ?? fetch)(input, init);
    fetchImpl = hostFetch;
  }
  // A Request is sent as a copy each attempt (its body is read once); a body given as a stream
  // cannot be copied, so that request runs once.
  const template = input instanceof Request ? input : undefined;
  let callerSignal: AbortSignal | undefined;
  try {
    // The caller's signal, else the request this service is handling (aborted if its client left).
    callerSignal = requestSignal(init.signal ?? template?.signal ?? undefined);
  } catch (e) {
    return Promise.reject(e);
  }
  const attemptInput = (): string | URL | Request => (template !== undefined ? template.clone() : input);
  const out: Outgoing<Response> = {
    method: init.method ?? template?.method ?? 'GET',
    url: () => template?.url ?? String(input),
    replayable: !(typeof ReadableStream !== 'undefined' && init.body instanceof ReadableStream),
    callerSignal,
    send: (signals, headers) => sendFor(stack, fetchImpl, attemptInput(), withHeaders(init, template, headers), [...signals, callerSignal]),
  };
  return (stack.inline !== undefined ? inlineFetch?.(stack, out, (signal) => sendFor(stack, fetchImpl, attemptInput(), init, [signal, callerSignal])) : undefined) ?? stack(out);
}

/** An attempt's `fetch`, sent for `stack`'s policies (see `sendingFor`). */
function sendFor(
  stack: HttpStack<Response>,
  fetchImpl: typeof fetch | undefined,
  input: string | URL | Request,
  init: RequestInit,
  signals: Array<AbortSignal | undefined>,
): Promise<Response> {
  const outer = sendingFor;
  sendingFor = stack;
  try {
    return fetchLinked(fetchImpl, input, init, signals);
  } finally {
    sendingFor = outer;
  }
}

/** Runs a request's first attempt inline (see `inline.ts`), or answers undefined: installed by
 * Node's entries, so that a page guarding `fetch` bundles none of it. */
export type InlineFetch = (stack: HttpStack<Response>, out: Outgoing<Response>, send: (signal: AbortSignal) => Promise<Response>) => Promise<Response> | undefined;
let inlineFetch: InlineFetch | undefined;

export function installInlineFetch(f: InlineFetch): void {
  inlineFetch = f;
}

/** `init` with `extra` headers added to the request's own (a trace's context). */
function withHeaders(init: RequestInit, template: Request | undefined, extra: Record<string, string> | undefined): RequestInit {
  if (extra === undefined) return init;
  const headers = new Headers(init.headers ?? template?.headers);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return { ...init, headers };
}

/** How a client library's responses are read and let go. */
export interface Exchange<R> {
  status(response: R): number;
  /** Its headers: a `Headers`, or anything with `get(name)` or the names as keys. */
  headers(response: R): unknown;
  /** Lets a response no one will read go (its body cancelled). */
  discard(response: R): void;
  /** The response to answer, marked as working until its body ends (`holding`): its bulkhead
   * slot and breaker verdict are held until then. */
  hold?(response: R): R;
}

/** How a held response's body ends: read to its end or cancelled (`done`), or failed. */
class BodyWatch {
  /** Its end is known (read, cancelled, failed or collected): nothing left to watch. */
  settled = false;
  /** `body` as the caller reads it, made when first asked for. */
  stream: ReadableStream<Uint8Array> | null | undefined = undefined;
  constructor(
    readonly resolve: () => void,
    private readonly reject: (e: unknown) => void,
  ) {}

  done(): void {
    this.settled = true;
    this.resolve();
  }

  failed(e: unknown): void {
    this.settled = true;
    this.reject(e);
  }
}
/** Where a held response carries its watch (a property of its own: a WeakMap entry costs more,
 * and every garbage collection visits it). */
const WATCH = Symbol('seawall.watch');
const watchOf = (r: Response): BodyWatch | undefined => (r as unknown as { [WATCH]?: BodyWatch })[WATCH];

/**
 * Gives the slot and verdict of a held response dropped unread back when it is collected. A
 * registration costs ~4 µs (a quarter of what a request costs here) and nearly every response is
 * read at once, so responses are registered in batches, only those still unread: after
 * `UNREAD_SWEEP_MS`, or once `UNREAD_BATCH` wait. Until then they are held strongly, which only
 * delays a dropped one's collection by as much.
 */
let dropped: FinalizationRegistry<() => void> | undefined;
const UNREAD_SWEEP_MS = 100;
const UNREAD_BATCH = 256;
let unread: Array<Response | BodyWatch> = [];
/** The clock the next sweep is armed on: a clock swapped since (a test's virtual one put back)
 * may never fire, so a sweep is armed again on the one in force. */
let sweepOn: Clock | undefined;

function watchUntilCollected(r: Response, w: BodyWatch): void {
  unread.push(r, w);
  if (unread.length >= 2 * UNREAD_BATCH) return sweepUnread();
  const c = clock();
  if (sweepOn === c) return;
  sweepOn = c;
  // Weak: it must not keep a process alive that has nothing else to do.
  c.setTimer(UNREAD_SWEEP_MS, sweepUnread, true);
}

function sweepUnread(): void {
  sweepOn = undefined;
  const list = unread;
  unread = [];
  for (let i = 0; i < list.length; i += 2) {
    const w = list[i + 1] as BodyWatch;
    // Held by its promise's resolver alone: the watch itself may reach the body, and so the response.
    if (!w.settled) (dropped ??= new FinalizationRegistry((done) => done())).register(list[i] as Response, w.resolve);
  }
}

/** A body read through a stream of our own, done when read to its end or cancelled. The source is
 * locked only once read: a caller may look at `body` and then call `text()`. */
function watchedBody(source: ReadableStream<Uint8Array> | null, w: BodyWatch): ReadableStream<Uint8Array> | null {
  if (source === null) return null;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      pull: (c) =>
        (reader ??= source.getReader()).read().then(
          (chunk) => {
            if (chunk.done) {
              c.close();
              w.done();
            } else c.enqueue(chunk.value);
          },
          (e: unknown) => {
            c.error(e);
            w.failed(e);
          },
        ),
      cancel: (reason) => {
        w.done();
        return (reader ?? source).cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * What a held response is besides a `Response`: its body's readers report when the body ends.
 * `text()`, `json()` and the like settle it when they do (nothing wraps their bytes); `body`
 * hands out a watching stream. A clone is a plain response: the original's reading or its
 * collection settles it.
 */
function heldResponseProto(): object {
  const proto = Response.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const bodyOf = Object.getOwnPropertyDescriptor(Response.prototype, 'body')?.get;
  const held: PropertyDescriptorMap = {};
  if (bodyOf !== undefined) {
    held.body = {
      get(this: Response) {
        const w = watchOf(this);
        const source = bodyOf.call(this) as ReadableStream<Uint8Array> | null;
        return w === undefined ? source : w.stream === undefined ? (w.stream = watchedBody(source, w)) : w.stream;
      },
      configurable: true,
    };
  }
  for (const name of ['arrayBuffer', 'blob', 'bytes', 'text']) {
    const read = proto[name];
    if (typeof read !== 'function') continue;
    held[name] = {
      value(this: Response, ...args: unknown[]) {
        const w = watchOf(this);
        const reading = read.apply(this, args);
        return w === undefined
          ? reading
          : reading.then(
              (v) => (w.done(), v),
              (e: unknown) => {
                w.failed(e);
                throw e;
              },
            );
      },
      configurable: true,
      writable: true,
    };
  }
  // `json()` and `formData()` read the body, then parse it: a body that does not parse was still
  // read whole (the caller's error, not the dependency's failure).
  held.json = {
    value(this: Response) {
      return this.text().then((text) => JSON.parse(text) as unknown);
    },
    configurable: true,
    writable: true,
  };
  held.formData = {
    value(this: Response) {
      return this.arrayBuffer().then((bytes) => new Response(bytes, { headers: this.headers }).formData());
    },
    configurable: true,
    writable: true,
  };
  return Object.create(Response.prototype, held) as object;
}
let heldProto: object | undefined;

/**
 * `r`, held until its body is read to its end or cancelled, failed when reading it fails (the
 * connection cut mid-stream). The same object, so status, headers, URL and body are fetch's; a
 * response with no body, or not fetch's own `Response`, is done at once.
 */
function heldResponse(r: Response): Response {
  if (typeof Response === 'undefined' || !(r instanceof Response) || r.body === null) return r;
  let w!: BodyWatch;
  const ended = new Promise<void>((done, failed) => (w = new BodyWatch(done, failed)));
  // Its prototype swapped, then its watch and its end as properties of its own (symbols): every
  // held response goes through the same shapes.
  Object.setPrototypeOf(r, (heldProto ??= heldResponseProto()));
  const carrier = r as unknown as { [WATCH]: BodyWatch } & CarriesEnd;
  carrier[WATCH] = w;
  carrier[ENDED] = ended;
  watchUntilCollected(r, w);
  return r;
}

const FETCH_EXCHANGE: Exchange<Response> = {
  status: (r) => r.status,
  headers: (r) => r.headers,
  discard: (r) => void r.body?.cancel().catch(() => {}),
  hold: heldResponse,
};

/** One request as the policies see it: `send` makes an attempt under the signals given. */
export interface Outgoing<R> {
  method: string;
  /** Read only when the request is instrumented. */
  url(): string;
  replayable: boolean;
  callerSignal: AbortSignal | undefined;
  /** `headers`: added to the request's own (the attempt's trace context), when instrumented.
   * `signals` may be `CallSignal`s: read them as the policies do, or link them (`linkSignals`). */
  send(signals: Array<AbortSignal | undefined>, headers?: Record<string, string>): Promise<R>;
}

/**
 * The policy stack every HTTP integration runs its requests through, made once for its policies
 * and options (what does not depend on the request is worked out here, not per request): retries
 * outermost, then per attempt the rate limiter's place, the bulkhead's slot, the breaker and the
 * timeout. Which responses are retried is the core's rule; the last response is answered when the
 * retries run out on one, and a response that is retried is let go first.
 */
export function httpStack<R>(
  x: Exchange<R>,
  circuit: CircuitBreaker | undefined,
  options: ResilientFetchOptions,
  guards: { bulkhead?: CallGuard; rateLimiter?: CallGuard },
): HttpStack<R> {
  const { timeout, hedge, ...retry } = options;
  // Made when a request can be hedged (a lean module has no hedging: only such a request fails).
  let hedgePolicy: HedgePolicy | undefined;
  const hedgedFor = (out: Outgoing<R>): HedgePolicy | undefined => {
    if (hedge === undefined || hedge === null || !out.replayable) return undefined;
    const policy = (hedgePolicy ??= hedging().policyFor(hedge));
    return backend().hedgeable(out.method, policy.options.hedgeNonIdempotent === true) ? policy : undefined;
  };
  const userFilter = retry.retryableErrors ?? retry.retryOn;
  const filter = typeof userFilter === 'function' ? userFilter : undefined;
  const retryNonIdempotent = options.retryNonIdempotent === true;
  // Compiled once for equal options (a list of retryable errors is checked by the core too).
  const policy = policyFor(retry);
  const { bulkhead, rateLimiter } = guards;
  // A response answered holds its slot and the breaker's verdict until its body ends.
  const hold = circuit !== undefined || bulkhead !== undefined ? x.hold : undefined;
  const count = (r: R): 'success' | 'failure' | 'ignore' => countOf(x.status(r));
  const breakerTimeout = circuit?.config().timeout;
  // Capped by the deadline of the request this service is handling (its client's x-request-timeout).
  const attemptTimeoutNow = (): number | undefined => cappedTimeout(timeout ?? (typeof breakerTimeout === 'number' ? undefined : DEFAULT_ATTEMPT_TIMEOUT_MS));
  const slots = bulkhead === undefined ? undefined : (bulkhead as { [SLOTS]?: Slots })[SLOTS];
  const inlineable = rateLimiter === undefined && (hedge === undefined || hedge === null) && (bulkhead === undefined || slots !== undefined) && typeof breakerTimeout !== 'number' && typeof retry.retryOnResult !== 'function' && policy.firstAttemptFree;

  const answer = (out: Outgoing<R>, first?: Promise<R>): Promise<R> => {
    // A first attempt's failure may go unread (the caller gone by then: the retries start none).
    first?.catch(ignore);
    // What the core's classification needs to know of the request besides each attempt's outcome.
    const request: OutcomeFacts = { method: out.method, retryNonIdempotent };
    const hedged = hedgedFor(out);
    const attemptTimeout = attemptTimeoutNow();
    const { callerSignal } = out;
    const raises = (response: R): boolean => raisedBy(x, response, request);
    const once = (attempt: number, hedgeSignal?: AbortSignal): Promise<R> => {
      // Instrumented, each attempt is a span of its own whose context the request carries.
      const sink = observer.sink;
      let raised: boolean | undefined;
      const held = (response: R): R => ((raised = raises(response)) ? response : hold!(response));
      const send = (given: Array<AbortSignal | undefined>): Promise<R> => {
        // A hedged request is also aborted when another answered first.
        const signals = hedgeSignal === undefined ? given : [...given, hedgeSignal];
        const sent = sink !== undefined ? sink.http(out.method, out.url(), attempt - 1, (headers) => out.send(signals, headers), (r) => x.status(r)) : out.send(signals);
        return hold !== undefined ? sent.then(held) : sent;
      };
      // The attempt's deadline is a light signal: the transport reads it, or makes it real.
      const run = (signal?: AbortSignal): Promise<R> =>
        attemptTimeout !== undefined ? runWithTimeout((s) => send([s, signal]), attemptTimeout, callerSignal, undefined, true) : send([signal]);
      // The caller's signal reaches every layer (and each attempt through `send`).
      const guarded = (): Promise<R> => (circuit !== undefined ? circuit.executeClassified(run, count, callerSignal) : run());
      const slotted = bulkhead !== undefined ? () => bulkhead.execute(guarded, signalFor(bulkhead, callerSignal)) : guarded;
      let answered: Promise<R>;
      try {
        answered = rateLimiter !== undefined ? rateLimiter.execute(() => slotted(), signalFor(rateLimiter, callerSignal)) : slotted();
      } catch (e) {
        return Promise.reject(e);
      }
      return answered.then((response) => {
        if (raised ?? raises(response)) throw new HttpStatusError(response, x.status(response), x.headers(response));
        return response;
      });
    };

    // Hedged: each retry attempt is a hedged call of requests; every response but the one answered
    // is let go (a failed request's, or a second good one that came as the first was chosen).
    const attemptOf = hedged === undefined
      ? once
      : (attempt: number): Promise<R> => {
          const got: R[] = [];
          const letGoBut = (kept: unknown): void => {
            for (const r of got) if (r !== kept) x.discard(r);
          };
          return hedged
            .run(
              (_k, signal) =>
                once(attempt, signal).then(
                  (r) => (got.push(r), r),
                  (e: unknown) => {
                    if (e instanceof HttpStatusError) got.push(e.response as R);
                    throw e;
                  },
                ),
              hedged.options,
              callerSignal,
              request,
            )
            .then(
              (r) => (letGoBut(r), r),
              (e: unknown) => {
                letGoBut(e instanceof HttpStatusError ? e.response : undefined);
                throw e;
              },
            );
        };

    if (!out.replayable) {
      return (first ?? once(1)).catch((e: unknown) => {
        if (e instanceof HttpStatusError) return e.response as R;
        throw e;
      });
    }
    let last: R | undefined;
    return policy
      .run(
        (attempt) => {
          let tried: Promise<R>;
          try {
            if (last !== undefined) x.discard(last);
            tried = attempt === 1 && first !== undefined ? first : attemptOf(attempt);
          } catch (e) {
            return Promise.reject(e);
          }
          return tried.catch((e: unknown) => {
            if (e instanceof HttpStatusError) last = e.response as R;
            throw e;
          });
        },
        retry,
        callerSignal,
        filter,
        request,
      )
      .catch((e: unknown) => {
        // Out of retries on an HTTP failure: answer the last response, as fetch would.
        if (e instanceof HttpStatusError) return e.response as R;
        const status = statusOf(e);
        if (status !== undefined && last !== undefined && x.status(last) === status) return last;
        // Ended otherwise (an open breaker, a timeout, a network error after a 503): the last
        // response goes to nobody, so it is let go here rather than left to the GC.
        if (last !== undefined) x.discard(last);
        throw e;
      });
  };
  // A request that cannot even start (a bad option met late, a lean module's missing part) is a
  // rejection, as from the rest of the stack.
  const stack = ((out: Outgoing<R>, first?: Promise<R>): Promise<R> => {
    try {
      return answer(out, first);
    } catch (e) {
      return Promise.reject(e);
    }
  }) as HttpStack<R>;
  stack.inline = inlineable ? { x, circuit, slots, hold, retryNonIdempotent, budget: retry.budget, attemptTimeout: attemptTimeoutNow } : undefined;
  return stack;
}

const ignore = (): void => {};

/** A response the core would retry goes to the retry loop as an error (it answers the last one
 * when it gives up): a failure, or a status the breaker ignores but the core retries (408). */
export function raisedBy<R>(x: Exchange<R>, response: R, request: OutcomeFacts, counted = countOf(x.status(response))): boolean {
  if (counted !== 'ignore') return counted === 'failure';
  const { decision } = classifyOutcome({ ...errorFacts({ status: x.status(response), headers: x.headers(response) }), ...request });
  return decision === 'retry' || decision === 'rateLimited';
}

/** An integration's policy stack: `stack(out)` answers a request; `first`, when given, is its
 * first attempt's outcome already (the retries and the last answer go on from it). */
export interface HttpStack<R> {
  (out: Outgoing<R>, first?: Promise<R>): Promise<R>;
  /** What a first attempt run inline needs (`inline.ts`), when every per-attempt policy offers its
   * steps (a bulkhead of ours, a breaker with no timeout of its own) and nothing else needs a
   * promise per layer (a rate limiter, hedging, a result predicate, an overall deadline). */
  inline: InlineParts<R> | undefined;
}

export interface InlineParts<R> {
  x: Exchange<R>;
  circuit: CircuitBreaker | undefined;
  slots: Slots | undefined;
  /** Marks an answer as working until its body ends (when a slot or a verdict waits for it). */
  hold: ((response: R) => R) | undefined;
  retryNonIdempotent: boolean;
  budget: { recordSuccess(): void } | undefined;
  /** The attempt's timeout for a request starting now. */
  attemptTimeout(): number | undefined;
}
