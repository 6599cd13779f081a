/**
 * The one interface every native backend implements (napi in Node, wasm in browsers). The
 * shell is written against it once; an entry point installs a backend and re-exports the shell.
 *
 * Hot-path methods answer in `out` (no allocation): `out[0]` the main answer, `out[1]` a second
 * one, `out[2]` 1 when state changes wait to be drained, `out[3]` the time the backend used.
 * Passing `undefined` as `now` asks the backend to read its own monotonic clock (the napi
 * backend does that in the same crossing; the wasm backend reads `performance.now()`); any
 * number, NaN included, goes to the core as it is.
 *
 * Cold-path methods (`EngineOps`, generated from the boundary's declaration in
 * bindings-shared/src/boundary.rs) mirror `seawall_core::Engine` one to one. Errors are thrown
 * as `Error`s whose message is `SEAWALL:` followed by the error's JSON; `errors.ts` turns them
 * into typed errors.
 */
import type { EngineOps } from './ops.js';

/** A time in ms, or undefined: "read your clock". */
export type Now = number | undefined;

export interface Backend extends EngineOps {
  readonly kind: 'napi' | 'wasm';
  readonly out: Float64Array;

  // hot paths
  breakerAcquire(handle: number, now: Now): number;
  breakerRecord(handle: number, permit: number, outcome: number, now: Now, startedAt: number): number;
  bulkheadAcquire(handle: number, now: Now): number;
  bulkheadRelease(handle: number, permit: number, now: Now): number;
  /** Starts a hedged call: its handle, and its first step in `out[1]`. */
  hedgeBegin(policy: number, now: Now): number;
  now(): number;
}

let installed: Backend | undefined;
let fallbackReason: string | undefined;
let uninstalledMessage = 'seawall: no backend installed (import "seawall", not a file inside it)';

/** What a call made before the entry installed its backend is told (`seawall/init`). */
export function markUninitialised(message: string): void {
  uninstalledMessage = message;
}

/** Why this process runs on wasm where it could have had the addon (Node only). */
export function noteFallback(reason: string): void {
  fallbackReason = reason;
}

/**
 * Which engine backend runs this process: `'napi'` (the native addon) or `'wasm'` (browsers,
 * `seawall/wasm`, and Node where no addon loads); the same decisions either way. In Node on wasm,
 * `reason` says why (the addon's load error, or that SEAWALL_BACKEND asked for wasm).
 */
export function backendInfo(): { name: 'napi' | 'wasm'; reason?: string } {
  const name = backend().kind;
  return name === 'wasm' && fallbackReason !== undefined ? { name, reason: fallbackReason } : { name };
}

/** `backendInfo().name`. */
export function backendName(): 'napi' | 'wasm' {
  return backend().kind;
}

let installedIsWhole = false;

/** Whether the whole engine is installed: a lean entry loaded after it has nothing to load. */
export function wholeInstalled(): boolean {
  return installedIsWhole;
}

/** Installs the backend (done once by each entry point). `whole`: the engine has every part (the
 * addon, `seawall/full`'s and Node's wasm); a page that loads both browser entries (an app
 * `seawall`, a library `seawall/full`) keeps the whole one, whichever arrives last. */
export function installBackend(b: Backend, whole = true): void {
  if (!whole && installedIsWhole) return;
  installed = b;
  installedIsWhole = whole;
}

export function backend(): Backend {
  if (installed === undefined) {
    throw new Error(uninstalledMessage);
  }
  return installed;
}
