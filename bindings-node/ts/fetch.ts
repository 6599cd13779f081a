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
import { argumentError, checkOptionsArg } from './options.js';
import { backend } from './backend.js';
import { classifyOutcome, errorFacts, type OutcomeFacts, policyFor, type RetryOptions, statusOf } from './retry.js';
import { runWithTimeout } from './timeout.js';

export interface ResilientFetchOptions extends RetryOptions {
  /** Per-attempt timeout, ms (default: the breaker's `timeout`, else 30000). */
  timeout?: number;
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

/** A response the breaker counted as a failure, thrown so that the retry loop sees it. */
export class HttpStatusError extends Error {
  readonly status: number;
  readonly response: Response;
  readonly retryAfter: number | undefined;
  constructor(response: Response) {
    super(`HTTP ${response.status} ${response.statusText}`.trim());
    this.name = 'HttpStatusError';
    this.status = response.status;
    this.response = response;
    // The server's delay as the core reads it (retry-after-ms, then Retry-After).
    this.retryAfter = classifyOutcome(errorFacts({ response })).retryAfterMs ?? undefined;
  }
}

/** How a breaker counts a response, by the core's rule. */
const COUNTS = ['success', 'failure', 'ignore'] as const;
const countOf = (status: number): (typeof COUNTS)[number] => COUNTS[backend().countStatus(status)] ?? 'failure';

/** The controller behind each linked signal, alive as long as the signal is (a WeakMap). */
const controllerOf = new WeakMap<AbortSignal, AbortController>();
/** Unhooks a linked signal's listeners once the signal is collected. */
const unlinkWhenCollected = new FinalizationRegistry<() => void>((unlink) => unlink());

/**
 * A signal that aborts when any of `signals` does. The fetch keeps it while the body streams,
 * and the caller's signal may live for the whole process (a shutdown signal): a listener that
 * held the linked signal strongly would stay on it for every request ever made. So listeners
 * hold it weakly and leave when it is collected, or at once through `unlink` when the request
 * failed (nothing streams).
 */
function linkSignals(signals: Array<AbortSignal | undefined>): { signal: AbortSignal | undefined; unlink: () => void } {
  const list = [...new Set(signals.filter((s): s is AbortSignal => s !== undefined))];
  if (list.length <= 1) return { signal: list[0], unlink: () => {} };
  const c = new AbortController();
  const linked = new WeakRef(c.signal);
  controllerOf.set(c.signal, c);
  const hooks: Array<[AbortSignal, () => void]> = [];
  const unlink = (): void => {
    for (const [s, onAbort] of hooks.splice(0)) s.removeEventListener('abort', onAbort);
  };
  for (const s of list) {
    if (s.aborted) {
      unlink();
      c.abort(s.reason);
      return { signal: c.signal, unlink };
    }
    const onAbort = (): void => {
      const signal = linked.deref();
      if (signal !== undefined) controllerOf.get(signal)?.abort(s.reason);
    };
    s.addEventListener('abort', onAbort, { once: true });
    hooks.push([s, onAbort]);
  }
  unlinkWhenCollected.register(c.signal, unlink);
  return { signal: c.signal, unlink };
}

/** `fetch` under the signals linked: unlinked at once when it fails. */
async function fetchLinked(
  fetchImpl: typeof fetch | undefined,
  input: string | URL | Request,
  init: RequestInit,
  signals: Array<AbortSignal | undefined>,
): Promise<Response> {
  const { signal, unlink } = linkSignals(signals);
  try {
    return await (fetchImpl ?? fetch)(input, { ...init, signal: signal ?? null });
  } catch (e) {
    unlink();
    throw e;
  }
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
  return guardedFetch(input, init ?? {}, circuit ?? undefined, backoffOptions ?? {}, {});
}

/**
 * A `fetch` for any SDK's `fetch` option (openai, @anthropic-ai/sdk, ky …): the same signature,
 * `Request` objects and `init.signal` taken, the `Response` answered untouched. Per request,
 * retries outermost; per attempt the rate limiter's place, the bulkhead's slot, the breaker and
 * the timeout. A body given as a stream cannot be sent again: such a request runs once.
 * Turn the SDK's own retries off (`maxRetries: 0`) so that one policy decides.
 */
export function createResilientFetch(config: ResilientFetchConfig = {}): typeof fetch {
  checkOptionsArg(config);
  const { circuitBreaker, bulkhead, rateLimiter, fetch: fetchImpl, ...options } = config ?? {};
  if (circuitBreaker !== undefined && !(circuitBreaker instanceof CircuitBreaker)) throw argumentError({ circuit: circuitBreaker });
  // Checked now: a bad option is named when the fetch is made, not at its first request.
  policyFor((({ timeout: _t, ...retry }) => retry)(options));
  const guards = { bulkhead, rateLimiter, fetchImpl };
  return ((input: string | URL | Request, init?: RequestInit) => guardedFetch(input, init ?? {}, circuitBreaker, options, guards)) as typeof fetch;
}

async function guardedFetch(
  input: string | URL | Request,
  init: RequestInit,
  circuit: CircuitBreaker | undefined,
  backoffOptions: ResilientFetchOptions,
  guards: { bulkhead?: CallGuard; rateLimiter?: CallGuard; fetchImpl?: typeof fetch },
): Promise<Response> {
  // What the core's classification needs to know of the request besides each attempt's outcome.
  const request: OutcomeFacts = {
    method: init.method ?? (input instanceof Request ? input.method : 'GET'),
    retryNonIdempotent: backoffOptions.retryNonIdempotent === true,
  };
  const { timeout, ...retry } = backoffOptions;
  const userFilter = retry.retryableErrors ?? retry.retryOn;
  const filter = typeof userFilter === 'function' ? userFilter : undefined;
  const retried = (response: Response): boolean => {
    const { decision } = classifyOutcome({ ...errorFacts({ response }), ...request });
    return decision === 'retry' || decision === 'rateLimited';
  };
  // Compiled once for equal options (a list of retryable errors is checked by the core too).
  const policy = policyFor(retry);
  const breakerTimeout = circuit?.config().timeout;
  const attemptTimeout = timeout ?? (typeof breakerTimeout === 'number' ? undefined : DEFAULT_ATTEMPT_TIMEOUT_MS);

  // A Request is sent as a copy each attempt (its body is read once); a body given as a stream
  // cannot be copied, so that request runs once.
  const template = input instanceof Request ? input : undefined;
  const replayable = !(typeof ReadableStream !== 'undefined' && init.body instanceof ReadableStream);
  const callerSignal = init.signal ?? template?.signal ?? undefined;
  const { bulkhead, rateLimiter, fetchImpl } = guards;
  const once = async (): Promise<Response> => {
    const target = template !== undefined ? template.clone() : input;
    const call = (...signals: Array<AbortSignal | undefined>) => fetchLinked(fetchImpl, target, init, [...signals, callerSignal]);
    const run = (signal?: AbortSignal): Promise<Response> =>
      attemptTimeout !== undefined ? runWithTimeout((s) => call(s, signal), attemptTimeout, callerSignal) : call(signal);
    // The caller's signal reaches every layer (and each attempt's fetch through `call`).
    const guarded = (): Promise<Response> =>
      circuit !== undefined ? circuit.executeClassified(run, (r) => countOf(r.status), callerSignal) : run();
    const slotted = bulkhead !== undefined ? () => bulkhead.execute(guarded, callerSignal) : guarded;
    const response = await (rateLimiter !== undefined ? rateLimiter.execute(() => slotted(), callerSignal) : slotted());
    // A response the core would retry goes to the retry loop as an error (it answers the last one
    // when it gives up): a failure, or a status the breaker ignores but the core retries (408).
    const count = countOf(response.status);
    if (count === 'failure' || (count === 'ignore' && retried(response))) throw new HttpStatusError(response);
    return response;
  };

  let last: Response | undefined;
  if (!replayable) {
    try {
      return await once();
    } catch (e) {
      if (e instanceof HttpStatusError) return e.response;
      throw e;
    }
  }
  try {
    return await policy.run(
      async () => {
        if (last !== undefined) await last.body?.cancel().catch(() => {});
        return once().catch((e: unknown) => {
          if (e instanceof HttpStatusError) last = e.response;
          throw e;
        });
      },
      retry,
      callerSignal,
      filter,
      request,
    );
  } catch (e) {
    // Out of retries on an HTTP failure: answer the last response, as fetch would.
    if (e instanceof HttpStatusError) return e.response;
    const status = statusOf(e);
    if (status !== undefined && last !== undefined && last.status === status) return last;
    // Ended otherwise (an open breaker, a timeout, a network error after a 503): the last
    // response goes to nobody, so its body is cancelled here rather than left to the GC.
    void last?.body?.cancel().catch(() => {});
    throw e;
  }
}
