/**
 * `seawall/full` in browsers: the shell over the whole engine — what the main entry's lean module
 * has (breakers, retries and backoff, bulkheads, timeouts, `resilientFetch`) and rate limiters,
 * retry budgets, registries' health, Prometheus text and the presets. In Node, `seawall/full` is
 * `seawall` (the addon, or its wasm fallback, has everything).
 */
import { installHedging } from './fetch.js';
import { HEDGING } from './hedge.js';
// @ts-expect-error The glue's copy for this module, resolved from dist/esm at run time.
import * as glue from '../../wasm/seawall_wasm_full.js';
import { fetchWasm, installWasmBackend } from './load-wasm-browser.js';

await installWasmBackend(glue, () => fetchWasm(new URL('../../wasm/seawall_wasm_full_bg.wasm', import.meta.url)), true);
installHedging(HEDGING);

export * from './index.js';
