/**
 * The bulkhead: limits concurrent calls, queues a bounded number, and fails queued calls that
 * wait too long. The core decides admission and hand-over; this class parks queued callers,
 * arms the queue timer and gives every slot back, also on errors, timeouts and aborts.
 */
import { listening, observed, report } from './telemetry.js';
import { backend, type Backend } from './backend.js';
import { readsCallSignal, whenAborted } from './cancel.js';
import { clock, nowArg } from './clock.js';
import { Emitter } from './emitter.js';
import { endOf, SLOTS, type Slots } from './held.js';
import { BulkheadRejectedError, native } from './errors.js';
import type { AdaptiveLimitOptions } from './limit.js';
import { badCall, checkOptionsArg, optionsJson } from './options.js';

export interface BulkheadOptions {
  name?: string;
  /** Calls at once (default 10). */
  maxConcurrent?: number;
  /** Calls waiting for a slot (default 0). */
  maxQueueSize?: number;
  /** How long a call may wait in the queue, ms. Alias: `timeout`. */
  queueTimeout?: number;
  timeout?: number;
  onReject?: (reason: string) => void;
  /** The newest waiting call starts first (deadlines still expire oldest first). */
  lifo?: boolean;
  /**
   * A limit that adapts instead of `maxConcurrent`: an algorithm (`'gradient2'`, `'vegas'`,
   * `'aimd'`) or an adaptive limit's options. Each call's time in the bulkhead moves it; a call
   * slower than the limit's `timeout` counts as dropped.
   */
  adaptive?: 'gradient2' | 'vegas' | 'aimd' | Omit<AdaptiveLimitOptions, 'name' | 'partitions' | 'seed'>;
}

export interface BulkheadMetrics {
  name: string;
  active: number;
  queued: number;
  available: number;
  maxConcurrent: number;
  maxQueueSize: number;
  executed: number;
  enqueued: number;
  completed: number;
  rejected: number;
  timedOut: number;
  cancelled: number;
}

export interface BulkheadEvents extends Record<string, unknown> {
  executionStarted: { name: string; active: number; queued: number };
  executionCompleted: { name: string; active: number; queued: number };
  queued: { name: string; position: number; queued: number };
  rejected: { name: string; reason: string; code: string };
}

interface Waiter {
  resolve: (permit: number) => void;
  reject: (e: unknown) => void;
}

const finalizer = new FinalizationRegistry<{ b: Backend; h: number }>(({ b, h }) => b.bulkheadDrop(h));
const registered = new Map<string, Bulkhead>();
let anonymousCount = 0;

export class Bulkhead {
  readonly name: string;
  readonly #b: Backend;
  readonly #h: number;
  readonly #options: BulkheadOptions;
  readonly #waiters = new Map<number, Waiter>();
  readonly #events = new Emitter<BulkheadEvents>();
  #cancelTimer: (() => void) | undefined;
  #timerAt = Number.NaN;
  /** @internal Its slots, as an integration's inline attempt takes them (`admit`, `releaseSlot`). */
  readonly [SLOTS]: Slots = this;

  constructor(options: BulkheadOptions = {}) {
    checkOptionsArg(options);
    options ??= {};
    this.#b = backend();
    this.#options = options;
    const { name } = options;
    // The core checks the name with the other options; only a string crosses as the name.
    this.#h = native(() => this.#b.bulkheadCreate(optionsJson(options), false, typeof name === 'string' ? name : null));
    this.name = name ?? `bulkhead-${++anonymousCount}`;
    if (name !== undefined) registered.set(name, this);
    finalizer.register(this, { b: this.#b, h: this.#h });
  }

  /** Runs `fn` when a slot is free (now, or after queueing). Rejects with `BulkheadRejectedError`. */
  execute<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    const bad = badCall(fn, signal);
    if (bad !== undefined) return Promise.reject(bad);
    let slot: number | Promise<number>;
    try {
      slot = this.admit(signal);
    } catch (e) {
      return Promise.reject(e);
    }
    return typeof slot === 'number' ? this.#run(fn, slot, signal) : slot.then((permit) => this.#run(fn, permit, signal));
  }

  /**
   * @internal A slot: its permit now, or once queued and handed one (a promise); throws the
   * refusal. Each permit goes back through `releaseSlot` once (what `execute` does around `fn`).
   */
  admit(signal?: AbortSignal): number | Promise<number> {
    const b = this.#b;
    const kind = b.bulkheadAcquire(this.#h, nowArg());
    const value = b.out[1];
    if (kind === 0) return this.#started(value);
    if (kind === 1) return this.#wait(value, signal).then(this.#startedBound);
    // One code with or without a queue (what callers check); the message tells which.
    const reason = value === 0 ? `all ${this.#limits()} slots are busy` : `all slots are busy and the queue is full`;
    throw this.#reject(reason, 'BULKHEAD_QUEUE_FULL');
  }

  /** @internal Gives back a slot `admit` gave. */
  releaseSlot(permit: number): void {
    this.#release(permit);
  }

  /** A slot handed to a call that now starts. */
  #started(permit: number): number {
    if (this.#events.has('executionStarted')) {
      const m = this.getMetrics();
      this.#events.emit('executionStarted', { name: this.name, active: m.active, queued: m.queued });
    }
    return permit;
  }
  readonly #startedBound = (permit: number): number => this.#started(permit);

  #limits(): string {
    return String(this.getMetrics().maxConcurrent);
  }

  #reject(reason: string, code: 'BULKHEAD_QUEUE_FULL' | 'BULKHEAD_QUEUE_TIMEOUT'): BulkheadRejectedError {
    this.#options.onReject?.(reason);
    if (this.#events.has('rejected')) this.#events.emit('rejected', { name: this.name, reason, code });
    if (listening('call.rejected')) report('call.rejected', { policy: this.name, by: 'bulkhead', code });
    return new BulkheadRejectedError(`Bulkhead '${this.name}' rejected the call: ${reason}`, code, this.name);
  }

  #run<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, permit: number, signal?: AbortSignal): Promise<T> {
    let result: T | PromiseLike<T>;
    try {
      result = fn(signal);
    } catch (e) {
      this.#release(permit);
      return Promise.reject(e);
    }
    return Promise.resolve(result).then(
      (v) => {
        // A value still working (a streaming body) keeps its slot until it is done.
        const end = endOf(v);
        if (end === undefined) this.#release(permit);
        else {
          const release = (): void => this.#release(permit);
          end.then(release, release);
        }
        return v;
      },
      (e: unknown) => {
        this.#release(permit);
        throw e;
      },
    );
  }

  /** Gives a slot back; the core names the queued call that takes it. */
  #release(permit: number): void {
    const b = this.#b;
    const ticket = b.bulkheadRelease(this.#h, permit, nowArg());
    const next = b.out[1];
    this.#expire();
    if (ticket > 0) this.#waiters.get(ticket)?.resolve(next);
    this.#armTimer();
    if (this.#events.has('executionCompleted')) {
      const m = this.getMetrics();
      this.#events.emit('executionCompleted', { name: this.name, active: m.active, queued: m.queued });
    }
  }

  #wait(ticket: number, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(ticket);
        if (this.#b.bulkheadCancel(this.#h, ticket)) reject(signal?.reason);
        this.#armTimer();
      };
      let off: (() => void) | undefined;
      this.#waiters.set(ticket, {
        resolve: (permit) => {
          off?.();
          this.#waiters.delete(ticket);
          resolve(permit);
        },
        reject: (e) => {
          off?.();
          this.#waiters.delete(ticket);
          reject(e);
        },
      });
      if (signal !== undefined) {
        if (signal.aborted) return onAbort();
        off = whenAborted(signal, onAbort);
      }
      if (this.#events.has('queued')) {
        const m = this.getMetrics();
        this.#events.emit('queued', { name: this.name, position: m.queued, queued: m.queued });
      }
      this.#armTimer();
    });
  }

  /** Fails the queued calls the core says waited too long. */
  #expire(): void {
    if (this.#waiters.size === 0) return;
    for (const ticket of this.#b.bulkheadExpire(this.#h, nowArg())) {
      this.#waiters.get(ticket)?.reject(this.#reject('waited too long in the queue', 'BULKHEAD_QUEUE_TIMEOUT'));
    }
  }

  /** Keeps one timer at the core's next queue deadline. */
  #armTimer(): void {
    // Only a queued call has a deadline, and each has a waiter here: with none, no need to ask.
    const at = this.#waiters.size === 0 ? Number.NaN : this.#b.bulkheadNextTimeout(this.#h);
    if (at === this.#timerAt) return;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = at;
    if (Number.isNaN(at)) return;
    const c = clock();
    this.#cancelTimer = c.setTimer(Math.max(0, at - c.now()), () => {
      this.#cancelTimer = undefined;
      this.#timerAt = Number.NaN;
      this.#expire();
      this.#armTimer();
    });
  }

  getMetrics(): BulkheadMetrics {
    return { name: this.name, ...(JSON.parse(native(() => this.#b.bulkheadMetrics(this.#h))) as Omit<BulkheadMetrics, 'name'>) };
  }

  /** The health shape: `{ active, queued, available }`. */
  get state(): { active: number; queued: number; available: number } {
    const m = this.getMetrics();
    return { active: m.active, queued: m.queued, available: m.available };
  }

  on<K extends keyof BulkheadEvents>(event: K, listener: (e: BulkheadEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof BulkheadEvents>(event: K, listener: (e: BulkheadEvents[K]) => void): void {
    this.#events.off(event, listener);
  }
}

/** `createBulkhead('api-calls', 10, 50)`: 10 at once, 50 queued. */
observed(Bulkhead.prototype, 'execute', 'bulkhead', (b) => b.name);
readsCallSignal(Bulkhead.prototype);

export function createBulkhead(name: string, maxConcurrent?: number, maxQueueSize?: number, options: Omit<BulkheadOptions, 'name' | 'maxConcurrent' | 'maxQueueSize'> = {}): Bulkhead {
  const o: BulkheadOptions = { ...options, name };
  if (maxConcurrent !== undefined) o.maxConcurrent = maxConcurrent;
  if (maxQueueSize !== undefined) o.maxQueueSize = maxQueueSize;
  return new Bulkhead(o);
}

export const bulkheadRegistry = {
  get: (name: string): Bulkhead | undefined => registered.get(name),
  getAll: (): Bulkhead[] => [...registered.values()],
  clear: (): void => registered.clear(),
};
