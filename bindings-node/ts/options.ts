/**
 * Options cross to the core as JSON text. Functions become "<function>" and host objects
 * (AbortSignal, a RetryBudget, a CircuitBreaker) "<object>", so the core checks their presence
 * and type while the shell keeps them; NaN and infinities become strings so that they are
 * rejected by name instead of turning into `null`.
 */
import { CallSignal } from './cancel.js';
import { backend } from './backend.js';
import { native } from './errors.js';

export function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function optionsJson(options: unknown): string {
  if (options === undefined || options === null) return '{}';
  return JSON.stringify(options, (_key, v: unknown) => {
    if (typeof v === 'function') return '<function>';
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'bigint') return Number(v);
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !isPlainObject(v)) return '<object>';
    return v;
  });
}


// A call's own `CallSignal` is one too: the integrations hand it to the policies.
const isSignal = (v: unknown): boolean => v instanceof CallSignal || (typeof AbortSignal !== 'undefined' && v instanceof AbortSignal);

/**
 * The error for a wrong call argument (`fn`, `signal`, `options`, `name`, `circuit`,
 * `advance`), worded by the core (`validate('call')`) so that it reads the same in every
 * language. Only on error paths: callers test the argument themselves first. A host object of
 * the wrong class is shown to the core as a plain object ("got an object").
 */
export function argumentError(args: Record<string, unknown>): Error {
  const shown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    const host = v !== null && typeof v === 'object' && !Array.isArray(v) && !isPlainObject(v);
    // JSON has no undefined: a missing function is the core's default case, other arguments read null.
    shown[k] = host && !(k === 'signal' && isSignal(v)) ? {} : v === undefined && k !== 'fn' ? null : v;
  }
  try {
    native(() => backend().validate('call', optionsJson(shown), false));
  } catch (e) {
    return e as Error;
  }
  // The caller found the argument wrong; the core must agree.
  return new TypeError(`invalid arguments: ${optionsJson(shown)}`);
}

/**
 * The options argument checked: an object, or nothing (undefined, null). Anything else — a
 * string, a number, a list — is the core's error naming `options`, never spread into `{ 0: … }`.
 */
export function checkOptionsArg(options: unknown): void {
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) throw argumentError({ options });
}

/** A number argument that must be finite when given (undefined and null are "not given"). */
export function checkFiniteArg(name: string, v: unknown): void {
  if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isFinite(v))) throw argumentError({ [name]: v });
}

/** A call's function and the caller's signal checked (one `typeof` when they are right). */
export function badCall(fn: unknown, signal?: unknown): Error | undefined {
  if (typeof fn !== 'function') return argumentError({ fn });
  if (signal !== undefined && !isSignal(signal)) return argumentError({ signal });
  return undefined;
}
