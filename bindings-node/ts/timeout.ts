/**
 * Timeouts: the guarded function receives an AbortSignal that fires when time is up, so a
 * guarded `fetch` is really cancelled; the caller gets a `TimeoutError` with the duration.
 */
import { backend } from './backend.js';
import { asSignal, CallSignal, takesArgument, whenAborted } from './cancel.js';
import { type Clock, clock, preciseNow } from './clock.js';
import { native, TimeoutError } from './errors.js';
import { argumentError, optionsJson } from './options.js';
import { observe, observer } from './telemetry.js';

export interface TimeoutOptions<F = unknown> {
  timeout: number;
  /** A value (or a function giving one) to answer instead of failing on timeout. */
  fallback?: () => F | Promise<F>;
  onTimeout?: (duration: number) => void;
  /** Counts timeouts under this name in `timeout_operations_total`. */
  name?: string;
  /** The caller's cancellation: its abort ends the call at once with its reason (and aborts the
   * signal `fn` was given); the fallback is for timeouts only. */
  signal?: AbortSignal;
}

/** Arms a timed call's deadline `at` (= now + `ms`) on clock `c`; answers its cancel. */
export type ArmDeadline = (c: Clock, ms: number, at: number, fire: () => void) => () => void;

/** A timer per call, unless an entry installs shared deadline lists (Node's, `deadlines.ts`):
 * a browser page bundles none of them. */
let armDeadline: ArmDeadline = (c, ms, _at, fire) => c.setTimer(ms, fire);

export function installDeadlines(arm: ArmDeadline): void {
  armDeadline = arm;
}

/** Arms a call's deadline on clock `c`, `ms` after `from` (now, on `preciseNow`'s clock): `fire`
 * gets the `TimeoutError` (the time that passed) if it is reached first. Answers the cancel.
 * Never early: a host timer may fire up to a millisecond before its time (Node reads its loop's
 * time once a turn), so the time left is read again when it fires, and waited for. */
export function deadline(c: Clock, ms: number, fire: (e: TimeoutError) => void, from = preciseNow()): () => void {
  let cancel: () => void;
  const due = (): void => {
    const now = preciseNow();
    if (now < from + ms) cancel = c.setTimer(from + ms - now, due);
    else fire(new TimeoutError(now - from));
  };
  cancel = armDeadline(c, ms, from + ms, due);
  return () => cancel();
}

/**
 * Runs `fn` with a deadline of `ms`. Rejects with `TimeoutError` when it passes (aborting the
 * signal given to `fn`), or with the outer signal's reason if that aborts first. `light`: `fn`
 * is an integration's attempt, given a `CallSignal` (it reads it as the policies do). A `fn` that
 * declares no parameter (not even a rest or a default one) cannot take its signal: it is given
 * none, and none is made (an `AbortSignal` costs ~2 µs on Node 20, more than the rest of a
 * guarded call); its deadline still ends the call. A `fn` that answers a value has run to its end
 * and could not be cut: answered after its deadline, it fails then, as a promise would have.
 */
export function runWithTimeout<T>(
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  ms: number,
  outer?: AbortSignal,
  name?: string,
  light = false,
): Promise<T> {
  const c = clock();
  const unsignalled = !light && !takesArgument(fn, 0);
  const controller = light || unsignalled ? new CallSignal() : new AbortController();
  const from = preciseNow();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let offOuter: (() => void) | undefined;
    const finish = () => {
      settled = true;
      cancelTimer();
      offOuter?.();
    };
    const onOuterAbort = () => {
      if (settled) return;
      finish();
      controller.abort(outer?.reason);
      reject(outer?.reason);
    };
    const timedOut = (err: TimeoutError): void => {
      if (settled) return;
      finish();
      if (name !== undefined) backend().recordTimeout(name);
      controller.abort(err);
      reject(err);
    };
    const cancelTimer = deadline(c, ms, timedOut, from);
    if (outer !== undefined) {
      if (outer.aborted) return onOuterAbort();
      offOuter = whenAborted(outer, onOuterAbort);
    }
    let result: T | PromiseLike<T>;
    try {
      result = fn(unsignalled ? (undefined as unknown as AbortSignal) : controller instanceof CallSignal ? asSignal(controller) : controller.signal);
    } catch (e) {
      finish();
      reject(e);
      return;
    }
    if (typeof (result as PromiseLike<T> | null)?.then !== 'function') {
      const took = preciseNow() - from;
      if (took >= ms) return timedOut(new TimeoutError(took));
    }
    Promise.resolve(result).then(
      (v) => {
        if (settled) return;
        finish();
        resolve(v);
      },
      (e) => {
        if (settled) return;
        finish();
        reject(e);
      },
    );
  });
}

/** Checks timeout options in the core (names the option and value on error). */
function checkTimeout(options: TimeoutOptions<unknown>): void {
  native(() => backend().validate('timeout', optionsJson(options), false));
}

/** The last number the core accepted as a timeout, and its options (callers write
 * `withTimeout(fn, 5000)` per call: the core is asked once per number, not per call). */
let lastAccepted: { ms: number; options: TimeoutOptions<never> } | undefined;

/** `5000` or `{ timeout, fallback, onTimeout }`, checked by the core; anything but an options
 * object is the timeout itself, for the core to check and name. */
export function timeoutOptions<F>(msOrOptions: number | TimeoutOptions<F>): TimeoutOptions<F> {
  if (typeof msOrOptions === 'number' && lastAccepted?.ms === msOrOptions) return lastAccepted.options;
  const options = (
    msOrOptions !== null && typeof msOrOptions === 'object' && !Array.isArray(msOrOptions) ? msOrOptions : { timeout: msOrOptions }
  ) as TimeoutOptions<F>;
  checkTimeout(options);
  // Frozen: it is handed to every later call with the same number.
  if (typeof msOrOptions === 'number') lastAccepted = { ms: msOrOptions, options: Object.freeze(options) as TimeoutOptions<never> };
  return options;
}

/**
 * `withTimeout(fn, 5000)` or `withTimeout(fn, { timeout, fallback, onTimeout, signal })`. `fn` is given
 * an `AbortSignal` aborted at the deadline when it declares a parameter for it
 * (`(signal) => fetch(url, { signal })`); a function of no parameters is given none, and the
 * deadline still ends the call.
 */
export async function withTimeout<T, F = T>(
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  msOrOptions: number | TimeoutOptions<F>,
): Promise<T | F> {
  if (typeof fn !== 'function') throw argumentError({ fn });
  const options = timeoutOptions(msOrOptions);
  try {
    return await (observer.sink !== undefined
      ? observe('timeout', options.name, () => runWithTimeout(fn, options.timeout, options.signal, options.name))
      : runWithTimeout(fn, options.timeout, options.signal, options.name));
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    options.onTimeout?.(e.duration);
    if (options.fallback !== undefined) return await options.fallback();
    throw e;
  }
}

/** Named timeout settings (`timeoutManager`). */
export class TimeoutManager {
  #configs = new Map<string, TimeoutOptions<unknown>>();

  register(name: string, options: TimeoutOptions<unknown> | number): void {
    const o = typeof options === 'number' ? { timeout: options } : options;
    checkTimeout(o);
    this.#configs.set(name, { ...o, name: o.name ?? name });
  }

  get(name: string): TimeoutOptions<unknown> | undefined {
    return this.#configs.get(name);
  }

  unregister(name: string): boolean {
    return this.#configs.delete(name);
  }

  execute<T>(name: string, fn: (signal: AbortSignal) => T | PromiseLike<T>): Promise<T | unknown> {
    const o = this.#configs.get(name);
    if (o === undefined) {
      return Promise.reject(Object.assign(new RangeError(`no timeout registered under ${JSON.stringify(name)}`), { code: 'NOT_FOUND', option: 'name', value: name }));
    }
    return withTimeout(fn, o);
  }
}

export const timeoutManager = new TimeoutManager();
