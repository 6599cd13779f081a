/** A tiny typed event emitter: `on` answers an unsubscribe function (cockatiel's disposables). */
import { argumentError } from './options.js';

export type Listener<T> = (event: T) => void;

export class Emitter<Events extends Record<string, unknown>> {
  #listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    // Refused here: called when the event fires, it would throw as an uncaught error.
    if (typeof listener !== 'function') throw argumentError({ listener });
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  has<K extends keyof Events>(event: K): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const l of [...set]) {
      // A throwing listener must not break the call it observes.
      callListener(l as Listener<Events[K]>, payload);
    }
  }

  removeAll(): void {
    this.#listeners.clear();
  }
}

/** Calls `listener` with `arg`; what it throws is rethrown on its own, as an uncaught error (as an
 * `EventTarget` reports its listeners'), never into the code that called it nor past the
 * listeners after it. */
export function callListener<A>(listener: (arg: A) => void, arg: A): void {
  try {
    listener(arg);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
