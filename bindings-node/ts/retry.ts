/**
 * Retries. The core decides whether and when to retry (attempts, backoff and jitter, deadline,
 * Retry-After cap, budget); this module classifies failures, sleeps (interruptibly, on the
 * installed clock) and calls again.
 */
import { attemptEnded, errorType, listening, NONE, observed, observer, report } from './telemetry.js';
import { backend, type Backend } from './backend.js';
import { clock, nowArg, preciseNow } from './clock.js';
import { native, RetryBudgetExhaustedError } from './errors.js';
import type { FleetOptions, QuotaStatus, QuotaSync } from './fleet.js';
import { fleetDrivers } from './fleet-install.js';
import { MAX_COMPILED, PolicyCache } from './compiled.js';
import { requestSignal } from './request-context.js';
import { argumentError, badCall, checkFiniteArg, checkOptionsArg, isPlainObject, optionsJson } from './options.js';

export type RetryPredicate = (error: unknown, attempt: number) => boolean;

export interface RetryOptions {
  /** Total calls, the first included (default 3). */
  maxAttempts?: number;
  /** Retries after the first call (`maxAttempts = maxRetries + 1`). */
  maxRetries?: number;
  /** Delay before the first retry, ms (default 500). Alias: `initialDelay`. */
  baseDelay?: number;
  initialDelay?: number;
  /** Cap on one delay, ms (default 4000). */
  maxDelay?: number;
  backoff?: 'constant' | 'linear' | 'exponential' | 'decorrelated' | 'decorrelated-polly';
  backoffMultiplier?: number;
  backoffStep?: number;
  /** `true` (default: ±10%), `false`, or a mode. */
  jitter?: boolean | 'none' | 'full' | 'equal' | 'proportional' | 'additive';
  jitterFactor?: number;
  jitterMax?: number;
  /** Give up rather than start an attempt this long after the first began, ms. */
  maxElapsed?: number;
  /** The longest Retry-After to honour, ms (default 60000); longer gives up at once. */
  maxRetryAfter?: number;
  /** Which failures to retry: error codes, names or HTTP statuses, or a predicate. */
  retryableErrors?: ReadonlyArray<string | number> | RetryPredicate;
  retryOn?: ReadonlyArray<string | number> | RetryPredicate;
  /**
   * A returned value it answers `true` for is a failure, retried as one (cockatiel's
   * `handleWhenResult`, tenacity's `retry_if_result`); when the retries run out, the last such
   * value is answered.
   */
  retryOnResult?(result: unknown): boolean;
  /** Called before each retry: (retry number, error, delay ms). */
  onRetry?(attempt: number, error: unknown, delay: number): void;
  /** Called when retrying stops: (error, attempts, reason). */
  onGiveUp?(error: unknown, attempts: number, reason: string): void;
  /** Aborts the call, including a backoff sleep in progress. */
  signal?: AbortSignal;
  /** A shared retry budget (against retry storms). */
  budget?: RetryBudget;
  /** Counts retries under this name in `retry_attempts_total`. */
  name?: string;
  /** Retry POST/PATCH even after the request may have reached the server. */
  retryNonIdempotent?: boolean;
  /** Seed of the jitter generator (default: random). Fixed seeds give repeatable delays. */
  seed?: number;
}

const GIVE_UP = ['NOT_RETRYABLE', 'ATTEMPTS_EXHAUSTED', 'DEADLINE_EXCEEDED', 'BUDGET_EXHAUSTED', 'RETRY_AFTER_TOO_LONG'] as const;

function randomSeed(): number {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  // 53 bits: exact as a JS number.
  return (words[0] as number) * 2 ** 21 + ((words[1] as number) >>> 11);
}

const policyFinalizer = new FinalizationRegistry<{ b: Backend; h: number }>(({ b, h }) => b.retryPolicyDrop(h));
const budgetFinalizer = new FinalizationRegistry<{ b: Backend; h: number }>(({ b, h }) => b.budgetDrop(h));

export interface RetryBudgetOptions {
  /** The budget's name (required with `fleet`: its key in Redis). */
  name?: string;
  /** Tokens a success deposits (default 0.2: one retry per five successes). */
  ratio?: number;
  /** Tokens earned per second with no traffic (default 1). */
  minRetriesPerSecond?: number;
  /** Most tokens held, and the starting balance (default 10). */
  maxTokens?: number;
  /**
   * One budget for every replica with this name, through Redis (`{ redis, syncInterval?,
   * staleAfter?, keyPrefix? }`): the replicas share `minRetriesPerSecond` and `maxTokens`, each
   * holding its part; a retry never waits for Redis.
   */
  fleet?: Omit<FleetOptions, 'minReplicas'>;
}

export interface RetryBudgetStats {
  name: string | undefined;
  ratio: number;
  minRetriesPerSecond: number;
  maxTokens: number;
  tokens: number;
  /** Retries the budget allowed. */
  withdrawn: number;
  /** Retries it refused. */
  refused: number;
  /** Fleet mode: `shared` while Redis answers (`local`: an equal part per replica last seen), the
   * replicas at the last sync, whether it is recent, this replica's part (`share` tokens per
   * second, at most `cap` tokens held), and sync counts. */
  fleet?: { syncInterval: number; staleAfter: number; mode: 'shared' | 'local'; replicas: number; fresh: boolean; share: number; cap: number } & QuotaStatus;
}

/** A token bucket shared by many calls: retries withdraw, successes deposit. */
export class RetryBudget {
  readonly #b: Backend;
  readonly name: string | undefined;
  /** @internal */
  readonly handle: number;
  #fleet: QuotaSync | undefined;
  constructor(options: RetryBudgetOptions = {}) {
    checkOptionsArg(options);
    this.#b = backend();
    // The core checks every option (a fleet needs a name and a trickle to share).
    this.handle = native(() => this.#b.budgetCreate(optionsJson(options), false, clock().now()));
    budgetFinalizer.register(this, { b: this.#b, h: this.handle });
    this.name = typeof options?.name === 'string' ? options.name : undefined;
    if (options?.fleet != null) this.#joinFleet(options.fleet);
  }

  #joinFleet(options: FleetOptions): void {
    const b = this.#b;
    const h = this.handle;
    const stats = JSON.parse(native(() => b.budgetStats(h, nowArg()))) as { fleet: { syncInterval: number } };
    this.#fleet = fleetDrivers().quota('budget', this.name as string, stats.fleet, options, h);
  }

  get tokens(): number {
    return this.#b.budgetTokens(this.handle, clock().now());
  }

  /** Fleet mode: syncs with the other replicas now (the background sync does it every `syncInterval`). */
  syncFleet(): Promise<void> {
    return this.#fleet?.syncNow() ?? Promise.resolve();
  }

  /** Fleet mode: stops syncing (this budget then runs on an equal part per replica last seen). */
  leaveFleet(): void {
    this.#fleet?.leave();
  }

  getStats(): RetryBudgetStats {
    const stats = { name: this.name, ...(JSON.parse(native(() => this.#b.budgetStats(this.handle, nowArg()))) as Omit<RetryBudgetStats, 'name'>) };
    if (stats.fleet !== undefined && this.#fleet !== undefined) Object.assign(stats.fleet, this.#fleet.status);
    return stats;
  }

  /** @internal */
  recordSuccess(): void {
    this.#b.budgetRecordSuccess(this.handle, clock().now());
  }
}

/**
 * A Retry-After header (delay-seconds, or an HTTP date in any of RFC 9110's three forms) as
 * milliseconds from now; undefined when absent or unreadable. Read by the core, so Node, the
 * browser and Python agree on every value (`Date.parse` alone would take almost any text).
 */
export function parseRetryAfter(value: string | null | undefined, nowEpochMs = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = backend().retryAfter(String(value), nowEpochMs);
  return Number.isNaN(ms) ? undefined : ms;
}

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  status?: unknown;
  statusCode?: unknown;
  retryAfter?: unknown;
  cause?: unknown;
  response?: { status?: unknown; headers?: unknown };
  headers?: unknown;
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => string | null } & Record<string, unknown>;
  if (typeof h.get === 'function') return h.get(name) ?? undefined;
  const v = h[name] ?? h[name.toLowerCase()];
  return typeof v === 'string' ? v : undefined;
}

/** The identifiers a retryable-errors list is matched against: code, name, HTTP status, cause code. */
export function errorIds(error: unknown): string[] {
  if (error === null || typeof error !== 'object') return [String(error)];
  const e = error as ErrorLike;
  const ids: string[] = [];
  for (const v of [e.code, e.name, e.status, e.statusCode, e.response?.status, (e.cause as ErrorLike | undefined)?.code, (error as object).constructor?.name]) {
    if (typeof v === 'string' || typeof v === 'number') ids.push(String(v));
  }
  return ids;
}

/** HTTP status of an error, if it carries one. */
export function statusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as ErrorLike;
  for (const v of [e.status, e.statusCode, e.response?.status]) if (typeof v === 'number') return v;
  return undefined;
}

/** The headers the core reads of a failed attempt's response (lower-case names). */
const SERVER_HEADERS = ['retry-after', 'retry-after-ms', 'x-should-retry'] as const;

/**
 * What the shell can tell of an outcome, for the core's classification (core/src/outcome.rs):
 * for an error, its status, the server's headers, the delay it carries, and its codes (its own,
 * its cause's, `NETWORK` for undici's "fetch failed", its name); a response's status and headers.
 */
export interface OutcomeFacts {
  error?: boolean;
  status?: number;
  codes?: string[];
  method?: string;
  retryNonIdempotent?: boolean;
  headers?: Record<string, string>;
  retryAfterMs?: number;
  filter?: boolean;
  cancelled?: boolean;
}

function headersOf(...sources: unknown[]): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of SERVER_HEADERS) {
    for (const h of sources) {
      const v = headerOf(h, name);
      if (v !== undefined) {
        (out ??= {})[name] = v;
        break;
      }
    }
  }
  return out;
}

/** The facts of a failed attempt's error. */
export function errorFacts(error: unknown): OutcomeFacts {
  const facts: OutcomeFacts = { error: true };
  if (error === null || typeof error !== 'object') return facts;
  const e = error as ErrorLike;
  const status = statusOf(error);
  if (status !== undefined) facts.status = status;
  const headers = headersOf(e.headers, e.response?.headers);
  if (headers !== undefined) facts.headers = headers;
  if (typeof e.retryAfter === 'number') facts.retryAfterMs = e.retryAfter;
  const cause = e.cause as ErrorLike | undefined;
  const codes: string[] = [];
  for (const c of [e.code, cause?.code]) if (typeof c === 'string') codes.push(c);
  // undici's network failures: a TypeError "fetch failed" whose cause says what broke.
  if (error instanceof TypeError && e.cause !== undefined && (error as Error).message === 'fetch failed') codes.push('NETWORK');
  if (typeof e.name === 'string') codes.push(e.name);
  if (codes.length > 0) facts.codes = codes;
  return facts;
}

/** The core's verdict on an outcome. */
export interface Verdict {
  decision: 'success' | 'retry' | 'rateLimited' | 'giveUp' | 'notCounted';
  retryAfterMs: number | null;
  count: 'success' | 'failure' | 'ignore';
  /** What it means for a hedged attempt. */
  attempt: 'success' | 'failure' | 'fatal' | 'cancelled';
}

export function classifyOutcome(facts: OutcomeFacts): Verdict {
  return JSON.parse(backend().classifyOutcome(JSON.stringify(facts), Date.now())) as Verdict;
}

/** The failure filter a call was given, when it is a function (a list is compiled by the core). */
function predicateOf(o: RetryOptions): RetryPredicate | undefined {
  const filter = o.retryableErrors ?? o.retryOn;
  return typeof filter === 'function' ? filter : undefined;
}

/**
 * A retry policy: options checked once by the core, then `execute` as often as needed.
 * `withBackoff` and `executeWithRetry` share one of these between calls whose options are equal
 * (see `policyFor`); the call's own hooks (`onRetry`, `signal`, `budget`, …) come from its options.
 */
export class RetryPolicy {
  readonly #b: Backend;
  readonly #h: number;
  readonly options: RetryOptions;
  readonly #hasList: boolean;
  /** Only a policy with a deadline needs the start time; others skip a clock read per call. */
  readonly #timesStart: boolean;

  constructor(options: RetryOptions = {}) {
    checkOptionsArg(options);
    options ??= {};
    this.#b = backend();
    this.options = options;
    const { seed, ...rest } = options;
    this.#h = native(() => this.#b.retryPolicyCreate(optionsJson(rest), false, seed ?? randomSeed()));
    policyFinalizer.register(this, { b: this.#b, h: this.#h });
    this.#hasList = Array.isArray(options.retryableErrors ?? options.retryOn);
    this.#timesStart = (JSON.parse(this.#b.retryPolicyInfo(this.#h)) as { maxElapsed: number | null }).maxElapsed !== null;
  }

  /**
   * The core's verdict on a failed attempt, as the retry machine takes it: [0 retryable, 1 not,
   * 2 rate-limited; the server's delay, ms, or NaN]. `request`: what an HTTP integration knows
   * of the request (its method, whether the caller cancelled).
   */
  #classify(error: unknown, attempt: number, predicate: RetryPredicate | undefined, request: OutcomeFacts | undefined): [number, number] {
    const facts = { ...errorFacts(error), ...request };
    // The user's filters: a function, and a list of error ids the core matches (a rejected
    // result was judged by its own predicate).
    if ((predicate !== undefined || this.#hasList) && !(error instanceof RejectedResult)) {
      facts.filter = (predicate === undefined || predicate(error, attempt)) && (!this.#hasList || this.#b.retryIsRetryable(this.#h, errorIds(error)));
    }
    const v = classifyOutcome(facts);
    const cls = v.decision === 'retry' ? 0 : v.decision === 'rateLimited' ? 2 : 1;
    return [cls, v.retryAfterMs ?? Number.NaN];
  }

  /** Calls `fn` (with the attempt number and the abort signal) until it succeeds or the policy gives up. */
  execute<T>(fn: (attempt: number, signal?: AbortSignal) => T | PromiseLike<T>, signal: AbortSignal | undefined = requestSignal(this.options.signal)): Promise<T> {
    const bad = badCall(fn, signal);
    if (bad !== undefined) return Promise.reject(bad);
    return this.run(fn, this.options, signal, predicateOf(this.options));
  }

  /** @internal Whether a call's first attempt may run before the policy is asked anything (no
   * overall deadline to time from its start). */
  get firstAttemptFree(): boolean {
    return !this.#timesStart;
  }

  /**
   * @internal `execute` with another call's hooks: `o` must compile to this policy (equal
   * options, as `policyFor` ensures); its callbacks, budget and name are used for this call.
   */
  run<T>(
    fn: (attempt: number, signal?: AbortSignal) => T | PromiseLike<T>,
    o: RetryOptions,
    signal: AbortSignal | undefined,
    predicate: RetryPredicate | undefined,
    request?: OutcomeFacts,
  ): Promise<T> {
    const rejects = o.retryOnResult;
    if (typeof rejects === 'function') {
      // A rejected value goes to the retry loop as a failure; the last one is the answer.
      const judged = async (attempt: number, s?: AbortSignal): Promise<T> => {
        const value = await fn(attempt, s);
        if (rejects(value)) throw new RejectedResult(value);
        return value;
      };
      return this.#attempts(judged, o, signal, predicate, NO_FAILURE, request).catch((e: unknown) => {
        if (e instanceof RejectedResult) return e.result as T;
        throw e;
      });
    }
    if (this.#timesStart || observer.sink !== undefined) return this.#attempts(fn, o, signal, predicate, NO_FAILURE, request);
    // The common call (no deadline, not instrumented): the first attempt settles without an
    // async frame of ours (~60 ns of the seeds' per-call forms, ~300 ns of an HTTP integration's
    // request); a failure goes on in `#attempts` (which ends there if the caller's signal did).
    let first: Promise<T>;
    try {
      signal?.throwIfAborted();
      first = Promise.resolve(fn(1, signal));
    } catch (error) {
      first = Promise.reject(error);
    }
    const budget = o.budget;
    const succeeded = budget === undefined ? undefined : (v: T) => (budget.recordSuccess(), v);
    return first.then(succeeded, (error: unknown) => this.#attempts(fn, o, signal, predicate, error, request));
  }

  /** The attempts from the first, or after the first failed with `failed`. */
  async #attempts<T>(
    fn: (attempt: number, signal?: AbortSignal) => T | PromiseLike<T>,
    o: RetryOptions,
    signal: AbortSignal | undefined,
    predicate: RetryPredicate | undefined,
    failed: unknown,
    request: OutcomeFacts | undefined,
  ): Promise<T> {
    const b = this.#b;
    const startedAt = this.#timesStart ? clock().now() : Number.NaN;
    let call = -1;
    let attempt = 1;
    let pending = failed;
    // Attempts are timed only while instrumented (the first one's failure, when given, was not).
    const timed = observer.sink !== undefined && failed === NO_FAILURE;
    let attemptStart = Number.NaN;
    try {
      for (;;) {
        try {
          if (pending !== NO_FAILURE) {
            const error = pending;
            pending = NO_FAILURE;
            throw error;
          }
          signal?.throwIfAborted();
          if (timed) attemptStart = preciseNow();
          const v = await fn(attempt, signal);
          if (timed) attemptEnded(o.name, attempt, attemptStart, NONE);
          o.budget?.recordSuccess();
          return v;
        } catch (error) {
          if (timed && !Number.isNaN(attemptStart)) attemptEnded(o.name, attempt, attemptStart, error);
          attemptStart = Number.NaN;
          if (signal?.aborted) throw error;
          const [cls, retryAfter] = this.#classify(error, attempt, predicate, request);
          if (call < 0) call = native(() => b.retryStart(this.#h, Number.isNaN(startedAt) ? clock().now() : startedAt));
          const [value, next] = native(() => b.retryOnFailure(call, nowArg(), cls, retryAfter, o.budget?.handle ?? -1)) as [number, number, number];
          if (value < 0) {
            const reason = GIVE_UP[-value - 1] ?? 'ATTEMPTS_EXHAUSTED';
            if (listening('retry.gave_up')) report('retry.gave_up', { policy: o.name, attempts: next, reason, errorType: errorType(error) });
            if (reason === 'BUDGET_EXHAUSTED' && listening('call.rejected')) report('call.rejected', { policy: o.name, by: 'budget', code: 'RETRY_BUDGET_EXHAUSTED' });
            o.onGiveUp?.(error, next, reason);
            if (reason === 'BUDGET_EXHAUSTED') throw new RetryBudgetExhaustedError(next, error);
            throw error;
          }
          if (o.name !== undefined) b.recordRetryAttempt(o.name);
          if (listening('retry.scheduled')) report('retry.scheduled', { policy: o.name, attempt: next - 1, delayMs: value, errorType: errorType(error) });
          o.onRetry?.(next - 1, error, value);
          await clock().sleep(value, signal);
          attempt = next;
        }
      }
    } finally {
      if (call >= 0) b.retryEnd(call);
    }
  }
}

// Instrumented, a call is observed under the name its options give (`execute` goes through `run`).
observed(RetryPolicy.prototype, 'run', 'retry', (_p, args) => (args[1] as RetryOptions | undefined)?.name);

/** A value `retryOnResult` rejected, carried through the retry loop as its failure. */
class RejectedResult extends Error {
  readonly code = 'RESULT_REJECTED';
  constructor(readonly result: unknown) {
    super('the result was rejected by retryOnResult');
    this.name = 'RejectedResult';
  }
}

/** No failure to go on from: `#attempts` starts with a first attempt. */
const NO_FAILURE: unique symbol = Symbol('no failure');

const compiledPolicies = new PolicyCache((o) => new RetryPolicy(o as RetryOptions));

/** The compiled policy for these options (the same one for equal options, see `PolicyCache`). */
export function policyFor(options: RetryOptions | undefined): RetryPolicy {
  return compiledPolicies.get(options ?? {});
}

/**
 * Calls `fn` until it succeeds, backing off between attempts. `maxRetries: 3` makes up
 * to four calls. Rejects with the last error when the policy gives up.
 */
export function withBackoff<T>(fn: (attempt: number, signal?: AbortSignal) => T | PromiseLike<T>, options?: RetryOptions | RetryPolicy): Promise<T> {
  try {
    if (options instanceof RetryPolicy) return options.execute(fn);
    if (typeof fn !== 'function') throw argumentError({ fn });
    checkOptionsArg(options);
    const o = options ?? {};
    return policyFor(o).run(fn, o, requestSignal(o.signal), predicateOf(o));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** `withBackoff` by the name resilience managers give it. */
export function executeWithRetry<T>(fn: (attempt: number, signal?: AbortSignal) => T | PromiseLike<T>, config?: RetryOptions | RetryPolicy): Promise<T> {
  return withBackoff(fn, config);
}

/** Presets read from the core once per arguments (callers write them inline, per call); the
 * last one asked for is found without building a key. */
interface Preset {
  options: RetryOptions;
  /** Which of its fields hold arrays (copied for each caller). */
  arrays: string[];
}
const presets = new Map<string, Preset>();
let last: { kind: string; a: unknown; b: unknown; c: unknown; preset: Preset } | undefined;

/** A preset's number as the core takes it: NaN for "not given" (undefined or null). */
function given(x: unknown): number {
  return x === undefined || x === null ? Number.NaN : (x as number);
}

function preset(kind: string, args: readonly string[], a?: unknown, b?: unknown, c?: unknown): RetryOptions {
  let p: Preset;
  if (last !== undefined && last.kind === kind && Object.is(last.a, a) && Object.is(last.b, b) && Object.is(last.c, c)) {
    p = last.preset;
  } else {
    // A number that is not one, or not finite, is named by the core; its range is checked with
    // the options it makes (so `exponential(-3)` fails here, not on the first call).
    const values = [a, b, c];
    for (let i = 0; i < args.length; i++) checkFiniteArg(args[i] as string, values[i]);
    const key = `${kind}:${String(a)}:${String(b)}:${String(c)}`;
    let found = presets.get(key);
    if (found === undefined) {
      const text = backend().presetRetry(kind, given(a), given(b), given(c), false) ?? '{}';
      native(() => backend().validate('retry', text, false));
      const options = JSON.parse(text) as RetryOptions;
      found = { options, arrays: Object.keys(options).filter((k) => Array.isArray((options as Record<string, unknown>)[k])) };
      if (presets.size >= MAX_COMPILED) presets.delete(presets.keys().next().value as string);
      presets.set(key, found);
    }
    p = found;
    last = { kind, a, b, c, preset: p };
  }
  // A copy each time: callers may spread and edit what they get.
  const copy: Record<string, unknown> = { ...p.options };
  for (const k of p.arrays) copy[k] = [...(copy[k] as unknown[])];
  return copy as RetryOptions;
}

const FIXED_ARGS = ['attempts', 'delay'] as const;
const EXPONENTIAL_ARGS = ['attempts', 'initial', 'max'] as const;

/** Retry presets (fixed, exponential, apiRateLimit, network), as plain options you can spread and edit. */
export const RetryPolicies = {
  /** `n` attempts with a constant `delay` ms. */
  fixed: (attempts = 3, delay = 1000): RetryOptions => preset('fixed', FIXED_ARGS, attempts, delay),
  /** `n` attempts, `initial` ms doubling to `max` ms, with jitter. */
  exponential: (attempts?: number, initial?: number, max?: number): RetryOptions => preset('exponential', EXPONENTIAL_ARGS, attempts, initial, max),
  /** Retries throttling (429/503) honouring Retry-After. */
  apiRateLimit: (): RetryOptions => preset('apiRateLimit', []),
  /** Retries network errors (ECONNRESET, ETIMEDOUT, …). */
  network: (): RetryOptions => preset('network', []),
};
