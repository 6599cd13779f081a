/**
 * An adaptive concurrency limit (Netflix's AIMD, Gradient2 and Vegas; core/src/adaptive.rs):
 * how many calls may run at once, moved by what they report (round-trip time, drops). The core
 * decides who is admitted and where the limit goes; this shell times the calls and says how each
 * ended. Server adapters (`seawallFastify`, …) put one at a service's door; `execute` puts one
 * around any call.
 */
import { backend, type Backend } from './backend.js';
import { nowArg } from './clock.js';
import { ConcurrencyLimitError, native } from './errors.js';
import { checkOptionsArg, optionsJson } from './options.js';
import { listening, observed, outcomeOf, report } from './telemetry.js';

export interface AdaptiveLimitOptions {
  name?: string;
  /** `gradient2` (default), `vegas` or `aimd`. */
  algorithm?: 'gradient2' | 'vegas' | 'aimd';
  initialLimit?: number;
  /** Defaults per algorithm as Netflix's: 20 (AIMD, Gradient2), 1 (Vegas). */
  minLimit?: number;
  /** 200 (AIMD, Gradient2), 1000 (Vegas). */
  maxLimit?: number;
  smoothing?: number;
  minWindow?: number;
  maxWindow?: number;
  windowSize?: number;
  minRtt?: number;
  backoffRatio?: number;
  /** A call slower than this counts as dropped (default 5000 ms). */
  timeout?: number;
  rttTolerance?: number;
  longWindow?: number;
  queueSize?: number;
  probeMultiplier?: number;
  /** Guaranteed shares by partition name (fractions adding up to at most 1). */
  partitions?: Record<string, number>;
  /** Seeds Vegas's probe jitter. */
  seed?: number;
}

/** How a call ended, for the limit. */
export type LimitOutcome = 'success' | 'dropped' | 'ignored';
const OUTCOME_CODES: Record<LimitOutcome, number> = { success: 0, dropped: 1, ignored: 2 };
const OUTCOMES: LimitOutcome[] = ['success', 'dropped', 'ignored'];

/** An admitted call's place; `release` gives it back once (later calls do nothing). */
export interface LimitPermit {
  release(outcome?: LimitOutcome): void;
}

export interface AdaptiveLimitStats {
  name: string;
  algorithm: string;
  limit: number;
  estimate: number;
  inFlight: number;
  admitted: number;
  rejected: number;
  dropped: number;
  ignored: number;
  windows: number;
  partitions: Array<{ name: string; share: number; guaranteed: number; inFlight: number }>;
}

const finalizer = new FinalizationRegistry<{ b: Backend; h: number }>(({ b, h }) => b.adaptiveDrop(h));
let anonymous = 0;

/** The core's answers per status, asked once each (a request's status is one of a few). */
const byStatus = new Map<number, LimitOutcome>();

/** What a response of `status` means for a limit (the core's rule: 429/503/504 dropped, other 5xx ignored). */
export function outcomeOfStatus(status: number): LimitOutcome {
  let o = byStatus.get(status);
  if (o === undefined) {
    o = OUTCOMES[backend().limitOutcome(status)] ?? 'success';
    if (byStatus.size < 1000) byStatus.set(status, o);
  }
  return o;
}

/** What a call's error means for a limit: a timeout or a policy's refusal downstream (the
 * core's lists, as the telemetry reads them) is a drop; the caller's cancellation is ignored;
 * any other error measured the service all the same. */
export function outcomeOfError(error: unknown, cancelled: boolean): LimitOutcome {
  if (cancelled) return 'ignored';
  const o = outcomeOf(error);
  return o === 'timeout' || o === 'rejected' ? 'dropped' : 'success';
}

export class AdaptiveLimit {
  readonly name: string;
  readonly #b: Backend;
  readonly #h: number;
  readonly #partitions = new Map<string, number>();

  constructor(options: AdaptiveLimitOptions = {}) {
    checkOptionsArg(options);
    const { seed, ...rest } = options ?? {};
    this.#b = backend();
    this.#h = native(() => this.#b.adaptiveCreate(optionsJson(rest), false, seed ?? 0));
    finalizer.register(this, { b: this.#b, h: this.#h });
    this.name = typeof options?.name === 'string' ? options.name : `adaptive-limit-${++anonymous}`;
  }

  #partition(name: string | undefined): number {
    if (name === undefined) return -1;
    let p = this.#partitions.get(name);
    if (p === undefined) this.#partitions.set(name, (p = this.#b.adaptivePartition(this.#h, name)));
    return p;
  }

  /** A place for a call now, or undefined when the limit sheds it. */
  tryAcquire(partition?: string): LimitPermit | undefined {
    const b = this.#b;
    const h = this.#h;
    const permit = b.adaptiveAcquire(h, this.#partition(partition), nowArg());
    if (permit < 0) {
      if (listening('call.rejected')) report('call.rejected', { policy: this.name, by: 'adaptiveLimit', code: 'CONCURRENCY_LIMITED' });
      return undefined;
    }
    let given = false;
    return {
      release(outcome: LimitOutcome = 'success') {
        if (given) return;
        given = true;
        native(() => b.adaptiveRelease(h, permit, OUTCOME_CODES[outcome] ?? 2, nowArg()));
      },
    };
  }

  /** When a shed caller should come back, ms (the limit's next move; a second at least). */
  retryAfter(): number {
    return this.#b.adaptiveRetryAfter(this.#h, nowArg());
  }

  /** The error a shed call gets. */
  refusal(): ConcurrencyLimitError {
    const after = this.retryAfter();
    return new ConcurrencyLimitError(this.refusalMessage(after), after, this.name);
  }

  /** @internal What a refusal says when the caller should come back in `retryAfter` ms (a
   * server answering a shed request needs the words, not an error and its stack). */
  refusalMessage(retryAfter: number): string {
    return this.#b.adaptiveMessage(this.name, retryAfter);
  }

  /**
   * Runs `fn` within the limit, or rejects with `ConcurrencyLimitError` (code
   * `CONCURRENCY_LIMITED`, `retryAfter`) when it sheds the call. The call's time is its sample;
   * a timeout or a downstream refusal is a drop; the caller's abort is ignored.
   */
  async execute<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, options: { partition?: string; signal?: AbortSignal } = {}): Promise<T> {
    const permit = this.tryAcquire(options.partition);
    if (permit === undefined) throw this.refusal();
    try {
      const v = await fn(options.signal);
      permit.release('success');
      return v;
    } catch (e) {
      permit.release(outcomeOfError(e, options.signal?.aborted === true));
      throw e;
    }
  }

  getStats(): AdaptiveLimitStats {
    return { name: this.name, ...(JSON.parse(native(() => this.#b.adaptiveStats(this.#h))) as Omit<AdaptiveLimitStats, 'name'>) };
  }
}

observed(AdaptiveLimit.prototype, 'execute', 'adaptiveLimit', (l) => l.name);
