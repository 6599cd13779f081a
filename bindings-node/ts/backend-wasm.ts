/**
 * The wasm backend: the wasm-bindgen module (built with `--target web`) adapted to `Backend`.
 * Only presentation lives here: the engine's `out` numbers are read through a view on wasm
 * memory, and numeric vectors become arrays. (Given no time, the wasm engine reads
 * `performance.now()` itself, as the native ones read the host clock.)
 */
import type { Backend } from './backend.js';

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
  'unconditionalAdmits', 'rejectionMessage', 'rateLimitMessage', 'fleetStore', 'presetPolicy', 'presetCircuit', 'presetRetry',
  'validate', 'deadline', 'retryAfter', 'rngFloats',
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
  // Every other method is the engine's; the hot paths answer plain numbers and go straight through.
  const hot = new Set(['breakerAcquire', 'breakerRecord', 'bulkheadAcquire', 'bulkheadRelease']);
  const proto = Object.getPrototypeOf(engine) as object;
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor' || name in b || typeof e[name] !== 'function') continue;
    const fn = e[name]!.bind(engine);
    b[name] = hot.has(name) ? fn : (...args: unknown[]) => plain(fn(...args));
  }
  return b as unknown as Backend;
}
