/**
 * The request a service is handling, for the calls it makes meanwhile: a signal that aborts when
 * the client has gone, and the deadline the client gave (an inbound `x-request-timeout`).
 * Seawall's outbound calls (`resilientFetch` and the HTTP integrations, retries' sleeps, hedges)
 * pick them up by default. Kept in an `AsyncLocalStorage` (Node, Bun, Deno); a runtime without
 * one (a browser) has no request context. Until a server adapter enters one, nothing is read.
 */
import { clock } from './clock.js';

export interface RequestScope {
  /** Aborts when the client disconnects before the response is sent. */
  signal: AbortSignal;
  /** The client's deadline on the shell's clock (ms), or undefined. */
  deadline: number | undefined;
}

interface Storage<T> {
  run<R>(store: T, fn: () => R): R;
  getStore(): T | undefined;
}

const hooks = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule?.('node:async_hooks') as
  | { AsyncLocalStorage: new <T>() => Storage<T> }
  | undefined;

let storage: Storage<RequestScope> | undefined;

/** Runs `fn` (and everything it starts) inside a request's scope. */
export function inRequest<R>(scope: RequestScope, fn: () => R): R {
  if (hooks === undefined) return fn();
  storage ??= new hooks.AsyncLocalStorage<RequestScope>();
  return storage.run(scope, fn);
}

/** The scope of the request being handled, if any (nothing is read before a server adapter ran). */
export function currentRequest(): RequestScope | undefined {
  return storage?.getStore();
}

/** The request's signal, when the caller gave none. */
export function requestSignal(given: AbortSignal | undefined): AbortSignal | undefined {
  return given ?? storage?.getStore()?.signal;
}

/** A timeout (ms) capped by the request's deadline: the time left, when that is shorter. */
export function cappedTimeout(timeout: number | undefined): number | undefined {
  const deadline = storage?.getStore()?.deadline;
  if (deadline === undefined) return timeout;
  const left = Math.max(0, deadline - clock().now());
  return timeout === undefined ? left : Math.min(timeout, left);
}
