import { callListener } from './emitter.js';

/**
 * A call's own cancellation, lighter than an `AbortController`: what the HTTP integrations make
 * per request and per attempt for the policies to read. On Node 20 an `AbortSignal` costs ~2.5 µs
 * to make and ~1 µs per listener put on and taken off (it is an `EventTarget`); a request through
 * the undici interceptor made two and put six listeners on them, a third of its cost over bare
 * undici. The policies read a caller's signal only through `aborted`, `reason`,
 * `throwIfAborted()` and 'abort' listeners, which this has; anything else that wants a signal
 * (a `fetch`, a user's guard or function) gets `real`, an `AbortSignal` made on first use.
 */
export class CallSignal {
  aborted = false;
  reason: unknown = undefined;
  /** Listeners in the order added; one taken off while they run is left as a hole. */
  #listeners: Array<(() => void) | undefined> | undefined;
  #running = false;
  #real: AbortController | undefined;
  /** Takes this one's listener off the signal it follows (`unfollow`). */
  #followed: (() => void) | undefined;

  /** Listeners run once, in the order they were added, when this aborts; one added twice is
   * one listener, as with an `EventTarget`. */
  addEventListener(_type: 'abort', listener: () => void): void {
    const list = (this.#listeners ??= []);
    if (!list.includes(listener)) list.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const list = this.#listeners;
    const i = list === undefined ? -1 : list.lastIndexOf(listener);
    if (i < 0) return;
    // One taken off while the listeners run is not run, as with an `EventTarget`.
    if (this.#running) list![i] = undefined;
    else list!.splice(i, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Aborts with `reason` (an `AbortError` by default, as `AbortController.abort` has it). A
   * listener that throws does not keep the others from running; its error is thrown afterwards,
   * as an `EventTarget` reports it. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.unfollow();
    this.#real?.abort(this.reason);
    const list = this.#listeners;
    if (list === undefined) return;
    this.#running = true;
    // Those added meanwhile are not run (this has aborted once and for all).
    for (let i = 0, n = list.length; i < n; i++) {
      const listener = list[i];
      if (listener === undefined) continue;
      list[i] = undefined;
      callListener(listener, undefined);
    }
    this.#running = false;
    this.#listeners = undefined;
  }

  /** An `AbortSignal` that aborts with this one, for what needs a real one. */
  get real(): AbortSignal {
    if (this.#real === undefined) {
      this.#real = new AbortController();
      if (this.aborted) this.#real.abort(this.reason);
    }
    return this.#real.signal;
  }

  /** Aborts this one when `signal` does (a caller's), until `unfollow`. */
  follow(signal: AbortSignal): void {
    if (signal.aborted) return this.abort(signal.reason);
    this.#followed = whenAborted(signal, () => this.abort(signal.reason));
  }

  /** Stops following (the call is over: a caller's long-lived signal keeps no listener of it). */
  unfollow(): void {
    const off = this.#followed;
    this.#followed = undefined;
    off?.();
  }
}

/** Per `AbortSignal`, the callbacks waiting on its abort, and the one listener that runs them. */
const waiting = new WeakMap<AbortSignal, { fns: Set<() => void>; listener: () => void }>();

/**
 * Calls `fn` once `signal` aborts, until the answered function takes it off. A caller's signal may
 * be shared by many calls at once (a request's, handed to every outbound call its handler makes):
 * a listener each would pile up on it (Node warns of a leak past ten), so an `AbortSignal` gets
 * one listener for all of them, taken off with the last; a `CallSignal`'s own listeners are cheap.
 * As with listeners, one taken off while they run is not run, nor one added then.
 */
export function whenAborted(signal: AbortSignal | CallSignal, fn: () => void): () => void {
  if (signal instanceof CallSignal) {
    signal.addEventListener('abort', fn);
    return () => signal.removeEventListener('abort', fn);
  }
  let entry = waiting.get(signal);
  if (entry === undefined) {
    const fns = new Set<() => void>();
    const listener = (): void => {
      waiting.delete(signal);
      for (const f of [...fns]) if (fns.delete(f)) callListener(f, undefined);
    };
    entry = { fns, listener };
    waiting.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { fns, listener } = entry;
  fns.add(fn);
  return () => {
    if (!fns.delete(fn) || fns.size > 0 || waiting.get(signal)?.fns !== fns) return;
    waiting.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}

/** A `CallSignal` where the policies take the caller's signal: they read only what it has (see
 * above), and pass it on only to the integrations' own functions. */
export function asSignal(s: CallSignal): AbortSignal {
  return s as unknown as AbortSignal;
}

/** `signal` as code outside seawall may use it: a `CallSignal`'s real signal. */
export function realSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  return signal instanceof CallSignal ? signal.real : signal;
}

/** Guards whose `execute` reads a signal only as the policies do (their modules register them). */
const readers = new WeakSet<object>();

export function readsCallSignal(proto: object): void {
  readers.add(proto);
}

/** The signal to hand `guard`: a `CallSignal` as it is to seawall's own guards, else its real
 * signal (a guard of the user's may pass it to anything). */
export function signalFor(guard: object, signal: AbortSignal | undefined): AbortSignal | undefined {
  return signal instanceof CallSignal && !readers.has(Object.getPrototypeOf(guard) as object) ? signal.real : signal;
}

/**
 * Whether `fn` can be handed an argument at `index` (0-based): whether a signal made for it could
 * reach it. `fn.length` counts only the parameters before the first one with a default or a rest
 * (`(...args) => …` and `(signal = undefined) => …` have length 0), so when it is too short the
 * source's parameter list is read: a default or a rest there may take it; a list that ends first
 * cannot. A function whose source cannot be read (a bound or native one) is given it.
 */
export function takesArgument(fn: Function, index: number): boolean {
  if (fn.length > index) return true;
  // The same function called again (one defined once and passed each time): read once. A closure
  // made per call is read each time (~80 ns on Node 20); the last one is held until the next.
  if (fn === lastRead && index === lastIndex) return lastTakes;
  lastRead = fn;
  lastIndex = index;
  return (lastTakes = declaresMore(fn));
}
let lastRead: Function | undefined;
let lastIndex = -1;
let lastTakes = false;

/** Whether `fn`'s source lists a default or a rest parameter (its length counts none of them). */
function declaresMore(fn: Function): boolean {
  const src = Function.prototype.toString.call(fn);
  const open = src.indexOf('(');
  // `x => …`: one parameter with neither default nor rest (its length said it all).
  if (open < 0 || src.lastIndexOf('=>', open) >= 0) return false;
  let depth = 0;
  for (let i = open + 1; i < src.length; i++) {
    const ch = src.charCodeAt(i);
    // '=' starts a default; '.' a rest (`...`) at this depth or inside a default.
    if (ch === 61 || ch === 46) return true;
    if (ch === 40 || ch === 91 || ch === 123) depth++;
    else if ((ch === 41 || ch === 93 || ch === 125) && depth-- === 0) return src.endsWith('[native code] }');
  }
  return true;
}
