// Type-level proof that both generated backends satisfy the one `Backend` interface the shell is
// written against. Compiled with `tsc --noEmit` by `make test-node`; a failure is a compile error.
import type { Backend } from '../../dist/esm/backend.js';
import type * as Napi from '../../native/index.js';
import type * as Wasm from '../../wasm/seawall_wasm.js';

type Hot = 'kind' | 'out' | 'breakerAcquire' | 'breakerRecord' | 'bulkheadAcquire' | 'bulkheadRelease' | 'now';
type Cold = Omit<Backend, Hot>;

type Assert<T extends true> = T;
type Equals<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// napi: the generated module is the cold API, signature for signature.
type NapiCold = Pick<typeof Napi, keyof Cold>;
export const napiSatisfies: Cold = null as unknown as NapiCold;

// wasm: every cold method exists on the engine or the module (the adapter only turns typed
// arrays into arrays and "no time" into performance.now()).
type WasmApi = InstanceType<typeof Wasm.Engine> & typeof Wasm;
// (`simulate` is optional: the browser build leaves the simulator out.)
export type WasmHasEveryMethod = Assert<Equals<Exclude<keyof Cold, keyof WasmApi | 'simulate'>, never>>;
// And the hot paths the adapter wraps are there too.
export type WasmHasHotPaths = Assert<Equals<Exclude<'breakerAcquire' | 'breakerRecord' | 'bulkheadAcquire' | 'bulkheadRelease' | 'outPtr', keyof WasmApi>, never>>;
