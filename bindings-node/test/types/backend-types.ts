// Type-level proof that both generated backends satisfy the one `Backend` interface the shell is
// written against. Compiled with `tsc --noEmit` by `make test-node`; a failure is a compile error.
import type { Backend } from '../../dist/esm/backend.js';
import type * as Napi from '../../native/index.js';
import type * as Wasm from '../../wasm/seawall_wasm.js';
import type { WasmEngine, WasmGlue } from '../../dist/esm/backend-wasm.js';

type Hot = 'kind' | 'out' | 'breakerAcquire' | 'breakerRecord' | 'bulkheadAcquire' | 'bulkheadRelease' | 'hedgeBegin' | 'now';
type Cold = Omit<Backend, Hot>;

type Assert<T extends true> = T;
type Equals<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// napi: the generated module is the cold API, signature for signature.
type NapiCold = Pick<typeof Napi, keyof Cold>;
export const napiSatisfies: Cold = null as unknown as NapiCold;

// wasm: the generated module and engine have what the adapter uses (its table of the other
// operations is checked against `Backend` in backend-wasm.ts itself).
export const wasmGlue: WasmGlue = null as unknown as typeof Wasm;
export const wasmEngine: WasmEngine = null as unknown as InstanceType<typeof Wasm.Engine>;
