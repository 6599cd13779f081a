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
async function fetchLinked(input: string | URL | Request, init: RequestInit, signals: Array<AbortSignal | undefined>): Promise<Response> {
  const { signal, unlink } = linkSignals(signals);
  try {
    return await fetch(input, { ...init, signal: signal ?? null });
  } catch (e) {
    unlink();
    throw e;
  }
}

export async function resilientFetch(
  input: string | URL | Request,
  init: RequestInit = {},
  circuit?: CircuitBreaker,
  backoffOptions: ResilientFetchOptions = {},
): Promise<Response> {
  if (circuit !== undefined && circuit !== null && !(circuit instanceof CircuitBreaker)) throw argumentError({ circuit });
  checkOptionsArg(backoffOptions);
  backoffOptions ??= {};
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

  const once = async (): Promise<Response> => {
    const call = (...signals: Array<AbortSignal | undefined>) => fetchLinked(input, init, [...signals, init.signal ?? undefined]);
    const run = (signal?: AbortSignal): Promise<Response> =>
      attemptTimeout !== undefined ? runWithTimeout((s) => call(s, signal), attemptTimeout, init.signal ?? undefined) : call(signal);
    const response =
      circuit !== undefined
        ? await circuit.executeClassified(run, (r) => countOf(r.status), init.signal ?? undefined)
        : await run();
    // A response the core would retry goes to the retry loop as an error (it answers the last one
    // when it gives up): a failure, or a status the breaker ignores but the core retries (408).
    const count = countOf(response.status);
    if (count === 'failure' || (count === 'ignore' && retried(response))) throw new HttpStatusError(response);
    return response;
  };

  let last: Response | undefined;
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
      init.signal ?? undefined,
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
