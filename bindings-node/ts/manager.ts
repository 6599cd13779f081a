/**
 * Combined policies: `resilienceManager.execute(name, fn, policy)` and the
 * `ResiliencePolicies` presets. The order in which parts wrap a call, outermost first:
 *
 *   fallback → bulkhead → retry → circuit breaker → timeout → your function
 *
 * The fallback sees every failure; the bulkhead bounds whole operations (retries take no extra
 * slot); each retry attempt is one breaker call, so an open breaker stops the retries; the
 * timeout bounds each attempt. Parts are created once per operation name (the first policy
 * given for a name wins, as with `getOrCreate`).
 */
import { backend } from './backend.js';
import { CircuitBreaker, circuitBreakerRegistry, type CircuitBreakerOptions, flushAllBreakers } from './breaker.js';
import { Bulkhead, type BulkheadOptions } from './bulkhead.js';
import { nowArg } from './clock.js';
import { native } from './errors.js';
import { argumentError, checkOptionsArg, optionsJson } from './options.js';
import { RetryPolicy, type RetryOptions } from './retry.js';
import { runWithTimeout } from './timeout.js';

export interface ResiliencePolicy<F = unknown> {
  circuitBreaker?: CircuitBreakerOptions | false;
  retry?: RetryOptions | false;
  /** Per-attempt timeout, ms. */
  timeout?: number | { timeout: number } | false;
  bulkhead?: BulkheadOptions | false;
  fallback?: (error: unknown) => F | Promise<F>;
}

interface Parts {
  breaker?: CircuitBreaker;
  bulkhead?: Bulkhead;
  retry?: RetryPolicy;
  timeout?: number;
}

function preset(name: string): ResiliencePolicy {
  return JSON.parse(backend().presetPolicy(name, false) ?? '{}') as ResiliencePolicy;
}

/** Policy presets (api, ai, database, external, critical), as plain objects you can spread and extend (`{ ...api(), fallback }`). */
export const ResiliencePolicies = {
  /** Breaker 5 failures / 1 min; exponential retry, 3 attempts; 30 s timeout; bulkhead 50 + 100. */
  api: (): ResiliencePolicy => preset('api'),
  /** Breaker 3 / 2 min; rate-limit-aware retry, 3 attempts; 2 min timeout; bulkhead 10 + 50. */
  ai: (): ResiliencePolicy => preset('ai'),
  /** Breaker 10 / 30 s; exponential retry, 3 attempts; 30 s timeout; bulkhead 100 + 200. */
  database: (): ResiliencePolicy => preset('database'),
  /** Breaker 5 / 1 min; network-error retry; 15 s timeout; bulkhead 20 + 50. */
  external: (): ResiliencePolicy => preset('external'),
  /** No breaker; exponential retry, 5 attempts; 1 min timeout; bulkhead 5 + 10. */
  critical: (): ResiliencePolicy => preset('critical'),
};

export interface HealthStatus {
  summary: { healthy: boolean; issues: string[] };
  circuitBreakers: {
    total: number;
    healthy: number;
    unhealthy: number;
    byState: Record<string, number>;
    /** Fleet breakers by name (absent without fleets). */
    fleet?: Record<string, { mode: 'shared' | 'local'; replicas: number; fresh: boolean }>;
  };
  bulkheads: Array<{ name: string; state: { active: number; queued: number; available: number; [k: string]: number }; utilization: number }>;
}

export class ResilienceManager {
  #parts = new Map<string, Parts>();

  #partsFor(name: string, policy: ResiliencePolicy): Parts {
    let parts = this.#parts.get(name);
    if (parts !== undefined) return parts;
    const { fallback: _f, ...checked } = policy;
    native(() => backend().validate('policy', optionsJson(checked), false));
    parts = {};
    if (policy.circuitBreaker) parts.breaker = circuitBreakerRegistry.getOrCreate(name, policy.circuitBreaker);
    if (policy.bulkhead) parts.bulkhead = new Bulkhead({ ...policy.bulkhead, name });
    if (policy.retry) parts.retry = new RetryPolicy({ name, ...policy.retry });
    if (policy.timeout !== undefined && policy.timeout !== false) {
      parts.timeout = typeof policy.timeout === 'number' ? policy.timeout : policy.timeout.timeout;
    }
    this.#parts.set(name, parts);
    return parts;
  }

  /** Runs `fn` under `policy`, its parts named `name` (for health and metrics). */
  execute<T, F = T>(name: string, fn: (signal?: AbortSignal) => T | PromiseLike<T>, policy: ResiliencePolicy<F> = {}): Promise<T | F> {
    // Not an async function: the stack's own promise is the call's (an async frame around it
    // cost two more turns a call); a bad argument still rejects rather than throws.
    let parts: Parts;
    try {
      if (typeof name !== 'string') throw argumentError({ name });
      if (typeof fn !== 'function') throw argumentError({ fn });
      checkOptionsArg(policy);
      policy ??= {};
      parts = this.#partsFor(name, policy as ResiliencePolicy);
    } catch (e) {
      return Promise.reject(e);
    }
    const attempt = (): Promise<T> => {
      const timed = (signal?: AbortSignal): Promise<T> =>
        parts.timeout !== undefined ? runWithTimeout(fn, parts.timeout, signal, name) : Promise.resolve(fn(signal));
      return parts.breaker !== undefined ? parts.breaker.execute(timed) : timed();
    };
    const retried = (): Promise<T> => (parts.retry !== undefined ? parts.retry.execute(() => attempt()) : attempt());
    const bounded = (): Promise<T> => (parts.bulkhead !== undefined ? parts.bulkhead.execute(() => retried()) : retried());
    let running: Promise<T>;
    try {
      running = bounded();
    } catch (e) {
      // A function that throws before its first await, with no policy around it to catch it.
      running = Promise.reject(e);
    }
    const fallback = policy.fallback;
    return fallback === undefined ? running : running.catch((e: unknown) => fallback(e));
  }

  /** The health report: breakers by state, bulkheads' slots, and a summary. */
  getHealthStatus(): HealthStatus {
    flushAllBreakers();
    const h = JSON.parse(backend().health(nowArg())) as HealthStatus;
    for (const b of circuitBreakerRegistry.getAll()) b.getState();
    return h;
  }

  /** Forgets the parts built per operation name. */
  clear(): void {
    this.#parts.clear();
  }
}

export const resilienceManager = new ResilienceManager();

export { CircuitBreaker };
