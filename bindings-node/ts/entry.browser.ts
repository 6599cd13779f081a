/**
 * `seawall` in browsers: the lean wasm module (breakers, retries and backoff, bulkheads,
 * timeouts, `resilientFetch`'s classification) under the shared shell; rate limiters, retry
 * budgets, health, Prometheus text and the policy manager are in `seawall/full`, and the lean
 * module refuses them with a `TypeError` (code `NOT_IN_MODULE`) that says so. The module's URL is written as
 * `new URL(…, import.meta.url)`, which Vite, webpack 5 and Parcel emit as an asset by themselves;
 * with esbuild or Rollup, import `seawall/inline` (or serve the file there: the error says so).
 */
// @ts-expect-error The glue is resolved from dist/esm at run time; `WasmGlue` types it.
import * as glue from '../../wasm/seawall_wasm.js';
import { fetchWasm, installWasmBackend } from './load-wasm-browser.js';

await installWasmBackend(glue, () => fetchWasm(new URL('../../wasm/seawall_wasm_bg.wasm', import.meta.url)));

export * from './index.js';
