/**
 * Policies compiled from inline options, by content, for every kind of policy the shell makes
 * from options written at the call (`withBackoff(fn, { maxRetries: 3 })`, `hedge(fn, { delay: 50 })`).
 */
import { isPlainObject } from './options.js';

/**
 * By content: `withBackoff(fn, { maxRetries: 3 })` written
 * in a loop makes one policy, not one per call (no JSON, native handle or finalizer per call).
 *
 * Two levels: the few most recently used entries are compared with the options field by field
 * (no allocation: the common case of a handful of call sites), the rest are found by a content
 * key. Bounded; the oldest entry goes first. Options that fail their check are never cached, so
 * they fail on every call.
 */
interface Compiled<P> {
  /** The options' own keys and values in order, arrays copied: what the policy was made from. */
  keys: string[];
  values: unknown[];
  policy: P;
}
export const MAX_COMPILED = 64;
const MAX_RECENT = 4;

/** Callbacks and host objects compile alike whatever they are (the core sees only
 * "<function>"/"<object>"); data compiles alike when equal. */
function sameOption(had: unknown, v: unknown): boolean {
  if (had === v) return true;
  if (typeof v === 'function') return typeof had === 'function';
  if (typeof v !== 'object' || v === null || typeof had !== 'object' || had === null) return false;
  if (Array.isArray(v)) {
    if (!Array.isArray(had) || had.length !== v.length) return false;
    for (let i = 0; i < v.length; i++) if (had[i] !== v[i]) return false;
    return true;
  }
  return !Array.isArray(had) && !isPlainObject(v) && !isPlainObject(had);
}

function matches<P>(c: Compiled<P>, o: object): boolean {
  const { keys, values } = c;
  let i = 0;
  for (const k in o) {
    if (keys[i] !== k || !sameOption(values[i], (o as Record<string, unknown>)[k])) return false;
    i++;
  }
  return i === keys.length;
}

/**
 * A key that is equal only for options the core compiles alike: every own value's type and
 * content; callbacks and host objects by presence. Undefined for what it cannot key cheaply
 * (nested plain objects, odd values): those compile per call.
 */
function contentKey(o: object): string | undefined {
  let key = '';
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    key += k.length + ':' + k;
    switch (typeof v) {
      case 'undefined':
        key += 'u';
        break;
      case 'number':
        key += 'n' + v + ';';
        break;
      case 'boolean':
        key += v ? 't' : 'f';
        break;
      case 'string':
        key += 's' + v.length + ':' + v;
        break;
      case 'function':
        key += 'F';
        break;
      case 'object':
        if (v === null) key += 'z';
        else if (Array.isArray(v)) {
          key += 'a' + v.length + ':';
          for (const item of v as unknown[]) {
            if (typeof item === 'number') key += 'n' + item + ';';
            else if (typeof item === 'string') key += 's' + item.length + ':' + item;
            else return undefined;
          }
        } else if (isPlainObject(v)) return undefined;
        else key += 'O';
        break;
      default:
        return undefined;
    }
  }
  return key;
}

/** One kind of policy's compiled options (retry policies, hedging policies). */
export class PolicyCache<P> {
  readonly #compiled = new Map<string, Compiled<P>>();
  readonly #recent: Array<Compiled<P>> = [];

  constructor(readonly make: (options: object) => P) {}

  #remember(c: Compiled<P>): void {
    this.#recent.unshift(c);
    if (this.#recent.length > MAX_RECENT) this.#recent.pop();
  }

  /** The compiled policy for these options (the same one for equal options). */
  get(o: object): P {
    const recent = this.#recent;
    for (let i = 0; i < recent.length; i++) {
      const c = recent[i] as Compiled<P>;
      if (matches(c, o)) {
        if (i > 0) {
          recent.splice(i, 1);
          recent.unshift(c);
        }
        return c.policy;
      }
    }
    const key = contentKey(o);
    if (key === undefined) return this.make(o);
    let c = this.#compiled.get(key);
    if (c === undefined) {
      const policy = this.make(o);
      const keys: string[] = [];
      const values: unknown[] = [];
      for (const k in o) {
        const v = (o as Record<string, unknown>)[k];
        keys.push(k);
        values.push(Array.isArray(v) ? [...(v as unknown[])] : v);
      }
      c = { keys, values, policy };
      if (this.#compiled.size >= MAX_COMPILED) this.#compiled.delete(this.#compiled.keys().next().value as string);
      this.#compiled.set(key, c);
    }
    this.#remember(c);
    return c.policy;
  }
}
