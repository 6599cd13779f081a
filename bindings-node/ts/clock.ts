/**
 * Time for the shell: the backend's monotonic clock by default, or a virtual clock that tests
 * install so that retries, backoff sleeps, timeouts and open periods run instantly (stamina's
 * `set_testing`, Polly's FakeTimeProvider).
 */
import { backend } from './backend.js';
import { whenAborted } from './cancel.js';
import { argumentError, checkFiniteArg, checkOptionsArg } from './options.js';

/** A clock the shell reads and sleeps on. Times are monotonic milliseconds. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` after `ms`; answers a function that cancels it. A `weak` timer does not keep
   * the process alive by itself. */
  setTimer(ms: number, fn: () => void, weak?: boolean): () => void;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** setTimeout's longest delay; longer ones are chained (Node fires at once beyond it). */
const MAX_TIMER_MS = 2_147_483_647;

function realSetTimer(ms: number, fn: () => void, weak?: boolean): () => void {
  let handle: ReturnType<typeof setTimeout>;
  let left = Math.max(0, ms);
  const arm = () => {
    const step = Math.min(left, MAX_TIMER_MS);
    left -= step;
    handle = setTimeout(left > 0 ? arm : fn, step);
    // Node's and Bun's timers are objects with unref; a browser's are numbers.
    if (weak === true) (handle as { unref?: () => void }).unref?.();
  };
  arm();
  return () => clearTimeout(handle);
}

function sleepOn(setTimer: Clock['setTimer'], ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    let cancel = () => {};
    // Listened to first: a timer that fires at once (a clock of the user's) still takes it off.
    const off =
      signal === undefined
        ? undefined
        : whenAborted(signal, () => {
            cancel();
            reject(abortReason(signal));
          });
    cancel = setTimer(ms, () => {
      off?.();
      resolve();
    });
  });
}

/** The default clock: the backend's native monotonic clock and real timers. */
export const realClock: Clock = {
  now: () => backend().now(),
  sleep: (ms, signal) => sleepOn(realSetTimer, ms, signal),
  setTimer: realSetTimer,
};

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

export interface VirtualClockOptions {
  /** Start time in ms (default 0). */
  start?: number;
  /** When true (default), a sleep moves the clock forward by itself, so waits take no time. */
  autoAdvance?: boolean;
}

/**
 * A clock that moves only when told to (`advance`, `runAll`) or, with `autoAdvance`, whenever
 * code sleeps on it. Timers fire in time order; between timers, pending promise callbacks run.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: VirtualTimer[] = [];
  readonly autoAdvance: boolean;

  constructor(options: VirtualClockOptions = {}) {
    checkOptionsArg(options);
    const { start = 0, autoAdvance = true } = options ?? {};
    checkFiniteArg('start', start);
    if (typeof autoAdvance !== 'boolean') throw argumentError({ autoAdvance });
    this.#now = start ?? 0;
    this.autoAdvance = autoAdvance;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      const i = this.#timers.indexOf(timer);
      if (i >= 0) this.#timers.splice(i, 1);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.autoAdvance && !signal?.aborted) {
      // Jump to the wake-up time, firing any earlier timers on the way (a timeout that would
      // have fired during the sleep still fires first).
      const promise = sleepOn((d, fn) => this.setTimer(d, fn), ms, signal);
      this.#fireUntil(this.#now + Math.max(0, ms));
      return promise;
    }
    return sleepOn((d, fn) => this.setTimer(d, fn), ms, signal);
  }

  /** Removes and answers the earliest timer due by `until`, moving the clock to it. */
  #popDue(until: number): VirtualTimer | undefined {
    this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.#timers[0];
    if (next === undefined || next.at > until) return undefined;
    this.#timers.shift();
    this.#now = Math.max(this.#now, next.at);
    return next;
  }

  #fireUntil(until: number): void {
    for (let t = this.#popDue(until); t !== undefined; t = this.#popDue(until)) t.fn();
    this.#now = Math.max(this.#now, until);
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle. */
  async advance(ms: number): Promise<void> {
    // Time goes one way: a negative or non-finite step is the caller's mistake, not a no-op.
    if (!(typeof ms === 'number' && ms >= 0 && Number.isFinite(ms))) throw argumentError({ advance: ms });
    const until = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const t = this.#popDue(until);
      if (t === undefined) break;
      t.fn();
    }
    // Never back: a sleep on the way may have jumped past `until` (auto-advance).
    this.#now = Math.max(this.#now, until);
    await flushMicrotasks();
  }

  /** Fires every pending timer (and any they create), however far ahead. */
  async runAll(limit = 10_000): Promise<void> {
    for (let i = 0; i < limit; i++) {
      await flushMicrotasks();
      const t = this.#popDue(Number.POSITIVE_INFINITY);
      if (t === undefined) return;
      t.fn();
    }
    throw new Error(`VirtualClock.runAll: more than ${limit} timers`);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.length;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

let installed: Clock | null = null;

/** The clock in use. */
export function clock(): Clock {
  return installed ?? realClock;
}

/**
 * The time to measure how long something took, as it is reported (a timeout's duration, a call's
 * or an attempt's in telemetry): the virtual clock's, else `performance.now()`. The host clock the
 * engine reads (`clock().now()`) ticks in steps of 1–4 ms: four times cheaper, fine for open
 * periods and deadlines, too coarse for a latency (a 1 ms call read as 0 or 4).
 */
export function preciseNow(): number {
  return installed === null ? performance.now() : installed.now();
}

/** What backend calls pass as `now`: undefined lets the backend read its clock in the same call. */
export function nowArg(): number | undefined {
  return installed === null ? undefined : installed.now();
}

/** Installs a virtual clock (the testing aid); answers it. `useRealClock()` undoes it. */
export function useVirtualClock(options?: VirtualClockOptions): VirtualClock {
  const c = new VirtualClock(options);
  installed = c;
  return c;
}

/** Installs any clock (null: the real one). */
export function installClock(c: Clock | null): void {
  installed = c;
}

export function useRealClock(): void {
  installed = null;
}

/** Runs `fn` with a virtual clock installed, restoring the previous clock afterwards. */
export async function withVirtualClock<T>(fn: (clock: VirtualClock) => Promise<T> | T, options?: VirtualClockOptions): Promise<T> {
  if (typeof fn !== 'function') throw argumentError({ fn });
  const previous = installed;
  const c = new VirtualClock(options);
  installed = c;
  try {
    return await fn(c);
  } finally {
    installed = previous;
  }
}
