/**
 * The wasm backend: the wasm-bindgen module (built with `--target web`) adapted to `Backend`.
 * Only argument placement lives here: wasm has no clock, so "read your clock" becomes
 * `performance.now()`, and the engine's `out` numbers are read through a view on wasm memory.
 */
import type { Backend, Now } from './backend.js';

/** The parts of the generated glue the adapter uses (checked against the generated .d.ts by test/backend-types.ts). */
export interface WasmGlue {
  default(input?: unknown): Promise<{ memory: WebAssembly.Memory }>;
  initSync(input: { module: BufferSource | WebAssembly.Module }): { memory: WebAssembly.Memory };
  Engine: new () => WasmEngine;
  [fn: string]: unknown;
}

type WasmEngine = Record<string, (...args: never[]) => unknown> & { outPtr(): number };

const STATELESS = [
  'errorCodes', 'stateNames', 'giveUpReasons', 'giveUpCodes', 'defaultsJson', 'preapprovedPermit',
  'unconditionalAdmits', 'rejectionMessage', 'presetPolicy', 'presetCircuit', 'presetRetry',
  'validate', 'deadline', 'rngFloats',
] as const;

const clockNow = (): number => performance.now();

/** Builds the backend over an initialised glue module. */
export function wasmBackend(glue: WasmGlue, memory: WebAssembly.Memory): Backend {
  const engine = new glue.Engine();
  const ptr = engine.outPtr();
  let view = new Float64Array(memory.buffer, ptr, 4);
  // The view goes stale when wasm memory grows; `out` is re-read through this getter.
  const out = (): Float64Array => {
    if (view.buffer !== memory.buffer) view = new Float64Array(memory.buffer, ptr, 4);
    return view;
  };
  const e = engine as unknown as Record<string, (...a: unknown[]) => unknown>;
  const b: Record<string, unknown> = {
    kind: 'wasm',
    get out() {
      return out();
    },
    now: clockNow,
    breakerAcquire: (h: number, t: Now) => e.breakerAcquire!(h, t ?? clockNow()),
    breakerRecord: (h: number, p: number, o: number, t: Now, s: number) => e.breakerRecord!(h, p, o, t ?? clockNow(), s),
    bulkheadAcquire: (h: number, t: Now) => e.bulkheadAcquire!(h, t ?? clockNow()),
    bulkheadRelease: (h: number, p: number, t: Now) => e.bulkheadRelease!(h, p, t ?? clockNow()),
    breakerInertSuccessStates: (h: number) => Array.from(e.breakerInertSuccessStates!(h) as Uint8Array, Boolean),
    unconditionalAdmits: () => Array.from((glue.unconditionalAdmits as () => Uint8Array)(), Boolean),
  };
  // wasm-bindgen answers numeric vectors as typed arrays; the interface (like napi) uses arrays.
  const plain = (v: unknown): unknown => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v);
  for (const name of STATELESS) {
    if (name in b) continue;
    const fn = glue[name] as (...a: unknown[]) => unknown;
    b[name] = (...args: unknown[]) => plain(fn(...args));
  }
  // Every other method is the engine's, with "no time" meaning performance.now().
  const proto = Object.getPrototypeOf(engine) as object;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor' || name in b || typeof e[name] !== 'function') continue;
    const fn = e[name]!;
    b[name] = (...args: unknown[]) => plain(fn.apply(engine, args.map((a, i) => (a === undefined && TIME_ARGS.has(`${name}:${i}`) ? clockNow() : a))));
  }
  return b as unknown as Backend;
}

/** Argument positions that are times (`now`) in the engine's methods. */
const TIME_ARGS = new Set([
  'breakerState:1', 'breakerCommand:2', 'breakerRetryAfter:1', 'breakerStats:1', 'breakerSnapshot:1',
  'breakerRestore:2', 'breakerRecordSuccesses:2', 'bulkheadExpire:1', 'retryStart:1', 'retryOnFailure:1',
  'budgetCreate:2', 'budgetRecordSuccess:1', 'budgetTryWithdraw:1', 'budgetTokens:1', 'health:0',
  'breakerHealth:0', 'resetAll:0',
]);
