/**
 * The rate limiter: at most `limit` calls per `per` ms, in bursts of at most `burst`
 * (Resilience4j's RateLimiter, Polly's rate limiter), for one process or, with `fleet`, for every
 * replica together (each runs at its share of the limit, taken from Redis in the background). The
 * core decides who starts, who waits and for how long, and who is refused; this class sleeps the
 * waiters and hands a waiting caller's place back when it aborts.
 */
import { listening, observed, report } from './telemetry.js';
import { backend, type Backend } from './backend.js';
import { readsCallSignal } from './cancel.js';
import { clock, nowArg } from './clock.js';
import { native, RateLimitError } from './errors.js';
import type { FleetOptions, QuotaStatus, QuotaSync } from './fleet.js';
import { fleetDrivers } from './fleet-install.js';
import { badCall, checkOptionsArg, optionsJson } from './options.js';

export interface RateLimiterOptions {
  name?: string;
  /** Calls per period (required). Aliases: `limitForPeriod`, `permitLimit`, `maxCalls`. */
  limit: number;
  /** The period, ms (default 1000). Aliases: `period`, `limitRefreshPeriod`, `interval`. */
  per?: number;
  /** Calls that may start at once after a quiet spell (default `limit`). */
  burst?: number;
  /** How long a call may wait for its place, ms (default 0: refuse at once). Alias: `timeoutDuration`. */
  maxWait?: number;
  /**
   * One limit for every replica with this name, through Redis (`{ redis, syncInterval?,
   * staleAfter?, keyPrefix? }`): each runs at its share, never waiting for Redis on a call.
   */
  fleet?: Omit<FleetOptions, 'minReplicas'>;
}

export interface RateLimiterStats {
  name: string;
  limit: number;
  per: number;
  burst: number;
  maxWait: number;
  /** Calls that started at once. */
  admitted: number;
  /** Calls that waited for their place. */
  waited: number;
  refused: number;
  /** Waiting callers that gave up. */
  cancelled: number;
  /** Calls that could start now without waiting. */
  available: number;
  /** Fleet mode: `shared` while Redis answers (`local`: an equal part of the limit), the replicas
   * at the last sync, whether it is recent, this replica's share (calls per `per`), and sync counts. */
  fleet?: { syncInterval: number; staleAfter: number; mode: 'shared' | 'local'; replicas: number; fresh: boolean; share: number } & QuotaStatus;
}

const finalizer = new FinalizationRegistry<{ b: Backend; h: number }>(({ b, h }) => b.rateLimitDrop(h));
let anonymousCount = 0;

export class RateLimiter {
  readonly name: string;
  readonly #b: Backend;
  readonly #h: number;
  #fleet: QuotaSync | undefined;

  constructor(name: string, options: RateLimiterOptions);
  constructor(options: RateLimiterOptions);
  constructor(a: string | RateLimiterOptions, b?: RateLimiterOptions) {
    checkOptionsArg(typeof a === 'string' ? b : a);
    const options = (typeof a === 'string' ? { ...b, name: a } : a) as RateLimiterOptions | undefined;
    this.#b = backend();
    // The core checks every option, the name included (a missing object reads as no limit).
    this.#h = native(() => this.#b.rateLimitCreate(optionsJson(options ?? {}), false));
    this.name = typeof options?.name === 'string' ? options.name : `rate-limiter-${++anonymousCount}`;
    finalizer.register(this, { b: this.#b, h: this.#h });
    if (options?.fleet != null) this.#joinFleet(options.fleet);
  }

  #joinFleet(options: FleetOptions): void {
    const b = this.#b;
    const h = this.#h;
    // The core has checked the options (a fleet needs a name): its config has the times in ms.
    const stats = JSON.parse(native(() => b.rateLimitStats(h, nowArg()))) as { fleet: { syncInterval: number } };
    this.#fleet = fleetDrivers().quota('rateLimit', this.name, stats.fleet, options, h);
  }

  /** Fleet mode: syncs with the other replicas now (the background sync does it every `syncInterval`). */
  syncFleet(): Promise<void> {
    return this.#fleet?.syncNow() ?? Promise.resolve();
  }

  /** Fleet mode: stops syncing (this limiter then runs at an equal part of the limit). */
  leaveFleet(): void {
    this.#fleet?.leave();
  }

  /**
   * Runs `fn` when the limit allows: now, or after waiting up to `maxWait` for its place.
   * Rejects with `RateLimitError` (code `RATE_LIMITED`, `retryAfter` in ms) when the wait would
   * be longer; with `signal`'s reason if the caller aborts while waiting (its place goes back).
   */
  execute<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    const bad = badCall(fn, signal);
    if (bad !== undefined) return Promise.reject(bad);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const [wait, ticket] = this.#b.rateLimitAcquire(this.#h, nowArg()) as [number, number];
    if (wait === 0) return run(fn, signal);
    if (wait < 0) return Promise.reject(this.#refusal(-wait));
    return clock()
      .sleep(wait, signal)
      .then(
        () => {
          if (listening('rate_limit.waited')) report('rate_limit.waited', { policy: this.name, waitMs: wait });
          return run(fn, signal);
        },
        (reason: unknown) => {
          this.#b.rateLimitCancel(this.#h, ticket);
          throw reason;
        },
      );
  }

  #refusal(retryAfterMs: number): RateLimitError {
    if (listening('call.rejected')) report('call.rejected', { policy: this.name, by: 'rateLimit', code: 'RATE_LIMITED' });
    return new RateLimitError(this.#b.rateLimitMessage(this.name, retryAfterMs), retryAfterMs, this.name);
  }

  getStats(): RateLimiterStats {
    const stats = { name: this.name, ...(JSON.parse(native(() => this.#b.rateLimitStats(this.#h, nowArg()))) as Omit<RateLimiterStats, 'name'>) };
    if (stats.fleet !== undefined && this.#fleet !== undefined) Object.assign(stats.fleet, this.#fleet.status);
    return stats;
  }
}

observed(RateLimiter.prototype, 'execute', 'rateLimit', (r) => r.name);
readsCallSignal(RateLimiter.prototype);

function run<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
  try {
    return Promise.resolve(fn(signal));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** `rateLimiter('openai', { limit: 500, per: 60_000 })`: a limiter. */
export function rateLimiter(name: string, options: RateLimiterOptions): RateLimiter;
export function rateLimiter(options: RateLimiterOptions): RateLimiter;
export function rateLimiter(a: string | RateLimiterOptions, b?: RateLimiterOptions): RateLimiter {
  return typeof a === 'string' ? new RateLimiter(a, b as RateLimiterOptions) : new RateLimiter(a);
}
